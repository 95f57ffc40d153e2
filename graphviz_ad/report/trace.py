"""The forward trace (Wengert list) and the backward sweep as tables, for `gad trace`."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.engine.annotated import DATA, INPUT
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
    names = trace.names
    evaluation = Table(title=Text("forward: evaluation in order", style="bold"),
                       title_justify="left")
    evaluation.add_column("step", style="bold")
    evaluation.add_column("value", justify="right")
    evaluation.add_column(FROM_THE_SOURCE, style="dim")
    for step in trace.forward:
        expression = {INPUT: "", DATA: " (data)"}.get(step.kind, f" = {step.expression}")
        evaluation.add_row(cell(f"{step.name}{expression}"),
                           cell(display.value(step.value, DIGITS)), cell(step.source))
    output = names[trace.output]
    sweep = Table(title=cell(f"backward: adjoints from the output down, adj({output}) = 1",
                             "bold"), title_justify="left")
    sweep.add_column("update", style="bold")
    sweep.add_column("adjoint · local", justify="right")
    sweep.add_column("adds", justify="right")
    sweep.add_column("total", justify="right")
    for step in trace.backward:
        update = f"adj({names[step.target]}) += adj({names[step.via]}) · {step.formula}"
        sweep.add_row(cell(update),
                      cell(f"{display.value(step.adjoint, DIGITS)} · "
                           f"{display.value(step.local, DIGITS)}"),
                      cell(display.value(step.contribution, DIGITS)),
                      cell(display.value(step.total, DIGITS)))
    result = cell("gradient: " + (", ".join(
        f"d{trace.output_name}/d{name} = {_exact_if_scalar(gradient)}"
        for name, gradient in trace.gradients.items()) or "none (no inputs)"), "bold")
    return Group(Fitted(evaluation, optional=[FROM_THE_SOURCE]), Fitted(sweep), result)


def _exact_if_scalar(value: Any) -> str:
    return display.value(value, None if np.ndim(value) == 0 else DIGITS)

