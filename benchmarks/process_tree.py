"""Run a command as its own process and measure it whole: wall seconds and the peak RSS of its process tree.

Peak RSS is sampled (every `interval` seconds) as the sum over the process and all its descendants, since a
command may start helpers (a JVM, a DuckDB child): the kernel's own ru_maxrss is per process and would miss
them. The larger of the sampled sum and ru_maxrss of the biggest child is reported, so a short spike of one
process between samples is not lost either.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str

    @property
    def peak_rss_gb(self) -> float:
        return round(self.peak_rss_bytes / 2**30, 3)

    def figures(self) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 2), "peak_rss_gb": self.peak_rss_gb}


def datalake_command(*args: str) -> list[str]:
    """The `datalake` console command, run from this checkout whatever is installed."""
    return [sys.executable, "-m", "datalake.cli.app", *args]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _tree_rss(proc: Any) -> int:
    import psutil

    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def run(command: list[str], interval: float = 0.05, log: Path | None = None, check: bool = True) -> Measured:
    """Run `command`, sampling its tree's RSS; stdout is returned, stderr too or (with `log`) appended to that file."""
    import threading

    import psutil

    handle = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(log, "a", encoding="utf-8")  # noqa: SIM115 - closed below, once the child has ended
        handle.write(f"$ {' '.join(command)}\n")
        handle.flush()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    began = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=handle or subprocess.PIPE, env=environment(), text=True
    )
    proc = psutil.Process(child.pid)
    out_chunks: list[str] = []
    err_chunks: list[str] = []

    def drain(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    streams = [(child.stdout, out_chunks)] + ([(child.stderr, err_chunks)] if handle is None else [])
    readers = [threading.Thread(target=drain, args=pair, daemon=True) for pair in streams]
    for reader in readers:
        reader.start()
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(proc))
        time.sleep(interval)
    seconds = time.perf_counter() - began
    for reader in readers:
        reader.join()
    if handle is not None:
        handle.write("".join(out_chunks)[-20000:])
        handle.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if after > before:  # ru_maxrss of children is a running maximum: it only says something when it grew
        peak = max(peak, after)
    measured = Measured(seconds, peak, child.returncode, "".join(out_chunks), "".join(err_chunks))
    if check and child.returncode != 0:
        tail = (measured.stderr or measured.stdout).strip().splitlines()[-5:]
        where = f" (see {log})" if log is not None else ""
        raise SystemExit(f"{' '.join(command)} exited {child.returncode}{where}: " + " / ".join(tail))
    return measured


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
