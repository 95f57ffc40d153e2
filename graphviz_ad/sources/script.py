"""A user's PyTorch file, run as Python runs a script, and the call of one of its functions traced.

This is the one place graphviz-ad executes code: `gad torch FILE.py[:CALLABLE] NAME=VALUE ...`
runs FILE.py with `runpy` (its folder first on `sys.path`, `__name__` set to `__gad__`, so a block
under `if __name__ == "__main__":` does not run), with torch's default dtype float64, then calls
CALLABLE with each NAME=VALUE as a float64 tensor that requires grad, and traces that call.
"""

from __future__ import annotations

import inspect
import runpy
import sys
import traceback
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch

from graphviz_ad.arguments import is_file, split_torch_target
from graphviz_ad.errors import GadError, InputValueError, MissingInputError, Span, UsageError
from graphviz_ad.sources.pytorch import Imported, trace

RUN_NAME = "__gad__"


@contextmanager
def _as_a_script(path: Path) -> Iterator[None]:
    """What `python FILE.py` sets up: the file's folder first on sys.path, argv naming the file;
    and float64 as torch's default dtype. All restored afterwards."""
    saved_path, saved_argv, saved_dtype = list(sys.path), list(sys.argv), torch.get_default_dtype()
    sys.path.insert(0, str(path.resolve().parent))
    sys.argv = [str(path)]
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        sys.path[:], sys.argv[:] = saved_path, saved_argv
        torch.set_default_dtype(saved_dtype)


def _line_of(path: Path, error: BaseException) -> int | None:
    """The deepest line of the user's file that the exception passed through."""
    if isinstance(error, SyntaxError) and error.filename and \
            Path(error.filename).resolve() == path.resolve():
        return error.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if Path(frame.filename).resolve() == path.resolve()]
    return lines[-1] if lines else None


def _raised(path: Path, shown: str, error: BaseException, doing: str,
            number: int | None) -> UsageError:
    """The user's exception as a message pointing at that line of their file."""
    reason = f"{shown} raised {type(error).__name__} {doing}: {error}".rstrip(": ")
    hint = "gad torch runs the file as Python does; fix it there (python FILE.py shows more)"
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


def _choose(namespace: Mapping[str, Any], path: Path, shown: str,
            name: str | None) -> Callable:
    defined = sorted(key for key, value in namespace.items()
                     if inspect.isfunction(value) and not key.startswith("_")
                     and Path(value.__code__.co_filename).resolve() == path.resolve())
    listed = ", ".join(defined) or "none"
    if name is not None:
        if not callable(namespace.get(name)):
            raise UsageError(f"{shown} defines no function `{name}` (functions: {listed})",
                             None, f"name one of them: {shown}:NAME")
        return namespace[name]
    if len(defined) != 1:
        raise UsageError(f"{shown} defines {len(defined)} functions ({listed}); which one?",
                         None, f"name it: gad torch {shown}:NAME")
    return namespace[defined[0]]


def _arguments(function: Callable, values: Mapping[str, Any], shown: str) -> dict[str, Any]:
    """Each NAME=VALUE as a float64 tensor that requires grad, checked against the signature."""
    parameters = inspect.signature(function).parameters
    name = getattr(function, "__name__", "the function")
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
    return {key: torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
            for key, value in values.items()}


def run(target: str, values: Mapping[str, Any]) -> Imported:
    """Run the file of `target` (`FILE.py[:CALLABLE]`) and trace the call of its function."""
    shown, name = split_torch_target(target)
    path = Path(shown)
    if not is_file(path):
        raise UsageError(f"no such file: {shown}", None, "give a Python file: gad torch "
                                                         "model.py:loss x=1")
    with _as_a_script(path):
        try:
            namespace = runpy.run_path(str(path), run_name=RUN_NAME)
        except (Exception, SystemExit) as error:
            raise _raised(path, shown, error, "while it ran", _line_of(path, error)) from None
        function = _choose(namespace, path, shown, name)
        arguments = _arguments(function, values, shown)
        with _users_code(path, shown, function):
            imported = trace(function, (), arguments)

    def finite_difference(*asked: Any) -> Any:
        """The check runs the function again as it was traced: inside the script's setting."""
        with _as_a_script(path), _users_code(path, shown, function):
            return imported.finite_difference(*asked)

    return replace(imported, finite_difference=finite_difference)


@contextmanager
def _users_code(path: Path, shown: str, function: Callable) -> Iterator[None]:
    """An exception raised in the user's file, shown at its line."""
    try:
        yield
    except GadError:
        raise
    except Exception as error:
        number = _line_of(path, error)
        if number is None:
            raise  # not the user's code: a bug of ours, reported as one
        raise _raised(path, shown, error, f"in {function.__name__}", number) from None
