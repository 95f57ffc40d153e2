"""Command-line style arguments into a program's text and its input values.

The program is an expression, a program file or `-` for standard input; values are NAME=VALUE.
"""

from __future__ import annotations

import re
from pathlib import Path

from graphviz_ad import reading
from graphviz_ad.errors import GadError, InputValueError, Span, UsageError


def looks_like_an_option(argument: str) -> bool:
    """`--jsn` or `--wrtt=x` (a mistyped option), but not `--x`, which is -(-x)."""
    return bool(re.fullmatch(r"--[A-Za-z][A-Za-z-]+(=.*)?", argument))


def looks_like_a_path(argument: str) -> bool:
    """`samples/seed.gad`, `prog.gad`, `./x`: path characters only (a byte that is not UTF-8 is
    one), with a folder or a suffix. A bare `x` is an expression even when a file of that name is
    in the current folder."""
    return bool(re.fullmatch(r"[\w.~/\udc80-\udcff-]+", argument)) and (
        "/" in argument or Path(argument).suffix[1:].isalpha())


def load_source(argument: str) -> str:
    """The program text: standard input for `-`, a file's contents for a path, else the text."""
    if reading.is_standard_input(argument):
        return reading.read_standard_input()
    if looks_like_an_option(argument):
        raise UsageError(f"no such option: {argument}", None, "--help lists the options")
    path = Path(argument)
    if argument.endswith(".gad") and not is_file(path):
        raise UsageError(f"no such file: {argument}", None,
                         "give a program file that exists, or the expression itself")
    if looks_like_a_path(argument) and is_file(path):
        return reading.read_program_file(path, argument)
    return argument


def split_torch_target(target: str) -> tuple[str, str | None]:
    """`model.py:loss` -> (`model.py`, `loss`); `model.py` -> (`model.py`, None)."""
    path, colon, name = target.rpartition(":")
    if colon and name.isidentifier() and path:
        return path, name
    return target, None


def torch_file(target: str) -> str:
    return split_torch_target(target)[0]


def is_file(path: Path) -> bool:
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
