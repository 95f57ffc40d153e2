"""The gradient report: the output value and one row per input, with the finite-difference check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.gradients import GradientReport
from graphviz_ad.report.layout import Fitted, cell
from graphviz_ad.text import printable

if TYPE_CHECKING:
    from graphviz_ad.higher import DerivativesReport, HessianReport

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
            cells += [cell(display.value(check.finite_difference, 12)), _verdict(check)]
        table.add_row(*cells)
    notes = [Text(report.note, style="dim")]
    skipped = [row.check.skipped for row in report.rows if row.check and row.check.skipped]
    if skipped:
        others = len(skipped) - 1
        more = f"; and {others:,} more input" + ("s" if others > 1 else "") if others else ""
        notes.append(Text(printable(f"finite differences skipped past their work budget: "
                                    f"{skipped[0]}{more} (gad docs errors)"), style="yellow"))
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


HESSIAN_TABLE_ELEMENTS = 12  # input elements: a larger Hessian is shown by blocks
EXACT_COLUMNS = 3  # a Hessian of more input elements is shown rounded


def grad_table(report: GradientReport | HessianReport | DerivativesReport) -> Group:
    """What `gad grad` shows: the gradients; with --order N, the derivatives up to N of a
    function of one number, or the Hessian, each beside the finite differences of the order
    below."""
    if isinstance(report, GradientReport):
        return gradient_table(report)
    from graphviz_ad.higher import DerivativesReport  # only with --order: gad grad starts faster

    if isinstance(report, DerivativesReport):
        return _derivatives_table(report)
    return _hessian_table(report)


def _title(report, what: str) -> Text:
    return Text.assemble((printable(f"{report.output_name} = "), "bold"),
                         (display.brief(report.value), "bold cyan"), printable(what))


def _method(settings) -> str:
    """`central, h = 1e-6·max(1, |x|)`."""
    return settings.note.removeprefix("finite differences: ")


def _verdict(check) -> Text:
    return cell(f"{check.difference:.1e} " + ("✓" if check.agrees else "✗"),
                "green" if check.agrees else "bold red")


def _derivatives_table(report: DerivativesReport) -> Group:
    name, output = report.name, report.output_name
    table = Table(title=_title(report, f"   at {name} = {display.brief(report.point)}"),
                  title_justify="left")
    table.add_column("derivative", style="green")
    table.add_column(VALUE, justify="right", style="bold")
    table.add_column("graph nodes", justify="right")
    if report.checked:
        table.add_column(FINITE_DIFFERENCE, justify="right")
        table.add_column("difference", justify="right")
    for row in report.rows:
        power = "" if row.order == 1 else display.superscript(row.order)
        cells = [cell(f"d{power}{output}/d{name}{power}"), cell(display.brief(row.value)),
                 cell(f"{row.nodes:,}")]
        if row.check is not None:
            cells += [cell(display.value(row.check.finite_difference, 12)),
                      _verdict(row.check)]
        table.add_row(*cells)
    note = (f"each derivative is the value of the previous one's gradient graph, built by the "
            f"op table's rules ({output}'s graph: {report.nodes:,} nodes)")
    if report.checked:
        note += (f"; each checked against finite differences of the order below "
                 f"({_method(report.settings)})")
    return Group(Fitted(table, optional=[FINITE_DIFFERENCE]), Text(note, style="dim"))


def _hessian_table(report: HessianReport) -> Group:
    names = report.element_names
    title = _title(report, "")
    # Every digit while the matrix fits a terminal; past EXACT_COLUMNS, rounded (--json has
    # every digit).
    digits = None if len(names) <= EXACT_COLUMNS else display.SHORT_DIGITS
    if len(names) <= HESSIAN_TABLE_ELEMENTS:
        table = Table(title=title, title_justify="left")
        table.add_column("", style="green")
        for name in names:
            table.add_column(printable(name), justify="right")
        for name, row in zip(names, report.matrix):
            table.add_row(cell(name), *(cell(display.value(entry, digits)) for entry in row))
    else:
        table = Table(title=title, title_justify="left")
        table.add_column("block", style="green")
        table.add_column("shape", justify="right")
        table.add_column("entries", justify="right")
        for first in report.names:
            for second in report.names:
                block = report.blocks[first][second]
                table.add_row(cell(f"d²/d{first} d{second}"), cell(display.shape(block)),
                              cell(display.brief(block)))
    sizes = ", ".join(f"{name}: {count:,}" for name, count in report.gradient_nodes.items())
    output = report.output_name
    notes = [Text(f"Hessian d²{output}/d(row) d(column) by reverse over reverse: "
                  f"{len(names):,} backward sweeps of the gradient's graph (nodes {sizes}; "
                  f"{output}'s graph "
                  f"{report.nodes:,})" + (f"; rounded to {digits} digits, --json has every "
                                          "digit" if digits else ""), style="dim")]
    if report.checks is not None:
        checks = [check for row in report.checks.values() for check in row.values()]
        worst = max(checks, key=lambda check: check.difference)
        notes.append(Text.assemble(f"checked against finite differences of the gradient "
                                   f"({_method(report.settings)}): largest difference ",
                                   _verdict(worst)))
    return Group(Fitted(table), *notes)


def grad_json(report: GradientReport | HessianReport | DerivativesReport) -> dict[str, Any]:
    if isinstance(report, GradientReport):
        return gradient_json(report)
    from graphviz_ad.higher import DerivativesReport

    if isinstance(report, DerivativesReport):
        return {"value": display.jsonable(report.value), "input": report.name,
                "point": display.jsonable(report.point),
                "derivatives": [{"order": row.order, "value": display.jsonable(row.value),
                                 "nodes": row.nodes,
                                 "check": _check_json(row.check)} for row in report.rows]}
    return {"value": display.jsonable(report.value), "inputs": list(report.names),
            "hessian": {first: {second: display.jsonable(block)
                                for second, block in row.items()}
                        for first, row in report.blocks.items()},
            "check": None if report.checks is None else
            {first: {second: _check_json(check) for second, check in row.items()}
             for first, row in report.checks.items()}}


def _check_json(check) -> dict[str, Any] | None:
    if check is None:
        return None
    return {"finite_difference": display.jsonable(check.finite_difference),
            "difference": display.jsonable(check.difference), "agrees": check.agrees}
