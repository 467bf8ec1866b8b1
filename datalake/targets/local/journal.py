"""One staged-publish machine for every local writer: stage, commit point, publish, load, recover.

A writer (run-etl, ingest) stages every output file under a staging folder of its own first,
`<staging>/<id>/`, laid out as the files will lie below the lake root. Its journal, one JSON file
per run (`<runs>/<id>.json`), moves through

    staging -> committing -> published -> loaded        (or staging -> abandoned)

Writing "committing", with the list of staged files ("moves"), is the commit point of a writer
whose tables are not Iceberg tables: after it the run is rolled forward (files renamed into place,
the writer's own bookkeeping such as bookmark, manifest and catalog written, the warehouse loaded)
by whichever process gets there next; before it the staged files are simply dropped and the run is
marked abandoned. A writer whose commit point is an Iceberg snapshot (run-etl: the `sales_fact`
snapshot carrying the run id) says so with `committed`: a "committing" run is then rolled forward
only if that snapshot exists, and otherwise rolled back by `unpublish` (the files renamed into place
but never committed taken out again), so the journal only remembers which files a run wrote, and
what Iceberg does not hold: the bookmark and the warehouse load. Renames are atomic per file
and publishing moves whole new files into partitions, so a reader never sees half a file, and
every step can be repeated after a kill -9 without losing or duplicating a row: moving skips what
is already moved, and the warehouse records each load in the same transaction as its rows, so a
load is never applied twice. Staging folders no journal still needs (of abandoned or finished
runs, or of runs killed before their journal was written) are deleted by recovery.

Each writer keeps its own journal and staging folders (run-etl `_state/runs/` and `_state/staging/`,
ingest `_state/ingest/runs/` and `_state/ingest/staging/`): recovery deletes staging folders it has
no live journal for, so two writers must never share one.

run-job's outputs are whole folders recomputed from the processed zone on every run: they are
staged in scratch space and swapped into place by `replace_dir`, whose rename is its commit point,
so they need no journal.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datalake.fsutil import atomic_write_json, move_staged, read_json, staged_files

Record = dict[str, Any]  # one run's journal, as it is stored


class Journal:
    """The journals and staging folders of one writer, and the machine that moves its runs along.

    root: the lake root that staged files are moved below.
    runs, staging: the folders of this writer's journals and of its staging folders.
    key: the journal field holding the run's id ("run_id", "ingest_id"); label prefixes recovery messages.
    publish: the writer's own bookkeeping once the files are in place (bookmark, manifest, catalog);
        it must be repeatable, since a run killed half-way through it is published again.
    load: loads a published run into the warehouse once (repeatable); the rows it loaded.
    loaded: the ids the warehouse holds, when the writer reloads runs a lost warehouse no longer has.
    committed: whether a "committing" run reached its commit point (its Iceberg snapshot exists); without
        it, writing "committing" is the commit point.
    unpublish: takes back what `publish` put in place for a run that never reached `committed` (repeatable).
    """

    def __init__(
        self,
        *,
        root: Path,
        runs: Path,
        staging: Path,
        key: str,
        publish: Callable[[Record], None],
        load: Callable[[Record], int],
        loaded: Callable[[], set[str]] | None = None,
        label: str = "",
        committed: Callable[[Record], bool] | None = None,
        unpublish: Callable[[Record], None] | None = None,
    ) -> None:
        self.root, self.runs, self.staging_root = root, runs, staging
        self.key, self.label = key, label
        self._publish, self._load, self._loaded = publish, load, loaded
        self._committed, self._unpublish = committed, unpublish

    # ------------------------------------------------------------------ records

    def path(self, run_id: str) -> Path:
        return self.runs / f"{run_id}.json"

    def staging(self, run_id: str) -> Path:
        """Where the run's outputs are staged, laid out as they will lie below the lake root."""
        return self.staging_root / run_id

    def records(self) -> list[Record]:
        """Every run's journal, oldest first (ids start with their start time)."""
        if not self.runs.is_dir():
            return []
        return [read_json(p) for p in sorted(self.runs.glob("*.json"))]

    def write(self, record: Record) -> None:
        atomic_write_json(self.path(record[self.key]), record)

    # ------------------------------------------------------------------ the states

    def begin(self, record: Record) -> Record:
        """Journal a new run as "staging": until it commits, recovery drops whatever it staged."""
        record["status"] = "staging"
        self.write(record)
        return record

    def abandon(self, record: Record) -> None:
        """Roll a run back before its commit point: drop what it staged."""
        shutil.rmtree(self.staging(record[self.key]), ignore_errors=True)
        record["status"] = "abandoned"
        self.write(record)

    def commit(self, record: Record, **fields: Any) -> None:
        """Journal the staged files (and the writer's fields) as "committing": the commit point, or its eve.

        With `committed` the run commits later, inside `publish` (its Iceberg snapshot).
        """
        moves = staged_files(self.staging(record[self.key]))
        record.update(status="committing", moves=moves, **fields)
        self.write(record)

    def publish(self, record: Record) -> None:
        """Roll a committed run forward: staged files into place, the writer's bookkeeping. Repeatable."""
        staging = self.staging(record[self.key])
        move_staged(staging, self.root, record["moves"])
        self._publish(record)
        record["status"] = "published"
        self.write(record)
        shutil.rmtree(staging, ignore_errors=True)

    def load(self, record: Record) -> int:
        """Load a published run into the warehouse (at most once there) and journal it "loaded"."""
        rows = self._load(record)
        record["status"] = "loaded"
        record["warehouse_rows_loaded"] = rows
        self.write(record)
        return rows

    # ------------------------------------------------------------------ recovery

    def recover(self) -> list[str]:
        """Finish or roll back runs a crash interrupted (and reload a lost warehouse). Returns what was done."""
        done: list[str] = []
        loaded = self._loaded() if self._loaded else None
        for record in self.records():
            run_id, status = record[self.key], record["status"]
            if status == "staging":
                self.abandon(record)
                done.append(f"{self.label}{run_id}: rolled back (interrupted before commit)")
            elif status == "committing" and self._committed is not None and not self._committed(record):
                if self._unpublish is not None:
                    self._unpublish(record)
                self.abandon(record)
                done.append(f"{self.label}{run_id}: rolled back (interrupted before its Iceberg commit)")
            elif status == "committing":
                self.publish(record)
                self.load(record)
                done.append(f"{self.label}{run_id}: published and loaded (interrupted after commit)")
            elif status == "published" or (status == "loaded" and loaded is not None and run_id not in loaded):
                self.load(record)
                done.append(f"{self.label}{run_id}: loaded into the warehouse")
        self._drop_leftovers()
        return done

    def _drop_leftovers(self) -> None:
        """Delete staging folders no committing run needs: of finished or abandoned runs, or journal-less ones."""
        if not self.staging_root.is_dir():
            return
        live = {r[self.key] for r in self.records() if r["status"] == "committing"}
        for leftover in self.staging_root.iterdir():
            if leftover.name not in live:
                shutil.rmtree(leftover, ignore_errors=True)


def replace_dir(staged: Path, target: Path) -> None:
    """Swap a finished output folder into place: rename the old one aside, rename the new one in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)
