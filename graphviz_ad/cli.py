"""The `gad` command: thin typer commands that call the facade and turn errors into messages."""

from __future__ import annotations

import json
import os
import re
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

from graphviz_ad.engine.paths import ENUMERATION_LIMIT, check_top
from graphviz_ad.errors import FAILURE_EXIT, GadError, InputValueError, Span, UsageError

MAX_FILE_BYTES = 5_000_000
INTERRUPTED_EXIT = 130
# Graphviz lays out 150 nodes in seconds, and a few hundred in minutes (docs/performance.md).
MAX_LAYOUT_NODES = 150

app = typer.Typer(
    name="gad",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# Expressions may start with a minus (`-x^2`), which click would take for an option.
EXPRESSION_COMMAND = {"ignore_unknown_options": True}


def _version(show: bool) -> None:
    if show:
        from graphviz_ad import __version__

        print(f"graphviz-ad {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")]
        = False) -> None:
    """See reverse-mode automatic differentiation: values, gradients, and the chain rule edge
    by edge.

    Example: gad grad "(sin(x2)+1)/(x2+exp(x1))+x1*x2" x1=1.5 x2=0.5
    """


class Mode(str, Enum):
    reverse = "reverse"
    forward = "forward"


Expression = Annotated[str, typer.Argument(
    help="An expression or program, a path to a program file, or - to read standard input.",
    show_default=False, metavar="EXPR")]
Values = Annotated[Optional[list[str]], typer.Argument(
    help="Input values as NAME=VALUE: x1=1.5, x=[1,2], W=[[1,2],[3,4]].", show_default=False,
    metavar="NAME=VALUE")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON and nothing else.")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Treat inf and nan (overflow, 0·inf, ...) as errors, exit status 1.")]
NoCheck = Annotated[bool, typer.Option(
    "--no-check", help="Skip the finite-difference check (it is skipped by itself past its "
                       "work budget, with a note).")]


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _print_error(error: GadError) -> None:
    from rich.text import Text

    from graphviz_ad.errors import excerpt

    message = Text.assemble(("error", "bold red"), (f"[{error.title}]", "red"), ": ",
                            (error.reason, "bold"))
    if error.span is not None and error.source is not None:
        message.append("\n" + excerpt(error.source, error.span, error.origin), style="blue")
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
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        if os.environ.get("GAD_DEBUG"):
            raise
        from rich.text import Text

        _console(stderr=True).print(Text.assemble(
            ("internal error", "bold red"), f" (a bug in graphviz-ad): {type(error).__name__}: "
                                            f"{error}\nhint: GAD_DEBUG=1 shows the traceback; "
                                            "please report it with the command line"))
        raise typer.Exit(FAILURE_EXIT) from None


def looks_like_an_option(argument: str) -> bool:
    """`--jsn` or `--wrtt=x` (a mistyped option), but not `--x`, which is -(-x)."""
    return bool(re.fullmatch(r"--[A-Za-z][A-Za-z-]+(=.*)?", argument))


def looks_like_a_path(argument: str) -> bool:
    """`samples/seed.gad`, `prog.gad`, `./x`: path characters only, with a folder or a suffix.
    A bare `x` is an expression even when a file of that name is in the current folder."""
    return bool(re.fullmatch(r"[\w.~/-]+", argument)) and (
        "/" in argument or Path(argument).suffix[1:].isalpha())


def load_source(argument: str) -> str:
    """The program text: standard input for `-`, a file's contents for a path, else the text."""
    if argument == "-":
        return sys.stdin.read()
    if looks_like_an_option(argument):
        raise UsageError(f"no such option: {argument}", None, "--help lists the options")
    path = Path(argument)
    if argument.endswith(".gad") and not _is_file(path):
        raise UsageError(f"no such file: {argument}", None,
                         "give a program file that exists, or the expression itself")
    if looks_like_a_path(argument) and _is_file(path):
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(f"{argument} has {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        data = path.read_bytes()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise UsageError(f"{argument} is not UTF-8 text: byte {error.start} "
                             f"(0x{data[error.start]:02x}) cannot be decoded") from None
    return argument


def _is_file(path: Path) -> bool:
    """Whether an argument names a file; an expression can be no valid path at all."""
    try:
        return "\n" not in str(path) and path.is_file()
    except (OSError, ValueError):
        return False


def parse_values(items: list[str] | None) -> dict:
    from graphviz_ad.engine.build import parse_value
    from graphviz_ad.engine.ops import CALLABLE, CONSTANTS
    from graphviz_ad.language.tokens import NAME, tokenize

    values = {}
    for item in items or []:
        name, equals, text = item.partition("=")
        name = name.strip()
        if looks_like_an_option(item) or (item.startswith("-") and not equals):
            raise UsageError(f"no such option: {item.partition('=')[0]}", None,
                             "--help lists the options")
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
        if name in values:
            raise InputValueError(f"{name} is given twice", None, "give each input one value")
        if name in CONSTANTS or name in CALLABLE:
            kind = "a constant" if name in CONSTANTS else "a function"
            raise InputValueError(f"`{name}` is {kind}, not an input", None,
                                  "inputs are the free names of the program")
        try:
            values[name] = parse_value(name, text)
        except GadError as error:
            # Point into the whole argument as typed, `x=[1,`, not into the value alone.
            offset = len(item) - len(text)
            if error.span is not None:
                error.span = Span(error.span.start + offset, error.span.end + offset)
            error.source = item
            raise
    return values


def _analyze(expression: str, values: list[str] | None, strict: bool = False):
    """Parse, evaluate and differentiate; print warnings, or with --strict fail on inf or nan."""
    from graphviz_ad.api import analyze
    from graphviz_ad.errors import NumericError

    source = load_source(expression)
    try:
        analysis = analyze(source, parse_values(values))
    except GadError as error:
        if error.source == source and source != expression and expression != "-":
            error.origin = expression
        raise
    issues = analysis.numeric_issues
    if strict and issues:
        raise NumericError(issues[0].message, issues[0].span,
                           "without --strict this is a warning and the run goes on", source)
    console = _console(stderr=True)
    notes = list(analysis.warnings) + [issue.message for issue in issues]
    if not analysis.inputs:
        notes.append("the program has no inputs: its value is a constant, with nothing to "
                     "differentiate")
    for warning in notes:
        console.print(f"[yellow]warning:[/] {_escape(warning)}")
    return analysis


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _selected(analysis, wrt: list[str] | None) -> list[str]:
    names = list(dict.fromkeys(wrt)) if wrt else analysis.inputs
    for name in names:
        analysis.require_input(name)
    return names


@app.command(context_settings=EXPRESSION_COMMAND)
def grad(
    expression: Expression,
    values: Values = None,
    wrt: Annotated[Optional[list[str]], typer.Option(
        "--wrt", help="Only this input (repeatable).", show_default=False)] = None,
    no_check: NoCheck = False,
    mode: Annotated[Mode, typer.Option(help="Reverse mode (one backward sweep) or forward mode "
                                            "(one tangent sweep per input element).")]
    = Mode.reverse,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """The output value and the gradient of every input, checked by finite differences."""
    with _user_errors():
        analysis = _analyze(expression, values, strict)
        names = _selected(analysis, wrt)
        checks = None if no_check else analysis.checks(names, mode.value)
        if as_json:
            from graphviz_ad.report.grad import gradient_json

            print(json.dumps(gradient_json(analysis, names, mode.value, checks)))
            return
        from graphviz_ad.report.grad import gradient_table

        _console().print(gradient_table(analysis, names, mode.value, checks))


@app.command(context_settings=EXPRESSION_COMMAND)
def paths(
    expression: Expression,
    values: Values = None,
    wrt: Annotated[Optional[str], typer.Option(
        "--wrt", help="The input whose paths to list; without it, one row per input.",
        show_default=False)] = None,
    top: Annotated[int, typer.Option(
        "--top", min=1, help=f"Show the K paths of largest |product| (K at most "
                             f"{ENUMERATION_LIMIT:,}), then one row for the rest.")]
    = 20,
    every: Annotated[bool, typer.Option(
        "--all", help=f"List every path (refused above {ENUMERATION_LIMIT:,} paths).")] = False,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """The chain rule path by path: each path's local gradients, product and share of the
    gradient, summing to the gradient. Path counts are exact, at any scale."""
    from graphviz_ad.report import paths as report

    with _user_errors():
        check_top(top)
        analysis = _analyze(expression, values, strict)
        if wrt is None:
            summaries = analysis.every_input_paths(analysis.inputs, 1)
            if as_json:
                print(json.dumps(report.inputs_json(analysis, summaries)))
                return
            _console().print(report.inputs_table(analysis, summaries))
            return
        summary = analysis.paths(wrt, None if every else top)
        if as_json:
            print(json.dumps(report.summary_json(analysis, summary)))
            return
        _console().print(report.paths_table(analysis, summary))


@app.command(context_settings=EXPRESSION_COMMAND)
def trace(expression: Expression, values: Values = None, as_json: Json = False,
          strict: Strict = False) -> None:
    """The forward trace (one line per node, in evaluation order) and the backward sweep, one
    adjoint update per line in the order the engine performs them."""
    from graphviz_ad.engine.trace import backward_steps, forward_steps
    from graphviz_ad.report.trace import refuse_long_trace, trace_json, trace_tables

    with _user_errors():
        analysis = _analyze(expression, values, strict)
        refuse_long_trace(analysis, as_json)
        forward = forward_steps(analysis.graph)
        backward = backward_steps(analysis.gradients)
        if as_json:
            print(json.dumps(trace_json(analysis, forward, backward)))
            return
        _console().print(trace_tables(analysis, forward, backward))


class EdgeLabels(str, Enum):
    value = "value"
    formula = "formula"
    both = "both"


class View(str, Enum):
    forward = "forward"
    backward = "backward"


class RendererChoice(str, Enum):
    auto = "auto"
    dot = "dot"
    graphviz_pure = "graphviz-pure"


class Rankdir(str, Enum):
    LR = "LR"
    RL = "RL"
    TB = "TB"
    BT = "BT"


def output_format(output: str, chosen: str | None) -> str:
    """The format from --format or the file's suffix; checked before anything is evaluated."""
    from graphviz_ad.render.backend import FORMATS

    suffix = Path(output).suffix.lower().lstrip(".") if output != "-" else ""
    suffix = {"gv": "dot"}.get(suffix, suffix)
    if chosen is not None:
        chosen = chosen.lower()
        if chosen not in FORMATS:
            raise UsageError(f"unknown format `{chosen}`", None,
                             f"choose one of {', '.join(FORMATS)}")
        if suffix in FORMATS and suffix != chosen:
            raise UsageError(f"{output} ends in .{suffix} but --format is {chosen}", None,
                             "make the suffix and --format agree")
        return chosen
    if output == "-":
        return "dot"
    if suffix not in FORMATS:
        raise UsageError(f"cannot tell the format of {output}", None,
                         f"end the name in .{', .'.join(FORMATS)}, or give --format")
    return suffix


def output_target(output: str, chosen: str | None, program: str) -> str:
    """Check where a picture goes, before anything is evaluated; return its format."""
    from graphviz_ad.render.backend import TEXT_FORMATS

    if output == "-":
        image_format = output_format(output, chosen)
        if image_format not in TEXT_FORMATS + ("svg",) and sys.stdout.isatty():
            raise UsageError(f"{image_format.upper()} is binary and standard output is a terminal",
                             None, "write it to a file with -o FILE, or pipe it")
        return image_format
    path = Path(output)
    if _is_file(Path(program)) and path.resolve() == Path(program).resolve():
        raise UsageError(f"{output} is the program file itself", None, "write to another file")
    if path.is_dir():
        raise UsageError(f"{output} is a directory", None, "give a file name, e.g. -o graph.svg")
    if not path.parent.is_dir():
        raise UsageError(f"the folder {path.parent} does not exist", None, "create it first")
    return output_format(output, chosen)


def refuse_large_picture(analysis, image_format: str, options: dict, wrt: str | None,
                         max_nodes: int, command: str) -> None:
    """Refuse a picture past its budget (--max-nodes to lay out, the export limit for DOT and
    JSON), in linear time, before any of it is built."""
    from graphviz_ad.render.export import refuse_large_export
    from graphviz_ad.render.picture import drawn_nodes, refuse_layout

    if image_format == "json":
        refuse_large_export(len(analysis.graph), "JSON")
    elif image_format == "dot":
        refuse_large_export(drawn_nodes(analysis.gradients, wrt, options["only_paths"],
                                        options["compact"]), "DOT")
    else:
        refuse_layout(analysis.gradients, analysis.inputs, wrt, options["only_paths"],
                      options["compact"], max_nodes, command)


def write_picture(analysis, output: str, image_format: str, options: dict, wrt: str | None,
                  view: View, rankdir: Rankdir, renderer: RendererChoice, timeout: float,
                  dpi: int, max_nodes: int, command: str = "graph") -> None:
    """Draw the analysis to `output` (a file or - for standard output); its size is refused
    before anything is drawn."""
    import time

    from graphviz_ad.render import backend

    refuse_large_picture(analysis, image_format, options, wrt, max_nodes, command)
    if image_format == "json":
        from graphviz_ad.render.export import graph_json

        summary = analysis.paths(wrt, options["top"]) if wrt else None
        data = (json.dumps(graph_json(analysis.gradients, summary)) + "\n").encode()
    else:
        from graphviz_ad.render.dot import to_digraph

        picture = analysis.picture(wrt, **options)
        source = to_digraph(picture, view.value, rankdir.value).source
        if image_format == "dot":
            data = source.encode()
        else:
            chosen = backend.find_renderer(renderer.value, image_format)
            started = time.perf_counter()
            console = _console(stderr=True)
            with console.status(f"rendering with {chosen.name}…") if console.is_terminal \
                    else _nothing():
                data = backend.render(source, image_format, chosen, timeout,
                                      dpi if image_format == "png" else None)
            elapsed = time.perf_counter() - started
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    backend.write_atomically(Path(output), data)
    note = f"wrote {output}"
    if image_format in backend.IMAGE_FORMATS:
        note += f" ({len(picture.nodes)} nodes, {chosen.name}, {elapsed:.2f} s)"
    _console(stderr=True).print(_escape(note), style="dim")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


Output = Annotated[str, typer.Option(
    "--output", "-o", help="The file to write (.svg .png .pdf .dot .json), or - for standard "
                           "output.", show_default=False)]
Wrt = Annotated[Optional[str], typer.Option(
    "--wrt", help="Colour each path from this input to the output, with a legend.",
    show_default=False)]
Top = Annotated[int, typer.Option(
    "--top", min=1, help=f"Paths to list, at most {ENUMERATION_LIMIT:,} (the rest are summed).")]
FormatOption = Annotated[Optional[str], typer.Option(
    "--format", "-f", help="dot, svg, png, pdf or json (default: from the file's suffix).",
    show_default=False)]
EdgeLabelsOption = Annotated[EdgeLabels, typer.Option(
    "--edge-labels", help="Label edges with the local derivative's value, its formula, or both.")]
ViewOption = Annotated[View, typer.Option(
    "--view", help="Arrows from inputs to output (forward) or from output to inputs, the way "
                   "gradients flow (backward).")]
RankdirOption = Annotated[Rankdir, typer.Option("--rankdir", help="Layout direction.")]
DpiOption = Annotated[int, typer.Option("--dpi", min=30, max=1200, help="Resolution of PNG.")]
RendererOption = Annotated[RendererChoice, typer.Option(
    "--renderer", help="auto: a system Graphviz dot if on PATH, else the bundled graphviz-pure.")]
TimeoutOption = Annotated[float, typer.Option(
    "--timeout", min=0.1, help="Seconds before the renderer is stopped.")]
MaxNodesOption = Annotated[int, typer.Option(
    "--max-nodes", min=1, help="Refuse to lay out pictures with more nodes.")]
OnlyPathsOption = Annotated[bool, typer.Option(
    "--only-paths", help="Keep only the nodes on paths from --wrt to the output.")]
CompactOption = Annotated[bool, typer.Option(
    "--compact", help="Fold chains of one-input operations (sin, exp, ...) into one node.")]


@app.command(context_settings=EXPRESSION_COMMAND)
def graph(
    expression: Expression,
    values: Values = None,
    output: Output = "-",
    image_format: FormatOption = None,
    wrt: Wrt = None,
    top: Top = 20,
    edge_labels: EdgeLabelsOption = EdgeLabels.value,
    view: ViewOption = View.forward,
    rankdir: RankdirOption = Rankdir.LR,
    dpi: DpiOption = 144,
    renderer: RendererOption = RendererChoice.auto,
    timeout: TimeoutOption = 60.0,
    max_nodes: MaxNodesOption = MAX_LAYOUT_NODES,
    only_paths: OnlyPathsOption = False,
    compact: CompactOption = False,
    strict: Strict = False,
) -> None:
    """Draw the computational graph: values and grads on nodes, local derivatives on edges;
    with --wrt, each path from that input in its own colour."""
    with _user_errors():
        check_top(top)
        chosen_format = output_target(output, image_format, expression)
        if chosen_format == "pdf" and renderer == RendererChoice.graphviz_pure:
            raise UsageError("graphviz-pure cannot write PDF", None,
                             "use --renderer dot or auto with a system Graphviz, or write .svg")
        analysis = _analyze(expression, values, strict)
        if wrt is not None:
            analysis.require_input(wrt)
        options = {"top": top, "edge_labels": edge_labels.value, "only_paths": only_paths,
                   "compact": compact}
        write_picture(analysis, output, chosen_format, options, wrt, view, rankdir, renderer,
                      timeout, dpi, max_nodes)


@app.command(context_settings=EXPRESSION_COMMAND)
def explain(
    expression: Expression,
    values: Values = None,
    wrt: Annotated[Optional[str], typer.Option(
        "--wrt", help="Explain this input only (and colour its paths in the picture).",
        show_default=False)] = None,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", help="Also draw the picture to this file.", show_default=False)] = None,
    top: Top = 20,
    renderer: RendererOption = RendererChoice.auto,
    timeout: TimeoutOption = 60.0,
    max_nodes: MaxNodesOption = MAX_LAYOUT_NODES,
    no_check: NoCheck = False,
    strict: Strict = False,
) -> None:
    """The whole walkthrough: the value, the checked gradients, the paths of each input, and
    the picture with -o."""
    from rich.console import Group
    from rich.text import Text

    from graphviz_ad.report import paths as path_report
    from graphviz_ad.report.grad import gradient_table

    with _user_errors():
        check_top(top)
        if output == "-":
            raise UsageError("explain prints its tables to standard output; -o needs a file",
                             None, "gad graph EXPR -o - writes the picture alone")
        chosen_format = output_target(output, None, expression) if output else None
        analysis = _analyze(expression, values, strict)
        names = _selected(analysis, [wrt] if wrt else None)
        options = {"top": top, "edge_labels": "value", "only_paths": False, "compact": False}
        picture_wrt = wrt or (names[0] if len(names) == 1 else None)
        if output:
            refuse_large_picture(analysis, chosen_format, options, picture_wrt, max_nodes,
                                 "explain")
        summaries = analysis.every_input_paths(names, top)
        checks = None if no_check else analysis.checks(names)
        parts = [gradient_table(analysis, names, "reverse", checks)]
        for summary in summaries:
            parts.append(Text(""))
            parts.append(path_report.paths_table(analysis, summary))
        _console().print(Group(*parts))
        if output:
            write_picture(analysis, output, chosen_format, options, picture_wrt, View.forward,
                          Rankdir.LR, renderer, timeout, 144, max_nodes, "explain")


@app.command()
def ops() -> None:
    """List the functions and operators, with their derivatives and domains."""
    from graphviz_ad.report.ops import ops_table

    _console().print(ops_table())


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED_EXIT)
