"""The CLI end to end: every reporting command's --json output is real and parseable."""

from __future__ import annotations

import json
from pathlib import Path


def test_workflow_with_json(tmp_path: Path, cli) -> None:
    """init → asset add/version/show/list → evidence list → ledger log/verify/export/prove."""
    init = json.loads(cli("init", "--json", cwd=tmp_path).stdout)
    assert init["key_id"].startswith("ed25519:")
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x00weights" * 1000)
    added = json.loads(
        cli("asset", "add", "model:m", "--owner", "ml", "--json", cwd=tmp_path).stdout
    )
    assert added["id"] == "model:m" and added["owner"] == "ml"
    version = json.loads(
        cli("asset", "version", "model:m", str(model), "--json", cwd=tmp_path).stdout
    )
    hashed = json.loads(cli("hash", str(model), "--json", cwd=tmp_path).stdout)
    assert version["digest"] == hashed[0]["digest"]
    shown = json.loads(cli("asset", "show", "model:m", "--json", cwd=tmp_path).stdout)
    assert [v["digest"] for v in shown["versions"]] == [version["digest"]]
    listed = json.loads(cli("asset", "list", "--kind", "model", "--json", cwd=tmp_path).stdout)
    assert [a["id"] for a in listed] == ["model:m"]
    assert json.loads(cli("evidence", "list", "--json", cwd=tmp_path).stdout) == []
    log = json.loads(cli("ledger", "log", "--json", cwd=tmp_path).stdout)
    assert [e["action"] for e in log] == ["workspace.init", "asset.add", "version.add"]
    verified = cli("ledger", "verify", "--json", cwd=tmp_path)
    assert verified.code == 0 and json.loads(verified.stdout)["entries"] == 3
    bundle = tmp_path / "b.jsonl"
    assert cli("ledger", "export", str(bundle), cwd=tmp_path).code == 0
    pub = str(tmp_path / ".tutela" / "keys" / "signing.pub")
    offline = cli("ledger", "verify", "--bundle", str(bundle), "--key", pub, "--json", cwd=tmp_path)
    assert offline.code == 0 and json.loads(offline.stdout)["ok"] is True
    proof = tmp_path / "p.json"
    assert cli("ledger", "prove", "2", "-o", str(proof), cwd=tmp_path).code == 0
    checked = cli("ledger", "verify", "--bundle", str(proof), "--key", pub, cwd=tmp_path)
    assert checked.code == 0 and "entry 2 is included" in checked.stdout


def test_tampered_workspace_exits_1(tmp_path: Path, cli) -> None:
    """`ledger verify` exits 1 and names the entry when the database was edited."""
    import sqlite3

    cli("init", cwd=tmp_path)
    cli("asset", "add", "dataset:d", cwd=tmp_path)
    con = sqlite3.connect(tmp_path / ".tutela" / "tutela.db")
    body = con.execute("SELECT body FROM ledger_entries WHERE seq = 2").fetchone()[0]
    con.execute(
        "UPDATE ledger_entries SET body = ? WHERE seq = 2",
        (body.replace(b"dataset:d", b"dataset:e"),),
    )
    con.commit()
    con.close()
    result = cli("ledger", "verify", "--json", cwd=tmp_path)
    assert result.code == 1
    assert json.loads(result.stdout)["first_bad_seq"] == 2


def test_version_and_help(tmp_path: Path, cli) -> None:
    """--version prints the version; no arguments prints help, not a traceback."""
    assert cli("--version", cwd=tmp_path).stdout.startswith("tutela ")
    bare = cli(cwd=tmp_path)
    assert "Usage" in bare.stdout + bare.stderr
    assert "Traceback" not in bare.stderr
