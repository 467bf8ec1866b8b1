"""ingest: bring your own CSV, JSON or Parquet into the lake, crawled, partitioned and queryable.

For each new file (sha256 not seen before for the table) the steps are: infer its schema
(`datalake.targets.local.ingest.inference`), merge it into the table's schema (new columns are added as nullable;
a widening such as BIGINT -> DECIMAL -> DOUBLE or DATE -> TIMESTAMP is accepted; any other change
is refused before anything is written), copy it into `raw/<table>/ingest_date=YYYY-MM-DD/`,
convert it with DuckDB (streamed, bounded memory) to zstd Parquet in `processed/<table>/`,
Hive-partitioned by `--partition-by`, commit the files to the table's Iceberg table
(`datalake.targets.local.ingest.tables`) in one snapshot, register `raw.<table>` and
`processed.<table>` in the catalog and load the rows into the warehouse table `<table>`.

`--mode` says what becomes of the rows the table holds: `append` keeps them; `overwrite` replaces them
(the snapshot removes every current file); `merge --key COL[,COL]` upserts: the files holding a key of
the batch are rewritten without those rows, beside the batch's rows, and the snapshot swaps them in
(one overwrite commit, files without a matched key untouched). A widening Iceberg cannot promote is
a rewrite of every row in the new type, in the same snapshot. The warehouse table follows in one load:
the new rows appended, or after a rewrite the table's whole new snapshot in place of its rows.

It publishes through the same machine as run-etl (`datalake.targets.local.journal`): everything
is staged under `_state/ingest/staging/<id>/`; a journal (`_state/ingest/runs/<id>.json`) lists the
staged files (status "committing"); then the files are renamed into place and committed to the
Iceberg table: **the table's snapshot carrying the ingest id is the commit point**. An ingest killed
before it is rolled back by the next one (`settle`: the files it moved are deleted), after it rolled
forward (manifest, catalog, and the warehouse load, one transaction recorded in `_ingest_loads`).
Staging lives apart from run-etl's `_state/staging/`, whose recovery deletes folders it does not know.

The per-table manifest (`_state/ingest/<table>.json`) holds the merged schema, the partition spec
and, per ingested file, its hash and the exact reader options inference found, so the `raw`
query engine reads the raw copies exactly as the conversion did (replaying merges).
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import quote_ident, sql_list, sql_string
from datalake.domain.iceberg_tables import RUN_ID
from datalake.errors import InputError, UsageError
from datalake.fsutil import atomic_write_json, read_json
from datalake.layout import LakeLayout
from datalake.model import IngestOptions, IngestResult
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.local import duckdb_resources, warehouse
from datalake.targets.local.catalog import Catalog, CatalogColumn, Partition, Table, parquet_rows
from datalake.targets.local.crawler import (
    PROCESSED_DATABASE,
    RAW_DATABASE,
    glue_type,
    group_partitions,
    list_data_files,
)
from datalake.targets.local.ingest import tables as ingest_tables
from datalake.targets.local.ingest.inference import (
    FileScan,
    FileSchema,
    detect_format,
    infer_file,
    scan_file,
    select_sql,
)
from datalake.targets.local.journal import Journal
from datalake.targets.local.lock import lake_lock

INGEST_SOURCE = "datalake-ingest"
GRAINS = ("year", "month", "day")
# names the built-in sales pipeline owns (raw folders, catalog tables, warehouse tables)
RESERVED = {"sales", "sales_fact", "sales_fact_redshift", "sales_quarantine", "customers", "products", "stores"}
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARTITION_SPEC = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::(year|month|day))?$")
_INTS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
_FLOATS = ("FLOAT", "DOUBLE")
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
PARQUET_FILE_SIZE = "256MB"


@dataclass(frozen=True)
class PartitionSpec:
    column: str
    grain: str | None = None  # None: partition by the column's values

    @classmethod
    def parse(cls, text: str) -> PartitionSpec:
        match = _PARTITION_SPEC.match(text.strip())
        if not match:
            raise UsageError(
                f"bad --partition-by {text!r}", hint="use COLUMN or COLUMN:year|month|day, e.g. order_date:month"
            )
        return cls(match.group(1).lower(), match.group(2))

    def __str__(self) -> str:
        return f"{self.column}:{self.grain}" if self.grain else self.column

    @property
    def keys(self) -> list[str]:
        """The Hive partition columns, in folder order."""
        if self.grain is None:
            return [self.column]
        return list(GRAINS[: GRAINS.index(self.grain) + 1])


# --------------------------------------------------------------------------- paths


def _root(layout: LakeLayout) -> Path:
    return layout.state / "ingest"


def manifest_path(layout: LakeLayout, table: str) -> Path:
    return _root(layout) / f"{table}.json"


def load_manifest(layout: LakeLayout, table: str) -> dict[str, Any] | None:
    data: dict[str, Any] | None = read_json(manifest_path(layout, table))
    return data


def ingested_tables(layout: LakeLayout) -> list[dict[str, Any]]:
    """Manifests of the tables the catalog lists as ingested (what the query engines expose)."""
    out = []
    for table in Catalog(layout.catalog_dir).tables(PROCESSED_DATABASE):
        if table.parameters.get("source") == INGEST_SOURCE:
            manifest = load_manifest(layout, table.name)
            if manifest:
                out.append(manifest)
    return out


# --------------------------------------------------------------------------- schema merge


def _decimal(t: str) -> tuple[int, int] | None:
    m = _DECIMAL.match(t)
    return (int(m.group(1)), int(m.group(2))) if m else None


def widen(old: str, new: str) -> str | None:
    """The type holding both, or None when the change is not a widening (e.g. number -> text)."""
    if old == new:
        return old
    if old in _INTS and new in _INTS:
        return "BIGINT"
    od, nd = _decimal(old), _decimal(new)
    numeric = lambda t: t in _INTS or t in _FLOATS or _decimal(t) is not None  # noqa: E731
    if numeric(old) and numeric(new):
        if old in _FLOATS or new in _FLOATS:
            return "DOUBLE"
        if od and nd:
            scale = max(od[1], nd[1])
            digits = max(od[0] - od[1], nd[0] - nd[1])
        else:
            scale = (od or nd or (0, 0))[1]
            digits = max(19, ((od or nd or (0, 0))[0] - scale))
        precision = digits + scale  # DuckDB's two storage tiers, as inference chooses them
        return f"DECIMAL(18,{scale})" if precision <= 18 else f"DECIMAL(38,{scale})" if precision <= 38 else "DOUBLE"
    if {old, new} == {"DATE", "TIMESTAMP"}:
        return "TIMESTAMP"
    return None


def merge_schema(
    table: str, columns: list[dict[str, Any]], schema: FileSchema, file_label: str
) -> tuple[list[dict[str, Any]], list[str], list[dict[str, str]]]:
    """Merge one file's columns into the table's: (columns, added, widened). Refuses incompatible changes."""
    merged = [dict(c) for c in columns]
    by_name = {c["name"]: c for c in merged}
    added: list[str] = []
    widened: list[dict[str, str]] = []
    for col in schema.columns:
        current = by_name.get(col.name)
        if current is None:
            entry = {"name": col.name, "type": col.type, "empty": col.empty}
            merged.append(entry)
            by_name[col.name] = entry
            if columns:
                added.append(col.name)
            continue
        if col.empty or current["type"] == col.type:
            continue
        if current["empty"]:
            widened.append({"column": col.name, "from": "(empty)", "to": col.type, "file": file_label})
            current.update(type=col.type, empty=False)
            continue
        wider = widen(current["type"], col.type)
        if wider is None:
            raise InputError(
                f"{file_label}: column {col.name!r} is {col.type} in this file but {current['type']} in table "
                f"{table!r}; nothing was ingested",
                hint="fix or rename the column in the file, or ingest it into another --table",
            )
        if wider != current["type"]:
            widened.append({"column": col.name, "from": current["type"], "to": wider, "file": file_label})
            current["type"] = wider
    return merged, added, widened


def table_columns(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """Every column of the table as engines show it: data columns, then derived partition columns."""
    cols = [(c["name"], c["type"]) for c in manifest["columns"]]
    spec = PartitionSpec.parse(manifest["partition_by"]) if manifest.get("partition_by") else None
    if spec and spec.grain:
        cols += [(k, "INTEGER") for k in spec.keys]
    return cols


def _hive_types(manifest: dict[str, Any]) -> str | None:
    if not manifest.get("partition_by"):
        return None
    spec = PartitionSpec.parse(manifest["partition_by"])
    types = dict(table_columns(manifest))
    return "{" + ", ".join(f"{sql_string(k)}: {sql_string(types[k])}" for k in spec.keys) + "}"


def _no_rows_sql(manifest: dict[str, Any]) -> str:
    """The table's columns and no rows: what the views show before the table has any files."""
    cols = table_columns(manifest)
    return "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {quote_ident(n)}" for n, t in cols) + " WHERE false"


def _processed_sql(manifest: dict[str, Any], files: list[Path], filename: bool = False) -> str:
    """Processed Parquet files read as the table, every column cast to the table's (possibly widened) type.

    A column none of the files holds (added after they were written) reads NULL, as Iceberg reads it.
    """
    cols = table_columns(manifest)
    hive = _hive_types(manifest)
    keys = set(PartitionSpec.parse(manifest["partition_by"]).keys) if manifest.get("partition_by") else set()
    present = _file_columns(files) | keys
    options = f", hive_partitioning = true, hive_types = {hive}" if hive else ", hive_partitioning = false"
    options += ", filename = true" if filename else ""
    select = ", ".join(
        f"CAST({quote_ident(n) if n in present else 'NULL'} AS {t}) AS {quote_ident(n)}" for n, t in cols
    )
    select += ", filename" if filename else ""
    return f"SELECT {select} FROM read_parquet({sql_list(files)}, union_by_name = true{options})"


def _file_columns(files: list[Path]) -> set[str]:
    import pyarrow.parquet as pq

    return {name for path in files for name in pq.read_schema(path).names}


def lake_view_sql(layout: LakeLayout, manifest: dict[str, Any], files: list[Path] | None = None) -> str:
    """The table over its processed Parquet, every column cast to the table's (possibly widened) type.

    files: the table's files in its current Iceberg snapshot (`tables.current_files`), or for a table
    not yet in the catalog its published files (`engines.published_files`); default: every file in its folder.
    """
    if files is None:
        files = [f.path for f in list_data_files(layout.processed, "processed", manifest["table"])]
    return _processed_sql(manifest, files) if files else _no_rows_sql(manifest)


def _derived(manifest: dict[str, Any]) -> str:
    spec = PartitionSpec.parse(manifest["partition_by"]) if manifest.get("partition_by") else None
    if not spec or not spec.grain:
        return ""
    return "".join(f", CAST({k}({quote_ident(spec.column)}) AS INTEGER) AS {k}" for k in spec.keys)


def raw_view_sql(layout: LakeLayout, manifest: dict[str, Any]) -> str:
    """The table read from its raw copies with the reader options inference found for each file.

    Merges are replayed: a row is hidden by any later merge whose batch holds its key (an overwrite
    needs nothing: its manifest names only its own raw copies).
    """
    data_cols = [(c["name"], c["type"]) for c in manifest["columns"]]
    order: dict[str, int] = {}
    parts = []
    # in ingest order: the manifest's entries are keyed by hash, and ingest ids made in one second do not sort
    for entry in sorted(manifest["files"].values(), key=lambda e: (e.get("seq", -1), e.get("ingest_id", ""))):
        seq = order.setdefault(entry.get("ingest_id", ""), len(order))
        schema = FileSchema.from_dict(entry["schema"])
        select = select_sql(layout.root / entry["raw"], schema, data_cols)
        parts.append(f"SELECT *{_derived(manifest)}, {seq} AS _seq FROM ({select})")
    if not parts:
        return _no_rows_sql(manifest)
    merges = {
        order[e["ingest_id"]]: e["key"] for e in manifest["files"].values() if e.get("mode") == "merge" and e.get("key")
    }
    hidden = [
        f"NOT EXISTS (SELECT 1 FROM _rows m WHERE m._seq = {seq} AND r._seq < {seq} AND "
        + " AND ".join(f"m.{quote_ident(k)} = r.{quote_ident(k)}" for k in keys)
        + ")"
        for seq, keys in merges.items()
    ]
    where = f" WHERE {' AND '.join(hidden)}" if hidden else ""
    union = "\nUNION ALL\n".join(parts)
    return f"WITH _rows AS ({union}) SELECT * EXCLUDE (_seq) FROM _rows r{where}"


# --------------------------------------------------------------------------- input checks


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and not any(part.startswith(".") for part in q.parts))
            if not found:
                raise InputError(f"{p}: the folder holds no files", hint="pass files or a folder with data files")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file", hint="check the path")
    return files


def _check_table_name(table: str) -> None:
    if not _TABLE.match(table):
        raise UsageError(
            f"bad --table {table!r}", hint="use lower-case letters, digits and _ (starting with a letter or _)"
        )
    if table in RESERVED:
        raise UsageError(f"--table {table!r} belongs to the built-in sales pipeline", hint="choose another name")


def _check_partition(spec: PartitionSpec, columns: list[dict[str, Any]]) -> None:
    types = {c["name"]: c["type"] for c in columns}
    if spec.column not in types:
        raise UsageError(
            f"--partition-by column {spec.column!r} is not in the data",
            hint=f"choose one of: {', '.join(types)}",
        )
    if spec.grain:
        if types[spec.column] not in ("DATE", "TIMESTAMP"):
            raise UsageError(
                f"--partition-by {spec}: {spec.column!r} is {types[spec.column]}, not a date or timestamp",
                hint="drop the :year/:month/:day suffix to partition by the column's values",
            )
        clash = [k for k in spec.keys if k in types]
        if clash:
            raise UsageError(
                f"--partition-by {spec} would add column(s) {', '.join(clash)} that the data already has",
                hint=f"partition by the existing column instead, e.g. --partition-by {clash[0]}",
            )
    elif types[spec.column].endswith("]") or types[spec.column].startswith(("STRUCT", "MAP")):
        raise UsageError(f"--partition-by column {spec.column!r} is nested ({types[spec.column]})")


# --------------------------------------------------------------------------- journal and publish


def ingest_journal(layout: LakeLayout) -> Journal:
    """ingest's journals (`_state/ingest/runs/<id>.json`) and staging folders (`_state/ingest/staging/<id>/`).

    Unlike run-etl's, recovery does not compare it with the warehouse's `_ingest_loads`, so a lost
    warehouse does not get its ingested tables back (passing `loaded` would do it).
    """
    return Journal(
        root=layout.root,
        runs=_root(layout) / "runs",
        staging=_root(layout) / "staging",
        key="ingest_id",
        label="ingest ",
        publish=lambda journal: _bookkeep(layout, journal),
        load=lambda journal: _load_table(layout, journal),
    )


def _register(layout: LakeLayout, manifest: dict[str, Any], current: list[Path]) -> tuple[int, int]:
    """Write raw.<table> and processed.<table> into the catalog; (rows, partitions).

    current: the table's files in its current Iceberg snapshot (files of older snapshots stay on disk
    for time travel, and are not the table's).
    """
    catalog = Catalog(layout.catalog_dir)
    catalog.create_database(RAW_DATABASE)
    catalog.create_database(PROCESSED_DATABASE)
    name = manifest["table"]
    spec = PartitionSpec.parse(manifest["partition_by"]) if manifest.get("partition_by") else None
    types = dict(table_columns(manifest))

    def glue(t: str) -> str:
        return t.lower() if t.startswith(("STRUCT", "MAP")) or t.endswith("]") else glue_type(t)

    raw_parts: dict[str, Partition] = {}
    for entry in manifest["files"].values():
        path = layout.root / entry["raw"]
        part = raw_parts.setdefault(str(path.parent), Partition([path.parent.name.split("=", 1)[1]], ""))
        part.location = str(path.parent.relative_to(layout.root))
        part.files += 1
        part.bytes += entry["size"]
        if entry["format"] not in part.formats:
            part.formats.append(entry["format"])
    rows = sum(e["rows"] for e in manifest["files"].values())
    formats = sorted({e["format"] for e in manifest["files"].values()})
    data_cols = [CatalogColumn(c["name"], glue(c["type"])) for c in manifest["columns"]]
    catalog.put(
        Table(
            database=RAW_DATABASE,
            name=name,
            location=f"raw/{name}",
            classification="+".join(formats),
            columns=data_cols,
            partition_keys=[CatalogColumn("ingest_date", "string")],
            partitions=[raw_parts[k] for k in sorted(raw_parts)],
            parameters={"crawler": INGEST_SOURCE, "recordCount": rows},
        )
    )
    wanted = set(current)
    files = [f for f in list_data_files(layout.processed, "processed", name) if f.path in wanted]
    parts = group_partitions(files, layout.root)
    keys = spec.keys if spec else []
    processed_rows = parquet_rows(f.path for f in files)
    catalog.put(
        Table(
            database=PROCESSED_DATABASE,
            name=name,
            location=f"processed/{name}",
            classification="parquet",
            columns=[c for c in data_cols if c.name not in keys],
            partition_keys=[CatalogColumn(k, glue(types[k])) for k in keys],
            partitions=[parts[k] for k in sorted(parts)],
            parameters={
                "recordCount": processed_rows,
                "compression": "zstd",
                "source": INGEST_SOURCE,
                "partition_by": manifest.get("partition_by"),
                "files": len(files),
                "bytes": sum(f.size for f in files),
            },
        )
    )
    return processed_rows, len(parts)


def _bookkeep(layout: LakeLayout, journal: dict[str, Any]) -> None:
    """What publishing an ingest does once its files are in place: the Iceberg commit, the manifest, the catalog.

    The table's snapshot carrying the ingest id is the ingest's commit point (see `settle`); the manifest
    and the catalog follow it, so a reader of either never names a file the table does not hold.
    """
    _commit_iceberg(layout, journal)
    atomic_write_json(manifest_path(layout, journal["table"]), journal["manifest"])
    current = ingest_tables.current_files(layout, [journal["table"]]).get(journal["table"], [])
    _register(layout, journal["manifest"], current)


def _processed_moves(journal: dict[str, Any]) -> list[str]:
    return [rel for rel in journal.get("moves", []) if rel.startswith(f"processed/{journal['table']}/")]


def _commit_iceberg(layout: LakeLayout, journal: dict[str, Any]) -> bool:
    """Commit the ingest's files to its Iceberg table in one snapshot (repeatable); whether it committed."""
    manifest, table = journal["manifest"], journal["table"]
    files = [layout.root / rel for rel in _processed_moves(journal)]
    spec = PartitionSpec.parse(manifest["partition_by"]) if manifest.get("partition_by") else None
    replaced = {layout.root / rel for rel in journal.get("replaces", [])}
    mode = journal.get("mode", "append")

    def remove(iceberg_table: Any) -> list[Any]:
        current = ingest_tables.current_data_files(iceberg_table)
        if mode == "overwrite":
            return current
        return [f for f in current if ingest_tables.local_paths([f])[0] in replaced]

    def existing() -> list[Path]:  # files ingested before the lake had Iceberg tables: registered once
        own = set(files)
        return [f.path for f in list_data_files(layout.processed, "processed", table) if f.path not in own]

    return ingest_tables.commit(
        layout,
        table,
        table_columns(manifest),
        spec.keys if spec else [],
        journal["ingest_id"],
        files,
        {**journal.get("summary", {}), RUN_ID: journal["ingest_id"]},
        remove=remove if (mode == "overwrite" or replaced) else None,
        existing=existing,
    )


def settle(layout: LakeLayout, runs: Journal) -> list[str]:
    """Roll back the ingests killed before their Iceberg snapshot, so that recovery rolls forward only the others.

    An ingest journaled "committing" has its files moved into place (or on their way) and then commits
    them; the table's snapshot with its id is the commit point. Without it, the files in place are
    deleted and the ingest is abandoned; with it, `Journal.recover` finishes the publish and the load.
    An ingest with nothing to commit (no processed file, nothing replaced) is rolled forward.
    """
    done = []
    for record in runs.records():
        if record["status"] != "committing" or not (_processed_moves(record) or record.get("replaces")):
            continue
        if ingest_tables.committed(layout, record["table"], record["ingest_id"]):
            continue
        for rel in record.get("moves", []):
            (layout.root / rel).unlink(missing_ok=True)
        runs.abandon(record)
        done.append(f"ingest {record['ingest_id']}: rolled back (interrupted before its Iceberg commit)")
    return done


# ingest's publish and load steps, named at module level so a crash test can interrupt an ingest inside either
def _publish(layout: LakeLayout, journal: dict[str, Any]) -> None:
    """Roll a committed ingest forward: files into place, manifest, catalog. Repeatable."""
    ingest_journal(layout).publish(journal)


def _load_table(layout: LakeLayout, journal: dict[str, Any]) -> int:
    """Load the ingest into the warehouse table: its new rows, or after a rewrite the table's whole new snapshot."""
    table, manifest = journal["table"], journal["manifest"]
    replace = journal.get("mode", "append") != "append" or bool(journal.get("replaces"))
    if replace:
        files = ingest_tables.ingest_snapshot_files(layout, table, journal["ingest_id"])
    else:
        files = [layout.root / rel for rel in _processed_moves(journal)]
    select = _processed_sql(manifest, files) if files else None
    return warehouse.load_table(layout, journal["ingest_id"], table, table_columns(manifest), select, replace=replace)


def _load_warehouse(layout: LakeLayout, journal: dict[str, Any]) -> int:
    """Append the ingest's Parquet files to the warehouse table in one transaction, once."""
    return ingest_journal(layout).load(journal)


# --------------------------------------------------------------------------- ingest


def _raw_name(layout: LakeLayout, staging: Path, folder: str, source: Path, sha: str, taken: set[str]) -> str:
    """raw/<table>/ingest_date=D/<file name>, suffixed with the hash when that name is taken."""
    rel = f"{folder}/{source.name}"
    if rel in taken or (layout.root / rel).exists() or (staging / rel).exists():
        rel = f"{folder}/{source.stem}-{sha[:12]}{source.suffix}"
    taken.add(rel)
    return rel


def _connect(layout: LakeLayout, scratch: Path) -> Any:
    con = duckdb_resources.connect(scratch)
    con.execute("SET preserve_insertion_order = false")
    return con


def ingest(layout: LakeLayout, opts: IngestOptions, progress: Progress = NULL_PROGRESS) -> IngestResult:
    """Ingest files into a table; see the module docstring for the steps and guarantees."""
    from datalake.targets.local.etl.run import require_lake

    began = time.perf_counter()
    require_lake(layout)
    table = opts.table
    _check_table_name(table)
    spec = PartitionSpec.parse(opts.partition_by) if opts.partition_by else None
    mode, keys = check_mode(opts.mode, opts.key)
    files = _expand(opts.paths)
    formats = {p: detect_format(p, opts.format) for p in files}
    result = IngestResult(table=table, ingest_id=None, status="nothing_to_do", mode=mode, key=keys)

    with lake_lock(layout, opts.wait, purpose=f"ingest {table}") as held:
        runs = ingest_journal(layout)
        result.recovered = [line for line in [held.took_over_line()] if line] + settle(layout, runs) + runs.recover()
        manifest = _table_manifest(layout, table, spec)
        before = manifest
        result.partition_by = manifest["partition_by"]

        ingest_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        scratch = layout.scratch / f"ingest-{ingest_id}"
        con = _connect(layout, scratch)
        try:
            # 1. hash, skip known content, infer, merge: all before anything is written
            # (an overwrite replaces the table's rows: content it held before is not "already ingested")
            known = {**manifest, "files": {}} if mode == "overwrite" else manifest
            new, columns = _scan(con, known, files, formats, opts.flatten, result, progress)
            if not new:
                result.columns = [{"name": n, "type": t} for n, t in table_columns(manifest)] if columns else []
                result.seconds = round(time.perf_counter() - began, 3)
                return result
            manifest = {**manifest, "columns": columns}
            if manifest["partition_by"]:
                _check_partition(PartitionSpec.parse(manifest["partition_by"]), columns)
            _check_keys(table, keys, columns)
            plan = _plan(layout, before, manifest, mode, keys)

            # 2. stage the raw copies and the Parquet
            result.ingest_id, result.status = ingest_id, "ingested"
            journal = runs.begin(
                {
                    "ingest_id": ingest_id,
                    "table": table,
                    "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "files": [str(p) for p, _, _ in new],
                }
            )
            day = (opts.today or datetime.now(UTC).date()).isoformat()
            entries = _stage(con, layout, runs, journal, manifest, new, day, result, progress, plan)
        finally:
            con.close()
            shutil.rmtree(scratch, ignore_errors=True)

        # 3. journal the moves, move, commit the Iceberg snapshot (the commit point), publish, load
        summary = tables_summary(result)
        runs.commit(journal, manifest=manifest, mode=mode, replaces=plan.replaces_rel(layout), summary=summary)
        _publish(layout, journal)
        result.warehouse_rows_loaded = _load_warehouse(layout, journal)

    _account(layout, result, journal, manifest, entries)
    result.seconds = round(time.perf_counter() - began, 3)
    return result


def _table_manifest(layout: LakeLayout, table: str, spec: PartitionSpec | None) -> dict[str, Any]:
    """The table's manifest (a new, empty one for a new table); a table keeps the partitioning it was made with."""
    manifest = load_manifest(layout, table) or {"table": table, "partition_by": None, "columns": [], "files": {}}
    if manifest["files"] and spec and str(spec) != manifest.get("partition_by"):
        raise UsageError(
            f"table {table!r} is partitioned by {manifest.get('partition_by') or 'nothing'}, not {spec}",
            hint="leave out --partition-by to keep the table's partitioning",
        )
    if not manifest["files"]:
        manifest["partition_by"] = str(spec) if spec else None
    return manifest


def _scan(
    con: Any,
    manifest: dict[str, Any],
    files: list[Path],
    formats: dict[Path, str],
    flatten: bool,
    result: IngestResult,
    progress: Progress,
) -> tuple[list[tuple[Path, FileScan, FileSchema]], list[dict[str, Any]]]:
    """Hash every file, skip content the table (or this batch) has, infer and merge the rest: (new, columns).

    Runs before anything is written, so a file whose schema cannot merge stops the ingest with the lake untouched.
    """
    new: list[tuple[Path, FileScan, FileSchema]] = []
    seen: dict[str, str] = {}
    columns = manifest["columns"]
    with progress.task(f"Inferring {len(files)} file(s)", total=len(files)) as task:
        for path in files:
            scan = scan_file(path)
            if scan.sha256 in manifest["files"]:
                known = manifest["files"][scan.sha256]
                result.skipped.append({"file": str(path), "reason": f"already ingested as {known['raw']}"})
            elif scan.sha256 in seen:
                result.skipped.append({"file": str(path), "reason": f"same content as {seen[scan.sha256]}"})
            else:
                seen[scan.sha256] = str(path)
                schema = infer_file(con, path, formats[path], scan, flatten)
                columns, added, widened = merge_schema(manifest["table"], columns, schema, str(path))
                result.new_columns += [c for c in added if c not in result.new_columns]
                result.widened += widened
                new.append((path, scan, schema))
            task.advance()
    return new, columns


def _stage(
    con: Any,
    layout: LakeLayout,
    runs: Journal,
    journal: dict[str, Any],
    manifest: dict[str, Any],
    new: list[tuple[Path, FileScan, FileSchema]],
    day: str,
    result: IngestResult,
    progress: Progress,
    plan: Plan,
) -> dict[str, dict[str, Any]]:
    """Stage the raw copies and their Parquet, adding the new files to the manifest; the manifest entries.

    A raw copy keeps its file's name (suffixed with its hash when the name is taken), and its manifest
    entry holds what inference found, to read it again as the conversion did. Any failure drops what
    was staged and journals the ingest abandoned; a DuckDB error while converting is the input's fault
    as far as the user can tell, and is reported as such.
    """
    table, ingest_id = manifest["table"], journal["ingest_id"]
    staging = runs.staging(ingest_id)
    folder = f"raw/{table}/ingest_date={day}"
    try:
        taken: set[str] = set()
        entries: dict[str, dict[str, Any]] = {}
        seq = 1 + max((e.get("seq", -1) for e in manifest["files"].values()), default=-1)
        with progress.task("Copying into raw", total=len(new)) as task:
            for path, scan, schema in new:
                rel = _raw_name(layout, staging, folder, path, scan.sha256, taken)
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, staging / rel)
                entries[scan.sha256] = {
                    "source": str(path),
                    "raw": rel,
                    "format": schema.format,
                    "size": scan.size,
                    "rows": schema.rows,
                    "ingest_id": ingest_id,
                    "seq": seq,  # the ingest's place in the table's history
                    "schema": schema.to_dict(),
                } | ({"mode": "merge", "key": plan.keys} if plan.mode == "merge" else {})
                result.files.append(
                    {"file": str(path), "raw": rel, "format": schema.format, "rows": schema.rows}
                    | ({"notes": schema.notes} if schema.notes else {})
                )
                task.advance()
        # an overwrite replaces the table's rows, so its raw copies are the table's only sources from now on
        manifest["files"] = entries if plan.mode == "overwrite" else {**manifest["files"], **entries}
        with progress.task("Converting to Parquet") as task:
            written = _convert(con, layout, staging, manifest, entries, ingest_id, plan, result)
            task.advance()
        expected = sum(e["rows"] for e in entries.values()) + result.rewritten_rows
        if written != expected:
            raise InputError(
                f"{table}: {written:,} rows written to Parquet but {expected:,} read; nothing was ingested",
                hint="report this as a bug with the file",
            )
        return entries
    except BaseException as exc:
        runs.abandon(journal)
        if exc.__class__.__module__.startswith(("duckdb", "_duckdb")):
            raise InputError(
                f"{table}: conversion failed, nothing was ingested ({str(exc).splitlines()[0]})",
                hint="check the files named above; --debug shows the details",
            ) from exc
        raise


def _account(
    layout: LakeLayout,
    result: IngestResult,
    journal: dict[str, Any],
    manifest: dict[str, Any],
    entries: dict[str, dict[str, Any]],
) -> None:
    """Fill the result with what the ingest read and wrote, and the table as the catalog now has it."""
    parquet = [layout.root / m for m in journal["moves"] if m.startswith("processed/")]
    result.rows = sum(e["rows"] for e in entries.values())
    result.bytes_in = sum(e["size"] for e in entries.values())
    result.bytes_out = sum(p.stat().st_size for p in parquet)
    result.parquet_files = len(parquet)
    catalog_table = Catalog(layout.catalog_dir).get(PROCESSED_DATABASE, manifest["table"])
    if catalog_table:
        result.table_rows = int(catalog_table.parameters.get("recordCount", 0))
        result.partitions = len(catalog_table.partitions)
    result.columns = [{"name": n, "type": t} for n, t in table_columns(manifest)]
    result.snapshot_id = ingest_tables.snapshot_id_of(layout, manifest["table"], journal["ingest_id"])


def _convert(
    con: Any,
    layout: LakeLayout,
    staging: Path,
    manifest: dict[str, Any],
    entries: dict[str, dict[str, Any]],
    ingest_id: str,
    plan: Plan,
    result: IngestResult,
) -> int:
    """COPY the new files (read from their staged raw copies) into staged Parquet; rows written.

    With rows the table keeps in files this ingest replaces (a merge's matched files, a rewrite), those
    rows are written again beside the new ones, so the commit can swap the old files for the new.
    """
    data_cols = [(c["name"], c["type"]) for c in manifest["columns"]]
    union = "\nUNION ALL\n".join(
        select_sql(staging / e["raw"], FileSchema.from_dict(e["schema"]), data_cols) for e in entries.values()
    )
    rows_in = sum(e["rows"] for e in entries.values())
    result.rows_inserted = rows_in
    carry = _merge(con, manifest, union, plan, result) if plan.mode == "merge" else None
    if plan.mode != "merge" and plan.replaces and plan.mode != "overwrite":  # a rewrite in a wider type
        carry = _data_select(manifest, plan.replaces)
    if plan.mode == "overwrite" and plan.current:
        result.rows_replaced = int(
            con.execute(f"SELECT count(*) FROM ({_data_select(manifest, plan.current)})").fetchone()[0]
        )
    if carry is not None:
        result.rewritten_rows = int(con.execute(f"SELECT count(*) FROM ({carry})").fetchone()[0])
        union = f"{union}\nUNION ALL\n{carry}"
    target = staging / "processed" / manifest["table"]
    target.mkdir(parents=True, exist_ok=True)
    options = (
        f"FORMAT parquet, COMPRESSION zstd, FILENAME_PATTERN 'part-{ingest_id}-{{i}}', "
        f"FILE_SIZE_BYTES '{PARQUET_FILE_SIZE}'"
    )
    spec = PartitionSpec.parse(manifest["partition_by"]) if manifest.get("partition_by") else None
    if spec:
        options += f", PARTITION_BY ({', '.join(quote_ident(k) for k in spec.keys)})"
    con.execute(f"COPY (SELECT *{_derived(manifest)} FROM ({union})) TO {sql_string(target)} ({options})")
    return parquet_rows(target.rglob("*.parquet"))


# --------------------------------------------------------------------------- modes: append, overwrite, merge

MODES = ("append", "overwrite", "merge")
SHOWN_KEYS = 5


def check_mode(mode: str, key: tuple[str, ...] | list[str]) -> tuple[str, list[str]]:
    """The mode and the merge key's columns (from `--key a,b` or repeated `--key`), or one line saying what is wrong."""
    if mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}", hint="choose append (the default), overwrite or merge")
    keys = [k.strip().lower() for part in key for k in part.split(",") if k.strip()]
    if keys and mode != "merge":
        raise UsageError(
            f"--key {','.join(keys)} is only used by --mode merge (the rows it matches on)",
            hint="add --mode merge, or leave out --key",
        )
    if mode == "merge" and not keys:
        raise UsageError("--mode merge needs --key COL[,COL]: the columns that identify a row")
    if len(set(keys)) != len(keys):
        raise UsageError(f"--key names a column twice: {','.join(keys)}")
    return mode, keys


def _check_keys(table: str, keys: list[str], columns: list[dict[str, Any]]) -> None:
    names = [c["name"] for c in columns]
    unknown = [k for k in keys if k not in names]
    if unknown:
        raise UsageError(
            f"--key column(s) {', '.join(unknown)} not in table {table!r}", hint=f"choose from: {', '.join(names)}"
        )


@dataclass
class Plan:
    """What an ingest does to the rows already in the table."""

    mode: str
    keys: list[str]
    current: list[Path]  # the table's files now (its current snapshot, or for a table not yet in Iceberg, its folder)
    replaces: list[Path]  # those the ingest's snapshot removes (overwrite: all; merge: the files with matched keys)
    rewrite: list[str]  # columns whose type change Iceberg cannot promote: every row is written again

    def replaces_rel(self, layout: LakeLayout) -> list[str]:
        return [str(p.relative_to(layout.root)) for p in self.replaces]


def _plan(layout: LakeLayout, before: dict[str, Any], manifest: dict[str, Any], mode: str, keys: list[str]) -> Plan:
    table = manifest["table"]
    current = ingest_tables.current_files(layout, [table]).get(table)
    if current is None:  # not yet an Iceberg table: its published files (registered by its first commit)
        current = [f.path for f in list_data_files(layout.processed, "processed", table)] if before["files"] else []
    rewrite = ingest_tables.type_changes(table_columns(before), table_columns(manifest)) if current else []
    spec = PartitionSpec.parse(manifest["partition_by"]) if manifest.get("partition_by") else None
    moved = [c for c in rewrite if spec and c in spec.keys]
    if moved:  # Iceberg keeps a partition field's source column: it cannot be replaced by one of another type
        raise InputError(
            f"table {table!r} is partitioned by {moved[0]}, and its type would change "
            f"({dict(table_columns(before))[moved[0]]} to {dict(table_columns(manifest))[moved[0]]}); nothing was ingested",
            hint="ingest the file into another --table, or convert the column in the file to the table's type",
        )
    replaces = list(current) if (mode == "overwrite" or rewrite) else []
    return Plan(mode, keys, current, replaces, rewrite)


def _data_select(manifest: dict[str, Any], files: list[Path], where: str = "") -> str:
    """The data columns (no derived partition columns) of the table's rows in `files`, in the table's types."""
    cols = ", ".join(quote_ident(c["name"]) for c in manifest["columns"])
    return f"SELECT {cols} FROM ({_processed_sql(manifest, files)}) {where}"


def _merge(con: Any, manifest: dict[str, Any], batch: str, plan: Plan, result: IngestResult) -> str | None:
    """Check the batch's keys and count what the merge does; the SQL of the rows kept from the files it replaces.

    Refused (one line, naming the first few): a key twice in the batch, a NULL key. The files replaced
    are those holding a key of the batch (all of them, when the table is being rewritten in a wider type);
    their other rows are written again beside the batch's rows.
    """
    keys = ", ".join(quote_ident(k) for k in plan.keys)
    nulls = " OR ".join(f"{quote_ident(k)} IS NULL" for k in plan.keys)
    con.execute(f"CREATE TEMP TABLE _batch AS {batch}")
    null_rows = con.execute(f"SELECT count(*) FROM _batch WHERE {nulls}").fetchone()[0]
    if null_rows:
        raise InputError(
            f"{manifest['table']}: {null_rows:,} row(s) have no value in the --key column(s) {', '.join(plan.keys)}; "
            "nothing was ingested",
            hint="a merge matches rows on the key: every row needs one",
        )
    dups = con.execute(
        f"SELECT {keys}, count(*) FROM _batch GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL LIMIT {SHOWN_KEYS + 1}"
    ).fetchall()
    if dups:
        shown = "; ".join(
            ", ".join(f"{k}={v!r}" for k, v in zip(plan.keys, row[:-1], strict=True)) + f" ({row[-1]}x)"
            for row in dups[:SHOWN_KEYS]
        )
        more = " and more" if len(dups) > SHOWN_KEYS else ""
        raise InputError(
            f"{manifest['table']}: the batch holds the same --key more than once: {shown}{more}; nothing was ingested",
            hint="a merge needs one row per key: deduplicate the input",
        )
    rows_in = con.execute("SELECT count(*) FROM _batch").fetchone()[0]
    if not plan.current:
        result.rows_inserted, result.rows_updated, result.rows_unchanged = rows_in, 0, 0
        return None
    con.execute(f"CREATE TEMP TABLE _current AS {_processed_sql(manifest, plan.current, filename=True)}")
    same = " AND ".join(
        f"b.{quote_ident(c['name'])} IS NOT DISTINCT FROM t.{quote_ident(c['name'])}" for c in manifest["columns"]
    )
    matched, unchanged = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {same}) FROM _batch b JOIN _current t USING ({keys})"
    ).fetchone()
    result.rows_inserted = rows_in - matched
    result.rows_updated = matched - unchanged
    result.rows_unchanged = unchanged
    if plan.rewrite:
        affected = list(plan.current)
    else:
        names = con.execute(f"SELECT DISTINCT filename FROM _current SEMI JOIN _batch USING ({keys})").fetchall()
        affected = sorted(Path(r[0]) for r in names)
    plan.replaces = affected
    if not affected:
        return None
    cols = ", ".join(quote_ident(c["name"]) for c in manifest["columns"])
    files = sql_list(affected)
    return f"SELECT {cols} FROM _current t WHERE filename IN (SELECT unnest({files})) AND NOT EXISTS (SELECT 1 FROM _batch b WHERE {' AND '.join(f'b.{quote_ident(k)} = t.{quote_ident(k)}' for k in plan.keys)})"


def tables_summary(result: IngestResult) -> dict[str, str]:
    """The ingest's snapshot summary: rows in and what became of them (the ingest id is added at the commit)."""
    return {
        "datalake.rows-in": str(result.rows_inserted + result.rows_updated + result.rows_unchanged),
        ingest_tables.MODE: result.mode,
        ingest_tables.ROWS_INSERTED: str(result.rows_inserted),
        ingest_tables.ROWS_UPDATED: str(result.rows_updated),
        ingest_tables.ROWS_UNCHANGED: str(result.rows_unchanged),
    }
