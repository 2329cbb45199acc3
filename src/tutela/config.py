"""Workspace settings: ``.tutela/config.toml`` plus environment overrides.

A leaf module: reads and writes the file, knows the layout of ``.tutela/``, and nothing
else. Environment variables: ``TUTELA_DATABASE_URL`` (the store), ``TUTELA_WORKSPACE``
(where to look for a workspace), ``TUTELA_ACTOR`` (who is acting).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tutela.errors import WorkspaceError

__all__ = [
    "CONFIG_NAME",
    "DIR_NAME",
    "FORMAT",
    "Layout",
    "Settings",
    "find_workspace",
]

DIR_NAME = ".tutela"
CONFIG_NAME = "config.toml"
FORMAT = 1
_MAX_CONFIG = 1024 * 1024
ENV_DATABASE_URL = "TUTELA_DATABASE_URL"
ENV_WORKSPACE = "TUTELA_WORKSPACE"


@dataclass(frozen=True)
class Layout:
    """Where each file of a workspace lives, given its ``.tutela`` directory."""

    dir: Path

    @property
    def root(self) -> Path:
        return self.dir.parent

    @property
    def config(self) -> Path:
        return self.dir / CONFIG_NAME

    @property
    def sqlite(self) -> Path:
        return self.dir / "tutela.db"

    @property
    def signing_key(self) -> Path:
        return self.dir / "keys" / "signing.key"

    @property
    def public_key(self) -> Path:
        return self.dir / "keys" / "signing.pub"

    @property
    def witness(self) -> Path:
        # Copies of signed checkpoints outside the database: truncating the database
        # and its checkpoint table together is still caught.
        return self.dir / "witness.jsonl"


@dataclass(frozen=True)
class Settings:
    workspace_id: str
    created: str
    key_id: str
    database_url: str | None  # None: the embedded SQLite file
    format: int = FORMAT

    def effective_url(self, layout: Layout) -> str:
        override = os.environ.get(ENV_DATABASE_URL)
        if override:
            return override
        if self.database_url:
            return self.database_url
        return f"sqlite:///{layout.sqlite}"

    def to_toml(self) -> str:
        def s(value: str) -> str:
            return json.dumps(value, ensure_ascii=True)  # a valid TOML basic string

        lines = [
            "# Tutela workspace settings. Secrets do not belong here: the signing key",
            "# lives in keys/ and database passwords in TUTELA_DATABASE_URL.",
            "[workspace]",
            f"id = {s(self.workspace_id)}",
            f"created = {s(self.created)}",
            f"format = {self.format}",
            "",
            "[store]",
            "# Empty: the embedded SQLite database .tutela/tutela.db.",
            f"url = {s(self.database_url or '')}",
            "",
            "[ledger]",
            f"key_id = {s(self.key_id)}",
            "",
        ]
        return "\n".join(lines)

    @classmethod
    def load(cls, layout: Layout) -> Settings:
        path = layout.config
        try:
            with path.open("rb") as handle:
                raw = handle.read(_MAX_CONFIG + 1)
        except FileNotFoundError:
            raise WorkspaceError(
                "the workspace has no config.toml",
                subject=str(layout.dir),
                hint="run `tutela init`",
            ) from None
        except OSError as exc:
            raise WorkspaceError(
                "cannot read the workspace config", subject=str(path), found=exc.strerror
            ) from None
        if len(raw) > _MAX_CONFIG:
            raise WorkspaceError("config.toml is implausibly large", subject=str(path))
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise WorkspaceError(
                "config.toml is not valid TOML", subject=str(path), found=str(exc)
            ) from None
        try:
            workspace, store, ledger = data["workspace"], data.get("store", {}), data["ledger"]
            settings = cls(
                workspace_id=str(workspace["id"]),
                created=str(workspace["created"]),
                format=int(workspace.get("format", FORMAT)),
                database_url=str(store.get("url") or "") or None,
                key_id=str(ledger["key_id"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WorkspaceError(
                "config.toml lacks a required setting", subject=str(path), found=str(exc)
            ) from None
        if settings.format > FORMAT:
            raise WorkspaceError(
                "the workspace was created by a newer Tutela",
                subject=str(path),
                expected=f"format <= {FORMAT}",
                found=str(settings.format),
            )
        return settings


def find_workspace(start: Path | None = None) -> Layout:
    """Walk up from ``start`` (default: ``TUTELA_WORKSPACE`` or the cwd) like git does."""
    origin = start or Path(os.environ.get(ENV_WORKSPACE) or Path.cwd())
    here = origin.resolve()
    for candidate in (here, *here.parents):
        if candidate.name == DIR_NAME and (candidate / CONFIG_NAME).is_file():
            return Layout(candidate)
        if (candidate / DIR_NAME / CONFIG_NAME).is_file():
            return Layout(candidate / DIR_NAME)
    raise WorkspaceError(
        "no Tutela workspace found",
        subject=str(here),
        expected=f"a {DIR_NAME}/ directory here or in a parent",
        hint="run `tutela init` or pass --workspace",
    )
