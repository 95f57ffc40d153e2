"""The gradient report: the output value and one row per input, with the finite-difference check."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.gradients import GradientReport
from graphviz_ad.report.layout import Fitted, cell
from graphviz_ad.text import printable

FINITE_DIFFERENCE = "finite difference"
VALUE = "value"


def gradient_table(report: GradientReport) -> Group:
    table = Table(title=Text.assemble((printable(f"{report.output_name} = "), "bold"),
                                      (display.brief(report.value), "bold cyan")),
                  title_justify="left")
    table.add_column("input", style="green")
    table.add_column(VALUE, justify="right")
    table.add_column("Jacobian" if report.jacobian else "gradient", justify="right",
                     style="bold")
    if report.checked:
        table.add_column(FINITE_DIFFERENCE, justify="right")
        table.add_column("difference", justify="right")
    for row in report.rows:
        cells = [cell(row.name), cell(display.brief(row.value)),
                 cell(display.brief(row.gradient))]
        if row.check is not None and row.check.skipped:
            cells += [cell("skipped", "yellow"), cell("skipped", "yellow")]
        elif row.check is not None:
            check = row.check
            cells += [cell(display.value(check.finite_difference, 12)),
                      cell(f"{check.difference:.1e} " + ("✓" if check.agrees else "✗"),
                           "green" if check.agrees else "bold red")]
        table.add_row(*cells)
    notes = [Text(report.note, style="dim")]
    skipped = [row.check.skipped for row in report.rows if row.check and row.check.skipped]
    if skipped:
        others = len(skipped) - 1
        more = f"; and {others:,} more input" + ("s" if others > 1 else "") if others else ""
        notes.append(Text(printable(f"finite differences skipped past their work budget: "
                                    f"{skipped[0]}{more} (docs/errors.md)"), style="yellow"))
    for row in report.failures:
        for kink in row.check.kinks:
            notes.append(Text.assemble(("✗ ", "bold red"), (printable(row.name), "green"),
                                       printable(f": {kink}")))
    # On a narrow terminal the check's own digits go first, then the input's value.
    return Group(Fitted(table, optional=[FINITE_DIFFERENCE, VALUE]), *notes)


def gradient_json(report: GradientReport) -> dict[str, Any]:
    return {
        "value": display.jsonable(report.value),
        "mode": report.mode,
        # For an array output each entry is a Jacobian: output shape + input shape.
        "gradient": {row.name: display.jsonable(row.gradient) for row in report.rows},
        "check": None if not report.checked else {
            row.name: {"skipped": row.check.skipped} if row.check.skipped else
            {"finite_difference": display.jsonable(row.check.finite_difference),
             "difference": display.jsonable(row.check.difference),
             "tolerance": display.jsonable(row.check.tolerance),
             "agrees": row.check.agrees,
             "kinks": list(row.check.kinks)}
            for row in report.rows},
    }
