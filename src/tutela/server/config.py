"""Server settings: what the API may read, how much it accepts, how many jobs run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServerConfig"]


@dataclass(frozen=True)
class ServerConfig:
    """``scan_root``: the only tree `POST /scans/path` may read (None disables it).
    ``targets_dir``: Arena target configs a run may name; never inline configs, since a
    ``python`` target imports code and an ``openai`` one reads server environment keys.
    """

    scan_root: Path | None = None
    targets_dir: Path | None = None
    max_upload_bytes: int = 512 * 1024 * 1024
    max_json_bytes: int = 32 * 1024 * 1024
    job_workers: int = 2
