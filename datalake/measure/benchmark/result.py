"""What a benchmark measured: per query and engine the timings and reads, the ratios, the claims.

Each type reads back from its saved JSON (`from_dict`), leniently, so a results file written by an
older version still loads: a missing figure takes its default.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from datalake.domain.sql import translate
from datalake.measure.benchmark.queries import DIALECTS, BenchmarkQuery
from datalake.measure.jsondata import from_json, to_json


class Claim(TypedDict, total=False):
    """A claim of the original demo with the figure measured on this lake; `detail` only where there is one."""

    claim: str
    metric: str
    measured: float
    threshold: float
    holds: bool
    detail: str


@dataclass
class Speedup:
    speedup: float | None = None  # baseline median / candidate median
    scan_reduction: float | None = None  # 1 - candidate bytes / baseline bytes


@dataclass
class PairRatio:
    """One compared pair of roles (e.g. lake vs raw), per query and as geometric means."""

    baseline: str = ""
    engine: str = ""
    per_query: dict[str, Speedup] = field(default_factory=dict)
    geomean_speedup_demo_table: float | None = None
    geomean_speedup_all: float | None = None
    demo_table_queries: list[str] = field(default_factory=list)


@dataclass
class StorageStats:
    """Raw sales (JSON + CSV as landed) against the processed Parquet sales_fact."""

    raw_bytes: int = 0
    parquet_bytes: int = 0
    compression_ratio: float | None = None


@dataclass(frozen=True)
class Timing:
    """Median, fastest and slowest run, in seconds rounded as saved."""

    median_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None


def _number(data: dict[str, Any], key: str) -> Any:
    value = data.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _text(data: dict[str, Any], key: str, default: Any = None) -> Any:
    value = data.get(key)
    return value if isinstance(value, str) else default


@dataclass
class EngineRun:
    engine: str
    role: str
    times: list[float] = field(default_factory=list)
    bytes_scanned: int | None = None
    bytes_scanned_unpruned: int | None = None
    io_bytes_read: int | None = None
    files_read: int | None = None
    files_unpruned: int | None = None
    row_groups_scanned: int | None = None
    row_groups_total: int | None = None
    rows_returned: int | None = None
    cost_usd: float | None = None
    method: str | None = None
    sql: str = ""
    error: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list, repr=False)
    saved_timing: Timing | None = field(default=None, repr=False)  # as read back from a results file

    @property
    def median_s(self) -> float | None:
        if self.times:
            return statistics.median(self.times)
        return self.saved_timing.median_s if self.saved_timing else None

    @property
    def timing(self) -> Timing:
        if self.saved_timing is not None:
            return self.saved_timing
        if not self.times:
            return Timing()
        return Timing(rounded(self.median_s), rounded(min(self.times)), rounded(max(self.times)))

    def to_dict(self) -> dict[str, Any]:
        timing = self.timing
        return {
            "median_s": timing.median_s,
            "min_s": timing.min_s,
            "max_s": timing.max_s,
            "times_s": [rounded(t) for t in self.times],
            "bytes_scanned": self.bytes_scanned,
            "bytes_scanned_unpruned": self.bytes_scanned_unpruned,
            "io_bytes_read": self.io_bytes_read,
            "files_read": self.files_read,
            "files_unpruned": self.files_unpruned,
            "row_groups_scanned": self.row_groups_scanned,
            "row_groups_total": self.row_groups_total,
            "rows_returned": self.rows_returned,
            "cost_usd": self.cost_usd,
            "bytes_method": self.method,
            "role": self.role,
            "sql": self.sql,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, engine: str, data: dict[str, Any]) -> EngineRun:
        """A saved run; what an older file lacks stays None (its answer rows are not saved)."""
        return cls(
            engine=engine,
            role=_text(data, "role", engine),
            times=[t for t in _list(data, "times_s") if isinstance(t, int | float)],
            saved_timing=Timing(_number(data, "median_s"), _number(data, "min_s"), _number(data, "max_s")),
            method=_text(data, "bytes_method"),
            sql=_text(data, "sql", ""),
            error=_text(data, "error"),
            **{key: _number(data, key) for key in _RUN_NUMBERS},
        )


_RUN_NUMBERS = (
    "bytes_scanned",
    "bytes_scanned_unpruned",
    "io_bytes_read",
    "files_read",
    "files_unpruned",
    "row_groups_scanned",
    "row_groups_total",
    "rows_returned",
    "cost_usd",
)


@dataclass
class QueryBenchmark:
    query: BenchmarkQuery
    sql: str  # anchored Athena SQL, as run
    results: dict[str, EngineRun] = field(default_factory=dict)
    match: bool = True
    mismatches: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "name": q.name,
            "title": q.title,
            "measures": q.measures,
            "source": q.source,
            "sql": self.sql,
            "translations": {d: translate(self.sql, d) for d in DIALECTS},
            "ordered": q.ordered,
            "match": self.match,
            "mismatches": self.mismatches,
            "results": {name: run.to_dict() for name, run in self.results.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryBenchmark:
        """A saved query (as run: the anchored SQL stands for the query's own)."""
        name = str(data.get("name"))
        sql = _text(data, "sql", "")
        query = BenchmarkQuery(
            name=name,
            title=str(data.get("title") or name),
            measures=_text(data, "measures", ""),
            source=_text(data, "source", ""),
            sql=sql,
        )
        results = _dict(data, "results")
        return cls(
            query=query,
            sql=sql,
            results={e: EngineRun.from_dict(e, r) for e, r in results.items() if isinstance(r, dict)},
            match=data.get("match") is not False,
            mismatches=[str(x) for x in _list(data, "mismatches")],
        )


@dataclass
class BenchmarkReport:
    created: str
    target: str
    lake: str
    as_of: str
    fact_rows: int | None
    repeat: int
    engines: list[str]
    roles: dict[str, str]
    queries: list[QueryBenchmark]
    ratios: dict[str, PairRatio]
    claims: list[Claim]
    storage: StorageStats
    seconds: float = 0.0
    saved: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every engine answered every query, and all answers agree."""
        return all(q.match for q in self.queries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "target": self.target,
            "lake": self.lake,
            "as_of": self.as_of,
            "fact_rows": self.fact_rows,
            "repeat": self.repeat,
            "engines": self.engines,
            "roles": self.roles,
            "ok": self.ok,
            "queries": [q.to_dict() for q in self.queries],
            "ratios": to_json(self.ratios),
            "claims": [dict(c) for c in self.claims],
            "storage": to_json(self.storage),
            "seconds": self.seconds,
            "saved": self.saved,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkReport:
        """A saved benchmark (results/benchmark-latest.json); an older file's missing parts read as empty."""
        return cls(
            created=_text(data, "created", ""),
            target=_text(data, "target", ""),
            lake=_text(data, "lake", ""),
            as_of=_text(data, "as_of", ""),
            fact_rows=_number(data, "fact_rows"),
            repeat=_number(data, "repeat") or 0,
            engines=[e for e in _list(data, "engines") if isinstance(e, str)],
            roles={str(k): str(v) for k, v in _dict(data, "roles").items()},
            queries=[QueryBenchmark.from_dict(q) for q in _list(data, "queries") if isinstance(q, dict)],
            ratios={k: from_json(PairRatio, r) for k, r in _dict(data, "ratios").items() if isinstance(r, dict)},
            claims=[cast(Claim, c) for c in _list(data, "claims") if isinstance(c, dict)],
            storage=from_json(StorageStats, data.get("storage")),
            seconds=_number(data, "seconds") or 0.0,
            saved={str(k): str(v) for k, v in _dict(data, "saved").items()},
        )


def rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)
