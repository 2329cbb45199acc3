"""A workspace with real evidence for the dashboard tests, made by the real producers.

model:fraud-scorer: trained by an SDK run from a raw CSV; its file is a crafted malicious
pickle written as bytes (never loaded) and scanned, so it has a critical finding; an Arena
run against the reference chat app, and two drift checks (unchanged, then shifted). Users:
alice (engineer), bob (risk-officer), vera (viewer), and an approval request by alice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine

from tutela.arena.example_server import ExampleServer
from tutela.arena.service import run_arena
from tutela.catalog.tokens import create_token
from tutela.catalog.users import add_user
from tutela.lineage.sdk import run
from tutela.monitor.drift_watch import DriftCheck
from tutela.policy.approvals import request_approval
from tutela.scan.service import run_scan
from tutela.workspace import Workspace

MODEL = "model:fraud-scorer"
CHAT = "model:chat-assistant"
# GLOBAL os.system, then call it: the classic malicious pickle (never loaded here).
EVIL = b"cos\nsystem\n(S'echo pwned'\ntR."


@dataclass
class Demo:
    ws: Workspace
    tokens: dict[str, str]
    request_id: str


def _lineage_and_scan(ws: Workspace, root: Path) -> None:
    raw = root / "transactions.csv"
    raw.write_text("x1,x2,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(50)))
    model = root / "fraud.pkl"
    with run("train-fraud", params={"C": 0.5}, workspace=ws) as r:
        r.input(raw, role="training")
        model.write_bytes(EVIL)
        r.output(model, kind="model", name="fraud-scorer")
    run_scan([model], workspace=ws, workers=0, asset=MODEL)


def _arena(ws: Workspace, root: Path) -> None:
    with ExampleServer({"package_hallucination"}) as server:
        config = {"kind": "openai", "id": CHAT, "base_url": server.base_url, "model": "demo"}
        run_arena(
            config,
            out_dir=root / "arena",
            workspace=ws,
            concurrency=8,
            categories=["package_hallucination", "prompt_injection"],
        )


def _drift(ws: Workspace, root: Path) -> None:
    frame = load_wine(as_frame=True).frame.drop(columns=["target"])
    order = np.random.default_rng(0).permutation(len(frame))
    ref, cur = frame.iloc[order[:89]], frame.iloc[order[89:]].copy()
    ref.to_csv(root / "reference.csv", index=False)
    cur.to_csv(root / "same.csv", index=False)
    cur["alcohol"] = cur["alcohol"] + 1.5 * ref["alcohol"].std()
    cur.to_csv(root / "shifted.csv", index=False)
    for current in ("same.csv", "shifted.csv"):
        DriftCheck("wine", MODEL, str(root / "reference.csv"), str(root / current)).run(ws)


def build_demo(root: Path, *, arena: bool = True) -> Demo:
    """The workspace under ``root`` (created), with tokens for admin, alice, bob and vera."""
    root.mkdir(parents=True, exist_ok=True)
    ws = Workspace.init(root)
    tokens: dict[str, str] = {}
    for name, roles in {
        "admin": ["admin"],
        "alice": ["engineer"],
        "bob": ["risk-officer"],
        "vera": ["viewer"],
    }.items():
        add_user(ws, name, roles=roles, actor="admin")
        tokens[name], _ = create_token(ws, name, label="dashboard test", actor="admin")
    _lineage_and_scan(ws, root)
    if arena:
        _arena(ws, root)
    _drift(ws, root)
    request = request_approval(
        ws,
        MODEL,
        stage="prod",
        reason="ready for production",
        required_roles=["risk-officer"],
        requested_by="alice",
    )
    return Demo(ws, tokens, request.id)
