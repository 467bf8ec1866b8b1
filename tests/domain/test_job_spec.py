"""The Spark jobs' spec is generated from transform.py and must not go stale."""

from __future__ import annotations

import json

from datalake.domain import job_spec, transform
from datalake.domain.job_spec import SPEC_PATH


def test_committed_spec_matches_transform_py() -> None:
    assert job_spec.is_current(), "jobs/transform_spec.json is stale: run `python -m datalake.domain.job_spec`"


def test_spec_carries_the_rules_and_spark_sql() -> None:
    spec = json.loads(SPEC_PATH.read_text())
    assert [r["reason"] for r in spec["transform"]["rules"]] == [r.reason for r in transform.RULES]
    sql = spec["spark_sql"]
    assert set(sql) >= {"ruled", "flagged", "flagged_with_existing", "output", "customer_aggregates"}
    # Spark-only spellings, produced by sqlglot rather than written by hand:
    assert "TIMESTAMP_NTZ" in sql["ruled"] and "DATE_FORMAT(sale_timestamp, 'MMMM')" in sql["output"]
    assert "strftime" not in sql["output"].lower()


def test_spark_types_keep_money_decimal_and_timestamps_without_zone() -> None:
    assert job_spec.spark_type("DECIMAL(12,2)") == "DECIMAL(12, 2)"
    assert job_spec.spark_type("TIMESTAMP") == "TIMESTAMP_NTZ"
    assert job_spec.spark_type("VARCHAR") == "STRING"


def test_changing_a_rule_makes_the_spec_stale(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(transform, "TOTAL_TOLERANCE", "0.02")
    rules = tuple(
        transform.Rule(r.reason, r.fails.replace("> 0.01", "> 0.02"), r.detail, r.description) for r in transform.RULES
    )
    monkeypatch.setattr(transform, "RULES", rules)
    job_spec.to_spark.cache_clear()
    try:
        assert not job_spec.is_current()
    finally:
        job_spec.to_spark.cache_clear()


def test_splits_on_a_plain_character_reach_spark_without_a_regular_expression() -> None:
    # Spark's split takes a regex: a plain comma stays a plain comma (Java's fast path, no per-row
    # Pattern.compile), a metacharacter stays quoted so it keeps its literal meaning
    assert "SPLIT(x, ',')" in job_spec.to_spark("SELECT string_split(x, ',')")
    assert "\\Q" in job_spec.to_spark("SELECT string_split(x, '|')")
    assert "SPLIT(_raw_record, ',')" in job_spec.build()["spark_sql"]["csv_records"]


def test_a_strings_length_in_bytes_reaches_spark_under_its_spark_name() -> None:
    # DuckDB's strlen counts bytes; sqlglot would keep the name, which Spark does not know
    assert job_spec.to_spark("SELECT strlen(x) > 3").endswith("OCTET_LENGTH(x) > 3")
    assert "OCTET_LENGTH(_raw_record) > 1000000" in job_spec.build()["spark_sql"]["json_lines"]
