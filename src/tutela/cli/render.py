"""Output for people (Rich) and machines (JSON). Only the CLI prints."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["emit_json", "err_console", "out_console", "short_digests", "table"]


def out_console() -> Console:
    # Piped output is read by people too (CI logs): don't squeeze it to 80 columns.
    return Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def err_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):  # pydantic models, without importing pydantic
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_jsonable(value), indent=2, ensure_ascii=False, default=str))
    sys.stdout.write("\n")


_DIGEST = re.compile(r"(sha256:[0-9a-f]{12})[0-9a-f]{52}")


def short_digests(text: str) -> str:
    """Tables show 12 hex digits of a digest; --json always carries the full value."""
    return _DIGEST.sub(r"\1…", text)


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        # Cells hold user data (file names, asset ids): never interpret them as markup.
        grid.add_row(*(Text("" if cell is None else short_digests(str(cell))) for cell in row))
    out_console().print(grid)
