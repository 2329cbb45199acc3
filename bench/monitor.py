"""Benchmark drift detection: Tutela vs Evidently vs NannyML vs a numpy/scipy floor.

Not a test. Run: .venv/bin/python bench/monitor.py [--rows 1000000] [--skip-peers]
                 [--sizes 1000,100000,1000000] [--seeds 20,10,3]

One 1,000,000-row x 25-column reference and current table: 6 material drifts (0.2-sigma
mean shifts, a 1.2x scale, a changed 20-level category, 10% new missing values), 6 trivially
small ones (0.01-sigma shifts) and 13 unchanged columns (heavy tails, categories with 5,
20, 100 and 1000 levels). Each tool runs in its own subprocess, so its peak RSS is its own:
wall time, peak RSS and the columns it flagged. Then Tutela alone over sizes and seeds:
material drifts flagged, trivial ones flagged, unchanged column-windows flagged.

Goals (issue 8): >= 20x faster than Evidently (<= 8 s), <= 0.6 GB peak RSS, a stored
reference profile < 200 KB, ingest >= 200,000 rows/s.

Peers live in their own venvs (bench/.venvs/evidently, bench/.venvs/nannyml); missing ones
are created with pip (or, with --no-install, skipped with the commands to create them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
PEERS = {
    # Evidently 0.7 imports with pandas 2.2; NannyML 0.13 is tested against pandas < 2.3.
    "evidently": ["evidently==0.7.23", "pandas<2.3", "pyarrow"],
    "nannyml": ["nannyml==0.13.1", "pandas<2.3", "pyarrow", "statsmodels"],
}

MATERIAL = ["m_mean", "m_scale", "m_cat20", "m_skew_mean", "m_int_mean", "m_missing"]
TRIVIAL = ["t_normal", "t_uniform", "t_gamma", "t_student", "t_lognormal", "t_beta"]
UNCHANGED = [
    "u_normal",
    "u_student3",
    "u_pareto",
    "u_lognormal",
    "u_exponential",
    "u_uniform",
    "u_bimodal",
    "u_poisson",
    "u_cat5",
    "u_cat20",
    "u_cat100",
    "u_cat1000",
    "u_bool",
]
CATEGORICAL = {"m_cat20", "u_cat5", "u_cat20", "u_cat100", "u_cat1000", "u_bool"}


def make_tables(rows: int, seed: int) -> tuple[Any, Any]:
    """Reference and current pyarrow tables with the planted drifts."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)

    def cats(levels: int, p: Any = None) -> Any:
        idx = rng.choice(levels, rows, p=p)
        return pa.array(np.char.add("L", idx.astype(str))).dictionary_encode()

    def zipf_p(levels: int) -> Any:
        w = 1.0 / np.arange(1, levels + 1) ** 1.1
        return w / w.sum()

    p20 = np.full(20, 1 / 20)
    p20_new = np.linspace(0.4, 1.6, 20)
    p20_new /= p20_new.sum()
    ln_sd = float(np.sqrt((np.e - 1) * np.e))  # std of lognormal(0, 1)
    out = []
    for current in (False, True):

        def d(x: float) -> float:
            return x if current else 0.0  # noqa: B023 - evaluated immediately

        cols: dict[str, Any] = {
            "m_mean": rng.normal(d(0.2), 1, rows),
            "m_scale": rng.normal(0, 1.2 if current else 1.0, rows),
            "m_cat20": cats(20, p20_new if current else p20),
            "m_skew_mean": rng.lognormal(0, 1, rows) + d(0.2 * ln_sd),
            "m_int_mean": rng.poisson(25.0 + d(1.0), rows).astype(np.int64),
            "t_normal": rng.normal(d(0.01), 1, rows),
            "t_uniform": rng.uniform(0, 1, rows) + d(0.01 / np.sqrt(12)),
            "t_gamma": rng.gamma(2.0, 1.0, rows) + d(0.01 * np.sqrt(2)),
            "t_student": rng.standard_t(5, rows) + d(0.01 * np.sqrt(5 / 3)),
            "t_lognormal": rng.lognormal(0, 0.5, rows) + d(0.01 * 0.604),
            "t_beta": rng.beta(2, 5, rows) + d(0.01 * 0.16),
            "u_normal": rng.normal(0, 1, rows),
            "u_student3": rng.standard_t(3, rows),
            "u_pareto": rng.pareto(2.5, rows),
            "u_lognormal": rng.lognormal(0, 1.5, rows),
            "u_exponential": rng.exponential(1.0, rows),
            "u_uniform": rng.uniform(-1, 1, rows),
            "u_bimodal": np.where(
                rng.random(rows) < 0.3, rng.normal(-2, 0.5, rows), rng.normal(1, 1, rows)
            ),
            "u_poisson": rng.poisson(3.0, rows).astype(np.int64),
            "u_cat5": cats(5, np.array([0.4, 0.3, 0.15, 0.1, 0.05])),
            "u_cat20": cats(20),
            "u_cat100": cats(100, zipf_p(100)),
            "u_cat1000": cats(1000, zipf_p(1000)),
            "u_bool": pa.array(rng.random(rows) < 0.3),
        }
        missing = rng.normal(0, 1, rows)
        if current:
            missing[rng.random(rows) < 0.10] = np.nan
        cols["m_missing"] = pa.array(missing, from_pandas=True)
        out.append(pa.table({name: cols[name] for name in MATERIAL + TRIVIAL + UNCHANGED}))
    return out[0], out[1]


# --------------------------------------------------------------------------- workers


def worker_tutela(ref: str, cur: str) -> dict[str, Any]:
    """What `tutela monitor drift REF CUR` does: profile both sides, then compare."""
    from tutela.monitor.drift import DriftConfig, compare
    from tutela.monitor.sources import load_pair

    start, cpu = time.perf_counter(), time.process_time()
    reference, current = load_pair(ref, cur, None)
    ingest, ingest_cpu = time.perf_counter() - start, time.process_time() - cpu
    report = compare(reference, current, DriftConfig())
    rows = reference.rows + current.rows
    return {
        "compute_s": time.perf_counter() - start,
        "flagged": report.drifted_columns,
        "dataset": report.drifted,
        "ingest_rows_s": rows / ingest,
        "ingest_rows_cpu_s": rows / ingest_cpu,
        "profile_bytes": len(reference.to_bytes()),
    }


def worker_evidently(ref: str, cur: str) -> dict[str, Any]:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    start = time.perf_counter()
    reference, current = pd.read_parquet(ref), pd.read_parquet(cur)
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    flagged, dataset = [], False
    for metric in snapshot.dict()["metrics"]:
        config, value = metric["config"], metric["value"]
        if config["type"].endswith("DriftedColumnsCount"):
            dataset = value["share"] >= config["drift_share"]
        elif config["type"].endswith("ValueDrift"):
            is_p = "p_value" in config["method"]
            hit = value < config["threshold"] if is_p else value >= config["threshold"]
            if hit:
                flagged.append(config["column"])
    return {"compute_s": time.perf_counter() - start, "flagged": flagged, "dataset": dataset}


def worker_nannyml(ref: str, cur: str) -> dict[str, Any]:
    import nannyml as nml
    import pandas as pd

    start = time.perf_counter()
    reference, current = pd.read_parquet(ref), pd.read_parquet(cur)
    columns = list(reference.columns)
    calc = nml.UnivariateDriftCalculator(
        column_names=columns, treat_as_categorical=sorted(CATEGORICAL)
    )
    calc.fit(reference)
    result = calc.calculate(current).filter(period="analysis")
    frame = result.to_df()
    flagged = []
    for column in columns:
        alerts = frame[column].xs("alert", axis=1, level=-1)
        if bool(alerts.to_numpy().any()):
            flagged.append(column)
    return {"compute_s": time.perf_counter() - start, "flagged": flagged}


def worker_floor(ref: str, cur: str) -> dict[str, Any]:
    """Plain numpy/scipy: exact two-sample KS for numbers, chi-square for categories."""
    import numpy as np
    import pyarrow.parquet as pq
    from scipy import stats

    start = time.perf_counter()
    a, b = pq.read_table(ref), pq.read_table(cur)
    flagged = []
    for name in a.column_names:
        if name in CATEGORICAL:
            x = a[name].to_pandas().astype(str).value_counts()
            y = b[name].to_pandas().astype(str).value_counts()
            keys = sorted(set(x.index) | set(y.index))
            table = np.array([[x.get(k, 0) for k in keys], [y.get(k, 0) for k in keys]])
            p = stats.chi2_contingency(table)[1]
        else:
            x = a[name].to_numpy(zero_copy_only=False).astype(float)
            y = b[name].to_numpy(zero_copy_only=False).astype(float)
            p = stats.ks_2samp(x[np.isfinite(x)], y[np.isfinite(y)], method="asymp").pvalue
        if p < 0.05:
            flagged.append(name)
    return {"compute_s": time.perf_counter() - start, "flagged": flagged}


WORKERS = {
    "tutela": worker_tutela,
    "evidently": worker_evidently,
    "nannyml": worker_nannyml,
    "floor": worker_floor,
}


# --------------------------------------------------------------------------- driver


def ensure_venv(name: str, install: bool) -> Path | None:
    python = VENVS / name / "bin" / "python"
    if python.exists():
        return python
    commands = [
        f"python3 -m venv {VENVS / name}",
        f"{python} -m pip install " + " ".join(f"'{p}'" for p in PEERS[name]),
    ]
    if not install:
        print(f"[{name}] venv missing; create it with:\n  " + "\n  ".join(commands))
        return None
    print(f"[{name}] creating {VENVS / name} ...", flush=True)
    subprocess.run(["python3", "-m", "venv", str(VENVS / name)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS[name]], check=True)
    return python


def run_tool(python: str, tool: str, ref: Path, cur: Path, timeout: float) -> dict[str, Any]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, str(Path(__file__).resolve()), "--worker", tool, str(ref), str(cur)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"tool": tool, "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"tool": tool, "error": err.strip().splitlines()[-1] if err.strip() else "failed"}
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result.update({"tool": tool, "wall_s": wall})
    return result


def worker_main(tool: str, ref: str, cur: str) -> None:
    import resource

    result = WORKERS[tool](ref, cur)
    # The driver stays small (it never holds the tables), so the peak inherited across
    # fork+exec is the driver's ~30 MB and this is the tool's own peak.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    # CPU seconds (user + system) are the fairer clock on a shared, loaded host.
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(result))


def score(flagged: list[str]) -> str:
    f = set(flagged)
    return (
        f"material {len(f & set(MATERIAL))}/6, trivial {len(f & set(TRIVIAL))}/6, "
        f"unchanged {len(f & set(UNCHANGED))}/13"
    )


def write_tables(rows: int, folder: str) -> None:
    import pyarrow.parquet as pq

    a, b = make_tables(rows, seed=2026)
    pq.write_table(a, Path(folder) / "reference.parquet")
    pq.write_table(b, Path(folder) / "current.parquet")


def head_to_head(rows: int, install: bool, skip_peers: bool, timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix="tutela-bench-monitor-") as tmp:
        ref, cur = Path(tmp) / "reference.parquet", Path(tmp) / "current.parquet"
        # Written by a child: Linux keeps ru_maxrss across fork+exec, so a parent holding
        # the tables would lend its own peak to every tool measured after it.
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--make", str(rows), tmp], check=True
        )
        print(f"\n## {rows:,} rows x 25 columns, one run per tool (own subprocess)\n")
        tools: list[tuple[str, str]] = [("tutela", sys.executable), ("floor", sys.executable)]
        if not skip_peers:
            for peer in PEERS:
                python = ensure_venv(peer, install)
                if python is not None:
                    tools.append((peer, str(python)))
        results = [run_tool(python, tool, ref, cur, timeout) for tool, python in tools]
    print("| tool | wall s | compute s | CPU s | peak RSS MB | flagged | dataset drift |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print(f"| {r['tool']} | - | - | - | - | error: {r['error']} | - |")
            continue
        print(
            f"| {r['tool']} | {r['wall_s']:.1f} | {r['compute_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {score(r['flagged'])} | {r.get('dataset', '-')} |"
        )
    for r in results:
        if "flagged" in r:
            print(f"- {r['tool']} flagged: {', '.join(sorted(r['flagged'])) or 'nothing'}")
    tut = next((r for r in results if r["tool"] == "tutela" and "error" not in r), None)
    ev = next((r for r in results if r["tool"] == "evidently" and "error" not in r), None)
    if tut:
        print(
            f"\nTutela: reference profile {tut['profile_bytes'] / 1024:.0f} KB, "
            f"ingest {tut['ingest_rows_s']:,.0f} rows/s wall (both tables side by side), "
            f"{tut['ingest_rows_cpu_s']:,.0f} rows per CPU-second (reading parquet + profiling)"
        )
        if ev:
            print(
                f"Speed-up over Evidently: {ev['wall_s'] / tut['wall_s']:.1f}x wall, "
                f"{ev['cpu_s'] / tut['cpu_s']:.1f}x CPU"
            )


def over_sizes(sizes: list[int], seeds: list[int]) -> None:
    from tutela.monitor.drift import DriftConfig, compare
    from tutela.monitor.ingest import profile_batches

    print("\n## Tutela over sizes and seeds (each seed window 1 of its own stream)\n")
    print(
        "| rows | seeds | material flagged | trivial flagged | unchanged column-windows "
        "flagged | s per comparison |"
    )
    print("|---|---|---|---|---|---|")
    for rows, count in zip(sizes, seeds, strict=True):
        hits = {"m": 0, "t": 0, "u": 0}
        spent = 0.0
        for seed in range(count):
            a, b = make_tables(rows, seed)
            start = time.perf_counter()
            report = compare(
                profile_batches(a.to_batches(262_144)),
                profile_batches(b.to_batches(262_144)),
                DriftConfig(seed=seed),
            )
            spent += time.perf_counter() - start
            for name in report.drifted_columns:
                hits[name[0]] += 1
        print(
            f"| {rows:,} | {count} | {hits['m']}/{6 * count} | {hits['t']}/{6 * count} | "
            f"{hits['u']}/{13 * count} ({hits['u'] / (13 * count):.1%}) | "
            f"{spent / count:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=3, metavar=("TOOL", "REF", "CUR"))
    parser.add_argument("--make", nargs=2, metavar=("ROWS", "DIR"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--seeds", default="20,10,3")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-sizes", action="store_true")
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    if args.worker:
        worker_main(*args.worker)
        return
    if args.make:
        write_tables(int(args.make[0]), args.make[1])
        return
    head_to_head(args.rows, not args.no_install, args.skip_peers, args.timeout)
    if not args.skip_sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
        seeds = [int(s) for s in args.seeds.split(",")]
        over_sizes(sizes, seeds)


if __name__ == "__main__":
    main()
