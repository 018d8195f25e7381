"""A lineage graph drawn as SVG on the server: columns by distance from the root along the edges
(inputs left, outputs right), every version node a link to its page."""

from __future__ import annotations

from collections import deque

from arkive._lineage_export import LineageGraph, LineageNode

from .html import Markup, join, link, render

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 220, 40, 60, 16, 10
MAX_LABEL = 30


def _columns(graph: LineageGraph) -> dict[str, int]:
    """Column of each node: the root at 0, a node's outputs one to the right, its inputs one to the left."""
    out: dict[str, list[str]] = {}
    inn: dict[str, list[str]] = {}
    for e in graph.edges:
        out.setdefault(e.source, []).append(e.target)
        inn.setdefault(e.target, []).append(e.source)
    col = {graph.root.id: 0}
    todo = deque([graph.root.id])
    while todo:
        n = todo.popleft()
        for m, step in [(t, 1) for t in out.get(n, [])] + [(s, -1) for s in inn.get(n, [])]:
            if m not in col:
                col[m] = col[n] + step
                todo.append(m)
    for node in graph.nodes:
        col.setdefault(node.id, 0)
    return col


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def node_url(n: LineageNode) -> str:
    if n.kind == "run":
        return link("/run", n.id.removeprefix("run:"))
    return link("/v", n.project, n.name, f"v{n.version}") if n.kind == "version" and not n.deleted else ""


def lineage_svg(graph: LineageGraph) -> Markup:
    nodes = {n.id: n for n in [graph.root, *graph.nodes]}
    col = _columns(graph)
    left = min(col.values())
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for nid in sorted(nodes, key=lambda i: (col[i], nodes[i].label)):
        c = col[nid] - left
        r = rows.get(c, 0)
        rows[c] = r + 1
        pos[nid] = (PAD + c * (NODE_W + GAP_X), PAD + r * (NODE_H + GAP_Y))
    width = PAD * 2 + (max(rows) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + max(rows.values()) * (NODE_H + GAP_Y) - GAP_Y
    edges = []
    for e in graph.edges:
        if e.source in pos and e.target in pos:
            (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
            edges.append(
                render(
                    "<line x1='{a}' y1='{b}' x2='{c}' y2='{d}' stroke='#7a8694' marker-end='url(#arrow)'>"
                    "<title>{k}</title></line>",
                    a=x1 + NODE_W,
                    b=y1 + NODE_H // 2,
                    c=x2,
                    d=y2 + NODE_H // 2,
                    k=e.kind,
                )
            )
    boxes = []
    for nid, (x, y) in pos.items():
        n = nodes[nid]
        fill = "#ffe9b8" if nid == graph.root.id else "#e3ecfa" if n.kind == "version" else "#e6f4e6"
        box = render(
            "<g><rect x='{x}' y='{y}' width='{w}' height='{h}' rx='6' fill='{f}' stroke='#20304a'/>"
            "<text x='{tx}' y='{ty}' font-size='12'>{t}</text><title>{full}</title></g>",
            x=x,
            y=y,
            w=NODE_W,
            h=NODE_H,
            f=fill,
            tx=x + 8,
            ty=y + 24,
            t=_short(n.label),
            full=n.label,
        )
        url = node_url(n)
        boxes.append(render("<a href='{u}' class='node'>{b}</a>", u=url, b=box) if url else box)
    return render(
        "<svg class='lineage' xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}'>"
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='8' markerHeight='8' "
        "orient='auto'>"
        "<path d='M0,0 L10,5 L0,10 z' fill='#7a8694'/></marker></defs>{e}{b}</svg>",
        w=width,
        h=height,
        e=join(edges),
        b=join(boxes),
    )
