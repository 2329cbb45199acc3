"""Scanner speed and memory, side by side with ModelScan, picklescan and ModelAudit.

Not a test. Each peer runs from its own venv under bench/.venvs/ (created with
`--setup`, from PyPI), on the same generated files, in the same run; ratios are
peer / tutela. Peak RSS is the child's own (os.wait4), so interpreters are comparable.

    .venv/bin/python bench/scan.py --setup          # once: create the peers' venvs
    .venv/bin/python bench/scan.py [--mb 500] [--repeat 3]

Goals (issue 3): on a 500 MB protocol-4 pickle of numpy arrays, under 1 s wall (hashing
included) and under 64 MB peak RSS; on a 500 MB PyTorch zip, within 1.5x of
`openssl dgst -sha256` on the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
TUTELA = Path(sys.executable).with_name("tutela")
PEERS = {
    "modelscan": ["modelscan", "-p", "{file}", "-r", "json", "-l", "ERROR"],
    "picklescan": ["picklescan", "-p", "{file}"],
    "modelaudit": ["modelaudit", "scan", "{file}", "--no-cache", "--format", "json"],
}
ENV = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}


def setup() -> None:
    for name in PEERS:
        venv = VENVS / name
        if not (venv / "bin" / name).exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", name], check=True)
        version = (
            subprocess.run(
                [str(venv / "bin" / "pip"), "show", name], capture_output=True, text=True
            )
            .stdout.split("Version: ")[1]
            .split()[0]
        )
        print(f"{name} {version} in {venv}")


# The files are written by a child process: this process must stay small, because a
# child's ru_maxrss starts from the RSS of the parent it was forked from.
_MAKE_PICKLE = """
import pickle, sys, numpy as np
rng = np.random.default_rng(0)
arrays = {f"layer{i}.weight": rng.random(1_250_000) for i in range(int(sys.argv[2]) // 10)}
with open(sys.argv[1], "wb") as handle:
    pickle.dump(arrays, handle, protocol=4)
"""
_MAKE_TORCH = """
import sys, torch
state = {f"layer{i}.weight": torch.rand(2_500_000) for i in range(int(sys.argv[2]) // 10)}
torch.save(state, sys.argv[1])
"""


def make(script: str, path: Path, mb: int) -> bool:
    done = subprocess.run([sys.executable, "-c", script, str(path), str(mb)], capture_output=True)
    return done.returncode == 0


def engine_seconds(path: Path) -> float:
    """The scanner's own time for the file (FileReport.seconds), interpreter start excluded."""
    out = subprocess.run(
        [str(TUTELA), "scan", str(path), "--no-record", "--json", "--workers", "0"],
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out)["reports"][0]["seconds"])


def run(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB, exit code of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def best(cmd: list[str], repeat: int) -> tuple[float, float, int]:
    runs = [run(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], help="peers to leave out")
    args = parser.parse_args()
    if args.setup:
        setup()
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        files = {}
        if make(_MAKE_PICKLE, Path(tmp) / "arrays.pkl", args.mb):
            files["pickle-p4-numpy"] = Path(tmp) / "arrays.pkl"
        if make(_MAKE_TORCH, Path(tmp) / "checkpoint.pt", args.mb):
            files["pytorch-zip"] = Path(tmp) / "checkpoint.pt"
        for label, path in files.items():
            size = path.stat().st_size / 1e6
            print(f"\n{label}: {size:,.0f} MB  (best of {args.repeat} wall, max peak RSS)")
            # Warm the page cache so every tool reads from memory alike.
            with path.open("rb") as handle:
                while handle.read(1 << 24):
                    pass
            rows: list[tuple[str, float, float, int]] = []
            ours = [str(TUTELA), "scan", str(path), "--no-record", "--json", "--workers", "0"]
            rows.append(("tutela CLI (scan + sha256)", *best(ours, args.repeat)))
            if shutil.which("openssl"):
                rows.append(
                    (
                        "openssl dgst -sha256",
                        *best(["openssl", "dgst", "-sha256", str(path)], args.repeat),
                    )
                )
            for name, template in PEERS.items():
                exe = VENVS / name / "bin" / name
                if name in args.skip or not exe.exists():
                    continue
                cmd = [str(exe)] + [part.format(file=path) for part in template[1:]]
                rows.append((name, *best(cmd, 1 if name == "modelaudit" else args.repeat)))
            engine = min(engine_seconds(path) for _ in range(args.repeat))
            rows.insert(1, ("tutela engine (in-process)", engine, float("nan"), 0))
            base_wall, base_rss = rows[0][1], rows[0][2]
            print(
                f"{'tool':26} {'wall s':>8} {'peak MB':>8} {'exit':>5} {'wall/ours':>10} {'RSS/ours':>9}"
            )
            for name, wall, rss, code in rows:
                print(
                    f"{name:26} {wall:8.2f} {rss:8.0f} {code:5d} {wall / base_wall:10.2f} {rss / base_rss:9.2f}"
                )


if __name__ == "__main__":
    main()
