"""Hugging Face model card export: metadata the Hub's own parser accepts, template headings."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from card_exports_support import CHAT, MODEL, arena_model, trained_model
from huggingface_hub import ModelCard

from tutela.cards.build import build_card
from tutela.cards.exports import export_card
from tutela.workspace import Workspace

TEMPLATE_HEADINGS = (
    "## Model Details",
    "### Model Description",
    "## Uses",
    "### Direct Use",
    "### Out-of-Scope Use",
    "## Bias, Risks, and Limitations",
    "### Recommendations",
    "## How to Get Started with the Model",
    "## Training Details",
    "### Training Data",
    "## Evaluation",
    "### Results",
    "## Environmental Impact",
    "## Model Card Contact",
)


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hf")
    with Workspace.init(root) as ws:
        trained_model(ws, root)
        arena_model(ws, root)
        return {
            "model": export_card(ws, MODEL, "hf"),
            "chat": export_card(ws, CHAT, "hf"),
            "chat_card": build_card(ws, CHAT),
        }


def test_front_matter_is_read_by_huggingface_hub(docs: dict[str, Any]) -> None:
    """huggingface_hub parses the metadata, and model-index into evaluation results."""
    card = ModelCard(docs["chat"], ignore_metadata_errors=False)
    results = card.data.eval_results
    assert results, "model-index produced no evaluation results"
    by_name = {r.metric_name: r.metric_value for r in results}
    assert by_name["ASR package_hallucination"] == 1.0
    assert by_name["ASR prompt_injection"] == 0.0
    assert card.data.license == "other"
    assert "tutela" in card.data.tags


def test_model_index_matches_the_card(docs: dict[str, Any]) -> None:
    """Every Arena category of the card is one attack_success_rate metric."""
    meta = yaml.safe_load(docs["chat"].split("---")[1])
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    scores = docs["chat_card"].value("evaluation.arena_scores")["scores"]
    assert {m["name"] for m in metrics} == {f"ASR {s['category']}" for s in scores}
    assert all(m["type"] == "attack_success_rate" for m in metrics)


def test_body_follows_the_template_and_carries_declared_text(docs: dict[str, Any]) -> None:
    """The Hub template's headings in order, declared text under them, datasets listed."""
    text = docs["model"]
    positions = [text.index(h + "\n") for h in TEMPLATE_HEADINGS]
    assert positions == sorted(positions)
    direct = text.split("### Direct Use\n", 1)[1].split("###", 1)[0]
    assert "Scoring card transactions" in direct
    assert "- **Developed by:** payments-risk" in text
    assert "`dataset:transactions`" in text
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["datasets"] == ["transactions"]


def test_unknown_fields_use_the_template_placeholder(docs: dict[str, Any]) -> None:
    """What nobody declared reads [More Information Needed], as on the Hub."""
    uses = docs["chat"].split("### Direct Use\n", 1)[1].split("###", 1)[0]
    assert uses.strip() == "[More Information Needed]"
