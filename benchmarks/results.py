"""One shape for every benchmark's results file, so docs/benchmarks.md can be generated from them.

Each script calls `write(name, figures)`: `benchmarks/results/<name>.json` then holds the
machine, the versions, the commit, the command that made it, the date and the script's own figures.
A number in docs/ comes from one of these files, never from a hand-run harness.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("duckdb", "pyarrow", "pyiceberg", "pyspark", "sqlglot", "numpy")


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, memory, CPU model, OS, Python."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def commit() -> str | None:
    """The checkout's commit, with "+dirty" when tracked files other than the results themselves have changed."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = (
            subprocess.run(
                ["git", "diff", "--quiet", "HEAD", "--", ".", ":(exclude)benchmarks/results"], cwd=REPO, check=False
            ).returncode
            != 0
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha + ("+dirty" if dirty else "")


def command_line() -> str:
    """The command that ran the script, as a user would type it again."""
    return " ".join(["python", os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]])


def write(name: str, figures: dict[str, Any], command: str | None = None, output: Path | None = None) -> Path:
    """Write `benchmarks/results/<name>.json` (or `output`): the envelope and the script's figures."""
    path = output or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command or command_line(),
        "commit": commit(),
        "machine": machine(),
        "versions": versions(),
        "load_average": [round(x, 2) for x in os.getloadavg()],  # at the end: the machine is shared
        "figures": figures,
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def read(name: str) -> dict[str, Any]:
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def provenance(document: dict[str, Any]) -> str:
    """One line saying when, at which commit, on what and with which versions the figures were measured."""
    box = document["machine"]
    found = ", ".join(f"{name} {version}" for name, version in document["versions"].items() if version)
    load = document.get("load_average")
    shared = f" Load average at the end (1, 5, 15 min): {' / '.join(f'{x:.1f}' for x in load)}." if load else ""
    return (
        f"Measured {document['date'][:16].replace('T', ' ')} UTC at commit `{document['commit']}` on "
        f"{box['cores']} cores ({box['cpu']}), {box['memory_gb']} GB, Python {box['python']}; {found}.{shared}"
    )


def header(document: dict[str, Any], title: str, intro: str) -> list[str]:
    """The start every section of docs/benchmarks.md shares: heading, what it measures, command, provenance."""
    return [f"## {title}", "", intro, "", "    " + document["command"], "", provenance(document), ""]
