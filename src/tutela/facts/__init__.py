"""Facts: plain named values derived from evidence, read by policy rules and cards.

Producers register a :class:`FactProvider` in the ``tutela.facts`` entry-point group;
consumers (policy, cards, status) call :func:`collect_facts` and never import a producer.
"""

from tutela.facts.interface import Fact, FactContext, FactProvider, FactSpec, FactType

__all__ = ["Fact", "FactContext", "FactProvider", "FactSpec", "FactType"]
