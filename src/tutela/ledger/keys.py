"""Ed25519 signing keys of a workspace: created once, stored 0600, named by a key id."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tutela.errors import SigningKeyError

__all__ = ["PublicKey", "SigningKey", "generate_key", "key_id_of"]

_MAX_KEY_FILE = 64 * 1024


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id_of(self.key)

    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    @classmethod
    def from_pem(cls, data: bytes, *, source: str) -> PublicKey:
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(
                "not a PEM public key",
                subject=source,
                found=str(exc).splitlines()[0] if str(exc) else "unparseable data",
                hint="pass the workspace's keys/signing.pub",
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(
                "wrong key type", subject=source, expected="Ed25519", found=type(key).__name__
            )
        return cls(key)

    @classmethod
    def load(cls, path: Path) -> PublicKey:
        return cls.from_pem(_read_key_file(path), source=str(path))


@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PrivateKey

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)

    def write(self, private_path: Path, public_path: Path) -> None:
        """Write the private key with mode 0600 from the first byte on, then the public key."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        public_path.write_text(self.public.pem(), encoding="ascii")

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        data = _read_key_file(path)
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(
                "the signing key cannot be read",
                subject=str(path),
                found=str(exc).splitlines()[0] if str(exc) else "unparseable data",
                hint="restore keys/signing.key from a backup; it must be an unencrypted PEM",
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(
                "wrong key type", subject=str(path), expected="Ed25519", found=type(key).__name__
            )
        return cls(key)


def generate_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def _read_key_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise SigningKeyError("key file not found", subject=str(path)) from None
    except PermissionError:
        raise SigningKeyError(
            "key file is not readable", subject=str(path), hint="check its owner and mode"
        ) from None
    except IsADirectoryError:
        raise SigningKeyError("expected a key file, found a directory", subject=str(path)) from None
    except OSError as exc:
        raise SigningKeyError(
            "cannot read key file", subject=str(path), found=exc.strerror
        ) from None
    if len(data) > _MAX_KEY_FILE:
        raise SigningKeyError("key file is too large to be a key", subject=str(path))
    return data
