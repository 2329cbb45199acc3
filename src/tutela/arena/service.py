"""`tutela arena run` as a service: probes x transforms against a target, scored,
persisted as it goes (resumable), and recorded as evaluation evidence on the target."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.arena.detectors import builtin_detectors
from tutela.arena.interface import ArenaError, Attempt, Target
from tutela.arena.judge import judge_id
from tutela.arena.probes import load_builtin_probes, load_probes
from tutela.arena.reports import to_html, to_junit
from tutela.arena.runner import (
    AttemptSink,
    ResponseCache,
    build_attempts,
    escalation_attempts,
    run_all,
)
from tutela.arena.scoring import RunScore, score
from tutela.arena.targets import target_from_config

__all__ = ["ArenaResult", "run_arena", "target_asset_id", "target_digest"]

PRODUCER = "arena.llm"


@dataclass
class ArenaResult:
    run_id: str
    target: str
    score: RunScore
    attempts: list[Attempt]
    out_dir: Path
    evidence_id: str | None = None
    skipped: list[Attempt] = field(default_factory=list)
    early_stop: float | None = None
    judge: str | None = None  # "judge:<target id>" when an LLM judge was asked
    attacker: str | None = None

    def judge_summary(self) -> dict[str, Any] | None:
        """The LLM judge's verdicts, labelled as such (None when no judge was asked)."""
        if self.judge is None:
            return None
        verdicts = [d for a in self.attempts for d in a.detections if d.detector == self.judge]
        return {
            "detector": self.judge,
            "kind": "llm_judge",
            "note": "opt-in LLM judge: its verdicts are a model's opinion, not a measured "
            "detector; an error or unparseable answer is unscoreable",
            "succeeded": sum(d.hit is True for d in verdicts),
            "resisted": sum(d.hit is False for d in verdicts),
            "unscoreable": sum(d.hit is None for d in verdicts),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "target": self.target,
            "attempts": len(self.attempts),
            "out_dir": str(self.out_dir),
            "evidence": self.evidence_id,
            "early_stop": self.early_stop,
            "attacker": self.attacker,
            "judge": self.judge_summary(),
            **self.score.to_dict(),
        }


def target_asset_id(target_id: str) -> str:
    return target_id if ":" in target_id else f"service:{target_id}"


def target_digest(config: Mapping[str, Any]) -> str:
    """The target's version: its configuration (secrets are only ever env var names)."""
    raw = json.dumps(dict(config), sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _cache(out_dir: Path, config: Mapping[str, Any]) -> ResponseCache:
    # One cache per target configuration: a changed URL, model or prompt must never be
    # answered from another configuration's replies.
    return ResponseCache(out_dir / "cache" / target_digest(config).removeprefix("sha256:")[:16])


def run_arena(
    config: Mapping[str, Any],
    *,
    out_dir: Path,
    categories: Sequence[str] = (),
    probe_files: Sequence[Path] = (),
    transforms: Sequence[str] = ("none",),
    seeds: Sequence[int] = (0,),
    concurrency: int = 32,
    timeout: float = 30.0,
    run_id: str | None = None,
    workspace: Any = None,
    target: Target | None = None,
    early_stop: float | None = None,
    attacker_config: Mapping[str, Any] | None = None,
    attacker: Target | None = None,
    attacker_turns: int = 5,
    judge_config: Mapping[str, Any] | None = None,
    judge: Target | None = None,
) -> ArenaResult:
    """Run probes x transforms x seeds against the target; score, report and record.

    ``attacker``/``attacker_config`` adds attacker-driven escalations of the crescendo
    probes; ``judge``/``judge_config`` asks an LLM judge about every reply (opt-in only).
    """
    detectors = builtin_detectors()
    probes = (
        load_probes(probe_files, known_detectors=detectors)
        if probe_files
        else load_builtin_probes(known_detectors=detectors)
    )
    if categories:
        probes = [p for p in probes if p.category in categories]
    if not probes:
        raise ArenaError(
            "no probes selected", hint="check --category against `tutela arena probes`"
        )
    run = run_id or uuid.uuid4().hex[:12]
    out = out_dir / run
    out.mkdir(parents=True, exist_ok=True)
    attempts = build_attempts(run, probes, list(transforms), list(seeds))
    chosen = target or target_from_config(config)
    attacking = attacker or (
        None if attacker_config is None else target_from_config(attacker_config)
    )
    judging = judge or (None if judge_config is None else target_from_config(judge_config))
    if attacking is not None:
        extra = escalation_attempts(run, probes, list(transforms), list(seeds), attacking.id)
        if not extra:
            raise ArenaError(
                "--attacker needs crescendo probes to drive",
                hint="include the crescendo category",
            )
        attempts += extra
    helpers = [(t, c) for t, c in ((attacking, attacker_config), (judging, judge_config)) if t]

    async def _go() -> Any:
        cache = _cache(out_dir, config)
        helper_caches = {t.id: _cache(out_dir, c or {"id": t.id}) for t, c in helpers}
        sink = AttemptSink(out / "attempts.jsonl")
        try:
            return await run_all(chosen, attempts, detectors, probes=probes,
                                 concurrency=concurrency, timeout=timeout, cache=cache,
                                 sink=sink, early_stop=early_stop, attacker=attacking,
                                 attacker_turns=attacker_turns, judge=judging,
                                 helper_caches=helper_caches)  # fmt: skip
        finally:
            sink.close()
            cache.close()
            for helper_cache in helper_caches.values():
                helper_cache.close()
            await chosen.aclose()
            for helper, _ in helpers:
                await helper.aclose()

    ran = asyncio.run(_go())
    done, skipped = ran.attempts, ran.skipped
    result = score(done, skipped)
    outcome = ArenaResult(run, chosen.id, result, done, out, skipped=skipped,
                          early_stop=early_stop,
                          judge=None if judging is None else judge_id(judging.id),
                          attacker=None if attacking is None else attacking.id)  # fmt: skip
    score_doc = {**result.to_dict(), "early_stop": early_stop, "judge": outcome.judge_summary()}
    (out / "score.json").write_text(json.dumps(score_doc, indent=2) + "\n", "utf-8")
    (out / "junit.xml").write_text(to_junit(run, result), "utf-8")
    html = to_html(run, chosen.id, result, judge=outcome.judge_summary(), early_stop=early_stop)
    (out / "report.html").write_text(html, "utf-8")
    if workspace is not None:
        outcome.evidence_id = _record(workspace, config, chosen.id, outcome)
    return outcome


def _record(ws: Any, config: Mapping[str, Any], target_id: str, result: ArenaResult) -> str:
    from tutela.catalog.evidence import record_on_asset

    asset = target_asset_id(target_id)
    summary: dict[str, Any] = {
        "asr": result.score.overall.asr,
        "risk": result.score.risk,
        "attempts": len(result.attempts),
        "errors": result.score.overall.errors,
        "skipped": sum(result.score.skipped.values()),
    }
    if result.judge is not None:
        summary["judge"] = result.judge
    for name, rate in result.score.by_category.items():
        summary[f"asr.{name}"] = rate.asr
    return record_on_asset(
        ws,
        asset_id=asset,
        description="Chat endpoint evaluated in the Arena",
        tags=["source:arena"],
        kind="evaluation",
        producer=PRODUCER,
        payload={
            **result.to_dict(),
            "target": dict(config),
            "attempts_file": str(result.out_dir / "attempts.jsonl"),
        },
        summary=summary,
        version_digest=target_digest(config),
        location=str(result.out_dir),
    ).id
