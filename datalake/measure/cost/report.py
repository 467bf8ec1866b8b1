"""cost-report: what the lake costs on AWS, from measured usage times the price table, projected.

Measured: zone sizes and object counts, the age profile of the data (its day partitions), ETL and
crawl throughput from the run journals, bytes scanned per query from the latest benchmark.
Shape: infra/*.tf (infra_shape). Prices: the price table (pricing). The arithmetic is in cost.py;
this module gathers the inputs, projects them to --scale, and assembles one JSON-able report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from datalake.errors import InputError, UsageError
from datalake.measure.cost import model as cost
from datalake.measure.cost.infra_shape import NO_LIFECYCLE, ZONE_NAMES, InfraShape, read_infra_shape
from datalake.measure.cost.pricing import GB, PriceTable, load_prices
from datalake.measure.results import BENCHMARK_FILE, NOT_AN_OBJECT, Results, UnreadableResult, read_result

CRAWLER_DPUS = 2  # what AWS's own crawler pricing example uses; crawlers' DPUs are not configurable
GLUE_RUNS_PER_DAY = 1
CLOUDTRAIL_EVENT_BYTES = 1024  # rough size of one data event delivered to CloudWatch Logs
# Resource types cost-report prices itself; an Infracost breakdown only adds the others.
MODELLED_PREFIXES = ("aws_s3_", "aws_athena_", "aws_glue_", "aws_redshift", "aws_emr", "aws_cloudtrail")


@dataclass
class MeasuredUsage:
    """What a target measured about its lake: the inputs of the cost model."""

    lake: str
    target: str
    zones: dict[str, dict[str, int]]  # zone -> {"files", "bytes"}
    day_partitions: dict[str, dict[str, tuple[int, int]]]  # zone -> ISO day -> (bytes, files) of sales partitions
    runs: list[dict[str, Any]]  # completed run summaries (seconds, stages, bytes_in, ...)
    benchmark: dict[str, Any] | None = None
    benchmark_path: str | None = None
    sales_fact_bytes: int = 0
    results_dir: Path | None = None


@dataclass(frozen=True)
class CostOptions:
    region: str = "us-east-1"
    prices_file: Path | None = None
    queries_per_day: float = 100.0
    scale: str | None = None
    months: int = 12
    growth: str = "0"
    infracost_json: Path | None = None
    chart: Path | None = None  # None: <lake>/results/cost-latest.png when the lake has a results folder
    infra_dir: Path | None = None
    write_chart: bool = True
    object_size: str = "128MB"  # average object size assumed at --scale (small local files would not scale)

    def validate(self) -> None:
        if self.queries_per_day < 0:
            raise UsageError(f"--queries-per-day must be zero or more, got {self.queries_per_day:g}")
        if not 1 <= self.months <= 120:
            raise UsageError(f"--months must be between 1 and 120, got {self.months}")
        if self.scale is not None:
            cost.parse_size(self.scale, "--scale")
        cost.parse_rate(self.growth, "--growth")
        cost.parse_size(self.object_size, "--object-size")
        if self.infracost_json is not None and not self.infracost_json.is_file():
            raise UsageError(
                f"--infracost-json {self.infracost_json} does not exist",
                hint="pass the file written by `infracost breakdown --format json`",
            )


# ----------------------------------------------------------------------------------- measuring a local lake


def _day_partitions(zone_root: Path) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for day_dir in zone_root.rglob("day=*"):
        if not day_dir.is_dir():
            continue
        parts = dict(p.split("=", 1) for p in day_dir.parts if "=" in p)
        try:
            day = date(int(parts["year"]), int(parts["month"]), int(parts["day"])).isoformat()
        except (KeyError, ValueError):
            continue
        files = [f for f in day_dir.iterdir() if f.is_file() and not f.name.startswith((".", "_"))]
        size, count = out.get(day, (0, 0))
        out[day] = (size + sum(f.stat().st_size for f in files), count + len(files))
    return out


def read_benchmark(path: Path) -> dict[str, Any] | None:
    try:
        data = read_result(path)
    except UnreadableResult as exc:
        if exc.reason != NOT_AN_OBJECT:
            raise InputError(
                f"benchmark results {path} are not valid JSON: {exc.reason}", hint="run `datalake benchmark` again"
            ) from exc
        data = {}
    if data is None:
        return None
    if not isinstance(data.get("queries"), list):
        raise InputError(f"benchmark results {path} have no 'queries' list", hint="run `datalake benchmark` again")
    return data


def measure_local(layout: Any) -> MeasuredUsage:
    """Measured usage of a local lake (a LakeLayout): zones, day partitions, runs, latest benchmark."""
    from datalake.fsutil import tree_stats
    from datalake.targets.local.etl.run import journals, require_lake, zone_stats

    require_lake(layout)
    runs = [
        j["summary"] for j in journals(layout) if isinstance(j.get("summary"), dict) and j["summary"].get("bytes_in")
    ]
    bench_path = Results(layout.results).benchmark
    return MeasuredUsage(
        lake=str(layout.root),
        target="local",
        zones=zone_stats(layout),
        day_partitions={z: _day_partitions(layout.zone(z) / "sales") for z in ("raw", "archive")},
        runs=runs,
        benchmark=read_benchmark(bench_path),
        benchmark_path=str(bench_path) if bench_path.is_file() else None,
        sales_fact_bytes=tree_stats(layout.processed / "sales_fact")[1],
        results_dir=layout.results,
    )


# ----------------------------------------------------------------------------------- the model


@dataclass
class _Projection:
    factor: float
    raw_bytes: float  # measured raw data (raw + archive zones)
    span_days: int
    newest: date | None
    object_factor: dict[str, float] = field(default_factory=dict)  # zone -> objects at scale / measured objects
    cohorts: dict[str, list[cost.Cohort]] = field(default_factory=dict)
    ingest: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _weights(days: dict[str, tuple[int, int]], newest: date) -> list[tuple[int, float]]:
    total = sum(b for b, _ in days.values())
    if not total:
        return [(0, 1.0)]
    return [((newest - date.fromisoformat(d)).days, b / total) for d, (b, _) in sorted(days.items())]


def _project(usage: MeasuredUsage, opts: CostOptions, growth: float) -> _Projection:
    raw_days = dict(usage.day_partitions.get("raw", {}))
    archive_days = dict(usage.day_partitions.get("archive", {}))
    all_days: dict[str, tuple[int, int]] = {}
    for d, (b, n) in [*raw_days.items(), *archive_days.items()]:
        ob, on = all_days.get(d, (0, 0))
        all_days[d] = (ob + b, on + n)
    raw_bytes = usage.zones.get("raw", {}).get("bytes", 0) + usage.zones.get("archive", {}).get("bytes", 0)
    if raw_bytes <= 0:
        raise InputError(
            f"the lake at {usage.lake} has no raw data to measure",
            hint="run `datalake seed` and `datalake run-etl` first",
        )
    factor = cost.parse_size(opts.scale, "--scale") / raw_bytes if opts.scale else 1.0
    if all_days:
        newest = max(date.fromisoformat(d) for d in all_days)
        span = (newest - min(date.fromisoformat(d) for d in all_days)).days + 1
    else:
        newest, span = None, 1
    proj = _Projection(factor=factor, raw_bytes=raw_bytes, span_days=span, newest=newest)
    bounds = cost.month_bounds(opts.months)
    object_size = cost.parse_size(opts.object_size, "--object-size")
    for zone in ZONE_NAMES:
        stats = usage.zones.get(zone, {"bytes": 0, "files": 0})
        size, files = stats["bytes"] * factor, float(stats["files"])
        if opts.scale and stats["files"]:
            # At scale, objects keep the measured average size or the assumed --object-size, whichever is larger.
            files = size / max(stats["bytes"] / stats["files"], object_size)
        proj.object_factor[zone] = files / stats["files"] if stats["files"] else 0.0
        days = {"raw": raw_days, "archive": archive_days}.get(zone, all_days)
        weights = _weights(days, newest) if newest else [(0, 1.0)]
        proj.cohorts[zone] = [cost.Cohort(age, size * w, files * w) for age, w in weights if size * w > 0]
        # Steady state: each day brings one span's share of the zone. The archive zone gets no new data:
        # on AWS the raw bucket's lifecycle ages raw data in place (raw ingest counts raw + archive).
        if zone == "archive":
            daily = (0.0, 0.0)
        elif zone == "raw":
            archived = usage.zones.get("archive", {}).get("files", 0) * proj.object_factor.get("archive", 1.0)
            daily = (raw_bytes * factor / span, (files + archived) / span)
        else:
            daily = (size / span, files / span)
        proj.ingest[zone] = [
            (daily[0] * (1 + growth) ** m, daily[1] * (1 + growth) ** m)
            for m, (start, end) in enumerate(bounds)
            for _ in range(start, end)
        ]
    return proj


def _queries(usage: MeasuredUsage, proj: _Projection, notes: list[str]) -> list[dict[str, Any]]:
    """Each query type's bytes scanned (and files read) per engine, at scale."""
    out = []
    if usage.benchmark:
        for q in usage.benchmark["queries"]:
            results = q.get("results") or {}
            row: dict[str, Any] = {
                "name": q.get("name"),
                "title": q.get("title") or q.get("name"),
                "bytes_scanned": {},
                "files_read": {},
            }
            # engines are looked up by role (athena plays "lake" on aws), falling back to the name
            roles = usage.benchmark.get("roles") or {}
            by_role = {roles.get(name, name): r for name, r in results.items()}
            for engine in ("raw", "lake", "warehouse"):
                r = by_role.get(engine) or {}
                if r.get("bytes_scanned") is not None:
                    row["bytes_scanned"][engine] = float(r["bytes_scanned"]) * proj.factor
                if r.get("files_read") is not None:
                    zone = "raw" if engine == "raw" else "processed"
                    row["files_read"][engine] = float(r["files_read"]) * proj.object_factor.get(zone, proj.factor)
            if "lake" in row["bytes_scanned"]:
                out.append(row)
        if not out:
            raise InputError(
                f"benchmark results {usage.benchmark_path} have no bytes_scanned for the lake engine",
                hint="run `datalake benchmark` again",
            )
        return out
    notes.append(
        f"no benchmark results (results/{BENCHMARK_FILE}): each query is assumed to scan its whole table "
        "(raw sales JSON/CSV, or the Parquet sales_fact without partition pruning). Run `datalake benchmark` "
        "to price the measured scans instead."
    )
    raw_sales = sum(b for b, _ in usage.day_partitions.get("raw", {}).values()) + sum(
        b for b, _ in usage.day_partitions.get("archive", {}).values()
    )
    raw_files = sum(n for _, n in usage.day_partitions.get("raw", {}).values())
    return [
        {
            "name": "full_scan_estimate",
            "title": "full-table scan of sales (estimate, no benchmark)",
            "bytes_scanned": {"raw": raw_sales * proj.factor, "lake": usage.sales_fact_bytes * proj.factor},
            "files_read": {"raw": raw_files * proj.object_factor.get("raw", 1.0)},
        }
    ]


def _throughput(runs: list[dict[str, Any]]) -> tuple[float, float]:
    """(ETL bytes/s, crawl bytes/s) measured over the completed runs."""
    bytes_in = sum(float(r.get("bytes_in") or 0) for r in runs)
    etl_s = sum(
        max(float(r.get("seconds") or 0) - float((r.get("stages") or {}).get("warehouse", 0)), 0.001) for r in runs
    )
    crawl_s = sum(max(float((r.get("stages") or {}).get("crawl", 0)), 0.001) for r in runs)
    return bytes_in / etl_s, bytes_in / crawl_s


def _infracost(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        projects = data["projects"]
        resources = [r for p in projects for r in (p.get("breakdown") or {}).get("resources") or []]
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"--infracost-json {path} is not an Infracost breakdown ({type(exc).__name__}: {exc})",
            hint="write it with `infracost breakdown --path infra --format json --out-file FILE`",
        ) from exc
    rows, merged, skipped = [], 0.0, 0.0
    for r in resources:
        name = str(r.get("name", "?"))
        monthly = float(r.get("monthlyCost") or 0)
        rtype = next((part for part in name.split(".") if part.startswith("aws_")), name)
        is_merged = not rtype.startswith(MODELLED_PREFIXES)
        merged += monthly if is_merged else 0.0
        skipped += 0.0 if is_merged else monthly
        rows.append({"name": name, "monthly_usd": monthly, "merged": is_merged})
    return {
        "file": str(path),
        "total_monthly_usd": float(data.get("totalMonthlyCost") or merged + skipped),
        "merged_monthly_usd": merged,
        "already_modelled_usd": skipped,
        "resources": rows,
    }


def build_report(
    usage: MeasuredUsage, shape: InfraShape, prices: PriceTable, opts: CostOptions, now: datetime | None = None
) -> dict[str, Any]:
    """The whole cost report as a JSON-able dict. Pure: reads nothing but its arguments (and --infracost-json)."""
    opts.validate()
    if not usage.runs:
        raise InputError(
            f"the lake at {usage.lake} has no completed ETL run to measure", hint="run `datalake run-etl` first"
        )
    growth = cost.parse_rate(opts.growth, "--growth")
    notes = list(shape.notes)
    proj = _project(usage, opts, growth)
    qpd = opts.queries_per_day
    days = cost.DAYS_PER_MONTH

    # --- storage, zone by zone, with the lifecycle rules and with everything in STANDARD
    zones: dict[str, dict[str, Any]] = {}
    lifecycle_months = [0.0] * opts.months
    standard_months = [0.0] * opts.months
    put_months = [0.0] * opts.months
    lifecycle_detail: list[dict[str, Any]] = [
        {
            "month": m + 1,
            "storage_usd": 0.0,
            "transition_usd": 0.0,
            "early_delete_usd": 0.0,
            "monitoring_usd": 0.0,
            "bytes_by_class": {},
        }
        for m in range(opts.months)
    ]
    for zone in ZONE_NAMES:
        rule = shape.rule_for(zone)
        with_rule = cost.simulate_storage(proj.cohorts[zone], proj.ingest[zone], rule, prices, opts.months)
        standard = cost.simulate_storage(proj.cohorts[zone], proj.ingest[zone], NO_LIFECYCLE, prices, opts.months)
        for m in range(opts.months):
            month = with_rule[m]
            lifecycle_months[m] += month.total_usd - month.put_usd
            standard_months[m] += standard[m].total_usd - standard[m].put_usd
            put_months[m] += month.put_usd
            detail = lifecycle_detail[m]
            for key in ("storage_usd", "transition_usd", "early_delete_usd", "monitoring_usd"):
                detail[key] += getattr(month, key)
            for cls, b in month.bytes_by_class.items():
                detail["bytes_by_class"][cls] = detail["bytes_by_class"].get(cls, 0.0) + b
        zones[zone] = {
            "bytes": usage.zones.get(zone, {}).get("bytes", 0) * proj.factor,
            "objects": usage.zones.get(zone, {}).get("files", 0) * proj.object_factor.get(zone, 1.0),
            "measured_bytes": usage.zones.get(zone, {}).get("bytes", 0),
            "measured_objects": usage.zones.get(zone, {}).get("files", 0),
            "lifecycle": rule.describe(),
            "month1_usd": with_rule[0].total_usd - with_rule[0].put_usd,
            "average_month_usd": sum(x.total_usd - x.put_usd for x in with_rule) / opts.months,
            "standard_only_average_month_usd": sum(x.total_usd - x.put_usd for x in standard) / opts.months,
            "months": [x.to_dict() for x in with_rule],
        }

    # --- queries: Athena on Parquet, Athena on raw JSON/CSV, Redshift
    queries = _queries(usage, proj, notes)
    stored = usage.zones.get("processed", {}).get("bytes", 0) * proj.factor
    provisioned = cost.redshift_provisioned_monthly(shape.redshift_node_type, shape.redshift_node_count, stored, prices)
    serverless_q = cost.redshift_serverless_query_cost(shape.redshift_base_rpu, 0.0, prices)
    for q in queries:
        scanned = q["bytes_scanned"]
        q["athena_usd"] = cost.athena_cost_per_query(scanned["lake"], prices)
        q["athena_billed_bytes"] = max(scanned["lake"], prices.athena_minimum_bytes)
        q["raw_athena_usd"] = cost.athena_cost_per_query(scanned["raw"], prices) if "raw" in scanned else None
        q["redshift_provisioned_usd"] = provisioned["total_usd"] / (qpd * days) if qpd else None
        q["redshift_serverless_min_usd"] = serverless_q
    athena_avg = sum(q["athena_usd"] for q in queries) / len(queries)
    raw_priced = [q for q in queries if q["raw_athena_usd"] is not None]
    gets_per_query = sum(q["files_read"].get("lake", 0.0) for q in queries) / len(queries)

    # --- compute: Glue ETL and crawlers, EMR
    etl_rate, crawl_rate = _throughput(usage.runs)
    glue_dpus = shape.glue_workers * prices.glue_dpu_per_worker(shape.glue_worker_type)
    emr_worker_type = shape.emr_worker_instance_types[0]
    spot_cluster = cost.emr_cluster_hourly(
        shape.emr_primary_instance_type, emr_worker_type, shape.emr_workers, shape.emr_spot, prices
    )
    od_cluster = cost.emr_cluster_hourly(
        shape.emr_primary_instance_type, emr_worker_type, shape.emr_workers, False, prices
    )

    months_out: list[dict[str, Any]] = []
    for m in range(opts.months):
        daily_raw = proj.ingest["raw"][cost.month_bounds(m + 1)[m][0]][0]
        etl_dpu_s = daily_raw / etl_rate
        crawl_s = daily_raw / crawl_rate
        glue = cost.glue_run_cost(etl_dpu_s, glue_dpus, prices) * GLUE_RUNS_PER_DAY * days
        crawlers = (
            cost.glue_run_cost(crawl_s * CRAWLER_DPUS, CRAWLER_DPUS, prices, crawler=True) * shape.glue_crawlers * days
        )
        emr_hours_day = etl_dpu_s / 3600 / max(shape.emr_workers, 1) + shape.emr_idle_timeout_seconds / 3600
        emr = spot_cluster.usd_hour * emr_hours_day * days if shape.emr_mode == "cluster" else 0.0
        if shape.redshift_mode == "provisioned":
            redshift = provisioned["total_usd"]
        elif shape.redshift_mode == "serverless":
            redshift = (
                provisioned["storage_usd"]
                if provisioned["storage_usd"]
                else stored / GB * prices.redshift_storage_gb_month
            )
        else:
            redshift = 0.0
        puts_day = sum(proj.ingest[z][cost.month_bounds(m + 1)[m][0]][1] for z in ZONE_NAMES)
        gets_day = gets_per_query * qpd
        requests = put_months[m] + gets_day * days * prices.s3_get_per_1000("STANDARD") / 1000
        events = (puts_day + gets_day) * days if shape.cloudtrail_data_events else 0.0
        services = {
            "S3 storage": lifecycle_months[m],
            "S3 requests": requests,
            "Athena": athena_avg * qpd * days,
            "Glue ETL": glue,
            "Glue crawlers": crawlers,
            "Redshift": redshift,
            "EMR": emr,
            "CloudTrail": events / 100_000 * prices.cloudtrail_per_100k_data_events,
            "CloudWatch Logs": events * CLOUDTRAIL_EVENT_BYTES / GB * prices.cloudwatch_ingest_per_gb,
        }
        months_out.append({"month": m + 1, "services": services})

    infracost = None
    if opts.infracost_json is not None:
        infracost = _infracost(opts.infracost_json)
        for row in months_out:
            row["services"]["Other (Infracost)"] = infracost["merged_monthly_usd"]
    for row in months_out:
        row["total_usd"] = sum(row["services"].values())

    # --- savings the demo claims, computed
    horizon_lifecycle, horizon_standard = sum(lifecycle_months), sum(standard_months)
    scan_raw = sum(q["raw_athena_usd"] for q in raw_priced)
    scan_lake = sum(q["athena_usd"] for q in raw_priced)
    scan_monthly_raw = scan_raw / max(len(raw_priced), 1) * qpd * days
    scan_monthly_lake = scan_lake / max(len(raw_priced), 1) * qpd * days
    savings: list[dict[str, Any]] = [
        {
            "name": "Parquet + partitioning vs querying raw JSON/CSV (Athena scans)",
            "percent": cost.saving_percent(scan_raw, scan_lake),
            "baseline_usd_month": scan_monthly_raw,
            "optimised_usd_month": scan_monthly_lake,
            "inputs": {
                "queries": len(raw_priced),
                "raw_bytes_scanned_per_query_mix": sum(q["bytes_scanned"]["raw"] for q in raw_priced),
                "parquet_bytes_scanned_per_query_mix": sum(q["bytes_scanned"]["lake"] for q in raw_priced),
                "athena_usd_per_tb": prices.athena_per_tb,
                "athena_minimum_bytes": prices.athena_minimum_bytes,
                "queries_per_day": qpd,
                "source": "benchmark" if usage.benchmark else "estimate (full-table scans)",
            },
        },
        {
            "name": "S3 lifecycle rules vs everything in S3 Standard (storage)",
            "percent": cost.saving_percent(horizon_standard, horizon_lifecycle),
            "baseline_usd_month": horizon_standard / opts.months,
            "optimised_usd_month": horizon_lifecycle / opts.months,
            "inputs": {
                "months": opts.months,
                "rules": {z: shape.rule_for(z).describe() for z in ZONE_NAMES},
                "lake_bytes": sum(z["bytes"] for z in zones.values()),
                "growth_per_month": growth,
                "includes": "storage, transition requests, minimum-duration charges, Intelligent-Tiering monitoring",
            },
        },
        {
            "name": "EMR spot vs on-demand workers (cluster cost per hour)",
            "percent": cost.saving_percent(od_cluster.usd_hour, spot_cluster.usd_hour),
            "baseline_usd_month": od_cluster.usd_hour * cost.HOURS_PER_MONTH,
            "optimised_usd_month": spot_cluster.usd_hour * cost.HOURS_PER_MONTH,
            "inputs": {
                "primary (on-demand)": shape.emr_primary_instance_type,
                "workers": f"{shape.emr_workers} x {emr_worker_type}",
                "spot_discount_on_ec2": prices.spot_discount,
                "emr_surcharge_not_discounted": True,
                "on_demand_usd_hour": od_cluster.usd_hour,
                "spot_usd_hour": spot_cluster.usd_hour,
                "note": "per always-on hour; the projection bills only the hours the cluster runs",
            },
        },
    ]
    combined_base = horizon_standard / opts.months + scan_monthly_raw
    combined_opt = horizon_lifecycle / opts.months + scan_monthly_lake
    savings.append(
        {
            "name": "The demo's '~60% through partitioning and lifecycle' (storage + scans together)",
            "percent": cost.saving_percent(combined_base, combined_opt),
            "baseline_usd_month": combined_base,
            "optimised_usd_month": combined_opt,
            "inputs": {
                "claimed_percent": 60,
                "baseline": "all-Standard storage + raw JSON/CSV scans",
                "optimised": "lifecycle storage + Parquet scans",
            },
        }
    )

    break_even = {
        "warehouse": f"{shape.redshift_node_count} x {shape.redshift_node_type} (provisioned, on-demand)",
        "redshift_monthly_usd": provisioned["total_usd"],
        "redshift_compute_usd": provisioned["compute_usd"],
        "redshift_storage_usd": provisioned["storage_usd"],
        "athena_usd_per_query": athena_avg,
        "queries_per_day": cost.break_even_queries_per_day(provisioned["total_usd"], athena_avg),
        "serverless_min_usd_per_query": serverless_q,
        "serverless_cheaper_per_query": serverless_q < athena_avg,
        "deployed_mode": shape.redshift_mode,
    }
    if shape.emr_mode == "none":
        notes.append(
            "EMR is not deployed (emr_mode = none): not in the total; the spot saving prices its configured shape"
        )
    if opts.scale:
        notes.append(
            f"objects at {opts.scale} assume an average object size of max(measured, {opts.object_size}) "
            "(the local lake's files are small); --object-size changes it"
        )
    if shape.emr_mode == "serverless":
        notes.append("EMR Serverless is deployed but not priced (no vCPU/GB-hour rates in the price table)")
    if shape.redshift_mode == "serverless":
        notes.append(
            "Redshift Serverless bills only while it runs: the monthly total counts its managed storage; "
            "the query table shows what the warehouse would charge per query at its 60-second minimum"
        )

    total_first = months_out[0]["total_usd"]
    report = {
        "created": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "target": usage.target,
        "lake": usage.lake,
        "region": prices.region,
        "prices": {
            "source": prices.source,
            "date": prices.date,
            "file": str(opts.prices_file) if opts.prices_file else None,
        },
        "assumptions": {
            "scale": opts.scale,
            "scale_factor": proj.factor,
            "object_size_at_scale": opts.object_size if opts.scale else None,
            "measured_raw_bytes": proj.raw_bytes,
            "projected_raw_bytes": proj.raw_bytes * proj.factor,
            "queries_per_day": qpd,
            "months": opts.months,
            "growth_per_month": growth,
            "data_span_days": proj.span_days,
            "days_per_month": days,
            "hours_per_month": cost.HOURS_PER_MONTH,
            "glue_runs_per_day": GLUE_RUNS_PER_DAY,
            "crawler_dpus": CRAWLER_DPUS,
            "etl_bytes_per_dpu_second": etl_rate,
            "crawl_bytes_per_second": crawl_rate,
            "measured_runs": len(usage.runs),
            "scan_source": "benchmark" if usage.benchmark else "estimate",
            "benchmark_file": usage.benchmark_path,
        },
        "infra": shape.to_dict(),
        "notes": notes,
        "by_service": months_out[0]["services"],
        "by_service_average": {
            s: sum(m["services"][s] for m in months_out) / opts.months for s in months_out[0]["services"]
        },
        "by_zone": {z: {k: v for k, v in d.items() if k != "months"} for z, d in zones.items()},
        "months": months_out,
        "storage": {
            "lifecycle_usd": lifecycle_months,
            "standard_only_usd": standard_months,
            "lifecycle_detail": lifecycle_detail,
        },
        "queries": queries,
        "break_even": break_even,
        "savings": savings,
        "infracost": infracost,
        "total_month1_usd": total_first,
        "total_horizon_usd": sum(m["total_usd"] for m in months_out),
        "chart": None,
    }
    return report


# ----------------------------------------------------------------------------------- chart and entry point


def write_chart(report: dict[str, Any], path: Path) -> Path:
    """PNG: storage bill per month with lifecycle vs all-Standard, and month-1 cost by service."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = list(range(1, len(report["storage"]["lifecycle_usd"]) + 1))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(months, report["storage"]["standard_only_usd"], marker="o", label="everything in S3 Standard")
    left.plot(months, report["storage"]["lifecycle_usd"], marker="o", label="lifecycle rules from infra/")
    left.set_title("S3 storage bill per month")
    left.set_xlabel("month")
    left.set_ylabel("USD")
    left.legend()
    left.grid(alpha=0.3)
    services = {k: v for k, v in report["by_service"].items() if v > 0}
    names = sorted(services, key=lambda k: services[k])
    right.barh(names, [services[n] for n in names])
    right.set_title(f"Month 1 by service (total ${report['total_month1_usd']:,.2f})")
    right.set_xlabel("USD per month")
    if names and services[names[-1]] > 100 * services[names[0]]:
        right.set_xscale("log")
        right.set_xlabel("USD per month (log scale)")
    scale = report["assumptions"]["scale"] or "measured size"
    fig.suptitle(
        f"datalake cost-report: {report['region']}, {scale}, {report['assumptions']['queries_per_day']:g} queries/day"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def run_cost_report(usage: MeasuredUsage, opts: CostOptions, infra_dir: Path | None) -> dict[str, Any]:
    """Measure -> read infra -> price -> project; save results/cost-latest.json (and the chart)."""
    from datalake.fsutil import atomic_write_json

    opts.validate()
    prices = load_prices(opts.region, opts.prices_file)
    shape = read_infra_shape(infra_dir)
    report = _rounded(build_report(usage, shape, prices, opts))
    results = Results(usage.results_dir) if usage.results_dir is not None else None
    chart = opts.chart or (results.cost_chart if results else None)
    if opts.write_chart and chart is not None:
        report["chart"] = str(write_chart(report, chart))
    if results is not None:
        report["saved"] = str(results.cost)
        atomic_write_json(results.cost, report)
    return report
