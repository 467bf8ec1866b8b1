"""Spark ETL at 1M rows: our Spark engine vs the DuckDB engine vs a plain PySpark read -> derive -> write.

    PYTHONPATH=. python benchmarks/bench_spark_etl.py --rows 1000000 --repeat 2

One lake is seeded once; every measured run gets a fresh copy of it. All Spark runs share one
local session (as `datalake run-etl --engine spark` does in one process); the session start is
reported on its own, and each Spark variant runs `--repeat` times (the first run of a JVM pays
JIT warm-up), alternating, keeping the best. The plain script is the floor: it reads the same raw
files, derives the date columns, and writes partitioned Parquet, with no quality rules, joins,
deduplication, quarantine or catalog. Next to wall time, the CPU seconds the Spark JVM spent on
each run are reported (Linux): on a shared machine they move less than wall time.
Results: benchmarks/results/spark_etl.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks import results
from datalake.config import Settings
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local.target import LocalTarget

RESULT_NAMES = ("spark_etl",)
RUN_TS = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)


def plain_script(spark: Any, raw: Path, out: Path) -> float:
    """What a hand-written job would do without any of the ETL's guarantees."""
    from pyspark.sql import functions as F

    began = time.perf_counter()
    schema = (
        "sale_id BIGINT, channel STRING, customer_id BIGINT, product_id BIGINT, store_id BIGINT, quantity INT, "
        "unit_price DECIMAL(12,2), discount DECIMAL(4,3), total_amount DECIMAL(12,2), payment_method STRING, "
        "sale_timestamp TIMESTAMP_NTZ"
    )
    reader = spark.read.schema(schema).option("recursiveFileLookup", "true")
    online = reader.option("pathGlobFilter", "*.json").json(str(raw / "sales"))
    store = reader.option("pathGlobFilter", "*.csv").option("header", "true").csv(str(raw / "sales"))
    ts = F.col("sale_timestamp")
    derived = online.unionByName(store).select(
        "*",
        F.to_date(ts).alias("sale_date"),
        F.date_format(ts, "MMMM").alias("month_name"),
        F.quarter(ts).alias("quarter"),
        F.date_format(ts, "EEEE").alias("day_of_week"),
        F.year(ts).alias("year"),
        F.month(ts).alias("month"),
        F.dayofmonth(ts).alias("day"),
    )
    (
        derived.repartition("year", "month")
        .sortWithinPartitions("year", "month", "sale_date")
        .write.mode("overwrite")
        .partitionBy("year", "month")
        .parquet(str(out))
    )
    return time.perf_counter() - began


def jvm_cpu_seconds(spark: Any) -> float | None:
    """User + system CPU time of the local Spark JVM so far (None where /proc is not available)."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    args.work = args.work or Path(tempfile.mkdtemp(prefix="spark-etl-bench-"))
    try:
        figures = measure(args)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    print(results.write("spark_etl", figures))
    print(render(results.read("spark_etl")))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(args.work, ignore_errors=True)
    template = args.work / "template"
    target = LocalTarget(Settings(lake=template))
    target.deploy()
    seeded = target.seed(SeedOptions(rows=args.rows, days=365, end_date=date(2026, 6, 30), seed=42))

    def fresh(name: str) -> LocalTarget:
        """A deployed lake of its own holding the seeded raw zone (a copied lake's Iceberg tables are refused)."""
        root = args.work / name
        shutil.rmtree(root, ignore_errors=True)
        lake = LocalTarget(Settings(lake=root))
        lake.deploy()
        shutil.rmtree(lake.layout.raw)
        shutil.copytree(template / "raw", lake.layout.raw)
        return lake

    figures: dict[str, Any] = {
        "repeat": args.repeat,
        "rows": args.rows,
        "raw_files": seeded.files,
        "raw_bytes": seeded.bytes,
    }
    duck = fresh("duckdb").run_etl(EtlOptions(engine="duckdb", run_ts=RUN_TS))
    figures["duckdb_run_etl_s"] = duck.seconds
    figures["duckdb_transform_s"] = duck.stages["transform"]

    from datalake.targets.local.spark import local_session

    t = time.perf_counter()
    spark = local_session()
    figures["spark_session_start_s"] = round(time.perf_counter() - t, 2)

    plain: list[float] = []
    ours: list[tuple[float, float]] = []
    cpu: dict[str, list[float]] = {"plain": [], "spark_run_etl": []}

    def cpu_since(start: float | None, key: str) -> None:
        end = jvm_cpu_seconds(spark)
        if start is not None and end is not None:
            cpu[key].append(round(end - start, 2))

    for i in range(args.repeat):
        start = jvm_cpu_seconds(spark)
        plain.append(plain_script(spark, template / "raw", args.work / f"plain-{i}"))
        cpu_since(start, "plain")
        lake = fresh(f"spark-{i}")
        start = jvm_cpu_seconds(spark)
        run = lake.run_etl(EtlOptions(engine="spark", run_ts=RUN_TS))
        cpu_since(start, "spark_run_etl")
        assert run.rows_in == duck.rows_in and run.rows_processed == duck.rows_processed
        ours.append((run.seconds, run.stages["transform"]))
    figures["plain_pyspark_s_each"] = [round(p, 2) for p in plain]
    figures["spark_run_etl_s_each"] = [o[0] for o in ours]
    figures["spark_transform_s_each"] = [o[1] for o in ours]
    figures["jvm_cpu_s_each"] = cpu
    best_plain = min(plain)
    best_run, best_transform = min(o[0] for o in ours), min(o[1] for o in ours)
    figures["ratio_spark_transform_vs_plain"] = round(best_transform / best_plain, 2)
    figures["ratio_spark_run_etl_vs_plain"] = round(best_run / best_plain, 2)
    figures["ratio_spark_run_etl_vs_duckdb"] = round(best_run / duck.seconds, 2)
    if cpu["plain"] and cpu["spark_run_etl"]:
        figures["ratio_jvm_cpu_spark_run_etl_vs_plain"] = round(min(cpu["spark_run_etl"]) / min(cpu["plain"]), 2)
    return figures


def render(document: dict[str, Any]) -> str:
    f = document["figures"]
    intro = (
        f"{f['rows']:,} seeded sales ({f['raw_files']:,} raw files, {f['raw_bytes'] / 1e6:.0f} MB of JSON lines and "
        "CSV), each measured run on a fresh copy of the same lake. The Spark runs share one local session "
        f"(start-up {f['spark_session_start_s']:.1f} s, not included); each Spark variant runs {f['repeat']} times, "
        "alternating, and the best run of each is compared. The JVM's CPU seconds per run move less than wall "
        "time on a shared machine."
    )
    best_plain = min(f["plain_pyspark_s_each"])
    lines = [
        *results.header(document, "Spark ETL", intro),
        "| what | seconds (each run) | best | ratio |",
        "|---|---|---:|---:|",
        f"| DuckDB engine, `run-etl` (whole run) | {f['duckdb_run_etl_s']:.1f} | {f['duckdb_run_etl_s']:.1f} | |",
        f"| plain PySpark script: read → derive → partitioned write, no rules | "
        f"{' / '.join(f'{x:.1f}' for x in f['plain_pyspark_s_each'])} | {best_plain:.1f} | 1.0x |",
        f"| Spark engine, transform stage (`jobs/sales_etl.py`) | "
        f"{' / '.join(f'{x:.1f}' for x in f['spark_transform_s_each'])} | {min(f['spark_transform_s_each']):.1f} | "
        f"**{f['ratio_spark_transform_vs_plain']:.2f}x** the plain script |",
        f"| Spark engine, `run-etl --engine spark` (whole run) | "
        f"{' / '.join(f'{x:.1f}' for x in f['spark_run_etl_s_each'])} | {min(f['spark_run_etl_s_each']):.1f} | "
        f"{f['ratio_spark_run_etl_vs_plain']:.2f}x the plain script, {f['ratio_spark_run_etl_vs_duckdb']:.2f}x DuckDB |",
    ]
    cpu = f["jvm_cpu_s_each"]
    if cpu["plain"] and cpu["spark_run_etl"]:
        lines.append(
            f"| JVM CPU seconds: plain script / Spark `run-etl` | {' / '.join(map(str, cpu['plain']))} against "
            f"{' / '.join(map(str, cpu['spark_run_etl']))} | | {f['ratio_jvm_cpu_spark_run_etl_vs_plain']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
