"""Small charts as inline SVG, drawn on the server: no JavaScript, no CDN, works under the CSP."""

from __future__ import annotations

from markupsafe import Markup, escape

ROW = 26
LABEL_W = 210
BAR_W = 300


def bar_chart(rows: list[tuple[str, int]], title: str, color: str = "#2b6cb0") -> Markup:
    """Horizontal bars, one per (label, value), value written at the end of each bar."""
    peak = max((v for _, v in rows), default=0) or 1
    height = ROW * max(len(rows), 1) + 8
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{LABEL_W + BAR_W + 60}" '
             f'height="{height}" viewBox="0 0 {LABEL_W + BAR_W + 60} {height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * ROW
        width = round(BAR_W * value / peak)
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 4}" width="{width}" height="{ROW - 8}" fill="{color}">'
                     f"<title>{escape(label)}: {value}</title></rect>")
        parts.append(f'<text x="{LABEL_W + width + 6}" y="{y + 17}" font-size="13">{value}</text>')
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="20" font-size="13">-</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
