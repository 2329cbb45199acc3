"""Import a capability's module at call time: a missing one is a 501, not a crash."""

from __future__ import annotations

import importlib
from types import ModuleType

from tutela.server.errors import NotAvailable

__all__ = ["capability"]


def capability(module: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            raise NotAvailable(
                f"{what} is not available in this installation", subject=module
            ) from None
        raise
