"""Refusal verdicts for many replies at once, with the Arena's detector.

The Arena's ``combined_compliance`` decides with patterns when they are sure and asks the
MiniLM head otherwise; its batch form (``combined_compliance_many``, where the Arena has
it) embeds what the head must read in batches and remembers the answers on the shared
model, so repeated replies cost nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from tutela.arena import refusal_model
from tutela.arena.detectors import classify_compliance
from tutela.monitor.llm_embed import Embedder

__all__ = ["refusals"]

_MAX_TEXT = 200_000  # the Arena's detectors judge the first 200k characters


def refusals(
    texts: Sequence[str], embedder: Embedder | None, blocked: Sequence[bool] = ()
) -> list[bool]:
    """True where the reply refused (a content-filter block counts as a refusal).

    Without the optional model (``embedder`` None) the Arena's patterns alone decide.
    """
    cut = [t[:_MAX_TEXT] for t in texts]
    flags = list(blocked) + [False] * (len(cut) - len(blocked))
    if embedder is None:
        return [b or not classify_compliance(t)[0] for t, b in zip(cut, flags, strict=True)]
    judged = [t for t, b in zip(cut, flags, strict=True) if not b]
    many = getattr(refusal_model, "combined_compliance_many", None)
    if many is not None:
        verdicts = [complied for complied, _ in many(judged, embedder.model)]
    else:  # an Arena without the batch form: one reply at a time
        verdicts = [refusal_model.combined_compliance(t, embedder.model)[0] for t in judged]
    answers = iter(verdicts)
    return [True if b else not next(answers) for b in flags]
