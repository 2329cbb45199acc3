"""A small JSONPath subset for picking predictions out of a response body.

Grammar: ``$`` then any of ``.name``, ``['name']``, ``[index]`` (negative allowed) and
``[*]`` / ``.*`` (every element). ``$.predictions[*].label`` gives one value per
element; a path without a wildcard gives the one value it names.
"""

from __future__ import annotations

import re
from typing import Any

from tutela.arena.ml.interface import MLArenaError

__all__ = ["compile_path", "select"]

_TOKEN = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)|\.(?P<star1>\*)|\[(?P<star2>\*)\]"
    r"|\[(?P<index>-?\d+)\]|\[(?P<quote>['\"])(?P<key>(?:(?!(?P=quote)).)*)(?P=quote)\]"
)

Step = tuple[str, Any]  # ("key", name) | ("index", n) | ("all", None)


def compile_path(path: str) -> list[Step]:
    if not path.startswith("$") or len(path) > 500:
        raise MLArenaError(
            "a selector starts with $",
            found=repr(path[:60]),
            expected="e.g. $.predictions[*].label",
        )
    steps: list[Step] = []
    pos = 1
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None:
            raise MLArenaError(
                "cannot parse the selector", found=repr(path), expected=f"a step at character {pos}"
            )
        if match["name"] is not None:
            steps.append(("key", match["name"]))
        elif match["key"] is not None:
            steps.append(("key", match["key"]))
        elif match["index"] is not None:
            steps.append(("index", int(match["index"])))
        else:
            steps.append(("all", None))
        pos = match.end()
    return steps


def select(document: Any, steps: list[Step]) -> tuple[list[Any], bool]:
    """The values the path names, and whether it had a wildcard (a list of results)."""
    current = [document]
    many = False
    for kind, arg in steps:
        found: list[Any] = []
        for value in current:
            if (kind == "key" and isinstance(value, dict) and arg in value) or (
                kind == "index" and isinstance(value, list) and -len(value) <= arg < len(value)
            ):
                found.append(value[arg])
            elif kind == "all":
                many = True
                if isinstance(value, list):
                    found.extend(value)
                elif isinstance(value, dict):
                    found.extend(value.values())
            elif kind != "all":
                raise MLArenaError(
                    "the response has no value at the selector",
                    found=f"no {arg!r} in a {type(value).__name__}",
                )
        current = found
    return current, many
