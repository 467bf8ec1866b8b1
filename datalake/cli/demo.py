"""`datalake demo`: the whole pipeline, end to end, on whatever target is configured."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from datalake.measure.benchmark.result import Claim, StorageStats
from datalake.measure.jsondata import to_json
from datalake.measure.results import Results
from datalake.model import EtlOptions, RunSummary, SeedOptions, SeedResult, ValidationReport
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.base import Target

DEMO_QUERIES = (
    (
        "Sales per day, last 7 days",
        "SELECT sale_date, COUNT(*) AS total_orders, SUM(total_amount) AS total_sales FROM sales_fact "
        "WHERE sale_date >= CURRENT_DATE - INTERVAL '7' DAY GROUP BY sale_date ORDER BY sale_date DESC",
        "lake",
    ),
    (
        "Top customers by lifetime value",
        "SELECT customer_id, COUNT(*) AS total_orders, SUM(total_amount) AS lifetime_value FROM sales_fact_redshift "
        "GROUP BY customer_id HAVING COUNT(*) > 1 ORDER BY lifetime_value DESC LIMIT 5",
        "warehouse",
    ),
)


DEMO_SCALE = "50TB"
TABLE_CARE_ROUNDS = 2  # small seed + run-etl rounds before `maintain`, as days of new sales would add


@dataclass
class DemoQuery:
    title: str
    engine: str
    seconds: float
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class DemoBenchmark:
    ok: bool
    claims: list[Claim]
    storage: StorageStats
    saved: str


@dataclass
class DemoSaving:
    name: str
    percent: float | None


@dataclass
class DemoCost:
    scale: str
    total_month1_usd: float
    savings: list[DemoSaving]
    break_even_queries_per_day: float | None
    saved: str | None


@dataclass
class DemoTableCare:
    """The small runs the demo added and what `maintain` made of the files they left."""

    rounds: int
    rows_per_round: int
    fact_files_before: int  # data files of sales_fact's current snapshot
    fact_files_after: int
    snapshots: int
    rows_checked: int
    unchanged: bool  # the count and checksum before and after compaction agree
    seconds: float


@dataclass
class DemoSkip:
    """A step the demo did not run on this target, and why."""

    step: str
    reason: str


@dataclass
class DemoResult:
    """What the demo did, step by step: `--json` prints to_dict(), the CLI renders the fields."""

    deploy: dict[str, Any]
    seed: SeedResult
    run_etl: RunSummary
    validate: ValidationReport | None  # None: the target does not validate (see `skipped`)
    table_care: DemoTableCare | None = None
    queries: list[DemoQuery] = field(default_factory=list)
    benchmark: DemoBenchmark | None = None
    cost: DemoCost | None = None
    report: str = ""
    seconds: float = 0.0
    skipped: list[DemoSkip] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_json(self)
        data["seed"], data["run_etl"] = self.seed.to_dict(), self.run_etl.to_dict()
        data["validate"] = self.validate.to_dict() if self.validate is not None else None
        return data


def _engine_for(target: Target, role: str) -> str | None:
    """The target's query engine that plays `role` (lake, warehouse, raw), or None if none is deployed."""
    from datalake.errors import ConfigError

    if role in target.capabilities.query_engines:
        return role
    for name in target.capabilities.query_engines:
        try:
            with target.query_engine(name) as eng:
                if eng.role == role:
                    return name
        except ConfigError:  # e.g. no Redshift in this deployment
            continue
    return None


def _query(target: Target, title: str, sql: str, engine: str) -> DemoQuery:
    with target.query_engine(engine) as eng:
        r = eng.execute(sql)
    return DemoQuery(title=title, engine=r.engine, seconds=r.seconds, columns=r.columns, rows=[list(x) for x in r.rows])


def _benchmark(target: Target, progress: Progress, engines: list[str]) -> DemoBenchmark:
    from datalake.measure.benchmark.run import BenchmarkOptions, run_benchmark

    # one timed run after the warm-up keeps the demo short; `datalake benchmark --repeat N` for more
    bench = run_benchmark(target, BenchmarkOptions(engines=engines, repeat=1), progress)
    saved = str(Results.of(target.settings.lake).benchmark)
    return DemoBenchmark(ok=bench.ok, claims=bench.claims, storage=bench.storage, saved=saved)


def _benchmark_engines(target: Target) -> list[str]:
    """The benchmark's engines that this deployment has (an aws lake may have no Redshift)."""
    from datalake.errors import ConfigError

    caps = target.capabilities
    found = []
    for name in caps.benchmark_engines or caps.query_engines:
        try:
            target.query_engine(name).close()
            found.append(name)
        except ConfigError:
            continue
    return found


def run_demo(target: Target, rows: int, seed: int, progress: Progress = NULL_PROGRESS) -> DemoResult:
    """Every command in sequence; a step the target cannot do is skipped and listed in `skipped`."""
    began = time.perf_counter()
    deployed = target.deploy(progress=progress)
    result = DemoResult(
        deploy=deployed,
        seed=target.seed(SeedOptions(rows=rows, seed=seed), progress),
        run_etl=target.run_etl(EtlOptions(engine=target.capabilities.default_etl_engine), progress),
        validate=None,
    )
    if target.capabilities.maintain:
        result.table_care = _table_care(target, rows, seed, progress)
    else:
        result.skipped.append(DemoSkip("maintain", f"`datalake maintain` is not available on the {target.name} target"))
    if target.capabilities.validate:
        result.validate = target.validate()
    else:
        result.skipped.append(DemoSkip("validate", f"`datalake validate` is not available on the {target.name} target"))
    for title, sql, role in DEMO_QUERIES:
        engine = _engine_for(target, role)
        if engine is None:
            result.skipped.append(DemoSkip(f"query: {title}", f"this deployment has no {role} engine"))
            continue
        result.queries.append(_query(target, title, sql, engine))
    result.benchmark = _benchmark(target, progress, _benchmark_engines(target))
    result.cost = _cost(target)
    from datalake.report.html import write_report

    result.report = str(write_report(target).path)
    result.seconds = round(time.perf_counter() - began, 3)
    return result


def _table_care(target: Target, rows: int, seed: int, progress: Progress) -> DemoTableCare:
    """A few small seed + run-etl rounds (each leaves one more small file in the months it touches), then maintain."""
    from datalake.domain.table_care import MaintainOptions

    began = time.perf_counter()
    small = max(200, rows // 200)
    for round_no in range(TABLE_CARE_ROUNDS):
        target.seed(SeedOptions(rows=small, days=10, seed=seed + 1 + round_no), progress)
        target.run_etl(EtlOptions(engine=target.capabilities.default_etl_engine), progress)
    done = target.maintain(MaintainOptions(), progress)
    (facts,) = [t for t in done.tables if t.table == "sales_fact"]
    return DemoTableCare(
        rounds=TABLE_CARE_ROUNDS,
        rows_per_round=small,
        fact_files_before=facts.files_before,
        fact_files_after=facts.files_after,
        snapshots=facts.snapshots_after,
        rows_checked=facts.check.rows_after if facts.check else 0,
        unchanged=done.ok,
        seconds=round(time.perf_counter() - began, 3),
    )


def _cost(target: Target) -> DemoCost:
    """The cost-report at the scale the original demo talks about (50 TB), on this lake's measurements."""
    from datalake.layout import default_infra_dir
    from datalake.measure.cost.report import CostOptions, measure_target, run_costs

    infra = default_infra_dir(target.settings.infra_dir, required=False)
    report = run_costs(measure_target(target), CostOptions(scale=DEMO_SCALE), infra)
    return DemoCost(
        scale=DEMO_SCALE,
        total_month1_usd=report.total_month1_usd,
        savings=[DemoSaving(name=s.name, percent=s.percent) for s in report.savings],
        break_even_queries_per_day=report.break_even.queries_per_day,
        saved=report.saved,
    )
