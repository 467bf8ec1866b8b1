"""An ingested table as an Iceberg table in the lake's catalog: created from the inferred types, one snapshot per ingest.

The table lies where ingest writes its Parquet (`processed/<table>/`, metadata in `_iceberg/`), in the
namespace `processed` beside run-etl's tables. Its partition spec is identity on the Hive folder
columns ingest writes (the column itself for `--partition-by COL`, the derived `year`/`month`/`day` for
`COL:grain`): those columns are only in the folder names, and Iceberg readers fill an identity
partition's column from the manifests' partition values (see `datalake.domain.iceberg_tables`).

Each ingest is one snapshot whose summary carries its id (`datalake.run-id`) and row counts; that
snapshot is the ingest's commit point (see `run.settle`). Type changes Iceberg can promote (int to
long, float to double, a decimal's precision) are schema updates; the other widenings ingest accepts
(integer to decimal, a decimal's scale, date to timestamp, an empty column's first type) are not
Iceberg promotions, so the column is replaced in the schema and the table's rows are rewritten in the
new type, in the same snapshot as the new rows (`type_changes`, `evolve`). The schema change and the
snapshot are one catalog commit (`iceberg_tables.commit_with_schema`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from datalake.domain import iceberg_tables as tables
from datalake.domain.duckdb_sql import connect as duckdb_connect
from datalake.domain.duckdb_sql import quote_ident
from datalake.domain.iceberg_tables import METADATA_DIR, MIGRATED, NAMESPACE, RUN_ID
from datalake.errors import DatalakeError
from datalake.layout import LakeLayout
from datalake.targets.local import iceberg

NAME_MAPPING = "schema.name-mapping.default"
ROWS_INSERTED = "datalake.rows-inserted"
ROWS_UPDATED = "datalake.rows-updated"
ROWS_UNCHANGED = "datalake.rows-unchanged"
MODE = "datalake.ingest-mode"


def location(layout: LakeLayout, name: str) -> Path:
    return layout.processed / name


def arrow_schema(columns: list[tuple[str, str]]) -> Any:
    """The Arrow schema DuckDB gives the columns (name, DuckDB type): what Iceberg's types are taken from."""
    select = ", ".join(f"CAST(NULL AS {t}) AS {quote_ident(n)}" for n, t in columns)
    con = duckdb_connect()
    try:
        return con.sql(f"SELECT {select} LIMIT 0").to_arrow_table().schema
    finally:
        con.close()


def load(catalog: Any, layout: LakeLayout, name: str) -> Any:
    """The ingested table, or None before its first ingest; refused when it lies outside this lake."""
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = catalog.load_table((NAMESPACE, name))
    except NoSuchTableError:
        return None
    if table.location().rstrip("/") != iceberg.file_uri(location(layout, name)):
        raise DatalakeError(
            f"the lake's Iceberg table {name} lies at {table.location()}, not in this lake ({layout.root}): "
            "the lake was moved or copied from there",
            hint="move the lake back to where it was made; relocating a lake's tables is not supported yet",
        )
    return table


def create(catalog: Any, layout: LakeLayout, name: str, columns: list[tuple[str, str]], keys: list[str]) -> Any:
    """Create the table (empty, no snapshot): schema from the columns, identity partitions on `keys`.

    Schema, spec and properties in one catalog commit; a writer that lost the race to create it loads it.
    """
    from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

    where = location(layout, name)
    where.mkdir(parents=True, exist_ok=True)
    uri = iceberg.file_uri(where)
    try:
        with catalog.create_table_transaction(
            (NAMESPACE, name),
            schema=arrow_schema(columns),
            location=uri,
            properties={"write.metadata.path": f"{uri}/{METADATA_DIR}", "format-version": "2"},
        ) as tx:
            if keys:
                with tx.update_spec() as spec:
                    for key in keys:
                        spec.add_identity(key)
            # files written by DuckDB carry no Iceberg field ids: readers map their columns by name
            tx.set_properties(**{NAME_MAPPING: tx.table_metadata.schema().name_mapping.model_dump_json()})
    except (TableAlreadyExistsError, CommitFailedException):
        # the SQL catalog reports a create that lost the race either way ("Table already exists"): load it,
        # and let any other commit failure through
        if load(catalog, layout, name) is None:
            raise
    return load(catalog, layout, name)


def _iceberg_schema(arrow: Any) -> Any:
    """Arrow to Iceberg, field ids fresh: what pyiceberg's `create_table` does with an Arrow schema."""
    from pyiceberg.catalog import Catalog
    from pyiceberg.schema import assign_fresh_schema_ids

    return assign_fresh_schema_ids(Catalog._convert_schema_if_needed(arrow))


def _unpromotable(old: Any, new: Any) -> list[str]:
    """Columns of schema `old` whose type in `new` is not an Iceberg promotion (int to long, float to double, ...)."""
    from pyiceberg.schema import promote
    from pyiceberg.types import PrimitiveType

    current = {f.name: f for f in old.fields}
    out = []
    for field in new.fields:
        was = current.get(field.name)
        if was is None or was.field_type == field.field_type:
            continue
        if not (isinstance(was.field_type, PrimitiveType) and isinstance(field.field_type, PrimitiveType)):
            continue  # nested: union_by_name adds what is new inside
        try:
            promote(was.field_type, field.field_type)
        except Exception:
            out.append(field.name)
    return out


def type_changes(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[str]:
    """The columns whose type change from `old` to `new` (name, DuckDB type) Iceberg cannot promote."""
    if not old:
        return []
    return _unpromotable(_iceberg_schema(arrow_schema(old)), _iceberg_schema(arrow_schema(new)))


def evolve(tx: Any, columns: list[tuple[str, str]]) -> None:
    """Bring the table's schema to the columns, in the transaction: new ones added, promotions, the rest replaced.

    A replaced column (a type change Iceberg cannot promote) is deleted and added again, so it gets a new
    field id; its rows are rewritten in the same commit (see the module doc). The name mapping follows.
    """
    arrow = arrow_schema(columns)
    before = tx.table_metadata.schema()
    replaced = _unpromotable(before, _iceberg_schema(arrow))
    kept = arrow_schema([(n, t) for n, t in columns if n not in replaced])
    with tx.update_schema() as update:
        update.union_by_name(kept)
        for name in replaced:
            update.delete_column(name)
        wanted = _iceberg_schema(arrow)
        for name in replaced:
            update.add_column(name, wanted.find_field(name).field_type)
    after = tx.table_metadata.schema()
    if after != before:
        tx.set_properties(**{NAME_MAPPING: after.name_mapping.model_dump_json()})


def data_file(table: Any, path: Path, where: Path) -> Any:
    """An Iceberg DataFile for one of the table's Parquet files: metrics from its footer, partition from its folders."""
    import pyarrow.parquet as pq

    return tables.typed_data_file(
        table,
        iceberg.file_uri(path),
        path.stat().st_size,
        pq.read_metadata(path),
        path.parent.relative_to(where).parts,
    )


def commit(
    layout: LakeLayout,
    name: str,
    columns: list[tuple[str, str]],
    keys: list[str],
    ingest_id: str,
    files: list[Path],
    summary: dict[str, str],
    remove: Callable[[Any], list[Any]] | None = None,
    existing: Callable[[], list[Path]] | None = None,
) -> bool:
    """Commit one ingest's files in one snapshot, with the schema change they need, in one catalog commit.

    Retried as `iceberg_tables.commit_retrying` is (`iceberg_tables.commit_with_schema`); whether it committed.

    Repeatable: a table already holding the ingest's snapshot is left alone. remove(table): the current
    DataFiles the ingest replaces (overwrite, merge, a rewrite); the snapshot is then an overwrite, which
    pyiceberg validates against files other writers added meanwhile. existing(): the table's files
    published before the lake had Iceberg tables, registered once in a snapshot of their own (the
    migration) when the table has none yet.
    """
    catalog = iceberg.open_catalog(layout)
    where = location(layout, name)
    table = load(catalog, layout, name) or create(catalog, layout, name, columns, keys)
    if ingest_id in tables.committed_runs(table):
        return False
    if table.current_snapshot() is None and existing is not None:
        old = [data_file(table, path, where) for path in existing()]
        if old:
            tables.commit_files(table, old, [], {MIGRATED: "true"}, replace=False)

    def changes(table: Any, staged: Any) -> tuple[list[Any], list[Any]]:
        return [data_file(staged, p, where) for p in files], (remove(table) if remove else [])

    return tables.commit_with_schema(
        lambda: load(catalog, layout, name),
        ingest_id,
        lambda tx: evolve(tx, columns),
        changes,
        {**summary, RUN_ID: ingest_id},
        replace=remove is not None,
    )


def committed(layout: LakeLayout, name: str, ingest_id: str) -> bool:
    """Whether the table holds the ingest's snapshot: the ingest's commit point."""
    if not iceberg.catalog_file(layout).is_file():
        return False
    table = load(iceberg.open_reader(layout), layout, name)
    return table is not None and ingest_id in tables.committed_runs(table)


def current_data_files(table: Any) -> list[Any]:
    return tables.current_data_files(table)


def local_paths(data_files: Iterable[Any]) -> list[Path]:
    from urllib.parse import unquote, urlparse

    return sorted(Path(unquote(urlparse(f.file_path).path)) for f in data_files)


def snapshot_files(table: Any, snapshot_id: int | None = None) -> list[Path]:
    """The local paths of a snapshot's data files (the current one by default; none before the first)."""
    if table.current_snapshot() is None:
        return []
    scan = table.scan(snapshot_id=snapshot_id) if snapshot_id is not None else table.scan()
    return local_paths(task.file for task in scan.plan_files())


def _snapshot_of(table: Any, ingest_id: str) -> Any:
    snapshots = table.metadata.snapshots if table is not None else []
    return next((s for s in snapshots if s.summary and s.summary.additional_properties.get(RUN_ID) == ingest_id), None)


def snapshot_id_of(layout: LakeLayout, name: str, ingest_id: str) -> int | None:
    """The id of the table's snapshot of this ingest (None: the ingest committed no file)."""
    snap = _snapshot_of(load(iceberg.open_reader(layout), layout, name), ingest_id)
    return snap.snapshot_id if snap is not None else None


def ingest_snapshot_files(layout: LakeLayout, name: str, ingest_id: str) -> list[Path]:
    """The table's files as the ingest's snapshot left them (what the warehouse is loaded with after a rewrite)."""
    table = load(iceberg.open_reader(layout), layout, name)
    snap = _snapshot_of(table, ingest_id)
    if snap is None:
        raise DatalakeError(f"table {name} has no snapshot of ingest {ingest_id}")
    return snapshot_files(table, snap.snapshot_id)


def current_files(layout: LakeLayout, names: Iterable[str], at_ms: int | None = None) -> dict[str, list[Path]]:
    """Each ingested table's files in its current snapshot (or the last one committed by `at_ms`).

    Tables without an Iceberg snapshot are left out: the caller lists their folders as before (a table
    ingested before the lake had Iceberg tables, until its next ingest); with `at_ms`, so are tables
    without one by then (they did not exist yet). No catalog at all: {}.
    """
    names = list(names)
    if not names or not iceberg.catalog_file(layout).is_file():
        return {}
    if at_ms is None:  # the current snapshots, read as the query path reads run-etl's (no pyiceberg import)
        from datalake.targets.local import iceberg_read

        try:
            current = iceberg_read.current_tables(
                iceberg.catalog_file(layout), iceberg.CATALOG_NAME, iceberg.NAMESPACE, names
            )
            return {
                name: sorted(iceberg_read.local_path(uri) for uri in iceberg_read.snapshot_files(snapshot))
                for name, metadata in current.items()
                if (snapshot := iceberg_read.current_snapshot(metadata)) is not None
            }
        except iceberg_read.Unsupported:
            pass
    catalog = iceberg.open_reader(layout)
    found: dict[str, list[Path]] = {}
    for name in names:
        table = load(catalog, layout, name)
        if table is None or table.current_snapshot() is None:
            continue
        if at_ms is None:
            found[name] = snapshot_files(table)
            continue
        snap = tables.snapshot_of_run(table, None, at_ms)
        if snap is not None:  # a table with nothing by then is left out, as it did not exist
            found[name] = snapshot_files(table, snap.snapshot_id)
    return found
