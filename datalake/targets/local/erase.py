"""`datalake erase --where PREDICATE --dry-run` on the local lake: which rows match, per zone and file.

The plan, and the proof: `erase_remove` runs this scan before removing (what it will remove) and after
(what is left, which must be 0). It changes nothing. The predicate is parsed with sqlglot and allowed only as
a pure predicate over known columns (comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, literals, casts):
no function, no subquery, so it can be given to DuckDB on a locked-down connection without reading anything
else. Every data file of every zone that holds the predicate's columns is scanned: the processed tables'
Parquet files on disk (current or only named by older snapshots, dimension links and published names
included), the warehouse's current generation, the raw and archived landing files read as run-etl reads them
(JSON lines and CSV, values cast as run-etl casts them; an uncastable value does not match), and the raw
dimension CSVs. Quarantined lines are the original text, evaluated on their fields as run-etl read them (JSON
lines parsed, CSV lines split); the few that are neither hold no fields and are counted as not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import sql_list
from datalake.domain.schema import DIMENSIONS, RAW_SALES_FIELDS, SALES_FACT_COLUMNS
from datalake.domain.table_care import EraseFile, EraseResult, EraseZone
from datalake.errors import UsageError
from datalake.layout import LakeLayout
from datalake.targets.local import iceberg
from datalake.targets.local.etl.run import require_lake

_ALLOWED = (
    "And",
    "Or",
    "Not",
    "Paren",
    "EQ",
    "NEQ",
    "GT",
    "GTE",
    "LT",
    "LTE",
    "NullSafeEQ",
    "NullSafeNEQ",
    "In",
    "Between",
    "Like",
    "ILike",
    "Is",
    "Null",
    "Boolean",
    "Literal",
    "Column",
    "Identifier",
    "Cast",
    "DataType",
    "Neg",
    "Tuple",
)
_PREDICATES = (
    *("And", "Or", "Not", "Paren", "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "NullSafeEQ", "NullSafeNEQ"),
    *("In", "Between", "Like", "ILike", "Is"),
)


def known_columns() -> dict[str, str]:
    """Every column a predicate may name, with its SQL type (the facts' and the dimensions')."""
    found = {c.name: c.type for c in SALES_FACT_COLUMNS}
    for columns in DIMENSIONS.values():
        found.update({c.name: c.type for c in columns if c.name not in found})
    return found


def parse_predicate(where: str) -> tuple[str, list[str]]:
    """The predicate as DuckDB SQL and the columns it names; one clear UsageError for anything else."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    hint = 'e.g. --where "customer_id = 42" (comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL)'
    try:
        statements = sqlglot.parse(f"SELECT 1 FROM t WHERE {where}", dialect="trino")
    except ParseError:
        raise UsageError(f"--where {where!r} is not a predicate DuckDB or Athena could read", hint=hint) from None
    select = statements[0] if len(statements) == 1 else None
    if not isinstance(select, exp.Select):
        raise UsageError(f"--where {where!r} is not one predicate", hint=hint)
    clause = select.args.get("where")
    if clause is None or set(select.args) - {"expressions", "from_", "from", "where"} - _empty_args(select):
        raise UsageError(f"--where {where!r} is not one predicate", hint=hint)
    predicate = clause.this
    if type(predicate).__name__ not in _PREDICATES:
        raise UsageError(f"--where {where!r} is not a predicate (a condition that is true or false)", hint=hint)
    for node in predicate.walk():
        if type(node).__name__ not in _ALLOWED:
            raise UsageError(
                f"--where may not use {type(node).__name__} ({node.sql(dialect='trino')[:40]})",
                hint="no functions or subqueries: " + hint,
            )
    columns = sorted({c.name for c in predicate.find_all(exp.Column)})
    if not columns:
        raise UsageError(f"--where {where!r} names no column: it would match every row or none", hint=hint)
    unknown = [c for c in columns if c not in known_columns()]
    if unknown:
        raise UsageError(
            f"--where names unknown column(s): {', '.join(unknown)}",
            hint="columns of sales_fact and the dimensions, e.g. customer_id, email, sale_id",
        )
    return predicate.sql(dialect="duckdb"), columns


def _empty_args(select: Any) -> set[str]:
    return {k for k, v in select.args.items() if v in (None, [], False)}


def plan(layout: LakeLayout, where: str, yes: bool = False) -> EraseResult:
    """What erase would remove: the matching rows, per zone, table and file; changes nothing."""
    from datalake.domain.duckdb_sql import connect
    from datalake.targets.local.sandbox import lock_down

    require_lake(layout)
    predicate, columns = parse_predicate(where)
    result = EraseResult(where=where, columns=columns, dry_run=True)
    con = connect()
    try:
        lock_down(con, [layout.root])  # the predicate runs where a query would, reading the lake only
        result.zones += _processed(con, layout, predicate, columns)
        result.zones += _landing(con, layout, predicate, columns)
        result.zones += _quarantine(con, layout, predicate, columns)
    finally:
        con.close()
    result.zones += _warehouse(layout, predicate, columns)
    facts = next((z for z in result.zones if z.zone == "processed" and z.table == iceberg.FACT), None)
    if facts is not None and facts.current_rows and facts.current_matching == facts.current_rows and not yes:
        raise UsageError(
            f"--where {where!r} matches every one of sales_fact's {facts.current_rows:,} rows",
            hint="pass --yes if you mean to erase them all",
        )
    return result


def _has(columns: Iterable[str], needed: list[str]) -> bool:
    return set(needed) <= set(columns)


def _count_by_file(con: Any, source: str, predicate: str) -> list[EraseFile]:
    rows = con.execute(
        f"SELECT _file, count(*) FILTER (WHERE {predicate}), count(*) FROM ({source}) GROUP BY _file ORDER BY _file"
    ).fetchall()
    return [EraseFile(str(f), int(m), int(n)) for f, m, n in rows]


def _relative(layout: LakeLayout, files: list[EraseFile]) -> list[EraseFile]:
    root = str(layout.root) + "/"
    return [EraseFile(f.file.removeprefix(root), f.matching, f.rows) for f in files]


def _processed(con: Any, layout: LakeLayout, predicate: str, columns: list[str]) -> list[EraseZone]:
    """Every Parquet file below each run-etl table's location, current or only named by older snapshots."""
    from datalake.targets.local.warehouse import HIVE_TYPES

    zones = []
    current = iceberg.current_files(layout)
    for name, tdef in iceberg.table_defs().items():
        if not _has((c.name for c in tdef.columns), columns):
            continue
        where = iceberg.location(layout, tdef)
        files = sorted(p for p in where.rglob("*.parquet") if not p.name.startswith((".", "_")))
        zone = EraseZone("processed", name)
        if files:
            hive = f", hive_types = {HIVE_TYPES}" if name == iceberg.FACT else ""
            source = (
                f"SELECT *, filename AS _file FROM read_parquet({sql_list(files)}, filename = true, "
                f"hive_partitioning = {str(name == iceberg.FACT).lower()}{hive}, union_by_name = true)"
            )
            zone.files = _count_by_file(con, source, predicate)
            live = {str(p) for p in current.get(name, [])}
            zone.current_rows = sum(f.rows for f in zone.files if f.file in live)
            zone.current_matching = sum(f.matching for f in zone.files if f.file in live)
            zone.files = _relative(layout, zone.files)
        zones.append(zone)
    return zones


def _landing(con: Any, layout: LakeLayout, predicate: str, columns: list[str]) -> list[EraseZone]:
    """The raw and archived sales files, read and cast as run-etl does, and the raw dimension CSVs."""
    from datalake.targets.local.crawler import list_data_files, sales_files, sales_records_sql

    zones = []
    types = {c.name: c.type for c in SALES_FACT_COLUMNS}
    if _has(RAW_SALES_FIELDS, columns):
        files = sales_files(layout)
        by_zone: dict[str, list[EraseFile]] = {"raw": [], "archive": []}
        if files:
            casts = ", ".join(f"TRY_CAST(trim(r_{c}) AS {types[c]}) AS {c}" for c in columns)
            source = f"SELECT {casts}, _source_file AS _file FROM ({sales_records_sql(con, layout, files, False)})"
            for f in _count_by_file(con, source, predicate):  # named relative to its zone's root
                zone = "raw" if (layout.raw / f.file).is_file() else "archive"
                by_zone[zone].append(EraseFile(f"{zone}/{f.file}", f.matching, f.rows))
        zones += [EraseZone(name, "sales", files=_relative(layout, found)) for name, found in by_zone.items()]
    for dim, dim_columns in DIMENSIONS.items():
        if not _has((c.name for c in dim_columns), columns):
            continue
        paths = [f.path for f in list_data_files(layout.raw, "raw", dim)]
        dim_zone = EraseZone("raw", dim)
        if paths:
            spec = "{" + ", ".join(f"'{c.name}': '{c.type}'" for c in dim_columns) + "}"
            reader = (
                f"read_csv({sql_list(paths)}, columns = {spec}, header = true, auto_detect = false, filename = true)"
            )
            source = f"SELECT *, filename AS _file FROM {reader}"
            dim_zone.files = _relative(layout, _count_by_file(con, source, predicate))
        zones.append(dim_zone)
    return zones


def quarantine_rows_sql(files: list[Path], columns: list[str]) -> str:
    """Quarantined lines with the predicate's fields: JSON lines parsed as JSON, CSV lines split as run-etl splits them.

    `_file` (the quarantine's Parquet file), `raw_record` and the fields; lines that are neither a JSON object
    nor CSV (invalid JSON, say) hold no fields, as run-etl found, and are left out.
    """
    from datalake.domain import transform

    types = {c.name: c.type for c in SALES_FACT_COLUMNS}
    read = f"read_parquet({sql_list(files)}, filename = true, hive_partitioning = false)"
    json_fields = ", ".join(
        f"TRY_CAST(trim(json_extract_string(raw_record, '$.{c}')) AS {types[c]}) AS {c}" for c in columns
    )
    csv_fields = ", ".join(f"TRY_CAST(trim(r_{c}) AS {types[c]}) AS {c}" for c in columns)
    csv_lines = f"(SELECT filename AS _source_file, raw_record AS _raw_record FROM {read} WHERE {_IS_CSV})"
    return (
        f"SELECT filename AS _file, raw_record, {json_fields} FROM {read} WHERE NOT {_IS_CSV} AND {_IS_JSON} "
        f"UNION ALL SELECT _source_file AS _file, _raw_record AS raw_record, {csv_fields} "
        f"FROM ({transform.csv_records_sql(csv_lines)}) WHERE _parse_error IS NULL"
    )


_IS_CSV = "lower(source_file) LIKE '%.csv'"
_IS_JSON = "json_valid(raw_record) AND starts_with(ltrim(raw_record), '{')"


def quarantine_files(layout: LakeLayout) -> list[Path]:
    where = iceberg.location(layout, iceberg.table_defs()[iceberg.QUARANTINE])
    return sorted(p for p in where.rglob("*.parquet") if not p.name.startswith((".", "_")))


def _quarantine(con: Any, layout: LakeLayout, predicate: str, columns: list[str]) -> list[EraseZone]:
    """Quarantined lines, evaluated on their fields (JSON lines and CSV lines, as run-etl read them)."""
    if not _has(RAW_SALES_FIELDS, columns):
        return []
    files = quarantine_files(layout)
    zone = EraseZone("quarantine", iceberg.QUARANTINE)
    if files:
        counted = {f.file: f for f in _count_by_file(con, quarantine_rows_sql(files, columns), predicate)}
        totals = con.execute(
            f"SELECT filename, count(*) FROM read_parquet({sql_list(files)}, filename = true, hive_partitioning = false) "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
        zone.files = _relative(
            layout, [EraseFile(str(f), counted[str(f)].matching if str(f) in counted else 0, int(n)) for f, n in totals]
        )
        zone.not_evaluated = sum(f.rows for f in zone.files) - sum(f.rows for f in counted.values())
    return [zone]


def _warehouse(layout: LakeLayout, predicate: str, columns: list[str]) -> list[EraseZone]:
    """The warehouse's current generation: each table holding the predicate's columns."""
    from datalake.domain.schema import WAREHOUSE_FACT_TABLE
    from datalake.targets.local import warehouse

    if warehouse.current(layout) is None:
        return []
    snap = warehouse.open_snapshot(layout)
    zones = []
    try:
        candidates = {WAREHOUSE_FACT_TABLE: [c.name for c in SALES_FACT_COLUMNS]}
        candidates.update({dim: [c.name for c in cols] for dim, cols in DIMENSIONS.items()})
        present = {r[0] for r in snap.con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        for table, table_columns in candidates.items():
            if table in present and _has(table_columns, columns):
                matching, rows = snap.con.execute(
                    f"SELECT count(*) FILTER (WHERE {predicate}), count(*) FROM {table}"
                ).fetchone()
                segments = ", ".join(Path(p).name for p in warehouse.segment_paths(layout, snap.generation))
                zone = EraseZone("warehouse", table)
                zone.files = [EraseFile(f"warehouse segments ({segments})", int(matching), int(rows))]
                zones.append(zone)
    finally:
        snap.con.close()
    return zones
