"""Golden-ish rendering tests: each format carries every required section, parsed back."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_card_build import scanned_model

from tutela.cards.build import build_card
from tutela.cards.declared import set_declared
from tutela.cards.model import AICard
from tutela.cards.render_html import render_html
from tutela.cards.render_md import render_markdown
from tutela.cards.render_pdf import pdf_available, render_pdf
from tutela.workspace import Workspace

REQUIRED = ("identity", "intended_use", "risk", "versions", "lineage", "training_data",
            "evaluation", "supply_chain", "monitoring", "governance", "open_risks",
            "limitations")  # fmt: skip


@pytest.fixture
def card(tmp_path: Path) -> AICard:
    with Workspace.init(tmp_path) as ws:
        scanned_model(ws, tmp_path)
        set_declared(ws, "model:demo", {"intended_use": "<script>alert(1)</script> & fraud"})
        return build_card(ws, "model:demo")


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.provenance: dict[str, str] = {}
        self.tags: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        found = dict(attrs)
        if tag == "section" and found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "tr" and found.get("id"):
            self.provenance[str(found["id"])] = str(found.get("data-provenance"))
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def test_markdown_has_every_section(card: AICard) -> None:
    """The Markdown card has a heading per required section and the provenance column."""
    text = render_markdown(card)
    assert text.startswith("# Model card: model:demo")
    for section_id in REQUIRED:
        assert f"\n## {card.section(section_id).title}\n" in text  # type: ignore[union-attr]
    assert "| Intended use | <script>alert(1)</script> & fraud | declared |" in text


def test_html_parses_back_with_sections_and_escaping(card: AICard) -> None:
    """HTML is self-contained, escapes card text, and has a section id per section."""
    page = render_html(card)
    parser = _Sections()
    parser.feed(page)
    assert [f"section-{s}" for s in REQUIRED] == [
        i for i in parser.ids if i.removeprefix("section-") in REQUIRED
    ]
    assert "script" not in parser.tags and parser.urls == []
    assert "&lt;script&gt;" in page
    assert parser.provenance["field-intended_use.intended_use"] == "declared"
    assert parser.provenance["field-supply_chain.latest_scan"] == "verified"


@pytest.mark.skipif(not pdf_available(), reason="WeasyPrint is not installed (tutela[cards])")
def test_pdf_parses_back_with_section_titles(card: AICard) -> None:
    """The PDF is a real PDF whose text holds every required section title."""
    pypdf = pytest.importorskip("pypdf")
    data = render_pdf(card)
    assert data.startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    flat = " ".join(text.split())
    for section_id in REQUIRED:
        assert card.section(section_id).title in flat  # type: ignore[union-attr]
    assert "model:demo" in flat
