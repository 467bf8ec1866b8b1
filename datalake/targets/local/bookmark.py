"""Job bookmarks: which raw files a job has consumed, as Glue job bookmarks record.

Files are keyed by their path below the zone (so archiving a file does not make it new again)
and remembered with their size: a file that changes size is offered again, and the duplicate
rule then keeps rows already loaded from being loaded twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datalake.fsutil import atomic_write_json, read_json
from datalake.layout import LakeLayout
from datalake.targets.local.crawler import DataFile


@dataclass
class Bookmark:
    job: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, layout: LakeLayout, job: str) -> Bookmark:
        data = read_json(layout.bookmarks / f"{job}.json", default={})
        return cls(job=job, files=data.get("files", {}))

    def save(self, layout: LakeLayout) -> None:
        atomic_write_json(layout.bookmarks / f"{self.job}.json", {"job": self.job, "files": self.files})

    def pending(self, files: list[DataFile]) -> list[DataFile]:
        return [f for f in files if self.files.get(f.relative, {}).get("size") != f.size]

    def record(self, files: list[dict[str, Any]], run_id: str) -> None:
        for f in files:
            self.files[f["relative"]] = {"size": f["size"], "run_id": run_id}

    def rewritten(self, relative: str, size: int, erase_id: str) -> bool:
        """A consumed file rewritten by `erase` (lines removed): its new size, so it is not offered again."""
        if relative not in self.files:
            return False  # not consumed yet: the next run takes it as it is now
        self.files[relative] = {**self.files[relative], "size": size, "erase_id": erase_id}
        return True
