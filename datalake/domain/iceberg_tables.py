"""The lake's Iceberg tables as both targets define and commit them: schemas, partitioning, run snapshots.

Where a catalog lives differs by target (a SQL catalog on SQLite in the lake locally, the Glue Data
Catalog on AWS) and so does where a file's bytes are read from; what a table is, how a run becomes one
snapshot per table carrying its run id, how a lost optimistic commit is retried and how the history
reads are the same everywhere, so they live here once. pyiceberg is imported inside the functions.

Layout choices every target shares (see docs/iceberg.md for why):
- table metadata under `<table>/_iceberg/` (`write.metadata.path`): listers of the processed zone skip
  folders starting with "_";
- `sales_fact` partitioned by identity(year), identity(month): the engines write those columns in the
  Hive folder names only, and Iceberg fills identity-partition columns from the manifests' partition
  values, which are taken from the folder names when a file is registered;
- quarantine partitioned by identity(run_id); dimensions unpartitioned, replaced whole by each run.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from datalake.domain.schema import DIMENSIONS, QUARANTINE_COLUMNS, SALES_FACT_COLUMNS, SALES_PARTITION_KEYS, Column
from datalake.errors import DatalakeError, UsageError
from datalake.model import Snapshot, TableHistory

CATALOG_NAME = "datalake"
NAMESPACE = "processed"
FACT = "sales_fact"
QUARANTINE = "sales_quarantine"
METADATA_DIR = "_iceberg"  # below the table's location; "_" keeps it out of every data-file listing
DIMENSION_DATA_DIR = "_iceberg_data"  # below a dimension's folder: one immutable file per run

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
    """One processed table: its columns, identity partition columns and folder below the lake's root."""

    name: str
    columns: tuple[Column, ...]
    partition_by: tuple[str, ...]
    folder: str  # below the lake root locally, below the processed bucket on AWS

    @property
    def is_dimension(self) -> bool:
        return self.name in DIMENSIONS


def table_defs() -> dict[str, TableDef]:
    """Every table run-etl writes, by name, in commit order (sales_fact first: see `commit_order`)."""
    defs = {
        FACT: TableDef(FACT, SALES_FACT_COLUMNS, SALES_PARTITION_KEYS, "processed/sales_fact"),
        QUARANTINE: TableDef(QUARANTINE, QUARANTINE_COLUMNS, ("run_id",), "quarantine/sales"),
    }
    for dim, columns in DIMENSIONS.items():
        defs[dim] = TableDef(dim, columns, (), f"processed/{dim}")
    return defs


def commit_order(names: Iterable[str]) -> list[str]:
    """sales_fact first, then the quarantine, then the rest: the facts' snapshot is the run's commit point."""
    names = list(names)
    return [n for n in (FACT, QUARANTINE) if n in names] + [n for n in names if n not in (FACT, QUARANTINE)]


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


def partition_spec(schema: Any, keys: Sequence[str]) -> Any:
    """Identity partitions on `keys`, the Hive folders the engines write."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import IdentityTransform

    fields = [
        PartitionField(
            source_id=schema.find_field(key).field_id, field_id=1000 + i, transform=IdentityTransform(), name=key
        )
        for i, key in enumerate(keys)
    ]
    return PartitionSpec(*fields)


def table_properties(schema: Any, metadata_uri: str) -> dict[str, str]:
    """The properties every table is created with, whichever the catalog."""
    return {
        # files written by DuckDB or Spark carry no Iceberg field ids: readers map their columns by name
        "schema.name-mapping.default": schema.name_mapping.model_dump_json(),
        "write.metadata.path": metadata_uri,
        "format-version": "2",
    }


def create_table(catalog: Any, tdef: TableDef, location_uri: str, namespace: str = NAMESPACE) -> Any:
    """Create the table (empty, no snapshot) at `location_uri`, or load it when another writer just did.

    namespace: `processed` locally; on AWS the Glue database Terraform made.
    """
    from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, TableAlreadyExistsError

    schema = iceberg_schema(tdef.columns)
    try:
        return catalog.create_table(
            (namespace, tdef.name),
            schema=schema,
            location=location_uri,
            partition_spec=partition_spec(schema, tdef.partition_by),
            properties=table_properties(schema, f"{location_uri}/{METADATA_DIR}"),
        )
    except (TableAlreadyExistsError, CommitFailedException) as lost:
        # a create that lost the race is reported either way (the SQL catalog: "Table already exists")
        try:
            return catalog.load_table((namespace, tdef.name))
        except NoSuchTableError:
            raise lost from None  # not a lost race: the commit failed for another reason


# ---------------------------------------------------------------------------------------- data files


def partition_record(table: Any, relative_folders: Sequence[str], where: str) -> Any:
    """The partition record of a file, from its Hive folder names (key=value) below the table's location."""
    from pyiceberg.typedef import Record

    folders = dict(part.split("=", 1) for part in relative_folders if "=" in part)
    spec, schema = table.spec(), table.schema()
    values = []
    for field in spec.fields:
        source = schema.find_field(field.source_id)
        if source.name not in folders:
            raise DatalakeError(f"{where}: no {source.name}= folder for the table's partition field {source.name}")
        text = folders[source.name]
        values.append(int(text) if str(source.field_type) in ("int", "long") else text)
    return Record(*values)


def data_file(table: Any, uri: str, size: int, parquet_metadata: Any, relative_folders: Sequence[str]) -> Any:
    """An Iceberg DataFile for an existing Parquet file: metrics from its footer, partition from its folders.

    What pyiceberg's `add_files` does, except for where the partition values come from (see the module doc).
    """
    return _data_file_with(table, uri, size, parquet_metadata, partition_record(table, relative_folders, uri))


# ---------------------------------------------------------------------------------------- commits


def committed_runs(table: Any) -> set[str]:
    """The run ids of every snapshot the table has."""
    return {s.summary.additional_properties.get(RUN_ID) for s in table.metadata.snapshots if s.summary} - {None}


def run_summary(run_id: str, counts: dict[str, int]) -> dict[str, str]:
    """The snapshot summary of a run: its id and rows in, processed and quarantined."""
    summary = {RUN_ID: run_id}
    keys = {"rows_in": ROWS_IN, "rows_processed": ROWS_PROCESSED, "rows_quarantined": ROWS_QUARANTINED}
    summary.update({keys[k]: str(v) for k, v in counts.items() if k in keys})
    return summary


def commit_files(table: Any, add: Iterable[Any], remove: Iterable[Any], summary: dict[str, str], replace: bool) -> None:
    """One snapshot: DataFiles `add` appended (fast append), or with `replace` an overwrite of those in `remove`.

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
            for new in add:
                files.append_data_file(new)


def commit_retrying(
    load: Callable[[], Any],
    run_id: str,
    changes: Callable[[Any], tuple[list[Any], list[Any]]],
    summary: dict[str, str],
    replace: bool = False,
    empty_ok: bool = False,
) -> bool:
    """Commit a run's files to one table unless it holds them already; whether it committed.

    load: the table, freshly loaded from its catalog. changes(table): the DataFiles to add and remove.
    replace: commit an overwrite, validated against concurrent writers (a dimension, even its first version,
    so two runs racing never leave both versions current), not a fast append.
    empty_ok: commit a snapshot even when there is nothing to add (a run whose every row was quarantined
    still commits to sales_fact: that snapshot is the run's commit point).
    Optimistic: a catalog swaps a table's metadata pointer only if no other writer moved it since the
    table was loaded. pyiceberg retries a lost race itself (`commit.retry.num-retries`, re-applying an
    append to the newer metadata); past that, this reloads the table, asks again whether the run is in it
    (a commit reported lost may have landed) and starts over, up to COMMIT_ATTEMPTS times. A dimension's
    overwrite refused because another run replaced it meanwhile starts over the same way.
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    for attempt in range(COMMIT_ATTEMPTS):
        table = load()
        if run_id in committed_runs(table):
            return False
        add, remove = changes(table)
        if not add and not remove and not empty_ok:
            return False
        try:
            commit_files(table, add, remove, summary, replace=replace)
            return True
        except (CommitFailedException, ValidationException):
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
    return False


def current_data_files(table: Any) -> list[Any]:
    """The DataFiles of the table's current snapshot (none before its first)."""
    return [task.file for task in table.scan().plan_files()] if table.current_snapshot() else []


# ---------------------------------------------------------------------------------------- history


def _int(props: dict[str, str], key: str) -> int:
    try:
        return int(props.get(key, 0))
    except ValueError:
        return 0


def table_history(name: str, table: Any) -> TableHistory:
    """Every snapshot of the table, oldest first: id, time, operation, run id, files and rows added and removed."""
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


def resolve_as_of(facts: Any, as_of: str) -> Any:
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


def snapshot_of_run(table: Any, run_id: str | None, not_after_ms: int) -> Any:
    """The table's snapshot carrying `run_id`, else the last committed by `not_after_ms`; None if neither."""
    ordered = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
    same_run = [s for s in ordered if run_id and s.summary and s.summary.additional_properties.get(RUN_ID) == run_id]
    before = [s for s in ordered if s.timestamp_ms <= not_after_ms]
    return same_run[-1] if same_run else (before[-1] if before else None)


# ---------------------------------------------------------------------------------------- added for ingest
# (issue 17, ingested tables as Iceberg tables: partition columns of any type, not only run-etl's ints and text)


def typed_partition_value(text: str, field_type: Any) -> Any:
    """A Hive folder's value (as DuckDB writes it: URL-escaped, NULL for a null) as Iceberg stores the type."""
    from decimal import Decimal
    from urllib.parse import unquote

    from pyiceberg import types as t
    from pyiceberg.expressions.literals import literal

    value = unquote(text)
    if value == "NULL":
        return None
    if isinstance(field_type, t.IntegerType | t.LongType):
        return int(value)
    if isinstance(field_type, t.DecimalType):
        return Decimal(value).quantize(Decimal(1).scaleb(-field_type.scale))
    if isinstance(field_type, t.FloatType | t.DoubleType):
        return float(value)
    if isinstance(field_type, t.BooleanType):
        return value.lower() == "true"
    if isinstance(field_type, t.StringType):
        return value
    return literal(value).to(field_type).value  # dates, timestamps: days and microseconds


def typed_data_file(table: Any, uri: str, size: int, parquet_metadata: Any, relative_folders: Sequence[str]) -> Any:
    """`data_file`, with partition values of the source column's type (dates, decimals, booleans too)."""
    from pyiceberg.typedef import Record

    folders = dict(part.split("=", 1) for part in relative_folders if "=" in part)
    schema = table.schema()
    values = []
    for field in table.spec().fields:
        source = schema.find_field(field.source_id)
        if source.name not in folders:
            raise DatalakeError(f"{uri}: no {source.name}= folder for the table's partition field {source.name}")
        values.append(typed_partition_value(folders[source.name], source.field_type))
    return _data_file_with(table, uri, size, parquet_metadata, Record(*values))


def _data_file_with(table: Any, uri: str, size: int, parquet_metadata: Any, partition: Any) -> Any:
    from pyiceberg.io.pyarrow import (
        compute_statistics_plan,
        data_file_statistics_from_parquet_metadata,
        parquet_path_to_id_mapping,
    )
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat

    metadata = table.metadata
    schema = metadata.schema()
    statistics = data_file_statistics_from_parquet_metadata(
        parquet_metadata=parquet_metadata,
        stats_columns=compute_statistics_plan(schema, metadata.properties),
        parquet_column_mapping=parquet_path_to_id_mapping(schema),
    )
    return DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=uri,
        file_format=FileFormat.PARQUET,
        partition=partition,
        file_size_in_bytes=size,
        sort_order_id=None,
        spec_id=metadata.default_spec_id,
        equality_ids=None,
        key_metadata=None,
        **statistics.to_serialized_dict(),
    )


class _Staged:
    """A table as a transaction has staged it (schema updated, no snapshot yet): what `typed_data_file` reads."""

    def __init__(self, tx: Any) -> None:
        self.metadata = tx.table_metadata

    def schema(self) -> Any:
        return self.metadata.schema()

    def spec(self) -> Any:
        return self.metadata.spec()


def commit_with_schema(
    load: Callable[[], Any],
    run_id: str,
    evolve: Callable[[Any], None],
    changes: Callable[[Any, Any], tuple[list[Any], list[Any]]],
    summary: dict[str, str],
    replace: bool = False,
) -> bool:
    """`commit_retrying`, with a schema change in the same catalog commit as the snapshot; whether it committed.

    A reader sees the new columns (or types) and the files written in them together, or neither.
    evolve(tx): applies the schema update to the transaction; changes(table, staged): the DataFiles to add
    (built against `staged`, the table with the new schema) and to remove (of `table`, as loaded).
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    for attempt in range(COMMIT_ATTEMPTS):
        table = load()
        if run_id in committed_runs(table):
            return False
        try:
            with table.transaction() as tx:
                evolve(tx)
                add, remove = changes(table, _Staged(tx))
                if add or remove:
                    update = tx.update_snapshot(snapshot_properties=summary)
                    with update.overwrite() if replace else update.fast_append() as files:
                        for old in remove:
                            files.delete_data_file(old)
                        for new in add:
                            files.append_data_file(new)
            return bool(add or remove)
        except (CommitFailedException, ValidationException):
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
    return False


# ---------------------------------------------------------------------------------------- table care
# Added for `datalake maintain` (issue 18): what a table's live snapshots still need, and expiring the rest.

MAINTENANCE_ID = "datalake.maintenance-id"  # in the summary of a compaction's snapshot


def referenced_files(table: Any, leaving_out: Iterable[int] = ()) -> set[str]:
    """Every file URI the table's live snapshots need: current metadata, manifest lists, manifests, data files.

    A data file counts when a live snapshot's manifest holds it as added or existing (a deleted entry
    records a removal, it is not read); anything else below the table's location is unreachable.
    leaving_out: snapshot ids to count as expired already (what an expiry would leave).
    """
    io = table.io
    skip = set(leaving_out)
    found = {table.metadata_location}
    for snap in table.metadata.snapshots:
        if snap.snapshot_id in skip:
            continue
        found.add(snap.manifest_list)
        for manifest in snap.manifests(io):
            found.add(manifest.manifest_path)
            found.update(entry.data_file.file_path for entry in manifest.fetch_manifest_entry(io, discard_deleted=True))
    return found


def expirable_snapshots(table: Any, older_than_ms: int) -> list[int]:
    """Ids of the snapshots committed before `older_than_ms`, never the current one."""
    current = table.current_snapshot()
    keep = current.snapshot_id if current is not None else None
    return [s.snapshot_id for s in table.metadata.snapshots if s.timestamp_ms < older_than_ms and s.snapshot_id != keep]


def expire_snapshots(table: Any, snapshot_ids: Sequence[int]) -> None:
    """Remove the snapshots from the table's metadata, in one commit (their files are left to orphan removal)."""
    if snapshot_ids:
        table.maintenance.expire_snapshots().by_ids(list(snapshot_ids)).commit()
