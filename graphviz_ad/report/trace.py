"""The forward trace (Wengert list) and the backward sweep as tables, for `gad trace`."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.api import Analysis
from graphviz_ad.engine.graph import INPUT
from graphviz_ad.engine.trace import BackwardStep, ForwardStep, step_count, trace_names
from graphviz_ad.errors import LimitError

DIGITS = display.SHORT_DIGITS
# A terminal table takes about half a millisecond a row to lay out; JSON is ten times cheaper.
MAX_TRACE_ROWS = 10_000
MAX_TRACE_STEPS = 100_000


def refuse_long_trace(analysis: Analysis, as_json: bool) -> None:
    """Refuse a trace of more rows (tables) or steps (JSON) than the limit, before any is made."""
    steps = step_count(analysis.gradients)
    limit = MAX_TRACE_STEPS if as_json else MAX_TRACE_ROWS
    if steps > limit:
        what = "its JSON is" if as_json else "its tables are"
        raise LimitError(f"the trace has {steps:,} steps; {what} limited to {limit:,}", None,
                         None if as_json or steps > MAX_TRACE_STEPS
                         else f"--json prints up to {MAX_TRACE_STEPS:,} steps")


def trace_tables(analysis: Analysis, forward: list[ForwardStep],
                 backward: list[BackwardStep]) -> Group:
    names = trace_names(analysis.graph)
    evaluation = Table(title=Text("forward: evaluation in order", style="bold"),
                       title_justify="left")
    evaluation.add_column("step", style="bold")
    evaluation.add_column("value", justify="right")
    evaluation.add_column("from the source", style="dim")
    for step in forward:
        expression = "" if step.kind == INPUT else f" = {step.expression}"
        evaluation.add_row(Text(f"{step.name}{expression}"),
                           display.value(step.value, DIGITS), Text(step.source))
    output = names[analysis.graph.output]
    sweep = Table(title=Text(f"backward: adjoints from the output down, adj({output}) = 1",
                             style="bold"), title_justify="left")
    sweep.add_column("update", style="bold")
    sweep.add_column("adjoint · local", justify="right")
    sweep.add_column("adds", justify="right")
    sweep.add_column("total", justify="right")
    for step in backward:
        sweep.add_row(Text(f"adj({names[step.target]}) += adj({names[step.via]}) · {step.formula}"),
                      f"{display.value(step.adjoint, DIGITS)} · {display.value(step.local, DIGITS)}",
                      display.value(step.contribution, DIGITS),
                      display.value(step.total, DIGITS))
    graph = analysis.graph
    result = Text("gradient: " + (", ".join(
        f"d{names[graph.output]}/d{name} = {_exact_if_scalar(analysis.gradient(name))}"
        for name in analysis.inputs) or "none (no inputs)"), style="bold")
    return Group(evaluation, sweep, result)


def _exact_if_scalar(value: Any) -> str:
    return display.value(value, None if np.ndim(value) == 0 else DIGITS)


def trace_json(analysis: Analysis, forward: list[ForwardStep],
               backward: list[BackwardStep]) -> dict[str, Any]:
    names = trace_names(analysis.graph)
    return {
        "forward": [{"name": step.name, "expression": step.expression, "kind": step.kind,
                     "value": display.jsonable(step.value), "source": step.source}
                    for step in forward],
        "backward": [{"target": names[step.target], "via": names[step.via], "slot": step.slot,
                      "formula": step.formula, "adjoint": display.jsonable(step.adjoint),
                      "local": display.jsonable(step.local),
                      "contribution": display.jsonable(step.contribution),
                      "total": display.jsonable(step.total)}
                     for step in backward],
        "gradient": {name: display.jsonable(analysis.gradient(name)) for name in analysis.inputs},
    }
