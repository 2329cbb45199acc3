"""Write the demo project: a small dataset and model files, deterministic.

Nothing here imports a framework: the files are written byte for byte so the demo
needs only Tutela's core dependencies.
"""

from __future__ import annotations

import json
import pickle
import random
import struct
import sys
from pathlib import Path


def main(root: Path) -> None:
    rng = random.Random(7)
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "models" / "sentiment").mkdir(parents=True, exist_ok=True)

    rows = ["amount,merchant_category,hour,country,is_fraud"]
    for _ in range(2000):
        amount = round(rng.lognormvariate(3.5, 1.1), 2)
        fraud = int(amount > 400 and rng.random() < 0.6)
        rows.append(
            f"{amount},{rng.randint(1, 30)},{rng.randint(0, 23)},{rng.choice('DEFRITNL')},{fraud}"
        )
    (root / "data" / "transactions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    # A benign "model": plain containers only, the way a hand-rolled scorer is saved.
    weights = {"intercept": -3.2, "coef": {"amount": 0.004, "hour": -0.01}, "threshold": 0.5}
    (root / "models" / "fraud-scorer.pkl").write_bytes(pickle.dumps(weights, protocol=4))

    # A safetensors file written from the format description (8-byte header length,
    # JSON header, raw little-endian data).
    data = struct.pack("<4f", 0.1, -0.2, 0.3, 0.05)
    header = json.dumps(
        {"classifier.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
    ).encode()
    header += b" " * (-len(header) % 8)
    (root / "models" / "sentiment" / "model.safetensors").write_bytes(
        struct.pack("<Q", len(header)) + header + data
    )
    (root / "models" / "sentiment" / "config.json").write_text(
        json.dumps({"architectures": ["TinySentiment"], "num_labels": 2}), encoding="utf-8"
    )

    poisoned_checkpoint(root / "models" / "resnet-finetune.pt", root / "PWNED")
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "settings.py").write_text(
        'LLM_MODEL = "gpt-4o-mini"\nLLM_BASE_URL = "https://llm-gateway.example.com/v1"\n',
        encoding="utf-8",
    )
    (root / "app" / "assistant.py").write_text(
        "from openai import OpenAI\n"
        "from sklearn.linear_model import LogisticRegression\n\n"
        "from app.settings import LLM_BASE_URL, LLM_MODEL\n\n"
        "client = OpenAI(base_url=LLM_BASE_URL)\n\n\n"
        "def explain(decision: str) -> str:\n"
        "    reply = client.chat.completions.create(\n"
        '        model=LLM_MODEL, messages=[{"role": "user", "content": decision}]\n'
        "    )\n"
        "    return reply.choices[0].message.content\n",
        encoding="utf-8",
    )
    (root / "requirements.txt").write_text("scikit-learn==1.5.2\nnumpy>=1.26\n", encoding="utf-8")


def poisoned_checkpoint(path: Path, marker: Path) -> None:
    """A PyTorch-style zip checkpoint whose data.pkl runs a shell command when loaded.

    Written by hand, never with torch: the pickle calls posix.system via REDUCE before
    returning an ordinary state dict. The command only creates a marker file, and the
    demo shows that scanning it never does.
    """
    import zipfile

    command = f"touch {marker}".encode()
    payload = (
        b"\x80\x02}q\x00X\x06\x00\x00\x00_extraq\x01cposix\nsystem\nq\x02"
        + b"X"
        + len(command).to_bytes(4, "little")
        + command
        + b"q\x03\x85q\x04Rq\x05sX\x09\x00\x00\x00fc.weightq\x06K\x01s."
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("resnet-finetune/data.pkl", payload)
        archive.writestr("resnet-finetune/byteorder", "little")
        archive.writestr("resnet-finetune/data/0", bytes(64))
        archive.writestr("resnet-finetune/version", "3\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
