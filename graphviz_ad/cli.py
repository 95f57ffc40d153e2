"""The `gad` command: thin typer commands that call the facade and turn errors into messages."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

from graphviz_ad import display
from graphviz_ad.engine.paths import ENUMERATION_LIMIT
from graphviz_ad.errors import GadError, InputValueError, UsageError

MAX_FILE_BYTES = 5_000_000
INTERRUPTED_EXIT = 130

app = typer.Typer(
    name="gad",
    help="See reverse-mode automatic differentiation: values, gradients, and the chain rule "
         "edge by edge.\n\nExample: gad grad \"(sin(x2)+1)/(x2+exp(x1))+x1*x2\" x1=1.5 x2=0.5",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Mode(str, Enum):
    reverse = "reverse"
    forward = "forward"


Expression = Annotated[str, typer.Argument(
    help="An expression or program, a path to a program file, or - to read standard input.",
    show_default=False)]
Values = Annotated[Optional[list[str]], typer.Argument(
    help="Input values as NAME=VALUE: x1=1.5, x=[1,2], W=[[1,2],[3,4]].", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print JSON and nothing else.")]


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _print_error(error: GadError) -> None:
    from rich.text import Text

    from graphviz_ad.errors import excerpt

    message = Text.assemble(("error", "bold red"), (f"[{error.title}]", "red"), ": ",
                            (error.reason, "bold"))
    if error.span is not None and error.source is not None:
        message.append("\n" + excerpt(error.source, error.span), style="blue")
    if error.hint:
        message.append("\nhint: ", style="bold cyan")
        message.append(error.hint)
    _console(stderr=True).print(message, soft_wrap=True)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn typed errors into a message and an exit status; no traceback for user mistakes."""
    try:
        yield
    except GadError as error:
        _print_error(error)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        _console(stderr=True).print("interrupted")
        raise typer.Exit(INTERRUPTED_EXIT) from None


def load_source(argument: str) -> str:
    """The program text: standard input for `-`, a file's contents for a path, else the text."""
    if argument == "-":
        return sys.stdin.read()
    path = Path(argument)
    if "\n" not in argument and len(argument) < 4096 and path.is_file():
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"{argument} has {path.stat().st_size:,} bytes; the limit is "
                             f"{MAX_FILE_BYTES:,}")
        data = path.read_bytes()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise UsageError(f"{argument} is not UTF-8 text: byte {error.start} "
                             f"(0x{data[error.start]:02x}) cannot be decoded") from None
    return argument


def parse_values(items: list[str] | None) -> dict:
    from graphviz_ad.engine.build import parse_value
    from graphviz_ad.language.tokens import NAME, tokenize

    values = {}
    for item in items or []:
        name, equals, text = item.partition("=")
        name = name.strip()
        if not equals:
            raise InputValueError(f"expected NAME=VALUE, got `{item}`", None,
                                  f"write it as {item}=1.0 or similar")
        try:
            tokens = tokenize(name)
        except GadError:
            tokens = []
        if len(tokens) != 2 or tokens[0].kind != NAME:
            raise InputValueError(f"`{name}` is not a name", None,
                                  "names are letters, digits and _, not starting with a digit")
        values[name] = parse_value(name, text.strip())
    return values


def _analyze(expression: str, values: list[str] | None):
    from graphviz_ad.api import analyze

    analysis = analyze(load_source(expression), parse_values(values))
    if analysis.warnings:
        console = _console(stderr=True)
        for warning in analysis.warnings:
            console.print(f"[yellow]warning:[/] {_escape(warning)}")
    return analysis


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _selected(analysis, wrt: list[str] | None) -> list[str]:
    names = wrt or analysis.inputs
    for name in names:
        analysis.require_input(name)
    return names


@app.command()
def grad(
    expression: Expression,
    values: Values = None,
    wrt: Annotated[Optional[list[str]], typer.Option(
        "--wrt", help="Only this input (repeatable).", show_default=False)] = None,
    no_check: Annotated[bool, typer.Option(
        "--no-check", help="Skip the finite-difference check.")] = False,
    mode: Annotated[Mode, typer.Option(help="Reverse mode (one backward sweep) or forward mode "
                                            "(one tangent sweep per input element).")]
    = Mode.reverse,
    as_json: Json = False,
) -> None:
    """The output value and the gradient of every input, checked by finite differences."""
    with _user_errors():
        analysis = _analyze(expression, values)
        names = _selected(analysis, wrt)
        checks = None if no_check else {name: analysis.check(name, mode.value) for name in names}
        if as_json:
            from graphviz_ad.report.grad import gradient_json

            print(json.dumps(gradient_json(analysis, names, mode.value, checks)))
            return
        from graphviz_ad.report.grad import gradient_table

        _console().print(gradient_table(analysis, names, mode.value, checks))


@app.command()
def paths(
    expression: Expression,
    values: Values = None,
    wrt: Annotated[Optional[str], typer.Option(
        "--wrt", help="The input whose paths to list; without it, one row per input.",
        show_default=False)] = None,
    top: Annotated[int, typer.Option(
        "--top", min=1, help="Show the K paths of largest |product|, then one row for the rest.")]
    = 20,
    every: Annotated[bool, typer.Option(
        "--all", help=f"List every path (refused above {ENUMERATION_LIMIT:,} paths).")] = False,
    as_json: Json = False,
) -> None:
    """The chain rule path by path: each path's local gradients, product and share of the
    gradient, summing to the gradient. Path counts are exact, at any scale."""
    from graphviz_ad.report import paths as report

    with _user_errors():
        analysis = _analyze(expression, values)
        if wrt is None:
            summaries = [analysis.paths(name, 1) for name in analysis.inputs]
            if as_json:
                print(json.dumps({"inputs": [
                    {"name": summary.name, "path_count": summary.count,
                     "gradient": display.jsonable(summary.gradient),
                     "largest": report.path_json(analysis, summary.paths[0])
                     if summary.paths else None} for summary in summaries]}))
                return
            _console().print(report.inputs_table(analysis, summaries))
            return
        summary = analysis.paths(wrt, None if every else top)
        if as_json:
            print(json.dumps(report.summary_json(analysis, summary)))
            return
        _console().print(report.paths_table(analysis, summary))


@app.command()
def trace(expression: Expression, values: Values = None, as_json: Json = False) -> None:
    """The forward trace (one line per node, in evaluation order) and the backward sweep, one
    adjoint update per line in the order the engine performs them."""
    from graphviz_ad.engine.trace import backward_steps, forward_steps
    from graphviz_ad.report.trace import trace_json, trace_tables

    with _user_errors():
        analysis = _analyze(expression, values)
        forward = forward_steps(analysis.graph)
        backward = backward_steps(analysis.gradients)
        if as_json:
            print(json.dumps(trace_json(analysis, forward, backward)))
            return
        _console().print(trace_tables(analysis, forward, backward))


@app.command()
def ops() -> None:
    """List the functions and operators, with their derivatives and domains."""
    from graphviz_ad.report.ops import ops_table

    _console().print(ops_table())


def main() -> None:
    app()
