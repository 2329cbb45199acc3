"""`card import`: our own exports round-trip; vendor cards are scored; bad files fail clean."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
import typer
from card_exports_support import DECLARED, MODEL, trained_model
from typer.testing import CliRunner, Result

from tutela.cards.exports import export_card
from tutela.cards.import_limits import MAX_BYTES, Deadline
from tutela.cards.importer import IMPORT_PRODUCER, import_card
from tutela.catalog.assets import get_asset
from tutela.catalog.evidence import list_evidence
from tutela.cli.card_exports import register
from tutela.errors import InputError, LimitExceeded
from tutela.workspace import Workspace

VENDOR_README = """\
---
license: apache-2.0
language:
- en
tags:
- text-classification
datasets:
- imdb
pipeline_tag: text-classification
model-index:
- name: acme-sentiment
  results:
  - task:
      type: text-classification
      name: Text Classification
    dataset:
      name: IMDb
      type: imdb
    metrics:
    - type: accuracy
      value: 0.931
      name: Accuracy
    - type: f1
      value: 0.928
---

# Model Card for acme-sentiment

## Model Details

### Model Description

- **Developed by:** ACME AI Lab
- **Model type:** DistilBERT fine-tuned for sentiment
- **License:** apache-2.0

## Uses

### Direct Use

Classifying the sentiment of English product reviews.

### Out-of-Scope Use

[More Information Needed]

## Bias, Risks, and Limitations

Trained on movie reviews; accuracy drops on other domains and on non-English text.

## Training Details

### Training Data

[More Information Needed]

## Model Card Contact

ml@acme.example
"""

VENDOR_CYCLONEDX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "services": [
        {
            "bom-ref": "svc-1",
            "name": "vendor-llm",
            "provider": {"name": "Vendor AI Inc.", "contact": [{"email": "trust@vendor.example"}]},
            "description": "Hosted chat completion API for customer-support drafting.",
            "endpoints": ["https://api.vendor.example/v1/chat"],
            "authenticated": True,
            "x-trust-boundary": True,
            "properties": [
                {"name": "tutela:card:logging", "value": "Requests are logged for 30 days."}
            ],
        }
    ],
}


def _cli(*args: str, workspace: Path) -> Result:
    root = typer.Typer()
    card = typer.Typer()
    register(card)
    root.add_typer(card, name="card")

    @root.callback()
    def _root() -> None:
        """Root."""

    return CliRunner().invoke(root, ["card", *args, "--workspace", str(workspace)])


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx", "hf"])
def test_export_then_import_round_trips_declared_fields(tmp_path: Path, fmt: str) -> None:
    """Every declared field of our card survives export and import in each format."""
    with Workspace.init(tmp_path) as ws:
        trained_model(ws, tmp_path)
        path = tmp_path / f"card.{fmt}"
        path.write_text(export_card(ws, MODEL, fmt))
        imported = import_card(ws, path, asset_id="model:fraud-scorer-copy")
        expected = dict(line.split(": ", 1) for line in DECLARED.strip().splitlines())
        for key, value in expected.items():
            assert imported.declared.get(key) == value, (fmt, key)
        assert imported.format == fmt
        assert "datasets" in imported.facts or "transactions" in imported.declared.get(
            "training_data_description", ""
        )
        digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        assert imported.version_digest == digest
        versions = [v.digest for v in get_asset(ws, "model:fraud-scorer-copy").versions]
        assert versions == [digest]
        (ev,) = list_evidence(ws, asset_id="model:fraud-scorer-copy", kind="card")
        assert ev.producer == IMPORT_PRODUCER and ev.id == imported.evidence_id
        assert ev.payload["declared"] == imported.declared
        assert imported.report.recorded_as == ev.id


def test_vendor_hf_readme_is_scored_with_gaps(tmp_path: Path) -> None:
    """A Hub README yields declared fields and metrics; missing ones are per-item gaps."""
    readme = tmp_path / "README.md"
    readme.write_text(VENDOR_README)
    with Workspace.init(tmp_path) as ws:
        imported = import_card(ws, readme)
    assert imported.asset_id == "model:acme-sentiment"
    assert (
        imported.declared["intended_use"] == "Classifying the sentiment of English product reviews."
    )
    assert imported.declared["owner"] == "ACME AI Lab"
    assert imported.declared["contact"] == "ml@acme.example"
    assert "out_of_scope_use" not in imported.declared  # the placeholder is not a declaration
    assert "accuracy = 0.931" in imported.declared["accuracy_metrics"]
    assert imported.facts["metrics"] == {"accuracy": 0.931, "f1": 0.928}
    assert imported.facts["license"] == "apache-2.0"
    report = imported.report
    assert report.framework == "eu-ai-act" and 0.0 <= report.score < 1.0
    gaps = {g.id: g for g in imported.gaps()}
    assert gaps, "a vendor card without oversight or risk management has gaps"
    art14 = gaps.get("EU-AI-Act:Art.14")
    assert art14 is not None and art14.status != "satisfied"
    purpose = next(i for i in report.items if i.id == "EU-AI-Act:Art.11")
    passed = {c.id for c in purpose.checks if c.passed}
    assert "purpose-declared" in passed


def test_vendor_cyclonedx_service_is_registered_as_a_service(tmp_path: Path) -> None:
    """A vendor BOM with only a service registers service:NAME with its declared fields."""
    path = tmp_path / "vendor.cdx.json"
    path.write_text(json.dumps(VENDOR_CYCLONEDX))
    with Workspace.init(tmp_path) as ws:
        imported = import_card(ws, path, framework="nist-ai-rmf")
        detail = get_asset(ws, "service:vendor-llm")
    assert imported.asset_id == "service:vendor-llm"
    assert imported.declared["owner"] == "Vendor AI Inc."
    assert imported.declared["contact"] == "trust@vendor.example"
    assert imported.declared["logging"] == "Requests are logged for 30 days."
    assert imported.facts["endpoints"] == ["https://api.vendor.example/v1/chat"]
    assert imported.report.framework == "nist-ai-rmf"
    assert detail.asset.kind.value == "service" and detail.evidence_counts == {"card": 1}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"hello": 1}', "unknown JSON card format"),
        ("just some text", "unknown card format"),
        ("---\nlicense: mit\n# no closing line\n", "no closing --- line"),
        ("---\na: &x [1]\nb: *x\n---\n", "YAML aliases"),
        ("---\n- a list\n---\n", "not a YAML mapping"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.6"}', "no machine-learning-model"),
        ('{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}',
         "no ai_AIPackage"),
        ("[" * 5000 + "]" * 5000, "unknown card format"),
        ('{"a":' * 100 + "1" + "}" * 100, "nests too deeply"),
    ],
)  # fmt: skip
def test_malformed_cards_are_one_line_input_errors(
    tmp_path: Path, content: str, message: str
) -> None:
    """Each malformed file gives an InputError naming the file, on one line."""
    path = tmp_path / "bad-card"
    path.write_text(content)
    with Workspace.init(tmp_path) as ws, pytest.raises(InputError) as err:
        import_card(ws, path)
    text = err.value.diagnostics()
    assert message in text and str(path) in text and "\n" not in text


def test_oversized_card_is_refused_before_reading(tmp_path: Path) -> None:
    """A file over 8 MiB is a LimitExceeded, and nothing is recorded."""
    path = tmp_path / "huge.json"
    path.write_bytes(b"{" + b" " * MAX_BYTES + b"}")
    with Workspace.init(tmp_path) as ws:
        with pytest.raises(LimitExceeded, match="too large"):
            import_card(ws, path)
        assert list_evidence(ws, kind="card") == []


def test_cli_export_and_import(tmp_path: Path) -> None:
    """`card export --out` writes the document; `card import --json` reports the score."""
    with Workspace.init(tmp_path) as ws:
        trained_model(ws, tmp_path)
    out = tmp_path / "bom.json"
    result = _cli("export", MODEL, "--format", "cyclonedx", "--out", str(out), workspace=tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["bomFormat"] == "CycloneDX"
    result = _cli("import", str(out), "--asset", "model:copy", "--json", workspace=tmp_path)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["asset_id"] == "model:copy" and body["format"] == "cyclonedx"
    assert body["report"]["framework"] == "eu-ai-act"
    table = _cli("import", str(out), "--asset", "model:copy", workspace=tmp_path)
    assert "gaps" in table.output and "score" in table.output


def test_deadline_turns_slowness_into_a_limit() -> None:
    """An import past its time budget stops with LimitExceeded naming the stage."""
    deadline = Deadline("slow.json", seconds=0.0)
    time.sleep(0.01)
    with pytest.raises(LimitExceeded, match="parsing"):
        deadline.check("parsing")
