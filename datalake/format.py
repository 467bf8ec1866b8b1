"""Numbers for people: money, shares, sizes and claim verdicts, shared by the CLI and the HTML report.

Each formatter exists once; where the terminal and the page want different precision they pass it
(`usd(x, exact=True)` in the CLI's tables, `size(n, ".3g")` on the page's charts).
"""

from __future__ import annotations

from typing import Any

SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")


def usd(value: float | None, exact: bool = False) -> str:
    """Dollars: three significant figures below $1 (cents from $1, whole dollars from $100).

    `exact` keeps cents from $1 up and six decimals below it, for per-query prices in the CLI's tables.
    """
    if value is None:
        return "-"
    if exact:
        if value == 0:
            return "$0"
        return f"${value:,.2f}" if abs(value) >= 1 else f"${value:,.6f}".rstrip("0")
    if abs(value) >= 100:
        return f"${value:,.0f}"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    return f"${value:.3g}"


def percent(value: float | None) -> str:
    """A percentage already scaled to 0-100, one decimal: 61.2%."""
    return "-" if value is None else f"{value:.1f}%"


def size(value: float | None, spec: str = ".1f") -> str:
    """Bytes in binary units (1 KB = 1024 B): whole bytes, then `spec` (.1f in the CLI, .3g in charts)."""
    if value is None:
        return "-"
    number = float(value)
    for unit in SIZE_UNITS[:-1]:
        if abs(number) < 1024:
            return f"{number:.0f} {unit}" if unit == "B" else f"{number:{spec}} {unit}"
        number /= 1024
    return f"{number:{spec}} {SIZE_UNITS[-1]}"


def verdict(holds: bool | None) -> str:
    """A claim's verdict in words: holds, does not hold, or - when it was not judged."""
    if holds is None:
        return "-"
    return "holds" if holds else "does not hold"


def is_share(threshold: Any) -> bool:
    """A claim whose threshold lies between 0 and 1 is about a share (60% less scanned), else a ratio (10x)."""
    return isinstance(threshold, int | float) and not isinstance(threshold, bool) and 0 < threshold < 1


def claim_figure(value: Any, threshold: Any, share: str = ".1%", ratio: str = ".1f", suffix: str = "x") -> str:
    """A claim's figure as the claim states it: a share as a percentage, a ratio as N.Nx."""
    if value is None:
        return "-"
    if not isinstance(value, int | float):
        return str(value)
    return f"{value:{share}}" if is_share(threshold) else f"{value:{ratio}}{suffix}"
