"""What `datalake benchmark` adds over running the same SQL directly in DuckDB.

For each query and engine, the same translated SQL is timed two ways, alternating rounds so that
machine noise hits both alike:
  direct   `con.execute(sql).fetchall()` on the engine's DuckDB connection, nothing else
  harness  the median `run_benchmark` reports (fresh engine per query, a measured warm-up with the
           profiler, then `--repeat` timed runs through `QueryEngine.execute`)
Each (query, engine) is done both ways back to back, `--rounds` times. Finally one whole
`run_benchmark` call is timed against the timed runs alone (the rest is its warm-ups, the
measured and unpruned runs, opening engines and reading the catalog).

Usage (a seeded and processed lake):
    PYTHONPATH=. python benchmarks/bench_queries.py --lake /tmp/bench1m --repeat 5 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from datalake.config import Settings
from datalake.domain.sql import anchor_dates
from datalake.measure.benchmark.queries import BenchmarkQuery, load_queries
from datalake.measure.benchmark.run import BenchmarkOptions, lake_end_date, run_benchmark
from datalake.targets.local.target import LocalTarget


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
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--engines", default="lake,warehouse")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
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
    summary = {
        "lake": str(args.lake),
        "engines": engines,
        "repeat": args.repeat,
        "rounds": args.rounds,
        "per_query": rows,
        "timing_overhead_sum_of_medians": total_harness / total_direct - 1,
        "timing_overhead_median_of_ratios": statistics.median(r["overhead"] for r in rows),
        "wall_s_run_benchmark": wall,
        "wall_s_direct_timed_runs": sum(r["direct_s"] for r in rows) * args.repeat,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{'query':26} {'engine':10} {'direct s':>10} {'harness s':>10} {'overhead':>9}")
    for r in rows:
        print(f"{r['query']:26} {r['engine']:10} {r['direct_s']:10.4f} {r['harness_s']:10.4f} {r['overhead']:+9.1%}")
    print(f"timing overhead, sum of medians: {summary['timing_overhead_sum_of_medians']:+.1%}")
    print(f"timing overhead, median of per-query ratios: {summary['timing_overhead_median_of_ratios']:+.1%}")
    print(
        f"whole run_benchmark call: {summary['wall_s_run_benchmark']:.2f}s "
        f"vs {summary['wall_s_direct_timed_runs']:.2f}s of timed runs alone (medians x repeat)"
    )


if __name__ == "__main__":
    main()
