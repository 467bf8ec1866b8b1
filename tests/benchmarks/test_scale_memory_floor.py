"""The meters behind bench_memory, bench_etl_floor and bench_scale: what they measure, resume and render."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_etl_floor, bench_memory, bench_scale, process_tree

ALLOCATE = "import time; block = bytearray({mb} * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(0.6)"


def test_peak_rss_counts_the_whole_process_tree() -> None:
    child = ALLOCATE.format(mb=150)
    parent = textwrap.dedent(
        f"""
        import subprocess, sys
        helper = subprocess.Popen([sys.executable, "-c", {child!r}])
        {ALLOCATE.format(mb=150)}
        helper.wait()
        """
    )
    measured = process_tree.run([sys.executable, "-c", parent])
    assert measured.returncode == 0
    assert measured.peak_rss_bytes >= 300 * 2**20  # both processes' 150 MB at once: neither alone has it
    assert measured.seconds >= 0.6


def test_a_failing_command_is_one_line_naming_it() -> None:
    with pytest.raises(SystemExit, match="exited 3"):
        process_tree.run([sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"])


class FakeRuns:
    """process_tree.run for bench_scale: records each stage, fails once at `fail_at`."""

    def __init__(self, fail_at: str | None = None) -> None:
        self.fail_at, self.ran = fail_at, []

    def __call__(self, command: list[str], log: Path | None = None, **_: Any) -> process_tree.Measured:
        stage = command[3]
        if stage == self.fail_at:
            self.fail_at = None
            raise SystemExit(f"{stage} failed")
        self.ran.append(stage)
        out = (
            json.dumps({"rows_in": 10, "rows_processed": 9, "stages": {"transform": 1.5}}) if stage == "run-etl" else ""
        )
        return process_tree.Measured(1.0 + len(self.ran), 2**30, 0, out, "")


def test_scale_resumes_after_the_last_finished_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRuns(fail_at="benchmark")
    monkeypatch.setattr(process_tree, "run", fake)
    lake, output = tmp_path / "lake", tmp_path / "scale.json"
    with pytest.raises(SystemExit, match="benchmark failed"):
        bench_scale.run(1000, lake, fresh=False, output=output)
    assert fake.ran == ["deploy", "seed", "run-etl", "validate"]
    partial = json.loads(output.read_text())["figures"]
    assert partial["remaining"] == ["benchmark", "cost-report", "report"]
    assert partial["stages"]["run-etl"]["stages"] == {"transform": 1.5}

    figures = bench_scale.run(1000, lake, fresh=False, output=output)
    assert fake.ran[4:] == ["benchmark", "cost-report", "report"]  # nothing that finished ran again
    assert figures["remaining"] == [] and figures["all_under_limit"]
    assert list(figures["stages"]) == [name for name, _ in bench_scale.stages(1000)]
    assert figures["stages"]["seed"]["seconds"] == 3.0  # kept from the first invocation
    text = bench_scale.render(json.loads(output.read_text()))
    assert "| seed |" in text and "transform 1.5 s" in text

    with pytest.raises(SystemExit, match="not 2,000"):
        bench_scale.run(2000, lake, fresh=False, output=output)


def test_an_unfinished_seed_starts_from_an_empty_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRuns(fail_at="seed")
    monkeypatch.setattr(process_tree, "run", fake)
    lake = tmp_path / "lake"
    with pytest.raises(SystemExit):
        bench_scale.run(1000, lake, fresh=False, output=tmp_path / "scale.json")
    (lake / "raw").mkdir(parents=True)
    (lake / "raw" / "half.json").write_text("{}\n")
    bench_scale.run(1000, lake, fresh=False, output=tmp_path / "scale.json")
    assert fake.ran == ["deploy", "deploy", "seed", "run-etl", "validate", "benchmark", "cost-report", "report"]
    assert not (lake / "raw" / "half.json").exists()


def _document(figures: dict[str, Any]) -> dict[str, Any]:
    machine = {"cores": 2, "memory_gb": 23.5, "cpu": "cpu"}
    return {
        "command": "python benchmarks/x.py",
        "date": "2026-12-02",
        "commit": "abc",
        "machine": machine,
        "figures": figures,
    }


def test_memory_and_floor_sections_show_their_ratios() -> None:
    run = {"seconds": 2.0, "peak_rss_gb": 0.5, "load_average_before": [1.0, 1.0, 1.0]}
    memory = {
        "sizes": [2, 8],
        "criterion": 1.25,
        "memory_limit_mb": 768,
        "machine_memory_gb": 23.5,
        "commands": {
            "validate": {
                "command": "datalake validate",
                "2": run,
                "8": {**run, "peak_rss_gb": 0.7},
                "ratio": 1.4,
                "met": False,
            }
        },
    }
    text = bench_memory.render(_document(memory))
    assert "| `datalake validate` | 2.0 | 0.50 | 2.0 | 0.70 | 1.40x | NO |" in text
    side = {"seconds": 10.0, "peak_rss_gb": 0.4, "rows": 95}
    floor = {
        "criterion": 1.3,
        "memory_limit_mb": 768,
        "sizes": {
            "100": {
                "floor": side,
                "bare_copy": {**side, "seconds": 5.0},
                "run_etl": {**side, "seconds": 12.0, "stages": {"transform": 6.0}},
                "ratio": 1.2,
                "ratio_bare": 2.4,
                "met": True,
                "load_average_before": [1.0],
                "load_average_after": [2.0],
            }
        },
    }
    text = bench_etl_floor.render(_document(floor))
    assert "| 100 | 10.0 | 5.0 | 12.0 | 1.20x | yes | 2.40x |" in text
    assert bench_memory.RESULT_NAMES == ("memory",) and bench_etl_floor.RESULT_NAMES == ("etl_floor",)
    assert bench_scale.RESULT_NAMES == ("scale",)
