"""The local warehouse (Redshift's role): DuckDB database files with the loaded, sorted tables.

Generations, so that readers and the loader never wait for each other (Redshift's snapshot
isolation). The warehouse is a list of immutable DuckDB files, "segments", named by a pointer
(`warehouse/CURRENT.json`). A load writes its rows into a new segment, in one transaction that
also records the load in the segment's ledger table, and then switches the pointer to the next
generation (the old segments plus the new one) by one atomic rename: the switch is the load's commit
point. A reader attaches the segments the pointer names, read-only, and sees the tables as views
over them, so a query opened before a switch answers from the generation it opened and the next
query sees the new rows. Nothing is ever written to a segment a generation names, so no reader
holds a lock a loader needs: a load costs its own rows, not a copy of the warehouse. The newest
segments are merged while the one before the newest is no bigger than it (a binary counter: about
log2(loads) segments, each row copied about log2(loads) times over its life); merged-away segments
are deleted once no reader holds them (DuckDB holds a shared lock on every file it reads).

`sales_fact_redshift` is appended to once per ETL run, in the sort key's order (sale_date, region),
a few processed partitions (months) at a time, in partition order: the same order as one big sort,
without spilling the whole run to disk. Every engine writes its fact files in that order already
(`FACT_SORT_KEY`, recorded in the run's journal), so a group whose files cover separate date ranges
(nearly always: one file per month) is appended as it is read; only files whose dates overlap, or
files of runs that do not say how they are sorted, are sorted again (a sort is 40% of a load's CPU).
A load is all-or-nothing and never applied twice (the generation lists the loads its segments
hold), so a crash between publishing and loading is repaired by simply loading again. Dimensions
are replaced whole on every load: readers take the newest segment's copy.

Ingested tables (`datalake ingest`) are loaded by the same skeleton (`_load_once`), recorded in
`_ingest_loads`: each ingest appends its rows to its table, in a segment of its own with the
table's current columns; readers see the union of the segments by column name, so a later ingest
that added or widened columns shows them for every row. An ingest that replaced the table's rows
(`--mode overwrite|merge`, a rewrite in a wider type) loads the table's whole new content and lists
the table in its segment's `_replaced`: readers, and merges of segments, ignore the rows older
segments hold for it.

A warehouse of one file (`warehouse.duckdb`, from before generations) is read as it is and becomes
the first segment on the next load.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import quote_ident, sql_list, sql_string
from datalake.domain.schema import (
    DIMENSIONS,
    FACT_SORT_KEY,
    SALES_FACT_COLUMNS,
    SALES_PARTITION_KEYS,
    WAREHOUSE_FACT_TABLE,
)
from datalake.errors import LockedError
from datalake.fsutil import atomic_write_json, read_json
from datalake.layout import LakeLayout
from datalake.targets.local import duckdb_resources
from datalake.targets.local.crawler import hive_partition

# Published Parquet loaded (and sorted) per statement, at least: about 2M rows, sorted in memory, and
# enough row groups for every thread (a statement over one small month runs on one).
LOAD_GROUP_BYTES = 32 * 1024**2
POINTER = "CURRENT.json"
OPEN_ATTEMPTS = 50
MAX_SEGMENTS = 24  # a bound whatever the load sizes; the binary-counter merge keeps far fewer
REPLACED_TABLES = frozenset(DIMENSIONS)  # replaced whole on every load: readers take the newest copy
LEDGERS = {"_loads": "run_id", "_ingest_loads": "ingest_id"}
LEDGER_SQL = {
    "_loads": "CREATE TABLE IF NOT EXISTS _loads (run_id VARCHAR PRIMARY KEY, loaded_at TIMESTAMP, rows BIGINT)",
    "_ingest_loads": "CREATE TABLE IF NOT EXISTS _ingest_loads "
    "(ingest_id VARCHAR PRIMARY KEY, table_name VARCHAR, loaded_at TIMESTAMP, rows BIGINT)",
}
# a segment's tables replaced whole by one of its loads (an ingest's overwrite or merge): older segments' rows are gone
REPLACED_MARKER = "_replaced"
REPLACED_SQL = f"CREATE TABLE IF NOT EXISTS {REPLACED_MARKER} (table_name VARCHAR)"
HIVE_TYPES = "{" + ", ".join(f"'{k}': INTEGER" for k in SALES_PARTITION_KEYS) + "}"


def fact_reader_sql(files: list[Path]) -> str:
    """Published fact files with their partition columns restored, in schema column order."""
    cols = ", ".join(c.name for c in SALES_FACT_COLUMNS)
    return (
        f"SELECT {cols} FROM read_parquet({sql_list(files)}, hive_partitioning = true, "
        f"hive_types = {HIVE_TYPES}, union_by_name = true)"
    )


def connect(layout: LakeLayout) -> Any:
    """A reader's connection to the warehouse as the last load left it (see `open_snapshot`)."""
    return open_snapshot(layout).con


# ------------------------------------------------------------------ generations


@dataclass(frozen=True)
class Segment:
    """One immutable database file of a generation: what one load (or one merge of loads) wrote."""

    file: str
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "bytes": self.bytes}


@dataclass
class Generation:
    """What the pointer names: the segments, oldest first, and the load ids their ledgers hold."""

    number: int = 0
    segments: list[Segment] = field(default_factory=list)
    loaded: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generation": self.number,
            "segments": [s.to_dict() for s in self.segments],
            "loaded": {k: sorted(v) for k, v in self.loaded.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Generation:
        return cls(
            number=int(data["generation"]),
            segments=[Segment(s["file"], int(s["bytes"])) for s in data.get("segments", [])],
            loaded={k: list(v) for k, v in data.get("loaded", {}).items()},
        )


def pointer_file(layout: LakeLayout) -> Path:
    return layout.warehouse_dir / POINTER


def segments_dir(layout: LakeLayout) -> Path:
    return layout.warehouse_dir / "segments"


def current(layout: LakeLayout) -> Generation | None:
    """The generation the pointer names; None for a lake without a warehouse yet."""
    data = read_json(pointer_file(layout))
    if data is not None:
        return Generation.from_dict(data)
    if layout.warehouse_db.is_file():  # a warehouse of one file, from before generations: read it as one segment
        return Generation(-1, [Segment(str(layout.warehouse_db), layout.warehouse_db.stat().st_size)])
    return None


def segment_paths(layout: LakeLayout, gen: Generation) -> list[Path]:
    return [segments_dir(layout) / s.file for s in gen.segments]  # a legacy file's absolute path stays as it is


@dataclass
class Snapshot:
    """A reader's connection: every segment of one generation attached read-only, views over them."""

    con: Any
    generation: Generation
    aliases: list[str]


def open_snapshot(layout: LakeLayout, **config: Any) -> Snapshot:
    """Open the generation the pointer names, read-only; a load switching the pointer meanwhile is retried.

    The views are the warehouse's tables: appended tables (facts, ledgers, ingested tables) are the
    union of their segments in load order, replaced ones (the dimensions) come from the newest
    segment holding them. Nothing here waits for a writer or makes one wait: segments are never
    written once named, and a merged-away one is deleted only when no reader holds it.
    """
    for attempt in range(OPEN_ATTEMPTS):
        gen = current(layout)
        con = duckdb_resources.connect(layout.scratch, **config)
        if gen is None:
            return Snapshot(con, Generation(), [])
        try:
            aliases = attach(con, segment_paths(layout, gen))
        except Exception as exc:
            con.close()
            if not exc.__class__.__module__.startswith(("duckdb", "_duckdb")):
                raise
            if attempt == OPEN_ATTEMPTS - 1:
                raise LockedError(
                    f"the warehouse's generation {gen.number} could not be opened: {str(exc).splitlines()[0]}",
                    hint="try again: loads were switching generations while it opened",
                ) from exc
            time.sleep(0.01 * (attempt + 1))  # a merge removed a segment between reading the pointer and opening it
            continue
        return Snapshot(con, gen, aliases)
    raise AssertionError("unreachable")


def attach(con: Any, paths: list[Path]) -> list[str]:
    """Attach a generation's segments read-only and create the warehouse's views over them; their aliases."""
    aliases = [f"s{i}" for i in range(len(paths))]
    for alias, path in zip(aliases, paths, strict=True):
        con.execute(f"ATTACH {sql_string(path)} AS {alias} (READ_ONLY)")
    _create_views(con, aliases)
    return aliases


def _tables_of(con: Any, alias: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND NOT internal ORDER BY table_name", [alias]
    ).fetchall()
    return [r[0] for r in rows]


def _replaced_in(con: Any, alias: str) -> set[str]:
    """The tables a segment replaced whole (its `_replaced` marker)."""
    if REPLACED_MARKER not in _tables_of(con, alias):
        return set()
    return {r[0] for r in con.execute(f"SELECT table_name FROM {alias}.{REPLACED_MARKER}").fetchall()}


def _create_views(con: Any, aliases: list[str]) -> None:
    holders: dict[str, list[str]] = {}
    for alias in aliases:
        replaced = _replaced_in(con, alias)
        for table in _tables_of(con, alias):
            if table in replaced:
                holders[table] = []  # the rows of older segments are gone
            holders.setdefault(table, []).append(alias)
    for table, where in holders.items():
        name = quote_ident(table)
        if table in REPLACED_TABLES:
            body = f"SELECT * FROM {where[-1]}.{name}"
        else:
            body = " UNION ALL BY NAME ".join(f"SELECT * FROM {alias}.{name}" for alias in where)
        con.execute(f"CREATE VIEW {name} AS {body}")
    if WAREHOUSE_FACT_TABLE in holders:
        con.execute(f"CREATE VIEW sales_fact AS SELECT * FROM {WAREHOUSE_FACT_TABLE}")


def _write_segment(
    layout: LakeLayout, gen: Generation, tag: str, fill: Callable[[Any], Any], transaction: bool = True
) -> tuple[Segment, Any]:
    """Write a new segment file with `fill` (in one transaction); not yet part of any generation."""
    folder = segments_dir(layout)
    folder.mkdir(parents=True, exist_ok=True)
    layout.scratch.mkdir(parents=True, exist_ok=True)
    name = f"g{gen.number + 1:06d}-{tag}-{secrets.token_hex(3)}.duckdb"
    path = folder / name
    con = duckdb_resources.connect(layout.scratch, path)
    try:
        if transaction:
            con.execute("BEGIN TRANSACTION")
        result = fill(con)
        if transaction:
            con.execute("COMMIT")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        _remove(path)
        raise
    con.close()
    _fsync(path)
    return Segment(name, path.stat().st_size), result


def _switch(layout: LakeLayout, gen: Generation) -> None:
    """The commit point of a load: the pointer names the new generation, in one atomic rename."""
    atomic_write_json(pointer_file(layout), gen.to_dict())


def _adopt_legacy(layout: LakeLayout) -> Generation:
    """The generation to build on; a one-file warehouse from before generations becomes its first segment."""
    gen = current(layout)
    if gen is None:
        return Generation()
    if gen.number >= 0:
        return gen
    folder = segments_dir(layout)
    folder.mkdir(parents=True, exist_ok=True)
    name = "g000000-legacy.duckdb"
    con = duckdb_resources.connect(layout.scratch, layout.warehouse_db)
    try:
        con.execute("CHECKPOINT")
        con.execute("DROP VIEW IF EXISTS sales_fact")
        loaded: dict[str, list[str]] = {}
        for ledger, key in LEDGERS.items():
            if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [ledger]).fetchone()[0]:
                loaded[ledger] = [r[0] for r in con.execute(f"SELECT {key} FROM {ledger}").fetchall()]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(layout.warehouse_db, folder / name)
    adopted = Generation(0, [Segment(name, (folder / name).stat().st_size)], loaded)
    _switch(layout, adopted)
    return adopted


def _merge_tail(layout: LakeLayout, gen: Generation) -> Generation:
    """Merge the newest segments while the one before the newest is no bigger than it (a binary counter).

    Equal loads keep about log2(loads) segments, and each row is copied about log2(loads) times in
    all: a load writes its own rows, not the warehouse. Appended tables keep their load order;
    only the newest copy of a replaced table is kept.
    """
    segments = list(gen.segments)
    while len(segments) >= 2 and (segments[-2].bytes <= segments[-1].bytes or len(segments) > MAX_SEGMENTS):
        older, newer = segments[-2], segments[-1]
        paths = [segments_dir(layout) / older.file, segments_dir(layout) / newer.file]

        def fill(con: Any, paths: list[Path] = paths) -> None:
            for i, path in enumerate(paths):
                con.execute(f"ATTACH {sql_string(path)} AS m{i} (READ_ONLY)")
            con.execute("BEGIN TRANSACTION")
            newest: dict[str, str] = {}
            for i in range(len(paths)):
                for table in _tables_of(con, f"m{i}"):
                    newest[table] = f"m{i}"
            replaced_later = _replaced_in(con, "m1")
            for i in range(len(paths)):
                for table in _tables_of(con, f"m{i}"):
                    if table in REPLACED_TABLES and newest[table] != f"m{i}":
                        continue
                    if i == 0 and table in replaced_later and table != REPLACED_MARKER:
                        continue
                    _fit_table(con, table, _columns_of(con, f"m{i}", table))
                    con.execute(f"INSERT INTO {quote_ident(table)} BY NAME SELECT * FROM m{i}.{quote_ident(table)}")
            con.execute("COMMIT")
            for i in range(len(paths)):
                con.execute(f"DETACH m{i}")

        merged, _ = _write_segment(layout, Generation(gen.number), "merged", fill, transaction=False)
        segments[-2:] = [merged]
    return Generation(gen.number, segments, gen.loaded)


def _columns_of(con: Any, database: str, table: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
            "ORDER BY column_index",
            [database, table],
        ).fetchall()
    ]


def collect_garbage(layout: LakeLayout) -> list[str]:
    """Delete segment files the current generation does not name and no reader holds; the names deleted.

    Runs under the lake lock (every writer holds it), so a file the pointer does not name is garbage:
    merged away, or left by a load killed before its switch (so is a half-written next pointer). A reader holding one keeps it until a
    later load finds it free (DuckDB holds a shared lock on a file it reads).
    """
    gen = current(layout)
    folder = segments_dir(layout)
    if gen is None or gen.number < 0 or not folder.is_dir():
        return []
    named = {s.file for s in gen.segments}
    removed = []
    for torn in layout.warehouse_dir.glob(f".{POINTER}.*.tmp"):  # a next pointer a killed load never renamed
        torn.unlink(missing_ok=True)
        removed.append(torn.name)
    for path in sorted(folder.iterdir()):
        base = path.name.removesuffix(".wal")
        if base in named or (path.suffix == ".duckdb" and _held_by_a_reader(path)):
            continue
        _remove(path)
        removed.append(path.name)
    return removed


def _held_by_a_reader(path: Path) -> bool:
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fact_schema(con: Any) -> None:
    cols = ", ".join(f"{c.name} {c.type}" for c in SALES_FACT_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS {WAREHOUSE_FACT_TABLE} ({cols})")
    con.execute(LEDGER_SQL["_loads"])


def create(layout: LakeLayout) -> None:
    """Create the warehouse (deploy): a first generation with the empty fact table and load ledger; idempotent.

    deploy takes no lock, so the pointer is created only where there is none (a hard link fails
    if it exists): a writer's generation switched in meanwhile is never replaced by an empty one.
    """
    if current(layout) is not None:
        return
    segment, _ = _write_segment(layout, Generation(), "deploy", _fact_schema)
    staged = pointer_file(layout).with_name(f".{POINTER}.deploy-{secrets.token_hex(3)}.tmp")
    atomic_write_json(staged, Generation(1, [segment], {}).to_dict())
    try:
        os.link(staged, pointer_file(layout))
    except FileExistsError:
        _remove(segments_dir(layout) / segment.file)
    finally:
        staged.unlink(missing_ok=True)


def loaded_runs(layout: LakeLayout) -> set[str]:
    gen = current(layout)
    if gen is None:
        return set()
    if gen.number < 0:
        gen = _adopt_legacy(layout)
    return set(gen.loaded.get("_loads", []))


def _load_once(
    layout: LakeLayout,
    ledger: str,
    load_id: dict[str, Any],
    prepare: Callable[[Any], None],
    load: Callable[[Any], int],
) -> int:
    """Write one load as a new segment that also records it in its ledger table, then switch; the rows it loaded.

    ledger: the table recording loads; load_id: its columns naming this load, the key first. A load
    is all-or-nothing and never applied twice: one the generation already holds loads nothing (0 rows),
    so a crash between publishing and loading is repaired by simply loading again; a crash before
    the switch leaves readers on the old generation and an orphan segment the next load deletes.
    prepare: creates the tables (the ledger among them) the load needs.
    Callers hold the lake lock: one writer at a time builds the next generation.
    """
    value = next(iter(load_id.values()))
    gen = _adopt_legacy(layout)
    if value in gen.loaded.get(ledger, []):
        return 0

    def fill(con: Any) -> int:
        prepare(con)
        rows = int(load(con))
        columns = ", ".join([*load_id, "loaded_at", "rows"])
        marks = ", ".join("?" for _ in load_id)
        con.execute(f"INSERT INTO {ledger} ({columns}) VALUES ({marks}, now(), ?)", [*load_id.values(), rows])
        return rows

    segment, rows = _write_segment(layout, gen, ledger.strip("_"), fill)
    loaded = {**gen.loaded, ledger: [*gen.loaded.get(ledger, []), value]}
    nxt = _merge_tail(layout, Generation(gen.number + 1, [*gen.segments, segment], loaded))
    _switch(layout, nxt)
    collect_garbage(layout)
    return int(rows)


def load_run(layout: LakeLayout, run_id: str, fact_files: list[Path], presorted: bool = False) -> int:
    """Append one run's published fact files and refresh the dimensions; idempotent per run.

    presorted: the files were written sorted by FACT_SORT_KEY (the run's journal says so), so groups
    whose date ranges are apart are appended without a sort; otherwise every group is sorted.
    """

    def load(con: Any) -> int:
        rows = 0
        if fact_files:
            for files in by_partition(fact_files, LOAD_GROUP_BYTES):
                ordered = in_sort_order(con, files) if presorted else None
                if ordered is not None:  # read in order, inserted in order: DuckDB preserves insertion order
                    con.execute(f"INSERT INTO {WAREHOUSE_FACT_TABLE} {fact_reader_sql(ordered)}")
                else:
                    con.execute(
                        f"INSERT INTO {WAREHOUSE_FACT_TABLE} {fact_reader_sql(files)} ORDER BY {', '.join(FACT_SORT_KEY)}"
                    )
            rows = con.execute(f"SELECT count(*) FROM {WAREHOUSE_FACT_TABLE}").fetchone()[0]
        _refresh_dimensions(con, layout)
        return int(rows)

    return _load_once(layout, "_loads", {"run_id": run_id}, _fact_schema, load)


def load_table(
    layout: LakeLayout,
    ingest_id: str,
    table: str,
    columns: list[tuple[str, str]],
    select_sql: str | None,
    replace: bool = False,
) -> int:
    """Append an ingest's rows (select_sql; None: it has none) to warehouse table `table`; idempotent per ingest.

    The table is created with `columns` (name, type) on the first load; a later ingest that added
    columns or widened types adds or widens them in the same transaction as its rows.
    replace: select_sql is the table's whole new content (an overwrite or a merge): the segment marks the
    table replaced (`_replaced`), so readers and merges ignore its rows in older segments.
    """

    def prepare(con: Any) -> None:
        con.execute(LEDGER_SQL["_ingest_loads"])
        if replace:
            con.execute(REPLACED_SQL)
            con.execute(f"INSERT INTO {REPLACED_MARKER} VALUES (?)", [table])

    def load(con: Any) -> int:
        _fit_table(con, table, columns)
        if select_sql is None:
            return 0
        return int(con.execute(f"INSERT INTO {quote_ident(table)} BY NAME {select_sql}").fetchone()[0])

    return _load_once(layout, "_ingest_loads", {"ingest_id": ingest_id, "table_name": table}, prepare, load)


def _fit_table(con: Any, table: str, columns: list[tuple[str, str]]) -> None:
    """Create the table with these columns, or add the missing ones and widen the types that changed."""
    existing = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_name = ?",
            [table],
        ).fetchall()
    )
    name = quote_ident(table)
    if not existing:
        con.execute(f"CREATE TABLE {name} ({', '.join(f'{quote_ident(n)} {t}' for n, t in columns)})")
        return
    for column, dtype in columns:
        if column not in existing:
            con.execute(f"ALTER TABLE {name} ADD COLUMN {quote_ident(column)} {dtype}")
        elif existing[column].replace(" ", "") != dtype.replace(" ", ""):
            con.execute(f"ALTER TABLE {name} ALTER COLUMN {quote_ident(column)} SET DATA TYPE {dtype}")


def in_sort_order(con: Any, files: list[Path]) -> list[Path] | None:
    """The files in the order that makes their rows one run sorted by FACT_SORT_KEY, or None.

    Each fact file is written sorted by FACT_SORT_KEY; its footer's sale_date statistics (per row
    group, so nothing but footers is read) tell whether the files' date ranges are apart, and so
    whether reading them one after the other, by first date, yields the sorted order. Files whose
    dates overlap or touch, row groups out of order, or missing statistics: None (sort them).
    """
    rows = con.execute(
        "SELECT file_name, row_group_id, CAST(stats_min_value AS DATE), CAST(stats_max_value AS DATE) "
        f"FROM parquet_metadata({sql_list(files)}) WHERE path_in_schema = {sql_string(FACT_SORT_KEY[0])} "
        "ORDER BY file_name, row_group_id"
    ).fetchall()
    ranges: dict[str, tuple[Any, Any]] = {}
    for name, _group, low, high in rows:
        if low is None or high is None:
            return None
        if name in ranges:
            first, last = ranges[name]
            if low < last:  # row groups of one file out of order: not written by an engine of ours
                return None
            ranges[name] = (first, high)
        else:
            ranges[name] = (low, high)
    if len(ranges) != len(files):  # a file without row groups (or statistics): let the sort handle it
        return None
    ordered = sorted(files, key=lambda path: ranges[str(path)][0])
    if any(ranges[str(before)][1] >= ranges[str(after)][0] for before, after in pairwise(ordered)):
        return None
    return ordered


def by_partition(files: list[Path], min_bytes: int = 0) -> list[list[Path]]:
    """Fact files grouped by their (year, month) partition, partitions in time order (not path order).

    Consecutive partitions are joined until a group holds min_bytes: sorting a group of whole
    partitions in turn still gives the order of one big sort.
    """
    partitions: dict[tuple[int, ...], list[Path]] = {}
    for path in files:
        key = tuple(int(value) for name, value in hive_partition(path.parent.parts) if name in SALES_PARTITION_KEYS)
        partitions.setdefault(key, []).append(path)
    groups: list[list[Path]] = []
    size = min_bytes
    for key in sorted(partitions):
        if size >= min_bytes:
            groups.append([])
            size = 0
        groups[-1].extend(partitions[key])
        size += sum(path.stat().st_size for path in partitions[key]) if min_bytes else 0
    return groups


def _refresh_dimensions(con: Any, layout: LakeLayout) -> None:
    for dim in DIMENSIONS:
        path = layout.processed / dim / f"{dim}.parquet"
        if path.is_file():
            con.execute(f"CREATE OR REPLACE TABLE {dim} AS SELECT * FROM read_parquet({sql_string(path)})")


def table_counts(layout: LakeLayout) -> dict[str, int]:
    """Rows of every warehouse table (the dimensions, facts, ledgers, ingested tables) in the current generation."""
    if current(layout) is None:
        return {}
    snap = open_snapshot(layout)
    try:
        names = [r[0] for r in snap.con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
        names = [n for n in names if n != "sales_fact"]
        return {n: snap.con.execute(f"SELECT count(*) FROM {quote_ident(n)}").fetchone()[0] for n in sorted(names)}
    finally:
        snap.con.close()


# ------------------------------------------------------------------ erase (issue 18)


def rewrite_without(layout: LakeLayout, where: dict[str, str], tag: str) -> dict[str, int]:
    """A new generation of one segment holding every table as readers see it, less the rows `where` matches.

    where: table -> a predicate over its columns (its rows matching it are left out; NULL keeps the row).
    Written beside the old segments and switched to in one rename of the pointer, as a load is, so a
    reader sees the rows or not, never half; the old segments are then deleted (`collect_garbage`: a
    segment a reader still holds stays until a later writer finds it free). Returns rows left out per table.
    """
    gen = _adopt_legacy(layout)
    paths = segment_paths(layout, gen)
    removed: dict[str, int] = {}

    def fill(con: Any) -> None:
        target = con.execute("SELECT current_database()").fetchone()[0]
        con.execute("ATTACH ':memory:' AS erase_views")
        con.execute("USE erase_views")
        attach(con, paths)
        views = [
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE database_name = 'erase_views' AND NOT internal"
            ).fetchall()
        ]
        con.execute("BEGIN TRANSACTION")
        for table in views:
            if table in ("sales_fact", REPLACED_MARKER):  # the alias view; a whole segment replaces nothing
                continue
            name = quote_ident(table)
            keep = f" WHERE NOT coalesce(({where[table]}), false)" if table in where else ""
            con.execute(f"CREATE TABLE {quote_ident(target)}.main.{name} AS SELECT * FROM {name}{keep}")
            if table in where:
                before = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                after = con.execute(f"SELECT count(*) FROM {quote_ident(target)}.main.{name}").fetchone()[0]
                removed[table] = int(before - after)
        con.execute("COMMIT")
        con.execute(f"USE {quote_ident(target)}")
        con.execute("DETACH erase_views")
        for alias in [f"s{i}" for i in range(len(paths))]:
            con.execute(f"DETACH {alias}")

    segment, _ = _write_segment(layout, gen, tag, fill, transaction=False)
    _switch(layout, Generation(gen.number + 1, [segment], gen.loaded))
    collect_garbage(layout)
    return removed
