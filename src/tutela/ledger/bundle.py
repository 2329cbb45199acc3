"""Self-contained, offline-verifiable exports: ledger bundles and inclusion proofs.

A bundle is JSON Lines: a header line, one line per entry, one line per checkpoint.
Lines are streamed so a bundle of millions of entries verifies in constant memory.
Only this module, ``verify``, ``merkle``, ``checkpoint`` and ``keys`` are needed to check
one: no database, no workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tutela.errors import InputError, IntegrityError, LimitExceeded, SigningKeyError
from tutela.ledger.checkpoint import SignedCheckpoint
from tutela.ledger.keys import PublicKey
from tutela.ledger.merkle import leaf_hash, verify_inclusion
from tutela.ledger.verify import ChainVerifier, Problem, VerifyReport

__all__ = [
    "BUNDLE_TYPE",
    "PROOF_TYPE",
    "BundleWriter",
    "check_proof",
    "read_document_type",
    "verify_bundle",
]

BUNDLE_TYPE = "tutela.ledger-bundle/1"
PROOF_TYPE = "tutela.inclusion-proof/1"
MAX_LINE = 64 * 1024 * 1024  # one entry's JSON; larger means the file is not ours
MAX_PROOF_BYTES = 64 * 1024 * 1024


class BundleWriter:
    """Writes a bundle line by line to an open text file."""

    def __init__(self, handle: IO[str], key: PublicKey, size: int) -> None:
        self._handle = handle
        header = {"type": BUNDLE_TYPE, "key_id": key.key_id, "public_key": key.pem(), "size": size}
        self._write(header)

    def _write(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        self._handle.write("\n")

    def entry(self, seq: int, body: bytes, chain: bytes) -> None:
        self._write({"seq": seq, "body": body.decode("utf-8"), "chain": chain.hex()})

    def checkpoint(self, cp: SignedCheckpoint) -> None:
        self._write({"checkpoint": cp.to_dict()})


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError("cannot open bundle", subject=str(path), found=exc.strerror) from None
    with handle:
        number = 0
        while True:
            line = handle.readline(MAX_LINE + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE:
                raise LimitExceeded(
                    "bundle line too long", subject=f"{path}:{number}", expected=f"<= {MAX_LINE}"
                )
            try:
                record = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                raise InputError("not a JSON line", subject=f"{path}:{number}") from None
            if not isinstance(record, dict):
                raise InputError("bundle line is not an object", subject=f"{path}:{number}")
            yield number, record


def read_document_type(path: Path) -> str:
    """``BUNDLE_TYPE`` or ``PROOF_TYPE``: a bundle's first line, or a whole (small) proof."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(MAX_LINE + 1)
            size = path.stat().st_size
            whole = first + handle.read() if size <= MAX_PROOF_BYTES else first
    except OSError as exc:
        raise InputError("cannot open file", subject=str(path), found=exc.strerror) from None
    for candidate in (first, whole):
        try:
            record = json.loads(candidate)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(record, dict) and record.get("type") in (BUNDLE_TYPE, PROOF_TYPE):
            return str(record["type"])
    raise InputError(
        "not a Tutela ledger bundle or inclusion proof",
        subject=str(path),
        expected=f"JSON with type {BUNDLE_TYPE} or {PROOF_TYPE}",
        hint="create one with `tutela ledger export` or `tutela ledger prove`",
    )


def _require_key(header_key_id: Any, key: PublicKey, subject: str) -> None:
    if header_key_id != key.key_id:
        raise SigningKeyError(
            "the key given is not the key that signed this file",
            subject=subject,
            expected=str(header_key_id),
            found=key.key_id,
            hint="pass the signing.pub of the workspace that exported it",
        )


def verify_bundle(path: Path, key: PublicKey) -> VerifyReport:
    """Check a bundle offline: chain, Merkle roots, every checkpoint, and full coverage."""
    records = _lines(path)
    try:
        _number, header = next(records)
    except StopIteration:
        raise InputError("the bundle is empty", subject=str(path)) from None
    if header.get("type") != BUNDLE_TYPE:
        raise InputError("not a ledger bundle", subject=str(path), expected=BUNDLE_TYPE)
    _require_key(header.get("key_id"), key, str(path))
    checkpoints: list[SignedCheckpoint] = []
    # Entries come before checkpoints; checkpoints must be known before feeding, so
    # read the (small) checkpoint tail first with a second pass over the file.
    for number, record in records:
        if "checkpoint" in record:
            checkpoints.append(SignedCheckpoint.from_dict(record["checkpoint"]))
        elif not _is_entry(record):
            raise InputError("malformed bundle line", subject=f"{path}:{number}")
    verifier = ChainVerifier(key, checkpoints)
    for number, record in _lines(path):
        if number == 1 or "checkpoint" in record:
            continue
        try:
            chain = bytes.fromhex(record["chain"])
        except ValueError:
            raise InputError("chain is not hex", subject=f"{path}:{number}") from None
        verifier.feed(record["seq"], record["body"].encode("utf-8"), chain)
    report = verifier.finish()
    declared = header.get("size")
    if declared != report.entries:
        report.problems.append(
            _problem("truncated", f"header declares {declared} entries, found {report.entries}")
        )
    if report.ok and report.signed_size != report.entries:
        report.problems.append(
            _problem(
                "checkpoint",
                f"only the first {report.signed_size} of {report.entries} entries are signed",
            )
        )
    return report


def _is_entry(record: dict[str, Any]) -> bool:
    seq, body, chain = record.get("seq"), record.get("body"), record.get("chain")
    return (
        isinstance(seq, int)
        and not isinstance(seq, bool)
        and isinstance(body, str)
        and isinstance(chain, str)
    )


def _problem(kind: str, message: str) -> Problem:
    return Problem(kind, message)


def check_proof(path: Path, key: PublicKey) -> VerifyReport:
    """Check an inclusion proof offline: the entry is leaf ``seq`` of the signed tree."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError("cannot read proof", subject=str(path), found=exc.strerror) from None
    if size > MAX_PROOF_BYTES:
        raise LimitExceeded("proof file too large", subject=str(path))
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise InputError("the proof is not JSON", subject=str(path)) from None
    if not isinstance(doc, dict) or doc.get("type") != PROOF_TYPE:
        raise InputError("not an inclusion proof", subject=str(path), expected=PROOF_TYPE)
    _require_key(doc.get("key_id"), key, str(path))
    report = VerifyReport()
    try:
        cp = SignedCheckpoint.from_dict(doc.get("checkpoint"))
        seq, body, path_hex = doc["seq"], doc["body"], doc["path"]
        if not (isinstance(seq, int) and isinstance(body, str) and isinstance(path_hex, list)):
            raise IntegrityError("proof fields have the wrong types")
        audit = [bytes.fromhex(h) for h in path_hex]
        tree_size, root = cp.size, cp.root
    except (KeyError, ValueError, TypeError, IntegrityError) as exc:
        message = exc.problem if isinstance(exc, IntegrityError) else "proof is malformed"
        report.problems.append(_problem("proof", message))
        return report
    report.entries = 1
    report.root = root
    report.checkpoints = 1
    if not cp.signature_valid(key):
        report.problems.append(_problem("signature", "the checkpoint signature is invalid"))
    elif not verify_inclusion(leaf_hash(body.encode("utf-8")), seq - 1, tree_size, audit, root):
        report.problems.append(
            _problem("proof", f"entry {seq} is not included in the signed tree of size {tree_size}")
        )
    else:
        report.signed_size = tree_size
        report.note = f"entry {seq} is included in the signed tree of {tree_size} entries"
    return report
