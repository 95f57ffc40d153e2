"""The graph an import builds (`Nodes`), and torch's backward pass that annotates it (`finish`).

Both importers build `Nodes` (the recorder, pytorch.py; a finished output's walk,
torch_output.py); `finish` takes torch's adjoints, each edge's local derivative and what it
carried back, and refuses a graph whose drawn edges would not sum to torch's gradient.
"""

from __future__ import annotations

from typing import Any, Callable, Container, Mapping, Sequence

import numpy as np
import torch
from torch.autograd.graph import GradientEdge, get_gradient_edge

from graphviz_ad import collector, display
from graphviz_ad.engine.annotated import (INPUT, AnnotatedGraph, DeferredRow, NodeOp, flows_in,
                                          one_feeds_another, zero_where_unreached)
from graphviz_ad.engine.graph import NodeLists
from graphviz_ad.engine.linear import unbroadcast
from graphviz_ad.errors import UsageError
from graphviz_ad.sources.imported import agreement_tolerance, too_many_nodes
from graphviz_ad.sources.torch_compat import input_metadata, pull_grad
from graphviz_ad.sources.torch_ops import DTYPES, TorchOp, numpy_owned, seed_tensor, summary_of
from graphviz_ad.sources.torch_pulls import again, input_positions

LEAF_PREFIX = "leaf"  # an unnamed tensor that requires grad: leaf1, leaf2, ...

# Nodes of one import, refused as the one past it is made: a Python loop of a million scalar
# steps records at about 60 µs a call, so this stops it within about 1.5 s and 100 MB, where
# recording it all would take minutes and gigabytes (docs/performance.md).
MAX_TRACE_NODES = 20_000


class Nodes(NodeLists):
    """The graph as it is built, in the engine's node lists; for each node also the edge
    torch's autograd reaches it by, and for a foreign op the pull of its backward."""

    def __init__(self):
        super().__init__()
        self.edges: list[GradientEdge | None] = []
        self.pulls: list[Callable | None] = []
        self.leaf_tensors: dict[int, torch.Tensor] = {}  # each input's tensor
        # foreign ops whose pull gives an argument used twice its gradient at each slot
        self.separated: set[int] = set()
        self.siblings: list[list[int]] = []  # the outputs of each op with several
        self.ranges = display.Ranges()  # the arrays' ranges found while recording

    def without_unused_siblings(self, output: int, only_what_reaches: bool = False
                                ) -> tuple[Nodes, int]:
        """These nodes without the outputs of a many-output op that nothing uses while another
        of them is used (an LSTM's final states beside its outputs, the unused chunks of a
        split), and with `only_what_reaches`, without every node the output does not depend
        on; renumbered, with the output's new number."""
        used = {argument for arguments in self.args for argument in arguments} | {output}
        dropped = {node for siblings in self.siblings if used.intersection(siblings)
                   for node in siblings if node not in used}
        if only_what_reaches:
            dropped |= {node for node, kept in enumerate(self.reaching(output)) if not kept}
        if not dropped:
            return self, output
        kept = [node for node in range(len(self.kinds)) if node not in dropped]
        number = {old: new for new, old in enumerate(kept)}
        nodes = Nodes()
        for name, value in vars(self).items():  # every field: one per node, or keyed by node
            if name == "args":
                value = [tuple(number[argument] for argument in value[node]) for node in kept]
            elif name == "inputs":
                value = {label: number[node] for label, node in value.items()
                         if node in number}
            elif name == "ranges":
                pass  # kept by array, not by node: the same arrays, the same ranges
            elif name == "siblings":
                value = [[number[node] for node in group if node in number] for group in value]
            elif isinstance(value, list):
                value = [value[node] for node in kept]
            elif isinstance(value, dict):
                value = {number[node]: item for node, item in value.items() if node in number}
            else:
                value = {number[node] for node in value if node in number}
            setattr(nodes, name, value)
        return nodes, number[output]

    def add(self, kind: str, op: NodeOp | None, args: tuple[int, ...], value: Any, label: str,
            requires: bool, edge: GradientEdge | None = None, group: tuple[str, ...] = (),
            detail: str = "", pull: Callable | None = None) -> int:
        node = len(self.kinds)
        if node >= MAX_TRACE_NODES:
            raise too_many_nodes(
                "the traced computation has", MAX_TRACE_NODES, label, group,
                "stops recording there", "trace a smaller piece: fewer loop iterations or "
                "steps, a shorter sequence, or fewer blocks of the model (each module folds "
                "into one box, so a few blocks show the layout)")
        self.append(kind, op, args, value, label, requires)
        self.edges.append(edge)
        self.pulls.append(pull)
        if group:
            self.groups[node] = group
        if detail:
            self.details[node] = detail
        return node

    def add_input(self, tensor: torch.Tensor, value: Any, label: str,
                  group: tuple[str, ...] = ()) -> int:
        """A leaf that requires grad: an input, with its tensor kept for the check."""
        node = self.add(INPUT, None, (), value, label, True, get_gradient_edge(tensor), group,
                        f"{label} = {summary_of(tensor, value, self.ranges)}")
        self.leaf_tensors[node] = tensor
        return node


def finish(nodes: Nodes, output: int, result: torch.Tensor,
           unknown: Sequence[int] = ()) -> AnnotatedGraph:
    """torch's backward pass from `result`: every node's adjoint, then each edge's local
    derivative and what it carried back. A foreign op's local derivatives (Jᵀ·1, a backward
    pass through it) are computed when a view first reads them. A graph whose path products
    would not sum to torch's gradients is refused (`_require_sums`)."""
    with collector.paused():  # nothing here makes a cycle: the collector would only rescan
        return _finish(nodes, output, result, unknown)


def _finish(nodes: Nodes, output: int, result: torch.Tensor,
            unknown: Sequence[int]) -> AnnotatedGraph:
    _require_seen_history(nodes)
    reached = [node for node in range(len(nodes.kinds)) if nodes.edges[node] is not None]
    grads: tuple = ()
    caught: dict[int, dict[int, torch.Tensor]] = {}
    if reached and result.requires_grad:
        hooks = _catch_carried(nodes, caught)
        try:
            grads = torch.autograd.grad([result], [nodes.edges[node] for node in reached],
                                        retain_graph=True, allow_unused=True)
        finally:
            for hook in hooks:
                hook.remove()
    gradient_of = {node: grad for node, grad in zip(reached, grads) if grad is not None}
    # Zeros already, not at `assembled`: an edge into a node torch gave no gradient carries
    # that node's adjoint (`_edge_derivatives`).
    adjoints = zero_where_unreached([numpy_owned(gradient_of[node]) if node in gradient_of
                                     else None for node in range(len(nodes.kinds))],
                                    nodes.values)
    local: list[Sequence] = [()] * len(nodes.kinds)  # `()`: not reached (see `assembled`)
    uses = _uses(nodes, gradient_of)
    order: list[int] = []
    carried: list[Any] = []
    with np.errstate(all="ignore"):
        for node in range(output, -1, -1):
            op = nodes.ops[node]
            if op is None or node not in gradient_of or op.stops_gradient:
                continue
            row, parts = _edge_derivatives(nodes, node, adjoints, uses, caught.get(node, {}))
            local[node] = row
            if parts:
                order.append(node)
                carried.extend(parts)
        _require_sums(nodes, output, gradient_of, adjoints, local, uses, order, carried)
    return AnnotatedGraph.assembled(nodes, output, adjoints=adjoints, local=local,
                                    carried=carried, order=order,
                                    pull_through=_pull_through(nodes), unknown_values=unknown,
                                    ranges=nodes.ranges)


def _require_seen_history(nodes: Nodes) -> None:
    """Refuse an input that torch computed from another node of the graph by calls the
    recorder did not see (before the call, or in a way it cannot draw): torch's gradient of
    that node counts the way through the input, which no drawn path takes. Walks torch's
    graph back from each such input without recursion."""
    owners = {id(edge.node): node for node, edge in enumerate(nodes.edges) if edge is not None}
    for node, tensor in nodes.leaf_tensors.items():
        if tensor.grad_fn is None:
            continue
        pending, seen = [tensor.grad_fn], {id(tensor.grad_fn)}
        while pending:
            for function, _ in pending.pop().next_functions:
                if function is None or id(function) in seen:
                    continue
                seen.add(id(function))
                source = owners.get(id(function))
                if source is not None and source != node:
                    raise UsageError(
                        f"`{nodes.labels[node]}` was computed from `{nodes.labels[source]}` by "
                        "torch calls the trace did not record (a write into a view of it, such "
                        "as z[0:2].copy_(y), or a computation before the call), so the paths of "
                        f"`{nodes.labels[source]}` would miss the way through it and not sum "
                        "to its gradient", None,
                        "write into the tensor itself (z[0:2] = y), compute it inside the "
                        "traced function, or pass it in detached (.detach()) if it is a "
                        "constant")
                pending.append(function)


def _require_sums(nodes: Nodes, output: int, gradient_of: Mapping[int, Any], adjoints: Sequence,
                  local: list, uses: list[int], order: list[int], carried: list) -> None:
    """The chain rule's own check, before any path is listed: what the drawn edges carry back
    into each node must sum to torch's adjoint of it. It fails where torch's gradient reached
    a node by a way the graph does not draw (an op the recorder did not see), or where a
    drawn edge's derivative is not torch's (our table's rule, read as torch's backward would,
    into an argument used once; else what the backward sweep pulled). Its cost is one pullback
    per edge of our ops, the foreign ops' being torch's and already summed."""
    into: list[list] = [[] for _ in nodes.kinds]
    parts = iter(carried)
    for node in order:
        op, row = nodes.ops[node], local[node]
        for slot, argument in enumerate(nodes.args[node]):
            if not flows_in(row, slot):
                continue
            part = next(parts)
            if isinstance(op, TorchOp) and uses[argument] == 1:
                part = op.linear_map.pullback(slot, row[slot], adjoints[node],
                                              nodes.values[argument])
            into[argument].append(part)
    for node in range(output):
        if node not in gradient_of:
            continue
        adjoint, drawn = adjoints[node], into[node]
        if len(drawn) == 1 and drawn[0] is adjoint:  # torch's own pull, into its one use
            continue
        total = sum(drawn, np.zeros_like(adjoint))
        scale = sum((np.abs(part) for part in drawn), np.abs(adjoint))
        tolerance = agreement_tolerance(np.result_type(adjoint))
        wrong = np.isfinite(scale) & (np.abs(total - adjoint) > tolerance * scale)
        if not np.any(wrong):
            continue
        where = nodes.details.get(node, nodes.labels[node])
        how = ("torch's gradient reaches it by a way the trace did not record" if not drawn
               else "the derivatives drawn on the edges out of it are not torch's")
        raise UsageError(
            f"the paths through `{nodes.labels[node]}` ({where}) would not sum to torch's "
            f"gradient: {how} (they carry {display.summary(total)}, torch "
            f"{display.summary(adjoint)})", None,
            "torch's gradient itself is right (loss.backward()); graphviz-ad cannot draw this "
            "function path by path: please report it with the function")


def _pull_through(nodes: Nodes) -> Callable[[int, Sequence[int], Any], list]:
    """torch's backward from one node to several, along every path between them, in one call."""
    def pull(output: int, producers: Sequence[int], gradient: Any) -> list:
        wanted = [producer for producer in producers if nodes.edges[producer] is not None]
        grads: Sequence = ()
        if wanted and nodes.edges[output] is not None:
            seed = seed_tensor(gradient, DTYPES[np.result_type(nodes.values[output]).name])
            grads = again(lambda: pull_grad(
                [nodes.edges[output]], [nodes.edges[producer] for producer in wanted], [seed]))
        found = {producer: numpy_owned(grad) for producer, grad in zip(wanted, grads)
                 if grad is not None}
        return [found.get(producer) for producer in producers]

    return pull


def _uses(nodes: Nodes, reached: Container[int] | None = None) -> list[int]:
    """How many edges carry a gradient back into each node, from the nodes `reached` by one
    (from every node, before the backward pass tells which are)."""
    uses = [0] * len(nodes.kinds)
    for node, arguments in enumerate(nodes.args):
        op = nodes.ops[node]
        if (reached is None or node in reached) and op is not None and not op.stops_gradient:
            for argument in arguments:
                uses[argument] += nodes.requires_grad[argument]
    return uses


def _catch_carried(nodes: Nodes, caught: dict[int, dict[int, torch.Tensor]]) -> list:
    """Hooks that keep, in `caught`, what torch's backward pass carries along a foreign op's
    edge into an argument another edge also feeds, as it passes: the sum check needs each such
    part, and pulling it again would cost the op's backward once more (a convolution's, a
    layer norm's on a residual stream). Only where that part is the op's alone: one backward
    function of one output, whose inputs are exactly its arguments' edges, none given twice,
    none computed from another. Other ops' parts are pulled (`_edge_derivatives`)."""
    feeding = _uses(nodes)
    hooks = []
    for node, arguments in enumerate(nodes.args):
        op, edge = nodes.ops[node], nodes.edges[node]
        if isinstance(op, TorchOp) or op is None or op.stops_gradient or edge is None \
                or nodes.pulls[node] is None or node in nodes.separated \
                or len(set(arguments)) < len(arguments) \
                or not any(feeding[argument] > 1 for argument in arguments):
            continue
        function = edge.node
        positions = input_positions(function, [nodes.edges[argument] for argument in arguments])
        if positions is None or len(input_metadata(function)) != 1 \
                or one_feeds_another(nodes.args, arguments):
            continue
        slot_of = {index: slot for slot, index in enumerate(positions) if index is not None}

        def keep(grad_inputs, grad_outputs, node=node, slot_of=slot_of):
            caught[node] = {slot: grad_inputs[index] for index, slot in slot_of.items()
                            if grad_inputs[index] is not None}

        hooks.append(function.register_hook(keep))
    return hooks


def _edge_derivatives(nodes: Nodes, node: int, adjoints: Sequence, uses: list[int],
                      caught: Mapping[int, torch.Tensor]) -> tuple[Sequence, list]:
    """The local derivative on each argument slot of `node` (None where no gradient flows) and
    what each carried back, in slot order. Our op's are its table's formulas; a foreign op's,
    Jᵀ·1 through torch's backward, are computed when first read. Into an argument that no
    other edge feeds, torch's backward pass carried exactly that argument's adjoint: it is not
    pulled back again; the others are what the backward pass was seen to carry (`caught`), or
    pulled back through our op's linear map or torch's backward function, for those slots
    only."""
    op = nodes.ops[node]
    arguments = nodes.args[node]
    values = [nodes.values[argument] for argument in arguments]
    out, adjoint = nodes.values[node], adjoints[node]
    if isinstance(op, TorchOp):
        row: Sequence = tuple(op.op.rules[slot](*values, out) if nodes.requires_grad[argument]
                              else None for slot, argument in enumerate(arguments))
    else:
        # A foreign op given one tensor twice has a gradient at each slot when torch's
        # backward function is called directly, else all of it at the first (see edge_pull).
        carries = [nodes.requires_grad[argument] and (node in nodes.separated
                                                 or argument not in arguments[:slot])
                   for slot, argument in enumerate(arguments)]
        row = DeferredRow(carries, lambda: [
            np.zeros_like(values[slot])[()] if part is None else part
            for slot, part in enumerate(nodes.pulls[node](np.ones_like(out)))])
    slots = [slot for slot in range(len(arguments)) if flows_in(row, slot)]
    shared = [slot for slot in slots if uses[arguments[slot]] > 1]
    pulled: dict[int, Any] = {}
    if shared and isinstance(op, TorchOp):
        pulled = {slot: op.linear_map.pullback(slot, row[slot], adjoint, values[slot])
                  for slot in shared}
    elif shared and all(slot in caught for slot in shared):
        pulled = {slot: unbroadcast(numpy_owned(caught[slot]), np.shape(values[slot]))[()]
                  for slot in shared}
    elif shared and np.ndim(out) == 0:
        pulled = {slot: adjoint * row[slot] for slot in shared}
    elif shared:
        pulled = dict(zip(shared, nodes.pulls[node](adjoint, shared)))
    return row, [pulled[slot] if slot in pulled else adjoints[arguments[slot]]
                 for slot in slots]
