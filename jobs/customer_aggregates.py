"""Customer lifetime value and RFM segments over the whole processed history (EMR's heavy job in the demo).

Plain PySpark 3.5: runs as an EMR step, a Glue job or on local Spark (`datalake run-job
customer_aggregates`). The query is not written here: it is the `customer_aggregates` statement of
transform_spec.json, translated to Spark SQL from the Athena SQL in the datalake package, so DuckDB
can run the same query on the same Parquet and the results can be compared.

    spark-submit jobs/customer_aggregates.py --processed_path s3://processed-bucket \
        --output_path s3://processed-bucket/aggregates/customer_aggregates --spec_path s3://.../transform_spec.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

ARGUMENTS = ("processed_path", "output_path", "spec_path")
REQUIRED = ("processed_path", "output_path")
SPEC_NAME = "transform_spec.json"


def _load_spec(spark: Any, location: str | None) -> dict[str, Any]:
    location = location or os.path.join(os.path.dirname(os.path.abspath(__file__)), SPEC_NAME)
    if "://" in location and not location.startswith("file://"):
        return dict(json.loads("".join(r.value for r in spark.read.text(location, wholetext=True).collect())))
    with open(location.removeprefix("file://"), encoding="utf-8") as handle:
        return dict(json.load(handle))


def aggregate(spark: Any, spec: dict[str, Any], sales_fact: Any) -> Any:
    """One row per customer: lifetime value, gross profit, RFM scores and segment."""
    sales_fact.createOrReplaceTempView(spec["relations"]["sales_fact"])
    return spark.sql(spec["spark_sql"]["customer_aggregates"])


def read_sales_fact(spark: Any, processed_path: str) -> Any:
    # The root read recursively: listing month folders as a glob would start a file-listing job.
    return (
        spark.read.option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.parquet")
        .parquet(f"{processed_path.rstrip('/')}/sales_fact")
    )


def run(spark: Any, args: dict[str, str]) -> dict[str, Any]:
    """Read processed/sales_fact, write the aggregates as one Parquet file under output_path."""
    spark.conf.set("spark.sql.parquet.compression.codec", "zstd")
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")  # dates as DuckDB wrote them
    spec = _load_spec(spark, args.get("spec_path"))
    result = aggregate(spark, spec, read_sales_fact(spark, args["processed_path"]))
    result.coalesce(1).write.mode("overwrite").parquet(args["output_path"])
    return {"table": "customer_aggregates", "output_path": args["output_path"]}


def parse_args(argv: list[str]) -> dict[str, str]:
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    except ImportError:
        parser = argparse.ArgumentParser(description="Customer lifetime value and RFM segments (Spark)")
        for name in ARGUMENTS:
            parser.add_argument(f"--{name}", required=name in REQUIRED)
        known, _ = parser.parse_known_args(argv[1:])
        return {k: v for k, v in vars(known).items() if v is not None}
    return dict(getResolvedOptions(argv, [n for n in ARGUMENTS if n in REQUIRED or f"--{n}" in argv]))


def main(argv: list[str] | None = None) -> None:
    from pyspark.sql import SparkSession

    args = parse_args(list(sys.argv if argv is None else argv))
    spark = SparkSession.builder.appName("datalake-customer-aggregates").getOrCreate()
    print(json.dumps(run(spark, args)))


if __name__ == "__main__":
    main()
