"""CycloneDX 1.6 card export: schema-valid, model card, data, services, declarations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from card_exports_support import CHAT, MODEL, arena_model, trained_model
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tutela.cards.build import build_card
from tutela.cards.export_cyclonedx import card_to_cyclonedx, validate_cyclonedx
from tutela.cards.exports import export_card
from tutela.catalog.assets import get_asset
from tutela.catalog.evidence import list_evidence
from tutela.errors import InternalError
from tutela.workspace import Workspace


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("cdx")
    with Workspace.init(root) as ws:
        trained_model(ws, root)
        arena_model(ws, root)
        dataset = get_asset(ws, "dataset:transactions").versions[0].digest
        scans = {e.id for e in list_evidence(ws, asset_id=MODEL, kind="scan")}
        return {
            "model": json.loads(export_card(ws, MODEL, "cyclonedx")),
            "chat": json.loads(export_card(ws, CHAT, "cyclonedx")),
            "chat_card": build_card(ws, CHAT),
            "dataset_digest": dataset,
            "scan_ids": scans,
        }


def test_documents_pass_the_1_6_schema(docs: dict[str, Any]) -> None:
    """Both exports validate with cyclonedx-python-lib's strict 1.6 JSON validator."""
    for key in ("model", "chat"):
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(docs[key])) is None
        assert docs[key]["specVersion"] == "1.6"


def test_model_component_and_considerations(docs: dict[str, Any]) -> None:
    """The model is a machine-learning-model whose considerations carry the declared text."""
    model = docs["model"]["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert model["bom-ref"] == MODEL
    assert model["supplier"] == {"name": "payments-risk"}
    considerations = model["modelCard"]["considerations"]
    assert considerations["useCases"][0].startswith("Scoring card transactions")
    assert "synthetic data" in considerations["technicalLimitations"][0]
    assert considerations["ethicalConsiderations"][0]["name"].startswith("Scores may differ")
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["tutela:card:human_oversight"].startswith("An analyst reviews")
    assert props["tutela:card:contact"] == "risk-team@example.com"


def test_training_dataset_is_a_data_component_hashed_by_its_digest(docs: dict[str, Any]) -> None:
    """The lineage's dataset appears as type data with the recorded version's sha256."""
    digest = docs["dataset_digest"]
    (data,) = docs["model"]["components"]
    assert data["type"] == "data" and data["name"] == "transactions"
    assert data["hashes"] == [{"alg": "SHA-256", "content": digest.removeprefix("sha256:")}]
    refs = docs["model"]["metadata"]["component"]["modelCard"]["modelParameters"]["datasets"]
    assert refs == [{"ref": data["bom-ref"]}]
    assert docs["model"]["dependencies"] == [{"ref": MODEL, "dependsOn": [data["bom-ref"]]}]


def test_declarations_cite_the_scan_evidence(docs: dict[str, Any]) -> None:
    """Verified scan facts become claims whose evidence is the recorded scan evidence."""
    declarations = docs["model"]["declarations"]
    claims = {c["bom-ref"]: c for c in declarations["claims"]}
    scanned = claims["claim:supply_chain.scanned"]
    assert scanned["predicate"].endswith("true")
    cited = {e.removeprefix("evidence:") for e in scanned["evidence"]}
    assert cited and cited <= docs["scan_ids"]
    evidence_refs = {e["bom-ref"] for e in declarations["evidence"]}
    assert set(scanned["evidence"]) <= evidence_refs
    (attestation,) = declarations["attestations"]
    supply = next(m for m in attestation["map"] if m["requirement"] == "requirement:supply_chain")
    assert supply["conformance"]["score"] == 1.0
    requirements = docs["model"]["definitions"]["standards"][0]["requirements"]
    assert "requirement:supply_chain" in {r["bom-ref"] for r in requirements}


def test_arena_scores_are_performance_metrics_with_intervals(docs: dict[str, Any]) -> None:
    """Each Arena category's ASR and Wilson interval equal the card's values."""
    metrics = docs["chat"]["metadata"]["component"]["modelCard"]["quantitativeAnalysis"][
        "performanceMetrics"
    ]
    by_slice = {m["slice"]: m for m in metrics}
    scores = docs["chat_card"].value("evaluation.arena_scores")["scores"]
    assert {f"arena:{s['category']}" for s in scores} == set(by_slice)
    for score in scores:
        metric = by_slice[f"arena:{score['category']}"]
        assert metric["type"] == "attack-success-rate"
        assert float(metric["value"]) == pytest.approx(score["asr"], abs=1e-4)
        assert float(metric["confidenceInterval"]["lowerBound"]) == pytest.approx(
            score["low"], abs=1e-4
        )
        assert float(metric["confidenceInterval"]["upperBound"]) == pytest.approx(
            score["high"], abs=1e-4
        )
    assert float(by_slice["arena:package_hallucination"]["value"]) == 1.0


def test_equal_cards_give_equal_serials(docs: dict[str, Any]) -> None:
    """The serial number derives from the card's canonical form."""
    card = docs["chat_card"]
    assert card_to_cyclonedx(card)["serialNumber"] == card_to_cyclonedx(card)["serialNumber"]


def test_an_invalid_document_is_a_bug(tmp_path: Path) -> None:
    """The validator the export relies on rejects a model card field the schema forbids."""
    bad = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [{"type": "machine-learning-model", "name": "m", "modelCard": {"bogus": 1}}],
    }
    with pytest.raises(InternalError, match=r"1\.6 schema"):
        validate_cyclonedx(bad)


def test_service_card_is_the_first_service_with_arena_properties(tmp_path: Path) -> None:
    """A service's card makes it a CycloneDX service (no model component), schema-valid,
    with its Arena scores as properties, and it imports back as a service."""
    from tutela.arena.example_server import ExampleServer
    from tutela.arena.service import run_arena
    from tutela.cards.importer import import_card

    with Workspace.init(tmp_path) as ws, ExampleServer(set()) as server:
        config = {"kind": "openai", "id": "chat-app", "base_url": server.base_url, "model": "d"}
        run_arena(
            config, out_dir=tmp_path / "a", workspace=ws, concurrency=8,
            categories=["prompt_injection"],
        )  # fmt: skip
        doc = json.loads(export_card(ws, "service:chat-app", "cyclonedx"))
        assert "component" not in doc["metadata"]
        subject = doc["services"][0]
        assert subject["bom-ref"] == "service:chat-app"
        props = {p["name"]: p["value"] for p in subject["properties"]}
        assert props["tutela:arena:asr:prompt_injection"].startswith("0.0000 [0.0000, ")
        path = tmp_path / "svc.cdx.json"
        path.write_text(json.dumps(doc))
        imported = import_card(ws, path, asset_id="service:chat-app-vendor-copy")
        assert imported.format == "cyclonedx"
        assert imported.facts["spec_version"] == "1.6"
