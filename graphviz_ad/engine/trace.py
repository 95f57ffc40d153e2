"""The evaluation trace (a Wengert list) and the backward sweep, step by step, in engine order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from graphviz_ad import display
from graphviz_ad.engine.annotated import (CONSTANT, CUT, DATA, INPUT, AnnotatedGraph, output_name,
                                          written_as_operator)


@dataclass(frozen=True)
class ForwardStep:
    node: int
    name: str        # v1, v2, ... for operations; the input's name; c1, ... for no_grad results
    expression: str  # in terms of earlier names: `exp(x1)`, `v4 + 1`
    value: Any
    source: str      # the user's text this node came from
    kind: str


@dataclass(frozen=True)
class BackwardStep:
    target: int      # the adjoint that is updated
    via: int         # the node whose adjoint flows back
    slot: int
    adjoint: Any     # adj(via), final when it is used
    local: Any       # d via / d target through this slot
    formula: str     # the local derivative in the trace's names: `cos(x2)`
    contribution: Any
    total: Any       # adj(target) after this step


def trace_names(graph: AnnotatedGraph) -> list[str]:
    """Inputs keep their names and literals their text; the output is called what every other
    view calls it (`f` unless the program names it); a node the program named once keeps that
    name; other operations are v1, v2, ... and no_grad results c1, c2, ..., in order, skipping
    any name already used."""
    output = output_name(graph)
    assigned = Counter(name for names in graph.names.values() for name in names)
    unique = {name for name, uses in assigned.items() if uses == 1 and name not in graph.inputs}
    taken = set(assigned) | set(graph.inputs) | {output}
    counters = {"v": 0, "c": 0}

    def fresh(prefix: str) -> str:
        while True:
            counters[prefix] += 1
            candidate = f"{prefix}{counters[prefix]}"
            if candidate not in taken:
                return candidate

    names: list[str] = []
    for node, kind in enumerate(graph.kinds):
        own = [name for name in graph.names.get(node, ()) if name in unique]
        if kind in (INPUT, DATA, CONSTANT):
            names.append(graph.labels[node])
        elif node == graph.output:
            names.append(output)
        else:
            names.append(own[-1] if own else fresh("c" if kind == CUT else "v"))
    return names


def step_count(graph: AnnotatedGraph) -> int:
    """How many steps `forward_steps` and `backward_steps` make together, without making them."""
    forward = sum(1 for kind in graph.kinds if kind != CONSTANT)
    backward = sum(1 for node, arguments in enumerate(graph.args)
                   for slot in range(len(arguments)) if graph.flows(node, slot))
    return forward + backward


def forward_steps(graph: AnnotatedGraph) -> list[ForwardStep]:
    """One step per input, no_grad result and operation, in evaluation order."""
    names = trace_names(graph)
    steps = []
    for node, kind in enumerate(graph.kinds):
        if kind == CONSTANT:
            continue  # literals appear inline, by their text
        op = graph.ops[node]
        if op is None:
            expression = kind if kind in (INPUT, DATA) else graph.labels[node]
        else:
            arguments = tuple(display.atom(names[argument]) for argument in graph.args[node])
            expression = op.written(arguments, as_operator=written_as_operator(graph, node))
        steps.append(ForwardStep(node, names[node], expression, graph.values[node],
                                 graph.text(node), kind))
    return steps


def backward_steps(graph: AnnotatedGraph) -> list[BackwardStep]:
    """Each adjoint update as the backward sweep recorded it: nodes from the output down,
    argument slots left to right, edges without a gradient skipped."""
    names = trace_names(graph)
    steps = []
    for step in graph.sweep():
        op = graph.ops[step.via]
        argument_names = tuple(display.atom(names[argument]) for argument in graph.args[step.via])
        steps.append(BackwardStep(step.target, step.via, step.slot, step.adjoint, step.local,
                                  op.formula(step.slot, argument_names), step.contribution,
                                  step.total))
    return steps
