"""Benchmark the static pickle engine: analyse + hash vs hashing alone.

Generates (in a temp dir) a ~500 MB protocol-4 pickle of numpy arrays and a ~50 MB
pickle of many small objects, then prints wall time and peak RSS of each step. Run it
in a fresh process per variant so ru_maxrss reflects that step alone:

    python bench/pickle_engine.py [arrays|objects|all]
"""

from __future__ import annotations

import hashlib
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _make(kind: str, path: Path) -> None:
    import numpy as np

    with path.open("wb") as fh:
        if kind == "arrays":
            rng = np.random.default_rng(0)
            arrays = {f"layer{i}": rng.random((1024, 1024 * 2)) for i in range(30)}  # 30 x 16 MiB
            pickle.dump(arrays, fh, protocol=4)
        else:
            rows = [
                {"id": i, "name": f"item-{i}", "score": i * 0.5, "tags": ["a", "b"], "ok": True}
                for i in range(1_000_000)
            ]
            pickle.dump(rows, fh, protocol=4)  # ~50 MB, ~20 M opcodes


def _measure(mode: str, path: Path) -> None:
    from tutela.scan.interface import Limits
    from tutela.scan.pickle import ByteSource, analyze_pickle

    start = time.perf_counter()
    if mode == "hash":
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        extra = ""
    else:
        h = hashlib.sha256()
        with ByteSource.from_path(path, hasher=h) as src:
            result = analyze_pickle(src, member=None, limits=Limits())
            src.finish()
        digest = h.hexdigest()
        above = sorted({f.rule_id for f in result.findings if f.severity > 0})
        extra = f" pickles={result.pickles} findings>info={above}"
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{mode:8s} {path.stat().st_size / 1e6:8.1f} MB  {wall:7.3f} s  peak RSS {rss:6.1f} MiB"
        f"  sha256 {digest[:12]}{extra}"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        _measure(sys.argv[2], Path(sys.argv[3]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--make":
        _make(sys.argv[2], Path(sys.argv[3]))
        return
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    kinds = ["arrays", "objects"] if which == "all" else [which]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            path = Path(tmp) / f"{kind}.pkl"
            # Generate in a child too: ru_maxrss survives fork+exec, so the measuring
            # processes must be spawned from a parent that never held the data.
            subprocess.run([sys.executable, __file__, "--make", kind, str(path)], check=True)
            print(f"-- {kind}")
            for mode in ("hash", "analyze"):
                subprocess.run([sys.executable, __file__, "--measure", mode, str(path)], check=True)
            path.unlink()


if __name__ == "__main__":
    main()
