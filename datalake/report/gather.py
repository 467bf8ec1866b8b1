"""The report's inputs, read once: the target's status and services, the run journals, validation, and
the saved benchmark and cost results (optional: a section without its input says which command makes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain.schema import FACT_TABLE
from datalake.layout import LakeLayout
from datalake.measure.benchmark.result import BenchmarkReport
from datalake.measure.cost.result import CostReport
from datalake.measure.results import NOT_AN_OBJECT, Results, UnreadableResult, read_result
from datalake.model import LakeStatus, RunSummary, TableHistory, ValidationReport
from datalake.targets.base import Target


@dataclass
class ReportData:
    """Everything the page shows, gathered once (render_html is pure)."""

    created: str
    target: str
    lake: str
    services: dict[str, str]
    status: LakeStatus
    runs: list[RunSummary]  # the completed runs, oldest first
    validation: ValidationReport | None
    benchmark: BenchmarkReport | None
    cost: CostReport | None
    notes: dict[str, str] = field(default_factory=dict)  # section -> why it is missing
    history: TableHistory | None = None  # sales_fact's Iceberg snapshots, on targets that keep them


def as_target(target_or_layout: Target | LakeLayout) -> Target:
    """A target as given, or the local target of a lake folder (what library callers and tests pass)."""
    if isinstance(target_or_layout, Target):
        return target_or_layout
    from datalake.config import Settings
    from datalake.targets import create_target

    return create_target(Settings(lake=target_or_layout.root, target="local"))


def _read_result(path: Path, command: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = read_result(path)
    except UnreadableResult as exc:
        problem = f"is {NOT_AN_OBJECT}" if exc.reason == NOT_AN_OBJECT else f"is unreadable ({exc.reason})"
        return None, f"{path} {problem}: run `{command}` again"
    if data is None:
        return None, f"no {path.name} yet: run `{command}` to add this section"
    return data, None


def _saved_benchmark(results: Results) -> tuple[BenchmarkReport | None, str | None]:
    data, note = _read_result(results.benchmark, "datalake benchmark")
    if data is None:
        return None, note
    if not isinstance(data.get("queries"), list):
        return None, f"{results.benchmark} has no queries: run `datalake benchmark` again"
    return BenchmarkReport.from_dict(data), None


def _saved_cost(results: Results) -> tuple[CostReport | None, str | None]:
    data, note = _read_result(results.cost, "datalake cost-report")
    return (CostReport.from_dict(data) if data is not None else None), note


def gather(target_or_layout: Target | LakeLayout, now: datetime | None = None) -> ReportData:
    """Read every input of the page; the lake must exist, the results are optional."""
    target = as_target(target_or_layout)
    status = target.status()
    # not every target can validate yet: ask, so a real failure of validate is not taken for that
    validation: ValidationReport | None = target.validate() if target.capabilities.validate else None
    results = Results.of(target.settings.lake)
    benchmark, bench_note = _saved_benchmark(results)
    cost, cost_note = _saved_cost(results)
    notes = {k: v for k, v in (("benchmark", bench_note), ("costs", cost_note)) if v}
    history = target.history(FACT_TABLE) if target.capabilities.history else None
    return ReportData(
        created=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        target=target.name,
        lake=status.lake,
        services=target.services(),
        status=status,
        runs=target.run_summaries(),
        validation=validation,
        benchmark=benchmark,
        cost=cost,
        notes=notes,
        history=history,
    )
