"""The shipped crosswalk catalogue: complete item lists, cited sources, checkable expressions."""

from __future__ import annotations

import re

import pytest

from tutela.cards.catalogue import FRAMEWORKS, known_facts, load_framework, parse_catalogue
from tutela.errors import InputError, UsageError
from tutela.facts.cel import compile_expression
from tutela.facts.collect import fact_catalogue
from tutela.workspace import Workspace


@pytest.mark.parametrize("key", sorted(FRAMEWORKS))
def test_every_framework_loads_with_cited_sources(key: str) -> None:
    """Each framework file validates, and every item cites a document, a section and a URL."""
    catalogue = load_framework(key)
    assert catalogue.framework.key == key
    assert catalogue.items
    for item in catalogue.items:
        assert item.source.document and item.source.section
        assert item.source.url.startswith("https://")
        assert item.summary.strip() and item.title.strip()
        assert item.manual or item.checks


def test_eu_ai_act_has_articles_9_to_15_and_annex_iv_1_to_9() -> None:
    """The EU AI Act catalogue covers exactly Articles 9-15 and Annex IV points 1-9."""
    ids = [i.id for i in load_framework("eu-ai-act").items]
    expected = [f"EU-AI-Act:Art.{n}" for n in range(9, 16)]
    expected += [f"EU-AI-Act:AnnexIV.{n}" for n in range(1, 10)]
    assert ids == expected


def test_nist_600_1_has_exactly_the_twelve_risks_in_section_order() -> None:
    """NIST AI 600-1 lists its twelve GAI risks as sections 2.1-2.12."""
    catalogue = load_framework("nist-ai-600-1")
    assert [i.id.split(":")[1] for i in catalogue.items] == [
        "cbrn-information",
        "confabulation",
        "dangerous-violent-hateful-content",
        "data-privacy",
        "environmental-impacts",
        "harmful-bias-homogenization",
        "human-ai-configuration",
        "information-integrity",
        "information-security",
        "intellectual-property",
        "obscene-degrading-abusive-content",
        "value-chain-component-integration",
    ]
    assert [i.source.section for i in catalogue.items] == [f"Section 2.{n}" for n in range(1, 13)]


def test_iso_annex_a_ids_are_unique_and_cover_a2_to_a10() -> None:
    """ISO/IEC 42001 Annex A: 38 unique control ids spread over clauses A.2 to A.10."""
    ids = [i.id.split(":")[1] for i in load_framework("iso-42001").items]
    assert len(ids) == len(set(ids)) == 38
    assert {re.match(r"A\.(\d+)\.", c).group(1) for c in ids} == {str(n) for n in range(2, 11)}  # type: ignore[union-attr]


def test_nist_rmf_ids_name_real_functions() -> None:
    """NIST AI RMF item ids are FUNCTION-n.m subcategories of the four Core functions."""
    for item in load_framework("nist-ai-rmf").items:
        assert re.fullmatch(r"NIST-AI-RMF:(GOVERN|MAP|MEASURE|MANAGE)-\d\.\d+", item.id), item.id


@pytest.mark.parametrize("key", sorted(FRAMEWORKS))
def test_every_expression_compiles_and_reads_only_known_facts(key: str) -> None:
    """Each check's CEL compiles, reads only catalogued facts, and cites known facts."""
    for item in load_framework(key).items:
        for check in item.checks:
            expr = compile_expression(check.expression, source=f"{item.id}#{check.id}")
            unknown = expr.references() - known_facts()
            assert not unknown, f"{item.id}#{check.id} reads unknown facts {unknown}"
            assert set(check.evidence_facts) <= known_facts()


def test_known_facts_are_produced_by_the_registered_providers(workspace: Workspace) -> None:
    """Every non-card fact the catalogue may read is declared by a registered fact provider."""
    produced = set(fact_catalogue(workspace))
    assert {f for f in known_facts() if not f.startswith("card.")} <= produced


def test_bad_catalogue_is_an_input_error() -> None:
    """A manual item that does not say what to provide is rejected with a one-line error."""
    text = """
framework: {id: X, key: x, title: X, document: D, url: "https://example.org"}
items:
  - {id: "X:1", title: T, summary: S, source: {section: "1"}, manual: true}
"""
    with pytest.raises(InputError, match="invalid crosswalk catalogue") as info:
        parse_catalogue(text, subject="x.yaml")
    assert "provide" in info.value.diagnostics()


def test_unknown_framework_is_a_usage_error() -> None:
    """Asking for a framework Tutela does not ship names the ones it does."""
    with pytest.raises(UsageError, match="unknown framework") as info:
        load_framework("sox")
    assert "eu-ai-act" in info.value.diagnostics()
