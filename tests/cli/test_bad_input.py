"""Bad input gets one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutela.ledger.keys import generate_key


def _one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def ws_dir(tmp_path: Path, cli) -> Path:
    result = cli("init", cwd=tmp_path)
    assert result.code == 0, result.stderr
    return tmp_path


def test_no_workspace_found(tmp_path: Path, cli) -> None:
    """Commands outside any workspace say so and exit 2."""
    result = cli("asset", "list", cwd=tmp_path)
    assert result.code == 2
    assert "no Tutela workspace found" in _one_line_error(result.stderr)


def test_workspace_found_from_a_subdirectory(ws_dir: Path, cli) -> None:
    """Like git, a workspace is found by walking up from the current directory."""
    deep = ws_dir / "a" / "b"
    deep.mkdir(parents=True)
    assert cli("asset", "add", "model:m", cwd=deep).code == 0
    assert "model:m" in cli("asset", "list", cwd=ws_dir).stdout


def test_corrupt_database(ws_dir: Path, cli) -> None:
    """A database file overwritten with garbage is reported as corrupt, exit 2."""
    db = ws_dir / ".tutela" / "tutela.db"
    db.write_bytes(b"this is not a database at all" * 200)
    result = cli("asset", "list", cwd=ws_dir)
    assert result.code == 2
    assert "corrupt or not a SQLite database" in _one_line_error(result.stderr)


def test_missing_database(ws_dir: Path, cli) -> None:
    """A deleted database file is named, not silently recreated empty."""
    (ws_dir / ".tutela" / "tutela.db").unlink()
    result = cli("asset", "list", cwd=ws_dir)
    assert result.code == 2
    assert "database is missing" in _one_line_error(result.stderr)
    assert not (ws_dir / ".tutela" / "tutela.db").exists()


def test_unreadable_key(ws_dir: Path, cli) -> None:
    """A signing key that is not a key stops state changes with exit 2."""
    (ws_dir / ".tutela" / "keys" / "signing.key").write_text("garbage\n")
    result = cli("asset", "add", "model:m", cwd=ws_dir)
    assert result.code == 2
    assert "signing key cannot be read" in _one_line_error(result.stderr)
    assert cli("asset", "list", "--json", cwd=ws_dir).stdout.strip() == "[]"


def test_key_that_is_a_directory(ws_dir: Path, cli) -> None:
    """A key path that cannot be read as a file is reported, exit 2."""
    key = ws_dir / ".tutela" / "keys" / "signing.key"
    key.unlink()
    key.mkdir()
    result = cli("asset", "add", "model:m", cwd=ws_dir)
    assert result.code == 2
    assert "signing.key" in _one_line_error(result.stderr)


def test_wrong_key(ws_dir: Path, cli) -> None:
    """Another workspace's key is refused: it would sign checkpoints nobody can check."""
    keys = ws_dir / ".tutela" / "keys"
    (keys / "signing.key").unlink()
    (keys / "signing.pub").unlink()
    generate_key().write(keys / "signing.key", keys / "signing.pub")
    result = cli("asset", "add", "model:m", cwd=ws_dir)
    assert result.code == 2
    assert "not this workspace's key" in _one_line_error(result.stderr)
    result = cli("ledger", "verify", cwd=ws_dir)
    assert result.code == 2
    assert "not this workspace's key" in _one_line_error(result.stderr)


def test_offline_verify_with_wrong_key(ws_dir: Path, tmp_path: Path, cli) -> None:
    """`ledger verify --bundle` with a key that did not sign it exits 2 and says so."""
    bundle = tmp_path / "b.jsonl"
    assert cli("ledger", "export", str(bundle), cwd=ws_dir).code == 0
    other = tmp_path / "other"
    other.mkdir()
    generate_key().write(other / "k", other / "k.pub")
    result = cli(
        "ledger", "verify", "--bundle", str(bundle), "--key", str(other / "k.pub"), cwd=tmp_path
    )
    assert result.code == 2
    assert "not the key that signed" in _one_line_error(result.stderr)
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("not a key")
    result = cli("ledger", "verify", "--bundle", str(bundle), "--key", str(garbage), cwd=tmp_path)
    assert result.code == 2
    assert "not a PEM public key" in _one_line_error(result.stderr)


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory nobody can write to; as root that takes the immutable attribute."""
    target = tmp_path / "ro"
    target.mkdir()
    target.chmod(0o555)
    immutable = False
    if os.access(target, os.W_OK):  # root ignores modes
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a read-only directory")
        done = subprocess.run(["chattr", "+i", str(target)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make a read-only directory here: {done.stderr.decode().strip()}")
        immutable = True
    try:
        yield target
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(target)], check=True)
        target.chmod(0o755)


def test_init_in_read_only_directory(read_only_dir: Path, cli) -> None:
    """`init` where nothing can be written fails with exit 2 and leaves nothing behind."""
    result = cli("init", str(read_only_dir), cwd=read_only_dir.parent)
    assert result.code == 2
    assert "cannot create the workspace" in _one_line_error(result.stderr)
    assert list(read_only_dir.iterdir()) == []


def test_failed_init_leaves_no_partial_workspace(tmp_path: Path, cli) -> None:
    """An init whose database cannot be reached removes everything it had created."""
    result = cli("init", "--db", "postgresql://postgres@127.0.0.1:1/nothing", cwd=tmp_path)
    assert result.code == 2
    _one_line_error(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_init_twice(ws_dir: Path, cli) -> None:
    """A second init refuses to overwrite the workspace."""
    result = cli("init", cwd=ws_dir)
    assert result.code == 2
    assert "already exists" in _one_line_error(result.stderr)


def test_bad_asset_id_and_unknown_asset(ws_dir: Path, cli) -> None:
    """Malformed ids and unknown assets are input errors."""
    for args, text in [
        (("asset", "add", "nokind"), "KIND:NAME"),
        (("asset", "add", "robot:x"), "unknown asset kind"),
        (("asset", "add", "model:has space"), "invalid asset name"),
        (("asset", "show", "model:ghost"), "no such asset"),
        (("asset", "add", "model:x", "--risk-tier", "extreme"), "unknown risk tier"),
    ]:
        result = cli(*args, cwd=ws_dir)
        assert result.code == 2, args
        assert text in _one_line_error(result.stderr)


def test_bad_bundle_file(tmp_path: Path, ws_dir: Path, cli) -> None:
    """A file that is not a bundle is named in a one-line error."""
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"\x00\x01not json")
    pub = ws_dir / ".tutela" / "keys" / "signing.pub"
    result = cli("ledger", "verify", "--bundle", str(junk), "--key", str(pub), cwd=tmp_path)
    assert result.code == 2
    assert "junk.jsonl" in _one_line_error(result.stderr)


def test_json_errors(tmp_path: Path, cli) -> None:
    """With --json an error is also printed as a JSON object on stdout."""
    import json

    result = cli("asset", "list", "--json", cwd=tmp_path)
    assert result.code == 2
    body = json.loads(result.stdout)
    assert body["error"] == "workspace"
    assert body["exit_code"] == 2
