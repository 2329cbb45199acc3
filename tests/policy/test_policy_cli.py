"""`tutela policy check|init|facts` and `tutela gate` through the real console entry point.

Until the lead registers the commands in tutela/cli/main.py, the child process adds them
to the same app the entry point runs (and leaves it alone once they are registered).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from policy_support import SCAN_ONLY, clean_safetensors, evil_pickle

SHIM = """
import sys
from tutela.cli import main, policy
if "policy" not in {g.name for g in main.app.registered_groups}:
    main.app.add_typer(policy.app, name="policy")
if "gate" not in {c.name for c in main.app.registered_commands}:
    main.app.command("gate")(policy.gate)
main.run(sys.argv[1:])
"""


class Result:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr


def tutela(*args: str, cwd: Path) -> Result:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("TUTELA_WORKSPACE", None)
    proc = subprocess.run(
        [sys.executable, "-c", SHIM, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(proc)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with a clean model and a malicious one, both really scanned."""
    root = tmp_path_factory.mktemp("cli")
    assert tutela("init", cwd=root).code == 0
    (root / "clean.safetensors").write_bytes(clean_safetensors())
    (root / "evil.pkl").write_bytes(evil_pickle(root / "MARKER"))
    for name, asset in (("clean.safetensors", "model:clean"), ("evil.pkl", "model:evil")):
        result = tutela("scan", name, "--asset", asset, "--workers", "0", cwd=root)
        assert result.code in (0, 1), result.stderr
    assert not (root / "MARKER").exists()
    return root


def test_init_writes_the_default_and_refuses_to_overwrite(tmp_path: Path) -> None:
    """`policy init` writes a policy that `policy check` accepts; a second init needs --force."""
    assert tutela("policy", "init", cwd=tmp_path).code == 0
    assert (tmp_path / "tutela.policy.yaml").is_file()
    again = tutela("policy", "init", cwd=tmp_path)
    assert again.code == 2 and "the file exists" in again.stderr
    assert tutela("policy", "init", "--force", cwd=tmp_path).code == 0
    checked = tutela("policy", "check", "--json", cwd=tmp_path)  # no workspace needed
    assert checked.code == 0, checked.stderr
    doc = json.loads(checked.stdout)
    assert doc["valid"] is True
    assert [r["id"] for r in doc["rules"]][:2] == ["tier.not-prohibited", "scan.no-high-findings"]
    assert len(doc["rules"]) == 9
    table = tutela("policy", "check", cwd=tmp_path)
    assert table.code == 0 and "approvals.two-roles" in table.stdout


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("rules:\n  - id: a\n    message: m\n    expr: [oops\n", 5, "bad YAML"),
        ("rules:\n  - id: a\n    message: m\n    expr: drift.greenish\n", 4, "unknown fact"),
        (
            "rules:\n  - id: a\n    message: m\n    expr: |\n      scan.scanned &&\n      (\n",
            6,
            "CEL syntax error",
        ),
        (
            "rules:\n  - id: a\n    message: m\n    expr: scan.open_findings * 2\n",
            4,
            "rule cannot return a boolean",
        ),
    ],
    ids=["bad-yaml", "unknown-fact", "cel-syntax", "not-boolean"],
)
def test_check_rejects_malformed_files_with_file_line_reason(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    """Each malformed file: exit 2, and the problem printed as file:line: reason."""
    policy = tmp_path / "bad.yaml"
    policy.write_text(text)
    result = tutela("policy", "check", str(policy), cwd=tmp_path)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert f"{policy}:{line}: {reason}" in result.stderr, result.stderr


def test_check_reports_every_problem_in_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "tutela.policy"
    folder.mkdir()
    (folder / "a.yaml").write_text(SCAN_ONLY)
    (folder / "b.yaml").write_text(SCAN_ONLY.replace("findings_at_or_above.high", "nope"))
    (folder / "c.yml").write_text(SCAN_ONLY)
    result = tutela("policy", "check", "--json", cwd=tmp_path)
    assert result.code == 2
    problems = json.loads(result.stdout)["problems"]
    found = [(Path(p["file"]).name, p["line"], p["reason"]) for p in problems]
    assert found[0][:2] == ("b.yaml", 6) and found[0][2].startswith("unknown fact 'scan.nope'")
    assert found[1][:2] == ("c.yml", 3)
    assert found[1][2].startswith("duplicate rule id 'scan.no-high-findings' (first defined at")
    assert "a.yaml:3" in found[1][2]
    assert len(found) == 2


def test_empty_policy_check_warns(tmp_path: Path) -> None:
    (tmp_path / "tutela.policy.yaml").write_text("version: 1\nrules: []\n")
    result = tutela("policy", "check", cwd=tmp_path)
    assert result.code == 1 and "fail closed" in result.stderr


def test_gate_exit_codes(repo: Path) -> None:
    """Exit 0 pass, 1 fail (failing rule and evidence listed), 2 bad input or no policy."""
    missing = tutela("gate", "model:clean", "--stage", "prod", cwd=repo)
    assert missing.code == 2 and "no policy found" in missing.stderr
    (repo / "tutela.policy.yaml").write_text(SCAN_ONLY)
    try:
        passed = tutela("gate", "model:clean", "--stage", "prod", cwd=repo)
        assert passed.code == 0, passed.stdout + passed.stderr
        assert "PASS" in passed.stdout
        failed = tutela("gate", "model:evil", "--stage", "prod", cwd=repo)
        assert failed.code == 1
        assert "FAIL" in failed.stdout and "scan.no-high-findings" in failed.stdout
        as_json = tutela("gate", "model:evil", "--stage", "prod", "--json", cwd=repo)
        assert as_json.code == 1
        doc = json.loads(as_json.stdout)
        assert doc["passed"] is False and doc["failed_rules"] == ["scan.no-high-findings"]
        assert doc["rules"][0]["evidence"] and doc["evidence_id"]
        bad_stage = tutela("gate", "model:evil", "--stage", "qa", cwd=repo)
        assert bad_stage.code == 2 and "unknown stage" in bad_stage.stderr
        bad_at = tutela("gate", "model:evil", "--stage", "prod", "--at", "soon", cwd=repo)
        assert bad_at.code == 2 and "cannot read --at" in bad_at.stderr
        (repo / "broken.yaml").write_text(SCAN_ONLY.replace("&&", "&& &&"))
        broken = tutela(
            "gate", "model:clean", "--stage", "prod", "--policy", "broken.yaml", cwd=repo
        )
        assert broken.code == 2 and "broken.yaml:6" in broken.stderr
    finally:
        (repo / "tutela.policy.yaml").unlink()


def test_facts_lists_values_and_evidence(repo: Path) -> None:
    result = tutela("policy", "facts", "model:evil", "--json", cwd=repo)
    assert result.code == 0, result.stderr
    facts = json.loads(result.stdout)["facts"]
    assert facts["scan.max_severity"]["value"] == "critical"
    assert facts["scan.max_severity"]["evidence"]
    table = tutela("policy", "facts", "model:evil", "--stage", "prod", cwd=repo)
    assert table.code == 0 and "scan.max_severity" in table.stdout
