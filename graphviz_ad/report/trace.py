"""`gad trace`'s tables: the evaluation, then the backward sweep or forward mode's sweeps.

And what each mode costs on a graph, in a sentence (`gad explain` says it too).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.engine.annotated import DATA, INPUT
from graphviz_ad.engine.trace import SweepCost, TangentSweep
from graphviz_ad.gradients import FORWARD, REVERSE
from graphviz_ad.records import Trace, trace_json  # noqa: F401 (--json: the record the page embeds)
from graphviz_ad.report.layout import Fitted, cell

DIGITS = display.SHORT_DIGITS
FROM_THE_SOURCE = "from the source"
# A terminal table takes about half a millisecond a row to lay out; JSON is ten times cheaper.
MAX_TRACE_ROWS = 10_000
MAX_TRACE_STEPS = 100_000


def trace_limit(as_json: bool) -> tuple[int, str | None]:
    """The most steps a trace may have, as tables or as JSON, and the hint past it."""
    if as_json:
        return MAX_TRACE_STEPS, None
    return MAX_TRACE_ROWS, f"--json prints up to {MAX_TRACE_STEPS:,} steps"


def trace_tables(trace: Trace) -> Group:
    evaluation = Table(title=Text("forward: evaluation in order", style="bold"),
                       title_justify="left")
    evaluation.add_column("step", style="bold")
    evaluation.add_column("value", justify="right")
    evaluation.add_column(FROM_THE_SOURCE, style="dim")
    for step in trace.forward:
        expression = {INPUT: "", DATA: " (data)"}.get(step.kind, f" = {step.expression}")
        evaluation.add_row(cell(f"{step.name}{expression}"),
                           cell(_shown(step.value)), cell(step.source))
    parts: list[Any] = [Fitted(evaluation, optional=[FROM_THE_SOURCE])]
    if trace.mode == FORWARD:
        sweeps = trace.tangents.sweeps
        for number, sweep in enumerate(sweeps, start=1):
            parts += _tangent_sweep(trace, sweep, f"tangent sweep {number} of {len(sweeps)}")
    else:
        parts.append(Fitted(_backward_sweep(trace)))
    parts.append(cell("gradient: " + (", ".join(
        f"d{trace.output_name}/d{name} = {_exact_if_scalar(gradient)}"
        for name, gradient in trace.gradients.items()) or "none (no inputs)"), "bold"))
    if trace.mode == FORWARD and trace.gradients:
        parts.append(cell(cost_sentence(trace.tangents.needed, FORWARD), "dim"))
    return Group(*parts)


def _backward_sweep(trace: Trace) -> Table:
    names = trace.names
    sweep = Table(title=cell(f"backward: adjoints from the output down, "
                             f"adj({names[trace.output]}) = 1", "bold"), title_justify="left")
    sweep.add_column("update", style="bold")
    sweep.add_column("adjoint · local", justify="right")
    sweep.add_column("adds", justify="right")
    sweep.add_column("total", justify="right")
    for step in trace.backward:
        update = f"adj({names[step.target]}) += adj({names[step.via]}) · {_factor(step.formula)}"
        sweep.add_row(cell(update),
                      cell(f"{_shown(step.adjoint)} · "
                           f"{_shown(step.local)}"),
                      cell(_shown(step.contribution)),
                      cell(_shown(step.total)))
    return sweep


def _tangent_sweep(trace: Trace, sweep: TangentSweep, heading: str) -> list[Any]:
    """One sweep of forward mode: its seed, each node's tangent in evaluation order, and the
    output's tangent, the gradient of the seeded element."""
    names = trace.names
    title = cell(f"{heading}: tan({sweep.seeded}) = 1{_other_seeds(trace, sweep)}", "bold")
    result = cell(f"tan({names[trace.output]}) = d{trace.output_name}/d{sweep.seeded} = "
                  f"{_exact_if_scalar(sweep.result)}"
                  + ("" if sweep.steps or sweep.start == trace.output
                     else f": no path from {sweep.input} to the output"))
    if not sweep.steps:
        return [title, result]
    table = Table(title=title, title_justify="left")
    table.add_column("step", style="bold")
    table.add_column("tangent · local", justify="right")
    table.add_column("tangent", justify="right")
    for step in sweep.steps:
        update = " + ".join(f"tan({names[term.argument]}) · {_factor(formula)}"
                            for term, formula in zip(step.terms, step.formulas))
        numbers = " + ".join(f"{_shown(term.tangent)} · "
                             f"{_shown(term.local)}" for term in step.terms)
        table.add_row(cell(f"tan({names[step.node]}) = {update}"), cell(numbers),
                      cell(_shown(step.tangent)))
    return [Fitted(table), result]


def _other_seeds(trace: Trace, sweep: TangentSweep) -> str:
    """The rest of a sweep's seed: each other input's tangent 0, named where they are few."""
    needed = trace.tangents.needed
    others = [name for name in needed if name != sweep.input]
    if sweep.index or any(needed[name] != 1 for name in others) or len(others) > 3:
        return ", every other input element's 0"
    return "".join(f", tan({name}) = 0" for name in others)


def cost_sentence(elements: dict[str, int], first: str = REVERSE) -> str:
    """What each mode costs for the gradients of these inputs (their numbers of elements), the
    mode in use (`first`) first: reverse mode one backward sweep for all of them, forward mode
    one tangent sweep per input element."""
    gradients = len(elements)
    sweeps = sum(elements.values())
    arrays = any(count != 1 for count in elements.values())
    per = "one per input element" if arrays else "one per input"
    if arrays and gradients > 1:
        per += " (" + ", ".join(f"{name}: {count:,}" for name, count in elements.items()) + ")"
    if sweeps == 1:
        return ("reverse mode: 1 backward sweep, forward mode: 1 tangent sweep; for one input "
                "number the two cost the same")
    tangents = f"{sweeps:,} tangent sweeps, {per}"
    every = f"all {gradients:,} gradients" if gradients > 1 else "the gradient"
    if first == FORWARD:
        return f"forward mode: {tangents}; reverse mode would need 1 backward sweep for {every}"
    return f"reverse mode: 1 backward sweep gives {every}; forward mode would need {tangents}"


def graph_cost(cost: SweepCost) -> str:
    """`cost_sentence` on a graph, with what a sweep visits."""
    return (f"{cost_sentence(cost.elements)}; a sweep visits at most the graph's "
            f"{_counted(cost.nodes, 'node')} and {_counted(cost.edges, 'edge')} (gad trace "
            "--mode forward steps through forward mode)")


def _counted(count: int, thing: str) -> str:
    return f"{count:,} {thing}{'s' * (count != 1)}"


def _exact_if_scalar(value: Any) -> str:
    return display.value(value, None if np.ndim(value) == 0 else DIGITS)


def _factor(formula: str) -> str:
    """A local derivative's formula as a factor: `(1 - tanh(x)^2)`, not `1 - tanh(x)^2`."""
    return display.atom(formula) if formula else formula


def _shown(value) -> str:
    """A number or a small array in full; an array past MAX_SHOWN_ELEMENTS as its shape and
    range, so a trace over arrays stays one line a step."""
    return display.summary(value, DIGITS, display.MAX_SHOWN_ELEMENTS)

