"""Do the engines agree? Rows compared as sets (or in order, for ordered queries), numbers within a tolerance."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from datalake.domain.sql import order_keys
from datalake.measure.benchmark.result import EngineRun

REL_TOL = 1e-9


ABS_TOL = 1e-6


def _normal(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # None first, then by type name so mixed types never compare; floats rounded for stable order.
    return tuple(
        (0, "", "") if v is None else (1, type(v).__name__, round(v, 6) if isinstance(v, float) else v) for v in row
    )


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(a == b)


def _canonical(rows: list[tuple[Any, ...]], keys: list[int | str] | None) -> list[tuple[Any, ...]]:
    """Rows in a comparable order: fully sorted without ORDER BY; with one, ties sorted within."""
    normal = [tuple(_normal(v) for v in row) for row in rows]
    if keys is None:
        return sorted(normal, key=_sort_key)
    if not all(isinstance(k, int) for k in keys):
        return normal  # order keys are not output columns: only the exact order can be compared
    positions = [k for k in keys if isinstance(k, int)]
    out: list[tuple[Any, ...]] = []
    group: list[tuple[Any, ...]] = []
    for row in normal:
        if group and not all(_same_value(row[p], group[0][p]) for p in positions):
            out.extend(sorted(group, key=_sort_key))
            group = []
        group.append(row)
    out.extend(sorted(group, key=_sort_key))
    return out


def compare_results(runs: dict[str, EngineRun], sql: str) -> list[str]:
    """Differences between every engine's answer and the first engine's (empty list: all agree)."""
    problems = [f"{name}: {run.error}" for name, run in runs.items() if run.error]
    answered = [(name, run) for name, run in runs.items() if not run.error]
    if len(answered) < 2:
        return problems
    keys = order_keys(sql)
    base_name, base = answered[0]
    base_rows = _canonical(base.rows, keys)
    for name, run in answered[1:]:
        rows = _canonical(run.rows, keys)
        if len(run.columns) != len(base.columns):
            problems.append(f"{name} returned {len(run.columns)} columns, {base_name} {len(base.columns)}")
            continue
        if len(rows) != len(base_rows):
            problems.append(f"{name} returned {len(rows):,} rows, {base_name} {len(base_rows):,}")
            continue
        for i, (a, b) in enumerate(zip(base_rows, rows, strict=True)):
            if not all(_same_value(x, y) for x, y in zip(a, b, strict=True)):
                problems.append(f"{name} differs from {base_name} at row {i + 1}: {list(b)} != {list(a)}")
                break
    return problems
