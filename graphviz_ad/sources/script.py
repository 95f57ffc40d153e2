"""A user's PyTorch file, run as Python runs a script: a function's call traced, or the script.

graphviz-ad executes code here and in jax_script.py, both through user_file.py.
`gad torch FILE.py[:NAME] NAME=VALUE ...` runs FILE.py with `runpy` (its folder first on
`sys.path`, `__name__` set to `__gad__`, so a block under `if __name__ == "__main__":` does not
run). Two shapes of file:
- a file of functions: with torch's default dtype float64 it runs, then the function NAME (or the
  only one) is called with each NAME=VALUE as a float64 tensor that requires grad, and traced;
- a script, as documents write them (top-level code that calls `y.backward()` or torchviz's
  `make_dot(y)`): it runs as written, dtypes and all, under the recorder, and the tensor of the
  last such call is drawn (`FILE.py:NAME` draws the tensor the script leaves in NAME instead).
The user's prints go to standard error, their warnings become notes naming the line, and an
exception, `sys.exit` included, becomes a typed error at its line (user_file.py). While it runs,
`import torchviz` finds a stand-in whose `make_dot` (like graphviz_ad.make_dot, which is torchviz_dot.py's) names
the tensor to draw and returns a `Dot`, our picture used as torchviz's `graphviz.Digraph` is.
"""

from __future__ import annotations

import ast
import os
import sys
import types
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from graphviz_ad.errors import InputValueError, UsageError
from graphviz_ad.sources.imported import Imported
from graphviz_ad.sources.pytorch import trace
from graphviz_ad.sources.torch_compat import BACKWARD_IS_SEEN
from graphviz_ad.sources.user_file import (RUN_NAME, as_a_script, check_arguments,
                                          choose_function, raised, run_file, users_code)

THE_SCRIPTS_CALLS = ("backward", "make_dot")  # the calls whose tensor a script draws
NOTHING_TO_DRAW_HINT = ("end the script with make_dot(y) or y.backward(), name a tensor it "
                        "makes (gad torch FILE.py:y), or put the computation in a function")


# What an analysis of a torch output is made by (api.from_torch), handed down by the facade.
Analyse = Callable[[Any, Mapping[str, Any] | None], Any]
# The tensors given to `make_dot` while `gad torch` runs a script, in order; None otherwise.
_collected: list[tuple[Any, Mapping[str, Any] | None]] | None = None


@contextmanager
def collecting() -> Iterator[list[tuple[Any, Mapping[str, Any] | None]]]:
    """While `gad torch` runs a script: each `make_dot(var, params)` call is listed."""
    global _collected
    saved, _collected = _collected, []
    try:
        yield _collected
    finally:
        _collected = saved


def make_dot(var: Any, params: Mapping[str, Any] | None, analyse: Analyse) -> Dot:
    """The picture of `var` (torchviz_dot.make_dot, and the stand-in's); under `gad torch`, a
    call also names the tensor the command draws."""
    if _collected is not None:
        _collected[:] = [(var, params)]  # only the last is drawn: keep no other graph alive
    return Dot(var, params, analyse)


def make_dot_from_trace(trace: Any) -> None:
    """torchviz's picture of a `torch.jit.trace`, which has no gradients to draw."""
    raise UsageError("make_dot_from_trace draws a torch.jit trace, which carries no gradient",
                     None, "call make_dot(y) on the output the model computes")


class Dot:
    """A picture of a torch output, used as a `graphviz.Digraph` is: shown inline in Jupyter,
    `render(filename, format=...)`, `save(filename)`, `pipe(format)`, `source`."""

    def __init__(self, var: Any, params: Mapping[str, Any] | None, analyse: Analyse):
        self.var, self.params, self._analyse = var, params, analyse
        self.format = "pdf"  # graphviz.Digraph's default, which torchviz keeps
        self._analysis = None

    @property
    def analysis(self):
        """The annotated graph (an `Analysis`), made when first needed."""
        if self._analysis is None:
            self._analysis = self._analyse(self.var, self.params)
        return self._analysis

    @property
    def source(self) -> str:
        """The DOT text of the picture."""
        return self.pipe("dot").decode()

    def pipe(self, format: str | None = None, **options: Any) -> bytes:  # noqa: A002 (Digraph's)
        """The picture's bytes in `format` (this object's `format` by default)."""
        return self.analysis.render(format or self.format, rankdir="TB", **options)

    def save(self, filename: str | None = None, directory: str | None = None) -> str:
        """Write the DOT text to `filename` (default `Digraph.gv`); returns its path."""
        if directory:
            os.makedirs(directory, exist_ok=True)  # as graphviz.Digraph.save does
        path = os.path.join(directory or "", filename or "Digraph.gv")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(self.source)
        return path

    def render(self, filename: str | None = None, directory: str | None = None,
               view: bool = False, cleanup: bool = False, format: str | None = None,  # noqa: A002
               **_ignored: Any) -> str:
        """As `graphviz.Digraph.render`: the DOT text in `filename` (unless `cleanup`) and the
        picture in `filename.FORMAT`; returns the picture's path. `view` is not supported
        here (nothing is opened)."""
        source = self.save(filename, directory)
        chosen = format or self.format
        picture = f"{source}.{chosen}"
        with open(picture, "wb") as handle:
            handle.write(self.pipe(chosen))
        if cleanup:
            os.remove(source)
        return picture

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self.analysis._repr_mimebundle_(include, exclude)  # a notebook's picture


def _torchviz(analyse: Analyse) -> types.ModuleType:
    """What `import torchviz` finds while a script runs: `make_dot` with torchviz's signature."""
    torchviz = types.ModuleType("torchviz", "torchviz's make_dot, drawn by graphviz-ad")

    def drawn(var: Any, params: Mapping[str, Any] | None = None, show_attrs: bool = False,
              show_saved: bool = False, max_attr_chars: int = 50) -> Dot:
        return make_dot(var, params, analyse)

    torchviz.make_dot, torchviz.make_dot_from_trace = drawn, make_dot_from_trace
    return torchviz


@contextmanager
def _as_a_script(path: Path, dtype: torch.dtype | None,
                 torchviz: types.ModuleType) -> Iterator[None]:
    """What `python FILE.py` sets up (user_file.as_a_script); torch's default dtype `dtype`
    (None: torch's own); `torchviz` is the stand-in. All restored afterwards."""
    saved_dtype = torch.get_default_dtype()
    saved_torchviz = sys.modules.get("torchviz")
    sys.modules["torchviz"] = torchviz
    if dtype is not None:
        torch.set_default_dtype(dtype)
    try:
        with as_a_script(path):
            yield
    finally:
        torch.set_default_dtype(saved_dtype)
        if saved_torchviz is None:
            sys.modules.pop("torchviz", None)
        else:
            sys.modules["torchviz"] = saved_torchviz


def _read(path: Path, shown: str) -> tuple[set[str], bool]:
    """The names of the file's top-level functions, and whether its top-level code (outside
    functions, classes and a `__main__` block) calls `.backward()` or `make_dot()`. Read with
    `ast`, without running anything."""
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source, str(path))
    except SyntaxError as error:
        raise raised(path, shown, error, "when read") from None
    functions = {statement.name for statement in tree.body
                 if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))}
    # `from torchviz import make_dot as draw` calls it `draw`
    calls = set(THE_SCRIPTS_CALLS) | {alias.asname for item in ast.walk(tree)
                                      if isinstance(item, ast.ImportFrom)
                                      for alias in item.names
                                      if alias.name in THE_SCRIPTS_CALLS and alias.asname}
    pending: list[ast.AST] = list(tree.body)
    while pending:
        item = pending.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) \
                or _is_main_block(item):
            continue
        if isinstance(item, ast.Call):
            called = item.func
            name = called.attr if isinstance(called, ast.Attribute) else \
                called.id if isinstance(called, ast.Name) else None
            if name in calls:
                return functions, True
        pending.extend(ast.iter_child_nodes(item))
    return functions, False


def _is_main_block(item: ast.AST) -> bool:
    """`if __name__ == "__main__":`, which does not run under gad torch."""
    return isinstance(item, ast.If) and isinstance(item.test, ast.Compare) \
        and isinstance(item.test.left, ast.Name) and item.test.left.id == "__name__"


def _choose(namespace: Mapping[str, Any], path: Path, shown: str,
            name: str | None) -> Callable:
    return choose_function(namespace, path, shown, name, "torch",
                           "calls neither .backward() nor make_dot() and defines no function",
                           NOTHING_TO_DRAW_HINT)


def _arguments(function: Callable, values: Mapping[str, Any], shown: str) -> dict[str, Any]:
    """Each NAME=VALUE as a float64 tensor that requires grad, checked against the signature."""
    called = function.forward if isinstance(function, torch.nn.Module) else function
    check_arguments(function, called, values, shown)
    return {key: torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
            for key, value in values.items()}


def run(shown: str, name: str | None, values: Mapping[str, Any], analyse: Analyse) -> Imported:
    """Run the Python file `shown` (as typed, and there: arguments.require_script): trace the
    call of its function NAME, or run the script as written and draw the tensor it calls
    `.backward()` on or hands to `make_dot`, the last such (or the tensor it leaves in NAME).
    `analyse` makes the analysis of a `Dot` the script's `make_dot` returns."""
    path = Path(shown)
    torchviz = _torchviz(analyse)
    functions, draws_itself = _read(path, shown)
    # NAME with values, or a def, is a function (as values and no NAME are, where the file
    # defines functions); else a script, whose NAME may be a tensor it makes
    if name in functions or (values and (name is not None or functions)) \
            or (name is None and not draws_itself):
        return _run_function(path, shown, name, values, torchviz)
    if values:
        raise InputValueError(f"{shown} runs as a script, whose top-level code takes no "
                              f"NAME=VALUE ({', '.join(values)})", None,
                              "set the values in the script, or put the computation in a "
                              "function and name it: gad torch FILE.py:NAME x=1")
    try:
        return _run_script(path, shown, name, bool(functions), torchviz)
    except _CallInstead as instead:  # NAME is a callable (a lambda, a model), or no tensor
        return _run_function(path, shown, instead.name, values, torchviz)


class _CallInstead(Exception):
    """The script's NAME is a callable (a lambda, a model), or the script drew nothing: the file
    is one of functions after all."""

    def __init__(self, name: str | None):
        super().__init__(name)
        self.name = name


def _run_function(path: Path, shown: str, name: str | None, values: Mapping[str, Any],
                  torchviz: types.ModuleType) -> Imported:
    warned: list[str] = []
    with _as_a_script(path, torch.float64, torchviz):
        namespace = run_file(path, shown, warned)
        function = _choose(namespace, path, shown, name)
        arguments = _arguments(function, values, shown)
        with users_code(path, shown, f"in {getattr(function, '__name__', name)}", warned):
            imported = trace(function, (), arguments)

    def finite_difference(*asked: Any) -> Any:
        """The check runs the function again as it was traced: inside the script's setting;
        what it warns again was said at the trace."""
        with _as_a_script(path, torch.float64, torchviz), \
                users_code(path, shown, f"in {getattr(function, '__name__', name)}", []):
            return imported.finite_difference(*asked)

    return replace(imported, notes=imported.notes + tuple(warned),
                   finite_difference=finite_difference)


class _Backwards(TorchFunctionMode):
    """Each `y.backward()` (or `torch.autograd.backward(y)`) of the script, listed beside its
    make_dot calls; the graph is kept (retain_graph) so that it can be drawn afterwards."""

    def __init__(self, found: list):
        super().__init__()
        self.found = found

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in (torch.Tensor.backward, torch.autograd.backward):
            given = args[0] if args else kwargs.get("tensors")
            seed = args[1] if len(args) > 1 else kwargs.get("gradient", kwargs.get("grad_tensors"))
            for tensor in (given,) if isinstance(given, torch.Tensor) else given or ():
                self.found[:] = [(tensor, None)]  # only the last is drawn: keep no other graph
                if seed is not None and not bool(torch.all(torch.as_tensor(seed) == 1)):
                    raise UsageError("the script seeds backward() with a gradient other than "
                                     "ones, which gad does not draw", None,
                                     "draw the scalar it stands for: (y * v).sum().backward()")
            kwargs["retain_graph"] = True
        return func(*args, **kwargs)


def _live_globals() -> Mapping[str, Any]:
    """The running script's globals: runpy puts its module in sys.modules while it runs."""
    module = sys.modules.get(RUN_NAME)
    return vars(module) if module is not None else {}


def _run_script(path: Path, shown: str, name: str | None, has_functions: bool,
                torchviz: types.ModuleType) -> Imported:
    warned: list[str] = []

    def script() -> torch.Tensor:
        with collecting() as found, _Backwards(found):
            namespace = run_file(path, shown, warned)
        chosen, script.__name__ = _drawn(namespace, found, shown, name, has_functions)
        return chosen

    with _as_a_script(path, None, torchviz):
        imported = trace(script, scope=_live_globals, only_what_reaches=True)
    def finite_difference(*asked: Any) -> Any:
        raise UsageError(f"{shown} runs as a script, which is not called again, so its "
                         "gradients cannot be checked by finite differences", None,
                         "put its computation in a function and check that: gad torch "
                         "FILE.py:NAME x=1 --check")

    return replace(imported, notes=imported.notes + tuple(warned),
                   finite_difference=finite_difference)


def _drawn(namespace: Mapping[str, Any], found: list, shown: str, name: str | None,
           has_functions: bool) -> tuple[torch.Tensor, str]:
    """The tensor a script draws and its name: NAME's, else the last one it called
    `.backward()` on or gave `make_dot`."""
    if name is not None:
        chosen = namespace.get(name)
        if callable(chosen) and not isinstance(chosen, torch.Tensor):
            raise _CallInstead(name)
        if not isinstance(chosen, torch.Tensor):
            tensors = sorted(key for key, value in namespace.items()
                             if isinstance(value, torch.Tensor) and not key.startswith("_"))
            raise UsageError(f"{shown} leaves no tensor or function named `{name}` (tensors: "
                             f"{', '.join(tensors) or 'none'})", None,
                             f"name a tensor the script makes: gad torch {shown}:NAME")
    elif found:
        chosen = found[-1][0]
    elif has_functions:  # `.backward()` was another object's: a file of functions after all
        raise _CallInstead(None)
    else:
        hidden = "" if BACKWARD_IS_SEEN else \
            f" (torch {torch.__version__} does not show gad torch.autograd.backward(...))"
        raise UsageError(f"{shown} ran, but gad saw no .backward() or make_dot() call{hidden}",
                         None, NOTHING_TO_DRAW_HINT)
    label = next((key for key, value in namespace.items()
                  if value is chosen and not key.startswith("_")), name or "")
    if not isinstance(chosen, torch.Tensor) or not chosen.is_floating_point():
        raise UsageError(f"the tensor to draw is a {type(chosen).__name__}, not a "
                         "floating-point tensor", None, NOTHING_TO_DRAW_HINT)
    if chosen.grad_fn is None and not chosen.requires_grad:
        raise UsageError(f"`{label or 'the tensor'}` has no gradient history: it was computed "
                         "under torch.no_grad(), or from tensors that do not require grad",
                         None, "compute it outside no_grad from a tensor made with "
                               "requires_grad=True")
    return chosen, label
