"""What `datalake maintain` is asked and answers, whichever target runs it.

The options are parsed here (sizes like 128MB, ages like 7d) so every target refuses a bad value in the
same one line; the results carry what the command prints and `--json` gives.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from datalake.errors import UsageError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$", re.IGNORECASE)
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_size(text: str, option: str) -> int:
    """Bytes of a size such as 128MB (units B, KB, MB, GB, TB, powers of 1024; bytes without one)."""
    match = _SIZE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"{option} must be a size such as 128MB, got {text!r}", hint="units: B, KB, MB, GB, TB")
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "B").upper()])


def parse_age(text: str, option: str) -> float:
    """Seconds of an age such as 7d (units s, m, h, d, w; seconds without one)."""
    match = _AGE.match(text)
    if not match:
        raise UsageError(f"{option} must be an age such as 7d, 12h or 0s, got {text!r}", hint="units: s, m, h, d, w")
    return float(match.group(1)) * _AGE_UNITS[(match.group(2) or "s").lower()]


@dataclass(frozen=True)
class MaintainOptions:
    table: str | None = None  # one table; None: every table run-etl writes
    dry_run: bool = False
    target_file_size: int = 128 * 1024**2
    expire_older_than: float = 7 * 86400.0  # seconds: snapshots older than this go (never the current one)
    orphan_min_age: float = 3600.0  # seconds: a file younger than this is never removed (a writer's fresh file)
    wait: float = 0.0


@dataclass
class TableCheck:
    """The table's rows before and after compaction: the count and an order-independent checksum."""

    rows_before: int
    rows_after: int
    checksum_before: str
    checksum_after: str

    @property
    def equal(self) -> bool:
        return self.rows_before == self.rows_after and self.checksum_before == self.checksum_after

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "equal": self.equal}


@dataclass
class TableMaintenance:
    """One table's maintenance: files of the current snapshot and on disk, before and after."""

    table: str
    files_before: int = 0  # data files of the current snapshot (what a full scan opens)
    bytes_before: int = 0
    files_after: int = 0
    bytes_after: int = 0
    disk_files_before: int = 0  # every file below the table's location (data, old versions, metadata)
    disk_bytes_before: int = 0
    disk_files_after: int = 0
    disk_bytes_after: int = 0
    partitions_compacted: int = 0
    files_rewritten: int = 0  # small files replaced
    files_written: int = 0  # the files that replaced them
    bytes_rewritten: int = 0
    compaction_snapshot: int | None = None
    check: TableCheck | None = None  # None: nothing to compact
    snapshots_before: int = 0
    snapshots_expired: int = 0
    snapshots_after: int = 0
    orphans_removed: int = 0  # with --dry-run: that would be removed
    orphan_bytes: int = 0
    orphans_too_young: int = 0  # unreferenced, but younger than the safety window: kept
    orphan_files: list[str] = field(default_factory=list)  # relative to the lake root
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["check"] = self.check.to_dict() if self.check else None
        return data


@dataclass
class MaintainResult:
    """What `datalake maintain` did (or, with --dry-run, would do), table by table."""

    dry_run: bool
    target_file_size: int
    expire_older_than_seconds: float
    orphan_min_age_seconds: float
    maintenance_id: str | None = None
    tables: list[TableMaintenance] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # what a killed maintain left, cleaned up
    seconds: float = 0.0
    aws: dict[str, Any] | None = None  # the same maintenance priced on AWS (filled by the cost model)

    @property
    def ok(self) -> bool:
        return all(t.check is None or t.check.equal for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tables"] = [t.to_dict() for t in self.tables]
        data["ok"] = self.ok
        return data


# ---------------------------------------------------------------------------------------- erase


@dataclass
class EraseFile:
    """One data file (relative to the lake root) and how many of its rows match the predicate."""

    file: str
    matching: int
    rows: int


@dataclass
class EraseZone:
    """One table of one zone: its files that hold the predicate's columns, and the matches in each."""

    zone: str  # processed, quarantine, raw, archive, warehouse
    table: str
    files: list[EraseFile] = field(default_factory=list)
    current_rows: int = 0  # processed tables: rows of the current snapshot (what queries read)
    current_matching: int = 0
    not_evaluated: int = 0  # quarantined lines that are neither a JSON object nor CSV: no fields to evaluate
    removed: int = 0  # erase: rows removed (processed tables: from the current snapshot)
    files_rewritten: int = 0  # erase: files rewritten without the rows (or deleted, when nothing else was left)
    bytes_rewritten: int = 0
    snapshot_id: int | None = None  # erase: the table's overwrite snapshot

    @property
    def matching(self) -> int:
        return sum(f.matching for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["matching"] = self.matching
        data["files"] = [asdict(f) for f in self.files if f.matching]
        data["files_scanned"] = len(self.files)
        return data


@dataclass
class EraseResult:
    """What `datalake erase` found (--dry-run: to remove; else: removed, and left, which must be 0) per zone and file.

    The predicate's values are the user's own input and are echoed back; nothing of the matched rows is.
    """

    where: str
    columns: list[str]
    dry_run: bool
    zones: list[EraseZone] = field(default_factory=list)
    erase_id: str | None = None  # an erase (not a dry run): its id, audit record and what it found afterwards
    erased_at: str | None = None
    snapshots: dict[str, int] = field(default_factory=dict)  # table -> the erase's overwrite snapshot
    snapshots_expired: dict[str, int] = field(default_factory=dict)
    files_removed: int = 0  # data and metadata files of the tables no live snapshot needs any more
    unverified: list[str] = field(default_factory=list)  # files that could not be scanned (a reader holds them)
    recovered: list[str] = field(default_factory=list)
    audit: str | None = None  # the audit record, relative to the lake root
    seconds: float = 0.0

    @property
    def matching(self) -> int:
        """Rows matching now (a dry run: what would be removed; an erase: what is left, which must be 0)."""
        return sum(z.matching for z in self.zones)

    @property
    def removed(self) -> int:
        return sum(z.removed for z in self.zones)

    @property
    def ok(self) -> bool:
        """A dry run always; an erase only when its verification found no matching row and nothing unscanned."""
        return self.dry_run or (self.matching == 0 and not self.unverified)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "where": self.where,
            "columns": self.columns,
            "dry_run": self.dry_run,
            "matching": self.matching,
            "zones": [z.to_dict() for z in self.zones],
        }
        if not self.dry_run:
            data.update(
                erase_id=self.erase_id,
                erased_at=self.erased_at,
                removed=self.removed,
                remaining=self.matching,
                snapshots=self.snapshots,
                snapshots_expired=self.snapshots_expired,
                files_removed=self.files_removed,
                unverified=self.unverified,
                recovered=self.recovered,
                audit=self.audit,
                seconds=self.seconds,
                ok=self.ok,
            )
        return data
