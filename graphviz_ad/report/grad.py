"""The gradient report: the output value and one row per input, with the finite-difference check."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.api import GradientReport


def gradient_table(report: GradientReport) -> Group:
    table = Table(title=Text.assemble((f"{report.output_name} = ", "bold"),
                                      (display.value(report.value), "bold cyan")),
                  title_justify="left")
    table.add_column("input", style="green")
    table.add_column("value", justify="right")
    table.add_column("Jacobian" if report.jacobian else "gradient", justify="right",
                     style="bold")
    if report.checked:
        table.add_column("finite difference", justify="right")
        table.add_column("difference", justify="right")
    for row in report.rows:
        cells: list[Any] = [row.name, display.value(row.value), display.value(row.gradient)]
        if row.check is not None:
            check = row.check
            cells += [display.value(check.finite_difference, 12),
                      Text(f"{check.difference:.1e} " + ("✓" if check.agrees else "✗"),
                           style="green" if check.agrees else "bold red")]
        table.add_row(*cells)
    lines = [Text(report.note, style="dim")]
    for row in report.failures:
        for kink in row.check.kinks:
            lines.append(Text.assemble(("✗ ", "bold red"), (row.name, "green"), f": {kink}"))
    return Group(table, *lines)


def gradient_json(report: GradientReport) -> dict[str, Any]:
    return {
        "value": display.jsonable(report.value),
        "mode": report.mode,
        # For an array output each entry is a Jacobian: output shape + input shape.
        "gradient": {row.name: display.jsonable(row.gradient) for row in report.rows},
        "check": None if not report.checked else {
            row.name: {"finite_difference": display.jsonable(row.check.finite_difference),
                       "difference": display.jsonable(row.check.difference),
                       "tolerance": row.check.tolerance,
                       "agrees": row.check.agrees,
                       "kinks": list(row.check.kinks)}
            for row in report.rows},
    }
