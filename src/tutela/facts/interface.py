"""The contract between producers of evidence and its consumers.

A fact is named ``<namespace>.<name>`` (``scan.max_severity``, ``arena.asr``). Policy rules
see each namespace as a CEL map, so ``arena.asr.prompt_injection`` reads key
``prompt_injection`` of the map-valued fact ``arena.asr``. Every fact says which evidence
it was derived from, so a gate or a card can show what it looked at, and whether that
evidence is about the version under review (``stale`` when it is about an older one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from tutela.catalog.schemas import AssetOut, VersionOut

__all__ = ["Fact", "FactContext", "FactProvider", "FactSpec", "FactType"]

# CEL's types, so the policy loader can check a rule against the catalogue before running.
FactType = Literal["bool", "int", "double", "string", "timestamp", "list", "map"]


@dataclass(frozen=True)
class FactSpec:
    """One fact a provider may produce: its name inside the namespace, type and meaning."""

    name: str
    type: FactType
    description: str
    # For map facts: the type of the values (keys are always strings).
    value_type: FactType | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Fact:
    """A value and where it came from.

    ``value`` is plain JSON (bool, int, float, str, list, dict) or a datetime for
    ``timestamp`` facts. ``evidence`` holds the ids of the Evidence rows it was derived
    from; ``stale`` is true when that evidence is about an older version than the one
    under review; ``note`` says in a sentence what is missing or why, for people.
    """

    value: Any
    evidence: tuple[str, ...] = ()
    stale: bool = False
    note: str | None = None


@dataclass(frozen=True)
class FactContext:
    """What a provider is asked about: one asset, at one version, at one moment.

    ``version`` is the version under review (the one being promoted), or None when the
    asset has no versions. ``at`` is the moment of evaluation: waivers and age facts are
    computed against it, so a gate can be re-run "as of" any time. ``stage`` is the
    deployment stage being gated (dev, staging, prod) or None.
    """

    session: Session
    asset: AssetOut
    version: VersionOut | None
    at: datetime
    stage: str | None = None
    # Extra inputs a front may pass (reserved; providers must tolerate an empty map).
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class FactProvider(Protocol):
    """Registered under the ``tutela.facts`` entry-point group, one per namespace."""

    id: ClassVar[str]  # "facts.scan"
    namespace: ClassVar[str]  # "scan"
    specs: ClassVar[tuple[FactSpec, ...]]

    def collect(self, ctx: FactContext) -> dict[str, Fact]:
        """Facts by their name inside the namespace; a fact not known is left out."""
        ...
