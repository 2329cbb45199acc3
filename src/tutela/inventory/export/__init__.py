"""AI-BOM exports of an inventory: CycloneDX 1.6 JSON and SPDX 3.0.1 JSON-LD.

Both take a merged ``Inventory`` and return a JSON-ready dict (``*_json`` for text).
Secrets are never components or elements: each BOM states only how many were found.
The field-by-field mapping is in docs/aibom.md.
"""

from __future__ import annotations

from tutela.inventory.export.cyclonedx import to_cyclonedx, to_cyclonedx_json
from tutela.inventory.export.spdx import to_spdx, to_spdx_json

__all__ = ["to_cyclonedx", "to_cyclonedx_json", "to_spdx", "to_spdx_json"]
