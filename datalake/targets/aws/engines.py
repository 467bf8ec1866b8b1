"""Query engines of the aws target: Athena (through the lake's workgroup) and Redshift (Data API).

Both take the same Athena-dialect SQL as the local engines (translated with sqlglot for Redshift)
and return a `QueryResult` whose values are Python types (int, Decimal, date, datetime, ...), so
the benchmark's cross-engine result check compares like with like. `stats` carries what AWS
measured: bytes scanned and engine time for Athena, duration and rows for Redshift.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from datalake.errors import ConfigError, QueryError
from datalake.targets.aws.clients import aws_errors
from datalake.targets.aws.lake import AwsLake
from datalake.targets.base import QueryEngine, QueryResult

ATHENA_DONE = {"SUCCEEDED"}
ATHENA_FAILED = {"FAILED", "CANCELLED"}
REDSHIFT_FAILED = {"FAILED", "ABORTED"}

# athena-raw runs on the raw crawler's tables (table_prefix "raw_" in infra/glue.tf).
RAW_TABLES = {"sales": "raw_sales", "customers": "raw_customers", "products": "raw_products", "stores": "raw_stores"}


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" UTC", "").replace("T", " "))


def _converter(type_name: str) -> Callable[[str], Any]:
    kind = type_name.lower().split("(")[0].strip()
    if kind in {"tinyint", "smallint", "integer", "int", "int2", "int4", "int8", "bigint"}:
        return int
    if kind in {"double", "float", "real", "float4", "float8", "double precision"}:
        return float
    if kind in {"decimal", "numeric"}:
        return Decimal
    if kind in {"boolean", "bool"}:
        return lambda v: v.lower() == "true" if isinstance(v, str) else bool(v)
    if kind == "date":
        return date.fromisoformat
    if kind.startswith("timestamp"):
        return _timestamp
    return str


def athena_value(cell: dict[str, Any], convert: Callable[[str], Any]) -> Any:
    """Athena sends every value as text; a NULL has no VarCharValue at all."""
    if "VarCharValue" not in cell:
        return None
    return convert(cell["VarCharValue"])


def _statistic(statistics: dict[str, Any], key: str) -> int | None:
    """One of Athena's query statistics; None when Athena did not report it (unknown, not zero)."""
    value = statistics.get(key)
    return None if value is None else int(value)


def rename_tables(sql: str, mapping: dict[str, str]) -> str:
    """Trino SQL with table names replaced (for athena-raw), through sqlglot."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="trino")
    for table in tree.find_all(exp.Table):
        if table.name in mapping and not table.db:
            table.set("this", exp.to_identifier(mapping[table.name]))
    return tree.sql(dialect="trino")


class AthenaEngine(QueryEngine):
    dialect = "trino"

    def __init__(
        self,
        lake: AwsLake,
        name: str = "athena",
        table_map: dict[str, str] | None = None,
        pins: tuple[dict[str, int], str | None] | None = None,
    ) -> None:
        self.lake, self.name = lake, name
        self.table_map = table_map or {}
        self.pins = pins  # (table -> snapshot id, sales_fact's instant or None): `query --as-of`
        self.workgroup = lake.require("athena_workgroup")
        self.database = lake.require("glue_database")
        self.description = f"Athena (workgroup {self.workgroup}) over the " + (
            "raw crawler's JSON/CSV tables" if self.table_map else "Iceberg tables of the Glue catalog"
        )

    @property
    def role(self) -> str:
        """Athena over the raw tables plays the raw files' part in comparisons; over Parquet, the lake's."""
        return "raw" if self.table_map else "lake"

    def translate(self, sql: str) -> str:
        translated = super().translate(sql)
        if self.pins is not None:
            from datalake.domain.iceberg_tables import table_defs
            from datalake.targets.aws.iceberg import pin_tables

            translated = pin_tables(translated, *self.pins, known=table_defs())
        return rename_tables(translated, self.table_map) if self.table_map else translated

    def execute(self, sql: str) -> QueryResult:
        athena = self.lake.client("athena")
        translated = self.translate(sql)
        began = time.perf_counter()
        with aws_errors(f"{self.name} query"):
            started = athena.start_query_execution(
                QueryString=translated,
                QueryExecutionContext={"Database": self.database},
                WorkGroup=self.workgroup,
            )
            query_id = started["QueryExecutionId"]
            execution = self._wait(athena, query_id)
            columns, rows = self._results(athena, query_id, execution)
        seconds = time.perf_counter() - began
        statistics = execution.get("Statistics", {})
        stats = {
            "query_execution_id": query_id,
            "data_scanned_bytes": _statistic(statistics, "DataScannedInBytes"),
            "engine_ms": _statistic(statistics, "EngineExecutionTimeInMillis"),
            "queue_ms": _statistic(statistics, "QueryQueueTimeInMillis"),
            "total_ms": _statistic(statistics, "TotalExecutionTimeInMillis"),
        }
        return QueryResult(self.name, translated, columns, rows, seconds, stats)

    def _wait(self, athena: Any, query_id: str) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            state = execution["Status"]["State"]
            if state in ATHENA_DONE:
                return execution
            if state in ATHENA_FAILED:
                status = execution["Status"]
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage")
                raise QueryError(
                    f"{self.name}: query {query_id} {state}: {reason or 'no reason given'}",
                    hint="check table and column names (`datalake status` lists the Glue catalog's tables)",
                )
            return None

        return self.lake.poller.wait(check, timeout=self.lake.timeouts.query, what=f"Athena query {query_id}")

    def _results(
        self, athena: Any, query_id: str, execution: dict[str, Any]
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        columns: list[str] = []
        converters: list[Callable[[str], Any]] = []
        rows: list[tuple[Any, ...]] = []
        first_page = True
        for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            result_set = page["ResultSet"]
            if not columns:
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [c.get("Label") or c["Name"] for c in info]
                converters = [_converter(c.get("Type", "varchar")) for c in info]
            page_rows = result_set.get("Rows", [])
            if first_page and page_rows and execution.get("StatementType", "DML") == "DML":
                # The first row of a SELECT's results is the header.
                header = [cell.get("VarCharValue") for cell in page_rows[0].get("Data", [])]
                if header == columns:
                    page_rows = page_rows[1:]
            first_page = False
            for row in page_rows:
                data = row.get("Data", [])
                rows.append(tuple(athena_value(cell, conv) for cell, conv in zip(data, converters, strict=True)))
        return columns, rows


# ---------------------------------------------------------------------------------- Redshift


def _redshift_value(field: dict[str, Any], convert: Callable[[str], Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("longValue", "doubleValue", "booleanValue"):
        if key in field:
            return field[key]
    if "stringValue" in field:
        return convert(field["stringValue"])
    if "blobValue" in field:
        return field["blobValue"]
    return None


class RedshiftData:
    """Runs SQL through the Redshift Data API (serverless workgroup or provisioned cluster)."""

    def __init__(self, lake: AwsLake) -> None:
        self.lake = lake
        mode = lake.optional("redshift_mode") or "serverless"
        if mode == "none":
            raise ConfigError(
                "this deployment has no Redshift (redshift_mode = none)",
                hint="set redshift_mode in the tfvars and run `datalake deploy --target aws` again",
            )
        self.target: dict[str, str] = {"Database": lake.require("redshift_database")}
        if workgroup := lake.optional("redshift_workgroup"):
            self.target["WorkgroupName"] = workgroup
        elif cluster := lake.optional("redshift_cluster_id"):
            self.target["ClusterIdentifier"] = cluster
            self.target["SecretArn"] = lake.require("redshift_secret_arn")
        else:
            raise ConfigError(
                "the AWS deployment outputs name no Redshift workgroup or cluster",
                hint="run `datalake deploy --target aws`",
            )

    @property
    def client(self) -> Any:
        return self.lake.client("redshift-data")

    def run(self, sqls: list[str], what: str) -> dict[str, Any]:
        """Run one statement, or several as one transaction (batch); wait; return the description."""
        with aws_errors(what):
            if len(sqls) == 1:
                started = self.client.execute_statement(Sql=sqls[0], **self.target)
            else:
                started = self.client.batch_execute_statement(Sqls=sqls, **self.target)
            statement_id = started["Id"]

            def check() -> dict[str, Any] | None:
                described: dict[str, Any] = self.client.describe_statement(Id=statement_id)
                status = described["Status"]
                if status == "FINISHED":
                    return described
                if status in REDSHIFT_FAILED:
                    failed = described.get("Error") or next(
                        (s.get("Error") for s in described.get("SubStatements", []) if s.get("Error")), None
                    )
                    raise QueryError(
                        f"{what}: Redshift statement {statement_id} {status}: {failed or 'no reason given'}",
                        hint="see the statement in the Redshift console (query history) for details",
                    )
                return None

            return self.lake.poller.wait(
                check, timeout=self.lake.timeouts.statement, what=f"Redshift statement {statement_id}"
            )

    def fetch(self, statement_id: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        columns: list[str] = []
        converters: list[Callable[[str], Any]] = []
        rows: list[tuple[Any, ...]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Id": statement_id}
            if token:
                kwargs["NextToken"] = token
            page = self.client.get_statement_result(**kwargs)
            if not columns:
                meta = page.get("ColumnMetadata", [])
                columns = [m.get("label") or m["name"] for m in meta]
                converters = [_converter(m.get("typeName", "varchar")) for m in meta]
            for record in page.get("Records", []):
                rows.append(tuple(_redshift_value(f, c) for f, c in zip(record, converters, strict=True)))
            token = page.get("NextToken")
            if not token:
                return columns, rows


class RedshiftEngine(QueryEngine):
    role = "warehouse"
    dialect = "redshift"
    name = "redshift"

    def __init__(self, lake: AwsLake) -> None:
        self.data = RedshiftData(lake)
        where = self.data.target.get("WorkgroupName") or self.data.target.get("ClusterIdentifier")
        self.description = f"Redshift {where} through the Data API (loaded, sorted tables)"

    def execute(self, sql: str) -> QueryResult:
        translated = self.translate(sql)
        began = time.perf_counter()
        described = self.data.run([translated], f"{self.name} query")
        columns: list[str] = []
        rows: list[tuple[Any, ...]] = []
        if described.get("HasResultSet"):
            with aws_errors(f"{self.name} query results"):
                columns, rows = self.data.fetch(described["Id"])
        seconds = time.perf_counter() - began
        stats = {
            "statement_id": described["Id"],
            "duration_ms": int(described.get("Duration", 0)) // 1_000_000,  # nanoseconds
            "result_rows": described.get("ResultRows"),
        }
        return QueryResult(self.name, translated, columns, rows, seconds, stats)


def open_aws_engine(lake: AwsLake, name: str) -> QueryEngine:
    from datalake.errors import UsageError

    if name == "athena":
        return AthenaEngine(lake)
    if name == "athena-raw":
        return AthenaEngine(lake, "athena-raw", RAW_TABLES)
    if name == "redshift":
        return RedshiftEngine(lake)
    raise UsageError(f"unknown --engine {name!r}", hint="choose one of: athena, athena-raw, redshift")


def open_as_of_engine(lake: AwsLake, name: str, as_of: str) -> QueryEngine:
    """Athena with every lake table read at the snapshot `as_of` names (Iceberg time travel)."""
    from datalake.errors import UsageError
    from datalake.targets.aws.iceberg import as_of_versions

    if name != "athena":
        raise UsageError(
            f"--as-of needs --engine athena on aws, not {name!r}",
            hint="athena-raw reads the raw files and redshift a loaded copy: neither has snapshots",
        )
    _, versions, instant = as_of_versions(lake, as_of)
    return AthenaEngine(lake, pins=(versions, instant))
