"""`pip install -e . && datalake demo` is the README's first line: the demo must need no optional extra."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.paths import REPO

# what only an extra installs (pyproject's optional-dependencies), by import name
EXTRAS_ONLY = ("pyspark", "boto3", "botocore", "moto", "pytest", "hcl2", "werkzeug", "websocket")

PROBE = """
import importlib.abc, json, sys
blocked = set(json.loads(sys.argv[1]))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{name} is installed only by an extra")
        return None

for name in list(sys.modules):  # pytest's own modules are not the demo's
    if name.split(".")[0] in blocked:
        del sys.modules[name]
sys.meta_path.insert(0, Refuse())
from datalake.cli.app import app
app(sys.argv[2:])
"""


def test_the_core_dependencies_hold_none_of_the_blocked_packages() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = " ".join(req for reqs in project["optional-dependencies"].values() for req in reqs)
    assert all(name in extras for name in ("pyspark", "boto3", "moto", "pytest"))
    assert not any(
        dep.startswith(("pyspark", "boto3", "botocore", "moto", "pytest")) for dep in project["dependencies"]
    )


def test_the_demo_runs_with_every_extra_missing(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            json.dumps(EXTRAS_ONLY),
            "demo",
            "--rows",
            "20000",
            "--lake",
            str(lake),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["validate"]["ok"] and result["benchmark"]["ok"]
    assert (lake / "results" / "report.html").is_file()
