"""What a picture shows, as plain data: drawn nodes and edges with their texts, paths and styles.

Built from the graph, its gradients and (with --wrt) the paths of `gad paths`, so the picture
reads the very numbers the tables print. --only-paths and --compact shape the picture here;
turning it into DOT is render/dot.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.backward import Gradients
from graphviz_ad.engine.graph import CONSTANT, INPUT, Graph, output_name
from graphviz_ad.engine.ops import ELEMENTWISE, MATMUL, REDUCE
from graphviz_ad.engine.paths import (PathSummary, edge_uses, fewer, path_counts,
                                      paths_to_output)
from graphviz_ad.errors import UsageError
from graphviz_ad.render.export import MAX_EXPORT_NODES
from graphviz_ad.style import PATH_COLOURS

OUTPUT = "output"  # a drawn node's kind: the graph's kinds, and the output
VALUE_LABELS = "value"
FORMULA_LABELS = "formula"
BOTH_LABELS = "both"
DIGITS = 4
# Path counts on the picture are compared with the coloured paths only (is an edge on a path
# beyond them?), so they are held at most this: small integers, whatever the graph.
COUNT_CAP = len(PATH_COLOURS) + 1
ONLY_PATHS_NEED_WRT = "--only-paths needs --wrt NAME: the paths from which input?"


@dataclass(frozen=True)
class DrawnNode:
    id: str
    kind: str            # input, constant, no_grad, operation, output
    title: str           # op symbol or input name (a folded chain: `sin → exp`)
    name: str            # the name the program gave it, or ""
    value: str
    adjoint: str         # "" where no gradient is computed (constants)
    tooltip: str         # the source text it computes
    faded: bool = False  # with --wrt: does not depend on that input


@dataclass(frozen=True)
class DrawnEdge:
    tail: str            # producer
    head: str            # consumer
    slot: int
    label: str
    cut: bool            # a detach: no gradient by design
    no_gradient: bool    # into a constant: nothing to differentiate
    paths: tuple[int, ...] = ()  # indices of the coloured paths that use it
    on_rest: bool = False        # used by a path beyond the coloured ones


@dataclass(frozen=True)
class LegendRow:
    colour_index: int | None  # None for the row of the rest
    text: str
    product: str


@dataclass(frozen=True)
class Picture:
    nodes: tuple[DrawnNode, ...]
    edges: tuple[DrawnEdge, ...]
    output_name: str
    wrt: str | None = None
    legend: tuple[LegendRow, ...] = ()
    legend_total: str = ""
    caption: str = ""


def _node_id(node: int) -> str:
    return f"n{node}"


def summarize_array(value: Any, exact: bool = False) -> str:
    """Short text for a value: a number, a small array in full, else its shape and range."""
    digits = None if exact else DIGITS
    if np.ndim(value) == 0:
        return display.number(value, digits)
    if np.size(value) <= 4:
        return display.value(value, digits).replace("\n", "")
    array = np.asarray(value)
    return (f"{display.shape(array)} in [{display.number(array.min(), 3)}, "
            f"{display.number(array.max(), 3)}]")


def local_label(linear_map: str, local: Any) -> str:
    """An edge's local derivative, summarised: a diagonal for elementwise arrays, the
    transposed other operand for @, a broadcast factor for reductions."""
    if np.ndim(local) == 0:
        text = display.number(local, DIGITS)
        return text if linear_map != REDUCE else f"{text} (each)"
    if linear_map == MATMUL:
        return f"({summarize_array(local)})ᵀ"
    if linear_map == ELEMENTWISE:
        return f"diag {summarize_array(local)}"
    return summarize_array(local)


def argument_names(graph: Graph) -> list[str]:
    """How formulas name each node: its input or program name, a literal's text, else its source."""
    names = []
    for node in range(len(graph)):
        given = graph.names.get(node)
        if graph.kinds[node] in (INPUT, CONSTANT):
            names.append(graph.labels[node])
        elif given:
            names.append(given[-1])
        else:
            names.append(display.atom(graph.text(node)))
    return names


def _edge_text(graph: Graph, gradients: Gradients, consumer: int, slot: int, mode: str,
               names: list[str]) -> str:
    local = gradients.local[consumer][slot]
    op = graph.ops[consumer]
    if op.stops_gradient:
        return "cut"
    if local is None:
        return ""
    number = local_label(op.linear_map, local)
    if mode == VALUE_LABELS:
        return number
    formula = op.partials[slot].formula.format(*[names[a] for a in graph.args[consumer]])
    return _with_number(formula, number, mode)


def _with_number(formula: str, number: str, mode: str) -> str:
    if mode == FORMULA_LABELS:
        return formula
    return number if formula == number else f"{formula} = {number}"


def _fold_chains(graph: Graph) -> dict[int, int]:
    """--compact: map each node folded away to the last node of its chain, which is drawn.

    A chain is a run of one-input elementwise operations (sin, exp, -x, ...) in which every
    node but the last has the next as its only consumer and no name of its own.
    """
    consumers = graph.consumers()

    def unary(node: int) -> bool:
        op = graph.ops[node]
        return op is not None and op.arity == 1 and op.linear_map == ELEMENTWISE \
            and not op.stops_gradient

    into: dict[int, int] = {}
    for node in range(len(graph) - 1, -1, -1):
        if not unary(node) or node == graph.output or graph.names.get(node) \
                or len(consumers[node]) != 1:
            continue
        consumer = consumers[node][0][0]
        if unary(consumer):
            into[node] = into.get(consumer, consumer)
    return into


def drawn_nodes(gradients: Gradients, wrt: str | None = None, only_paths: bool = False,
                compact: bool = False) -> int:
    """How many nodes `build_picture` would draw, found in linear time without drawing them,
    so that a budget can refuse a picture before it is built."""
    if only_paths and wrt is None:
        raise UsageError(ONLY_PATHS_NEED_WRT)
    graph = gradients.graph
    folded = _fold_chains(graph) if compact else {}
    if not only_paths:
        return len(graph) - len(folded)
    from_input = path_counts(gradients, graph.inputs[wrt], COUNT_CAP)
    return sum(1 for node in range(len(graph)) if from_input[node] and node not in folded)


def refuse_layout(gradients: Gradients, inputs: list[str], wrt: str | None, only_paths: bool,
                  compact: bool, max_nodes: int, command: str = "graph") -> None:
    """Refuse, before anything is drawn, a picture of more than `max_nodes` nodes; the hint
    names only what would draw fewer: options not given that fold or drop nodes here (sized,
    each in linear time: --only-paths for --wrt or the one input), DOT (no layout), or a
    larger --max-nodes."""
    nodes = drawn_nodes(gradients, wrt, only_paths, compact)
    if nodes <= max_nodes:
        return
    options = []
    if not compact:
        options.append((drawn_nodes(gradients, wrt, only_paths, True), "--compact"))
    paths_of = wrt or (inputs[0] if len(inputs) == 1 else None)
    if not only_paths and paths_of is not None:
        flags = "--only-paths" if wrt else f"--wrt {paths_of} --only-paths"
        options.append((drawn_nodes(gradients, paths_of, True, compact), flags))
    helpful = sorted(option for option in options if option[0] < nodes)[:2]
    where = "" if command == "graph" else "gad graph with "
    hints = [f"{where}{flags} draws {count:,}" for count, flags in helpful]
    if nodes <= MAX_EXPORT_NODES:
        hints.append("DOT (-o FILE.dot) needs no layout")
    hints.append(f"--max-nodes {nodes} lays it out anyway, which can take Graphviz minutes")
    raise UsageError(f"the picture would have {nodes:,} nodes, more than --max-nodes "
                     f"{max_nodes:,}", None, "; ".join(hints))


def build_picture(gradients: Gradients, summary: PathSummary | None = None,
                  edge_labels: str = VALUE_LABELS, only_paths: bool = False,
                  compact: bool = False) -> Picture:
    graph = gradients.graph
    if edge_labels not in (VALUE_LABELS, FORMULA_LABELS, BOTH_LABELS):
        raise UsageError(f"unknown edge labels `{edge_labels}`", None,
                         f"use {VALUE_LABELS}, {FORMULA_LABELS} or {BOTH_LABELS}")
    if only_paths and summary is None:
        raise UsageError(ONLY_PATHS_NEED_WRT)
    names = argument_names(graph) if edge_labels != VALUE_LABELS else []
    output = output_name(graph)
    coloured = summary.paths[:len(PATH_COLOURS)] if summary else ()
    uses = edge_uses(coloured)
    from_input = path_counts(gradients, graph.inputs[summary.name], COUNT_CAP) \
        if summary else None
    to_output = paths_to_output(gradients, COUNT_CAP) if summary else None
    folded = _fold_chains(graph) if compact else {}
    chains: dict[int, list[int]] = {}
    for node in sorted(folded):
        chains.setdefault(folded[node], []).append(node)

    def keep(node: int) -> bool:
        return not only_paths or from_input[node] > 0

    def edge(producer: int, consumer: int, slot: int, label: str, key: tuple[int, int]):
        on_rest = False
        if from_input is not None and gradients.local[key[0]][key[1]] is not None:
            through = from_input[producer] * to_output[consumer]
            on_rest = through > len(uses.get(key, ()))
        return DrawnEdge(_node_id(producer), _node_id(consumer), slot, label,
                         cut=graph.is_cut(key[0]),
                         no_gradient=gradients.local[key[0]][key[1]] is None
                         and not graph.is_cut(key[0]),
                         paths=tuple(uses.get(key, ())), on_rest=on_rest)

    nodes = []
    for node in range(len(graph)):
        if node in folded or not keep(node):
            continue
        members = chains.get(node, []) + [node]
        nodes.append(DrawnNode(
            _node_id(node), OUTPUT if node == graph.output else graph.kinds[node],
            display.runs([display.abbreviate(graph.labels[member], display.MAX_TITLE)
                          for member in members], " → "),
            display.abbreviate(", ".join(graph.names.get(node, ())), display.MAX_TITLE),
            summarize_array(graph.values[node]),
            summarize_array(gradients.adjoints[node]) if graph.requires_grad[node] else "",
            graph.text(node), faded=summary is not None and from_input[node] == 0))
    edges = []
    for consumer, slot, producer in graph.edges():
        if consumer in folded or producer in folded or not (keep(consumer) and keep(producer)):
            continue
        label = _edge_text(graph, gradients, consumer, slot, edge_labels, names)
        edges.append(edge(producer, consumer, slot, label, (consumer, slot)))
    for last, members in chains.items():
        producer = graph.args[members[0]][0]
        if keep(last) and keep(producer):
            label = _chain_label(graph, gradients, members + [last], edge_labels, names)
            edges.append(edge(producer, last, 0, label, (members[0], 0)))
    return Picture(tuple(nodes), tuple(edges), output, summary.name if summary else None,
                   *_legend(graph, summary, coloured, output),
                   caption=_caption(output, edge_labels))


def _chain_label(graph: Graph, gradients: Gradients, chain: list[int], mode: str,
                 names: list[str]) -> str:
    """A folded chain's edge: the product of its local derivatives (all elementwise)."""
    product: Any = np.float64(1.0)
    for node in chain:
        local = gradients.local[node][0]
        if local is None:
            return ""
        product = product * local
    number = local_label(ELEMENTWISE, product)
    if mode == VALUE_LABELS:
        return number
    formula = " · ".join(display.atom(graph.ops[node].partials[0].formula.format(
        names[graph.args[node][0]])) for node in chain)
    return _with_number(formula, number, mode)


def _legend(graph: Graph, summary: PathSummary | None, coloured: tuple,
            output_name: str) -> tuple[tuple[LegendRow, ...], str]:
    """One row per coloured path, one for all the rest, and the sum equal to the gradient."""
    if summary is None:
        return (), ""
    rows = [LegendRow(index, display.path_chain(graph, path), summarize_array(path.product))
            for index, path in enumerate(coloured)]
    rest_count = fewer(summary.count, len(coloured))
    if rest_count:
        rest = summary.gradient - sum((path.product for path in coloured),
                                      np.zeros_like(summary.gradient))
        rows.append(LegendRow(None, display.other_paths(rest_count), summarize_array(rest)))
    return tuple(rows), (f"sum = d{output_name}/d{summary.name} = "
                         f"{summarize_array(summary.gradient, exact=True)}")


def _caption(output_name: str, edge_labels: str) -> str:
    edges = {VALUE_LABELS: "local derivative d(head)/d(tail) at the point",
             FORMULA_LABELS: "local derivative d(head)/d(tail) as a formula",
             BOTH_LABELS: "local derivative d(head)/d(tail): formula = value"}[edge_labels]
    return (f"node: value, and grad = d{output_name}/d(node) · edge: {edges} · "
            "dashed: cut (detach) · dotted: no gradient")
