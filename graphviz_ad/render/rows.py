"""A default picture's direction, and long ones wrapped into rows, to keep a screen's shape.

Graphviz lays a graph out by ranks: left to right, a chain of a hundred operations is a strip a
hundred boxes long. A default picture (`--rankdir auto`) is drawn left to right where that keeps
it within WIDEST_ASPECT (at most three times as wide as it is tall), else top to bottom where
that does; and where neither does, its nodes are cut by depth (the longest path from a leaf) into
rows of consecutive depths, read like lines of text: each row left to right, the rows top to
bottom. The DOT writer (render/dot.py) makes each row one rank of a top-to-bottom layout, so
edges inside a row run left to right and an edge into the next row wraps down to its start.
The sizes are estimated from the boxes' texts, before any layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from graphviz_ad.render.picture import DrawnNode, Picture

# A picture wider than this many times its height is wrapped, into rows chosen to bring it
# nearest TARGET_ASPECT.
WIDEST_ASPECT = 3.0
TARGET_ASPECT = 1.6
# Sizes in points as dot draws our boxes, estimated before layout (checked on the samples).
CHARACTER = 7.0          # a box's text, per character
BOX_MARGIN = 24.0
EDGE_LABEL_WIDTH = 35.0  # beside each box, the label of the edge into the next
BOX_HEIGHT = 75.0
MAP_HEIGHT = 55.0        # a heatmap or bars in a box, about (render/dot.py draws them)
CAPTION_HEIGHT = 45.0    # the caption, on up to three lines
ROW_GAP = 60.0           # between rows, where the edges that wrap run
CAPTION_CHARACTER = 5.5  # the caption's font, per character
FLOATING_KINDS = ("constant", "cut")  # leaves that are not inputs: placed by their consumers
# Boxes side by side are estimated wider than dot draws them (up to a quarter, on resnet18): a
# top-to-bottom layout is chosen only with this much to spare.
TB_MARGIN = 1.25


def depths(picture: Picture) -> dict[str, int]:
    """Each drawn node's depth, as dot ranks it: one more than its deepest argument's, and a
    leaf (a node with no drawn argument) just before its first consumer."""
    arguments: dict[str, list[str]] = {node.id: [] for node in picture.nodes}
    consumers: dict[str, list[str]] = {node.id: [] for node in picture.nodes}
    for edge in picture.edges:
        if edge.head in arguments and edge.tail in arguments:
            arguments[edge.head].append(edge.tail)
            consumers[edge.tail].append(edge.head)
    found: dict[str, int] = {}
    for node in picture.nodes:
        stack = [node.id]
        while stack:  # iterative: a node's arguments first, however deep
            current = stack[-1]
            pending = [tail for tail in arguments[current] if tail not in found]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            found[current] = max((found[tail] + 1 for tail in arguments[current]), default=0)
    # A leaf, and a part computed from leaves alone that are not inputs (`0.01*i`), sits just
    # before its first consumer, as dot places it, not at depth 0 beside the inputs.
    floating = {node.id: node.kind in FLOATING_KINDS for node in picture.nodes}
    for node in picture.nodes:
        tails = arguments[node.id]
        if tails and node.kind not in FLOATING_KINDS:
            floating[node.id] = all(floating[tail] for tail in tails)
    for node in reversed(picture.nodes):
        heads = consumers[node.id]
        if heads and (floating[node.id] or not arguments[node.id]):
            found[node.id] = max(0, min(found[head] for head in heads) - 1)
    return found


def box_width(node: DrawnNode) -> float:
    """About how wide dot draws a box, in points, from its longest line."""
    longest = max(len(node.title) + len(node.name) + 3, len(node.value), len(node.adjoint) + 5,
                  len(node.folded), len(node.repeats))
    return longest * CHARACTER + BOX_MARGIN


def legend_width(picture: Picture) -> float:
    """About how wide dot draws the colour legend, which a left-to-right picture puts on its
    right: its longest row."""
    return max((len(row.text) + len(row.product) + 6 for row in picture.legend),
               default=-BOX_MARGIN / CHARACTER) * CHARACTER + BOX_MARGIN


def box_height(node: DrawnNode) -> float:
    """About how tall dot draws a box, in points: its texts, and the heatmaps it shows."""
    return BOX_HEIGHT + MAP_HEIGHT * ((node.value_map is not None) + (node.grad_map is not None))


@dataclass(frozen=True)
class Arrangement:
    """How a default picture is laid out: its direction, and its rows where it is wrapped."""

    rankdir: str
    rows: tuple[tuple[str, ...], ...] = ()


def arrange(picture: Picture, wrap: bool = True) -> Arrangement:
    """Left to right while that keeps within WIDEST_ASPECT; else top to bottom, where that does;
    else wrapped into rows of consecutive depths, each in depth order, chosen to bring the
    picture nearest TARGET_ASPECT (a long chain, a strip either way); without `wrap`, left to
    right then."""
    if not picture.nodes:
        return Arrangement("LR")
    level = depths(picture)
    count = max(level.values()) + 1
    widths = {node.id: box_width(node) + EDGE_LABEL_WIDTH for node in picture.nodes}
    heights = {node.id: box_height(node) for node in picture.nodes}
    stacked = [0.0] * count       # a depth's nodes one over another
    depth_height = [0.0] * count  # its tallest
    depth_width = [0.0] * count
    side_by_side = [0.0] * count  # a depth's nodes in a row
    for node, depth in level.items():
        stacked[depth] += heights[node]
        depth_height[depth] = max(depth_height[depth], heights[node])
        depth_width[depth] = max(depth_width[depth], widths[node])
        side_by_side[depth] += widths[node]
    if sum(depth_width) + legend_width(picture) <= \
            WIDEST_ASPECT * (max(stacked) + CAPTION_HEIGHT):
        return Arrangement("LR")
    if max(side_by_side) * WIDEST_ASPECT >= TB_MARGIN * (sum(depth_height) + count * ROW_GAP):
        return Arrangement("TB")
    row_height = sum(depth_height) / count  # a row's, on average
    if not wrap:
        return Arrangement("LR")
    before = [0.0]  # the widths of the depths before each, for a row's width in one step
    for width in side_by_side:
        before.append(before[-1] + width)
    best, best_gap = count, math.inf
    for size in range(1, count + 1):  # depths per row: count / size rows to weigh, n log n
        width = max(before[min(start + size, count)] - before[start]
                    for start in range(0, count, size))
        height = math.ceil(count / size) * (row_height + ROW_GAP)
        gap = abs(math.log(width / height / TARGET_ASPECT))
        if gap < best_gap:
            best, best_gap = size, gap
    wrapped: list[list[str]] = [[] for _ in range(math.ceil(count / best))]
    for node in sorted(picture.nodes, key=lambda node: level[node.id]):
        wrapped[level[node.id] // best].append(node.id)
    return Arrangement("TB", tuple(map(tuple, wrapped)))


def caption_lines(caption: str, picture: Picture, arrangement: Arrangement) -> str:
    """The caption, one line per part (`node: …`, `edge: …`) where in one line it would be
    wider than the picture, so that it does not widen a small one."""
    widths = {node.id: box_width(node) + EDGE_LABEL_WIDTH for node in picture.nodes}
    if arrangement.rows:
        width = max(sum(widths[node] for node in row) for row in arrangement.rows)
    elif arrangement.rankdir == "TB":
        level = depths(picture)
        across: dict[int, float] = {}
        for node, depth in level.items():
            across[depth] = across.get(depth, 0.0) + widths[node]
        width = max(across.values(), default=0.0)
    else:
        level = depths(picture)
        widest: dict[int, float] = {}
        for node, depth in level.items():
            widest[depth] = max(widest.get(depth, 0.0), widths[node])
        width = sum(widest.values())
    if len(caption) * CAPTION_CHARACTER <= width:
        return caption
    return "\n".join(caption.split(" · "))

