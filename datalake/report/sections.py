"""`datalake report`: one self-contained HTML page with the lake, the benchmark and the costs.

The page is read offline (from disk, attached to a mail, printed): styles are inline, charts are
inline SVG drawn here (datalake.report.svgchart), no script and no external resource. Sections whose
inputs are missing (no benchmark yet, no cost report yet) say which command makes them.
Inputs: the target's status and services, the run journals, validation, and the saved
results/benchmark-latest.json and results/cost-latest.json.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from datalake.errors import DatalakeError
from datalake.format import claim_figure, percent, verdict
from datalake.layout import LakeLayout
from datalake.measure.results import BENCHMARK_FILE, COST_FILE, NOT_AN_OBJECT, Results, UnreadableResult, read_result
from datalake.report import svgchart
from datalake.report.svgchart import Series
from datalake.targets.base import Target

DAYS_PER_MONTH = 365 / 12
ROLE_COLORS = {"raw": "#d95f02", "lake": "#1b9e77", "warehouse": "#7570b3"}
ROLE_LABELS = {"raw": "raw JSON/CSV", "lake": "lake (Parquet)", "warehouse": "warehouse"}
STAGE_COLORS = ("#1f78b4", "#33a02c", "#e6ab02", "#6a3d9a", "#b15928", "#999999")


@dataclass
class ReportData:
    """Everything the page shows, gathered once (render_html is pure)."""

    created: str
    target: str
    lake: str
    services: dict[str, str]
    status: dict[str, Any]
    journals: list[dict[str, Any]]
    validation: dict[str, Any] | None
    benchmark: dict[str, Any] | None
    cost: dict[str, Any] | None
    notes: dict[str, str] = field(default_factory=dict)  # section -> why it is missing


@dataclass
class ReportResult:
    path: Path
    sections: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "sections": self.sections}


# ----------------------------------------------------------------------------------- gathering


def _as_target(target_or_layout: Target | LakeLayout) -> Target:
    if isinstance(target_or_layout, Target):
        return target_or_layout
    from datalake.config import Settings
    from datalake.targets.local.target import LocalTarget

    return LocalTarget(Settings(lake=target_or_layout.root))


def _read_result(path: Path, command: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = read_result(path)
    except UnreadableResult as exc:
        problem = f"is {NOT_AN_OBJECT}" if exc.reason == NOT_AN_OBJECT else f"is unreadable ({exc.reason})"
        return None, f"{path} {problem}: run `{command}` again"
    if data is None:
        return None, f"no {path.name} yet: run `{command}` to add this section"
    return data, None


def gather(target_or_layout: Target | LakeLayout, now: datetime | None = None) -> ReportData:
    """Read every input of the page; the lake must exist, the results are optional."""
    from datalake.targets.local.etl.run import journals

    target = _as_target(target_or_layout)
    status = target.status()
    try:
        validation: dict[str, Any] | None = target.validate()
    except DatalakeError:
        validation = None  # not every target can validate yet; the page shows what it has
    results = Results.of(target.settings.lake)
    benchmark, bench_note = _read_result(results.benchmark, "datalake benchmark")
    if benchmark is not None and not isinstance(benchmark.get("queries"), list):
        benchmark, bench_note = None, f"{results.benchmark} has no queries: run `datalake benchmark` again"
    cost, cost_note = _read_result(results.cost, "datalake cost-report")
    notes = {k: v for k, v in (("benchmark", bench_note), ("costs", cost_note)) if v}
    return ReportData(
        created=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        target=target.name,
        lake=str(status.get("lake", target.settings.lake)),
        services=target.services(),
        status=status,
        journals=journals(LakeLayout(target.settings.lake)),
        validation=validation,
        benchmark=benchmark,
        cost=cost,
        notes=notes,
    )


# ----------------------------------------------------------------------------------- small HTML helpers


def _e(value: Any) -> str:
    return escape("-" if value is None else str(value))


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None, cls: str = "") -> str:
    numeric = numeric or set()
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    labels = [escape(str(h), quote=True) for h in headers]
    body = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{labels[i]}"{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    # Wide tables become one block per row in a narrow window (CSS `table.stack`).
    classes = " ".join(c for c in (cls, "stack" if len(headers) > 3 else "") if c)
    klass = f' class="{classes}"' if classes else ""
    return f'<div class="table-wrap"><table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _cards(items: list[tuple[str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="value">{v}</div><div class="key">{_e(k)}</div></div>' for k, v in items
        )
        + "</div>"
    )


def _missing(note: str) -> str:
    return f'<p class="missing">{_e(note)}</p>'


# ----------------------------------------------------------------------------------- pipeline


def _completed(journals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [j["summary"] for j in journals if isinstance(j.get("summary"), dict) and j["summary"].get("rows_in")]


def pipeline_section(data: ReportData) -> tuple[str, int]:
    st = data.status
    charts = 0
    parts = ['<section id="pipeline"><h2>The pipeline</h2>']
    zones = st.get("zones") or {}
    runs = _completed(data.journals)
    rows_in = sum(int(r.get("rows_in") or 0) for r in runs)
    processed = sum(int(r.get("rows_processed") or 0) for r in runs)
    quarantined = sum(int(r.get("rows_quarantined") or 0) for r in runs)
    by_reason: dict[str, int] = {}
    for r in runs:
        for reason, n in (r.get("by_reason") or {}).items():
            by_reason[reason] = by_reason.get(reason, 0) + int(n)
    cards = [(f"{zone} zone", svgchart.size(float(z.get("bytes") or 0))) for zone, z in zones.items()]
    if runs:
        cards = [
            ("rows in", _num(rows_in)),
            ("rows processed", _num(processed)),
            ("rows quarantined", f"{_num(quarantined)} ({quarantined / rows_in:.2%})" if rows_in else "0"),
            ("ETL runs", _num(len(runs))),
            *cards,
        ]
    parts.append(_cards(cards))
    if not runs:
        parts.append(_missing("no completed ETL run yet: run `datalake run-etl` to process the raw zone"))
    elif rows_in != processed + quarantined:
        parts.append(
            _missing(f"rows in ({rows_in:,}) != processed + quarantined ({processed + quarantined:,}): run validate")
        )

    figures = []
    if zones:
        groups = [(f"{zone} · {_num(z.get('files'))} files", [float(z.get("bytes") or 0)]) for zone, z in zones.items()]
        figures.append(
            _figure(
                svgchart.hbar_chart(groups, [Series("bytes", "#1f78b4")], "Zone sizes", fmt=svgchart.size),
                "Size and file count of each zone.",
            )
        )
    if by_reason:
        reasons = sorted(by_reason.items(), key=lambda kv: -kv[1])
        figures.append(
            _figure(
                svgchart.hbar_chart(
                    [(r, [float(n)]) for r, n in reasons],
                    [Series("rows", "#e7298a")],
                    "Quarantined rows by reason",
                    fmt=lambda v: f"{v:,.0f}",
                ),
                f"{quarantined:,} rows quarantined over {len(runs)} run(s), by the quality rule that rejected them.",
            )
        )
    last = runs[-5:]
    stages = sorted({s for r in last for s in (r.get("stages") or {})})
    if last and stages:
        series = [Series(s, STAGE_COLORS[i % len(STAGE_COLORS)]) for i, s in enumerate(stages)]
        rows = [
            (
                f"{r.get('run_id', '?')} · {r.get('engine') or ''}",
                [float((r.get("stages") or {}).get(s, 0.0)) for s in stages],
            )
            for r in last
        ]
        figures.append(
            _figure(
                svgchart.stacked_hbar(rows, series, "Last runs: seconds per stage", fmt=svgchart.seconds),
                "Wall-clock seconds of the last runs, split by stage.",
            )
        )
    charts += len(figures)
    if figures:
        parts.append('<div class="charts">' + "".join(figures) + "</div>")

    status_runs = st.get("runs") or []
    if status_runs:
        parts.append("<h3>Last runs</h3>")
        parts.append(
            _table(
                ["run", "status", "engine", "started", "rows in", "processed", "quarantined", "seconds"],
                [
                    [
                        _e(r.get("run_id")),
                        _e(r.get("status")),
                        _e(r.get("engine")),
                        _e(r.get("started")),
                        _num(r.get("rows_in")),
                        _num(r.get("rows_processed")),
                        _num(r.get("rows_quarantined")),
                        _num(r.get("seconds")),
                    ]
                    for r in reversed(status_runs)
                ],
                numeric={4, 5, 6, 7},
            )
        )
    if zones:
        parts.append("<h3>Zones</h3>")
        parts.append(
            _table(
                ["zone", "files", "size"],
                [[_e(z), _num(v.get("files")), svgchart.size(float(v.get("bytes") or 0))] for z, v in zones.items()],
                numeric={1, 2},
            )
        )
    tables = st.get("tables") or []
    if tables:
        parts.append("<h3>Catalog</h3>")
        parts.append(
            _table(
                ["database", "table", "format", "rows", "partitions", "files", "size"],
                [
                    [
                        _e(t.get("database")),
                        _e(t.get("table")),
                        _e(t.get("format")),
                        _num(t.get("rows")),
                        _num(t.get("partitions")),
                        _num(t.get("files")),
                        svgchart.size(float(t["bytes"])) if t.get("bytes") is not None else "-",
                    ]
                    for t in tables
                ],
                numeric={3, 4, 5, 6},
            )
        )
    warehouse = st.get("warehouse") or {}
    if warehouse:
        parts.append(
            "<p>Warehouse rows: "
            + ", ".join(
                f"{_e(name)} <strong>{_num(n)}</strong>" for name, n in warehouse.items() if not name.startswith("_")
            )
            + "</p>"
        )
    if data.validation:
        checks = data.validation.get("checks") or []
        ok = data.validation.get("ok")
        parts.append(f"<h3>Validation: {'all checks pass' if ok else 'some checks fail'}</h3>")
        parts.append(
            _table(
                ["check", "status", "detail"],
                [
                    [
                        _e(c.get("name")),
                        f'<span class="{_e(c.get("status"))}">{_e(c.get("status"))}</span>',
                        _e(c.get("detail")),
                    ]
                    for c in checks
                ],
            )
        )
    parts.append("</section>")
    return "".join(parts), charts


# ----------------------------------------------------------------------------------- benchmark


def _engines(bench: dict[str, Any]) -> list[str]:
    engines = [e for e in bench.get("engines") or [] if isinstance(e, str)]
    for q in bench["queries"]:
        engines += [e for e in (q.get("results") or {}) if e not in engines]
    return engines


def _role(bench: dict[str, Any], engine: str) -> str:
    return str((bench.get("roles") or {}).get(engine, engine))


def _engine_series(bench: dict[str, Any], engines: list[str]) -> list[Series]:
    out = []
    for i, engine in enumerate(engines):
        role = _role(bench, engine)
        label = ROLE_LABELS.get(role, role)
        name = label if engine == role else f"{engine} ({label})"
        out.append(Series(name, ROLE_COLORS.get(role, svgchart.PALETTE[(i + 3) % len(svgchart.PALETTE)])))
    return out


def _metric(bench: dict[str, Any], q: dict[str, Any], engine: str, key: str) -> float | None:
    r = (q.get("results") or {}).get(engine) or {}
    value = r.get(key)
    if r.get("error") or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _speedups(bench: dict[str, Any], engines: list[str]) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """(title, {query: {speedup, scan_reduction}}) per compared pair: saved ratios, else from the medians."""
    ratios = bench.get("ratios")
    if isinstance(ratios, dict) and ratios:
        out = []
        for key, r in ratios.items():
            if isinstance(r, dict) and isinstance(r.get("per_query"), dict):
                title = f"{r.get('engine', key)} vs {r.get('baseline', '')}".strip()
                out.append((title, r["per_query"]))
        if out:
            return out
    out = []
    for base, cand in itertools.pairwise(engines):
        per_query: dict[str, dict[str, Any]] = {}
        for q in bench["queries"]:
            b, c = _metric(bench, q, base, "median_s"), _metric(bench, q, cand, "median_s")
            bb, cb = _metric(bench, q, base, "bytes_scanned"), _metric(bench, q, cand, "bytes_scanned")
            per_query[str(q.get("name"))] = {
                "speedup": b / c if b and c else None,
                "scan_reduction": 1 - cb / bb if bb and cb is not None else None,
            }
        out.append((f"{cand} vs {base}", per_query))
    return out


def _claim_value(value: Any, threshold: Any) -> str:
    return escape(claim_figure(value, threshold, ratio=",.2f", suffix="×"))


def _verdict(holds: bool | None) -> str:
    if holds is None:
        return "-"
    return f'<span class="{"pass" if holds else "fail"}">{"✓" if holds else "✗"} {verdict(holds)}</span>'


def benchmark_section(data: ReportData) -> tuple[str, int]:
    parts = ['<section id="benchmark"><h2>The benchmark</h2>']
    bench = data.benchmark
    if bench is None:
        parts.append(_missing(data.notes.get("benchmark", "no benchmark yet: run `datalake benchmark`")))
        parts.append("</section>")
        return "".join(parts), 0
    engines = _engines(bench)
    series = _engine_series(bench, engines)
    queries = [q for q in bench["queries"] if isinstance(q, dict)]
    titles = [str(q.get("title") or q.get("name")) for q in queries]
    mismatched = [t for q, t in zip(queries, titles, strict=True) if q.get("match") is False]
    storage = bench.get("storage") or {}
    cards = [
        ("fact rows", _num(bench.get("fact_rows"))),
        ("query types", _num(len(queries))),
        ("engines", _e(", ".join(engines))),
        ("runs per query", _num(bench.get("repeat"))),
        ("answers agree", "yes" if not mismatched else f"no ({len(mismatched)})"),
    ]
    if storage.get("compression_ratio"):
        cards.append(("raw / Parquet bytes", f"{float(storage['compression_ratio']):.2f}×"))
    parts.append(_cards(cards))
    parts.append(f'<p class="meta">Measured {_e(bench.get("created"))} on the {_e(bench.get("target"))} target.</p>')
    if mismatched:
        parts.append(_missing("engines disagree on: " + ", ".join(mismatched)))

    claims = [c for c in bench.get("claims") or [] if isinstance(c, dict)]
    if claims:
        parts.append("<h3>The original demo's claims, measured</h3>")
        rows = []
        for c in claims:
            detail = c.get("metric") or ""
            if c.get("detail"):
                detail = f"{detail} ({c['detail']})"
            rows.append(
                [
                    _e(c.get("claim")),
                    _claim_value(c.get("measured"), c.get("threshold")),
                    _claim_value(c.get("threshold"), c.get("threshold")),
                    _verdict(c.get("holds")),
                    _e(detail),
                ]
            )
        parts.append(_table(["claim", "measured", "needed", "verdict", "how it was measured"], rows, numeric={1, 2}))

    figures = []
    times = [(t, [_metric(bench, q, e, "median_s") for e in engines]) for q, t in zip(queries, titles, strict=True)]
    if any(v for _, vs in times for v in vs):
        figures.append(
            _figure(
                svgchart.hbar_chart(
                    times, series, "Median time per query type", fmt=svgchart.seconds, log=True, axis_label="seconds"
                ),
                "Median wall-clock time of each query type on each engine (log scale: each grid line is 10×).",
            )
        )
    scanned = [
        (t, [_metric(bench, q, e, "bytes_scanned") for e in engines]) for q, t in zip(queries, titles, strict=True)
    ]
    if any(v for _, vs in scanned for v in vs):
        figures.append(
            _figure(
                svgchart.hbar_chart(
                    scanned,
                    series,
                    "Bytes scanned per query type",
                    fmt=svgchart.size,
                    log=True,
                    axis_label="bytes",
                    log_base=32,
                ),
                "Bytes each engine read to answer each query (log scale): what Athena would bill.",
            )
        )
    if figures:
        parts.append('<div class="charts">' + "".join(figures) + "</div>")

    speedups = _speedups(bench, engines)
    if speedups:
        parts.append("<h3>Speedups and scan reductions</h3>")
        headers = ["query"]
        for title, _ in speedups:
            headers += [f"{title}: faster", f"{title}: less scanned"]
        rows = []
        for q, t in zip(queries, titles, strict=True):
            row = [_e(t)]
            for _, per_query in speedups:
                r = per_query.get(str(q.get("name"))) or {}
                sp, red = r.get("speedup"), r.get("scan_reduction")
                row += [
                    f"{sp:,.1f}×" if isinstance(sp, int | float) else "-",
                    f"{red:.1%}" if isinstance(red, int | float) else "-",
                ]
            rows.append(row)
        parts.append(_table(headers, rows, numeric=set(range(1, len(headers)))))
    if storage:
        parts.append(
            "<p>Storage: raw sales "
            f"<strong>{svgchart.size(float(storage.get('raw_bytes') or 0))}</strong> as JSON + CSV, "
            f"<strong>{svgchart.size(float(storage.get('parquet_bytes') or 0))}</strong> as Parquet.</p>"
        )
    parts.append("</section>")
    return "".join(parts), len(figures)


# ----------------------------------------------------------------------------------- costs


def _break_even_chart(cost: dict[str, Any]) -> tuple[str, str] | None:
    be = cost.get("break_even") or {}
    per_query = be.get("athena_usd_per_query")
    monthly = be.get("redshift_monthly_usd")
    point = be.get("queries_per_day")
    if not isinstance(per_query, int | float) or not isinstance(monthly, int | float) or not point:
        return None
    qpd = float((cost.get("assumptions") or {}).get("queries_per_day") or 0)
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
            (Series(f"Redshift {be.get('warehouse', '')}", "#7570b3", dashed=True), [float(monthly)] * len(xs)),
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


def cost_section(data: ReportData) -> tuple[str, int]:
    parts = ['<section id="costs"><h2>The costs</h2>']
    cost = data.cost
    if cost is None:
        parts.append(_missing(data.notes.get("costs", "no cost report yet: run `datalake cost-report`")))
        parts.append("</section>")
        return "".join(parts), 0
    a = cost.get("assumptions") or {}
    scale = a.get("scale") or "the measured size"
    cards = [
        ("month 1 total", svgchart.usd(float(cost.get("total_month1_usd") or 0))),
        (f"{a.get('months', '?')}-month total", svgchart.usd(float(cost.get("total_horizon_usd") or 0))),
        ("scale", _e(scale)),
        ("queries per day", _num(a.get("queries_per_day"))),
        ("region", _e(cost.get("region"))),
    ]
    parts.append(_cards(cards))
    prices = cost.get("prices") or {}
    parts.append(
        f'<p class="meta">Priced {_e(cost.get("created"))} with the {_e(prices.get("source"))} price table '
        f"({_e(prices.get('date'))}); scans from {_e(a.get('scan_source'))}.</p>"
    )
    figures = []
    services = {k: float(v) for k, v in (cost.get("by_service") or {}).items() if isinstance(v, int | float) and v > 0}
    if services:
        ordered = sorted(services.items(), key=lambda kv: -kv[1])
        values = [v for _, v in ordered]
        log = values[0] > 100 * values[-1]
        figures.append(
            _figure(
                svgchart.hbar_chart(
                    [(k, [v]) for k, v in ordered],
                    [Series("USD per month", "#1f78b4")],
                    "Monthly cost by service (month 1)",
                    fmt=svgchart.usd,
                    log=log,
                    tick_fmt=svgchart.usd_short,
                    axis_label="USD per month",
                ),
                "Month 1 of the projection, by AWS service" + (" (log scale)." if log else "."),
            )
        )
    storage = cost.get("storage") or {}
    lifecycle, standard = storage.get("lifecycle_usd") or [], storage.get("standard_only_usd") or []
    if lifecycle and standard:
        months = list(range(1, len(lifecycle) + 1))
        saved = sum(standard) - sum(lifecycle)
        figures.append(
            _figure(
                svgchart.line_chart(
                    [float(m) for m in months],
                    [
                        (Series("everything in S3 Standard", "#d95f02", dashed=True), [float(v) for v in standard]),
                        (Series("lifecycle rules from infra/", "#1b9e77"), [float(v) for v in lifecycle]),
                    ],
                    "S3 storage bill per month: lifecycle vs all-Standard",
                    x_label="month",
                    y_fmt=svgchart.usd_short,
                    x_fmt=lambda v: f"{v:.0f}",
                ),
                f"Storage bill over {len(months)} months; the lifecycle rules save {svgchart.usd(saved)} in total.",
            )
        )
    be = _break_even_chart(cost)
    if be:
        figures.append(_figure(*be))
    if figures:
        parts.append('<div class="charts">' + "".join(figures) + "</div>")

    savings = [s for s in cost.get("savings") or [] if isinstance(s, dict)]
    if savings:
        parts.append("<h3>Savings the demo claims, computed</h3>")
        parts.append(
            _table(
                ["saving", "percent", "baseline / month", "optimised / month"],
                [
                    [
                        _e(s.get("name")),
                        percent(s.get("percent")),
                        svgchart.usd(float(s.get("baseline_usd_month") or 0)),
                        svgchart.usd(float(s.get("optimised_usd_month") or 0)),
                    ]
                    for s in savings
                ],
                numeric={1, 2, 3},
            )
        )
    parts.append(f"<h3>Projection at {_e(scale)}</h3>")
    projection = [
        ["measured raw data", svgchart.size(float(a.get("measured_raw_bytes") or 0))],
        ["projected raw data", svgchart.size(float(a.get("projected_raw_bytes") or 0))],
        ["growth per month", percent(float(a.get("growth_per_month") or 0) * 100)],
        ["months", _num(a.get("months"))],
    ]
    parts.append(_table(["assumption", "value"], projection, numeric={1}, cls="narrow"))
    months_out = [m for m in cost.get("months") or [] if isinstance(m, dict)]
    if months_out:
        parts.append(
            _table(
                ["month", "total"],
                [[_num(m.get("month")), svgchart.usd(float(m.get("total_usd") or 0))] for m in months_out],
                numeric={0, 1},
                cls="narrow",
            )
        )
    notes = [n for n in cost.get("notes") or [] if isinstance(n, str)]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    parts.append("</section>")
    return "".join(parts), len(figures)


# ----------------------------------------------------------------------------------- architecture

# (role, title, column, row) on a 3 x 3 grid; arrows between roles with a short label.
BOXES = (
    ("raw", "Raw (landing)", 0, 0),
    ("etl", "ETL job", 1, 0),
    ("processed", "Processed", 2, 0),
    ("catalog", "Catalog", 0, 1),
    ("quarantine", "Quarantine", 1, 1),
    ("warehouse", "Warehouse", 2, 1),
    ("archive", "Archive", 0, 2),
    ("provisioning", "Provisioning", 1, 2),
    ("query", "Query (SQL)", 2, 2),
)
ARROWS = (
    ("raw", "etl", "read"),
    ("etl", "processed", "write"),
    ("raw", "catalog", "crawl"),
    ("etl", "quarantine", "reject"),
    ("processed", "warehouse", "load"),
    ("warehouse", "query", "SQL"),
)
BOX_W, BOX_H, GAP_X, GAP_Y, X0, Y0 = 176, 66, 40, 44, 20, 10


def _wrap(text: str, width: int = 24) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:2] or [""]


def architecture_svg(services: dict[str, str], title: str) -> str:
    pos = {role: (X0 + c * (BOX_W + GAP_X), Y0 + r * (BOX_H + GAP_Y)) for role, _, c, r in BOXES}
    body = [
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
    ]
    for role, name, _, _ in BOXES:
        x, y = pos[role]
        dashed = ' stroke-dasharray="5 4"' if role == "provisioning" else ""
        body.append(
            f'<g class="box box-{role}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8"{dashed}/>'
            f'<text x="{x + BOX_W / 2}" y="{y + 22}" text-anchor="middle" font-size="14" font-weight="bold">'
            f"{escape(name)}</text>"
        )
        for i, line in enumerate(_wrap(services.get(role, "-"))):
            body.append(
                f'<text x="{x + BOX_W / 2}" y="{y + 40 + i * 15}" text-anchor="middle" font-size="12">'
                f"{escape(line)}</text>"
            )
        body.append("</g>")

    def arrow(points: list[tuple[float, float]], label: str, lx: float, ly: float, anchor: str = "start") -> None:
        coords = " ".join(f"{a:.0f},{b:.0f}" for a, b in points)
        body.append(f'<polyline class="flow" points="{coords}" fill="none" marker-end="url(#arrow)"/>')
        body.append(
            f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" text-anchor="{anchor}" class="muted">{label}</text>'
        )

    for a, b, label in ARROWS:
        (ax, ay), (bx, by) = pos[a], pos[b]
        if ay == by:  # same row: left to right
            arrow(
                [(ax + BOX_W, ay + BOX_H / 2), (bx - 2, by + BOX_H / 2)],
                label,
                (ax + BOX_W + bx) / 2,
                ay + BOX_H / 2 - 6,
                "middle",
            )
        else:  # same column: downwards
            cx = ax + BOX_W / 2
            arrow([(cx, ay + BOX_H), (cx, by - 2)], label, cx + 6, (ay + BOX_H + by) / 2 + 4)
    (rx, ry), (axx, ayy) = pos["raw"], pos["archive"]
    arrow(
        [(rx, ry + BOX_H / 2), (rx - 12, ry + BOX_H / 2), (rx - 12, ayy + BOX_H / 2), (axx - 2, ayy + BOX_H / 2)],
        "",
        0,
        0,
    )
    body.append(
        f'<text x="{rx - 16}" y="{ry + BOX_H + GAP_Y + BOX_H + GAP_Y / 2}" font-size="11" class="muted" '
        f'transform="rotate(-90 {rx - 16} {ry + BOX_H + GAP_Y + BOX_H + GAP_Y / 2})" text-anchor="middle">age out</text>'
    )
    (px, py), (qx, qy) = pos["processed"], pos["query"]
    right = px + BOX_W + 12
    arrow(
        [
            (px + BOX_W, py + BOX_H / 2),
            (right, py + BOX_H / 2),
            (right, qy + BOX_H / 2),
            (qx + BOX_W + 2, qy + BOX_H / 2),
        ],
        "",
        0,
        0,
    )
    height = Y0 + 3 * BOX_H + 2 * GAP_Y + 10
    return (
        f'<svg class="chart chart-architecture" viewBox="0 0 640 {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" data-points="{len(BOXES)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def architecture_section(data: ReportData) -> tuple[str, int]:
    title = f"Architecture on the {data.target} target"
    parts = [
        f'<section id="architecture"><h2>{_e(title)}</h2>',
        _figure(
            architecture_svg(data.services, title),
            "Raw files are crawled into the catalog and transformed into partitioned Parquet; rejected rows go to "
            "quarantine; the warehouse is loaded from the processed zone; old raw data ages into the archive.",
        ),
        _table(
            ["role", f"on the {data.target} target"],
            [[_e(role), _e(service)] for role, service in data.services.items()],
            cls="narrow",
        ),
        "</section>",
    ]
    return "".join(parts), 1


# ----------------------------------------------------------------------------------- the page

CSS = """
:root { --fg: #1d1d1f; --muted: #6b6b70; --line: #d9d9de; --bg: #ffffff; --soft: #f4f5f7; --pass: #17803d; --fail: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 48px; }
header h1 { margin: 8px 0 2px; font-size: 1.7em; }
header p { margin: 0; color: var(--muted); overflow-wrap: anywhere; }
nav { margin: 12px 0 4px; display: flex; flex-wrap: wrap; gap: 6px 16px; }
nav a { color: #1f5fbf; text-decoration: none; }
h2 { margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); font-size: 1.35em; }
h3 { margin: 22px 0 8px; font-size: 1.05em; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 10px 0; }
.card { background: var(--soft); border-radius: 8px; padding: 10px 12px; }
.card .value { font-size: 1.25em; font-weight: 600; overflow-wrap: anywhere; }
.card .key { color: var(--muted); font-size: 0.85em; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 18px; }
figure { margin: 10px 0; min-width: 0; }
figcaption { color: var(--muted); font-size: 0.85em; margin-top: 4px; }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart-architecture { max-width: 760px; }
svg text { fill: var(--fg); font-family: inherit; }
svg text.muted, svg text.value.muted { fill: var(--muted); }
svg .grid { stroke: #e6e6ea; stroke-width: 1; }
svg .axis { stroke: #8a8a90; stroke-width: 1; }
svg .marker { stroke: #333; stroke-width: 1.2; }
svg .box rect { fill: #eef4fb; stroke: #4a6fa5; stroke-width: 1.5; }
svg .box-processed rect, svg .box-warehouse rect, svg .box-query rect { fill: #eaf6f0; stroke: #2f8a5f; }
svg .box-quarantine rect { fill: #fdeef3; stroke: #b0306a; }
svg .box-provisioning rect { fill: #f6f6f6; stroke: #888; }
svg .flow { stroke: #555; stroke-width: 1.6; }
.table-wrap { overflow-x: auto; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
table.narrow { width: auto; min-width: 50%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.pass { color: var(--pass); font-weight: 600; white-space: nowrap; }
.fail { color: var(--fail); font-weight: 600; white-space: nowrap; }
.warn { color: #a15c00; font-weight: 600; }
.missing { background: #fff7e0; border-left: 4px solid #e6ab02; padding: 8px 12px; }
.meta { color: var(--muted); font-size: 0.9em; }
.notes { color: var(--muted); font-size: 0.9em; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85em; }
@media (max-width: 600px) {
  body { font-size: 14px; }
  main { padding: 10px 10px 32px; }
  th, td { padding: 4px 5px; }
  table.narrow { width: 100%; }
  table.stack thead { display: none; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr { border-bottom: 2px solid var(--line); padding: 4px 0; }
  table.stack td { border: 0; display: flex; gap: 12px; justify-content: space-between; text-align: right; white-space: normal; }
  table.stack td::before { content: attr(data-label); color: var(--muted); text-align: left; flex: 0 0 38%; }
  table.stack td:first-child { font-weight: 600; }
}
@media print {
  @page { margin: 14mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; margin-top: 18px; }
  h3 { break-after: avoid; }
  figure, tr, .card { break-inside: avoid; }
  .charts { display: block; }
  .charts figure { max-width: 16cm; }
  .table-wrap { overflow: visible; }
  .card, th, .missing { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_html(data: ReportData) -> tuple[str, dict[str, dict[str, Any]]]:
    """The page and a summary of its sections (present, charts, note)."""
    sections: dict[str, dict[str, Any]] = {}
    bodies = []
    for name, make in (
        ("pipeline", pipeline_section),
        ("benchmark", benchmark_section),
        ("costs", cost_section),
        ("architecture", architecture_section),
    ):
        html, charts = make(data)
        bodies.append(html)
        present = not (name == "benchmark" and data.benchmark is None) and not (name == "costs" and data.cost is None)
        sections[name] = {"present": present, "charts": charts}
        if name in data.notes:
            sections[name]["note"] = data.notes[name]
    nav = "".join(f'<a href="#{n}">{n.capitalize()}</a>' for n in sections)
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>datalake report: {_e(data.lake)}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>datalake report</h1><p>Lake <strong>{_e(data.lake)}</strong> on the "
        f"<strong>{_e(data.target)}</strong> target · generated {_e(data.created)}</p></header>"
        f"<nav>{nav}</nav>{''.join(bodies)}"
        "<footer>Made by <code>datalake report</code>; every figure comes from the lake's status, run journals "
        f"and the saved results (results/{BENCHMARK_FILE}, results/{COST_FILE}).</footer>"
        "</main></body></html>\n"
    )
    return page, sections


def build_report(target_or_layout: Target | LakeLayout, now: datetime | None = None) -> str:
    """The report page as HTML text (self-contained: no script, no external resource)."""
    return render_html(gather(target_or_layout, now))[0]


def write_report(
    target_or_layout: Target | LakeLayout, output: Path | None = None, now: datetime | None = None
) -> ReportResult:
    """Write the page (default <lake>/results/report.html) atomically; return its path and section summary."""
    target = _as_target(target_or_layout)
    page, sections = render_html(gather(target, now))
    path = output or Results.of(target.settings.lake).report
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return ReportResult(path=path, sections=sections)
