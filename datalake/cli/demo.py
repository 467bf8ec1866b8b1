"""`datalake demo`: the whole pipeline, end to end, on whatever target is configured."""

from __future__ import annotations

import time
from typing import Any

from datalake.domain.seed import SeedOptions
from datalake.measure.results import Results
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.base import Target
from datalake.targets.local.etl.run import EtlOptions

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


def run_demo(target: Target, rows: int, seed: int, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
    began = time.perf_counter()
    result: dict[str, Any] = {"deploy": target.deploy(progress=progress)}
    result["seed"] = target.seed(SeedOptions(rows=rows, seed=seed), progress).to_dict()
    result["run_etl"] = target.run_etl(EtlOptions(), progress).to_dict()
    result["validate"] = target.validate()
    queries = []
    for title, sql, engine in DEMO_QUERIES:
        name = engine if engine in target.capabilities.query_engines else target.capabilities.default_query_engine
        with target.query_engine(name) as eng:
            r = eng.execute(sql)
        queries.append(
            {
                "title": title,
                "engine": r.engine,
                "seconds": r.seconds,
                "columns": r.columns,
                "rows": [list(x) for x in r.rows],
            }
        )
    result["queries"] = queries
    from datalake.measure.benchmark import BenchmarkOptions, run_benchmark

    # one timed run after the warm-up keeps the demo short; `datalake benchmark --repeat N` for more
    bench = run_benchmark(target, BenchmarkOptions(repeat=1), progress).to_dict()
    result["benchmark"] = {
        "ok": bench.get("ok", True),
        "claims": bench.get("claims", []),
        "storage": bench.get("storage", {}),
        "saved": str(Results.of(target.settings.lake).benchmark),
    }
    result["cost"] = _cost(target)
    from datalake.report.html import write_report

    result["report"] = str(write_report(target).path)
    result["seconds"] = round(time.perf_counter() - began, 3)
    return result


def _cost(target: Target) -> dict[str, Any]:
    """The cost-report at the scale the original demo talks about (50 TB), on this lake's measurements."""
    from datalake.layout import default_infra_dir
    from datalake.measure.cost.report import CostOptions, run_cost_report

    infra = default_infra_dir(target.settings.infra_dir, required=False)
    report = run_cost_report(target.measured_usage(), CostOptions(scale=DEMO_SCALE), infra)
    return {
        "scale": DEMO_SCALE,
        "total_month1_usd": report["total_month1_usd"],
        "savings": [{"name": s["name"], "percent": s["percent"]} for s in report["savings"]],
        "break_even_queries_per_day": report["break_even"].get("queries_per_day"),
        "saved": report.get("saved"),
    }
