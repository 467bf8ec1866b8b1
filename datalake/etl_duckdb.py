"""The DuckDB transform engine: one process, spills to disk, bounded memory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from datalake.duckdb_sql import dimension_reader_sql, fetch_rejects, records_sql, sql_list, sql_string
from datalake.errors import InputError
from datalake.etl_engine import TransformJob, TransformOutput
from datalake.progress import Progress
from datalake.schema import QUARANTINE_COLUMNS, SALES_FACT_COLUMNS, SALES_PARTITION_KEYS
from datalake.transform import DEDUP_ORDER, output_sql, quarantine_sql, ruled_sql

MEMORY_LIMIT = "1200MB"
ROW_GROUP_SIZE = 122_880
MAX_FILE_SIZE = "256MB"


def connect(scratch: Path, threads: int | None = None) -> Any:
    import duckdb

    scratch.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(scratch)})
    if threads:
        con.execute(f"SET threads = {threads}")
    return con


class DuckDBTransformEngine:
    name = "duckdb"

    def run(self, job: TransformJob, progress: Progress) -> TransformOutput:
        began = time.perf_counter()
        out = TransformOutput()
        con = connect(job.scratch)
        try:
            with progress.task("Transform (duckdb)", total=5) as task:
                for dim, files in job.dimension_files.items():
                    if not files:
                        raise InputError(
                            f"no {dim} files in the raw zone", hint="run `datalake seed` to create the dimensions"
                        )
                    try:
                        con.execute(f"CREATE TEMP TABLE {dim} AS SELECT * FROM {dimension_reader_sql(dim, files)}")
                    except Exception as exc:
                        raise InputError(
                            f"{files[0]}: cannot read the {dim} dimension ({str(exc).splitlines()[0]})",
                            hint="fix or re-create the dimension file",
                        ) from exc
                    out.dimension_rows[dim] = con.execute(f"SELECT count(*) FROM {dim}").fetchone()[0]
                task.advance()

                records = records_sql(job.json_files, job.csv_files, job.zone_roots, store_rejects=True)
                records = (
                    f"(SELECT *, {sql_string(job.run_ts)} AS _run_ts, {sql_string(job.run_date)} AS _run_date "
                    f"FROM ({records}))"
                )
                con.execute("CREATE TEMP TABLE ruled AS " + ruled_sql(records, "customers", "products", "stores"))
                task.advance()
                # Only ids that repeat need ranking: find them with a cheap aggregate, rank just those rows.
                existing = ""
                if job.existing_facts:
                    existing = (
                        f" UNION ALL SELECT rowid FROM ruled WHERE _rule_reason IS NULL AND sale_id IN "
                        f"(SELECT sale_id FROM read_parquet({sql_list(job.existing_facts)}))"
                    )
                con.execute(
                    f"""CREATE TEMP TABLE duplicate_rows AS
                    SELECT rid FROM (
                      SELECT rowid AS rid, row_number() OVER (PARTITION BY sale_id ORDER BY {", ".join(DEDUP_ORDER)}, rowid) AS rn
                      FROM ruled WHERE _rule_reason IS NULL AND sale_id IN (
                        SELECT sale_id FROM ruled WHERE _rule_reason IS NULL GROUP BY sale_id HAVING count(*) > 1)
                    ) WHERE rn > 1{existing}"""
                )
                flagged = "(SELECT *, rowid IN (SELECT rid FROM duplicate_rows) AS _duplicate FROM ruled)"
                con.execute("CREATE TEMP VIEW checked AS " + output_sql(flagged))
                con.execute("CREATE TEMP TABLE rejected AS " + quarantine_sql(flagged))
                task.advance()

                fact_cols = ", ".join(c.name for c in SALES_FACT_COLUMNS)
                fact_dir = job.staging / "processed" / "sales_fact"
                fact_dir.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT {fact_cols} FROM checked WHERE _reason IS NULL "
                    f"ORDER BY sale_timestamp, sale_id) TO {sql_string(fact_dir)} "
                    f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({', '.join(SALES_PARTITION_KEYS)}), "
                    f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}, FILE_SIZE_BYTES '{MAX_FILE_SIZE}', "
                    f"FILENAME_PATTERN 'part-{job.run_id}-{{i}}', OVERWRITE_OR_IGNORE true)"
                )
                task.advance()

                rejects = fetch_rejects(con)
                con.execute(
                    "CREATE TEMP TABLE rejects AS SELECT * FROM (VALUES "
                    + (", ".join("(?, ?, ?, ?)" for _ in rejects) or "(NULL, NULL, NULL, NULL)")
                    + ") AS t(file, raw_record, reason, detail)"
                    + ("" if rejects else " WHERE false"),
                    [
                        v
                        for file, _line, kind, text, message in rejects
                        for v in (
                            _relative(file, job.zone_roots),
                            text,
                            "malformed_record",
                            f"{kind.lower()}: {message.splitlines()[0]}",
                        )
                    ],
                )
                quarantine_cols = ", ".join(c.name for c in QUARANTINE_COLUMNS)
                q_file = job.staging / "quarantine" / "sales" / f"run_id={job.run_id}" / "part-0.parquet"
                q_file.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT {quarantine_cols} FROM ("
                    f"SELECT *, {sql_string(job.run_id)} AS run_id FROM rejected "
                    f"UNION ALL SELECT file, raw_record, reason, detail, {sql_string(job.run_id)} FROM rejects) "
                    f"ORDER BY source_file, reason) TO {sql_string(q_file)} (FORMAT parquet, COMPRESSION zstd)"
                )
                for dim in job.dimension_files:
                    target = job.staging / "processed" / dim / f"{dim}.parquet"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    con.execute(f"COPY {dim} TO {sql_string(target)} (FORMAT parquet, COMPRESSION zstd)")

                total = con.execute("SELECT count(*) FROM ruled").fetchone()[0]
                for reason, count in con.execute("SELECT reason, count(*) FROM rejected GROUP BY ALL").fetchall():
                    out.by_reason[reason] = count
                out.rows_processed = total - sum(out.by_reason.values())
                if rejects:
                    out.by_reason["malformed_record"] = out.by_reason.get("malformed_record", 0) + len(rejects)
                for file, problem, count in con.execute(
                    "SELECT source_file, reason, count(*) FROM rejected WHERE reason = 'malformed_record' GROUP BY ALL"
                ).fetchall():
                    out.bad_files.setdefault(file, {})[problem] = count
                for file, _line, kind, _text, _message in rejects:
                    problems = out.bad_files.setdefault(_relative(file, job.zone_roots), {})
                    problems[kind.lower()] = problems.get(kind.lower(), 0) + 1
                out.rows_quarantined = sum(out.by_reason.values())
                out.rows_in = out.rows_processed + out.rows_quarantined
                task.advance()
        finally:
            con.close()
        out.seconds = round(time.perf_counter() - began, 3)
        return out


def _relative(file: str, roots: list[Path]) -> str:
    for root in roots:
        prefix = str(root) + "/"
        if file.startswith(prefix):
            return file[len(prefix) :]
    return file
