"""Model Equality Testing statistics: calibrated under H0, powerful against a changed model."""

from __future__ import annotations

import numpy as np
import pytest

from tutela.monitor.canary import fisher_exact
from tutela.monitor.canary_stats import hamming_kernel, length_test, mmd_test, ngram_kernel

PROMPTS = 8
PHRASES = [
    "The capital of Australia is Canberra.",
    "Canberra is the capital of Australia.",
    "It's Canberra.",
    "Australia's capital city is Canberra, not Sydney.",
    "The answer is Canberra, in the Australian Capital Territory.",
    "Canberra.",
]


def _model(shift: float) -> list[np.ndarray]:
    """Per prompt, a distribution over answer phrasings; ``shift`` moves mass to the last."""
    rng = np.random.default_rng(1234)  # the same base model for every call
    out = []
    for _ in range(PROMPTS):
        p = rng.dirichlet(np.ones(len(PHRASES)))
        p = (1 - shift) * p + shift * np.eye(len(PHRASES))[-1]
        out.append(p / p.sum())
    return out


def _draw(model: list[np.ndarray], rng: np.random.Generator, n: int) -> list[list[str]]:
    answers = []
    for i, p in enumerate(model):
        picks = rng.choice(len(PHRASES), size=n, p=p)
        # Sampling noise inside a phrasing too: an optional trailing detail.
        answers.append(
            [PHRASES[k] + (f" (prompt {i})" if rng.random() < 0.3 else "") for k in picks]
        )
    return answers


def _reject_rate(shift: float, trials: int, alpha: float, kernel: str) -> float:
    base, other = _model(0.0), _model(shift)
    rejected = 0
    for trial in range(trials):
        rng = np.random.default_rng(10_000 + trial)
        a, b = _draw(base, rng, 10), _draw(other, rng, 10)
        groups = [(f"p{i}", a[i], b[i]) for i in range(PROMPTS)]
        result = mmd_test(groups, kernel=kernel, permutations=199, seed=trial)
        rejected += result.p_value <= alpha
    return rejected / trials


@pytest.mark.parametrize("kernel", ["hamming", "ngram"])
def test_false_alarm_rate_under_h0_is_at_most_alpha(kernel: str) -> None:
    """Two runs of the same sampled model: rejections at alpha=0.05 in at most 5% of 200."""
    rate = _reject_rate(0.0, 200, 0.05, kernel)
    assert rate <= 0.05, rate


@pytest.mark.parametrize("kernel", ["hamming", "ngram"])
def test_power_against_a_changed_model(kernel: str) -> None:
    """A model that moves 60% of each prompt's mass to one phrasing is found nearly always."""
    rate = _reject_rate(0.6, 60, 0.05, kernel)
    assert rate >= 0.9, rate


def test_identical_answers_are_never_a_change() -> None:
    """A deterministic service answering the same gives p = 1 (ties are conservative)."""
    groups = [("a", ["same answer"] * 10, ["same answer"] * 10)]
    assert mmd_test(groups).p_value == 1.0
    assert length_test([("a", [11] * 10, [11] * 10)]).p_value == 1.0


def test_a_deterministic_change_on_one_prompt_is_significant() -> None:
    """One prompt answering differently every time is significant on its own and overall."""
    groups = [("same", ["x"] * 10, ["x"] * 10), ("moved", ["old"] * 10, ["new answer"] * 10)]
    result = mmd_test(groups, permutations=999)
    assert result.p_value <= 0.002
    assert dict(zip(result.groups, result.group_p_values, strict=True))["same"] == 1.0


def test_kernels_are_similarities() -> None:
    """Both kernels are 1 on the diagonal, symmetric, and rank near strings above far ones."""
    texts = ["hello world", "hello world!", "completely different"]
    for k in (hamming_kernel(texts, 50), ngram_kernel(texts, 50)):
        assert np.allclose(np.diag(k), 1.0) and np.allclose(k, k.T)
        assert k[0, 1] > k[0, 2]


def test_length_test_sees_longer_answers() -> None:
    """Answers twice as long on every prompt: a small p-value and an effect near x2."""
    rng = np.random.default_rng(0)
    groups = [
        (f"p{i}", list(rng.integers(40, 60, 10)), list(rng.integers(80, 120, 10))) for i in range(5)
    ]
    result = length_test(groups, permutations=499)
    assert result.p_value < 0.01
    assert 0.5 < float(np.expm1(result.statistic)) < 1.5


def test_fisher_exact_matches_hand_computed_values() -> None:
    """0/5 versus 5/5 refusals: p = 2 / C(10, 5) = 0.00794; equal counts: p = 1."""
    assert fisher_exact(0, 5, 5, 5) == pytest.approx(2 / 252)
    assert fisher_exact(3, 10, 3, 10) == pytest.approx(1.0)
