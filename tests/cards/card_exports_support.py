"""A real workspace for the export/import tests: lineage, a scan, declared fields, Arena."""

from __future__ import annotations

import pickle
from pathlib import Path

from tutela.arena.example_server import ExampleServer
from tutela.arena.service import run_arena
from tutela.lineage.sdk import run
from tutela.scan.service import run_scan
from tutela.workspace import Workspace

MODEL = "model:fraud-scorer"
CHAT = "model:chat-assistant"
DECLARED = """\
intended_use: Scoring card transactions for fraud triage by the payments team.
out_of_scope_use: Credit decisions or any decision about a person without review.
limitations: Trained on two months of synthetic data; weak on new merchant types.
ethical_considerations: Scores may differ across regions; reviewed quarterly.
owner: payments-risk
human_oversight: An analyst reviews every score above 0.8 before action.
risk_management: Quarterly risk review; thresholds set by the risk board.
contact: risk-team@example.com
"""


def trained_model(ws: Workspace, root: Path) -> Path:
    """features.csv -> train run -> fraud.pkl, scanned, with a .card.yaml beside it."""
    data = root / "data"
    data.mkdir(exist_ok=True)
    features = data / "transactions.csv"
    features.write_text("x1,x2,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(50)))
    model_path = root / "fraud.pkl"
    with run("train-fraud", params={"C": 0.5}, workspace=ws) as r:
        r.input(features, role="training")
        model_path.write_bytes(pickle.dumps({"weights": [0.25, -0.5]}, protocol=4))
        r.output(model_path, kind="model", name="fraud-scorer")
    run_scan([model_path], workspace=ws, workers=0, asset=MODEL)
    model_path.with_name("fraud.card.yaml").write_text(DECLARED)
    return model_path


def arena_model(ws: Workspace, root: Path) -> None:
    """An LLM app recorded as model:chat-assistant, evaluated by the Arena (real probes)."""
    with ExampleServer({"package_hallucination"}) as server:
        config = {"kind": "openai", "id": CHAT, "base_url": server.base_url, "model": "demo"}
        run_arena(
            config,
            out_dir=root / "arena",
            workspace=ws,
            concurrency=8,
            categories=["package_hallucination", "prompt_injection"],
        )
