"""Formats that are pickles at heart: raw pickle (incl. dill, cloudpickle), joblib, legacy torch.

Their bytes go to the pickle engine through ``ctx.scan_pickle_stream``. For the
scanned file itself the stream carries the file hasher, so the SHA-256 is computed
in the same pass.
"""

from __future__ import annotations

from typing import ClassVar

from tutela.scan.formats.interface import FormatScanner, RuleInfo, ScanContext, Subject
from tutela.scan.interface import Severity
from tutela.scan.source import ByteSource

__all__ = ["JoblibScanner", "PickleScanner", "TorchLegacyScanner"]


# torch.save's legacy layout: magic, protocol version, sys_info, the object, storage keys.
_LEGACY_TORCH_PICKLES = 5


def _scan_file_as_pickle(
    ctx: ScanContext, subject: Subject, max_pickles: int | None = None
) -> None:
    root = subject.depth == 0 and ctx.hasher is not None
    source = ByteSource.from_path(subject.path, hasher=ctx.hasher if root else None)
    with source:
        ctx.scan_pickle_stream(ctx, source, subject.member, max_pickles=max_pickles)
        if root:
            source.finish()  # hash whatever follows the pickle (storages, trailing bytes)
            ctx.hashed = True


class PickleScanner(FormatScanner):
    """Raw pickles of any protocol (plain, dill, cloudpickle): analysed by the pickle engine."""

    id = "scan.pickle"
    formats = ("pickle",)
    title = "Pickle"
    rules: ClassVar[tuple[RuleInfo, ...]] = ()

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        _scan_file_as_pickle(ctx, subject)


class JoblibScanner(FormatScanner):
    """joblib files: a pickle whose numpy arrays are written inline after each wrapper.

    The whole stream goes to the pickle engine (which knows joblib's NumpyArrayWrapper
    layout); compressed joblib files arrive here through the compressed-stream scanner.
    """

    id = "scan.joblib"
    formats = ("joblib",)
    title = "joblib"
    rules: ClassVar[tuple[RuleInfo, ...]] = ()

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        before = len(ctx.findings)
        _scan_file_as_pickle(ctx, subject, max_pickles=1)
        # joblib writes each numpy array's bytes right after its NumpyArrayWrapper BUILD,
        # inside the pickle; the pickle engine stops there as on malformed data. That stop
        # is the format, not an attack: say what was not analysed instead.
        inline = [
            f
            for f in ctx.findings[before:]
            if f.rule_id in ("pickle.malformed", "pickle.trailing-data")
        ]
        if inline:
            ctx.findings[:] = [f for f in ctx.findings if f not in inline]
            ctx.inconclusive[:] = [r for r in ctx.inconclusive if "malformed pickle" not in r]
            ctx.note(
                f"{subject.label()}: joblib stores numpy arrays inline; the pickle after the "
                "first array was not analysed"
            )


class TorchLegacyScanner(FormatScanner):
    """Legacy ``torch.save`` streams (pre-1.6): magic, protocol, sys_info, pickle, storages.

    A sequence of pickles followed by raw storage bytes; the pickle engine reads the
    consecutive pickles, the storages are raw numbers and are only hashed.
    """

    id = "scan.pytorch-legacy"
    formats = ("pytorch-legacy",)
    title = "PyTorch legacy checkpoints"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("pytorch.legacy-format", Severity.INFO, "pre-1.6 torch.save stream"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        ctx.add(
            "pytorch.legacy-format",
            Severity.INFO,
            "legacy torch.save format (before PyTorch 1.6): a plain pickle sequence",
            member=subject.member,
        )
        # Raw storage bytes follow the five pickles: hashed, never parsed as a pickle.
        _scan_file_as_pickle(ctx, subject, max_pickles=_LEGACY_TORCH_PICKLES)
