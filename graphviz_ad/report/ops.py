"""The op table as a terminal table, for `gad ops`."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from graphviz_ad.language.parser import CANONICAL
from graphviz_ad.engine.ops import (CONSTANTS, GRAD, GRAD_DESCRIPTION, NO_GRAD,
                                    NO_GRAD_DESCRIPTION, REDUCING, TABLE, Op)
from graphviz_ad.report.layout import Fitted


def _written(op: Op) -> list[str]:
    """Every way to write the op: `x ^ y`, `x ** y` (the parser's aliases) and `pow(x, y)`;
    `max(x)` for amax; `ln(x)` for log; `[a, b]` for stack."""
    forms = [form for name, entry in REDUCING.items() if entry is op
             for form in (f"{name}(x)", f"{name}(x, axis=k)")] + \
        [op.signature] + [f"{alias}({', '.join(op.parameters)})" for alias in op.aliases]
    if op.callable and op.operator:
        aliases = [alias for alias, canonical in CANONICAL.items() if canonical == op.operator]
        forms = [op.written(op.parameters, as_operator=True)] + \
            [f"x {alias} y" for alias in aliases] + forms
    if op.name == "stack":
        forms.append("[a, b]")
    return forms


def _partials(op: Op) -> str:
    names = op.parameters
    return "\n".join(f"d/d{names[slot]} = " + op.formula(slot, names)
                     for slot in range(len(op.partials)))


def _entry(written: str, description: str) -> Text:
    return Text.assemble((written, "bold green"), "\n", (description, "dim"))


def ops_table() -> Fitted:
    table = Table(title="Functions and operators", title_justify="left",
                  caption=Text("constants: " + ", ".join(f"{name} = {value!r}"
                                                         for name, value in CONSTANTS.items())),
                  caption_justify="left", show_lines=True)
    table.add_column("written / meaning")
    table.add_column("local derivatives", no_wrap=True)
    table.add_column("domain")
    for op in TABLE:
        table.add_row(_entry("\n".join(_written(op)), op.description), Text(_partials(op)),
                      Text(op.domain_in_xy))
    table.add_row(_entry(f"{NO_GRAD}(x)", NO_GRAD_DESCRIPTION), Text("none (a constant)"),
                  Text("all x"))
    table.add_row(_entry(f"{GRAD}(f, x)", GRAD_DESCRIPTION), Text("those of f's ops, to any order"),
                  Text("f a number; x a name"))
    return Fitted(table)


def ops_markdown() -> str:
    """The same table as Markdown, for docs/language.md (kept in sync by a test)."""
    lines = ["| written | local derivatives | domain | meaning |", "|---|---|---|---|"]
    for op in TABLE:
        partials = "<br>".join(f"`{line}`" for line in _partials(op).splitlines())
        written = ", ".join(f"`{form}`" for form in _written(op))
        lines.append(f"| {written} | {partials} | {op.domain_in_xy} | "
                     f"{op.description} |")
    lines.append(f"| `{NO_GRAD}(x)` | none (a constant) | all x | {NO_GRAD_DESCRIPTION} |")
    lines.append(f"| `{GRAD}(f, x)` | those of f's ops, to any order | f a number; x a name | "
                 f"{GRAD_DESCRIPTION} |")
    return "\n".join(lines)
