"""The CLI's console layer (rich): data and --json to stdout, progress and diagnostics to stderr.

Only datalake.cli imports this module; the core reports progress through `datalake.progress.Progress`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

out = Console(soft_wrap=False)
err = Console(stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")
    sys.stdout.flush()


def fmt(value: Any, thousands: bool = True) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if thousands else str(value)
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    numeric: bool = True,
    thousands: bool = True,
) -> Table:
    """A rich table; `thousands=False` for query results, where integers are often ids."""
    t = Table(title=title, title_justify="left", header_style="bold")
    first = rows[0] if rows else []
    for i, name in enumerate(columns):
        right = (
            numeric
            and i < len(first)
            and isinstance(first[i], int | float | Decimal)
            and not isinstance(first[i], bool)
        )
        t.add_column(name, justify="right" if right else "left")
    for row in rows:
        t.add_row(*(fmt(v, thousands) for v in row))
    return t


def key_values(title: str, data: dict[str, Any]) -> Table:
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column("key", style="bold")
    t.add_column("value")
    for key, value in data.items():
        t.add_row(key, fmt(value) if not isinstance(value, list | dict) else json.dumps(value, default=str))
    return t


class _RichTask:
    def __init__(self, progress: Progress, task_id: Any) -> None:
        self.progress, self.task_id = progress, task_id

    def advance(self, amount: float = 1) -> None:
        self.progress.advance(self.task_id, amount)

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        kwargs: dict[str, Any] = {}
        if total is not None:
            kwargs["total"] = total
            kwargs["completed"] = 0
        if description is not None:
            kwargs["description"] = description
        self.progress.update(self.task_id, **kwargs)


class RichProgress:
    """Progress bars on stderr; silent when stderr is not a terminal or output is JSON."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and err.is_terminal

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Any]:
        if not self.enabled:
            from datalake.progress import NULL_PROGRESS

            with NULL_PROGRESS.task(description, total) as t:
                yield t
            return
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as progress:
            task_id = progress.add_task(description, total=total)
            yield _RichTask(progress, task_id)
            if total is not None:
                progress.update(task_id, completed=progress.tasks[0].total)

    def log(self, message: str) -> None:
        err.print(message)
