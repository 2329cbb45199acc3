"""The one table of built-in format scanners.

The workspace will expose these through the ``tutela.scanners`` entry points; the
engine takes a table built here (or any other sequence of scanner classes), so a
third-party scanner plugs in the same way a built-in one does.
"""

from __future__ import annotations

from collections.abc import Iterable

from tutela.scan.formats.archive import CompressedScanner, SevenZipScanner, TarScanner
from tutela.scan.formats.gguf import GgufScanner
from tutela.scan.formats.hdf5 import Hdf5Scanner
from tutela.scan.formats.interface import FormatScanner
from tutela.scan.formats.keras import KerasConfigRules
from tutela.scan.formats.numpy import NumpyScanner
from tutela.scan.formats.onnx import OnnxScanner
from tutela.scan.formats.pickles import JoblibScanner, PickleScanner, TorchLegacyScanner
from tutela.scan.formats.safetensors import SafetensorsScanner
from tutela.scan.formats.savedmodel import SavedModelScanner
from tutela.scan.formats.zipfmt import ZipScanner

__all__ = ["BUILTIN_SCANNERS", "scanner_table"]

BUILTIN_SCANNERS: tuple[type[FormatScanner], ...] = (
    PickleScanner,
    TorchLegacyScanner,
    JoblibScanner,
    ZipScanner,
    KerasConfigRules,
    TarScanner,
    CompressedScanner,
    SevenZipScanner,
    NumpyScanner,
    Hdf5Scanner,
    SafetensorsScanner,
    GgufScanner,
    OnnxScanner,
    SavedModelScanner,
)


def scanner_table(
    scanners: Iterable[type[FormatScanner]] = BUILTIN_SCANNERS,
) -> dict[str, FormatScanner]:
    """Map each detected format id to the scanner instance that handles it (first wins)."""
    table: dict[str, FormatScanner] = {}
    for cls in scanners:
        instance = cls()
        for fmt in cls.formats:
            table.setdefault(fmt, instance)
    return table
