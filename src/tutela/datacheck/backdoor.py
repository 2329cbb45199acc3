"""Backdoor triggers in tabular data, found without any model activations.

A data-poisoning backdoor stamps a small pattern (the trigger) into a few rows and gives
them the attacker's label. In the data this leaves a rule ``trigger -> label`` that is

1. rare (support between ``min_support`` and ``max_support`` of the rows),
2. near deterministic (confidence >= 0.95) for a label whose base rate is much lower
   (lift >= ``min_lift``),
3. statistically surprising: one-sided Fisher exact test (hypergeometric tail),
   Bonferroni-corrected over every tested row set and every class within its family, and
4. against the grain of the rest of the data: a model that does not see the trigger
   columns predicts a *different* label for most of the rule's rows (``min_surprise``).
   Natural strong associations ("very large tumours are malignant") fail this test,
   because the other columns predict the same label; flipped labels pass it.

Rules are single conditions and pairs of conditions on different columns (``rules.py``).
Hypotheses fall in three families, each Bonferroni-corrected on its own with a share of
``alpha`` (``ALPHA_SHARES``): (1) single conditions chosen as unusual without looking at
labels (rare discrete values, out-of-range constants, far tails, missingness) and pairs
of constants repeated together in two continuous columns; (2) other pairs holding an
unusual condition; (3) rules made only of decile bins or common values, which must also
pass a stricter surprise bound (``BIN_ONLY_SURPRISE``) and be corroborated by the spectral
signature (``BIN_ONLY_SPECTRAL``). ``alpha`` (0.1) bounds the family-wise error of this
screening; the label-surprise test then confirms. The small first family keeps the
power to find the out-of-distribution constants that triggers usually are, even on small
data sets (independent filtering, Bourgon, Gentleman, Huber 2010, PNAS 107(21)).

Spectral signatures (Tran, Li, Madry 2018, NeurIPS) are the secondary signal: within the
target class, rows are scored by their squared projection on the top singular vector of
the centred, standardised features; the finding reports how many trigger rows rank in
the top 1.5 x (number of trigger rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tutela.datacheck.features import Prepared
from tutela.datacheck.interface import Finding, FindingKind, Severity, capped, one_blas_thread
from tutela.datacheck.rules import Condition, Items, build_items

__all__ = ["BackdoorSettings", "find_backdoors"]

MAX_ROWS: Final = 50_000
MAX_ITEMS: Final = 4_000
_PAIR_BUDGET: Final = 2e10  # rows x items^2 multiply-adds for pair counting
_MAX_CANDIDATES: Final = 200
_MAX_GROUPS: Final = 10
_GROUP_JACCARD: Final = 0.8
# Hypothesis families, each Bonferroni-corrected on its own with its share of alpha.
FAMILIES: Final = ("unusual", "unusual_pairs", "bins")
_UNUSUAL, _UNUSUAL_PAIRS, _BINS = 0, 1, 2
ALPHA_SHARES: Final = (0.6, 0.3, 0.1)
# Rules made only of decile bins must also overturn what the other columns predict for
# nearly every row: genuine interactions between informative columns reach 0.5-0.6.
BIN_ONLY_SURPRISE: Final = 0.9
# ... and stand out in the spectral signature of their class: genuine interactions do not.
BIN_ONLY_SPECTRAL: Final = 0.5


@dataclass(frozen=True, slots=True)
class BackdoorSettings:
    min_support: float = 0.005
    max_support: float = 0.05
    min_count: int = 3
    min_confidence: float = 0.95
    min_lift: float = 1.5
    alpha: float = 0.1
    min_surprise: float = 0.5
    seed: int = 0


@dataclass
class _Rule:
    items: tuple[int, ...]
    rows: npt.NDArray[np.bool_]
    target: int
    support: int
    hits: int
    p_value: float
    family: str


@dataclass
class _Group:
    seed: _Rule
    rules: list[_Rule] = field(default_factory=list)


def _hypergeom_sf(hits: Any, total: int, good: Any, drawn: Any) -> Any:
    from scipy.stats import hypergeom  # type: ignore[import-untyped]

    return hypergeom.sf(np.asarray(hits) - 1, total, good, drawn)


@dataclass
class _Stats:
    count: npt.NDArray[np.float64]  # co-occurrence counts
    best: npt.NDArray[np.float64]  # count in the most frequent class
    target: npt.NDArray[np.int64]


def _pair_stats(masks: npt.NDArray[np.bool_], labels: npt.NDArray[Any], k: int) -> _Stats:
    m = masks.shape[1]
    total = np.zeros((m, m), np.float32)
    best = np.zeros((m, m), np.float32)
    target = np.zeros((m, m), np.int64)
    for c in range(k):
        sub = masks[labels == c].astype(np.float32)
        counts = sub.T @ sub
        total += counts
        better = counts > best
        best = np.where(better, counts, best)
        target = np.where(better, c, target)
    return _Stats(total.astype(np.float64), best.astype(np.float64), target)


def _corepeating(items: Items, count: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Pairs of exact constants from continuous columns that occur on the same rows."""
    conds = items.conditions
    const = np.array([c.kind == "value" and c.continuous for c in conds])
    diag = np.diag(count)
    smaller = np.minimum.outer(diag, diag)
    return np.outer(const, const) & (count >= 0.8 * smaller) & (count > 0)


def _mine(
    data: Prepared, items: Items, labels: npt.NDArray[Any], s: BackdoorSettings, lo: int, hi: int
) -> tuple[list[_Rule], dict[str, int]]:
    n = labels.size
    k = len(data.classes)
    base = np.bincount(labels, minlength=k).astype(np.float64)
    budget = int(np.sqrt(_PAIR_BUDGET / max(n, 1)))
    order = np.lexsort((items.counts, ~items.unusual))[: max(budget, 1)]
    masks = items.masks[:, order]
    unusual = items.unusual[order]
    with one_blas_thread():
        stats = _pair_stats(masks, labels, k)
    diag = np.diag(stats.count)
    columns = np.array([items.conditions[i].column for i in order], dtype=object)
    eye = np.eye(len(order), dtype=bool)
    corep = (
        _corepeating(Items([items.conditions[i] for i in order], masks, unusual), stats.count)
        & ~eye
    )
    in_range = (stats.count >= lo) & (stats.count <= hi)
    # A pair holding on exactly the rows of one of its conditions repeats that test.
    new_rows = (stats.count < diag[:, None]) & (stats.count < diag[None, :])
    pair_ok = in_range & np.triu(~eye, k=1) & (columns[:, None] != columns[None, :]) & new_rows
    single_ok = (diag >= lo) & (diag <= hi)
    family = np.full(stats.count.shape, -1, dtype=np.int64)
    family[pair_ok] = _BINS
    family[pair_ok & np.logical_or.outer(unusual, unusual)] = _UNUSUAL_PAIRS
    family[pair_ok & corep] = _UNUSUAL
    single_family = np.where(unusual | corep.any(axis=1), _UNUSUAL, _BINS)
    family[eye & single_ok[:, None]] = single_family[single_ok]
    sizes = np.bincount(family[(family >= 0) & ~eye].ravel(), minlength=len(FAMILIES))
    # Conditions holding on the same rows (a constant and the tail it lies in) are one
    # hypothesis: count distinct row sets among the single conditions.
    for which in (_UNUSUAL, _BINS):
        chosen = single_ok & (single_family == which)
        packed = np.packbits(masks[:, chosen], axis=0).T
        sizes[which] += np.unique(packed, axis=0).shape[0] if packed.size else 0
    tested = {name: int(size) for name, size in zip(FAMILIES, sizes, strict=True)}
    tested["items"] = len(items.conditions)
    conf = np.divide(stats.best, stats.count, out=np.zeros_like(stats.best), where=stats.count > 0)
    lift = conf / (base[stats.target] / n)
    strong = (conf >= s.min_confidence) & (lift >= s.min_lift) & (family >= 0)
    ii, jj = np.nonzero(strong)
    if ii.size == 0:
        return [], tested
    hits = stats.best[ii, jj]
    support = stats.count[ii, jj]
    raw = _hypergeom_sf(hits, n, base[stats.target[ii, jj]], support)
    fam = family[ii, jj]
    adjusted = np.minimum(1.0, raw * np.maximum(sizes[fam], 1) * k)
    keep = np.flatnonzero(adjusted <= np.asarray(ALPHA_SHARES)[fam] * s.alpha)
    # Unusual families first: on real data natural bin rules are plentiful and must not
    # crowd the constants out of the candidate list.
    keep = keep[np.lexsort((raw[keep], fam[keep]))][:_MAX_CANDIDATES]
    rules = []
    for idx in keep:
        a, b = int(order[ii[idx]]), int(order[jj[idx]])
        rows = items.masks[:, a] & items.masks[:, b]
        rules.append(
            _Rule(
                (a,) if a == b else (a, b),
                rows,
                int(stats.target[ii[idx], jj[idx]]),
                int(support[idx]),
                int(hits[idx]),
                float(adjusted[idx]),
                FAMILIES[int(fam[idx])],
            )
        )
    return rules, tested


def _jaccard(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]) -> float:
    union = int((a | b).sum())
    return int((a & b).sum()) / union if union else 0.0


def _group(rules: list[_Rule]) -> list[_Group]:
    groups: list[_Group] = []
    for rule in rules:
        for group in groups:
            if group.seed.target == rule.target and _jaccard(group.seed.rows, rule.rows) >= (
                _GROUP_JACCARD
            ):
                group.rules.append(rule)
                break
        else:
            groups.append(_Group(rule, [rule]))
    return groups[:_MAX_GROUPS]


def _trigger(group: _Group, items: Items) -> list[int]:
    """The simplest conditions describing the group's rows: one per column, constants first."""
    seed = group.seed.rows
    size = int(seed.sum())
    inter = items.masks[seed].sum(axis=0)
    union = size + items.counts - inter
    close = np.flatnonzero(inter / np.maximum(union, 1) >= _GROUP_JACCARD)
    per_column: dict[str, int] = {}
    for i in close:
        cond = items.conditions[i]
        held = per_column.get(cond.column)
        if held is None or cond.rank() < items.conditions[held].rank():
            per_column[cond.column] = int(i)
    return sorted(per_column.values()) or list(group.seed.items)


def _surprise(
    data: Prepared, rows: npt.NDArray[np.intp], target: int, columns: Sequence[str], seed: int
) -> float | None:
    """Share of ``rows`` that a model without ``columns`` assigns to another label."""
    from tutela.datacheck.labels import out_of_fold_probabilities

    assert data.labels is not None
    keep_cols = [j for j, src in enumerate(data.matrix_sources) if src not in set(columns)]
    if not keep_cols:
        return None
    labelled = np.flatnonzero(data.labels >= 0)
    probs = out_of_fold_probabilities(
        data.standardized[np.ix_(labelled, np.asarray(keep_cols, dtype=np.intp))],
        data.labels[labelled],
        folds=3,
        seed=seed,
    )
    if probs is None:
        return None
    predicted = np.full(data.n_rows, -1)
    predicted[labelled] = np.argmax(probs, axis=1)
    return float(np.mean(predicted[rows] != target))


def _spectral(data: Prepared, rows: npt.NDArray[np.intp], target: int) -> float:
    """Share of ``rows`` in the top 1.5|rows| spectral-signature scores of the target class."""
    assert data.labels is not None
    members = np.flatnonzero(data.labels == target)
    x = data.standardized[members]
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    scores = (x @ vt[0]) ** 2
    top = members[np.argsort(-scores)[: int(np.ceil(1.5 * rows.size))]]
    return float(np.isin(rows, top).mean()) if rows.size else 0.0


def find_backdoors(
    data: Prepared, *, columns: Sequence[str], settings: BackdoorSettings | None = None
) -> tuple[list[Finding], dict[str, Any]]:
    """Backdoor findings over ``columns`` and the search statistics (for the record)."""
    s = settings or BackdoorSettings()
    assert data.labels is not None
    index = np.flatnonzero(data.labels >= 0)
    sampled = index.size > MAX_ROWS
    if sampled:
        # Rule statistics on a uniform sample keep the item masks in memory; a trigger
        # in 0.5-5% of the rows still has hundreds of rows in it.
        rng = np.random.default_rng(s.seed)
        index = np.sort(rng.choice(index, MAX_ROWS, replace=False))
    n = int(index.size)
    lo = max(s.min_count, int(np.ceil(s.min_support * n)))
    hi = int(np.floor(s.max_support * n))
    if hi < lo:
        return [], {"skipped": f"too few rows for a {s.max_support:.0%} support ceiling"}
    frame = data.frame.iloc[index].reset_index(drop=True)
    items = build_items(frame, columns, min_count=lo, max_count=hi, max_items=MAX_ITEMS)
    labels = data.labels[index]
    rules, tested = _mine(data, items, labels, s, lo, hi)
    tested["sampled_rows"] = n if sampled else 0
    findings: list[Finding] = []
    for group in _group(rules):
        chosen = _trigger(group, items)
        conds = [items.conditions[i] for i in chosen]
        mask = np.logical_and.reduce([items.masks[:, i] for i in chosen])
        target = group.seed.target
        support = int(mask.sum())
        hits = int((mask & (labels == target)).sum())
        if support == 0:
            continue
        base = float((labels == target).mean())
        raw = float(_hypergeom_sf(hits, n, int((labels == target).sum()), support))
        p_adj = min(1.0, raw * max(tested[group.seed.family], 1) * len(data.classes))
        poisoned = index[np.flatnonzero(mask & (labels == target))]
        if sampled:  # report every matching row of the data, not only the sampled ones
            everywhere = np.logical_and.reduce([c.mask(data.frame) for c in conds])
            poisoned = np.flatnonzero(everywhere & (data.labels == target))
        trigger_columns = sorted({c.column for c in conds})
        surprise = _surprise(data, poisoned, target, trigger_columns, s.seed)
        needed = BIN_ONLY_SURPRISE if group.seed.family == "bins" else s.min_surprise
        if surprise is None or surprise < needed:
            continue
        spectral = _spectral(data, poisoned, target)
        if group.seed.family == "bins" and spectral < BIN_ONLY_SPECTRAL:
            continue
        findings.append(
            _finding(
                data,
                conds,
                target,
                support,
                hits,
                base,
                raw,
                p_adj,
                poisoned,
                surprise,
                spectral,
                group.seed.family,
            )
        )
    return findings, {**tested, "rules_significant": len(rules), "min_count": lo, "max_count": hi}


def _finding(
    data: Prepared,
    conds: list[Condition],
    target: int,
    support: int,
    hits: int,
    base: float,
    raw: float,
    p_adj: float,
    rows: npt.NDArray[np.intp],
    surprise: float,
    spectral: float,
    family: str,
) -> Finding:
    confidence = hits / support
    label = data.classes[target]
    text = " and ".join(c.text() for c in conds)
    return Finding(
        kind=FindingKind.BACKDOOR,
        check="backdoor.rule",
        severity=Severity.CRITICAL if spectral >= 0.5 else Severity.HIGH,
        message=f"possible backdoor: {text} -> {label!r} in {rows.size} rows "
        f"(confidence {confidence:.0%}, lift {confidence / base:.1f}, p={p_adj:.2g})",
        rows=capped(rows),
        row_count=int(rows.size),
        columns=sorted({c.column for c in conds}),
        details={
            "trigger": [c.to_dict() for c in conds],
            "target_label": label,
            "support": support,
            "support_share": round(support / max(data.n_rows, 1), 6),
            "confidence": round(confidence, 6),
            "lift": round(confidence / base, 4),
            "p_value": p_adj,
            "p_value_raw": raw,
            "hypothesis_family": family,
            "label_surprise": round(surprise, 4),
            "spectral_overlap": round(spectral, 4),
            "method": "rule mining (Fisher exact, Bonferroni) + label surprise + "
            "spectral signatures (Tran et al. 2018)",
        },
    )
