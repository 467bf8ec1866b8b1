"""The shared formatters: the CLI and the HTML report print numbers through these."""

from __future__ import annotations

import pytest

from datalake import format as fmt


@pytest.mark.parametrize(
    ("value", "exact", "expected"),
    [
        (None, False, "-"),
        (0, False, "$0"),
        (0.000123456, False, "$0.000123"),
        (12.345, False, "$12.35"),
        (147151.9, False, "$147,152"),
        (None, True, "-"),
        (0, True, "$0"),
        (0.0001234, True, "$0.000123"),
        (0.5, True, "$0.5"),
        (1234.5, True, "$1,234.50"),
    ],
)
def test_usd(value: float | None, exact: bool, expected: str) -> None:
    assert fmt.usd(value, exact=exact) == expected


def test_percent() -> None:
    assert fmt.percent(None) == "-"
    assert fmt.percent(61.25) == "61.2%"
    assert fmt.percent(0) == "0.0%"


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (None, ".1f", "-"),
        (512, ".1f", "512 B"),
        (1536, ".1f", "1.5 KB"),
        (2 * 1024**2, ".3g", "2 MB"),
        (1234567, ".3g", "1.18 MB"),
        (3 * 1024**5, ".1f", "3072.0 TB"),
    ],
)
def test_size(value: float | None, spec: str, expected: str) -> None:
    assert fmt.size(value, spec) == expected


def test_verdict() -> None:
    assert [fmt.verdict(h) for h in (True, False, None)] == ["holds", "does not hold", "-"]


def test_claim_figure_share_or_ratio_by_threshold() -> None:
    assert fmt.claim_figure(0.734, 0.6) == "73.4%"
    assert fmt.claim_figure(0.734, 0.6, share=".0%") == "73%"
    assert fmt.claim_figure(12.345, 10.0) == "12.3x"
    assert fmt.claim_figure(1234.5, 10.0, ratio=",.2f", suffix="×") == "1,234.50×"
    assert fmt.claim_figure(None, 10.0) == "-"
    assert fmt.claim_figure("n/a", 10.0) == "n/a"
