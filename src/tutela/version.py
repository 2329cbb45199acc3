"""Tutela's own version: stored with every evidence record as its producer version."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["tutela_version"]


def tutela_version() -> str:
    try:
        return version("tutela")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"
