"""Lay out an asset's lineage graph for a server-rendered SVG (pure: no Django, no JavaScript).

Originals sit in the left column; each rendition derived from another sits one column to the
right of the furthest one it derives from. derived_from arrows point from the derivative to
its original, supersedes arrows from the newer version to the older one; matches whose
original is unknown are dashed lines without arrows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

NODE_WIDTH = 176
NODE_HEIGHT = 156
THUMB_HEIGHT = 100
COLUMN_GAP = 120
ROW_GAP = 36
MARGIN = 24
SIDE_ARC = 70  # how far an edge between two nodes of one column bulges to the right
LIFT = 84  # how high an edge that jumps over a column arcs above the nodes


@dataclass(frozen=True, slots=True)
class NodeSpec:
    id: int
    title: str  # e.g. "JPEG 512×512"
    subtitle: str  # e.g. "3 copies"
    master: bool = False
    retired: bool = False
    thumbnail: bool = False


@dataclass(frozen=True, slots=True)
class EdgeSpec:
    kind: str  # derived_from, supersedes or related
    start: int
    end: int
    label: str


@dataclass(slots=True)
class PlacedNode:
    spec: NodeSpec
    x: int
    y: int
    column: int = 0
    width: int = NODE_WIDTH
    height: int = NODE_HEIGHT
    thumb_height: int = THUMB_HEIGHT

    @property
    def text_y(self) -> int:
        return self.y + self.thumb_height + 22

    @property
    def centre_x(self) -> int:
        return self.x + self.width // 2


@dataclass(slots=True)
class PlacedEdge:
    spec: EdgeSpec
    path: str
    label_x: int
    label_y: int


@dataclass(slots=True)
class LineageDrawing:
    width: int
    height: int
    nodes: list[PlacedNode] = field(default_factory=list)
    edges: list[PlacedEdge] = field(default_factory=list)


def _columns(nodes: list[NodeSpec], edges: list[EdgeSpec]) -> dict[int, int]:
    """Return each node's column: one right of the furthest original it derives from."""
    depth = {n.id: 0 for n in nodes}
    derived = [(e.start, e.end) for e in edges if e.kind == "derived_from"]
    # Longest path by relaxation; at most len(nodes) rounds, so a cycle cannot hang it.
    for _ in range(len(nodes)):
        changed = False
        for child, parent in derived:
            if child in depth and parent in depth and depth[child] < depth[parent] + 1:
                depth[child] = depth[parent] + 1
                changed = True
        if not changed:
            break
    return depth


def lineage_drawing(nodes: list[NodeSpec], edges: list[EdgeSpec]) -> LineageDrawing:
    """Place the nodes in columns and route each edge, with a spot for its label."""
    column_of = _columns(nodes, edges)
    columns: dict[int, list[NodeSpec]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: (not n.master, n.retired, n.id)):
        columns[column_of[node.id]].append(node)
    # Edges that jump over a column arc above the nodes: leave room for them on top.
    jumps = any(
        e.start in column_of
        and e.end in column_of
        and abs(column_of[e.start] - column_of[e.end]) > 1
        for e in edges
    )
    top = MARGIN + (LIFT if jumps else 0)
    placed: dict[int, PlacedNode] = {}
    for column, members in columns.items():
        for row, node in enumerate(members):
            placed[node.id] = PlacedNode(
                spec=node,
                x=MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
                y=top + row * (NODE_HEIGHT + ROW_GAP),
                column=column,
            )
    width = max(columns, default=0) + 1
    drawing = LineageDrawing(
        width=MARGIN * 2 + width * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP + SIDE_ARC,
        height=top
        + MARGIN
        + max((len(m) for m in columns.values()), default=1) * (NODE_HEIGHT + ROW_GAP)
        - ROW_GAP,
        nodes=list(placed.values()),
    )
    labels: list[tuple[int, int]] = []
    for edge in edges:
        start, end = placed.get(edge.start), placed.get(edge.end)
        if start is None or end is None:
            continue
        path, lx, ly = _route(start, end)
        # Nudge a label that would sit on another one.
        while any(abs(lx - x) < 60 and abs(ly - y) < 14 for x, y in labels):
            ly += 15
        labels.append((lx, ly))
        drawing.edges.append(PlacedEdge(spec=edge, path=path, label_x=lx, label_y=ly))
    return drawing


def _route(start: PlacedNode, end: PlacedNode) -> tuple[str, int, int]:
    """Return an SVG path from start to end and a point for the label."""
    y1 = start.y + start.height // 2
    y2 = end.y + end.height // 2
    if abs(start.column - end.column) > 1:
        # Over the columns in between: from the top of one node to the top of the other.
        x1, x2 = start.centre_x, end.centre_x
        path = f"M {x1} {start.y} C {x1} {start.y - LIFT}, {x2} {end.y - LIFT}, {x2} {end.y}"
        return path, (x1 + x2) // 2, (start.y + end.y) // 2 - LIFT * 3 // 4 + 4
    if start.column == end.column:
        # Same column: bulge out to the right.
        x = start.x + start.width
        bulge = x + SIDE_ARC
        path = f"M {x} {y1} C {bulge} {y1}, {bulge} {y2}, {x} {y2}"
        return path, x + SIDE_ARC * 3 // 4, (y1 + y2) // 2
    if start.x > end.x:
        x1, x2 = start.x, end.x + end.width
    else:
        x1, x2 = start.x + start.width, end.x
    middle = (x1 + x2) // 2
    path = f"M {x1} {y1} C {middle} {y1}, {middle} {y2}, {x2} {y2}"
    return path, middle, (y1 + y2) // 2 - 4
