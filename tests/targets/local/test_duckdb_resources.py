"""Every local DuckDB connection is bounded: a share of the machine's memory, and a spill folder of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from datalake.layout import LakeLayout
from datalake.targets.local import duckdb_resources
from datalake.targets.local.engines import open_local_engine
from datalake.targets.local.sandbox import lock_down

MB = 2**20


@pytest.mark.parametrize(
    ("total_gb", "limit_mb"),
    [(2, 256), (8, 256), (16, 512), (24, 768), (64, 1200), (512, 1200)],
)
def test_the_limit_is_a_share_of_the_machine_between_a_floor_and_a_ceiling(total_gb: int, limit_mb: int) -> None:
    assert duckdb_resources.memory_limit(total_gb * 2**30) == limit_mb * MB


def test_this_machine_gets_a_limit_from_its_own_memory() -> None:
    total = duckdb_resources.machine_memory()
    assert total > 0
    assert duckdb_resources.memory_limit() == duckdb_resources.memory_limit(total)


def _setting(con: Any, name: str) -> str:
    return str(con.execute("SELECT current_setting(?)", [name]).fetchone()[0])


def _limit_as_reported(limit: int) -> str:
    """How DuckDB reports a limit of `limit` bytes, from a connection opened with exactly that limit."""
    con = duckdb.connect(config={"memory_limit": f"{limit // MB}MB"})
    try:
        return _setting(con, "memory_limit")
    finally:
        con.close()


def test_each_connection_spills_below_scratch_in_a_folder_of_its_own(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    first = duckdb_resources.connect(scratch)
    second = duckdb_resources.connect(scratch, memory_limit="8GB")  # the limit is not the caller's to lift
    try:
        folders = {_setting(con, "temp_directory") for con in (first, second)}
        assert len(folders) == 2 and all(Path(f).parent == scratch for f in folders)
        expected = _limit_as_reported(duckdb_resources.memory_limit())
        assert _setting(first, "memory_limit") == _setting(second, "memory_limit") == expected
    finally:
        first.close()
        second.close()


def test_a_query_larger_than_the_limit_spills_and_the_folder_goes_with_the_connection(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    con = duckdb_resources.connect(scratch)
    con.execute("SET memory_limit = '64MB'")  # small enough that 5M distinct keys cannot be held
    con.execute("SET threads = 1")
    lock_down(con, [tmp_path])  # as the query engines are: spilling must still work
    try:
        (count,) = con.execute(
            "SELECT count(*) FROM (SELECT i, count(*) FROM range(5000000) t(i) GROUP BY i HAVING count(*) = 1)"
        ).fetchone()
        assert count == 5_000_000
        assert any(scratch.rglob("*")), "nothing was spilled"
    finally:
        con.close()
    assert list(scratch.iterdir()) == []


def test_the_query_engines_are_bounded_and_spill_below_the_lake(shared_processed_lake: LakeLayout) -> None:
    expected = _limit_as_reported(duckdb_resources.memory_limit())
    for name in ("raw", "lake", "warehouse"):
        engine = open_local_engine(shared_processed_lake, name)
        try:
            con = engine.con  # type: ignore[attr-defined]
            assert Path(_setting(con, "temp_directory")).parent == shared_processed_lake.scratch
            assert _setting(con, "memory_limit") == expected
        finally:
            engine.close()
