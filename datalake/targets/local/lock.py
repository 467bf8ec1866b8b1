"""The lake's write lock: one writer at a time, the second waits or fails with a clear message."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from datalake.errors import LockedError
from datalake.layout import LakeLayout


@contextmanager
def lake_lock(layout: LakeLayout, wait: float = 0.0, purpose: str = "run-etl") -> Iterator[None]:
    """Hold the lake's lock; the OS releases it if the holder dies (even by kill -9)."""
    from filelock import FileLock, Timeout

    layout.state.mkdir(parents=True, exist_ok=True)
    owner_file = layout.lock_file.with_suffix(".owner")
    lock = FileLock(str(layout.lock_file), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        try:
            owner = json.loads(owner_file.read_text())
            who = f"{owner.get('purpose')} (pid {owner.get('pid')} on {owner.get('host')}, since {owner.get('since')})"
        except (OSError, ValueError):
            who = "another process"
        raise LockedError(
            f"the lake at {layout.root} is locked by {who}",
            hint="wait for it to finish, or pass --wait SECONDS to queue behind it",
        ) from None
    try:
        owner_file.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "purpose": purpose,
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        yield
    finally:
        owner_file.unlink(missing_ok=True)
        lock.release()
