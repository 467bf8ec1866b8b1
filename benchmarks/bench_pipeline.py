"""Measure seed and run-etl (DuckDB engine) against their targets, side by side in one run.

    PYTHONPATH=. python benchmarks/bench_pipeline.py --rows 2000000 --repeat 2

Each step runs in a fresh child process that reports its own wall time and peak RSS, so the
numbers are not polluted by the parent. Compared on the same raw files:
  seed             rows/s end to end and peak RSS (must not grow with --rows)
  run-etl          the whole command (crawl + transform + publish + warehouse load)
  bare COPY        DuckDB `COPY (SELECT ...) TO ... (FORMAT parquet, PARTITION_BY ...)` on the same raw
                   files: no quality rules, no quarantine, no warehouse (the floor for the transform)
  plain COPY       the same, deriving the date columns and sorting by date, as the plain PySpark
                   script of bench_spark_etl.py does (the floor that writes a lake-shaped table)
  format sizes     Parquet bytes vs the CSV-only and JSON-only raw inputs of the same rows
With --repeat N, the two COPYs and run-etl (on a fresh copy of the seeded lake) alternate N times
and each pair's ratio is printed: on a shared machine, compare within a pair, never across runs.
Results: benchmarks/results/pipeline.json (printed as Markdown too).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from benchmarks import results

RESULT_NAMES = ("pipeline",)
CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    began = time.perf_counter()
    {body}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({{"seconds": time.perf_counter() - began, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                      "peak_rss_mb": usage.ru_maxrss / 1024, **extra}}))
    """
)


def child(body: str) -> dict[str, float]:
    code = CHILD.format(body=textwrap.indent(textwrap.dedent(body), "").strip())
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def seed_lake(root: Path, rows: int, fmt: str) -> dict[str, float]:
    return child(
        f"""
from pathlib import Path
from datetime import date
from datalake.config import Settings
from datalake.targets.local.target import LocalTarget
from datalake.domain.seed import SeedOptions
t = LocalTarget(Settings(lake=Path({str(root)!r})))
t.deploy()
r = t.seed(SeedOptions(rows={rows}, format={fmt!r}, end_date=date(2026, 6, 30)))
extra = {{"bytes": r.bytes, "files": r.files}}
"""
    )


def fresh_lake(seeded: Path, root: Path) -> None:
    """A deployed lake of its own holding the seeded raw zone (a copied lake's Iceberg tables are refused)."""
    from datalake.config import Settings
    from datalake.targets.local.target import LocalTarget

    target = LocalTarget(Settings(lake=root))
    target.deploy()
    shutil.rmtree(target.layout.raw)
    shutil.copytree(seeded / "raw", target.layout.raw)


def run_etl(root: Path) -> dict[str, float]:
    return child(
        f"""
from pathlib import Path
from datalake.config import Settings
from datalake.targets.local.target import LocalTarget
from datalake.targets.local.etl.run import EtlOptions
s = LocalTarget(Settings(lake=Path({str(root)!r}))).run_etl(EtlOptions())
extra = {{"transform_s": s.stages["transform"], "rows_processed": s.rows_processed,
          "rows_quarantined": s.rows_quarantined, "bytes_out": s.bytes_out, "bytes_in": s.bytes_in}}
"""
    )


# The bare COPY's SELECT: the raw columns and the partition keys. The plain COPY's: the date columns
# the plain PySpark script of bench_spark_etl.py derives, sorted by date as it sorts (and as the lake
# must be), so the DuckDB and Spark floors do the same work.
BARE_SELECT = "SELECT *, year(sale_timestamp) AS year, month(sale_timestamp) AS month FROM raw"
PLAIN_SELECT = (
    "SELECT *, CAST(sale_timestamp AS DATE) AS sale_date, strftime(sale_timestamp, '%B') AS month_name, "
    "quarter(sale_timestamp) AS quarter, strftime(sale_timestamp, '%A') AS day_of_week, "
    "year(sale_timestamp) AS year, month(sale_timestamp) AS month, day(sale_timestamp) AS day "
    "FROM raw ORDER BY sale_date"
)


def copy_floor(root: Path, out: Path, select: str = BARE_SELECT) -> dict[str, float]:
    return child(
        f"""
import duckdb, glob
raw = {str(root / "raw" / "sales")!r}
js = sorted(glob.glob(raw + "/**/*.json", recursive=True))
cs = sorted(glob.glob(raw + "/**/*.csv", recursive=True))
con = duckdb.connect(config={{"memory_limit": "1200MB", "temp_directory": {str(out) + "_tmp"!r}}})
con.execute(f'''COPY (WITH raw AS (
    SELECT * FROM read_json({{js}}, format='newline_delimited')
    UNION ALL BY NAME SELECT * FROM read_csv({{cs}})) {select}) TO {str(out)!r}
    (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month))''')
extra = {{}}
"""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--skip-formats", action="store_true", help="skip the CSV-only / JSON-only size runs")
    parser.add_argument("--repeat", type=int, default=1, help="alternate the two COPYs and run-etl this many times")
    args = parser.parse_args()
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    figures: dict[str, Any] = {"rows": args.rows, "repeat": args.repeat}

    mixed = args.workdir / "mixed"
    figures["seed"] = seed_lake(mixed, args.rows, "mixed")
    pairs = []
    for _ in range(args.repeat):
        floors = {}
        for name, select in (("bare_copy", BARE_SELECT), ("plain_copy", PLAIN_SELECT)):
            shutil.rmtree(args.workdir / name, ignore_errors=True)
            floors[name] = copy_floor(mixed, args.workdir / name, select)
        run = args.workdir / "etl_run"
        shutil.rmtree(run, ignore_errors=True)
        fresh_lake(mixed, run)
        pairs.append((floors, run_etl(run)))
        shutil.rmtree(run)
    figures["pairs"] = [{**f, "run_etl": e} for f, e in pairs]
    if not args.skip_formats:
        for fmt in ("csv", "json"):
            lake = args.workdir / fmt
            figures[f"seed_{fmt}"] = seed_lake(lake, args.rows, fmt)
            figures[f"etl_{fmt}"] = run_etl(lake)
            shutil.rmtree(lake)

    shutil.rmtree(args.workdir, ignore_errors=True)
    print(results.write("pipeline", figures))
    print(render(results.read("pipeline")))


def render(document: dict[str, Any]) -> str:
    figures = document["figures"]
    rows = figures["rows"]
    intro = (
        f"Seed and `run-etl` (DuckDB engine) on {rows:,} seeded sales, each step in a fresh child process "
        "(wall and CPU seconds, peak RSS), next to two DuckDB COPY floors on the same raw files: *bare* "
        "(raw columns and partition keys: no rules, no quarantine, no warehouse) and *plain* (plus the date "
        "columns, sorted by date: the plain PySpark script's work). Each numbered round runs the two COPYs "
        "and run-etl side by side: compare within a round."
    )
    seed = figures["seed"]
    lines = [
        *results.header(document, "Pipeline: seed and run-etl against their floors", intro),
        "| step | seconds | CPU seconds | peak RSS (MB) | note |",
        "|---|---:|---:|---:|---|",
        f"| seed | {seed['seconds']:.1f} | {seed['cpu_seconds']:.1f} | {seed['peak_rss_mb']:.0f} | "
        f"{rows / seed['seconds']:,.0f} rows/s |",
    ]
    for number, pair in enumerate(figures["pairs"], 1):
        bare, plain, etl = pair["bare_copy"], pair["plain_copy"], pair["run_etl"]
        lines += [
            f"| {number}: bare DuckDB COPY | {bare['seconds']:.1f} | {bare['cpu_seconds']:.1f} | "
            f"{bare['peak_rss_mb']:.0f} | |",
            f"| {number}: plain DuckDB COPY | {plain['seconds']:.1f} | {plain['cpu_seconds']:.1f} | "
            f"{plain['peak_rss_mb']:.0f} | |",
            f"| {number}: run-etl (total) | {etl['seconds']:.1f} | {etl['cpu_seconds']:.1f} | {etl['peak_rss_mb']:.0f} | "
            f"{etl['seconds'] / bare['seconds']:.2f}x bare COPY ({etl['cpu_seconds'] / bare['cpu_seconds']:.2f}x its CPU), "
            f"{etl['seconds'] / plain['seconds']:.2f}x plain |",
            f"| {number}: run-etl transform stage | {etl['transform_s']:.1f} | | | "
            f"{etl['transform_s'] / bare['seconds']:.2f}x bare COPY, {etl['transform_s'] / plain['seconds']:.2f}x plain |",
        ]
    if "seed_csv" in figures:
        lines += ["", "| input | raw bytes | Parquet bytes | raw / Parquet |", "|---|---:|---:|---:|"]
        for fmt, label in (("csv", "CSV only"), ("json", "JSON only")):
            raw, out = figures[f"seed_{fmt}"]["bytes"], figures[f"etl_{fmt}"]["bytes_out"]
            lines.append(f"| {label} | {raw:,.0f} | {out:,.0f} | {raw / out:.1f}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
