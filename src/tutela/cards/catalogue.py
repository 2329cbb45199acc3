"""The compliance crosswalk catalogue: frameworks, their items, and the checks that satisfy them.

Each framework is one YAML data file in ``tutela/cards/crosswalk/`` shipped with Tutela.
An item is a requirement of the source (an article, an Annex IV point, a NIST subcategory,
a generative-AI risk, an ISO/IEC 42001 Annex A control) summarised in our own words and
cited by document, section and URL. Its checks are CEL expressions over the facts and the
declared card fields (namespace ``card``); an item nothing can check automatically is
``manual`` and says what a person must provide.
"""

from __future__ import annotations

import functools
import re
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tutela.errors import InputError, UsageError

__all__ = [
    "CARD_FIELDS",
    "FRAMEWORKS",
    "Catalogue",
    "Check",
    "Framework",
    "Item",
    "Source",
    "known_facts",
    "load_framework",
]

# Framework key (the CLI's --framework) -> data file in tutela/cards/crosswalk/.
FRAMEWORKS: dict[str, str] = {
    "eu-ai-act": "eu-ai-act.yaml",
    "nist-ai-rmf": "nist-ai-rmf.yaml",
    "nist-ai-600-1": "nist-ai-600-1.yaml",
    "iso-42001": "iso-42001.yaml",
}

# Declared card fields, each a string ("" when not declared).
CARD_FIELDS: tuple[str, ...] = (
    "intended_use",
    "out_of_scope_use",
    "limitations",
    "ethical_considerations",
    "owner",
    "human_oversight",
    "training_data_description",
    "performance_metrics",
    "accuracy_metrics",
    "cybersecurity_measures",
    "risk_management",
    "instructions_for_use",
    "contact",
    "logging",
)


def known_facts() -> frozenset[str]:
    """Every fact a check may read: what the registered providers declare, plus the card.

    Read from the providers' declarations (entry points, no workspace needed), so a fact
    a provider adds is usable in the catalogue without a second list to keep in step.
    """
    return _known_facts()


@functools.cache
def _known_facts() -> frozenset[str]:
    from tutela.plugins import PluginRegistry

    names: set[str] = {f"card.{name}" for name in CARD_FIELDS}
    for plugin in PluginRegistry().group("tutela.facts").values():
        namespace = getattr(plugin.obj, "namespace", None)
        for spec in getattr(plugin.obj, "specs", ()):
            if namespace:
                names.add(f"{namespace}.{spec.name}")
    return frozenset(names)


_ITEM_ID = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9.\-]+$")
_CHECK_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """Where an item comes from: the document, the article or section, and a URL."""

    document: str
    section: str
    url: str


class Check(_Frozen):
    """One automatable condition: true when the facts show the item (or part of it) is met."""

    id: str
    description: str  # what satisfies it, for people ("Arena evaluated in the last 90 days")
    expression: str  # CEL over the fact namespaces and ``card``
    evidence_facts: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _valid(self) -> Check:
        if not _CHECK_ID.match(self.id):
            raise ValueError(f"check id {self.id!r} must be lower-case words joined by '-'")
        unknown = [name for name in self.evidence_facts if name not in known_facts()]
        if unknown:
            raise ValueError(f"check {self.id}: unknown evidence facts {unknown}")
        return self


class Item(_Frozen):
    """A requirement of the source, in our words, with the checks that satisfy it."""

    id: str
    title: str
    summary: str
    source: Source
    checks: tuple[Check, ...] = ()
    manual: bool = False
    # For manual items (and as advice for automatable ones): what a person must provide.
    provide: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> Item:
        if not _ITEM_ID.match(self.id):
            raise ValueError(f"item id {self.id!r} must look like FRAMEWORK:SECTION")
        if self.manual and not self.provide:
            raise ValueError(f"{self.id}: a manual item must say what a person must provide")
        if not self.manual and not self.checks:
            raise ValueError(f"{self.id}: an item without checks must be marked manual")
        ids = [c.id for c in self.checks]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.id}: duplicate check ids")
        return self


class Framework(_Frozen):
    """The framework's identity; its document and URL are the items' default source."""

    id: str  # the item-id prefix: "EU-AI-Act"
    key: str  # the CLI name: "eu-ai-act"
    title: str
    document: str
    url: str
    note: str | None = None


class Catalogue(_Frozen):
    """One framework's items, in the source's order."""

    framework: Framework
    items: tuple[Item, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> Catalogue:
        prefix = self.framework.id + ":"
        seen: set[str] = set()
        for item in self.items:
            if not item.id.startswith(prefix):
                raise ValueError(f"item {item.id} does not start with {prefix}")
            if item.id in seen:
                raise ValueError(f"duplicate item id {item.id}")
            seen.add(item.id)
        return self

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)


def _with_default_source(raw: Any) -> Any:
    """Fill each item's source document and URL from the framework when the file omits them."""
    if not isinstance(raw, dict):
        return raw
    framework = raw.get("framework") or {}
    for item in raw.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("source"), dict):
            item["source"].setdefault("document", framework.get("document"))
            item["source"].setdefault("url", framework.get("url"))
    return raw


def parse_catalogue(text: str, *, subject: str) -> Catalogue:
    """Validate one framework file; a bad file is an InputError naming what is wrong."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(
            "not valid YAML", subject=subject, found=str(exc).splitlines()[0]
        ) from None
    try:
        return Catalogue.model_validate(_with_default_source(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            "invalid crosswalk catalogue",
            subject=subject,
            found=f"{where}: {first['msg']}" if where else first["msg"],
        ) from None


@cache
def load_framework(key: str) -> Catalogue:
    """The shipped catalogue for ``key`` (eu-ai-act, nist-ai-rmf, nist-ai-600-1, iso-42001)."""
    filename = FRAMEWORKS.get(key)
    if filename is None:
        raise UsageError(
            "unknown framework", found=key, expected=", ".join(FRAMEWORKS), hint="see --help"
        )
    text = resources.files("tutela.cards.crosswalk").joinpath(filename).read_text("utf-8")
    return parse_catalogue(text, subject=f"tutela/cards/crosswalk/{filename}")
