"""The versioned canary prompt set: loaded from YAML with limits, named by a digest."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from tutela.errors import InputError, LimitExceeded

__all__ = ["CanaryPrompt", "PromptSet", "load_prompt_set", "parse_prompt_set"]

MAX_BYTES = 256 * 1024
MAX_PROMPTS = 200
MAX_TEXT = 4000
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


@dataclass(frozen=True, slots=True)
class CanaryPrompt:
    id: str
    text: str
    system: str | None = None


@dataclass(frozen=True, slots=True)
class PromptSet:
    """A fixed prompt set; ``digest`` covers every prompt so edits are never silent."""

    id: str
    version: int
    prompts: tuple[CanaryPrompt, ...]

    @property
    def digest(self) -> str:
        body = [{"id": p.id, "text": p.text, "system": p.system} for p in self.prompts]
        raw = json.dumps([self.id, self.version, body], sort_keys=True).encode()
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "digest": self.digest,
            "prompts": len(self.prompts),
        }


def parse_prompt_set(data: Any, subject: str) -> PromptSet:
    if not isinstance(data, dict):
        raise InputError(
            "a prompt set must be a mapping", subject=subject, expected="id, version, prompts"
        )
    set_id, version, items = data.get("id"), data.get("version"), data.get("prompts")
    if not isinstance(set_id, str) or not _ID.match(set_id):
        raise InputError("the prompt set needs an 'id'", subject=subject, found=repr(set_id))
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError("the prompt set needs an integer 'version' >= 1", subject=subject)
    if not isinstance(items, list) or not items:
        raise InputError("'prompts' must be a non-empty list", subject=subject)
    if len(items) > MAX_PROMPTS:
        raise LimitExceeded(
            "too many prompts",
            subject=subject,
            expected=f"at most {MAX_PROMPTS}",
            found=str(len(items)),
        )
    prompts: list[CanaryPrompt] = []
    for i, raw in enumerate(items):
        where = f"{subject}: prompts[{i}]"
        if not isinstance(raw, dict):
            raise InputError("a prompt must be a mapping with id and text", subject=where)
        pid, text, system = raw.get("id"), raw.get("text"), raw.get("system")
        if not isinstance(pid, str) or not _ID.match(pid):
            raise InputError("invalid prompt id", subject=where, found=repr(pid))
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise InputError("a prompt needs a text of 1-4000 characters", subject=where)
        if system is not None and (not isinstance(system, str) or len(system) > MAX_TEXT):
            raise InputError("system must be a string of at most 4000 characters", subject=where)
        prompts.append(CanaryPrompt(pid, text, system))
    ids = [p.id for p in prompts]
    if len(set(ids)) != len(ids):
        raise InputError("duplicate prompt ids", subject=subject)
    return PromptSet(set_id, version, tuple(prompts))


def load_prompt_set(path: Path | None = None) -> PromptSet:
    """The shipped set (``tutela/monitor/data/canary_prompts.yaml``) or one from ``path``."""
    import yaml

    if path is None:
        resource = resources.files("tutela.monitor").joinpath("data", "canary_prompts.yaml")
        text, subject = resource.read_text(encoding="utf-8"), "canary_prompts.yaml"
    else:
        subject = str(path)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise LimitExceeded(
                    "the prompt file is too large",
                    subject=subject,
                    expected=f"at most {MAX_BYTES} bytes",
                )
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(
                "cannot read the prompt file", subject=subject, found=exc.strerror
            ) from None
        except UnicodeDecodeError:
            raise InputError("the prompt file is not UTF-8", subject=subject) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(
            "the prompt file is not valid YAML", subject=subject, found=str(exc).splitlines()[0]
        ) from None
    return parse_prompt_set(data, subject)
