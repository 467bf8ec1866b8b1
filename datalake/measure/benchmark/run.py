"""`datalake benchmark`: the same queries on raw files, the Parquet lake and the warehouse.

Each query lives once, in Athena (Trino) SQL, in datalake/domain/queries/*.sql with a header of
`-- key: value` lines (title, measures, source, order, pruning). For every query and engine the
harness opens a fresh engine, runs the query once with `QueryEngine.measure` (a warm-up that
also records the bytes, files and row groups it read: a fresh engine has no cache to hide reads),
then times `repeat` runs. The answers of all engines must agree; the demo's claims get a verdict
from the measured figures; the report is saved under <lake>/results/ for cost-report.

Relative dates: the queries say CURRENT_DATE like the demo's, and the harness anchors it on the
lake's last sale date (or `as_of`), so a benchmark of the same lake always asks the same question.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TypedDict, cast

from datalake.domain.sql import anchor_dates, order_keys, translate
from datalake.errors import LakeNotFoundError, QueryError, UsageError
from datalake.layout import LakeLayout
from datalake.measure.jsondata import from_json, to_json
from datalake.measure.results import Results, UnreadableResult, read_result
from datalake.model import LakeStatus
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.base import Target

DIALECTS = ("duckdb", "spark", "redshift", "trino")
DEMO_TABLE = "demo table"  # the `source` of the four query types of the demo's benchmark table
# Roles compared, (baseline, candidate): the demo's claims are about these pairs.
PAIRS = (("raw", "lake"), ("lake", "warehouse"), ("raw", "warehouse"))
REL_TOL = 1e-9
ABS_TOL = 1e-6
_HEADER = re.compile(r"^--\s*([a-z_]+):\s*(.*)$")


# ----------------------------------------------------------------------------------- queries


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


# ----------------------------------------------------------------------------------- results


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
        return Timing(_round(self.median_s), _round(min(self.times)), _round(max(self.times)))

    def to_dict(self) -> dict[str, Any]:
        timing = self.timing
        return {
            "median_s": timing.median_s,
            "min_s": timing.min_s,
            "max_s": timing.max_s,
            "times_s": [_round(t) for t in self.times],
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


@dataclass(frozen=True)
class BenchmarkOptions:
    engines: list[str] | None = None  # default: every query engine of the target
    queries: list[str] | None = None  # default: every shipped query
    repeat: int = 3
    as_of: date | None = None  # default: the lake's last sale date
    chart: bool = True
    save: bool = True
    output: Path | None = None

    def validate(self) -> None:
        if self.repeat < 1:
            raise UsageError(f"--repeat must be 1 or more, got {self.repeat}")


# ----------------------------------------------------------------------------------- comparison


def _normal(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # None first, then by type name so mixed types never compare; floats rounded for stable order.
    return tuple(
        (0, "", "") if v is None else (1, type(v).__name__, round(v, 6) if isinstance(v, float) else v) for v in row
    )


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(a == b)


def _canonical(rows: list[tuple[Any, ...]], keys: list[int | str] | None) -> list[tuple[Any, ...]]:
    """Rows in a comparable order: fully sorted without ORDER BY; with one, ties sorted within."""
    normal = [tuple(_normal(v) for v in row) for row in rows]
    if keys is None:
        return sorted(normal, key=_sort_key)
    if not all(isinstance(k, int) for k in keys):
        return normal  # order keys are not output columns: only the exact order can be compared
    positions = [k for k in keys if isinstance(k, int)]
    out: list[tuple[Any, ...]] = []
    group: list[tuple[Any, ...]] = []
    for row in normal:
        if group and not all(_same_value(row[p], group[0][p]) for p in positions):
            out.extend(sorted(group, key=_sort_key))
            group = []
        group.append(row)
    out.extend(sorted(group, key=_sort_key))
    return out


def compare_results(runs: dict[str, EngineRun], sql: str) -> list[str]:
    """Differences between every engine's answer and the first engine's (empty list: all agree)."""
    problems = [f"{name}: {run.error}" for name, run in runs.items() if run.error]
    answered = [(name, run) for name, run in runs.items() if not run.error]
    if len(answered) < 2:
        return problems
    keys = order_keys(sql)
    base_name, base = answered[0]
    base_rows = _canonical(base.rows, keys)
    for name, run in answered[1:]:
        rows = _canonical(run.rows, keys)
        if len(run.columns) != len(base.columns):
            problems.append(f"{name} returned {len(run.columns)} columns, {base_name} {len(base.columns)}")
            continue
        if len(rows) != len(base_rows):
            problems.append(f"{name} returned {len(rows):,} rows, {base_name} {len(base_rows):,}")
            continue
        for i, (a, b) in enumerate(zip(base_rows, rows, strict=True)):
            if not all(_same_value(x, y) for x, y in zip(a, b, strict=True)):
                problems.append(f"{name} differs from {base_name} at row {i + 1}: {list(b)} != {list(a)}")
                break
    return problems


# ----------------------------------------------------------------------------------- running


def lake_end_date(target: Target) -> date:
    """The last sale date in the processed lake: the anchor of the queries' CURRENT_DATE."""
    with target.query_engine(target.capabilities.default_query_engine) as eng:
        rows = eng.execute("SELECT max(sale_date) FROM sales_fact").rows
    value = rows[0][0] if rows else None
    if value is None:
        raise LakeNotFoundError("the lake has no processed sales to benchmark", hint="run `datalake run-etl`")
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _run_one(target: Target, engine: str, query: BenchmarkQuery, sql: str, repeat: int, prices: Any) -> EngineRun:
    run = EngineRun(engine=engine, role=engine)
    try:
        with target.query_engine(engine) as eng:
            run.role, run.sql = eng.role, eng.translate(sql)
            first = eng.measure(sql)
            run.columns, run.rows, run.rows_returned = first.columns, first.rows, len(first.rows)
            stats = first.stats
            run.bytes_scanned, run.io_bytes_read = stats.get("bytes_scanned"), stats.get("io_bytes_read")
            run.files_read, run.method = stats.get("files_read"), stats.get("method")
            run.row_groups_scanned, run.row_groups_total = (
                stats.get("row_groups_scanned"),
                stats.get("row_groups_total"),
            )
            run.times = [eng.execute(sql).seconds for _ in range(repeat)]
        if query.pruning:
            with target.query_engine(engine) as eng:  # fresh again: nothing cached from the runs above
                unpruned = eng.measure(sql, pruning=False).stats
            run.bytes_scanned_unpruned, run.files_unpruned = unpruned.get("bytes_scanned"), unpruned.get("files_read")
            if unpruned.get("row_groups_total"):
                run.row_groups_total = unpruned["row_groups_total"]
    except QueryError as exc:
        run.error = exc.message
    if run.bytes_scanned is not None:
        run.cost_usd = round(prices.athena_query_cost(run.bytes_scanned), 8)
    return run


def run_benchmark(target: Target, options: BenchmarkOptions, progress: Progress = NULL_PROGRESS) -> BenchmarkReport:
    """Run every query on every engine, cross-check the answers, judge the demo's claims, save the report."""
    from datalake.measure.cost.pricing import load_prices

    options.validate()
    began = time.perf_counter()
    queries = load_queries(options.queries)
    available = list(target.capabilities.query_engines)
    default = target.capabilities.benchmark_engines or available
    engines = options.engines or sorted(default, key=_role_order)
    unknown = [e for e in engines if e not in available]
    if unknown:
        raise UsageError(f"unknown --engines {', '.join(unknown)}", hint=f"choose from: {', '.join(available)}")
    prices = load_prices(target.settings.region)
    as_of = options.as_of or lake_end_date(target)
    results: list[QueryBenchmark] = []
    with progress.task("benchmark", total=len(queries) * len(engines)) as task:
        for query in queries:
            sql = anchor_dates(query.sql, as_of.isoformat())
            qb = QueryBenchmark(query=query, sql=sql)
            for engine in engines:
                task.update(description=f"{query.name} on {engine}")
                qb.results[engine] = _run_one(target, engine, query, sql, options.repeat, prices)
                task.advance()
            qb.mismatches = compare_results(qb.results, sql)
            qb.match = not qb.mismatches
            for problem in qb.mismatches:
                progress.log(f"MISMATCH {query.name}: {problem}")
            results.append(qb)
    roles = {name: next((q.results[name].role for q in results if name in q.results), name) for name in engines}
    info = target.status()
    report = BenchmarkReport(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        target=target.name,
        lake=str(target.settings.lake),
        as_of=as_of.isoformat(),
        fact_rows=_fact_rows(info),
        repeat=options.repeat,
        engines=engines,
        roles=roles,
        queries=results,
        ratios={},
        claims=[],
        storage=storage_stats(info),
    )
    report.ratios = compute_ratios(report)
    report.claims = judge_claims(report)
    report.seconds = round(time.perf_counter() - began, 3)
    if options.save:
        report.saved = save_report(report, Results.of(target.settings.lake).root, options.chart)
    if options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        report.saved["output"] = str(options.output)
    return report


def _role_order(name: str) -> int:
    order = ["raw", "lake", "warehouse"]
    return order.index(name) if name in order else len(order)


def _fact_rows(info: LakeStatus) -> int | None:
    for t in info.table("sales_fact"):
        if t.get("rows") is not None:
            return int(t["rows"])
    return None


def storage_stats(info: LakeStatus) -> StorageStats:
    """Raw sales (JSON + CSV as landed) against the processed Parquet sales_fact, from the catalog."""
    raw = sum(int(t["bytes"] or 0) for t in info.table("sales") if t.get("format") != "parquet")
    parquet = sum(int(t["bytes"] or 0) for t in info.table("sales_fact"))
    return StorageStats(raw, parquet, round(raw / parquet, 2) if raw and parquet else None)


# ----------------------------------------------------------------------------------- ratios and claims


def _geomean(values: list[float | None]) -> float | None:
    present = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in present) / len(present)) if present else None


def _by_role(qb: QueryBenchmark, role: str) -> EngineRun | None:
    return next((r for r in qb.results.values() if r.role == role and not r.error), None)


def _speedup(base: EngineRun, cand: EngineRun) -> Speedup:
    speedup = base.median_s / cand.median_s if base.median_s and cand.median_s else None
    reduction = (
        1 - cand.bytes_scanned / base.bytes_scanned if base.bytes_scanned and cand.bytes_scanned is not None else None
    )
    return Speedup(speedup=_round(speedup, 2), scan_reduction=_round(reduction, 4))


def compute_ratios(report: BenchmarkReport) -> dict[str, PairRatio]:
    """Speedup (baseline median / candidate median) and scan reduction (1 - candidate / baseline bytes)."""
    ratios: dict[str, PairRatio] = {}
    for base_role, cand_role in PAIRS:
        per_query: dict[str, Speedup] = {}
        for qb in report.queries:
            base, cand = _by_role(qb, base_role), _by_role(qb, cand_role)
            if base is not None and cand is not None:
                per_query[qb.query.name] = _speedup(base, cand)
        if not per_query:
            continue
        table = [q.query.name for q in report.queries if q.query.source == DEMO_TABLE and q.query.name in per_query]
        ratios[f"{cand_role}_vs_{base_role}"] = PairRatio(
            baseline=base_role,
            engine=cand_role,
            per_query=per_query,
            geomean_speedup_demo_table=_round(_geomean([per_query[n].speedup for n in table]), 2),
            geomean_speedup_all=_round(_geomean([v.speedup for v in per_query.values()]), 2),
            demo_table_queries=table,
        )
    return ratios


def _ratio_claim(ratio: PairRatio | None, claim: str, metric: str, threshold: float) -> list[Claim]:
    """A claim about the geometric-mean speedup of one pair over the demo table's query types."""
    if ratio is None or ratio.geomean_speedup_demo_table is None:
        return []
    measured = ratio.geomean_speedup_demo_table
    return [Claim(claim=claim, metric=metric, measured=measured, threshold=threshold, holds=measured >= threshold)]


def _pruning_claim(report: BenchmarkReport) -> list[Claim]:
    for qb in report.queries:
        lake = _by_role(qb, "lake") if qb.query.pruning else None
        if lake and lake.bytes_scanned is not None and lake.bytes_scanned_unpruned:
            saving = 1 - lake.bytes_scanned / lake.bytes_scanned_unpruned
            metric = (
                f"bytes the lake reads for '{qb.query.title}' with partition and row-group pruning, "
                "against the same query with pruning disabled"
            )
            detail = (
                f"{lake.bytes_scanned:,} of {lake.bytes_scanned_unpruned:,} bytes; "
                f"files {lake.files_read} of {lake.files_unpruned}; "
                f"row groups {lake.row_groups_scanned} of {lake.row_groups_total}"
            )
            claim = "Partitioning reduces scan costs by 60-80%"
            return [
                Claim(
                    claim=claim,
                    metric=metric,
                    measured=round(saving, 4),
                    threshold=0.6,
                    holds=saving >= 0.6,
                    detail=detail,
                )
            ]
    return []


def judge_claims(report: BenchmarkReport) -> list[Claim]:
    """A verdict per claim of the original demo, with the figure measured on this lake (only measurable ones)."""
    ratio = report.storage.compression_ratio
    compression = Claim(
        claim="Parquet for 10x compression",
        metric="raw sales bytes (JSON + CSV) / processed sales_fact Parquet bytes (zstd, more columns)",
        measured=ratio or 0.0,
        threshold=10.0,
        holds=bool(ratio and ratio >= 10.0),
    )
    return [
        *_ratio_claim(
            report.ratios.get("lake_vs_raw"),
            "10x faster queries via columnar formats",
            "geometric-mean speedup of the lake (Parquet) over raw JSON/CSV, the demo table's 4 query types",
            10.0,
        ),
        *_pruning_claim(report),
        *([compression] if ratio else []),
        *_ratio_claim(
            report.ratios.get("warehouse_vs_lake"),
            "Redshift 5x-7.5x faster than Athena (the demo's benchmark table)",
            "geometric-mean speedup of the warehouse over the lake, the demo table's 4 query types",
            5.0,
        ),
    ]


# ----------------------------------------------------------------------------------- saving


def save_report(report: BenchmarkReport, results_dir: Path, chart: bool = True) -> dict[str, str]:
    """<results>/benchmark-latest.json plus a timestamped copy, and the timing chart (PNG) beside them."""
    results_dir.mkdir(parents=True, exist_ok=True)
    results = Results(results_dir)
    stamp = report.created.replace(":", "").replace("-", "").replace("+0000", "Z")
    saved: dict[str, str] = {}
    latest = results.benchmark
    stamped = results.benchmark_copy(stamp)
    if chart:
        png = results.benchmark_chart
        write_chart(report, png)
        saved["chart"] = str(png)
    saved["json"], saved["json_copy"] = str(latest), str(stamped)
    report.saved = dict(saved)
    text = json.dumps(report.to_dict(), indent=2, default=str) + "\n"
    tmp = latest.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(latest)  # readers (cost-report) never see half a file
    stamped.write_text(text, encoding="utf-8")
    return saved


def load_latest_benchmark(layout: LakeLayout) -> dict[str, Any] | None:
    """The last saved benchmark of this lake, or None when none was run (or the file is unreadable)."""
    try:
        return read_result(Results(layout.results).benchmark)
    except UnreadableResult:
        return None


def write_chart(report: BenchmarkReport, path: Path) -> None:
    """Median time per query and engine, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [q.query.title for q in report.queries]
    engines = report.engines
    width = 0.8 / max(len(engines), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.6 * len(names)), 4.8))
    try:
        for i, engine in enumerate(engines):
            values = [
                (q.results[engine].median_s or 0) if engine in q.results and not q.results[engine].error else 0
                for q in report.queries
            ]
            xs = [j + (i - (len(engines) - 1) / 2) * width for j in range(len(names))]
            ax.bar(xs, [v if v > 0 else float("nan") for v in values], width, label=engine)
        ax.set_yscale("log")
        ax.set_ylabel("median wall time (s, log scale)")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=20, ha="right")
        rows = f"{report.fact_rows:,} sales" if report.fact_rows else "sales"
        ax.set_title(f"datalake benchmark: {rows}, median of {report.repeat} run(s)")
        ax.legend()
        ax.grid(axis="y", which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)
