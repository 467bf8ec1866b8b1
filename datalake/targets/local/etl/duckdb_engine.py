"""The DuckDB transform engine: raw files in month-sized batches, bounded memory.

Files are processed in path order, in batches of whole raw month folders: a large month is a batch
of its own (split further past BATCH_BYTES), so every batch fits in memory and its sort is cheap,
whatever the size of the run; small months are joined until a batch holds MIN_BATCH_BYTES, since
DuckDB runs a statement over fewer rows than one row group on one thread. Because
path order is also DEDUP_ORDER's first key, "the first clean record of a sale_id wins" means the
same as in one big batch: later batches check the ids kept by earlier ones (and by earlier runs).
Duplicates are flagged by `transform.flagged_sql`, the definition the Spark job runs too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import (
    KEEP_JOIN_SIDES,
    dimension_reader_sql,
    fetch_rejects,
    records_sql,
    sql_list,
    sql_string,
)
from datalake.domain.schema import FACT_SORT_KEY, QUARANTINE_COLUMNS, SALES_FACT_COLUMNS, SALES_PARTITION_KEYS
from datalake.domain.transform import flagged_sql, output_sql, quarantine_sql, ruled_sql
from datalake.errors import InputError
from datalake.progress import Progress
from datalake.targets.local import duckdb_resources
from datalake.targets.local.etl.engine import TransformJob, TransformOutput

ROW_GROUP_SIZE = 122_880
MAX_FILE_SIZE = "256MB"
BATCH_BYTES = 192 * 1024**2  # raw bytes per batch at most: ~1.5M rows, inside a 750 MB memory limit (duckdb_resources)
MIN_BATCH_BYTES = 64 * 1024**2  # months are joined up to this: ~500k rows, 4 row groups for 2 threads
_MONTH = re.compile(r"year=(\d+)/month=(\d+)/")


def connect(scratch: Path, threads: int | None = None) -> Any:
    con = duckdb_resources.connect(scratch)
    if threads:
        con.execute(f"SET threads = {threads}")
    return con


def batches(files: list[Path], max_bytes: int = BATCH_BYTES, min_bytes: int = MIN_BATCH_BYTES) -> Iterator[list[Path]]:
    """Files in path order, in batches of whole raw month folders.

    A new month starts a new batch once the batch holds min_bytes; any file that would take a batch
    past max_bytes starts a new one, even inside a month.
    """
    batch: list[Path] = []
    size = 0
    month: str | None = None
    for path in sorted(files, key=str):
        match = _MONTH.search(str(path))
        key = match.group(0) if match else ""
        file_size = path.stat().st_size
        if batch and ((key != month and size >= min_bytes) or size + file_size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += file_size
        month = key
    if batch:
        yield batch


class DuckDBTransformEngine:
    name = "duckdb"

    def __init__(self, batch_bytes: int = BATCH_BYTES) -> None:
        self.batch_bytes = batch_bytes

    def run(self, job: TransformJob, progress: Progress) -> TransformOutput:
        began = time.perf_counter()
        out = TransformOutput()
        con = connect(job.scratch)
        files = [*job.json_files, *job.csv_files]
        json_files = set(job.json_files)
        groups = list(batches(files, self.batch_bytes))
        try:
            with progress.task("Transform (duckdb)", total=len(groups) + 2) as task:
                self._load_dimensions(con, job, out)
                con.execute(
                    "CREATE TEMP TABLE seen_ids AS "
                    + (
                        f"SELECT sale_id FROM read_parquet({sql_list(job.existing_facts)})"
                        if job.existing_facts
                        else "SELECT CAST(NULL AS BIGINT) AS sale_id WHERE false"
                    )
                )
                con.execute(
                    "CREATE TEMP TABLE rejected_all "
                    "(source_file VARCHAR, raw_record VARCHAR, reason VARCHAR, detail VARCHAR)"
                )
                task.advance()
                fact_dir = job.staging / "processed" / "sales_fact"
                fact_dir.mkdir(parents=True, exist_ok=True)
                total = 0
                for number, group in enumerate(groups):
                    total += self._run_batch(
                        con,
                        job,
                        number,
                        [f for f in group if f in json_files],
                        [f for f in group if f not in json_files],
                        fact_dir,
                    )
                    task.advance()

                quarantine_cols = ", ".join(c.name for c in QUARANTINE_COLUMNS)
                q_file = job.staging / "quarantine" / "sales" / f"run_id={job.run_id}" / "part-0.parquet"
                q_file.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT {quarantine_cols} FROM (SELECT *, {sql_string(job.run_id)} AS run_id "
                    f"FROM rejected_all) ORDER BY source_file, reason) TO {sql_string(q_file)} "
                    "(FORMAT parquet, COMPRESSION zstd)"
                )
                for dim in job.dimension_files:
                    target = job.staging / "processed" / dim / f"{dim}.parquet"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    con.execute(f"COPY {dim} TO {sql_string(target)} (FORMAT parquet, COMPRESSION zstd)")

                for reason, count in con.execute("SELECT reason, count(*) FROM rejected_all GROUP BY ALL").fetchall():
                    out.by_reason[reason] = count
                for file, problem, count in con.execute(
                    "SELECT source_file, detail, count(*) FROM rejected_all WHERE reason = 'malformed_record' "
                    "GROUP BY ALL"
                ).fetchall():
                    kind = str(problem).split(":")[0]
                    problems = out.bad_files.setdefault(file, {})
                    problems[kind] = problems.get(kind, 0) + count
                out.rows_quarantined = sum(out.by_reason.values())
                out.rows_in = total
                out.rows_processed = total - out.rows_quarantined
                task.advance()
        finally:
            con.close()
        out.seconds = round(time.perf_counter() - began, 3)
        return out

    @staticmethod
    def _load_dimensions(con: Any, job: TransformJob, out: TransformOutput) -> None:
        for dim, files in job.dimension_files.items():
            if not files:
                raise InputError(f"no {dim} files in the raw zone", hint="run `datalake seed` to create the dimensions")
            try:
                con.execute(f"CREATE TEMP TABLE {dim} AS SELECT * FROM {dimension_reader_sql(dim, files)}")
            except Exception as exc:
                raise InputError(
                    f"{files[0]}: cannot read the {dim} dimension ({str(exc).splitlines()[0]})",
                    hint="fix or re-create the dimension file",
                ) from exc
            out.dimension_rows[dim] = con.execute(f"SELECT count(*) FROM {dim}").fetchone()[0]

    @staticmethod
    def _run_batch(
        con: Any, job: TransformJob, number: int, json_files: list[Path], csv_files: list[Path], fact_dir: Path
    ) -> int:
        """Transform one batch: facts to staging, rejected rows to `rejected_all`. Returns rows read."""
        records = records_sql(con, json_files, csv_files, job.zone_roots, store_rejects=True)
        records = (
            f"(SELECT *, {sql_string(job.run_ts)} AS _run_ts, {sql_string(job.run_date)} AS _run_date FROM ({records}))"
        )
        con.execute(KEEP_JOIN_SIDES)  # only here: the duplicate checks below want DuckDB's own choice
        # _run_ts is the same on every row: kept out of the table and added back as a literal below, so
        # processing_timestamp is cast once, not once a row
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ruled AS SELECT * EXCLUDE (_run_ts) FROM ("
            + ruled_sql(records, "customers", "products", "stores")
            + ")"
        )
        con.execute("RESET disabled_optimizers")
        rejects = fetch_rejects(con)  # lines the reader itself could not split, kept by store_rejects
        # transform.flagged_sql decides what a duplicate is; it only needs to see the rows whose sale_id
        # repeats in this batch or was kept before, found with a cheap aggregate, so few rows are ranked.
        # Ids kept before are first narrowed to this batch's ids: hashing the batch and probing all kept
        # ids once is cheap, hashing all kept ids for every batch grew with the run (6 s CPU at 10M rows).
        con.execute(
            "CREATE OR REPLACE TEMP TABLE batch_seen AS SELECT DISTINCT sale_id FROM seen_ids "
            "WHERE sale_id IN (SELECT sale_id FROM ruled)"
        )
        candidates = (
            "(SELECT rowid AS _rid, * FROM ruled WHERE sale_id IN (SELECT sale_id FROM batch_seen) OR sale_id IN "
            "(SELECT sale_id FROM ruled WHERE _rule_reason IS NULL GROUP BY sale_id HAVING count(*) > 1))"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE duplicate_rows AS SELECT _rid AS rid FROM ("
            + flagged_sql(candidates, "batch_seen")
            + ") WHERE _duplicate"
        )
        flagged = (
            f"(SELECT *, {sql_string(job.run_ts)} AS _run_ts, rowid IN (SELECT rid FROM duplicate_rows) AS _duplicate "
            "FROM ruled)"
        )
        con.execute("INSERT INTO rejected_all " + quarantine_sql(flagged))
        if rejects:
            con.executemany(
                "INSERT INTO rejected_all VALUES (?, ?, 'malformed_record', ?)",
                [[_relative(file, job.zone_roots), text, detail] for file, _line, text, detail in rejects],
            )
        fact_cols = ", ".join(c.name for c in SALES_FACT_COLUMNS)
        output = output_sql(flagged, ("customers", "products", "stores"))
        facts = f"SELECT {fact_cols} FROM ({output}) WHERE _reason IS NULL ORDER BY {', '.join(FACT_SORT_KEY)}"
        options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
        name = f"part-{job.run_id}-b{number:03d}"
        partitions = con.execute(
            "SELECT DISTINCT year(sale_timestamp), month(sale_timestamp) FROM ruled WHERE _rule_reason IS NULL"
        ).fetchall()
        raw_bytes = sum(path.stat().st_size for path in [*json_files, *csv_files])
        if len(partitions) == 1 and raw_bytes <= BATCH_BYTES:
            # A large month is a batch of its own, and its rows nearly always share one partition: write
            # them as one file, which skips the partitioned writer's bookkeeping (a third of the write's
            # CPU). Within BATCH_BYTES of raw text the file stays far below MAX_FILE_SIZE; only a single
            # raw file larger than that needs the writer to split its output.
            ((year, month),) = partitions
            target = fact_dir / f"year={year}" / f"month={month}" / f"{name}-0.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            keys = ", ".join(SALES_PARTITION_KEYS)  # kept in the folder names only, as the partitioned writer does
            con.execute(f"COPY (SELECT * EXCLUDE ({keys}) FROM ({facts})) TO {sql_string(target)} ({options})")
        elif partitions:
            con.execute(
                f"COPY ({facts}) TO {sql_string(fact_dir)} ({options}, "
                f"PARTITION_BY ({', '.join(SALES_PARTITION_KEYS)}), FILE_SIZE_BYTES '{MAX_FILE_SIZE}', "
                f"FILENAME_PATTERN '{name}-{{i}}', OVERWRITE_OR_IGNORE true)"
            )
        con.execute(
            "INSERT INTO seen_ids SELECT sale_id FROM ruled "
            "WHERE _rule_reason IS NULL AND rowid NOT IN (SELECT rid FROM duplicate_rows)"
        )
        return int(con.execute("SELECT count(*) FROM ruled").fetchone()[0]) + len(rejects)


def _relative(file: str, roots: list[Path]) -> str:
    for root in roots:
        prefix = str(root) + "/"
        if file.startswith(prefix):
            return file[len(prefix) :]
    return file
