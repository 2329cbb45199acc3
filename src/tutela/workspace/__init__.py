"""The one context object every service takes: settings, store, ledger and keys."""

from tutela.workspace.workspace import Transaction, Workspace

__all__ = ["Transaction", "Workspace"]
