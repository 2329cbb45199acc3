"""From what a user names (a file, a target config, an object) to a ready classifier.

Model files pass the trust gate first (:mod:`tutela.arena.ml.trust`), are copied into a
private folder and checked to be the very bytes that were admitted, and only then are
opened: ONNX in this process, pickle / joblib / skops in a worker process.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela.arena.ml.interface import Classifier, MLArenaError

if TYPE_CHECKING:
    from tutela.workspace import Workspace

__all__ = ["OpenedTarget", "file_asset_id", "model_format", "open_target"]

_MAX_MODEL_BYTES = 8 << 30
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class OpenedTarget:
    classifier: Classifier
    asset: str
    kind: str  # estimator | onnx | http | callable
    version_digest: str | None = None
    location: str | None = None
    admission: dict[str, Any] | None = None
    feature_names: tuple[str, ...] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    _cleanup: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        self.classifier.close()
        if self._cleanup is not None:
            self._cleanup.cleanup()


def file_asset_id(path: Path, root: Path | None) -> str:
    """``model:<path relative to the workspace root>`` (or the file name outside it)."""
    resolved = path.absolute()
    name = resolved.name
    if root is not None:
        with contextlib.suppress(ValueError):
            name = resolved.relative_to(root.absolute()).as_posix()
    cleaned = "".join(c if c.isalnum() or c in "._-/+" else "_" for c in name)
    return f"model:{cleaned.lstrip('._-/+') or 'model'}"[:200]


def model_format(path: Path) -> str:
    """pickle, joblib, skops or onnx, from the content (never from the name)."""
    from tutela.filetype.detect import detect

    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    found = detect(head, path.stat().st_size).format
    if found in ("pickle", "joblib", "onnx"):
        return found
    if found == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                if "schema.json" in archive.namelist():
                    return "skops"
        except zipfile.BadZipFile:
            pass
    raise MLArenaError(
        "not a supported model file",
        subject=str(path),
        found=found,
        expected="a pickle, joblib or skops estimator, or an ONNX model",
    )


# skops rebuilds any type its schema names once it is trusted; a clean scan vouches for
# the file's pickles, not for those types, so without a decision only these may appear.
_SKOPS_PREFIXES = ("sklearn.", "numpy.", "scipy.")


def _check_skops_types(path: Path) -> None:
    """Refuse a skops file naming types outside scikit-learn, NumPy and SciPy unless a
    person recorded a trust decision. Reads only its JSON schema; builds nothing."""
    from tutela.arena.ml.interface import ModelRefused

    try:
        skops_io: Any = importlib.import_module("skops.io")
    except ImportError:
        raise MLArenaError("skops files need skops", hint="pip install skops") from None
    try:
        names = [str(t) for t in skops_io.get_untrusted_types(file=path)]
    except Exception as exc:  # a malformed schema is bad input, whatever skops raises
        raise MLArenaError(
            f"unreadable skops file: {exc}".splitlines()[0], subject=str(path)
        ) from None
    odd = sorted(n for n in names if not n.startswith(_SKOPS_PREFIXES))
    if odd:
        raise ModelRefused(
            "refused to load: the skops file names types outside scikit-learn, NumPy and SciPy",
            subject=str(path),
            found=", ".join(odd[:5]),
            hint="if you trust it: `tutela arena ml trust MODEL --reason ...`",
        )


def _load_config(path: Path) -> dict[str, Any]:
    import json

    import yaml

    if path.stat().st_size > 1 << 20:
        raise MLArenaError("target config too large", subject=str(path))
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except Exception as exc:
        raise MLArenaError(
            f"the target config is not valid YAML/JSON: {exc}".splitlines()[0], subject=str(path)
        ) from None
    if not isinstance(loaded, dict) or loaded.get("kind") != "http":
        raise MLArenaError(
            "a target config is a mapping with `kind: http`",
            subject=str(path),
            hint="model files are given directly",
        )
    return loaded


def _open_file(
    path: Path, *, workspace: Workspace | None, asset: str | None, classes: Sequence[str]
) -> OpenedTarget:
    from tutela.arena.ml.targets.estimator import EstimatorTarget
    from tutela.arena.ml.targets.onnx import OnnxTarget
    from tutela.arena.ml.trust import admit
    from tutela.digest import file_digest

    if not path.is_file():
        raise MLArenaError("no such model file", subject=str(path))
    if path.stat().st_size > _MAX_MODEL_BYTES:
        raise MLArenaError("model file too large", subject=str(path))
    fmt = model_format(path)
    root = workspace.layout.root if workspace is not None else None
    asset_id = asset or file_asset_id(path, root)
    digest = file_digest(path).digest
    admission = admit(path, digest, asset=asset_id, workspace=workspace)
    if fmt == "skops" and admission.basis == "scan":
        _check_skops_types(path)
    # Load a private copy, re-hashed: the bytes admitted are the bytes loaded.
    private = tempfile.TemporaryDirectory(prefix="tutela-model-")
    try:
        copy = Path(private.name) / ("model." + fmt)
        shutil.copyfile(path, copy)
        if file_digest(copy).digest != digest:
            raise MLArenaError("the file changed while it was being checked", subject=str(path))
        classifier: Classifier
        names = None
        if fmt == "onnx":
            classifier = OnnxTarget(asset_id, copy, classes=classes)
        else:
            estimator = EstimatorTarget(asset_id, copy, fmt=fmt, digest=digest)
            names = estimator.feature_names
            classifier = estimator
    except BaseException:
        private.cleanup()
        raise
    return OpenedTarget(
        classifier,
        asset_id,
        "onnx" if fmt == "onnx" else "estimator",
        digest,
        str(path),
        admission.to_dict(),
        names,
        {"path": str(path), "format": fmt},
        private,
    )


def open_target(
    model: str | Path | Classifier,
    *,
    workspace: Workspace | None = None,
    asset: str | None = None,
    classes: Sequence[str] = (),
    feature_names: Sequence[str] = (),
) -> OpenedTarget:
    """Open ``model``: a model file, an HTTP target config file, or a classifier object."""
    if not isinstance(model, str | Path):
        return OpenedTarget(
            model, asset or (model.id if ":" in model.id else f"model:{model.id}"), "callable"
        )
    text = str(model)
    if text.startswith(("http://", "https://")):
        raise MLArenaError(
            "an HTTP target is described in a config file",
            subject=text,
            hint="write kind: http, url, body, labels (docs/arena-ml.md)",
        )
    path = Path(text)
    if path.suffix.lower() in _CONFIG_SUFFIXES and path.is_file():
        from tutela.arena.ml.targets.http import HttpTarget
        from tutela.digest import bytes_digest

        config = _load_config(path)
        target = HttpTarget(config, feature_names=feature_names)
        import json

        canonical = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
        asset_id = asset or (target.id if ":" in target.id else f"service:{target.id}")
        return OpenedTarget(
            target, asset_id[:200], "http", bytes_digest(canonical), target.url, config=config
        )
    return _open_file(path, workspace=workspace, asset=asset, classes=classes)
