"""`tutela arena ml run` as a service: attacks and measurements against a classifier,
scored like the LLM Arena, written to a run folder and recorded as evaluation evidence.

Run folder (same layout as the LLM Arena, plus ``ml.json``)::

    <out_dir>/<run_id>/attempts.jsonl   one Attempt per attacked row or measurement
                       score.json       tutela.arena.scoring.score(...).to_dict()
                       junit.xml        one test case per attack / measurement
                       report.html      the LLM report plus an evasion table
                       ml.json          target, schema, per-attack summaries, measurements
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela.arena.interface import Attempt
from tutela.arena.ml.interface import ATTACKS, Classifier, MLArenaError
from tutela.arena.scoring import RunScore, score
from tutela.errors import TutelaError, UsageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from tutela.arena.ml.attacks.common import EvasionResult
    from tutela.arena.ml.data import Dataset
    from tutela.arena.ml.targets.resolve import OpenedTarget
    from tutela.workspace import Workspace

__all__ = ["DEFAULT_ATTACKS", "PRODUCER", "MLArenaResult", "expand_attacks", "run_ml_arena"]

PRODUCER = "arena.ml"
EVASION = {"boundary": "ml.evasion.boundary", "random_search": "ml.evasion.random_search"}
DEFAULT_ATTACKS = ("evasion", "extraction", "calibration", "robustness")
_NAMES = ("evasion", *EVASION, "extraction", "membership", "fairness", "calibration", "robustness")


@dataclass
class MLArenaResult:
    run_id: str
    target: str
    score: RunScore
    attempts: list[Attempt]
    out_dir: Path
    evasion: dict[str, dict[str, Any]] = field(default_factory=dict)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    queries: int = 0
    calls: int = 0
    evidence_id: str | None = None
    version_digest: str | None = None
    admission: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "target": self.target,
            "version": self.version_digest,
            "admission": self.admission,
            "attempts": len(self.attempts),
            "out_dir": str(self.out_dir),
            "evidence": self.evidence_id,
            "queries": self.queries,
            "calls": self.calls,
            "evasion": self.evasion,
            "measurements": self.measurements,
            **self.score.to_dict(),
        }


def expand_attacks(names: Sequence[str]) -> list[str]:
    """``evasion`` means both evasion attacks; unknown names are a usage error."""
    out: list[str] = []
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if not name:
                continue
            if name not in _NAMES:
                raise UsageError("unknown attack", found=name, expected=", ".join(_NAMES))
            group = list(EVASION.values()) if name == "evasion" else [EVASION.get(name, name)]
            for one in group:
                if one not in out:
                    out.append(one)
    if not out:
        raise UsageError("no attack selected", expected=", ".join(_NAMES))
    return out


def _pick_rows(
    counter: Any, data: Dataset, samples: int, seed: int
) -> tuple[NDArray[np.intp], NDArray[np.str_]]:
    """Up to ``samples`` rows the model classifies correctly (attacking a row it already
    gets wrong proves nothing), in a seeded random order."""
    import numpy as np

    rng = np.random.default_rng(seed)
    complete = np.flatnonzero(np.isfinite(data.features).all(axis=1))
    order = rng.permutation(complete)[: max(samples * 2, samples + 20)]
    if not len(order):
        return order, np.asarray([], dtype=str)
    predicted = counter.predict(data.features[order])
    right = predicted == data.labels[order]
    return order[right][:samples], predicted[right][:samples]


def _evasion(
    attack: str,
    opened: OpenedTarget,
    counter: Any,
    data: Dataset,
    schema: Any,
    rows: NDArray[np.intp],
    predicted: NDArray[np.str_],
    *,
    budget: int,
    epsilon: float,
    seed: int,
) -> list[EvasionResult]:
    import numpy as np

    from tutela.arena.ml.attacks.boundary import BoundarySettings, boundary_attack
    from tutela.arena.ml.attacks.common import EvasionResult
    from tutela.arena.ml.attacks.random_search import RandomSearchSettings, random_search_attack
    from tutela.arena.ml.oracle import Budget

    classifier = opened.classifier
    results = []
    for row, label in zip(rows, predicted, strict=True):
        rng = np.random.default_rng([seed, int(row), 0 if attack == EVASION["boundary"] else 1])
        x = data.features[row]
        allowance = Budget(counter, budget)
        try:
            if attack == EVASION["boundary"]:
                result = boundary_attack(
                    x,
                    str(label),
                    row=int(row),
                    budget=allowance,
                    schema=schema,
                    reference=data.features,
                    reference_labels=data.labels,
                    rng=rng,
                    settings=BoundarySettings(epsilon=epsilon),
                )
            elif not classifier.has_proba:
                result = EvasionResult(
                    attack,
                    int(row),
                    str(label),
                    0,
                    error="score-based: the target gives labels only",
                )
            else:
                result = random_search_attack(
                    x,
                    str(label),
                    row=int(row),
                    budget=allowance,
                    schema=schema,
                    classes=classifier.classes,
                    rng=rng,
                    settings=RandomSearchSettings(epsilon=epsilon),
                )
        except Exception as exc:  # the target failed: an error, never "resisted"
            text = (
                exc.diagnostics()
                if isinstance(exc, TutelaError)
                else f"{type(exc).__name__}: {exc}".splitlines()[0]
            )
            result = EvasionResult(attack, int(row), str(label), allowance.used, error=text)
        results.append(result)
    return results


def _declared_schema(schema: Path | Mapping[str, Any] | None) -> dict[str, Any] | None:
    from tutela.arena.ml.schema import load_schema_file

    if schema is None:
        return None
    if isinstance(schema, Path):
        return load_schema_file(schema)
    features = schema.get("features", schema)
    if not isinstance(features, Mapping):
        raise UsageError("a schema is a mapping of feature name to constraints")
    return {str(k): dict(v) for k, v in features.items()}


def run_ml_arena(
    model: str | Path | Classifier,
    data: Path | Dataset,
    *,
    out_dir: Path,
    label: str | None = None,
    schema: Path | Mapping[str, Any] | None = None,
    attacks: Sequence[str] = DEFAULT_ATTACKS,
    budget: int = 1000,
    samples: int = 50,
    epsilon: float = 1.0,
    sensitive: Sequence[str] = (),
    ignore: Sequence[str] = (),
    members: Path | Dataset | None = None,
    seed: int = 0,
    run_id: str | None = None,
    workspace: Workspace | None = None,
    asset: str | None = None,
) -> MLArenaResult:
    """Attack ``model`` with rows of ``data``; see the module docstring for the outputs."""
    from tutela.arena.ml.data import load_dataset
    from tutela.arena.ml.oracle import Counter
    from tutela.arena.ml.schema import build_schema
    from tutela.arena.ml.targets.resolve import open_target

    chosen = expand_attacks(attacks)
    if budget < 10 or samples < 1 or epsilon <= 0:
        raise UsageError("need --budget >= 10, --samples >= 1 and --epsilon > 0")
    if isinstance(data, Path):
        if label is None:
            raise UsageError("give the label column (--label)")
        data = load_dataset(data, label, exclude=ignore)
    if isinstance(members, Path):
        members = load_dataset(members, data.label, exclude=ignore)
    declared = _declared_schema(schema)
    classes = sorted(set(data.labels.tolist()))
    opened = open_target(
        model, workspace=workspace, asset=asset, classes=classes, feature_names=data.names
    )
    try:
        if opened.feature_names:
            data = data.reorder(opened.feature_names)
            if members is not None:
                members = members.reorder(opened.feature_names)
        constraints = build_schema(data.names, data.features, declared)
        run = run_id or uuid.uuid4().hex[:12]
        out = out_dir / run
        out.mkdir(parents=True, exist_ok=True)
        counter = Counter(opened.classifier)
        attempts, evasion, measured = _run(
            chosen,
            run,
            opened,
            counter,
            data,
            constraints,
            budget=budget,
            samples=samples,
            epsilon=epsilon,
            sensitive=sensitive,
            members=members,
            seed=seed,
        )
    finally:
        opened.close()
    result = MLArenaResult(
        run,
        opened.asset,
        score(attempts),
        attempts,
        out,
        evasion,
        measured,
        counter.queries,
        counter.calls,
        version_digest=opened.version_digest,
        admission=opened.admission,
    )
    _write(result, opened, constraints, data, chosen, budget, epsilon, seed)
    if workspace is not None:
        result.evidence_id = _record(workspace, result, opened, data)
    return result


def _run(
    chosen: list[str],
    run: str,
    opened: OpenedTarget,
    counter: Any,
    data: Dataset,
    constraints: Any,
    *,
    budget: int,
    samples: int,
    epsilon: float,
    sensitive: Sequence[str],
    members: Dataset | None,
    seed: int,
) -> tuple[list[Attempt], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    from tutela.arena.ml.measuring import CATEGORY, MeasureInputs, measure_info, run_measure
    from tutela.arena.ml.records import (
        evasion_attempt,
        failed_measurement_attempt,
        measurement_attempt,
        summarise_evasion,
    )

    attempts: list[Attempt] = []
    evasion: dict[str, dict[str, Any]] = {}
    measured: list[dict[str, Any]] = []
    wanted = [a for a in chosen if a in EVASION.values()]
    if wanted:
        rows, predicted = _pick_rows(counter, data, samples, seed)
        if not len(rows):
            raise MLArenaError(
                "no row of the data is classified correctly; nothing to attack",
                hint="check --label and the column order",
            )
        for attack in wanted:
            results = _evasion(
                attack,
                opened,
                counter,
                data,
                constraints,
                rows,
                predicted,
                budget=budget,
                epsilon=epsilon,
                seed=seed,
            )
            attempts.extend(evasion_attempt(run, r) for r in results)
            evasion[attack] = {
                **summarise_evasion(results),
                **ATTACKS[attack].to_dict(),
                "budget": budget,
                "epsilon": epsilon,
                "rows": [r.to_dict() for r in results],
            }
    inputs = MeasureInputs(
        counter=counter,
        features=data.features,
        labels=data.labels,
        schema=constraints,
        classes=opened.classifier.classes,
        has_proba=opened.classifier.has_proba,
        seed=seed,
        budget=budget,
        groups={name: data.column(name).tolist() for name in sensitive},
        members=None if members is None else (members.features, members.labels),
    )
    for name in (a for a in chosen if a not in EVASION.values()):
        started = time.perf_counter()
        probe_id, atlas = measure_info(name)
        try:
            found = run_measure(name, inputs)
        except Exception as exc:  # a failed measurement must not lose the rest of the run
            text = (
                exc.diagnostics()
                if isinstance(exc, TutelaError)
                else f"{type(exc).__name__}: {exc}".splitlines()[0]
            )
            attempts.append(failed_measurement_attempt(run, probe_id, CATEGORY[name], text))
            measured.append({"id": probe_id, "atlas": atlas, "error": text})
            continue
        attempts.append(measurement_attempt(run, found, time.perf_counter() - started))
        measured.append(found.to_dict())
    return attempts, evasion, measured


def _write(
    result: MLArenaResult,
    opened: OpenedTarget,
    constraints: Any,
    data: Dataset,
    chosen: list[str],
    budget: int,
    epsilon: float,
    seed: int,
) -> None:
    from tutela.arena.ml.report import evasion_html
    from tutela.arena.reports import to_html, to_junit
    from tutela.arena.runner import AttemptSink

    out = result.out_dir
    sink = AttemptSink(out / "attempts.jsonl")
    try:
        for attempt in result.attempts:
            sink.write(attempt)
    finally:
        sink.close()
    (out / "score.json").write_text(json.dumps(result.score.to_dict(), indent=2) + "\n", "utf-8")
    (out / "junit.xml").write_text(to_junit(result.run_id, result.score), "utf-8")
    html = to_html(result.run_id, result.target, result.score)
    (out / "report.html").write_text(
        html + evasion_html(result.evasion, result.measurements), "utf-8"
    )
    details = {
        **result.to_dict(),
        "kind": opened.kind,
        "attacks": chosen,
        "budget": budget,
        "epsilon": epsilon,
        "seed": seed,
        "schema": constraints.to_dict(),
        "data": {
            "source": data.source,
            "digest": data.digest,
            "rows": len(data.labels),
            "label": data.label,
        },
        "catalog": {k: v.to_dict() for k, v in ATTACKS.items()},
    }
    (out / "ml.json").write_text(json.dumps(details, indent=2, default=str) + "\n", "utf-8")


def _record(ws: Workspace, result: MLArenaResult, opened: OpenedTarget, data: Dataset) -> str:
    from tutela.catalog.evidence import record_on_asset

    summary: dict[str, Any] = {
        "asr": result.score.overall.asr,
        "risk": result.score.risk,
        "attempts": len(result.attempts),
        "errors": result.score.overall.errors,
        "queries": result.queries,
    }
    for name, rate in result.score.by_category.items():
        summary[f"asr.{name}"] = rate.asr
    for attack, found in result.evasion.items():
        summary[f"{attack}.success_rate"] = found["success_rate"]
        summary[f"{attack}.median_l2"] = found["median_l2"]
    for found in result.measurements:
        if "exceeded" in found:
            summary[f"{found['id']}.exceeded"] = found["exceeded"]
    payload = {
        **result.to_dict(),
        "evasion": {
            k: {x: y for x, y in v.items() if x != "rows"} for k, v in result.evasion.items()
        },
        "kind": opened.kind,
        "data": {"source": data.source, "digest": data.digest, "rows": len(data.labels)},
        "attempts_file": str(result.out_dir / "attempts.jsonl"),
    }
    prefix = "service" if opened.kind == "http" else "model"
    description = f"{'Endpoint' if prefix == 'service' else 'Classifier'} evaluated in the Arena"
    return record_on_asset(
        ws,
        asset_id=result.target,
        description=description,
        tags=["source:arena"],
        kind="evaluation",
        producer=PRODUCER,
        payload=json.loads(json.dumps(payload, default=str)),
        summary=summary,
        version_digest=opened.version_digest,
        location=str(result.out_dir),
    ).id
