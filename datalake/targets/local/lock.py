"""The lake's write lock: one writer at a time; the second waits (--wait) or fails with one line naming the holder.

Every writer of the lake takes it: seed, run-etl, ingest, run-job, archive and destroy. Readers
(query, status, validate, benchmark, report) never do: they read the last committed state (the
warehouse's current generation, the lake's published runs), so a writer never waits for them.

The lock is an OS file lock (flock), so the kernel releases it when its holder dies, even by
kill -9. The holder's description (command, pid, host, since when) sits beside it in
`lake.owner`; release removes it. A description found on taking the lock is therefore a stale
one, left by a holder that died: it is reported (`LakeLock.took_over`) and replaced.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from datalake.errors import LockedError
from datalake.fsutil import atomic_write_json
from datalake.layout import LakeLayout


@dataclass
class LakeLock:
    """The lock while held; `took_over` describes a holder that died without releasing it, if one did."""

    purpose: str
    took_over: dict[str, Any] | None = None

    def took_over_line(self) -> str | None:
        if self.took_over is None:
            return None
        return f"took over the lake lock of {describe(self.took_over)}, which died without releasing it"


def describe(owner: dict[str, Any]) -> str:
    return f"{owner.get('purpose')} (pid {owner.get('pid')} on {owner.get('host')}, since {owner.get('since')})"


def _owner(layout: LakeLayout) -> dict[str, Any] | None:
    try:
        data = json.loads(layout.lock_file.with_suffix(".owner").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def lake_lock(layout: LakeLayout, wait: float = 0.0, purpose: str = "run-etl") -> Iterator[LakeLock]:
    """Hold the lake's lock, waiting up to `wait` seconds for another holder; LockedError (one line) if it stays."""
    from filelock import FileLock, Timeout

    layout.state.mkdir(parents=True, exist_ok=True)
    owner_file = layout.lock_file.with_suffix(".owner")
    lock = FileLock(str(layout.lock_file), timeout=wait)
    began = time.monotonic()
    try:
        lock.acquire()
    except Timeout:
        owner = _owner(layout)
        who = describe(owner) if owner else "another process"
        waited = f" (waited {time.monotonic() - began:.0f}s)" if wait else ""
        raise LockedError(
            f"the lake at {layout.root} is locked by {who}{waited}",
            hint="wait for it to finish, or pass --wait SECONDS to queue behind it",
        ) from None
    held = LakeLock(purpose, took_over=_owner(layout))
    try:
        atomic_write_json(
            owner_file,
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "purpose": purpose,
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        yield held
    finally:
        owner_file.unlink(missing_ok=True)
        lock.release()
