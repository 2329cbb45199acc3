"""HDF5 files: legacy Keras models (``model_config`` attribute) and weight files.

h5py reads attributes without executing anything stored in the file. The only thing a
Keras HDF5 file can make a loader run is its model configuration (Lambda layers with
marshalled bytecode, references to custom modules), which is checked with the Keras
rules under the ``hdf5.`` namespace.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

from tutela.scan.formats.interface import FormatScanner, RuleInfo, ScanContext, Subject
from tutela.scan.formats.keras import check_config, parse_config
from tutela.scan.interface import Severity

__all__ = ["Hdf5Scanner"]

_CONFIG_ATTRS = ("model_config", "training_config")


class Hdf5Scanner(FormatScanner):
    """HDF5 (Keras ``.h5``): reads ``model_config`` / ``training_config`` with h5py.

    Flags Lambda layers (critical: legacy loaders run their bytecode with no safe mode)
    and references to modules outside Keras. Without h5py installed the file is
    reported inconclusive.
    """

    id = "scan.hdf5"
    formats = ("hdf5",)
    title = "HDF5 / Keras legacy models"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("hdf5.lambda-layer", Severity.CRITICAL, "Lambda layer in model_config"),
        RuleInfo("hdf5.custom-object", Severity.MEDIUM, "model_config references custom code"),
        RuleInfo("hdf5.config", Severity.MEDIUM, "model_config is not valid JSON"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        try:
            h5py: Any = importlib.import_module("h5py")
        except ImportError:
            ctx.note(f"{subject.label()}: HDF5 needs the h5py package (pip install h5py)")
            return
        try:
            with h5py.File(str(subject.path), "r") as handle:
                for attr in _CONFIG_ATTRS:
                    if attr not in handle.attrs:
                        continue
                    ctx.check_time()
                    raw = _attr_bytes(handle.attrs[attr])
                    if raw is None:
                        ctx.note(f"{subject.label()}: attribute {attr} is not text")
                        continue
                    config = parse_config(ctx, raw, subject.member, "hdf5")
                    if config is not None:
                        check_config(ctx, config, subject.member, "hdf5")
                if "model_config" in handle.attrs and subject.depth == 0:
                    ctx.format = "keras-h5"
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            ctx.add(
                "format.unparseable",
                Severity.MEDIUM,
                f"HDF5 file cannot be read: {str(exc).splitlines()[0][:160]}",
                member=subject.member,
            )
            ctx.note(f"{subject.label()}: unreadable HDF5")


def _attr_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    tobytes = getattr(value, "tobytes", None)
    if getattr(value, "dtype", None) is not None and getattr(value.dtype, "kind", "") == "S":
        return bytes(tobytes()) if callable(tobytes) else None
    return None
