"""Query engines: the same Athena SQL run on raw files, the Parquet lake or the warehouse.

On the local target every engine is DuckDB reading a different copy of the data:
  raw        the raw JSON/CSV (and archived raw) files, transformed on the fly by the one ETL
             definition, so `sales_fact` means the same rows everywhere; nothing can be pruned
  lake       the partitioned Parquet of the processed zone (Athena's role)
  warehouse  the loaded, sorted tables of the warehouse database (Redshift's role)
Each exposes sales_fact, sales_fact_redshift, customers, products, stores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datalake.errors import LakeNotFoundError, QueryError, UsageError
from datalake.layout import LakeLayout
from datalake.targets.base import QueryEngine, QueryResult
from datalake.targets.local import duckdb_resources
from datalake.targets.local.sandbox import check_statement, lock_down, permission_error

LOCAL_ENGINES = ("lake", "warehouse", "raw")


class DuckDBEngine(QueryEngine):
    """One DuckDB connection over one consistent state of the data, sandboxed (see `sandbox`).

    setup: creates the engine's views (or attaches the warehouse) on a fresh connection; it runs
    again, unsandboxed, for `measure` only, because DuckDB writes its profile only to a file (and a
    sandboxed connection writes none). The SQL measured is first checked, and bound, on the sandbox.
    Both connections spill below `scratch` (see `duckdb_resources`): the raw engine's duplicate check
    ranks every row, which would otherwise hold the whole raw zone in memory.
    """

    dialect = "duckdb"

    def __init__(
        self,
        name: str,
        description: str,
        setup: Callable[[Any], None],
        allowed: Sequence[Path],
        scratch: Path,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.name, self.description = name, description
        self._setup, self.allowed, self._on_close = setup, list(allowed), on_close
        self.scratch = scratch
        self.con = duckdb_resources.connect(scratch)
        try:
            setup(self.con)
            lock_down(self.con, self.allowed)
        except BaseException:
            self.close()
            raise

    def _checked(self, sql: str) -> str:
        parsed = check_statement(self.con, sql, self.name)
        translated = self.translate(sql)
        if not parsed:  # Athena SQL DuckDB cannot parse as written: check what it will run instead
            check_statement(self.con, translated, self.name)
        return translated

    def _run(self, con: Any, sql: str) -> tuple[list[str], list[Any]]:
        """(columns, rows) of `sql` on `con`; DuckDB's errors as one-line QueryErrors."""
        try:
            cursor = con.execute(sql)
            rows = cursor.fetchall()
            return [d[0] for d in cursor.description] if cursor.description else [], rows
        except Exception as exc:
            if exc.__class__.__module__.startswith(("duckdb", "_duckdb")):
                refused = permission_error(self.name, exc, self.allowed)
                if refused is not None:
                    raise refused from exc
                raise QueryError(
                    f"{self.name}: {str(exc).splitlines()[0]}", hint="check table and column names"
                ) from exc
            raise

    def execute(self, sql: str) -> QueryResult:
        translated = self._checked(sql)
        began = time.perf_counter()
        columns, rows = self._run(self.con, translated)
        seconds = time.perf_counter() - began
        return QueryResult(self.name, translated, columns, rows, seconds)

    def measure(self, sql: str, pruning: bool = True) -> QueryResult:
        """Figures from DuckDB's JSON profile (see `scan_stats_from_profile`); with a DuckDB whose
        profile has no byte counts, the process's read bytes (/proc/self/io rchar) around the run.
        The in-memory file cache is off for the run so every byte the query needs is counted.
        """
        import json
        import os
        import tempfile

        translated = self._checked(sql)
        self._run(self.con, f"EXPLAIN {translated}")  # binding in the sandbox: a file outside the lake is refused
        fd, profile_path = tempfile.mkstemp(prefix="datalake-profile-", suffix=".json")
        os.close(fd)
        con = duckdb_resources.connect(self.scratch)
        try:
            self._setup(con)
            con.execute("SET enable_external_file_cache = false")
            if not pruning:
                con.execute("SET disabled_optimizers = 'filter_pushdown'")
            before = _process_read_bytes()
            con.execute("SET enable_profiling = 'json'")
            con.execute(f"SET profiling_output = '{profile_path}'")
            began = time.perf_counter()
            columns, rows = self._run(con, translated)
            seconds = time.perf_counter() - began
            con.execute("PRAGMA disable_profiling")
            after = _process_read_bytes()
            try:
                with open(profile_path, encoding="utf-8") as fh:
                    profile = json.load(fh)
            except (OSError, ValueError):
                profile = {}
        finally:
            con.close()
            os.unlink(profile_path)
        result = QueryResult(self.name, translated, columns, rows, seconds)
        result.stats = scan_stats_from_profile(profile)
        if result.stats["bytes_scanned"] is None and before is not None and after is not None:
            result.stats["bytes_scanned"] = after - before
            result.stats["method"] = "process read bytes (/proc/self/io rchar)"
        return result

    def close(self) -> None:
        self.con.close()
        if self._on_close is not None:
            self._on_close()


def _process_read_bytes() -> int | None:
    try:
        with open("/proc/self/io", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def scan_stats_from_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """Bytes, files and row groups a query read, from a DuckDB JSON query profile.

    bytes_scanned is the sum of the scan operators' own byte counts when every scan reports one:
    for Parquet that is exactly the column chunks of the referenced columns in the row groups that
    survived pruning (what Athena bills), for CSV/JSON the whole files. Scans of the database's own
    tables report none; then it is every byte DuckDB's file system read (io.total_bytes_read: on a
    fresh connection, the table blocks the query needed). io_bytes_read is always that total, which
    also counts Parquet footers read while binding (all files of a view, pruned or not).
    """
    files = row_groups = row_groups_total = table_scans = 0
    scan_bytes: list[int | None] = []

    def walk(node: dict[str, Any]) -> None:
        nonlocal files, row_groups, row_groups_total, table_scans
        if node.get("type") == "TABLE_SCAN" or node.get("operator_type") == "TABLE_SCAN":
            info = node.get("extra_info") or {}
            if isinstance(info, dict) and "Total Files Read" in info:
                files += int(info["Total Files Read"])
            elif isinstance(info, dict) and "Function" not in info:
                table_scans += 1  # a table of the database file itself
            row_groups += int(node.get("row_groups_scanned") or 0)
            row_groups_total += int(node.get("total_row_groups_to_scan") or 0)
            scanned = node.get("bytes_scanned")
            scan_bytes.append(int(scanned) if scanned is not None else None)
        for child in node.get("children", []):
            walk(child)

    operators = profile.get("operator", profile.get("children", []))
    for op in operators if isinstance(operators, list) else []:
        walk(op)
    io = profile.get("io") or {}
    io_bytes = io.get("total_bytes_read") if isinstance(io, dict) else None
    io_bytes = int(io_bytes) if io_bytes is not None else None
    if scan_bytes and all(b is not None for b in scan_bytes):
        bytes_scanned: int | None = sum(b for b in scan_bytes if b is not None)
        method: str | None = "DuckDB profiler: bytes_scanned of the scan operators"
    else:
        bytes_scanned = io_bytes
        method = "DuckDB profiler: io.total_bytes_read (fresh connection)" if io_bytes is not None else None
    return {
        "bytes_scanned": bytes_scanned,
        "io_bytes_read": io_bytes,
        "files_read": files + (1 if table_scans else 0),
        "row_groups_scanned": row_groups if row_groups_total else None,
        "row_groups_total": row_groups_total or None,
        "method": method,
    }


@dataclass
class Published:
    """The files of every published run and ingest, never part of one (see `published_files`)."""

    facts: list[Path]
    quarantined: list[Path]
    tables: dict[str, list[Path]]  # an ingested table's processed files


def published_files(layout: LakeLayout, tables: Sequence[str] = ()) -> Published:
    """The fact, quarantine and ingested tables' files of every published run, never part of one.

    A writer (run-etl, ingest) publishes by renaming its files into place one by one while its
    journal says "committing"; the files of such a run are left out. The journals are read before
    and after the listing, and the listing is taken again if a run changed state meanwhile (a
    seqlock): a run that published while the folders were listed might be half listed.
    """
    from datalake.targets.local.crawler import list_data_files
    from datalake.targets.local.etl.run import run_journal
    from datalake.targets.local.ingest.run import ingest_journal

    def states() -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
        done = {"published", "loaded"}
        return {
            (journal.key, record[journal.key]): (
                "done" if record["status"] in done else record["status"],
                tuple(record.get("moves", ())),
            )
            for journal in (run_journal(layout), ingest_journal(layout))
            for record in journal.records()
        }

    from datalake.targets.local import iceberg

    # run-etl's tables from their current snapshot where they have one (atomic, so never part of a run): after
    # `maintain` compacted a table, the files it replaced stay in the folders (older snapshots read them) until
    # they expire. Files gone from the disk are left out, as a listing would: validate's reconciliation says so.
    snapshot = {t: [p for p in files if p.is_file()] for t, files in iceberg.current_files(layout).items()}
    while True:
        before = states()
        listed = Published(
            []
            if iceberg.FACT in snapshot
            else [f.path for f in list_data_files(layout.processed, "processed", "sales_fact")],
            []
            if iceberg.QUARANTINE in snapshot
            else [f.path for f in list_data_files(layout.quarantine, "quarantine", "sales")],
            {table: [f.path for f in list_data_files(layout.processed, "processed", table)] for table in tables},
        )
        if states() == before:
            break
    moving = {layout.root / rel for status, moves in before.values() if status == "committing" for rel in moves}
    return Published(
        snapshot.get(iceberg.FACT) or [p for p in listed.facts if p not in moving],
        snapshot.get(iceberg.QUARANTINE) or [p for p in listed.quarantined if p not in moving],
        {table: [p for p in files if p not in moving] for table, files in listed.tables.items()},
    )


def _lake_engine(layout: LakeLayout, as_of: str | None = None) -> DuckDBEngine:
    from datetime import datetime

    from datalake.domain.duckdb_sql import sql_list, sql_string
    from datalake.domain.schema import DIMENSIONS, FACT_TABLE, WAREHOUSE_FACT_TABLE
    from datalake.targets.local import iceberg
    from datalake.targets.local.ingest import tables as ingest_tables
    from datalake.targets.local.warehouse import fact_reader_sql

    ingested = _ingested(layout)
    names = [m["table"] for m in ingested]
    description = "the processed zone's Iceberg tables, current snapshot (Athena's role)"
    # every table answers from its current Iceberg snapshot (atomic: a run or an ingest being published is
    # not in it yet); a table with no snapshot yet, or a lake without a catalog, from the listing as before
    if as_of is None:
        # (files gone from the disk are left out, as a listing would: validate's reconciliation then says so)
        snapshot = {t: [p for p in files if p.is_file()] for t, files in iceberg.current_files(layout).items()}
        ingested_files = ingest_tables.current_files(layout, names)
    else:  # time travel: run-etl's tables as a run left them, ingested tables as they stood at that snapshot's time
        at, snapshot = iceberg.files_as_of(layout, as_of)
        snapshot.setdefault(iceberg.QUARANTINE, [])
        at_ms = round(datetime.fromisoformat(at.committed_at).timestamp() * 1000)
        ingested_files = ingest_tables.current_files(layout, names, at_ms)
        ingested = [m for m in ingested if m["table"] in ingested_files]
        description = f"the processed zone's Iceberg tables as of snapshot {at.snapshot_id} ({at.committed_at})"
    unlisted = [m["table"] for m in ingested if m["table"] not in ingested_files]
    listed = bool(unlisted) or not {iceberg.FACT, iceberg.QUARANTINE} <= set(snapshot)
    published = published_files(layout, unlisted) if listed else Published([], [], {})
    published.tables.update(ingested_files)
    facts = snapshot.get(iceberg.FACT, published.facts)
    quarantined = snapshot.get(iceberg.QUARANTINE, published.quarantined)
    if not facts and not ingested:
        raise LakeNotFoundError(f"the lake at {layout.root} has no processed data yet", hint="run `datalake run-etl`")
    dimensions = {dim: layout.processed / dim / f"{dim}.parquet" for dim in DIMENSIONS}
    dimensions = {dim: path for dim, path in dimensions.items() if path.is_file()}
    for dim in DIMENSIONS:
        if len(snapshot.get(dim, [])) == 1:
            (dimensions[dim],) = snapshot[dim]

    def setup(con: Any) -> None:
        if facts:
            con.execute(f"CREATE VIEW {FACT_TABLE} AS {fact_reader_sql(facts)}")
            con.execute(f"CREATE VIEW {WAREHOUSE_FACT_TABLE} AS SELECT * FROM {FACT_TABLE}")
        for dim, path in dimensions.items():
            con.execute(f"CREATE VIEW {dim} AS SELECT * FROM read_parquet({sql_string(path)})")
        if quarantined:
            con.execute(
                "CREATE VIEW sales_quarantine AS SELECT * FROM "
                f"read_parquet({sql_list(quarantined)}, hive_partitioning = true)"
            )
        _add_ingested_views(con, layout, ingested, "lake", published.tables)

    return DuckDBEngine("lake", description, setup, [layout.root], layout.scratch)


def _warehouse_engine(layout: LakeLayout) -> DuckDBEngine:
    from datalake.targets.local import warehouse

    gen = warehouse.current(layout)
    if gen is None:
        raise LakeNotFoundError(f"no warehouse in {layout.warehouse_dir}", hint="run `datalake run-etl` to load it")
    # the generation is fixed when the engine opens: a load switching the pointer later is not seen,
    # and the segments stay on disk while this connection holds them (measure attaches the same ones)
    holder = warehouse.open_snapshot(layout)
    paths = warehouse.segment_paths(layout, holder.generation)

    def setup(con: Any) -> None:
        warehouse.attach(con, paths)

    try:
        return DuckDBEngine(
            "warehouse",
            "loaded, sorted tables in the warehouse (Redshift's role)",
            setup,
            [],
            layout.scratch,
            holder.con.close,
        )
    except BaseException:
        holder.con.close()
        raise


def raw_sales_view_sql(con: Any, layout: LakeLayout, run_date: str | None = None) -> str:
    """sales_fact computed from the raw files on the fly, by the same transform the ETL runs (on `con`)."""
    from datetime import UTC, datetime

    from datalake.domain.duckdb_sql import sql_string
    from datalake.domain.schema import SALES_FACT_COLUMNS
    from datalake.domain.transform import checked_sql
    from datalake.targets.local.crawler import sales_files, sales_records_sql

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    run_date = run_date or now[:10]
    records = sales_records_sql(con, layout, sales_files(layout), store_rejects=False)
    records = f"(SELECT *, {sql_string(now)} AS _run_ts, {sql_string(run_date)} AS _run_date FROM ({records}))"
    cols = ", ".join(c.name for c in SALES_FACT_COLUMNS)
    checked = checked_sql(records, "customers", "products", "stores", None)
    return f"SELECT {cols} FROM ({checked}) WHERE _reason IS NULL"


def _raw_engine(layout: LakeLayout) -> DuckDBEngine:
    from datalake.domain.duckdb_sql import KEEP_JOIN_SIDES, dimension_reader_sql
    from datalake.domain.schema import DIMENSIONS, FACT_TABLE, WAREHOUSE_FACT_TABLE
    from datalake.targets.local.crawler import list_data_files, sales_files

    has_sales = bool(sales_files(layout))
    ingested = _ingested(layout)
    if not has_sales and not ingested:
        raise LakeNotFoundError(f"the lake at {layout.root} has no raw sales", hint="run `datalake seed`")

    def setup(con: Any) -> None:
        con.execute(KEEP_JOIN_SIDES)  # every query here reads raw text joined to the dimensions
        if has_sales:
            for dim in DIMENSIONS:
                files = [f.path for f in list_data_files(layout.raw, "raw", dim)]
                if files:
                    con.execute(f"CREATE VIEW {dim} AS SELECT * FROM {dimension_reader_sql(dim, files)}")
            con.execute(f"CREATE VIEW {FACT_TABLE} AS {raw_sales_view_sql(con, layout)}")
            con.execute(f"CREATE VIEW {WAREHOUSE_FACT_TABLE} AS SELECT * FROM {FACT_TABLE}")
        _add_ingested_views(con, layout, ingested, "raw")

    engine = DuckDBEngine(
        "raw", "raw JSON/CSV files, transformed on the fly (no pruning)", setup, [layout.root], layout.scratch
    )
    engine.prunes = False
    return engine


def _ingested(layout: LakeLayout) -> list[dict[str, Any]]:
    from datalake.targets.local.ingest.run import ingested_tables

    return ingested_tables(layout)


def _add_ingested_views(
    con: Any,
    layout: LakeLayout,
    manifests: list[dict[str, Any]],
    engine: str,
    published: dict[str, list[Path]] | None = None,
) -> None:
    """Tables brought in by `datalake ingest`: views over their Parquet (lake) or raw copies (raw).

    The warehouse engine needs nothing: ingest loads them as tables there.
    """
    from datalake.targets.local.ingest.run import lake_view_sql, raw_view_sql

    for manifest in manifests:
        if engine == "lake":
            sql = lake_view_sql(layout, manifest, (published or {}).get(manifest["table"]))
        else:
            sql = raw_view_sql(layout, manifest)
        name = manifest["table"]
        con.execute(f'CREATE VIEW "{name}" AS {sql}')


def open_local_engine(layout: LakeLayout, name: str, as_of: str | None = None) -> QueryEngine:
    """A local engine by name; `as_of` (a snapshot id or a timestamp) for the lake engine only."""
    factories = {"lake": _lake_engine, "warehouse": _warehouse_engine, "raw": _raw_engine}
    if name not in factories:
        raise UsageError(f"unknown --engine {name!r}", hint=f"choose one of: {', '.join(LOCAL_ENGINES)}")
    if as_of is not None:
        if name != "lake":
            raise UsageError(
                f"--as-of reads the lake's table history: the {name} engine has none", hint="use --engine lake"
            )
        return _lake_engine(layout, as_of)
    return factories[name](layout)
