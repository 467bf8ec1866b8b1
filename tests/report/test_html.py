"""The HTML report: sections present/absent, numbers from the inputs, self-contained, well-formed."""

from __future__ import annotations

import json
import re
import shutil
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.config import Settings
from datalake.layout import LakeLayout
from datalake.measure.cost.report import CostOptions, run_cost_report
from datalake.report.architecture import architecture_svg
from datalake.report.html import build_report, write_report
from datalake.targets.aws.target import AwsTarget
from datalake.targets.local.etl.run import journals
from datalake.targets.local.target import LocalTarget
from tests.paths import FIXTURES, INFRA
from tests.usage import measure_local

FIXTURE = FIXTURES / "benchmark-latest.json"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


class TagChecker(HTMLParser):
    """Every opened element is closed in order; collects the charts and their data-points."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.charts: list[dict[str, str]] = []
        self.ids: list[str] = []
        self.bars = 0
        self.polylines = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "svg" and "chart" in a.get("class", "").split():
            self.charts.append(a)
        if tag == "rect" and a.get("class") == "bar":
            self.bars += 1
        if tag == "polyline" and a.get("class") == "line":
            self.polylines += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <line/>, <path/>: self-closed

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()


def parse(page: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


def add_cost_report(layout: LakeLayout) -> dict[str, Any]:
    return run_cost_report(
        measure_local(layout), CostOptions(scale="50TB", months=6, write_chart=False), INFRA if INFRA.is_dir() else None
    )


def add_benchmark(layout: LakeLayout, mutate: Any = None) -> dict[str, Any]:
    data = json.loads(FIXTURE.read_text())
    if mutate:
        mutate(data)
    layout.results.mkdir(parents=True, exist_ok=True)
    (layout.results / "benchmark-latest.json").write_text(json.dumps(data))
    return data


def section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match, f"no {name} section"
    return match.group(1)


def test_without_benchmark_and_costs_the_sections_say_which_command_adds_them(processed_lake: LakeLayout) -> None:
    page = build_report(processed_lake)
    parsed = parse(page)
    assert {"pipeline", "benchmark", "costs", "architecture"} <= set(parsed.ids)
    assert "run `datalake benchmark`" in section(page, "benchmark")
    assert "run `datalake cost-report`" in section(page, "costs")
    assert "<svg" not in section(page, "benchmark")
    # The pipeline still shows the run's numbers, from the journal.
    summary = journals(processed_lake)[-1]["summary"]
    pipeline = section(page, "pipeline")
    assert f"{summary['rows_in']:,}" in pipeline
    assert f"{summary['rows_processed']:,}" in pipeline
    for reason, count in summary["by_reason"].items():
        assert re.search(rf"{reason}\b.*?>{count}<", pipeline, re.S), reason
    assert summary["run_id"] in pipeline


def test_all_sections_show_the_numbers_of_their_inputs(processed_lake: LakeLayout) -> None:
    bench = add_benchmark(processed_lake)
    cost = add_cost_report(processed_lake)
    result = write_report(processed_lake)
    assert result.path == processed_lake.results / "report.html"
    page = result.path.read_text(encoding="utf-8")
    parsed = parse(page)
    assert all(s["present"] for s in result.sections.values())
    assert result.sections["benchmark"]["charts"] == 2
    assert result.sections["costs"]["charts"] == 3
    assert len(parsed.charts) == sum(s["charts"] for s in result.sections.values())
    assert all(int(c["data-points"]) > 0 for c in parsed.charts)

    benchmark = section(page, "benchmark")
    for claim in bench["claims"]:
        assert escape(claim["claim"]) in benchmark
    assert benchmark.count("✓ holds") == sum(c["holds"] for c in bench["claims"])
    assert benchmark.count("✗ does not hold") == sum(not c["holds"] for c in bench["claims"])
    assert "5.01×" in benchmark  # the compression ratio, measured
    # Every query's bars: 3 engines x 6 queries, for time and for bytes scanned.
    assert benchmark.count('class="bar"') == 2 * 3 * len(bench["queries"])
    assert "1.42 s" in benchmark  # raw median of simple_aggregation (1.420699 s)
    assert "226.1×" in benchmark  # lake vs raw speedup from the saved ratios

    costs = section(page, "costs")
    assert f"${cost['total_month1_usd']:,.0f}" in costs
    assert f"{cost['break_even']['queries_per_day']:,.3g} queries/day" in costs
    for name in cost["by_service"]:
        if cost["by_service"][name] > 0:
            assert name in costs
    for saving in cost["savings"]:
        assert f"{saving['percent']:.1f}%" in costs
    assert "Projection at 50TB" in costs
    assert costs.count('class="line"') == 4  # storage: lifecycle + standard; break-even: Athena + Redshift


def test_page_is_self_contained(processed_lake: LakeLayout) -> None:
    add_benchmark(processed_lake)
    add_cost_report(processed_lake)
    page = build_report(processed_lake)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page
    assert not re.search(r"url\((?!#)", page)  # only local references such as url(#arrow)
    assert "@media print" in page and "@media (max-width" in page


def test_benchmark_without_ratios_claims_or_storage_still_renders(processed_lake: LakeLayout) -> None:
    def strip(data: dict[str, Any]) -> None:
        for key in ("ratios", "claims", "storage", "roles", "engines"):
            data.pop(key)
        data["extra_key"] = {"ignored": True}
        failed = data["queries"][0]["results"]["warehouse"]
        failed.update(error="boom", median_s=None)

    add_benchmark(processed_lake, strip)
    page = build_report(processed_lake)
    parse(page)
    benchmark = section(page, "benchmark")
    assert "claims" not in benchmark
    # Speedups computed from the medians: raw 1.420699 s / lake 0.006284 s.
    assert f"{1.420699 / 0.006284:,.1f}×" in benchmark
    assert "warehouse: n/a" in benchmark


def test_unreadable_results_become_notes(processed_lake: LakeLayout) -> None:
    processed_lake.results.mkdir(parents=True, exist_ok=True)
    (processed_lake.results / "benchmark-latest.json").write_text("{not json")
    (processed_lake.results / "cost-latest.json").write_text("[1, 2]")
    result = write_report(processed_lake, processed_lake.root / "out" / "r.html")
    assert result.path.is_file()
    assert not result.sections["benchmark"]["present"]
    assert "unreadable" in result.sections["benchmark"]["note"]
    assert "not a JSON object" in result.sections["costs"]["note"]


def test_results_from_an_older_version_still_make_a_page(processed_lake: LakeLayout) -> None:
    processed_lake.results.mkdir(parents=True, exist_ok=True)
    old_bench = {"queries": [{"name": "q", "results": {"lake": {"median_s": 0.5, "bytes_scanned": 2048}}}]}
    (processed_lake.results / "benchmark-latest.json").write_text(json.dumps(old_bench))
    (processed_lake.results / "cost-latest.json").write_text(json.dumps({"total_month1_usd": 12.5, "savings": [{}]}))
    result = write_report(processed_lake, processed_lake.root / "out" / "r.html")
    page = result.path.read_text()
    parse(page)
    assert result.sections["benchmark"]["present"] and result.sections["costs"]["present"]
    assert "$12.50" in section(page, "costs")
    assert "2 KB" in section(page, "benchmark")


def test_architecture_follows_the_target(shared_processed_lake: LakeLayout, tmp_path: Path) -> None:
    local = LocalTarget(Settings(lake=shared_processed_lake.root))
    page = build_report(local)
    arch = section(page, "architecture")
    assert "on the local target" in arch
    assert "DuckDB over Parquet" in arch
    assert "Athena" not in arch
    aws = architecture_svg(AwsTarget(Settings(lake=tmp_path, target="aws")).services(), "aws")
    for service in ("S3 raw bucket", "Glue", "Athena", "Redshift", "EMR", "Terraform"):
        assert service in aws
    assert parse(aws).charts[0]["data-points"] == "9"


def test_report_needs_a_lake(tmp_path: Path) -> None:
    from datalake.errors import DatalakeError

    with pytest.raises(DatalakeError):
        build_report(LakeLayout(tmp_path / "missing"))


def test_cli_report_json_and_output(processed_lake: LakeLayout, tmp_path: Path) -> None:
    shutil.copy(FIXTURE, processed_lake.results / "benchmark-latest.json")
    out = tmp_path / "page.html"
    result = CliRunner().invoke(
        app, ["report", "--lake", str(processed_lake.root), "--output", str(out), "--json", "--open"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["path"] == str(out)
    assert data["sections"]["benchmark"]["present"] is True
    assert data["sections"]["costs"]["present"] is False
    assert "opened" in data
    assert out.read_text().startswith("<!DOCTYPE html>")

    plain = CliRunner().invoke(app, ["report", "--lake", str(processed_lake.root)])
    assert plain.exit_code == 0, plain.output
    assert "run `datalake cost-report`" in plain.stdout
    assert (processed_lake.results / "report.html").is_file()


def test_a_target_that_cannot_validate_is_not_asked_and_a_failing_validate_is_not_hidden(
    processed_lake: LakeLayout,
) -> None:
    from dataclasses import replace

    from datalake.errors import DatalakeError
    from datalake.report.gather import gather

    class Broken(LocalTarget):
        def validate(self) -> Any:
            raise DatalakeError("validate broke")

    target = Broken(Settings(lake=processed_lake.root))
    with pytest.raises(DatalakeError, match="validate broke"):  # once caught, and the page said nothing
        gather(target)
    target.capabilities = replace(LocalTarget.capabilities, validate=False)
    assert gather(target).validation is None
