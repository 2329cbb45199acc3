"""SPDX 3.0.1 card export: AI and Dataset profiles, checked against the shipped SPDX 3.0.1
JSON schema and read back by spdx-python-model."""

from __future__ import annotations

import copy
import hashlib
import json
from importlib.resources import files
from typing import Any

import pytest
import spdx_python_model
from card_exports_support import CHAT, MODEL, arena_model, trained_model
from spdx_python_model import v3_0_1 as spdx

from tutela.cards.export_spdx import (
    SPDX_SCHEMA_FILE,
    SPDX_SCHEMA_SHA256,
    spdx_schema_validator,
    validate_spdx,
)
from tutela.cards.exports import export_card
from tutela.catalog.assets import add_asset, get_asset
from tutela.errors import InternalError
from tutela.workspace import Workspace


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("spdx")
    with Workspace.init(root) as ws:
        add_asset(ws, MODEL, risk_tier="high", owner="payments-risk")
        trained_model(ws, root)
        arena_model(ws, root)
        return {
            "model": json.loads(export_card(ws, MODEL, "spdx")),
            "chat": json.loads(export_card(ws, CHAT, "spdx")),
            "dataset_digest": get_asset(ws, "dataset:transactions").versions[0].digest,
        }


def _of_type(doc: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [o for o in doc["@graph"] if o.get("type") == type_]


def _rels(doc: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    return [
        (o["from"], to)
        for o in _of_type(doc, "Relationship")
        if o["relationshipType"] == kind
        for to in o["to"]
    ]


def test_documents_load_back_and_reserialise_identically(docs: dict[str, Any]) -> None:
    """The 3.0.1 bindings read the JSON-LD, link every reference and write it unchanged."""
    for key in ("model", "chat"):
        model, objects = spdx_python_model.load_data(json.loads(json.dumps(docs[key])))
        assert model is spdx
        assert objects.link() == set()
        assert spdx.JSONLDSerializer().serialize_data(objects) == docs[key]
        assert docs[key]["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"


def test_ai_package_fields(docs: dict[str, Any]) -> None:
    """Declared use and limitation, risk tier as safety assessment, oversight as autonomy."""
    (model,) = _of_type(docs["model"], "ai_AIPackage")
    assert model["name"] == "fraud-scorer"
    assert model["ai_informationAboutApplication"].startswith("Scoring card transactions")
    assert "synthetic data" in model["ai_limitation"]
    assert model["ai_safetyRiskAssessment"] == "high"
    assert model["ai_autonomyType"] == "no"
    assert "dataset:transactions" in model["ai_informationAboutTraining"]
    (document,) = _of_type(docs["model"], "SpdxDocument")
    assert {"core", "software", "ai", "dataset"} <= set(document["profileConformance"])


def test_training_data_is_a_dataset_linked_trained_on(docs: dict[str, Any]) -> None:
    """The lineage dataset is a DatasetPackage with its digest, and the model trainedOn it."""
    (model,) = _of_type(docs["model"], "ai_AIPackage")
    (dataset,) = _of_type(docs["model"], "dataset_DatasetPackage")
    digest = docs["dataset_digest"]
    assert dataset["verifiedUsing"][0]["hashValue"] == digest.removeprefix("sha256:")
    assert _rels(docs["model"], "trainedOn") == [(model["spdxId"], dataset["spdxId"])]


def test_declared_fields_without_a_property_are_annotations(docs: dict[str, Any]) -> None:
    """Out-of-scope use, oversight, risk management... are tutela:card annotations."""
    (model,) = _of_type(docs["model"], "ai_AIPackage")
    notes = {a["comment"]: a for a in _of_type(docs["model"], "Annotation")}
    oversight = notes["tutela:card:human_oversight"]
    assert oversight["subject"] == model["spdxId"]
    assert oversight["statement"].startswith("An analyst reviews")
    assert "tutela:card:out_of_scope_use" in notes


def test_arena_scores_are_metrics_and_probe_suites_tested_on(docs: dict[str, Any]) -> None:
    """ASR per category (and its upper bound) are ai_metric entries; suites are testedOn."""
    (model,) = _of_type(docs["chat"], "ai_AIPackage")
    metrics = {m["key"]: float(m["value"]) for m in model["ai_metric"]}
    assert metrics["arena.asr.package_hallucination"] == 1.0
    assert metrics["arena.asr.prompt_injection"] == 0.0
    assert 0.0 < metrics["arena.asr_upper.prompt_injection"] < 1.0
    tested = _rels(docs["chat"], "testedOn")
    assert tested and all(src == model["spdxId"] for src, _ in tested)


def _schema_errors(doc: dict[str, Any]) -> list[str]:
    return [e.message for e in spdx_schema_validator().iter_errors(doc)]


def test_every_export_validates_against_the_spdx_schema(docs: dict[str, Any]) -> None:
    """Both exports (model with lineage, chat with Arena scores) meet the 3.0.1 JSON schema."""
    for key in ("model", "chat"):
        assert _schema_errors(docs[key]) == []


def test_shipped_schema_is_the_pinned_file() -> None:
    """The packaged schema's sha256 is the pinned constant, and it is a 2020-12 schema."""
    raw = files("tutela.cards.schemas").joinpath(SPDX_SCHEMA_FILE).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SPDX_SCHEMA_SHA256
    schema = json.loads(raw)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["@context"]["const"] == (
        "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    )


def test_ai_package_without_spdx_id_fails_the_schema(docs: dict[str, Any]) -> None:
    """spdxId is required on every Element; dropping it from the ai_AIPackage is caught."""
    broken = copy.deepcopy(docs["model"])
    (model,) = _of_type(broken, "ai_AIPackage")
    del model["spdxId"]
    with pytest.raises(InternalError, match=r"breaks the SPDX 3\.0\.1 JSON schema") as info:
        validate_spdx(broken)
    # The reported path is the AI package's place in the graph.
    assert info.value.found == (
        f"$['@graph'][{broken['@graph'].index(model)}]: "
        "is not valid under any of the given schemas (anyOf)"
    )


def test_element_without_type_fails_the_schema(docs: dict[str, Any]) -> None:
    """Every graph object needs a type; removing one (a Relationship's) is caught."""
    broken = copy.deepcopy(docs["chat"])
    del _of_type(broken, "Relationship")[0]["type"]
    with pytest.raises(InternalError, match=r"breaks the SPDX 3\.0\.1 JSON schema"):
        validate_spdx(broken)
