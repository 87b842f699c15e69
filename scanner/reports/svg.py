"""The trend chart: open findings by severity over the last scans, as inline SVG drawn
here (no script, no network, no style attribute: the report's CSP allows it as markup).

Only numbers and mpscan's own words go into the markup (scan ids, counts, severities), each
escaped anyway; colours are presentation attributes, which the CSP does not govern.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

COLOURS = {
    "critical": "#8b0000",
    "high": "#cf222e",
    "medium": "#bc4c00",
    "low": "#4d2d00",
    "info": "#57606a",
}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 720, 240, 44, 28, 12, 96


def trend_chart(points: list[dict], severities: tuple[str, ...]) -> Markup:
    """One line per severity over `points` ({scan_id, open: {severity: n}}), oldest first."""
    if not points:
        return Markup("")
    top = max([1, *(p["open"][s] for p in points for s in severities)])
    span = max(1, len(points) - 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / span if len(points) > 1 else plot_w / 2)

    def y(n: int) -> float:
        return TOP + plot_h * (1 - n / top)

    parts = [
        f'<svg id="trend-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>Open findings by severity over the last {len(points)} scans</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#d0d7de"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#d0d7de"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for i in (0, len(points) - 1):
        parts.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11">'
            f"scan {escape(str(points[i]['scan_id']))}</text>"
        )
    for k, severity in enumerate(severities):
        coords = " ".join(f"{x(i):.1f},{y(p['open'][severity]):.1f}" for i, p in enumerate(points))
        colour = COLOURS.get(severity, "#57606a")
        name = escape(severity)
        parts.append(
            f'<polyline class="trend-{name}" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{coords}"><title>{name}</title></polyline>'
        )
        last = points[-1]["open"][severity]
        parts.append(
            f'<text x="{WIDTH - RIGHT + 8}" y="{TOP + 14 + 16 * k}" font-size="11" '
            f'fill="{colour}">{name} {last}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
