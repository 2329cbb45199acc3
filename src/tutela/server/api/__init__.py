"""The /api/v1 routers, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from tutela.server.api import (
    access,
    arena,
    assets,
    cards,
    evidence,
    governance,
    jobs,
    ledger,
    lineage,
    monitor,
    scans,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    access.router,
    assets.router,
    evidence.router,
    lineage.router,
    scans.router,
    arena.router,
    monitor.router,
    jobs.router,
    governance.router,
    cards.router,
    ledger.router,
)
