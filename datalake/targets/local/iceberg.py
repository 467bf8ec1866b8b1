"""The lake's Apache Iceberg tables: a pyiceberg SQL catalog on SQLite, one snapshot per run and table.

The catalog lives in `_state/iceberg.db`; its namespace `processed` holds `sales_fact`,
`sales_quarantine` and the dimensions, each located where its Parquet files already lie
(`processed/<table>/`, `quarantine/sales/`). The engines keep writing Parquet as before; a run's
files are registered, not rewritten: one snapshot per table per run, whose summary carries the
run id and the run's row counts, so `history` can say which run committed what and a rerun can
ask the table whether the run is already in it (`committed_runs`).

Three layout choices keep today's readers and files valid while they are also Iceberg data files:
- table metadata goes to `<table>/_iceberg/` (`write.metadata.path`): listers of the processed zone
  skip folders starting with "_", so metadata JSON is never mistaken for data;
- `sales_fact` is partitioned by identity(year), identity(month): the files keep those two columns in
  their folder names only (Hive style, as both engines write them and as every existing lake holds
  them), and Iceberg's column projection fills identity-partition columns from the manifest's
  partition values, so every Iceberg reader sees them. The partition values are taken from the
  folder names when a file is registered (pyiceberg's `add_files` would look for them in the file).
- a dimension is rewritten whole by every run into the same file name; its Iceberg data file is a hard
  link of that file under `<dim>/_iceberg_data/`, named by run, so the version a snapshot names is never
  replaced (renaming the next version over the published name leaves the link's inode alone).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain.schema import DIMENSIONS, QUARANTINE_COLUMNS, SALES_FACT_COLUMNS, SALES_PARTITION_KEYS, Column
from datalake.errors import DatalakeError, LakeNotFoundError, UsageError
from datalake.layout import LakeLayout
from datalake.model import Snapshot, TableHistory

CATALOG_NAME = "datalake"
NAMESPACE = "processed"
FACT = "sales_fact"
QUARANTINE = "sales_quarantine"
METADATA_DIR = "_iceberg"  # below the table's location; "_" keeps it out of every data-file listing
DIMENSION_DATA_DIR = "_iceberg_data"  # below a dimension's folder: one hard link per run

# Snapshot summary keys of our own (Iceberg's own keys have no dots before a dash-separated word)
RUN_ID = "datalake.run-id"
ROWS_IN = "datalake.rows-in"
ROWS_PROCESSED = "datalake.rows-processed"
ROWS_QUARANTINED = "datalake.rows-quarantined"
MIGRATED = "datalake.migrated"

COMMIT_ATTEMPTS = 8  # ours, each after pyiceberg's own retries of a commit that lost a race

_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)", re.IGNORECASE)


@dataclass(frozen=True)
class TableDef:
    """One processed table: its columns, identity partition columns and folder below the lake root."""

    name: str
    columns: tuple[Column, ...]
    partition_by: tuple[str, ...]
    folder: str  # relative to the lake root

    def location(self, layout: LakeLayout) -> Path:
        return layout.root / self.folder


def table_defs() -> dict[str, TableDef]:
    """Every table run-etl writes, by name."""
    defs = {
        FACT: TableDef(FACT, SALES_FACT_COLUMNS, SALES_PARTITION_KEYS, "processed/sales_fact"),
        QUARANTINE: TableDef(QUARANTINE, QUARANTINE_COLUMNS, ("run_id",), "quarantine/sales"),
    }
    for dim, columns in DIMENSIONS.items():
        defs[dim] = TableDef(dim, columns, (), f"processed/{dim}")
    return defs


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
    """The lake's SQL catalog for a writer (created on first use), with the `processed` namespace."""
    from pyiceberg.catalog.sql import SqlCatalog

    layout.state.mkdir(parents=True, exist_ok=True)
    props = catalog_properties(layout)
    catalog = SqlCatalog(CATALOG_NAME, **{k: v for k, v in props.items() if k != "type"})
    catalog.create_namespace_if_not_exists(NAMESPACE)
    return catalog


def open_reader(layout: LakeLayout) -> Any:
    """The lake's SQL catalog for a reader: it writes nothing (no catalog tables or namespace created)."""
    from pyiceberg.catalog.sql import SqlCatalog

    if not catalog_file(layout).is_file():
        raise LakeNotFoundError(
            f"the lake at {layout.root} has no Iceberg catalog yet", hint="run `datalake deploy`, then `run-etl`"
        )
    props = catalog_properties(layout)
    return SqlCatalog(CATALOG_NAME, **{k: v for k, v in props.items() if k != "type"}, init_catalog_tables="false")


# ---------------------------------------------------------------------------------------- schemas


def iceberg_type(sql_type: str) -> Any:
    """The Iceberg type of a schema.py SQL type name."""
    from pyiceberg import types as t

    simple = {
        "BIGINT": t.LongType(),
        "INTEGER": t.IntegerType(),
        "VARCHAR": t.StringType(),
        "DATE": t.DateType(),
        "TIMESTAMP": t.TimestampType(),
        "DOUBLE": t.DoubleType(),
        "BOOLEAN": t.BooleanType(),
    }
    if sql_type.upper() in simple:
        return simple[sql_type.upper()]
    match = _DECIMAL.fullmatch(sql_type.strip())
    if match:
        return t.DecimalType(int(match.group(1)), int(match.group(2)))
    raise DatalakeError(f"no Iceberg type for the SQL type {sql_type!r}")


def iceberg_schema(columns: Sequence[Column]) -> Any:
    """An Iceberg schema of the columns, field ids 1.. in column order, every field optional (as Parquet's are)."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField

    return Schema(
        *(
            NestedField(field_id=i, name=c.name, field_type=iceberg_type(c.type), required=False, doc=c.comment or None)
            for i, c in enumerate(columns, start=1)
        )
    )


def _partition_spec(schema: Any, keys: Sequence[str]) -> Any:
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import IdentityTransform

    fields = [
        PartitionField(
            source_id=schema.find_field(key).field_id, field_id=1000 + i, transform=IdentityTransform(), name=key
        )
        for i, key in enumerate(keys)
    ]
    return PartitionSpec(*fields)


def _load(catalog: Any, layout: LakeLayout, name: str) -> Any:
    """A table of the catalog, refused when it lies outside this lake (the lake was moved or copied).

    Iceberg metadata names every file by its absolute path: in a lake copied elsewhere, the catalog still
    names the original's metadata and files, and committing there would write into the original.
    """
    table = catalog.load_table((NAMESPACE, name))
    _check_location(layout, name, table.location())
    return table


def _check_location(layout: LakeLayout, name: str, location: str) -> None:
    expected = table_defs()[name].location(layout) if name in table_defs() else None
    if expected is not None and location.rstrip("/") != file_uri(expected):
        raise DatalakeError(
            f"the lake's Iceberg table {name} lies at {location}, not in this lake ({layout.root}): "
            "the lake was moved or copied from there",
            hint="move the lake back to where it was made; relocating a lake's tables is not supported yet",
        )


def ensure_table(catalog: Any, layout: LakeLayout, table: TableDef) -> Any:
    """The table, created (empty, no snapshot) when the catalog does not hold it yet."""
    from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError

    identifier = (NAMESPACE, table.name)
    try:
        return _load(catalog, layout, table.name)
    except NoSuchTableError:
        pass
    schema = iceberg_schema(table.columns)
    location = table.location(layout)
    location.mkdir(parents=True, exist_ok=True)
    properties = {
        # files written by DuckDB or Spark carry no Iceberg field ids: readers map their columns by name
        "schema.name-mapping.default": schema.name_mapping.model_dump_json(),
        "write.metadata.path": file_uri(location / METADATA_DIR),
        "format-version": "2",
    }
    try:
        return catalog.create_table(
            identifier,
            schema=schema,
            location=file_uri(location),
            partition_spec=_partition_spec(schema, table.partition_by),
            properties=properties,
        )
    except TableAlreadyExistsError:  # another writer created it meanwhile
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


def _partition_values(path: Path, location: Path, table: Any) -> Any:
    """The partition record of a file, from its Hive folder names (key=value) below the table's location."""
    from pyiceberg.typedef import Record

    folders = dict(part.split("=", 1) for part in path.parent.relative_to(location).parts if "=" in part)
    spec, schema = table.spec(), table.schema()
    values = []
    for field in spec.fields:
        source = schema.find_field(field.source_id)
        if source.name not in folders:
            raise DatalakeError(f"{path}: no {source.name}= folder for the table's partition field {source.name}")
        text = folders[source.name]
        values.append(int(text) if str(source.field_type) in ("int", "long") else text)
    return Record(*values)


def data_file(table: Any, path: Path, location: Path) -> Any:
    """An Iceberg DataFile for an existing Parquet file: its metrics from the footer, partition from its folders.

    What pyiceberg's `add_files` does, except for where the partition values come from (see the module doc).
    """
    import pyarrow.parquet as pq
    from pyiceberg.io.pyarrow import (
        compute_statistics_plan,
        data_file_statistics_from_parquet_metadata,
        parquet_path_to_id_mapping,
    )
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat

    metadata = table.metadata
    schema = metadata.schema()
    parquet_metadata = pq.read_metadata(path)
    statistics = data_file_statistics_from_parquet_metadata(
        parquet_metadata=parquet_metadata,
        stats_columns=compute_statistics_plan(schema, metadata.properties),
        parquet_column_mapping=parquet_path_to_id_mapping(schema),
    )
    return DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=file_uri(path),
        file_format=FileFormat.PARQUET,
        partition=_partition_values(path, location, table),
        file_size_in_bytes=path.stat().st_size,
        sort_order_id=None,
        spec_id=metadata.default_spec_id,
        equality_ids=None,
        key_metadata=None,
        **statistics.to_serialized_dict(),
    )


def committed_runs(table: Any) -> set[str]:
    """The run ids of every snapshot the table has."""
    return {s.summary.additional_properties.get(RUN_ID) for s in table.metadata.snapshots if s.summary} - {None}


def _commit(
    table: Any, add: Iterable[Path], remove: Iterable[Any], location: Path, summary: dict[str, str], replace: bool
) -> None:
    """One snapshot: `add` appended (fast append), or with `replace` an overwrite of the data files in `remove`.

    An overwrite is validated against what other writers committed since the table was loaded (pyiceberg
    refuses it with ValidationException when files were added meanwhile), so two runs replacing a dimension
    at once never leave both versions in the table; an append needs no such check.
    """
    to_remove = list(remove)
    with table.transaction() as tx:
        update = tx.update_snapshot(snapshot_properties=summary)
        producer = update.overwrite() if replace else update.fast_append()
        with producer as files:
            for old in to_remove:
                files.delete_data_file(old)
            for path in add:
                files.append_data_file(data_file(table, path, location))


def _summary(run_id: str, counts: dict[str, int]) -> dict[str, str]:
    summary = {RUN_ID: run_id}
    keys = {"rows_in": ROWS_IN, "rows_processed": ROWS_PROCESSED, "rows_quarantined": ROWS_QUARANTINED}
    summary.update({keys[k]: str(v) for k, v in counts.items() if k in keys})
    return summary


def _migrate(table: Any, location: Path, existing: list[Path]) -> None:
    """Register the files a lake held before it had Iceberg tables, once, in a snapshot of their own."""
    if existing:
        _commit(table, existing, [], location, {MIGRATED: "true"}, replace=False)


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
    again. `sales_fact` is committed first: its snapshot is the run's commit point in Iceberg (see
    docs/iceberg-progress.md); the quarantine and the dimensions follow it.
    existing: a table's files published before the lake had Iceberg tables (asked only of a table with no
    snapshot yet), registered once in a snapshot of their own.
    Dimensions replace their previous version: the snapshot is an overwrite of the table's one file.
    """
    catalog = open_catalog(layout)
    defs = table_defs()
    for table in defs.values():
        ensure_table(catalog, layout, table)
    summary = _summary(run_id, counts)
    order = [FACT, QUARANTINE, *(name for name in files if name not in (FACT, QUARANTINE))]
    return [
        name
        for name in order
        if name in files and _commit_retrying(catalog, layout, defs[name], files[name], run_id, summary, existing)
    ]


def _commit_retrying(
    catalog: Any,
    layout: LakeLayout,
    tdef: TableDef,
    files: list[Path],
    run_id: str,
    summary: dict[str, str],
    existing: Callable[[str], list[Path]] | None,
) -> bool:
    """Commit the run's files to one table unless it holds them already; whether it committed.

    Optimistic: the SQL catalog swaps the table's metadata pointer only if no other writer moved it since
    the table was loaded. pyiceberg retries a lost race itself (`commit.retry.num-retries`, re-applying the
    append to the newer metadata); past that, this reloads the table, asks again whether the run is in it
    (a commit reported lost may have landed) and starts over, up to COMMIT_ATTEMPTS times. A dimension's
    overwrite refused because another run replaced the dimension meanwhile starts over the same way, now
    replacing that run's version.
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    location = tdef.location(layout)
    for attempt in range(COMMIT_ATTEMPTS):
        table = _load(catalog, layout, tdef.name)
        if run_id in committed_runs(table):
            return False
        if tdef.name in DIMENSIONS:
            add = [_dimension_version(path, location, run_id) for path in files]
            remove = [task.file for task in table.scan().plan_files()] if table.current_snapshot() else []
        else:
            if existing is not None and table.current_snapshot() is None:
                _migrate(table, location, existing(tdef.name))
                table = _load(catalog, layout, tdef.name)
            add, remove = [p for p in files if _has_rows(p)], []
        if not add and not remove:
            return False
        try:
            _commit(table, add, remove, location, summary, replace=tdef.name in DIMENSIONS)
            return True
        except (CommitFailedException, ValidationException):
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
    return False


def _has_rows(path: Path) -> bool:
    import pyarrow.parquet as pq

    return bool(pq.read_metadata(path).num_rows)


def _dimension_version(published: Path, location: Path, run_id: str) -> Path:
    """A hard link of a dimension's published file, named by run: the immutable file its snapshot names."""
    link = location / DIMENSION_DATA_DIR / f"{published.stem}-{run_id}{published.suffix}"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.samefile(published):
        link.unlink()
    if not link.exists():
        os.link(published, link)
    return link


# ---------------------------------------------------------------------------------------- history


def _int(props: dict[str, str], key: str) -> int:
    try:
        return int(props.get(key, 0))
    except ValueError:
        return 0


def history(layout: LakeLayout, name: str) -> TableHistory:
    """Every snapshot of the table, oldest first: id, time, operation, run id, files and rows added and removed."""
    table = load_table(layout, name)
    current = table.current_snapshot()
    rows: list[Snapshot] = []
    for snap in sorted(table.metadata.snapshots, key=lambda s: (s.timestamp_ms, s.sequence_number or 0)):
        summary = snap.summary
        props = dict(summary.additional_properties) if summary else {}
        rows.append(
            Snapshot(
                snapshot_id=snap.snapshot_id,
                parent_id=snap.parent_snapshot_id,
                committed_at=datetime.fromtimestamp(snap.timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds"),
                operation=summary.operation.value if summary else None,
                run_id=props.get(RUN_ID),
                migrated=props.get(MIGRATED) == "true",
                added_files=_int(props, "added-data-files"),
                removed_files=_int(props, "deleted-data-files"),
                added_rows=_int(props, "added-records"),
                removed_rows=_int(props, "deleted-records"),
                total_rows=_int(props, "total-records"),
                rows_in=_int(props, ROWS_IN) if ROWS_IN in props else None,
                rows_processed=_int(props, ROWS_PROCESSED) if ROWS_PROCESSED in props else None,
                rows_quarantined=_int(props, ROWS_QUARANTINED) if ROWS_QUARANTINED in props else None,
                current=current is not None and snap.snapshot_id == current.snapshot_id,
            )
        )
    return TableHistory(name, rows)


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
    chosen = _resolve(facts, as_of)
    at = next(s for s in history(layout, FACT).snapshots if s.snapshot_id == chosen.snapshot_id)
    found: dict[str, list[Path]] = {FACT: _scan_paths(facts, chosen.snapshot_id)}
    run_id = chosen.summary.additional_properties.get(RUN_ID) if chosen.summary else None
    for name in table_defs():
        if name == FACT:
            continue
        table = load_table(layout, name, catalog)
        ordered = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
        same_run = [
            s for s in ordered if run_id and s.summary and s.summary.additional_properties.get(RUN_ID) == run_id
        ]
        before = [s for s in ordered if s.timestamp_ms <= chosen.timestamp_ms]
        pick = same_run[-1] if same_run else (before[-1] if before else None)
        if pick is not None:
            found[name] = _scan_paths(table, pick.snapshot_id)
    return at, found


def _scan_paths(table: Any, snapshot_id: int) -> list[Path]:
    return _local_paths(task.file.file_path for task in table.scan(snapshot_id=snapshot_id).plan_files())


def _resolve(facts: Any, as_of: str) -> Any:
    """The `sales_fact` snapshot `as_of` names: an id, or the last committed at or before a timestamp."""
    hint = "see `datalake history sales_fact` for the snapshot ids and times"
    text = as_of.strip()
    if text.lstrip("-").isdigit():
        snap = facts.metadata.snapshot_by_id(int(text))
        if snap is None:
            raise UsageError(f"--as-of {as_of}: sales_fact has no snapshot with that id", hint=hint)
        return snap
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--as-of must be a snapshot id or an ISO timestamp, got {as_of!r}", hint="e.g. 2026-07-01T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = int(moment.timestamp() * 1000)
    earlier = [s for s in facts.metadata.snapshots if s.timestamp_ms <= ms]
    if not earlier:
        raise UsageError(f"--as-of {as_of}: sales_fact had no snapshot yet at that time", hint=hint)
    return max(earlier, key=lambda s: (s.timestamp_ms, s.sequence_number or 0))
