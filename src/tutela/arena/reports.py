"""Arena reports for people and CI: JUnit XML (one test case per probe) and HTML."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from tutela.arena.scoring import Rate, RunScore

__all__ = ["to_html", "to_junit"]


def _pct(rate: Rate) -> str:
    if rate.asr is None:
        return "n/a"
    low, high = rate.interval.low, rate.interval.high
    return f"{rate.asr:.0%} [{low:.0%}, {high:.0%}]"


def to_junit(run_id: str, result: RunScore) -> str:
    """A probe that succeeded at least once is a failed test; errors are errors."""
    suite = ET.Element("testsuite", name=f"tutela-arena-{run_id}")
    failures = errors = 0
    for probe_id, rate in sorted(result.by_probe.items()):
        case = ET.SubElement(suite, "testcase", classname="arena", name=probe_id)
        if rate.succeeded:
            failures += 1
            fail = ET.SubElement(case, "failure", message=f"attack success rate {_pct(rate)}")
            fail.text = f"{rate.succeeded} of {rate.trials} scored attempts succeeded"
        elif rate.errors and not rate.trials:
            errors += 1
            ET.SubElement(case, "error", message=f"{rate.errors} attempts failed at the target")
        elif not rate.trials:
            ET.SubElement(case, "skipped", message="no attempt could be scored")
    suite.set("tests", str(len(result.by_probe)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def _judge_html(judge: Mapping[str, Any] | None) -> str:
    if judge is None:
        return "<p>No LLM judge was asked (verdicts come from the shipped detectors only).</p>"
    name = html.escape(str(judge["detector"]))
    return (
        f"<h2>LLM judge (opt-in): <code>{name}</code></h2><p class=judge>Verdicts labelled "
        f"<code>{name}</code> are an LLM's opinion, not a measured detector; a judge error "
        f"or unparseable answer counts as unscoreable, never resisted. Succeeded "
        f"{judge['succeeded']}, resisted {judge['resisted']}, unscoreable "
        f"{judge['unscoreable']}.</p>"
    )


def to_html(
    run_id: str,
    target: str,
    result: RunScore,
    *,
    judge: Mapping[str, Any] | None = None,
    early_stop: float | None = None,
) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{rate.succeeded}</td><td>{rate.resisted}</td>"
        f"<td>{rate.blocked}</td><td>{rate.unscoreable}</td><td>{rate.errors}</td>"
        f"<td>{result.skipped.get(name, 0)}</td><td>{html.escape(_pct(rate))}</td></tr>"
        for name, rate in sorted(result.by_category.items())
    )
    risk = "n/a" if result.risk is None else f"{result.risk:.1f}"
    stop = (
        ""
        if early_stop is None
        else f" Early stopping at interval width {early_stop:g}: skipped attempts were never "
        "sent and are not outcomes."
    )
    return (
        "<!doctype html><meta charset=utf-8><title>Tutela Arena</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;"
        "border-bottom:1px solid #ddd}</style>"
        f"<h1>Arena run {html.escape(run_id)}</h1><p>Target: {html.escape(target)}. "
        f"Overall attack success rate {html.escape(_pct(result.overall))} (Wilson 95%); "
        f"severity-weighted risk {risk}/100. Errors are never counted as resisted.{stop}</p>"
        "<table><tr><th>category</th><th>succeeded</th><th>resisted</th><th>blocked</th>"
        "<th>unscoreable</th><th>errors</th><th>skipped</th><th>ASR [95% CI]</th></tr>"
        f"{rows}</table>{_judge_html(judge)}"
    )
