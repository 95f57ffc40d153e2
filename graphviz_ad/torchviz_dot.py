"""torchviz's `make_dot(var, params)` drawn our way: change one import line, get our picture.

`make_dot` returns a `Dot`, which a notebook shows inline and which has the `graphviz.Digraph`
methods a torchviz user calls (`render`, `save`, `pipe`, `source`, `format`). The graph is walked
from the finished output (`from_torch`), so, as with torchviz, a branch cut by `detach()` leaves
no trace in it; `gad torch FILE.py` runs the script under the recorder and draws the cuts too.
Under `gad torch`, a call only names the tensor to draw (`collecting`): the command draws it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

# The tensors `make_dot` was given while `gad torch` runs a script, in order; None otherwise.
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


def make_dot(var: Any, params: Mapping[str, Any] | None = None, show_attrs: bool = False,
             show_saved: bool = False, max_attr_chars: int = 50) -> Dot:
    """The annotated graph of `var` (a tensor computed with autograd), its leaves named by
    `params` (`dict(model.named_parameters())`), as torchviz's `make_dot` takes them.
    `show_attrs`, `show_saved` and `max_attr_chars` are accepted for torchviz's signature: our
    nodes always show their values and gradients."""
    if _collected is not None:
        _collected[:] = [(var, params)]  # only the last is drawn: keep no other graph alive
    return Dot(var, params)


def make_dot_from_trace(trace: Any) -> None:
    """torchviz's picture of a `torch.jit.trace`, which has no gradients to draw."""
    from graphviz_ad.errors import UsageError

    raise UsageError("make_dot_from_trace draws a torch.jit trace, which carries no gradient",
                     None, "call make_dot(y) on the output the model computes")


class Dot:
    """A picture of a torch output, used as a `graphviz.Digraph` is: shown inline in Jupyter,
    `render(filename, format=...)`, `save(filename)`, `pipe(format)`, `source`."""

    def __init__(self, var: Any, params: Mapping[str, Any] | None = None):
        self.var, self.params = var, params
        self.format = "pdf"  # graphviz.Digraph's default, which torchviz keeps
        self._analysis = None

    @property
    def analysis(self):
        """The annotated graph (an `Analysis`), made when first needed."""
        if self._analysis is None:
            from graphviz_ad.api import from_torch

            self._analysis = from_torch(self.var, self.params)
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

    def _repr_svg_(self) -> str:
        return self.analysis._repr_svg_()
