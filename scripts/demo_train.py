"""The demo project's training pipeline, recorded with the Tutela SDK.

Two steps, as in a real project: preprocessing turns the raw transactions into features,
training fits a tiny logistic model (plain Python, so the demo needs no ML framework)
and saves it. Each step is a `tutela.run`: inputs and outputs are named by their digest
and linked, so `tutela lineage show model:fraud-scorer` answers what trained it.
"""

from __future__ import annotations

import csv
import math
import pickle
import sys
from pathlib import Path

import tutela


def preprocess(root: Path) -> Path:
    raw = root / "data" / "transactions.csv"
    out = root / "data" / "features.csv"
    with tutela.run("preprocess", params={"scale": "log1p(amount)"}) as run:
        run.input(raw, role="raw")
        with raw.open(encoding="utf-8") as src, out.open("w", encoding="utf-8", newline="") as dst:
            writer = csv.writer(dst)
            writer.writerow(["log_amount", "hour", "is_fraud"])
            for row in csv.DictReader(src):
                writer.writerow(
                    [round(math.log1p(float(row["amount"])), 5), row["hour"], row["is_fraud"]]
                )
        run.output(out, name="features")
    return out


def train(root: Path, features: Path) -> None:
    rows = list(csv.DictReader(features.open(encoding="utf-8")))
    xs = [(float(r["log_amount"]), float(r["hour"]) / 23) for r in rows]
    ys = [int(r["is_fraud"]) for r in rows]
    with tutela.run("train-fraud", params={"epochs": 200, "lr": 0.5}) as run:
        run.input(features, role="training")
        w0 = w1 = w2 = 0.0
        for _ in range(200):
            g0 = g1 = g2 = 0.0
            for (a, h), y in zip(xs, ys, strict=True):
                p = 1 / (1 + math.exp(-(w0 + w1 * a + w2 * h)))
                g0, g1, g2 = g0 + p - y, g1 + (p - y) * a, g2 + (p - y) * h
            w0, w1, w2 = w0 - 0.5 * g0 / len(xs), w1 - 0.5 * g1 / len(xs), w2 - 0.5 * g2 / len(xs)
        correct = sum(
            ((w0 + w1 * a + w2 * h) > 0) == bool(y) for (a, h), y in zip(xs, ys, strict=True)
        )
        model = root / "models" / "fraud-scorer.pkl"
        model.write_bytes(pickle.dumps({"intercept": w0, "coef": [w1, w2]}, protocol=4))
        run.output(model, kind="model", name="fraud-scorer")
        run.metric("accuracy", correct / len(ys))


if __name__ == "__main__":
    project = Path(sys.argv[1])
    train(project, preprocess(project))
