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
