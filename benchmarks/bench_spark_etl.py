"""Spark ETL at 1M rows: our Spark engine vs the DuckDB engine vs a plain PySpark read -> derive -> write.

    PYTHONPATH=. python benchmarks/bench_spark_etl.py --rows 1000000 [--work /tmp/bench-spark]

One lake is seeded once; every measured run gets a fresh copy of it. All Spark runs share one
local session (as `datalake run-etl --engine spark` does in one process); the session start is
reported on its own, and each Spark variant runs `--repeat` times (the first run of a JVM pays
JIT warm-up), alternating, keeping the best. The plain script is the floor: it reads the same raw
files, derives the date columns, and writes partitioned Parquet, with no quality rules, joins,
deduplication, quarantine or catalog. Next to wall time, the CPU seconds the Spark JVM spent on
each run are reported (Linux): on a shared machine they move less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from datalake.config import Settings
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local.target import LocalTarget

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
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-spark-etl"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    template = args.work / "template"
    target = LocalTarget(Settings(lake=template))
    target.deploy()
    seeded = target.seed(SeedOptions(rows=args.rows, days=365, end_date=date(2026, 6, 30), seed=42))

    def fresh(name: str) -> LocalTarget:
        root = args.work / name
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(template, root)
        return LocalTarget(Settings(lake=root))

    results: dict[str, Any] = {"rows": args.rows, "raw_files": seeded.files, "raw_bytes": seeded.bytes}
    duck = fresh("duckdb").run_etl(EtlOptions(engine="duckdb", run_ts=RUN_TS))
    results["duckdb_run_etl_s"] = duck.seconds
    results["duckdb_transform_s"] = duck.stages["transform"]

    from datalake.targets.local.spark import local_session

    t = time.perf_counter()
    spark = local_session()
    results["spark_session_start_s"] = round(time.perf_counter() - t, 2)

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
    results["plain_pyspark_s_each"] = [round(p, 2) for p in plain]
    results["spark_run_etl_s_each"] = [o[0] for o in ours]
    results["spark_transform_s_each"] = [o[1] for o in ours]
    results["jvm_cpu_s_each"] = cpu
    best_plain = min(plain)
    best_run, best_transform = min(o[0] for o in ours), min(o[1] for o in ours)
    results["ratio_spark_transform_vs_plain"] = round(best_transform / best_plain, 2)
    results["ratio_spark_run_etl_vs_plain"] = round(best_run / best_plain, 2)
    results["ratio_spark_run_etl_vs_duckdb"] = round(best_run / duck.seconds, 2)
    if cpu["plain"] and cpu["spark_run_etl"]:
        results["ratio_jvm_cpu_spark_run_etl_vs_plain"] = round(min(cpu["spark_run_etl"]) / min(cpu["plain"]), 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
