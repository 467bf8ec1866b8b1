"""The local warehouse (Redshift's role): a DuckDB database file with the loaded, sorted tables.

`sales_fact_redshift` is appended to once per ETL run, in the sort key's order (sale_date, region),
a few processed partitions (months) at a time, in partition order: the same order as one big sort,
without spilling the whole run to disk. Every engine writes its fact files in that order already
(`FACT_SORT_KEY`, recorded in the run's journal), so a group whose files cover separate date ranges
(nearly always: one file per month) is appended as it is read; only files whose dates overlap, or
files of runs that do not say how they are sorted, are sorted again (a sort is 40% of a load's CPU).
All of it happens inside one transaction that also records the run in `_loads`: a load is
all-or-nothing and never applied twice, so a crash between publishing and loading is repaired by
simply loading again. Dimensions are replaced whole on every load.

Ingested tables (`datalake ingest`) are loaded by the same skeleton (`_load_once`), recorded in
`_ingest_loads`: each ingest appends its rows to its table, created on the first load and given
the columns a later ingest adds or widens in the same transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import connect as duckdb_connect
from datalake.domain.duckdb_sql import quote_ident, sql_list, sql_string
from datalake.domain.schema import (
    DIMENSIONS,
    FACT_SORT_KEY,
    SALES_FACT_COLUMNS,
    SALES_PARTITION_KEYS,
    WAREHOUSE_FACT_TABLE,
)
from datalake.layout import LakeLayout
from datalake.targets.local.crawler import hive_partition

# Published Parquet loaded (and sorted) per statement, at least: about 2M rows, sorted in memory, and
# enough row groups for every thread (a statement over one small month runs on one).
LOAD_GROUP_BYTES = 32 * 1024**2
HIVE_TYPES = "{" + ", ".join(f"'{k}': INTEGER" for k in SALES_PARTITION_KEYS) + "}"


def fact_reader_sql(files: list[Path]) -> str:
    """Published fact files with their partition columns restored, in schema column order."""
    cols = ", ".join(c.name for c in SALES_FACT_COLUMNS)
    return (
        f"SELECT {cols} FROM read_parquet({sql_list(files)}, hive_partitioning = true, "
        f"hive_types = {HIVE_TYPES}, union_by_name = true)"
    )


def connect(layout: LakeLayout, read_only: bool = False) -> Any:
    layout.warehouse_dir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"memory_limit": "1200MB"}  # loads sort millions of rows: spill instead of growing
    if not read_only:
        layout.scratch.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(layout.scratch)
    return duckdb_connect(layout.warehouse_db, read_only=read_only, **config)


def _ensure_schema(con: Any) -> None:
    cols = ", ".join(f"{c.name} {c.type}" for c in SALES_FACT_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS {WAREHOUSE_FACT_TABLE} ({cols})")
    con.execute("CREATE TABLE IF NOT EXISTS _loads (run_id VARCHAR PRIMARY KEY, loaded_at TIMESTAMP, rows BIGINT)")
    con.execute(f"CREATE OR REPLACE VIEW sales_fact AS SELECT * FROM {WAREHOUSE_FACT_TABLE}")


def create(layout: LakeLayout) -> None:
    """Create the warehouse database with its fact table, load ledger and view (deploy); idempotent."""
    con = connect(layout)
    try:
        _ensure_schema(con)
    finally:
        con.close()


def loaded_runs(layout: LakeLayout) -> set[str]:
    if not layout.warehouse_db.is_file():
        return set()
    con = connect(layout)
    try:
        _ensure_schema(con)
        return {r[0] for r in con.execute("SELECT run_id FROM _loads").fetchall()}
    finally:
        con.close()


def _load_once(
    layout: LakeLayout,
    ledger: str,
    load_id: dict[str, Any],
    prepare: Callable[[Any], None],
    load: Callable[[Any], int],
) -> int:
    """Run one load in one transaction that also records it in its ledger table; the rows it loaded.

    ledger: the table recording loads; load_id: its columns naming this load, the key first. A load
    is all-or-nothing and never applied twice: one the ledger already holds loads nothing (0 rows),
    so a crash between publishing and loading is repaired by simply loading again.
    prepare: creates the tables (the ledger among them) the load needs, before the transaction.
    """
    key, value = next(iter(load_id.items()))
    con = connect(layout)
    try:
        prepare(con)
        con.execute("BEGIN TRANSACTION")
        if con.execute(f"SELECT count(*) FROM {ledger} WHERE {key} = ?", [value]).fetchone()[0]:
            con.execute("ROLLBACK")
            return 0
        rows = int(load(con))
        columns = ", ".join([*load_id, "loaded_at", "rows"])
        marks = ", ".join("?" for _ in load_id)
        con.execute(f"INSERT INTO {ledger} ({columns}) VALUES ({marks}, now(), ?)", [*load_id.values(), rows])
        con.execute("COMMIT")
        return rows
    except BaseException:
        with contextlib.suppress(Exception):  # no transaction open
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def load_run(layout: LakeLayout, run_id: str, fact_files: list[Path], presorted: bool = False) -> int:
    """Append one run's published fact files and refresh the dimensions; idempotent per run.

    presorted: the files were written sorted by FACT_SORT_KEY (the run's journal says so), so groups
    whose date ranges are apart are appended without a sort; otherwise every group is sorted.
    """

    def load(con: Any) -> int:
        rows = 0
        if fact_files:
            before = con.execute(f"SELECT count(*) FROM {WAREHOUSE_FACT_TABLE}").fetchone()[0]
            for files in by_partition(fact_files, LOAD_GROUP_BYTES):
                ordered = in_sort_order(con, files) if presorted else None
                if ordered is not None:  # read in order, inserted in order: DuckDB preserves insertion order
                    con.execute(f"INSERT INTO {WAREHOUSE_FACT_TABLE} {fact_reader_sql(ordered)}")
                else:
                    con.execute(
                        f"INSERT INTO {WAREHOUSE_FACT_TABLE} {fact_reader_sql(files)} ORDER BY {', '.join(FACT_SORT_KEY)}"
                    )
            rows = con.execute(f"SELECT count(*) FROM {WAREHOUSE_FACT_TABLE}").fetchone()[0] - before
        _refresh_dimensions(con, layout)
        return int(rows)

    return _load_once(layout, "_loads", {"run_id": run_id}, _ensure_schema, load)


def load_table(
    layout: LakeLayout, ingest_id: str, table: str, columns: list[tuple[str, str]], select_sql: str | None
) -> int:
    """Append an ingest's rows (select_sql; None: it has none) to warehouse table `table`; idempotent per ingest.

    The table is created with `columns` (name, type) on the first load; a later ingest that added
    columns or widened types adds or widens them in the same transaction as its rows.
    """

    def prepare(con: Any) -> None:
        con.execute(
            "CREATE TABLE IF NOT EXISTS _ingest_loads "
            "(ingest_id VARCHAR PRIMARY KEY, table_name VARCHAR, loaded_at TIMESTAMP, rows BIGINT)"
        )

    def load(con: Any) -> int:
        _fit_table(con, table, columns)
        if select_sql is None:
            return 0
        return int(con.execute(f"INSERT INTO {quote_ident(table)} BY NAME {select_sql}").fetchone()[0])

    return _load_once(layout, "_ingest_loads", {"ingest_id": ingest_id, "table_name": table}, prepare, load)


def _fit_table(con: Any, table: str, columns: list[tuple[str, str]]) -> None:
    """Create the table with these columns, or add the missing ones and widen the types that changed."""
    existing = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    )
    name = quote_ident(table)
    if not existing:
        con.execute(f"CREATE TABLE {name} ({', '.join(f'{quote_ident(n)} {t}' for n, t in columns)})")
        return
    for column, dtype in columns:
        if column not in existing:
            con.execute(f"ALTER TABLE {name} ADD COLUMN {quote_ident(column)} {dtype}")
        elif existing[column].replace(" ", "") != dtype.replace(" ", ""):
            con.execute(f"ALTER TABLE {name} ALTER COLUMN {quote_ident(column)} SET DATA TYPE {dtype}")


def in_sort_order(con: Any, files: list[Path]) -> list[Path] | None:
    """The files in the order that makes their rows one run sorted by FACT_SORT_KEY, or None.

    Each fact file is written sorted by FACT_SORT_KEY; its footer's sale_date statistics (per row
    group, so nothing but footers is read) tell whether the files' date ranges are apart, and so
    whether reading them one after the other, by first date, yields the sorted order. Files whose
    dates overlap or touch, row groups out of order, or missing statistics: None (sort them).
    """
    rows = con.execute(
        "SELECT file_name, row_group_id, CAST(stats_min_value AS DATE), CAST(stats_max_value AS DATE) "
        f"FROM parquet_metadata({sql_list(files)}) WHERE path_in_schema = {sql_string(FACT_SORT_KEY[0])} "
        "ORDER BY file_name, row_group_id"
    ).fetchall()
    ranges: dict[str, tuple[Any, Any]] = {}
    for name, _group, low, high in rows:
        if low is None or high is None:
            return None
        if name in ranges:
            first, last = ranges[name]
            if low < last:  # row groups of one file out of order: not written by an engine of ours
                return None
            ranges[name] = (first, high)
        else:
            ranges[name] = (low, high)
    if len(ranges) != len(files):  # a file without row groups (or statistics): let the sort handle it
        return None
    ordered = sorted(files, key=lambda path: ranges[str(path)][0])
    if any(ranges[str(before)][1] >= ranges[str(after)][0] for before, after in pairwise(ordered)):
        return None
    return ordered


def by_partition(files: list[Path], min_bytes: int = 0) -> list[list[Path]]:
    """Fact files grouped by their (year, month) partition, partitions in time order (not path order).

    Consecutive partitions are joined until a group holds min_bytes: sorting a group of whole
    partitions in turn still gives the order of one big sort.
    """
    partitions: dict[tuple[int, ...], list[Path]] = {}
    for path in files:
        key = tuple(int(value) for name, value in hive_partition(path.parent.parts) if name in SALES_PARTITION_KEYS)
        partitions.setdefault(key, []).append(path)
    groups: list[list[Path]] = []
    size = min_bytes
    for key in sorted(partitions):
        if size >= min_bytes:
            groups.append([])
            size = 0
        groups[-1].extend(partitions[key])
        size += sum(path.stat().st_size for path in partitions[key]) if min_bytes else 0
    return groups


def _refresh_dimensions(con: Any, layout: LakeLayout) -> None:
    for dim in DIMENSIONS:
        path = layout.processed / dim / f"{dim}.parquet"
        if path.is_file():
            con.execute(f"CREATE OR REPLACE TABLE {dim} AS SELECT * FROM read_parquet({sql_string(path)})")


def table_counts(layout: LakeLayout) -> dict[str, int]:
    if not layout.warehouse_db.is_file():
        return {}
    con = connect(layout, read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()]
        return {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in sorted(names)}
    finally:
        con.close()
