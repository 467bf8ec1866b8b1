"""run-job: run any Spark job of `jobs/` on local Spark against the lake, and catalog what it wrote.

The sales ETL goes through run-etl (bookmark, journal, atomic publish, warehouse load) with the
spark engine. Other jobs write to a staging folder first; the finished output then replaces the
previous one by renames (`journal.replace_dir`), and is registered in the catalog's processed
database, so readers never see a half-written table.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from typing import Any

from datalake.domain import aggregates
from datalake.errors import InputError
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, JobResult
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.local.catalog import Catalog, CatalogColumn, Table, parquet_rows
from datalake.targets.local.crawler import PROCESSED_DATABASE
from datalake.targets.local.etl.run import register_processed, require_lake, run_etl
from datalake.targets.local.journal import replace_dir
from datalake.targets.local.lock import lake_lock


@dataclass(frozen=True)
class JobOutput:
    """A table a job writes: where below the lake root, and its columns for the catalog."""

    table: str
    location: str
    columns: tuple[Any, ...]


# Jobs other than the ETL, with the table each one writes.
OUTPUTS: dict[str, JobOutput] = {
    "customer_aggregates": JobOutput(aggregates.TABLE, aggregates.LOCATION, aggregates.COLUMNS),
}
ETL_JOB = "sales_etl"


def run_job(layout: LakeLayout, name: str, progress: Progress = NULL_PROGRESS, wait: float = 0.0) -> JobResult:
    """Run jobs/<name>.py on local Spark over this lake; see the module docstring."""
    from datalake.targets.local.spark import load_job

    require_lake(layout)
    began = time.perf_counter()
    if name == ETL_JOB:
        summary = run_etl(layout, EtlOptions(engine="spark", wait=wait), progress)
        return JobResult(job=name, seconds=summary.seconds, etl=summary)
    module = load_job(name)
    output = OUTPUTS.get(name)
    if output is None or not hasattr(module, "run"):
        raise InputError(
            f"jobs/{name}.py has no local runner (known: {', '.join([ETL_JOB, *OUTPUTS])})",
            hint="add its output table to datalake.targets.local.jobs.OUTPUTS",
        )
    if not any((layout.processed / "sales_fact").rglob("*.parquet")):
        raise InputError("the processed zone has no sales yet", hint="run `datalake run-etl` first")

    from datalake.domain.job_spec import SPEC_PATH
    from datalake.targets.local.spark import local_session

    with lake_lock(layout, wait, purpose=f"run-job {name}"), progress.task(f"Job {name} (spark)", total=2) as task:
        spark = local_session()
        staged = layout.scratch / f"job-{name}"
        shutil.rmtree(staged, ignore_errors=True)
        module.run(
            spark,
            {"processed_path": str(layout.processed), "output_path": str(staged), "spec_path": str(SPEC_PATH)},
        )
        for junk in staged.iterdir():
            if junk.name.startswith(("_", ".")):
                junk.unlink()
        task.advance()
        target = layout.root / output.location
        replace_dir(staged, target)
        files = sorted(target.glob("*.parquet"))
        catalog = Catalog(layout.catalog_dir)
        register_processed(layout, catalog)
        table = Table(
            database=PROCESSED_DATABASE,
            name=output.table,
            location=output.location,
            classification="parquet",
            columns=[CatalogColumn(c.name, c.type.lower(), c.comment) for c in output.columns],
            parameters={
                "recordCount": parquet_rows(files),
                "files": len(files),
                "bytes": sum(f.stat().st_size for f in files),
                "job": name,
            },
        )
        catalog.put(table)
        task.advance()
    return JobResult(
        job=name,
        seconds=round(time.perf_counter() - began, 3),
        tables=[
            {
                "table": f"{PROCESSED_DATABASE}.{output.table}",
                "location": output.location,
                "rows": table.parameters["recordCount"],
                "files": len(files),
            }
        ],
    )
