"""The CycloneDX version and property namespace every Tutela CycloneDX document uses."""

from __future__ import annotations

__all__ = ["CYCLONEDX_SPEC_VERSION", "PROPERTY_PREFIX"]

CYCLONEDX_SPEC_VERSION = "1.6"
# CycloneDX property taxonomy: a vendor prefix keeps our names apart from others'.
PROPERTY_PREFIX = "tutela:"
