"""Discovery throughput over a large tree of small files, beside `cyclonedx-py environment`.

Not a test. Run: .venv/bin/python bench/discover.py [--tree PATH] [--repeat 3]
Default tree: this venv's site-packages (tens of thousands of small files). The peer,
PyPI `cyclonedx-bom`, runs from bench/.venvs/cyclonedx-bom (created on first use) on the
same venv; it reads distribution metadata only, so it is a reference, not a like-for-like.
Goal (issue 4): >= 20,000 files/s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE / ".venvs" / "cyclonedx-bom"


def ensure_peer() -> Path:
    exe = PEER / "bin" / "cyclonedx-py"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER)], check=True)
        subprocess.run([str(PEER / "bin" / "pip"), "install", "-q", "cyclonedx-bom"], check=True)
    return exe


def count_files(tree: Path) -> int:
    return sum(1 for p in tree.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    from tutela.inventory.discover import DiscoverOptions, discover

    files = count_files(args.tree)
    best = float("inf")
    inv = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        inv = discover(args.tree, DiscoverOptions(include_ignored=True, workers=args.workers))
        best = min(best, time.perf_counter() - start)
    assert inv is not None
    from tutela.inventory.walk import walk

    visited = sum(1 for _ in walk(str(args.tree), include_ignored=True, problems=[]))
    print(f"tree: {args.tree} ({files:,} files, {visited:,} visited; caches are skipped)")
    print(
        f"tutela discover  {best:6.2f} s  {files / best:10,.0f} files/s of the tree, "
        f"{visited / best:,.0f} visited files/s  {len(inv.items):,} items"
    )
    exe = ensure_peer()
    venv = Path(sys.prefix)
    peer_best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [str(exe), "environment", str(venv / "bin" / "python"), "-o", "/dev/null"],
            capture_output=True,
        )
        peer_best = min(peer_best, time.perf_counter() - start)
    print(
        f"cyclonedx-py environment  {peer_best:6.2f} s  {files / peer_best:10,.0f} files/s "
        f"(exit {done.returncode}; reads metadata only)"
    )
    print(f"ratio peer/tutela wall time: {peer_best / best:.2f}")


if __name__ == "__main__":
    main()
