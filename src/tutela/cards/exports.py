"""Export an asset's AI Card in a standard format: the one call `tutela card export` makes."""

from __future__ import annotations

import enum

from tutela.workspace import Workspace

__all__ = ["ExportFormat", "export_card"]


class ExportFormat(enum.StrEnum):
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"
    HF = "hf"


def export_card(
    ws: Workspace, asset_id: str, fmt: ExportFormat | str, *, version: str | None = None
) -> str:
    """The card of ``asset_id`` (at ``version``, default the latest) as document text."""
    from tutela.cards.build import build_card
    from tutela.errors import InputError
    from tutela.version import tutela_version

    try:
        chosen = ExportFormat(fmt)
    except ValueError:
        raise InputError(
            "unknown card format", found=str(fmt), expected="cyclonedx, spdx or hf"
        ) from None
    card = build_card(ws, asset_id, version=version)
    if chosen is ExportFormat.CYCLONEDX:
        from tutela.cards.export_cyclonedx import card_to_cyclonedx_json

        return card_to_cyclonedx_json(card, tool_version=tutela_version())
    if chosen is ExportFormat.SPDX:
        from tutela.cards.export_spdx import card_to_spdx_json

        return card_to_spdx_json(card, tool_version=tutela_version())
    from tutela.cards.export_hf import card_to_hf

    return card_to_hf(card)
