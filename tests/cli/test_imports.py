"""`datalake --help` and the light commands' help start without the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "pyarrow", "duckdb", "boto3", "botocore", "pyspark", "matplotlib", "pandas")

PROBE = """
import json, sys
from datalake.cli.app import main
sys.argv = ["datalake", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.stdin.read())))
print("HEAVY=" + json.dumps(heavy))
"""


def probe(*args: str) -> tuple[str, list[str]]:
    """Run `datalake ARGS` in a fresh interpreter: (what it printed, the heavy libraries it loaded)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], input=json.dumps(HEAVY), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    printed, loaded = proc.stdout.rsplit("HEAVY=", 1)
    return printed, json.loads(loaded)


@pytest.mark.parametrize("args", [["--help"], ["status", "--help"], ["query", "--help"], ["cost-report", "--help"]])
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    printed, loaded = probe(*args)
    assert "Usage" in printed  # the help was printed, so the app was really built
    assert loaded == []


def test_status_of_a_lake_loads_neither_numpy_nor_pyarrow(tmp_path: Path) -> None:
    """status reads the catalog and the warehouse: the generator's numpy and Arrow stay unloaded."""
    lake = str(tmp_path / "lake")
    probe("deploy", "--lake", lake, "--json")
    printed, loaded = probe("status", "--lake", lake, "--json")
    assert json.loads(printed)["target"] == "local"
    assert "numpy" not in loaded
    assert "pyarrow" not in loaded
