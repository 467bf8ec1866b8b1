"""`datalake maintain` on the local lake: compaction, expiry, orphan removal, dry run, kill -9, and run-etl after."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datalake.domain import iceberg_tables
from datalake.domain.seed import seed
from datalake.domain.sql import anchor_dates
from datalake.domain.table_care import MaintainOptions
from datalake.errors import DatalakeError, UsageError
from datalake.layout import LakeLayout
from datalake.measure.benchmark.queries import load_queries
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local import iceberg
from datalake.targets.local import maintain as maintain_module
from datalake.targets.local.etl.run import journals, run_etl, run_files
from datalake.targets.local.maintain import journal_file, maintain
from datalake.targets.local.validate import validate
from datalake.targets.local.warehouse import fact_reader_sql
from tests.conftest import RUN_TS, make_target

RUNS = 4
HOUR = 3600.0
# compaction only: keep every snapshot and every unreferenced file (the defaults keep 7 days and 1 hour)
COMPACT_ONLY = MaintainOptions(expire_older_than=30 * 86400, orphan_min_age=HOUR)
EVERYTHING = MaintainOptions(expire_older_than=0, orphan_min_age=0)


def _small_runs(root: Path, runs: int = RUNS) -> LakeLayout:
    """A lake built by `runs` small seed + run-etl rounds, each adding a few days to June and July."""
    target = make_target(root)
    target.deploy()
    for i in range(runs):
        seed(target.layout, SeedOptions(rows=1_500, days=6, end_date=date(2026, 7, 2 + 7 * i), seed=100 + i))
        run_etl(target.layout, EtlOptions(run_ts=RUN_TS + timedelta(days=30, hours=i)))
    return target.layout


@pytest.fixture(scope="module")
def _small_runs_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small-runs") / "lake"
    _small_runs(root)
    return root


@pytest.fixture
def runs_lake(_small_runs_template: Path, tmp_path: Path) -> LakeLayout:
    """A private copy of a lake of RUNS small runs (one snapshot per run and table).

    As conftest's `copy_lake`, but each run is committed again without the migration of files already on
    disk: `copy_lake` recommits through run-etl's path, which registers every other run's files as
    migrated on the first commit, and then again with their own runs (fine for its one-run lakes).
    """
    shutil.copytree(_small_runs_template, tmp_path / "lake")
    layout = LakeLayout(tmp_path / "lake")
    iceberg.catalog_file(layout).unlink()
    for table in iceberg.table_defs().values():
        shutil.rmtree(iceberg.location(layout, table) / iceberg.METADATA_DIR)
        shutil.rmtree(iceberg.location(layout, table) / iceberg.DIMENSION_DATA_DIR, ignore_errors=True)
    iceberg.ensure_tables(layout)
    for journal in journals(layout):
        iceberg.commit_run(layout, journal["run_id"], run_files(layout, journal), journal["transform"])
    return layout


def _fact_files(layout: LakeLayout) -> list[Path]:
    return iceberg.snapshot_files(layout, iceberg.FACT)


def _answers(layout: LakeLayout) -> dict[str, list[Any]]:
    """The lake engine's answers to the benchmark queries, CURRENT_DATE anchored on the lake's last sale."""
    with make_target(layout.root).query_engine("lake") as engine:
        last = engine.execute("SELECT max(sale_date) FROM sales_fact").rows[0][0]
        answers = {}
        for query in load_queries():
            rows = engine.execute(anchor_dates(query.sql, last.isoformat())).rows
            answers[query.name] = rows if query.ordered else sorted(rows, key=repr)
        return answers


def _same_rows(old: list[Path], new: list[Path]) -> bool:
    """The two file sets hold exactly the same rows, as a multiset (no checksum involved)."""
    con = duckdb.connect()
    a, b = fact_reader_sql(old), fact_reader_sql(new)
    return bool(
        con.execute(
            f"SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b})) + (SELECT count(*) FROM ({b} EXCEPT ALL {a}))"
        ).fetchone()[0]
        == 0
        and con.execute(f"SELECT count(*) FROM ({a})").fetchone()[0] > 0
    )


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file below the root with its mtime (ns) and size."""
    found = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            st = os.stat(os.path.join(dirpath, name))
            found[os.path.relpath(os.path.join(dirpath, name), root)] = (st.st_mtime_ns, st.st_size)
    return found


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _age_everything(layout: LakeLayout, seconds: float = 2 * HOUR) -> None:
    for dirpath, _, filenames in os.walk(layout.root):
        for name in filenames:
            _age(Path(dirpath) / name, seconds)


# ---------------------------------------------------------------------------------------- compaction


def test_compaction_of_several_small_runs_keeps_rows_answers_and_validation(runs_lake: LakeLayout) -> None:
    layout = runs_lake
    before = _fact_files(layout)
    months = {p.parent for p in before}
    assert len(before) > len(months)  # several runs wrote into the same months
    answers = _answers(layout)
    snapshots = len(iceberg.history(layout, iceberg.FACT).snapshots)

    result = maintain(layout, COMPACT_ONLY)

    (facts,) = [t for t in result.tables if t.table == iceberg.FACT]
    after = _fact_files(layout)
    assert (facts.files_before, facts.files_after) == (len(before), len(after)) and len(after) == len(months)
    assert {p.parent for p in after} == months  # the same Hive partition folders
    crowded = {m for m in months if sum(p.parent == m for p in before) > 1}
    assert crowded and {p.parent for p in after if p.name.startswith(f"compacted-{result.maintenance_id}-")} == crowded
    assert facts.partitions_compacted == len(crowded)
    assert facts.check is not None and facts.check.equal and result.ok
    assert facts.check.rows_before == facts.check.rows_after == _lake_rows(layout)
    assert _same_rows(before, after)  # independently of our checksum
    assert _answers(layout) == answers
    assert validate(layout).ok
    # one overwrite snapshot removing the old files and adding the new; nothing expired, the old files kept
    history = iceberg.history(layout, iceberg.FACT).snapshots
    assert len(history) == snapshots + 1 and history[-1].operation == "overwrite"
    assert (history[-1].removed_files, history[-1].added_files) == (facts.files_rewritten, facts.files_written)
    assert facts.files_written == len(crowded) and facts.files_rewritten == len(before) - (len(months) - len(crowded))
    assert history[-1].snapshot_id == facts.compaction_snapshot and facts.snapshots_expired == 0
    assert all(p.is_file() for p in before)
    # time travel still reads the last run's snapshot from the old files
    with make_target(layout.root).time_travel(str(history[-2].snapshot_id)) as engine:
        assert engine.execute("SELECT count(*) FROM sales_fact").rows[0][0] == facts.check.rows_before
    # the new files are zstd Parquet sorted as the engines write them
    con = duckdb.connect()
    for path in after:
        codecs = {r[0] for r in con.execute(f"SELECT compression FROM parquet_metadata('{path}')").fetchall()}
        assert codecs == {"ZSTD"}
        keys = con.execute(f"SELECT sale_date, region, sale_id FROM read_parquet('{path}')").fetchall()
        assert keys == sorted(keys)
    # again: nothing left to compact
    again = maintain(layout, COMPACT_ONLY)
    assert all(t.files_rewritten == 0 and t.check is None for t in again.tables)
    assert len(iceberg.history(layout, iceberg.FACT).snapshots) == snapshots + 1


def _lake_rows(layout: LakeLayout) -> int:
    with make_target(layout.root).query_engine("lake") as engine:
        return int(engine.execute("SELECT count(*) FROM sales_fact").rows[0][0])


def test_a_compaction_that_would_change_the_rows_is_not_committed(
    runs_lake: LakeLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = runs_lake
    snapshots = len(iceberg.history(layout, iceberg.FACT).snapshots)
    real = maintain_module._rewrite

    def lossy(con: Any, sources: list[Path], targets: list[Path], key: tuple[str, ...]) -> None:
        real(con, sources, targets, key)
        for target in targets:  # drop a row from what was written
            con.execute(f"COPY (SELECT * FROM read_parquet('{target}') OFFSET 1) TO '{target}.x' (FORMAT parquet)")
            os.replace(f"{target}.x", target)

    monkeypatch.setattr(maintain_module, "_rewrite", lossy)
    with pytest.raises(DatalakeError, match="would change it"):
        maintain(layout, COMPACT_ONLY)
    assert len(iceberg.history(layout, iceberg.FACT).snapshots) == snapshots
    assert not list((layout.processed / "sales_fact").rglob("compacted-*"))
    assert validate(layout).ok


# ---------------------------------------------------------------------------------------- expiry and orphans


def test_expiry_keeps_the_last_snapshot_and_orphan_removal_takes_what_no_snapshot_needs(runs_lake: LakeLayout) -> None:
    layout = runs_lake
    old_facts = _fact_files(layout)
    answers = _answers(layout)
    link_dir = layout.processed / "customers" / iceberg.DIMENSION_DATA_DIR
    assert len(list(link_dir.iterdir())) == RUNS

    result = maintain(layout, EVERYTHING)

    for name in iceberg.table_defs():
        (snap,) = iceberg.history(layout, name).snapshots  # history shows what remains: the current one
        assert snap.current
        t = next(t for t in result.tables if t.table == name)
        compacted = t.compaction_snapshot is not None  # its snapshot is the last, the run's are expired too
        assert t.snapshots_after == 1 and t.snapshots_expired == t.snapshots_before - 1 + compacted
        table = iceberg.load_table(layout, name)
        live = iceberg.referenced_paths(table)
        assert all(p.is_file() for p in live)  # nothing a live snapshot names was taken
        # and nothing is left below the location that no snapshot names (the published dimension file aside)
        where = iceberg.location(layout, iceberg.table_defs()[name])
        on_disk = {p for p in where.rglob("*") if p.is_file()}
        published = {where / f"{name}.parquet"} if name in ("customers", "products", "stores") else set()
        assert on_disk - live == published
    replaced = set(old_facts) - set(_fact_files(layout))
    assert replaced and not any(p.exists() for p in replaced)
    assert len(list(link_dir.iterdir())) == 1
    for dim in ("customers", "products", "stores"):
        assert (layout.processed / dim / f"{dim}.parquet").is_file()
    facts = next(t for t in result.tables if t.table == iceberg.FACT)
    assert facts.orphans_removed >= len(old_facts) and facts.orphan_bytes > 0
    assert facts.disk_files_after < facts.disk_files_before
    assert _answers(layout) == answers
    assert validate(layout).ok
    # another maintain finds nothing more to do
    again = maintain(layout, EVERYTHING)
    assert all(t.orphans_removed == 0 and t.snapshots_expired == 0 for t in again.tables)


def test_orphan_removal_never_takes_a_file_younger_than_the_window(runs_lake: LakeLayout) -> None:
    layout = runs_lake
    old_facts = _fact_files(layout)
    _age_everything(layout)
    stray = layout.processed / "sales_fact" / "year=2026" / "month=7" / "part-from-a-writer-just-now.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS sale_id) TO '{stray}' (FORMAT parquet)")
    old_stray = stray.with_name("part-left-by-a-crash-long-ago.parquet")
    duckdb.connect().execute(f"COPY (SELECT 1 AS sale_id) TO '{old_stray}' (FORMAT parquet)")
    _age(old_stray, 2 * HOUR)

    result = maintain(layout, MaintainOptions(expire_older_than=0, orphan_min_age=HOUR))

    facts = next(t for t in result.tables if t.table == iceberg.FACT)
    assert stray.is_file() and not old_stray.exists()
    assert facts.orphans_too_young >= 1  # the fresh stray (and the metadata this maintain wrote and replaced)
    replaced = set(old_facts) - set(_fact_files(layout))
    assert replaced and not any(p.exists() for p in replaced)  # the files compaction replaced were old enough
    assert str(old_stray.relative_to(layout.root)) in facts.orphan_files
    assert str(stray.relative_to(layout.root)) not in facts.orphan_files


def test_default_retention_expires_nothing_recent(runs_lake: LakeLayout) -> None:
    layout = runs_lake
    counts = {name: len(iceberg.history(layout, name).snapshots) for name in iceberg.table_defs()}
    result = maintain(layout, MaintainOptions())
    assert all(t.snapshots_expired == 0 and t.orphans_removed == 0 for t in result.tables)
    assert counts[iceberg.FACT] + 1 == len(iceberg.history(layout, iceberg.FACT).snapshots)
    assert validate(layout).ok


# ---------------------------------------------------------------------------------------- dry run


def test_dry_run_changes_nothing_and_says_what_it_would_do(runs_lake: LakeLayout) -> None:
    layout = runs_lake
    _age_everything(layout)
    tree = _tree(layout.root)
    catalog = iceberg.catalog_file(layout).read_bytes()

    result = maintain(layout, MaintainOptions(dry_run=True, expire_older_than=0, orphan_min_age=0))

    assert _tree(layout.root) == tree and iceberg.catalog_file(layout).read_bytes() == catalog
    facts = next(t for t in result.tables if t.table == iceberg.FACT)
    assert facts.files_rewritten > facts.files_written > 0 and facts.files_after < facts.files_before
    assert facts.files_after == facts.files_before - facts.files_rewritten + facts.files_written
    assert facts.snapshots_expired == facts.snapshots_before - 1 and facts.orphans_removed > 0
    # what it said it would remove, a real run removes; the real run also removes what its own commits made
    # unreachable: the metadata file that was current before, and for the compacted table the files and
    # manifests of the snapshot that was current (the dry run never expires the current one)
    real = maintain(layout, EVERYTHING)
    for said, did in zip(result.tables, real.tables, strict=True):
        assert set(said.orphan_files) <= set(did.orphan_files)
        extra = set(did.orphan_files) - set(said.orphan_files)
        assert all(f.endswith(".metadata.json") for f in extra) or did.compaction_snapshot is not None
        assert said.snapshots_expired == did.snapshots_expired - (did.compaction_snapshot is not None)


# ---------------------------------------------------------------------------------------- kill -9


def _maintain_and_die_at(root: str, point: str) -> None:  # a child process: maintain, killed at `point`
    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    layout = LakeLayout(Path(root))
    if point == "files_written_before_commit":
        iceberg_tables.commit_files = lambda *a, **k: die()  # type: ignore[assignment]
    elif point == "after_commit_before_orphans":
        real = iceberg_tables.expire_snapshots

        def expire_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            real(*args, **kwargs)
            die()

        iceberg_tables.expire_snapshots = expire_then_die  # type: ignore[assignment]
    maintain(layout, EVERYTHING)


@pytest.mark.parametrize("point", ["files_written_before_commit", "after_commit_before_orphans"])
def test_maintain_killed_leaves_the_lake_readable_and_a_rerun_finishes(runs_lake: LakeLayout, point: str) -> None:
    layout = runs_lake
    answers = _answers(layout)
    rows = _lake_rows(layout)
    before = _fact_files(layout)
    child = multiprocessing.get_context("fork").Process(target=_maintain_and_die_at, args=(str(layout.root), point))
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL

    assert journal_file(layout).is_file()
    assert _lake_rows(layout) == rows and _answers(layout) == answers
    assert validate(layout).ok
    compacted_on_disk = list((layout.processed / "sales_fact").rglob("compacted-*.parquet"))
    assert compacted_on_disk  # the kill came after the files were written
    if point == "files_written_before_commit":
        assert _fact_files(layout) == before  # the commit never happened
    else:
        assert set(compacted_on_disk) <= set(_fact_files(layout)) and _fact_files(layout) != before

    result = maintain(layout, EVERYTHING)

    assert not journal_file(layout).exists()
    if point == "files_written_before_commit":
        assert result.recovered and "removed" in result.recovered[-1]
        assert not any(p.exists() for p in compacted_on_disk)  # the uncommitted files went, new ones came
    after = _fact_files(layout)
    assert len(after) == len({p.parent for p in before}) and all(p.is_file() for p in after)
    on_disk = set((layout.processed / "sales_fact").rglob("*.parquet"))
    assert on_disk == set(after)
    assert _lake_rows(layout) == rows and _answers(layout) == answers
    assert validate(layout).ok


# ---------------------------------------------------------------------------------------- with run-etl


def test_run_etl_after_maintain_adds_its_run_and_the_lake_validates(runs_lake: LakeLayout) -> None:
    layout = runs_lake
    maintain(layout, EVERYTHING)
    rows = _lake_rows(layout)
    seed(layout, SeedOptions(rows=800, days=2, end_date=date(2026, 7, 31), seed=999))
    summary = run_etl(layout, EtlOptions(run_ts=RUN_TS + timedelta(days=40)))
    assert summary.status == "completed" and summary.rows_processed > 0
    assert _lake_rows(layout) == rows + summary.rows_processed
    assert validate(layout).ok
    history = iceberg.history(layout, iceberg.FACT).snapshots
    assert [s.run_id for s in history][-1] == summary.run_id and len(history) == 2
    # and maintain compacts the new run's files into the month's file
    result = maintain(layout, EVERYTHING)
    facts = next(t for t in result.tables if t.table == iceberg.FACT)
    assert facts.files_rewritten >= 2 and facts.check is not None and facts.check.equal
    assert _lake_rows(layout) == rows + summary.rows_processed
    assert validate(layout).ok


def test_maintain_refuses_while_a_run_is_unfinished(runs_lake: LakeLayout) -> None:
    from datalake.targets.local.etl.run import run_journal

    layout = runs_lake
    record = journals(layout)[-1]
    record["status"] = "published"  # its warehouse load still reads its files
    run_journal(layout).write(record)
    with pytest.raises(DatalakeError, match="unfinished"):
        maintain(layout, EVERYTHING)
    with pytest.raises(DatalakeError, match="unfinished"):
        maintain(layout, MaintainOptions(dry_run=True))


def test_bad_options_are_one_line(runs_lake: LakeLayout) -> None:
    with pytest.raises(UsageError, match="no table 'nope'"):
        maintain(runs_lake, MaintainOptions(table="nope"))


def _maintain_slowly(root: str, started: Any) -> None:  # a child process: maintain, pausing inside the lock
    real = maintain_module._compact

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        time.sleep(3)
        return real(*args, **kwargs)

    maintain_module._compact = slow  # type: ignore[assignment]
    maintain(LakeLayout(Path(root)), EVERYTHING)


def test_a_run_etl_started_during_maintain_waits_for_it_and_loses_no_rows(runs_lake: LakeLayout) -> None:
    layout = runs_lake
    rows = _lake_rows(layout)
    seed(layout, SeedOptions(rows=700, days=2, end_date=date(2026, 7, 30), seed=4242))
    context = multiprocessing.get_context("fork")
    started = context.Event()
    child = context.Process(target=_maintain_slowly, args=(str(layout.root), started))
    child.start()
    assert started.wait(60)
    from datalake.errors import LockedError

    with pytest.raises(LockedError, match="locked by maintain"):
        run_etl(layout, EtlOptions(run_ts=RUN_TS + timedelta(days=41)))
    summary = run_etl(layout, EtlOptions(run_ts=RUN_TS + timedelta(days=41), wait=120))
    child.join(120)
    assert child.exitcode == 0 and summary.status == "completed" and summary.rows_processed > 0
    assert _lake_rows(layout) == rows + summary.rows_processed
    assert validate(layout).ok


def test_a_table_without_snapshots_keeps_its_files(runs_lake: LakeLayout) -> None:
    """Files published before the lake had Iceberg tables are named by no snapshot, and are not orphans."""
    layout = runs_lake
    rows = _lake_rows(layout)
    iceberg.catalog_file(layout).unlink()
    for table in iceberg.table_defs().values():
        shutil.rmtree(iceberg.location(layout, table) / iceberg.METADATA_DIR)
    iceberg.ensure_tables(layout)  # empty tables, as a lake from before Iceberg has after deploy
    facts = sorted((layout.processed / "sales_fact").rglob("*.parquet"))
    _age_everything(layout)
    result = maintain(layout, EVERYTHING)
    assert all(t.orphans_removed == 0 and t.files_rewritten == 0 for t in result.tables)
    assert sorted((layout.processed / "sales_fact").rglob("*.parquet")) == facts
    assert _lake_rows(layout) == rows
