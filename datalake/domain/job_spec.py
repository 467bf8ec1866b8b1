"""The Spark jobs' copy of the transform: `jobs/transform_spec.json`, generated from transform.py.

A Glue or EMR job cannot import this package, so it reads this file instead: the transform's
definitions as data (`transform.spec()`), the dimension and output schemas, and every SQL
statement already translated to Spark SQL with sqlglot. The file is committed (it ships next to
the job), and a test fails when it no longer matches what this module generates, so the two
engines cannot drift. Regenerate it with `python -m datalake.domain.job_spec`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from datalake.domain import transform
from datalake.domain.schema import (
    DIMENSIONS,
    FACT_SORT_KEY,
    QUARANTINE_COLUMNS,
    SALES_FACT_COLUMNS,
    SALES_PARTITION_KEYS,
)
from datalake.layout import JOBS_DIR

SPEC_PATH = JOBS_DIR / "transform_spec.json"

# Relation names the Spark job registers as temporary views before running the SQL.
RELATIONS = {
    "json_lines": "json_lines",
    "csv_lines": "csv_lines",
    "records": "records",
    "customers": "customers",
    "products": "products",
    "stores": "stores",
    "ruled": "ruled",
    "existing_ids": "existing_ids",
    "flagged": "flagged",
    "sales_fact": "sales_fact",
}


# Characters Java's String.split takes literally on its fast path (no regular expression compiled).
_REGEX_META = ".$|()[{^?*+\\"


def _split_on_literal_char(node: Any) -> Any:
    """A split on one plain character, written so Spark splits without a regular expression.

    sqlglot quotes the separator of a literal split (`\\Q,\\E`) for Spark's regex-based `split`; Java
    then compiles that pattern for every row (reading 600,000 CSV lines took 20-40% more CPU).
    A single character that is not a regex metacharacter means the same thing unquoted and takes
    Java's fast path.
    """
    from sqlglot import exp

    if isinstance(node, exp.Split) and isinstance(node.expression, exp.Literal) and node.expression.is_string:
        separator = node.expression.this
        if len(separator) == 1 and separator not in _REGEX_META:
            return exp.RegexpSplit(this=node.this, expression=node.expression)
    return node


def _byte_length(node: Any) -> Any:
    """DuckDB's `strlen` (a string's length in bytes) as Spark's `octet_length`; sqlglot keeps the name."""
    from sqlglot import exp

    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "strlen":
        return exp.Anonymous(this="octet_length", expressions=node.expressions)
    return node


@lru_cache(maxsize=64)
def to_spark(sql: str, read: str = "duckdb") -> str:
    """One statement translated to Spark SQL. DuckDB's TIMESTAMP becomes TIMESTAMP_NTZ (no time zone)."""
    import sqlglot

    tree = sqlglot.parse_one(sql, read=read).transform(_split_on_literal_char).transform(_byte_length)
    return str(tree.sql(dialect="spark", pretty=True))


def spark_type(sql_type: str) -> str:
    """A column type as Spark DDL (VARCHAR -> STRING, TIMESTAMP -> TIMESTAMP_NTZ, DECIMAL kept)."""
    sql = to_spark(f"SELECT CAST(x AS {sql_type})")
    return sql[sql.index(" AS ") + 4 : sql.rindex(")")]


def _ddl(columns: Any) -> str:
    return ", ".join(f"{c.name} {spark_type(c.type)}" for c in columns)


def build() -> dict[str, Any]:
    """The whole spec, as written to jobs/transform_spec.json."""
    from datalake.domain.aggregates import CUSTOMER_AGGREGATES_SQL

    r = RELATIONS
    return {
        "generated_by": "python -m datalake.domain.job_spec (from datalake/domain/transform.py); do not edit by hand",
        "transform": transform.spec(),
        "relations": r,
        "partition_keys": list(SALES_PARTITION_KEYS),
        "fact_columns": [{"name": c.name, "spark_type": spark_type(c.type)} for c in SALES_FACT_COLUMNS],
        "fact_sort": list(FACT_SORT_KEY),
        "quarantine_columns": [c.name for c in QUARANTINE_COLUMNS],
        "quarantine_sort": ["source_file", "reason"],
        "dimensions": {name: _ddl(cols) for name, cols in DIMENSIONS.items()},
        "spark_sql": {
            "json_lines": to_spark(transform.checked_lines_sql(r["json_lines"])),
            "csv_records": to_spark(transform.csv_records_sql(r["csv_lines"])),
            "ruled": to_spark(transform.ruled_sql(r["records"], r["customers"], r["products"], r["stores"])),
            "flagged": to_spark(transform.flagged_sql(r["ruled"], None)),
            "flagged_with_existing": to_spark(transform.flagged_sql(r["ruled"], r["existing_ids"])),
            "output": to_spark(transform.output_sql(r["flagged"], (r["customers"], r["products"], r["stores"]))),
            "customer_aggregates": to_spark(CUSTOMER_AGGREGATES_SQL, read="trino"),
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


def write(path: Path = SPEC_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


def is_current(path: Path = SPEC_PATH) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == render()


if __name__ == "__main__":
    print(f"wrote {write()}")
