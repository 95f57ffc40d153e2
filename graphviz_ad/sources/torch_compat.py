"""What the importer needs from torch that differs between releases, with feature tests.

Each difference has a feature test and a fallback: this is the one place to look when a new torch
release breaks the importer. Supported: torch OLDEST_TORCH and newer (docs/torch.md lists the
releases CI tests). What lies outside torch's public API is reached here: the pytree helpers, a
backward function's input metadata and a tensor's backward hooks. The one exception is the
`_saved_*` attributes of backward functions, which torch documents for reading what a backward
pass saved: torch_output.py reads them, each with a fallback (a value drawn as not kept).
"""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import torch
from torch.overrides import TorchFunctionMode

from graphviz_ad.errors import UsageError
from graphviz_ad.sources.versions import release, require_release

OLDEST_TORCH = (2, 5)

try:  # a public pytree module, should torch publish one; the private one has been there since 1.x
    from torch.utils.pytree import (keystr, tree_flatten, tree_flatten_with_path,  # type: ignore
                                    tree_map, tree_unflatten)
except ImportError:
    from torch.utils._pytree import (keystr, tree_flatten, tree_flatten_with_path, tree_map,
                                     tree_unflatten)

__all__ = ["OLDEST_TORCH", "release", "CLAMP_IS_OURS", "BACKWARD_IS_SEEN", "require_supported",
           "inside_custom_forward", "transforms_active", "input_metadata", "pull_grad",
           "version", "backward_hook_keys",
           "remove_backward_hooks", "module_buffers", "keystr", "tree_flatten",
           "tree_flatten_with_path", "tree_map", "tree_unflatten"]


def require_supported() -> None:
    require_release("torch", torch.__version__, OLDEST_TORCH)


class Metadata(NamedTuple):
    """The shape and dtype of one output of a backward function's forward call."""

    shape: tuple[int, ...]
    dtype: torch.dtype


def input_metadata(function: Any) -> list[Metadata]:
    """The shape and dtype of each gradient a backward function takes (its forward call's
    outputs). torch keeps them in `_input_metadata` (2.0 to 2.15 at least); without it the
    importer cannot call backward functions one by one, and says so."""
    found = getattr(function, "_input_metadata", None)
    if found is None:
        raise UsageError(f"this torch ({torch.__version__}) does not tell the shapes of "
                         f"{function.name()}'s gradients, which graphviz-ad needs", None,
                         "report it with your torch version; `gad docs torch` lists the torch "
                         "releases tested")
    return [Metadata(tuple(meta.shape), meta.dtype) for meta in found]


def pull_grad(outputs: list, inputs: list, seeds: list) -> tuple:
    """`torch.autograd.grad(outputs, inputs, grad_outputs=seeds, retain_graph=True,
    allow_unused=True)`, less its check of the seeds' shapes: that check imports torch.fx's
    symbolic shapes, and with them sympy, the first time a seed is a tensor (about a second and
    60 MB in a process that only wanted a picture), while our seeds have the shapes torch's own
    metadata gives. torch's engine is reached through `_engine_run_backward` (2.5 to 2.15 at
    least); without it, through torch.autograd.grad."""
    run = getattr(torch.autograd.graph, "_engine_run_backward", None)
    if run is None:
        return torch.autograd.grad(outputs, inputs, grad_outputs=seeds, retain_graph=True,
                                   allow_unused=True)
    return run(tuple(outputs), tuple(seeds), True, False, tuple(inputs), True,
               accumulate_grad=False)


def version(tensor: torch.Tensor) -> int | None:
    """torch's count of the in-place writes to a tensor (`_version`, 1.x to 2.15 at least), by
    which a write the recorder did not see is found; None where torch does not tell, and then
    the recorder copies values rather than share torch's memory."""
    return getattr(tensor, "_version", None)


def transforms_active() -> bool:
    """Whether a torch.func transform (grad, vmap, jacrev) is running, whose wrapped tensors
    hold no memory of their own to read (torch 2.0 to 2.15 at least); False where torch does
    not tell, and then such a call fails as it would."""
    active = getattr(torch._C, "_are_functorch_transforms_active", None)
    return bool(active()) if active is not None else False


def backward_hook_keys(tensor: torch.Tensor) -> set:
    """The keys of a tensor's backward hooks (torch keeps them in `_backward_hooks`), so that
    those the check's calls of the user's function add can be removed; empty where torch does
    not tell, and then nothing is removed."""
    return set(getattr(tensor, "_backward_hooks", None) or {})


def remove_backward_hooks(tensor: torch.Tensor, keep: set) -> None:
    """Remove the backward hooks added since `backward_hook_keys` gave `keep`."""
    hooks = getattr(tensor, "_backward_hooks", None) or {}
    for key in set(hooks) - keep:
        del hooks[key]


def module_buffers(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's own buffers (not its children's), by name."""
    return dict(module.named_buffers(recurse=False))


# The forward of a custom autograd.Function runs without grad, like code under no_grad, but is
# differentiated by its own backward. torch up to 2.13 ran it from Python (`Function.apply`);
# since 2.14 `apply` is C, so the forward is told by its code object instead: that of the
# `forward` of a subclass of torch.autograd.Function, found by walking the subclasses (public
# Python) the first time a frame's code is met.
_FORWARD_CODES: dict[Any, bool] = {}


def _custom_forward_codes() -> set:
    codes = set()
    pending = list(torch.autograd.Function.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        forward = inspect.getattr_static(cls, "forward", None)
        forward = getattr(forward, "__func__", forward)
        while forward is not None:  # a decorated forward (custom_fwd): each layer's code
            code = getattr(forward, "__code__", None)
            if code is not None:
                codes.add(code)
            forward = getattr(forward, "__wrapped__", None)
    return codes


def _is_custom_forward(code: Any) -> bool:
    known = _FORWARD_CODES.get(code)
    if known is None:
        codes = _custom_forward_codes()
        for each in codes:
            _FORWARD_CODES[each] = True
        known = _FORWARD_CODES.setdefault(code, code in codes)
    return known


def inside_custom_forward() -> bool:
    """Whether torch is running a custom autograd.Function's forward (anywhere up the stack)."""
    frame = inspect.currentframe()
    while frame is not None:
        if _is_custom_forward(frame.f_code):
            return True
        frame = frame.f_back
    return False


def _clamp_is_ours() -> bool:
    """Whether this torch's clamp passes the whole gradient to x at a bound, as our `clip` does
    (torch 2.13 and older). torch 2.14 and 2.15 give 0 there with number bounds and split it with
    tensor bounds; where they differ, the importer draws clamp as torch's own op, differentiated
    by its backward, so path products still sum to torch's gradient (docs/numerics.md)."""
    with torch.inference_mode(False), torch.enable_grad():
        x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        low = torch.tensor(1.0, dtype=torch.float64)
        clamped = torch.clamp(x, 1.0, 2.0).sum() + torch.clamp(x, low, low + 1).sum()
        (grad,) = torch.autograd.grad(clamped, [x])
    return grad.tolist() == [2.0, 2.0]


CLAMP_IS_OURS = _clamp_is_ours()


class _Probe(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.seen: list = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.seen.append(func)
        return func(*args, **(kwargs or {}))


def _backward_is_seen() -> bool:
    """Whether `torch.autograd.backward(y)` reaches a TorchFunctionMode, as `y.backward()` does
    (torch 2.15; not 2.5): where it does not, a script's call of it cannot be seen."""
    with torch.inference_mode(False), torch.enable_grad():
        y = torch.ones((), dtype=torch.float64, requires_grad=True) * 2
        with _Probe() as probe:
            torch.autograd.backward([y])
    return torch.autograd.backward in probe.seen


BACKWARD_IS_SEEN = _backward_is_seen()
