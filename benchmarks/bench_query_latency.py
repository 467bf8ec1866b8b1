"""Interactive latency: `datalake query` as a whole process, as a user waits for it at the prompt.

    PYTHONPATH=. python benchmarks/bench_query_latency.py --rows 1000000 --repeat 9

One lake of --rows seeded sales is built and run once; then each command below runs --repeat times as
a fresh process (`python -m datalake.cli.app ...`, the commands interleaved), and the median, min and
max wall seconds are kept: a point query and `SELECT count(*)` on the lake engine, `datalake --help`,
`status --json`, and two floors no change to this project can go under: the interpreter starting
(`python -c pass`) and it importing the libraries a query needs (duckdb, sqlglot with one translation,
typer with the pydantic it coerces options with, rich). Then one `python -X importtime` run of the
point query gives the modules that took longest to import (cumulative, top level).
Results: benchmarks/results/query_latency.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import results

RESULT_NAMES = ("query_latency",)
TARGET_SECONDS = 0.4
POINT_QUERY = "SELECT * FROM sales_fact WHERE sale_id = 4242"
COUNT_QUERY = "SELECT count(*) FROM sales_fact"
FLOOR = (
    "import duckdb, sqlglot, typer, typer._adapters, rich.console, rich.table; "
    "sqlglot.transpile('SELECT 1', read='trino', write='duckdb')"
)


def commands(lake: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "datalake.cli.app"]
    return {
        "query_point": [*cli, "query", POINT_QUERY, "--engine", "lake", "--lake", str(lake), "--json"],
        "query_count": [*cli, "query", COUNT_QUERY, "--engine", "lake", "--lake", str(lake), "--json"],
        "help": [*cli, "--help"],
        "status_json": [*cli, "status", "--json", "--lake", str(lake)],
        "floor_python": [sys.executable, "-c", "pass"],
        "floor_imports": [sys.executable, "-c", FLOOR],
    }


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(results.REPO), "COLUMNS": "120"}


def time_once(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def import_breakdown(command: list[str], top: int) -> list[dict[str, Any]]:
    """The top-level imports of one run by cumulative microseconds (`python -X importtime`)."""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], env=environment(), capture_output=True, text=True, check=True
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if name.startswith("  ") or not cumulative.strip().isdigit():
            continue  # nested: counted in its top-level importer
        rows.append({"module": name.strip(), "ms": round(int(cumulative) / 1000, 1)})
    return sorted(rows, key=lambda r: -r["ms"])[:top]


def build_lake(root: Path, rows: int) -> None:
    from datalake.config import Settings
    from datalake.model import EtlOptions, SeedOptions
    from datalake.targets.local.target import LocalTarget

    target = LocalTarget(Settings(lake=root))
    target.deploy()
    target.seed(SeedOptions(rows=rows, days=365, end_date=date(2026, 6, 30)))
    target.run_etl(EtlOptions())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--top", type=int, default=12, help="modules in the import breakdown")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="query-latency-bench-"))
    try:
        lake = scratch / "lake"
        build_lake(lake, args.rows)
        runs = commands(lake)
        for command in runs.values():  # warm the page cache and the bytecode caches once
            time_once(command)
        load_before = os.getloadavg()[0]
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, command in runs.items():
                seconds[name].append(time_once(command))
        load_after = os.getloadavg()[0]
        breakdown = import_breakdown(runs["query_point"], args.top)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    figures = {
        "rows": args.rows,
        "repeat": args.repeat,
        "target_seconds": TARGET_SECONDS,
        "queries": {"query_point": POINT_QUERY, "query_count": COUNT_QUERY},
        "floor_imports": FLOOR,
        "seconds": {
            name: {
                "median": round(statistics.median(times), 3),
                "min": round(min(times), 3),
                "max": round(max(times), 3),
            }
            for name, times in seconds.items()
        },
        "load_average_before": round(load_before, 2),
        "load_average_after": round(load_after, 2),
        "import_breakdown_point_query": breakdown,
    }
    print(results.write("query_latency", figures))
    print(render(results.read("query_latency")))


LABELS = {
    "query_point": "`datalake query` point query (`sale_id = …`), lake engine",
    "query_count": '`datalake query "SELECT count(*) FROM sales_fact"`, lake engine',
    "help": "`datalake --help`",
    "status_json": "`datalake status --json`",
    "floor_python": "floor: `python -c pass`",
    "floor_imports": "floor: importing duckdb, sqlglot (one translation), typer + pydantic, rich",
}


def render(document: dict[str, Any]) -> str:
    figures = document["figures"]
    intro = (
        f"Whole processes on a lake of {figures['rows']:,} sales, each command run {figures['repeat']} times "
        "(interleaved) after one warm-up run; wall seconds. Load average "
        f"{figures['load_average_before']:.1f} → {figures['load_average_after']:.1f} (2 cores shared)."
    )
    lines = [
        *results.header(document, "Interactive latency", intro),
        "| command | median (s) | min (s) | max (s) |",
        "|---|---:|---:|---:|",
    ]
    for name, label in LABELS.items():
        s = figures["seconds"][name]
        lines.append(f"| {label} | **{s['median']:.3f}** | {s['min']:.3f} | {s['max']:.3f} |")
    point = figures["seconds"]["query_point"]["median"]
    lines += [
        "",
        f"Target: a point query within {figures['target_seconds']} s: "
        + ("**met**." if point <= figures["target_seconds"] else f"**not met** ({point:.3f} s)."),
        "",
        "Imports of the point query (`python -X importtime`, one run, top-level modules, cumulative):",
        "",
        "| module | ms |",
        "|---|---:|",
        *(f"| `{row['module']}` | {row['ms']:.1f} |" for row in figures["import_breakdown_point_query"]),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
