"""`datalake erase --where P` on the local lake: remove the matching rows from every zone, prove it, record it.

Under the lake lock, in this order: the Iceberg tables (each data file holding a matching row rewritten
without it, one overwrite snapshot per table carrying `datalake.erase-id`), the raw and archived landing
files (rewritten without the matching lines, atomically; the bookmark takes the new size so run-etl does
not offer the file again), the warehouse (a new generation without the rows, one pointer switch). Then
every older snapshot of a table that held matching rows is expired and every file below the table no live
snapshot needs is removed at once: under the lock no other writer's fresh file can be among them, and
the files of the expired snapshots (manifests too: their column bounds may hold the erased values) are
exactly what must go. Last, `erase.plan`'s scan runs again over every file of every zone: the rows still
matching must be 0, else the erase is not done (a non-zero exit).

Crash safety: `_state/erase.json` is written before anything changes (the erase id, the predicate's
columns, a hash of the predicate, the matching rows per zone found first, then each landing file before
it is replaced). Every step is atomic per table, file or pointer and finds its own remaining work by
scanning again, so a kill -9 anywhere leaves each zone readable and consistent, and `erase` rerun with the
same --where finishes the work. The audit record `_state/erasures/<id>.json` holds the predicate's column
names, never its values.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain import iceberg_tables as tables
from datalake.domain.duckdb_sql import sql_list, sql_string
from datalake.domain.schema import DIMENSIONS, RAW_SALES_FIELDS, SALES_FACT_COLUMNS, WAREHOUSE_FACT_TABLE
from datalake.domain.table_care import EraseResult, EraseZone
from datalake.errors import UsageError
from datalake.fsutil import atomic_write_json, read_json
from datalake.layout import LakeLayout
from datalake.targets.local import iceberg
from datalake.targets.local.erase import parse_predicate, plan, quarantine_rows_sql
from datalake.targets.local.etl.run import JOB_NAME, require_lake
from datalake.targets.local.lock import lake_lock

ERASE_ID = "datalake.erase-id"  # in the summary of an erase's overwrite snapshot
ROW_GROUP_SIZE = 122_880


def journal_file(layout: LakeLayout) -> Path:
    return layout.state / "erase.json"


def audit_dir(layout: LakeLayout) -> Path:
    return layout.state / "erasures"


def _key(zone: str, table: str) -> str:
    return f"{zone}/{table}"


def _rows(zone: EraseZone) -> int:
    """Rows a zone holds that match: a processed table's current snapshot (its files repeat them), else all."""
    return zone.current_matching if zone.zone == "processed" else zone.matching


# ---------------------------------------------------------------------------------------- entry point


def erase(layout: LakeLayout, where: str, yes: bool = False, wait: float = 0.0) -> EraseResult:
    """Remove every row matching `where` from every zone, verify none is left, write the audit record."""
    from datalake.targets.local.maintain import _refuse_unfinished_runs

    began = time.perf_counter()
    require_lake(layout)
    predicate, columns = parse_predicate(where)
    digest = hashlib.sha256(predicate.encode("utf-8")).hexdigest()
    with lake_lock(layout, wait, purpose="erase") as held:
        recovered = [line for line in [held.took_over_line()] if line]
        _refuse_unfinished_runs(layout)
        iceberg.ensure_tables(layout)  # and refuse a lake moved away from its tables
        record = read_json(journal_file(layout))
        if record is not None and record["predicate_sha256"] != digest:
            raise UsageError(
                f"erase {record['id']} (columns {', '.join(record['columns'])}) is unfinished: a kill interrupted it",
                hint="rerun `datalake erase` with the same --where to finish it first",
            )
        if record is None:
            ingested = _ingested_holding(layout, columns)
            if ingested:  # refused before anything changes: a partial erase is never reported as done
                raise UsageError(
                    f"erase cannot erase ingested tables yet, and {ingested[0].split(' ')[0]} holds "
                    f"{', '.join(columns)}: nothing was changed",
                    hint="erase the rows from that table yourself (ingest --mode overwrite), or drop it, then rerun",
                )
            found = plan(layout, where, yes)
            record = {
                "id": datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "columns": columns,
                "predicate_sha256": digest,
                "before": {_key(z.zone, z.table): _rows(z) for z in found.zones},
                "tables": [z.table for z in found.zones if z.zone in ("processed", "quarantine") and z.matching],
                "landing": {},
                "rewritten": {},
            }
            atomic_write_json(journal_file(layout), record)
        else:
            recovered.append(f"erase {record['id']}: finishing what a kill interrupted")
        result = EraseResult(where=where, columns=columns, dry_run=False, erase_id=record["id"])
        result.recovered = recovered

        _erase_tables(layout, predicate, columns, record)
        _erase_landing(layout, predicate, columns, record)
        _erase_warehouse(layout, predicate, columns, record)
        result.snapshots_expired, result.files_removed = _expire_and_remove(layout, record)

        checked = plan(layout, where, yes=True)  # the proof: every file of every zone scanned again
        result.zones = checked.zones
        result.unverified = _unscanned_segments(layout) + _ingested_holding(layout, columns)
        for zone in result.zones:
            key = _key(zone.zone, zone.table)
            zone.removed = record["before"].get(key, 0) - _rows(zone)
            zone.files_rewritten, zone.bytes_rewritten = record["rewritten"].get(key, [0, 0])
        result.snapshots = _erase_snapshots(layout, record["id"])
        for zone in result.zones:
            zone.snapshot_id = result.snapshots.get(zone.table) if zone.zone in ("processed", "quarantine") else None
        result.erased_at = datetime.now(UTC).isoformat(timespec="seconds")
        result.seconds = round(time.perf_counter() - began, 3)
        if result.ok:
            result.audit = _write_audit(layout, result, record)
            journal_file(layout).unlink(missing_ok=True)
    return result


def _save(layout: LakeLayout, record: dict[str, Any]) -> None:
    atomic_write_json(journal_file(layout), record)


def _count_rewrite(record: dict[str, Any], key: str, size: int) -> None:
    files, size_sum = record["rewritten"].get(key, [0, 0])
    record["rewritten"][key] = [files + 1, size_sum + size]


# ---------------------------------------------------------------------------------------- Iceberg tables


def _erase_tables(layout: LakeLayout, predicate: str, columns: list[str], record: dict[str, Any]) -> None:
    """Each run-etl table holding the predicate's columns: its current files with matches rewritten, one commit."""
    from datalake.domain.duckdb_sql import connect

    catalog = iceberg.open_catalog(layout)
    con = connect()
    try:
        for name, tdef in iceberg.table_defs().items():
            quarantine = name == iceberg.QUARANTINE
            needed = RAW_SALES_FIELDS if quarantine else [c.name for c in tdef.columns]
            if not set(columns) <= set(needed):
                continue
            table = iceberg.load_table(layout, name, catalog)
            current = tables.current_data_files(table)
            paths = {iceberg.local_path(f.file_path): f for f in current}
            matching = _matching_files(con, tdef, list(paths), predicate, columns)
            if matching:
                add, remove = [], []
                for n, path in enumerate(sorted(matching)):
                    new = _rewrite(con, layout, tdef, path, n, predicate, columns, record)
                    remove.append(paths[path])
                    if new is not None:
                        add.append(iceberg.data_file(table, new, iceberg.location(layout, tdef)))
                tables.commit_files(table, add, remove, {ERASE_ID: record["id"]}, replace=True)
                _save(layout, record)
            if tdef.is_dimension:
                _republish(layout, name, catalog)
    finally:
        con.close()


def _source(tdef: iceberg.TableDef, files: list[Path], columns: list[str]) -> str:
    """The table's rows in `files` with the predicate's columns (the quarantine's: its lines' fields) and `_file`."""
    from datalake.targets.local.warehouse import HIVE_TYPES

    if tdef.name == iceberg.QUARANTINE:
        return quarantine_rows_sql(files, columns)
    hive = f"hive_partitioning = true, hive_types = {HIVE_TYPES}" if tdef.name == iceberg.FACT else ""
    hive = hive or "hive_partitioning = false"
    return f"SELECT *, filename AS _file FROM read_parquet({sql_list(files)}, filename = true, {hive})"


def _matching_files(con: Any, tdef: iceberg.TableDef, files: list[Path], predicate: str, columns: list[str]) -> set:
    if not files:
        return set()
    rows = con.execute(f"SELECT DISTINCT _file FROM ({_source(tdef, files, columns)}) WHERE {predicate}").fetchall()
    return {Path(r[0]) for r in rows}


def _rewrite(
    con: Any,
    layout: LakeLayout,
    tdef: iceberg.TableDef,
    path: Path,
    n: int,
    predicate: str,
    columns: list[str],
    record: dict[str, Any],
) -> Path | None:
    """`path` without its matching rows, as a new run-named zstd file in its folder; None when no row is left."""
    if tdef.is_dimension:
        new = iceberg.location(layout, tdef) / iceberg.DIMENSION_DATA_DIR / f"{tdef.name}-erased-{record['id']}.parquet"
    else:
        new = path.parent / f"erased-{record['id']}-{n}.parquet"
    physical = [
        r[0]
        for r in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({sql_string(path)}, hive_partitioning = false)"
        ).fetchall()
    ]
    cols = ", ".join(f'"{c}"' for c in physical)
    if tdef.name == iceberg.QUARANTINE:  # a line matches on its fields: leave out the lines found matching
        matches = f"SELECT raw_record FROM ({_source(tdef, [path], columns)}) WHERE {predicate}"
        query = (
            f"SELECT {cols} FROM read_parquet({sql_string(path)}, hive_partitioning = false) "
            f"WHERE raw_record IS NULL OR raw_record NOT IN ({matches})"
        )
    else:
        query = f"SELECT {cols} FROM ({_source(tdef, [path], columns)}) WHERE NOT coalesce(({predicate}), false)"
    temporary = new.with_name(f".{new.name}.tmp")
    new.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY ({query}) TO {sql_string(temporary)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
    )
    os.replace(temporary, new)
    zone = "quarantine" if tdef.name == iceberg.QUARANTINE else "processed"
    _count_rewrite(record, _key(zone, tdef.name), path.stat().st_size)
    if not tdef.is_dimension and not con.execute(f"SELECT count(*) FROM read_parquet({sql_string(new)})").fetchone()[0]:
        new.unlink()
        return None
    return new


def _republish(layout: LakeLayout, name: str, catalog: Any) -> None:
    """A dimension's published `<dim>.parquet` made a link of its current snapshot's file again (the load reads it)."""
    files = iceberg.snapshot_files(layout, name, catalog=catalog)
    published = iceberg.location(layout, iceberg.table_defs()[name]) / f"{name}.parquet"
    if len(files) != 1 or not published.exists() or published.samefile(files[0]):
        return
    staged = published.with_name(f".{published.name}.erase.tmp")
    staged.unlink(missing_ok=True)
    os.link(files[0], staged)
    os.replace(staged, published)


def _erase_snapshots(layout: LakeLayout, erase_id: str) -> dict[str, int]:
    """The snapshots this erase committed, by table (those still live: an erase leaves only its own)."""
    catalog = iceberg.open_reader(layout)
    found = {}
    for name in iceberg.table_defs():
        table = iceberg.load_table(layout, name, catalog)
        for snap in table.metadata.snapshots:
            if snap.summary and snap.summary.additional_properties.get(ERASE_ID) == erase_id:
                found[name] = snap.snapshot_id
    return found


def _expire_and_remove(layout: LakeLayout, record: dict[str, Any]) -> tuple[dict[str, int], int]:
    """Every snapshot but the current one of the tables that held matching rows expired; their files removed."""
    from datalake.targets.local.maintain import _orphans, _remove_empty_folders

    catalog = iceberg.open_catalog(layout)
    defs = iceberg.table_defs()
    expired: dict[str, int] = {}
    removed = 0
    for name in record["tables"]:
        tdef = defs[name]
        table = iceberg.load_table(layout, name, catalog)
        older = tables.expirable_snapshots(table, int(time.time() * 1000) + 1)
        tables.expire_snapshots(table, older)
        expired[name] = len(older)
        table = iceberg.load_table(layout, name, catalog)
        where = iceberg.location(layout, tdef)
        orphans, _ = _orphans(layout, tdef, where, iceberg.referenced_paths(table), 0.0)
        for path, _size in orphans:
            path.unlink(missing_ok=True)
            removed += 1
        _remove_empty_folders(where)
    return expired, removed


# ---------------------------------------------------------------------------------------- landing files


def _erase_landing(layout: LakeLayout, predicate: str, columns: list[str], record: dict[str, Any]) -> None:
    """Raw and archived sales files, and raw dimension CSVs: each file holding a matching line rewritten without it."""
    from datalake.domain.duckdb_sql import connect
    from datalake.targets.local.crawler import list_data_files, sales_records_sql

    types = {c.name: c.type for c in SALES_FACT_COLUMNS}
    con = connect()
    try:
        if set(columns) <= set(RAW_SALES_FIELDS):
            for zone, root in (("raw", layout.raw), ("archive", layout.archive)):
                files = [f for f in list_data_files(root, zone, "sales") if f.size > 0]
                if not files:
                    continue
                by_relative = {f.relative: f for f in files}
                casts = ", ".join(f"TRY_CAST(trim(r_{c}) AS {types[c]}) AS {c}" for c in columns)
                source = (
                    f"SELECT {casts}, _source_file, _raw_record FROM ({sales_records_sql(con, layout, files, False)})"
                )
                lines: dict[str, set[str]] = {}
                for rel, line in con.execute(
                    f"SELECT _source_file, _raw_record FROM ({source}) WHERE {predicate}"
                ).fetchall():
                    lines.setdefault(rel, set()).add(line)
                for rel, matched in sorted(lines.items()):
                    f = by_relative[rel]
                    _rewrite_lines(layout, record, zone, "sales", f.path, rel, matched, header=f.format == "csv")
        for dim, dim_columns in DIMENSIONS.items():
            if not set(columns) <= {c.name for c in dim_columns}:
                continue
            for f in list_data_files(layout.raw, "raw", dim):
                matched = _matching_csv_lines(con, f.path, dim_columns, predicate)
                if matched:
                    _rewrite_lines(layout, record, "raw", dim, f.path, f.relative, matched, header=True)
    finally:
        con.close()
    _sync_bookmark(layout, record, list(record["landing"].values()))  # and a file a kill left rewritten, unbookmarked


def _matching_csv_lines(con: Any, path: Path, dim_columns: Any, predicate: str) -> set[str]:
    """The data lines of a dimension CSV whose row matches, each row parsed as its own line."""
    import csv

    import pyarrow as pa

    text = path.read_bytes().decode("utf-8", "replace").splitlines()
    if len(text) < 2:
        return set()
    header = next(csv.reader([text[0]]))
    rows = [(line, next(csv.reader([line]), [])) for line in text[1:] if line.strip()]
    data = {name: [r[1][i] if i < len(r[1]) else None for r in rows] for i, name in enumerate(header)}
    data["_line"] = [r[0] for r in rows]
    lines = pa.table({k: pa.array(v, pa.string()) for k, v in data.items()})
    con.register("_dimension_lines", lines)
    casts = ", ".join(f'TRY_CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in dim_columns if c.name in header)
    found = con.execute(f"SELECT _line FROM (SELECT {casts}, _line FROM _dimension_lines) WHERE {predicate}").fetchall()
    con.unregister("_dimension_lines")
    return {r[0] for r in found}


def _rewrite_lines(
    layout: LakeLayout,
    record: dict[str, Any],
    zone: str,
    table: str,
    path: Path,
    relative: str,
    matched: set[str],
    header: bool,
) -> None:
    """The file without the lines in `matched` (a CSV's header kept), replaced atomically; journalled first."""
    data = path.read_bytes()
    kept, removed = [], 0
    for i, line in enumerate(data.splitlines(keepends=True)):
        text = line.rstrip(b"\r\n").decode("utf-8", "replace")
        if (header and i == 0) or text not in matched:
            kept.append(line)
        else:
            removed += 1
    key = f"{zone}/{relative}"
    record["landing"][key] = {
        "path": str(path.relative_to(layout.root)),
        "zone": zone,
        "table": table,
        "relative": relative,
        "lines_removed": removed,
    }
    _save(layout, record)  # named before it changes: a rerun syncs the bookmark to whatever the file is then
    temporary = path.with_name(f".{path.name}.erase.tmp")
    with temporary.open("wb") as out:
        out.write(b"".join(kept))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    if table == "sales":  # at once: run-etl must not take the file as new (a rerun repairs a kill in between)
        _sync_bookmark(layout, record, [record["landing"][key]])
    _count_rewrite(record, _key(zone, table), len(data))
    _save(layout, record)


def _sync_bookmark(layout: LakeLayout, record: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    from datalake.targets.local.bookmark import Bookmark

    bookmark = Bookmark.load(layout, JOB_NAME)
    for entry in entries:
        path = layout.root / entry["path"]
        if entry["table"] == "sales" and path.is_file():
            bookmark.rewritten(entry["relative"], path.stat().st_size, record["id"])
    bookmark.save(layout)


# ---------------------------------------------------------------------------------------- warehouse


def _erase_warehouse(layout: LakeLayout, predicate: str, columns: list[str], record: dict[str, Any]) -> None:
    """The warehouse tables holding the predicate's columns: one new generation without the rows."""
    from datalake.targets.local import warehouse

    if warehouse.current(layout) is None:
        return
    warehouse.collect_garbage(layout)  # a killed erase's unswitched segment
    candidates = {WAREHOUSE_FACT_TABLE: [c.name for c in SALES_FACT_COLUMNS]}
    candidates.update({dim: [c.name for c in cols] for dim, cols in DIMENSIONS.items()})
    where = {t: predicate for t, cols in candidates.items() if set(columns) <= set(cols)}
    snap = warehouse.open_snapshot(layout)
    try:
        present = {r[0] for r in snap.con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        where = {t: p for t, p in where.items() if t in present}
        matching = sum(snap.con.execute(f"SELECT count(*) FROM {t} WHERE {p}").fetchone()[0] for t, p in where.items())
        size = sum(s.bytes for s in snap.generation.segments)
    finally:
        snap.con.close()
    if matching:
        warehouse.rewrite_without(layout, where, "erase")
        _count_rewrite(record, _key("warehouse", WAREHOUSE_FACT_TABLE), size)
        _save(layout, record)


def _unscanned_segments(layout: LakeLayout) -> list[str]:
    """Warehouse segment files the current generation does not name (a reader still holds them): not proven clean."""
    from datalake.targets.local import warehouse

    gen = warehouse.current(layout)
    folder = warehouse.segments_dir(layout)
    if gen is None or not folder.is_dir():
        return []
    named = {s.file for s in gen.segments}
    return [
        f"{p.relative_to(layout.root)} (an old warehouse segment a reader holds: rerun erase once it is free)"
        for p in sorted(folder.glob("*.duckdb"))
        if p.name not in named
    ]


def _ingested_holding(layout: LakeLayout, columns: list[str]) -> list[str]:
    """Ingested tables holding the predicate's columns: this version does not erase them, so it is not done."""
    from datalake.targets.local.ingest.run import ingested_tables, table_columns

    return [
        f"processed/{m['table']} (an ingested table with {', '.join(columns)}: not erased by this version)"
        for m in ingested_tables(layout)
        if set(columns) <= {name for name, _ in table_columns(m)}
    ]


# ---------------------------------------------------------------------------------------- audit


def _write_audit(layout: LakeLayout, result: EraseResult, record: dict[str, Any]) -> str:
    """`_state/erasures/<id>.json`: when, the predicate's column names, rows per zone, the snapshots; no values."""
    facts = record["before"].get(_key("processed", iceberg.FACT), 0)
    quarantined = record["before"].get(_key("quarantine", iceberg.QUARANTINE), 0)
    raw_lines = sum(
        e["lines_removed"]
        for e in record["landing"].values()
        if e["table"] == "sales" and _consumed(layout, e["relative"])
    )
    audit = {
        "erase_id": result.erase_id,
        "started_at": record["started_at"],
        "erased_at": result.erased_at,
        "columns": result.columns,
        "rows": {_key(z.zone, z.table): z.removed for z in result.zones},
        "rows_remaining": {_key(z.zone, z.table): z.matching for z in result.zones},
        "files_rewritten": {k: v[0] for k, v in record["rewritten"].items()},
        "bytes_rewritten": {k: v[1] for k, v in record["rewritten"].items()},
        "snapshots": result.snapshots,
        "snapshots_expired": result.snapshots_expired,
        "files_removed": result.files_removed,
        # rows erased from the facts and the quarantine whose raw lines the bookmark still counts (validate)
        "reconciliation_erased": facts + quarantined - raw_lines,
    }
    path = audit_dir(layout) / f"{result.erase_id}.json"
    atomic_write_json(path, audit)
    return str(path.relative_to(layout.root))


def _consumed(layout: LakeLayout, relative: str) -> bool:
    from datalake.targets.local.bookmark import Bookmark

    return relative in Bookmark.load(layout, JOB_NAME).files


def erased_rows(layout: LakeLayout) -> int:
    """Rows the erasures took from the facts and the quarantine beyond the raw lines they removed (validate)."""
    folder = audit_dir(layout)
    if not folder.is_dir():
        return 0
    return sum(int((read_json(p) or {}).get("reconciliation_erased", 0)) for p in sorted(folder.glob("*.json")))
