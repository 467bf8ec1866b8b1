"""Small inline-SVG charts for the HTML report: no JavaScript, no network, print as vectors.

Every chart is drawn in a fixed viewBox and scales to its container (width 100%), so it reads in a
narrow window and on paper. Labels sit above the bars, not beside them, to keep the charts narrow.
Each chart carries `data-points` (how many values it draws) so tests and the browser check can
tell an empty chart from a drawn one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from datalake import format as numbers

Fmt = Callable[[float], str]

WIDTH = 520
FONT = 13
PALETTE = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4", "#666666")


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    dashed: bool = False


def plain(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.001:
        return f"{value * 1000:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def size(value: float) -> str:
    """Sizes on the page: three significant figures."""
    return numbers.size(value, ".3g")


def usd(value: float) -> str:
    """Money on the page: three significant figures below $1."""
    return numbers.usd(value)


def usd_short(value: float) -> str:
    """Axis ticks: $0.01, $1, $100, $10k, $1M."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"${value / limit:,.3g}{suffix}"
    return f"${value:.3g}"


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "", size: int = FONT) -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def _svg(height: float, body: list[str], title: str, points: int, kind: str) -> str:
    return (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
        f'aria-label="{escape(title)}" data-points="{points}" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _legend(series: Sequence[Series], y: float) -> tuple[list[str], float]:
    out, x = [], 0.0
    for s in series:
        width = 26 + len(s.name) * 7.2
        if x + width > WIDTH and x > 0:
            x, y = 0.0, y + 20
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 18:.1f}" y2="{y - 4:.1f}" stroke="{s.color}" '
            f'stroke-width="8"{dash}/>'
        )
        out.append(_text(x + 23, y, s.name))
        x += width + 14
    return out, y + 14


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """0 .. >= high in 1/2/5 x 10^k steps."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    ticks = [0.0]
    while ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def hbar_chart(
    groups: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[Series],
    title: str,
    fmt: Fmt = plain,
    log: bool = False,
    axis_label: str = "",
    log_base: int = 10,
    tick_fmt: Fmt | None = None,
) -> str:
    """Horizontal bars: one group per label, one bar per series in it (None: no bar). Log scale on request.

    `log_base` spaces the log grid: 10 for times and prices, 32 for bytes (1 KB, 32 KB, 1 MB, ...).
    """
    values = [v for _, vs in groups for v in vs if v is not None and (v > 0 or not log)]
    positive = [v for v in values if v > 0]
    body: list[str] = []
    legend, y = _legend(series, 16) if len(series) > 1 else ([], 4.0)
    body += legend
    left, right = 4.0, WIDTH - 74.0
    if log and positive:
        base = float(log_base)
        lo = base ** math.floor(math.log(min(positive), base) - 1e-9)  # the smallest bar is never empty
        hi = base ** math.ceil(math.log(max(positive), base) - 1e-9)
        hi = hi * base if hi <= lo else hi
        ticks = [lo * base**i for i in range(round(math.log(hi / lo, base)) + 1)]

        def scale(v: float) -> float:
            return left + (right - left) * (math.log10(v / lo) / math.log10(hi / lo))

        origin = left
    else:
        ticks = nice_ticks(max(positive) if positive else 1.0)

        def scale(v: float) -> float:
            return left + (right - left) * (max(v, 0.0) / ticks[-1])

        origin = left
    bar, gap = 14.0, 3.0
    top = y + 6
    y = top
    for label, vs in groups:
        y += FONT + 2
        body.append(_text(left, y, label, cls="label"))
        y += 5
        for s, v in zip(series, vs, strict=False):
            if v is not None and (v > 0 or not log):
                end = scale(v) if v > 0 else origin
                body.append(
                    f'<rect class="bar" x="{origin:.1f}" y="{y:.1f}" width="{max(end - origin, 1.0):.1f}" '
                    f'height="{bar:.0f}" fill="{s.color}"><title>{escape(f"{label} · {s.name}: {fmt(v)}")}'
                    "</title></rect>"
                )
                body.append(_text(max(end, origin + 1) + 4, y + bar - 3, fmt(v), size=11, cls="value"))
            elif v is None:
                body.append(_text(origin + 2, y + bar - 3, f"{s.name}: n/a", size=11, cls="value muted"))
            y += bar + gap
        y += 8
    bottom = y
    for i, t in enumerate(ticks):
        x = scale(t) if (t > 0 or not log) else origin
        anchor = "start" if i == 0 else "end" if i == len(ticks) - 1 else "middle"
        body.append(f'<line class="grid" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"/>')
        body.append(_text(x, bottom + 15, (tick_fmt or fmt)(t), anchor=anchor, size=11))
    body.append(f'<line class="axis" x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}"/>')
    scale_note = " (log scale)" if log and positive else ""
    if axis_label or scale_note:
        body.append(_text(right, bottom + 32, f"{axis_label}{scale_note}", anchor="end", size=11, cls="muted"))
    # Grid lines go under the bars: move them to the front of the body.
    body.sort(key=lambda part: 0 if part.startswith('<line class="grid"') else 1)
    return _svg(bottom + 40, body, title, len(values), "hbar")


def line_chart(
    x: Sequence[float],
    lines: Sequence[tuple[Series, Sequence[float]]],
    title: str,
    x_label: str,
    y_fmt: Fmt = plain,
    x_fmt: Fmt = plain,
    markers: Sequence[tuple[float, str]] = (),
    height: float = 300,
) -> str:
    """Lines over a shared x axis (linear scales, y from 0), with optional labelled vertical markers."""
    body, top = _legend([s for s, _ in lines], 16)
    left, right, bottom = 70.0, WIDTH - 16.0, height - 40
    top += 8
    ys = [v for _, vs in lines for v in vs]
    y_ticks = nice_ticks(max(ys) if ys else 1.0)
    x_lo, x_hi = (min(x), max(x)) if x else (0.0, 1.0)
    x_hi = x_hi if x_hi > x_lo else x_lo + 1

    def sx(v: float) -> float:
        return left + (right - left) * (v - x_lo) / (x_hi - x_lo)

    def sy(v: float) -> float:
        return bottom - (bottom - top) * v / y_ticks[-1]

    for t in y_ticks:
        body.append(f'<line class="grid" x1="{left:.1f}" y1="{sy(t):.1f}" x2="{right:.1f}" y2="{sy(t):.1f}"/>')
        body.append(_text(left - 6, sy(t) + 4, y_fmt(t), anchor="end", size=11))
    for t in nice_ticks(x_hi - x_lo, 6):
        if x_lo + t <= x_hi + 1e-9:
            body.append(_text(sx(x_lo + t), bottom + 16, x_fmt(x_lo + t), anchor="middle", size=11))
    body.append(f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>')
    body.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>')
    body.append(_text(right, bottom + 34, x_label, anchor="end", size=11, cls="muted"))
    for mx, label in markers:
        if x_lo <= mx <= x_hi:
            body.append(
                f'<line class="marker" x1="{sx(mx):.1f}" y1="{top:.1f}" x2="{sx(mx):.1f}" y2="{bottom:.1f}" '
                'stroke-dasharray="3 3"/>'
            )
            anchor = "end" if sx(mx) > (left + right) / 2 else "start"
            offset = -4 if anchor == "end" else 4
            body.append(_text(sx(mx) + offset, top + 12, label, anchor=anchor, size=11, cls="marker-label"))
    points = 0
    for s, vs in lines:
        coords = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(x, vs, strict=False))
        points += len(vs)
        dash = ' stroke-dasharray="7 5"' if s.dashed else ""
        body.append(
            f'<polyline class="line" points="{coords}" fill="none" stroke="{s.color}" stroke-width="2.5"{dash}>'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        if len(vs) <= 24:
            body += [
                f'<circle cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="3" fill="{s.color}"><title>'
                f"{escape(f'{s.name}: {x_fmt(a)} → {y_fmt(b)}')}</title></circle>"
                for a, b in zip(x, vs, strict=False)
            ]
    return _svg(height, body, title, points, "line")


def stacked_hbar(
    rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[Series], title: str, fmt: Fmt = plain
) -> str:
    """One bar per row, split into the series' parts (e.g. a run's stages), total printed at the end."""
    body, y = _legend(series, 16)
    left, right = 4.0, WIDTH - 74.0
    totals = [sum(vs) for _, vs in rows]
    ticks = nice_ticks(max(totals) if totals else 1.0)
    top = y + 6
    y = top
    points = 0
    for (label, vs), total in zip(rows, totals, strict=True):
        y += FONT + 2
        body.append(_text(left, y, label, cls="label"))
        y += 5
        x = left
        for s, v in zip(series, vs, strict=False):
            w = (right - left) * v / ticks[-1]
            if w > 0:
                points += 1
                body.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="16" fill="{s.color}">'
                    f"<title>{escape(f'{label} · {s.name}: {fmt(v)}')}</title></rect>"
                )
            x += w
        body.append(_text(x + 4, y + 13, fmt(total), size=11, cls="value"))
        y += 26
    for i, t in enumerate(ticks):
        tx = left + (right - left) * t / ticks[-1]
        anchor = "start" if i == 0 else "middle"
        body.insert(0, f'<line class="grid" x1="{tx:.1f}" y1="{top:.1f}" x2="{tx:.1f}" y2="{y:.1f}"/>')
        body.append(_text(tx, y + 15, fmt(t), anchor=anchor, size=11))
    return _svg(y + 26, body, title, points, "stacked")
