"""Progress reporting without a UI dependency.

The core reports long work through a `Progress`; the CLI passes one that draws rich
progress bars on stderr, tests and library callers get the silent default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Task(Protocol):
    def advance(self, amount: float = 1) -> None: ...

    def update(self, *, total: float | None = None, description: str | None = None) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: float | None = None) -> AbstractContextManager[Task]: ...

    def log(self, message: str) -> None: ...


class _NullTask:
    def advance(self, amount: float = 1) -> None:
        pass

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        pass


class NullProgress:
    """Reports nothing: the default for library use and tests."""

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Task]:
        yield _NullTask()

    def log(self, message: str) -> None:
        pass


NULL_PROGRESS = NullProgress()
