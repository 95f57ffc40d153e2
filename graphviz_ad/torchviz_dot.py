"""torchviz's `make_dot(var, params)` drawn our way: change one import line, get our picture.

`make_dot` returns a `Dot`, which a notebook shows inline and which has the `graphviz.Digraph`
methods a torchviz user calls (`render`, `save`, `pipe`, `source`, `format`). The graph is walked
from the finished output (`from_torch`), so, as with torchviz, a branch cut by `detach()` leaves
no trace in it; `gad torch FILE.py` runs the script under the recorder and draws the cuts too.
Under `gad torch`, a call also names the tensor to draw: the command draws it. The `Dot` and the
stand-in a script's `import torchviz` finds there are sources/script.py's.
"""

from __future__ import annotations

from typing import Any, Mapping


def make_dot(var: Any, params: Mapping[str, Any] | None = None, show_attrs: bool = False,
             show_saved: bool = False, max_attr_chars: int = 50):
    """The annotated graph of `var` (a tensor computed with autograd), its leaves named by
    `params` (`dict(model.named_parameters())`), as torchviz's `make_dot` takes them.
    `show_attrs`, `show_saved` and `max_attr_chars` are accepted for torchviz's signature: our
    nodes always show their values and gradients."""
    from graphviz_ad.api import from_torch, requiring_torch

    with requiring_torch():
        from graphviz_ad.sources import script
    return script.make_dot(var, params, from_torch)


def make_dot_from_trace(trace: Any) -> None:
    """torchviz's picture of a `torch.jit.trace`, which has no gradients to draw."""
    from graphviz_ad.api import requiring_torch

    with requiring_torch():
        from graphviz_ad.sources import script
    script.make_dot_from_trace(trace)
