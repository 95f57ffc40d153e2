"""`gad torch` and `gad jax`: another framework's function traced, then shown as `gad` shows ours.

Both take the same options and print the same things: the gradients (checked with --check), the
paths with --paths, the picture with -o. cli.py registers them on its app with its shell (its
`command` decorator and its printing helpers), handed in, so this module imports nothing of it.
"""

from __future__ import annotations

from typing import Any, Callable

from graphviz_ad import options
from graphviz_ad.command_options import (DrawOutput, FoldOption, FormatOption, JaxTarget, Json,
                                         PathsOption, Top, TorchCheck, TorchTarget, Values, Wrt,
                                         draws_a_picture)
from graphviz_ad.render.formats import DrawOptions, PictureOptions, check_output
from graphviz_ad.writing import is_standard_output


def register_framework_commands(command: Callable, settings: dict, noted: Callable,
                                show: Callable, show_paths: Callable, draw: Callable) -> None:
    """Add the commands to the app `command` registers on."""

    def shown(load: Callable[[Any, list[str]], Any], target: str, values: list[str] | None,
              output: str | None, image_format, wrt: str | None, top: int, paths_table: bool,
              fold: list[str] | None, picture: PictureOptions, drawing: DrawOptions,
              as_json: bool, check: bool) -> None:
        """Trace the file's function with `load`, then print and draw what was asked."""
        from graphviz_ad.arguments import split_torch_target
        from graphviz_ad.report import grad as grad_view

        script = split_torch_target(target)
        entry = check_output(output, image_format, drawing.renderer, script.file,
                             values or ()) if output else None
        analysis = noted(load(script, values or ()))
        printed = not (output and is_standard_output(output))  # there the picture stands alone
        # The gradients, where they are printed or --check asks for them (not beside --paths).
        report = analysis.gradient_report([wrt] if wrt else None, check=check) \
            if check or (printed and not paths_table) else None
        if output:
            draw(analysis, output, analysis.plan(entry, picture, drawing))
        if printed and paths_table:
            show_paths(analysis, wrt, top, fold, as_json)
        elif printed:
            show(lambda: grad_view.gradient_table(report), as_json,
                 lambda: grad_view.gradient_json(report))
        if check:
            report.require_agreement()

    @command(name="torch", context_settings=settings)
    @draws_a_picture()
    def torch_command(
            target: TorchTarget, values: Values = None, output: DrawOutput = None,
            image_format: FormatOption = None, wrt: Wrt = None, top: Top = options.DEFAULT_TOP,
            paths_table: PathsOption = False, fold: FoldOption = None,
            picture: PictureOptions = PictureOptions(), drawing: DrawOptions = DrawOptions(),
            as_json: Json = False, check: TorchCheck = False) -> None:
        """Trace a PyTorch function or script: torch's gradient of each input, with --paths the
        chain rule path by path, with -o the picture too, a group per module (layer1.0.conv1).

        This command, and gad jax, run code, as python FILE.py would (__name__ "__gad__"; its
        prints to standard error). A file of functions runs in float64, then NAME is called
        with each NAME=VALUE as a float64 tensor and returns a tensor (a loss). A script calling
        y.backward() or make_dot(y) runs as written; the last such tensor is drawn (FILE.py:NAME
        draws the tensor NAME). Docs: gad docs torch."""
        from graphviz_ad.api import load_torch

        shown(load_torch, target, values, output, image_format, wrt, top, paths_table, fold,
              picture, drawing, as_json, check)

    @command(name="jax", context_settings=settings)
    @draws_a_picture()
    def jax_command(
            target: JaxTarget, values: Values = None, output: DrawOutput = None,
            image_format: FormatOption = None, wrt: Wrt = None, top: Top = options.DEFAULT_TOP,
            paths_table: PathsOption = False, fold: FoldOption = None,
            picture: PictureOptions = PictureOptions(), drawing: DrawOptions = DrawOptions(),
            as_json: Json = False, check: TorchCheck = False) -> None:
        """Trace a JAX function from its jaxpr: each value JAX's, the gradient of each input,
        with --paths the chain rule path by path, with -o the picture too, a group per named
        scope, jit-ed function and scan step.

        This command, and gad torch, run code, as python FILE.py would (__name__ "__gad__"; its
        prints to standard error), with jax_enable_x64 on; then NAME (or the file's only
        function) is called with each NAME=VALUE as a float64 array and returns a number or an
        array (summed), a loss. Docs: gad docs jax."""
        from graphviz_ad.jax_api import load_jax

        shown(load_jax, target, values, output, image_format, wrt, top, paths_table, fold,
              picture, drawing, as_json, check)
