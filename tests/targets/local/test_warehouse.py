"""Ingested tables load through the warehouse's one transaction skeleton: once per ingest, schema kept up."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datalake.layout import LakeLayout
from datalake.targets.local import warehouse


def _rows(layout: LakeLayout, sql: str) -> list[tuple[object, ...]]:
    con = warehouse.connect(layout)
    try:
        return [tuple(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def test_an_ingest_is_loaded_once_and_later_ones_add_and_widen_columns(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path)
    first = "SELECT * FROM (VALUES (1, 'x'), (2, 'y')) AS t(id, v)"
    assert warehouse.load_table(layout, "i1", "t", [("id", "INTEGER"), ("v", "VARCHAR")], first) == 2
    assert warehouse.load_table(layout, "i1", "t", [("id", "INTEGER"), ("v", "VARCHAR")], first) == 0  # again: nothing
    later = "SELECT CAST(3 AS BIGINT) AS id, 'z' AS v, 1.5 AS w"
    cols = [("id", "BIGINT"), ("v", "VARCHAR"), ("w", "DECIMAL(2,1)")]
    assert warehouse.load_table(layout, "i2", "t", cols, later) == 1
    assert warehouse.load_table(layout, "i3", "t", cols, None) == 0  # an ingest without rows is still recorded
    assert _rows(layout, "SELECT id, v, w FROM t ORDER BY id") == [(1, "x", None), (2, "y", None), (3, "z", 1.5)]
    types = dict(_rows(layout, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't'"))
    assert types == {"id": "BIGINT", "v": "VARCHAR", "w": "DECIMAL(2,1)"}
    ledger = "SELECT ingest_id, table_name, rows FROM _ingest_loads ORDER BY 1"
    assert _rows(layout, ledger) == [("i1", "t", 2), ("i2", "t", 1), ("i3", "t", 0)]
    assert "sales_fact_redshift" not in warehouse.table_counts(layout)  # an ingest adds no sales tables


def test_a_failed_load_leaves_neither_rows_nor_a_ledger_entry(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path)
    warehouse.load_table(layout, "i1", "t", [("id", "INTEGER")], "SELECT 1 AS id")
    with pytest.raises(duckdb.ConversionException):
        warehouse.load_table(layout, "i2", "t", [("id", "INTEGER")], "SELECT 'not a number' AS id")
    assert _rows(layout, "SELECT id FROM t") == [(1,)]
    assert _rows(layout, "SELECT ingest_id FROM _ingest_loads") == [("i1",)]
    assert warehouse.load_table(layout, "i2", "t", [("id", "INTEGER")], "SELECT 2 AS id") == 1  # retried: loads


def _hold_generation(root: str, opened: object, go: object) -> None:  # a child: a reader of one generation
    snap = warehouse.open_snapshot(LakeLayout(Path(root)))
    opened.set()  # type: ignore[attr-defined]
    go.wait(60)  # type: ignore[attr-defined]
    snap.con.close()


def test_equal_loads_are_merged_and_a_merged_segment_goes_once_no_reader_holds_it(tmp_path: Path) -> None:
    import multiprocessing

    layout = LakeLayout(tmp_path)
    rows = "SELECT * FROM range(1000) t(id)"
    warehouse.load_table(layout, "i1", "t", [("id", "BIGINT")], rows)
    first = {s.file for s in warehouse.current(layout).segments}
    ctx = multiprocessing.get_context("fork")
    opened, go = ctx.Event(), ctx.Event()
    reader = ctx.Process(target=_hold_generation, args=(str(layout.root), opened, go))
    reader.start()
    try:
        assert opened.wait(30)
        warehouse.load_table(layout, "i2", "t", [("id", "BIGINT")], rows)  # as big as the last: merged with it
        gen = warehouse.current(layout)
        assert len(gen.segments) == 1 and not first & {s.file for s in gen.segments}
        held = warehouse.segments_dir(layout) / next(iter(first))
        assert held.is_file()  # merged away, but a reader holds it
    finally:
        go.set()
        reader.join(30)
    warehouse.load_table(layout, "i3", "t", [("id", "BIGINT")], "SELECT 1 AS id")
    assert not held.exists()  # the next load finds it free
    assert _rows(layout, "SELECT count(*), count(DISTINCT id) FROM t") == [(2001, 1000)]
    assert _rows(layout, "SELECT ingest_id FROM _ingest_loads ORDER BY 1") == [("i1",), ("i2",), ("i3",)]


def test_a_warehouse_of_one_file_is_read_and_then_adopted_without_loading_anything_twice(tmp_path: Path) -> None:
    from datalake.domain.duckdb_sql import connect

    layout = LakeLayout(tmp_path)
    warehouse.load_table(layout, "i1", "t", [("id", "BIGINT")], "SELECT * FROM range(10) r(id)")
    # the same tables in one warehouse.duckdb, as a lake from before generations has them
    (segment,) = warehouse.segment_paths(layout, warehouse.current(layout))
    con = connect(layout.warehouse_db)
    con.execute(f"ATTACH '{segment}' AS old (READ_ONLY)")
    con.execute("CREATE TABLE t AS SELECT * FROM old.t")
    con.execute("CREATE TABLE _ingest_loads AS SELECT * FROM old._ingest_loads")
    con.close()
    warehouse.pointer_file(layout).unlink()
    segment.unlink()
    assert _rows(layout, "SELECT count(*) FROM t") == [(10,)]  # read as it is
    assert warehouse.load_table(layout, "i1", "t", [("id", "BIGINT")], "SELECT 1 AS id") == 0  # known: adopted
    assert warehouse.load_table(layout, "i2", "t", [("id", "BIGINT")], "SELECT 1 AS id") == 1
    assert not layout.warehouse_db.exists()
    assert _rows(layout, "SELECT count(*) FROM t") == [(11,)]


def test_deploy_never_replaces_a_loaded_generation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = LakeLayout(tmp_path)
    warehouse.load_table(layout, "i1", "t", [("id", "BIGINT")], "SELECT 1 AS id")
    loaded = warehouse.current(layout)
    warehouse.create(layout)
    monkeypatch.setattr(warehouse, "current", lambda layout: None)  # a load switched in just after deploy looked
    warehouse.create(layout)
    monkeypatch.undo()
    assert warehouse.current(layout) == loaded
    assert {p.name for p in warehouse.segments_dir(layout).iterdir()} == {s.file for s in loaded.segments}
    assert not list(layout.warehouse_dir.glob(".*.tmp"))
