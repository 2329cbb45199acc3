"""The estimator worker: the only process that ever deserialises an estimator file.

Started by :class:`tutela.arena.ml.targets.estimator.EstimatorTarget` as
``python -I -m tutela.arena.ml.targets.worker`` only after the trust gate passed
(a clean scan or a recorded trust decision). It speaks :mod:`wire` over its standard
input and a private duplicate of its standard output; file descriptor 1 is then pointed
at standard error, so anything the model prints cannot corrupt the protocol.

Requests: ``{"op": "load", "path", "format", "digest"}``, then any number of
``{"op": "predict"}`` / ``{"op": "predict_proba"}`` with a float64 array, then
``{"op": "close"}``. Every answer is ``{"ok": true, ...}`` (plus an array) or
``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from tutela.arena.ml.targets import wire


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return "sha256:" + sha.hexdigest()


def _load(path: Path, fmt: str) -> Any:
    # Reached only after the parent's trust gate; see docs/arena-ml.md, "Trust gate".
    if fmt == "skops":
        skops_io: Any = importlib.import_module("skops.io")
        # The gate already vouched for the file; skops' own list is the types it would
        # otherwise refuse.
        return skops_io.load(path, trusted=skops_io.get_untrusted_types(file=path))
    if fmt == "joblib":
        return importlib.import_module("joblib").load(path)
    import pickle

    with path.open("rb") as fh:
        return pickle.load(fh)  # noqa: S301 (trusted by the gate; isolated process)


def _info(model: Any) -> dict[str, Any]:
    import numpy as np

    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"{type(model).__name__} has no predict method")
    classes = getattr(model, "classes_", None)
    names = getattr(model, "feature_names_in_", None)
    return {
        "ok": True,
        "type": f"{type(model).__module__}.{type(model).__qualname__}",
        "classes": [] if classes is None else [str(c) for c in np.asarray(classes).ravel()],
        "has_proba": callable(getattr(model, "predict_proba", None)),
        "n_features": getattr(model, "n_features_in_", None),
        "feature_names": None if names is None else [str(n) for n in names],
    }


def _answer(model: Any, op: str, rows: Any) -> Any:
    import numpy as np

    if op == "predict":
        return np.asarray(model.predict(rows)).astype(str)
    if op == "predict_proba":
        return np.asarray(model.predict_proba(rows), dtype=np.float64)
    raise ValueError(f"unknown request {op!r}")


def serve(fd_in: int, fd_out: int) -> int:
    model: Any = None
    while True:
        try:
            header, payload = wire.read(fd_in)
        except wire.WireError:
            return 0  # the parent went away
        op = header.get("op")
        try:
            if op == "close":
                wire.write(fd_out, {"ok": True})
                return 0
            if op == "load":
                path = Path(str(header["path"]))
                if _digest(path) != header["digest"]:
                    raise ValueError("the file changed after it was checked")
                model = _load(path, str(header["format"]))
                wire.write(fd_out, _info(model))
                continue
            if model is None:
                raise ValueError("no model loaded")
            result = _answer(model, str(op), wire.decode_array(payload))
            wire.write(fd_out, {"ok": True}, result)
        except Exception as exc:  # any model failure is reported, the worker stays up
            text = f"{type(exc).__name__}: {exc}"
            wire.write(fd_out, {"ok": False, "error": text.splitlines()[0][:500]})


def main() -> int:
    fd_out = os.dup(1)
    os.dup2(2, 1)  # prints from the model go to stderr, never into the protocol
    sys.stdout = sys.stderr
    return serve(0, fd_out)


if __name__ == "__main__":
    raise SystemExit(main())
