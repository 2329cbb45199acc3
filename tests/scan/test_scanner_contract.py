"""Every built-in format scanner keeps the plugin contract (garak-style contract tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutela.scan.formats.interface import FormatScanner
from tutela.scan.formats.registry import BUILTIN_SCANNERS
from tutela.scan.interface import Severity
from tutela.scan.rules import all_rules

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("scanner", BUILTIN_SCANNERS, ids=lambda s: s.id)
def test_metadata_on_the_class(scanner: type[FormatScanner]) -> None:
    """A stable id, formats, a title, a docstring and ATLAS/OWASP tags are declared."""
    assert re.fullmatch(r"scan\.[a-z0-9-]+", scanner.id)
    # A scanner other scanners call (scan.keras, from zip and HDF5) claims no format itself.
    assert all(isinstance(f, str) and f for f in scanner.formats)
    assert scanner.title and (scanner.__doc__ or "").strip()
    assert all(t.startswith("AML.T") for t in scanner.atlas)
    assert all(re.fullmatch(r"LLM\d\d:2025", t) for t in scanner.owasp_llm)
    for rule in scanner.rules:
        assert isinstance(rule.severity, Severity) and rule.summary


def test_ids_are_unique_and_rules_documented() -> None:
    """Scanner ids are unique; every rule id appears in the scanner docs."""
    ids = [s.id for s in BUILTIN_SCANNERS]
    assert len(ids) == len(set(ids))
    text = "".join(p.read_text(encoding="utf-8") for p in DOCS.glob("scan*.md"))
    assert [r.rule_id for r in all_rules() if f"`{r.rule_id}`" not in text] == []
    for scanner in BUILTIN_SCANNERS:
        assert f"`{scanner.id}`" in text, f"{scanner.id} is not documented"
