"""What a picture shows, as plain data: drawn nodes and edges with their texts, paths and styles.

Built from the graph, its gradients and (with --wrt) the paths of `gad paths`, so the picture
reads the very numbers the tables print. --only-paths and --compact shape the picture here;
turning it into DOT is render/dot.py's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.annotated import (CONSTANT, CUT, DATA, GROUP, INPUT, OUTPUT,
                                          AnnotatedGraph, output_name)
from graphviz_ad.engine.linear import ELEMENTWISE, LinearMap
from graphviz_ad.engine.paths import (CountEstimate, PathSummary, edge_uses, fewer, path_counts,
                                      paths_to_output)
from graphviz_ad.errors import UsageError
from graphviz_ad.options import EDGE_LABELS, LARGE_PICTURE
from graphviz_ad.style import HEAT_LEVELS, PATH_COLOURS

VALUE_LABELS, FORMULA_LABELS, BOTH_LABELS = EDGE_LABELS
DIGITS = 4
# A number in a literal's text with more significant digits than this is drawn rounded to DIGITS,
# as values are (`5.656854249492381`, float32's `0.10000000149011612`); a shorter one as written.
LITERAL_DIGITS = 6
# A number standing alone in a text: not part of a name (`x2`), nor cut by an abbreviation's `…`.
_NUMBER = re.compile(r"(?<![\w.…])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.…])")
# A leaf used by more edges than this is drawn as one copy per use in a large picture.
FANOUT_LIMIT = 6
# Path counts on the picture are compared with the coloured paths only (is an edge on a path
# beyond them?), so they are held at most this: small integers, whatever the graph.
COUNT_CAP = len(PATH_COLOURS) + 1
# DOT and JSON need no layout, but grow about 450 bytes a node: 45 MB, a few seconds
# (render/compose.py refuses more).
MAX_EXPORT_NODES = 100_000
ONLY_PATHS_NEED_WRT = "--only-paths needs --wrt NAME: the paths from which input?"


@dataclass(frozen=True)
class DrawnNode:
    id: str
    kind: str            # input, constant, cut, operation, output
    title: str           # op symbol or input name (a folded chain: `sin → exp`)
    name: str            # the name the program gave it, or ""
    value: str
    adjoint: str         # "" where no gradient is computed (constants)
    tooltip: str         # the source text it computes
    faded: bool = False  # with --wrt: does not depend on that input
    # The numbers themselves, for writers that keep them exact (JSON).
    raw_value: Any = None
    raw_adjoint: Any = None  # None where no gradient is computed
    names: tuple[str, ...] = ()
    members: tuple[int, ...] = ()  # the graph's nodes it shows (a folded chain or group: all)
    group: tuple[str, ...] = ()  # the group path it is drawn in (a cluster, when clusters are on)
    folded: str = ""             # a folded group: how many nodes, its input and output shapes
    copy_of: str = ""            # a copy of a much-used leaf: the id of the node it repeats
    # An importer's name for the node's backward function (`MulBackward0`): the backward view
    # shows it as the title.
    backward_title: str = ""
    opens: str = ""              # a folded group: its dotted name, which --expand takes
    parameters: int = 0          # a folded group: how many input elements (weights) it holds
    # A run of repeated groups folded as one box: what each hands on, in short, and each
    # group's name with the value and adjoint it hands on (the page steps through them).
    repeats: str = ""
    instances: tuple[tuple[str, str, str], ...] = ()
    # Its value and grad as small pictures, where the picture draws them (display.heatmap).
    value_map: display.Heatmap | None = None
    grad_map: display.Heatmap | None = None


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
    # The local derivative (a folded chain's: their product), read only by a format that shows
    # it exactly (JSON, the page): a traced op's or a folded group's costs a backward pass.
    local_of: Callable[[], Any] | None = field(default=None, compare=False)

    @property
    def raw_local(self) -> Any:
        return None if self.local_of is None else self.local_of()


@dataclass(frozen=True)
class LegendRow:
    colour_index: int | None  # None for the row of the rest
    text: str
    product: str
    raw_product: Any = None


@dataclass(frozen=True)
class PageRecords:
    """What a page steps through beside the drawing, as the JSON-ready records of records.py:
    the trace as `gad trace --json` gives it, and each input's paths as the rows of `gad paths`;
    and the pictures its folded groups open into."""

    trace: dict[str, Any]
    paths: dict[str, dict[str, Any]]  # by input name
    # The picture with one folded group expanded, by the group's dotted name: the page swaps
    # it in when that group is opened.
    expansions: dict[str, Picture] = field(default_factory=dict)


@dataclass(frozen=True)
class Picture:
    nodes: tuple[DrawnNode, ...]
    edges: tuple[DrawnEdge, ...]
    output_name: str
    wrt: str | None = None
    legend: tuple[LegendRow, ...] = ()
    legend_total: str = ""
    caption: str = ""
    # With wrt: how many paths lead from it to the output (an estimate past the budgets).
    path_count: int | CountEstimate | None = None
    notes: tuple[str, ...] = ()    # what was folded or split, and how to see more
    clusters: bool = False         # draw the expanded groups as labelled clusters
    # Only for a format that steps through the sweeps (Format.steps): render/compose.py adds them.
    page_records: PageRecords | None = None

    def __repr__(self) -> str:  # what it shows, not every box's fields
        paths = (f", the paths from {self.wrt} coloured ({display.count(self.path_count)})"
                 if self.wrt else "")
        return (f"Picture of {self.output_name}: {len(self.nodes):,} boxes, "
                f"{len(self.edges):,} edges{paths}")


def _node_id(node: int) -> str:
    return f"n{node}"


def summarize_array(value: Any, exact: bool = False,
                    ranges: display.Ranges | None = None) -> str:
    """Short text for a value: a number, a small array in full, else its shape and range (from
    `ranges` when given: a graph's, so each array's range is found once)."""
    return display.summary(value, None if exact else DIGITS, ranges=ranges)


def _rounded(match: re.Match) -> str:
    written = match.group()
    significant = re.sub(r"[eE].*", "", written).replace(".", "").strip("0")
    rounded = display.number(float(written), DIGITS)
    return rounded if len(significant) > LITERAL_DIGITS and len(rounded) < len(written) \
        else written


def literal_title(text: str) -> str:
    """A literal's text as drawn: each long number in it rounded like a value (`5.657`), a short
    one kept as written (`0.5`, `1e-20`); the exact text stays in the tooltip and the JSON."""
    return _NUMBER.sub(_rounded, text)


def _title(graph: AnnotatedGraph, node: int) -> str:
    """A node's label; a literal's rounded by `literal_title`, from its whole source text where
    the label is that text cut short (so `[0.3333333333333333, …]` rounds each number)."""
    label = graph.labels[node]
    if graph.kinds[node] not in (CONSTANT, CUT):
        return label
    text = graph.text(node)
    written = text if display.abbreviate(text, display.MAX_TITLE) == label else label
    return display.abbreviate(literal_title(written), display.MAX_TITLE)


def _value_text(graph: AnnotatedGraph, node: int) -> str:
    """A node's value as drawn; one its source did not keep says so, with its shape."""
    value = graph.values[node]
    if node not in graph.unknown_values:
        return summarize_array(value, ranges=graph.ranges)
    return f"{display.shape(value)} · value not kept" if np.ndim(value) else "value not kept"


def local_label(linear_map: LinearMap, local: Any, ranges: display.Ranges | None = None) -> str:
    """An edge's local derivative, summarised as its kind of Jacobian says: a diagonal for
    elementwise arrays, the transposed other operand for @, a broadcast factor for reductions."""
    return linear_map.label(summarize_array(local, ranges=ranges), np.ndim(local) == 0)


def argument_names(graph: AnnotatedGraph) -> list[str]:
    """How formulas name each node: its input or program name, a literal's text, else its source."""
    names = []
    for node in range(len(graph)):
        given = graph.names.get(node)
        if graph.kinds[node] in (INPUT, DATA, CONSTANT):
            names.append(_title(graph, node))
        elif given:
            names.append(given[-1])
        else:
            names.append(display.atom(graph.text(node)))
    return names


def _edge_text(graph: AnnotatedGraph, consumer: int, slot: int, mode: str,
               names: list[str], carried: dict[tuple[int, int], Any]) -> str:
    """The local derivative; on an edge between arrays, what it adds to its tail's grad (and
    then the local derivative is not read: a traced op's would cost a backward pass)."""
    op = graph.ops[consumer]
    if op.stops_gradient:
        return "cut"
    if not graph.flows(consumer, slot):
        return ""
    number = _carried_text(graph, consumer, slot, carried) \
        or local_label(op.linear_map, graph.local[consumer][slot], graph.ranges)
    if mode == VALUE_LABELS:
        return number
    formula = op.formula(slot, tuple(names[a] for a in graph.args[consumer]))
    return _with_number(formula, number, mode)


def _carried_text(graph: AnnotatedGraph, consumer: int, slot: int,
                  carried: dict[tuple[int, int], Any]) -> str:
    """On an edge between arrays, what the backward sweep added along it to its tail's grad
    (`+= 3×2 in [-0.2, 0.4], norm 0.61`); "" on an edge between numbers, whose local derivative
    says as much, and where the sweep's record has no part for it."""
    part = carried.get((consumer, slot))
    if part is None or not (np.ndim(graph.values[consumer]) or np.ndim(part)):
        return ""
    return display.carried(part, graph.ranges)


def _with_number(formula: str, number: str, mode: str) -> str:
    if mode == FORMULA_LABELS:
        return formula
    if number.startswith(display.CARRIED):  # not the formula's value: what the edge carries
        return f"{formula}; {number}"
    return number if formula == number else f"{formula} = {number}"


def _fold_chains(graph: AnnotatedGraph) -> dict[int, int]:
    """--compact: map each node folded away to the last node of its chain, which is drawn.

    A chain is a run of one-input elementwise operations (sin, exp, -x, ...) in which every
    node but the last has the next as its only consumer and no name of its own.
    """
    consumers = graph.consumers()

    def unary(node: int) -> bool:
        op = graph.ops[node]
        return op is not None and op.arity == 1 and op.elementwise and not op.stops_gradient

    into: dict[int, int] = {}
    for node in range(len(graph) - 1, -1, -1):
        if not unary(node) or node == graph.output or graph.names.get(node) \
                or len(consumers[node]) != 1:
            continue
        consumer = consumers[node][0][0]
        if unary(consumer):
            into[node] = into.get(consumer, consumer)
    return into


def drawn_nodes(graph: AnnotatedGraph, wrt: str | None = None, only_paths: bool = False,
                compact: bool = False) -> int:
    """How many nodes `build_picture` draws, with `split_fanout`'s copies in a large picture,
    counted in linear time without drawing any, so that a budget can refuse a picture first."""
    if only_paths and wrt is None:
        raise UsageError(ONLY_PATHS_NEED_WRT)
    folded = _fold_chains(graph) if compact else {}
    from_input = path_counts(graph, graph.inputs[wrt], 1) if only_paths else None

    def keep(node: int) -> bool:
        return from_input is None or from_input[node] > 0

    count = sum(1 for node in range(len(graph)) if node not in folded and keep(node))
    if count <= LARGE_PICTURE:
        return count
    uses = [0] * len(graph)  # drawn edges from each node; into a folded chain, to its end
    for consumer, _, producer in graph.edges():
        if producer not in folded and keep(producer) and keep(folded.get(consumer, consumer)):
            uses[producer] += 1
    leaves = (node for node in range(len(graph)) if node != graph.output
              and graph.kinds[node] in (INPUT, CONSTANT, CUT) and uses[node] > FANOUT_LIMIT)
    return count + sum(uses[node] - 1 for node in leaves)


def parameter_counts(unfolded: AnnotatedGraph, stands_for: Sequence[Sequence[int]]
                     ) -> tuple[int, ...]:
    """For each node of a folded graph (`stands_for`: engine/fold.Folding's), how many elements
    of `unfolded`'s inputs it holds: a model's parameters, a program's inputs folded inside."""
    return tuple(sum(int(np.size(unfolded.values[original])) for original in originals
                     if unfolded.kinds[original] == INPUT) for originals in stands_for)


def build_picture(graph: AnnotatedGraph, summary: PathSummary | None = None,
                  edge_labels: str = VALUE_LABELS, only_paths: bool = False,
                  compact: bool = False, parameters: Sequence[int] = (),
                  heatmaps: bool = False) -> Picture:
    """The picture of `graph` with the paths of `summary` coloured; `edge_labels` is one of
    EDGE_LABELS (render/compose.PictureOptions checks it). `parameters`, for a folded graph:
    `parameter_counts`, which each folded box says. With `heatmaps`, each box of an array
    shows its value and grad as pictures too (`_maps`)."""
    if only_paths and summary is None:
        raise UsageError(ONLY_PATHS_NEED_WRT)
    names = argument_names(graph) if edge_labels != VALUE_LABELS else []
    output = output_name(graph)
    coloured = summary.paths[:len(PATH_COLOURS)] if summary else ()
    uses = edge_uses(coloured)
    from_input = path_counts(graph, graph.inputs[summary.name], COUNT_CAP) if summary else None
    to_output = paths_to_output(graph, COUNT_CAP) if summary else None
    folded = _fold_chains(graph) if compact else {}
    chains: dict[int, list[int]] = {}
    for node in sorted(folded):
        chains.setdefault(folded[node], []).append(node)

    def keep(node: int) -> bool:
        return not only_paths or from_input[node] > 0

    def edge(producer: int, consumer: int, slot: int, label: str, key: tuple[int, int],
             local_of: Callable[[], Any]):
        on_rest = False
        if from_input is not None and graph.flows(*key):
            through = from_input[producer] * to_output[consumer]
            on_rest = through > len(uses.get(key, ()))
        return DrawnEdge(_node_id(producer), _node_id(consumer), slot, label,
                         cut=graph.is_cut(key[0]),
                         no_gradient=not graph.flows(*key) and not graph.is_cut(key[0]),
                         paths=tuple(uses.get(key, ())), on_rest=on_rest, local_of=local_of)

    nodes = []
    for node in range(len(graph)):
        if node in folded or not keep(node):
            continue
        members = chains.get(node, []) + [node]
        faded = summary is not None and from_input[node] == 0
        nodes.append(DrawnNode(
            _node_id(node), OUTPUT if node == graph.output else graph.kinds[node],
            display.runs([display.abbreviate(_title(graph, member), display.MAX_TITLE)
                          for member in members], " → "),
            display.abbreviate(", ".join(graph.names.get(node, ())), display.MAX_TITLE),
            _value_text(graph, node),
            summarize_array(graph.adjoints[node], ranges=graph.ranges)
            if graph.requires_grad[node] else "",
            graph.text(node), faded=faded,
            raw_value=None if node in graph.unknown_values else graph.values[node],
            raw_adjoint=graph.adjoints[node] if graph.requires_grad[node] else None,
            names=graph.names.get(node, ()), members=tuple(members),
            group=graph.groups.get(node, ()), folded=_folded_text(graph, node),
            backward_title=getattr(graph.ops[node], "backward_name", ""),
            opens=_opens(graph, node),
            parameters=parameters[node] if parameters and graph.kinds[node] == GROUP else 0,
            repeats=_repeats_text(graph, node), instances=_instances(graph, node),
            **(_maps(graph, node) if heatmaps and not faded else {})))
    edges = []
    carried = graph.carried_along() if edge_labels != FORMULA_LABELS else {}
    for consumer, slot, producer in graph.edges():
        if consumer in folded or producer in folded or not (keep(consumer) and keep(producer)):
            continue
        label = _edge_text(graph, consumer, slot, edge_labels, names, carried)
        edges.append(edge(producer, consumer, slot, label, (consumer, slot),
                          lambda row=graph.local[consumer], slot=slot: row[slot]))
    for last, members in chains.items():
        producer = graph.args[members[0]][0]
        if keep(last) and keep(producer):
            label, product = _chain_label(graph, members + [last], edge_labels, names,
                                          _carried_text(graph, members[0], 0, carried))
            edges.append(edge(producer, last, 0, label, (members[0], 0),
                              lambda product=product: product))
    return Picture(tuple(nodes), tuple(edges), output, summary.name if summary else None,
                   *_legend(graph, summary, coloured, output),
                   caption=_caption(output, edge_labels) + _array_caption(nodes, edges),
                   path_count=summary.count if summary else None)


def _maps(graph: AnnotatedGraph, node: int) -> dict[str, display.Heatmap | None]:
    """A box's value and grad as heatmaps: an operation's, an input's or a folded group's whose
    value is an array its text summarises (one of more than display.SHOWN_WHOLE elements, by
    its shape and range; a smaller one is written whole, a literal as its text); none for what
    its source did not keep."""
    if graph.kinds[node] in (CONSTANT, CUT) or node in graph.unknown_values \
            or np.size(graph.values[node]) <= display.SHOWN_WHOLE:
        return {}
    return {"value_map": display.heatmap(graph.values[node], HEAT_LEVELS, ranges=graph.ranges),
            "grad_map": display.heatmap(graph.adjoints[node], HEAT_LEVELS, ranges=graph.ranges)
            if graph.requires_grad[node] else None}


# What the caption adds where the picture has them: what an array edge's label is, what Jᵀ·1
# is where an edge keeps it, and how to read the heatmaps.
CARRIED_LEGEND = "array edge: += what it adds to its tail's grad (the chain rule's part: shape, " \
                 "range, norm)"
ACTION_LEGEND = "Jᵀ·1: d sum(head)/d(tail), a Jacobian known by its action"
HEATMAP_LEGEND = (f"pictures: an array's value and grad, blue < 0 < vermillion, scaled to its "
                  f"largest |cell|, a vector as bars · past {display.HEAT_CELLS} a side, means "
                  "of blocks; of 3 or more axes, the mean over all but the last two")


def _array_caption(nodes: Sequence[DrawnNode], edges: Sequence[DrawnEdge]) -> str:
    labels = [edge.label for edge in edges]
    parts = [text for text, shown in (
        (CARRIED_LEGEND, any(display.CARRIED in label for label in labels)),
        (ACTION_LEGEND, any("Jᵀ·1" in label for label in labels)),
        (HEATMAP_LEGEND, any(node.value_map or node.grad_map for node in nodes))) if shown]
    return "".join(f" · {part}" for part in parts)


def _folded_text(graph: AnnotatedGraph, node: int) -> str:
    """`13 nodes · scalar, 2×3 → scalar` for a folded group (`12 × 13 nodes · …` for a run of
    repeated ones); "" for any other node."""
    if graph.kinds[node] != GROUP:
        return ""
    shapes = [display.shape(graph.values[argument]) for argument in graph.args[node]]
    # Many inputs (a run's, each step's own) by their shapes, each shape said once.
    inputs = ", ".join(shapes) if len(shapes) <= display.SHOWN_WHOLE else \
        f"{len(shapes)} inputs: {', '.join(dict.fromkeys(shapes))}"
    count, repeated = graph.ops[node].members, len(graph.ops[node].instances)
    nodes = f"{repeated} × {count // repeated} nodes" if repeated else \
        f"{count} node{'s' if count != 1 else ''}"
    return f"{nodes} · {inputs or 'nothing'} → {display.shape(graph.values[node])}"


def _opens(graph: AnnotatedGraph, node: int) -> str:
    """The dotted name --expand takes to open a folded group: a run's, its first group's."""
    if graph.kinds[node] != GROUP:
        return ""
    instances = graph.ops[node].instances
    return ".".join(instances[0].path if instances else graph.ops[node].path)


def _repeats_text(graph: AnnotatedGraph, node: int) -> str:
    """What a run of repeated groups hands on, group by group: `out 0.76, 0.64, 0.57 · grad
    …` for a few numbers, else their range over the run; "" for any other node."""
    instances = graph.ops[node].instances if graph.kinds[node] == GROUP else ()
    if not instances:
        return ""
    parts = [f"out {_spread([instance.value for instance in instances])}"]
    if graph.requires_grad[node]:
        parts.append(f"grad {_spread([instance.adjoint for instance in instances])}")
    return f"each of the {len(instances)} hands on: " + " · ".join(parts)


def _spread(items: list[Any]) -> str:
    if all(np.ndim(item) == 0 for item in items) and len(items) <= display.SHOWN_WHOLE:
        return ", ".join(display.number(item, DIGITS) for item in items)
    ranges = [display.array_range(item) for item in items if np.size(item)]
    if not ranges:
        return "nothing"
    least, greatest = min(low for low, _ in ranges), max(high for _, high in ranges)
    if least == greatest:
        return f"all {display.number(least, DIGITS)}"
    return f"in [{display.number(least, 3)}, {display.number(greatest, 3)}]"


def _instances(graph: AnnotatedGraph, node: int) -> tuple[tuple[str, str, str], ...]:
    instances = graph.ops[node].instances if graph.kinds[node] == GROUP else ()
    return tuple((".".join(instance.path), summarize_array(instance.value),
                  summarize_array(instance.adjoint) if graph.requires_grad[node] else "")
                 for instance in instances)


def split_fanout(picture: Picture, limit: int = FANOUT_LIMIT) -> Picture:
    """Each leaf used by more than `limit` edges drawn once per edge, as small copies that
    name the leaf they repeat: the layout stays as fast as a tree's (docs/performance.md)."""
    users: dict[str, int] = {}
    for edge in picture.edges:
        users[edge.tail] = users.get(edge.tail, 0) + 1
    leaves = {node.id: node for node in picture.nodes
              if node.kind in (INPUT, DATA, CONSTANT, CUT) and users.get(node.id, 0) > limit}
    if not leaves:
        return picture
    nodes = [node for node in picture.nodes if node.id not in leaves]
    edges, made = [], dict.fromkeys(leaves, 0)
    for edge in picture.edges:
        if edge.tail not in leaves:
            edges.append(edge)
            continue
        made[edge.tail] += 1
        leaf = leaves[edge.tail]
        copy = f"{edge.tail}_{made[edge.tail]}"
        tooltip = (f"{leaf.title}: copy {made[edge.tail]} of {users[edge.tail]}, one per use "
                   f"(value {leaf.value}" + (f", grad {leaf.adjoint})" if leaf.adjoint else ")"))
        nodes.append(replace(leaf, id=copy, copy_of=leaf.id, tooltip=tooltip,
                             value_map=None, grad_map=None))  # a copy shows its name only
        edges.append(replace(edge, tail=copy))
    names = ", ".join(leaf.title for leaf in leaves.values())
    note = (f"{names} drawn once per use ({', '.join(str(users[id_]) for id_ in leaves)} "
            "copies): a much-used leaf would tangle the layout")
    return replace(picture, nodes=tuple(nodes), edges=tuple(edges),
                   notes=picture.notes + (note,))


def _chain_label(graph: AnnotatedGraph, chain: list[int], mode: str, names: list[str],
                 carried: str) -> tuple[str, Any]:
    """A folded chain's edge: the product of its local derivatives (all elementwise), as a
    label (over arrays, `carried`: what it adds to its tail's grad) and as a number."""
    product: Any = np.float64(1.0)
    for node in chain:
        local = graph.local[node][0]
        if local is None:
            return "", None
        product = product * local
    number = carried or local_label(ELEMENTWISE, product)
    if mode == VALUE_LABELS:
        return number, product
    formula = " · ".join(display.atom(graph.ops[node].formula(0, (names[graph.args[node][0]],)))
                         for node in chain)
    return _with_number(formula, number, mode), product


def _legend(graph: AnnotatedGraph, summary: PathSummary | None, coloured: tuple,
            output_name: str) -> tuple[tuple[LegendRow, ...], str]:
    """One row per coloured path, one for all the rest, and the sum equal to the gradient."""
    if summary is None:
        return (), ""
    rows = [LegendRow(index, display.path_chain(graph, path),
                      summarize_array(path.product, ranges=graph.ranges), path.product)
            for index, path in enumerate(coloured)]
    rest_count = fewer(summary.count, len(coloured))
    if rest_count:
        rest = summary.gradient - sum((path.product for path in coloured),
                                      np.zeros_like(summary.gradient))
        rows.append(LegendRow(None, display.other_paths(rest_count), summarize_array(rest), rest))
    return tuple(rows), (f"sum = d{output_name}/d{summary.name} = "
                         f"{summarize_array(summary.gradient, True, graph.ranges)}")


def _caption(output_name: str, edge_labels: str) -> str:
    edges = {VALUE_LABELS: "local derivative d(head)/d(tail) at the point",
             FORMULA_LABELS: "local derivative d(head)/d(tail) as a formula",
             BOTH_LABELS: "local derivative d(head)/d(tail): formula = value"}[edge_labels]
    return (f"node: value, and grad = d{output_name}/d(node) · edge: {edges} · "
            "dashed: cut (detach) · dotted: no gradient")
