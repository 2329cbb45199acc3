"""Canaries for third-party AI services: a behavioural fingerprint, a baseline, a test.

Each run sends the fixed prompt set ``samples`` times per prompt and keeps a fingerprint:
the answers (first ``MAX_ANSWER`` characters), their lengths, refusal verdicts (the Arena's
detector), per-prompt centroids of MiniLM answer embeddings, declared model names and
system fingerprints, and latency. It is stored as ``canary`` evidence on the service's
asset. The first run (or ``rebaseline``) is the baseline; later runs are compared with it:

- answers: Model Equality Testing (Gao et al., ICLR 2025, arXiv:2410.20247), the mean
  per-prompt MMD^2 under a string kernel, stratified permutation p-value
  (``canary_stats.mmd_test``);
- refusal rate: Fisher's exact test on refused / answered counts;
- length: mean per-prompt shift of mean log length, stratified permutation p-value, and a
  minimum effect of 20% so that a trivially small shift is not an alarm;
- declared model (and, at severity info, system fingerprint): any change.

The three statistical tests share ``alpha`` by Bonferroni (each at alpha / 3), so a run of
an unchanged service raises a false alarm with probability at most ``alpha``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.errors import UsageError
from tutela.monitor.alerts import Alert, CheckOutcome, WindowValues
from tutela.monitor.canary_prompts import PromptSet, load_prompt_set
from tutela.monitor.canary_run import Sample, collect
from tutela.monitor.canary_stats import KERNELS, length_test, mmd_test

__all__ = [
    "PRODUCER",
    "CanaryCheck",
    "CanaryResult",
    "compare_fingerprints",
    "fingerprint",
    "run_canary",
]

PRODUCER = "monitor.canary"
SCHEMA = "monitor.canary/1"
MAX_ANSWER = 1000  # characters of each answer kept (and compared by the string kernel)
MAX_ERROR_RATE = 0.2  # more failed requests than this make a run inconclusive
MIN_LENGTH_EFFECT = math.log(1.2)  # a typical 20% change in answer length


def _embedder() -> Any:
    """The shared MiniLM embedder, or None without the optional model (patterns decide)."""
    from tutela.arena.refusal_model import RefusalModelUnavailable

    try:
        from tutela.monitor.llm_embed import shared_embedder

        return shared_embedder()
    except (ImportError, RefusalModelUnavailable):
        return None


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def fingerprint(samples: list[Sample], prompts: PromptSet, embedder: Any = None) -> dict[str, Any]:
    """The behavioural fingerprint of one run (plain JSON)."""
    from tutela.monitor.llm_refusal import refusals

    ok = [s for s in samples if s.error is None]
    texts = [s.text for s in ok]
    refused = refusals(texts, embedder, [s.blocked for s in ok])
    answers: dict[str, list[str]] = {p.id: [] for p in prompts.prompts}
    lengths: dict[str, list[int]] = {p.id: [] for p in prompts.prompts}
    refusal_counts: dict[str, int] = dict.fromkeys(answers, 0)
    for sample, was_refused in zip(ok, refused, strict=True):
        answers[sample.prompt_id].append(sample.text[:MAX_ANSWER])
        lengths[sample.prompt_id].append(len(sample.text))
        refusal_counts[sample.prompt_id] += was_refused
    centroids: dict[str, list[float]] = {}
    if embedder is not None and texts:
        for pid, group in answers.items():
            if group:
                mean = embedder.embed(group).mean(axis=0)
                centroids[pid] = [round(float(v), 5) for v in mean]
    latencies = [s.seconds for s in ok]
    models = Counter(s.model for s in ok if s.model)
    fingerprints = Counter(s.system_fingerprint for s in ok if s.system_fingerprint)
    errors = [s.error for s in samples if s.error is not None]
    all_lengths = [len(t) for t in texts]
    return {
        "schema": SCHEMA,
        "prompt_set": prompts.to_dict(),
        "answers": answers,
        "lengths": lengths,
        "refusals": refusal_counts,
        "embedding_centroids": centroids,
        "declared": {"models": dict(models), "system_fingerprints": dict(fingerprints)},
        "latency": {
            "p50": _quantile(latencies, 0.5),
            "p95": _quantile(latencies, 0.95),
            "mean": statistics.fmean(latencies) if latencies else 0.0,
        },
        "requests": len(samples),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
        "refusal_rate": sum(refused) / len(refused) if refused else 0.0,
        "length_median": statistics.median(all_lengths) if all_lengths else 0.0,
        "refusal_model": embedder is not None,
    }


def _metrics(fp: Mapping[str, Any]) -> dict[str, float]:
    requests = max(1, int(fp["requests"]))
    return {
        "canary.refusal_rate": float(fp["refusal_rate"]),
        "canary.length_median": float(fp["length_median"]),
        "canary.latency_p50": float(fp["latency"]["p50"]),
        "canary.latency_p95": float(fp["latency"]["p95"]),
        "canary.error_rate": int(fp["errors"]) / requests,
    }


def fisher_exact(a: int, n: int, b: int, m: int) -> float:
    """Two-sided Fisher exact p-value for a/n versus b/m (tables as likely or less)."""
    total, k = n + m, a + b

    def prob(x: int) -> float:
        return math.comb(n, x) * math.comb(m, k - x) / math.comb(total, k)

    observed = prob(a)
    low, high = max(0, k - m), min(k, n)
    return min(1.0, sum(p for p in map(prob, range(low, high + 1)) if p <= observed * (1 + 1e-7)))


def _cosine_distance(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / (na * nb) if na and nb else 0.0


@dataclass(slots=True)
class Change:
    """One named difference from the baseline, with the evidence that decided it."""

    what: str
    message: str
    severity: str = "warning"
    metric: str = ""
    value: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "message": self.message,
            "severity": self.severity,
            "metric": self.metric,
            "value": self.value,
            "details": self.details,
        }


def compare_fingerprints(
    baseline: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    alpha: float = 0.01,
    kernel: str = "hamming",
    permutations: int = 1000,
    seed: int = 0,
) -> tuple[list[Change], dict[str, Any]]:
    """(changes, comparison details) between two fingerprints of the same prompt set."""
    level = alpha / 3  # Bonferroni over the answer, refusal and length tests
    prompt_ids = [p for p in baseline["answers"] if p in current["answers"]]
    met = mmd_test(
        [(p, baseline["answers"][p], current["answers"][p]) for p in prompt_ids],
        kernel=kernel,
        length=MAX_ANSWER,
        permutations=permutations,
        seed=seed,
    )
    lengths = length_test(
        [(p, baseline["lengths"][p], current["lengths"][p]) for p in prompt_ids],
        permutations=permutations,
        seed=seed + 1,
    )
    base_refused = sum(int(baseline["refusals"].get(p, 0)) for p in prompt_ids)
    base_total = sum(len(baseline["answers"][p]) for p in prompt_ids)
    cur_refused = sum(int(current["refusals"].get(p, 0)) for p in prompt_ids)
    cur_total = sum(len(current["answers"][p]) for p in prompt_ids)
    refusal_p = 1.0
    if base_total and cur_total:
        refusal_p = fisher_exact(base_refused, base_total, cur_refused, cur_total)
    moved = sorted(
        (p for p, pv in zip(met.groups, met.group_p_values, strict=True) if pv < level),
        key=lambda p: met.group_p_values[met.groups.index(p)],
    )
    flipped = [
        p
        for p in prompt_ids
        if baseline["answers"][p]
        and current["answers"][p]
        and (2 * int(baseline["refusals"].get(p, 0)) > len(baseline["answers"][p]))
        != (2 * int(current["refusals"].get(p, 0)) > len(current["answers"][p]))
    ]
    centroid_distance = {
        p: round(
            _cosine_distance(baseline["embedding_centroids"][p], current["embedding_centroids"][p]),
            5,
        )
        for p in prompt_ids
        if p in baseline.get("embedding_centroids", {})
        and p in current.get("embedding_centroids", {})
    }
    comparison: dict[str, Any] = {
        "alpha": alpha,
        "level_per_test": level,
        "kernel": kernel,
        "permutations": permutations,
        "answers": {
            "mmd2": met.statistic,
            "p_value": met.p_value,
            "prompts": dict(zip(met.groups, met.group_p_values, strict=True)),
        },
        "length": {
            "statistic": lengths.statistic,
            "p_value": lengths.p_value,
            "typical_change": math.expm1(lengths.statistic),
        },
        "refusal": {
            "baseline": [base_refused, base_total],
            "current": [cur_refused, cur_total],
            "p_value": refusal_p,
            "flipped_prompts": flipped,
        },
        "embedding_centroid_distance": centroid_distance,
        "latency_p50": {
            "baseline": baseline["latency"]["p50"],
            "current": current["latency"]["p50"],
        },
    }
    changes: list[Change] = []
    if met.p_value < level:
        named = ", ".join(moved[:5]) or "no single prompt"
        changes.append(
            Change(
                "answers",
                f"answers changed (MMD p={met.p_value:.3g} < {level:.3g}) on {len(moved)} of "
                f"{len(prompt_ids)} prompts: {named}",
                metric="canary.p_value",
                value=met.p_value,
                details={"prompts": moved},
            )
        )
    if refusal_p < level:
        changes.append(
            Change(
                "refusal_rate",
                f"refusal rate {base_refused}/{base_total} -> {cur_refused}/{cur_total} "
                f"(Fisher p={refusal_p:.3g})"
                + (f"; flipped: {', '.join(flipped[:5])}" if flipped else ""),
                metric="canary.refusal_rate",
                value=cur_refused / cur_total if cur_total else None,
                details={"flipped_prompts": flipped},
            )
        )
    if lengths.p_value < level and lengths.statistic >= MIN_LENGTH_EFFECT:
        changes.append(
            Change(
                "length",
                f"answer length changed by about {math.expm1(lengths.statistic):.0%} per prompt "
                f"(median {baseline['length_median']:g} -> {current['length_median']:g} chars, "
                f"p={lengths.p_value:.3g})",
                metric="canary.length_median",
                value=float(current["length_median"]),
            )
        )
    for key, what, severity in (
        ("models", "declared_model", "warning"),
        ("system_fingerprints", "system_fingerprint", "info"),
    ):
        before = set(baseline["declared"].get(key, {}))
        after = set(current["declared"].get(key, {}))
        if before != after and (before or after):
            changes.append(
                Change(
                    what,
                    f"{what.replace('_', ' ')} {', '.join(sorted(before)) or 'none'} -> "
                    f"{', '.join(sorted(after)) or 'none'}",
                    severity=severity,
                    metric=f"canary.{what}",
                    details={"before": sorted(before), "after": sorted(after)},
                )
            )
    return changes, comparison


@dataclass(slots=True)
class CanaryResult:
    service: str
    asset: str
    status: str  # baseline | unchanged | changed | inconclusive
    prompt_set: dict[str, Any]
    samples: int
    seconds: float
    metrics: dict[str, float]
    changes: list[Change] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    comparison: dict[str, Any] = field(default_factory=dict)
    evidence_id: str | None = None
    baseline_id: str | None = None
    history: list[WindowValues] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "asset": self.asset,
            "status": self.status,
            "evidence": self.evidence_id,
            "baseline": self.baseline_id,
            "prompt_set": self.prompt_set,
            "samples_per_prompt": self.samples,
            "seconds": round(self.seconds, 3),
            "metrics": self.metrics,
            "changes": [c.to_dict() for c in self.changes],
            "alerts": [a.to_dict() for a in self.alerts],
            "comparison": self.comparison,
            "errors": self.errors,
        }


def _rows(ws: Any, asset: str, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, created_at, summary) of this asset's canary runs, newest first."""
    from sqlalchemy import select

    from tutela.store.models import Evidence, EvidenceKind

    with ws.reader() as session:
        query = (
            select(Evidence.id, Evidence.created_at, Evidence.summary)
            .where(
                Evidence.asset_id == asset,
                Evidence.kind == EvidenceKind.CANARY,
                Evidence.producer == PRODUCER,
            )
            .order_by(Evidence.created_at.desc(), Evidence.id)
            .limit(limit)
        )
        return [(i, c.isoformat(), dict(s or {})) for i, c, s in session.execute(query).all()]


def _baseline(ws: Any, asset: str, digest: str) -> tuple[str, dict[str, Any]] | None:
    from sqlalchemy import select

    from tutela.store.models import Evidence

    for evidence_id, _, summary in _rows(ws, asset, 10_000):
        if summary.get("role") == "baseline" and summary.get("prompt_set") == digest:
            with ws.reader() as session:
                payload = session.execute(
                    select(Evidence.payload).where(Evidence.id == evidence_id)
                ).scalar_one()
            return evidence_id, dict(payload)
    return None


def _redacted(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as stored: header values may hold credentials, so only names are kept."""
    out = dict(config)
    if isinstance(out.get("headers"), dict):
        out["headers"] = dict.fromkeys(out["headers"], "***")
    return out


def _record(
    ws: Any, config: Mapping[str, Any], asset: str, payload: dict[str, Any], summary: dict[str, Any]
) -> str:
    from tutela.arena.service import target_digest
    from tutela.catalog.evidence import record_on_asset

    return record_on_asset(
        ws,
        asset_id=asset,
        description="Third-party AI service watched by canaries",
        tags=["source:monitor"],
        kind="canary",
        producer=PRODUCER,
        payload=payload,
        summary=summary,
        version_digest=target_digest(config),
    ).id


def run_canary(
    config: Mapping[str, Any],
    *,
    workspace: Any,
    prompts: PromptSet | None = None,
    samples: int = 10,
    alpha: float = 0.01,
    kernel: str = "hamming",
    permutations: int = 1000,
    concurrency: int = 8,
    timeout: float = 30.0,
    rebaseline: bool = False,
) -> CanaryResult:
    """Sample the service, store its fingerprint, and compare it with the baseline."""
    from tutela.arena.service import target_asset_id
    from tutela.monitor.alerts import record_alerts

    if not 0 < alpha < 1:
        raise UsageError("alpha must be between 0 and 1", found=str(alpha))
    if kernel not in KERNELS:
        raise UsageError("unknown kernel", expected=", ".join(KERNELS), found=kernel)
    if not 99 <= permutations <= 100_000:
        raise UsageError("permutations must be from 99 to 100000", found=str(permutations))
    prompt_set = prompts or load_prompt_set()
    started = time.perf_counter()
    drawn = collect(config, prompt_set, samples=samples, concurrency=concurrency, timeout=timeout)
    fp = fingerprint(drawn, prompt_set, _embedder())
    service = str(config.get("id"))
    asset = target_asset_id(service)
    metrics = _metrics(fp)
    result = CanaryResult(
        service,
        asset,
        "baseline",
        prompt_set.to_dict(),
        samples,
        0.0,
        metrics,
        errors=list(fp["error_examples"]),
    )
    found = None if rebaseline else _baseline(workspace, asset, prompt_set.digest)
    inconclusive = metrics["canary.error_rate"] > MAX_ERROR_RATE
    role = "baseline" if found is None and not inconclusive else "check"
    if inconclusive:
        result.status = "inconclusive"
    elif found is not None:
        result.baseline_id, base = found
        changes, comparison = compare_fingerprints(
            base, fp, alpha=alpha, kernel=kernel, permutations=permutations
        )
        result.changes, result.comparison = changes, comparison
        metrics["canary.p_value"] = float(comparison["answers"]["p_value"])
        metrics["canary.mmd2"] = float(comparison["answers"]["mmd2"])
        distances = comparison["embedding_centroid_distance"].values()
        metrics["canary.centroid_distance_max"] = max(distances, default=0.0)
        serious = [c for c in changes if c.severity != "info"]
        result.status = "changed" if serious else "unchanged"
        metrics["canary.changed"] = 1.0 if serious else 0.0
    payload = {
        **fp,
        "role": role,
        "service": _redacted(config),
        "samples_per_prompt": samples,
        "status": result.status,
        "baseline": result.baseline_id,
        "comparison": result.comparison,
        "changes": [c.to_dict() for c in result.changes],
    }
    summary = {"role": role, "status": result.status, "prompt_set": prompt_set.digest, **metrics}
    result.history = [
        WindowValues(
            i, {k: float(v) for k, v in s.items() if isinstance(v, int | float)}, asset=asset
        )
        for i, _, s in reversed(_rows(workspace, asset, 100))
    ]
    result.evidence_id = _record(workspace, config, asset, payload, summary)
    result.history.append(WindowValues(result.evidence_id, metrics, asset=asset))
    result.alerts = [
        Alert(
            rule=f"canary.{c.what}",
            metric=c.metric,
            message=f"{service}: {c.message}",
            severity=c.severity,
            asset=asset,
            value=c.value,
            windows=(result.evidence_id,),
            details={**c.details, "baseline": result.baseline_id},
        )
        for c in result.changes
    ]
    record_alerts(workspace, result.alerts, kind="canary")
    result.seconds = time.perf_counter() - started
    return result


@dataclass(slots=True)
class CanaryCheck:
    """A canary as a scheduled check for ``tutela monitor watch``."""

    name: str
    config: dict[str, Any]
    prompts: PromptSet | None = None
    samples: int = 10
    alpha: float = 0.01
    kernel: str = "hamming"
    timeout: float = 30.0
    evidence_kind: str = "canary"

    def run(self, workspace: Any) -> CheckOutcome:
        result = run_canary(
            self.config,
            workspace=workspace,
            prompts=self.prompts,
            samples=self.samples,
            alpha=self.alpha,
            kernel=self.kernel,
            timeout=self.timeout,
        )
        return CheckOutcome(
            check=self.name,
            asset=result.asset,
            metrics=result.metrics,
            alerts=result.alerts,
            evidence_id=result.evidence_id,
            status=result.status,
            details={
                "changes": [c.to_dict() for c in result.changes],
                "seconds": round(result.seconds, 3),
            },
            history=result.history,
        )


def load_service_config(path: Path) -> dict[str, Any]:
    """A target config (YAML or JSON mapping, as for ``tutela arena run --config``)."""
    from tutela.monitor.alerts import read_yaml

    data = read_yaml(path, "service config")
    if not isinstance(data, dict):
        raise UsageError(
            "the service config is not a mapping",
            subject=str(path),
            expected="kind, id, base_url, model, ...",
        )
    return data
