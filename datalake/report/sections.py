"""The report's sections: the pipeline, the benchmark and the costs, each as HTML and its chart count.

Each section takes the gathered ReportData and returns (html, charts); a section whose input is
missing shows the note gather() left for it (which command makes it).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from datalake.format import claim_figure, percent, verdict
from datalake.measure.benchmark.result import BenchmarkReport, Claim, QueryBenchmark, Speedup, StorageStats
from datalake.measure.cost.result import CostReport
from datalake.model import RunSummary, TableHistory, ValidationReport
from datalake.report import markup as m
from datalake.report import svgchart
from datalake.report.gather import ReportData
from datalake.report.svgchart import Series

DAYS_PER_MONTH = 365 / 12
ROLE_COLORS = {"raw": "#d95f02", "lake": "#1b9e77", "warehouse": "#7570b3"}
ROLE_LABELS = {"raw": "raw JSON/CSV", "lake": "lake (Parquet)", "warehouse": "warehouse"}
STAGE_COLORS = ("#1f78b4", "#33a02c", "#e6ab02", "#6a3d9a", "#b15928", "#999999")


def _charts(figures: list[str]) -> str:
    return '<div class="charts">' + "".join(figures) + "</div>" if figures else ""


def _section(section: str, title: str, blocks: list[list[str]], charts: int = 0) -> tuple[str, int]:
    """A section of the page from its blocks of HTML, in order, and how many charts it draws."""
    body = "".join(part for block in blocks for part in block)
    return f'<section id="{section}"><h2>{title}</h2>{body}</section>', charts


def _absent(section: str, title: str, note: str) -> tuple[str, int]:
    return _section(section, title, [[m.missing(note)]])


# ----------------------------------------------------------------------------------- pipeline


@dataclass
class _Runs:
    """The completed runs' row accounting, summed."""

    runs: list[RunSummary]
    rows_in: int = 0
    processed: int = 0
    quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, summaries: list[RunSummary]) -> _Runs:
        out = cls([r for r in summaries if r.rows_in])
        for r in out.runs:
            out.rows_in += r.rows_in
            out.processed += r.rows_processed
            out.quarantined += r.rows_quarantined
            for reason, n in r.by_reason.items():
                out.by_reason[reason] = out.by_reason.get(reason, 0) + int(n)
        return out


def _pipeline_cards(runs: _Runs, zones: dict[str, Any]) -> list[str]:
    cards = [(f"{zone} zone", svgchart.size(float(z.get("bytes") or 0))) for zone, z in zones.items()]
    if runs.runs:
        share = f"{m.num(runs.quarantined)} ({runs.quarantined / runs.rows_in:.2%})" if runs.rows_in else "0"
        cards = [
            ("rows in", m.num(runs.rows_in)),
            ("rows processed", m.num(runs.processed)),
            ("rows quarantined", share),
            ("ETL runs", m.num(len(runs.runs))),
            *cards,
        ]
    parts = [m.cards(cards)]
    if not runs.runs:
        parts.append(m.missing("no completed ETL run yet: run `datalake run-etl` to process the raw zone"))
    elif runs.rows_in != runs.processed + runs.quarantined:
        total = runs.processed + runs.quarantined
        parts.append(m.missing(f"rows in ({runs.rows_in:,}) != processed + quarantined ({total:,}): run validate"))
    return parts


def _pipeline_figures(runs: _Runs, zones: dict[str, Any]) -> list[str]:
    figures = []
    if zones:
        groups = [
            (f"{zone} · {m.num(z.get('files'))} files", [float(z.get("bytes") or 0)]) for zone, z in zones.items()
        ]
        chart = svgchart.hbar_chart(groups, [Series("bytes", "#1f78b4")], "Zone sizes", fmt=svgchart.size)
        figures.append(m.figure(chart, "Size and file count of each zone."))
    if runs.by_reason:
        reasons = sorted(runs.by_reason.items(), key=lambda kv: -kv[1])
        chart = svgchart.hbar_chart(
            [(r, [float(n)]) for r, n in reasons],
            [Series("rows", "#e7298a")],
            "Quarantined rows by reason",
            fmt=lambda v: f"{v:,.0f}",
        )
        caption = (
            f"{runs.quarantined:,} rows quarantined over {len(runs.runs)} run(s), "
            "by the quality rule that rejected them."
        )
        figures.append(m.figure(chart, caption))
    last = runs.runs[-5:]
    stages = sorted({s for r in last for s in r.stages})
    if last and stages:
        series = [Series(s, STAGE_COLORS[i % len(STAGE_COLORS)]) for i, s in enumerate(stages)]
        rows = [(f"{r.run_id or '?'} · {r.engine}", [float(r.stages.get(s, 0.0)) for s in stages]) for r in last]
        chart = svgchart.stacked_hbar(rows, series, "Last runs: seconds per stage", fmt=svgchart.seconds)
        figures.append(m.figure(chart, "Wall-clock seconds of the last runs, split by stage."))
    return figures


def _cells(records: list[dict[str, Any]], columns: list[tuple[str, Callable[[Any], str]]]) -> list[list[str]]:
    """One row per record: each column's key, shown by its formatter."""
    return [[show(r.get(key)) for key, show in columns] for r in records]


def _size_or_dash(value: Any) -> str:
    return svgchart.size(float(value)) if value is not None else "-"


def _runs_table(status_runs: list[dict[str, Any]]) -> list[str]:
    if not status_runs:
        return []
    texts = [(key, m.esc) for key in ("run_id", "status", "engine", "started")]
    numbers = [(key, m.num) for key in ("rows_in", "rows_processed", "rows_quarantined", "seconds")]
    rows = _cells(list(reversed(status_runs)), [*texts, *numbers])
    headers = ["run", "status", "engine", "started", "rows in", "processed", "quarantined", "seconds"]
    return ["<h3>Last runs</h3>", m.table(headers, rows, numeric={4, 5, 6, 7})]


def _zones_table(zones: dict[str, Any]) -> list[str]:
    if not zones:
        return []
    rows = [[m.esc(z), m.num(v.get("files")), svgchart.size(float(v.get("bytes") or 0))] for z, v in zones.items()]
    return ["<h3>Zones</h3>", m.table(["zone", "files", "size"], rows, numeric={1, 2})]


def _catalog_table(tables: list[dict[str, Any]]) -> list[str]:
    if not tables:
        return []
    texts = [(key, m.esc) for key in ("database", "table", "format")]
    numbers = [(key, m.num) for key in ("rows", "partitions", "files")]
    snapshots = ("snapshots", lambda n: m.num(n) if n is not None else "")
    rows = _cells(tables, [*texts, *numbers, ("bytes", _size_or_dash), snapshots])
    headers = ["database", "table", "format", "rows", "partitions", "files", "size", "snapshots"]
    return ["<h3>Catalog</h3>", m.table(headers, rows, numeric={3, 4, 5, 6, 7})]


def _warehouse_line(warehouse: dict[str, Any]) -> list[str]:
    if not warehouse:
        return []
    counts = (f"{m.esc(name)} <strong>{m.num(n)}</strong>" for name, n in warehouse.items() if not name.startswith("_"))
    return ["<p>Warehouse rows: " + ", ".join(counts) + "</p>"]


def _validation_table(validation: ValidationReport | None) -> list[str]:
    if validation is None:
        return []
    rows = [
        [m.esc(c.name), f'<span class="{m.esc(c.status)}">{m.esc(c.status)}</span>', m.esc(c.detail)]
        for c in validation.checks
    ]
    title = f"<h3>Validation: {'all checks pass' if validation.ok else 'some checks fail'}</h3>"
    return [title, m.table(["check", "status", "detail"], rows)]


def _history_table(history: TableHistory | None) -> list[str]:
    """The fact table's Iceberg snapshots, newest first: each run's one commit, and what it added."""
    if history is None or not history.snapshots:
        return []
    rows = [
        [
            m.esc(f"{s.snapshot_id}{' (current)' if s.current else ''}"),
            m.esc(s.committed_at[:19].replace("T", " ")),
            m.esc(s.operation or ""),
            m.esc(s.run_id or ("(migrated)" if s.migrated else "")),
            m.esc(f"+{s.added_files:,} / -{s.removed_files:,}"),
            m.esc(f"+{s.added_rows:,} / -{s.removed_rows:,}"),
            m.num(s.total_rows),
        ]
        for s in reversed(history.snapshots)
    ]
    headers = ["snapshot", "committed (UTC)", "operation", "run", "files +/-", "rows +/-", "rows"]
    title = f"<h3>Snapshots of {m.esc(history.table)} ({len(rows)}; `datalake query --as-of ID` reads any)</h3>"
    return [title, m.table(headers, rows, numeric={6})]


def pipeline_section(data: ReportData) -> tuple[str, int]:
    st = data.status
    runs = _Runs.of(data.runs)
    figures = _pipeline_figures(runs, st.zones)
    blocks = [
        _pipeline_cards(runs, st.zones),
        [_charts(figures)],
        _runs_table(st.runs),
        _zones_table(st.zones),
        _catalog_table(st.tables),
        _history_table(data.history),
        _warehouse_line(st.warehouse),
        _validation_table(data.validation),
    ]
    return _section("pipeline", "The pipeline", blocks, len(figures))


# ----------------------------------------------------------------------------------- benchmark


def _engines(bench: BenchmarkReport) -> list[str]:
    engines = list(bench.engines)
    for q in bench.queries:
        engines += [e for e in q.results if e not in engines]
    return engines


def _engine_series(bench: BenchmarkReport, engines: list[str]) -> list[Series]:
    out = []
    for i, engine in enumerate(engines):
        role = bench.roles.get(engine, engine)
        label = ROLE_LABELS.get(role, role)
        name = label if engine == role else f"{engine} ({label})"
        out.append(Series(name, ROLE_COLORS.get(role, svgchart.PALETTE[(i + 3) % len(svgchart.PALETTE)])))
    return out


def _median(q: QueryBenchmark, engine: str) -> float | None:
    run = q.results.get(engine)
    return None if run is None or run.error else run.timing.median_s


def _scanned(q: QueryBenchmark, engine: str) -> float | None:
    run = q.results.get(engine)
    return None if run is None or run.error or run.bytes_scanned is None else float(run.bytes_scanned)


def _speedups(bench: BenchmarkReport, engines: list[str]) -> list[tuple[str, dict[str, Speedup]]]:
    """(title, {query: speedup and scan reduction}) per compared pair: saved ratios, else from the medians."""
    if bench.ratios:
        return [(f"{r.engine or key} vs {r.baseline}".strip(), r.per_query) for key, r in bench.ratios.items()]
    out = []
    for base, cand in itertools.pairwise(engines):
        per_query: dict[str, Speedup] = {}
        for q in bench.queries:
            b, c = _median(q, base), _median(q, cand)
            bb, cb = _scanned(q, base), _scanned(q, cand)
            per_query[q.query.name] = Speedup(
                speedup=b / c if b and c else None,
                scan_reduction=1 - cb / bb if bb and cb is not None else None,
            )
        out.append((f"{cand} vs {base}", per_query))
    return out


def _claim_value(value: Any, threshold: Any) -> str:
    return m.esc(claim_figure(value, threshold, ratio=",.2f", suffix="×"))


def _verdict(holds: bool | None) -> str:
    if holds is None:
        return "-"
    return f'<span class="{"pass" if holds else "fail"}">{"✓" if holds else "✗"} {verdict(holds)}</span>'


def _benchmark_cards(bench: BenchmarkReport, engines: list[str]) -> list[str]:
    mismatched = [q.query.title for q in bench.queries if not q.match]
    cards = [
        ("fact rows", m.num(bench.fact_rows)),
        ("query types", m.num(len(bench.queries))),
        ("engines", m.esc(", ".join(engines))),
        ("runs per query", m.num(bench.repeat)),
        ("answers agree", "yes" if not mismatched else f"no ({len(mismatched)})"),
    ]
    if bench.storage.compression_ratio:
        cards.append(("raw / Parquet bytes", f"{float(bench.storage.compression_ratio):.2f}×"))
    parts = [
        m.cards(cards),
        f'<p class="meta">Measured {m.esc(bench.created)} on the {m.esc(bench.target)} target.</p>',
    ]
    if mismatched:
        parts.append(m.missing("engines disagree on: " + ", ".join(mismatched)))
    return parts


def _claims_table(claims: list[Claim]) -> list[str]:
    if not claims:
        return []
    rows = []
    for c in claims:
        detail = c.get("metric") or ""
        if c.get("detail"):
            detail = f"{detail} ({c['detail']})"
        rows.append(
            [
                m.esc(c.get("claim")),
                _claim_value(c.get("measured"), c.get("threshold")),
                _claim_value(c.get("threshold"), c.get("threshold")),
                _verdict(c.get("holds")),
                m.esc(detail),
            ]
        )
    headers = ["claim", "measured", "needed", "verdict", "how it was measured"]
    return ["<h3>The original demo's claims, measured</h3>", m.table(headers, rows, numeric={1, 2})]


def _benchmark_figures(bench: BenchmarkReport, engines: list[str]) -> list[str]:
    series = _engine_series(bench, engines)
    figures = []
    times = [(q.query.title, [_median(q, e) for e in engines]) for q in bench.queries]
    if any(v for _, vs in times for v in vs):
        chart = svgchart.hbar_chart(
            times, series, "Median time per query type", fmt=svgchart.seconds, log=True, axis_label="seconds"
        )
        caption = "Median wall-clock time of each query type on each engine (log scale: each grid line is 10×)."
        figures.append(m.figure(chart, caption))
    scanned = [(q.query.title, [_scanned(q, e) for e in engines]) for q in bench.queries]
    if any(v for _, vs in scanned for v in vs):
        chart = svgchart.hbar_chart(
            scanned,
            series,
            "Bytes scanned per query type",
            fmt=svgchart.size,
            log=True,
            axis_label="bytes",
            log_base=32,
        )
        caption = "Bytes each engine read to answer each query (log scale): what Athena would bill."
        figures.append(m.figure(chart, caption))
    return figures


def _speedup_table(bench: BenchmarkReport, engines: list[str]) -> list[str]:
    speedups = _speedups(bench, engines)
    if not speedups:
        return []
    headers = ["query"]
    for title, _ in speedups:
        headers += [f"{title}: faster", f"{title}: less scanned"]
    rows = []
    for q in bench.queries:
        row = [m.esc(q.query.title)]
        for _, per_query in speedups:
            r = per_query.get(q.query.name) or Speedup()
            sp, red = r.speedup, r.scan_reduction
            row += [f"{sp:,.1f}×" if sp is not None else "-", f"{red:.1%}" if red is not None else "-"]
        rows.append(row)
    return ["<h3>Speedups and scan reductions</h3>", m.table(headers, rows, numeric=set(range(1, len(headers))))]


def _storage_line(storage: StorageStats) -> list[str]:
    raw = svgchart.size(float(storage.raw_bytes or 0))
    parquet = svgchart.size(float(storage.parquet_bytes or 0))
    return [f"<p>Storage: raw sales <strong>{raw}</strong> as JSON + CSV, <strong>{parquet}</strong> as Parquet.</p>"]


def benchmark_section(data: ReportData) -> tuple[str, int]:
    bench = data.benchmark
    if bench is None:
        note = data.notes.get("benchmark", "no benchmark yet: run `datalake benchmark`")
        return _absent("benchmark", "The benchmark", note)
    engines = _engines(bench)
    figures = _benchmark_figures(bench, engines)
    blocks = [
        _benchmark_cards(bench, engines),
        _claims_table(bench.claims),
        [_charts(figures)],
        _speedup_table(bench, engines),
        _storage_line(bench.storage),
    ]
    return _section("benchmark", "The benchmark", blocks, len(figures))


# ----------------------------------------------------------------------------------- costs


def _break_even_chart(cost: CostReport) -> tuple[str, str] | None:
    be = cost.break_even
    per_query, monthly, point = be.athena_usd_per_query, be.redshift_monthly_usd, be.queries_per_day
    if not point:
        return None
    qpd = float(cost.assumptions.queries_per_day or 0)
    x_max = 3 * float(point)
    if 0 < qpd <= 10 * float(point):
        x_max = max(x_max, qpd * 1.2)
    steps = 12
    xs = [x_max * i / steps for i in range(steps + 1)]
    markers = [(float(point), f"break-even {float(point):,.3g}/day")]
    if 0 < qpd <= x_max:
        markers.append((qpd, f"chosen {qpd:g}/day"))
    svg = svgchart.line_chart(
        xs,
        [
            (Series("Athena (pay per query)", "#1b9e77"), [per_query * x * DAYS_PER_MONTH for x in xs]),
            (Series(f"Redshift {be.warehouse}", "#7570b3", dashed=True), [float(monthly)] * len(xs)),
        ],
        "Athena vs Redshift: monthly cost by queries per day",
        x_label="queries per day",
        y_fmt=svgchart.usd_short,
        markers=markers,
    )
    where = (
        f" At the chosen {qpd:g} queries/day, "
        + ("Athena is cheaper." if qpd < float(point) else "the provisioned warehouse is cheaper.")
        if qpd
        else ""
    )
    caption = (
        f"Athena at {svgchart.usd(per_query)} per query (the benchmark's mix) against a provisioned warehouse at "
        f"{svgchart.usd(monthly)}/month: break-even at {float(point):,.3g} queries/day.{where}"
    )
    return svg, caption


def _cost_cards(cost: CostReport) -> list[str]:
    a = cost.assumptions
    cards = [
        ("month 1 total", svgchart.usd(float(cost.total_month1_usd or 0))),
        (f"{a.months}-month total", svgchart.usd(float(cost.total_horizon_usd or 0))),
        ("scale", m.esc(a.scale or "the measured size")),
        ("queries per day", m.num(a.queries_per_day)),
        ("region", m.esc(cost.region)),
    ]
    meta = (
        f'<p class="meta">Priced {m.esc(cost.created)} with the {m.esc(cost.prices.source)} price table '
        f"({m.esc(cost.prices.date)}); scans from {m.esc(a.scan_source)}.</p>"
    )
    return [m.cards(cards), meta]


def _services_figure(cost: CostReport) -> list[str]:
    services = {k: float(v) for k, v in cost.by_service.items() if v > 0}
    if not services:
        return []
    ordered = sorted(services.items(), key=lambda kv: -kv[1])
    log = ordered[0][1] > 100 * ordered[-1][1]
    chart = svgchart.hbar_chart(
        [(k, [v]) for k, v in ordered],
        [Series("USD per month", "#1f78b4")],
        "Monthly cost by service (month 1)",
        fmt=svgchart.usd,
        log=log,
        tick_fmt=svgchart.usd_short,
        axis_label="USD per month",
    )
    return [m.figure(chart, "Month 1 of the projection, by AWS service" + (" (log scale)." if log else "."))]


def _storage_figure(cost: CostReport) -> list[str]:
    lifecycle, standard = cost.storage.lifecycle_usd, cost.storage.standard_only_usd
    if not (lifecycle and standard):
        return []
    months = list(range(1, len(lifecycle) + 1))
    saved = sum(standard) - sum(lifecycle)
    chart = svgchart.line_chart(
        [float(month) for month in months],
        [
            (Series("everything in S3 Standard", "#d95f02", dashed=True), [float(v) for v in standard]),
            (Series("lifecycle rules from infra/", "#1b9e77"), [float(v) for v in lifecycle]),
        ],
        "S3 storage bill per month: lifecycle vs all-Standard",
        x_label="month",
        y_fmt=svgchart.usd_short,
        x_fmt=lambda v: f"{v:.0f}",
    )
    caption = f"Storage bill over {len(months)} months; the lifecycle rules save {svgchart.usd(saved)} in total."
    return [m.figure(chart, caption)]


def _cost_figures(cost: CostReport) -> list[str]:
    be = _break_even_chart(cost)
    return [*_services_figure(cost), *_storage_figure(cost), *([m.figure(*be)] if be else [])]


def _savings_table(cost: CostReport) -> list[str]:
    if not cost.savings:
        return []
    rows = [
        [
            m.esc(s.name),
            percent(s.percent),
            svgchart.usd(float(s.baseline_usd_month or 0)),
            svgchart.usd(float(s.optimised_usd_month or 0)),
        ]
        for s in cost.savings
    ]
    headers = ["saving", "percent", "baseline / month", "optimised / month"]
    return ["<h3>Savings the demo claims, computed</h3>", m.table(headers, rows, numeric={1, 2, 3})]


def _projection_tables(cost: CostReport) -> list[str]:
    a = cost.assumptions
    projection = [
        ["measured raw data", svgchart.size(float(a.measured_raw_bytes or 0))],
        ["projected raw data", svgchart.size(float(a.projected_raw_bytes or 0))],
        ["growth per month", percent(float(a.growth_per_month or 0) * 100)],
        ["months", m.num(a.months)],
    ]
    parts = [
        f"<h3>Projection at {m.esc(a.scale or 'the measured size')}</h3>",
        m.table(["assumption", "value"], projection, numeric={1}, cls="narrow"),
    ]
    if cost.months:
        rows = [[m.num(x.month), svgchart.usd(float(x.total_usd or 0))] for x in cost.months]
        parts.append(m.table(["month", "total"], rows, numeric={0, 1}, cls="narrow"))
    return parts


def _notes(notes: list[str]) -> list[str]:
    return ['<ul class="notes">' + "".join(f"<li>{m.esc(n)}</li>" for n in notes) + "</ul>"] if notes else []


def cost_section(data: ReportData) -> tuple[str, int]:
    cost = data.cost
    if cost is None:
        return _absent("costs", "The costs", data.notes.get("costs", "no cost report yet: run `datalake cost-report`"))
    figures = _cost_figures(cost)
    blocks = [_cost_cards(cost), [_charts(figures)], _savings_table(cost), _projection_tables(cost), _notes(cost.notes)]
    return _section("costs", "The costs", blocks, len(figures))
