"""A picture as Graphviz DOT: HTML-like labels built from escaped parts, one table of styles.

The colour legend: inputs green, data blue-grey and square, the output brown, constants small and
grey, every other node neutral; each node shows its value and its grad (d output / d node). Each
edge is one argument slot, labelled with its local derivative. With --wrt, path k is drawn in
PATH_COLOURS[k] (the row colours of `gad paths`) and tagged with its number, `[k+1]`, paths past
the palette in one grey, and nodes that do not depend on the input are faded. Dashed edges with a
bar are cut (detach); dotted ones carry no gradient. An array's value and grad are drawn under
their texts as tables of coloured cells (heatmaps, a vector's bars): no image files, so every
format and both renderers carry them.
"""

from __future__ import annotations

from html import escape
from typing import Any

import graphviz

from graphviz_ad.display import Heatmap
from graphviz_ad.engine.annotated import (CONSTANT, CUT, DATA, GROUP, INPUT, OPERATION,
                                          short_name)
from graphviz_ad.options import LARGE_PICTURE
from graphviz_ad.render.rows import Arrangement, arrange, caption_lines
from graphviz_ad.render.picture import OUTPUT, DrawnEdge, DrawnNode, Picture
from graphviz_ad.style import (HEAT_LEVELS, LIGHT, Theme, heat_colour, path_colour,
                               readable_on)
from graphviz_ad.text import printable

FORWARD = "forward"
BACKWARD = "backward"
NETWORK = "network"
FONT = "Helvetica"
MAX_EDGE_COLOURS = 4


def graph_style(theme: Theme) -> dict[str, str]:
    return {"bgcolor": theme.paper, "fontname": FONT, "fontsize": "10", "fontcolor": theme.muted,
            "labelloc": "b", "nodesep": "0.3", "ranksep": "0.45", "pad": "0.2"}


def node_style(theme: Theme) -> dict[str, str]:
    return {"shape": "box", "style": "rounded,filled", "fillcolor": theme.box,
            "color": theme.line, "fontname": FONT, "fontsize": "12", "fontcolor": theme.ink,
            "margin": "0.08,0.04", "penwidth": "1.2"}


def edge_style(theme: Theme) -> dict[str, str]:
    return {"fontname": FONT, "fontsize": "10", "fontcolor": theme.ink, "color": theme.line,
            "arrowsize": "0.7"}


def kind_style(kind: str, theme: Theme) -> dict[str, str]:
    return {
        INPUT: {"fillcolor": theme.input_fill, "color": theme.input_line, "penwidth": "1.8"},
        DATA: {"style": "filled", "fillcolor": theme.data_fill, "color": theme.data_line,
               "penwidth": "1.4"},
        OUTPUT: {"fillcolor": theme.output_fill, "color": theme.output_line, "penwidth": "2.2"},
        CONSTANT: {"shape": "ellipse", "style": "filled", "fillcolor": theme.constant_fill,
                   "color": theme.constant_line, "fontcolor": theme.muted, "fontsize": "9",
                   "margin": "0.02,0.01", "height": "0.25", "width": "0.3"},
        CUT: {"style": "rounded,dashed,filled", "fillcolor": theme.constant_fill,
              "color": theme.cut_line},
        OPERATION: {},
        GROUP: {"fillcolor": theme.group_fill, "color": theme.group_line, "penwidth": "1.6",
                "peripheries": "2"},
    }[kind]


# A copy of a much-used leaf: its name only, dashed, so it reads as the same leaf again.
COPY_STYLE = {"style": "rounded,dashed,filled", "fontsize": "10", "margin": "0.04,0.02"}


def cluster_style(theme: Theme) -> dict[str, str]:
    return {"style": "rounded,dashed", "color": theme.cluster_line, "fontcolor": theme.group_line,
            "fontsize": "10", "labeljust": "l"}
# A heatmap is at most HEAT_SIZE points a side, its cells at most BIGGEST_CELL; a bar BAR_WIDTH
# wide and BAR_STEP high per level, about a zero line.
HEAT_SIZE = 60
BIGGEST_CELL = 10
BAR_WIDTH = 5
BAR_STEP = 3
HEAT_BORDER = "#b0b0b0"


def _html(text: str) -> str:
    """Text for an HTML-like label: no control characters (SVG is XML), `<` and `&` escaped."""
    return escape(printable(text), quote=True)


def _plain(text: str) -> str:
    """Text for a plain label: `\\N` or `\\l` in a comment is shown as typed, not expanded."""
    return graphviz.escape(printable(text))


def _tooltip(text: str) -> str:
    """Graphviz unescapes a tooltip twice (as a label, then for `\\N` and `\\G`), so backslashes
    are doubled twice."""
    return graphviz.escape(_plain(text))


def parameters_text(count: int) -> str:
    """`147,968 parameters`, as torchinfo counts them."""
    return f"{count:,} parameter{'s' if count != 1 else ''}"


TITLE, VALUE, GRAD, MAP, NOTE = "title", "value", "grad", "map", "note"


def box_lines(node: DrawnNode, view: str) -> list[tuple[str, Any]]:
    """What a box shows, line by line, for each format that writes it in its own markup (DOT's
    labels, TikZ): its title (the program's name for it, the op or input, a folded group's
    parameter count), value and its heatmap, grad and its heatmap, and a folded group's notes.
    A constant and a leaf's copy show their title alone, which each format writes its way."""
    shown = node.backward_title if view == BACKWARD and node.backward_title else node.title
    named = node.name if node.name and node.kind not in (INPUT, DATA) \
        and node.name != node.title else ""
    lines: list[tuple[str, Any]] = [
        (TITLE, (named, shown, parameters_text(node.parameters) if node.parameters else "")),
        (VALUE, node.value)]
    if node.value_map:
        lines.append((MAP, node.value_map))
    if node.adjoint:
        lines.append((GRAD, node.adjoint))
        if node.grad_map:
            lines.append((MAP, node.grad_map))
    return lines + [(NOTE, note) for note in (node.folded, node.repeats) if note]


def _node_label(node: DrawnNode, view: str, theme: Theme) -> str:
    if node.kind == CONSTANT:
        return _plain(node.title)
    if node.copy_of:
        return f"<<B>{_html(node.title)}</B>>"
    colour = theme.faded if node.faded else theme.ink
    rows = []
    for role, content in box_lines(node, view):
        if role == TITLE:
            named, shown, parameters = content
            title = f"<B>{_html(shown)}</B>"
            if named:
                title = f"<I>{_html(named)}</I> = {title}"
            if parameters:
                title += f" · {parameters}"
            cell = f'<FONT COLOR="{colour}">{title}</FONT>'
        elif role == MAP:
            cell = heatmap_table(content)
        else:
            size, shade, text = {
                VALUE: ("10", colour, content),
                GRAD: ("10", theme.faded if node.faded else theme.grad, f"grad {content}"),
                NOTE: ("9", theme.faded if node.faded else theme.muted, content)}[role]
            cell = f'<FONT POINT-SIZE="{size}" COLOR="{shade}">{_html(text)}</FONT>'
        rows.append(f"<TR><TD>{cell}</TD></TR>")
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(rows) + "</TABLE>>")


def cell_size(heatmap: Heatmap) -> int:
    """A heatmap's cell side in points: the map at most HEAT_SIZE a side."""
    return min(BIGGEST_CELL, HEAT_SIZE // max(len(heatmap.cells), len(heatmap.cells[0])))


def heatmap_table(heatmap: Heatmap) -> str:
    """A heatmap as a table of coloured cells, each its level's colour; a vector as bars, each
    as many cells high as its level, above the zero line for a positive number, below for a
    negative one (a side no bar reaches is left out)."""
    if heatmap.bars:
        return _bars_table(heatmap.cells[0])
    height, width = len(heatmap.cells), len(heatmap.cells[0])
    size = cell_size(heatmap)
    rows = ("<TR>" + "".join(f'<TD WIDTH="{size}" HEIGHT="{size}" FIXEDSIZE="TRUE" '
                             f'BGCOLOR="{heat_colour(level)}"></TD>' for level in row) + "</TR>"
            for row in heatmap.cells)
    # Fixed, or a table in a wider box is stretched to its width, its cells spread apart.
    return (f'<TABLE BORDER="1" COLOR="{HEAT_BORDER}" CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="0" FIXEDSIZE="TRUE" WIDTH="{width * size + 2}" '
            f'HEIGHT="{height * size + 2}">{"".join(rows)}</TABLE>')


def _bars_table(levels: tuple[int, ...]) -> str:
    """Each bar a cell spanning as many rows as its level, and an empty one above (or below) it
    to the edge: two cells a side per bar, however tall. A first column of empty cells, one per
    row, keeps every row (Graphviz refuses a row in which no cell starts)."""
    top, bottom = max(max(levels), 0), max(-min(levels), 0)
    rows = [[_bar_cell(None, 1, 1 if row == top else BAR_STEP, 1)]
            for row in range(top + bottom + 1)]
    for level in levels:
        up, down = max(level, 0), max(-level, 0)
        if top > up:
            rows[0].append(_bar_cell(None, top - up))
        if up:
            rows[top - up].append(_bar_cell(heat_colour(HEAT_LEVELS), up))
        rows[top].append(_bar_cell(HEAT_BORDER, 1, 1))
        if down:
            rows[top + 1].append(_bar_cell(heat_colour(-HEAT_LEVELS), down))
        if bottom > down:
            rows[top + 1 + down].append(_bar_cell(None, bottom - down))
    size = (f'FIXEDSIZE="TRUE" WIDTH="{len(levels) * BAR_WIDTH + 1}" '
            f'HEIGHT="{(top + bottom) * BAR_STEP + 1}"')
    return (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0" {size}>'
            + "".join(f"<TR>{''.join(row)}</TR>" for row in rows) + "</TABLE>")


def _bar_cell(colour: str | None, rows: int, height: int | None = None,
              width: int = BAR_WIDTH) -> str:
    """A cell `rows` levels high (or `height` points), filled with `colour` if any."""
    span = f' ROWSPAN="{rows}"' if rows > 1 else ""
    fill = f' BGCOLOR="{colour}"' if colour else ""
    return (f'<TD{span} WIDTH="{width}" HEIGHT="{rows * BAR_STEP if height is None else height}" '
            f'FIXEDSIZE="TRUE"{fill}></TD>')


def _node_attributes(node: DrawnNode, theme: Theme) -> dict[str, str]:
    attributes = kind_style(node.kind, theme)
    if node.folded and node.kind == OUTPUT:
        attributes["peripheries"] = "2"
    if node.copy_of:
        attributes.update(COPY_STYLE)
    if node.faded:
        attributes.update(color=theme.faded, fillcolor=theme.box, fontcolor=theme.faded)
    attributes["tooltip"] = _tooltip(node.tooltip)
    return attributes


def path_tag(paths: tuple[int, ...]) -> str:
    """`[1]`, `[1,3]`, `[2-4,6]`: the legend's numbers of the coloured paths an edge is on, so
    that a reader who cannot tell the colours apart can still follow each path."""
    numbers = sorted(index + 1 for index in paths)
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return "[" + ",".join(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run))
                          for run in runs) + "]"


def _edge_attributes(edge: DrawnEdge, picture: Picture, view: str,
                     theme: Theme) -> dict[str, str]:
    attributes: dict[str, str] = {}
    label = " ".join(filter(None, (edge.label, path_tag(edge.paths) if edge.paths else "")))
    if label:
        # In a large picture a label beside the edge (xlabel) rather than one that takes a rank
        # of its own: Graphviz then lays out the fan-out sum of 500 nodes in 1.6 s, not 77 s.
        key = "xlabel" if len(picture.nodes) > LARGE_PICTURE else "label"
        attributes[key] = _plain(f" {label} ")
    if edge.cut:
        attributes.update(style="dashed", color=theme.cut_line, fontcolor=theme.muted,
                          arrowhead="tee")
    elif edge.no_gradient:
        attributes.update(style="dotted", color=theme.no_gradient, fontcolor=theme.muted)
    elif edge.paths or edge.on_rest:
        colours = [path_colour(index) for index in edge.paths[:MAX_EDGE_COLOURS]]
        if edge.on_rest or len(edge.paths) > MAX_EDGE_COLOURS:
            colours.append(theme.rest)
        attributes.update(color=":".join(colours),
                          fontcolor=readable_on(colours[0], theme.paper),
                          penwidth=str(1.6 + 0.6 * min(len(colours), 3)))
    elif picture.wrt is not None:
        attributes.update(color=theme.faded, fontcolor=theme.faded)
    if view == BACKWARD:
        attributes["dir"] = "back"
    return attributes


def _legend_label(picture: Picture, theme: Theme) -> str:
    rows = [f'<TR><TD COLSPAN="4" ALIGN="LEFT"><B>paths from {_html(picture.wrt)} to '
            f'{_html(picture.output_name)}</B></TD></TR>']
    for row in picture.legend:
        coloured = row.colour_index is not None
        colour = path_colour(row.colour_index) if coloured else theme.rest
        number = path_tag((row.colour_index,)) if coloured else ""
        rows.append(f'<TR><TD ALIGN="RIGHT">{number}</TD><TD BGCOLOR="{colour}" WIDTH="14"> </TD>'
                    f'<TD ALIGN="LEFT">{_html(row.text)}</TD>'
                    f'<TD ALIGN="RIGHT">{_html(row.product)}</TD></TR>')
    rows.append(f'<TR><TD></TD><TD></TD><TD COLSPAN="2" ALIGN="LEFT"><B>'
                f'{_html(picture.legend_total)}</B></TD></TR>')
    return (f'<<TABLE BORDER="1" COLOR="{theme.constant_line}" CELLBORDER="0" CELLSPACING="2" '
            'CELLPADDING="3">'
            + "".join(rows) + "</TABLE>>")


def _sorted(attributes: dict[str, str]) -> dict[str, str]:
    return dict(sorted(attributes.items()))


AUTO = "auto"  # the default direction: left to right, or as render/rows.py arranges it


def to_digraph(picture: Picture, view: str = FORWARD, rankdir: str = AUTO,
               system_dot: bool = True, theme: Theme = LIGHT) -> graphviz.Digraph:
    """The picture as a graphviz.Digraph: ids n0, n1, ... in creation order, sorted attributes;
    `rankdir` auto: the direction and rows render/rows.py chooses for its shape (not for the
    `system_dot`, no rows, which graphviz-pure lays out slowly: left to right or top to bottom,
    whichever is nearer its bounds), in the colours of `theme`; the network view is drawn by
    render/network.py."""
    if view == NETWORK:
        from graphviz_ad.render.network import network_digraph

        return network_digraph(picture, rankdir, system_dot, theme)
    arrangement = arrange(picture, system_dot) if rankdir == AUTO else Arrangement(rankdir)
    wrapped = arrangement.rows
    caption = _plain(caption_lines(picture.caption, picture, arrangement))
    layout = {"rankdir": arrangement.rankdir, **({"newrank": "true"} if wrapped else {})}
    digraph = graphviz.Digraph("graphviz_ad", graph_attr=_sorted({**graph_style(theme), **layout,
                                                                   "label": caption}),
                               node_attr=_sorted(node_style(theme)),
                               edge_attr=_sorted(edge_style(theme)))
    # Rows are ranks across the whole picture: clusters, ranked apart, would tear them.
    clusters = _clusters(picture, theme) if picture.clusters and not wrapped else {}
    for node in picture.nodes:
        _innermost(node.group, clusters, digraph).node(
            node.id, _node_label(node, view, theme),
            _attributes=_sorted(_node_attributes(node, theme)))
    _nest(digraph, clusters)
    for edge in picture.edges:
        digraph.edge(edge.tail, edge.head,
                     _attributes=_sorted(_edge_attributes(edge, picture, view, theme)))
    for index, row in enumerate(wrapped):
        with digraph.subgraph(name=f"row_{index}") as line:
            line.attr(rank="same")
            for node in row:
                line.node(node)
        if index:  # rows start one under the other, as lines of text do
            digraph.edge(wrapped[index - 1][0], row[0], style="invis", weight="10")
    if picture.wrt is not None:
        with digraph.subgraph(name="legend_rank") as legend:
            legend.attr(rank="sink")
            legend.node("legend", _legend_label(picture, theme), shape="plain", style="",
                        tooltip="each coloured path and its product; they sum to the gradient")
    return digraph


def _clusters(picture: Picture, theme: Theme) -> dict[tuple[str, ...], graphviz.Digraph]:
    """A labelled cluster for each group holding two or more drawn nodes."""
    sizes: dict[tuple[str, ...], int] = {}
    for node in picture.nodes:
        for depth in range(1, len(node.group) + 1):
            sizes[node.group[:depth]] = sizes.get(node.group[:depth], 0) + 1
    shown = sorted(path for path, size in sizes.items() if size >= 2)
    return {path: graphviz.Digraph(f"cluster_{index}", graph_attr=_sorted(
        {**cluster_style(theme), "label": _plain(short_name(path)),
         "tooltip": _tooltip(".".join(path))}))
        for index, path in enumerate(shown)}


def _innermost(path: tuple[str, ...], clusters: dict, outside: graphviz.Digraph):
    """The cluster of the longest prefix of `path` that has one, else `outside`."""
    return next((clusters[path[:depth]] for depth in range(len(path), 0, -1)
                 if path[:depth] in clusters), outside)


def _nest(digraph: graphviz.Digraph, clusters: dict[tuple[str, ...], graphviz.Digraph]) -> None:
    """Each cluster inside its nearest drawn parent, innermost first, once it is complete
    (graphviz copies a subgraph's text when it is added)."""
    for path in sorted(clusters, key=len, reverse=True):
        _innermost(path[:-1], clusters, digraph).subgraph(clusters[path])
