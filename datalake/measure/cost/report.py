"""cost-report: what the lake costs on AWS, from measured usage times the price table, projected.

Measured: zone sizes and object counts, the age profile of the data (its day partitions), ETL and
crawl throughput from the run journals, bytes scanned per query from the latest benchmark.
Shape: infra/*.tf (infra_shape). Prices: the price table (pricing). The arithmetic is in model.py;
this module gathers the inputs, projects them to --scale, and assembles one CostReport (result.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from datalake.errors import InputError, UsageError
from datalake.measure.benchmark.result import BenchmarkReport, QueryBenchmark
from datalake.measure.cost import model as cost
from datalake.measure.cost.infra_shape import NO_LIFECYCLE, ZONE_NAMES, InfraShape, read_infra_shape
from datalake.measure.cost.pricing import GB, PriceTable, load_prices
from datalake.measure.cost.result import (
    Assumptions,
    BreakEven,
    CostReport,
    Infracost,
    InfracostResource,
    LifecycleMonth,
    MonthCost,
    PriceSource,
    QueryCost,
    Saving,
    StorageBill,
    ZoneCost,
)
from datalake.measure.results import BENCHMARK_FILE, NOT_AN_OBJECT, Results, UnreadableResult, read_result
from datalake.model import LakeUsage, RunSummary
from datalake.targets.base import Target

CRAWLER_DPUS = 2  # what AWS's own crawler pricing example uses; crawlers' DPUs are not configurable
GLUE_RUNS_PER_DAY = 1
CLOUDTRAIL_EVENT_BYTES = 1024  # rough size of one data event delivered to CloudWatch Logs
# Resource types cost-report prices itself; an Infracost breakdown only adds the others.
MODELLED_PREFIXES = ("aws_s3_", "aws_athena_", "aws_glue_", "aws_redshift", "aws_emr", "aws_cloudtrail")


@dataclass
class MeasuredUsage(LakeUsage):
    """What cost-report prices: the target's own measurements plus the latest saved benchmark."""

    benchmark: BenchmarkReport | None = None
    benchmark_path: str | None = None
    results_dir: Path | None = None

    @classmethod
    def of(cls, usage: LakeUsage, results_dir: Path) -> MeasuredUsage:
        """The target's usage with the benchmark saved under `results_dir`, if any."""
        bench = Results(results_dir).benchmark
        return cls(
            **vars(usage),
            benchmark=read_benchmark(bench),
            benchmark_path=str(bench) if bench.is_file() else None,
            results_dir=results_dir,
        )


def measure_target(target: Target) -> MeasuredUsage:
    """cost-report's inputs: what the target measures about its lake, and the benchmark in its results folder."""
    return MeasuredUsage.of(target.measured_usage(), Results.of(target.settings.lake).root)


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


def read_benchmark(path: Path) -> BenchmarkReport | None:
    """The saved benchmark whose scans cost-report prices; None when there is none yet."""
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
    return BenchmarkReport.from_dict(data)


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


def _benchmark_query(q: QueryBenchmark, roles: dict[str, str], proj: _Projection) -> QueryCost:
    """One benchmarked query at scale; engines are looked up by role (athena plays "lake" on aws)."""
    row = QueryCost(name=q.query.name, title=q.query.title)
    by_role = {roles.get(name, name): r for name, r in q.results.items()}
    for engine in ("raw", "lake", "warehouse"):
        r = by_role.get(engine)
        if r is not None and r.bytes_scanned is not None:
            row.bytes_scanned[engine] = float(r.bytes_scanned) * proj.factor
        if r is not None and r.files_read is not None:
            zone = "raw" if engine == "raw" else "processed"
            row.files_read[engine] = float(r.files_read) * proj.object_factor.get(zone, proj.factor)
    return row


def _queries(usage: MeasuredUsage, proj: _Projection, notes: list[str]) -> list[QueryCost]:
    """Each query type's bytes scanned (and files read) per engine, at scale."""
    if usage.benchmark:
        rows = [_benchmark_query(q, usage.benchmark.roles, proj) for q in usage.benchmark.queries]
        out = [row for row in rows if "lake" in row.bytes_scanned]
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
        QueryCost(
            name="full_scan_estimate",
            title="full-table scan of sales (estimate, no benchmark)",
            bytes_scanned={"raw": raw_sales * proj.factor, "lake": usage.sales_fact_bytes * proj.factor},
            files_read={"raw": raw_files * proj.object_factor.get("raw", 1.0)},
        )
    ]


CLUSTER_ENGINES = ("emr",)  # engines billed as the cluster's instance-hours, not per DPU


def _compute_seconds(run: RunSummary, cluster_workers: int) -> float:
    """The worker-seconds a run used, the unit of the ETL throughput (one worker taken as one DPU).

    Glue's DPU-seconds when the target measured them (a 2-worker G.1X run of 100 s is 200), an
    EMR step's seconds times the cluster's workers, else the run's seconds on one worker (local).
    """
    if run.dpu_seconds is not None:
        return max(float(run.dpu_seconds), 0.001)
    seconds = max(float(run.seconds) - float(run.stages.get("warehouse", 0)), 0.001)
    return seconds * max(cluster_workers, 1) if run.engine in CLUSTER_ENGINES else seconds


def _throughput(runs: list[RunSummary], cluster_workers: int = 1) -> tuple[float, float]:
    """(ETL bytes per DPU-second, crawl bytes/s) measured over the completed runs."""
    bytes_in = sum(float(r.bytes_in) for r in runs)
    etl_s = sum(_compute_seconds(r, cluster_workers) for r in runs)
    crawl_s = sum(max(float(r.stages.get("crawl", 0)), 0.001) for r in runs)
    return bytes_in / etl_s, bytes_in / crawl_s


def _infracost(path: Path) -> Infracost:
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
        rows.append(InfracostResource(name=name, monthly_usd=monthly, merged=is_merged))
    return Infracost(
        file=str(path),
        total_monthly_usd=float(data.get("totalMonthlyCost") or merged + skipped),
        merged_monthly_usd=merged,
        already_modelled_usd=skipped,
        resources=rows,
    )


@dataclass
class _Storage:
    """The storage simulation of every zone: the lake's bill per month, and each zone's figures."""

    bill: StorageBill
    put_months: list[float]
    zones: dict[str, ZoneCost]


def _storage(
    usage: MeasuredUsage, shape: InfraShape, prices: PriceTable, opts: CostOptions, proj: _Projection
) -> _Storage:
    """Storage, zone by zone, with the lifecycle rules and with everything in STANDARD."""
    bill = StorageBill(
        lifecycle_usd=[0.0] * opts.months,
        standard_only_usd=[0.0] * opts.months,
        lifecycle_detail=[LifecycleMonth(month=m + 1) for m in range(opts.months)],
    )
    out = _Storage(bill=bill, put_months=[0.0] * opts.months, zones={})
    for zone in ZONE_NAMES:
        rule = shape.rule_for(zone)
        with_rule = cost.simulate_storage(proj.cohorts[zone], proj.ingest[zone], rule, prices, opts.months)
        standard = cost.simulate_storage(proj.cohorts[zone], proj.ingest[zone], NO_LIFECYCLE, prices, opts.months)
        for m in range(opts.months):
            month = with_rule[m]
            bill.lifecycle_usd[m] += month.total_usd - month.put_usd
            bill.standard_only_usd[m] += standard[m].total_usd - standard[m].put_usd
            out.put_months[m] += month.put_usd
            detail = bill.lifecycle_detail[m]
            for key in ("storage_usd", "transition_usd", "early_delete_usd", "monitoring_usd"):
                setattr(detail, key, getattr(detail, key) + getattr(month, key))
            for cls, b in month.bytes_by_class.items():
                detail.bytes_by_class[cls] = detail.bytes_by_class.get(cls, 0.0) + b
        measured = usage.zones.get(zone, {})
        out.zones[zone] = ZoneCost(
            bytes=measured.get("bytes", 0) * proj.factor,
            objects=measured.get("files", 0) * proj.object_factor.get(zone, 1.0),
            measured_bytes=measured.get("bytes", 0),
            measured_objects=measured.get("files", 0),
            lifecycle=rule.describe(),
            month1_usd=with_rule[0].total_usd - with_rule[0].put_usd,
            average_month_usd=sum(x.total_usd - x.put_usd for x in with_rule) / opts.months,
            standard_only_average_month_usd=sum(x.total_usd - x.put_usd for x in standard) / opts.months,
        )
    return out


@dataclass
class _Warehouse:
    stored: float  # bytes the warehouse holds at scale
    provisioned: dict[str, float]  # the provisioned cluster's monthly bill (total, compute, storage)
    serverless_query: float  # a Serverless query at its minimum charge


def _warehouse(usage: MeasuredUsage, shape: InfraShape, prices: PriceTable, proj: _Projection) -> _Warehouse:
    stored = usage.zones.get("processed", {}).get("bytes", 0) * proj.factor
    provisioned = cost.redshift_provisioned_monthly(shape.redshift_node_type, shape.redshift_node_count, stored, prices)
    serverless_q = cost.redshift_serverless_query_cost(shape.redshift_base_rpu, 0.0, prices)
    return _Warehouse(stored=stored, provisioned=provisioned, serverless_query=serverless_q)


def _price_queries(queries: list[QueryCost], prices: PriceTable, wh: _Warehouse, qpd: float) -> None:
    """Athena on Parquet, Athena on raw JSON/CSV, Redshift: what each query costs on each."""
    days = cost.DAYS_PER_MONTH
    for q in queries:
        scanned = q.bytes_scanned
        q.athena_usd = cost.athena_cost_per_query(scanned["lake"], prices)
        q.athena_billed_bytes = max(scanned["lake"], prices.athena_minimum_bytes)
        q.raw_athena_usd = cost.athena_cost_per_query(scanned["raw"], prices) if "raw" in scanned else None
        q.redshift_provisioned_usd = wh.provisioned["total_usd"] / (qpd * days) if qpd else None
        q.redshift_serverless_min_usd = wh.serverless_query


@dataclass
class _Compute:
    """Glue ETL and crawlers, EMR: the measured throughput and the deployed shapes' hourly prices."""

    etl_rate: float
    crawl_rate: float
    glue_dpus: float
    emr_worker_type: str
    spot_cluster: cost.ClusterCost
    od_cluster: cost.ClusterCost


def _compute(usage: MeasuredUsage, shape: InfraShape, prices: PriceTable) -> _Compute:
    etl_rate, crawl_rate = _throughput(usage.runs, shape.emr_workers)
    emr_worker_type = shape.emr_worker_instance_types[0]
    return _Compute(
        etl_rate=etl_rate,
        crawl_rate=crawl_rate,
        glue_dpus=shape.glue_workers * prices.glue_dpu_per_worker(shape.glue_worker_type),
        emr_worker_type=emr_worker_type,
        spot_cluster=cost.emr_cluster_hourly(
            shape.emr_primary_instance_type, emr_worker_type, shape.emr_workers, shape.emr_spot, prices
        ),
        od_cluster=cost.emr_cluster_hourly(
            shape.emr_primary_instance_type, emr_worker_type, shape.emr_workers, False, prices
        ),
    )


def _redshift_month(shape: InfraShape, prices: PriceTable, wh: _Warehouse) -> float:
    if shape.redshift_mode == "provisioned":
        return wh.provisioned["total_usd"]
    if shape.redshift_mode == "serverless":
        storage = wh.provisioned["storage_usd"]
        return storage if storage else wh.stored / GB * prices.redshift_storage_gb_month
    return 0.0


@dataclass
class _Bill:
    """What build_report needs to bill one month, service by service."""

    shape: InfraShape
    prices: PriceTable
    proj: _Projection
    storage: _Storage
    compute: _Compute
    athena_avg: float
    gets_per_query: float
    redshift: float
    qpd: float


def _month(b: _Bill, m: int) -> MonthCost:
    days, shape, prices = cost.DAYS_PER_MONTH, b.shape, b.prices
    first_day = cost.month_bounds(m + 1)[m][0]
    daily_raw = b.proj.ingest["raw"][first_day][0]
    etl_dpu_s = daily_raw / b.compute.etl_rate
    crawl_s = daily_raw / b.compute.crawl_rate
    glue = cost.glue_run_cost(etl_dpu_s, b.compute.glue_dpus, prices) * GLUE_RUNS_PER_DAY * days
    crawlers = (
        cost.glue_run_cost(crawl_s * CRAWLER_DPUS, CRAWLER_DPUS, prices, crawler=True) * shape.glue_crawlers * days
    )
    emr_hours_day = etl_dpu_s / 3600 / max(shape.emr_workers, 1) + shape.emr_idle_timeout_seconds / 3600
    emr = b.compute.spot_cluster.usd_hour * emr_hours_day * days if shape.emr_mode == "cluster" else 0.0
    puts_day = sum(b.proj.ingest[z][first_day][1] for z in ZONE_NAMES)
    gets_day = b.gets_per_query * b.qpd
    requests = b.storage.put_months[m] + gets_day * days * prices.s3_get_per_1000("STANDARD") / 1000
    events = (puts_day + gets_day) * days if shape.cloudtrail_data_events else 0.0
    services = {
        "S3 storage": b.storage.bill.lifecycle_usd[m],
        "S3 requests": requests,
        "Athena": b.athena_avg * b.qpd * days,
        "Glue ETL": glue,
        "Glue crawlers": crawlers,
        "Redshift": b.redshift,
        "EMR": emr,
        "CloudTrail": events / 100_000 * prices.cloudtrail_per_100k_data_events,
        "CloudWatch Logs": events * CLOUDTRAIL_EVENT_BYTES / GB * prices.cloudwatch_ingest_per_gb,
    }
    return MonthCost(month=m + 1, services=services)


def _scan_saving(queries: list[QueryCost], prices: PriceTable, qpd: float, source: str) -> Saving:
    raw_priced = [q for q in queries if q.raw_athena_usd is not None]
    scan_raw = sum(q.raw_athena_usd or 0.0 for q in raw_priced)
    scan_lake = sum(q.athena_usd for q in raw_priced)
    return Saving(
        name="Parquet + partitioning vs querying raw JSON/CSV (Athena scans)",
        percent=cost.saving_percent(scan_raw, scan_lake),
        baseline_usd_month=scan_raw / max(len(raw_priced), 1) * qpd * cost.DAYS_PER_MONTH,
        optimised_usd_month=scan_lake / max(len(raw_priced), 1) * qpd * cost.DAYS_PER_MONTH,
        inputs={
            "queries": len(raw_priced),
            "raw_bytes_scanned_per_query_mix": sum(q.bytes_scanned["raw"] for q in raw_priced),
            "parquet_bytes_scanned_per_query_mix": sum(q.bytes_scanned["lake"] for q in raw_priced),
            "athena_usd_per_tb": prices.athena_per_tb,
            "athena_minimum_bytes": prices.athena_minimum_bytes,
            "queries_per_day": qpd,
            "source": source,
        },
    )


def _lifecycle_saving(storage: _Storage, shape: InfraShape, opts: CostOptions, growth: float) -> Saving:
    lifecycle, standard = sum(storage.bill.lifecycle_usd), sum(storage.bill.standard_only_usd)
    return Saving(
        name="S3 lifecycle rules vs everything in S3 Standard (storage)",
        percent=cost.saving_percent(standard, lifecycle),
        baseline_usd_month=standard / opts.months,
        optimised_usd_month=lifecycle / opts.months,
        inputs={
            "months": opts.months,
            "rules": {z: shape.rule_for(z).describe() for z in ZONE_NAMES},
            "lake_bytes": sum(z.bytes for z in storage.zones.values()),
            "growth_per_month": growth,
            "includes": "storage, transition requests, minimum-duration charges, Intelligent-Tiering monitoring",
        },
    )


def _spot_saving(compute: _Compute, shape: InfraShape, prices: PriceTable) -> Saving:
    od, spot = compute.od_cluster.usd_hour, compute.spot_cluster.usd_hour
    return Saving(
        name="EMR spot vs on-demand workers (cluster cost per hour)",
        percent=cost.saving_percent(od, spot),
        baseline_usd_month=od * cost.HOURS_PER_MONTH,
        optimised_usd_month=spot * cost.HOURS_PER_MONTH,
        inputs={
            "primary (on-demand)": shape.emr_primary_instance_type,
            "workers": f"{shape.emr_workers} x {compute.emr_worker_type}",
            "spot_discount_on_ec2": prices.spot_discount,
            "emr_surcharge_not_discounted": True,
            "on_demand_usd_hour": od,
            "spot_usd_hour": spot,
            "note": "per always-on hour; the projection bills only the hours the cluster runs",
        },
    )


def _combined_saving(scan: Saving, lifecycle: Saving) -> Saving:
    base = lifecycle.baseline_usd_month + scan.baseline_usd_month
    optimised = lifecycle.optimised_usd_month + scan.optimised_usd_month
    return Saving(
        name="The demo's '~60% through partitioning and lifecycle' (storage + scans together)",
        percent=cost.saving_percent(base, optimised),
        baseline_usd_month=base,
        optimised_usd_month=optimised,
        inputs={
            "claimed_percent": 60,
            "baseline": "all-Standard storage + raw JSON/CSV scans",
            "optimised": "lifecycle storage + Parquet scans",
        },
    )


def _break_even(shape: InfraShape, wh: _Warehouse, athena_avg: float) -> BreakEven:
    return BreakEven(
        warehouse=f"{shape.redshift_node_count} x {shape.redshift_node_type} (provisioned, on-demand)",
        redshift_monthly_usd=wh.provisioned["total_usd"],
        redshift_compute_usd=wh.provisioned["compute_usd"],
        redshift_storage_usd=wh.provisioned["storage_usd"],
        athena_usd_per_query=athena_avg,
        queries_per_day=cost.break_even_queries_per_day(wh.provisioned["total_usd"], athena_avg),
        serverless_min_usd_per_query=wh.serverless_query,
        serverless_cheaper_per_query=wh.serverless_query < athena_avg,
        deployed_mode=shape.redshift_mode,
    )


def _shape_notes(shape: InfraShape, opts: CostOptions, usage: LakeUsage) -> list[str]:
    notes = []
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
    steps = sum(1 for r in usage.runs if r.engine in CLUSTER_ENGINES)
    if steps:
        notes.append(
            f"{steps} of the {len(usage.runs)} measured ETL runs are EMR steps: their throughput counts "
            f"step seconds x {shape.emr_workers} cluster workers, one worker taken as one Glue DPU"
        )
    if shape.redshift_mode == "serverless":
        notes.append(
            "Redshift Serverless bills only while it runs: the monthly total counts its managed storage; "
            "the query table shows what the warehouse would charge per query at its 60-second minimum"
        )
    return notes


def _assumptions(
    usage: MeasuredUsage, opts: CostOptions, proj: _Projection, growth: float, compute: _Compute
) -> Assumptions:
    return Assumptions(
        scale=opts.scale,
        scale_factor=proj.factor,
        object_size_at_scale=opts.object_size if opts.scale else None,
        measured_raw_bytes=proj.raw_bytes,
        projected_raw_bytes=proj.raw_bytes * proj.factor,
        queries_per_day=opts.queries_per_day,
        months=opts.months,
        growth_per_month=growth,
        data_span_days=proj.span_days,
        days_per_month=cost.DAYS_PER_MONTH,
        hours_per_month=cost.HOURS_PER_MONTH,
        glue_runs_per_day=GLUE_RUNS_PER_DAY,
        crawler_dpus=CRAWLER_DPUS,
        etl_bytes_per_dpu_second=compute.etl_rate,
        crawl_bytes_per_second=compute.crawl_rate,
        measured_runs=len(usage.runs),
        scan_source="benchmark" if usage.benchmark else "estimate",
        benchmark_file=usage.benchmark_path,
    )


def price_lake(
    usage: MeasuredUsage, shape: InfraShape, prices: PriceTable, opts: CostOptions, now: datetime | None = None
) -> CostReport:
    """The whole cost report. Pure: reads nothing but its arguments (and --infracost-json)."""
    opts.validate()
    if not usage.runs:
        raise InputError(
            f"the lake at {usage.lake} has no completed ETL run to measure", hint="run `datalake run-etl` first"
        )
    growth = cost.parse_rate(opts.growth, "--growth")
    notes = list(shape.notes)
    proj = _project(usage, opts, growth)
    qpd = opts.queries_per_day
    storage = _storage(usage, shape, prices, opts, proj)
    queries = _queries(usage, proj, notes)
    wh = _warehouse(usage, shape, prices, proj)
    _price_queries(queries, prices, wh, qpd)
    athena_avg = sum(q.athena_usd for q in queries) / len(queries)
    compute = _compute(usage, shape, prices)
    gets_per_query = sum(q.files_read.get("lake", 0.0) for q in queries) / len(queries)
    bill = _Bill(
        shape, prices, proj, storage, compute, athena_avg, gets_per_query, _redshift_month(shape, prices, wh), qpd
    )
    months = [_month(bill, m) for m in range(opts.months)]
    infracost = _infracost(opts.infracost_json) if opts.infracost_json is not None else None
    for month in months:
        if infracost is not None:
            month.services["Other (Infracost)"] = infracost.merged_monthly_usd
        month.total_usd = sum(month.services.values())
    scan = _scan_saving(queries, prices, qpd, "benchmark" if usage.benchmark else "estimate (full-table scans)")
    lifecycle = _lifecycle_saving(storage, shape, opts, growth)
    return CostReport(
        created=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        target=usage.target,
        lake=usage.lake,
        region=prices.region,
        prices=PriceSource(prices.source, prices.date, str(opts.prices_file) if opts.prices_file else None),
        assumptions=_assumptions(usage, opts, proj, growth, compute),
        infra=shape.to_dict(),
        notes=notes + _shape_notes(shape, opts, usage),
        by_service=months[0].services,
        by_service_average={s: sum(m.services[s] for m in months) / opts.months for s in months[0].services},
        by_zone=storage.zones,
        months=months,
        storage=storage.bill,
        queries=queries,
        break_even=_break_even(shape, wh, athena_avg),
        savings=[scan, lifecycle, _spot_saving(compute, shape, prices), _combined_saving(scan, lifecycle)],
        infracost=infracost,
        total_month1_usd=months[0].total_usd,
        total_horizon_usd=sum(m.total_usd for m in months),
    )


def build_report(
    usage: MeasuredUsage, shape: InfraShape, prices: PriceTable, opts: CostOptions, now: datetime | None = None
) -> dict[str, Any]:
    """The whole cost report in its JSON form (what `cost-report --json` prints and results/ keeps)."""
    return price_lake(usage, shape, prices, opts, now).to_dict()


# ----------------------------------------------------------------------------------- chart and entry point


def write_chart(report: CostReport, path: Path) -> Path:
    """PNG: storage bill per month with lifecycle vs all-Standard, and month-1 cost by service."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = list(range(1, len(report.storage.lifecycle_usd) + 1))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(months, report.storage.standard_only_usd, marker="o", label="everything in S3 Standard")
    left.plot(months, report.storage.lifecycle_usd, marker="o", label="lifecycle rules from infra/")
    left.set_title("S3 storage bill per month")
    left.set_xlabel("month")
    left.set_ylabel("USD")
    left.legend()
    left.grid(alpha=0.3)
    services = {k: v for k, v in report.by_service.items() if v > 0}
    names = sorted(services, key=lambda k: services[k])
    right.barh(names, [services[n] for n in names])
    right.set_title(f"Month 1 by service (total ${report.total_month1_usd:,.2f})")
    right.set_xlabel("USD per month")
    if names and services[names[-1]] > 100 * services[names[0]]:
        right.set_xscale("log")
        right.set_xlabel("USD per month (log scale)")
    scale = report.assumptions.scale or "measured size"
    fig.suptitle(f"datalake cost-report: {report.region}, {scale}, {report.assumptions.queries_per_day:g} queries/day")
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


def run_costs(usage: MeasuredUsage, opts: CostOptions, infra_dir: Path | None) -> CostReport:
    """Measure -> read infra -> price -> project; save results/cost-latest.json (and the chart)."""
    from datalake.fsutil import atomic_write_json

    opts.validate()
    prices = load_prices(opts.region, opts.prices_file)
    shape = read_infra_shape(infra_dir)
    report = CostReport.from_dict(_rounded(build_report(usage, shape, prices, opts)))
    results = Results(usage.results_dir) if usage.results_dir is not None else None
    chart = opts.chart or (results.cost_chart if results else None)
    if opts.write_chart and chart is not None:
        report.chart = str(write_chart(report, chart))
    if results is not None:
        report.saved = str(results.cost)
        atomic_write_json(results.cost, report.to_dict())
    return report


def run_cost_report(usage: MeasuredUsage, opts: CostOptions, infra_dir: Path | None) -> dict[str, Any]:
    """run_costs in its JSON form."""
    return run_costs(usage, opts, infra_dir).to_dict()
