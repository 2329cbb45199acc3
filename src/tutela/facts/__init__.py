"""Facts: plain named values derived from evidence, read by policy rules and cards.

Producers register a :class:`FactProvider` in the ``tutela.facts`` entry-point group;
consumers (policy, cards, status) call :func:`collect_facts` and never import a producer.
"""

from typing import TYPE_CHECKING

from tutela.facts.interface import Fact, FactContext, FactProvider, FactSpec, FactType

if TYPE_CHECKING:
    from tutela.facts.collect import FactSheet, collect_facts, fact_catalogue

__all__ = [
    "Fact",
    "FactContext",
    "FactProvider",
    "FactSheet",
    "FactSpec",
    "FactType",
    "collect_facts",
    "fact_catalogue",
]


def __getattr__(name: str) -> object:
    # collect imports the workspace and catalog; load it lazily so a provider module
    # importing tutela.facts.interface never pulls the whole store in.
    if name in {"FactSheet", "collect_facts", "fact_catalogue"}:
        from tutela.facts import collect

        return getattr(collect, name)
    raise AttributeError(name)
