"""Seed speed and memory: `datalake seed --rows N` as a whole process, at several sizes.

    PYTHONPATH=. python benchmarks/bench_seed.py --rows 2000000 8000000 10000000

For each size a fresh lake is deployed, then `python -m datalake.cli.app seed --rows N --json` runs as
its own process; its wall seconds (start-up included), rows per second and peak RSS are recorded. Peak
RSS is the kernel's own count for that process (`os.wait4`'s ru_maxrss: the seed is one process, its
writers are threads), the same method at every size. The seed's own `seconds` (generation and
writing, no start-up) and the raw bytes written are kept too. The lake is removed after each size.
Results: benchmarks/results/seed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import results

RESULT_NAMES = ("seed",)
TARGET_ROWS_PER_SECOND = 1_000_000
TARGET_MEMORY_RATIO = 1.25  # peak RSS at every size within this multiple of the smallest size's


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(results.REPO)}


def run_seed(lake: Path, rows: int, seed_value: int) -> dict[str, Any]:
    cli = [sys.executable, "-m", "datalake.cli.app"]
    subprocess.run([*cli, "deploy", "--lake", str(lake), "--json"], env=environment(), capture_output=True, check=True)
    command = [*cli, "seed", "--rows", str(rows), "--seed", str(seed_value), "--lake", str(lake), "--json"]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=environment(), stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({process.returncode})")
        out.seek(0)
        result = json.loads(out.read())
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "seed_seconds": result["seconds"],
        "seed_rows_per_second": round(rows / result["seconds"]),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux: kilobytes
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "raw_bytes": result["bytes"],
        "files": result["files"],
        "load_average_before": round(load_before, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000_000, 8_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    runs = []
    for rows in args.rows:
        scratch = Path(tempfile.mkdtemp(prefix="seed-bench-"))
        try:
            runs.append(run_seed(scratch / "lake", rows, args.seed))
            print(json.dumps(runs[-1]))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    smallest = min(runs, key=lambda r: r["rows"])
    for run in runs:
        run["peak_rss_vs_smallest"] = round(run["peak_rss_mb"] / smallest["peak_rss_mb"], 3)
    figures = {
        "target_rows_per_second": TARGET_ROWS_PER_SECOND,
        "target_memory_ratio": TARGET_MEMORY_RATIO,
        "runs": runs,
    }
    print(results.write("seed", figures))
    print(render(results.read("seed")))


def render(document: dict[str, Any]) -> str:
    figures = document["figures"]
    runs = sorted(figures["runs"], key=lambda r: r["rows"])
    intro = (
        "`datalake seed --rows N` as a whole process (start-up included) on a freshly deployed lake; peak RSS "
        "is the kernel's maximum resident set of that process (`wait4`), the same way at every size."
    )
    lines = [
        *results.header(document, "Seed", intro),
        "| rows | seconds | rows/s (whole process) | rows/s (seed itself) | peak RSS (MB) | RSS vs smallest "
        "| CPU s | raw GB | files | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run['rows']:,} | {run['seconds']:.1f} | **{run['rows_per_second']:,}** | "
            f"{run['seed_rows_per_second']:,} | {run['peak_rss_mb']:,} | {run['peak_rss_vs_smallest']:.2f}x | "
            f"{run['cpu_seconds']:.1f} | "
            f"{run['raw_bytes'] / 1e9:.2f} | {run['files']:,} | {run['load_average_before']:.1f} |"
        )
    largest = runs[-1]
    ratio = max(run["peak_rss_vs_smallest"] for run in runs)
    speed_met = largest["rows_per_second"] >= figures["target_rows_per_second"]
    memory_met = ratio <= figures["target_memory_ratio"]
    lines += [
        "",
        f"Targets: at least {figures['target_rows_per_second']:,} rows/s at {largest['rows']:,} rows, whole process: "
        + ("**met**" if speed_met else "**not met**")
        + f"; peak RSS at every size within {figures['target_memory_ratio']}x the peak at {runs[0]['rows']:,} "
        f"rows: at most {ratio:.2f}x, " + ("**met**." if memory_met else "**not met**."),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
