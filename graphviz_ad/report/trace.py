"""The forward trace (Wengert list) and the backward sweep as tables, for `gad trace`."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.api import Trace
from graphviz_ad.engine.annotated import INPUT

DIGITS = display.SHORT_DIGITS


def trace_tables(trace: Trace) -> Group:
    names = trace.names
    evaluation = Table(title=Text("forward: evaluation in order", style="bold"),
                       title_justify="left")
    evaluation.add_column("step", style="bold")
    evaluation.add_column("value", justify="right")
    evaluation.add_column("from the source", style="dim")
    for step in trace.forward:
        expression = "" if step.kind == INPUT else f" = {step.expression}"
        evaluation.add_row(Text(f"{step.name}{expression}"),
                           display.value(step.value, DIGITS), Text(step.source))
    output = names[trace.output]
    sweep = Table(title=Text(f"backward: adjoints from the output down, adj({output}) = 1",
                             style="bold"), title_justify="left")
    sweep.add_column("update", style="bold")
    sweep.add_column("adjoint · local", justify="right")
    sweep.add_column("adds", justify="right")
    sweep.add_column("total", justify="right")
    for step in trace.backward:
        sweep.add_row(Text(f"adj({names[step.target]}) += adj({names[step.via]}) · {step.formula}"),
                      f"{display.value(step.adjoint, DIGITS)} · {display.value(step.local, DIGITS)}",
                      display.value(step.contribution, DIGITS),
                      display.value(step.total, DIGITS))
    result = Text("gradient: " + (", ".join(
        f"d{trace.output_name}/d{name} = {_exact_if_scalar(gradient)}"
        for name, gradient in trace.gradients.items()) or "none (no inputs)"), style="bold")
    return Group(evaluation, sweep, result)


def _exact_if_scalar(value: Any) -> str:
    return display.value(value, None if np.ndim(value) == 0 else DIGITS)

