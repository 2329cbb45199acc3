"""docs/facts.md documents every fact a registered provider declares."""

from __future__ import annotations

from pathlib import Path

from tutela.facts import fact_catalogue
from tutela.workspace import Workspace

DOC = Path(__file__).resolve().parents[2] / "docs" / "facts.md"


def test_every_fact_is_documented(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    with Workspace.init(tmp_path) as ws:
        names = list(fact_catalogue(ws))
    assert len(names) >= 80
    missing = [n for n in names if f"`{n}`" not in text]
    assert missing == []
