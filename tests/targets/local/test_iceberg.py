"""The lake's Iceberg tables: one snapshot per run and table, carrying the run id; repeatable; migration."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from datalake.domain import iceberg_tables
from datalake.domain.schema import DIMENSIONS
from datalake.domain.seed import seed
from datalake.errors import LakeNotFoundError
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local import iceberg
from datalake.targets.local.etl.run import commit_iceberg, journals, run_etl
from datalake.targets.local.warehouse import fact_reader_sql
from tests.conftest import END_DATE, RUN_TS, make_target

TABLES = ["sales_fact", "sales_quarantine", *DIMENSIONS]
SECOND_TS = RUN_TS + timedelta(days=1)


def _lake_count(layout: LakeLayout, table: str) -> int:
    with make_target(layout.root).query_engine("lake") as engine:
        return int(engine.execute(f"SELECT count(*) FROM {table}").rows[0][0])


def _iceberg_rows(layout: LakeLayout, table: str, snapshot_id: int | None = None) -> int:
    """Rows of the table as pyiceberg itself reads them (no DuckDB involved)."""
    from pyiceberg.catalog import load_catalog

    info = iceberg.catalog_info(layout)
    loaded = load_catalog(info["name"], **info["properties"]).load_table((info["namespace"], table))
    scan = loaded.scan(snapshot_id=snapshot_id) if snapshot_id is not None else loaded.scan()
    return scan.to_arrow().num_rows


def _run_ids(layout: LakeLayout, table: str) -> list[str | None]:
    return [s.run_id for s in iceberg.history(layout, table).snapshots]


def test_deploy_creates_every_table_empty(lake: LakeLayout) -> None:
    for table in TABLES:
        assert iceberg.history(lake, table).snapshots == []
    assert iceberg.catalog_file(lake).is_file()


def test_a_run_is_one_snapshot_per_table_with_its_run_id_and_counts(shared_processed_lake: LakeLayout) -> None:
    layout = shared_processed_lake
    (journal,) = journals(layout)
    transform = journal["transform"]
    for table in TABLES:
        (snap,) = iceberg.history(layout, table).snapshots
        assert snap.run_id == journal["run_id"] and snap.current and snap.operation == "append"
        assert (snap.rows_in, snap.rows_processed, snap.rows_quarantined) == (
            transform["rows_in"],
            transform["rows_processed"],
            transform["rows_quarantined"],
        )
        assert snap.total_rows == snap.added_rows == _lake_count(layout, table) == _iceberg_rows(layout, table)
    fact = iceberg.history(layout, "sales_fact").snapshots[0]
    assert fact.total_rows == transform["rows_processed"]
    assert fact.added_files == len([m for m in journal["moves"] if m.startswith("processed/sales_fact/")])


def test_partition_columns_come_from_the_folders_and_metadata_stays_out_of_the_zone(
    shared_processed_lake: LakeLayout,
) -> None:
    from pyiceberg.expressions import EqualTo

    layout = shared_processed_lake
    table = iceberg.load_table(layout, "sales_fact")
    months = table.scan(selected_fields=("year", "month")).to_arrow()
    assert months.column("year").null_count == 0 and months.column("month").null_count == 0
    # partition pruning: a month's scan plans only that month's files
    planned = list(table.scan(row_filter=EqualTo("month", 6)).plan_files())
    assert planned and all("/month=6/" in task.file.file_path for task in planned)
    june = duckdb.connect().execute(
        f"SELECT count(*) FROM ({fact_reader_sql(sorted((layout.processed / 'sales_fact').rglob('*.parquet')))}) "
        "WHERE month = 6"
    )
    assert table.scan(row_filter=EqualTo("month", 6)).to_arrow().num_rows == june.fetchone()[0]
    # the processed zone's listers never see Iceberg's metadata
    assert not list((layout.processed / "sales_fact").glob("metadata"))
    assert any((layout.processed / "sales_fact" / iceberg.METADATA_DIR).glob("*.metadata.json"))


def _add_day(layout: LakeLayout, day: date, rows: int = 500, seed_value: int = 99) -> None:
    seed(layout, SeedOptions(rows=rows, days=1, end_date=day, seed=seed_value))


def test_second_run_adds_a_snapshot_a_rerun_adds_none_and_the_first_stays_readable(processed_lake: LakeLayout) -> None:
    layout = processed_lake
    first_rows = _lake_count(layout, "sales_fact")
    _add_day(layout, END_DATE + timedelta(days=1))
    second = run_etl(layout, EtlOptions(run_ts=SECOND_TS))
    assert second.status == "completed"
    again = run_etl(layout, EtlOptions(run_ts=SECOND_TS + timedelta(hours=1)))
    assert again.status == "nothing_to_do"

    first_id, second_id = (j["run_id"] for j in journals(layout))
    assert _run_ids(layout, "sales_fact") == [first_id, second_id]
    snaps = iceberg.history(layout, "sales_fact").snapshots
    assert snaps[1].parent_id == snaps[0].snapshot_id and snaps[1].current and not snaps[0].current
    assert snaps[1].added_rows == second.rows_processed
    assert snaps[1].total_rows == first_rows + second.rows_processed == _lake_count(layout, "sales_fact")
    # time travel: the first snapshot still holds exactly the first run's rows and files
    assert _iceberg_rows(layout, "sales_fact", snaps[0].snapshot_id) == first_rows
    first_files = iceberg.snapshot_files(layout, "sales_fact", snaps[0].snapshot_id)
    assert all(second_id not in p.name for p in first_files) and all(p.is_file() for p in first_files)

    for dim in DIMENSIONS:  # a dimension's snapshot replaces its one file; the old version stays readable
        old, new = iceberg.history(layout, dim).snapshots
        assert new.operation == "overwrite" and (new.added_files, new.removed_files) == (1, 1)
        assert new.total_rows == _lake_count(layout, dim)
        assert _iceberg_rows(layout, dim, old.snapshot_id) == old.total_rows
        (old_file,) = iceberg.snapshot_files(layout, dim, old.snapshot_id)
        (new_file,) = iceberg.snapshot_files(layout, dim)
        assert old_file != new_file and old_file.is_file()


def test_committing_a_run_again_adds_nothing(processed_lake: LakeLayout) -> None:
    (journal,) = journals(processed_lake)
    assert commit_iceberg(processed_lake, journal) == []
    for table in TABLES:
        assert len(iceberg.history(processed_lake, table).snapshots) == 1


def _run_and_die_at(root: str, point: str) -> None:  # a child process: run-etl, killed at `point`
    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "before_the_first_commit":
        iceberg_tables.commit_files = lambda *args, **kwargs: die()  # type: ignore[assignment]
    elif point == "metadata_written_pointer_not_swapped":
        from pyiceberg.catalog import MetastoreCatalog

        real_write = MetastoreCatalog._write_metadata

        def write_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            real_write(*args, **kwargs)
            die()

        MetastoreCatalog._write_metadata = staticmethod(write_then_die)  # type: ignore[method-assign]
    elif point == "between_table_commits":
        real_commit = iceberg_tables.commit_files

        def commit_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            real_commit(*args, **kwargs)
            die()

        iceberg_tables.commit_files = commit_then_die  # type: ignore[assignment]
    elif point == "after_every_commit":
        real_run = iceberg.commit_run

        def commit_all_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            real_run(*args, **kwargs)
            die()

        iceberg.commit_run = commit_all_then_die  # type: ignore[assignment]
    run_etl(LakeLayout(Path(root)), EtlOptions(run_ts=RUN_TS))


# where the kill lands -> (is the run in sales_fact, is it in sales_quarantine) right after it
KILL_POINTS = {
    "before_the_first_commit": (False, False),
    "metadata_written_pointer_not_swapped": (False, False),
    "between_table_commits": (True, False),
    "after_every_commit": (True, True),
}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_a_run_killed_in_its_iceberg_commits_leaves_each_table_before_or_after_and_the_next_finishes_it(
    lake: LakeLayout, point: str
) -> None:
    seed(lake, SeedOptions(rows=2_000, days=5, end_date=END_DATE, error_rate=0.01))
    child = multiprocessing.get_context("fork").Process(target=_run_and_die_at, args=(str(lake.root), point))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    (journal,) = journals(lake)
    run_id = journal["run_id"]
    assert journal["status"] == "committing"  # every point lies after the files were journaled and moved
    in_facts, in_quarantine = KILL_POINTS[point]
    assert _run_ids(lake, "sales_fact") == ([run_id] if in_facts else [])
    assert _run_ids(lake, "sales_quarantine") == ([run_id] if in_quarantine else [])
    if not in_facts:  # the table is at its previous state: a reader sees no row of the run
        with pytest.raises(LakeNotFoundError):
            make_target(lake.root).query_engine("lake")

    summary = run_etl(lake, EtlOptions(run_ts=RUN_TS))
    assert summary.recovered
    if in_facts:  # its sales_fact snapshot exists: committed, rolled forward, nothing left to do
        assert summary.status == "nothing_to_do"
        final = run_id
    else:  # no snapshot: never committed, rolled back (files taken out again), the raw files processed anew
        assert summary.status == "completed" and summary.run_id != run_id
        assert {j["run_id"]: j["status"] for j in journals(lake)}[run_id] == "abandoned"
        final = summary.run_id
    for table in TABLES:
        assert _run_ids(lake, table) == [final]  # each table committed once: nothing lost, nothing doubled
    facts, quarantined = _iceberg_rows(lake, "sales_fact"), _iceberg_rows(lake, "sales_quarantine")
    assert facts + quarantined == 2_000
    assert facts == _lake_count(lake, "sales_fact") == journal["transform"]["rows_processed"]
    on_disk = {p for p in (lake.processed / "sales_fact").rglob("*.parquet") if "_iceberg" not in str(p)}
    assert on_disk == set(iceberg.snapshot_files(lake, "sales_fact"))  # no uncommitted file left behind
    from datalake.targets.local.warehouse import table_counts

    assert table_counts(lake)["sales_fact_redshift"] == facts


def test_a_run_killed_before_its_commit_point_puts_each_dimension_back_to_its_committed_version(
    processed_lake: LakeLayout,
) -> None:
    layout = processed_lake
    committed = {dim: iceberg.committed_file(layout, dim) for dim in DIMENSIONS}
    _add_day(layout, END_DATE + timedelta(days=1))
    child = multiprocessing.get_context("fork").Process(
        target=_run_and_die_at, args=(str(layout.root), "before_the_first_commit")
    )
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    published = {dim: layout.processed / dim / f"{dim}.parquet" for dim in DIMENSIONS}
    assert not any(published[d].samefile(committed[d]) for d in DIMENSIONS)  # the new versions were moved in

    from datalake.targets.local.etl.run import run_journal

    (line,) = run_journal(layout).recover()
    assert "rolled back" in line
    for dim in DIMENSIONS:
        assert published[dim].samefile(committed[dim])  # the version the table's snapshot names
    assert _run_ids(layout, "sales_fact") == [j["run_id"] for j in journals(layout) if j["status"] == "loaded"]


def test_a_lake_published_before_iceberg_is_migrated_without_rewriting(processed_lake: LakeLayout) -> None:
    layout = processed_lake
    # the lake as the previous version left it: the same files, no Iceberg catalog or metadata
    iceberg.catalog_file(layout).unlink()
    for table in iceberg.table_defs().values():
        shutil.rmtree(iceberg.location(layout, table) / iceberg.METADATA_DIR, ignore_errors=True)
        shutil.rmtree(iceberg.location(layout, table) / iceberg.DIMENSION_DATA_DIR, ignore_errors=True)
    before_rows = _lake_count(layout, "sales_fact")
    before = {p: p.stat().st_mtime_ns for p in (layout.processed / "sales_fact").rglob("*.parquet")}

    _add_day(layout, END_DATE + timedelta(days=1))
    second = run_etl(layout, EtlOptions(run_ts=SECOND_TS))
    snaps = iceberg.history(layout, "sales_fact").snapshots
    assert [(s.migrated, s.run_id) for s in snaps] == [(True, None), (False, second.run_id)]
    assert snaps[0].total_rows == before_rows and snaps[0].added_files == len(before)
    assert snaps[1].total_rows == before_rows + second.rows_processed == _lake_count(layout, "sales_fact")
    assert {p: p.stat().st_mtime_ns for p in before} == before  # registered, not rewritten
    quarantine = iceberg.history(layout, "sales_quarantine").snapshots
    assert quarantine[0].migrated and _iceberg_rows(layout, "sales_quarantine") == _lake_count(
        layout, "sales_quarantine"
    )


def test_history_of_an_unknown_table_names_the_tables(lake: LakeLayout) -> None:
    from datalake.errors import DatalakeError

    with pytest.raises(DatalakeError, match="no table 'nope'") as err:
        iceberg.history(lake, "nope")
    assert "sales_fact" in (err.value.hint or "")


def _commit_many(root: str, writer: int, runs: int, barrier: object, no_pyiceberg_retries: bool) -> None:
    """A child process: commit `runs` runs, each a fact file and a new version of `customers`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    layout = LakeLayout(Path(root))
    if no_pyiceberg_retries:  # every lost race reaches our own retry, not pyiceberg's
        iceberg_tables.COMMIT_ATTEMPTS = 40
    files = []
    for i in range(runs):
        fact = layout.processed / "sales_fact" / "year=2026" / "month=6" / f"w{writer}-{i}.parquet"
        dim = layout.processed / "customers" / "versions" / f"customers-w{writer}-{i}.parquet"
        for path in (fact, dim):
            path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"sale_id": pa.array([writer * 1000 + i, writer * 1000 + i + 500], pa.int64())}), fact)
        pq.write_table(pa.table({"customer_id": pa.array([writer * 1000 + i], pa.int64())}), dim)
        files.append((fact, dim))
    barrier.wait()  # type: ignore[attr-defined]
    for i, (fact, dim) in enumerate(files):
        iceberg.commit_run(layout, f"run-w{writer}-{i}", {"sales_fact": [fact], "customers": [dim]}, {"rows_in": 2})


@pytest.mark.parametrize("no_pyiceberg_retries", [False, True])
def test_two_writers_committing_at_once_both_land(lake: LakeLayout, no_pyiceberg_retries: bool) -> None:
    if no_pyiceberg_retries:
        for name in ("sales_fact", "customers"):
            with iceberg.load_table(lake, name, iceberg.open_catalog(lake)).transaction() as tx:
                tx.set_properties({"commit.retry.num-retries": "0"})
    runs = 6
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    writers = [
        ctx.Process(target=_commit_many, args=(str(lake.root), w, runs, barrier, no_pyiceberg_retries)) for w in (1, 2)
    ]
    for proc in writers:
        proc.start()
    for proc in writers:
        proc.join(120)
    assert [proc.exitcode for proc in writers] == [0, 0]
    expected = {f"run-w{w}-{i}" for w in (1, 2) for i in range(runs)}
    facts = iceberg.history(lake, "sales_fact").snapshots
    assert sorted(s.run_id for s in facts) == sorted(expected)  # each run once: none lost, none doubled
    assert facts[-1].total_rows == _iceberg_rows(lake, "sales_fact") == 2 * 2 * runs
    customers = iceberg.history(lake, "customers").snapshots
    assert sorted(s.run_id for s in customers) == sorted(expected)
    assert all(s.total_rows == 1 for s in customers)  # never two versions of the dimension at once
    assert len(iceberg.snapshot_files(lake, "customers")) == 1


def test_the_lake_engine_answers_from_the_current_snapshot_not_the_folders(processed_lake: LakeLayout) -> None:
    before = _lake_count(processed_lake, "sales_fact")
    # a file no snapshot names (a writer's leftover, an orphan): a listing would read it, the snapshot does not
    victim = next((processed_lake.processed / "sales_fact").rglob("*.parquet"))
    shutil.copy(victim, victim.with_name("orphan.parquet"))
    assert _lake_count(processed_lake, "sales_fact") == before == _iceberg_rows(processed_lake, "sales_fact")


def test_status_validate_cost_and_report_read_the_tables_through_iceberg(processed_lake: LakeLayout) -> None:
    from datalake.report.gather import gather
    from datalake.report.html import render_html
    from datalake.targets.local.usage import measure

    target = make_target(processed_lake.root)
    rows = _lake_count(processed_lake, "sales_fact")
    (run_id,) = _run_ids(processed_lake, "sales_fact")
    facts = iceberg.snapshot_files(processed_lake, "sales_fact")
    # a file no snapshot names: the folders grow, the table does not
    victim = facts[0]
    shutil.copy(victim, victim.with_name("orphan.parquet"))

    record = next(t for t in target.status().tables if t["table"] == "sales_fact")
    assert record["format"] == "iceberg" and record["snapshots"] == 1
    assert record["rows"] == rows and record["files"] == len(facts)
    assert record["bytes"] == sum(p.stat().st_size for p in facts)

    report = target.validate()
    assert report.ok, [c for c in report.checks if c.status == "fail"]
    consistent = next(c for c in report.checks if c.name == "iceberg_tables_consistent")
    assert consistent.status == "pass" and consistent.observed["sales_fact"]["rows"] == rows
    assert measure(processed_lake).sales_fact_bytes == record["bytes"]

    page, _ = render_html(gather(target))
    assert "Snapshots of sales_fact" in page and run_id in page

    victim.unlink()  # a file the current snapshot names is gone: validate says so, naming the table
    consistent = next(c for c in target.validate().checks if c.name == "iceberg_tables_consistent")
    assert consistent.status == "fail" and "sales_fact: 1 file(s) of the current snapshot missing" in consistent.detail


def _as_of_count(layout: LakeLayout, as_of: str, table: str = "sales_fact") -> int:
    with make_target(layout.root).time_travel(as_of) as engine:
        return int(engine.execute(f"SELECT count(*) FROM {table}").rows[0][0])


def test_as_of_a_snapshot_or_a_time_reads_the_lake_as_that_run_left_it(processed_lake: LakeLayout) -> None:
    from datalake.errors import UsageError

    layout = processed_lake
    first = {t: _lake_count(layout, t) for t in ("sales_fact", "sales_quarantine", "customers")}
    _add_day(layout, END_DATE + timedelta(days=1))
    run_etl(layout, EtlOptions(run_ts=SECOND_TS))
    old, new = iceberg.history(layout, "sales_fact").snapshots
    assert _lake_count(layout, "sales_fact") > first["sales_fact"]

    # by id: every run-etl table as the first run left it, the quarantine and dimensions included
    for table, rows in first.items():
        assert _as_of_count(layout, str(old.snapshot_id), table) == rows
    assert _as_of_count(layout, str(new.snapshot_id)) == _lake_count(layout, "sales_fact")
    # by time: the last snapshot committed at or before it; a naive time is UTC
    assert _as_of_count(layout, old.committed_at) == first["sales_fact"]
    assert _as_of_count(layout, new.committed_at.replace("+00:00", "Z")) == _lake_count(layout, "sales_fact")
    assert _as_of_count(layout, old.committed_at.replace("+00:00", "")) == first["sales_fact"]

    with pytest.raises(UsageError, match="no snapshot with that id"):
        _as_of_count(layout, "12345")
    with pytest.raises(UsageError, match="no snapshot yet at that time"):
        _as_of_count(layout, "2000-01-01T00:00:00")
    with pytest.raises(UsageError, match="snapshot id or an ISO timestamp"):
        _as_of_count(layout, "yesterday")
    with pytest.raises(UsageError, match="the warehouse engine has none"):
        make_target(layout.root).time_travel(str(old.snapshot_id), "warehouse")


def test_a_lake_copied_elsewhere_is_refused_in_one_line_and_the_original_is_untouched(
    processed_lake: LakeLayout, tmp_path: Path
) -> None:
    from datalake.errors import DatalakeError

    moved = LakeLayout(tmp_path / "moved")
    shutil.copytree(processed_lake.root, moved.root)  # a plain copy: its catalog still names the original
    metadata = processed_lake.processed / "sales_fact" / iceberg.METADATA_DIR
    before = sorted(metadata.iterdir())
    _add_day(moved, END_DATE + timedelta(days=1))
    with pytest.raises(DatalakeError, match="the lake was moved or copied from there"):
        run_etl(moved, EtlOptions(run_ts=SECOND_TS))
    with pytest.raises(DatalakeError, match="moved or copied"):
        make_target(moved.root).query_engine("lake")
    assert sorted(metadata.iterdir()) == before  # nothing written into the original's tables
    assert not journals(moved)[1:]  # and the copy started no run


def test_a_relative_lake_root_gives_absolute_table_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    layout = LakeLayout(Path("lake"))
    layout.state.mkdir(parents=True)
    table = iceberg.ensure_tables(layout)["sales_fact"]
    assert table.location() == f"file://{tmp_path}/lake/processed/sales_fact"
    assert iceberg.catalog_properties(layout)["uri"] == f"sqlite:///{tmp_path}/lake/_state/iceberg.db"


def _deploy_at_barrier(root: str, barrier: object) -> None:  # a child process
    barrier.wait()  # type: ignore[attr-defined]
    make_target(Path(root)).deploy()


def test_deploys_racing_on_a_fresh_lake_all_succeed_and_make_each_table_once(tmp_path: Path) -> None:
    """deploy takes no lake lock, but creates the catalog and the tables: racing, they must all land."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    root = tmp_path / "lake"
    children = [ctx.Process(target=_deploy_at_barrier, args=(str(root), barrier)) for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [c.exitcode for c in children] == [0, 0, 0, 0]
    catalog = iceberg.open_reader(LakeLayout(root))
    assert sorted(t[-1] for t in catalog.list_tables(iceberg.NAMESPACE)) == sorted(TABLES)
    for name in TABLES:
        assert iceberg.history(LakeLayout(root), name).snapshots == []
