"""Self-contained HTML rendering of an AI Card: inline CSS, no scripts, no external URLs.

Every value is escaped: card text comes from files and evidence a stranger may control.
Each section is ``<section id="section-<id>">`` and each field ``<tr id="field-<path>">``
with a ``data-provenance`` attribute, so tests and tools can parse the page back.
"""

from __future__ import annotations

from html import escape

from tutela.cards.model import AICard, CardField
from tutela.cards.render_md import card_title, value_text

__all__ = ["render_html"]

_CSS = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 70em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.4em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.3em 0.5em;
  border-bottom: 1px solid #eee; }
th.label { width: 22%; font-weight: 600; }
td.value { white-space: pre-wrap; overflow-wrap: anywhere; }
td.evidence { font-family: monospace; font-size: 0.75em; color: #666; word-break: break-all; }
.note { color: #666; font-style: italic; }
.badge { font-size: 0.75em; padding: 0.1em 0.4em; border-radius: 0.3em; color: #fff; }
.p-declared { background: #3b6ea5; } .p-inferred { background: #777; }
.p-verified { background: #2e7d32; } .p-stale { background: #c77700; }
.p-missing { background: #b00020; }
.meta { color: #555; font-size: 0.9em; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _row(path: str, key: str, field: CardField) -> str:
    value = _e(value_text(field.value)) if field.value is not None else ""
    note = f'<div class="note">{_e(field.note)}</div>' if field.note else ""
    evidence = "<br>".join(_e(e) for e in field.evidence)
    return (
        f'<tr id="field-{_e(path)}" data-provenance="{_e(field.provenance)}">'
        f'<th class="label">{_e(field.label or key)}</th>'
        f'<td class="value">{value}{note}</td>'
        f'<td><span class="badge p-{_e(field.provenance)}">{_e(field.provenance)}</span></td>'
        f'<td class="evidence">{evidence}</td></tr>'
    )


def render_html(card: AICard) -> str:
    subject = card.subject
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(card_title(card))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<header id="card-header"><h1>{_e(card_title(card))}</h1>',
        f'<p class="meta">Name: {_e(subject.name)} · Version: '
        f"<code>{_e(subject.version_digest or 'none')}</code> · Ledger position: "
        f"{card.ledger_size} · Schema: {_e(card.schema_)}</p></header>",
    ]
    for section in card.sections:
        parts.append(f'<section id="section-{_e(section.id)}"><h2>{_e(section.title)}</h2>')
        parts.append(
            "<table><thead><tr><th>Field</th><th>Value</th><th>Provenance</th>"
            "<th>Evidence</th></tr></thead><tbody>"
        )
        parts += [_row(f"{section.id}.{key}", key, field) for key, field in section.fields.items()]
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
