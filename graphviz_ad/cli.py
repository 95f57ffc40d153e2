"""The `gad` command: each command declares its options and hands them, typed, to the facade.

A command checks where its output goes before anything is evaluated (render/formats.py), loads
through the facade (api.py) and prints what it returns with the views of report/; a picture is
planned, then written. Typed errors become messages and exit statuses.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from contextlib import contextmanager, nullcontext
from typing import Annotated, Callable, Iterator

import typer

from graphviz_ad import options, signals
from graphviz_ad.command_help import MAIN_HELP, help_texts, show_version
from graphviz_ad.command_options import (AllPaths, AtolOption, CheckOption, DocsTopic,
                                         ExplainOutput, ExplainWrt, Expression, ExpressionCommand,
                                         FdMethod, FdMethodOption, FdStepOption, FoldOption,
                                         FormatOption, Json, Mode, ModeOption, NoCheck,
                                         OrderOption, Output, PathsWrt, RtolOption, Strict, Top,
                                         Values, WrtInputs, Wrt, draws_a_picture)
from graphviz_ad.errors import FAILURE_EXIT, GadError, UsageError
from graphviz_ad.framework_commands import register_framework_commands
from graphviz_ad.render.formats import DrawOptions, PictureOptions, check_output
from graphviz_ad.text import for_the_terminal, printable
from graphviz_ad.writing import StandardOutput, is_standard_output

app = typer.Typer(name="gad", no_args_is_help=True, add_completion=True,
                  pretty_exceptions_enable=False)
# Expressions may start with a minus (`-x^2`), which click would take for an option.
EXPRESSION_COMMAND = {"ignore_unknown_options": True}


def command(**settings) -> Callable:
    """A command with its help and examples (command_help.py), whose typed errors, from its
    options on, become messages and exit statuses (`_user_errors`)."""
    def register(function: Callable) -> Callable:
        @functools.wraps(function)
        def guarded(*arguments, **options):
            with _user_errors():  # the options' own checks too (DrawOptions, PictureOptions)
                return function(*arguments, **options)
        return app.command(**help_texts(function, settings.get("name")), cls=ExpressionCommand,
                           **settings)(guarded)
    return register


@app.callback(help=MAIN_HELP)
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=show_version, is_eager=True, help="Print the version and exit.")]
        = False) -> None:
    pass


def _console(stderr: bool = False):
    from graphviz_ad.report.layout import plain_console

    return plain_console(stderr, None if stderr else StandardOutput())


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn typed errors into a message and an exit status; no traceback for user mistakes."""
    try:
        yield
    except GadError as error:
        from graphviz_ad.report.messages import error_message

        _console(stderr=True).print(error_message(error), soft_wrap=True)
        raise typer.Exit(error.exit_code) from None
    except BrokenPipeError:  # the reader of standard output left (`| head`): end quietly
        raise typer.Exit(FAILURE_EXIT) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        if os.environ.get("GAD_DEBUG"):
            raise
        from graphviz_ad.report.messages import internal_error_message

        _console(stderr=True).print(internal_error_message(error))
        raise typer.Exit(FAILURE_EXIT) from None


def _load(expression: str, values: list[str] | None, strict: bool):
    """The one door in; its notes (unused values, overflows) go to standard error."""
    from graphviz_ad.api import load

    return _noted(load(expression, values or (), strict=strict))


def _noted(analysis):
    """The analysis, its notes (unused values, overflows) printed to standard error."""
    from graphviz_ad.report.messages import warning_message

    for note in analysis.notes:
        _console(stderr=True).print(warning_message(note))
    return analysis


def _show(renderable, as_json: bool, data: Callable[[], dict]) -> None:
    if as_json:
        from graphviz_ad.display import json_text

        print(json_text(data()), file=StandardOutput())
    else:
        _console().print(renderable())


@command(context_settings=EXPRESSION_COMMAND)
def grad(expression: Expression, values: Values = None,
         wrt: WrtInputs = None, check: CheckOption = None,
         fd_method: FdMethodOption = FdMethod.central, fd_step: FdStepOption = None,
         rtol: RtolOption = options.DEFAULT_RTOL, atol: AtolOption = options.DEFAULT_ATOL,
         mode: ModeOption = Mode.auto, order: OrderOption = 1,
         as_json: Json = False, strict: Strict = False) -> None:
    """The output value and the gradient of every input (for an array output, its Jacobian),
    checked by finite differences; with --check, a failed check exits with status 1. With
    --order, derivatives of derivatives: the Hessian, or the derivatives of a function of one
    number up to an order."""
    from graphviz_ad.gradients import CheckSettings
    from graphviz_ad.report import grad as view

    settings = CheckSettings(fd_method.value, fd_step, rtol, atol)
    analysis = _load(expression, values, strict)
    report = analysis.gradient_report(wrt, mode.value, check is not False, settings) \
        if order == 1 else analysis.higher(order, wrt, mode.value, check is not False, settings)
    _show(lambda: view.grad_table(report), as_json, lambda: view.grad_json(report))
    if check:
        report.require_agreement()


@command(name="eval", context_settings=EXPRESSION_COMMAND)
def evaluate(expression: Expression, values: Values = None, as_json: Json = False,
             strict: Strict = False) -> None:
    """The output's value, a number or an array (a formula for a gradient, say), unchecked."""
    from graphviz_ad import display

    value = _load(expression, values, strict).output_value
    _show(lambda: display.value(value), as_json, lambda: {"value": display.jsonable(value)})


@command(context_settings=EXPRESSION_COMMAND)
def paths(expression: Expression, values: Values = None,
          wrt: PathsWrt = None, top: Top = options.DEFAULT_TOP, every: AllPaths = False,
          fold: FoldOption = None, as_json: Json = False, strict: Strict = False) -> None:
    """The chain rule path by path: each path's local gradients, product and share of the
    gradient, summing to the gradient. Path counts are exact, at any scale; with --fold, a
    group's edges carry the total derivative through it, and the sum stays the gradient."""
    _show_paths(_load(expression, values, strict), wrt, None if every else top, fold,
                as_json)


def _show_paths(analysis, wrt: str | None, top: int | None, fold: list[str] | None,
                as_json: bool) -> None:
    """The paths of `wrt` (through the `fold` groups folded), or one row per input."""
    from graphviz_ad.report import paths as view

    if wrt is None:
        summaries = analysis.every_input_paths(analysis.inputs, 1)
        _show(lambda: view.inputs_table(analysis.graph, summaries), as_json,
              lambda: view.inputs_json(analysis.graph, summaries))
        return
    graph, summary = analysis.paths_drawn(wrt, top, fold or ())
    _show(lambda: view.paths_table(graph, summary), as_json,
          lambda: view.summary_json(graph, summary))


@command(context_settings=EXPRESSION_COMMAND)
def trace(expression: Expression, values: Values = None, mode: ModeOption = Mode.reverse,
          as_json: Json = False, strict: Strict = False) -> None:
    """The evaluation (one line per node, in order), then the backward sweep, one adjoint update
    per line in the engine's order; with --mode forward, one tangent sweep per input element
    instead, one line per node in evaluation order, each ending in that element's gradient."""
    from graphviz_ad.report import trace as view

    steps = _load(expression, values, strict).trace(*view.trace_limit(as_json), mode.value)
    _show(lambda: view.trace_tables(steps), as_json, lambda: view.trace_json(steps))


def _draw(analysis, output: str, planned) -> None:
    """Draw and write a planned picture, with a spinner on a terminal and a note of its cost."""
    console = _console(stderr=True)
    started = time.perf_counter()
    spinner = console.status("rendering…") if console.is_terminal else nullcontext()
    with spinner:
        drawing = analysis.write(output, planned)
    for note in drawing.notes:
        console.print(printable(f"note: {note}"), style="cyan")
    if not is_standard_output(output):
        cost = (f" ({drawing.nodes} nodes, {drawing.renderer}, "
                f"{time.perf_counter() - started:.2f} s)") if drawing.renderer else ""
        console.print(printable(f"wrote {output}{cost}"), style="dim")


@command(context_settings=EXPRESSION_COMMAND)
@draws_a_picture()
def graph(expression: Expression, values: Values = None, output: Output = "-",
          image_format: FormatOption = None, wrt: Wrt = None, top: Top = options.DEFAULT_TOP,
          picture: PictureOptions = PictureOptions(), drawing: DrawOptions = DrawOptions(),
          strict: Strict = False) -> None:
    """Draw the computational graph: values and grads on nodes, local derivatives on edges;
    with --wrt, each path from that input in its own colour. A large graph folds its groups
    (statements, runs of terms, blocks of lines) into boxes whose edges carry the total
    derivative, until it fits --max-boxes."""
    entry = check_output(output, image_format, drawing.renderer, expression, values or ())
    analysis = _load(expression, values, strict)
    _draw(analysis, output, analysis.plan(entry, picture, drawing))


@command(context_settings=EXPRESSION_COMMAND)
@draws_a_picture()
def explain(expression: Expression, values: Values = None,
            wrt: ExplainWrt = None, output: ExplainOutput = None,
            top: Top = options.DEFAULT_TOP, no_check: NoCheck = False,
            picture: PictureOptions = PictureOptions(), drawing: DrawOptions = DrawOptions(),
            strict: Strict = False) -> None:
    """The whole walkthrough: the value, the checked gradients, the paths of each input, and
    the picture with -o (taking the same picture options as gad graph)."""
    from graphviz_ad.report.explain import walkthrough

    if output is not None and is_standard_output(output):
        raise UsageError("explain prints its tables to standard output; -o needs a file",
                         None, "gad graph EXPR -o - writes the picture alone")
    entry = check_output(output, None, drawing.renderer, expression, values or ()) \
        if output else None
    analysis = _load(expression, values, strict)
    tour = analysis.walkthrough(picture, not no_check, entry, drawing)
    _console().print(walkthrough(analysis.graph, tour.report, tour.summaries))
    if tour.plan is not None:
        _draw(analysis, output, tour.plan)


@command()
def ops() -> None:
    """List the functions and operators, with their derivatives and domains."""
    from graphviz_ad.report.ops import ops_table

    _console().print(ops_table())


@command()
def docs(topic: DocsTopic = None) -> None:
    """Print a page of the documentation (`gad docs torch`); without TOPIC, list the pages."""
    from graphviz_ad import manual

    print(manual.page(topic) if topic else manual.contents(), file=StandardOutput())


# `gad torch` and `gad jax`, on this app, with this module's shell (framework_commands.py).
register_framework_commands(command, EXPRESSION_COMMAND, _noted, _show, _show_paths, _draw)


def main() -> None:
    for_the_terminal(sys.stdout, sys.stderr, quiet=not os.environ.get("GAD_DEBUG"))
    signals.run(app, lambda message: _console(stderr=True).print(message))
