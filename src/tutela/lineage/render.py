"""Text renderings of a lineage graph: Mermaid and Graphviz DOT. Pure functions, no I/O.

Arrows follow the stored links: ``model --trained_on--> dataset``. Labels are built from
recorded data (asset ids, file names), so every label is escaped for its format.
"""

from __future__ import annotations

from tutela.lineage.graph import LineageGraph, Node

__all__ = ["to_dot", "to_mermaid"]


def _short(digest: str) -> str:
    return digest[:19]  # "sha256:" and 12 hex digits


def _label_lines(node: Node) -> list[str]:
    lines = [node.asset_id, _short(node.digest)]
    if node.location:
        lines.append(node.location.rsplit("/", 1)[-1])
    return lines


def _ids(graph: LineageGraph) -> dict[str, str]:
    return {n.version_id: f"v{i}" for i, n in enumerate(graph.nodes)}


def _run_names(graph: LineageGraph) -> dict[str, str]:
    return {r.id: r.name for r in graph.runs}


def _mermaid_text(text: str) -> str:
    # Mermaid strings are double-quoted; entity codes keep quotes and markup inert.
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
    )


def to_mermaid(graph: LineageGraph) -> str:
    ids = _ids(graph)
    runs = _run_names(graph)
    lines = ["flowchart LR"]
    for node in graph.nodes:
        label = "<br/>".join(_mermaid_text(x) for x in _label_lines(node))
        shape = ('[("', '")]') if node.asset_kind == "dataset" else ('["', '"]')
        lines.append(f"  {ids[node.version_id]}{shape[0]}{label}{shape[1]}")
    for edge in graph.edges:
        text = edge.kind.value
        if edge.run_id and edge.run_id in runs:
            text += f" ({runs[edge.run_id]})"
        lines.append(f'  {ids[edge.src]} -->|"{_mermaid_text(text)}"| {ids[edge.dst]}')
    for root in graph.roots:
        lines.append(f"  style {ids[root]} stroke-width:3px")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(graph: LineageGraph) -> str:
    ids = _ids(graph)
    runs = _run_names(graph)
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node in graph.nodes:
        label = "\\n".join(_dot_text(x) for x in _label_lines(node))
        shape = "cylinder" if node.asset_kind == "dataset" else "box"
        extra = ", penwidth=3" if node.version_id in graph.roots else ""
        lines.append(f'  {ids[node.version_id]} [label="{label}", shape={shape}{extra}];')
    for edge in graph.edges:
        text = edge.kind.value
        if edge.run_id and edge.run_id in runs:
            text += f"\\n{_dot_text(runs[edge.run_id])}"
        lines.append(f'  {ids[edge.src]} -> {ids[edge.dst]} [label="{text}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
