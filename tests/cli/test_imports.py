"""`datalake --help` and the light commands' help start without the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

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


@pytest.mark.parametrize("args", [["--help"], ["status", "--help"], ["query", "--help"], ["cost-report", "--help"]])
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], input=json.dumps(HEAVY), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout  # the help was printed, so the app was really built
    loaded = json.loads(proc.stdout.rsplit("HEAVY=", 1)[1])
    assert loaded == []
