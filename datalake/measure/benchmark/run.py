"""`datalake benchmark`: the same queries on raw files, the Parquet lake and the warehouse.

Each query lives once, in Athena (Trino) SQL, in datalake/domain/queries/*.sql with a header of
`-- key: value` lines (title, measures, source, order, pruning). For every query and engine the
harness opens a fresh engine, runs the query once with `QueryEngine.measure` (a warm-up that
also records the bytes, files and row groups it read: a fresh engine has no cache to hide reads),
then times `repeat` runs. The answers of all engines must agree; the demo's claims get a verdict
from the measured figures; the report is saved under <lake>/results/ for cost-report.

Relative dates: the queries say CURRENT_DATE like the demo's, and the harness anchors it on the
lake's last sale date (or `as_of`), so a benchmark of the same lake always asks the same question.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from datalake.domain.sql import anchor_dates
from datalake.errors import LakeNotFoundError, QueryError, UsageError
from datalake.layout import LakeLayout
from datalake.measure.benchmark.claims import compute_ratios, judge_claims
from datalake.measure.benchmark.compare import compare_results
from datalake.measure.benchmark.queries import BenchmarkQuery, load_queries
from datalake.measure.benchmark.result import BenchmarkReport, EngineRun, QueryBenchmark, StorageStats
from datalake.measure.results import Results, UnreadableResult, read_result
from datalake.model import LakeStatus
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.base import Target

# ----------------------------------------------------------------------------------- queries


# ----------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BenchmarkOptions:
    engines: list[str] | None = None  # default: every query engine of the target
    queries: list[str] | None = None  # default: every shipped query
    repeat: int = 3
    as_of: date | None = None  # default: the lake's last sale date
    chart: bool = True
    save: bool = True
    output: Path | None = None

    def validate(self) -> None:
        if self.repeat < 1:
            raise UsageError(f"--repeat must be 1 or more, got {self.repeat}")


# ----------------------------------------------------------------------------------- comparison


# ----------------------------------------------------------------------------------- running


def lake_end_date(target: Target) -> date:
    """The last sale date in the processed lake: the anchor of the queries' CURRENT_DATE."""
    with target.query_engine(target.capabilities.default_query_engine) as eng:
        rows = eng.execute("SELECT max(sale_date) FROM sales_fact").rows
    value = rows[0][0] if rows else None
    if value is None:
        raise LakeNotFoundError("the lake has no processed sales to benchmark", hint="run `datalake run-etl`")
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _run_one(target: Target, engine: str, query: BenchmarkQuery, sql: str, repeat: int, prices: Any) -> EngineRun:
    run = EngineRun(engine=engine, role=engine)
    try:
        with target.query_engine(engine) as eng:
            run.role, run.sql = eng.role, eng.translate(sql)
            first = eng.measure(sql)
            run.columns, run.rows, run.rows_returned = first.columns, first.rows, len(first.rows)
            stats = first.stats
            run.bytes_scanned, run.io_bytes_read = stats.get("bytes_scanned"), stats.get("io_bytes_read")
            run.files_read, run.method = stats.get("files_read"), stats.get("method")
            run.row_groups_scanned, run.row_groups_total = (
                stats.get("row_groups_scanned"),
                stats.get("row_groups_total"),
            )
            run.times = [eng.execute(sql).seconds for _ in range(repeat)]
            prunes = eng.prunes
        if query.pruning and prunes:
            with target.query_engine(engine) as eng:  # fresh again: nothing cached from the runs above
                unpruned = eng.measure(sql, pruning=False).stats
            run.bytes_scanned_unpruned, run.files_unpruned = unpruned.get("bytes_scanned"), unpruned.get("files_read")
            if unpruned.get("row_groups_total"):
                run.row_groups_total = unpruned["row_groups_total"]
    except QueryError as exc:
        run.error = exc.message
    if run.bytes_scanned is not None:
        run.cost_usd = round(prices.athena_query_cost(run.bytes_scanned), 8)
    return run


def run_benchmark(target: Target, options: BenchmarkOptions, progress: Progress = NULL_PROGRESS) -> BenchmarkReport:
    """Run every query on every engine, cross-check the answers, judge the demo's claims, save the report."""
    from datalake.measure.cost.pricing import load_prices

    options.validate()
    began = time.perf_counter()
    queries = load_queries(options.queries)
    available = list(target.capabilities.query_engines)
    default = target.capabilities.benchmark_engines or available
    engines = options.engines or sorted(default, key=_role_order)
    unknown = [e for e in engines if e not in available]
    if unknown:
        raise UsageError(f"unknown --engines {', '.join(unknown)}", hint=f"choose from: {', '.join(available)}")
    prices = load_prices(target.settings.region)
    as_of = options.as_of or lake_end_date(target)
    results: list[QueryBenchmark] = []
    with progress.task("benchmark", total=len(queries) * len(engines)) as task:
        for query in queries:
            sql = anchor_dates(query.sql, as_of.isoformat())
            qb = QueryBenchmark(query=query, sql=sql)
            for engine in engines:
                task.update(description=f"{query.name} on {engine}")
                qb.results[engine] = _run_one(target, engine, query, sql, options.repeat, prices)
                task.advance()
            qb.mismatches = compare_results(qb.results, sql)
            qb.match = not qb.mismatches
            for problem in qb.mismatches:
                progress.log(f"MISMATCH {query.name}: {problem}")
            results.append(qb)
    roles = {name: next((q.results[name].role for q in results if name in q.results), name) for name in engines}
    info = target.status()
    report = BenchmarkReport(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        target=target.name,
        lake=str(target.settings.lake),
        as_of=as_of.isoformat(),
        fact_rows=_fact_rows(info),
        repeat=options.repeat,
        engines=engines,
        roles=roles,
        queries=results,
        ratios={},
        claims=[],
        storage=storage_stats(info),
    )
    report.ratios = compute_ratios(report)
    report.claims = judge_claims(report)
    report.seconds = round(time.perf_counter() - began, 3)
    if options.save:
        report.saved = save_report(report, Results.of(target.settings.lake).root, options.chart)
    if options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        report.saved["output"] = str(options.output)
    return report


def _role_order(name: str) -> int:
    order = ["raw", "lake", "warehouse"]
    return order.index(name) if name in order else len(order)


def _fact_rows(info: LakeStatus) -> int | None:
    for t in info.table("sales_fact"):
        if t.get("rows") is not None:
            return int(t["rows"])
    return None


def storage_stats(info: LakeStatus) -> StorageStats:
    """Raw sales (JSON + CSV as landed) against the processed Parquet sales_fact, from the catalog."""
    raw = sum(int(t["bytes"] or 0) for t in info.table("sales") if t.get("format") != "parquet")
    parquet = sum(int(t["bytes"] or 0) for t in info.table("sales_fact"))
    return StorageStats(raw, parquet, round(raw / parquet, 2) if raw and parquet else None)


# ----------------------------------------------------------------------------------- ratios and claims


# ----------------------------------------------------------------------------------- saving


def save_report(report: BenchmarkReport, results_dir: Path, chart: bool = True) -> dict[str, str]:
    """<results>/benchmark-latest.json plus a timestamped copy, and the timing chart (PNG) beside them."""
    results_dir.mkdir(parents=True, exist_ok=True)
    results = Results(results_dir)
    stamp = report.created.replace(":", "").replace("-", "").replace("+0000", "Z")
    saved: dict[str, str] = {}
    latest = results.benchmark
    stamped = results.benchmark_copy(stamp)
    if chart:
        png = results.benchmark_chart
        write_chart(report, png)
        saved["chart"] = str(png)
    saved["json"], saved["json_copy"] = str(latest), str(stamped)
    report.saved = dict(saved)
    text = json.dumps(report.to_dict(), indent=2, default=str) + "\n"
    tmp = latest.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(latest)  # readers (cost-report) never see half a file
    stamped.write_text(text, encoding="utf-8")
    return saved


def load_latest_benchmark(layout: LakeLayout) -> dict[str, Any] | None:
    """The last saved benchmark of this lake, or None when none was run (or the file is unreadable)."""
    try:
        return read_result(Results(layout.results).benchmark)
    except UnreadableResult:
        return None


def write_chart(report: BenchmarkReport, path: Path) -> None:
    """Median time per query and engine, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [q.query.title for q in report.queries]
    engines = report.engines
    width = 0.8 / max(len(engines), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.6 * len(names)), 4.8))
    try:
        for i, engine in enumerate(engines):
            values = [
                (q.results[engine].median_s or 0) if engine in q.results and not q.results[engine].error else 0
                for q in report.queries
            ]
            xs = [j + (i - (len(engines) - 1) / 2) * width for j in range(len(names))]
            ax.bar(xs, [v if v > 0 else float("nan") for v in values], width, label=engine)
        ax.set_yscale("log")
        ax.set_ylabel("median wall time (s, log scale)")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=20, ha="right")
        rows = f"{report.fact_rows:,} sales" if report.fact_rows else "sales"
        ax.set_title(f"datalake benchmark: {rows}, median of {report.repeat} run(s)")
        ax.legend()
        ax.grid(axis="y", which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
