"""`tutela monitor profile|drift|report|windows` end to end, through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine
from typer.testing import CliRunner as TyperRunner
from typer.testing import Result

from tutela.catalog.evidence import list_evidence
from tutela.cli.main import app, run
from tutela.workspace import Workspace


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The console entry point in process: exit code, stdout, stderr (errors are one line)."""
    try:
        run(list(args))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 0
    else:
        code = 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _run(*args: str, workspace: Path) -> Result:
    """In process (fast) against the workspace's own database, sqlite or postgres."""
    return TyperRunner().invoke(app, [*args, "--workspace", str(workspace)])


def _tables(tmp: Path) -> tuple[Path, Path, Path]:
    frame = load_wine(as_frame=True).frame
    frame["cultivar"] = np.char.add("c", frame["target"].to_numpy().astype(str))
    frame = frame.drop(columns=["target"])
    order = np.random.default_rng(0).permutation(len(frame))
    ref, cur = frame.iloc[order[:89]], frame.iloc[order[89:]].copy()
    same = tmp / "same.csv"
    cur.to_csv(same, index=False)
    cur["alcohol"] = cur["alcohol"] + 1.5 * ref["alcohol"].std()
    ref_path, drifted = tmp / "reference.parquet", tmp / "current.jsonl"
    ref.to_parquet(ref_path)
    cur.to_json(drifted, orient="records", lines=True)
    return ref_path, same, drifted


def test_drift_json_lists_every_column_and_exits_1_on_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUTELA_WORKSPACE", raising=False)
    ref, same, drifted = _tables(tmp_path)
    code, out, err = _main(capsys, "monitor", "drift", str(ref), str(drifted), "--json")
    assert code == 1, err
    body = json.loads(out)
    assert body["drifted"] is True and body["drifted_columns"] == ["alcohol"]
    assert len(body["columns"]) == 14
    for col in body["columns"]:
        assert {"column", "effect", "low", "high", "drifted", "metrics"} <= set(col)
        assert col["low"] <= col["effect"] <= col["high"]
    code, out, err = _main(capsys, "monitor", "drift", str(ref), str(same), "--json")
    assert code == 0, err
    assert json.loads(out)["drifted"] is False and json.loads(out)["evidence_id"] is None
    code, out, err = _main(
        capsys,
        "monitor",
        "drift",
        str(ref),
        str(drifted),
        "--min-effect",
        "alcohol=5",
        "--columns",
        "alcohol,magnesium",
    )
    assert code == 0, out + err
    assert "no drift" in out


def test_profiles_windows_report_and_evidence_in_a_workspace(workspace: Workspace) -> None:
    root = workspace.layout.root
    ref, same, drifted = _tables(root)
    for path, window in ((ref, "w0"), (same, "w1"), (drifted, "w2")):
        done = _run(
            "monitor",
            "profile",
            str(path),
            "--asset",
            "model:wine",
            "--window",
            window,
            "--json",
            workspace=root,
        )
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["profile_bytes"] < 20_000
    listed = json.loads(_run("monitor", "windows", "--json", workspace=root).stdout)
    assert [w["window"] for w in listed] == ["w0", "w1", "w2"]
    compared = _run(
        "monitor",
        "drift",
        f"window:{listed[0]['id']}",
        f"window:{listed[2]['id']}",
        "--asset",
        "model:wine",
        "--json",
        workspace=root,
    )
    assert compared.exit_code == 1 and json.loads(compared.stdout)["evidence_id"]
    out = root / "report.html"
    report = _run(
        "monitor", "report", "--asset", "model:wine", "-o", str(out), "--json", workspace=root
    )
    assert report.exit_code == 0, report.output
    body = json.loads(report.stdout)
    assert [r["drifted"] for r in body["reports"]] == [False, True]
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") >= 28
    assert "<script" not in page and "https://" not in page
    evidence = list_evidence(workspace, asset_id="model:wine", kind="drift")
    producers = sorted(e.producer for e in evidence)
    assert producers == ["monitor.drift"] + ["monitor.profile"] * 3
    assert workspace.verify().ok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["monitor", "drift", "missing.csv", "missing.csv"], "no such file"),
        (["monitor", "drift", "a.txt", "a.txt"], "unsupported table format"),
        (["monitor", "drift", "ok.csv", "ok.csv", "--min-effect", "x"], "bad --min-effect"),
        (["monitor", "drift", "ok.csv", "ok.csv", "--columns", "nope"], "no such column"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUTELA_WORKSPACE", raising=False)
    pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "ok.csv", index=False)
    (tmp_path / "a.txt").write_text("x\n1\n")
    code, out, err = _main(capsys, *args)
    assert code == 2, out + err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_real_console_script_runs_a_comparison(tmp_path: Path, cli: Callable[..., Any]) -> None:
    ref, same, _ = _tables(tmp_path)
    result = cli("monitor", "drift", str(ref), str(same), cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "no drift" in result.stdout
