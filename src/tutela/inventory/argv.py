"""Reading command lines found in files (Dockerfile RUN lines, MCP server launchers)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["positionals"]


def positionals(args: Iterable[str], value_flags: frozenset[str]) -> Iterator[str]:
    """The arguments that are not options: ``-x`` is skipped, and so is the value that
    follows a flag in ``value_flags`` (``--index-url URL``)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in value_flags
            continue
        yield arg
