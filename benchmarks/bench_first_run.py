"""Time to first result: the README's first line, from a fresh clone, as a newcomer runs it.

    PYTHONPATH=. python benchmarks/bench_first_run.py                   # pip's cache as it is, then disabled
    PYTHONPATH=. python benchmarks/bench_first_run.py --modes warm     # only with the cache

Each mode clones the committed HEAD into a temporary folder, makes a virtual environment there, then
times `pip install -e .` and `datalake demo` as separate figures (the venv too, apart). Mode `warm`
uses pip's cache as this machine has it (its size is recorded: a warm cache skips the downloads and
most wheel builds, so it is faster than a newcomer's first install); mode `no-cache` passes
`--no-cache-dir`, so every package is downloaded again (the registry's speed then counts).
Results: benchmarks/results/first_run.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import results

RESULT_NAMES = ("first_run",)
TARGET_SECONDS = 120.0
MODES = ("warm", "no-cache")


def pip_cache() -> tuple[str | None, int]:
    """pip's cache folder and its size in bytes (0 when it does not exist)."""
    found = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not found or not Path(found).is_dir():
        return found or None, 0
    size = sum(p.stat().st_size for p in Path(found).rglob("*") if p.is_file())
    return found, size


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds `command` took; its output goes to a log that is printed if it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def one_mode(mode: str, rows: int | None, base_python: str) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="first-run-bench-"))
    try:
        clone = scratch / "datalake"
        subprocess.run(["git", "clone", "--quiet", str(results.REPO), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "DATALAKE_HOME")}
        venv_s = timed([base_python, "-m", "venv", ".venv"], clone, env)
        bin_dir = clone / ".venv" / "bin"
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(clone / ".venv")
        install = [str(bin_dir / "pip"), "install", "--quiet", "--disable-pip-version-check", "-e", "."]
        if mode == "no-cache":
            install.insert(2, "--no-cache-dir")
        load_before = os.getloadavg()[0]
        install_s = timed(install, clone, env)
        demo = [str(bin_dir / "datalake"), "demo", "--json"]
        if rows is not None:
            demo += ["--rows", str(rows)]
        demo_s = timed(demo, clone, env)
        load_after = os.getloadavg()[0]
        installed = subprocess.run(
            [str(bin_dir / "pip"), "list", "--format=freeze"], capture_output=True, text=True, check=True, env=env
        ).stdout.split()
        return {
            "mode": mode,
            "venv_s": round(venv_s, 2),
            "install_s": round(install_s, 2),
            "demo_s": round(demo_s, 2),
            "install_plus_demo_s": round(install_s + demo_s, 2),
            "packages_installed": len(installed),
            "spark_or_moto_installed": any(p.lower().startswith(("pyspark", "moto", "pytest")) for p in installed),
            "load_average_before": round(load_before, 2),
            "load_average_after": round(load_after, 2),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--rows", type=int, default=None, help="demo --rows (default: the demo's own, 1,000,000)")
    parser.add_argument("--python", default=shutil.which("python3") or sys.executable, help="the venv's Python")
    args = parser.parse_args()
    cache_dir, cache_bytes = pip_cache()
    runs = [one_mode(mode, args.rows, args.python) for mode in args.modes]
    figures = {
        "rows": args.rows or 1_000_000,
        "target_seconds": TARGET_SECONDS,
        "pip_cache_dir": cache_dir,
        "pip_cache_mb_before": round(cache_bytes / 2**20),
        "pip_cache_warm": cache_bytes > 50 * 2**20,
        "runs": runs,
    }
    print(results.write("first_run", figures))
    print(render(results.read("first_run")))


def render(document: dict[str, Any]) -> str:
    figures = document["figures"]
    intro = (
        "The README's first line from a fresh clone of the commit: a virtual environment, `pip install -e .`, "
        f"then `datalake demo` ({figures['rows']:,} rows), each timed apart, whole processes."
    )
    lines = [
        *results.header(document, "Time to first result", intro),
        "| pip cache | venv (s) | `pip install -e .` (s) | `datalake demo` (s) | install + demo (s) | packages | load avg |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in figures["runs"]:
        cache = f"warm ({figures['pip_cache_mb_before']:,} MB)" if run["mode"] == "warm" else "off (`--no-cache-dir`)"
        lines.append(
            f"| {cache} | {run['venv_s']:.1f} | {run['install_s']:.1f} | {run['demo_s']:.1f} | "
            f"**{run['install_plus_demo_s']:.1f}** | {run['packages_installed']} | "
            f"{run['load_average_before']:.1f} → {run['load_average_after']:.1f} |"
        )
    lines += [
        "",
        f"Target: install + demo under {figures['target_seconds']:.0f} s. The core install pulls no Spark, moto or "
        "test tools"
        + (
            "."
            if not any(r["spark_or_moto_installed"] for r in figures["runs"])
            else " — **but this run found some installed**."
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
