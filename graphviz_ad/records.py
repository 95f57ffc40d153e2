"""The trace and the paths as JSON-ready records: for `gad trace --json`, `gad paths --json`, pages.

`Trace` holds the engine's steps as `gad trace` shows them. No rich here, so the HTML page
(render/page.py, composed by render/compose.py) embeds the very records the command line
prints. Node ids are the annotated graph's indices (`n3` in DOT and SVG is node 3).
`max_elements` summarises arrays larger than that (shape, least, greatest); None keeps every number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.annotated import DATA, INPUT, AnnotatedGraph, output_name
from graphviz_ad.engine.check import WORK_BUDGET
from graphviz_ad.engine.paths import Path, PathSummary
from graphviz_ad.engine.trace import (BackwardStep, ForwardStep, TangentSweep, backward_steps,
                                      forward_steps, plan_tangents, step_counts, sweep_cost,
                                      tangent_sweeps, trace_names)
from graphviz_ad.errors import LimitError, UsageError
from graphviz_ad.gradients import FORWARD, REVERSE, mode_for
from graphviz_ad.tables import Table, Tabled

BOTH = "both"  # a page's trace: the backward sweep, and forward mode's sweeps that fit
# A trace of both modes carries forward mode's tangent sweeps, input by input, while they fit
# this many steps and element evaluations together (a page's share: about 300 KB of JSON).
BOTH_TANGENT_STEPS = 1_000
BOTH_TANGENT_WORK = 20_000_000


@dataclass(frozen=True)
class Tangents:
    """Forward mode's sweeps in a trace: those made, how many each input needs (one per
    element), and in a trace of both modes, why any were left out."""

    sweeps: list[TangentSweep]
    needed: dict[str, int]
    note: str = ""

    @property
    def left_out(self) -> dict[str, int]:
        made: dict[str, int] = {}
        for sweep in self.sweeps:
            made[sweep.input] = made.get(sweep.input, 0) + 1
        return {name: count - made.get(name, 0) for name, count in self.needed.items()
                if count > made.get(name, 0)}


# A number in a REPL's trace: as the terminal's `gad trace` writes them.
TRACE_DIGITS = 4


@dataclass(frozen=True, repr=False)
class Trace(Tabled):
    """What `gad trace` shows: the evaluation, then the backward sweep (reverse mode), forward
    mode's tangent sweeps, or both (a page's); and the gradients, by the mode's own sweeps."""

    names: list[str]  # each node's name in the steps
    forward: list[ForwardStep]  # the evaluation, in order
    backward: list[BackwardStep]  # empty in forward mode
    output: int
    output_name: str  # what the views call the output (an output that is an input differs)
    gradients: dict[str, Any]
    mode: str = REVERSE
    make_tangents: Callable[[], Tangents] | None = field(default=None, repr=False,
                                                         compare=False)

    @cached_property
    def tangents(self) -> Tangents | None:
        """Forward mode's sweeps, None in reverse mode; made when first read, so that a caller
        of a trace of both modes who reads only the backward sweep never pays for them."""
        return self.make_tangents() if self.make_tangents is not None else None

    def table(self) -> Table:
        """The evaluation step by step, then each adjoint update of the backward sweep (forward
        mode's sweeps: `gad trace --mode forward`)."""
        def shown(item: Any) -> str:
            return display.summary(item, TRACE_DIGITS, display.MAX_SHOWN_ELEMENTS)

        names = self.names
        rows = [(step.name if step.kind in (INPUT, DATA) else f"{step.name} = {step.expression}",
                 shown(step.value), "") for step in self.forward]
        rows += [(f"adj({names[step.target]}) += adj({names[step.via]}) · "
                  f"{display.atom(step.formula)}", shown(step.contribution), shown(step.total))
                 for step in self.backward]
        gradients = ", ".join(f"d{self.output_name}/d{name} = {display.value(gradient)}"
                              for name, gradient in self.gradients.items())
        return Table(f"trace ({self.mode} mode): {len(self.forward)} evaluation steps, "
                     f"{len(self.backward)} adjoint updates", ("step", "value or adds", "total"),
                     tuple(rows), (f"gradient: {gradients or 'none (no inputs)'}",),
                     right=(1, 2), more="gad trace prints every step")


def trace_of(graph: AnnotatedGraph, inputs: list[str], max_steps: int | None = None,
             hint: str | None = None, mode: str = REVERSE) -> Trace:
    """The steps of the evaluation, then of the backward sweep (`mode` reverse, or auto), of
    forward mode's sweeps, one per element of each of `inputs` (forward), or BOTH: the backward
    sweep, and the tangent sweeps that fit BOTH_TANGENT_STEPS and BOTH_TANGENT_WORK, made when
    first read. More than `max_steps` steps are refused (a LimitError with `hint`) before any
    is made, as is forward mode past WORK_BUDGET."""
    mode = mode if mode == BOTH else mode_for(graph, mode, inputs)
    evaluation, backward = step_counts(graph)
    names, output = trace_names(graph), output_name(graph)
    if mode != FORWARD:
        if max_steps is not None and evaluation + backward > max_steps:
            raise LimitError(f"the trace has {evaluation + backward:,} steps; the limit is "
                             f"{max_steps:,}", None, hint)
        return Trace(names, forward_steps(graph), backward_steps(graph), graph.output, output,
                     {name: graph.gradient(name) for name in inputs}, mode,
                     (lambda: _both_tangents(graph, inputs)) if mode == BOTH else None)
    room = None if max_steps is None else max_steps - evaluation
    plan = plan_tangents(graph, inputs, room, WORK_BUDGET, whole=True)
    if plan.over or (room is not None and room < 0):
        sweeps = sweep_cost(graph).tangent_sweeps
        limit = (f"{max_steps:,} steps" if plan.over != "work"
                 else f"{WORK_BUDGET:,} element evaluations")
        advice = "reverse mode gives every gradient in one backward sweep"
        raise LimitError(f"forward mode's trace needs {sweeps:,} tangent sweeps, one per input "
                         f"element, more than the limit of {limit}", None,
                         f"{hint}; {advice}" if hint else advice)
    tangents = Tangents(tangent_sweeps(graph, plan), plan.needed)
    return Trace(names, forward_steps(graph), [], graph.output, output,
                 _assembled(graph, tangents.sweeps, inputs), mode, lambda: tangents)


def _both_tangents(graph: AnnotatedGraph, inputs: list[str]) -> Tangents:
    """The tangent sweeps a trace of both modes carries; none, saying why, where an edge's
    Jacobian is known only by its action (an importer's backward function), which pushes
    nothing forward."""
    plan = plan_tangents(graph, inputs, BOTH_TANGENT_STEPS, BOTH_TANGENT_WORK)
    note = (f"tangent sweeps are carried up to {BOTH_TANGENT_STEPS:,} steps and "
            f"{BOTH_TANGENT_WORK:,} element evaluations together; gad trace --mode forward "
            "prints every one" if plan.over else "")
    try:
        return Tangents(tangent_sweeps(graph, plan), plan.needed, note)
    except UsageError as error:
        return Tangents([], plan.needed, "; ".join(filter(None, (error.reason, error.hint))))


def _assembled(graph: AnnotatedGraph, sweeps: list[TangentSweep],
               inputs: list[str]) -> dict[str, Any]:
    """Each input's gradient from its sweeps' results, element by element."""
    gradients = {name: np.zeros(graph.shape(graph.inputs[name])) for name in inputs}
    for sweep in sweeps:
        gradients[sweep.input][sweep.index] = sweep.result
    return {name: gradient[()] for name, gradient in gradients.items()}


def trace_json(trace: Trace, max_elements: int | None = None) -> dict[str, Any]:
    names = trace.names

    def number(item: Any) -> Any:
        return display.jsonable(item, max_elements)

    record: dict[str, Any] = {
        "mode": trace.mode,
        "forward": [{"name": step.name, "id": step.node, "expression": step.expression,
                     "kind": step.kind, "value": number(step.value), "source": step.source}
                    for step in trace.forward]}
    if trace.mode != FORWARD:
        record["backward"] = [{"target": names[step.target], "via": names[step.via],
                               "target_id": step.target, "via_id": step.via, "slot": step.slot,
                               "formula": step.formula, "adjoint": number(step.adjoint),
                               "local": number(step.local),
                               "contribution": number(step.contribution),
                               "total": number(step.total)}
                              for step in trace.backward]
    tangents = trace.tangents
    if tangents is not None:
        record["tangents"] = {
            "sweeps": [{"input": sweep.input, "id": sweep.start, "index": list(sweep.index),
                        "seed": sweep.seeded,
                        "steps": [{"name": names[step.node], "id": step.node,
                                   "terms": [{"argument": names[term.argument],
                                              "argument_id": term.argument, "slot": term.slot,
                                              "formula": formula,
                                              "tangent": number(term.tangent),
                                              "local": number(term.local),
                                              "contribution": number(term.contribution)}
                                             for term, formula in zip(step.terms,
                                                                      step.formulas)],
                                   "tangent": number(step.tangent)}
                                  for step in sweep.steps],
                        "result": number(sweep.result)}
                       for sweep in tangents.sweeps],
            "needed": tangents.needed, "left_out": tangents.left_out, "note": tangents.note}
    record["gradient"] = {name: number(gradient) for name, gradient in trace.gradients.items()}
    return record


def path_json(graph: AnnotatedGraph, path: Path, max_elements: int | None = None) -> dict[str, Any]:
    return {"nodes": [graph.labels[node] for node in path.nodes],
            "ids": list(path.nodes),
            "slots": [edge.slot for edge in path.edges],
            "factors": [display.jsonable(factor, max_elements) for factor in path.factors],
            "product": display.jsonable(path.product, max_elements)}


def path_rows_json(graph: AnnotatedGraph, summary: PathSummary,
                   max_elements: int | None = None) -> dict[str, Any]:
    """An input's paths as the rows of the `gad paths` table: each path's chain and local
    gradients as the table writes them (long paths cut in the middle), its exact product, and
    its node ids and argument slots (to find its edges); the rest and the gradient as in
    `summary_json`."""
    record = summary_json(graph, summary, max_elements)
    record["paths"] = [{"chain": display.path_chain(graph, path),
                        "factors": display.path_factors(path),
                        "ids": list(path.nodes), "slots": [edge.slot for edge in path.edges],
                        "product": display.jsonable(path.product, max_elements)}
                       for path in summary.paths]
    return record


def inputs_json(graph: AnnotatedGraph, summaries: list[PathSummary]) -> dict[str, Any]:
    """`gad paths --json` without --wrt: each input's path count, gradient and largest path."""
    return {"inputs": [{"name": summary.name, "path_count": display.count_json(summary.count),
                        "gradient": display.jsonable(summary.gradient),
                        "largest": path_json(graph, summary.paths[0]) if summary.paths
                        else None}
                       for summary in summaries]}


def summary_json(graph: AnnotatedGraph, summary: PathSummary,
                 max_elements: int | None = None) -> dict[str, Any]:
    return {"wrt": summary.name,
            "gradient": display.jsonable(summary.gradient, max_elements),
            "path_count": display.count_json(summary.count),
            "paths": [path_json(graph, path, max_elements) for path in summary.paths],
            "rest": {"count": display.count_json(summary.rest_count),
                     "sum": display.jsonable(summary.rest_sum, max_elements)}}
