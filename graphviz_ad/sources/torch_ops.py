"""torch's calls in our terms: which of our ops a torch function is, and its values as arrays.

A torch call that is exactly one of our ops (add, mul, sin, matmul, sum, relu, ...) is drawn as
that op (`TorchOp`), so its edges carry our table's local derivatives on torch's values.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from graphviz_ad import display
from graphviz_ad.engine.annotated import ForeignOp
from graphviz_ad.engine.ops import OPS, Op
from graphviz_ad.sources.torch_compat import CLAMP_IS_OURS, version

# torch's names for our ops, called with the arguments in our order; in-place forms (`add_`,
# `__iadd__`) are the same op on a new version of the tensor.
SAME_ORDER = {
    **{name: name for name in ("add", "sub", "mul", "div", "pow", "matmul", "neg", "sin", "cos",
                               "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp",
                               "log", "log2", "log10", "sqrt", "abs", "sigmoid", "relu", "sum",
                               "mean")},
    "subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div",
    "mm": "matmul", "mv": "matmul", "negative": "neg", "absolute": "abs", "arcsin": "asin",
    "arccos": "acos", "arctan": "atan", "maximum": "max", "minimum": "min", "clamp": "clip",
    "clip": "clip",
}


# torch's reflected operators: `3 - x` calls `x.__rsub__(3)`.
REVERSED = {"radd": "add", "rsub": "sub", "rmul": "mul", "rdiv": "div", "rtruediv": "div",
            "rpow": "pow", "rmatmul": "matmul"}


DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


CUTS = ("detach", "data")  # a value passed on without its history


DATA = ForeignOp("data", 1, "x.data: the value of x without its history, so no gradient "
                            "flows back through it", stops_gradient=True)


NO_GRAD_LABEL = "no_grad"


@dataclass(frozen=True)
class TorchOp:
    """One of our ops as torch ran it: our table's label, formulas and linear map, and the name
    of torch's backward function for the backward view."""

    op: Op
    backward_name: str

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "op" or attribute.startswith("__"):  # not yet set (copy, pickle)
            raise AttributeError(attribute)
        return getattr(self.op, attribute)

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str:
        return self.op.formula(slot, arguments)

    def written(self, arguments: tuple[str, ...], as_operator: bool | None = None) -> str:
        return self.op.written(arguments, as_operator)


def is_float_tensor(item: Any) -> bool:
    return isinstance(item, torch.Tensor) and item.is_floating_point()


def to_numpy(tensor: torch.Tensor) -> Any:
    """A copy of the tensor's value as numpy (float32 for the half types numpy lacks); a 0-d
    tensor becomes a numpy scalar, as our engine's scalars are."""
    value = tensor.detach()
    if value.dtype in (torch.bfloat16, torch.float16):
        value = value.float()
    return np.array(value.cpu().numpy())[()]


def is_shareable(tensor: torch.Tensor) -> bool:
    """Whether numpy can read the tensor's memory as it is (on the CPU, float32 or float64),
    and torch counts the writes to it, so that one the recorder does not see is found."""
    return tensor.device.type == "cpu" and tensor.dtype in (torch.float32, torch.float64) \
        and tensor.numel() > 0 and not tensor.is_sparse and not tensor.is_neg() \
        and version(tensor) is not None


def numpy_owned(tensor: torch.Tensor) -> Any:
    """A tensor nothing else changes (a gradient torch.autograd.grad returned), or whose writes
    the recorder watches, as numpy without a copy, read-only."""
    if tensor.dtype in (torch.bfloat16, torch.float16):
        return to_numpy(tensor)
    value = tensor.detach().cpu().numpy()
    value.flags.writeable = False
    return value[()]


def seed_tensor(gradient: Any, dtype: torch.dtype) -> torch.Tensor:
    """A gradient to seed torch's backward with, sharing memory with a read-only array (torch
    warns that it could write to it; its backward functions do not write to a gradient)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.as_tensor(np.asarray(gradient), dtype=dtype)


def summary_of(tensor: torch.Tensor, value: Any, ranges: display.Ranges) -> str:
    """`display.summary(value)` of a tensor's value, its range found by torch in one pass on
    every thread (a large model's parameters are summarized as they are recorded) and kept in
    `ranges`, the graph's, for its pictures."""
    if np.size(value) <= display.SHOWN_WHOLE or not is_shareable(tensor):
        return display.summary(value, ranges=ranges)
    least, greatest = torch.aminmax(tensor.detach())
    scalar = np.result_type(value).type
    return display.ranged(value, *ranges.keep(value, (scalar(least.item()),
                                                      scalar(greatest.item()))))


def number_text(value: Any) -> str:
    return display.shortest(value) if np.ndim(value) == 0 else display.shape(value)


def function_name(func: Callable) -> str:
    """`mul`, `__rsub__`, `relu_`; a property read (`x.data`, `x.T`) is named by the property."""
    name = getattr(func, "__name__", "")
    if name == "__get__":
        return getattr(getattr(func, "__self__", None), "__name__", name)
    return name or type(func).__name__


def base_name(name: str) -> tuple[str, bool, bool]:
    """torch's name without its in-place or reflected form: (base, in place, reflected)."""
    if name.startswith("__") and name.endswith("__"):
        inner = name[2:-2]
        if inner in REVERSED:
            return REVERSED[inner], False, True
        if inner == "setitem":  # `z[0] = y` writes into z
            return inner, True, False
        if inner.startswith("i") and inner[1:] in SAME_ORDER:
            return inner[1:], True, False
        return inner, False, False
    if name.endswith("_") and not name.startswith("_"):
        return name[:-1], True, False
    return name, False, False


def our_op(base: str, reflected: bool, args: tuple, kwargs: dict) -> tuple[Op, list] | None:
    """Our op and its operands in slot order, when torch's call is exactly one of our ops."""
    name = SAME_ORDER.get(base)
    if name is None or set(kwargs) - {"inplace"} or (name == "clip" and not CLAMP_IS_OURS):
        return None
    op = OPS[name]
    operands = [item for item in args if not isinstance(item, bool)]
    if reflected:
        operands.reverse()
    if len(operands) != op.arity:
        return None
    if not all(is_float_tensor(item) or isinstance(item, (int, float)) for item in operands):
        return None
    if name == "matmul" and not all(isinstance(item, torch.Tensor) and item.dim() in (1, 2)
                                    for item in operands):
        return None
    return op, operands
