"""`datalake report`: one self-contained HTML page with the lake, the benchmark and the costs.

The page is read offline (from disk, attached to a mail, printed): styles are inline, charts are
inline SVG drawn here (datalake.report.svgchart), no script and no external resource. Sections whose
inputs are missing (no benchmark yet, no cost report yet) say which command makes them.
Inputs: the target's status and services, the run journals, validation, and the saved
results/benchmark-latest.json and results/cost-latest.json (datalake.report.gather).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from datalake.layout import LakeLayout
from datalake.measure.results import BENCHMARK_FILE, COST_FILE, Results
from datalake.report.architecture import architecture_section
from datalake.report.gather import ReportData, as_target, gather
from datalake.report.markup import esc
from datalake.report.sections import benchmark_section, cost_section, pipeline_section
from datalake.targets.base import Target


@dataclass
class ReportResult:
    path: Path
    sections: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "sections": self.sections}


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
        f"<title>datalake report: {esc(data.lake)}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>datalake report</h1><p>Lake <strong>{esc(data.lake)}</strong> on the "
        f"<strong>{esc(data.target)}</strong> target · generated {esc(data.created)}</p></header>"
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
    target = as_target(target_or_layout)
    page, sections = render_html(gather(target, now))
    path = output or Results.of(target.settings.lake).report
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return ReportResult(path=path, sections=sections)
