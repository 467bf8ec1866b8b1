"""The memory and spill folder of every DuckDB connection the local target opens: decided here only.

DuckDB's own default is 80% of the machine's memory per connection, which a command with two connections
open (the benchmark measures on a second one) or several commands side by side would exceed; and without a
spill folder an in-memory connection cannot spill at all. So every connection gets a share of the machine's
memory (the smaller of the physical memory and a cgroup's limit), between a floor DuckDB's operators need
and a ceiling that keeps a command with two connections well under 4 GB, and its own spill folder below the
lake's scratch folder: DuckDB names its temporary files alike in every process, so processes sharing one
folder would overwrite each other's, and DuckDB removes a folder it created when the connection closes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import connect as duckdb_connect

# A connection's limit is this fraction of the machine's memory (750 MB of 24 GB): a command is rarely alone
# on the machine, and what DuckDB holds past its limit it spills; a larger limit only lets a query's
# working set (the raw engine's duplicate check ranks every row) grow with the data before it spills ...
MEMORY_SHARE = 32
MIN_MEMORY_LIMIT = 256 * 2**20  # ... but never below what a sort or a hash join needs to make progress
MAX_MEMORY_LIMIT = 1200 * 2**20  # ... nor above what run-etl's batches were sized for (see etl.duckdb_engine)
_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def machine_memory() -> int:
    """Bytes of memory this process may use: the physical memory, or a smaller cgroup (container) limit."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return total


def memory_limit(total: int | None = None) -> int:
    """The memory limit of one DuckDB connection, in bytes, for a machine with `total` bytes (default: this one)."""
    share = (machine_memory() if total is None else total) // MEMORY_SHARE
    return max(MIN_MEMORY_LIMIT, min(MAX_MEMORY_LIMIT, share))


def spill_directory(scratch: Path) -> Path:
    """A folder of its own for one connection's temporary files, below `scratch` (not created yet: DuckDB does)."""
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch / f"duckdb-{os.getpid()}-{secrets.token_hex(4)}"


def settings(scratch: Path) -> dict[str, Any]:
    """The configuration every local DuckDB connection opens with: its memory limit and its spill folder."""
    return {"memory_limit": f"{memory_limit() // 2**20}MB", "temp_directory": str(spill_directory(scratch))}


def connect(scratch: Path, database: str | Path = ":memory:", read_only: bool = False, **config: Any) -> Any:
    """A DuckDB connection with the settings above (`config` adds to them, never replaces the limit or folder)."""
    return duckdb_connect(database, read_only=read_only, **{**config, **settings(scratch)})
