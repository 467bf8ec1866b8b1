"""The retail star schema: one definition of every table's columns and types.

Raw files carry what a source system emits (ids, amounts, a timestamp); the ETL joins the
dimensions to produce `sales_fact` with every column of the original demo's table, plus the
keys and attributes a real star schema needs. Types are SQL type names understood by DuckDB,
Spark and Athena alike (money is DECIMAL(12,2) everywhere so engines agree to the cent).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""


# Fields of a raw sales record, in file order (CSV header order, JSON key order).
RAW_SALES_FIELDS: tuple[str, ...] = (
    "sale_id",
    "channel",
    "customer_id",
    "product_id",
    "store_id",
    "quantity",
    "unit_price",
    "discount",
    "total_amount",
    "payment_method",
    "sale_timestamp",
)

DIMENSIONS: dict[str, tuple[Column, ...]] = {
    "customers": (
        Column("customer_id", "BIGINT", "surrogate key"),
        Column("customer_name", "VARCHAR"),
        Column("email", "VARCHAR"),
        Column("city", "VARCHAR"),
        Column("region", "VARCHAR", "home region, used for online sales"),
        Column("customer_segment", "VARCHAR", "Consumer, Corporate, Small Business or VIP"),
        Column("signup_date", "DATE"),
    ),
    "products": (
        Column("product_id", "BIGINT", "surrogate key"),
        Column("product_name", "VARCHAR"),
        Column("category", "VARCHAR"),
        Column("brand", "VARCHAR"),
        Column("unit_cost", "DECIMAL(12,2)", "what the retailer pays"),
        Column("list_price", "DECIMAL(12,2)"),
    ),
    "stores": (
        Column("store_id", "BIGINT", "surrogate key"),
        Column("store_name", "VARCHAR"),
        Column("city", "VARCHAR"),
        Column("region", "VARCHAR"),
        Column("opened_date", "DATE"),
    ),
}

DIMENSION_KEYS = {"customers": "customer_id", "products": "product_id", "stores": "store_id"}

# The processed fact table. Every column of the original demo's sales_fact is here, by name.
SALES_FACT_COLUMNS: tuple[Column, ...] = (
    Column("sale_id", "BIGINT"),
    Column("customer_id", "BIGINT"),
    Column("product_id", "BIGINT"),
    Column("store_id", "BIGINT", "NULL for online orders"),
    Column("channel", "VARCHAR", "online or store"),
    Column("product_name", "VARCHAR"),
    Column("category", "VARCHAR"),
    Column("quantity", "INTEGER"),
    Column("unit_price", "DECIMAL(12,2)"),
    Column("discount", "DECIMAL(4,3)", "fraction off the list price"),
    Column("total_amount", "DECIMAL(12,2)"),
    Column("region", "VARCHAR", "store region, or the customer's region for online orders"),
    Column("payment_method", "VARCHAR"),
    Column("sale_date", "DATE"),
    Column("sale_timestamp", "TIMESTAMP"),
    Column("processing_timestamp", "TIMESTAMP"),
    Column("profit_margin", "DECIMAL(6,4)", "(total - quantity * unit_cost) / total"),
    Column("customer_segment", "VARCHAR"),
    Column("month_name", "VARCHAR"),
    Column("quarter", "INTEGER"),
    Column("day_of_week", "VARCHAR"),
    Column("year", "INTEGER"),
    Column("month", "INTEGER"),
    Column("day", "INTEGER"),
)

# Processed sales are partitioned by month: day partitions would make files far too small
# (1M rows a year is ~2,700 rows a day); rows are sorted by sale_date inside each file so
# Parquet row-group statistics still prune by day.
SALES_PARTITION_KEYS: tuple[str, ...] = ("year", "month")

QUARANTINE_COLUMNS: tuple[Column, ...] = (
    Column("source_file", "VARCHAR", "raw file, relative to its zone"),
    Column("raw_record", "VARCHAR", "the original record text"),
    Column("reason", "VARCHAR", "the first quality rule the record failed"),
    Column("detail", "VARCHAR"),
    Column("run_id", "VARCHAR"),
)

# Names the engines expose: the demo queries `sales_fact` on Athena and `sales_fact_redshift`
# on Redshift; every engine answers to both so one query text runs everywhere.
FACT_TABLE = "sales_fact"
WAREHOUSE_FACT_TABLE = "sales_fact_redshift"
WAREHOUSE_SORT_KEY = ("sale_date", "region")
# Row order inside every processed fact file, in every engine: the warehouse's sort key (the date first,
# as lake readers want it), sale_id to make it total. Files in this order are appended to the warehouse
# as they are, with no sort of their own (`warehouse.load_run`).
FACT_SORT_KEY = (*WAREHOUSE_SORT_KEY, "sale_id")


def column_names(columns: tuple[Column, ...]) -> list[str]:
    return [c.name for c in columns]
