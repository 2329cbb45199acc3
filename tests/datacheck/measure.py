"""Measure the data checks on planted problems (run by hand, not by pytest):

    .venv/bin/python tests/datacheck/measure.py

Prints label-error precision/recall at 5% flipped labels, backdoor detection rates over
seeds and trigger shares, and backdoor findings on the clean data sets.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from planting import (
    flip_labels,
    out_of_range,
    plant_backdoor,
    precision_recall,
    sklearn_frame,
    synthetic_frame,
)

from tutela.datacheck.backdoor import find_backdoors
from tutela.datacheck.features import prepare
from tutela.datacheck.labels import find_label_errors


def _frame(name: str):  # type: ignore[no-untyped-def]
    return synthetic_frame() if name == "synthetic" else sklearn_frame(name)


def labels() -> None:
    for name in ("breast_cancer", "wine", "digits"):
        for seed in range(3):
            noisy, truth = flip_labels(_frame(name), 0.05, seed=seed)
            start = time.perf_counter()
            found, _ = find_label_errors(prepare(noisy, label="target"))
            rows = set(found[0].rows) if found else set()
            p, r = precision_recall(rows, truth)
            took = time.perf_counter() - start
            print(f"label_error {name} seed={seed}: precision {p:.2f} recall {r:.2f} ({took:.1f}s)")


def backdoors(seeds: int = 10) -> None:
    cases = [("breast_cancer", 0.01), ("breast_cancer", 0.02), ("breast_cancer", 0.03),
             ("wine", 0.02), ("wine", 0.03), ("synthetic", 0.01), ("synthetic", 0.02)]  # fmt: skip
    for name, share in cases:
        base = _frame(name)
        features = [c for c in base.columns if c != "target" and base[c].dtype.kind == "f"]
        counts = base["target"].value_counts()
        for policy in ("minority", "any"):
            found = named = 0
            for seed in range(seeds):
                rng = np.random.default_rng(1000 + seed)
                columns = [str(c) for c in rng.choice(features, 2, replace=False)]
                values = [out_of_range(base, c, 1 + rng.random()) for c in columns]
                target = counts.idxmin() if policy == "minority" else rng.choice(counts.index)
                frame, truth = plant_backdoor(base, columns, values, target, share, seed)
                data = prepare(frame, label="target")
                result, _ = find_backdoors(data, columns=data.feature_columns)
                hit = [f for f in result if set(f.rows) & truth]
                found += bool(hit)
                named += bool(hit and set(hit[0].columns) == set(columns))
                extra = [f.message for f in result if not set(f.rows) & truth]
                if extra:
                    print("  false finding:", extra)
            print(f"backdoor {name} share={share} target={policy}: found {found}/{seeds}, "
                  f"trigger named {named}/{seeds}")  # fmt: skip


def clean() -> None:
    names = ["breast_cancer", "wine", "digits", "iris", "diabetes", "synthetic"]
    for name in names:
        frame = _frame(name)
        if name == "diabetes":
            frame["target"] = (frame["target"] > frame["target"].median()).astype(int)
        for noise in (0.0, 0.05):
            noisy = flip_labels(frame, noise)[0] if noise else frame
            data = prepare(noisy, label="target")
            result, _ = find_backdoors(data, columns=data.feature_columns)
            print(f"clean {name} label_noise={noise}: {len(result)} backdoor findings "
                  f"{[f.message for f in result]}")  # fmt: skip


if __name__ == "__main__":
    what = sys.argv[1:] or ["labels", "backdoors", "clean"]
    for step in what:
        globals()[step]()
