"""What `datalake benchmark` adds over running the same SQL directly in DuckDB.

For each query and engine, the same translated SQL is timed two ways, alternating rounds so that
machine noise hits both alike:
  direct   `con.execute(sql).fetchall()` on the engine's DuckDB connection, nothing else
  harness  the median `run_benchmark` reports (fresh engine per query, a measured warm-up with the
           profiler, then `--repeat` timed runs through `QueryEngine.execute`)
and the whole `run_benchmark` call is timed against the direct runs' total.

Usage (a seeded and processed lake):
    PYTHONPATH=. python benchmarks/bench_queries.py --lake /tmp/bench1m --repeat 5 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from datalake.benchmark import BenchmarkOptions, lake_end_date, load_queries, run_benchmark
from datalake.config import Settings
from datalake.sql import anchor_dates
from datalake.targets.local import LocalTarget


def direct(target: LocalTarget, engines: list[str], repeat: int) -> tuple[dict[tuple[str, str], list[float]], float]:
    as_of = lake_end_date(target).isoformat()
    times: dict[tuple[str, str], list[float]] = {}
    total = 0.0
    for q in load_queries():
        for name in engines:
            with target.query_engine(name) as eng:
                con = eng.con  # type: ignore[attr-defined]
                sql = eng.translate(anchor_dates(q.sql, as_of))
                con.execute(sql).fetchall()  # warm-up, as the harness does
                runs = []
                for _ in range(repeat):
                    began = time.perf_counter()
                    con.execute(sql).fetchall()
                    runs.append(time.perf_counter() - began)
                times[(q.name, name)] = runs
                total += sum(runs)
    return times, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--engines", default="lake,warehouse")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    target = LocalTarget(Settings(lake=args.lake))
    engines = args.engines.split(",")
    direct_times: dict[tuple[str, str], list[float]] = {}
    harness_medians: dict[tuple[str, str], list[float]] = {}
    direct_total = harness_wall = 0.0
    for _ in range(args.rounds):
        times, total = direct(target, engines, args.repeat)
        direct_total += total
        for key, runs in times.items():
            direct_times.setdefault(key, []).extend(runs)
        began = time.perf_counter()
        report = run_benchmark(target, BenchmarkOptions(engines=engines, repeat=args.repeat, save=False, chart=False))
        harness_wall += time.perf_counter() - began
        for qb in report.queries:
            for name, run in qb.results.items():
                harness_medians.setdefault((qb.query.name, name), []).extend(run.times)
    rows = []
    for key, runs in direct_times.items():
        d, h = statistics.median(runs), statistics.median(harness_medians[key])
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
        "wall_s_run_benchmark": harness_wall / args.rounds,
        "wall_s_direct_timed_runs": direct_total / args.rounds,
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
        f"vs {summary['wall_s_direct_timed_runs']:.2f}s of direct timed runs"
    )


if __name__ == "__main__":
    main()
