"""The benchmark's queries: one Athena-SQL file each in datalake/domain/queries/, with a header of
`-- key: value` lines (title, measures, source, order, pruning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from datalake.domain.sql import order_keys
from datalake.errors import UsageError

DIALECTS = ("duckdb", "spark", "redshift", "trino")


DEMO_TABLE = "demo table"  # the `source` of the four query types of the demo's benchmark table


_HEADER = re.compile(r"^--\s*([a-z_]+):\s*(.*)$")


@dataclass(frozen=True)
class BenchmarkQuery:
    name: str
    title: str
    measures: str
    source: str
    sql: str  # Athena SQL as written (header removed)
    order: int = 100
    pruning: bool = False  # also measure the same query with pruning disabled

    @property
    def ordered(self) -> bool:
        return order_keys(self.sql) is not None


def parse_query(name: str, text: str) -> BenchmarkQuery:
    """A query file: leading `-- key: value` header lines (continuation lines start with `--   `), then SQL."""
    header: dict[str, str] = {}
    body: list[str] = []
    last = None
    in_header = True
    for line in text.splitlines():
        match = _HEADER.match(line) if in_header else None
        if match:
            last = match.group(1)
            header[last] = match.group(2).strip()
        elif in_header and line.startswith("--") and last:
            header[last] += " " + line.lstrip("-").strip()
        else:
            in_header = False
            body.append(line)
    sql = "\n".join(body).strip().rstrip(";")
    if not sql:
        raise UsageError(f"query {name!r} has no SQL")
    return BenchmarkQuery(
        name=name,
        title=header.get("title", name),
        measures=header.get("measures", ""),
        source=header.get("source", ""),
        sql=sql,
        order=int(header.get("order", "100")),
        pruning=header.get("pruning", "no").lower() in ("yes", "true"),
    )


def load_queries(names: list[str] | None = None) -> list[BenchmarkQuery]:
    """The shipped queries, in their header order; `names` selects (and orders) a subset."""
    folder = resources.files("datalake.domain").joinpath("queries")
    queries = {
        entry.name[: -len(".sql")]: parse_query(entry.name[: -len(".sql")], entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }
    if not names:
        return sorted(queries.values(), key=lambda q: (q.order, q.name))
    unknown = [n for n in names if n not in queries]
    if unknown:
        raise UsageError(f"unknown --queries {', '.join(unknown)}", hint=f"choose from: {', '.join(sorted(queries))}")
    return [queries[n] for n in names]
