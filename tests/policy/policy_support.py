"""Shared samples for the policy tests: model files and a one-rule policy."""

from __future__ import annotations

import json
import struct
from pathlib import Path

SCAN_ONLY = """\
version: 1
rules:
  - id: scan.no-high-findings
    message: no scan finding at or above high
    controls: ["EU-AI-Act:Art.15"]
    expr: scan.scanned && scan.findings_at_or_above.high == 0
"""


def evil_pickle(marker: Path) -> bytes:
    """posix.system('touch MARKER') via STACK_GLOBAL + REDUCE, protocol 4 (never loaded)."""
    cmd = f"touch {marker}".encode()
    body = (
        b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
        + b"\x8c"
        + bytes([len(cmd)])
        + cmd
        + b"\x94\x85\x94R\x94."
    )
    return b"\x80\x04\x95" + len(body).to_bytes(8, "little") + body


def clean_safetensors() -> bytes:
    """A valid two-float safetensors file: nothing in it can execute."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + struct.pack("<2f", 0.5, -1.0)
