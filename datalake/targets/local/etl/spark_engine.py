"""The Spark transform engine: jobs/sales_etl.py run in-process on local Spark, staged like the DuckDB engine.

The job's own functions read the raw files and run the transform spec's SQL; this engine only
decides which files to read (the orchestration's pending list) and turns Spark's output folders
into the staging layout etl.py publishes: fact files per year/month partition named after the
run, one quarantine file, one file per dimension.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from datalake.errors import InputError
from datalake.progress import Progress
from datalake.targets.local.etl.engine import TransformJob, TransformOutput

ETL_JOB = "sales_etl"


def _part_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("part-*") if p.suffix == ".parquet")


def _move_single(written: Path, target: Path) -> None:
    parts = _part_files(written)
    if len(parts) != 1:
        raise RuntimeError(f"expected one Parquet file in {written}, found {len(parts)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(parts[0], target)


def _quarantine_file(job: TransformJob) -> Path:
    return job.staging / "quarantine" / "sales" / f"run_id={job.run_id}" / "part-0.parquet"


def _read_dimensions(
    spark: Any, etl: Any, spec: dict[str, Any], job: TransformJob, out: TransformOutput, dimensions: dict[str, Any]
) -> None:
    """Read and persist each dimension into `dimensions` (the transform joins it, the run stages it); count its rows.

    Counting forces the read, so an unreadable dimension file is reported here, by name. A frame is
    added once it is read, so the caller unpersists exactly the frames that were read.
    """
    from datalake.targets.local.spark import error_summary

    for dim, files in job.dimension_files.items():
        if not files:
            raise InputError(f"no {dim} files in the raw zone", hint="run `datalake seed` to create the dimensions")
        frame = etl.read_dimension(spark, spec, dim, [str(f) for f in files]).persist()
        try:
            out.dimension_rows[dim] = frame.count()
        except Exception as exc:
            raise InputError(
                f"{files[0]}: cannot read the {dim} dimension ({error_summary(exc)})",
                hint="fix or re-create the dimension file",
            ) from exc
        dimensions[dim] = frame


def _count_rows(spark: Any, job: TransformJob, total: int, out: TransformOutput) -> None:
    """Fill `out`'s row accounting from the staged quarantine file: rows per reason, problems per bad file."""
    # a malformed record's problem is the first part of its detail, as the DuckDB engine counts it
    problem = "CASE WHEN reason = 'malformed_record' THEN substring_index(detail, ':', 1) END AS problem"
    rejected = (
        spark.read.parquet(str(_quarantine_file(job)))
        .selectExpr("reason", "source_file", problem)
        .groupBy("reason", "source_file", "problem")
        .count()
        .collect()
    )
    for reason, source_file, kind, count in rejected:
        out.by_reason[reason] = out.by_reason.get(reason, 0) + count
        if kind is not None:
            problems = out.bad_files.setdefault(source_file, {})
            problems[kind] = problems.get(kind, 0) + count
    out.rows_processed = total - sum(out.by_reason.values())
    out.rows_quarantined = sum(out.by_reason.values())
    out.rows_in = out.rows_processed + out.rows_quarantined


class SparkTransformEngine:
    name = "spark"

    def run(self, job: TransformJob, progress: Progress) -> TransformOutput:
        from datalake.domain.job_spec import SPEC_PATH
        from datalake.targets.local.spark import load_job, local_session

        began = time.perf_counter()
        out = TransformOutput()
        spark = local_session()  # checks pyspark and Java first
        etl = load_job(ETL_JOB)
        spec = etl.load_spec(None, str(SPEC_PATH))
        etl.configure(spark)
        work = job.scratch / "spark"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        kept: Any = None
        dimensions: dict[str, Any] = {}
        try:
            with progress.task("Transform (spark)", total=5) as task:
                _read_dimensions(spark, etl, spec, job, out, dimensions)
                task.advance()

                roots = [str(r) for r in job.zone_roots]
                records = etl.read_records(
                    spark, spec, [str(p) for p in job.json_files], [str(p) for p in job.csv_files], roots
                )
                existing = spark.read.parquet(*map(str, job.existing_facts)) if job.existing_facts else None
                checked, ruled, kept = etl.transform(spark, spec, records, dimensions, existing, job.run_ts)
                task.advance()

                fact_tmp = work / "sales_fact"
                keys = spec["partition_keys"]
                etl.fact_frame(spec, checked).write.partitionBy(*keys).parquet(str(fact_tmp))
                self._stage_facts(fact_tmp, job, keys)
                task.advance()

                q_tmp = work / "quarantine"
                etl.quarantine_frame(spec, checked, job.run_id).write.parquet(str(q_tmp))
                _move_single(q_tmp, _quarantine_file(job))
                for dim, frame in dimensions.items():
                    dim_tmp = work / dim
                    frame.coalesce(1).write.parquet(str(dim_tmp))
                    _move_single(dim_tmp, job.staging / "processed" / dim / f"{dim}.parquet")
                task.advance()

                _count_rows(spark, job, ruled.count(), out)  # the kept rule stage: one row per record read
                task.advance()
        finally:
            if kept is not None:
                kept.release()
            for frame in dimensions.values():
                frame.unpersist()
            shutil.rmtree(work, ignore_errors=True)
        out.seconds = round(time.perf_counter() - began, 3)
        return out

    @staticmethod
    def _stage_facts(written: Path, job: TransformJob, keys: list[str]) -> None:
        """Spark's year=/month= folders of part files -> staging files named part-<run_id>-<i>.parquet."""
        target_root = job.staging / "processed" / "sales_fact"
        target_root.mkdir(parents=True, exist_ok=True)
        pattern = "/".join(f"{k}=*" for k in keys)
        for folder in sorted(written.glob(pattern)):
            target = target_root / folder.relative_to(written)
            target.mkdir(parents=True, exist_ok=True)
            for i, part in enumerate(_part_files(folder)):
                os.replace(part, target / f"part-{job.run_id}-{i}.parquet")
