"""`datalake maintain` on a lake built from many small runs: files, bytes, seconds, lake query times before/after.

The lake is made by --runs rounds of seed + run-etl, --rows in all, each round's sales over the next
consecutive days of one year (as a daily load would: each run adds a file to the month or two it touches).
Then the six benchmark queries are timed on the lake engine (a fresh engine per run, median of --repeat),
`maintain --expire-older-than 0s --orphan-min-age 0s` runs once, and the queries are timed again.

Usage:
    PYTHONPATH=. python benchmarks/bench_maintain.py --rows 2000000 --runs 30 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import results
from benchmarks.results import write
from datalake.config import Settings
from datalake.domain.sql import anchor_dates
from datalake.domain.table_care import MaintainOptions
from datalake.format import size
from datalake.measure.benchmark.queries import load_queries
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local.target import LocalTarget

NAME = "maintain"
RESULT_NAMES = (NAME,)
END = date(2026, 6, 30)


def build(root: Path, rows: int, runs: int, seed_base: int = 1000) -> tuple[LocalTarget, float]:
    """A lake of `runs` small seed + run-etl rounds over one year ending at END; the seconds it took."""
    target = LocalTarget(Settings(lake=root))
    target.deploy()
    days = 365 // runs
    began = time.perf_counter()
    for i in range(runs):
        end = END - timedelta(days=days * (runs - 1 - i))
        target.seed(SeedOptions(rows=rows // runs, days=days, end_date=end, seed=seed_base + i))
        target.run_etl(EtlOptions(run_ts=datetime(2026, 7, 1, tzinfo=UTC) + timedelta(minutes=i)))
    return target, time.perf_counter() - began


def query_times(target: LocalTarget, repeat: int) -> dict[str, float]:
    with target.query_engine("lake") as engine:
        anchor = engine.execute("SELECT max(sale_date) FROM sales_fact").rows[0][0].isoformat()
    times: dict[str, float] = {}
    for query in load_queries():
        sql = anchor_dates(query.sql, anchor)
        runs = []
        for _ in range(repeat):
            with target.query_engine("lake") as engine:
                began = time.perf_counter()
                engine.execute(sql)
                runs.append(time.perf_counter() - began)
        times[query.name] = round(statistics.median(runs), 4)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-maintain-") as scratch:
        target, build_seconds = build(Path(scratch) / "lake", args.rows, args.runs)
        before = query_times(target, args.repeat)
        result = target.maintain(MaintainOptions(expire_older_than=0, orphan_min_age=0))
        after = query_times(target, args.repeat)
    facts = next(t for t in result.tables if t.table == "sales_fact")
    figures: dict[str, Any] = {
        "rows": args.rows,
        "runs": args.runs,
        "repeat": args.repeat,
        "build_seconds": round(build_seconds, 1),
        "maintain_seconds": result.seconds,
        "check_equal": result.ok,
        "tables": {t.table: t.to_dict() | {"orphan_files": len(t.orphan_files)} for t in result.tables},
        "sales_fact": {
            "files_before": facts.files_before,
            "files_after": facts.files_after,
            "bytes_before": facts.bytes_before,
            "bytes_after": facts.bytes_after,
            "disk_files_before": facts.disk_files_before,
            "disk_files_after": facts.disk_files_after,
            "seconds": facts.seconds,
        },
        "query_seconds_before": before,
        "query_seconds_after": after,
    }
    path = write(NAME, figures)
    print(render(figures))
    print(f"written: {path}")


def render(document: dict[str, Any]) -> str:
    """The results as a Markdown section of docs/benchmarks.md (a results file's `figures`, or the whole file)."""
    f = document["figures"]
    facts = f["sales_fact"]
    lines = [
        *results.header(
            document, "Table care: maintain", "Compaction, snapshot expiry and orphan removal (`datalake maintain`)."
        ),
        f"`maintain` on a lake built from {f['runs']} small runs, {f['rows']:,} rows in all "
        f"(`benchmarks/bench_maintain.py`): sales_fact's current snapshot went from {facts['files_before']:,} files "
        f"({size(facts['bytes_before'])}) to {facts['files_after']:,} ({size(facts['bytes_after'])}); files below "
        f"its location {facts['disk_files_before']:,} -> {facts['disk_files_after']:,}; maintain took "
        f"{f['maintain_seconds']:.1f} s for every table (sales_fact {facts['seconds']:.1f} s), count and checksum "
        f"{'equal' if f['check_equal'] else 'DIFFERENT'}.",
        "",
        "| query | lake before (s) | lake after (s) |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {f['query_seconds_before'][name]:.3f} | {f['query_seconds_after'][name]:.3f} |"
        for name in f["query_seconds_before"]
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
