"""`tutela user|approve|waiver` end to end through the real console entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

# Runs `tutela` with the governance commands registered, whether or not main.py has them
# yet, through the same run() that maps errors to one line and an exit code.
_ENTRY = """
import sys
from tutela.cli import governance, main
have = {g.name for g in main.app.registered_groups}
for name, sub in (("user", governance.user_app), ("approve", governance.approve_app),
                  ("waiver", governance.waiver_app)):
    if name not in have:
        main.app.add_typer(sub, name=name)
main.run(sys.argv[1:])
"""


EXPIRES = (date.today() + timedelta(days=60)).isoformat()


class Run:
    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "200"}
        env.pop("TUTELA_WORKSPACE", None)
        env.pop("TUTELA_USER", None)
        return subprocess.run(
            [sys.executable, "-c", _ENTRY, *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str) -> object:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def tutela(tmp_path: Path) -> Run:
    run = Run(tmp_path)
    assert run("init").returncode == 0
    run.ok("user", "add", "ada", "--role", "admin", "--as", "ada")
    run.ok("user", "add", "eve", "--role", "engineer", "--as", "ada")
    run.ok("user", "add", "rita", "--role", "risk-officer", "--email", "r@x.org", "--as", "ada")
    done = run("asset", "add", "model:fraud", "--risk-tier", "high")
    assert done.returncode == 0, done.stderr
    return run


def test_users_listed_and_guarded(tutela: Run) -> None:
    """Users list with roles; a non-admin cannot grant roles (exit 2, one line)."""
    users = tutela.ok("user", "list")
    assert {u["name"]: u["roles"] for u in users} == {  # type: ignore[attr-defined]
        "ada": ["admin"],
        "eve": ["engineer"],
        "rita": ["risk-officer"],
    }
    denied = tutela("user", "roles", "eve", "--role", "admin", "--as", "eve")
    assert denied.returncode == 2
    assert "only an admin" in denied.stderr and len(denied.stderr.strip().splitlines()) == 1
    assert tutela.ok("user", "disable", "eve", "--as", "ada")["disabled_at"]  # type: ignore[index]


def test_request_review_flow(tutela: Run) -> None:
    """Request, self-approval refused (exit 2), two roles approve, listed and shown."""
    request = tutela.ok(
        "approve", "request", "fraud", "--stage", "prod", "--reason", "ready", "--as", "eve"
    )
    rid = request["id"]  # type: ignore[index]
    assert request["required_roles"] == ["engineer", "risk-officer"]  # type: ignore[index]
    self_review = tutela("approve", "accept", rid, "--comment", "mine", "--as", "eve")
    assert self_review.returncode == 2
    assert self_review.stderr.strip() == (
        "error: you requested this approval; a different person must review it"
    )
    half = tutela.ok("approve", "accept", rid, "--comment", "risk ok", "--as", "rita")
    assert half["missing_roles"] == ["engineer"]  # type: ignore[index]
    assert tutela.ok("approve", "list", "--status", "pending")[0]["id"] == rid  # type: ignore[index]
    shown = tutela("approve", "show", rid)
    assert shown.returncode == 0 and "approve by rita as risk-officer" in shown.stdout
    no_comment = tutela("approve", "reject", rid, "--comment", " ", "--as", "ada")
    assert no_comment.returncode == 2


def test_reject_and_withdraw(tutela: Run) -> None:
    """Reject closes a request; the requester withdraws a pending one."""
    rid = tutela.ok(
        "approve", "request", "model:fraud", "--stage", "staging", "--reason", "try", "--as", "eve"
    )["id"]  # type: ignore[index]
    closed = tutela.ok("approve", "reject", rid, "--comment", "no eval", "--as", "rita")
    assert closed["status"] == "rejected"  # type: ignore[index]
    rid2 = tutela.ok(
        "approve", "request", "fraud", "--stage", "staging", "--reason", "again", "--as", "eve"
    )["id"]  # type: ignore[index]
    assert tutela.ok("approve", "withdraw", rid2, "--as", "eve")["status"] == "withdrawn"  # type: ignore[index]


def test_waiver_commands(tutela: Run) -> None:
    """Waivers: grant by a risk officer, request + approve, list, revoke; bad input exit 2."""
    engineer = tutela(
        "waiver", "add", "--rule", "scan.no-critical", "--reason", "sandboxed runtime",
        "--expires", EXPIRES, "--as", "eve",
    )  # fmt: skip
    assert engineer.returncode == 2 and "no role that may accept a risk" in engineer.stderr
    both = tutela("waiver", "add", "--reason", "sandboxed runtime", "--expires", EXPIRES,
                  "--as", "rita")  # fmt: skip
    assert both.returncode == 2 and "exactly one of --rule" in both.stderr
    granted = tutela.ok(
        "waiver", "add", "--rule", "scan.no-critical", "--reason", "sandboxed runtime",
        "--expires", EXPIRES, "--asset", "fraud", "--as", "rita",
    )  # fmt: skip
    assert granted["approved_by"] == "rita" and granted["state"] == "active"  # type: ignore[index]
    asked = tutela.ok(
        "waiver", "request", "--finding", "sha256:" + "1" * 64, "--reason", "known false positive",
        "--expires", EXPIRES, "--asset", "fraud", "--as", "eve",
    )  # fmt: skip
    assert asked["waiver"]["state"] == "pending"  # type: ignore[index]
    assert len(tutela.ok("waiver", "list")) == 1  # type: ignore[arg-type]
    tutela.ok("approve", "accept", asked["request"]["id"], "--as", "rita")  # type: ignore[index]
    assert len(tutela.ok("waiver", "list", "--asset", "fraud")) == 2  # type: ignore[arg-type]
    revoked = tutela.ok("waiver", "revoke", granted["id"], "--as", "rita")  # type: ignore[index]
    assert revoked["state"] == "revoked"  # type: ignore[index]
    assert len(tutela.ok("waiver", "list", "--all")) == 2  # type: ignore[arg-type]
    verify = tutela("ledger", "verify")
    assert verify.returncode == 0, verify.stderr
