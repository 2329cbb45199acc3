"""Membership inference (MITRE ATLAS AML.T0024.000): can an attacker tell training rows apart?

Two attacks, both on the target's probabilities only:

- Loss threshold (Yeom, Giacomelli, Fredrikson, Jha, "Privacy Risk in Machine Learning:
  Analyzing the Connection to Overfitting", CSF 2018): a row is called a member when the
  model's loss on its true label is low. The score is ``log p(y | x)``.
- Shadow models (Shokri, Stronati, Song, Shmatikov, "Membership Inference Attacks Against
  Machine Learning Models", S&P 2017), run when a shadow data set from the same
  distribution is given: shadow models are trained on random halves of it, and an attack
  classifier learns to separate their in- from out-of-training outputs. As in Salem et
  al. (ML-Leaks, NDSS 2019) one class-agnostic attack model is used, on sorted features
  of the output (true-class log probability, top probability, margin, entropy).

For each attack: ROC AUC with DeLong's interval, and the membership advantage
``TPR - FPR`` (Yeom et al., Definition 4). The advantage threshold is chosen on one half
of the rows and applied to the other, both ways (cross-fitting): the maximum of
``TPR - FPR`` over thresholds on the same rows is biased upwards - it is the two-sample
Kolmogorov-Smirnov statistic, about 0.12 on 2 x 100 rows with no signal at all. The
interval is Newcombe's for a difference of two proportions. TPR at 1% FPR (Carlini et
al., "Membership Inference Attacks From First Principles", S&P 2022) is reported with
at least 100 non-members, as a point estimate.
"""

# Matrices are upper-case (X, P) and counts of replicates/groups B, G, as in the papers and
# scikit-learn; the public argument names (X_pool, X_members, ...) are the agreed interface.
# ruff: noqa: N803, N806

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutela.arena.ml.measures._calls import DEFAULT_BATCH, Counted
from tutela.arena.ml.measures._checks import class_index, fraction, labels, matrix
from tutela.arena.ml.measures._stats import Z95, delong, newcombe_difference
from tutela.arena.ml.measures.result import Measurement
from tutela.errors import InputError

__all__ = ["ATLAS", "ID_SHADOW", "ID_THRESHOLD", "membership"]

ID_THRESHOLD = "ml.membership.threshold"
ID_SHADOW = "ml.membership.shadow"
ATLAS = "AML.T0024.000"
_MIN_ROWS = 10
_EPS = 1e-12


def membership(
    proba: Callable[[NDArray[np.float64]], Any],
    X_members: Any,
    y_members: Any,
    X_nonmembers: Any,
    y_nonmembers: Any,
    *,
    seed: int = 0,
    threshold: float = 0.1,
    shadow: tuple[Any, Any] | None = None,
    shadow_estimator: Any | None = None,
    shadow_models: int = 4,
    classes: Sequence[Any] | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> Measurement:
    """Membership inference against ``proba(X) -> (n, n_classes)``.

    ``X_members``/``y_members`` are training rows of the target, ``X_nonmembers`` rows it
    never saw. Labels are probability-column indices unless ``classes`` names the columns.
    ``shadow=(X, y)`` (disjoint from both) adds the shadow-model attack; its models are
    clones of ``shadow_estimator`` (an unfitted scikit-learn classifier; default a random
    forest). ``exceeded`` when, for either attack, the lower 95% bound of the advantage
    is above ``threshold``: an epsilon-differentially-private model has advantage at most
    ``exp(epsilon) - 1`` (Yeom et al., Theorem 1), so the default 0.1 flags leakage shown
    to be beyond what epsilon ~= 0.095 allows, and the lower bound keeps chance from
    flagging a model (a one-sided 2.5% false alarm rate per attack).
    """
    Xm = matrix("X_members", X_members, min_rows=_MIN_ROWS)
    Xn = matrix("X_nonmembers", X_nonmembers, min_rows=_MIN_ROWS)
    if Xm.shape[1] != Xn.shape[1]:
        raise InputError(
            "members and non-members have different numbers of features",
            expected=str(Xm.shape[1]),
            found=str(Xn.shape[1]),
        )
    ym = labels("y_members", y_members, Xm.shape[0])
    yn = labels("y_nonmembers", y_nonmembers, Xn.shape[0])
    threshold = fraction("threshold", threshold)
    if not 1 <= int(shadow_models) <= 64:
        raise InputError(
            "is out of range", subject="shadow_models", expected="1 to 64", found=str(shadow_models)
        )
    target = Counted(proba, name="proba", kind="proba", batch=batch_size)
    Pm, Pn = target(Xm), target(Xn)
    k = Pm.shape[1]
    im = class_index("y_members", ym, k, classes)
    inn = class_index("y_nonmembers", yn, k, classes)
    rng = np.random.default_rng(seed)

    metrics: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    attacks: dict[str, dict[str, Any]] = {}
    logp_m, logp_n = _features(Pm, im)[:, 0], _features(Pn, inn)[:, 0]
    attacks["threshold"] = _evaluate(logp_m, logp_n, rng)
    if shadow is not None:
        sm, sn = _shadow_scores(
            shadow,
            shadow_estimator,
            int(shadow_models),
            Xm.shape[1],
            Pm,
            im,
            Pn,
            inn,
            k,
            classes,
            seed,
        )
        attacks["shadow"] = _evaluate(sm, sn, rng)
    for name, res in attacks.items():
        prefix = "" if name == "threshold" else "shadow_"
        for key in ("auc", "advantage", "tpr", "fpr", "tpr_at_1pct_fpr"):
            metrics[prefix + key] = res[key]
        intervals[prefix + "auc"] = res["auc_ci"]
        intervals[prefix + "advantage"] = res["advantage_ci"]

    acc_m = int((Pm.argmax(axis=1) == im).sum())
    acc_n = int((Pn.argmax(axis=1) == inn).sum())
    metrics["member_accuracy"] = acc_m / len(im)
    metrics["nonmember_accuracy"] = acc_n / len(inn)
    metrics["generalisation_gap"] = acc_m / len(im) - acc_n / len(inn)
    intervals["generalisation_gap"] = newcombe_difference(acc_m, len(im), acc_n, len(inn))
    metrics["mean_loss_members"] = float(-logp_m.mean())
    metrics["mean_loss_nonmembers"] = float(-logp_n.mean())

    strongest = max(attacks, key=lambda a: attacks[a]["advantage_ci"][0])
    best = attacks[strongest]
    exceeded = any(a["advantage_ci"][0] > threshold for a in attacks.values())
    summary = (
        f"{strongest} attack: AUC {best['auc']:.3f} [{best['auc_ci'][0]:.3f}, "
        f"{best['auc_ci'][1]:.3f}], advantage {best['advantage']:.3f} "
        f"[{best['advantage_ci'][0]:.3f}, {best['advantage_ci'][1]:.3f}] on {len(im)} members "
        f"and {len(inn)} non-members; lower bound "
        f"{'above' if exceeded else 'not above'} {threshold:g}"
    )
    return Measurement(
        id=ID_SHADOW if shadow is not None else ID_THRESHOLD,
        atlas=ATLAS,
        category="membership",
        metrics=metrics,
        intervals=intervals,
        exceeded=bool(exceeded),
        summary=summary,
        threshold=threshold,
        queries=target.rows,
        calls=target.calls,
        params={
            "seed": seed,
            "threshold": threshold,
            "shadow_models": int(shadow_models) if shadow is not None else 0,
        },
        details={
            "members": len(im),
            "nonmembers": len(inn),
            "strongest": strongest,
            "attacks": {a: {"thresholds": r["thresholds"]} for a, r in attacks.items()},
        },
    )


def _features(P: NDArray[np.float64], idx: NDArray[np.intp]) -> NDArray[np.float64]:
    """Class-agnostic attack features; column 0 is the true-class log probability (-loss)."""
    rows = np.arange(P.shape[0])
    p_true = P[rows, idx]
    others = P.copy()
    others[rows, idx] = -np.inf
    logp = np.log(np.clip(P, _EPS, 1.0))
    entropy = -(np.clip(P, _EPS, 1.0) * logp).sum(axis=1)
    return np.column_stack(
        [
            np.log(np.clip(p_true, _EPS, 1.0)),
            logp.max(axis=1),
            p_true - others.max(axis=1),
            entropy,
        ]
    )


def _evaluate(
    members: NDArray[np.float64], nonmembers: NDArray[np.float64], rng: np.random.Generator
) -> dict[str, Any]:
    """AUC with DeLong's interval and the cross-fitted advantage with Newcombe's."""
    auc, se = delong(members, nonmembers)
    auc_ci = (max(0.0, auc - Z95 * se), min(1.0, auc + Z95 * se))
    fm = rng.permutation(members.shape[0]) % 2
    fn = rng.permutation(nonmembers.shape[0]) % 2
    tp = fp = 0
    thresholds = []
    for f in (0, 1):
        t = _best_threshold(members[fm != f], nonmembers[fn != f])
        thresholds.append(t)
        tp += int((members[fm == f] >= t).sum())
        fp += int((nonmembers[fn == f] >= t).sum())
    m, n = members.shape[0], nonmembers.shape[0]
    return {
        "auc": auc,
        "auc_ci": auc_ci,
        "advantage": tp / m - fp / n,
        "advantage_ci": newcombe_difference(tp, m, fp, n),
        "tpr": tp / m,
        "fpr": fp / n,
        "tpr_at_1pct_fpr": _tpr_at_low_fpr(members, nonmembers),
        "thresholds": thresholds,
    }


def _best_threshold(pos: NDArray[np.float64], neg: NDArray[np.float64]) -> float:
    """The cut ``score >= t`` maximising TPR - FPR on these rows (+inf if none helps)."""
    cand = np.unique(np.concatenate([pos, neg]))
    tpr = 1.0 - np.searchsorted(np.sort(pos), cand, side="left") / pos.shape[0]
    fpr = 1.0 - np.searchsorted(np.sort(neg), cand, side="left") / neg.shape[0]
    gain = tpr - fpr
    i = int(np.argmax(gain))
    if gain[i] <= 0:
        return math.inf
    # Halfway to the next lower score: the same cut on these rows, less brittle on new ones.
    return float(cand[i]) if i == 0 else float((cand[i - 1] + cand[i]) / 2.0)


def _tpr_at_low_fpr(pos: NDArray[np.float64], neg: NDArray[np.float64]) -> float:
    if neg.shape[0] < 100:
        return math.nan
    allowed = int(0.01 * neg.shape[0])  # at most this many non-members above the cut
    cut = np.sort(neg)[::-1][allowed]
    return float((pos > cut).mean())


def _shadow_scores(
    shadow: tuple[Any, Any],
    estimator: Any | None,
    n_models: int,
    d: int,
    Pm: NDArray[np.float64],
    im: NDArray[np.intp],
    Pn: NDArray[np.float64],
    inn: NDArray[np.intp],
    k: int,
    classes: Sequence[Any] | None,
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Attack-model membership scores for the target's outputs on members and non-members."""
    from sklearn.base import clone  # type: ignore[import-untyped]
    from sklearn.ensemble import (  # type: ignore[import-untyped]
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    if not isinstance(shadow, tuple | list) or len(shadow) != 2:
        raise InputError("is not a pair (X, y)", subject="shadow")
    Xs = matrix("shadow X", shadow[0], min_rows=2 * _MIN_ROWS)
    ys = class_index("shadow y", labels("shadow y", shadow[1], Xs.shape[0]), k, classes)
    if Xs.shape[1] != d:
        raise InputError(
            "has a different number of features than the members",
            subject="shadow X",
            expected=str(d),
            found=str(Xs.shape[1]),
        )
    template = (
        estimator
        if estimator is not None
        else RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    )
    rng = np.random.default_rng([seed, 1])
    feats: list[NDArray[np.float64]] = []
    marks: list[NDArray[np.int64]] = []
    half = Xs.shape[0] // 2
    # One thread: shadow fits are small, and thread start-up dominates them.
    with threadpool_limits(limits=1):
        for s in range(n_models):
            perm = rng.permutation(Xs.shape[0])
            inside, outside = perm[:half], perm[half:]
            model = clone(template)
            if "random_state" in model.get_params():
                model.set_params(random_state=seed + s)
            model.fit(Xs[inside], ys[inside])
            for rows, mark in ((inside, 1), (outside, 0)):
                P = np.zeros((rows.shape[0], k))
                P[:, np.asarray(model.classes_, dtype=np.intp)] = model.predict_proba(Xs[rows])
                feats.append(_features(P, ys[rows]))
                marks.append(np.full(rows.shape[0], mark, dtype=np.int64))
        attack = HistGradientBoostingClassifier(
            max_iter=100, early_stopping=False, random_state=seed
        )
        attack.fit(np.concatenate(feats), np.concatenate(marks))
        sm = attack.predict_proba(_features(Pm, im))[:, 1]
        sn = attack.predict_proba(_features(Pn, inn))[:, 1]
    return np.asarray(sm, dtype=np.float64), np.asarray(sn, dtype=np.float64)
