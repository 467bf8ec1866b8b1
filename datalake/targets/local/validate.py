"""Data-quality report: what the original demo's validate_data.py promised, measured on the lake.

Checks: every raw record accounted for (raw = processed + quarantined = warehouse), rule-by-rule
quarantine counts, no duplicate sale_id, required columns never NULL, rows in the partition their
own date names, the published schema matches the definition, nothing left unprocessed, freshness.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from datalake.domain.duckdb_sql import connect as duckdb_connect
from datalake.domain.duckdb_sql import fetch_rejects, records_sql, sql_list
from datalake.domain.schema import SALES_FACT_COLUMNS, WAREHOUSE_FACT_TABLE
from datalake.domain.transform import REASONS
from datalake.layout import LakeLayout
from datalake.model import Check, ValidationReport
from datalake.targets.local.bookmark import Bookmark
from datalake.targets.local.crawler import list_data_files
from datalake.targets.local.etl.run import JOB_NAME, require_lake
from datalake.targets.local.warehouse import fact_reader_sql

REQUIRED_FACT_COLUMNS = ("sale_id", "customer_id", "product_id", "sale_date", "total_amount", "region")


def _count_raw_records(con: Any, layout: LakeLayout, relatives: set[str]) -> int:
    files = [
        f
        for f in list_data_files(layout.raw, "raw", "sales") + list_data_files(layout.archive, "archive", "sales")
        if f.relative in relatives and f.size > 0
    ]
    if not files:
        return 0
    sql = records_sql(
        con,
        [f.path for f in files if f.format == "json"],
        [f.path for f in files if f.format == "csv"],
        [layout.raw, layout.archive],
        store_rejects=True,
    )
    # count(_raw_record) makes the reader decode every line, so lines it cannot take (invalid UTF-8) are
    # found and rejected, and counted below with the records
    rows = con.execute(
        f"SELECT count(_raw_record) + count(*) FILTER (WHERE _raw_record IS NULL) FROM ({sql})"
    ).fetchone()[0]
    return int(rows + len(fetch_rejects(con)))


def validate(layout: LakeLayout, freshness_days: int | None = None, today: date | None = None) -> ValidationReport:
    from datalake.targets.local import warehouse

    require_lake(layout)
    today = today or datetime.now(UTC).date()
    checks: list[Check] = []
    con: Any = duckdb_connect()
    facts = [f.path for f in list_data_files(layout.processed, "processed", "sales_fact")]
    quarantined = [f.path for f in list_data_files(layout.quarantine, "quarantine", "sales")]
    bookmark = Bookmark.load(layout, JOB_NAME)

    processed = 0
    if facts:
        con.execute(f"CREATE VIEW sales_fact AS {fact_reader_sql(facts)}")
        processed = con.execute("SELECT count(*) FROM sales_fact").fetchone()[0]
    rules = dict.fromkeys(REASONS, 0)
    quarantine_rows = 0
    if quarantined:
        for reason, n in con.execute(
            f"SELECT reason, count(*) FROM read_parquet({sql_list(quarantined)}) GROUP BY ALL"
        ).fetchall():
            rules[reason] = n
            quarantine_rows += n
    raw_rows = _count_raw_records(con, layout, set(bookmark.files))
    wh_counts = warehouse.table_counts(layout)
    wh_rows = wh_counts.get(WAREHOUSE_FACT_TABLE, 0)

    balanced = raw_rows == processed + quarantine_rows
    checks.append(
        Check(
            "reconciliation",
            "pass" if balanced and processed == wh_rows else "fail",
            f"raw {raw_rows:,} = processed {processed:,} + quarantined {quarantine_rows:,}; warehouse {wh_rows:,}",
            {"raw": raw_rows, "processed": processed, "quarantined": quarantine_rows, "warehouse": wh_rows},
        )
    )
    rate = quarantine_rows / raw_rows if raw_rows else 0.0
    checks.append(
        Check(
            "quality_rules",
            "pass" if rate <= 0.05 else "warn",
            f"{quarantine_rows:,} rows quarantined ({rate:.3%}) by {sum(1 for v in rules.values() if v)} rule(s)",
            {"rate": rate, "by_rule": {k: v for k, v in rules.items() if v}},
        )
    )
    if facts:
        dups = con.execute(
            "SELECT count(*) FROM (SELECT sale_id FROM sales_fact GROUP BY sale_id HAVING count(*) > 1)"
        ).fetchone()[0]
        wh_dups = 0
        if layout.warehouse_db.is_file():
            wcon = warehouse.connect(layout, read_only=True)
            try:
                wh_dups = wcon.execute(
                    f"SELECT count(*) FROM (SELECT sale_id FROM {WAREHOUSE_FACT_TABLE} GROUP BY 1 HAVING count(*) > 1)"
                ).fetchone()[0]
            finally:
                wcon.close()
        checks.append(
            Check(
                "no_duplicate_sale_id",
                "pass" if dups == 0 and wh_dups == 0 else "fail",
                f"{dups} duplicated sale_id in the lake, {wh_dups} in the warehouse",
                {"lake": dups, "warehouse": wh_dups},
            )
        )
        nulls = con.execute(
            "SELECT "
            + ", ".join(f"count(*) FILTER (WHERE {c} IS NULL)" for c in REQUIRED_FACT_COLUMNS)
            + " FROM sales_fact"
        ).fetchone()
        null_map = {c: n for c, n in zip(REQUIRED_FACT_COLUMNS, nulls, strict=True) if n}
        checks.append(
            Check(
                "required_columns_not_null",
                "fail" if null_map else "pass",
                "no NULLs in " + ", ".join(REQUIRED_FACT_COLUMNS) if not null_map else f"NULLs found: {null_map}",
                null_map,
            )
        )
        misplaced = con.execute(
            "SELECT count(*) FROM sales_fact WHERE year <> extract(year FROM sale_date) "
            "OR month <> extract(month FROM sale_date) OR day <> extract(day FROM sale_date)"
        ).fetchone()[0]
        checks.append(
            Check(
                "partitions_follow_record_dates",
                "fail" if misplaced else "pass",
                f"{misplaced} rows in a partition other than their own sale_date's",
                {"misplaced": misplaced},
            )
        )
        actual = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE sales_fact)").fetchall())
        expected = {c.name: c.type for c in SALES_FACT_COLUMNS}
        drift = {k: {"expected": v, "actual": actual.get(k)} for k, v in expected.items() if actual.get(k) != v}
        checks.append(
            Check(
                "schema_matches_definition",
                "fail" if drift else "pass",
                "processed columns and types match the schema" if not drift else f"schema drift: {drift}",
                drift,
            )
        )
        newest = con.execute("SELECT max(sale_date) FROM sales_fact").fetchone()[0]
        age = (today - newest).days if newest else None
        stale = age is None or (freshness_days is not None and age > freshness_days)
        checks.append(
            Check(
                "freshness",
                ("fail" if freshness_days is not None else "warn") if stale else "pass",
                f"newest sale_date {newest} is {age} day(s) old"
                + (f" (limit {freshness_days})" if freshness_days is not None else ""),
                {"newest": str(newest), "age_days": age},
            )
        )
    else:
        checks.append(Check("processed_data_present", "fail", "no processed sales yet: run `datalake run-etl`"))

    pending = bookmark.pending(list_data_files(layout.raw, "raw", "sales"))
    checks.append(
        Check(
            "raw_files_processed",
            "warn" if pending else "pass",
            f"{len(pending)} raw file(s) not yet processed" if pending else "every raw file has been processed",
            {"pending": len(pending)},
        )
    )
    con.close()
    return ValidationReport(checks, rules)
