"""DuckDB readers for raw files, shared by the ETL engine and the `raw` query engine.

Raw files are read as text, one line per row, and every line is accounted for: a truncated or
invalid JSON line, or a CSV line with the wrong field count, becomes a record with a parse error
instead of vanishing; lines the reader itself must reject (invalid UTF-8, the separator byte 0x1E)
are kept by DuckDB's `store_rejects` tables so they can be quarantined with their reason; and a
file whose lines end in more than one way, which DuckDB's reader cannot read at all, is split into
lines in Python instead.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datalake.domain import transform
from datalake.domain.schema import DIMENSIONS, RAW_SALES_FIELDS

# DuckDB cannot estimate how many rows a text read yields (it guessed ~3,500 for 880,000), so it built
# the hash tables of the dimension joins on the raw side, payload and all: half the ETL rule stage's
# time and all of its memory limit. Raw sales are the big side of those joins: keep the sides as written.
KEEP_JOIN_SIDES = "SET disabled_optimizers = 'build_side_probe_side'"

# A byte that never appears unescaped in valid JSON: each JSON line arrives as one text column.
LINE_DELIMITER = "\x1e"
# The reader rejects longer lines; shorter ones past transform.MAX_LINE_BYTES are rejected by its rule.
DUCKDB_MAX_LINE_BYTES = 2 * transform.MAX_LINE_BYTES


def connect(database: str | Path = ":memory:", read_only: bool = False, **config: Any) -> Any:
    """A DuckDB connection as every module here opens one: DuckDB's own progress bar off.

    Progress is ours to show (rich, on stderr); DuckDB prints its bar on stdout for statements over
    two seconds, in the middle of `--json` output.
    """
    import duckdb

    con = duckdb.connect(str(database), read_only=read_only, config=config)
    con.execute("SET enable_progress_bar = false")  # a session setting: cannot be passed in config
    return con


def sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A column or table name as a quoted SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def sql_list(paths: Sequence[str | Path]) -> str:
    return "[" + ", ".join(sql_string(p) for p in paths) + "]"


def relative_file_expr(column: str, zone_roots: Sequence[Path]) -> str:
    """SQL that turns an absolute file name into its path below its zone (zone-independent id)."""
    expr = column
    for root in zone_roots:
        expr = f"replace({expr}, {sql_string(str(root) + '/')}, '')"
    return expr


def lines_sql(files: Sequence[Path], store_rejects: bool, header: bool = False) -> str:
    """Each line of the files as one text column `line`, with `filename`: nothing is parsed but the lines.

    A line the reader cannot take (invalid UTF-8) is kept by `store_rejects` or skipped by `ignore_errors`.
    """
    rejects = ", store_rejects = true" if store_rejects else ", ignore_errors = true"
    return (
        f"read_csv({sql_list(files)}, columns = {{'line': 'VARCHAR'}}, delim = {sql_string(LINE_DELIMITER)}, "
        f"quote = '', escape = '', header = {str(header).lower()}, auto_detect = false, filename = true, "
        f"max_line_size = {DUCKDB_MAX_LINE_BYTES}{rejects})"
    )


def has_mixed_line_ends(path: Path) -> bool:
    """True when a file ends its lines in more than one way (\\n, \\r\\n, \\r): DuckDB's reader stops at such a file.

    Most files hold no carriage return at all, which one memchr over the mapped file tells.
    """
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        if mapped.find(b"\r") < 0:
            return False
        data = mapped[:]
    returns, feeds = data.count(b"\r"), data.count(b"\n")
    return not (feeds == 0 or returns == feeds == data.count(b"\r\n"))


def _file_lines(path: Path) -> list[bytes]:
    """A file's lines, ended at \\n, \\r\\n or \\r (as Spark's line reader ends them)."""
    return path.read_bytes().splitlines()


def python_lines(files: Sequence[Path], header: bool) -> Any:
    """The lines of files DuckDB's reader cannot take whole, as an Arrow table (`filename`, `line`).

    Bytes that are not UTF-8 become U+FFFD (quarantined by `transform.checked_lines_sql`), and an
    empty line is NULL, as DuckDB reads it.
    """
    import pyarrow as pa

    names: list[str] = []
    lines: list[str | None] = []
    for path in files:
        rows = _file_lines(path)[1 if header else 0 :]
        names += [str(path)] * len(rows)
        lines += [row.decode("utf-8", "replace") if row else None for row in rows]
    return pa.table({"filename": pa.array(names, pa.string()), "line": pa.array(lines, pa.string())})


def _raw_lines(
    con: Any, files: Sequence[Path], zone_roots: Sequence[Path], store_rejects: bool, header: bool, name: str
) -> str:
    """The lines of raw files as the relation the transform's SQL reads: `_source_file`, `_raw_record`.

    Files with mixed line ends are read by `python_lines`, registered in `con` as `name`; the rest by
    DuckDB's reader.
    """
    mixed: list[Path] = []
    direct: list[Path] = []
    for f in files:
        (mixed if has_mixed_line_ends(f) else direct).append(f)
    sources = [lines_sql(direct, store_rejects, header)] if direct else []
    if mixed:
        con.complete()  # registering needs the connection idle: a caller's fetchone() leaves a result open
        con.register(name, python_lines(mixed, header))
        sources.append(f"(SELECT filename, line FROM {name})")
    union = " UNION ALL ".join(f"SELECT filename, line FROM {source}" for source in sources)
    return f"(SELECT {relative_file_expr('filename', zone_roots)} AS _source_file, line AS _raw_record FROM ({union}))"


def json_records_sql(con: Any, files: Sequence[Path], zone_roots: Sequence[Path], store_rejects: bool) -> str:
    paths = ", ".join(f"'$.{f}'" for f in RAW_SALES_FIELDS)
    fields = ",\n      ".join(
        f"CASE WHEN _ok THEN _values[{i + 1}] END AS r_{f}" for i, f in enumerate(RAW_SALES_FIELDS)
    )
    lines = _raw_lines(con, files, zone_roots, store_rejects, header=False, name="_json_lines_read_by_python")
    return f"""
    SELECT _source_file, _raw_record,
      CASE WHEN _line_error IS NOT NULL THEN _line_error
        WHEN _raw_record IS NULL THEN 'not a JSON object' WHEN _values IS NULL THEN 'invalid JSON'
        WHEN NOT _ok THEN 'not a JSON object' END AS _parse_error,
      {fields}
    FROM (
      -- valid JSON that starts with a brace is an object: no second parse to ask its type (and only
      -- the rare line that starts blank pays for ltrim)
      SELECT *, _values IS NOT NULL AND _line_error IS NULL AND CASE WHEN starts_with(_raw_record, '{{') THEN true
        ELSE ltrim(_raw_record, ' \t\r') LIKE '{{%' END AS _ok
      FROM (
        -- each line is parsed once: try() turns the error of an invalid line into NULL
        SELECT *, try(json_extract_string(_raw_record, [{paths}])) AS _values
        FROM ({transform.checked_lines_sql(lines)})
      )
    )"""


def csv_records_sql(con: Any, files: Sequence[Path], zone_roots: Sequence[Path], store_rejects: bool) -> str:
    """CSV files read as lines (the header line of each skipped) and split by `transform.csv_records_sql`."""
    lines = _raw_lines(con, files, zone_roots, store_rejects, header=True, name="_csv_lines_read_by_python")
    return transform.csv_records_sql(lines)


def records_sql(
    con: Any,
    json_files: Sequence[Path],
    csv_files: Sequence[Path],
    zone_roots: Sequence[Path],
    store_rejects: bool,
) -> str:
    """All raw sales records of the given files, as the text relation `transform.checked_sql` expects.

    The SQL may read Arrow tables registered in `con` (files DuckDB's reader cannot take whole): run
    it on that connection.
    """
    parts = []
    if json_files:
        parts.append(json_records_sql(con, json_files, zone_roots, store_rejects))
    if csv_files:
        parts.append(csv_records_sql(con, csv_files, zone_roots, store_rejects))
    if not parts:
        cols = ", ".join(f"CAST(NULL AS VARCHAR) AS r_{f}" for f in RAW_SALES_FIELDS)
        return (
            "SELECT CAST(NULL AS VARCHAR) AS _source_file, CAST(NULL AS VARCHAR) AS _raw_record, "
            f"CAST(NULL AS VARCHAR) AS _parse_error, {cols} WHERE false"
        )
    return "\nUNION ALL\n".join(parts)


def fetch_rejects(con: Any) -> list[tuple[str, int, str, str]]:
    """Lines the reader rejected since the last call: (file, line number, original line, detail).

    DuckDB keeps rejected lines in the connection's reject tables for every later read too: they are
    dropped once fetched, so each batch sees its own. The line is read again from its file, since
    DuckDB's copy shows undecodable bytes as '?' and may swallow the character after them. The
    detail is worded as the shared line check words it (`transform.checked_lines_sql`), where it has
    the same reason.
    """
    con.complete()  # a read's rejects are all stored only once its result has been run to the end
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'reject_errors'").fetchall()[0][0]
    if not exists:
        return []
    rows = con.execute(REJECTS_SQL).fetchall()
    con.execute("DROP TABLE reject_errors")
    con.execute("DROP TABLE reject_scans")
    files: dict[str, list[bytes]] = {}
    out = []
    for file, number, kind, text, message in rows:
        if file not in files:
            files[file] = _file_lines(Path(file)) if Path(file).is_file() else []
        lines = files[file]
        if 0 < number <= len(lines):
            text = lines[number - 1].decode("utf-8", "replace")
        detail = _READER_ERRORS.get(kind) or f"{kind.lower()}: {message.splitlines()[0]}"
        out.append((file, int(number), text, detail))
    return out


# The reader's reasons for rejecting a line that the shared line check names too.
_READER_ERRORS = {
    "INVALID ENCODING": transform.ENCODING_ERROR,
    "TOO MANY COLUMNS": transform.SEPARATOR_ERROR,  # the line holds the delimiter 0x1E
    "LINE SIZE OVER MAXIMUM": transform.LONG_LINE_ERROR,
}


# One row per rejected line: DuckDB logs a short row once per missing column ("Found: 4", "Found: 5"...),
# so keep the error of its first column.
REJECTS_SQL = """
    SELECT s.file_path AS file, e.line,
      arg_min(e.error_type, coalesce(e.column_idx, 0)), arg_min(e.csv_line, coalesce(e.column_idx, 0)),
      arg_min(e.error_message, coalesce(e.column_idx, 0))
    FROM reject_errors e JOIN reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id
    GROUP BY s.file_path, e.line
"""


def dimension_reader_sql(name: str, files: Sequence[Path]) -> str:
    columns = "{" + ", ".join(f"'{c.name}': '{c.type}'" for c in DIMENSIONS[name]) + "}"
    return f"read_csv({sql_list(files)}, columns = {columns}, header = true, auto_detect = false)"
