"""HTML drift report: overlaid histograms drawn from the sketches, effect over windows.

Plain HTML with inline SVG: no script, no external asset, so the file opens offline and can
be attached to an audit as is.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from tutela.monitor.drift import DriftReport
from tutela.monitor.profile import CategoricalProfile, NumericProfile, TableProfile

__all__ = ["render_html"]

W, H, PAD = 360, 150, 24
REF_COLOUR, CUR_COLOUR, LINE_COLOUR = "#4c78a8", "#f58518", "#54a24b"
HIST_BINS = 30
TOP_LEVELS = 12


def _svg(body: str, width: int = W, height: int = H) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{body}</svg>'
    )


def _numeric_hist(ref: NumericProfile, cur: NumericProfile) -> str:
    lo_hi = np.concatenate(
        [ref.quantiles(np.array([0.01, 0.99])), cur.quantiles(np.array([0.01, 0.99]))]
    )
    lo, hi = float(np.nanmin(lo_hi)), float(np.nanmax(lo_hi))
    if not np.isfinite(lo) or hi <= lo:
        return "<p>(constant column)</p>"
    edges = np.linspace(lo, hi, HIST_BINS + 1)
    densities = [np.diff(p.cdf(edges)) for p in (ref, cur)]
    top = max(float(max(d.max() for d in densities)), 1e-12)
    bar = (W - 2 * PAD) / HIST_BINS
    parts = []
    for dens, colour in zip(densities, (REF_COLOUR, CUR_COLOUR), strict=True):
        for i, value in enumerate(dens):
            h = (H - 2 * PAD) * max(0.0, float(value)) / top
            parts.append(
                f'<rect x="{PAD + i * bar:.1f}" y="{H - PAD - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}" fill="{colour}" '
                f'fill-opacity="0.5"/>'
            )
    parts.append(_axis_labels(f"{lo:.4g}", f"{hi:.4g}"))
    return _svg("".join(parts))


def _axis_labels(left: str, right: str) -> str:
    return (
        f'<text x="{PAD}" y="{H - 6}" font-size="10">{html.escape(left)}</text>'
        f'<text x="{W - PAD}" y="{H - 6}" font-size="10" text-anchor="end">'
        f"{html.escape(right)}</text>"
    )


def _categorical_bars(ref: CategoricalProfile, cur: CategoricalProfile) -> str:
    fr, fc = ref.frequencies(), cur.frequencies()
    nr, nc = max(sum(fr.values()), 1.0), max(sum(fc.values()), 1.0)
    levels = sorted(set(fr) | set(fc), key=lambda k: -(fr.get(k, 0) / nr + fc.get(k, 0) / nc))
    levels = levels[:TOP_LEVELS]
    shares = [(fr.get(k, 0) / nr, fc.get(k, 0) / nc) for k in levels]
    top = max([max(a, b) for a, b in shares] + [1e-12])
    slot = (W - 2 * PAD) / max(len(levels), 1)
    parts = []
    for i, (a, b) in enumerate(shares):
        for j, (value, colour) in enumerate(((a, REF_COLOUR), (b, CUR_COLOUR))):
            h = (H - 2 * PAD) * value / top
            parts.append(
                f'<rect x="{PAD + i * slot + j * slot / 2:.1f}" y="{H - PAD - h:.1f}" '
                f'width="{slot / 2 - 1:.1f}" height="{h:.1f}" fill="{colour}"/>'
            )
    parts.append(_axis_labels(levels[0] if levels else "", f"top {len(levels)} levels"))
    return _svg("".join(parts))


def _line(values: Sequence[float], threshold: float) -> str:
    top = max([*values, threshold * 1.5, 1e-12])
    step = (W - 2 * PAD) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return H - PAD - (H - 2 * PAD) * v / top

    points = " ".join(f"{PAD + i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
    dots = "".join(
        f'<circle cx="{PAD + i * step:.1f}" cy="{y(v):.1f}" r="2.5" fill="{LINE_COLOUR}"/>'
        for i, v in enumerate(values)
    )
    body = (
        f'<line x1="{PAD}" x2="{W - PAD}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
        f'stroke="#999" stroke-dasharray="4 3"/>'
        f'<polyline points="{points}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2"/>'
        f"{dots}{_axis_labels('window 1', f'window {len(values)}')}"
    )
    return _svg(body)


def _cell(value: float) -> str:
    return f"{value:.4g}"


def render_html(
    reference: TableProfile,
    current: TableProfile,
    report: DriftReport,
    *,
    history: Sequence[DriftReport] = (),
    title: str = "Tutela drift report",
) -> str:
    """One page: the decision, a row per column with its plot, and effect over windows."""
    esc = html.escape
    verdict = "DRIFT" if report.drifted else "no drift"
    rows = []
    for col in report.columns:
        ref, cur = reference.columns[col.column], current.columns[col.column]
        if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
            plot = _numeric_hist(ref, cur)
        elif isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
            plot = _categorical_bars(ref, cur)
        else:
            plot = ""
        trend = ""
        series = [
            r_col.effect for r in history for r_col in r.columns if r_col.column == col.column
        ]
        if len(series) > 1:
            trend = _line(series, col.min_effect)
        extra = ", ".join(
            f"{k}={_cell(v)}"
            for k, v in col.metrics.items()
            if k in {"js", "hellinger", "psi", "ks", "chi2"}
        )
        flag = '<b class="bad">drifted</b>' if col.drifted else "ok"
        rows.append(
            f"<tr><td><b>{esc(col.column)}</b><br>{esc(col.kind)}<br>{flag}</td>"
            f"<td>{esc(col.metric)} = {_cell(col.effect)}<br>"
            f"[{_cell(col.low)}, {_cell(col.high)}]<br>min effect {_cell(col.min_effect)}<br>"
            f"p(adj) = {col.p_adjusted:.3g}<br>missing {col.missing_reference:.2%} → "
            f"{col.missing_current:.2%}<br><small>{esc(extra)}</small></td>"
            f"<td>{plot}</td><td>{trend}</td></tr>"
        )
    domain = ""
    if report.domain is not None:
        d = report.domain
        domain = (
            f"<p>Domain classifier AUC {d['auc']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"
            f" on {d['rows'][0]} + {d['rows'][1]} sampled rows.</p>"
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border-top:1px solid #ddd;padding:6px;vertical-align:top;font-size:13px}}
.bad{{color:#c0392b}}.key span{{display:inline-block;width:12px;height:12px}}</style></head>
<body><h1>{esc(title)}</h1>
<p><b>{verdict}</b>: {len(report.drifted_columns)} of {len(report.columns)} columns drifted,
impact-weighted share {report.drifted_share:.3f}; alpha {report.alpha} spent
{report.window_alpha:.4g} on window {report.window_index}. Reference {reference.rows} rows,
current {current.rows} rows. Generated {generated}.</p>
<p class="key"><span style="background:{REF_COLOUR}"></span> reference
<span style="background:{CUR_COLOUR}"></span> current
<span style="background:{LINE_COLOUR}"></span> effect over windows (dashed: minimum effect)</p>
{domain}
<table><tr><th>column</th><th>effect [interval]</th><th>distribution</th>
<th>over windows</th></tr>
{"".join(rows)}
</table></body></html>
"""
