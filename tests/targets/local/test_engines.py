from __future__ import annotations

from decimal import Decimal

import pytest

from datalake.errors import LakeNotFoundError, QueryError
from datalake.layout import LakeLayout
from datalake.targets.local.engines import LOCAL_ENGINES, open_local_engine

QUERIES = [
    "SELECT count(*), sum(total_amount), min(sale_date), max(sale_date) FROM sales_fact",
    "SELECT region, channel, count(*) AS n, sum(total_amount) AS s FROM sales_fact GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT p.category, count(*) FROM sales_fact_redshift f JOIN products p ON p.product_id = f.product_id "
    "GROUP BY 1 ORDER BY 1",
    "SELECT customer_segment, round(avg(profit_margin), 4) FROM sales_fact GROUP BY 1 ORDER BY 1",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_every_engine_returns_the_same_answer(shared_processed_lake: LakeLayout, sql: str) -> None:
    answers = {}
    for name in LOCAL_ENGINES:
        with open_local_engine(shared_processed_lake, name) as engine:
            answers[name] = engine.execute(sql).rows
    assert answers["lake"] == answers["warehouse"] == answers["raw"]
    assert answers["lake"]


def test_money_is_exact_decimal(shared_processed_lake: LakeLayout) -> None:
    with open_local_engine(shared_processed_lake, "lake") as engine:
        (total,) = engine.execute("SELECT sum(total_amount) FROM sales_fact").rows[0]
    assert isinstance(total, Decimal) and total == total.quantize(Decimal("0.01"))


def test_empty_lake_says_what_to_run(lake: LakeLayout) -> None:
    with pytest.raises(LakeNotFoundError) as info:
        open_local_engine(lake, "lake")
    assert "run-etl" in str(info.value.hint)


def test_unknown_table_is_a_query_error(shared_processed_lake: LakeLayout) -> None:
    with open_local_engine(shared_processed_lake, "lake") as engine, pytest.raises(QueryError):
        engine.execute("SELECT * FROM nope")
