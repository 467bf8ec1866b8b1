"""Ingested tables as Iceberg tables: snapshots, schema evolution, migration, time travel, kill -9, modes."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.domain.iceberg_tables import MIGRATED, RUN_ID
from datalake.errors import InputError, QueryError
from datalake.layout import LakeLayout
from datalake.model import IngestOptions, IngestResult
from datalake.targets.local import iceberg
from datalake.targets.local.engines import open_local_engine
from datalake.targets.local.ingest import tables as ingest_tables
from datalake.targets.local.ingest.run import ingest, ingest_journal, load_manifest

TODAY = dt.date(2026, 7, 1)


def run(layout: LakeLayout, table: str, *paths: Path, **kw: Any) -> IngestResult:
    return ingest(layout, IngestOptions(table=table, paths=tuple(paths), today=TODAY, **kw))


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def query(layout: LakeLayout, engine: str, sql: str, as_of: str | None = None) -> list[tuple[Any, ...]]:
    with open_local_engine(layout, engine, as_of) as eng:
        return eng.execute(sql).rows


def table_of(layout: LakeLayout, name: str) -> Any:
    return iceberg.load_table(layout, name)


def iceberg_rows(layout: LakeLayout, name: str, snapshot_id: int | None = None) -> list[dict[str, Any]]:
    """What pyiceberg itself reads: not our engines."""
    table = table_of(layout, name)
    scan = table.scan(snapshot_id=snapshot_id) if snapshot_id else table.scan()
    return scan.to_arrow().to_pylist()


def snapshot_props(layout: LakeLayout, name: str) -> list[dict[str, str]]:
    table = table_of(layout, name)
    ordered = sorted(table.metadata.snapshots, key=lambda s: s.sequence_number)
    return [dict(s.summary.additional_properties) | {"operation": s.summary.operation.value} for s in ordered]


# ----------------------------------------------------------------------------- one snapshot per ingest


def test_each_ingest_is_one_snapshot_with_its_id_and_counts_and_iceberg_readers_see_the_partitions(
    lake: LakeLayout, tmp_path: Path
) -> None:
    a = write(tmp_path / "a.csv", "id,sold,amount\n1,2024-01-05,1.50\n2,2024-02-07,2.25\n3,2024-02-09,3.00\n")
    first = run(lake, "orders", a, partition_by="sold:month")
    second = run(lake, "orders", write(tmp_path / "b.csv", "id,sold,amount\n4,2024-03-01,4.00\n"))
    props = snapshot_props(lake, "orders")
    assert [p[RUN_ID] for p in props] == [first.ingest_id, second.ingest_id]
    assert [(p["added-records"], p["total-records"], p["datalake.rows-in"]) for p in props] == [
        ("3", "3", "3"),
        ("1", "4", "1"),
    ]
    table = table_of(lake, "orders")
    assert [(f.name, str(f.transform)) for f in table.spec().fields] == [("year", "identity"), ("month", "identity")]
    # pyiceberg reads year/month (only in the folder names) from the partition values
    got = sorted((r["id"], r["year"], r["month"], r["amount"]) for r in iceberg_rows(lake, "orders"))
    assert got == [
        (1, 2024, 1, Decimal("1.50")),
        (2, 2024, 2, Decimal("2.25")),
        (3, 2024, 2, Decimal("3.00")),
        (4, 2024, 3, Decimal("4.00")),
    ]
    assert query(lake, "lake", "SELECT count(*), sum(amount) FROM orders") == [(4, Decimal("10.75"))]
    assert second.snapshot_id == table.current_snapshot().snapshot_id
    # the first snapshot still reads the first ingest's rows
    assert len(iceberg_rows(lake, "orders", props and table.metadata.snapshots[0].snapshot_id)) == 3
    assert iceberg.history(lake, "orders").snapshots[-1].run_id == second.ingest_id


def test_value_partitions_of_dates_and_text_are_typed_partition_values(lake: LakeLayout, tmp_path: Path) -> None:
    src = write(tmp_path / "a.csv", "d,region,v\n2024-01-01,North East,1\n2024-01-02,South/West,2\n")
    run(lake, "by_day", src, partition_by="d")
    run(lake, "by_region", src, partition_by="region")
    assert sorted((r["d"], r["v"]) for r in iceberg_rows(lake, "by_day")) == [
        (dt.date(2024, 1, 1), 1),
        (dt.date(2024, 1, 2), 2),
    ]
    assert sorted((r["region"], r["v"]) for r in iceberg_rows(lake, "by_region")) == [
        ("North East", 1),
        ("South/West", 2),
    ]


def test_a_file_in_the_folder_no_snapshot_names_is_not_read(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "t", write(tmp_path / "a.csv", "id\n1\n2\n"))
    (stray,) = (lake.processed / "t").glob("*.parquet")
    (stray.parent / "stray.parquet").write_bytes(stray.read_bytes())
    assert query(lake, "lake", "SELECT count(*) FROM t") == [(2,)]


# ----------------------------------------------------------------------------- schema evolution


def test_schema_evolves_through_iceberg_added_column_and_promotions(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "m", write(tmp_path / "a.parquet.csv", "id,x\n1,1.5\n"))
    import pyarrow as pa
    import pyarrow.parquet as pq

    small = tmp_path / "small.parquet"
    pq.write_table(pa.table({"id": pa.array([10], pa.int32()), "f": pa.array([0.5], pa.float32())}), small)
    run(lake, "p", small)
    wide = tmp_path / "wide.parquet"
    pq.write_table(
        pa.table({"id": pa.array([2**40], pa.int64()), "f": pa.array([0.25], pa.float64()), "new": ["n"]}), wide
    )
    commits = len(table_of(lake, "p").metadata.metadata_log)
    result = run(lake, "p", wide)
    assert result.new_columns == ["new"] and result.rewritten_rows == 0  # promotions: no file rewritten
    # the schema change and the snapshot are one catalog commit, and the snapshot is written in the new schema
    table = table_of(lake, "p")
    assert len(table.metadata.metadata_log) == commits + 1
    assert table.current_snapshot().schema_id == table.schema().schema_id == 1
    schema = table_of(lake, "p").schema()
    assert {f.name: str(f.field_type) for f in schema.fields} == {"id": "long", "f": "double", "new": "string"}
    assert [f.field_id for f in schema.fields] == [1, 2, 3]  # the same fields, promoted in place
    rows = sorted((r["id"], r["f"], r["new"]) for r in iceberg_rows(lake, "p"))
    assert rows == [(10, 0.5, None), (2**40, 0.25, "n")]  # the old file reads NULL for the new column
    assert len(table_of(lake, "p").current_snapshot().summary.additional_properties) >= 1
    assert snapshot_props(lake, "p")[-1]["added-data-files"] == "1"


def test_a_widening_iceberg_cannot_promote_rewrites_the_rows_in_the_same_snapshot(
    lake: LakeLayout, tmp_path: Path
) -> None:
    run(lake, "w", write(tmp_path / "a.csv", "id,amount\n1,10\n2,20\n"))
    old_snapshot = table_of(lake, "w").current_snapshot().snapshot_id
    result = run(lake, "w", write(tmp_path / "b.csv", "id,amount\n3,1.25\n"))
    assert result.rewritten_rows == 2
    table = table_of(lake, "w")
    assert str(table.schema().find_field("amount").field_type) == "decimal(38, 2)"
    last = snapshot_props(lake, "w")[-1]
    assert (last["operation"], last["deleted-records"], last["added-records"], last["total-records"]) == (
        "overwrite",
        "2",
        "3",
        "3",
    )
    assert sorted((r["id"], r["amount"]) for r in iceberg_rows(lake, "w")) == [
        (1, Decimal("10.00")),
        (2, Decimal("20.00")),
        (3, Decimal("1.25")),
    ]
    for engine in ("lake", "warehouse"):
        assert query(lake, engine, "SELECT count(*), sum(amount) FROM w") == [(3, Decimal("31.25"))], engine
    assert old_snapshot in {s.snapshot_id for s in table.metadata.snapshots}


def test_a_change_that_loses_data_is_refused_naming_file_and_column(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "r", write(tmp_path / "a.csv", "id,amount\n1,10\n"))
    snapshots = len(table_of(lake, "r").metadata.snapshots)
    with pytest.raises(InputError, match=r"bad\.csv: column 'amount' is VARCHAR in this file but BIGINT"):
        run(lake, "r", write(tmp_path / "bad.csv", "id,amount\n2,ten\n"))
    assert len(table_of(lake, "r").metadata.snapshots) == snapshots
    assert str(table_of(lake, "r").schema().find_field("amount").field_type) == "long"


# ----------------------------------------------------------------------------- migration


@pytest.mark.parametrize(
    ("options", "batch", "after"),
    [
        ({}, "3,2024-03-01,c", [(1, "a"), (2, "b"), (3, "c")]),
        ({"mode": "overwrite"}, "3,2024-03-01,c", [(3, "c")]),
        ({"mode": "merge", "key": ("id",)}, "2,2024-02-01,B", [(1, "a"), (2, "B")]),
    ],
)
def test_an_ingested_table_from_before_iceberg_migrates_on_its_next_ingest(
    lake: LakeLayout, tmp_path: Path, options: dict[str, Any], batch: str, after: list[tuple[Any, ...]]
) -> None:
    src = write(tmp_path / "a.csv", "id,d,v\n1,2024-01-01,a\n2,2024-02-01,b\n")
    run(lake, "legacy", src, partition_by="d:month")
    old_files = sorted((lake.processed / "legacy").rglob("*.parquet"))
    stamps = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in old_files}
    iceberg.open_catalog(lake).drop_table(("processed", "legacy"))  # as a lake written before Iceberg
    assert query(lake, "lake", "SELECT count(*) FROM legacy") == [(2,)]  # read from its folder meanwhile
    result = run(lake, "legacy", write(tmp_path / "b.csv", f"id,d,v\n{batch}\n"), **options)
    props = snapshot_props(lake, "legacy")
    assert [p.get(MIGRATED) for p in props] == ["true", None] and props[1][RUN_ID] == result.ingest_id
    assert props[0]["total-records"] == "2" and props[1]["total-records"] == str(len(after))
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in old_files} == stamps  # registered, not rewritten
    for engine in ("lake", "warehouse"):
        assert sorted(query(lake, engine, "SELECT id, v FROM legacy")) == after, engine


# ----------------------------------------------------------------------------- time travel


def test_as_of_reads_ingested_tables_at_the_chosen_sales_fact_snapshot(lake: LakeLayout, tmp_path: Path) -> None:
    from datalake.domain.seed import seed
    from datalake.model import EtlOptions, SeedOptions
    from datalake.targets.local.etl.run import run_etl
    from tests.conftest import END_DATE, RUN_TS

    run(lake, "before", write(tmp_path / "x.csv", "k\n1\n"))
    run(lake, "extra", write(tmp_path / "a.csv", "k\n1\n"))
    seed(lake, SeedOptions(rows=300, days=2, end_date=END_DATE))
    run_etl(lake, EtlOptions(run_ts=RUN_TS))
    facts = iceberg.history(lake, "sales_fact").snapshots[-1]
    run(lake, "extra", write(tmp_path / "b.csv", "k\n2\n3\n"))
    run(lake, "after", write(tmp_path / "y.csv", "k\n1\n"))
    assert query(lake, "lake", "SELECT count(*) FROM extra") == [(3,)]
    # by id, and by a timestamp after everything (it chooses the same, last, sales_fact snapshot)
    for as_of in (str(facts.snapshot_id), dt.datetime.now(dt.UTC).isoformat()):
        assert query(lake, "lake", "SELECT count(*) FROM extra", as_of=as_of) == [(1,)]
        assert query(lake, "lake", "SELECT count(*) FROM before", as_of=as_of) == [(1,)]
        with pytest.raises(QueryError, match="after"):  # ingested after that snapshot: not there yet
            query(lake, "lake", "SELECT count(*) FROM after", as_of=as_of)


# ----------------------------------------------------------------------------- kill -9 at the commit


def _ingest_and_die(root: str, source: str, point: str, merge: bool = False) -> None:
    """A child process: an ingest (a merge on `id`), killed at `point` of its Iceberg commit."""
    from pyiceberg.catalog import MetastoreCatalog

    from datalake.domain import iceberg_tables

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    real_commit, real_write = iceberg_tables.commit_with_schema, MetastoreCatalog._write_metadata

    def commit(*args: Any, **kwargs: Any) -> bool:
        if point == "before_the_snapshot":
            die()
        committed = real_commit(*args, **kwargs)
        die()
        return committed

    def write_then_die(*args: Any, **kwargs: Any) -> None:  # the new metadata file is written, the catalog not swapped
        real_write(*args, **kwargs)
        die()

    if point == "metadata_written_pointer_not_swapped":
        MetastoreCatalog._write_metadata = staticmethod(write_then_die)  # type: ignore[method-assign]
    else:
        iceberg_tables.commit_with_schema = commit  # type: ignore[assignment]
    merging: dict[str, Any] = {"mode": "merge", "key": ("id",)} if merge else {}
    table = "mk" if merge else "k"
    ingest(LakeLayout(Path(root)), IngestOptions(table=table, paths=(Path(source),), today=TODAY, **merging))


KILL_POINTS = [
    ("before_the_snapshot", False),
    ("metadata_written_pointer_not_swapped", False),
    ("after_the_snapshot", True),
]


@pytest.mark.parametrize(("point", "committed"), KILL_POINTS)
def test_an_ingest_killed_at_its_iceberg_commit_is_rolled_back_or_forward(
    lake: LakeLayout, tmp_path: Path, point: str, committed: bool
) -> None:
    run(lake, "k", write(tmp_path / "a.csv", "id\n1\n2\n"))
    killed = write(tmp_path / "b.csv", "id\n3\n4\n5\n")
    child = multiprocessing.get_context("fork").Process(
        target=_ingest_and_die, args=(str(lake.root), str(killed), point)
    )
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    (record,) = [r for r in ingest_journal(lake).records() if r["files"] == [str(killed)]]
    assert record["status"] == "committing"
    # right after the kill a reader sees the table at the old or the new snapshot, never in between
    assert query(lake, "lake", "SELECT count(*) FROM k") == [(5 if committed else 2,)]
    result = run(lake, "k", write(tmp_path / "c.csv", "id\n6\n"))
    verb = "published and loaded" if committed else "rolled back"
    assert any(record["ingest_id"] in line and verb in line for line in result.recovered), result.recovered
    expected = 6 if committed else 3
    assert query(lake, "lake", "SELECT count(*) FROM k") == [(expected,)]
    assert query(lake, "warehouse", "SELECT count(*) FROM k") == [(expected,)]
    assert len(iceberg_rows(lake, "k")) == expected
    ids = [p[RUN_ID] for p in snapshot_props(lake, "k")]
    assert ids.count(record["ingest_id"]) == (1 if committed else 0) and len(ids) == (3 if committed else 2)
    on_disk = sum(1 for _ in (lake.processed / "k").glob("*.parquet"))
    assert on_disk == len(ids)  # a rolled-back ingest's files are gone
    if not committed:  # the killed file was never ingested: ingesting it again works
        again = run(lake, "k", killed)
        assert again.status == "ingested" and query(lake, "lake", "SELECT count(*) FROM k") == [(6,)]
    assert manifest_rows(lake, "k") == query(lake, "lake", "SELECT count(*) FROM k")[0][0]


def manifest_rows(layout: LakeLayout, table: str) -> int:
    manifest = load_manifest(layout, table)
    assert manifest
    return sum(e["rows"] for e in manifest["files"].values())


# ----------------------------------------------------------------------------- --mode overwrite | merge


def counts(layout: LakeLayout, table: str) -> dict[str, list[tuple[Any, ...]]]:
    return {engine: sorted(query(layout, engine, f"SELECT * FROM {table}")) for engine in ("lake", "warehouse")}


def test_overwrite_replaces_the_rows_in_one_commit_and_time_travel_keeps_the_old(
    lake: LakeLayout, tmp_path: Path
) -> None:
    run(lake, "o", write(tmp_path / "a.csv", "id,v\n1,a\n2,b\n3,c\n"))
    old = table_of(lake, "o").current_snapshot().snapshot_id
    result = run(lake, "o", write(tmp_path / "b.csv", "id,v\n7,x\n8,y\n"), mode="overwrite")
    assert (result.rows, result.rows_replaced, result.rows_inserted) == (2, 3, 2)
    last = snapshot_props(lake, "o")[-1]
    assert (last["operation"], last["deleted-records"], last["added-records"], last["total-records"]) == (
        "overwrite",
        "3",
        "2",
        "2",
    )
    assert len(snapshot_props(lake, "o")) == 2  # one commit
    expected = [(7, "x"), (8, "y")]
    assert counts(lake, "o") == {"lake": expected, "warehouse": expected}
    assert sorted(query(lake, "raw", "SELECT * FROM o")) == expected
    assert sorted((r["id"], r["v"]) for r in iceberg_rows(lake, "o", old)) == [(1, "a"), (2, "b"), (3, "c")]
    # the next appends add to the overwritten rows, in the lake and in the warehouse (its segments merge meanwhile)
    for i, extra in enumerate(("9,z", "10,w", "11,v")):
        run(lake, "o", write(tmp_path / f"c{i}.csv", f"id,v\n{extra}\n"))
    assert (
        counts(lake, "o")["lake"]
        == counts(lake, "o")["warehouse"]
        == [
            (7, "x"),
            (8, "y"),
            (9, "z"),
            (10, "w"),
            (11, "v"),
        ]
    )
    # overwriting with content the table holds is not "already ingested": the table becomes that content
    again = run(lake, "o", tmp_path / "c0.csv", mode="overwrite")
    assert (again.status, again.rows_replaced) == ("ingested", 5)
    assert counts(lake, "o") == {"lake": [(9, "z")], "warehouse": [(9, "z")]}


def test_merge_upserts_on_the_key_in_one_commit_rewriting_only_the_files_with_matched_keys(
    lake: LakeLayout, tmp_path: Path
) -> None:
    run(
        lake,
        "c",
        write(tmp_path / "a.csv", "id,d,v\n1,2024-01-01,a\n2,2024-01-02,b\n3,2024-02-01,c\n4,2024-03-01,d\n"),
        partition_by="d:month",
    )
    march = [p for p in (lake.processed / "c").rglob("*.parquet") if "month=3" in str(p)]
    batch = write(tmp_path / "b.csv", "id,d,v\n2,2024-01-02,B\n3,2024-02-01,c\n9,2024-02-09,new\n")
    result = run(lake, "c", batch, mode="merge", key=("id",))
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (1, 1, 1)
    assert result.rows_inserted + result.rows_updated + result.rows_unchanged == result.rows == 3
    props = snapshot_props(lake, "c")
    assert len(props) == 2 and props[-1]["operation"] == "overwrite" and props[-1][RUN_ID] == result.ingest_id
    assert (props[-1]["datalake.rows-inserted"], props[-1]["datalake.rows-updated"]) == ("1", "1")
    assert props[-1]["total-records"] == "5"
    # January and February held matched keys: rewritten; March did not: its file is still the table's
    current = ingest_tables.snapshot_files(table_of(lake, "c"))
    assert march and set(march) <= set(current)
    assert props[-1]["deleted-data-files"] == "2"
    expected = [
        (1, dt.date(2024, 1, 1), "a", 2024, 1),
        (2, dt.date(2024, 1, 2), "B", 2024, 1),
        (3, dt.date(2024, 2, 1), "c", 2024, 2),
        (4, dt.date(2024, 3, 1), "d", 2024, 3),
        (9, dt.date(2024, 2, 9), "new", 2024, 2),
    ]
    assert counts(lake, "c") == {"lake": expected, "warehouse": expected}
    assert sorted(query(lake, "raw", "SELECT * FROM c")) == expected  # the raw copies, the merge replayed
    assert sorted((r["id"], r["v"]) for r in iceberg_rows(lake, "c")) == [(e[0], e[2]) for e in expected]


def test_merge_on_a_composite_key_into_a_new_table_inserts_everything(lake: LakeLayout, tmp_path: Path) -> None:
    first = run(lake, "ck", write(tmp_path / "a.csv", "a,b,v\n1,x,1\n1,y,2\n"), mode="merge", key=("a,b",))
    assert (first.rows_inserted, first.rows_updated, first.key) == (2, 0, ["a", "b"])
    second = run(lake, "ck", write(tmp_path / "b.csv", "a,b,v\n1,y,20\n2,x,3\n"), mode="merge", key=("a", "b"))
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (1, 1, 0)
    third = run(lake, "ck", write(tmp_path / "c.csv", "a,b,v\n1,x,100\n"), mode="merge", key=("a,b",))
    assert (third.rows_inserted, third.rows_updated) == (0, 1)
    expected = [(1, "x", 100), (1, "y", 20), (2, "x", 3)]
    assert counts(lake, "ck") == {"lake": expected, "warehouse": expected}
    assert sorted(query(lake, "raw", "SELECT * FROM ck")) == expected


def test_merge_refuses_duplicate_and_null_keys_naming_them_and_writes_nothing(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "d", write(tmp_path / "a.csv", "id,v\n1,a\n"))
    snapshots = len(snapshot_props(lake, "d"))
    rows = "".join(f"{i},v\n{i},w\n" for i in range(10, 18))
    with pytest.raises(InputError, match=r"same --key more than once: id=10 \(2x\); id=11 \(2x\).* and more"):
        run(lake, "d", write(tmp_path / "dup.csv", "id,v\n" + rows), mode="merge", key=("id",))
    with pytest.raises(InputError, match=r"1 row\(s\) have no value in the --key column\(s\) id"):
        run(lake, "d", write(tmp_path / "null.csv", "id,v\n2,a\n,b\n"), mode="merge", key=("id",))
    assert len(snapshot_props(lake, "d")) == snapshots
    assert counts(lake, "d")["lake"] == [(1, "a")] == counts(lake, "d")["warehouse"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "id"], "--key id is only used by --mode merge"),
        (["--mode", "merge"], "--mode merge needs --key COL[,COL]"),
        (["--mode", "merge", "--key", "nope"], "--key column(s) nope not in table 't'"),
        (["--mode", "upsert"], "unknown --mode 'upsert'"),
    ],
)
def test_cli_mode_and_key_errors_are_one_line(lake: LakeLayout, tmp_path: Path, args: list[str], message: str) -> None:
    src = write(tmp_path / "a.csv", "id,v\n1,a\n")
    result = CliRunner().invoke(app, ["ingest", str(src), "-t", "t", *args, "--lake", str(lake.root)])
    assert result.exit_code != 0
    assert result.output.splitlines()[0].startswith("Error:") and message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_cli_merge_json_gives_the_counts(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "t", write(tmp_path / "a.csv", "id,v\n1,a\n2,b\n"))
    src = write(tmp_path / "b.csv", "id,v\n2,B\n3,c\n")
    argv = ["ingest", str(src), "-t", "t", "--mode", "merge", "--key", "id", "--lake", str(lake.root), "--json"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["mode"], data["key"], data["rows_inserted"], data["rows_updated"], data["rows_unchanged"]) == (
        "merge",
        ["id"],
        1,
        1,
        0,
    )
    assert data["table_rows"] == 3 and data["snapshot_id"] == table_of(lake, "t").current_snapshot().snapshot_id
    text = CliRunner().invoke(app, argv[:-1])  # the same file again, as text: nothing to do
    assert text.exit_code == 0 and "Nothing to do" in text.output


@pytest.mark.parametrize(("point", "committed"), KILL_POINTS)
def test_a_merge_killed_at_its_commit_leaves_the_old_or_the_new_table_and_the_warehouse_follows(
    lake: LakeLayout, tmp_path: Path, point: str, committed: bool
) -> None:
    run(lake, "mk", write(tmp_path / "a.csv", "id,v\n1,a\n2,b\n"))
    batch = write(tmp_path / "b.csv", "id,v\n2,B\n3,c\n")
    child = multiprocessing.get_context("fork").Process(
        target=_ingest_and_die, args=(str(lake.root), str(batch), point, True)
    )
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    old, new = [(1, "a"), (2, "b")], [(1, "a"), (2, "B"), (3, "c")]
    assert sorted(query(lake, "lake", "SELECT * FROM mk")) == (new if committed else old)
    assert sorted(query(lake, "warehouse", "SELECT * FROM mk")) == old  # not loaded yet
    run(lake, "mk", write(tmp_path / "c.csv", "id,v\n4,d\n"))  # recovers first
    final = (new if committed else old) + [(4, "d")]
    assert counts(lake, "mk") == {"lake": final, "warehouse": final}


# ----------------------------------------------------------------------------- two writers at once


def _commit_ingests(root: str, writer: int, table: str, commits: int, barrier: Any) -> None:
    """A child process: `commits` ingests' commits (the lake lock serialises whole ingests, not the catalog)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    layout = LakeLayout(Path(root))
    staged = []
    folder = layout.processed / table / ("year=2026/month=6" if table == "sales_fact" else "")
    column = "sale_id" if table == "sales_fact" else "id"
    for i in range(commits):
        path = folder / f"part-w{writer}-{i}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({column: pa.array([writer * 1000 + i, writer * 1000 + 500 + i], pa.int64())}), path)
        staged.append(path)
    barrier.wait()
    for i, path in enumerate(staged):
        if table == "sales_fact":  # run-etl's commit beside the ingests, in the same catalog
            iceberg.commit_run(layout, f"w{writer}-{i}", {"sales_fact": [path]}, {"rows_in": 2})
            continue
        ingest_tables.commit(layout, table, [("id", "BIGINT")], [], f"w{writer}-{i}", [path], {"datalake.rows-in": "2"})


@pytest.mark.parametrize("tables", [("t", "t"), ("t", "u"), ("t", "sales_fact")])
def test_two_writers_committing_ingests_at_once_both_land(lake: LakeLayout, tables: tuple[str, str]) -> None:
    commits = 6
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    writers = [
        ctx.Process(target=_commit_ingests, args=(str(lake.root), w, table, commits, barrier))
        for w, table in enumerate(tables, start=1)
    ]
    for proc in writers:
        proc.start()
    for proc in writers:
        proc.join(180)
    assert [proc.exitcode for proc in writers] == [0, 0]
    for w, table in enumerate(tables, start=1):
        ids = [p[RUN_ID] for p in snapshot_props(lake, table)]
        mine = [i for i in ids if i.startswith(f"w{w}-")]
        assert sorted(mine) == [f"w{w}-{i}" for i in range(commits)]  # each commit once: none lost, none doubled
        column = "sale_id" if table == "sales_fact" else "id"
        rows = [r[column] for r in iceberg_rows(lake, table)]
        assert {w * 1000 + i for i in range(commits)} | {w * 1000 + 500 + i for i in range(commits)} <= set(rows)
    for table in set(tables):
        writers_of = [w for w, t in enumerate(tables, start=1) if t == table]
        assert len(iceberg_rows(lake, table)) == 2 * commits * len(writers_of)


def test_a_partition_column_changing_type_is_refused_in_one_line(lake: LakeLayout, tmp_path: Path) -> None:
    run(lake, "pc", write(tmp_path / "a.csv", "id,v\n1,a\n"), partition_by="id")
    with pytest.raises(InputError, match=r"partitioned by id, and its type would change \(BIGINT to DECIMAL"):
        run(lake, "pc", write(tmp_path / "b.csv", "id,v\n1.5,b\n"))
    assert query(lake, "lake", "SELECT count(*) FROM pc") == [(1,)]


def _ingest_one(root: str, table: str, source: str, barrier: Any) -> None:
    barrier.wait()
    ingest(LakeLayout(Path(root)), IngestOptions(table=table, paths=(Path(source),), today=TODAY, wait=120))


def test_two_ingest_commands_at_once_queue_on_the_lake_lock_and_both_land(lake: LakeLayout, tmp_path: Path) -> None:
    sources = {
        t: write(tmp_path / f"{t}.csv", "id\n" + "".join(f"{i}\n" for i in range(n))) for t, n in (("a", 3), ("b", 5))
    }
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_ingest_one, args=(str(lake.root), t, str(p), barrier)) for t, p in sources.items()]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(240)
    assert [proc.exitcode for proc in procs] == [0, 0]
    for table, rows in (("a", 3), ("b", 5)):
        assert len(snapshot_props(lake, table)) == 1
        assert query(lake, "lake", f"SELECT count(*) FROM {table}") == [(rows,)]
        assert query(lake, "warehouse", f"SELECT count(*) FROM {table}") == [(rows,)]
