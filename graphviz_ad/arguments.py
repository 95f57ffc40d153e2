"""Command-line style arguments into a program's text and its input values, and names checked.

The program is an expression, a program file or `-` for standard input; values are NAME=VALUE;
`gad torch`'s target is FILE.py[:NAME]. The names a command or a call asks about (an input of
--wrt, the groups of --expand and --fold) are checked against the graph here, each mistake an
error that lists what there is.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple

from graphviz_ad import reading
from graphviz_ad.errors import GadError, InputValueError, Span, UnknownNameError, UsageError

if TYPE_CHECKING:
    from graphviz_ad.engine.annotated import AnnotatedGraph


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


class ScriptTarget(NamedTuple):
    """What `gad torch` runs: a Python file as typed, and the function or tensor NAME in it."""

    file: str
    name: str | None


def read_program(argument: str, assignments: Iterable[str]) -> tuple[str, dict]:
    """The program's text and its input values from `gad`'s arguments (see `load_source` and
    `parse_values`)."""
    values = parse_values(list(assignments), reading.is_standard_input(argument))
    return load_source(argument), values


@contextmanager
def named_by_its_file(argument: str, source: str) -> Iterator[None]:
    """An error in the text of a program file names the file it came from."""
    try:
        yield
    except GadError as error:
        if error.source == source and source != argument and \
                not reading.is_standard_input(argument):
            error.origin = argument
        raise


def split_torch_target(target: str) -> ScriptTarget:
    """`model.py:loss` -> (`model.py`, `loss`); `model.py` -> (`model.py`, None)."""
    path, colon, name = target.rpartition(":")
    if colon and name.isidentifier() and path:
        return ScriptTarget(path, name)
    return ScriptTarget(target, None)


def require_script(file: str, command: str = "torch") -> None:
    """The Python file `gad torch` or `gad jax` runs must exist."""
    if not is_file(Path(file)):
        raise UsageError(f"no such file: {file}", None, f"give a Python file: gad {command} "
                                                        "model.py:loss x=1")


def is_file(path: Path) -> bool:
    """Whether an argument names a file; an expression can be no valid path at all."""
    try:
        return "\n" not in str(path) and path.is_file()
    except (OSError, ValueError):
        return False


def file_reference(text: str) -> str | None:
    """What an @file value names (`@w.npz:W1` is `w.npz:W1`); None for a number or an array."""
    text = text.strip()
    return text[1:] if text.startswith("@") else None


def input_files(program: str | None, items: list[str] | None) -> list[tuple[str, str]]:
    """The files a run reads, each with what it is, for messages: the program file (when the
    argument is one, as load_source tells) and each NAME=@FILE value's file."""
    from graphviz_ad.value_files import split_reference

    files = [(program, "the program file")] if program is not None and \
        looks_like_a_path(program) and is_file(Path(program)) else []
    for item in items or []:
        name, _, text = item.partition("=")
        reference = file_reference(text)
        path = split_reference(reference)[0] if reference is not None else None
        if path is not None and not reading.is_standard_input(path):
            files.append((path, f"the value file of {name.strip()}"))
    return files


def _value_hint(item: str) -> str:
    """What a NAME=VALUE argument without its `=` likely meant: `x 1` is x=1; a lone name
    needs a value; a lone value, the name of its input."""
    words = item.split()
    if len(words) == 2 and words[0].isidentifier():
        return f"write {words[0]}={words[1]}: = between the name and the value"
    if item.isidentifier():
        return f"give {item} a value: {item}=1.5"
    return (f"name the input it is for: x={item.strip()} for an input x; an expression "
            "comes first, in quotes when it has spaces: gad grad \"x * 2\" x=1")


def parse_values(items: list[str] | None, program_from_standard_input: bool = False) -> dict:
    """NAME=VALUE texts as values: a number, an array, or @file (value_files.py)."""
    from graphviz_ad.engine.build import parse_value
    from graphviz_ad.engine.ops import CALLABLE, CONSTANTS
    from graphviz_ad.language.tokens import NAME, tokenize

    values = {}
    piped = [item for item in items or []
             if reading.is_standard_input(file_reference(item.partition("=")[2]) or "")]
    if len(piped) + program_from_standard_input > 1:
        raise UsageError("standard input can be read once: "
                         + ("the program and " if program_from_standard_input else "")
                         + " and ".join(item.partition("=")[0] for item in piped)
                         + " cannot all come from it", None, "give the others as files")
    for item in items or []:
        name, equals, text = item.partition("=")
        name = name.strip()
        if looks_like_an_option(item) or (item.startswith("-") and not equals):
            raise UsageError(f"no such option: {item.partition('=')[0]}", None,
                             "--help lists the options")
        if not equals:
            raise InputValueError(f"expected NAME=VALUE, got `{item}`", None,
                                  _value_hint(item))
        try:
            tokens = tokenize(name)
        except GadError:
            tokens = None
        if tokens is None or len(tokens) != 2 or tokens.kind(0) != NAME:
            raise InputValueError(f"`{name}` is not a name", None,
                                  "names are letters, digits and _, not starting with a digit")
        if name in values:
            raise InputValueError(f"{name} is given twice", None, "give each input one value")
        if name in CONSTANTS or name in CALLABLE:
            kind = "a constant" if name in CONSTANTS else "a function"
            raise InputValueError(f"`{name}` is {kind}, not an input", None,
                                  "inputs are the free names of the program")
        if not text.strip():
            raise InputValueError(f"the value for {name} is missing after `{name}=`",
                                  Span(len(item), len(item) + 1),
                                  f"write a number or an array right after the =, with no "
                                  f"space: {name}=1.5 or \"{name}=[1, 2]\"", item)
        try:
            reference = file_reference(text)
            if reference is not None:
                from graphviz_ad.value_files import read_value

                values[name] = read_value(reference)
            else:
                values[name] = parse_value(name, text)
        except GadError as error:
            # Point into the whole argument as typed, `x=[1,`, not into the value alone.
            offset = len(item) - len(text)
            if error.span is not None:
                error.span = Span(error.span.start + offset, error.span.end + offset)
            else:
                error.span = Span(offset, len(item))
            error.source = item
            raise
    return values


def require_input(graph: AnnotatedGraph, name: str) -> None:
    """`name` is an input of `graph`, which has a gradient (data has none)."""
    if name in graph.data:
        raise UsageError(f"`{name}` is data, which has no gradient", None,
                         "declare it without `data` to differentiate it")
    if name not in graph.inputs:
        from graphviz_ad.engine.build import suggest

        known = ", ".join(graph.inputs) or "none"
        raise UnknownNameError(f"`{name}` is not an input of the program (inputs: {known})",
                               None, suggest(name, graph.inputs))


def groups_named(graph: AnnotatedGraph, names: Iterable[str]) -> list[tuple[str, ...]]:
    """The group paths of dotted names: a group's whole name (`model.layer2.0`) or its last
    parts, as boxes and clusters show it (`layer2.0`, `h.3`), when only one group ends so. An
    unknown name is an error that lists the groups, an ambiguous one an error that lists those
    it could be."""
    from graphviz_ad.engine.build import suggest
    from graphviz_ad.engine.fold import dotted, group_paths

    known = {dotted(path): path for path in group_paths(graph)}
    chosen = []
    for name in names:
        candidates = [name] if name in known else \
            [whole for whole in known if whole.endswith("." + name)]
        if len(candidates) > 1:
            listed = ", ".join(candidates[:12]) + (", ..." if len(candidates) > 12 else "")
            raise UsageError(f"`{name}` names {len(candidates)} groups: {listed}", None,
                             "give more of its name: one of those listed")
        if not candidates:
            listed = ", ".join(list(known)[:12]) or "none"
            raise UsageError(f"`{name}` is not a group of the program (groups: {listed})",
                             None, suggest(name, known) or "a group is a statement's name")
        chosen.append(known[candidates[0]])
    return chosen
