"""A user's Python file run as Python runs a script, its errors shown at the user's line.

This is what `gad torch` and `gad jax` share (sources/script.py, sources/jax_script.py): the
file runs with `runpy`, `__name__` set to `__gad__` (so a block under
`if __name__ == "__main__":` does not run); the user's prints go to standard error, their
warnings become notes naming the line, and an exception, `sys.exit` included, becomes a typed
error at its line.
"""

from __future__ import annotations

import inspect
import runpy
import sys
import traceback
import warnings
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from graphviz_ad.errors import GadError, InputValueError, MissingInputError, Span, UsageError

RUN_NAME = "__gad__"


@contextmanager
def as_a_script(path: Path) -> Iterator[None]:
    """What `python FILE.py` sets up: the file's folder first on sys.path, argv naming the file;
    both restored afterwards."""
    saved_path, saved_argv = list(sys.path), list(sys.argv)
    sys.path.insert(0, str(path.resolve().parent))
    sys.argv = [str(path)]
    try:
        yield
    finally:
        sys.path[:], sys.argv[:] = saved_path, saved_argv


def line_of(path: Path, error: BaseException) -> int | None:
    """The deepest line of the user's file that the exception passed through."""
    if isinstance(error, SyntaxError) and error.filename and \
            Path(error.filename).resolve() == path.resolve():
        return error.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if Path(frame.filename).resolve() == path.resolve()]
    return lines[-1] if lines else None


def at_line(path: Path, shown: str, reason: str, hint: str, number: int | None) -> UsageError:
    """A message pointing at a line of the user's file."""
    source = path.read_text(encoding="utf-8", errors="replace")
    lines = source.splitlines(keepends=True)
    if number is None or not 1 <= number <= len(lines):
        return UsageError(reason, None, hint)
    start = sum(len(line) for line in lines[:number - 1])
    line = lines[number - 1]
    indent = len(line) - len(line.lstrip())
    problem = UsageError(reason, Span(start + indent, start + max(indent + 1,
                                                                  len(line.rstrip()))),
                         hint, source)
    problem.origin = shown
    return problem


def raised(path: Path, shown: str, error: BaseException, doing: str,
           command: str = "torch") -> UsageError:
    """The user's exception (`sys.exit` too) as a message pointing at that line of their file,
    for `gad COMMAND`."""
    if isinstance(error, SystemExit):
        reason = f"{shown} called sys.exit({'' if error.code is None else error.code!r}) {doing}"
        hint = f"gad {command} needs the script to run to its end: leave sys.exit out of it"
    else:
        reason = f"{shown} raised {type(error).__name__} {doing}: {error}".rstrip(": ")
        hint = f"gad {command} runs the file as Python does; fix it there (python FILE.py " \
               "shows more)"
    return at_line(path, shown, reason, hint, line_of(path, error))


@contextmanager
def users_code(path: Path, shown: str, doing: str, warned: list[str],
               command: str = "torch") -> Iterator[None]:
    """The user's code, kept apart from ours: its prints go to standard error (so they never mix
    with a table or JSON), each warning it raises becomes a note in `warned` naming its line,
    and an exception from its file (`sys.exit`, any BaseException but an interrupt) is shown
    at its line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            with redirect_stdout(sys.stderr):
                yield
        except (GadError, KeyboardInterrupt):
            raise
        except BaseException as error:
            if not isinstance(error, (SystemExit, GeneratorExit)) \
                    and (line_of(path, error) is None or ours(error)):
                raise  # not the user's code: a bug of ours, reported as one
            raise raised(path, shown, error, doing, command) from None
        finally:
            warned.extend(f"{Path(warning.filename).name}:{warning.lineno}: "
                          f"{warning.category.__name__}: {warning.message}"
                          for warning in caught)


PACKAGE = Path(__file__).resolve().parent.parent
# where ours hands over to the framework or to the user's function
CALLS_INTO_THE_USERS = ("func(*args, **kwargs)", "fn(*args, **kwargs)")


def ours(error: BaseException) -> bool:
    """Whether graphviz-ad's own code raised the exception, though the user's called it (torch's
    recorder runs inside each of their torch calls): its deepest frame is ours, and not the
    line where the recorder hands the call over to torch or to the user's function."""
    frames = traceback.extract_tb(error.__traceback__)
    deepest = frames[-1] if frames else None
    return deepest is not None and Path(deepest.filename).resolve().is_relative_to(PACKAGE) \
        and not any(call in (deepest.line or "") for call in CALLS_INTO_THE_USERS)


def run_file(path: Path, shown: str, warned: list[str], command: str = "torch") -> dict[str, Any]:
    with users_code(path, shown, "while it ran", warned, command):
        return runpy.run_path(str(path), run_name=RUN_NAME)


def choose_function(namespace: Mapping[str, Any], path: Path, shown: str, name: str | None,
                    command: str, none_reason: str, none_hint: str) -> Callable:
    """The function NAME the file defines, or its only one; else an error listing them."""
    defined = sorted(key for key, value in namespace.items()
                     if inspect.isfunction(value) and not key.startswith("_")
                     and Path(value.__code__.co_filename).resolve() == path.resolve())
    listed = ", ".join(defined) or "none"
    if name is not None:
        if not callable(namespace.get(name)):
            raise UsageError(f"{shown} defines no function `{name}` (functions: {listed})",
                             None, f"name one of them: {shown}:NAME")
        return namespace[name]
    if not defined:
        raise UsageError(f"{shown} {none_reason}: nothing to differentiate", None, none_hint)
    if len(defined) != 1:
        raise UsageError(f"{shown} defines {len(defined)} functions ({listed}); which one?",
                         None, f"name it: gad {command} {shown}:NAME")
    return namespace[defined[0]]


def check_arguments(function: Callable, called: Callable, values: Mapping[str, Any],
                    shown: str) -> None:
    """Each NAME=VALUE must be a parameter of `called` (the function, or a model's forward),
    and each parameter without a default must have one."""
    parameters = inspect.signature(called).parameters
    name = getattr(function, "__name__", type(function).__name__)
    takes_any = any(parameter.kind == parameter.VAR_KEYWORD for parameter in parameters.values())
    for given in values:
        if given not in parameters and not takes_any:
            known = ", ".join(parameters) or "none"
            raise InputValueError(f"`{given}` is not a parameter of {name} in {shown} "
                                  f"(parameters: {known})", None,
                                  "give values only for the function's parameters")
    missing = [key for key, parameter in parameters.items()
               if parameter.default is parameter.empty and key not in values
               and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)]
    if missing:
        raise MissingInputError(f"{name} needs a value for {', '.join(missing)}", None,
                                "give each as NAME=VALUE: " + " ".join(f"{key}=1.0"
                                                                       for key in missing))
