"""The local target's Iceberg tables: a pyiceberg SQL catalog on SQLite inside the lake.

The catalog lives in `_state/iceberg.db`; its namespace `processed` holds `sales_fact`,
`sales_quarantine` and the dimensions, each located where its Parquet files already lie
(`processed/<table>/`, `quarantine/sales/`). What the tables are and how a run commits to them is
shared with the aws target (`datalake.domain.iceberg_tables`); this module says where the catalog
and the files are on a local disk. A run's files are registered, not rewritten.

A dimension is rewritten whole by every run into the same file name; its Iceberg data file is a hard
link of that file under `<dim>/_iceberg_data/`, named by run, so the version a snapshot names is never
replaced (renaming the next version over the published name leaves the link's inode alone).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain import iceberg_tables as tables
from datalake.domain.iceberg_tables import (
    CATALOG_NAME,
    COMMIT_ATTEMPTS,
    DIMENSION_DATA_DIR,
    FACT,
    METADATA_DIR,
    MIGRATED,
    NAMESPACE,
    QUARANTINE,
    RUN_ID,
    TableDef,
    committed_runs,
    table_defs,
)
from datalake.errors import DatalakeError, LakeNotFoundError
from datalake.layout import LakeLayout
from datalake.model import Snapshot, TableHistory

__all__ = [
    "CATALOG_NAME",
    "COMMIT_ATTEMPTS",
    "DIMENSION_DATA_DIR",
    "FACT",
    "METADATA_DIR",
    "MIGRATED",
    "NAMESPACE",
    "QUARANTINE",
    "RUN_ID",
    "TableDef",
    "committed_runs",
    "table_defs",
]


def location(layout: LakeLayout, tdef: TableDef) -> Path:
    """Where a table's files lie in this lake."""
    return layout.root / tdef.folder


def file_uri(path: Path) -> str:
    """A local path as Iceberg stores it: file:// and the absolute path as it is (pyiceberg does not unquote "%3D")."""
    return f"file://{os.path.abspath(path)}"


def catalog_file(layout: LakeLayout) -> Path:
    return layout.state / "iceberg.db"


def catalog_properties(layout: LakeLayout) -> dict[str, str]:
    """Exactly what `pyiceberg.catalog.load_catalog(CATALOG_NAME, **properties)` takes to open the lake's catalog."""
    return {
        "type": "sql",
        "uri": f"sqlite:///{os.path.abspath(catalog_file(layout))}",
        "warehouse": file_uri(layout.processed),
    }


def catalog_info(layout: LakeLayout) -> dict[str, Any]:
    """What `deploy --json` prints as `iceberg_catalog`: enough for any pyiceberg user to open our tables."""
    return {"name": CATALOG_NAME, "properties": catalog_properties(layout), "namespace": NAMESPACE}


def open_catalog(layout: LakeLayout) -> Any:
    """The lake's SQL catalog for a writer (created on first use), with the `processed` namespace.

    Writers racing on a new lake (deploys take no lake lock) may each try to create the catalog's tables
    or the namespace: SQLite lets one win and the others see a constraint error, after which the thing
    exists, so the losers simply try again.
    """
    from pyiceberg.catalog.sql import SqlCatalog
    from sqlalchemy.exc import IntegrityError, OperationalError

    layout.state.mkdir(parents=True, exist_ok=True)
    props = catalog_properties(layout)
    for attempt in range(5):
        try:
            catalog = SqlCatalog(CATALOG_NAME, **{k: v for k, v in props.items() if k != "type"})
            catalog.create_namespace_if_not_exists(NAMESPACE)
            return catalog
        except (IntegrityError, OperationalError):
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def open_reader(layout: LakeLayout) -> Any:
    """The lake's SQL catalog for a reader: it writes nothing (no catalog tables or namespace created)."""
    from pyiceberg.catalog.sql import SqlCatalog

    if not catalog_file(layout).is_file():
        raise LakeNotFoundError(
            f"the lake at {layout.root} has no Iceberg catalog yet", hint="run `datalake deploy`, then `run-etl`"
        )
    props = catalog_properties(layout)
    return SqlCatalog(CATALOG_NAME, **{k: v for k, v in props.items() if k != "type"}, init_catalog_tables="false")


def _load(catalog: Any, layout: LakeLayout, name: str) -> Any:
    """A table of the catalog, refused when it lies outside this lake (the lake was moved or copied).

    Iceberg metadata names every file by its absolute path: in a lake copied elsewhere, the catalog still
    names the original's metadata and files, and committing there would write into the original.
    """
    table = catalog.load_table((NAMESPACE, name))
    _check_location(layout, name, table.location())
    return table


def _check_location(layout: LakeLayout, name: str, table_location: str) -> None:
    defs = table_defs()
    expected = location(layout, defs[name]) if name in defs else None
    if expected is not None and table_location.rstrip("/") != file_uri(expected):
        raise DatalakeError(
            f"the lake's Iceberg table {name} lies at {table_location}, not in this lake ({layout.root}): "
            "the lake was moved or copied from there",
            hint="move the lake back to where it was made; relocating a lake's tables is not supported yet",
        )


def ensure_table(catalog: Any, layout: LakeLayout, table: TableDef) -> Any:
    """The table, created (empty, no snapshot) when the catalog does not hold it yet."""
    from pyiceberg.exceptions import NoSuchTableError

    try:
        return _load(catalog, layout, table.name)
    except NoSuchTableError:
        pass
    where = location(layout, table)
    where.mkdir(parents=True, exist_ok=True)
    tables.create_table(catalog, table, file_uri(where))
    return _load(catalog, layout, table.name)


def ensure_tables(layout: LakeLayout) -> dict[str, Any]:
    """Every table run-etl writes, created where missing; by name."""
    catalog = open_catalog(layout)
    return {name: ensure_table(catalog, layout, table) for name, table in table_defs().items()}


def load_table(layout: LakeLayout, name: str, catalog: Any = None) -> Any:
    """A processed table (through `catalog`, else a reader's), or one line saying which tables there are."""
    from pyiceberg.exceptions import NoSuchTableError

    catalog = catalog if catalog is not None else open_reader(layout)
    try:
        return _load(catalog, layout, name)
    except NoSuchTableError:
        names = sorted(ident[-1] for ident in catalog.list_tables(NAMESPACE))
        raise DatalakeError(
            f"no table {name!r} in the lake's Iceberg catalog",
            hint=f"choose one of: {', '.join(names)}" if names else "run `datalake run-etl` first",
        ) from None


# ---------------------------------------------------------------------------------------- commits


def data_file(table: Any, path: Path, where: Path) -> Any:
    """An Iceberg DataFile for a Parquet file of this lake below the table's location `where`."""
    import pyarrow.parquet as pq

    return tables.data_file(
        table, file_uri(path), path.stat().st_size, pq.read_metadata(path), path.parent.relative_to(where).parts
    )


def commit_run(
    layout: LakeLayout,
    run_id: str,
    files: dict[str, list[Path]],
    counts: dict[str, int],
    existing: Callable[[str], list[Path]] | None = None,
) -> list[str]:
    """Commit a published run's files to its tables, one snapshot per table; repeatable. The tables it committed.

    files: by table name, the run's data files, already in place below the lake root. A table already
    holding a snapshot of this run is skipped, so a publish killed half-way is finished by running it
    again. `sales_fact` is committed first: its snapshot is the run's commit point; the quarantine and the
    dimensions follow it.
    existing: a table's files published before the lake had Iceberg tables (asked only of a table with no
    snapshot yet), registered once in a snapshot of their own.
    Dimensions replace their previous version: the snapshot is an overwrite of the table's one file.
    """
    catalog = open_catalog(layout)
    defs = table_defs()
    for table in defs.values():
        ensure_table(catalog, layout, table)
    summary = tables.run_summary(run_id, counts)
    files = {FACT: [], **files}  # every run commits to sales_fact, even with no fact rows: its commit point
    return [
        name
        for name in tables.commit_order(files)
        if name in defs and _commit_table(catalog, layout, defs[name], files[name], run_id, summary, existing)
    ]


def _commit_table(
    catalog: Any,
    layout: LakeLayout,
    tdef: TableDef,
    files: list[Path],
    run_id: str,
    summary: dict[str, str],
    existing: Callable[[str], list[Path]] | None,
) -> bool:
    """Commit the run's files to one table (retried: `iceberg_tables.commit_retrying`); whether it committed."""
    where = location(layout, tdef)

    def load() -> Any:
        table = _load(catalog, layout, tdef.name)
        if not tdef.is_dimension and existing is not None and table.current_snapshot() is None:
            old = [data_file(table, path, where) for path in existing(tdef.name)]
            if old:  # files a lake held before it had Iceberg tables: registered once, in their own snapshot
                tables.commit_files(table, old, [], {MIGRATED: "true"}, replace=False)
                table = _load(catalog, layout, tdef.name)
        return table

    def changes(table: Any) -> tuple[list[Any], list[Any]]:
        if tdef.is_dimension:
            add = [data_file(table, _dimension_version(path, where, run_id), where) for path in files]
            return add, tables.current_data_files(table)
        return [data_file(table, path, where) for path in files if _has_rows(path)], []

    return tables.commit_retrying(load, run_id, changes, summary, replace=tdef.is_dimension, empty_ok=tdef.name == FACT)


def run_committed(layout: LakeLayout, run_id: str) -> bool:
    """Whether the run is committed: `sales_fact` has a snapshot carrying its id (the lake's commit point)."""
    from pyiceberg.exceptions import NoSuchTableError

    if not catalog_file(layout).is_file():
        return False
    try:
        return run_id in committed_runs(_load(open_reader(layout), layout, FACT))
    except NoSuchTableError:
        return False


def committed_file(layout: LakeLayout, name: str) -> Path | None:
    """The one data file of a dimension's current snapshot (None before its first)."""
    files = snapshot_files(layout, name)
    return files[0] if len(files) == 1 else None


def _has_rows(path: Path) -> bool:
    import pyarrow.parquet as pq

    return bool(pq.read_metadata(path).num_rows)


def _dimension_version(published: Path, where: Path, run_id: str) -> Path:
    """A hard link of a dimension's published file, named by run: the immutable file its snapshot names."""
    link = where / DIMENSION_DATA_DIR / f"{published.stem}-{run_id}{published.suffix}"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.samefile(published):
        link.unlink()
    if not link.exists():
        os.link(published, link)
    return link


# ---------------------------------------------------------------------------------------- history


def history(layout: LakeLayout, name: str) -> TableHistory:
    """Every snapshot of the table, oldest first: id, time, operation, run id, files and rows added and removed."""
    return tables.table_history(name, load_table(layout, name))


def snapshot_files(layout: LakeLayout, name: str, snapshot_id: int | None = None, catalog: Any = None) -> list[Path]:
    """The local paths of the data files a snapshot of the table holds (the current one by default)."""
    table = load_table(layout, name, catalog)
    if table.current_snapshot() is None:
        return []
    scan = table.scan(snapshot_id=snapshot_id) if snapshot_id is not None else table.scan()
    return _local_paths(task.file.file_path for task in scan.plan_files())


def current_files(layout: LakeLayout) -> dict[str, list[Path]]:
    """Each run-etl table's files in its current snapshot, read through one catalog connection.

    Tables without a snapshot (a lake not yet run by this version, a lake whose runs never quarantined a row)
    are left out, so the caller falls back to its own listing for them; no catalog at all: {}.
    """
    if not catalog_file(layout).is_file():
        return {}
    from datalake.targets.local import iceberg_read

    try:  # the same metadata read with the standard library: a second of imports cheaper than pyiceberg
        tables = iceberg_read.current_tables(catalog_file(layout), CATALOG_NAME, NAMESPACE, list(table_defs()))
        found: dict[str, list[Path]] = {}
        for name, metadata in tables.items():
            _check_location(layout, name, metadata["location"])
            snapshot = iceberg_read.current_snapshot(metadata)
            if snapshot is not None:
                found[name] = _local_paths(iceberg_read.snapshot_files(snapshot))
        return found
    except iceberg_read.Unsupported:
        return _current_files_planned(layout)


def _current_files_planned(layout: LakeLayout) -> dict[str, list[Path]]:
    """`current_files` through pyiceberg's scan planning."""
    from pyiceberg.exceptions import NoSuchTableError

    catalog = open_reader(layout)
    found: dict[str, list[Path]] = {}
    for name in table_defs():
        try:
            table = _load(catalog, layout, name)
        except NoSuchTableError:
            continue
        if table.current_snapshot() is not None:
            found[name] = _local_paths(task.file.file_path for task in table.scan().plan_files())
    return found


def _local_paths(uris: Iterable[str]) -> list[Path]:
    from urllib.parse import unquote, urlparse

    return sorted(Path(unquote(urlparse(uri).path)) for uri in uris)


def files_as_of(layout: LakeLayout, as_of: str) -> tuple[Snapshot, dict[str, list[Path]]]:
    """The lake as a run left it: each run-etl table's files at `as_of`, and the `sales_fact` snapshot chosen.

    as_of: a `sales_fact` snapshot id (see `datalake history sales_fact`), or an ISO timestamp (UTC when it
    names no zone), meaning the last `sales_fact` snapshot committed at or before it. The run's tables are
    committed one after the other, so the other tables are taken at the same *run*: the snapshot carrying the
    chosen snapshot's run id, or, for a table the run did not commit to (and for a migration snapshot), the last
    one committed before the chosen snapshot. Tables with nothing by then are left out.
    """
    catalog = open_reader(layout)
    facts = load_table(layout, FACT, catalog)
    chosen = tables.resolve_as_of(facts, as_of)
    at = next(s for s in tables.table_history(FACT, facts).snapshots if s.snapshot_id == chosen.snapshot_id)
    found: dict[str, list[Path]] = {FACT: _scan_paths(facts, chosen.snapshot_id)}
    run_id = chosen.summary.additional_properties.get(RUN_ID) if chosen.summary else None
    for name in table_defs():
        if name == FACT:
            continue
        table = load_table(layout, name, catalog)
        pick = tables.snapshot_of_run(table, run_id, chosen.timestamp_ms)
        if pick is not None:
            found[name] = _scan_paths(table, pick.snapshot_id)
    return at, found


def _scan_paths(table: Any, snapshot_id: int) -> list[Path]:
    return _local_paths(task.file.file_path for task in table.scan(snapshot_id=snapshot_id).plan_files())


def table_stats(layout: LakeLayout) -> dict[str, dict[str, Any]]:
    """Each run-etl table's size as its current snapshot states it: rows, data files, bytes, snapshots.

    Read from the metadata alone (the snapshot summary's totals), never from the folders: files a
    snapshot does not name (a run not yet committed, an expired snapshot's) are not in the table.
    Read with the standard library (`iceberg_read`: status must not import pyiceberg and pyarrow).
    Tables with no snapshot yet are left out; no catalog at all: {}.
    """
    if not catalog_file(layout).is_file():
        return {}
    from datalake.targets.local import iceberg_read

    found: dict[str, dict[str, Any]] = {}
    for name, metadata in iceberg_read.current_tables(
        catalog_file(layout), CATALOG_NAME, NAMESPACE, list(table_defs())
    ).items():
        _check_location(layout, name, metadata["location"])
        current = iceberg_read.current_snapshot(metadata)
        if current is None:
            continue
        summary = current.get("summary", {})
        found[name] = {
            "rows": int(summary.get("total-records", 0)),
            "files": int(summary.get("total-data-files", 0)),
            "bytes": int(summary.get("total-files-size", 0)),
            "snapshots": len(metadata.get("snapshots", [])),
            "snapshot_id": current["snapshot-id"],
            "run_id": summary.get(RUN_ID),
            "committed_at": datetime.fromtimestamp(current["timestamp-ms"] / 1000, UTC).isoformat(
                timespec="milliseconds"
            ),
        }
    return found


# ---------------------------------------------------------------------------------------- table care
# Added for `datalake maintain` (issue 18).


def local_path(uri: str) -> Path:
    """The local path of a file URI as the catalog stores it."""
    (path,) = _local_paths([uri])
    return path


def referenced_paths(table: Any, leaving_out: Iterable[int] = ()) -> set[Path]:
    """The local paths of every file the table's live snapshots need (`iceberg_tables.referenced_files`)."""
    return set(_local_paths(tables.referenced_files(table, leaving_out)))
