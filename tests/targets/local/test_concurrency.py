"""Readers and writers never break each other: snapshot reads of the warehouse and the lake, one writer at a time.

Each test runs the other side in a forked process, as a second `datalake` command would.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from datalake.errors import LockedError, QueryError
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, IngestOptions, SeedOptions
from datalake.targets.local import warehouse
from datalake.targets.local.engines import open_local_engine
from datalake.targets.local.etl.run import run_etl
from datalake.targets.local.lock import lake_lock
from tests.conftest import END_DATE, RUN_TS

COUNT = "SELECT count(*) FROM sales_fact"
CTX = multiprocessing.get_context("fork")


def seed_more(layout: LakeLayout, rows: int, days: int = 5, seed: int = 11) -> None:
    """New raw sales for the next run (each seed batch has its own sale ids)."""
    from datalake.domain.seed import seed as generate

    generate(layout, SeedOptions(rows=rows, days=days, end_date=END_DATE, seed=seed, error_rate=0.01))


def _count(layout: LakeLayout, engine: str) -> int:
    with open_local_engine(layout, engine) as eng:
        return int(eng.execute(COUNT).rows[0][0])


def _hold_a_query(root: str, opened: Any, go: Any, answers: Any) -> None:  # a child: an analyst's open session
    layout = LakeLayout(Path(root))
    with open_local_engine(layout, "warehouse") as eng:
        answers.put(eng.execute(COUNT).rows[0][0])
        opened.set()
        go.wait(60)
        answers.put(eng.execute(COUNT).rows[0][0])  # the same session, after the load: its snapshot
    answers.put(_count(layout, "warehouse"))  # a new query: the new rows


def test_an_open_warehouse_query_neither_stops_a_load_nor_sees_half_of_it(processed_lake: LakeLayout) -> None:
    before = _count(processed_lake, "warehouse")
    seed_more(processed_lake, rows=500)
    opened, go, answers = CTX.Event(), CTX.Event(), CTX.Queue()
    reader = CTX.Process(target=_hold_a_query, args=(str(processed_lake.root), opened, go, answers))
    reader.start()
    try:
        assert opened.wait(60)
        summary = run_etl(processed_lake, EtlOptions(run_ts=RUN_TS))  # failed on DuckDB's file lock before
        assert summary.warehouse_rows_loaded == summary.rows_processed > 0
    finally:
        go.set()
        reader.join(60)
    assert reader.exitcode == 0
    assert [answers.get(timeout=5) for _ in range(3)] == [before, before, before + summary.rows_processed]


def _load_paused_before_the_switch(
    root: str, paused: Any, go: Any
) -> None:  # a child: run-etl, held at its commit point
    real = warehouse._switch

    def switch(layout: LakeLayout, gen: warehouse.Generation) -> None:
        paused.set()
        go.wait(60)
        real(layout, gen)

    warehouse._switch = switch  # type: ignore[assignment]
    run_etl(LakeLayout(Path(root)), EtlOptions(run_ts=RUN_TS))


def test_a_query_during_a_load_answers_from_the_last_loaded_state(processed_lake: LakeLayout) -> None:
    before = _count(processed_lake, "warehouse")
    seed_more(processed_lake, rows=500)
    paused, go = CTX.Event(), CTX.Event()
    loader = CTX.Process(target=_load_paused_before_the_switch, args=(str(processed_lake.root), paused, go))
    loader.start()
    try:
        assert paused.wait(60)  # the load has written its segment and not yet switched
        assert _count(processed_lake, "warehouse") == before  # answered, from the last loaded state
        assert _count(processed_lake, "lake") > before  # the lake's commit (publish) came first
    finally:
        go.set()
        loader.join(60)
    assert loader.exitcode == 0
    assert _count(processed_lake, "warehouse") == _count(processed_lake, "lake") > before


def _killed_in_the_switch(root: str) -> None:  # a child: run-etl killed with the next pointer written, not renamed
    def switch(layout: LakeLayout, gen: warehouse.Generation) -> None:
        half = warehouse.pointer_file(layout).with_name(".CURRENT.json.k1ll3d.tmp")  # as atomic_write_json names it
        half.write_text('{"generation": ')  # the next pointer half written, not yet renamed: then the kill
        os.kill(os.getpid(), signal.SIGKILL)

    warehouse._switch = switch  # type: ignore[assignment]
    run_etl(LakeLayout(Path(root)), EtlOptions(run_ts=RUN_TS))


def test_a_loader_killed_in_the_switch_leaves_readers_on_the_old_generation(processed_lake: LakeLayout) -> None:
    before = _count(processed_lake, "warehouse")
    seed_more(processed_lake, rows=500)
    loader = CTX.Process(target=_killed_in_the_switch, args=(str(processed_lake.root),))
    loader.start()
    loader.join(60)
    assert loader.exitcode == -signal.SIGKILL
    segments = {p.name for p in warehouse.segments_dir(processed_lake).glob("*.duckdb")}
    assert len(segments) > len(warehouse.current(processed_lake).segments)  # the new one was written, not named
    assert _count(processed_lake, "warehouse") == before  # readers stay on the old generation

    summary = run_etl(processed_lake, EtlOptions(run_ts=RUN_TS))  # the next run completes the load
    assert any("loaded into the warehouse" in line for line in summary.recovered)
    assert _count(processed_lake, "warehouse") == _count(processed_lake, "lake") > before
    left = {p.name for p in warehouse.segments_dir(processed_lake).iterdir()}
    assert left == {s.file for s in warehouse.current(processed_lake).segments}  # the orphan is gone
    assert not list(processed_lake.warehouse_dir.glob(".CURRENT.json.*"))


def _publish_half_then_die(root: str) -> None:  # a child: run-etl killed half-way through renaming its files in
    import datalake.targets.local.etl.run as etl

    def publish_half(layout: LakeLayout, journal: dict[str, Any]) -> None:
        last_fact = [rel for rel in journal["moves"] if rel.startswith("processed/sales_fact/")][-1]
        for rel in [rel for rel in journal["moves"] if rel != last_fact]:  # all but one fact file: then the kill
            (layout.root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(layout.staging / journal["run_id"] / rel, layout.root / rel)
        os.kill(os.getpid(), signal.SIGKILL)

    etl._publish = publish_half  # type: ignore[assignment]
    run_etl(LakeLayout(Path(root)), EtlOptions(run_ts=RUN_TS))


def test_a_reader_of_the_lake_never_sees_half_a_run(processed_lake: LakeLayout) -> None:
    before = _count(processed_lake, "lake")
    seed_more(processed_lake, rows=2_000, days=60)  # two months: two fact files
    child = CTX.Process(target=_publish_half_then_die, args=(str(processed_lake.root),))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    facts = list((processed_lake.processed / "sales_fact").rglob("*.parquet"))
    from datalake.targets.local.engines import published_files

    assert len(published_files(processed_lake).facts) < len(facts)  # half the run's files are in place ...
    assert _count(processed_lake, "lake") == before  # ... and no reader sees them
    run_etl(processed_lake, EtlOptions(run_ts=RUN_TS))
    assert _count(processed_lake, "lake") == _count(processed_lake, "warehouse") > before


# ----------------------------------------------------------------------------------- writers


def _hold_the_lock(root: str, purpose: str, held: Any, go: Any) -> None:  # a child: another writer
    with lake_lock(LakeLayout(Path(root)), purpose=purpose):
        held.set()
        go.wait(60)


def test_a_second_writer_fails_with_one_line_naming_the_holder(processed_lake: LakeLayout, tmp_path: Path) -> None:
    held, go = CTX.Event(), CTX.Event()
    holder = CTX.Process(target=_hold_the_lock, args=(str(processed_lake.root), "ingest orders", held, go))
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(LockedError) as info:
            run_etl(processed_lake, EtlOptions(run_ts=RUN_TS, wait=0.3))
        message = str(info.value)
        assert f"locked by ingest orders (pid {holder.pid} on " in message and ", since 20" in message
        assert "waited" in message and "\n" not in message
        assert "--wait" in str(info.value.hint)
        source = tmp_path / "orders.csv"
        source.write_text("order_id,amount\n1,2.5\n")
        with pytest.raises(LockedError, match="locked by ingest orders"):
            from datalake.targets.local.ingest.run import ingest

            ingest(processed_lake, IngestOptions(table="orders", paths=(source,)))
    finally:
        go.set()
        holder.join(30)


def _take_the_lock_and_die(root: str) -> None:  # a child: a writer killed while it holds the lake
    with lake_lock(LakeLayout(Path(root)), purpose="run-etl"):
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_stale_lock_of_a_killed_writer_is_taken_over(processed_lake: LakeLayout) -> None:
    child = CTX.Process(target=_take_the_lock_and_die, args=(str(processed_lake.root),))
    child.start()
    child.join(30)
    assert child.exitcode == -signal.SIGKILL
    assert processed_lake.lock_file.with_suffix(".owner").is_file()  # its description stayed behind
    summary = run_etl(processed_lake, EtlOptions(run_ts=RUN_TS))
    assert summary.recovered[0].startswith(f"took over the lake lock of run-etl (pid {child.pid} on ")
    assert not processed_lake.lock_file.with_suffix(".owner").exists()


# ----------------------------------------------------------------------------------- sandbox


REFUSED = {
    "COPY (SELECT 42) TO '{out}'": "COPY statements are not allowed",
    "ATTACH '{out}' AS other": "ATTACH statements are not allowed",
    "INSTALL httpfs": "INSTALL/LOAD statements are not allowed",
    "LOAD httpfs": "INSTALL/LOAD statements are not allowed",
    "SET enable_external_access = true": "SET/RESET/USE statements are not allowed",
    "SET allowed_directories = ['/']": "SET/RESET/USE statements are not allowed",
    "PRAGMA enable_profiling": "PRAGMA statements are not allowed",
    "CREATE TABLE t AS SELECT 1": "CREATE statements are not allowed",
    "SELECT * FROM read_text('/etc/hostname')": "cannot read /etc/hostname",
    "SELECT count(*) FROM read_csv('{outside}')": "cannot read {outside}",
    "SELECT 1; SELECT 2": "expected exactly one SQL statement",
}


@pytest.mark.parametrize("engine", ["lake", "raw", "warehouse"])
def test_a_query_reads_the_lake_and_nothing_else_and_writes_nothing(
    shared_processed_lake: LakeLayout, tmp_path: Path, engine: str
) -> None:
    out = tmp_path / "x.csv"
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    with open_local_engine(shared_processed_lake, engine) as eng:
        for sql, message in REFUSED.items():
            with pytest.raises(QueryError) as info:
                eng.execute(sql.format(out=out, outside=outside))
            assert message.format(outside=outside) in str(info.value), sql
            assert "\n" not in str(info.value)
        assert eng.execute(COUNT).rows[0][0] > 0  # the engine's own views still read
        with pytest.raises(QueryError, match="cannot read"):
            eng.measure(f"SELECT count(*) FROM read_csv('{outside}')")  # what benchmark measures, too
    assert not out.exists()
    lake_file = next((shared_processed_lake.processed / "sales_fact").rglob("*.parquet"))
    with open_local_engine(shared_processed_lake, "lake") as eng:  # the lake's own files may be read directly
        assert eng.execute(f"SELECT count(*) FROM read_parquet('{lake_file}')").rows[0][0] > 0
    with (
        open_local_engine(shared_processed_lake, "warehouse") as eng,
        pytest.raises(QueryError, match="DELETE statements are not allowed"),
    ):
        eng.execute("DELETE FROM sales_fact_redshift")


def test_validate_reads_through_the_same_sandbox(
    processed_lake: LakeLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    import datalake.targets.local.validate as validate_module

    facts, quarantined = validate_module._current_files(processed_lake)
    outside = tmp_path / "elsewhere.parquet"
    outside.write_bytes(facts[0].read_bytes())
    assert validate_module.validate(processed_lake).ok  # the lake's own files read

    def with_a_file_outside(layout: LakeLayout) -> Any:
        return [*facts, outside], quarantined

    monkeypatch.setattr(validate_module, "_current_files", with_a_file_outside)
    with pytest.raises(duckdb.PermissionException, match=r"elsewhere\.parquet"):
        validate_module.validate(processed_lake)


def test_an_ingest_being_published_is_not_seen_until_all_its_files_are_in(
    lake: LakeLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake.targets.local.ingest import tables as ingest_tables
    from datalake.targets.local.ingest.run import ingest, ingest_journal

    source = tmp_path / "orders.csv"
    source.write_text("order_id,amount\n1,2.5\n2,3.5\n")
    ingest(lake, IngestOptions(table="orders", paths=(source,)))
    second = tmp_path / "more.csv"
    second.write_text("order_id,amount\n3,1.0\n")

    def stopped(*args: Any, **kwargs: Any) -> bool:  # the second ingest's files are in place, not yet committed
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_tables, "commit", stopped)
    with pytest.raises(KeyboardInterrupt):
        ingest(lake, IngestOptions(table="orders", paths=(second,)))
    monkeypatch.undo()
    record = next(r for r in ingest_journal(lake).records() if r["files"] == [str(second)])
    moved = [rel for rel in record["moves"] if rel.startswith("processed/orders/")]
    assert record["status"] == "committing" and moved and all((lake.root / rel).is_file() for rel in moved)
    with open_local_engine(lake, "lake") as eng:  # the table's snapshot does not name them yet
        assert eng.execute("SELECT count(*) FROM orders").rows == [(2,)]
