"""The gradient report: the output value and one row per input, with the finite-difference check."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.api import Analysis, Check
from graphviz_ad.engine.graph import output_name


def gradient_table(analysis: Analysis, names: list[str], mode: str,
                   checks: dict[str, Check] | None) -> Group:
    graph = analysis.graph
    table = Table(title=Text.assemble((f"{output_name(graph)} = ", "bold"),
                                      (display.number(analysis.value), "bold cyan")),
                  title_justify="left")
    table.add_column("input", style="green")
    table.add_column("value", justify="right")
    table.add_column("gradient", justify="right", style="bold")
    if checks is not None:
        table.add_column("finite difference", justify="right")
        table.add_column("difference", justify="right")
    for name in names:
        value = analysis.graph.values[analysis.graph.inputs[name]]
        row: list[Any] = [name, display.value(value)]
        if checks is None:
            row.append(display.value(analysis.gradient(name, mode)))
        elif checks[name].skipped:
            row += [display.value(checks[name].gradient), Text("skipped", style="yellow"),
                    Text("skipped", style="yellow")]
        else:
            check = checks[name]
            row += [display.value(check.gradient), display.value(check.finite_difference, 12),
                    Text(f"{check.difference:.1e} " + ("✓" if check.agrees else "✗"),
                         style="green" if check.agrees else "bold red")]
        table.add_row(*row)
    note = f"{mode} mode" + ("; finite differences: central, h = 1e-6·max(1, |x|)"
                             if checks else "")
    notes = [Text(note, style="dim")]
    skipped = [check.skipped for check in (checks or {}).values() if check.skipped]
    if skipped:
        others = len(skipped) - 1
        more = f"; and {others:,} more input" + ("s" if others > 1 else "") if others else ""
        notes.append(Text(f"finite differences skipped past their work budget: {skipped[0]}"
                          f"{more} (docs/errors.md)", style="yellow"))
    return Group(table, *notes)


def gradient_json(analysis: Analysis, names: list[str], mode: str,
                  checks: dict[str, Check] | None) -> dict[str, Any]:
    gradients = {name: checks[name].gradient if checks else analysis.gradient(name, mode)
                 for name in names}
    return {
        "value": display.jsonable(analysis.value),
        "gradient": {name: display.jsonable(gradient) for name, gradient in gradients.items()},
        "check": None if checks is None else {
            name: {"skipped": check.skipped} if check.skipped else
            {"finite_difference": display.jsonable(check.finite_difference),
             "difference": display.jsonable(check.difference),
             "agrees": check.agrees}
            for name, check in checks.items()},
    }
