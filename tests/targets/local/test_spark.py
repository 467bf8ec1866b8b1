"""Local Spark plumbing that needs no JVM: dependency checks, job loading, argument parsing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.errors import MissingDependencyError, UsageError
from datalake.targets.local import spark as spark_mod


def test_missing_pyspark_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError) as info:
        spark_mod.check_dependencies()
    assert "pyspark" in info.value.message and ".[spark]" in (info.value.hint or "")


def test_missing_java_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(spark_mod.shutil, "which", lambda name: None)
    with pytest.raises(MissingDependencyError) as info:
        spark_mod.check_dependencies()
    assert "Java" in info.value.message and "Java 17" in (info.value.hint or "")


def test_unknown_job_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as info:
        spark_mod.load_job("no_such_job")
    assert "customer_aggregates" in (info.value.hint or "") and "sales_etl" in (info.value.hint or "")


def test_jobs_parse_arguments_without_glue() -> None:
    etl = spark_mod.load_job("sales_etl")
    args = etl.parse_args(["x", "--raw_path", "s3://r", "--processed_path", "s3://p", "--quarantine_path", "s3://q"])
    assert args == {"raw_path": "s3://r", "processed_path": "s3://p", "quarantine_path": "s3://q"}
    with pytest.raises(SystemExit):
        etl.parse_args(["x", "--raw_path", "s3://r"])


def test_source_file_matches_the_duckdb_engine_strings() -> None:
    etl = spark_mod.load_job("sales_etl")
    sql = etl.source_file_sql(["/lake/raw", "s3://bucket"])
    assert "'/lake/raw/'" in sql and "'s3://bucket/'" in sql and "^file:" in sql


def test_run_job_cli_reports_unknown_job(lake) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["run-job", "nope", "--lake", str(lake.root)])
    assert result.exit_code != 0
    assert "no job named 'nope'" in result.output
