"""What a query may do on the local engines: read the lake, nothing else (Athena's own limits).

Two layers, both DuckDB's own: its parser classifies the statement, and only queries (SELECT,
including DESCRIBE, SHOW, SUMMARIZE, and EXPLAIN) run, so COPY ... TO, ATTACH, INSTALL/LOAD, SET,
PRAGMA, CREATE and the like are refused by name; and the connection runs with
`enable_external_access = false` and the lake root as its only `allowed_directories`, with the
configuration locked, so `read_text('/etc/...')` or a view over a file outside the lake is refused
by DuckDB itself while the engine's views over the lake still read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datalake.errors import QueryError

READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
STATEMENT_NAMES = {"LOAD": "INSTALL/LOAD", "SET": "SET/RESET/USE", "CALL": "CALL/CHECKPOINT"}


def lock_down(con: Any, allowed: Sequence[Path]) -> None:
    """Let `con` read files below `allowed` only, write none, and never change that (nor install anything)."""
    dirs = sorted({f"{path}/" for root in allowed for path in (Path(root), Path(root).resolve())})
    con.execute("SET autoinstall_known_extensions = false")
    con.execute(f"SET allowed_directories = [{', '.join(_string(d) for d in dirs)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def check_statement(con: Any, sql: str, engine: str) -> bool:
    """Refuse anything but one query, by DuckDB's own parser; False when DuckDB cannot parse `sql` at all."""
    try:
        statements = con.extract_statements(sql)
    except Exception as exc:
        if exc.__class__.__module__.startswith(("duckdb", "_duckdb")):
            return False
        raise
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind not in READ_STATEMENTS:
        raise QueryError(
            f"{engine}: {STATEMENT_NAMES.get(kind, kind)} statements are not allowed; queries only read the lake",
            hint="run a SELECT; save its result with --csv or --json",
        )
    return True


def permission_error(engine: str, exc: Exception, allowed: Sequence[Path]) -> QueryError | None:
    """DuckDB's refusal of a file outside the lake, as one line; None for any other error."""
    if type(exc).__name__ != "PermissionException":
        return None
    first = str(exc).splitlines()[0]
    if '"' in first:
        first = "cannot read " + first.split('"')[1]
    where = ", ".join(str(p) for p in allowed) or "no files (its tables only)"
    return QueryError(f"{engine}: {first}: queries may read {where}", hint="query the lake's tables and views")


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
