"""The architecture section: the lake's roles and which service plays each, drawn as an inline SVG."""

from __future__ import annotations

from html import escape

from datalake.report.gather import ReportData
from datalake.report.markup import esc, figure, table

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
        f'<section id="architecture"><h2>{esc(title)}</h2>',
        figure(
            architecture_svg(data.services, title),
            "Raw files are crawled into the catalog and transformed into partitioned Parquet; rejected rows go to "
            "quarantine; the warehouse is loaded from the processed zone; old raw data ages into the archive.",
        ),
        table(
            ["role", f"on the {data.target} target"],
            [[esc(role), esc(service)] for role, service in data.services.items()],
            cls="narrow",
        ),
        "</section>",
    ]
    return "".join(parts), 1
