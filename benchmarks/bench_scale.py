"""The whole pipeline at scale on one machine: each command as its own process, its time and peak memory.

Stages, in order, each one `datalake` process: deploy, seed --rows N, run-etl, validate, benchmark (all six
queries on the raw files, the lake and the warehouse, --repeat 1: the raw engine reads every raw byte for
each run), cost-report, report. For each: wall seconds and the peak RSS of its process tree, against a
limit of 4 GB. Resumable: a state file beside the lake (`<lake>.scale-state.json`) keeps the figures of
every stage that finished, and a second invocation runs only the rest; a seed that did not finish is
redone on a fresh lake (a half-seeded raw zone is not the data asked for), any other stage is run again
(run-etl recovers an interrupted run itself; the others only read). The results file `scale` is written
after every stage, so a run stopped early still says which stages finished.

Usage:
    PYTHONPATH=. python benchmarks/bench_scale.py --rows 100000000 --lake /work/scale-lake
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the checkout's packages

from benchmarks import process_tree, results

RESULT_NAMES = ("scale",)
LIMIT_GB = 4.0
END_DATE = "2026-06-30"  # fixed, so the same --rows always means the same lake


def stages(rows: int) -> list[tuple[str, list[str]]]:
    """(name, datalake arguments) of every stage, in order; --lake is added by the caller."""
    return [
        ("deploy", ["deploy"]),
        ("seed", ["seed", "--rows", str(rows), "--end-date", END_DATE]),
        ("run-etl", ["run-etl", "--json"]),
        ("validate", ["validate"]),
        ("benchmark", ["benchmark", "--repeat", "1", "--no-chart"]),
        ("cost-report", ["cost-report"]),
        ("report", ["report"]),
    ]


def state_path(lake: Path) -> Path:
    return lake.parent / f"{lake.name}.scale-state.json"


def load_state(lake: Path, rows: int) -> dict[str, Any]:
    path = state_path(lake)
    if not path.is_file():
        return {"rows": rows, "lake": str(lake), "stages": {}}
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("rows") != rows:
        raise SystemExit(
            f"error: {path} is a run of {state.get('rows'):,} rows, not {rows:,}: "
            "pass the same --rows, or --fresh to start over"
        )
    return state


def save_state(lake: Path, state: dict[str, Any]) -> None:
    path = state_path(lake)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def stage_details(name: str, stdout: str) -> dict[str, Any]:
    """What a stage's own output adds: run-etl's rows and per-stage seconds (from its --json summary)."""
    if name != "run-etl":
        return {}
    try:
        summary = json.loads(stdout)
    except ValueError:
        return {}
    keys = ("rows_in", "rows_processed", "rows_quarantined", "seconds", "stages")
    return {k: summary[k] for k in keys if k in summary}


def figures_of(state: dict[str, Any], rows: int) -> dict[str, Any]:
    done = state["stages"]
    order = [name for name, _ in stages(rows)]
    peak = max((s["peak_rss_gb"] for s in done.values()), default=None)
    return {
        "rows": rows,
        "lake": state["lake"],
        "limit_gb": LIMIT_GB,
        "stages": {name: done[name] for name in order if name in done},
        "remaining": [name for name in order if name not in done],
        "peak_rss_gb": peak,
        "all_under_limit": all(s["peak_rss_gb"] < LIMIT_GB for s in done.values()),
        "total_seconds": round(sum(s["seconds"] for s in done.values()), 1),
    }


def run(rows: int, lake: Path, fresh: bool, output: Path | None) -> dict[str, Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if fresh:
        state_path(lake).unlink(missing_ok=True)
        shutil.rmtree(lake, ignore_errors=True)
    state = load_state(lake, rows)
    log = lake.parent / f"{lake.name}.scale.log"
    plan = stages(rows)
    todo = [(name, args) for name, args in plan if name not in state["stages"]]
    if "seed" in {name for name, _ in todo}:  # a seed that did not finish: start again from an empty lake
        shutil.rmtree(lake, ignore_errors=True)
        state["stages"] = {}
        todo = plan
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
    with Progress(*columns, TimeElapsedColumn()) as progress:
        task = progress.add_task("scale", total=len(plan), completed=len(plan) - len(todo))
        for name, args in todo:
            progress.update(task, description=f"{name} ({rows:,} rows)")
            load_before = process_tree.load_average()
            measured = process_tree.run(process_tree.datalake_command(*args, "--lake", str(lake)), log=log)
            state["stages"][name] = {
                "command": "datalake " + " ".join([*args, "--lake", str(lake)]),
                **measured.figures(),
                "under_limit": measured.peak_rss_gb < LIMIT_GB,
                "load_average_before": load_before,
                "load_average_after": process_tree.load_average(),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": results.commit(),
                **stage_details(name, measured.stdout),
            }
            save_state(lake, state)
            results.write("scale", figures_of(state, rows), output=output)
            progress.log(f"{name}: {measured.seconds:,.1f} s, peak {measured.peak_rss_gb:.2f} GB")
            progress.advance(task)
    return figures_of(state, rows)


def render(document: dict[str, Any]) -> str:
    """The Markdown section of docs/benchmarks.md for a `scale` results file."""
    f = document["figures"]
    m = document["machine"]
    lines = [
        f"## The whole pipeline at {f['rows']:,} rows",
        "",
        f"`{document['command']}`, {document['date']}, commit {document['commit']}, "
        f"{m['cores']} cores, {m['memory_gb']} GB, {m['cpu']}.",
        "",
        "Each command is its own process; peak memory is the RSS of its whole process tree "
        f"(limit {f['limit_gb']:g} GB). Load average (1 min) before and after each stage: the machine is shared.",
        "",
        "| stage | command | seconds | peak RSS (GB) | under limit | load before / after |",
        "|---|---|---:|---:|---|---|",
    ]
    for name, s in f["stages"].items():
        load = f"{s['load_average_before'][0]:.1f} / {s['load_average_after'][0]:.1f}"
        lines.append(
            f"| {name} | `{s['command']}` | {s['seconds']:,.1f} | {s['peak_rss_gb']:.2f} | "
            f"{'yes' if s['under_limit'] else 'NO'} | {load} |"
        )
    etl = f["stages"].get("run-etl", {})
    if etl.get("stages"):
        parts = ", ".join(f"{k} {v:,.1f} s" for k, v in etl["stages"].items() if isinstance(v, int | float))
        lines += ["", f"run-etl's own stages: {parts}."]
    if f["remaining"]:
        lines += ["", f"Not run yet: {', '.join(f['remaining'])} (the run is resumable)."]
    lines += [
        "",
        f"Total {f['total_seconds']:,.0f} s; largest peak {f['peak_rss_gb']} GB; "
        f"every command under {f['limit_gb']:g} GB: {'yes' if f['all_under_limit'] else 'no'}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--lake", type=Path, default=Path("/work/scale-lake"))
    parser.add_argument("--fresh", action="store_true", help="forget the state file and the lake, start over")
    parser.add_argument("--output", type=Path, help="write the results here instead of benchmarks/results/")
    args = parser.parse_args()
    if args.rows < 1:
        raise SystemExit("error: --rows must be 1 or more")
    began = time.perf_counter()
    figures = run(args.rows, args.lake.resolve(), args.fresh, args.output)
    print(json.dumps(figures, indent=2))
    print(f"{time.perf_counter() - began:,.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
