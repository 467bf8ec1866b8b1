"""The inline SVG charts: scales, ticks, empty and missing values."""

from __future__ import annotations

import re

from datalake.report import svgchart
from datalake.report.svgchart import Series


def bar_widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'class="bar" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)]


def test_nice_ticks_cover_the_maximum() -> None:
    assert svgchart.nice_ticks(9.3) == [0, 2, 4, 6, 8, 10]
    assert svgchart.nice_ticks(0.042)[-1] >= 0.042
    assert svgchart.nice_ticks(0) == [0.0, 1.0]


def test_log_bars_are_proportional_to_the_logarithm() -> None:
    svg = svgchart.hbar_chart(
        [("q", [0.001, 0.01, 0.1])], [Series(n, "#000") for n in "abc"], "t", fmt=svgchart.seconds, log=True
    )
    a, b, c = bar_widths(svg)
    assert abs((b - a) - (c - b)) < 0.5  # each 10x adds the same length
    assert 'data-points="3"' in svg
    assert "1 ms" in svg and "100 ms" in svg  # decade ticks, formatted


def test_log_base_32_for_bytes_and_missing_values() -> None:
    svg = svgchart.hbar_chart(
        [("q", [2_000_000.0, None])],
        [Series("raw", "#000"), Series("lake", "#111")],
        "t",
        fmt=svgchart.size,
        log=True,
        log_base=32,
    )
    assert "1 MB" in svg and "32 MB" in svg
    assert "lake: n/a" in svg
    assert 'data-points="1"' in svg


def test_linear_bars_and_line_chart() -> None:
    svg = svgchart.hbar_chart([("a", [5.0]), ("b", [10.0])], [Series("n", "#000")], "t")
    small, large = bar_widths(svg)
    assert abs(large - 2 * small) < 0.5
    line = svgchart.line_chart([1, 2, 3], [(Series("s", "#000"), [1.0, 2.0, 3.0])], "t", "x", markers=[(2, "here")])
    assert line.count("<circle") == 3
    assert "here" in line


def test_formatters() -> None:
    assert svgchart.seconds(1.5) == "1.50 s"
    assert svgchart.seconds(0.0123) == "12.3 ms"
    assert svgchart.size(2 * 1024**2) == "2 MB"
    assert svgchart.usd(147151.9) == "$147,152"
    assert svgchart.usd_short(1_000_000) == "$1M"
    assert svgchart.usd_short(0.01) == "$0.01"
