from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from datalake.domain.seed import ID_BLOCK, seed
from datalake.errors import UsageError
from datalake.layout import LakeLayout
from datalake.model import SeedOptions
from tests.conftest import END_DATE


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_raw_files(tmp_path: Path) -> None:
    opts = SeedOptions(rows=5_000, days=10, end_date=END_DATE, seed=3, chunk_rows=2_000)
    a, b = LakeLayout(tmp_path / "a"), LakeLayout(tmp_path / "b")
    seed(a, opts)
    seed(b, opts)
    files_a, files_b = _files(a.raw), _files(b.raw)
    assert files_a and files_a == files_b
    other = LakeLayout(tmp_path / "c")
    seed(other, SeedOptions(rows=5_000, days=10, end_date=END_DATE, seed=4, chunk_rows=2_000))
    assert _files(other.raw) != files_a


def _duckdb_copy(table: object, target: Path, online: bool, pattern: str) -> None:
    """How the raw files were written before Arrow formatted them: DuckDB's COPY, one thread, in order."""
    import duckdb

    from datalake.domain.schema import RAW_SALES_FIELDS

    fields = ", ".join(
        "strftime(sale_timestamp, '%Y-%m-%dT%H:%M:%S') AS sale_timestamp" if f == "sale_timestamp" else f
        for f in RAW_SALES_FIELDS
    )
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    con.register("chunk", table)
    options = "FORMAT JSON" if online else "FORMAT CSV, HEADER true"
    con.execute(
        f"COPY (SELECT {fields}, year, month, day FROM chunk WHERE is_online = {online}) TO '{target}' "
        f"({options}, PARTITION_BY (year, month, day), FILENAME_PATTERN '{pattern}', OVERWRITE_OR_IGNORE true)"
    )
    con.close()


def test_the_raw_files_are_byte_for_byte_what_duckdb_copy_writes(tmp_path: Path) -> None:
    """The formats (numbers through DOUBLE in JSON, decimals at scale in CSV, NULLs) match DuckDB's writers."""
    import numpy as np
    import pyarrow as pa

    from datalake.domain import seed as generator

    opts = SeedOptions(rows=30_000, days=9, end_date=END_DATE, seed=11, error_rate=0.5)
    dims = generator.Dimensions(customers=500, stores=7, list_price_cents=np.array([99, 1000, 2999, 123456]))
    start, counts = generator._day_counts(opts, np.random.default_rng(5))
    day_index = np.searchsorted(np.concatenate([[0], np.cumsum(counts)]), np.arange(opts.rows), side="right") - 1
    defects: dict[str, int] = {}
    table = generator._chunk_table(opts, dims, 2, 3, 0, day_index, start, defects)
    assert set(defects) == set(generator.DEFECTS)  # every defect, so NULLs, zeros and negatives are written
    labels = generator._day_labels(start, opts.days)
    for online in (True, False):
        generator._ChunkWriter(online, tmp_path / "arrow", batch=2).write(table, 3, labels)
        with_labels = table
        for part in ("year", "month", "day"):
            values = pa.array(labels[part]).take(table.column("day_index"))
            with_labels = with_labels.append_column(part, values)
        _duckdb_copy(with_labels, tmp_path / "duckdb", online, f"{'online' if online else 'store'}-b002-c0003-{{i}}")
    ours, theirs = _files(tmp_path / "arrow"), _files(tmp_path / "duckdb")
    assert len(ours) == 2 * opts.days and ours == theirs


def test_files_land_by_record_date_and_each_row_once(lake: LakeLayout) -> None:
    result = seed(lake, SeedOptions(rows=3_000, days=5, end_date=END_DATE, error_rate=0))
    json_rows = csv_rows = 0
    for path in (lake.raw / "sales").rglob("*.*"):
        parts = dict(p.split("=") for p in path.relative_to(lake.raw / "sales").parts[:-1])
        day = f"{parts['year']}-{parts['month']}-{parts['day']}"
        assert len(parts["month"]) == 2 and len(parts["day"]) == 2
        if path.suffix == ".json":
            records = [json.loads(line) for line in path.read_text().splitlines()]
            assert all(r["channel"] == "online" and r["store_id"] is None for r in records)
            json_rows += len(records)
        else:
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
            records = table.to_pylist()
            assert all(r["channel"] == "store" and r["store_id"] is not None for r in records)
            csv_rows += len(records)
        assert all(str(r["sale_timestamp"]).startswith(day) for r in records)
    assert json_rows == result.json_rows and csv_rows == result.csv_rows
    assert json_rows + csv_rows == 3_000
    assert result.first_date <= result.last_date == str(END_DATE)


@pytest.mark.parametrize("fmt,suffix", [("json", ".json"), ("csv", ".csv")])
def test_single_format(lake: LakeLayout, fmt: str, suffix: str) -> None:
    seed(lake, SeedOptions(rows=500, days=3, end_date=END_DATE, format=fmt))
    suffixes = {p.suffix for p in (lake.raw / "sales").rglob("*.*")}
    assert suffixes == {suffix}


def test_second_seed_appends_without_collisions(lake: LakeLayout) -> None:
    first = seed(lake, SeedOptions(rows=1_000, days=3, end_date=END_DATE))
    names_before = {p.name for p in (lake.raw / "sales").rglob("*.*")}
    second = seed(lake, SeedOptions(rows=1_000, days=3, end_date=END_DATE))
    names_after = {p.name for p in (lake.raw / "sales").rglob("*.*")}
    assert second.batch == first.batch + 1
    assert second.sale_id_min == ID_BLOCK + 1 > first.sale_id_max
    assert names_before < names_after and len(names_after) == 2 * len(names_before)


def test_dimensions_created_once_and_reused(lake: LakeLayout) -> None:
    seed(lake, SeedOptions(rows=200, days=2, end_date=END_DATE, seed=1))
    products = (lake.raw / "products" / "products.csv").read_bytes()
    seed(lake, SeedOptions(rows=200, days=2, end_date=END_DATE, seed=2))
    assert (lake.raw / "products" / "products.csv").read_bytes() == products


def test_defects_are_injected_and_counted(lake: LakeLayout) -> None:
    result = seed(lake, SeedOptions(rows=20_000, days=5, end_date=END_DATE, error_rate=0.05))
    assert set(result.defects) >= {"non_positive_quantity", "duplicate_sale_id", "unknown_product_id"}
    assert 600 < sum(result.defects.values()) < 1_400


@pytest.mark.parametrize(
    "opts,option",
    [
        (SeedOptions(rows=0), "--rows"),
        (SeedOptions(rows=10, days=0), "--days"),
        (SeedOptions(rows=10, format="xml"), "--format"),
        (SeedOptions(rows=10, error_rate=2), "--error-rate"),
    ],
)
def test_bad_options_name_the_option(lake: LakeLayout, opts: SeedOptions, option: str) -> None:
    with pytest.raises(UsageError, match=option):
        seed(lake, opts)
