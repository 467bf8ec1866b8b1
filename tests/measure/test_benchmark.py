"""The benchmark: engines agree, queries translate everywhere, the saved JSON keeps its schema,
and a wrong answer from any engine fails the run (and the CLI)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.config import Settings
from datalake.domain.sql import anchor_dates, translate
from datalake.layout import LakeLayout
from datalake.measure.benchmark.compare import compare_results
from datalake.measure.benchmark.queries import DEMO_TABLE, DIALECTS, load_queries, parse_query
from datalake.measure.benchmark.result import BenchmarkReport, EngineRun
from datalake.measure.benchmark.run import BenchmarkOptions, load_latest_benchmark, run_benchmark
from datalake.targets.base import QueryEngine, QueryResult
from datalake.targets.local.target import LocalTarget
from tests.conftest import END_DATE, build_lake
from tests.paths import FIXTURES

ENGINES = ["raw", "lake", "warehouse"]


def _target(layout: LakeLayout) -> LocalTarget:
    return LocalTarget(Settings(lake=layout.root))


@pytest.fixture(scope="module")
def shared_report(shared_processed_lake: LakeLayout) -> Any:
    """One benchmark of the shared lake (read-only: nothing saved)."""
    return run_benchmark(_target(shared_processed_lake), BenchmarkOptions(repeat=1, save=False, chart=False))


# ----------------------------------------------------------------------------------- queries


def test_the_demo_table_and_readme_queries_are_shipped() -> None:
    queries = load_queries()
    table = [q.title for q in queries if q.source == DEMO_TABLE]
    assert table == ["Simple Aggregation", "Complex Join", "Window Functions", "Date Range Scan"]
    assert {q.name for q in queries} >= {"sales_per_day", "customer_lifetime_value"}
    assert all(q.measures and q.sql.lstrip().upper().startswith(("SELECT", "WITH")) for q in queries)
    assert [q.name for q in queries if q.pruning] == ["date_range_scan"]
    assert "--" not in next(q for q in queries if q.name == "date_range_scan").sql  # header stripped


def test_complex_join_joins_every_dimension_and_date_range_filters_partitions() -> None:
    queries = {q.name: q for q in load_queries()}
    tables = {t.name for t in sqlglot.parse_one(queries["complex_join"].sql, read="trino").find_all(sqlglot.exp.Table)}
    assert tables == {"sales_fact", "customers", "products", "stores"}
    where = sqlglot.parse_one(queries["date_range_scan"].sql, read="trino").args["where"]
    columns = {c.name for c in where.find_all(sqlglot.exp.Column)}
    assert {"sale_date", "year", "month"} <= columns


def test_unknown_query_name_is_a_usage_error() -> None:
    from datalake.errors import UsageError

    with pytest.raises(UsageError, match="nope"):
        load_queries(["simple_aggregation", "nope"])


def test_parse_query_reads_multiline_headers() -> None:
    q = parse_query("x", "-- title: T\n-- measures: a\n--   b\n-- pruning: yes\nSELECT 1;\n")
    assert (q.title, q.measures, q.pruning, q.sql) == ("T", "a b", True, "SELECT 1")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_query_translates_to_every_dialect(dialect: str) -> None:
    for q in load_queries():
        sql = translate(anchor_dates(q.sql, END_DATE.isoformat()), dialect)
        read = "trino" if dialect == "trino" else dialect
        assert sqlglot.parse_one(sql, read=read) is not None, (q.name, dialect)
        assert "CURRENT_DATE" not in sql.upper()


def test_anchored_dates_stay_dates_in_duckdb() -> None:
    q = next(q for q in load_queries() if q.name == "date_range_scan")
    sql = translate(anchor_dates(q.sql, "2026-06-30"), "duckdb")
    assert "CAST(CAST('2026-06-30' AS DATE) - INTERVAL '30' DAY AS DATE)" in sql


# ----------------------------------------------------------------------------------- cross-checks


def test_all_engines_agree_on_every_query(shared_report: Any) -> None:
    assert shared_report.ok, [q.mismatches for q in shared_report.queries]
    assert shared_report.engines == ENGINES
    for q in shared_report.queries:
        assert set(q.results) == set(ENGINES)
        counts = {run.rows_returned for run in q.results.values()}
        assert len(counts) == 1 and counts.pop() > 0, q.query.name
        assert all(run.error is None and len(run.times) == 1 for run in q.results.values())


def test_queries_are_anchored_on_the_lake_last_sale_date(shared_report: Any) -> None:
    assert shared_report.as_of == END_DATE.isoformat()
    per_day = next(q for q in shared_report.queries if q.query.name == "sales_per_day")
    assert per_day.results["lake"].rows_returned == 31  # 30 days back to the anchor, inclusive


def test_the_lake_scans_far_less_than_raw_files(shared_report: Any) -> None:
    for q in shared_report.queries:
        raw, lake = q.results["raw"], q.results["lake"]
        assert raw.bytes_scanned and lake.bytes_scanned
        assert lake.bytes_scanned < raw.bytes_scanned / 5, q.query.name
        assert raw.files_read > lake.files_read
        assert raw.cost_usd is not None and raw.cost_usd >= lake.cost_usd


def test_date_range_scan_prunes_partitions_and_row_groups(tmp_path: Path) -> None:
    target = build_lake(tmp_path / "year", rows=6_000, days=365)
    report = run_benchmark(
        target, BenchmarkOptions(queries=["date_range_scan"], engines=["lake", "warehouse"], repeat=1, chart=False)
    )
    lake = report.queries[0].results["lake"]
    assert lake.files_read == 2 and lake.files_unpruned == 12  # May and June of 12 monthly partitions
    assert lake.bytes_scanned is not None and lake.bytes_scanned_unpruned is not None
    assert lake.bytes_scanned < lake.bytes_scanned_unpruned / 3
    claim = next(c for c in report.claims if c["claim"].startswith("Partitioning"))
    assert claim["holds"] and claim["measured"] > 0.6


def test_raw_files_are_not_measured_again_without_pruning(shared_report: Any) -> None:
    """The raw engine reads every byte whatever the filter: a second, unpruned run would only repeat it."""
    scan = next(q for q in shared_report.queries if q.query.name == "date_range_scan")
    assert scan.results["raw"].bytes_scanned and scan.results["raw"].bytes_scanned_unpruned is None
    assert scan.results["lake"].bytes_scanned_unpruned is not None


@pytest.mark.parametrize(
    ("sql", "a", "b", "same"),
    [
        ("SELECT x, y FROM t", [(1, "a"), (2, "b")], [(2, "b"), (1, "a")], True),  # no ORDER BY: any order
        ("SELECT x, y FROM t ORDER BY x", [(1, "a"), (2, "b")], [(2, "b"), (1, "a")], False),
        ("SELECT x, y FROM t ORDER BY x", [(1, "a"), (1, "b")], [(1, "b"), (1, "a")], True),  # ties
        ("SELECT x FROM t", [(Decimal("0.1"),)], [(0.1 + 1e-12,)], True),  # float tolerance
        ("SELECT x FROM t", [(1.0,)], [(1.001,)], False),
        ("SELECT d FROM t", [(date(2026, 1, 1),)], [(date(2026, 1, 2),)], False),
        ("SELECT x FROM t", [(1,), (1,)], [(1,)], False),
    ],
)
def test_compare_results(sql: str, a: list[tuple[Any, ...]], b: list[tuple[Any, ...]], same: bool) -> None:
    cols = [f"c{i}" for i in range(len(a[0]))]
    runs = {"one": EngineRun("one", "one", columns=cols, rows=a), "two": EngineRun("two", "two", columns=cols, rows=b)}
    assert (compare_results(runs, sql) == []) is same


# ----------------------------------------------------------------------------------- wrong engines


class OffByOneEngine(QueryEngine):
    """Answers like the real lake engine, except that the first number of the last row is off by one."""

    dialect = "duckdb"
    description = "a deliberately wrong engine"

    def __init__(self, inner: QueryEngine) -> None:
        self.inner, self.name = inner, "wrong"

    @property
    def role(self) -> str:
        return "lake"

    def execute(self, sql: str) -> QueryResult:
        result = self.inner.execute(sql)
        if result.rows:
            last = list(result.rows[-1])
            i = next(i for i, v in enumerate(last) if isinstance(v, int | float | Decimal))
            last[i] += 1
            result.rows[-1] = tuple(last)
        return result

    def close(self) -> None:
        self.inner.close()


class TargetWithWrongEngine(LocalTarget):
    """The local target plus one extra engine, plugged in through the target interface."""

    capabilities = replace(LocalTarget.capabilities, query_engines=(*LocalTarget.capabilities.query_engines, "wrong"))

    def query_engine(self, name: str | None = None) -> QueryEngine:
        if name == "wrong":
            return OffByOneEngine(super().query_engine("lake"))
        return super().query_engine(name)


def test_a_wrong_engine_result_is_a_failure(shared_processed_lake: LakeLayout) -> None:
    target = TargetWithWrongEngine(Settings(lake=shared_processed_lake.root))
    options = BenchmarkOptions(engines=["lake", "wrong"], queries=["simple_aggregation"], repeat=1, save=False)
    report = run_benchmark(target, options)
    assert not report.ok
    assert "wrong differs from lake" in report.queries[0].mismatches[0]


def test_cli_exits_non_zero_when_an_engine_is_wrong(
    processed_lake: LakeLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datalake.targets

    monkeypatch.setattr(datalake.targets, "create_target", TargetWithWrongEngine)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            *("benchmark", "--lake", str(processed_lake.root), "--engines", "lake,wrong"),
            *("--queries", "simple_aggregation,date_range_scan", "--repeat", "1", "--json", "--no-chart"),
            *("--output", str(out)),
        ],
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert [q["match"] for q in data["queries"]] == [False, False]
    assert json.loads(out.read_text())["ok"] is False


def test_cli_fails_on_a_warehouse_that_lost_rows(processed_lake: LakeLayout) -> None:
    from datalake.domain.duckdb_sql import connect
    from datalake.targets.local import warehouse

    for path in warehouse.segment_paths(processed_lake, warehouse.current(processed_lake)):  # behind its back
        con = connect(path)
        con.execute("DELETE FROM sales_fact_redshift WHERE sale_id IN (SELECT max(sale_id) FROM sales_fact_redshift)")
        con.close()
    result = CliRunner().invoke(
        app,
        [
            *("benchmark", "--lake", str(processed_lake.root), "--engines", "lake,warehouse"),
            *("--queries", "simple_aggregation", "--repeat", "1", "--no-chart"),
        ],
    )
    assert result.exit_code == 1
    assert "engines disagree on simple_aggregation" in result.output
    saved = load_latest_benchmark(processed_lake)
    assert saved is not None and saved["ok"] is False


# ----------------------------------------------------------------------------------- saved results


def test_saved_json_schema_and_chart(processed_lake: LakeLayout) -> None:
    assert load_latest_benchmark(processed_lake) is None
    report = run_benchmark(_target(processed_lake), BenchmarkOptions(repeat=2))
    data = load_latest_benchmark(processed_lake)
    assert data is not None and data == json.loads(json.dumps(report.to_dict(), default=str))
    assert {
        "created",
        "target",
        "lake",
        "fact_rows",
        "repeat",
        "engines",
        "queries",
        "ratios",
        "claims",
        "storage",
    } <= (set(data))
    assert data["target"] == "local" and data["repeat"] == 2 and data["fact_rows"] > 0
    for q in data["queries"]:
        assert {"name", "title", "sql", "ordered", "match", "results"} <= set(q)
        assert isinstance(q["ordered"], bool) and q["match"] is True
        for run in q["results"].values():
            assert {"median_s", "min_s", "max_s", "bytes_scanned", "files_read", "rows_returned", "cost_usd"} <= set(
                run
            )
            assert run["min_s"] <= run["median_s"] <= run["max_s"]
            assert isinstance(run["bytes_scanned"], int) and isinstance(run["cost_usd"], float)
    assert {"lake_vs_raw", "warehouse_vs_lake"} <= set(data["ratios"])
    assert data["ratios"]["lake_vs_raw"]["demo_table_queries"] == [
        "simple_aggregation",
        "complex_join",
        "window_functions",
        "date_range_scan",
    ]
    names = {c["claim"] for c in data["claims"]}
    assert {"10x faster queries via columnar formats", "Parquet for 10x compression"} <= names
    assert all(isinstance(c["holds"], bool) and isinstance(c["measured"], float) for c in data["claims"])
    storage = data["storage"]
    assert storage["raw_bytes"] > storage["parquet_bytes"] > 0
    assert storage["compression_ratio"] == round(storage["raw_bytes"] / storage["parquet_bytes"], 2)
    copies = sorted(processed_lake.results.glob("benchmark-2*.json"))
    assert len(copies) == 1 and json.loads(copies[0].read_text()) == data
    assert Path(data["saved"]["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_repeat_must_be_positive(shared_processed_lake: LakeLayout) -> None:
    result = CliRunner().invoke(app, ["benchmark", "--lake", str(shared_processed_lake.root), "--repeat", "0"])
    assert result.exit_code == 2
    assert "--repeat must be 1 or more" in result.output


def test_bytes_scanned_is_what_the_scan_read_and_io_counts_everything(shared_report: Any) -> None:
    """Parquet: the column chunks the scan read; the file system total also counts footers read at bind time."""
    for q in shared_report.queries:
        lake, warehouse = q.results["lake"], q.results["warehouse"]
        assert lake.io_bytes_read is not None and lake.bytes_scanned is not None
        assert lake.io_bytes_read >= lake.bytes_scanned
        assert lake.method is not None and "scan operators" in lake.method
        assert warehouse.method is not None and "io.total_bytes_read" in warehouse.method


class ReportingEngine(QueryEngine):
    """An engine outside DuckDB that reports its own scan statistics, as Athena does."""

    name, dialect, description = "remote", "trino", "reports data_scanned_bytes"

    def execute(self, sql: str) -> QueryResult:
        return QueryResult(self.name, sql, ["n"], [(1,)], 0.01, {"data_scanned_bytes": 12345})


def test_engines_without_a_profiler_report_their_own_scan_bytes() -> None:
    stats = ReportingEngine().measure("SELECT 1").stats
    assert stats["bytes_scanned"] == 12345 and "data_scanned_bytes" in stats["method"]
    assert stats["files_read"] is None


def test_saved_json_reads_back_into_the_report(shared_processed_lake: LakeLayout, tmp_path: Path) -> None:
    report = run_benchmark(_target(shared_processed_lake), BenchmarkOptions(repeat=2, save=False, chart=False))
    saved = json.loads(json.dumps(report.to_dict(), default=str))
    back = BenchmarkReport.from_dict(saved)
    assert back.to_dict() == saved  # medians of an even number of runs come back as saved, not recomputed
    assert back.ok == report.ok
    assert [q.query.name for q in back.queries] == [q.query.name for q in report.queries]
    lake = back.queries[0].results["lake"]
    assert lake.timing == report.queries[0].results["lake"].timing
    assert lake.bytes_scanned == report.queries[0].results["lake"].bytes_scanned
    assert back.ratios["lake_vs_raw"].per_query == report.ratios["lake_vs_raw"].per_query
    assert back.storage == report.storage
    assert back.claims == report.claims


def test_an_older_benchmark_file_reads_without_its_newer_keys() -> None:
    fixture = json.loads((FIXTURES / "benchmark-latest.json").read_text())
    back = BenchmarkReport.from_dict(fixture)
    assert len(back.queries) == len(fixture["queries"])
    old = BenchmarkReport.from_dict({"queries": [{"name": "q", "results": {"lake": {"median_s": 0.5}}}]})
    assert old.queries[0].query.title == "q"
    assert old.queries[0].results["lake"].timing.median_s == 0.5
    assert old.queries[0].results["lake"].bytes_scanned is None
    assert old.ratios == {} and old.claims == [] and old.storage.compression_ratio is None
    assert old.ok
