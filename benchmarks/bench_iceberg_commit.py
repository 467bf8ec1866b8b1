"""What the Iceberg commit adds to a whole run-etl: the same run with and without it, rounds alternating.

One lake is seeded once (--rows over a year); every round copies its raw zone into two fresh lakes and runs
run-etl on each: `iceberg` as shipped, `without` with `etl.run.commit_iceberg` replaced by a no-op (what
run-etl did before Iceberg). Copies are made fresh each round (a lake's Iceberg tables name absolute paths,
so a copy gets its own tables, made empty as deploy makes them). Reported: each run's seconds and its
publish stage, the medians, and the difference as a share of the run without Iceberg.
Results: benchmarks/results/iceberg_commit.json.

Usage:
    PYTHONPATH=. python benchmarks/bench_iceberg_commit.py --rows 2000000 --rounds 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks import results
from datalake.config import Settings
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local import iceberg
from datalake.targets.local.etl import run as etl_run
from datalake.targets.local.target import LocalTarget

RESULT_NAMES = ("iceberg_commit",)


def fresh_copy(seeded: Path, root: Path) -> LocalTarget:
    """A deployed lake holding the seeded raw zone, with tables of its own."""
    target = LocalTarget(Settings(lake=root))
    target.deploy()
    shutil.rmtree(target.layout.raw)
    shutil.copytree(seeded / "raw", target.layout.raw)
    return target


def one_run(seeded: Path, scratch: Path, with_iceberg: bool) -> dict[str, Any]:
    root = scratch / ("iceberg" if with_iceberg else "without")
    shutil.rmtree(root, ignore_errors=True)
    target = fresh_copy(seeded, root)
    real = etl_run.commit_iceberg
    if not with_iceberg:
        etl_run.commit_iceberg = lambda layout, journal: []  # type: ignore[assignment]
    try:
        summary = target.run_etl(EtlOptions(run_ts=datetime(2026, 7, 1, 12, tzinfo=UTC)))
    finally:
        etl_run.commit_iceberg = real  # type: ignore[assignment]
    snapshots = len(iceberg.history(target.layout, iceberg.FACT).snapshots)
    assert snapshots == (1 if with_iceberg else 0)
    return {"seconds": summary.seconds, "publish_s": summary.stages["publish"], "rows_in": summary.rows_in}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="iceberg-commit-bench-"))
    try:
        seeded = LocalTarget(Settings(lake=scratch / "seeded"))
        seeded.deploy()
        seeded.seed(SeedOptions(rows=args.rows, days=365, end_date=date(2026, 6, 30)))
        runs: dict[str, list[dict[str, Any]]] = {"iceberg": [], "without": []}
        for number in range(args.rounds):
            order = [True, False] if number % 2 == 0 else [False, True]  # alternate who goes first
            for with_iceberg in order:
                runs["iceberg" if with_iceberg else "without"].append(
                    one_run(scratch / "seeded", scratch, with_iceberg)
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    median = {way: statistics.median(r["seconds"] for r in rs) for way, rs in runs.items()}
    publish = {way: statistics.median(r["publish_s"] for r in rs) for way, rs in runs.items()}
    figures = {
        "rows": args.rows,
        "rounds": args.rounds,
        "runs": runs,
        "median_seconds": median,
        "median_publish_seconds": publish,
        "added_share_of_run": (median["iceberg"] - median["without"]) / median["without"],
        "added_publish_seconds": publish["iceberg"] - publish["without"],
    }
    print(results.write("iceberg_commit", figures))
    print(render(results.read("iceberg_commit")))


def render(document: dict[str, Any]) -> str:
    f = document["figures"]
    intro = (
        f"The same {f['rows']:,}-row `run-etl` with and without its Iceberg commit, {f['rounds']} rounds alternating "
        "who goes first, each run on a fresh copy of one seeded raw zone (*without*: the commit replaced by a "
        "no-op, what run-etl did before Iceberg)."
    )
    lines = [
        *results.header(document, "Iceberg commit: what it adds to a run", intro),
        "| run-etl | seconds (each round) | median | publish stage (median) |",
        "|---|---|---:|---:|",
    ]
    for way, label in (("iceberg", "with the Iceberg commit"), ("without", "without it")):
        each = " / ".join(f"{r['seconds']:.2f}" for r in f["runs"][way])
        lines.append(f"| {label} | {each} | {f['median_seconds'][way]:.2f} | {f['median_publish_seconds'][way]:.3f} |")
    lines += [
        "",
        f"The commit adds {f['added_publish_seconds']:+.3f} s to the publish stage; the whole run moves by "
        f"{f['added_share_of_run']:+.1%} (medians).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
