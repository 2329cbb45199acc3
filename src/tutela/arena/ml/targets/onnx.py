"""An ONNX classifier through onnxruntime (CPU), such as skl2onnx exports.

ONNX is a data format, not code, so it runs in this process; the trust gate still
applies (the file is scanned first). The label output is the first integer or string
tensor; the probability output is a float tensor ``[N, classes]`` or skl2onnx's
``ZipMap`` (a sequence of maps, whose keys name the classes).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela.arena.ml.interface import MLArenaError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["OnnxTarget"]


class OnnxTarget:
    def __init__(self, target_id: str, path: Path, *, classes: Sequence[str] = ()) -> None:
        try:
            onnxruntime = importlib.import_module("onnxruntime")
        except ImportError:
            raise MLArenaError(
                "ONNX models need onnxruntime", hint="pip install 'tutela[ml]'"
            ) from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for bad graphs
            raise MLArenaError(
                f"onnxruntime cannot load the model: {exc}".splitlines()[0], subject=str(path)
            ) from None
        self.id = target_id
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise MLArenaError(
                "expected one input tensor", subject=str(path), found=str(len(inputs))
            )
        self._input = inputs[0].name
        self._dtype = "float64" if "double" in inputs[0].type else "float32"
        self._label: str | None = None
        self._proba: str | None = None
        for out in self._session.get_outputs():
            kind = str(out.type)
            if self._proba is None and (
                "map" in kind or kind == "tensor(float)" or kind == "tensor(double)"
            ):
                self._proba = out.name
            elif self._label is None and kind in (
                "tensor(int64)",
                "tensor(string)",
                "tensor(int32)",
            ):
                self._label = out.name
        if self._label is None and self._proba is None:
            raise MLArenaError("no label or probability output", subject=str(path))
        self.classes: tuple[str, ...] = tuple(str(c) for c in classes)
        self.has_proba = self._proba is not None
        if self._proba is not None and not self.classes:
            self._learn_classes()

    def _run(self, rows: NDArray[np.float64]) -> dict[str, Any]:
        import numpy as np

        feed = {self._input: np.asarray(rows, dtype=self._dtype)}
        try:
            values = self._session.run(None, feed)
        except Exception as exc:
            raise MLArenaError(
                f"onnxruntime failed: {exc}".splitlines()[0], subject=self.id
            ) from None
        names = [o.name for o in self._session.get_outputs()]
        return dict(zip(names, values, strict=True))

    def _learn_classes(self) -> None:
        """ZipMap keys name the classes; a plain tensor needs the class list given."""
        import numpy as np

        out = self._run(np.zeros((1, self._width()), dtype=np.float64))[self._proba or ""]
        if isinstance(out, list) and out and isinstance(out[0], dict):
            self.classes = tuple(str(k) for k in out[0])
        else:
            self.has_proba = False  # probabilities without names cannot be ordered

    def _width(self) -> int:
        shape = self._session.get_inputs()[0].shape
        width = shape[-1] if shape else None
        if not isinstance(width, int):
            raise MLArenaError(
                "the input width is not fixed; give the classes explicitly", subject=self.id
            )
        return width

    def predict_proba(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        import numpy as np

        if self._proba is None:
            raise MLArenaError("this model gives labels only", subject=self.id)
        out = self._run(rows)[self._proba]
        if isinstance(out, list):
            keys = list(out[0]) if out else []
            order = [keys[[str(k) for k in keys].index(c)] for c in self.classes]
            return np.array([[m[k] for k in order] for m in out], dtype=np.float64)
        return np.asarray(out, dtype=np.float64).reshape(len(rows), -1)

    def predict(self, rows: NDArray[np.float64]) -> NDArray[np.str_]:
        import numpy as np

        if self._label is None:
            best: NDArray[np.str_] = np.asarray(self.classes)[
                self.predict_proba(rows).argmax(axis=1)
            ]
            return best
        labels: NDArray[np.str_] = np.asarray(self._run(rows)[self._label]).astype(str).ravel()
        return labels

    def close(self) -> None:
        return None
