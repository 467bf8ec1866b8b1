"""datalake ingest: inference on awkward files, drift, incremental re-ingest, engines, round trip, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.errors import InputError, UsageError
from datalake.layout import LakeLayout
from datalake.model import IngestOptions
from datalake.targets.local.catalog import Catalog
from datalake.targets.local.engines import open_local_engine
from datalake.targets.local.ingest.run import ingest, load_manifest, widen

TODAY = dt.date(2026, 7, 1)


def run(layout: LakeLayout, table: str, *paths: Path, **kw: object) -> object:
    return ingest(layout, IngestOptions(table=table, paths=tuple(paths), today=TODAY, **kw))  # type: ignore[arg-type]


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def query(layout: LakeLayout, engine: str, sql: str) -> list[tuple[object, ...]]:
    with open_local_engine(layout, engine) as eng:
        return eng.execute(sql).rows


def lake_files(layout: LakeLayout) -> set[str]:
    return {
        str(p.relative_to(layout.root))
        for zone in (layout.raw, layout.processed, layout.catalog_dir)
        for p in zone.rglob("*")
        if p.is_file()
    }


def column_types(layout: LakeLayout, table: str) -> dict[str, str]:
    manifest = load_manifest(layout, table)
    assert manifest
    return {c["name"]: c["type"] for c in manifest["columns"]}


# ----------------------------------------------------------------------------- inference


def test_awkward_csv_semicolon_quotes_bom_crlf(lake: LakeLayout, tmp_path: Path) -> None:
    src = write(
        tmp_path / "orders.csv",
        '\ufeffOrder ID;Customer Name;Amount;Order Date;Notes\n1;"Smith; John";1.50;31/01/2024;\n'
        '2;"O""Brien";22.25;01/02/2024;\n3;"multi\nline";-3.00;15/02/2024;\n',
        newline="\r\n",
    )
    result = run(lake, "orders", src)
    assert column_types(lake, "orders") == {
        "order_id": "BIGINT",
        "customer_name": "VARCHAR",
        "amount": "DECIMAL(18,2)",
        "order_date": "DATE",
        "notes": "VARCHAR",
    }
    notes = result.files[0]["notes"]  # type: ignore[attr-defined]
    assert any("'notes' is empty" in n for n in notes)
    rows = query(lake, "lake", "SELECT * FROM orders ORDER BY order_id")
    assert rows == [
        (1, "Smith; John", Decimal("1.50"), dt.date(2024, 1, 31), None),
        (2, 'O"Brien', Decimal("22.25"), dt.date(2024, 2, 1), None),
        (3, "multi\r\nline", Decimal("-3.00"), dt.date(2024, 2, 15), None),
    ]


def test_latin1_is_detected_and_decoded(lake: LakeLayout, tmp_path: Path) -> None:
    src = write(tmp_path / "cities.csv", "id,city\n1,Montréal\n2,Zürich\n3,Ålesund\n", encoding="latin-1")
    result = run(lake, "cities", src)
    assert "read as latin-1" in result.files[0]["notes"]  # type: ignore[attr-defined]
    assert query(lake, "lake", "SELECT city FROM cities ORDER BY id") == [("Montréal",), ("Zürich",), ("Ålesund",)]


def test_date_policies_mixed_ambiguous_timestamps_and_leading_zeros(lake: LakeLayout, tmp_path: Path) -> None:
    src = write(
        tmp_path / "d.csv",
        "iso,mixed,ambiguous,us,ts,zip,flag,ratio\n"
        "2024-01-31,2024-01-31,01/02/2024,12/31/2024,2024-01-31 10:00:00,01234,true,1e3\n"
        "2024-02-01,31/01/2024,03/04/2024,01/15/2024,2024-01-31T11:30:00.250,99999,FALSE,2.5\n",
    )
    result = run(lake, "dates", src)
    types = column_types(lake, "dates")
    assert types == {
        "iso": "DATE",
        "mixed": "VARCHAR",  # two formats in one column: never guessed per value
        "ambiguous": "DATE",  # day-first, and a note says it was ambiguous
        "us": "DATE",  # 12/31 can only be month-first
        "ts": "TIMESTAMP",
        "zip": "VARCHAR",  # leading zero: an identifier, not a number
        "flag": "BOOLEAN",
        "ratio": "DOUBLE",
    }
    notes = " ".join(result.files[0]["notes"])  # type: ignore[attr-defined]
    assert "'mixed' mixes date formats" in notes and "'ambiguous': ambiguous date format" in notes
    row = query(lake, "lake", "SELECT ambiguous, us, ts, zip, flag FROM dates ORDER BY iso")[1]
    assert row == (
        dt.date(2024, 4, 3),
        dt.date(2024, 1, 15),
        dt.datetime(2024, 1, 31, 11, 30, 0, 250000),
        "99999",
        False,
    )


def test_json_nested_kept_as_struct_or_flattened(lake: LakeLayout, tmp_path: Path) -> None:
    records = [
        {"id": 1, "customer": {"name": "Ann", "geo": {"lat": 48.85}}, "tags": ["a"], "at": "2024-01-02 10:00:00"},
        {"id": 2, "customer": {"name": "Bob", "geo": {"lat": 59.91}}, "tags": [], "at": "2024-01-03 11:00:00"},
    ]
    src = write(tmp_path / "events.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    run(lake, "events", src)
    assert column_types(lake, "events")["at"] == "TIMESTAMP"
    assert query(lake, "lake", "SELECT customer.geo.lat FROM events ORDER BY id") == [(48.85,), (59.91,)]
    run(lake, "events_flat", src, flatten=True)
    types = column_types(lake, "events_flat")
    assert list(types) == ["id", "customer_name", "customer_geo_lat", "tags", "at"]
    assert query(lake, "warehouse", "SELECT customer_name, tags FROM events_flat ORDER BY id") == [
        ("Ann", ["a"]),
        ("Bob", []),
    ]


# ----------------------------------------------------------------------------- drift


def test_new_nullable_column_is_merged_and_reported(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "orders", write(tmp_path / "a.csv", "id,amount\n1,10\n2,20\n"), partition_by="id")
    result = run(lake, "orders", write(tmp_path / "b.csv", "id,amount,channel\n3,1.25,web\n"))
    assert result.new_columns == ["channel"]  # type: ignore[attr-defined]
    assert result.widened[0]["from"] == "BIGINT" and result.widened[0]["to"].startswith("DECIMAL")  # type: ignore[attr-defined]
    expected = [(1, Decimal("10.00"), None), (2, Decimal("20.00"), None), (3, Decimal("1.25"), "web")]
    for engine in ("lake", "warehouse", "raw"):
        assert query(lake, engine, "SELECT id, amount, channel FROM orders ORDER BY id") == expected, engine


def test_empty_column_takes_the_type_of_a_later_file(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "t", write(tmp_path / "a.csv", "id,when\n1,\n"))
    run(lake, "t", write(tmp_path / "b.csv", "id,when\n2,2024-05-06\n"))
    assert column_types(lake, "t")["when"] == "DATE"
    assert query(lake, "warehouse", 'SELECT id, "when" FROM t ORDER BY id') == [(1, None), (2, dt.date(2024, 5, 6))]


def test_incompatible_type_change_is_refused_and_nothing_written(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "orders", write(tmp_path / "a.csv", "id,amount\n1,10\n"))
    before = lake_files(lake)
    manifest = load_manifest(lake, "orders")
    bad = write(tmp_path / "bad.csv", "id,amount\n2,ten\n")
    fine = write(tmp_path / "fine.csv", "id,amount\n3,30\n")
    with pytest.raises(InputError) as info:
        run(lake, "orders", fine, bad)
    message = str(info.value)
    assert "bad.csv" in message and "'amount'" in message and "VARCHAR" in message and "BIGINT" in message
    assert lake_files(lake) == before
    assert load_manifest(lake, "orders") == manifest
    assert query(lake, "warehouse", "SELECT count(*) FROM orders") == [(1,)]


def test_widening_rules() -> None:
    assert widen("INTEGER", "BIGINT") == "BIGINT"
    assert widen("BIGINT", "DOUBLE") == "DOUBLE"
    assert widen("DECIMAL(18,2)", "DECIMAL(18,4)") == "DECIMAL(38,4)"
    assert widen("DATE", "TIMESTAMP") == "TIMESTAMP"
    assert widen("BIGINT", "VARCHAR") is None
    assert widen("DATE", "BIGINT") is None
    assert widen("BOOLEAN", "BIGINT") is None


# ----------------------------------------------------------------------------- incremental


def test_reingest_skips_known_content_and_appends_new(lake: LakeLayout, tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "id,v\n1,x\n")
    first = run(lake, "t", a)
    assert first.status == "ingested"  # type: ignore[attr-defined]
    again = run(lake, "t", a)
    assert again.status == "nothing_to_do" and "already ingested" in again.skipped[0]["reason"]  # type: ignore[attr-defined]
    # same name, new content: appended, its raw copy does not overwrite the first
    other = tmp_path / "other"
    other.mkdir()
    b = write(other / "a.csv", "id,v\n2,y\n")
    copy = write(tmp_path / "copy.csv", "id,v\n2,y\n")
    result = run(lake, "t", b, copy)
    assert [f["file"] for f in result.files] == [str(b)]  # type: ignore[attr-defined]
    assert "same content" in result.skipped[0]["reason"]  # type: ignore[attr-defined]
    assert len(list((lake.raw / "t").rglob("*.csv"))) == 2
    for engine in ("lake", "warehouse", "raw"):
        assert query(lake, engine, "SELECT id, v FROM t ORDER BY id") == [(1, "x"), (2, "y")], engine


def test_interrupted_ingest_is_rolled_forward(
    lake: LakeLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake.targets.local.ingest import run as mod

    def crash(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(mod, "_load_warehouse", crash)
    with pytest.raises(KeyboardInterrupt):
        run(lake, "t", write(tmp_path / "a.csv", "id\n1\n2\n"))
    monkeypatch.undo()
    result = run(lake, "t", write(tmp_path / "b.csv", "id\n3\n"))
    assert any("loaded into the warehouse" in r for r in result.recovered)  # type: ignore[attr-defined]
    assert query(lake, "warehouse", "SELECT count(*) FROM t") == [(3,)]


# ----------------------------------------------------------------------------- engines, catalog, round trip


def test_multi_table_ingest_joined_on_every_engine(lake: LakeLayout, tmp_path: Path) -> None:
    orders = write(
        tmp_path / "orders.csv",
        "order_id,order_date,customer_id,amount\n"
        + "".join(f"{i},2024-{1 + i % 3:02d}-{1 + i % 27:02d},{i % 4},{i}.{i % 100:02d}\n" for i in range(1, 200)),
    )
    customers = write(
        tmp_path / "customers.jsonl",
        "".join(json.dumps({"customer_id": c, "segment": "gold" if c % 2 else "basic"}) + "\n" for c in range(4)),
    )
    run(lake, "orders", orders, partition_by="order_date:month")
    run(lake, "clients", customers)
    sql = (
        "SELECT c.segment, o.month, count(*) AS n, sum(o.amount) AS total FROM orders o "
        "JOIN clients c ON o.customer_id = c.customer_id GROUP BY 1, 2 ORDER BY 1, 2"
    )
    answers = {engine: query(lake, engine, sql) for engine in ("lake", "warehouse", "raw")}
    assert answers["lake"] == answers["warehouse"] == answers["raw"]
    assert sum(r[2] for r in answers["lake"]) == 199
    table = Catalog(lake.catalog_dir).get("processed", "orders")
    assert table and [k.name for k in table.partition_keys] == ["year", "month"]
    assert table.parameters["recordCount"] == 199 and len(table.partitions) == 3
    assert sorted(p.name for p in (lake.processed / "orders" / "year=2024").iterdir()) == [
        "month=1",
        "month=2",
        "month=3",
    ]
    raw = Catalog(lake.catalog_dir).get("raw", "clients")
    assert raw and raw.parameters["crawler"] == "datalake-ingest"


def test_round_trip_values_source_equals_parquet(lake: LakeLayout, tmp_path: Path) -> None:
    rows = [
        [str(i), f'name {i}, "q"', f"{i * 7 % 1000}.{i % 10}5", f"2024-03-{1 + i % 28:02d}", "" if i % 5 else "x"]
        for i in range(500)
    ]
    src = tmp_path / "data.csv"
    with src.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "price", "sold_on", "flag"])
        writer.writerows(rows)
    run(lake, "items", src, partition_by="sold_on:day")
    files = sorted((lake.processed / "items").rglob("*.parquet"))
    table = pq.ParquetDataset(files).read() if len(files) > 1 else pq.read_table(files[0])
    got = {r["id"]: r for r in table.to_pylist()}
    assert len(got) == len(rows)
    for i, name, price, _day, flag in rows:
        r = got[int(i)]
        assert (r["name"], r["price"], r["flag"]) == (name, Decimal(price), flag or None)
    assert query(lake, "lake", "SELECT sold_on, day FROM items WHERE id = 10") == [(dt.date(2024, 3, 11), 11)]


def test_status_lists_ingested_tables(lake: LakeLayout, tmp_path: Path) -> None:
    from datalake.targets.local.status import status

    run(lake, "t", write(tmp_path / "a.csv", "id\n1\n2\n"))
    info = status(lake)
    names = {(t["database"], t["table"]): t for t in info.tables}
    assert names[("processed", "t")]["rows"] == 2 and ("raw", "t") in names
    assert info.warehouse["t"] == 2


def test_sales_pipeline_untouched_by_ingest(processed_lake: LakeLayout, tmp_path: Path) -> None:
    before = query(processed_lake, "lake", "SELECT count(*), sum(total_amount) FROM sales_fact")
    run(processed_lake, "extra", write(tmp_path / "a.csv", "region,target\nNorth,10\n"))
    from datalake.targets.local.crawler import crawl

    crawl(processed_lake, Catalog(processed_lake.catalog_dir))  # run-etl's crawl leaves the ingested table alone
    assert Catalog(processed_lake.catalog_dir).get("raw", "extra").parameters["crawler"] == "datalake-ingest"  # type: ignore[union-attr]
    for engine in ("lake", "warehouse", "raw"):
        assert query(processed_lake, engine, "SELECT count(*), sum(total_amount) FROM sales_fact") == before, engine
        assert query(processed_lake, engine, "SELECT target FROM extra") == [(10,)]


# ----------------------------------------------------------------------------- errors and CLI


def test_reserved_and_bad_names_and_partition_changes(lake: LakeLayout, tmp_path: Path) -> None:
    src = write(tmp_path / "a.csv", "id,d\n1,2024-01-01\n")
    with pytest.raises(UsageError):
        run(lake, "sales_fact", src)
    with pytest.raises(UsageError):
        run(lake, "Bad-Name", src)
    with pytest.raises(UsageError, match="year"):
        write(tmp_path / "y.csv", "year,d\n1,2024-01-01\n")
        run(lake, "y", tmp_path / "y.csv", partition_by="d:year")
    run(lake, "t", src, partition_by="d:year")
    with pytest.raises(UsageError, match="partitioned by d:year"):
        run(lake, "t", write(tmp_path / "b.csv", "id,d\n2,2024-01-01\n"), partition_by="id")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "-t", "t"], "missing.csv: no such file"),
        (["{src}", "-t", "t", "--format", "xml"], "unknown --format 'xml'"),
        (["{src}", "-t", "t", "--partition-by", "d:week"], "bad --partition-by 'd:week'"),
        (["{src}", "-t", "t", "--partition-by", "nope"], "column 'nope' is not in the data"),
        (["{empty}", "-t", "t"], "the file is empty"),
    ],
)
def test_cli_errors_are_one_line(lake: LakeLayout, tmp_path: Path, args: list[str], message: str) -> None:
    src = write(tmp_path / "a.csv", "id,d\n1,2024-01-01\n")
    empty = write(tmp_path / "e.csv", "")
    argv = ["ingest", *(a.format(src=src, empty=empty) for a in args), "--lake", str(lake.root)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code != 0
    assert result.output.splitlines()[0].startswith("Error:") and message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_cli_ingest_json_output(lake: LakeLayout, tmp_path: Path) -> None:
    src = write(tmp_path / "a.csv", "id,d\n1,2024-01-01\n")
    result = CliRunner().invoke(app, ["ingest", str(src), "--table", "t", "--lake", str(lake.root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "ingested" and data["rows"] == 1 and data["warehouse_rows_loaded"] == 1
    shown = CliRunner().invoke(app, ["query", "SELECT d FROM t", "--engine", "raw", "--lake", str(lake.root), "--json"])
    assert json.loads(shown.stdout)["rows"] == [{"d": "2024-01-01"}]
