"""The results folder: where benchmark, cost-report and report save what they measured, named once.

Every command that writes or reads a result (benchmark, cost-report, report, demo, the aws target's
usage) takes the path from here, so a file renamed here is renamed everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datalake.layout import LakeLayout

BENCHMARK_FILE = "benchmark-latest.json"
BENCHMARK_CHART = "benchmark-latest.png"
COST_FILE = "cost-latest.json"
COST_CHART = "cost-latest.png"
REPORT_FILE = "report.html"


class _File:
    """A file of the results folder: `cost = _File(COST_FILE)` reads as `Results(root).cost == root / COST_FILE`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, results: Results, owner: type | None = None) -> Path:
        return results.root / self.name


@dataclass(frozen=True)
class Results:
    """The results folder of one lake and the path of every file in it."""

    root: Path

    benchmark = _File(BENCHMARK_FILE)
    benchmark_chart = _File(BENCHMARK_CHART)
    cost = _File(COST_FILE)
    cost_chart = _File(COST_CHART)
    report = _File(REPORT_FILE)

    @classmethod
    def of(cls, lake: Path) -> Results:
        return cls(LakeLayout(lake).results)

    def benchmark_copy(self, stamp: str) -> Path:
        """The timestamped copy kept beside the latest benchmark."""
        return self.root / f"benchmark-{stamp}.json"


NOT_AN_OBJECT = "not a JSON object"


class UnreadableResult(Exception):
    """A results file exists but holds no JSON object; `reason` says why, for the caller's own message."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def read_result(path: Path) -> dict[str, Any] | None:
    """A saved result as a JSON object; None when the file is not there, UnreadableResult when it is broken."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableResult(path, str(exc)) from exc
    if not isinstance(data, dict):
        raise UnreadableResult(path, NOT_AN_OBJECT)
    return data
