"""Sales ETL as a Spark job: the same transform as the DuckDB engine, for Glue 5, EMR 7 and local Spark.

Plain PySpark 3.5 (Python 3.11). The transform is not written here: the casts, quality rules,
derived columns and deduplication come from transform_spec.json, generated from the datalake
package's transform.py with every statement already translated to Spark SQL, so this job and the
DuckDB engine cannot drift. This file only reads raw files the way the DuckDB engine does (every
line accounted for: JSON and CSV lines read as text, CSV lines split by the spec's own SQL), runs
the spec's SQL and writes the outputs.

On Glue the arguments come from `getResolvedOptions`; elsewhere from argparse:

    spark-submit jobs/sales_etl.py --raw_path s3://raw-bucket --processed_path s3://processed-bucket \
        --quarantine_path s3://quarantine-bucket --spec_path s3://scripts-bucket/jobs/transform_spec.json

`--input_list` names a text file listing the raw files to process (the CLI's pending files).
`--bookmark_path` (an s3:// JSON object) is the job's bookmark: without `--input_list` (the Glue
workflow's trigger starts it so), the job processes exactly the raw files the bookmark does not
hold; either way it records the files it consumed, its row counts and the files it wrote per table
there, last, as the run's one record; the orchestrator (`datalake run-etl`) then commits those files
to the Glue catalog's Iceberg tables, one snapshot per table (a run with no record did not happen;
one with a record but no sales_fact snapshot is committed by the next run-etl). With neither, every
file under raw_path/sales is read. `--run_ts` fixes the processing time; `--summary_path` writes
the row counts as one JSON line for callers without a bookmark.

The local `datalake run-etl --engine spark` imports this module and calls `read_records`,
`transform` and the frame builders directly, then stages the files its own way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

SPEC_NAME = "transform_spec.json"
OUTPUTS = "outputs"  # the run record's files written, by table (datalake/targets/aws/iceberg.py commits them)
DIMENSION_DATA_DIR = "_iceberg_data"  # datalake.domain.iceberg_tables.DIMENSION_DATA_DIR
ARGUMENTS = (
    "raw_path",
    "processed_path",
    "quarantine_path",
    "spec_path",
    "run_id",
    "run_ts",
    "input_list",
    "summary_path",
    "bookmark_path",
)
REQUIRED = ("raw_path", "processed_path", "quarantine_path")
CORRUPT = "_corrupt_record"
# The raw files the job reads, by suffix whatever its case: the crawler and the CLI accept the same.
JSON_SUFFIXES = (".json", ".jsonl")
CSV_SUFFIXES = (".csv",)
JSON_GLOB = "{*.[jJ][sS][oO][nN],*.[jJ][sS][oO][nN][lL]}"
CSV_GLOB = "*.[cC][sS][vV]"


def is_json(path: str) -> bool:
    return path.lower().endswith(JSON_SUFFIXES)


def is_csv(path: str) -> bool:
    return path.lower().endswith(CSV_SUFFIXES)


def _files_only(paths: list[str]) -> bool:
    """True when every path names a raw file (no folder): Spark must then read them all, unfiltered."""
    return all(is_json(p) or is_csv(p) for p in paths)


# ----------------------------------------------------------------------------- spec


def load_spec(spark: Any = None, location: str | None = None) -> dict[str, Any]:
    """The transform spec from a local path, or any URI Spark can read (s3://...) when a session is given."""
    location = location or os.path.join(os.path.dirname(os.path.abspath(__file__)), SPEC_NAME)
    if "://" in location and not location.startswith("file://"):
        text = "".join(r.value for r in spark.read.text(location, wholetext=True).collect())
        return dict(json.loads(text))
    with open(location.removeprefix("file://"), encoding="utf-8") as handle:
        return dict(json.load(handle))


# ----------------------------------------------------------------------------- reading


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def source_file_sql(zone_roots: list[str]) -> str:
    """Spark SQL for the file a row came from, as a path below its zone (the DuckDB engine's strings)."""
    expr = "regexp_replace(input_file_name(), '^file:(//)?', '')"
    for root in zone_roots:
        root = root.rstrip("/")
        variants = {root, quote(root, safe="/:=+-_.~@")}
        for variant in sorted(variants):
            expr = f"replace({expr}, {_sql_string(variant + '/')}, '')"
    return expr


def read_json_records(spark: Any, spec: dict[str, Any], paths: list[str], zone_roots: list[str]) -> Any:
    """JSON lines read as text, one row per line, so an invalid line becomes a record with a parse error.

    The text reader keeps each line's bytes as they are: they are decoded here (a byte sequence that
    is not UTF-8 becomes U+FFFD) and checked by the spec's `json_lines` SQL, as the DuckDB engine
    checks them. Each line is parsed once (from_json, every field as text), inside brackets: Spark's
    parser stops after the first value, so a line holding an object and more (a second object, a
    missing newline) would lose the rest, while `[line]` must be one well-formed array of one object.
    Only the rare line that does not parse is looked at again to tell invalid JSON from valid JSON
    that is not an object, as the DuckDB engine does.
    """
    fields = spec["transform"]["raw_fields"]
    schema = "array<struct<" + ", ".join(f"{f}: STRING" for f in fields) + ">>"
    reader = spark.read.option("recursiveFileLookup", "true")
    if not _files_only(paths):  # a folder: keep its JSON files (Spark's filter also applies to named files)
        reader = reader.option("pathGlobFilter", JSON_GLOB)
    lines = reader.text(paths)
    lines.selectExpr(
        f"{source_file_sql(zone_roots)} AS _source_file",
        "CASE WHEN value <> '' THEN decode(CAST(value AS BINARY), 'UTF-8') END AS _raw_record",
    ).createOrReplaceTempView(spec["relations"]["json_lines"])
    parsed = (
        spark.sql(spec["spark_sql"]["json_lines"])
        .selectExpr("*", f"from_json('[' || _raw_record || ']', {_sql_string(schema)}) AS _values")
        .selectExpr(
            "*", "_values[0] AS _j", "_line_error IS NULL AND size(_values) = 1 AND _values[0] IS NOT NULL AS _ok"
        )
    )
    return parsed.selectExpr(
        "_source_file",
        "_raw_record",
        "CASE WHEN _line_error IS NOT NULL THEN _line_error "
        "WHEN _raw_record IS NULL THEN 'not a JSON object' WHEN NOT _ok THEN "
        # a line that starts as an object and does not parse is invalid JSON (get_json_object alone would
        # take control characters in strings, which JSON and DuckDB do not); otherwise ask whether it parses
        "CASE WHEN _raw_record RLIKE '^[ \\t\\r]*[{]' THEN 'invalid JSON' "
        "WHEN trim(_raw_record) = 'null' OR get_json_object(_raw_record, '$') IS NOT NULL THEN 'not a JSON object' "
        "ELSE 'invalid JSON' END "
        "END AS _parse_error",
        *(f"CASE WHEN _ok THEN _j.{f} END AS r_{f}" for f in fields),
    )


def read_csv_records(spark: Any, spec: dict[str, Any], paths: list[str], zone_roots: list[str]) -> Any:
    """CSV files read as lines, each file's header line skipped, and split by the spec's `csv_records` SQL.

    Spark's CSV reader with no quote character and a separator that should not occur is only a line
    reader that knows to skip each file's first line. A line that holds the separator all the same
    is kept whole (as a corrupt record) for the spec's SQL to reject, not cut short. The split
    itself is the spec's SQL, the text the DuckDB engine runs, so both engines see the same fields,
    raw records and parse errors.
    """
    reader = spark.read.schema(f"line STRING, {CORRUPT} STRING").option("recursiveFileLookup", "true")
    if not _files_only(paths):
        reader = reader.option("pathGlobFilter", CSV_GLOB)
    lines = reader.options(
        header="true", sep="\x1e", quote="", mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT
    ).csv(paths)
    lines.selectExpr(
        f"{source_file_sql(zone_roots)} AS _source_file", f"coalesce({CORRUPT}, line) AS _raw_record"
    ).createOrReplaceTempView(spec["relations"]["csv_lines"])
    return spark.sql(spec["spark_sql"]["csv_records"])


def read_records(
    spark: Any, spec: dict[str, Any], json_paths: list[str], csv_paths: list[str], zone_roots: list[str]
) -> Any:
    """All raw sales records, as the text relation the spec's SQL expects."""
    parts = []
    if json_paths:
        parts.append(read_json_records(spark, spec, json_paths, zone_roots))
    if csv_paths:
        parts.append(read_csv_records(spark, spec, csv_paths, zone_roots))
    if not parts:
        cols = ", ".join(f"CAST(NULL AS STRING) AS r_{f}" for f in spec["transform"]["raw_fields"])
        return spark.sql(
            "SELECT CAST(NULL AS STRING) AS _source_file, CAST(NULL AS STRING) AS _raw_record, "
            f"CAST(NULL AS STRING) AS _parse_error, {cols} WHERE false"
        )
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def read_dimension(spark: Any, spec: dict[str, Any], name: str, paths: list[str]) -> Any:
    return (
        spark.read.schema(spec["dimensions"][name])
        .options(header="true", quote='"', escape='"', mode="FAILFAST")
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.csv")
        .csv(paths)
    )


# ----------------------------------------------------------------------------- transform


class Kept:
    """Frames this run keeps by local checkpoints (rows in executor memory, spilling to disk), freed by release().

    A local checkpoint stores the rows as they are; `cache()` would first convert them to Spark's
    columnar cache format, which cost more than the whole rule stage (measured in docs/benchmarks.md).
    The price: a kept partition lost with its executor is not recomputed, the job fails (and is retried
    whole) instead.
    """

    def __init__(self, spark: Any) -> None:
        self._jsc = spark.sparkContext._jsc
        self._rdd_ids: list[int] = []

    def checkpoint(self, frame: Any, eager: bool = True) -> Any:
        """frame, computed once: now (eager), or by the first action that reads it."""
        before = set(self._jsc.getPersistentRDDs().keySet())
        kept = frame.localCheckpoint(eager)
        self._rdd_ids += [i for i in self._jsc.getPersistentRDDs().keySet() if i not in before]
        return kept

    def release(self) -> None:
        persistent = self._jsc.getPersistentRDDs()
        for rdd_id in self._rdd_ids:
            rdd = persistent.get(rdd_id)
            if rdd is not None:
                rdd.unpersist(False)
        self._rdd_ids = []


def transform(
    spark: Any,
    spec: dict[str, Any],
    records: Any,
    dimensions: dict[str, Any],
    existing_ids: Any | None,
    run_ts: str,
) -> tuple[Any, Any, Kept]:
    """Every record with `_reason` (NULL when clean), `_detail` and the fact columns: the spec's SQL, run by Spark.

    Returns (checked, ruled, kept): `ruled` is the rule stage, computed once (one pass over the raw
    files) and kept for the outputs and the counts; call `kept.release()` when they are written.
    Deduplication runs the spec's `flagged` SQL only over the records whose sale_id repeats in this
    batch or was published before (found with a cheap aggregate over the ids); every other record
    cannot be a duplicate, so the result is the spec's definition without ranking all rows.
    """
    from pyspark.sql import functions as F

    rel = spec["relations"]
    sql = spec["spark_sql"]
    records.selectExpr(
        "*", f"{_sql_string(run_ts)} AS _run_ts", f"{_sql_string(run_ts[:10])} AS _run_date"
    ).createOrReplaceTempView(rel["records"])
    for name, frame in dimensions.items():
        frame.createOrReplaceTempView(rel[name])
    kept = Kept(spark)
    # Kept without the constant run time (re-added as a literal: no per-row cast), and filled by the
    # first action below (the candidate ids) rather than by a count of its own.
    ruled = kept.checkpoint(spark.sql(sql["ruled"]).drop("_run_ts"), eager=False)
    ruled = ruled.withColumn("_run_ts", F.lit(run_ts))
    clean_ids = ruled.where("_rule_reason IS NULL").select("sale_id")
    candidates = clean_ids.groupBy("sale_id").count().where("count > 1").select("sale_id")
    flag_sql = sql["flagged"]
    if existing_ids is not None:
        existing_ids.select("sale_id").createOrReplaceTempView(rel["existing_ids"])
        candidates = candidates.unionByName(existing_ids.select("sale_id"))
        flag_sql = sql["flagged_with_existing"]
    # computed once, not again by each of the outputs that use it
    candidates = kept.checkpoint(candidates.distinct())
    if existing_ids is None:
        candidates = F.broadcast(candidates)
    ruled.join(candidates, "sale_id", "left_semi").createOrReplaceTempView(rel["ruled"])
    # the few candidate rows, ranked once: each output then reads the kept rows once, not twice
    ranked = kept.checkpoint(spark.sql(flag_sql))
    others = ruled.join(candidates, "sale_id", "left_anti").withColumn("_duplicate", F.lit(False))
    ranked.unionByName(others).createOrReplaceTempView(rel["flagged"])
    return spark.sql(sql["output"]), ruled, kept


def fact_frame(spec: dict[str, Any], checked: Any) -> Any:
    """Clean rows, one task per partition (one file per partition folder), sorted by date inside."""
    keys = spec["partition_keys"]
    cols = [c["name"] for c in spec["fact_columns"]]
    return (
        checked.where("_reason IS NULL")
        .select(*cols)
        .repartition(*keys)
        .sortWithinPartitions(*keys, *spec["fact_sort"])
    )


def quarantine_frame(spec: dict[str, Any], checked: Any, run_id: str) -> Any:
    """Rejected rows with their reason, in one sorted partition (one file)."""
    return (
        checked.where("_reason IS NOT NULL")
        .selectExpr(
            "_source_file AS source_file",
            "_raw_record AS raw_record",
            "_reason AS reason",
            "_detail AS detail",
            f"{_sql_string(run_id)} AS run_id",
        )
        .select(*spec["quarantine_columns"])
        .repartition(1)
        .sortWithinPartitions(*spec["quarantine_sort"])
    )


def configure(spark: Any) -> None:
    """Session settings the outputs depend on, wherever the job runs."""
    spark.conf.set("spark.sql.parquet.compression.codec", "zstd")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # Dates and timestamps as they are (proleptic Gregorian, as DuckDB writes and reads them): Spark's
    # default refuses to write a year before 1582 at all, which failed the whole run on one such row
    for mode in ("datetimeRebaseModeInWrite", "datetimeRebaseModeInRead"):
        spark.conf.set(f"spark.sql.parquet.{mode}", "CORRECTED")


# ----------------------------------------------------------------------------- bookmark (s3, boto3)


def split_s3(uri: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key)."""
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key


def raw_sales_files(s3: Any, raw_path: str) -> dict[str, int]:
    """Every raw sales file under raw_path/sales (s3://raw/sales/... -> size), as the CLI lists them."""
    bucket, prefix = split_s3(raw_path.rstrip("/") + "/sales/")
    found: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            name = item["Key"].rsplit("/", 1)[-1]
            if item["Size"] > 0 and not name.startswith(("_", ".")) and (is_json(name) or is_csv(name)):
                found[f"s3://{bucket}/{item['Key']}"] = int(item["Size"])
    return found


def read_bookmark(s3: Any, uri: str) -> tuple[dict[str, Any], str | None]:
    """The bookmark document and its ETag (None when there is none yet)."""
    bucket, key = split_s3(uri)
    try:
        got = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return {"job": "sales_etl", "files": {}, "runs": {}}, None
    document = dict(json.loads(got["Body"].read()))
    document.setdefault("files", {})
    document.setdefault("runs", {})
    return document, got.get("ETag")


def pending_files(listed: dict[str, int], bookmark: dict[str, Any], raw_path: str) -> dict[str, int]:
    """The listed files the bookmark does not hold at their current size (bookmark keys are bucket keys)."""
    bucket, _ = split_s3(raw_path)
    consumed = bookmark.get("files", {})
    prefix = f"s3://{bucket}/"
    return {uri: size for uri, size in listed.items() if consumed.get(uri.removeprefix(prefix), {}).get("size") != size}


def commit_bookmark(s3: Any, uri: str, raw_path: str, consumed: dict[str, int], record: dict[str, Any]) -> None:
    """Record the consumed files and the run's counts in one conditional write (retried on a lost race)."""
    bucket, key = split_s3(uri)
    raw_bucket, _ = split_s3(raw_path)
    run_id = str(record["run_id"])
    for _ in range(5):
        document, etag = read_bookmark(s3, uri)
        for file_uri, size in consumed.items():
            document["files"][file_uri.removeprefix(f"s3://{raw_bucket}/")] = {"size": size, "run_id": run_id}
        document["runs"][run_id] = record
        body = json.dumps(document, indent=1, sort_keys=True).encode()
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **condition)
            return
        except Exception as exc:  # another writer committed first: merge into its document and retry
            if getattr(exc, "response", {}).get("Error", {}).get("Code") not in {
                "PreconditionFailed",
                "ConditionalRequestConflict",
            }:
                raise
    raise RuntimeError(f"could not commit the bookmark {uri}: it kept changing")


# ----------------------------------------------------------------------------- outputs (Iceberg data files)


def dimension_path(processed: str, name: str, run_id: str) -> str:
    """Where a run writes a dimension's version: a folder of its own, since an Iceberg data file never changes
    (the orchestrator's snapshot replaces the previous version; "_iceberg_data" as the local target's)."""
    return f"{processed}/{name}/{DIMENSION_DATA_DIR}/run_id={run_id}"


def parquet_listing(s3: Any, prefix_uri: str) -> dict[str, int]:
    """The Parquet data files under an s3:// prefix (uri -> size), leaving out "_" and "." paths
    (Spark's _temporary files, the tables' _iceberg metadata)."""
    bucket, prefix = split_s3(prefix_uri)
    found: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            below = item["Key"][len(prefix) :].split("/")
            if item["Key"].endswith(".parquet") and not any(p.startswith(("_", ".")) for p in below):
                found[f"s3://{bucket}/{item['Key']}"] = int(item["Size"])
    return found


def written_outputs(
    s3: Any, processed: str, quarantine: str, run_id: str, dimensions: list[str], facts_before: dict[str, int]
) -> dict[str, dict[str, int]]:
    """The files this run wrote, by Iceberg table (uri -> size): what the orchestrator commits as the run.

    Facts are appended beside earlier runs' files, so this run's are those the listing did not hold before
    the write (Glue runs the job one at a time: `max_concurrent_runs = 1` in infra/glue.tf).
    """
    facts = parquet_listing(s3, f"{processed}/sales_fact/")
    outputs = {
        "sales_fact": {uri: size for uri, size in facts.items() if uri not in facts_before},
        "sales_quarantine": parquet_listing(s3, f"{quarantine}/sales/run_id={run_id}/"),
    }
    for name in dimensions:
        outputs[name] = parquet_listing(s3, dimension_path(processed, name, run_id) + "/")
    return outputs


# ----------------------------------------------------------------------------- Glue / EMR entry point


def parse_args(argv: list[str]) -> dict[str, str]:
    """Glue's resolver when running on Glue, argparse otherwise; the same --names either way."""
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    except ImportError:
        parser = argparse.ArgumentParser(description="Sales ETL (Spark): raw JSON/CSV -> processed Parquet")
        for name in ARGUMENTS:
            parser.add_argument(f"--{name}", required=name in REQUIRED)
        known, _ = parser.parse_known_args(argv[1:])
        return {k: v for k, v in vars(known).items() if v is not None}
    # Glue passes its own run id as --JOB_RUN_ID: a run the workflow started is recorded under it
    wanted = [n for n in (*ARGUMENTS, "JOB_RUN_ID") if n in REQUIRED or f"--{n}" in argv]
    return dict(getResolvedOptions(argv, wanted))


def input_files(
    args: dict[str, str], s3: Any, read_lines: Callable[[str], list[str]]
) -> tuple[list[str], dict[str, int] | None]:
    """The raw files to read, and (with a bookmark) their sizes to commit.

    `--input_list` wins (the CLI's pending files, read with `read_lines`); else the bookmark's pending
    files; else everything under raw_path/sales.
    """
    if args.get("input_list"):
        files = [line.strip() for line in read_lines(args["input_list"]) if line.strip()]
        if s3 is None:
            return files, None
        listed = raw_sales_files(s3, args["raw_path"])
        return files, {f: listed[f] for f in files if f in listed}
    if s3 is not None:
        bookmark, _ = read_bookmark(s3, args["bookmark_path"])
        pending = pending_files(raw_sales_files(s3, args["raw_path"]), bookmark, args["raw_path"])
        return sorted(pending), pending
    return [f"{args['raw_path'].rstrip('/')}/sales"], None


def run(spark: Any, args: dict[str, str], s3: Any = None) -> dict[str, Any]:
    """Process the pending raw files into processed_path and quarantine_path (Glue / EMR step).

    With `s3` (a boto3 client) and `--bookmark_path`, the consumed files and the counts are committed
    to the bookmark after every output is written: the bookmark is the run's commit point.
    """
    configure(spark)
    spec = load_spec(spark, args.get("spec_path"))
    now = datetime.now(UTC)
    run_ts = args.get("run_ts") or now.strftime("%Y-%m-%d %H:%M:%S")
    run_id = args.get("run_id") or args.get("JOB_RUN_ID") or now.strftime("%Y%m%dT%H%M%S")
    raw, processed = args["raw_path"].rstrip("/"), args["processed_path"].rstrip("/")
    quarantine = args["quarantine_path"].rstrip("/")
    files, sizes = input_files(args, s3, lambda uri: [r.value for r in spark.read.text(uri).collect()])
    summary: dict[str, Any] = {"run_id": run_id, "files_in": len(files), "bytes_in": sum((sizes or {}).values())}
    if not files:
        return {**summary, "rows_in": 0, "rows_processed": 0, "rows_quarantined": 0, "by_reason": {}}
    folder = files == [f"{raw}/sales"]
    json_paths = files if folder else [f for f in files if is_json(f)]
    csv_paths = files if folder else [f for f in files if is_csv(f)]
    records = read_records(spark, spec, json_paths, csv_paths, [raw])
    dimensions = {name: read_dimension(spark, spec, name, [f"{raw}/{name}"]) for name in spec["dimensions"]}
    existing = None
    try:
        existing = spark.read.option("recursiveFileLookup", "true").parquet(f"{processed}/sales_fact")
    except Exception:  # no published facts yet: nothing to deduplicate against
        existing = None
    checked, ruled, kept = transform(spark, spec, records, dimensions, existing, run_ts)
    before = parquet_listing(s3, f"{processed}/sales_fact/") if s3 is not None else {}
    try:
        keys = spec["partition_keys"]
        fact_frame(spec, checked).write.mode("append").partitionBy(*keys).parquet(f"{processed}/sales_fact")
        quarantine_frame(spec, checked, run_id).write.mode("overwrite").parquet(f"{quarantine}/sales/run_id={run_id}")
        for name, frame in dimensions.items():
            frame.coalesce(1).write.mode("overwrite").parquet(dimension_path(processed, name, run_id))
        rows_in, counts = summarise(spark, ruled, f"{quarantine}/sales/run_id={run_id}")
    finally:
        kept.release()
    quarantined = sum(counts.values())
    summary |= {
        "rows_in": rows_in,
        "rows_processed": rows_in - quarantined,
        "rows_quarantined": quarantined,
        "by_reason": dict(sorted(counts.items())),
    }
    if s3 is not None and sizes is not None:
        outputs = written_outputs(s3, processed, quarantine, run_id, list(spec["dimensions"]), before)
        record = {**summary, OUTPUTS: outputs, "finished": datetime.now(UTC).isoformat()}
        commit_bookmark(s3, args["bookmark_path"], raw, sizes, record)
    return summary


def summarise(spark: Any, ruled: Any, quarantine_path: str) -> tuple[int, dict[str, int]]:
    """Rows read (the kept rule stage's count) and rejected rows by reason (the small quarantine output).

    Counting from these two instead of grouping the checked relation saves a third pass over every row.
    """
    rows_in = ruled.count()
    rejected = spark.read.parquet(quarantine_path).groupBy("reason").count().collect()
    return rows_in, {r[0]: r[1] for r in rejected}


def main(argv: list[str] | None = None) -> None:
    from pyspark.sql import SparkSession

    args = parse_args(list(sys.argv if argv is None else argv))
    spark = SparkSession.builder.appName("datalake-sales-etl").getOrCreate()
    s3 = None
    if args.get("bookmark_path"):
        import boto3  # on Glue and EMR alike; only the bookmark needs it

        s3 = boto3.client("s3")
    summary = run(spark, args, s3)
    print(json.dumps(summary, indent=2))
    if args.get("summary_path"):  # the row counts, for the orchestration to report (one JSON line)
        frame = spark.createDataFrame([(json.dumps(summary, sort_keys=True),)], "value string")
        frame.coalesce(1).write.mode("overwrite").text(args["summary_path"])


if __name__ == "__main__":
    main()
