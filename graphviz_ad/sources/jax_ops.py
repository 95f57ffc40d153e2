"""JAX's primitives in our terms: which of our ops an equation is, with its static parameters.

An equation that is exactly one of our ops (`sin`, `mul`, `dot_general` as a matrix product,
`reduce_sum` over one axis or all, numpy-style `broadcast_in_dim`, ...) is drawn as that op, so
its edges carry our table's local derivatives on JAX's values and its path products agree with
`gad paths`. Any other primitive is drawn under its own name and pulled back through JAX's VJP.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphviz_ad.engine.ops import OPS, Op

# JAX's names for our elementwise ops, which take their arguments in our order.
ELEMENTWISE = {
    **{name: name for name in ("add", "sub", "mul", "div", "pow", "neg", "sin", "cos", "tan",
                               "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log",
                               "sqrt", "abs", "max", "min", "sign")},
    "add_any": "add", "logistic": "sigmoid",
}

# What changes nothing a gradient sees: the output is the input (a float dtype kept, a copy).
PASSED_ON = ("copy", "convert_element_type", "reduce_precision", "optimization_barrier")

# Parameters an elementwise primitive may carry at their defaults (sin's `accuracy`).
DEFAULT_PARAMETERS = ("accuracy", "out_dtype", "out_sharding")

# custom_jvp functions that are one of our ops, by name (jax.nn.relu).
CUSTOM = {"relu": "relu"}


def _bound(name: str, settings: dict[str, Any], shapes: list[tuple[int, ...]]) -> Op | None:
    try:
        return OPS[name].bind(settings, tuple(shapes))
    except ValueError:
        return None


def _reduction(name: str, axes: tuple[int, ...], shape: tuple[int, ...]) -> Op | None:
    if tuple(sorted(axes)) == tuple(range(len(shape))):
        return _bound(name, {"axis": None}, [shape])
    if len(axes) == 1:
        return _bound(name, {"axis": int(axes[0])}, [shape])
    return None


def _broadcast(shape: tuple[int, ...], into: tuple[int, ...],
               dimensions: tuple[int, ...]) -> Op | None:
    """numpy's broadcasting (trailing axes kept in place) is broadcast_to; adding axes of length
    1 around the same elements is reshape; anything else is JAX's own."""
    if tuple(dimensions) == tuple(range(len(into) - len(shape), len(into))) and all(
            size in (1, into[axis]) for size, axis in zip(shape, dimensions)):
        return _bound("broadcast_to", {"shape": tuple(into)}, [shape])
    if int(np.prod(shape)) == int(np.prod(into)) and list(dimensions) == sorted(dimensions):
        return _bound("reshape", {"shape": tuple(into)}, [shape])
    return None


def _matrix_product(params: dict[str, Any], shapes: list[tuple[int, ...]]) -> Op | None:
    """dot_general as numpy's `@` of vectors and matrices: the last axis of the left against
    the first of the right, no batch axes."""
    left, right = shapes
    (contract_left, contract_right), (batch_left, batch_right) = params["dimension_numbers"]
    if len(left) in (1, 2) and len(right) in (1, 2) and not batch_left and not batch_right \
            and tuple(contract_left) == (len(left) - 1,) and tuple(contract_right) == (0,):
        return OPS["matmul"]
    return None


def our_op(primitive: str, params: dict[str, Any],
           shapes: list[tuple[int, ...]]) -> tuple[Op, tuple[float, ...]] | None:
    """Our op for an equation, and the constants it takes after the equation's own operands
    (`integer_pow[y=3]` is `pow` with 3); None when the equation is no op of ours."""
    if primitive in ELEMENTWISE:
        if any(params.get(name) is not None for name in params if name in DEFAULT_PARAMETERS) \
                or set(params) - set(DEFAULT_PARAMETERS):
            return None
        op = OPS[ELEMENTWISE[primitive]]
        return (op, ()) if op.arity == len(shapes) else None
    found: Op | None = None
    extra: tuple[float, ...] = ()
    if primitive == "integer_pow":
        found, extra = OPS["pow"], (float(params["y"]),)
    elif primitive == "square":
        found, extra = OPS["pow"], (2.0,)
    elif primitive == "stop_gradient":
        found = OPS["detach"]
    elif primitive == "dot_general" and len(shapes) == 2:
        found = _matrix_product(params, shapes)
    elif primitive in ("reduce_sum", "reduce_max", "reduce_min"):
        name = {"reduce_sum": "sum", "reduce_max": "amax", "reduce_min": "amin"}[primitive]
        found = _reduction(name, tuple(params["axes"]), shapes[0])
    elif primitive == "transpose":
        count = len(shapes[0])
        if count >= 2 and tuple(params["permutation"]) == \
                tuple(range(count - 2)) + (count - 1, count - 2):
            found = OPS["transpose"]
    elif primitive == "reshape" and params.get("dimensions") is None:
        found = _bound("reshape", {"shape": tuple(params["new_sizes"])}, shapes)
    elif primitive == "broadcast_in_dim":
        found = _broadcast(shapes[0], tuple(params["shape"]),
                           tuple(params["broadcast_dimensions"]))
    return (found, extra) if found is not None else None
