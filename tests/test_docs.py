"""Documentation keeps up with the code: every command and setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from tutela.cli.main import app

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _commands(group: object, prefix: str) -> list[str]:
    found: list[str] = []
    commands = getattr(group, "commands", {})
    for name, command in commands.items():
        path = f"{prefix} {name}"
        if getattr(command, "commands", None):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def test_every_cli_command_is_documented() -> None:
    """Each leaf command has a `### \\`tutela …\\`` heading in docs/cli.md."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `([^`]+)`", text, flags=re.MULTILINE))
    commands = _commands(typer.main.get_command(app), "tutela")
    assert len(commands) >= 10
    missing = [c for c in commands if not any(h == c or h.startswith(c + " ") for h in headings)]
    assert not missing, f"undocumented commands: {missing}"


def test_every_environment_variable_is_documented() -> None:
    """Each TUTELA_* variable read in src/ appears in docs/configuration.md."""
    src = Path(__file__).resolve().parent.parent / "src" / "tutela"
    used = set()
    for path in src.rglob("*.py"):
        used |= set(re.findall(r"\"(TUTELA_[A-Z_]+)\"", path.read_text(encoding="utf-8")))
    documented = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(v for v in used if v not in documented)
    assert used and not missing, f"undocumented variables: {missing}"
