"""Data-quality report: what the original demo's validate_data.py promised, measured on the lake.

Checks: every raw record accounted for (raw = processed + quarantined = warehouse), rule-by-rule
quarantine counts, no duplicate sale_id, required columns never NULL, rows in the partition their
own date names, the published schema matches the definition, nothing left unprocessed, freshness,
and the Iceberg tables agree with their files. The processed tables are read as their current
Iceberg snapshots name them, as every reader does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import fetch_rejects, sql_list
from datalake.domain.schema import SALES_FACT_COLUMNS, WAREHOUSE_FACT_TABLE
from datalake.domain.transform import REASONS
from datalake.layout import LakeLayout
from datalake.model import Check, ValidationReport
from datalake.targets.local import duckdb_resources, warehouse
from datalake.targets.local.bookmark import Bookmark
from datalake.targets.local.crawler import list_data_files, sales_files, sales_records_sql
from datalake.targets.local.engines import published_files
from datalake.targets.local.erase_remove import erased_rows
from datalake.targets.local.etl.run import JOB_NAME, require_lake
from datalake.targets.local.sandbox import lock_down

REQUIRED_FACT_COLUMNS = ("sale_id", "customer_id", "product_id", "sale_date", "total_amount", "region")


def _count_raw_records(con: Any, layout: LakeLayout, relatives: set[str]) -> int:
    files = [f for f in sales_files(layout) if f.relative in relatives and f.size > 0]
    if not files:
        return 0
    sql = sales_records_sql(con, layout, files, store_rejects=True)
    # count(_raw_record) makes the reader decode every line, so lines it cannot take (invalid UTF-8) are
    # found and rejected, and counted below with the records
    rows = con.execute(
        f"SELECT count(_raw_record) + count(*) FILTER (WHERE _raw_record IS NULL) FROM ({sql})"
    ).fetchone()[0]
    return int(rows + len(fetch_rejects(con)))


def validate(layout: LakeLayout, freshness_days: int | None = None, today: date | None = None) -> ValidationReport:
    """Measure the lake against every promise in the module docstring; failures fail the report, warnings do not."""
    require_lake(layout)
    today = today or datetime.now(UTC).date()
    con: Any = duckdb_resources.connect(layout.scratch)
    try:
        lock_down(con, [layout.root])  # the checks read the lake, as a query would, and nothing else
        # a file the snapshot names but the disk lost fails iceberg_tables_consistent; the other checks read the rest
        facts, quarantined = _current_files(layout)
        bookmark = Bookmark.load(layout, JOB_NAME)
        processed = 0
        if facts:
            con.execute(f"CREATE VIEW sales_fact AS {warehouse.fact_reader_sql(facts)}")
            processed = con.execute("SELECT count(*) FROM sales_fact").fetchone()[0]
        rules = _quarantine_by_rule(con, quarantined)
        raw_rows = _count_raw_records(con, layout, set(bookmark.files))
        wh_rows = warehouse.table_counts(layout).get(WAREHOUSE_FACT_TABLE, 0)

        checks = [
            _reconciliation(raw_rows, processed, sum(rules.values()), wh_rows, erased_rows(layout)),
            _quality_rules(rules, raw_rows),
        ]
        if facts:
            checks += [
                _no_duplicate_sale_id(con, layout),
                _required_columns_not_null(con),
                _partitions_follow_record_dates(con),
                _schema_matches_definition(con),
                _freshness(con, today, freshness_days),
            ]
        else:
            checks.append(Check("processed_data_present", "fail", "no processed sales yet: run `datalake run-etl`"))
        checks.append(_raw_files_processed(layout, bookmark))
        checks.append(_iceberg_tables_consistent(layout))
    finally:
        con.close()
    return ValidationReport(checks, rules)


def _quarantine_by_rule(con: Any, quarantined: list[Path]) -> dict[str, int]:
    """Quarantined rows per quality rule, every rule listed (0 when it caught nothing)."""
    rules = dict.fromkeys(REASONS, 0)
    if quarantined:
        for reason, n in con.execute(
            f"SELECT reason, count(*) FROM read_parquet({sql_list(quarantined)}) GROUP BY ALL"
        ).fetchall():
            rules[reason] = n
    return rules


def _reconciliation(raw_rows: int, processed: int, quarantine_rows: int, wh_rows: int, erased: int = 0) -> Check:
    """Every raw record is accounted for: processed, quarantined or erased, and every processed row loaded.

    erased: rows `datalake erase` took from the tables whose raw lines are still counted (its audit records).
    """
    balanced = raw_rows == processed + quarantine_rows + erased
    also = f" + erased {erased:,}" if erased else ""
    return Check(
        "reconciliation",
        "pass" if balanced and processed == wh_rows else "fail",
        f"raw {raw_rows:,} = processed {processed:,} + quarantined {quarantine_rows:,}{also}; warehouse {wh_rows:,}",
        {
            "raw": raw_rows,
            "processed": processed,
            "quarantined": quarantine_rows,
            "erased": erased,
            "warehouse": wh_rows,
        },
    )


def _quality_rules(rules: dict[str, int], raw_rows: int) -> Check:
    """How much the rules quarantine: above 5% of the records is worth a look, not a failure."""
    quarantine_rows = sum(rules.values())
    rate = quarantine_rows / raw_rows if raw_rows else 0.0
    return Check(
        "quality_rules",
        "pass" if rate <= 0.05 else "warn",
        f"{quarantine_rows:,} rows quarantined ({rate:.3%}) by {sum(1 for v in rules.values() if v)} rule(s)",
        {"rate": rate, "by_rule": {k: v for k, v in rules.items() if v}},
    )


def _no_duplicate_sale_id(con: Any, layout: LakeLayout) -> Check:
    """No sale_id twice, in the lake or in the warehouse: a re-run or a recovered run added nothing twice."""
    dups = con.execute(
        "SELECT count(*) FROM (SELECT sale_id FROM sales_fact GROUP BY sale_id HAVING count(*) > 1)"
    ).fetchone()[0]
    wh_dups = 0
    if warehouse.current(layout) is not None:
        wcon = warehouse.connect(layout)
        try:
            wh_dups = wcon.execute(
                f"SELECT count(*) FROM (SELECT sale_id FROM {WAREHOUSE_FACT_TABLE} GROUP BY 1 HAVING count(*) > 1)"
            ).fetchone()[0]
        finally:
            wcon.close()
    return Check(
        "no_duplicate_sale_id",
        "pass" if dups == 0 and wh_dups == 0 else "fail",
        f"{dups} duplicated sale_id in the lake, {wh_dups} in the warehouse",
        {"lake": dups, "warehouse": wh_dups},
    )


def _required_columns_not_null(con: Any) -> Check:
    nulls = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {c} IS NULL)" for c in REQUIRED_FACT_COLUMNS)
        + " FROM sales_fact"
    ).fetchone()
    null_map = {c: n for c, n in zip(REQUIRED_FACT_COLUMNS, nulls, strict=True) if n}
    return Check(
        "required_columns_not_null",
        "fail" if null_map else "pass",
        "no NULLs in " + ", ".join(REQUIRED_FACT_COLUMNS) if not null_map else f"NULLs found: {null_map}",
        null_map,
    )


def _partitions_follow_record_dates(con: Any) -> Check:
    """Rows sit in the partition of their own sale_date, never the run's date."""
    misplaced = con.execute(
        "SELECT count(*) FROM sales_fact WHERE year <> extract(year FROM sale_date) "
        "OR month <> extract(month FROM sale_date) OR day <> extract(day FROM sale_date)"
    ).fetchone()[0]
    return Check(
        "partitions_follow_record_dates",
        "fail" if misplaced else "pass",
        f"{misplaced} rows in a partition other than their own sale_date's",
        {"misplaced": misplaced},
    )


def _schema_matches_definition(con: Any) -> Check:
    actual = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE sales_fact)").fetchall())
    expected = {c.name: c.type for c in SALES_FACT_COLUMNS}
    drift = {k: {"expected": v, "actual": actual.get(k)} for k, v in expected.items() if actual.get(k) != v}
    return Check(
        "schema_matches_definition",
        "fail" if drift else "pass",
        "processed columns and types match the schema" if not drift else f"schema drift: {drift}",
        drift,
    )


def _freshness(con: Any, today: date, freshness_days: int | None) -> Check:
    """How old the newest sale is: a failure only when the caller set a limit, else a warning when stale."""
    newest = con.execute("SELECT max(sale_date) FROM sales_fact").fetchone()[0]
    age = (today - newest).days if newest else None
    stale = age is None or (freshness_days is not None and age > freshness_days)
    return Check(
        "freshness",
        ("fail" if freshness_days is not None else "warn") if stale else "pass",
        f"newest sale_date {newest} is {age} day(s) old"
        + (f" (limit {freshness_days})" if freshness_days is not None else ""),
        {"newest": str(newest), "age_days": age},
    )


def _raw_files_processed(layout: LakeLayout, bookmark: Bookmark) -> Check:
    pending = bookmark.pending(list_data_files(layout.raw, "raw", "sales"))
    return Check(
        "raw_files_processed",
        "warn" if pending else "pass",
        f"{len(pending)} raw file(s) not yet processed" if pending else "every raw file has been processed",
        {"pending": len(pending)},
    )


def _current_files(layout: LakeLayout) -> tuple[list[Path], list[Path]]:
    """sales_fact's and the quarantine's files in their current Iceberg snapshots (see `published_files`)."""
    published = published_files(layout)
    return published.facts, published.quarantined


def _iceberg_tables_consistent(layout: LakeLayout) -> Check:
    """Each table's current snapshot names only files that exist, and its row total is what those files hold."""
    import pyarrow.parquet as pq

    from datalake.targets.local import iceberg

    stats = iceberg.table_stats(layout)
    problems: list[str] = []
    for name, figures in stats.items():
        files = iceberg.snapshot_files(layout, name)
        missing = [p for p in files if not p.is_file()]
        if missing:
            problems.append(f"{name}: {len(missing)} file(s) of the current snapshot missing, e.g. {missing[0]}")
            continue
        rows = sum(pq.read_metadata(p).num_rows for p in files)
        if rows != figures["rows"] or len(files) != figures["files"]:
            problems.append(
                f"{name}: snapshot says {figures['rows']} rows in {figures['files']} files, "
                f"the files hold {rows} rows in {len(files)}"
            )
    if not stats:
        return Check("iceberg_tables_consistent", "warn", "no Iceberg snapshot yet: run `datalake run-etl`")
    detail = "; ".join(problems) if problems else f"{len(stats)} tables: every file present, row totals match"
    return Check(
        "iceberg_tables_consistent",
        "fail" if problems else "pass",
        detail,
        {name: {"rows": f["rows"], "files": f["files"], "snapshots": f["snapshots"]} for name, f in stats.items()},
    )
