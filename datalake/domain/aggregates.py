"""The heavy EMR-style job's query: customer lifetime value and RFM segments over all processed sales.

Written once in the Athena (Trino) dialect, like every query of the project: the Spark job
(jobs/customer_aggregates.py) runs its Spark translation from jobs/transform_spec.json, and DuckDB
can run the DuckDB translation on the same Parquet to check it. Every output column is cast to
an explicit type (sums of decimals stay DECIMAL, no division), so both engines agree exactly.

Recency is measured from the newest sale in the data, not from today, so a rerun on the same
data gives the same table.
"""

from __future__ import annotations

from datalake.domain.schema import Column

TABLE = "customer_aggregates"
LOCATION = f"processed/aggregates/{TABLE}"

CUSTOMER_AGGREGATES_SQL = """
WITH per_customer AS (
  SELECT customer_id,
    max(customer_segment) AS customer_segment,
    min(sale_date) AS first_purchase,
    max(sale_date) AS last_purchase,
    count(*) AS orders,
    sum(quantity) AS units,
    sum(total_amount) AS monetary,
    sum(total_amount * profit_margin) AS gross_profit,
    count(DISTINCT region) AS regions
  FROM sales_fact
  GROUP BY customer_id
), as_of AS (
  SELECT max(sale_date) AS as_of FROM sales_fact
), scored AS (
  SELECT c.*,
    date_diff('day', c.last_purchase, a.as_of) AS recency_days,
    date_diff('day', c.first_purchase, a.as_of) AS tenure_days,
    ntile(5) OVER (ORDER BY c.last_purchase, c.customer_id) AS r_score,
    ntile(5) OVER (ORDER BY c.orders, c.customer_id) AS f_score,
    ntile(5) OVER (ORDER BY c.monetary, c.customer_id) AS m_score
  FROM per_customer c CROSS JOIN as_of a
)
SELECT
  CAST(customer_id AS BIGINT) AS customer_id,
  CAST(customer_segment AS VARCHAR) AS customer_segment,
  CAST(first_purchase AS DATE) AS first_purchase,
  CAST(last_purchase AS DATE) AS last_purchase,
  CAST(recency_days AS INTEGER) AS recency_days,
  CAST(tenure_days AS INTEGER) AS tenure_days,
  CAST(orders AS BIGINT) AS orders,
  CAST(units AS BIGINT) AS units,
  CAST(regions AS INTEGER) AS regions,
  CAST(monetary AS DECIMAL(18, 2)) AS lifetime_value,
  CAST(gross_profit AS DECIMAL(18, 2)) AS lifetime_gross_profit,
  CAST(r_score AS INTEGER) AS r_score,
  CAST(f_score AS INTEGER) AS f_score,
  CAST(m_score AS INTEGER) AS m_score,
  CAST(CASE
    WHEN r_score >= 4 AND f_score >= 4 AND m_score >= 4 THEN 'Champions'
    WHEN r_score >= 3 AND f_score >= 3 THEN 'Loyal'
    WHEN r_score >= 4 THEN 'Recent'
    WHEN r_score <= 2 AND f_score >= 3 THEN 'At Risk'
    WHEN r_score <= 2 THEN 'Hibernating'
    ELSE 'Promising'
  END AS VARCHAR) AS rfm_segment
FROM scored
ORDER BY customer_id
"""

COLUMNS: tuple[Column, ...] = (
    Column("customer_id", "BIGINT"),
    Column("customer_segment", "VARCHAR"),
    Column("first_purchase", "DATE"),
    Column("last_purchase", "DATE"),
    Column("recency_days", "INTEGER", "days from the last purchase to the newest sale in the data"),
    Column("tenure_days", "INTEGER", "days from the first purchase to the newest sale in the data"),
    Column("orders", "BIGINT"),
    Column("units", "BIGINT"),
    Column("regions", "INTEGER", "distinct regions bought in"),
    Column("lifetime_value", "DECIMAL(18,2)", "revenue over the whole history"),
    Column("lifetime_gross_profit", "DECIMAL(18,2)", "sum of total_amount * profit_margin"),
    Column("r_score", "INTEGER", "recency quintile, 5 = most recent"),
    Column("f_score", "INTEGER", "frequency quintile, 5 = most orders"),
    Column("m_score", "INTEGER", "monetary quintile, 5 = highest value"),
    Column("rfm_segment", "VARCHAR", "Champions, Loyal, Recent, Promising, At Risk or Hibernating"),
)
