"""Charts drawn on the server as inline SVG: no chart library, no script.

Every text is escaped; colours come from CSS classes so the page's style sheet (and the
Content-Security-Policy, which forbids inline styles) stay in charge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

__all__ = ["Series", "bar_chart", "line_chart"]

_PALETTE = 6  # .series-0 … .series-5 in dashboard.css


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, float]]  # (x label, value), in time order


def _num(value: float) -> str:
    return f"{value:.1f}"


def bar_chart(
    values: Mapping[str, float], *, title: str, maximum: float = 1.0, percent: bool = True
) -> Markup:
    """Horizontal bars, one per key (e.g. attack success rate per Arena category)."""
    rows = list(values.items())
    label_w, bar_w, row_h, top = 190, 260, 24, 28
    height = top + row_h * max(len(rows), 1) + 8
    width = label_w + bar_w + 70
    parts = [
        f'<svg class="chart bar" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text class="chart-title" x="0" y="16">{escape(title)}</text>',
    ]
    top_value = maximum if maximum > 0 else 1.0
    for i, (name, value) in enumerate(rows):
        y = top + i * row_h
        share = min(max(value / top_value, 0.0), 1.0)
        shown = f"{value * 100:.0f}%" if percent else f"{value:.3g}"
        level = "high" if share >= 0.5 else ("mid" if share > 0.1 else "low")
        parts += [
            f'<text class="chart-label" x="{label_w - 6}" y="{y + 15}" '
            f'text-anchor="end">{escape(name)}</text>',
            f'<rect class="chart-track" x="{label_w}" y="{y + 3}" width="{bar_w}" height="16"/>',
            f'<rect class="chart-bar {level}" x="{label_w}" y="{y + 3}" '
            f'width="{_num(bar_w * share)}" height="16"><title>{escape(name)}: {shown}</title>'
            "</rect>",
            f'<text class="chart-value" x="{label_w + bar_w + 6}" y="{y + 15}">{shown}</text>',
        ]
    if not rows:
        parts.append(f'<text class="chart-label" x="0" y="{top + 15}">no values</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every text above is escaped


def line_chart(series: Sequence[Series], *, title: str, y_label: str = "") -> Markup:
    """Lines over a shared sequence of x labels (time order), with a legend."""
    labels: list[str] = []
    for s in series:
        for x, _ in s.points:
            if x not in labels:
                labels.append(x)
    values = [v for s in series for _, v in s.points]
    low, high = min([0.0, *values]), max([1e-9, *values])
    left, right, top, plot_h = 48, 56, 44, 160
    plot_w = max(260, 90 * max(len(labels) - 1, 1))
    legend_h = 18 * len(series)
    width, height = left + plot_w + right, top + plot_h + 40 + legend_h

    def x_at(i: int) -> float:
        return left + (plot_w * i / (len(labels) - 1) if len(labels) > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts = [
        f'<svg class="chart line" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text class="chart-title" x="0" y="16">{escape(title)}</text>',
        f'<line class="chart-axis" x1="{left}" y1="{top + plot_h}" '
        f'x2="{left + plot_w}" y2="{top + plot_h}"/>',
        f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<text class="chart-tick" x="{left - 4}" y="{top + 4}" '
        f'text-anchor="end">{high:.3g}</text>',
        f'<text class="chart-tick" x="{left - 4}" y="{top + plot_h}" '
        f'text-anchor="end">{low:.3g}</text>',
    ]
    if y_label:
        parts.append(f'<text class="chart-tick" x="{left}" y="{top - 10}">{escape(y_label)}</text>')
    for i, x in enumerate(labels):
        parts.append(
            f'<text class="chart-tick" x="{_num(x_at(i))}" y="{top + plot_h + 14}" '
            f'text-anchor="middle">{escape(x)}</text>'
        )
    for n, s in enumerate(series):
        cls = f"series-{n % _PALETTE}"
        coords = [(x_at(labels.index(x)), y_at(v)) for x, v in s.points]
        if len(coords) > 1:
            path = " ".join(f"{_num(a)},{_num(b)}" for a, b in coords)
            parts.append(f'<polyline class="chart-line {cls}" points="{path}"/>')
        for (a, b), (x, v) in zip(coords, s.points, strict=True):
            parts.append(
                f'<circle class="chart-dot {cls}" cx="{_num(a)}" cy="{_num(b)}" r="3">'
                f"<title>{escape(s.name)} at {escape(x)}: {v:.4g}</title></circle>"
            )
        ly = top + plot_h + 34 + 18 * n
        parts += [
            f'<rect class="chart-swatch {cls}" x="{left}" y="{ly - 9}" width="10" height="10"/>',
            f'<text class="chart-label" x="{left + 16}" y="{ly}">{escape(s.name)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every text above is escaped
