"""`tutela token create|list|revoke` and `tutela serve` on a real workspace."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer
from typer.testing import CliRunner

from tutela.catalog.users import add_user
from tutela.cli.serve import serve, token_app
from tutela.workspace import Workspace


def _cli() -> typer.Typer:
    # The commands as main.py mounts them (`tutela serve`, `tutela token ...`).
    root = typer.Typer()
    root.command("serve")(serve)
    root.add_typer(token_app, name="token")
    return root


def test_token_commands(tmp_path: Path) -> None:
    with Workspace.init(tmp_path) as ws:
        add_user(ws, "root", roles=["admin"], actor="root")
        add_user(ws, "ana", roles=["engineer"], actor="root")
    runner = CliRunner()
    env = {"TUTELA_WORKSPACE": str(tmp_path), "TUTELA_USER": "root"}
    created = runner.invoke(_cli(), ["token", "create", "ana", "--label", "ci"], env=env)
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip().splitlines()[0]
    assert plaintext.startswith("tut_")
    listed = runner.invoke(_cli(), ["token", "list", "--json"], env=env)
    tokens = json.loads(listed.stdout)
    assert [t["label"] for t in tokens] == ["ci"] and plaintext not in listed.stdout
    not_admin = runner.invoke(_cli(), ["token", "create", "ana"], env={**env, "TUTELA_USER": "ana"})
    assert not_admin.exit_code != 0
    revoked = runner.invoke(_cli(), ["token", "revoke", tokens[0]["id"], "--json"], env=env)
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked_at"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_and_logs_json(tmp_path: Path) -> None:
    from tutela.catalog.tokens import create_token

    with Workspace.init(tmp_path) as ws:
        add_user(ws, "root", roles=["admin"], actor="root")
        token, _ = create_token(ws, "root", actor="root")
    port = _free_port()
    code = "from tutela.cli.serve import serve; import typer; typer.run(serve)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", str(port), "--workspace", str(tmp_path)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["name"] == "root"
        assert httpx.get(f"{url}/api/v1/me").status_code == 401
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    requests = [entry for entry in lines if entry.get("msg") == "request"]
    assert any(r["path"] == "/api/v1/me" and r["actor"] == "root" for r in requests)
    assert token not in err
