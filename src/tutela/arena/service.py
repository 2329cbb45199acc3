"""`tutela arena run` as a service: probes x transforms against a target, scored,
persisted as it goes (resumable), and recorded as evaluation evidence on the target."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutela.arena.detectors import builtin_detectors
from tutela.arena.interface import ArenaError, Attempt, Target
from tutela.arena.probes import load_builtin_probes, load_probes
from tutela.arena.reports import to_html, to_junit
from tutela.arena.runner import AttemptSink, ResponseCache, build_attempts, run_attempts
from tutela.arena.scoring import RunScore, score
from tutela.arena.targets import target_from_config
from tutela.version import tutela_version

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "target": self.target,
            "attempts": len(self.attempts),
            "out_dir": str(self.out_dir),
            "evidence": self.evidence_id,
            **self.score.to_dict(),
        }


def target_asset_id(target_id: str) -> str:
    return target_id if ":" in target_id else f"service:{target_id}"


def target_digest(config: Mapping[str, Any]) -> str:
    """The target's version: its configuration (secrets are only ever env var names)."""
    raw = json.dumps(dict(config), sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


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
) -> ArenaResult:
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

    async def _go() -> list[Attempt]:
        # One cache per target configuration: a changed URL, model or prompt must never
        # be answered from another configuration's replies.
        cache = ResponseCache(
            out_dir / "cache" / target_digest(config).removeprefix("sha256:")[:16]
        )
        sink = AttemptSink(out / "attempts.jsonl")
        try:
            return await run_attempts(chosen, attempts, detectors, probes=probes,
                                      concurrency=concurrency, timeout=timeout, cache=cache,
                                      sink=sink)  # fmt: skip
        finally:
            sink.close()
            cache.close()
            await chosen.aclose()

    done = asyncio.run(_go())
    result = score(done)
    (out / "score.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n", "utf-8")
    (out / "junit.xml").write_text(to_junit(run, result), "utf-8")
    (out / "report.html").write_text(to_html(run, chosen.id, result), "utf-8")
    outcome = ArenaResult(run, chosen.id, result, done, out)
    if workspace is not None:
        outcome.evidence_id = _record(workspace, config, chosen.id, outcome)
    return outcome


def _record(ws: Any, config: Mapping[str, Any], target_id: str, result: ArenaResult) -> str:
    from tutela.catalog.assets import ensure_asset_in
    from tutela.catalog.evidence import record_evidence_in

    asset = target_asset_id(target_id)
    summary: dict[str, Any] = {
        "asr": result.score.overall.asr,
        "risk": result.score.risk,
        "attempts": len(result.attempts),
        "errors": result.score.overall.errors,
    }
    for name, rate in result.score.by_category.items():
        summary[f"asr.{name}"] = rate.asr
    with ws.transaction() as tx:
        ensure_asset_in(tx, asset, description="Chat endpoint evaluated in the Arena",
                        tags=["source:arena"])  # fmt: skip
        evidence = record_evidence_in(
            tx,
            asset_id=asset,
            kind="evaluation",
            producer=PRODUCER,
            producer_version=tutela_version(),
            payload={
                "run_id": result.run_id,
                "target": dict(config),
                "attempts_file": str(result.out_dir / "attempts.jsonl"),
                **result.score.to_dict(),
            },
            summary=summary,
            version_digest=target_digest(config),
            location=str(result.out_dir),
        )
    return evidence.id
