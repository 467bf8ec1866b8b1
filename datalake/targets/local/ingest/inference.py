"""Schema inference for files users bring: encoding, CSV dialect, header, column types, nesting.

DuckDB's sniffer finds the CSV dialect (delimiter, quote, escape, header) on a sample. Column types
of text sources are then decided by this module, not by the sniffer, in two passes over DuckDB:
a sample proposes candidate types per column (integer, decimal, double, boolean, a date or a
timestamp under one explicit format), and one streamed pass over the whole file keeps only the
candidates every value satisfies. So a type never fails half-way through a large file, and the
choice is explainable:

- integers with leading zeros (zip codes, ids) stay text; numbers with a decimal point become
  DECIMAL with the largest scale seen (DOUBLE past 38 digits or with exponents);
- a date or timestamp column must parse under ONE format for every value; a column mixing
  formats (2024-01-31 and 31/01/2024) stays VARCHAR and a note says so, because guessing per value
  would silently swap days and months; when both day-first and month-first parse every value the
  day-first reading is chosen and a note says it was ambiguous;
- a column with no value at all is VARCHAR, marked `empty` so a later file may give it a type.

JSON keeps DuckDB's own typing (numbers, nested objects as STRUCTs, arrays as lists), pinned in
the schema so every later read is identical; its string columns get the same date/timestamp rules;
`flatten` turns nested objects into `parent_child` columns. Parquet files keep their own types.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import quote_ident, sql_string
from datalake.errors import InputError
from datalake.targets.local.catalog import from_json

FORMATS = ("csv", "json", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".psv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
SAMPLE_ROWS = 20_000
CHUNK = 8 << 20

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d %b %Y")
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
)
_INT = r"[+-]?(0|[1-9][0-9]*)"
_DEC = r"[+-]?(0|[1-9][0-9]*)\.[0-9]+"
_DATE_SHAPE = r"^[0-9]{1,4}[-/. ][0-9A-Za-z]{1,3}[-/. ][0-9]{2,4}"
_ISO_TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"


@dataclass
class ColumnSpec:
    """One column of a file: its name in the lake, its type, and how to read it from the source."""

    name: str
    type: str  # DuckDB type name
    source: list[str]  # path in the source record (one element except for flattened JSON)
    parse: str | None = None  # strptime format for dates/timestamps held as text
    empty: bool = False  # no value seen: the type is a placeholder a later file may replace

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        return cls(**data)


@dataclass
class FileSchema:
    """What inference found in one file, enough to read it again identically (raw engine, re-runs)."""

    format: str
    options: dict[str, Any]
    columns: list[ColumnSpec]
    rows: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileSchema:
        return from_json(cls, data, columns=ColumnSpec.from_dict)

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class FileScan:
    sha256: str
    size: int
    utf8: bool
    bom: str | None


def scan_file(path: Path) -> FileScan:
    """sha256 and UTF-8 validity in one streamed pass (constant memory whatever the size)."""
    digest = hashlib.sha256()
    decoder: Any = codecs.getincrementaldecoder("utf-8")("strict")
    utf8, size, bom = True, 0, None
    with path.open("rb") as handle:
        first = True
        while chunk := handle.read(CHUNK):
            if first:
                if chunk.startswith(codecs.BOM_UTF8):
                    bom = "utf-8"
                elif chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    bom, utf8 = "utf-16", False
                first = False
            digest.update(chunk)
            size += len(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return FileScan(digest.hexdigest(), size, utf8, bom)


def detect_format(path: Path, requested: str = "auto") -> str:
    """The format asked for, else from the suffix (ignoring .gz), else from the first bytes."""
    if requested != "auto":
        if requested not in FORMATS:
            from datalake.errors import UsageError

            raise UsageError(f"unknown --format {requested!r}", hint="choose auto, csv, json or parquet")
        return requested
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] in (b"{", b"["):
        return "json"
    return "csv"


def normalize_names(names: list[str]) -> list[str]:
    """Catalog-safe column names (lower case, [a-z0-9_], unique), as a Glue crawler would record them."""
    out: list[str] = []
    for i, raw in enumerate(names):
        name = re.sub(r"[^a-z0-9_]+", "_", raw.strip().lower()).strip("_") or f"column_{i + 1}"
        if name[0].isdigit():
            name = f"_{name}"
        base, n = name, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


# --------------------------------------------------------------------------- readers


def reader_sql(path: Path | str, schema: FileSchema) -> str:
    """A DuckDB relation reading the file exactly as it was inferred (no re-sniffing)."""
    opts = schema.options
    if schema.format == "csv":
        columns = "{" + ", ".join(f"{sql_string(n)}: 'VARCHAR'" for n in opts["names"]) + "}"
        return (
            f"read_csv({sql_string(path)}, auto_detect = false, columns = {columns}, "
            f"delim = {sql_string(opts['delim'])}, quote = {sql_string(opts['quote'])}, "
            f"escape = {sql_string(opts['escape'])}, header = {str(opts['header']).lower()}, "
            f"skip = {int(opts.get('skip', 0))}, encoding = {sql_string(opts['encoding'])})"
        )
    if schema.format == "json":
        columns = "{" + ", ".join(f"{sql_string(n)}: {sql_string(t)}" for n, t in opts["types"].items()) + "}"
        return f"read_json({sql_string(path)}, columns = {columns}, format = {sql_string(opts['layout'])})"
    return f"read_parquet({sql_string(path)})"


def _source_expr(schema: FileSchema, col: ColumnSpec) -> str:
    return ".".join(quote_ident(p) for p in col.source)


def _parsed(value: str, col: ColumnSpec) -> str:
    if col.parse == "iso":
        return f"CAST({value} AS TIMESTAMP)"
    expr = f"strptime({value}, {sql_string(col.parse or '')})"
    return f"CAST({expr} AS DATE)" if col.type == "DATE" else f"CAST({expr} AS TIMESTAMP)"


def column_expr(schema: FileSchema, col: ColumnSpec, target_type: str | None = None) -> str:
    """SQL turning a source column into its lake value, cast to the table's type when it is wider."""
    src = _source_expr(schema, col)
    if schema.format == "csv" and col.type != "VARCHAR":
        value = f"NULLIF(trim({src}), '')"
        expr = _parsed(value, col) if col.parse else f"CAST({value} AS {col.type})"
    elif col.parse:
        expr = _parsed(f"NULLIF(trim({src}), '')", col)
    else:
        expr = src
    target = target_type or col.type
    if target != col.type or (schema.format == "csv" and col.type == "VARCHAR" and target != "VARCHAR"):
        expr = f"CAST({expr} AS {target})"
    return expr


def select_sql(path: Path | str, schema: FileSchema, table_columns: list[tuple[str, str]]) -> str:
    """The file's rows with exactly the table's columns (missing ones NULL), in the table's types."""
    parts = []
    for name, dtype in table_columns:
        col = schema.column(name)
        expr = column_expr(schema, col, dtype) if col else f"CAST(NULL AS {dtype})"
        parts.append(f"{expr} AS {quote_ident(name)}")
    return f"SELECT {', '.join(parts)} FROM {reader_sql(path, schema)}"


# --------------------------------------------------------------------------- text typing


def _tests(v: str) -> list[tuple[str, str]]:
    tests = [
        ("BIGINT", f"regexp_full_match({v}, '{_INT}') AND try_cast({v} AS BIGINT) IS NOT NULL"),
        ("DECIMAL", f"regexp_full_match({v}, '{_INT}|{_DEC}')"),
        ("DOUBLE", f"try_cast({v} AS DOUBLE) IS NOT NULL AND NOT regexp_matches({v}, '^[+-]?0[0-9]')"),
        ("BOOLEAN", f"lower({v}) IN ('true', 'false')"),
    ]
    # a failing strptime is costly: only values shaped like a date reach the formats
    shaped = f"regexp_matches({v}, '{_DATE_SHAPE}')"
    tests += [
        (f"DATE|{f}", f"CASE WHEN {shaped} THEN try_strptime({v}, {sql_string(f)}) IS NOT NULL ELSE false END")
        for f in DATE_FORMATS
    ]
    tests += [
        (f"TIMESTAMP|{f}", f"CASE WHEN {shaped} THEN try_strptime({v}, {sql_string(f)}) IS NOT NULL ELSE false END")
        for f in TIMESTAMP_FORMATS
    ]
    # ISO 8601 with either separator and any fraction, no offset: one cast reads them all
    tests.append(("TIMESTAMP|iso", f"regexp_full_match({v}, '{_ISO_TS}') AND try_cast({v} AS TIMESTAMP) IS NOT NULL"))
    any_date = " OR ".join(
        test.split(" THEN ", 1)[1].rsplit(" ELSE ", 1)[0] if test.startswith("CASE") else test
        for label, test in tests
        if label.startswith(("DATE", "TIMESTAMP"))
    )
    tests.append(("ANYDATE", f"CASE WHEN {shaped} THEN {any_date} ELSE false END"))
    return tests


def _failures_sql(relation: str, columns: list[str], wanted: dict[str, list[str]]) -> tuple[str, list[str]]:
    """One aggregate query: per column, non-null count and failures of each wanted test."""
    exprs, keys = ["count(*)"], ["rows"]
    for col in columns:
        v = f"NULLIF(trim({quote_ident(col)}), '')"
        exprs.append(f"count({v})")
        keys.append(f"{col}\0nonnull")
        for label, test in _tests(v):
            if label in wanted.get(col, []):
                exprs.append(f"count(*) FILTER (WHERE {v} IS NOT NULL AND NOT coalesce({test}, false))")
                keys.append(f"{col}\0{label}")
        if "DECIMAL" in wanted.get(col, []):
            exprs.append(f"coalesce(max(length(split_part({v}, '.', 2))), 0)")
            keys.append(f"{col}\0scale")
            exprs.append(f"coalesce(max(length(ltrim(split_part({v}, '.', 1), '+-'))), 0)")
            keys.append(f"{col}\0digits")
    return f"SELECT {', '.join(exprs)} FROM {relation}", keys


def _run(con: Any, sql: str, keys: list[str]) -> dict[str, int]:
    row = con.execute(sql).fetchone()
    return dict(zip(keys, row, strict=True))


def infer_text_columns(
    con: Any, relation: str, columns: list[str], dates_only: bool = False
) -> tuple[dict[str, tuple[str, str | None, bool]], int, list[str]]:
    """Type text columns: {column: (type, strptime format or None, empty)}, total rows, notes."""
    all_labels = [label for label, _ in _tests("x")]
    if dates_only:
        all_labels = [lab for lab in all_labels if lab.startswith(("DATE", "TIMESTAMP", "ANYDATE"))]
    sample_sql, keys = _failures_sql(
        f"(SELECT * FROM {relation} LIMIT {SAMPLE_ROWS})", columns, dict.fromkeys(columns, all_labels)
    )
    sample = _run(con, sample_sql, keys)
    candidates = {
        c: [lab for lab in all_labels if sample.get(f"{c}\0nonnull", 0) and sample.get(f"{c}\0{lab}") == 0]
        for c in columns
    }
    for labels in candidates.values():  # the mixed-formats test matters only when no single format fits
        if any("|" in lab for lab in labels) and "ANYDATE" in labels:
            labels.remove("ANYDATE")
    full_sql, keys = _failures_sql(relation, columns, candidates)
    full = _run(con, full_sql, keys)
    out: dict[str, tuple[str, str | None, bool]] = {}
    notes: list[str] = []
    for col in columns:
        if not full[f"{col}\0nonnull"]:
            out[col] = ("VARCHAR", None, True)
            notes.append(f"column {col!r} is empty: kept as VARCHAR until a file gives it a type")
            continue
        passed = [lab for lab in candidates[col] if full.get(f"{col}\0{lab}") == 0]
        chosen: tuple[str, str | None, bool] = ("VARCHAR", None, False)
        for lab in passed:
            if lab == "ANYDATE":
                continue
            if lab == "DECIMAL":
                scale, digits = full[f"{col}\0scale"], full[f"{col}\0digits"]
                precision = digits + scale
                chosen = (f"DECIMAL(18,{scale})" if precision <= 18 else f"DECIMAL(38,{scale})", None, False)
                if precision > 38:
                    chosen = ("DOUBLE", None, False)
            elif "|" in lab:
                kind, fmt = lab.split("|", 1)
                chosen = (kind, fmt, False)
                rival = [p for p in passed if p.startswith(kind + "|") and p not in (lab, f"{kind}|iso")]
                if rival and fmt != "iso":
                    notes.append(
                        f"column {col!r}: ambiguous {kind.lower()} format, read as {fmt} "
                        f"(also valid: {', '.join(r.split('|', 1)[1] for r in rival)})"
                    )
            else:
                chosen = (lab, None, False)
            break
        if chosen[0] == "VARCHAR" and "ANYDATE" in passed:
            notes.append(f"column {col!r} mixes date formats: kept as VARCHAR (no single format reads every value)")
        out[col] = chosen
    return out, int(full["rows"]), notes


# --------------------------------------------------------------------------- per format


def _sniff_csv(con: Any, path: Path, encoding: str) -> dict[str, Any]:
    try:
        row = con.execute(
            "SELECT Delimiter, Quote, Escape, SkipRows, HasHeader, Columns "
            f"FROM sniff_csv({sql_string(path)}, encoding = {sql_string(encoding)}, sample_size = {SAMPLE_ROWS})"
        ).fetchone()
    except Exception as exc:
        raise InputError(
            f"{path}: cannot read it as CSV ({str(exc).splitlines()[0]})", hint="check the file, or pass --format"
        ) from None
    delim, quote, escape, skip, header, columns = row

    def clean(value: str, default: str) -> str:
        return default if value in ("(empty)", "", None) else value

    quote = clean(quote, '"')
    return {
        "delim": clean(delim, ","),
        "quote": quote,
        "escape": clean(escape, quote),
        "skip": int(skip or 0),
        "header": bool(header),
        "encoding": encoding,
        "source_names": [c["name"] for c in columns],
    }


def _infer_csv(con: Any, path: Path, scan: FileScan) -> FileSchema:
    encoding = "utf-16" if scan.bom == "utf-16" else ("utf-8" if scan.utf8 else "latin-1")
    opts = _sniff_csv(con, path, encoding)
    names = normalize_names(opts.pop("source_names"))
    opts["names"] = names
    schema = FileSchema("csv", opts, [ColumnSpec(n, "VARCHAR", [n]) for n in names])
    relation = reader_sql(path, schema)
    try:
        types, rows, notes = infer_text_columns(con, relation, names)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"{path}: not readable as the CSV the sniffer found ({str(exc).splitlines()[0]})",
            hint="fix the file (every row needs the same number of fields) or pass --format",
        ) from None
    schema.columns = [ColumnSpec(n, t, [n], fmt, empty) for n, (t, fmt, empty) in types.items()]
    schema.rows = rows
    schema.notes = ([f"read as {encoding}"] if encoding != "utf-8" else []) + notes
    return schema


def _flatten(name: str, dtype: Any, prefix: list[str]) -> list[tuple[list[str], str]]:
    if dtype.id == "struct":
        out = []
        for child, ctype in dtype.children:
            out += _flatten(child, ctype, [*prefix, name])
        return out
    return [([*prefix, name], str(dtype))]


def _infer_json(con: Any, path: Path, scan: FileScan, flatten: bool) -> FileSchema:
    if not scan.utf8 and scan.bom != "utf-8":
        raise InputError(f"{path}: JSON must be UTF-8 and this file is not", hint="re-encode it as UTF-8")
    try:
        rel = con.sql(f"SELECT * FROM read_json({sql_string(path)}, records = true, sample_size = -1)")
        described = list(zip(rel.columns, rel.types, strict=True))
    except Exception as exc:
        raise InputError(f"{path}: not valid JSON ({str(exc).splitlines()[0]})", hint="check the file") from None
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(codecs.BOM_UTF8 + b" \t\r\n")
    layout = "array" if head.startswith(b"[") else "newline_delimited"
    types = {name: str(dtype) for name, dtype in described}
    schema = FileSchema("json", {"types": types, "layout": layout, "flatten": flatten}, [])
    leaves: list[tuple[list[str], str]] = []
    for name, dtype in described:
        leaves += _flatten(name, dtype, []) if flatten else [([name], str(dtype))]
    names = normalize_names(["_".join(p) for p, _ in leaves])
    schema.columns = [ColumnSpec(n, t, p) for n, (p, t) in zip(names, leaves, strict=True)]
    text = [c for c in schema.columns if c.type in ("VARCHAR", '"NULL"', "NULL", "JSON")]
    for c in text:
        c.type = "VARCHAR"
    inner = ", ".join(f"{_source_expr(schema, c)} AS {quote_ident(c.name)}" for c in text) or "1 AS _x"
    relation = f"(SELECT {inner} FROM {reader_sql(path, schema)})"
    found, rows, notes = infer_text_columns(con, relation, [c.name for c in text], dates_only=True)
    for c in text:
        c.type, c.parse, c.empty = found[c.name]
    if not text:
        rows = con.execute(f"SELECT count(*) FROM {reader_sql(path, schema)}").fetchone()[0]
    schema.rows, schema.notes = int(rows), notes
    return schema


def _infer_parquet(con: Any, path: Path) -> FileSchema:
    try:
        rel = con.sql(f"SELECT * FROM read_parquet({sql_string(path)})")
        described = list(zip(rel.columns, rel.types, strict=True))
        rows = con.execute(f"SELECT count(*) FROM read_parquet({sql_string(path)})").fetchone()[0]
    except Exception as exc:
        raise InputError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    names = normalize_names([n for n, _ in described])
    cols = [ColumnSpec(n, str(t), [orig]) for n, (orig, t) in zip(names, described, strict=True)]
    return FileSchema("parquet", {}, cols, rows=int(rows))


def infer_file(con: Any, path: Path, fmt: str, scan: FileScan, flatten: bool = False) -> FileSchema:
    """Infer one file's schema with a DuckDB connection (streamed; memory bounded by DuckDB's limit)."""
    if scan.size == 0:
        raise InputError(f"{path}: the file is empty", hint="nothing to ingest; remove it from the command")
    if fmt == "csv":
        return _infer_csv(con, path, scan)
    if fmt == "json":
        return _infer_json(con, path, scan, flatten)
    return _infer_parquet(con, path)
