"""Queries are written once in Athena (Trino) SQL and translated per engine with sqlglot.

One repair is applied on the way: DATE +/- INTERVAL stays a DATE. In DuckDB
`CURRENT_DATE - INTERVAL '30' DAY` is a TIMESTAMP, and comparing a DATE column to a timestamp
keeps the filter from reaching the Parquet scan (every row group is read). Trino keeps it a date,
so casting back to DATE also preserves the query's meaning.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from datalake.errors import QueryError

SOURCE_DIALECT = "trino"
DATE_UNITS = {"DAY", "DAYS", "WEEK", "WEEKS", "MONTH", "MONTHS", "YEAR", "YEARS"}


def _is_date(node: object) -> bool:
    from sqlglot import exp

    if isinstance(node, exp.CurrentDate):
        return True
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DATE:
        return True
    return isinstance(node, exp.Paren) and _is_date(node.this)


def _keep_dates(node: object) -> object:
    from sqlglot import exp

    if isinstance(node, exp.Add | exp.Sub):
        left, right = node.this, node.expression
        if isinstance(right, exp.Interval) and _is_date(left):
            unit = right.args.get("unit")
            if unit is not None and unit.name.upper() in DATE_UNITS:
                return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
    return node


@lru_cache(maxsize=256)
def translate(sql: str, dialect: str) -> str:
    """Translate Athena (Trino) SQL to `dialect` (duckdb, spark, redshift, trino/athena)."""
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        statements = sqlglot.parse(sql, read=SOURCE_DIALECT)
    except ParseError as exc:
        first = str(exc).splitlines()[0]
        raise QueryError(f"cannot parse the query as Athena SQL: {first}", hint="check the SQL syntax") from exc
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    tree: Any = statements[0]
    if dialect == "duckdb":
        tree = tree.transform(_keep_dates)
    if dialect in ("trino", "athena"):
        return tree.sql(dialect="trino")
    return tree.sql(dialect=dialect)


@lru_cache(maxsize=256)
def anchor_dates(sql: str, as_of: str) -> str:
    """Replace CURRENT_DATE with the date `as_of` (YYYY-MM-DD), so relative queries are reproducible.

    The result is still Athena SQL; `translate` then keeps its date arithmetic on dates.
    """
    import sqlglot
    from sqlglot import exp

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CurrentDate):
            return exp.Cast(this=exp.Literal.string(as_of), to=exp.DataType.build("DATE"))
        return node

    return sqlglot.parse_one(sql, read=SOURCE_DIALECT).transform(swap).sql(dialect="trino")


def order_keys(sql: str) -> list[int | str] | None:
    """The outer ORDER BY as output column positions (0-based) or names; None when there is no ORDER BY.

    A key that is neither an output column's name nor an ordinal comes back as its SQL text, so
    callers know they cannot group ties by it.
    """
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    order = tree.args.get("order")
    if order is None:
        return None
    names = [s.alias_or_name for s in tree.selects] if isinstance(tree, exp.Query) else []
    keys: list[int | str] = []
    for ordered in order.expressions:
        key = ordered.this
        if isinstance(key, exp.Literal) and not key.is_string:
            keys.append(int(key.name) - 1)
        elif isinstance(key, exp.Column) and key.name in names:
            keys.append(names.index(key.name))
        else:
            keys.append(key.sql(dialect=SOURCE_DIALECT))
    return keys
