"""A lineage graph as inline SVG, layered left to right: sources on the left, the version
asked about on the right, each edge labelled with its link kind."""

from __future__ import annotations

from collections import defaultdict
from html import escape

from markupsafe import Markup

from tutela.lineage.graph import LineageGraph, Node
from tutela.server.dashboard.links import asset_url

__all__ = ["lineage_svg"]

_BOX_W, _BOX_H, _COL_GAP, _ROW_GAP, _PAD = 210, 46, 90, 18, 10


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _node(node: Node, x: float, y: float, root: bool) -> str:
    digest = node.digest.removeprefix("sha256:")[:12]
    detail = " · ".join(p for p in (node.asset_kind, node.form, digest) if p)
    cls = "lineage-node root" if root else "lineage-node"
    return (
        f'<a href="{escape(asset_url(node.asset_id))}">'
        f'<g class="{cls}"><title>{escape(node.asset_id)} {escape(node.digest)}</title>'
        f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="6"/>'
        f'<text class="lineage-name" x="{x + 8}" y="{y + 19}">'
        f"{escape(_short(node.asset_id, 30))}</text>"
        f'<text class="lineage-detail" x="{x + 8}" y="{y + 36}">'
        f"{escape(_short(detail, 34))}</text></g></a>"
    )


def lineage_svg(graph: LineageGraph) -> Markup:
    depth = max((n.depth for n in graph.nodes), default=0)
    columns: dict[int, list[Node]] = defaultdict(list)
    for node in sorted(graph.nodes, key=lambda n: (n.asset_id, n.digest)):
        columns[depth - node.depth].append(node)
    where: dict[str, tuple[float, float]] = {}
    for col, nodes in columns.items():
        for row, node in enumerate(nodes):
            where[node.version_id] = (
                _PAD + col * (_BOX_W + _COL_GAP),
                _PAD + row * (_BOX_H + _ROW_GAP),
            )
    rows = max((len(nodes) for nodes in columns.values()), default=1)
    width = 2 * _PAD + (depth + 1) * _BOX_W + depth * _COL_GAP
    height = 2 * _PAD + rows * _BOX_H + (rows - 1) * _ROW_GAP
    parts = [
        f'<svg class="lineage" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>Upstream lineage of {escape(graph.ref)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'class="lineage-arrow"/></marker></defs>',
    ]
    for node in graph.nodes:
        for edge, dependency in graph.children(node.version_id):
            if dependency not in where or node.version_id not in where:
                continue
            (sx, sy), (dx, dy) = where[dependency], where[node.version_id]
            x1, y1, x2, y2 = sx + _BOX_W, sy + _BOX_H / 2, dx, dy + _BOX_H / 2
            parts.append(
                f'<line class="lineage-edge" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                'marker-end="url(#arrow)"/>'
                f'<text class="lineage-kind" x="{(x1 + x2) / 2}" y="{(y1 + y2) / 2 - 5}" '
                f'text-anchor="middle">{escape(edge.kind.value)}</text>'
            )
    roots = set(graph.roots)
    for node in graph.nodes:
        x, y = where[node.version_id]
        parts.append(_node(node, x, y, node.version_id in roots))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every text above is escaped
