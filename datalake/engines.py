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
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from datalake.errors import LakeNotFoundError, QueryError, UsageError
from datalake.layout import LakeLayout
from datalake.sql import translate

LOCAL_ENGINES = ("lake", "warehouse", "raw")


@dataclass
class QueryResult:
    engine: str
    sql: str  # as sent to the engine
    columns: list[str]
    rows: list[tuple[Any, ...]]
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)

    def to_records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class QueryEngine(ABC):
    """Runs Athena-dialect SQL; subclasses say which dialect they speak and how to connect."""

    name: str
    dialect: str
    description: str

    def translate(self, sql: str) -> str:
        return translate(sql, self.dialect)

    @abstractmethod
    def execute(self, sql: str) -> QueryResult: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> QueryEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBEngine(QueryEngine):
    dialect = "duckdb"

    def __init__(self, name: str, con: Any, description: str) -> None:
        self.name, self.con, self.description = name, con, description

    def execute(self, sql: str) -> QueryResult:
        translated = self.translate(sql)
        began = time.perf_counter()
        try:
            cursor = self.con.execute(translated)
            rows = cursor.fetchall()
        except Exception as exc:
            if exc.__class__.__module__.startswith(("duckdb", "_duckdb")):
                raise QueryError(
                    f"{self.name}: {str(exc).splitlines()[0]}", hint="check table and column names"
                ) from exc
            raise
        seconds = time.perf_counter() - began
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return QueryResult(self.name, translated, columns, rows, seconds)

    def close(self) -> None:
        self.con.close()


def _lake_engine(layout: LakeLayout) -> DuckDBEngine:
    import duckdb

    from datalake.crawler import list_data_files
    from datalake.duckdb_sql import sql_list, sql_string
    from datalake.schema import DIMENSIONS, FACT_TABLE, WAREHOUSE_FACT_TABLE
    from datalake.warehouse import fact_reader_sql

    facts = [f.path for f in list_data_files(layout.processed, "processed", "sales_fact")]
    ingested = _ingested(layout)
    if not facts and not ingested:
        raise LakeNotFoundError(f"the lake at {layout.root} has no processed data yet", hint="run `datalake run-etl`")
    con = duckdb.connect()
    if facts:
        con.execute(f"CREATE VIEW {FACT_TABLE} AS {fact_reader_sql(facts)}")
        con.execute(f"CREATE VIEW {WAREHOUSE_FACT_TABLE} AS SELECT * FROM {FACT_TABLE}")
    for dim in DIMENSIONS:
        path = layout.processed / dim / f"{dim}.parquet"
        if path.is_file():
            con.execute(f"CREATE VIEW {dim} AS SELECT * FROM read_parquet({sql_string(path)})")
    quarantined = [f.path for f in list_data_files(layout.quarantine, "quarantine", "sales")]
    if quarantined:
        con.execute(
            f"CREATE VIEW sales_quarantine AS SELECT * FROM read_parquet({sql_list(quarantined)}, hive_partitioning = true)"
        )
    _add_ingested_views(con, layout, ingested, "lake")
    return DuckDBEngine("lake", con, "partitioned Parquet in the processed zone (Athena's role)")


def _warehouse_engine(layout: LakeLayout) -> DuckDBEngine:
    from datalake import warehouse

    if not layout.warehouse_db.is_file():
        raise LakeNotFoundError(f"no warehouse at {layout.warehouse_db}", hint="run `datalake run-etl` to load it")
    con = warehouse.connect(layout, read_only=True)
    return DuckDBEngine("warehouse", con, "loaded, sorted tables in the warehouse (Redshift's role)")


def raw_sales_view_sql(layout: LakeLayout, run_date: str | None = None) -> str:
    """sales_fact computed from the raw files on the fly, by the same transform the ETL runs."""
    from datetime import UTC, datetime

    from datalake.crawler import list_data_files
    from datalake.duckdb_sql import records_sql, sql_string
    from datalake.schema import SALES_FACT_COLUMNS
    from datalake.transform import checked_sql

    files = list_data_files(layout.raw, "raw", "sales") + list_data_files(layout.archive, "archive", "sales")
    files = [f for f in files if f.size > 0]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    run_date = run_date or now[:10]
    records = records_sql(
        [f.path for f in files if f.format == "json"],
        [f.path for f in files if f.format == "csv"],
        [layout.raw, layout.archive],
        store_rejects=False,
    )
    records = f"(SELECT *, {sql_string(now)} AS _run_ts, {sql_string(run_date)} AS _run_date FROM ({records}))"
    cols = ", ".join(c.name for c in SALES_FACT_COLUMNS)
    checked = checked_sql(records, "customers", "products", "stores", None)
    return f"SELECT {cols} FROM ({checked}) WHERE _reason IS NULL"


def _raw_engine(layout: LakeLayout) -> DuckDBEngine:
    import duckdb

    from datalake.crawler import list_data_files
    from datalake.duckdb_sql import dimension_reader_sql
    from datalake.schema import DIMENSIONS, FACT_TABLE, WAREHOUSE_FACT_TABLE

    has_sales = bool(list_data_files(layout.raw, "raw", "sales") or list_data_files(layout.archive, "archive", "sales"))
    ingested = _ingested(layout)
    if not has_sales and not ingested:
        raise LakeNotFoundError(f"the lake at {layout.root} has no raw sales", hint="run `datalake seed`")
    con = duckdb.connect()
    if has_sales:
        for dim in DIMENSIONS:
            files = [f.path for f in list_data_files(layout.raw, "raw", dim)]
            if files:
                con.execute(f"CREATE VIEW {dim} AS SELECT * FROM {dimension_reader_sql(dim, files)}")
        con.execute(f"CREATE VIEW {FACT_TABLE} AS {raw_sales_view_sql(layout)}")
        con.execute(f"CREATE VIEW {WAREHOUSE_FACT_TABLE} AS SELECT * FROM {FACT_TABLE}")
    _add_ingested_views(con, layout, ingested, "raw")
    return DuckDBEngine("raw", con, "raw JSON/CSV files, transformed on the fly (no pruning)")


def _ingested(layout: LakeLayout) -> list[dict[str, Any]]:
    from datalake.ingest import ingested_tables

    return ingested_tables(layout)


def _add_ingested_views(con: Any, layout: LakeLayout, manifests: list[dict[str, Any]], engine: str) -> None:
    """Tables brought in by `datalake ingest`: views over their Parquet (lake) or raw copies (raw).

    The warehouse engine needs nothing: ingest loads them as tables there.
    """
    from datalake.ingest import lake_view_sql, raw_view_sql

    for manifest in manifests:
        sql = lake_view_sql(layout, manifest) if engine == "lake" else raw_view_sql(layout, manifest)
        name = manifest["table"]
        con.execute(f'CREATE VIEW "{name}" AS {sql}')


def open_local_engine(layout: LakeLayout, name: str) -> QueryEngine:
    """A local engine by name."""
    factories = {"lake": _lake_engine, "warehouse": _warehouse_engine, "raw": _raw_engine}
    if name not in factories:
        raise UsageError(f"unknown --engine {name!r}", hint=f"choose one of: {', '.join(LOCAL_ENGINES)}")
    return factories[name](layout)
