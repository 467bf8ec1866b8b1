"""`datalake maintain` on the local lake: compaction, snapshot expiry and orphan removal of run-etl's tables.

Every run adds one small file per month it touched to `sales_fact`; compaction rewrites a partition's small
files into files near the target size, sorted as the engines write them (`FACT_SORT_KEY`), in one overwrite
snapshot, and refuses to commit unless the table's row count and checksum are the same before and after.
Old files stay on disk while a live snapshot names them (time travel reads them); expiry drops snapshots past
the retention (never the current one), then a file below a table's location that no live snapshot needs and
that is older than the safety window is removed.

What is never removed: the published `processed/<dim>/<dim>.parquet` (readers of a lake without snapshots and
the warehouse load take it; only `_iceberg_data/` and `_iceberg/` of a dimension are looked at), and the files
of a run-etl run not yet finished (maintain refuses to start then). A kill -9 at any point leaves each table at
its old or new snapshot; files a killed maintain wrote but did not commit are removed by the next one
(`_state/maintain.json` names them).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.domain import iceberg_tables as tables
from datalake.domain.duckdb_sql import sql_list, sql_string
from datalake.domain.schema import FACT_SORT_KEY
from datalake.domain.table_care import MaintainOptions, MaintainResult, TableCheck, TableMaintenance
from datalake.errors import DatalakeError, UsageError
from datalake.fsutil import atomic_write_json
from datalake.layout import LakeLayout
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.local import iceberg
from datalake.targets.local.etl.run import journals, require_lake
from datalake.targets.local.lock import lake_lock

FINISHED_RUNS = ("loaded", "abandoned")  # a run-etl journal in any other state still needs its files
ROW_GROUP_SIZE = 122_880  # as the engines write fact files
SMALL = 0.75  # a file below this share of the target size is worth rewriting


def journal_file(layout: LakeLayout) -> Path:
    return layout.state / "maintain.json"


@dataclass
class _File:
    """A data file of the current snapshot: its DataFile, local path and size."""

    data_file: Any
    path: Path
    size: int


# ---------------------------------------------------------------------------------------- entry point


def maintain(layout: LakeLayout, opts: MaintainOptions, progress: Progress = NULL_PROGRESS) -> MaintainResult:
    """Compact, expire and remove orphans in each table (or only `opts.table`); with dry_run, change nothing.

    A dry run is a reader: it takes no lock and opens the catalog read-only.
    """
    require_lake(layout)
    defs = iceberg.table_defs()
    if opts.table is not None and opts.table not in defs:
        raise UsageError(f"no table {opts.table!r} to maintain", hint=f"choose one of: {', '.join(defs)}")
    if opts.target_file_size <= 0 or opts.expire_older_than < 0 or opts.orphan_min_age < 0:
        raise UsageError("--target-file-size must be positive, --expire-older-than and --orphan-min-age not negative")
    names = [opts.table] if opts.table else list(defs)
    began = time.perf_counter()
    result = MaintainResult(opts.dry_run, opts.target_file_size, opts.expire_older_than, opts.orphan_min_age)
    if opts.dry_run:
        catalog = iceberg.open_reader(layout)
        _refuse_unfinished_runs(layout)
        result.tables = [_table(layout, catalog, defs[n], opts, None, progress) for n in names]
    else:
        with lake_lock(layout, opts.wait, purpose="maintain") as held:
            result.recovered = [line for line in [held.took_over_line()] if line]
            result.recovered += recover(layout)
            _refuse_unfinished_runs(layout)
            iceberg.ensure_tables(layout)  # and refuse a lake moved away from its tables
            catalog = iceberg.open_catalog(layout)
            result.maintenance_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
            result.tables = [_table(layout, catalog, defs[n], opts, result.maintenance_id, progress) for n in names]
            journal_file(layout).unlink(missing_ok=True)
    result.seconds = round(time.perf_counter() - began, 3)
    return result


def _refuse_unfinished_runs(layout: LakeLayout) -> None:
    """A run-etl run between its commit point and its warehouse load still reads its files: finish it first."""
    for record in journals(layout):
        if record["status"] not in FINISHED_RUNS and record.get("moves"):
            raise DatalakeError(
                f"run-etl run {record['run_id']} is unfinished ({record['status']}): its files are still needed",
                hint="run `datalake run-etl` to finish it, then `datalake maintain`",
            )


def recover(layout: LakeLayout) -> list[str]:
    """Remove the files a killed maintain wrote that no live snapshot took; what was done, one line each."""
    path = journal_file(layout)
    if not path.is_file():
        return []
    record = json.loads(path.read_text(encoding="utf-8"))
    catalog = iceberg.open_catalog(layout)
    removed = 0
    for name, written in record.get("files", {}).items():
        live = iceberg.referenced_paths(iceberg.load_table(layout, name, catalog))
        for rel in written:
            file = layout.root / rel
            if file not in live:
                for leftover in (file, _temporary(file)):
                    if leftover.exists():
                        leftover.unlink()
                        removed += 1
    path.unlink()
    return [f"maintain {record.get('id')}: removed {removed} file(s) it wrote but never committed"]


def _temporary(final: Path) -> Path:
    return final.with_name(f".{final.name}.tmp")


# ---------------------------------------------------------------------------------------- one table


def _table(
    layout: LakeLayout,
    catalog: Any,
    tdef: iceberg.TableDef,
    opts: MaintainOptions,
    maintenance_id: str | None,
    progress: Progress,
) -> TableMaintenance:
    began = time.perf_counter()
    where = iceberg.location(layout, tdef)
    out = TableMaintenance(tdef.name)
    out.disk_files_before, out.disk_bytes_before = _disk(where)
    with progress.task(f"Maintain {tdef.name}", total=3) as task:
        table = iceberg.load_table(layout, tdef.name, catalog)
        current = _current(table)
        out.files_before, out.bytes_before = len(current), sum(f.size for f in current)
        out.snapshots_before = len(table.metadata.snapshots)
        plan = _plan(current, opts.target_file_size)
        out.partitions_compacted = len(plan)
        out.files_rewritten = sum(len(group) for group in plan)
        out.bytes_rewritten = sum(f.size for group in plan for f in group)
        if plan:
            out.files_written = sum(_outputs(group, opts.target_file_size) for group in plan)
        if plan and maintenance_id is not None:
            table = _compact(layout, table, tdef, current, plan, opts.target_file_size, maintenance_id, out)
        task.advance()

        cutoff_ms = int((time.time() - opts.expire_older_than) * 1000)
        expired = tables.expirable_snapshots(table, cutoff_ms)
        out.snapshots_expired = len(expired)
        if maintenance_id is not None:
            tables.expire_snapshots(table, expired)
            table = iceberg.load_table(layout, tdef.name, catalog)
        task.advance()

        live = _live_paths(table, set(expired) if maintenance_id is None else set())
        orphans, young = _orphans(layout, tdef, where, live, opts.orphan_min_age)
        if table.current_snapshot() is None:  # files published before the lake had Iceberg tables: not orphans
            orphans = [(p, n) for p, n in orphans if p.parent.name == iceberg.METADATA_DIR]
        out.orphans_too_young = young
        out.orphans_removed = len(orphans)
        out.orphan_bytes = sum(size for _, size in orphans)
        out.orphan_files = [str(p.relative_to(layout.root)) for p, _ in orphans]
        if maintenance_id is not None:
            for path, _ in orphans:
                path.unlink(missing_ok=True)
            _remove_empty_folders(where)
        task.advance()

    after = _current(table)
    if maintenance_id is None and plan:  # a dry run: what the current snapshot would hold
        out.files_after = len(after) - out.files_rewritten + out.files_written
        out.bytes_after = out.bytes_before  # not known without writing; the rewrite keeps the rows, not the bytes
    else:
        out.files_after, out.bytes_after = len(after), sum(f.size for f in after)
    if maintenance_id is None:
        out.snapshots_after = out.snapshots_before - out.snapshots_expired
    else:
        out.snapshots_after = len(table.metadata.snapshots)
    out.disk_files_after, out.disk_bytes_after = _disk(where)
    if maintenance_id is None:
        out.disk_files_after -= len(orphans)
        out.disk_bytes_after -= out.orphan_bytes
    out.seconds = round(time.perf_counter() - began, 3)
    return out


def _current(table: Any) -> list[_File]:
    return [
        _File(f, iceberg.local_path(f.file_path), int(f.file_size_in_bytes)) for f in tables.current_data_files(table)
    ]


def _disk(where: Path) -> tuple[int, int]:
    """Files below a table's location and their bytes, each inode once (a dimension's links share theirs)."""
    seen: set[int] = set()
    files = size = 0
    for dirpath, _, filenames in os.walk(where):
        for name in filenames:
            st = os.stat(os.path.join(dirpath, name))
            files += 1
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                size += st.st_size
    return files, size


# ---------------------------------------------------------------------------------------- compaction


def _plan(current: list[_File], target: int) -> list[list[_File]]:
    """Per partition folder, the small files worth rewriting: at least two, and fewer files after."""
    by_folder: dict[Path, list[_File]] = {}
    for f in current:
        by_folder.setdefault(f.path.parent, []).append(f)
    plan = []
    for folder in sorted(by_folder):
        small = sorted((f for f in by_folder[folder] if f.size < target * SMALL), key=lambda f: str(f.path))
        if len(small) >= 2 and _outputs(small, target) < len(small):
            plan.append(small)
    return plan


def _outputs(group: list[_File], target: int) -> int:
    return max(1, math.ceil(sum(f.size for f in group) / target))


def sort_key(tdef: iceberg.TableDef) -> tuple[str, ...]:
    """The order compacted files are written in: the engines' for facts, the first column otherwise."""
    names = {c.name for c in tdef.columns}
    if tdef.name == iceberg.FACT:
        return tuple(k for k in FACT_SORT_KEY if k in names)
    return (next(c.name for c in tdef.columns if c.name not in tdef.partition_by),)


def _compact(
    layout: LakeLayout,
    table: Any,
    tdef: iceberg.TableDef,
    current: list[_File],
    plan: list[list[_File]],
    target: int,
    maintenance_id: str,
    out: TableMaintenance,
) -> Any:
    """Write each group's rows into new files, check the table is unchanged, commit one overwrite snapshot."""
    from datalake.domain.duckdb_sql import connect

    where = iceberg.location(layout, tdef)
    outputs = [
        [group[0].path.parent / f"compacted-{maintenance_id}-{g}-{i}.parquet" for i in range(_outputs(group, target))]
        for g, group in enumerate(plan)
    ]
    written = [p for paths in outputs for p in paths]
    _journal(layout, maintenance_id, tdef.name, written)
    con = connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        for group, paths in zip(plan, outputs, strict=True):
            _rewrite(con, [f.path for f in group], paths, sort_key(tdef))
        rewritten = {f.path for group in plan for f in group}
        before = [f.path for f in current]
        after = [p for p in before if p not in rewritten] + written
        rows_before, sum_before = checksum(con, tdef, before)
        rows_after, sum_after = checksum(con, tdef, after)
    finally:
        con.close()
    out.check = TableCheck(rows_before, rows_after, sum_before, sum_after)
    if not out.check.equal:
        for path in written:
            path.unlink(missing_ok=True)
        raise DatalakeError(
            f"compacting {tdef.name} would change it ({rows_before:,} rows, checksum {sum_before} before; "
            f"{rows_after:,} rows, checksum {sum_after} after): nothing was committed",
            hint="the files it wrote were removed; report this with `datalake maintain --debug`",
        )
    add = [iceberg.data_file(table, path, where) for path in written]
    remove = [f.data_file for group in plan for f in group]
    tables.commit_files(table, add, remove, {tables.MAINTENANCE_ID: maintenance_id}, replace=True)
    table = iceberg.load_table(layout, tdef.name, table.catalog)
    out.compaction_snapshot = table.current_snapshot().snapshot_id
    return table


def _journal(layout: LakeLayout, maintenance_id: str, table: str, written: list[Path]) -> None:
    """Name the files about to be written, before writing them: a kill -9 leaves nothing unnamed behind."""
    path = journal_file(layout)
    record: dict[str, Any] = {"id": maintenance_id, "files": {}}
    if path.is_file():
        record = json.loads(path.read_text(encoding="utf-8"))
    record["files"][table] = [str(p.relative_to(layout.root)) for p in written]
    atomic_write_json(path, record)


def _rewrite(con: Any, sources: list[Path], targets: list[Path], key: tuple[str, ...]) -> None:
    """The sources' rows, sorted by `key`, split evenly over `targets` (zstd Parquet; written aside, renamed in)."""
    order = ", ".join(key)
    read = f"read_parquet({sql_list(sources)}, hive_partitioning = false, union_by_name = true)"
    options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
    if len(targets) == 1:
        queries = [f"SELECT * FROM {read} ORDER BY {order}"]
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _rows AS SELECT *, row_number() OVER (ORDER BY {order}) AS _n FROM {read}"
        )
        total = con.execute("SELECT count(*) FROM _rows").fetchone()[0]
        step = math.ceil(total / len(targets))
        queries = [
            f"SELECT * EXCLUDE (_n) FROM _rows WHERE _n > {i * step} AND _n <= {(i + 1) * step} ORDER BY _n"
            for i in range(len(targets))
        ]
    for query, target in zip(queries, targets, strict=True):
        temporary = _temporary(target)
        con.execute(f"COPY ({query}) TO {sql_string(temporary)} ({options})")
        os.replace(temporary, target)
    con.execute("DROP TABLE IF EXISTS _rows")


def checksum(con: Any, tdef: iceberg.TableDef, files: list[Path]) -> tuple[int, str]:
    """Rows and an order-independent checksum of the table held in `files`, read as the lake engine reads them.

    The sum of a hash of every row's values (partition columns included), as a 128-bit integer: reordering
    rows or moving them between files keeps it; changing, losing or duplicating a row changes it.
    """
    from datalake.targets.local.warehouse import fact_reader_sql

    if not files:
        return 0, "0"
    cols = ", ".join(c.name for c in tdef.columns)
    if tdef.name == iceberg.FACT:
        source = fact_reader_sql(files)
    else:
        source = f"SELECT {cols} FROM read_parquet({sql_list(files)}, hive_partitioning = true, union_by_name = true)"
    rows, total = con.execute(
        f"SELECT count(*), coalesce(sum(hash({cols})::HUGEINT), 0)::VARCHAR FROM ({source})"
    ).fetchone()
    return int(rows), str(total)


# ---------------------------------------------------------------------------------------- orphans


def _live_paths(table: Any, expiring: set[int]) -> set[Path]:
    """Files the live snapshots need; in a dry run, as if the snapshots `expiring` were gone already."""
    return iceberg.referenced_paths(table, expiring)


def _candidates(tdef: iceberg.TableDef, where: Path) -> list[Path]:
    """The files below a table's location that maintain may ever remove: data files and Iceberg metadata.

    A dimension's published `<dim>.parquet` is not one: only its run-named links in `_iceberg_data/` are.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(where):
        dirnames.sort()
        rel = Path(dirpath).relative_to(where)
        in_metadata = rel.parts[:1] == (iceberg.METADATA_DIR,)
        in_links = rel.parts[:1] == (iceberg.DIMENSION_DATA_DIR,)
        for name in sorted(filenames):
            metadata = in_metadata and name.endswith((".metadata.json", ".avro"))
            data = not in_metadata and name.endswith(".parquet") and not name.startswith((".", "_"))
            if metadata or (data and (in_links or not tdef.is_dimension)):
                found.append(Path(dirpath) / name)
    return found


def _orphans(
    layout: LakeLayout, tdef: iceberg.TableDef, where: Path, live: set[Path], min_age: float
) -> tuple[list[tuple[Path, int]], int]:
    """The files no live snapshot needs and older than `min_age` seconds (path, bytes); and how many were younger."""
    pending = {
        layout.root / rel for r in journals(layout) if r["status"] not in FINISHED_RUNS for rel in r.get("moves", [])
    }
    now = time.time()
    orphans: list[tuple[Path, int]] = []
    young = 0
    for path in _candidates(tdef, where):
        if path in live or path in pending:
            continue
        st = path.stat()
        if now - st.st_mtime < min_age:
            young += 1
        else:
            orphans.append((path, st.st_size))
    return orphans, young


def _remove_empty_folders(where: Path) -> None:
    for dirpath, _, _ in sorted(os.walk(where), key=lambda w: -len(w[0])):
        folder = Path(dirpath)
        if folder != where and not any(folder.iterdir()):
            folder.rmdir()
