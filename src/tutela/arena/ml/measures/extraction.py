"""Model extraction (MITRE ATLAS AML.T0024.002): how well a copy trained on N answers agrees.

A retraining attack in the sense of Tramèr et al., "Stealing Machine Learning Models via
Prediction APIs" (USENIX Security 2016), restricted to labels, which every endpoint
returns: the attacker draws N rows of its own data, asks the target for their labels and
fits a scikit-learn surrogate. Fidelity is the share of held-out rows on which the
surrogate and the target agree (Jagielski et al., "High Accuracy and High Fidelity
Extraction of Neural Networks", USENIX Security 2020, separate fidelity from accuracy).

Budgets are nested (the first 100 queries are part of the first 250), as an attacker
would reuse answers. At each budget the surrogate family - a decision tree, a random
forest or a scaled logistic regression - is chosen by 3-fold cross-validated
agreement on the queried rows only: the attacker never sees the test rows, so the
reported fidelity is not tuned on them.
"""

# Matrices are upper-case (X, P) and counts of replicates/groups B, G, as in the papers and
# scikit-learn; the public argument names (X_pool, X_members, ...) are the agreed interface.
# ruff: noqa: N803, N806

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutela.arena.ml.measures._calls import DEFAULT_BATCH, Counted
from tutela.arena.ml.measures._checks import fraction, matrix
from tutela.arena.ml.measures._stats import wilson_interval
from tutela.arena.ml.measures.result import Measurement
from tutela.errors import InputError

__all__ = ["ATLAS", "ID", "extraction"]

ID = "ml.extraction.surrogate"
ATLAS = "AML.T0024.002"
FAMILIES = ("tree", "forest", "logistic")
_FOLDS = 3
_MIN_BUDGET = 10

Predictor = Callable[[NDArray[np.float64]], NDArray[Any]]


def extraction(
    query: Callable[[NDArray[np.float64]], Any],
    X_pool: Any,
    X_test: Any,
    *,
    budgets: Sequence[int] = (100, 250, 500, 1000),
    seed: int = 0,
    threshold: float = 0.9,
    batch_size: int = DEFAULT_BATCH,
) -> Measurement:
    """Fidelity of surrogates trained on ``budgets`` label queries from ``X_pool``.

    ``query(X) -> labels`` is the target. ``X_pool`` is the attacker's unlabelled data;
    ``X_test`` (disjoint from it) measures agreement. Budgets above the pool size are
    replaced by the pool size. ``exceeded`` when the fidelity point estimate at the
    largest budget is ``>= threshold``: a copy that good is a stolen model, and the
    attacker needs no confidence interval to use it.
    """
    pool = matrix("X_pool", X_pool, min_rows=_MIN_BUDGET)
    test = matrix("X_test", X_test)
    if pool.shape[1] != test.shape[1]:
        raise InputError(
            "X_pool and X_test have different numbers of features",
            expected=str(pool.shape[1]),
            found=str(test.shape[1]),
        )
    threshold = fraction("threshold", threshold)
    plan = _plan(budgets, pool.shape[0])
    target = Counted(query, name="query", kind="labels", batch=batch_size)

    truth = target(test)
    picked = np.random.default_rng(seed).choice(pool.shape[0], size=plan[-1], replace=False)
    X_q = pool[picked]
    y_q = target(X_q)

    curve: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    for b in plan:
        with _one_thread():
            point = _at_budget(X_q[:b], y_q[:b], test, truth, seed)
        agree = int(point.pop("_agree"))
        ci = wilson_interval(agree, len(truth))
        fidelity = agree / len(truth)
        metrics[f"fidelity@{b}"] = fidelity
        intervals[f"fidelity@{b}"] = ci
        curve.append({"budget": b, "fidelity": fidelity, "low": ci[0], "high": ci[1], **point})

    last = curve[-1]
    metrics["fidelity"] = last["fidelity"]
    intervals["fidelity"] = (last["low"], last["high"])
    _, counts = np.unique(truth, return_counts=True)
    metrics["baseline"] = float(counts.max() / len(truth))
    metrics["attack_queries"] = float(plan[-1])
    exceeded = last["fidelity"] >= threshold
    summary = (
        f"a {last['surrogate']} surrogate trained on {plan[-1]} label queries agrees with the "
        f"target on {last['fidelity']:.1%} of {len(truth)} held-out rows "
        f"[{last['low']:.1%}, {last['high']:.1%}] (constant guess {metrics['baseline']:.1%}); "
        f"{'at or above' if exceeded else 'below'} the {threshold:.0%} threshold"
    )
    return Measurement(
        id=ID,
        atlas=ATLAS,
        category="extraction",
        metrics=metrics,
        intervals=intervals,
        exceeded=bool(exceeded),
        summary=summary,
        threshold=threshold,
        queries=target.rows,
        calls=target.calls,
        params={"budgets": [int(b) for b in budgets], "seed": seed, "threshold": threshold},
        details={
            "curve": curve,
            "budgets": plan,
            "pool_rows": pool.shape[0],
            "test_rows": len(truth),
            "evaluation_queries": len(truth),
        },
    )


def _plan(budgets: Sequence[int], pool_rows: int) -> list[int]:
    try:
        wanted = sorted({int(b) for b in budgets})
    except (TypeError, ValueError) as exc:
        raise InputError("must be whole numbers", subject="budgets") from exc
    if not wanted or wanted[0] < _MIN_BUDGET:
        raise InputError(
            "is too small",
            subject="budgets",
            expected=f"one or more budgets of at least {_MIN_BUDGET} queries",
            found=str(list(budgets)),
        )
    plan = [b for b in wanted if b <= pool_rows]
    if len(plan) < len(wanted) and pool_rows not in plan:
        plan.append(pool_rows)  # the pool runs out first: its size is the largest budget
    return plan


def _at_budget(
    X: NDArray[np.float64],
    y: NDArray[Any],
    test: NDArray[np.float64],
    truth: NDArray[Any],
    seed: int,
) -> dict[str, Any]:
    """Pick the surrogate family by cross-validation on the queries, then score it on test."""
    folds = np.random.default_rng(seed).permutation(len(y)) % _FOLDS
    cv: dict[str, float] = {}
    for family in FAMILIES:
        hits = 0
        for f in range(_FOLDS):
            held = folds == f
            predict = _fit(family, X[~held], y[~held], seed)
            hits += int((predict(X[held]) == y[held]).sum())
        cv[family] = hits / len(y)
    best = max(FAMILIES, key=lambda fam: cv[fam])  # ties go to the simpler, earlier family
    predict = _fit(best, X, y, seed)
    agree = int((predict(test) == truth).sum())
    return {"surrogate": best, "cv_agreement": cv, "_agree": agree}


def _fit(family: str, X: NDArray[np.float64], y: NDArray[Any], seed: int) -> Predictor:
    """A fitted surrogate's predict; a constant when the answers hold a single label."""
    classes = np.unique(y)
    if classes.size < 2:
        only = classes[0] if classes.size else y.dtype.type()

        def constant(rows: NDArray[np.float64]) -> NDArray[Any]:
            return np.full(rows.shape[0], only, dtype=y.dtype)

        return constant
    model = _make(family, seed)
    model.fit(X, y)
    fitted: Predictor = model.predict
    return fitted


def _one_thread() -> Any:
    """Limit OpenMP/BLAS to one thread: surrogate fits on a few hundred rows spend more
    time starting threads than computing, and measurements run side by side."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1)


def _make(family: str, seed: int) -> Any:
    # Imported here: scikit-learn takes a second to import and only this path needs it.
    from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]
    from sklearn.tree import DecisionTreeClassifier  # type: ignore[import-untyped]

    if family == "tree":
        return DecisionTreeClassifier(random_state=seed)
    if family == "forest":
        return RandomForestClassifier(n_estimators=30, random_state=seed, n_jobs=1)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
