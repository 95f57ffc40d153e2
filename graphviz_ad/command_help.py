"""What the commands say of themselves: help texts, examples, the version.

Each command's `--help` ends with two or three examples, each runnable as typed in a checkout of
the repository (its samples/); tests/test_help.py runs those that write no file. typer prints
each paragraph of an epilog as one line.
"""

from __future__ import annotations

from typing import Callable

import typer

SEED = '"(sin(x2)+1)/(x2+exp(x1))+x1*x2" x1=1.5 x2=0.5'
EXAMPLES = {
    "grad": (f"gad grad {SEED}",
             "gad grad samples/seed.gad --wrt x2 --check",
             'gad grad "tanh(x)" x=1 --order 3'),
    "eval": ('gad eval "sum(x * x)" "x=[1, 2, 3]"',
             'gad eval "grad(sin(x), x)" x=0'),
    "paths": ("gad paths samples/seed.gad --wrt x2",
              "gad paths samples/seed.gad",
              "gad paths samples/mlp300.gad --wrt x1 --top 5"),
    "trace": ("gad trace samples/seed.gad",
              'gad trace "x1 * sin(x2)" x1=2 x2=0.5 --mode forward'),
    "graph": ("gad graph samples/seed.gad --wrt x2 -o seed.png",
              "gad graph samples/seed.gad --wrt x2 -o seed.tex    (TikZ for a paper; .tikz: "
              "the bare tikzpicture)",
              "gad graph samples/mlp300.gad --wrt x1 -o mlp300.html    (the page that steps "
              "through the sweeps)"),
    "explain": ("gad explain samples/seed.gad",
                "gad explain samples/seed.gad --wrt x2 -o seed.svg"),
    "torch": ("gad torch samples/torch_seed.py x1=1.5 x2=0.5 c=1",
              "gad torch samples/torch_seed.py x1=1.5 x2=0.5 c=1 --paths --wrt x2",
              "gad torch samples/torch_resnet18.py -o resnet18.svg"),
    "ops": ("gad ops", "gad ops | grep -i tanh"),
    "jax": ("gad jax samples/jax_seed.py x1=1.5 x2=0.5",
            "gad jax samples/jax_seed.py x1=1.5 x2=0.5 --paths --wrt x2",
            "gad jax samples/jax_rnn.py -o rnn.svg"),
    "docs": ("gad docs", "gad docs torch", "gad docs pictures | less"),
}


MAIN_HELP = ("See reverse-mode automatic differentiation: values, gradients, and the chain rule "
             f"edge by edge.\n\nExample: gad grad {SEED}\n\nThe documentation: gad docs")


def help_texts(function: Callable, name: str | None = None) -> dict[str, str | None]:
    """A command's help, its docstring with each paragraph on one line (so the help page wraps
    it to the terminal rather than at the source's line breaks), and its epilog: `Examples:`
    and its examples, each a paragraph of its own."""
    paragraphs = (function.__doc__ or "").strip().split("\n\n")
    examples = EXAMPLES.get(name or function.__name__)
    return {"help": "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs),
            "epilog": "\n\n".join(["Examples:", *(f"  {example}" for example in examples)])
            if examples else None}


def show_version(show: bool) -> None:
    """--version: print it and stop."""
    if show:
        from graphviz_ad import __version__

        print(f"graphviz-ad {__version__}")
        raise typer.Exit()
