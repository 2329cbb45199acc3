"""PDF rendering of an AI Card: the HTML rendering laid out by WeasyPrint.

WeasyPrint is an optional dependency (the ``cards`` extra). The page is rendered with a
URL fetcher that refuses everything, so a card can never make the renderer fetch a URL or
read a local file, whatever its text says.
"""

from __future__ import annotations

import importlib
from typing import Any, NoReturn

from tutela.cards.model import AICard
from tutela.cards.render_html import render_html
from tutela.errors import UsageError

__all__ = ["pdf_available", "render_pdf"]


def pdf_available() -> bool:
    try:
        importlib.import_module("weasyprint")
    except (ImportError, OSError):  # OSError: the pango libraries are missing
        return False
    return True


def _refuse(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"card rendering fetches nothing: {url[:80]}")


def render_pdf(card: AICard) -> bytes:
    try:
        # Imported by name: WeasyPrint ships no type information.
        weasyprint: Any = importlib.import_module("weasyprint")
    except (ImportError, OSError):
        raise UsageError(
            "PDF cards need WeasyPrint",
            hint="pip install 'tutela[cards]' (and the pango libraries it uses)",
        ) from None
    document = weasyprint.HTML(string=render_html(card), url_fetcher=_refuse)
    pdf: bytes = document.write_pdf()
    return pdf
