"""LLM behaviour per window of (prompt, response) pairs, and changes between windows.

Rates (each with a Wilson 95% interval): refusal (the Arena's refusal/compliance detector,
MiniLM head included when installed), toxicity (``llm_text.toxicity``), PII in the reply
that the prompt did not supply (the Arena's PII detector), canary leakage (the Arena's
canary detector, when canaries are given), response language shares and language mismatch
(the reply in another language than the prompt). Length: mean and spread of
log(1 + characters). Embeddings: MiniLM vectors of a seeded sample of prompts and replies.

``compare(ref, cur)`` decides each metric by effect size with uncertainty: a rate changed
when the Newcombe 95% interval of the difference (from the two Wilson intervals) excludes 0
and the difference is at least ``min_rate_effect``; length when the Welch 95% interval of
the difference in mean log length excludes 0 and the change is at least 20%; embeddings
when the RBF-kernel MMD permutation p-value is below ``alpha``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutela.arena.detectors import CanaryDetector, PiiDetector
from tutela.arena.interface import Message, Probe, Reply
from tutela.arena.scoring import wilson
from tutela.errors import InputError, LimitExceeded
from tutela.monitor.llm_text import detect_language, toxicity

__all__ = [
    "BehaviourProfile",
    "LengthSummary",
    "MetricChange",
    "Rate",
    "behaviour",
    "compare",
    "load_pairs",
]

MAX_PAIRS = 1_000_000
MAX_TEXT = 200_000
MAX_FILE_BYTES = 512 * 1024 * 1024
_Z = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    n: int

    @property
    def value(self) -> float:
        return self.count / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        interval = wilson(self.count, self.n)
        return {
            "count": self.count,
            "n": self.n,
            "value": self.value,
            "interval": [interval.low, interval.high],
        }


@dataclass(frozen=True, slots=True)
class LengthSummary:
    """Response length in characters; comparisons use log(1 + length)."""

    n: int
    mean_log: float
    var_log: float
    median: float
    p90: float

    def to_dict(self) -> dict[str, Any]:
        half = _Z * math.sqrt(self.var_log / self.n) if self.n > 1 else float("inf")
        return {
            "n": self.n,
            "median": self.median,
            "p90": self.p90,
            "mean_log": self.mean_log,
            "mean_log_interval": [self.mean_log - half, self.mean_log + half],
        }


@dataclass(slots=True)
class BehaviourProfile:
    n: int
    rates: dict[str, Rate]
    length: LengthSummary
    prompt_embeddings: NDArray[np.float64] | None = None
    response_embeddings: NDArray[np.float64] | None = None
    refusal_model: bool = False

    def metrics(self) -> dict[str, float]:
        """Plain ``dict[str, float]`` for alert rules (``llm.<metric>``)."""
        out = {f"llm.{name}": rate.value for name, rate in self.rates.items()}
        out["llm.length_median"] = self.length.median
        out["llm.length_p90"] = self.length.p90
        out["llm.pairs"] = float(self.n)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "rates": {name: rate.to_dict() for name, rate in sorted(self.rates.items())},
            "length": self.length.to_dict(),
            "embedded": {
                "prompts": 0 if self.prompt_embeddings is None else len(self.prompt_embeddings),
                "responses": 0
                if self.response_embeddings is None
                else len(self.response_embeddings),
            },
            "refusal_model": self.refusal_model,
        }


@dataclass(frozen=True, slots=True)
class MetricChange:
    """One metric compared between a reference and a current window."""

    name: str
    kind: str  # rate | length | embedding
    reference: float
    current: float
    delta: float
    interval: tuple[float, float] | None
    p_value: float | None
    changed: bool
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "reference": self.reference,
            "current": self.current,
            "delta": self.delta,
            "interval": list(self.interval) if self.interval else None,
            "p_value": self.p_value,
            "changed": self.changed,
            "reason": self.reason,
            "details": dict(self.details),
        }


def _pairs(items: Iterable[Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        if i >= MAX_PAIRS:
            raise LimitExceeded("too many pairs in one window", expected=f"at most {MAX_PAIRS}")
        if isinstance(item, Mapping):
            prompt = item.get("prompt", item.get("input"))
            response = item.get("response", item.get("output"))
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
            prompt, response = item
        else:
            raise InputError(
                f"pair {i} is not (prompt, response)",
                expected='a 2-tuple or {"prompt", "response"}',
            )
        if not isinstance(prompt, str) or not isinstance(response, str):
            raise InputError(f"pair {i}: prompt and response must be strings")
        out.append((prompt[:MAX_TEXT], response[:MAX_TEXT]))
    return out


def _embedder_or_none() -> Any:
    from tutela.arena.refusal_model import RefusalModelUnavailable

    try:
        from tutela.monitor.llm_embed import shared_embedder

        return shared_embedder()
    except (ImportError, RefusalModelUnavailable):
        return None


def behaviour(
    pairs: Iterable[Any],
    *,
    canaries: Sequence[str] = (),
    embed: bool = True,
    embed_sample: int = 256,
    seed: int = 0,
    embedder: Any = None,
) -> BehaviourProfile:
    """Summarise one window of (prompt, response) pairs."""
    from tutela.monitor.llm_refusal import refusals

    rows = _pairs(pairs)
    if not rows:
        raise InputError("the window holds no (prompt, response) pairs")
    model = embedder if embedder is not None else (_embedder_or_none() if embed else None)
    prompts = [p for p, _ in rows]
    responses = [r for _, r in rows]
    n = len(rows)
    refused = refusals(responses, model)
    rates: dict[str, Rate] = {
        "refusal_rate": Rate(sum(refused), n),
        "toxicity_rate": Rate(sum(bool(toxicity(r)) for r in responses), n),
    }
    pii = PiiDetector()
    probe = Probe(
        id="monitor.llm",
        category="monitor",
        owasp="LLM02:2025",
        atlas="",
        severity="low",
        turns=(),
        detectors=(),
        params={"canary": list(canaries)},
    )
    rates["pii_rate"] = Rate(
        sum(pii.detect(probe, [Message("user", p)], Reply(r)).hit is True for p, r in rows), n
    )
    if canaries:
        leak = CanaryDetector()
        rates["canary_leak_rate"] = Rate(
            sum(leak.detect(probe, [], Reply(r)).hit is True for r in responses), n
        )
    prompt_lang = [detect_language(p) for p in prompts]
    reply_lang = [detect_language(r) for r in responses]
    for code, count in Counter(reply_lang).items():
        rates[f"language.{code}"] = Rate(count, n)
    both = [(a, b) for a, b in zip(prompt_lang, reply_lang, strict=True) if "und" not in (a, b)]
    rates["language_mismatch_rate"] = Rate(sum(a != b for a, b in both), len(both))
    logs = np.log1p(np.asarray([len(r) for r in responses], dtype=np.float64))
    sizes = np.asarray([len(r) for r in responses], dtype=np.float64)
    length = LengthSummary(
        n,
        float(logs.mean()),
        float(logs.var(ddof=1)) if n > 1 else 0.0,
        float(np.median(sizes)),
        float(np.quantile(sizes, 0.9)),
    )
    profile = BehaviourProfile(n, rates, length, refusal_model=model is not None)
    if model is not None and embed:
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(n, size=min(n, embed_sample), replace=False))
        profile.prompt_embeddings = model.embed([prompts[i] for i in chosen])
        profile.response_embeddings = model.embed([responses[i] for i in chosen])
    return profile


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - level / 2)


def _rate_change(name: str, ref: Rate, cur: Rate, min_effect: float, z: float) -> MetricChange:
    # Newcombe's hybrid score interval for p_cur - p_ref (Newcombe 1998, method 10).
    p1, p2 = cur.value, ref.value
    w1, w2 = wilson(cur.count, cur.n, z), wilson(ref.count, ref.n, z)
    delta = p1 - p2
    low = delta - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = delta + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    significant = low > 0 or high < 0
    big = abs(delta) >= min_effect
    changed = significant and big and ref.n > 0 and cur.n > 0
    if changed:
        reason = f"{p2:.1%} -> {p1:.1%}: the interval of the change excludes 0"
    elif significant:
        reason = f"a change of {delta:+.1%} is below the minimum effect {min_effect:.0%}"
    else:
        reason = "the interval of the change includes 0"
    return MetricChange(
        name,
        "rate",
        p2,
        p1,
        delta,
        (low, high),
        None,
        changed,
        reason,
        {"reference": [ref.count, ref.n], "current": [cur.count, cur.n]},
    )


def _length_change(
    ref: LengthSummary, cur: LengthSummary, min_effect: float, z: float
) -> MetricChange:
    delta = cur.mean_log - ref.mean_log
    se = math.sqrt(ref.var_log / max(ref.n, 1) + cur.var_log / max(cur.n, 1))
    low, high = delta - z * se, delta + z * se
    changed = (low > 0 or high < 0) and abs(delta) >= min_effect
    reason = f"typical length x{math.exp(delta):.2f} (median {ref.median:g} -> {cur.median:g})"
    if not changed:
        reason += ", within noise or below the minimum effect"
    return MetricChange(
        "length",
        "length",
        ref.median,
        cur.median,
        delta,
        (low, high),
        None,
        changed,
        reason,
        {"ratio": math.exp(delta)},
    )


def compare(
    ref: BehaviourProfile,
    cur: BehaviourProfile,
    *,
    alpha: float = 0.05,
    min_rate_effect: float = 0.05,
    min_length_effect: float = math.log(1.2),
    permutations: int = 999,
    seed: int = 0,
) -> list[MetricChange]:
    """Every metric of the two windows, compared, with a ``changed`` decision each.

    ``alpha`` is shared by Bonferroni over every metric compared, so two windows of one
    distribution show any change with probability at most ``alpha``; intervals are at
    level 1 - alpha / k for k metrics.
    """
    from tutela.monitor.llm_embed import embedding_drift

    names = sorted(set(ref.rates) | set(cur.rates))
    sides = [
        side
        for side in ("prompt", "response")
        if getattr(ref, f"{side}_embeddings") is not None
        and getattr(cur, f"{side}_embeddings") is not None
    ]
    level = alpha / (len(names) + 1 + len(sides))
    z = _z(level)
    changes: list[MetricChange] = []
    for name in names:
        a = ref.rates.get(name, Rate(0, ref.n if name.startswith("language.") else 0))
        b = cur.rates.get(name, Rate(0, cur.n if name.startswith("language.") else 0))
        changes.append(_rate_change(name, a, b, min_rate_effect, z))
    changes.append(_length_change(ref.length, cur.length, min_length_effect, z))
    for side in sides:
        drift = embedding_drift(
            getattr(ref, f"{side}_embeddings"),
            getattr(cur, f"{side}_embeddings"),
            permutations=permutations,
            seed=seed,
        )
        changes.append(
            MetricChange(
                f"embedding_drift.{side}s",
                "embedding",
                0.0,
                drift.mmd,
                drift.mmd,
                (0.0, drift.null_q95),
                drift.p_value,
                drift.p_value < level,
                f"MMD {drift.mmd:.3f} (null 95% {drift.null_q95:.3f}), p={drift.p_value:.3g}",
                {**drift.to_dict(), "level": level},
            )
        )
    return changes


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """(prompt, response) pairs from a JSONL file of ``{"prompt", "response"}`` objects."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(
            "cannot read the pairs file", subject=str(path), found=exc.strerror
        ) from None
    if size > MAX_FILE_BYTES:
        raise LimitExceeded(
            "the pairs file is too large",
            subject=str(path),
            expected=f"at most {MAX_FILE_BYTES} bytes",
        )
    rows: list[Any] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise InputError(f"line {number} is not JSON", subject=str(path)) from None
    try:
        return _pairs(rows)
    except InputError as exc:
        raise InputError(exc.problem, subject=str(path), expected=exc.expected) from None
