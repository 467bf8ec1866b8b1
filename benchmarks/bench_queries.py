"""What `datalake benchmark` adds over running the same SQL directly in DuckDB.

For each query and engine, the same translated SQL is timed two ways, alternating rounds so that
machine noise hits both alike:
  direct   `con.execute(sql).fetchall()` on the engine's DuckDB connection, nothing else
  harness  the median `run_benchmark` reports (fresh engine per query, a measured warm-up with the
           profiler, then `--repeat` timed runs through `QueryEngine.execute`)
Each (query, engine) is done both ways back to back, `--rounds` times. Finally one whole
`run_benchmark` call is timed against the timed runs alone (the rest is its warm-ups, the
measured and unpruned runs, opening engines and reading the catalog).

Usage (without --lake it seeds and processes a lake of --rows sales in a temporary folder first):
    PYTHONPATH=. python benchmarks/bench_queries.py --rows 1000000 --repeat 5 --rounds 3
Results: benchmarks/results/queries.json.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import results
from datalake.config import Settings
from datalake.domain.sql import anchor_dates
from datalake.measure.benchmark.queries import BenchmarkQuery, load_queries
from datalake.measure.benchmark.run import BenchmarkOptions, lake_end_date, run_benchmark
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local.target import LocalTarget

RESULT_NAMES = ("queries",)


def direct(target: LocalTarget, query: BenchmarkQuery, engine: str, as_of: str, repeat: int) -> list[float]:
    """The query's translated SQL straight on the engine's DuckDB connection: warm-up, then timed runs."""
    with target.query_engine(engine) as eng:
        con = eng.con  # type: ignore[attr-defined]
        sql = eng.translate(anchor_dates(query.sql, as_of))
        con.execute(sql).fetchall()
        runs = []
        for _ in range(repeat):
            began = time.perf_counter()
            con.execute(sql).fetchall()
            runs.append(time.perf_counter() - began)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=None, help="a seeded and processed lake (default: build one)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the lake built without --lake")
    parser.add_argument("--engines", default="lake,warehouse")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = None
    args.built = args.lake is None
    if args.lake is None:
        scratch = Path(tempfile.mkdtemp(prefix="queries-bench-"))
        args.lake = scratch / "lake"
        built = LocalTarget(Settings(lake=args.lake))
        built.deploy()
        built.seed(SeedOptions(rows=args.rows, days=365, end_date=date(2026, 6, 30)))
        built.run_etl(EtlOptions())
    try:
        summary = measure(args)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(results.write("queries", summary))
    print(render(results.read("queries")))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    target = LocalTarget(Settings(lake=args.lake))
    engines = args.engines.split(",")
    as_of = lake_end_date(target).isoformat()
    direct_times: dict[tuple[str, str], list[float]] = {}
    harness_times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for query in load_queries():
            for engine in engines:
                # Side by side, query by query, so that load from other processes hits both alike.
                key = (query.name, engine)
                direct_times.setdefault(key, []).extend(direct(target, query, engine, as_of, args.repeat))
                opts = BenchmarkOptions(
                    engines=[engine], queries=[query.name], repeat=args.repeat, save=False, chart=False
                )
                run = run_benchmark(target, opts).queries[0].results[engine]
                harness_times.setdefault(key, []).extend(run.times)
    began = time.perf_counter()
    run_benchmark(target, BenchmarkOptions(engines=engines, repeat=args.repeat, save=False, chart=False))
    wall = time.perf_counter() - began
    rows = []
    for key, runs in direct_times.items():
        d, h = statistics.median(runs), statistics.median(harness_times[key])
        rows.append({"query": key[0], "engine": key[1], "direct_s": d, "harness_s": h, "overhead": h / d - 1})
    total_direct = sum(r["direct_s"] for r in rows)
    total_harness = sum(r["harness_s"] for r in rows)
    return {
        "rows": args.rows if args.built else None,
        "engines": engines,
        "repeat": args.repeat,
        "rounds": args.rounds,
        "per_query": rows,
        "timing_overhead_sum_of_medians": total_harness / total_direct - 1,
        "timing_overhead_median_of_ratios": statistics.median(r["overhead"] for r in rows),
        "wall_s_run_benchmark": wall,
        "wall_s_direct_timed_runs": sum(r["direct_s"] for r in rows) * args.repeat,
    }


def render(document: dict[str, Any]) -> str:
    figures = document["figures"]
    rows = f"{figures['rows']:,} sales" if figures.get("rows") else "a seeded lake"
    intro = (
        f"What `datalake benchmark` adds over running the same translated SQL straight on the engine's DuckDB "
        f"connection, on {rows}: per query and engine, the median of {figures['repeat']} timed runs each way, "
        f"{figures['rounds']} rounds alternating."
    )
    lines = [
        *results.header(document, "Benchmark harness overhead", intro),
        "| query | engine | direct (s) | harness (s) | overhead |",
        "|---|---|---:|---:|---:|",
        *(
            f"| {r['query']} | {r['engine']} | {r['direct_s']:.4f} | {r['harness_s']:.4f} | {r['overhead']:+.1%} |"
            for r in figures["per_query"]
        ),
        "",
        f"Timing overhead: {figures['timing_overhead_sum_of_medians']:+.1%} on the sum of medians, "
        f"{figures['timing_overhead_median_of_ratios']:+.1%} as the median of the per-query ratios. A whole "
        f"`run_benchmark` call took {figures['wall_s_run_benchmark']:.2f} s against "
        f"{figures['wall_s_direct_timed_runs']:.2f} s of timed runs alone (warm-ups, measured and unpruned runs, "
        "opening engines, reading the catalog make the rest).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
