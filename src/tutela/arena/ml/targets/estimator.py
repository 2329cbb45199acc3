"""A scikit-learn-compatible estimator file, answered by a separate worker process.

The parent never deserialises the file: it starts ``tutela.arena.ml.targets.worker`` in
isolated mode (``python -I``), in a private temporary folder, and exchanges only JSON
headers and ``.npy`` arrays with it (:mod:`wire`). Construct it only through
:func:`tutela.arena.ml.targets.resolve.open_target`, which runs the trust gate first.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tutela.arena.ml.targets import wire

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["EstimatorTarget"]


class EstimatorTarget:
    """Batches of rows to a worker that loaded the (gated) estimator file."""

    def __init__(
        self,
        target_id: str,
        path: Path,
        *,
        fmt: str,
        digest: str,
        timeout: float = 120.0,
        load_timeout: float = 300.0,
    ) -> None:
        self.id = target_id
        self.timeout = timeout
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._home = tempfile.TemporaryDirectory(prefix="tutela-worker-")
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "tutela.arena.ml.targets.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=self._home.name,
        )
        try:
            info, _ = self._call(
                {"op": "load", "path": str(path), "format": fmt, "digest": digest},
                timeout=load_timeout,
            )
        except Exception:
            self.close()
            raise
        self.type_name = str(info.get("type", ""))
        self.classes: tuple[str, ...] = tuple(str(c) for c in info.get("classes") or ())
        self.has_proba = bool(info.get("has_proba")) and bool(self.classes)
        names = info.get("feature_names")
        self.feature_names: tuple[str, ...] | None = tuple(names) if names else None

    def _stderr_tail(self) -> str:
        self._stderr.seek(0, 2)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 400))
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1][:200] if lines else ""

    def _call(
        self, header: dict[str, Any], array: Any = None, *, timeout: float | None = None
    ) -> tuple[dict[str, Any], bytes]:
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            wire.write(proc.stdin.fileno(), header, array)
            answer, payload = wire.read(proc.stdout.fileno(), timeout or self.timeout)
        except (OSError, wire.WireError) as exc:
            detail = self._stderr_tail()
            problem = exc.problem if isinstance(exc, wire.WireError) else str(exc)
            raise wire.WireError(problem, subject=self.id, found=detail or None) from None
        if not answer.get("ok"):
            raise wire.WireError(
                f"the model failed: {answer.get('error', 'unknown error')}", subject=self.id
            )
        return answer, payload

    def predict(self, rows: NDArray[np.float64]) -> NDArray[np.str_]:
        import numpy as np

        _, payload = self._call({"op": "predict"}, np.asarray(rows, dtype=np.float64))
        labels: NDArray[np.str_] = wire.decode_array(payload).astype(str).ravel()
        self._check(len(labels), len(rows))
        return labels

    def predict_proba(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        import numpy as np

        _, payload = self._call({"op": "predict_proba"}, np.asarray(rows, dtype=np.float64))
        proba: NDArray[np.float64] = wire.decode_array(payload).astype(np.float64)
        self._check(len(proba), len(rows))
        if proba.ndim != 2 or proba.shape[1] != len(self.classes):
            raise wire.WireError(
                "the model returned probabilities of the wrong shape",
                subject=self.id,
                found=str(proba.shape),
            )
        return proba

    def _check(self, answers: int, rows: int) -> None:
        if answers != rows:
            raise wire.WireError(
                "the model answered the wrong number of rows",
                subject=self.id,
                expected=str(rows),
                found=str(answers),
            )

    def close(self) -> None:
        proc = self._proc
        if proc.poll() is None:
            with contextlib.suppress(wire.WireError):
                self._call({"op": "close"}, timeout=5)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()
        self._home.cleanup()
