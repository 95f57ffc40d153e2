"""The command line's options and arguments, declared once for typer and shared by the commands.

Choices and defaults come from the layers that own them (graphviz_ad/options.py, the format
table); only this module and cli.py import typer. The options of a picture, which three commands
take, are declared here once (`draws_a_picture`) and reach the command typed.
"""

from __future__ import annotations

import functools
import inspect
import re
from enum import Enum
from typing import Annotated, Any, Callable, Optional

import typer
from typer.core import TyperCommand

from graphviz_ad import options
from graphviz_ad.render.formats import (PICTURE_OPTIONS, DrawOptions, PictureOptions, name_list,
                                        suffix_list)


# An option's name (`-o`, `--top`, `--top=3`), as against an expression that starts with a minus.
_OPTION_NAME = re.compile(r"--?[A-Za-z][\w-]*(=.*)?\Z", re.DOTALL)


class ExpressionCommand(TyperCommand):
    """A command whose arguments may be expressions that start with a minus (`-x*2`,
    `-x + no_grad(x)`): each such argument that is not an option's name is given a leading
    space, which the language ignores, so that click does not read its letters as short options
    (the `o` of `no_grad` as `-o`, taking the rest as a file name)."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, [f" {argument}" if argument.startswith("-")
                                        and argument not in ("-", "--")
                                        and not _OPTION_NAME.match(argument) else argument
                                        for argument in args])
        expression = ctx.params.get("expression")
        if isinstance(expression, str) and expression.startswith(" -"):
            ctx.params["expression"] = expression[1:]  # as typed: errors point at its columns
        return rest



def _choice(name: str, values: tuple[str, ...]) -> type[Enum]:
    """Choices come from the layer that owns them; typer shows them as an Enum."""
    return Enum(name, {value.replace("-", "_"): value for value in values}, type=str)


Mode = _choice("Mode", options.MODES)
FdMethod = _choice("FdMethod", options.FD_METHODS)
EdgeLabels = _choice("EdgeLabels", options.EDGE_LABELS)
View = _choice("View", options.VIEWS)
Rankdir = _choice("Rankdir", options.RANKDIRS)
Renderer = _choice("Renderer", options.RENDERERS)
ThemeChoice = _choice("ThemeChoice", options.THEMES)

Expression = Annotated[str, typer.Argument(
    help="An expression or program, a path to a program file, or - to read standard input.",
    show_default=False, metavar="EXPR")]
Values = Annotated[Optional[list[str]], typer.Argument(
    help="Input values as NAME=VALUE: x1=1.5, x=[1,2], W=[[1,2],[3,4]], X=@batch.npy (.npz:key, "
         ".csv, .json, or @- for standard input).", show_default=False, metavar="NAME=VALUE")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON and nothing else.")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Treat inf and nan (overflow, 0·inf, ...) as errors, exit status 1.")]
NoCheck = Annotated[bool, typer.Option("--no-check", help="Skip the finite-difference check.")]
CheckOption = Annotated[Optional[bool], typer.Option(
    "--check/--no-check", help="Exit with status 1 if a gradient fails the finite-difference "
                               "check / skip the check.", show_default=False)]
TorchCheck = Annotated[bool, typer.Option(
    "--check", help="Check the gradients (--wrt's alone, if given) against central finite "
                    "differences, calling the function again (float64 inputs, at most 2,000 "
                    "calls); exit with status 1 if one fails or cannot be checked.")]
FdMethodOption = Annotated[FdMethod, typer.Option(
    "--fd-method", help="Central or forward differences, or the complex step (exact, where every "
                        "operation takes complex numbers).")]
FdStepOption = Annotated[Optional[float], typer.Option(
    "--fd-step", help="The step h as a fraction of max(1, |x|) (default: 1e-6 central, 1e-8 "
                      "forward, 1e-20 complex).", show_default=False)]
RtolOption = Annotated[float, typer.Option("--rtol", help="Relative tolerance of the check.")]
AtolOption = Annotated[float, typer.Option("--atol", help="Absolute tolerance of the check.")]
ModeOption = Annotated[Mode, typer.Option(
    "--mode", help="Reverse mode (a backward sweep per output element), forward mode (a tangent "
                   "sweep per input element), or auto: the fewer sweeps.")]
MAX_ORDER = 12  # tanh's 12th derivative's graph has about 200,000 nodes
OrderOption = Annotated[int, typer.Option(
    "--order", min=1, max=MAX_ORDER,
    help="Derivatives of derivatives: 2 prints the Hessian; for one number input (--wrt), N "
         "lists the derivatives up to N. Each is the value of the previous one's gradient "
         "graph, checked by finite differences of the order below.")]
Top = Annotated[int, typer.Option(
    "--top", min=1, max=options.ENUMERATION_LIMIT,
    help="Paths to list by largest |product|; the rest are summed in one row.")]
Wrt = Annotated[Optional[str], typer.Option(
    "--wrt", help="Colour each path from this input to the output, with a legend.",
    show_default=False)]
Output = Annotated[str, typer.Option(
    "--output", "-o", help=f"The file to write ({suffix_list()}), or - for standard "
                           "output.", show_default=False)]
FormatOption = Annotated[Optional[str], typer.Option(
    "--format", "-f", help=f"One of {name_list()} (default: from the file's suffix).",
    show_default=False)]
EdgeLabelsOption = Annotated[EdgeLabels, typer.Option(
    "--edge-labels", help="Label edges with the local derivative's value, its formula, or both.")]
ViewOption = Annotated[View, typer.Option(
    "--view", help="Arrows from inputs to output (forward) or from output to inputs, the way "
                   "gradients flow (backward); or dense layers as neurons in columns, each "
                   "weight a line (network).")]
RankdirOption = Annotated[Rankdir, typer.Option(
    "--rankdir", help="Layout direction; auto: left to right, or top to bottom, or wrapped into "
                      "rows, whichever keeps the picture within 3:1.")]
DpiOption = Annotated[int, typer.Option("--dpi", min=options.DPI_RANGE[0], max=options.DPI_RANGE[1],
                                        help="Resolution of PNG.")]
RendererOption = Annotated[Renderer, typer.Option(
    "--renderer", help="auto: a system Graphviz dot if on PATH, else the bundled graphviz-pure.")]
ThemeOption = Annotated[Optional[ThemeChoice], typer.Option(
    "--theme", help="Colours for a light or a dark background (default light; a page follows "
                    "its reader's system setting, and has a button to switch).",
    show_default=False)]
TimeoutOption = Annotated[float, typer.Option(
    "--timeout", min=options.MIN_TIMEOUT, max=options.MAX_TIMEOUT, help="Seconds before the renderer is stopped.")]
MaxNodesOption = Annotated[int, typer.Option(
    "--max-nodes", min=1, help="Refuse to lay out pictures with more nodes.")]
OnlyPathsOption = Annotated[bool, typer.Option(
    "--only-paths", help="Keep only the nodes on paths from --wrt to the output.")]
CompactOption = Annotated[bool, typer.Option(
    "--compact", help="Fold chains of one-input operations (sin, exp, ...) into one node.")]
ExpandOption = Annotated[Optional[list[str]], typer.Option(
    "--expand", help="Keep this group open (a statement's name, `terms 1-13`, `lines 1-9`, or "
                     "dotted for nested groups); repeatable.", show_default=False)]
DepthOption = Annotated[Optional[int], typer.Option(
    "--depth", min=0, help="Fold every group nested deeper than N (0 folds all top-level "
                           "groups), instead of folding to fit --max-boxes.", show_default=False)]
HeatmapsOption = Annotated[bool, typer.Option(
    "--heatmaps/--no-heatmaps", help="Draw each array's value and grad as a small picture in "
                                     "its box: a heatmap, a vector as bars.")]
ExpandAllOption = Annotated[bool, typer.Option("--expand-all", help="Fold nothing.")]
ApartOption = Annotated[bool, typer.Option(
    "--apart", help="Draw repeated groups (the blocks of a network, h.0 ... h.11) one by one, "
                    "not as one `h.0 … h.11 × 12` box.")]
MaxBoxesOption = Annotated[int, typer.Option(
    "--max-boxes", min=1, help="Past this many boxes, fold groups (deepest and largest first, "
                               "those on the --wrt paths last) until the picture fits.")]
FoldOption = Annotated[Optional[list[str]], typer.Option(
    "--fold", help="List the paths through this group folded: its edges carry the total "
                   "derivative through it (repeatable).", show_default=False)]
TorchTarget = Annotated[str, typer.Argument(
    help="A Python file and its function to trace (model.py:loss, or its only one); or a "
         "script that calls y.backward() or make_dot(y), drawn as it runs (script.py:NAME "
         "draws the tensor NAME instead).",
    metavar="FILE.py[:NAME]")]
DrawOutput = Annotated[Optional[str], typer.Option(
    "--output", "-o", help="Draw the picture to this file, or - for standard output.",
    show_default=False)]
PathsOption = Annotated[bool, typer.Option(
    "--paths", help="Print the paths of --wrt (else one row per input).")]
WrtInputs = Annotated[Optional[list[str]], typer.Option(
    "--wrt", help="Only this input (repeatable).", show_default=False)]
PathsWrt = Annotated[Optional[str], typer.Option(
    "--wrt", help="The input whose paths to list; without it, one row per input.",
    show_default=False)]
AllPaths = Annotated[bool, typer.Option(
    "--all", help=f"List every path (refused above {options.ENUMERATION_LIMIT:,} paths).")]
ExplainWrt = Annotated[Optional[str], typer.Option(
    "--wrt", help="Explain this input only (and colour its paths in the picture).",
    show_default=False)]
ExplainOutput = Annotated[Optional[str], typer.Option(
    "--output", "-o", help="Also draw the picture to this file.", show_default=False)]
DocsTopic = Annotated[Optional[str], typer.Argument(
    help="A page: torch, pictures, language, chain-rule, errors, ... (gad docs lists them).",
    show_default=False, metavar="TOPIC")]

# The picture's options every drawing command takes, in the order --help lists them; --wrt and
# --top each command declares itself, with its own help.
PICTURE_PARAMETERS = (
    ("edge_labels", EdgeLabelsOption, EdgeLabels.value), ("view", ViewOption, View.forward),
    ("rankdir", RankdirOption, Rankdir.auto), ("dpi", DpiOption, options.DEFAULT_DPI),
    ("renderer", RendererOption, Renderer.auto), ("theme", ThemeOption, None),
    ("timeout", TimeoutOption, options.DEFAULT_TIMEOUT),
    ("max_nodes", MaxNodesOption, options.DEFAULT_MAX_NODES),
    ("only_paths", OnlyPathsOption, False), ("compact", CompactOption, False),
    ("expand", ExpandOption, None), ("depth", DepthOption, None),
    ("expand_all", ExpandAllOption, False), ("apart", ApartOption, False),
    ("max_boxes", MaxBoxesOption, options.DEFAULT_MAX_BOXES),
    ("heatmaps", HeatmapsOption, True))


def draws_a_picture(rankdir: Enum = Rankdir.auto) -> Callable[[Callable], Callable]:
    """A command that draws a picture: typer sees PICTURE_PARAMETERS in place of the command's
    `picture` and `drawing` parameters, and the command is called with them typed, as
    `picture` (PictureOptions, with the command's own --wrt and --top) and `drawing`
    (DrawOptions). `rankdir` is the command's default direction."""
    def decorate(command: Callable) -> Callable:
        own = inspect.signature(command, eval_str=True)
        shared = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    default=rankdir if name == "rankdir" else default,
                                    annotation=annotation)
                  for name, annotation, default in PICTURE_PARAMETERS]
        parameters = [added for parameter in own.parameters.values() if parameter.name != "drawing"
                      for added in (shared if parameter.name == "picture" else [parameter])]

        @functools.wraps(command)
        def drawn(**given: Any) -> Any:
            chosen = {name: given.pop(name) for name, _, _ in PICTURE_PARAMETERS}
            plain = {name: value.value if isinstance(value, Enum) else value
                     for name, value in chosen.items()}
            picture = PictureOptions(wrt=given["wrt"], top=given["top"],
                                     **{name: plain.pop(name) for name in PICTURE_OPTIONS
                                        if name in plain})
            return command(**given, picture=picture, drawing=DrawOptions(**plain))

        drawn.__signature__ = own.replace(parameters=parameters)
        drawn.__annotations__ = {parameter.name: parameter.annotation
                                 for parameter in parameters} | {"return": own.return_annotation}
        return drawn
    return decorate
JaxTarget = Annotated[str, typer.Argument(
    help="A Python file and its JAX function to trace (model.py:loss, or its only one).",
    metavar="FILE.py[:NAME]")]
