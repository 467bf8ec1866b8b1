from __future__ import annotations

import pytest

from datalake.domain.sql import translate
from datalake.errors import QueryError

DEMO_DAILY = (
    "SELECT sale_date, COUNT(*) AS total_orders, SUM(total_amount) AS total_sales FROM sales_fact "
    "WHERE sale_date >= CURRENT_DATE - INTERVAL '30' DAY GROUP BY sale_date ORDER BY sale_date DESC"
)


def test_date_minus_interval_stays_a_date_in_duckdb() -> None:
    import duckdb

    sql = translate(DEMO_DAILY, "duckdb")
    assert "CAST(CURRENT_DATE - INTERVAL '30' DAY AS DATE)" in sql
    con = duckdb.connect()
    expr = translate("SELECT DATE '2026-11-01' - INTERVAL '30' DAY AS d", "duckdb")
    assert con.execute(f"SELECT typeof(d) FROM ({expr})").fetchall() == [("DATE",)]


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "redshift", "trino"])
def test_demo_queries_translate_to_every_dialect(dialect: str) -> None:
    import sqlglot

    out = translate(DEMO_DAILY, dialect)
    assert sqlglot.parse_one(out, read=dialect) is not None


def test_bad_sql_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="cannot parse"):
        translate("SELECT FROM WHERE (", "duckdb")
    with pytest.raises(QueryError, match="exactly one"):
        translate("SELECT 1; SELECT 2", "duckdb")
