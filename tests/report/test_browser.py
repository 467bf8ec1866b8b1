"""The report in a real browser: Debian's headless Chromium loads it from disk, over DevTools.

Asserts every chart rendered with a size and drawn marks, no console error, no horizontal scrolling
in a 400 px window, and the print stylesheet applies; saves screenshots (1280 and 400 px wide) and
a printed PDF under test-artifacts/. Chromium is installed by .ci/install_browser.sh.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from datalake.layout import LakeLayout
from datalake.report.html import write_report
from tests.browser import Browser, find_chromium
from tests.paths import REPO
from tests.report.test_html import add_benchmark, add_cost_report

pytest.importorskip("websocket", reason="websocket-client (the dev extra) drives Chromium over DevTools")
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH: .ci/install_browser.sh installs Debian's chromium"
)
ARTIFACTS = REPO / "test-artifacts"

# What the page looks like once laid out: every chart's box and its drawn marks, the page width.
CHECKS = """JSON.stringify({
  sections: Array.from(document.querySelectorAll("section")).map(s => s.id),
  charts: Array.from(document.querySelectorAll("svg.chart")).map(svg => {
    const box = svg.getBoundingClientRect();
    return {
      kind: svg.getAttribute("class"),
      points: Number(svg.dataset.points),
      width: box.width,
      height: box.height,
      marks: svg.querySelectorAll("rect.bar, polyline.line, g.box").length,
      textWidth: Array.from(svg.querySelectorAll("text")).reduce((w, t) => w + t.getBBox().width, 0),
    };
  }),
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  navDisplay: getComputedStyle(document.querySelector("nav")).display,
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as b:
        yield b


@pytest.fixture
def report_page(processed_lake: LakeLayout) -> tuple[Path, dict[str, dict[str, object]]]:
    add_benchmark(processed_lake)
    add_cost_report(processed_lake)
    result = write_report(processed_lake)
    return result.path, result.sections


@pytest.mark.parametrize("width", [1280, 400])
def test_report_renders_in_chromium(
    browser: Browser, report_page: tuple[Path, dict[str, dict[str, object]]], width: int
) -> None:
    path, sections = report_page
    browser.load(path.resolve().as_uri(), width)
    page = json.loads(browser.evaluate(CHECKS))
    ARTIFACTS.mkdir(exist_ok=True)
    shot = browser.screenshot(ARTIFACTS / f"report-{width}.png")
    assert shot.stat().st_size > 20_000
    assert browser.console_errors() == []
    assert page["sections"] == ["pipeline", "benchmark", "costs", "architecture"]
    assert len(page["charts"]) == sum(int(str(s["charts"])) for s in sections.values()) == 9
    for chart in page["charts"]:
        assert chart["width"] > 0.8 * min(width, 460) - 40, chart  # fills its column
        assert chart["height"] > 40, chart
        assert chart["marks"] > 0 and chart["points"] > 0, chart
        assert chart["textWidth"] > 0, chart  # labels were laid out (fonts present)
    assert page["scrollWidth"] <= page["clientWidth"], "the page scrolls sideways"
    assert page["navDisplay"] != "none"


def test_report_prints(browser: Browser, report_page: tuple[Path, dict[str, dict[str, object]]]) -> None:
    path, _ = report_page
    browser.load(path.resolve().as_uri(), 1280)
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        page = json.loads(browser.evaluate(CHECKS))
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")
    assert page["navDisplay"] == "none"  # the print stylesheet applies
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = browser.print_pdf(ARTIFACTS / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 50_000


def test_console_errors_are_caught(browser: Browser, tmp_path: Path) -> None:
    """The console check can fail: a page with a broken script reports its errors."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('boom'); missing();</script></body></html>")
    browser.load(page.resolve().as_uri(), 800)
    errors = browser.console_errors()
    assert any("boom" in e for e in errors)
    assert any("missing" in e or "Uncaught" in e for e in errors)
