"""`datalake erase` of one customer on a lake of --rows sales: seconds, and rows and bytes rewritten per zone.

The lake is made by --runs rounds of seed + run-etl (so older snapshots and older dimension versions hold
the customer too), the oldest third of the raw partitions archived. The customer erased is the one with the
most sales. The erase's own verification (every file of every zone scanned again) is part of its time.

Usage:
    PYTHONPATH=. python benchmarks/bench_erase.py --rows 2000000 --runs 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks import results
from benchmarks.bench_maintain import END
from benchmarks.bench_maintain import build as build_runs
from benchmarks.results import write
from datalake.format import size
from datalake.targets.local.target import LocalTarget

NAME = "erase"
RESULT_NAMES = (NAME,)


def build(root: Path, rows: int, runs: int) -> tuple[LocalTarget, float]:
    """bench_maintain's lake of small runs, then its oldest third archived (erase must reach the archive too)."""
    began = time.perf_counter()
    target, _ = build_runs(root, rows, runs, seed_base=2000)
    archive_before = END - timedelta(days=365 * 2 // 3)
    target.archive((date.today() - archive_before).days)
    return target, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-erase-") as scratch:
        target, build_seconds = build(Path(scratch) / "lake", args.rows, args.runs)
        with target.query_engine("lake") as engine:
            customer = engine.execute(
                "SELECT customer_id FROM sales_fact GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ).rows[0][0]
        where = f"customer_id = {customer}"
        began = time.perf_counter()
        planned = target.erase(where, dry_run=True)
        plan_seconds = time.perf_counter() - began
        result = target.erase(where, dry_run=False)
    figures: dict[str, Any] = {
        "rows": args.rows,
        "runs": args.runs,
        "build_seconds": round(build_seconds, 1),
        "dry_run_seconds": round(plan_seconds, 2),
        "erase_seconds": result.seconds,
        "ok": result.ok,
        "rows_removed": result.removed,
        "rows_remaining": result.matching,
        "files_scanned": sum(len(z.files) for z in planned.zones),
        "snapshots_expired": sum(result.snapshots_expired.values()),
        "files_removed": result.files_removed,
        "zones": {
            f"{z.zone}/{z.table}": {
                "rows_removed": z.removed,
                "still_matching": z.matching,
                "files_rewritten": z.files_rewritten,
                "bytes_rewritten": z.bytes_rewritten,
            }
            for z in result.zones
        },
    }
    path = write(NAME, figures)
    print(render(figures))
    print(f"written: {path}")


def render(document: dict[str, Any]) -> str:
    """The results as a Markdown section of docs/benchmarks.md (a results file's `figures`, or the whole file)."""
    f = document["figures"]
    lines = [
        *results.header(document, "Table care: erase", "The right to erasure (`datalake erase --where`), verified."),
        f"`erase` of one customer on a lake of {f['rows']:,} sales from {f['runs']} runs (`benchmarks/bench_erase.py`): "
        f"{f['rows_removed']:,} rows removed in {f['erase_seconds']:.1f} s, verification included "
        f"({f['rows_remaining']:,} left{'' if f['ok'] else ': NOT DONE'}); the dry run over {f['files_scanned']:,} "
        f"files took {f['dry_run_seconds']:.1f} s; {f['snapshots_expired']} older snapshot(s) expired and "
        f"{f['files_removed']} file(s) removed.",
        "",
        "| zone | rows removed | files rewritten | bytes rewritten |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {zone} | {z['rows_removed']:,} | {z['files_rewritten']:,} | {size(z['bytes_rewritten'])} |"
        for zone, z in f["zones"].items()
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
