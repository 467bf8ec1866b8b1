"""cost-report: the arithmetic against hand-computed cases, the report on a seeded lake, bad inputs via the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.errors import InputError, UsageError
from datalake.layout import LakeLayout
from datalake.measure.cost import model as cost
from datalake.measure.cost.infra_shape import NO_LIFECYCLE, InfraShape, LifecycleRule
from datalake.measure.cost.pricing import GB, load_prices
from datalake.measure.cost.report import CostOptions, build_report, run_cost_report, run_costs
from datalake.measure.cost.result import CostReport
from tests.usage import measure_local

P = load_prices("us-east-1")
RAW_RULE = LifecycleRule(((30, "STANDARD_IA"), (90, "GLACIER"), (365, "DEEP_ARCHIVE")))
MB = 1024**2


# ----------------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50TB", 50 * 1024**4), ("1.5 gb", int(1.5 * GB)), ("2P", 2 * 1024**5), ("512", 512), ("10MB", 10 * MB)],
)
def test_parse_size(text: str, expected: int) -> None:
    assert cost.parse_size(text) == expected


@pytest.mark.parametrize("text", ["-5TB", "0TB", "lots", "5 XB", ""])
def test_parse_size_rejects_garbage_naming_the_option(text: str) -> None:
    with pytest.raises(UsageError, match="--scale"):
        cost.parse_size(text, "--scale")


def test_parse_rate() -> None:
    assert cost.parse_rate("5%") == pytest.approx(0.05)
    assert cost.parse_rate("0.1") == pytest.approx(0.1)
    for bad in ("fast", "-100%", "nan"):
        with pytest.raises(UsageError, match="--growth"):
            cost.parse_rate(bad)


def test_months_are_30_or_31_days_and_a_year_is_365() -> None:
    bounds = cost.month_bounds(12)
    assert bounds[0] == (0, 30) and bounds[2] == (60, 91) and bounds[-1][1] == 365
    assert {end - start for start, end in bounds} == {30, 31}


# ----------------------------------------------------------------------------------- lifecycle


def test_one_gb_ages_through_the_lifecycle_month_by_month() -> None:
    months = cost.simulate_storage([cost.Cohort(0, GB, 1000)], [], RAW_RULE, P, 4)
    # month 1, days 0-29: STANDARD all month
    assert months[0].storage_usd == pytest.approx(0.023)
    assert months[0].transition_usd == 0
    # month 2, days 30-59: STANDARD_IA from day 30, 1000 transition requests at $0.01 per 1000
    assert months[1].storage_usd == pytest.approx(0.0125)
    assert months[1].transition_usd == pytest.approx(0.01)
    # month 3, days 60-90 (31 days): 30 days in IA, day 90 in GLACIER
    assert months[2].storage_usd == pytest.approx((30 * 0.0125 + 1 * 0.0036) / 31)
    assert months[2].transition_usd == pytest.approx(0.03)
    assert months[3].storage_usd == pytest.approx(0.0036)
    assert months[3].bytes_by_class == {"GLACIER": GB}
    assert all(m.early_delete_usd == 0 for m in months)  # 60 days in IA >= its 30-day minimum


def test_transition_happens_on_the_day_the_age_reaches_it() -> None:
    # 29 days old at the start: STANDARD on day 0, STANDARD_IA from day 1
    month = cost.simulate_storage([cost.Cohort(29, GB, 0)], [], RAW_RULE, P, 1)[0]
    assert month.storage_usd == pytest.approx((1 * 0.023 + 29 * 0.0125) / 30)
    # 30 days old: already IA on day 0
    month = cost.simulate_storage([cost.Cohort(30, GB, 0)], [], RAW_RULE, P, 1)[0]
    assert month.storage_usd == pytest.approx(0.0125)


def test_all_standard_is_the_flat_price() -> None:
    months = cost.simulate_storage([cost.Cohort(400, 2 * GB, 10)], [], NO_LIFECYCLE, P, 3)
    assert [m.storage_usd for m in months] == pytest.approx([0.046] * 3)
    assert sum(m.transition_usd for m in months) == 0


def test_leaving_glacier_before_90_days_pays_the_rest() -> None:
    rule = LifecycleRule(((0, "GLACIER"),), expiration_days=30)
    months = cost.simulate_storage([cost.Cohort(0, GB, 1000)], [], rule, P, 2)
    assert months[0].storage_usd == pytest.approx(0.0036)
    assert months[0].transition_usd == pytest.approx(0.03)  # a day-0 transition is still a request per object
    # expired at day 30: 60 more days of GLACIER are billed (a day is 12/365 of a month)
    assert months[1].early_delete_usd == pytest.approx(60 * 12 / 365 * 0.0036)
    assert months[1].storage_usd == 0 and months[1].bytes_by_class == {}


def test_daily_ingest_is_charged_puts_and_storage_from_its_first_day() -> None:
    ingest = [(GB, 1000.0)] * 30
    month = cost.simulate_storage([], ingest, NO_LIFECYCLE, P, 1)[0]
    # day d holds d+1 GB: sum over 30 days of (d+1)/30 GB-months
    assert month.storage_usd == pytest.approx(sum(d + 1 for d in range(30)) / 30 * 0.023)
    assert month.put_usd == pytest.approx(30 * 1000 * 0.005 / 1000)
    assert month.bytes_by_class == {"STANDARD": 30 * GB}


def test_intelligent_tiering_pays_monitoring_per_object() -> None:
    rule = LifecycleRule(((0, "INTELLIGENT_TIERING"),))
    month = cost.simulate_storage([cost.Cohort(10, GB, 1_000_000)], [], rule, P, 1)[0]
    assert month.monitoring_usd == pytest.approx(1_000_000 / 1000 * 0.0025)
    assert month.storage_usd == pytest.approx(0.023)


# ----------------------------------------------------------------------------------- queries and compute


def test_athena_minimum_applies_per_query() -> None:
    assert cost.athena_cost_per_query(1000, P) == pytest.approx(10 * MB / 1024**4 * 5)
    assert cost.monthly_query_cost(0.01, 100) == pytest.approx(0.01 * 100 * 365 / 12)


def test_break_even_queries_per_day() -> None:
    # $1000/month of warehouse vs $0.50 per Athena query: 1000 / (0.5 * 30.4167) = 65.75 queries/day
    assert cost.break_even_queries_per_day(1000, 0.5) == pytest.approx(1000 / (0.5 * 365 / 12))
    assert cost.break_even_queries_per_day(1000, 0) is None


def test_redshift_provisioned_and_serverless() -> None:
    r = cost.redshift_provisioned_monthly("ra3.xlplus", 2, 100 * GB, P)
    assert r["compute_usd"] == pytest.approx(2 * 1.086 * 730)
    assert r["storage_usd"] == pytest.approx(100 * 0.024)
    assert cost.redshift_provisioned_monthly("dc2.large", 1, 100 * GB, P)["storage_usd"] == 0
    # 8 RPU, a 5-second query is billed the 60-second minimum
    assert cost.redshift_serverless_query_cost(8, 5, P) == pytest.approx(8 * 60 / 3600 * 0.375)
    assert cost.redshift_serverless_query_cost(8, 120, P) == pytest.approx(8 * 120 / 3600 * 0.375)


def test_glue_minimums() -> None:
    # 10 DPU-seconds on 2 DPUs would be 5 s: billed the 1-minute minimum
    assert cost.glue_run_cost(10, 2, P) == pytest.approx(2 * 60 / 3600 * 0.44)
    assert cost.glue_run_cost(7200, 2, P) == pytest.approx(2 * 3600 / 3600 * 0.44)
    # crawlers: 10-minute minimum
    assert cost.glue_run_cost(60, 2, P, crawler=True) == pytest.approx(2 * 600 / 3600 * 0.44)


def test_spot_discount_applies_to_ec2_workers_only() -> None:
    spot = cost.emr_cluster_hourly("m5.xlarge", "m5.xlarge", 4, True, P)
    on_demand = cost.emr_cluster_hourly("m5.xlarge", "m5.xlarge", 4, False, P)
    assert on_demand.usd_hour == pytest.approx(5 * (0.192 + 0.048))
    # primary on-demand; workers pay 40% of EC2 (60% spot discount) plus the full EMR surcharge
    assert spot.usd_hour == pytest.approx(0.24 + 4 * (0.192 * 0.4 + 0.048))
    assert spot.emr_usd_hour == pytest.approx(5 * 0.048)
    assert cost.saving_percent(on_demand.usd_hour, spot.usd_hour) == pytest.approx((1 - 0.7392 / 1.2) * 100)


# ----------------------------------------------------------------------------------- the report on a seeded lake


def write_benchmark(layout: LakeLayout) -> dict[str, Any]:
    """A benchmark-latest.json as the benchmark command writes it (two queries, three engines)."""

    def result(bytes_scanned: int, files: int) -> dict[str, Any]:
        return {
            "median_s": 0.01,
            "min_s": 0.01,
            "max_s": 0.02,
            "bytes_scanned": bytes_scanned,
            "files_read": files,
            "rows_returned": 5,
            "cost_usd": 0.0,
        }

    data = {
        "created": "2026-07-01T12:00:00+00:00",
        "target": "local",
        "lake": str(layout.root),
        "fact_rows": 20000,
        "repeat": 3,
        "engines": ["raw", "lake", "warehouse"],
        "queries": [
            {
                "name": "daily",
                "title": "Daily sales",
                "sql": "SELECT 1",
                "ordered": True,
                "match": True,
                "results": {
                    "raw": result(50 * MB, 100),
                    "lake": result(2_000_000, 4),
                    "warehouse": result(1_000_000, 0),
                },
            },
            {
                "name": "ltv",
                "title": "Customer lifetime value",
                "sql": "SELECT 2",
                "ordered": True,
                "match": True,
                "results": {"raw": result(100 * MB, 100), "lake": result(30 * MB, 8), "warehouse": result(20 * MB, 0)},
            },
        ],
        "ratios": {},
        "claims": [],
        "storage": {"raw_bytes": 0, "parquet_bytes": 0, "compression_ratio": 1.0},
    }
    layout.results.mkdir(parents=True, exist_ok=True)
    (layout.results / "benchmark-latest.json").write_text(json.dumps(data))
    return data


def test_report_prices_the_measured_scans(processed_lake: LakeLayout) -> None:
    write_benchmark(processed_lake)
    usage = measure_local(processed_lake)
    shape = InfraShape()
    report = build_report(usage, shape, P, CostOptions(queries_per_day=10, months=12))
    assert report["assumptions"]["scan_source"] == "benchmark"
    assert report["assumptions"]["scale_factor"] == 1.0
    daily, ltv = report["queries"]
    # 2 MB is billed as the 10 MB minimum; 30 MB as 30 MB
    assert daily["athena_billed_bytes"] == 10 * MB
    assert daily["athena_usd"] == pytest.approx(10 * MB / 1024**4 * 5)
    assert ltv["athena_usd"] == pytest.approx(30 * MB / 1024**4 * 5)
    scan = report["savings"][0]
    assert scan["percent"] == pytest.approx((1 - (10 + 30) / (50 + 100)) * 100)
    assert scan["inputs"]["source"] == "benchmark"
    be = report["break_even"]
    athena_avg = (10 + 30) / 2 * MB / 1024**4 * 5
    assert be["athena_usd_per_query"] == pytest.approx(athena_avg)
    assert be["queries_per_day"] == pytest.approx(be["redshift_monthly_usd"] / (athena_avg * 365 / 12))
    assert report["by_service"]["Athena"] == pytest.approx(athena_avg * 10 * 365 / 12)
    # every zone of the lake is priced, and the services add up to the total
    assert set(report["by_zone"]) == {"raw", "processed", "archive", "quarantine"}
    assert report["by_zone"]["raw"]["measured_bytes"] == usage.zones["raw"]["bytes"]
    for month in report["months"]:
        assert month["total_usd"] == pytest.approx(sum(month["services"].values()))
    assert report["by_service"]["EMR"] == 0  # the default shape deploys no EMR cluster
    assert any("EMR is not deployed" in n for n in report["notes"])


def test_scale_projects_sizes_and_lifecycle_saves_on_an_aged_lake(processed_lake: LakeLayout) -> None:
    usage = measure_local(processed_lake)
    report = build_report(usage, InfraShape(), P, CostOptions(scale="50TB", months=12, growth="2%"))
    a = report["assumptions"]
    assert a["projected_raw_bytes"] == pytest.approx(50 * 1024**4)
    assert report["by_zone"]["raw"]["bytes"] + report["by_zone"]["archive"]["bytes"] == pytest.approx(50 * 1024**4)
    assert a["scan_source"] == "estimate"
    assert any("no benchmark results" in n for n in report["notes"])
    lifecycle = report["savings"][1]
    assert 0 < lifecycle["percent"] < 100
    st = report["storage"]
    assert all(lc <= sd for lc, sd in zip(st["lifecycle_usd"], st["standard_only_usd"], strict=True))
    # growing ingest: the all-Standard bill rises month over month
    assert st["standard_only_usd"][-1] > st["standard_only_usd"][0]
    # objects at scale follow --object-size, not the small local files
    assert report["by_zone"]["raw"]["objects"] == pytest.approx(
        report["by_zone"]["raw"]["bytes"] / (128 * MB), rel=0.01
    )


def test_report_needs_a_run(lake: LakeLayout) -> None:
    usage = measure_local(lake)
    with pytest.raises(InputError, match="no completed ETL run") as exc:
        build_report(usage, InfraShape(), P, CostOptions())
    assert exc.value.hint == "run `datalake run-etl` first"


def test_run_saves_json_and_chart(processed_lake: LakeLayout, tmp_path: Path) -> None:
    report = run_cost_report(measure_local(processed_lake), CostOptions(scale="1TB", months=3), tmp_path / "no-infra")
    saved = processed_lake.results / "cost-latest.json"
    assert json.loads(saved.read_text())["total_month1_usd"] == report["total_month1_usd"]
    chart = Path(report["chart"])
    assert chart.is_file() and chart.read_bytes()[:4] == b"\x89PNG"
    assert report["infra"]["source"] == "defaults"


# ----------------------------------------------------------------------------------- CLI


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, args)


def test_cli_json_report(processed_lake: LakeLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no infra/ here: defaults
    write_benchmark(processed_lake)
    infracost = tmp_path / "infracost.json"
    infracost.write_text(
        json.dumps(
            {
                "totalMonthlyCost": "45.5",
                "projects": [
                    {
                        "name": "infra",
                        "breakdown": {
                            "resources": [
                                {"name": "aws_nat_gateway.lake[0]", "monthlyCost": "32.85"},
                                {"name": "aws_kms_key.lake", "monthlyCost": "1"},
                                {"name": "aws_redshift_cluster.lake[0]", "monthlyCost": "11.65"},
                            ]
                        },
                    }
                ],
            }
        )
    )
    result = _invoke(
        [
            "cost-report",
            "--lake",
            str(processed_lake.root),
            "--region",
            "eu-west-1",
            "--queries-per-day",
            "500",
            "--infracost-json",
            str(infracost),
            "--output",
            str(tmp_path / "c.png"),
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["region"] == "eu-west-1"
    assert report["assumptions"]["queries_per_day"] == 500
    # NAT gateway and KMS are merged; the Redshift cluster is already modelled
    assert report["infracost"]["merged_monthly_usd"] == pytest.approx(33.85)
    assert report["by_service"]["Other (Infracost)"] == pytest.approx(33.85)
    assert (tmp_path / "c.png").is_file()


def test_cli_table_output(processed_lake: LakeLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke(["cost-report", "--lake", str(processed_lake.root), "--scale", "10TB", "--months", "2"])
    assert result.exit_code == 0, result.output
    assert "Monthly cost by service" in result.stdout
    assert "Savings, computed" in result.stdout
    assert "queries/day" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "mars-north-1"], "no prices for region 'mars-north-1'"),
        (["--scale", "-5TB"], "--scale"),
        (["--scale", "huge"], "--scale must be a size"),
        (["--months", "0"], "--months"),
        (["--queries-per-day", "-1"], "--queries-per-day"),
        (["--growth", "-200%"], "--growth"),
        (["--infracost-json", "/nonexistent/infracost.json"], "--infracost-json"),
    ],
)
def test_cli_bad_inputs_fail_cleanly(shared_processed_lake: LakeLayout, args: list[str], message: str) -> None:
    result = _invoke(["cost-report", "--lake", str(shared_processed_lake.root), *args])
    assert result.exit_code == 2
    assert "Error:" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_cli_malformed_price_file(shared_processed_lake: LakeLayout, tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text('{"regions": {"us-east-1": {"glue": {"etl_dpu_hour": "cheap"}}}}')
    result = _invoke(["cost-report", "--lake", str(shared_processed_lake.root), "--prices", str(bad)])
    assert result.exit_code == 2
    assert "regions.us-east-1.glue.etl_dpu_hour" in result.output and str(bad) in result.output


def test_cli_no_lake(tmp_path: Path) -> None:
    result = _invoke(["cost-report", "--lake", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert "no lake at" in result.output


def test_cost_report_round_trips_through_its_json(processed_lake: LakeLayout) -> None:
    write_benchmark(processed_lake)
    opts = CostOptions(scale="1TB", months=3, write_chart=False, infracost_json=None)
    report = run_costs(measure_local(processed_lake), opts, None)
    saved = json.loads((processed_lake.results / "cost-latest.json").read_text())
    assert report.to_dict() == saved
    again = CostReport.from_dict(saved)
    assert again == report
    assert again.to_dict() == saved
    assert again.by_zone["raw"].measured_bytes == saved["by_zone"]["raw"]["measured_bytes"]
    assert again.savings[0].name.startswith("Parquet")


def test_an_older_cost_file_reads_with_defaults() -> None:
    old = CostReport.from_dict({"total_month1_usd": 12.5, "assumptions": {"months": 6}, "savings": [{"name": "x"}]})
    assert old.total_month1_usd == 12.5
    assert old.assumptions.months == 6
    assert old.assumptions.scale is None
    assert old.savings[0].percent is None
    assert old.break_even.queries_per_day is None
    assert "saved" not in old.to_dict()
