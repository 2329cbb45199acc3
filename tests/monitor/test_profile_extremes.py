"""Values beyond what a profile holds (float32's range) count as missing, like infinities.

A finite float64 such as 1e300 used to become an infinity in the float32 sketch and
overflow the moments, so storing the profile failed in JSON or in the ledger.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import tutela.monitor as monitor
from tutela.monitor.profile import VALUE_LIMIT, NumericProfile, TableProfile
from tutela.monitor.storage import list_windows, load_window
from tutela.workspace import Workspace


def _write_csv(path: Path, column: list[float], n: int = 200) -> Path:
    rng = np.random.default_rng(1)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["a", "b"])
        for i in range(n):
            out.writerow([repr(column[i]), float(rng.normal())])
    return path


def test_out_of_range_values_count_as_missing_and_profile_round_trips() -> None:
    profile = NumericProfile()
    values = np.array([1.0, 2.0, 1e300, -1e300, 3e38, np.nan, np.inf, -np.inf, 1e39])
    profile.update(values, missing=1)
    assert profile.count == 10
    assert profile.missing == 1 + 6  # 1e300, -1e300, nan, inf, -inf, 1e39
    assert profile.moments.n == 3  # 1.0, 2.0 and 3e38 (inside float32's range)
    assert profile.moments.mean == (1.0 + 2.0 + 3e38) / 3
    assert all(np.isfinite([profile.moments.m2, profile.moments.m3, profile.moments.m4]))
    assert profile.quantiles(np.array([1.0]))[0] == np.float32(3e38)
    assert 3e38 <= VALUE_LIMIT < 1e39

    table = TableProfile(rows=10, columns={"x": profile})
    back = TableProfile.from_bytes(table.to_bytes()).columns["x"]
    assert isinstance(back, NumericProfile)
    assert (back.count, back.missing, back.moments.n) == (10, 7, 3)


def test_sdk_log_with_huge_values_stores_a_window(workspace: Workspace) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=100)
    x[::25] = 1e300
    monitor.log(
        "extremes",
        pd.DataFrame({"x": x, "y": rng.normal(size=100)}),
        workspace=workspace,
        window_rows=100,
    )
    windows = list_windows(workspace, "model:extremes")
    assert len(windows) == 1 and windows[0].rows == 100
    profile, _ = load_window(workspace, windows[0].evidence_id)
    col = profile.columns["x"]
    assert isinstance(col, NumericProfile)
    assert (col.count, col.missing) == (100, 4)
    assert abs(col.moments.mean - float(np.mean(x[x < 1e300]))) < 1e-12
    report = workspace.verify()
    assert report.ok, report.problems


def test_cli_profile_and_drift_on_a_csv_with_1e300(tmp_path: Path, cli: Callable[..., Any]) -> None:
    rng = np.random.default_rng(2)
    normal = [float(v) for v in rng.normal(size=200)]
    ref = _write_csv(tmp_path / "ref.csv", normal)
    some = _write_csv(
        tmp_path / "some.csv", [1e300 if i % 50 == 0 else v for i, v in enumerate(normal)]
    )
    every = _write_csv(tmp_path / "every.csv", [1e300] * 200)
    assert cli("init", cwd=tmp_path).code == 0

    for path in (some, every):
        result = cli("monitor", "profile", str(path), "--asset", "model:huge", cwd=tmp_path)
        assert result.code == 0, result.stderr
        assert "Traceback" not in result.stderr

    result = cli("monitor", "drift", str(ref), str(some), "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr + result.stdout
    columns = {c["column"]: c for c in json.loads(result.stdout)["columns"]}
    assert columns["a"]["n_current"] == 196 and columns["a"]["missing_current"] == 0.02

    # Every value out of range: the column is all missing, which the missing-rate test flags.
    result = cli("monitor", "drift", str(ref), str(every), "--json", cwd=tmp_path)
    assert result.code == 1, result.stderr + result.stdout
    body = json.loads(result.stdout)
    columns = {c["column"]: c for c in body["columns"]}
    assert body["drifted"] and "a" in body["drifted_columns"]
    assert columns["a"]["n_current"] == 0 and columns["a"]["high"] is None
    assert columns["a"]["missing_current"] == 1.0

    verify = cli("ledger", "verify", cwd=tmp_path)
    assert verify.code == 0, verify.stderr + verify.stdout
