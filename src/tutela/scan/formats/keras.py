"""Keras model configurations: Lambda layers and references to code outside Keras.

A Keras config names classes and functions by ``module`` / ``class_name`` /
``registered_name``; loading resolves them, importing modules (Keras < 3.9 imported any
module: CVE-2025-1550) and, for ``Lambda`` layers, unmarshalling Python bytecode
(legacy HDF5 and ``safe_mode=False``). This module walks a parsed config without
executing anything and is shared by the ``.keras`` (zip) and HDF5 scanners.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from tutela.scan.formats.interface import FormatScanner, RuleInfo, ScanContext, Subject
from tutela.scan.formats.zipread import ZipArchive, ZipFormatError
from tutela.scan.interface import Severity

__all__ = ["KerasConfigRules", "check_config", "parse_config", "scan_keras_zip"]

_DANGEROUS_MODULES = frozenset(
    {
        "os", "posix", "nt", "subprocess", "sys", "builtins", "__builtin__", "shutil",
        "socket", "importlib", "runpy", "code", "codeop", "pty", "pickle", "marshal",
        "ctypes", "webbrowser", "requests", "urllib", "http", "ftplib", "telnetlib",
        "multiprocessing", "threading", "signal", "tempfile", "pathlib", "io", "glob",
    }
)  # fmt: skip
_DANGEROUS_NAMES = frozenset(
    {
        "eval", "exec", "compile", "system", "popen", "Popen", "run", "call",
        "check_output", "check_call", "getattr", "setattr", "__import__", "open",
        "import_module", "load", "loads", "spawn", "execv", "execve", "remove", "rmtree",
    }
)  # fmt: skip


class KerasConfigRules(FormatScanner):
    """Keras configs (``config.json`` of ``.keras`` files, ``model_config`` of HDF5 files).

    Flags Lambda layers (serialized Python bytecode), serialized Python functions and
    references to modules outside Keras. Invoked by the zip and HDF5 scanners.
    """

    id = "scan.keras"
    formats = ()
    title = "Keras model configurations"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("keras.lambda-layer", Severity.HIGH, "Lambda layer carries Python bytecode"),
        RuleInfo("keras.custom-object", Severity.MEDIUM, "config references code outside Keras"),
        RuleInfo("keras.config", Severity.MEDIUM, "config.json missing or unparseable"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        config = parse_config(ctx, subject.path.read_bytes(), subject.member, "keras")
        if config is not None:
            check_config(ctx, config, subject.member, "keras")


def scan_keras_zip(ctx: ScanContext, subject: Subject, archive: ZipArchive) -> None:
    """Check ``config.json`` of a Keras v3 archive (the one at the archive root)."""
    entries = [e for e in archive.entries if e.name == "config.json"]
    if not entries:
        return
    for entry in entries:
        member = subject.child(entry.name)
        if entry.size > ctx.limits.max_header_bytes:
            ctx.limit(f"config.json of {entry.size} bytes", member=member)
            continue
        try:
            reader = archive.open(
                entry,
                max_bytes=ctx.limits.max_header_bytes,
                max_ratio=ctx.limits.max_compression_ratio,
            )
            raw = reader.read()
        except ZipFormatError as exc:
            ctx.note(f"{member}: {exc.diagnostics()}")
            continue
        config = parse_config(ctx, raw or b"", member, "keras")
        if config is not None:
            check_config(ctx, config, member, "keras")


def parse_config(ctx: ScanContext, raw: bytes, member: str | None, prefix: str) -> Any:
    """Parse a JSON config within the header and depth limits; ``None`` when it cannot."""
    if len(raw) > ctx.limits.max_header_bytes:
        ctx.limit(f"model config of {len(raw)} bytes", member=member)
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        ctx.add(
            f"{prefix}.config",
            Severity.MEDIUM,
            f"model config is not valid JSON: {str(exc)[:120]}",
            member=member,
        )
        ctx.note(f"{member or 'model config'}: unparseable JSON")
        return None


def check_config(ctx: ScanContext, config: Any, member: str | None, prefix: str) -> None:
    """Walk a parsed config (iteratively, depth-limited) and report what loading would run.

    ``prefix`` is the rule namespace: ``keras`` for ``.keras`` files, ``hdf5`` for legacy
    HDF5 files (where a Lambda runs on load with no safe mode: critical).
    """
    lambda_severity = Severity.CRITICAL if prefix == "hdf5" else Severity.HIGH
    stack: list[tuple[Any, int, str]] = [(config, 0, "$")]
    deep = False
    while stack:
        node, depth, where = stack.pop()
        if depth > ctx.limits.max_json_depth:
            deep = True
            continue
        if isinstance(node, list):
            stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        _check_object(ctx, node, where, member, prefix, lambda_severity)
        stack.extend((v, depth + 1, f"{where}.{k}") for k, v in node.items())
    if deep:
        ctx.note(f"{member or 'model config'}: nested deeper than {ctx.limits.max_json_depth}")


def _check_object(
    ctx: ScanContext,
    node: dict[str, Any],
    where: str,
    member: str | None,
    prefix: str,
    lambda_severity: Severity,
) -> None:
    class_name = node.get("class_name")
    module = node.get("module")
    registered = node.get("registered_name")
    if class_name in ("Lambda", "__lambda__"):
        layer = node.get("config", {})
        name = layer.get("name") if isinstance(layer, dict) else None
        ctx.add(
            f"{prefix}.lambda-layer",
            lambda_severity,
            f"Lambda layer {name or ''} at {where} carries serialized Python code that "
            "runs when the model is loaded or called",
            member=member,
            details={"path": where},
        )
        return
    if not isinstance(class_name, str):
        return
    if isinstance(module, str) and not _is_keras_module(module):
        dangerous = module.split(".")[0] in _DANGEROUS_MODULES or class_name in _DANGEROUS_NAMES
        ctx.add(
            f"{prefix}.custom-object",
            Severity.CRITICAL if dangerous else Severity.MEDIUM,
            f"config at {where} references {module}.{class_name}: loading imports that "
            "module" + (" (a code-execution primitive)" if dangerous else ""),
            member=member,
            details={"path": where, "module": module, "class_name": class_name},
        )
    elif (
        isinstance(registered, str)
        and not registered.startswith("keras")
        and (registered != class_name or module is None)
    ):
        ctx.add(
            f"{prefix}.custom-object",
            Severity.LOW,
            f"config at {where} needs the custom object {registered!r}, resolved from code "
            "registered in the loading environment",
            member=member,
            details={"path": where, "registered_name": registered},
        )


def _is_keras_module(module: str) -> bool:
    root = module.split(".")[0]
    return root in ("keras", "tf_keras") or module.startswith("tensorflow.keras")
