"""The renderers show what was not measured as unknown, never as a measured zero."""

from __future__ import annotations

import pytest

from datalake.cli import render
from datalake.measure.benchmark.result import BenchmarkReport


def test_benchmark_table_shows_an_unmeasured_scan_as_unknown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render.ui.out, "width", 200)
    run = {"median_s": 0.5, "min_s": 0.4, "max_s": 0.6, "times": [0.5], "rows_returned": 1}
    report = BenchmarkReport.from_dict(
        {
            "engines": ["athena", "redshift"],
            "queries": [
                {
                    "name": "daily",
                    "results": {"athena": {**run, "bytes_scanned": None}, "redshift": {**run, "bytes_scanned": 0}},
                }
            ],
        }
    )
    render.render_benchmark(report)
    lines = capsys.readouterr().out.splitlines()
    (athena,) = [line for line in lines if "athena" in line]
    (redshift,) = [line for line in lines if "redshift" in line]
    assert "unknown" in athena and "0 B" not in athena
    assert "0 B" in redshift
