"""Reading a third-party card safely: size, depth and time limits, one-line errors.

A vendor card is untrusted input. It is read whole only below ``MAX_BYTES``; JSON nesting
and YAML aliases are bounded (an alias bomb expands a few lines into gigabytes); the whole
import has a deadline checked between stages. Every problem is an ``InputError`` naming
the file, never a traceback.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tutela.errors import InputError, LimitExceeded

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_SECONDS",
    "Deadline",
    "check_depth",
    "load_json",
    "load_yaml",
    "read_card_file",
]

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 48  # below the ledger's 64: extracted values are stored nested
MAX_SECONDS = 10.0
MAX_YAML_EVENTS = 200_000


class Deadline:
    """Raises once the import has taken longer than its budget."""

    def __init__(self, subject: str, seconds: float = MAX_SECONDS) -> None:
        self.subject = subject
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def check(self, stage: str) -> None:
        if time.monotonic() > self._end:
            raise LimitExceeded(
                f"reading the card took too long ({stage})",
                subject=self.subject,
                expected=f"at most {self.seconds:g} s",
            )


def read_card_file(path: Path) -> bytes:
    """The file's bytes, refusing anything that is not a regular file below the size limit."""
    subject = str(path)
    try:
        if not path.is_file():
            raise InputError("not a file", subject=subject, hint="give the path of a card file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LimitExceeded(
                "card file too large",
                subject=subject,
                expected=f"at most {MAX_BYTES} bytes",
                found=f"{size} bytes",
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError("cannot read the card", subject=subject, found=exc.strerror) from None
    if len(data) > MAX_BYTES:  # grew while we looked
        raise LimitExceeded("card file too large", subject=subject, expected=f"<= {MAX_BYTES}")
    if not data.strip():
        raise InputError("the card file is empty", subject=subject)
    return data


def check_depth(value: Any, subject: str, limit: int = MAX_DEPTH) -> None:
    """Iteratively (no recursion to exhaust) refuse documents nested deeper than ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise LimitExceeded(
                "the card nests too deeply", subject=subject, expected=f"<= {limit}"
            )
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def load_json(text: str, subject: str) -> Any:
    try:
        value = json.loads(text)
    except RecursionError:
        raise LimitExceeded(
            "the card nests too deeply", subject=subject, expected=f"<= {MAX_DEPTH}"
        ) from None
    except ValueError as exc:
        raise InputError(f"not valid JSON: {exc}".splitlines()[0], subject=subject) from None
    check_depth(value, subject)
    return value


def load_yaml(text: str, subject: str) -> Any:
    """Safe YAML without aliases (a card has no use for them; a bomb does)."""
    import yaml

    try:
        for count, event in enumerate(yaml.parse(text, Loader=yaml.SafeLoader)):
            if isinstance(event, yaml.AliasEvent):
                raise InputError(
                    "YAML aliases are not accepted in a card",
                    subject=subject,
                    hint="write the values out in full",
                )
            if count > MAX_YAML_EVENTS:
                raise LimitExceeded(
                    "the card's YAML is too large", subject=subject, expected="fewer nodes"
                )
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"not valid YAML: {first}", subject=subject) from None
    except RecursionError:
        raise LimitExceeded(
            "the card nests too deeply", subject=subject, expected=f"<= {MAX_DEPTH}"
        ) from None
    check_depth(value, subject)
    return value
