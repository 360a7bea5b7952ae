"""Small charts as inline SVG, drawn on the server: no JavaScript, no CDN, works under the CSP."""

from __future__ import annotations

from markupsafe import Markup, escape

ROW = 26
LABEL_W = 210
BAR_W = 300


def bar_chart(rows: list[tuple[str, int]], title: str, color: str = "#2b6cb0") -> Markup:
    """Horizontal bars, one per (label, value), value written at the end of each bar.

    The drawing is hidden from screen readers, which read the same numbers from a table that is
    visually hidden; the SVG scales down to the width of a small phone (no sideways scrolling)."""
    peak = max((v for _, v in rows), default=0) or 1
    height = ROW * max(len(rows), 1) + 8
    width = LABEL_W + BAR_W + 60
    parts = [f'<div class="chart-wrap"><svg class="chart" aria-hidden="true" focusable="false" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        y = 4 + i * ROW
        bar = round(BAR_W * value / peak)
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 4}" width="{bar}" height="{ROW - 8}" fill="{color}"></rect>')
        parts.append(f'<text x="{LABEL_W + bar + 6}" y="{y + 17}" font-size="13">{value}</text>')
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="20" font-size="13">-</text>')
    parts.append("</svg>")
    parts.append(f'<table class="sr-only"><caption>{escape(title)}</caption><tbody>')
    parts.extend(f"<tr><th scope=\"row\">{escape(label)}</th><td>{value}</td></tr>" for label, value in rows)
    if not rows:
        parts.append("<tr><td>-</td></tr>")
    parts.append("</tbody></table></div>")
    return Markup("".join(parts))
