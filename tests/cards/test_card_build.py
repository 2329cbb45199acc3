"""Cards built from a real workspace: deterministic, sections per kind, declared fields."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tutela.cards.build import build_card
from tutela.cards.declared import load_declared, parse_card_yaml, set_declared
from tutela.catalog.assets import add_asset
from tutela.errors import InputError
from tutela.scan.service import run_scan
from tutela.workspace import Workspace


def scanned_model(ws: Workspace, root: Path, payload: object = None) -> Path:
    models = root / "models"
    models.mkdir(exist_ok=True)
    path = models / "demo.pkl"
    path.write_bytes(pickle.dumps(payload or {"w": [1.0, 2.0]}, protocol=4))
    run_scan([path], workspace=ws, workers=0, asset="model:demo")
    return path


def test_card_is_a_pure_function_of_the_store(tmp_path: Path) -> None:
    """Two builds with nothing recorded between them have the same canonical form."""
    with Workspace.init(tmp_path) as ws:
        scanned_model(ws, tmp_path)
        first, second = build_card(ws, "model:demo"), build_card(ws, "model:demo")
        assert first.canonical() == second.canonical()
        assert first.card_type == "model_card"
        assert first.subject.version_digest and first.subject.version_digest.startswith("sha256:")
        assert first.ledger_size > 0
        ids = [s.id for s in first.sections]
        for required in ("identity", "intended_use", "risk", "versions", "lineage",
                         "training_data", "evaluation", "supply_chain", "monitoring",
                         "governance", "open_risks", "limitations"):  # fmt: skip
            assert required in ids
        scan = first.field("supply_chain.latest_scan")
        assert scan.provenance == "verified" and scan.evidence
        assert first.field("intended_use.intended_use").provenance == "missing"


def test_declared_fields_from_file_and_cli(tmp_path: Path) -> None:
    """A .card.yaml beside the model declares fields; `card set` overrides one of them."""
    with Workspace.init(tmp_path) as ws:
        path = scanned_model(ws, tmp_path)
        path.with_name("demo.card.yaml").write_text(
            "intended_use: Scoring card transactions\nlimitations: |\n  Not for loans.\n"
        )
        card = build_card(ws, "model:demo")
        field = card.field("intended_use.intended_use")
        assert (field.value, field.provenance) == ("Scoring card transactions", "declared")
        assert field.evidence == [str(path.with_name("demo.card.yaml"))]
        set_declared(ws, "model:demo", {"intended_use": "Fraud triage only"})
        assert load_declared(ws, "model:demo")["intended_use"] == "Fraud triage only"
        assert load_declared(ws, "model:demo")["limitations"] == "Not for loans."


def test_unknown_declared_key_names_file_and_line() -> None:
    """A typo in a card file is rejected with the file and line."""
    with pytest.raises(InputError) as err:
        parse_card_yaml("intended_use: x\nintended_usse: y\n", source="m.card.yaml")
    assert "m.card.yaml:2" in err.value.diagnostics()
    assert "intended_usse" in err.value.diagnostics()


def test_service_and_dataset_cards(tmp_path: Path) -> None:
    """A service gets a service card and a dataset a datasheet, without model sections."""
    with Workspace.init(tmp_path) as ws:
        add_asset(ws, "service:llm-api")
        add_asset(ws, "dataset:transactions")
        service = build_card(ws, "service:llm-api")
        sheet = build_card(ws, "dataset:transactions")
        assert service.card_type == "service_card" and service.section("supply_chain") is None
        assert sheet.card_type == "datasheet"
        assert sheet.section("composition") is not None
        assert sheet.section("evaluation") is None
