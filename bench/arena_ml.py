"""Black-box evasion on tree ensembles: ART's HopSkipJump next to Tutela's attacks.

Not a test. Same models (a random forest and a gradient-boosting model trained on
scikit-learn's breast-cancer data), same rows (correctly classified, seeded), same
feature ranges (the reference data's per-feature min/max). ART runs in its own venv
(bench/.venvs/art, created on first use from PyPI: adversarial-robustness-toolbox,
packaging, and the scikit-learn version of this venv) with its scikit-learn wrapper;
every row the model is asked about is counted on both sides.

Reported per attack: success rate (label changed AND every feature moved by at most
EPSILON standard deviations — the threat model of `tutela arena ml run --epsilon`),
plain evasion rate (label changed at all), median perturbation of the evading rows
(L2 and Linf, in std units, computed identically for both tools), median queries per
row and wall time of the attack loop.

    .venv/bin/python bench/arena_ml.py [--samples 30] [--epsilon 1.0] [--art-iter 10]

Writes bench/out/arena_ml.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.model_selection import train_test_split

from tutela.arena.ml.attacks.boundary import BoundarySettings, boundary_attack
from tutela.arena.ml.attacks.random_search import RandomSearchSettings, random_search_attack
from tutela.arena.ml.oracle import Budget, Counter
from tutela.arena.ml.schema import build_schema
from tutela.arena.ml.targets.pycallable import CallableTarget

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
VENV = ROOT / ".venvs" / "art"

ART_RUNNER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import joblib, numpy as np
from art.attacks.evasion import HopSkipJump
from art.estimators.classification import SklearnClassifier

work = sys.argv[1]
spec = json.load(open(f"{work}/spec.json"))
arrays = np.load(f"{work}/arrays.npz")
out = {}
for name in spec["models"]:
    model = joblib.load(f"{work}/{name}.joblib")
    counted = {"rows": 0}
    inner = model.predict_proba
    def proba(x, inner=inner):
        counted["rows"] += len(x)
        return inner(x)
    model.predict_proba = proba
    classifier = SklearnClassifier(model=model, clip_values=(arrays["low"], arrays["high"]))
    attack = HopSkipJump(classifier, targeted=False, norm=2, max_iter=spec["max_iter"],
                         max_eval=spec["max_eval"], init_eval=spec["init_eval"],
                         init_size=spec["init_size"], verbose=False)
    rows, queries = [], []
    started = time.perf_counter()
    for x in arrays[f"{name}_x"]:
        before = counted["rows"]
        adv = attack.generate(x=x[None, :].astype(np.float32).astype(np.float64))
        queries.append(counted["rows"] - before)
        rows.append(adv[0])
    seconds = time.perf_counter() - started
    out[name] = {"adversarial": np.asarray(rows).tolist(), "queries": queries,
                 "seconds": seconds}
json.dump(out, open(f"{work}/art.json", "w"))
"""


def ensure_art_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "adversarial-robustness-toolbox",
                "packaging",
                f"scikit-learn=={sklearn.__version__}",
            ],
            check=True,
        )
    return python


def _stats(
    rows: np.ndarray,
    adversarial: list[np.ndarray | None],
    labels: np.ndarray,
    model: Any,
    scale: np.ndarray,
    queries: list[int],
    seconds: float,
    epsilon: float,
) -> dict[str, Any]:
    evaded, success, l2s, linfs = 0, 0, [], []
    for x, adv, label in zip(rows, adversarial, labels, strict=True):
        if adv is None or str(model.predict(adv[None, :])[0]) == label:
            continue
        delta = (adv - x) / scale
        l2, linf = float(np.sqrt((delta**2).sum())), float(np.abs(delta).max())
        evaded += 1
        success += linf <= epsilon + 1e-9
        l2s.append(l2)
        linfs.append(linf)
    n = len(rows)
    return {
        "samples": n,
        "success_rate": success / n,
        "evasion_rate": evaded / n,
        "median_l2": float(np.median(l2s)) if l2s else None,
        "median_linf": float(np.median(linfs)) if linfs else None,
        "median_queries": float(np.median(queries)),
        "seconds": round(seconds, 2),
    }


def tutela_attack(
    kind: str,
    model: Any,
    rows: np.ndarray,
    labels: np.ndarray,
    schema: Any,
    ref: tuple[np.ndarray, np.ndarray],
    budget: int,
    epsilon: float | None,
) -> dict[str, Any]:
    target = CallableTarget.from_estimator("model:bench", model)
    counter = Counter(target)
    adversarial, queries = [], []
    started = time.perf_counter()
    for i, (x, label) in enumerate(zip(rows, labels, strict=True)):
        rng = np.random.default_rng(i)
        allowance = Budget(counter, budget)
        if kind == "boundary":
            result = boundary_attack(
                x,
                label,
                row=i,
                budget=allowance,
                schema=schema,
                reference=ref[0],
                reference_labels=ref[1],
                rng=rng,
                settings=BoundarySettings(epsilon=epsilon),
            )
        else:
            result = random_search_attack(
                x,
                label,
                row=i,
                budget=allowance,
                schema=schema,
                classes=target.classes,
                rng=rng,
                settings=RandomSearchSettings(epsilon=epsilon or 1.0),
            )
        adversarial.append(result.adversarial)
        queries.append(result.queries)
    return {
        "adversarial": adversarial,
        "queries": queries,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--art-iter", type=int, default=10)
    parser.add_argument("--art-max-eval", type=int, default=1000)
    args = parser.parse_args()
    python = ensure_art_venv()
    work = OUT / "arena_ml_work"
    work.mkdir(parents=True, exist_ok=True)

    bunch = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data, bunch.target, test_size=0.4, random_state=0, stratify=bunch.target
    )
    models = {
        "random_forest": RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1),
        "gradient_boosting": GradientBoostingClassifier(random_state=0),
    }
    low, high = bunch.data.min(axis=0), bunch.data.max(axis=0)
    names = [f"f{i}" for i in range(bunch.data.shape[1])]
    schema = build_schema(names, x_train)
    arrays: dict[str, np.ndarray] = {"low": low, "high": high}
    chosen: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, model in models.items():
        model.fit(x_train, y_train)
        joblib.dump(model, work / f"{name}.joblib")
        predicted = model.predict(x_test)
        right = np.flatnonzero(predicted == y_test)
        pick = np.random.default_rng(0).permutation(right)[: args.samples]
        chosen[name] = (x_test[pick], predicted[pick].astype(str))
        arrays[f"{name}_x"] = x_test[pick]
    np.savez(work / "arrays.npz", **arrays)
    spec = {
        "models": list(models),
        "max_iter": args.art_iter,
        "max_eval": args.art_max_eval,
        "init_eval": 100,
        "init_size": 100,
    }
    (work / "spec.json").write_text(json.dumps(spec))
    (work / "art_runner.py").write_text(ART_RUNNER)
    subprocess.run([str(python), str(work / "art_runner.py"), str(work)], check=True)
    art = json.loads((work / "art.json").read_text())

    report: dict[str, Any] = {
        "dataset": "breast_cancer (569 rows, 30 features)",
        "samples": args.samples,
        "epsilon_std": args.epsilon,
        "art": {
            "version": subprocess.run(
                [str(python), "-c", "import art; print(art.__version__)"],
                capture_output=True,
                text=True,
            ).stdout.strip(),
            **spec,
        },
        "results": {},
    }
    reference = (x_train, y_train.astype(str))
    for name, model in models.items():
        rows, labels = chosen[name]
        art_budget = int(np.median(art[name]["queries"]))
        runs = {
            "art.hopskipjump": {
                "adversarial": [np.asarray(a) for a in art[name]["adversarial"]],
                "queries": art[name]["queries"],
                "seconds": art[name]["seconds"],
            },
            "tutela.boundary (stop inside eps, budget 1000)": tutela_attack(
                "boundary", model, rows, labels, schema, reference, 1000, args.epsilon
            ),
            f"tutela.boundary (minimise, budget {art_budget} = ART median)": tutela_attack(
                "boundary", model, rows, labels, schema, reference, art_budget, None
            ),
            "tutela.random_search (budget 1000)": tutela_attack(
                "random", model, rows, labels, schema, reference, 1000, args.epsilon
            ),
        }
        report["results"][name] = {
            tool: _stats(
                rows,
                run["adversarial"],
                labels,
                model,
                schema.scale,
                run["queries"],
                run["seconds"],
                args.epsilon,
            )
            for tool, run in runs.items()
        }
    OUT.mkdir(exist_ok=True)
    (OUT / "arena_ml.json").write_text(json.dumps(report, indent=2) + "\n")
    head = f"{'model':18} {'attack':52} {'success':>8} {'evaded':>7} {'med L2':>7} {'med Linf':>8} {'med q':>7} {'time s':>7}"
    print(
        f"breast cancer, {args.samples} rows per model, success = label flipped with Linf <= {args.epsilon} std"
    )
    print(head)
    for name, tools in report["results"].items():
        for tool, s in tools.items():
            l2 = "n/a" if s["median_l2"] is None else f"{s['median_l2']:.3f}"
            linf = "n/a" if s["median_linf"] is None else f"{s['median_linf']:.3f}"
            print(
                f"{name:18} {tool:52} {s['success_rate']:8.0%} {s['evasion_rate']:7.0%} "
                f"{l2:>7} {linf:>8} {s['median_queries']:7.0f} {s['seconds']:7.1f}"
            )
    print(f"saved {OUT / 'arena_ml.json'}")


if __name__ == "__main__":
    main()
