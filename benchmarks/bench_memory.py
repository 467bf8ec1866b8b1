"""Is memory flat in rows? run-etl, validate and benchmark at two sizes, side by side in one run.

Two lakes are seeded (--small and --large rows over the same year), then each command runs on the small
lake and at once on the large one, as its own `datalake` process: wall seconds and the peak RSS of its
process tree. The criterion: every command's peak at the large size is at most 1.25x its peak at the
small one. The memory limit every DuckDB connection got (datalake.targets.local.duckdb_resources) and the
load average around each run are recorded with the figures: the machine is shared.

Usage:
    PYTHONPATH=. python benchmarks/bench_memory.py --small 2000000 --large 8000000 --workdir /work/bench-memory
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the checkout's packages

from benchmarks import process_tree, results

RESULT_NAMES = ("memory",)
CRITERION = 1.25
END_DATE = "2026-06-30"
COMMANDS = {
    "run-etl": ["run-etl"],
    "validate": ["validate"],
    "benchmark": ["benchmark", "--repeat", "1", "--no-chart"],
}


def measure(small: int, large: int, workdir: Path) -> dict[str, Any]:
    from rich.progress import Progress

    from datalake.targets.local import duckdb_resources

    shutil.rmtree(workdir, ignore_errors=True)
    lakes = {small: workdir / f"lake-{small}", large: workdir / f"lake-{large}"}
    log = workdir / "commands.log"
    figures: dict[str, Any] = {
        "sizes": [small, large],
        "criterion": CRITERION,
        "memory_limit_mb": duckdb_resources.memory_limit() // 2**20,
        "machine_memory_gb": round(duckdb_resources.machine_memory() / 2**30, 1),
        "seed": {},
        "commands": {},
    }
    with Progress() as progress:
        task = progress.add_task("memory", total=2 * (2 + len(COMMANDS)))
        for rows, lake in lakes.items():
            progress.update(task, description=f"seed {rows:,}")
            process_tree.run(process_tree.datalake_command("deploy", "--lake", str(lake)), log=log)
            progress.advance(task)
            seeded = process_tree.run(
                process_tree.datalake_command("seed", "--rows", str(rows), "--end-date", END_DATE, "--lake", str(lake)),
                log=log,
            )
            figures["seed"][str(rows)] = seeded.figures()
            progress.advance(task)
        for name, args in COMMANDS.items():
            runs: dict[str, Any] = {}
            for rows, lake in lakes.items():
                progress.update(task, description=f"{name} {rows:,}")
                load = process_tree.load_average()
                measured = process_tree.run(process_tree.datalake_command(*args, "--lake", str(lake)), log=log)
                runs[str(rows)] = {**measured.figures(), "load_average_before": load}
                progress.advance(task)
            ratio = round(runs[str(large)]["peak_rss_gb"] / runs[str(small)]["peak_rss_gb"], 2)
            figures["commands"][name] = {
                "command": "datalake " + " ".join(args),
                **runs,
                "ratio": ratio,
                "met": ratio <= CRITERION,
            }
    figures["all_met"] = all(c["met"] for c in figures["commands"].values())
    return figures


def render(document: dict[str, Any]) -> str:
    """The Markdown section of docs/benchmarks.md for a `memory` results file."""
    f = document["figures"]
    m = document["machine"]
    small, large = (str(n) for n in f["sizes"])
    lines = [
        "## Memory flat in rows",
        "",
        f"`{document['command']}`, {document['date']}, commit {document['commit']}, "
        f"{m['cores']} cores, {m['memory_gb']} GB, {m['cpu']}.",
        "",
        f"Each command is its own process; peak RSS is its whole process tree. Every DuckDB connection is "
        f"limited to {f['memory_limit_mb']:,} MB (a share of the machine's {f['machine_memory_gb']} GB) and "
        f"spills below the lake's scratch folder. Criterion: peak at {int(large):,} rows at most "
        f"{f['criterion']}x the peak at {int(small):,}.",
        "",
        f"| command | {int(small):,} rows: s | GB | {int(large):,} rows: s | GB | ratio | met | load before |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for c in f["commands"].values():
        a, b = c[small], c[large]
        load = f"{a['load_average_before'][0]:.1f} / {b['load_average_before'][0]:.1f}"
        lines.append(
            f"| `{c['command']}` | {a['seconds']:,.1f} | {a['peak_rss_gb']:.2f} | {b['seconds']:,.1f} | "
            f"{b['peak_rss_gb']:.2f} | {c['ratio']:.2f}x | {'yes' if c['met'] else 'NO'} | {load} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=2_000_000)
    parser.add_argument("--large", type=int, default=8_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/work/bench-memory"))
    parser.add_argument("--output", type=Path, help="write the results here instead of benchmarks/results/")
    args = parser.parse_args()
    if not 0 < args.small < args.large:
        raise SystemExit("error: --small must be at least 1 and below --large")
    figures = measure(args.small, args.large, args.workdir.resolve())
    path = results.write("memory", figures, output=args.output)
    print(render(json.loads(path.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
