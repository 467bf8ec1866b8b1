"""The report's HTML pieces: escaping, numbers, tables, figures, cards, the note of a missing section."""

from __future__ import annotations

from html import escape
from typing import Any


def esc(value: Any) -> str:
    return escape("-" if value is None else str(value))


def num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None, cls: str = "") -> str:
    """A table whose cells are HTML already; `numeric` columns align right."""
    numeric = numeric or set()
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(headers))
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


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def cards(items: list[tuple[str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="value">{v}</div><div class="key">{esc(k)}</div></div>' for k, v in items
        )
        + "</div>"
    )


def missing(note: str) -> str:
    return f'<p class="missing">{esc(note)}</p>'
