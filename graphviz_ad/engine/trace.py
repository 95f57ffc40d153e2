"""The evaluation (a Wengert list), the backward sweep and forward mode's sweeps, step by step.

The backward sweep's steps come in the engine's order; forward mode's tangent sweeps, one per
input element, node by node in evaluation order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.annotated import (CONSTANT, CUT, DATA, INPUT, AnnotatedGraph, output_name,
                                          written_as_operator)
from graphviz_ad.engine.check import each_index, one_hot, operation_work
from graphviz_ad.engine.forward import TangentTerm, recorded_sweep


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


@dataclass(frozen=True)
class TangentStep:
    """A node's tangent in a sweep of forward mode: tan(node) = the sum of tan(argument) · local
    over the argument slots a tangent reaches."""

    node: int
    terms: tuple[TangentTerm, ...]
    formulas: tuple[str, ...]  # each term's local derivative in the trace's names
    tangent: Any


@dataclass(frozen=True)
class TangentSweep:
    """Forward mode's sweep for one input element: its tangent 1, every other input element's 0;
    the output's tangent, `result`, is d output / d that element."""

    input: str
    start: int  # the input's node
    index: tuple[int, ...]  # the element seeded; () for a number
    steps: tuple[TangentStep, ...]
    result: Any

    @property
    def seeded(self) -> str:
        """The element's name: `x`, `W[0, 1]`."""
        return f"{self.input}[{', '.join(map(str, self.index))}]" if self.index else self.input


@dataclass(frozen=True)
class TangentPlan:
    """Which of forward mode's sweeps fit a budget, input by input, in order: the nodes each
    input's sweeps visit (the steps of each), and how many of its elements' sweeps fit."""

    nodes: dict[str, list[int]]
    fitting: dict[str, int]
    needed: dict[str, int]  # one sweep per element of each input
    over: str = ""          # the budget the first sweep left out passed: "steps" or "work"


@dataclass(frozen=True)
class SweepCost:
    """What each mode costs on a graph with a number output: reverse mode one backward sweep for
    every gradient, forward mode one tangent sweep per input element, each over the graph."""

    nodes: int
    edges: int
    elements: dict[str, int]  # each input's numbers: forward mode's sweeps for it

    @property
    def tangent_sweeps(self) -> int:
        return sum(self.elements.values())


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


def step_counts(graph: AnnotatedGraph) -> tuple[int, int]:
    """How many steps `forward_steps` and `backward_steps` make, without making them."""
    forward = sum(1 for kind in graph.kinds if kind != CONSTANT)
    backward = sum(1 for node, arguments in enumerate(graph.args)
                   for slot in range(len(arguments)) if graph.flows(node, slot))
    return forward, backward


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
    return [BackwardStep(step.target, step.via, step.slot, step.adjoint, step.local,
                         _formula(graph, names, step.via, step.slot), step.contribution,
                         step.total)
            for step in graph.sweep()]


def _formula(graph: AnnotatedGraph, names: list[str], node: int, slot: int) -> str:
    """d node / d its argument `slot`, printed by the op table in the trace's names."""
    arguments = tuple(display.atom(names[argument]) for argument in graph.args[node])
    return graph.ops[node].formula(slot, arguments)


def sweep_cost(graph: AnnotatedGraph) -> SweepCost:
    return SweepCost(len(graph), sum(len(arguments) for arguments in graph.args),
                     {name: int(np.size(graph.values[graph.inputs[name]]))
                      for name in sorted(graph.inputs, key=display.natural_key)})


def tangent_reach(graph: AnnotatedGraph, start: int, most: int | None = None) -> list[int] | None:
    """The nodes a tangent from `start` reaches along the edges that carry a gradient, in
    evaluation order: the steps of its sweep. None when they are more than `most`: the walk
    stops there, so asking costs no more than the steps it allows."""
    users = graph.consumers()
    reached: set[int] = set()
    stack = [start]
    while stack:
        for consumer, slot in users[stack.pop()]:
            if consumer not in reached and graph.flows(consumer, slot):
                reached.add(consumer)
                if most is not None and len(reached) > most:
                    return None
                stack.append(consumer)
    return sorted(reached)


def plan_tangents(graph: AnnotatedGraph, inputs: list[str], max_steps: int | None = None,
                  max_work: int | None = None, whole: bool = False) -> TangentPlan:
    """Forward mode's sweeps, one per element of each of `inputs`, that fit `max_steps` steps (a
    sweep's are the nodes its tangent reaches, and its seed) and `max_work` element evaluations
    together, input by input, each input's elements in order; None: no limit. `whole`: stop at
    the first sweep that does not fit (all or nothing, as `gad trace --mode forward` asks)."""
    nodes: dict[str, list[int]] = {}
    fitting: dict[str, int] = {}
    needed: dict[str, int] = {}
    steps = work = 0
    over = ""
    for name in inputs:
        start = graph.inputs[name]
        needed[name] = count = int(np.size(graph.values[start]))
        room = None if max_steps is None else max_steps - steps - 1
        reached = tangent_reach(graph, start, room) if room is None or room >= 0 else None
        if reached is None:
            fitting[name] = 0
            over = over or ("steps" if count else "")
            if whole and over:
                break
            continue
        nodes[name] = reached
        sweep_work = sum(operation_work(graph, node) for node in reached)
        by_steps = count if max_steps is None else (max_steps - steps) // (len(reached) + 1)
        by_work = count if max_work is None or not sweep_work else \
            (max_work - work) // sweep_work
        fitting[name] = fit = min(count, by_steps, by_work)
        if fit < count:
            over = over or ("steps" if by_steps <= by_work else "work")
            if whole:
                break
        steps += fit * (len(reached) + 1)
        work += fit * sweep_work
    return TangentPlan(nodes, fitting, needed, over)


def tangent_sweeps(graph: AnnotatedGraph, plan: TangentPlan) -> list[TangentSweep]:
    """The sweeps `plan` fits, made by forward mode's own sweep (engine/forward.py) over the
    graph's local derivatives, each node's tangent recorded as it is made."""
    names = trace_names(graph)
    sweeps = []
    with np.errstate(all="ignore"):  # inf and nan are reported by numeric_issues
        for name, count in plan.fitting.items():
            start = graph.inputs[name]
            shape = graph.shape(start)
            for index in islice(each_index(shape), count):
                result, record = recorded_sweep(graph, plan.nodes[name], start,
                                                one_hot(shape, index), graph.local)
                steps = tuple(TangentStep(update.node, update.terms,
                                          tuple(_formula(graph, names, update.node, term.slot)
                                                for term in update.terms), update.tangent)
                              for update in record)
                sweeps.append(TangentSweep(name, start, index, steps, result))
    return sweeps
