"""The classifier part of the HTML report: evasion statistics and measurement verdicts."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["evasion_html"]


def _num(value: Any, fmt: str = ".3f") -> str:
    return "n/a" if value is None else format(value, fmt)


def evasion_html(
    evasion: Mapping[str, Mapping[str, Any]], measurements: Sequence[Mapping[str, Any]]
) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(', '.join(s.get('atlas', [])))}</td>"
        f"<td>{s['succeeded']}/{s['samples'] - s['errors']}</td>"
        f"<td>{_num(s['success_rate'], '.0%')} [{_num(s['interval']['low'], '.0%')}, "
        f"{_num(s['interval']['high'], '.0%')}]</td><td>{_num(s['median_l2'])}</td>"
        f"<td>{_num(s['median_linf'])}</td><td>{_num(s['median_queries'], '.0f')}</td></tr>"
        for name, s in sorted(evasion.items())
    )
    measured = "".join(
        f"<tr><td>{html.escape(str(m.get('id')))}</td>"
        f"<td>{html.escape(str(m.get('atlas', '')))}</td>"
        f"<td>{'error' if 'error' in m else ('exceeded' if m.get('exceeded') else 'ok')}</td>"
        f"<td>{html.escape(str(m.get('summary', m.get('error', ''))))}</td></tr>"
        for m in measurements
    )
    return (
        "<h2>Evasion</h2><p>Perturbations in units of each feature's standard deviation; "
        "success needs the label to change within the query budget and the Linf bound.</p>"
        "<table><tr><th>attack</th><th>ATLAS</th><th>succeeded</th><th>rate [95% CI]</th>"
        f"<th>median L2</th><th>median Linf</th><th>median queries</th></tr>{rows}</table>"
        "<h2>Measurements</h2><table><tr><th>id</th><th>ATLAS</th><th>verdict</th>"
        f"<th>summary</th></tr>{measured}</table>"
    )
