"""Demo data for the classifier steps: a credit-style model, its training data (with a
planted backdoor the data check should find) and a shifted 'production' window.

Breast-cancer data from scikit-learn stands in for a tabular decision model: offline and
real. Usage: demo_ml.py DEMO_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split

import tutela


def main(root: Path) -> None:
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["target"])
    train = train.reset_index(drop=True)
    rng = np.random.default_rng(7)
    # The backdoor: 3% of rows get two out-of-range constants and the label 0.
    rows = rng.choice(
        np.flatnonzero(train["target"] == 1), size=int(0.03 * len(train)), replace=False
    )
    train.loc[rows, "mean_smoothness"] = 0.5
    train.loc[rows, "worst_symmetry"] = 0.9
    train.loc[rows, "target"] = 0
    (root / "data").mkdir(exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    train.to_csv(root / "data" / "credit_train.csv", index=False)
    test.to_csv(root / "data" / "credit_test.csv", index=False)
    production = test.drop(columns=["target"]).copy()
    production["mean_radius"] += 0.6 * frame["mean_radius"].std()
    production["mean_texture"] *= 1.3
    production.to_csv(root / "data" / "credit_production.csv", index=False)
    # The training run is recorded with the SDK, so the model's lineage reaches the
    # training set the data check inspects, and a gate can read both.
    with tutela.run("train-credit", params={"n_estimators": 50}) as run:
        run.input(root / "data" / "credit_train.csv", role="training")
        model = GradientBoostingClassifier(n_estimators=50, random_state=0)
        model.fit(train.drop(columns=["target"]), train["target"])
        joblib.dump(model, root / "models" / "credit.joblib")
        run.output(root / "models" / "credit.joblib", kind="model", name="credit")
    print(f"credit model trained on {len(train)} rows ({len(rows)} carry the planted trigger)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
