"""collect_facts: providers from the entry-point group, versions by digest or prefix, the
sheet's JSON and CEL views, and a broken provider reported without breaking the sheet."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from tutela.catalog.assets import add_asset, add_version
from tutela.errors import InputError
from tutela.facts import Fact, FactContext, FactSpec, collect_facts, fact_catalogue
from tutela.plugins import LoadedPlugin
from tutela.scan.service import run_scan
from tutela.workspace import Workspace

OLD = "sha256:" + "11" * 32
NEW = "sha256:" + "12" * 32


def _asset(ws: Workspace) -> None:
    add_asset(ws, "model:m", owner="alice", risk_tier="high", tags=["team:risk", "pii"])
    add_version(ws, "model:m", OLD)
    add_version(ws, "model:m", NEW)


def test_asset_facts_and_version_choice(workspace: Workspace) -> None:
    _asset(workspace)
    sheet = collect_facts(workspace, "model:m", stage="prod")
    asset = sheet.activation()["asset"]
    assert asset == {
        "id": "model:m",
        "kind": "model",
        "name": "m",
        "owner": "alice",
        "risk_tier": "high",
        "stage": "prod",
        "version_digest": NEW,  # the latest by default
        "version_count": 2,
        "tags": ["pii", "team:risk"],
        "has_version": True,
    }
    assert collect_facts(workspace, "model:m", version=OLD).version.digest == OLD  # type: ignore[union-attr]
    assert collect_facts(workspace, "model:m", version="sha256:11").version.digest == OLD  # type: ignore[union-attr]
    with pytest.raises(InputError, match="ambiguous"):
        collect_facts(workspace, "model:m", version="sha256:1")
    with pytest.raises(InputError, match="no such version"):
        collect_facts(workspace, "model:m", version="sha256:99")
    with pytest.raises(InputError, match="no such asset"):
        collect_facts(workspace, "model:nope")


def test_asset_without_version(workspace: Workspace) -> None:
    add_asset(workspace, "dataset:empty")
    sheet = collect_facts(workspace, "dataset:empty")
    assert sheet.version is None
    assert sheet.errors == {}
    facts = sheet.activation()
    assert facts["asset"]["has_version"] is False and facts["asset"]["owner"] == ""
    assert facts["scan"] == {"scanned": False}
    assert facts["lineage"]["known"] is False


def test_every_fact_is_in_the_catalogue_with_its_type(workspace: Workspace, tmp_path: Path) -> None:
    """Whatever a provider emits is declared in its specs, with a value of the declared type,
    and the JSON form round-trips through json.dumps."""
    model = tmp_path / "m.pkl"
    model.write_bytes(pickle.dumps({"w": 1.0}, protocol=4))
    run_scan([model], workspace=workspace, asset="model:m", workers=0)
    catalogue = fact_catalogue(workspace)
    for name in ("asset.risk_tier", "scan.findings_at_or_above", "data.checked",
                 "lineage.complete", "services.governed"):  # fmt: skip
        assert name in catalogue
    sheet = collect_facts(workspace, "model:m")
    python_types = {
        "bool": bool, "int": int, "double": float, "string": str,
        "timestamp": datetime, "list": list, "map": dict,
    }  # fmt: skip
    for name, fact in sheet.facts.items():
        spec = catalogue[name]
        assert isinstance(fact.value, python_types[spec.type]), name
        if spec.type == "int":
            assert not isinstance(fact.value, bool), name
    doc = json.loads(json.dumps(sheet.to_json()))
    assert doc["asset"] == "model:m"
    assert doc["facts"]["scan.last_scan_at"]["value"].endswith("Z")
    assert doc["facts"]["scan.scanned"]["evidence"] == list(sheet.facts["scan.scanned"].evidence)


class _Broken:
    id: ClassVar[str] = "facts.broken"
    namespace: ClassVar[str] = "broken"
    specs: ClassVar[tuple[FactSpec, ...]] = (FactSpec("x", "int", "never produced"),)

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        raise RuntimeError("the provider's backend\nis down")


def test_a_broken_provider_is_reported_not_raised(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entry points cannot be added from a test, so the loaded group gets one more plugin."""
    _asset(workspace)
    real = dict(workspace.plugins.group("tutela.facts"))
    real["facts.broken"] = LoadedPlugin("facts.broken", "tutela.facts", _Broken, None)
    monkeypatch.setattr(workspace.plugins, "group", lambda name: real)
    sheet = collect_facts(workspace, "model:m")
    assert sheet.errors == {"broken": "RuntimeError: the provider's backend is down"}
    assert "broken" not in sheet.activation()
    assert sheet.activation()["asset"]["id"] == "model:m"
    assert "broken.x" in fact_catalogue(workspace)
    only = collect_facts(workspace, "model:m", namespaces=["asset"])
    assert set(only.activation()) == {"asset"}


def test_on_postgres_explicitly(tmp_path: Path, pg_url: str) -> None:
    with Workspace.init(tmp_path, database_url=pg_url) as ws:
        _asset(ws)
        at = datetime.now(UTC)
        sheet = collect_facts(ws, "model:m", at=at)
        assert sheet.at == at
        assert sheet.errors == {}
        assert sheet.activation()["asset"]["version_count"] == 2
