"""`tutela scan` end to end: exit codes, evidence in the store and ledger, SARIF, suppressions.

Malicious samples are raw pickle bytes whose payload would only create a marker file;
every test checks that the marker never appears.
"""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tutela.catalog.evidence import list_evidence
from tutela.ledger.log import iter_entries
from tutela.scan.interface import Severity
from tutela.scan.rules import all_rules
from tutela.scan.sarif import to_sarif
from tutela.scan.service import run_scan
from tutela.scan.suppressions import add_suppression
from tutela.workspace import Workspace


def _evil(marker: Path) -> bytes:
    """posix.system('touch MARKER') via STACK_GLOBAL + REDUCE, protocol 4."""
    cmd = f"touch {marker}".encode()
    body = (
        b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
        + b"\x8c"
        + bytes([len(cmd)])
        + cmd
        + b"\x94\x85\x94R\x94."
    )
    return b"\x80\x04\x95" + len(body).to_bytes(8, "little") + body


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "MARKER"
    models = tmp_path / "models"
    models.mkdir()
    (models / "good.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0], "b": 0.5}, protocol=4))
    (models / "weights.txt").write_bytes(_evil(marker))  # the extension lies
    yield tmp_path, marker
    assert not marker.exists(), "the scanner executed a payload"


def test_service_records_evidence_on_versions(project: tuple[Path, Path]) -> None:
    """Each model artifact gets scan evidence on its version digest, in the ledger."""
    root, _ = project
    with Workspace.init(root) as ws:
        outcome = run_scan([root / "models"], workspace=ws, workers=0)
        assert outcome.exit_code() == 1
        assert outcome.worst() == Severity.CRITICAL
        evil = next(r for r in outcome.reports if r.path.endswith("weights.txt"))
        assert evil.format == "pickle"
        assert {f.rule_id for f in evil.findings} >= {"pickle.denied-call"}
        records = list_evidence(ws, kind="scan")
        assert len(records) == 2
        by_asset = {e.asset_id: e for e in records}
        bad = by_asset["model:models/weights.txt"]
        assert bad.version_digest == evil.digest
        assert bad.summary["max_severity"] == "critical"
        assert by_asset["model:models/good.pkl"].summary["verdict"] == "clean"
        with ws.reader() as session:
            actions = [e.data()["action"] for e in iter_entries(session)]
        assert actions.count("evidence.scan") == 2
        assert ws.verify().ok


def test_rescan_keeps_suppression(project: tuple[Path, Path]) -> None:
    """A suppressed finding stays suppressed on rescans until it expires; exit code follows."""
    root, _ = project
    with Workspace.init(root) as ws:
        first = run_scan([root / "models"], workspace=ws, workers=0)
        evil = next(r for r in first.reports if r.findings)
        for finding in evil.findings:
            add_suppression(
                ws,
                first.fingerprint(evil, finding),
                justification="known test fixture, reviewed by security",
                expires_at=datetime.now(UTC) + timedelta(days=30),
            )
        second = run_scan([root / "models"], workspace=ws, workers=0)
        assert second.exit_code() == 0
        assert len(second.suppressed) == len(evil.findings)
        latest = list_evidence(ws, asset_id="model:models/weights.txt", limit=1)[0]
        assert latest.summary["suppressed"] == len(evil.findings)
        assert latest.summary["findings"] == 0


def test_sarif_structure(project: tuple[Path, Path]) -> None:
    """SARIF output has the fields GitHub code scanning requires, consistently indexed."""
    root, _ = project
    outcome = run_scan([root / "models"], workers=0, base=root)
    sarif = to_sarif(outcome)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    assert run["results"], "the malicious pickle must produce results"
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "models/weights.txt"
        assert location["region"]["startLine"] == 1
        assert result["partialFingerprints"]["tutela/finding/v1"].startswith("sha256:")
    for rule in rules:
        assert float(rule["properties"]["security-severity"]) > 0


def test_cli_exit_codes_and_formats(project: tuple[Path, Path], cli) -> None:
    """Exit 1 on a finding at --fail-on, 0 above it; json and sarif are parseable."""
    root, _ = project
    assert cli("init", cwd=root).code == 0
    result = cli("scan", "models", "--workers", "0", cwd=root)
    assert result.code == 1, result.stderr
    assert "pickle.denied-call" in result.stdout
    as_json = cli("scan", "models", "--json", "--no-record", "--workers", "0", cwd=root)
    doc = json.loads(as_json.stdout)
    assert doc["max_severity"] == "critical" and doc["exit_code"] == 1
    sarif = root / "out.sarif"
    done = cli("scan", "models", "--format", "sarif", "-o", str(sarif), "--workers", "0", cwd=root)
    assert done.code == 1
    assert json.loads(sarif.read_text())["runs"][0]["results"]
    good = cli("scan", "models/good.pkl", "--workers", "0", cwd=root)
    assert good.code == 0


def test_cli_without_workspace_still_scans(project: tuple[Path, Path], cli) -> None:
    """Outside a workspace the scan runs, says nothing was recorded, and keeps its exit code."""
    root, _ = project
    result = cli("scan", "models", "--workers", "0", cwd=root)
    assert result.code == 1
    assert "not recorded" in result.stderr


def test_unparseable_pickle_is_not_clean(tmp_path: Path, cli) -> None:
    """A truncated pickle is never 'no issues found'."""
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps(list(range(100)), protocol=2)[:-7])
    result = cli("scan", "cut.pkl", "--json", "--workers", "0", cwd=tmp_path)
    doc = json.loads(result.stdout)
    assert doc["reports"][0]["verdict"] != "clean"
    assert result.code in (1, 4)


def test_suppression_cli(project: tuple[Path, Path], cli) -> None:
    """Suppressions need a fingerprint, a justification and a future expiry."""
    root, _ = project
    cli("init", cwd=root)
    doc = json.loads(cli("scan", "models", "--json", "--workers", "0", cwd=root).stdout)
    fingerprints = [f["fingerprint"] for r in doc["reports"] for f in r["findings"]]
    bad = cli(
        "suppression",
        "add",
        "nope",
        "--justification",
        "x" * 20,
        "--expires",
        "2099-01-01",
        cwd=root,
    )
    assert bad.code == 2
    past = cli(
        "suppression",
        "add",
        fingerprints[0],
        "--justification",
        "x" * 20,
        "--expires",
        "2001-01-01",
        cwd=root,
    )
    assert past.code == 2
    for fp in fingerprints:
        ok = cli(
            "suppression",
            "add",
            fp,
            "--justification",
            "accepted test fixture",
            "--expires",
            "2027-06-01",
            cwd=root,
        )
        assert ok.code == 0, ok.stderr
    assert cli("scan", "models", "--workers", "0", cwd=root).code == 0
    listed = json.loads(cli("suppression", "list", "--json", cwd=root).stdout)
    assert all(s["active"] for s in listed)
    cli("suppression", "revoke", listed[0]["id"], cwd=root)
    assert cli("scan", "models", "--workers", "0", cwd=root).code == 1


def test_rules_are_documented() -> None:
    """Every rule id in the catalogue appears in the scanner docs."""
    docs = Path(__file__).resolve().parents[2] / "docs"
    text = "".join(p.read_text(encoding="utf-8") for p in docs.glob("scan*.md"))
    missing = [r.rule_id for r in all_rules() if f"`{r.rule_id}`" not in text]
    assert not missing, f"undocumented rules: {missing}"
