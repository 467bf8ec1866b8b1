"""The Spark engine writes what the DuckDB engine writes: same rows, types, quarantine, catalog.

Two lakes are built from the same seed plus the same hand-made defects (malformed JSON and CSV
lines, every quality rule, a re-delivered file), then each is processed by one engine, twice
(the second run deduplicates against published rows). Quarantined records are compared whole:
file, raw text, reason and detail (CSV lines are split by the same SQL in both engines, so even
a malformed line's message is the same).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from datalake.domain.transform import ENCODING_ERROR, LONG_LINE_ERROR, SEPARATOR_ERROR
from datalake.errors import InputError
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, RunSummary, SeedOptions
from datalake.targets.local.catalog import Catalog
from tests.conftest import END_DATE, RUN_TS, copy_lake, make_target

pytestmark = pytest.mark.slow

DAY = "sales/year=2026/month=06/day=29"
BAD_JSON = "\n".join(
    [
        '{"sale_id":900000001,"channel":"online","customer_id":1,"product_id":1,"store_id":null,"quantity":1,'
        '"unit_price":10.00,"discount":0.0,"total_amount":10.00,"payment_method":"cash","sale_timestamp":"2026-06-29T10:00:00"}',
        '{"sale_id":900000002,"channel":"online","customer_id":1,"product_id":1,"quantity":1,"unit_price":10.00,"disc',
        "this is not json",
        "[1, 2, 3]",
        "",
        '{"sale_id":900000003,"channel":"kiosk","customer_id":1,"product_id":1,"store_id":null,"quantity":1,'
        '"unit_price":10.00,"discount":0.0,"total_amount":10.00,"payment_method":"cash","sale_timestamp":"2026-06-29T10:00:00"}',
        '{"sale_id":900000004,"channel":"online","customer_id":1,"product_id":1,"store_id":null,"quantity":"two",'
        '"unit_price":10.00,"discount":0.0,"total_amount":10.00,"payment_method":"cash","sale_timestamp":"2026-06-29T10:00:00"}',
        '{"sale_id":900000005,"channel":"online","customer_id":1,"product_id":1,"store_id":null,"quantity":1,'
        '"unit_price":10.00,"discount":1.5,"total_amount":10.00,"payment_method":"cash","sale_timestamp":"2026-06-29T10:00:00"}',
        '{"sale_id":900000006,"channel":"online","customer_id":1,"product_id":1,"store_id":null,"quantity":1,'
        '"unit_price":10.00,"discount":0.0,"total_amount":10.00,"payment_method":"cash","sale_timestamp":"2027-01-01T10:00:00"}',
        '{"sale_id":900000007,"channel":"online","customer_id":99999999,"product_id":1,"store_id":null,"quantity":1,'
        '"unit_price":10.00,"discount":0.0,"total_amount":10.00,"payment_method":"cash","sale_timestamp":"2026-06-29T10:00:00"}',
        '{"sale_id":900000008,"channel":"online","product_id":1,"quantity":1,"unit_price":10.00,'
        '"total_amount":10.00,"sale_timestamp":"2026-06-29T10:00:00"}',
    ]
)
CSV_HEADER = "sale_id,channel,customer_id,product_id,store_id,quantity,unit_price,discount,total_amount,payment_method,sale_timestamp"
BAD_CSV = "\n".join(
    [
        CSV_HEADER,
        "900000101,store,2,3,1,2,5.00,0.000,10.00,cash,2026-06-29T11:00:00",
        "900000102,store,2,3,1,2,5.00,0.000,10.00,cash,2026-06-29T11:00:00,extra",
        "900000103,store,2,3",
        "900000104,store,2,3,987654,2,5.00,0.000,10.00,cash,2026-06-29T11:00:00",
        "900000105,store,2,3,1,2,5.00,0.000,12.34,cash,2026-06-29T11:00:00",
        '900000106,store,2,3,1,0,5.00,0.000,0.00,"cash, please",2026-06-29T11:00:00',
        "900000107,store,2,3,1,2,5.00,0.000,10.00,cash,not-a-time",
        '900000108,store,2,3,1,2,5.00,0.000,10.00,"cash ""exact""",2026-06-29T11:00:00',
        '900000109,store,2,3,1,2,5.00,0.000,10.00,"cash,2026-06-29T11:00:00',
        ',store,2,3,1,2,5.00,0.000,10.00,"cash",2026-06-29T11:00:00',
        "   ",
        "\t",
        "",
        # a year before 1582: Spark's default refuses to write it and failed the whole run
        "900000110,store,2,3,1,2,5.00,0.000,10.00,cash,0026-06-29T11:00:00",
    ]
)

# Lines that are not readable text: bytes that are not UTF-8, text already holding U+FFFD (a decoder
# replaced bytes before it arrived), and the line readers' separator byte 0x1E inside a line.
_SALE = (
    '"channel":"online","customer_id":1,"product_id":1,"store_id":null,"quantity":1,"unit_price":10.00,'
    '"discount":0.0,"total_amount":10.00,"sale_timestamp":"2026-06-29T10:00:00"'
)


def _json_sale(sale_id: int, payment_method: bytes) -> bytes:
    return b'{"sale_id":%d,%s,"payment_method":"%s"}\n' % (sale_id, _SALE.encode(), payment_method)


BYTES_JSON = _json_sale(900000011, b"ca\xffsh") + _json_sale(900000012, "ca\ufffdsh".encode())
# A byte-order mark before the first record (read as a record), a NUL inside a string (invalid JSON),
# lines longer than the shared limit (one DuckDB's reader takes, one it rejects itself), more than
# one value on a line, and valid JSON that is not an object.
ODD_JSON = (
    b"\xef\xbb\xbf"
    + _json_sale(900000013, b"cash")
    + _json_sale(900000014, b"ca\x00sh")
    + _json_sale(900000015, b"x" * 1_500_000)
    + _json_sale(900000016, b"x" * 3_000_000)
    + _json_sale(900000017, b"cash")[:-1]  # two objects on one line: Spark's parser stops after the first
    + _json_sale(900000018, b"cash")
    + _json_sale(900000019, b"cash")[:-1]
    + b" and more\n"
    + b"null\n"
)
BYTES_CSV = CSV_HEADER.encode() + (
    b"\n900000111,store,2,3,1,2,5.00,0.000,10.00,caf\xe9,2026-06-29T11:00:00"
    b"\n900000112,store,2,3,1,2,5.00,0.000,10.00,cash,2026-06-29T11:00:00\x1eextra\n"
)

# Lines ended three ways in one file (DuckDB's reader stops at such a file; Spark's ends a line at each).
_CSV_SALE = "store,2,3,1,2,5.00,0.000,10.00,cash,2026-06-29T11:00:00"
MIXED_CSV = (
    f"{CSV_HEADER}\r\n900000121,{_CSV_SALE}\n900000122,{_CSV_SALE}\r\n900000123,{_CSV_SALE}\r900000124,{_CSV_SALE}"
)
MIXED_JSON = (_json_sale(900000021, b"cash")[:-1] + b"\r\n\r\n" + _json_sale(900000022, b"cash")).decode()


def _build(root: Path) -> LakeLayout:
    target = make_target(root)
    target.deploy()
    target.seed(SeedOptions(rows=3_000, days=20, end_date=END_DATE, seed=11, error_rate=0.02))
    day = target.layout.raw / DAY
    (day / "online-bad.json").write_text(BAD_JSON + "\n")
    (day / "store-bad.csv").write_text(BAD_CSV)
    (day / "online-bytes.json").write_bytes(BYTES_JSON)
    (day / "store-bytes.csv").write_bytes(BYTES_CSV)
    (day / "store-mixed.csv").write_bytes(MIXED_CSV.encode())
    (day / "online-odd.json").write_bytes(ODD_JSON)
    (day / "online-mixed.json").write_bytes(MIXED_JSON.encode())
    return target.layout


def _second_batch(layout: LakeLayout) -> None:
    make_target(layout.root).seed(SeedOptions(rows=500, days=3, end_date=END_DATE, seed=12, error_rate=0.02))
    first_csv = sorted((layout.raw / "sales").rglob("store-b000-*.csv"))[0]
    redelivered = layout.raw / "sales/year=2026/month=06/day=30/store-redelivered.csv"
    shutil.copy(first_csv, redelivered)  # every row already published: all duplicate_sale_id


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("parity")
    template = _build(base / "template")
    out: dict[str, Any] = {}
    for engine in ("duckdb", "spark"):
        root = base / engine
        copy_lake(template.root, root)
        target = make_target(root)
        first = target.run_etl(EtlOptions(engine=engine, run_ts=RUN_TS))
        _second_batch(target.layout)
        second = target.run_etl(EtlOptions(engine=engine, run_ts=RUN_TS))
        out[engine] = {"layout": target.layout, "runs": [first, second]}
    return out


def _rows(files: list[Path], sort: list[str]) -> tuple[Any, list[dict[str, Any]]]:
    import pyarrow as pa

    tables = [pq.read_table(f) for f in files]
    # Names and types, not nullability: DuckDB marks a column REQUIRED when it knows it has no NULLs.
    schema = pa.schema([pa.field(f.name, f.type) for f in tables[0].schema])
    table = pa.concat_tables([t.cast(schema) for t in tables])
    return schema, table.sort_by([(c, "ascending") for c in sort]).to_pylist()


def _facts(layout: LakeLayout) -> tuple[Any, list[dict[str, Any]]]:
    files = sorted((layout.processed / "sales_fact").rglob("*.parquet"))
    return _rows(files, ["sale_id", "sale_timestamp"])


def test_runs_report_the_same_counts(lakes: dict[str, Any]) -> None:
    for duck, spark_run in zip(lakes["duckdb"]["runs"], lakes["spark"]["runs"], strict=True):
        d: RunSummary = duck
        s: RunSummary = spark_run
        assert (s.rows_in, s.rows_processed, s.rows_quarantined) == (d.rows_in, d.rows_processed, d.rows_quarantined)
        assert s.by_reason == d.by_reason
        assert s.balanced and d.balanced
        assert s.bad_files == d.bad_files
    first, second = lakes["duckdb"]["runs"]
    assert {"malformed_record", "invalid_channel", "unparseable_value", "invalid_discount", "future_date"} <= set(
        first.by_reason
    )
    assert {"unknown_customer_id", "unknown_store_id", "missing_required_field", "non_positive_quantity"} <= set(
        first.by_reason
    )
    assert second.by_reason["duplicate_sale_id"] > 50  # the re-delivered file: every clean row repeats


def test_processed_rows_and_types_are_identical(lakes: dict[str, Any]) -> None:
    duck_schema, duck_rows = _facts(lakes["duckdb"]["layout"])
    spark_schema, spark_rows = _facts(lakes["spark"]["layout"])
    assert spark_schema == duck_schema
    assert len(spark_rows) == len(duck_rows) > 3_000
    assert spark_rows == duck_rows
    for engine in ("duckdb", "spark"):
        layout = lakes[engine]["layout"]
        partitions = sorted(
            str(p.relative_to(layout.processed)) for p in (layout.processed / "sales_fact").glob("year=*/*")
        )
        assert partitions == ["sales_fact/year=2026/month=6", "sales_fact/year=26/month=6"]


def test_quarantine_is_identical(lakes: dict[str, Any]) -> None:
    def quarantine(layout: LakeLayout) -> tuple[Any, list[dict[str, Any]]]:
        files = sorted(layout.quarantine.rglob("part-0.parquet"))
        schema, rows = _rows(files, ["source_file", "reason", "raw_record"])
        for row in rows:
            row.pop("run_id")
        return schema, rows

    duck_schema, duck_rows = quarantine(lakes["duckdb"]["layout"])
    spark_schema, spark_rows = quarantine(lakes["spark"]["layout"])
    assert spark_schema == duck_schema
    assert spark_rows == duck_rows
    bad_csv = {
        r["raw_record"]: (r["reason"], r["detail"]) for r in spark_rows if r["source_file"] == f"{DAY}/store-bad.csv"
    }
    assert bad_csv["900000103,store,2,3"] == ("malformed_record", "malformed CSV row: expected 11 fields, found 4")
    assert bad_csv[BAD_CSV.splitlines()[9]] == ("malformed_record", "malformed CSV row: unbalanced quotes")
    assert bad_csv[BAD_CSV.splitlines()[10]][0] == "missing_required_field"  # the empty first field is kept
    assert not {"", "   ", "\t"} & set(bad_csv)  # blank lines are no records
    # not readable text: quarantined alike, the original line kept whole (undecodable bytes as U+FFFD)
    unreadable = [(r["raw_record"], r["detail"]) for r in spark_rows if "-bytes." in r["source_file"]]
    expected = [
        ('"payment_method":"ca\ufffdsh"}', ENCODING_ERROR),  # bytes that are not UTF-8
        ('"payment_method":"ca\ufffdsh"}', ENCODING_ERROR),  # U+FFFD in the file already
        ("caf\ufffd,2026-06-29T11:00:00", ENCODING_ERROR),  # nothing after the bad byte is lost
        ("2026-06-29T11:00:00\x1eextra", SEPARATOR_ERROR),  # not cut at 0x1E
    ]
    assert [detail for _, detail in unreadable] == [detail for _, detail in expected]
    odd = [(r["raw_record"][:21], r["detail"]) for r in spark_rows if "-odd." in r["source_file"]]
    assert sorted(odd) == [
        ("null", "not a JSON object"),
        ('{"sale_id":900000014,', "invalid JSON"),
        ('{"sale_id":900000015,', LONG_LINE_ERROR),
        ('{"sale_id":900000016,', LONG_LINE_ERROR),
        ('{"sale_id":900000017,', "invalid JSON"),
        ('{"sale_id":900000019,', "invalid JSON"),
    ]
    assert all(raw.endswith(end) for (raw, _), (end, _) in zip(unreadable, expected, strict=True)), unreadable


def test_lines_ended_three_ways_in_one_file_are_read_alike(lakes: dict[str, Any]) -> None:
    for engine in ("duckdb", "spark"):
        _, rows = _facts(lakes[engine]["layout"])
        ids = {r["sale_id"] for r in rows}
        assert {900000021, 900000022, 900000121, 900000122, 900000123, 900000124} <= ids
        assert 900000013 in ids  # after a byte-order mark
    # the empty line between the two JSON records is a record that is not a JSON object, as in any file
    first = lakes["spark"]["runs"][0]
    assert {"file": f"{DAY}/online-mixed.json", "problems": {"not a JSON object": 1}} in first.bad_files


def test_quoted_csv_fields_are_unquoted_alike(lakes: dict[str, Any]) -> None:
    for engine in ("duckdb", "spark"):
        _, rows = _facts(lakes[engine]["layout"])
        assert [r["payment_method"] for r in rows if r["sale_id"] == 900000108] == ['cash "exact"']


def test_dimensions_and_catalog_schemas_are_identical(lakes: dict[str, Any]) -> None:
    duck, spark_layout = lakes["duckdb"]["layout"], lakes["spark"]["layout"]
    for dim in ("customers", "products", "stores"):
        d = _rows([duck.processed / dim / f"{dim}.parquet"], [f"{dim[:-1]}_id"])
        s = _rows([spark_layout.processed / dim / f"{dim}.parquet"], [f"{dim[:-1]}_id"])
        assert s == d
    for name in ("sales_fact", "sales_quarantine", "customers", "products", "stores"):
        d_table = Catalog(duck.catalog_dir).get("processed", name)
        s_table = Catalog(spark_layout.catalog_dir).get("processed", name)
        assert d_table is not None and s_table is not None
        assert s_table.column_types() == d_table.column_types()
        assert s_table.parameters["recordCount"] == d_table.parameters["recordCount"]
        assert [p.values for p in s_table.partitions if name == "sales_fact"] == [
            p.values for p in d_table.partitions if name == "sales_fact"
        ]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_broken_dimension_file_is_named_with_the_value_that_broke_it(tmp_path: Path, spark: Any, engine: str) -> None:
    target = make_target(tmp_path / "lake")
    target.deploy()
    target.seed(SeedOptions(rows=100, days=2, end_date=END_DATE, seed=5))
    customers = target.layout.raw / "customers" / "customers.csv"
    first = customers.read_text().splitlines()[1]
    customers.write_text(customers.read_text() + "abc," + first.split(",", 1)[1] + "\n")
    with pytest.raises(InputError) as info:
        target.run_etl(EtlOptions(engine=engine, run_ts=RUN_TS))
    message = info.value.message
    assert message.startswith(f"{customers}: cannot read the customers dimension")
    # DuckDB names the line, Spark the value (not Py4J's "An error occurred while calling o61.count")
    assert ("Line: " if engine == "duckdb" else '"abc"') in message


def test_both_engines_files_commit_to_iceberg_tables_that_read_alike(lakes: dict[str, Any]) -> None:
    """One commit path: the Spark engine's files are registered as the DuckDB engine's are, and read the same."""
    from datalake.targets.local import iceberg

    tables = {}
    for engine in ("duckdb", "spark"):
        layout = lakes[engine]["layout"]
        history = iceberg.history(layout, "sales_fact").snapshots
        assert [s.run_id for s in history] == [r.run_id for r in lakes[engine]["runs"]]
        scanned = iceberg.load_table(layout, "sales_fact").scan().to_arrow()
        assert scanned.column("year").null_count == 0 == scanned.column("month").null_count
        tables[engine] = scanned.sort_by([("sale_id", "ascending"), ("sale_timestamp", "ascending")])
    assert tables["spark"].num_rows == tables["duckdb"].num_rows > 3_000
    assert tables["spark"].to_pylist() == tables["duckdb"].to_pylist()
