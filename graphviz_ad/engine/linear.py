"""How an edge's local derivative acts: pulled back on a gradient (reverse) or pushed on a tangent.

Each kind of Jacobian is one `LinearMap`: elementwise edges multiply and then sum over the axes
numpy broadcast; reductions spread the gradient back over the reduced axes; matrix products
multiply by the other operand, transposed; softmax, transpose, reshape, indexing, concatenation
and stacking each have theirs. A new kind is one more `LinearMap` here and a reference to it from
its op-table entry; the backward sweep, forward mode, paths and pictures all go through it.

A map whose op has static parameters (an axis, an index) takes them as keywords; `bound` fixes
them for one node, as `Op.bind` does for the op's value and partials.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Callable

import numpy as np


def unbroadcast(gradient: Any, shape: tuple[int, ...]) -> Any:
    """Sum `gradient` over the axes that broadcasting added or stretched to reach its shape."""
    extra = np.ndim(gradient) - len(shape)
    if extra > 0:
        gradient = np.sum(gradient, axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape)
                      if size == 1 and np.shape(gradient)[axis] != 1)
    if stretched:
        gradient = np.sum(gradient, axis=stretched, keepdims=True)
    return gradient


@dataclass(frozen=True)
class LinearMap:
    """One kind of Jacobian: how it pulls a gradient back, pushes a tangent forward, and how an
    edge carrying it is summarised (`{}` is the local derivative's short text)."""

    name: str
    # (slot, local, gradient of the node, value of the argument) -> gradient of the argument
    pullback: Callable[[int, Any, Any, Any], Any]
    # (slot, local, tangent of the argument) -> tangent of the node
    pushforward: Callable[[int, Any, Any], Any]
    scalar_label: str = "{}"
    array_label: str = "{}"
    # The pullback as a rule over an emitter (engine/emit.py): (e, slot, local, gradient,
    # argument) -> gradient of the argument, built from the op table's own ops, so that a
    # backward sweep can be a graph; tests/test_rules.py checks it against `pullback`. None: the
    # Jacobian is known only by its action.
    expression: Callable[..., Any] | None = None
    formula: str = "{}"  # how a local derivative's formula reads on this kind of edge

    def label(self, local_text: str, scalar: bool) -> str:
        return (self.scalar_label if scalar else self.array_label).format(local_text)

    def bound(self, settings: dict[str, Any]) -> LinearMap:
        """The map with an op's static parameters fixed (the same map when there are none)."""
        if not settings:
            return self
        expression = self.expression and partial(self.expression, **settings)
        return replace(self, pullback=partial(self.pullback, **settings),
                       pushforward=partial(self.pushforward, **settings), expression=expression)


def _elementwise_pullback(slot: int, local: Any, gradient: Any, argument: Any) -> Any:
    contribution = gradient * local
    if type(contribution) is np.ndarray and contribution.shape != np.shape(argument):
        return unbroadcast(contribution, np.shape(argument))
    return contribution


def _expand(gradient: Any, axis: int | None) -> Any:
    """A reduced array with its reduced axis back, as length 1, so it broadcasts to the input."""
    return gradient if axis is None else np.expand_dims(gradient, axis)


def _reduce_pullback(slot: int, local: Any, gradient: Any, argument: Any,
                     axis: int | None = None, **_: Any) -> Any:
    return np.broadcast_to(_expand(gradient, axis) * local, np.shape(argument)).copy()


def _reduce_pushforward(slot: int, local: Any, tangent: Any, axis: int | None = None,
                        **_: Any) -> Any:
    return np.sum(local * tangent, axis=axis)


def swap_last_axes(array: Any) -> Any:
    """The last two axes exchanged: a matrix transposed, a batch of matrices each transposed."""
    return np.swapaxes(array, -1, -2) if np.ndim(array) >= 2 else array


def _matmul_pullback(slot: int, other: Any, gradient: Any, argument: Any) -> Any:
    """numpy's matmul rules: a vector is a one-row (left) or one-column (right) matrix, leading
    axes are a batch that broadcasts, and a broadcast batch sums back to the argument's shape."""
    left, right = (argument, other) if slot == 0 else (other, argument)
    gradient = np.asarray(gradient)
    if np.ndim(right) == 1:
        gradient = gradient[..., None]
    if np.ndim(left) == 1:
        gradient = gradient[..., None, :]
    if slot == 0:
        product = gradient @ swap_last_axes(right if np.ndim(right) > 1 else right[:, None])
        product = product[..., 0, :] if np.ndim(left) == 1 else product
    else:
        product = swap_last_axes(left if np.ndim(left) > 1 else left[None, :]) @ gradient
        product = product[..., 0] if np.ndim(right) == 1 else product
    return unbroadcast(product, np.shape(argument))[()]


def _elementwise_expression(e, slot, local, gradient, argument):
    return e.sum_to(e.mul(gradient, local), shape=e.shape(argument))


def _reduce_expression(e, slot, local, gradient, argument, axis=None, **_):
    return e.broadcast_to(e.mul(e.expand(gradient, axis), local), shape=e.shape(argument))


def _matmul_expression(e, slot, other, gradient, argument):
    """_matmul_pullback's steps as ops: vectors as one-row or one-column matrices, the other
    operand transposed, a broadcast batch summed back."""
    shape, other_shape = e.shape(argument), e.shape(other)
    left, right = (shape, other_shape) if slot == 0 else (other_shape, shape)
    if len(right) == 1:
        gradient = e.reshape(gradient, shape=e.shape(gradient) + (1,))
    if len(left) == 1:
        rows = e.shape(gradient)
        gradient = e.reshape(gradient, shape=rows[:-1] + (1,) + rows[-1:])
    if slot == 0:
        matrix = other if len(right) > 1 else e.reshape(other, shape=(right[0], 1))
        product = e.matmul(gradient, e.transpose(matrix))
        if len(left) == 1:
            product = e.reshape(product, shape=e.shape(product)[:-2] + e.shape(product)[-1:])
    else:
        matrix = other if len(left) > 1 else e.reshape(other, shape=(1, left[0]))
        product = e.matmul(e.transpose(matrix), gradient)
        if len(right) == 1:
            product = e.reshape(product, shape=e.shape(product)[:-1])
    return e.sum_to(product, shape=shape)


ELEMENTWISE = LinearMap("elementwise", _elementwise_pullback,
                        lambda slot, local, tangent: local * tangent, array_label="diag {}",
                        expression=_elementwise_expression)
REDUCE = LinearMap("reduce", _reduce_pullback, _reduce_pushforward, scalar_label="{} (each)",
                   expression=_reduce_expression)
MATMUL = LinearMap("matmul", _matmul_pullback,
                   lambda slot, local, tangent: tangent @ local if slot == 0 else local @ tangent,
                   scalar_label="({})ᵀ", array_label="({})ᵀ", expression=_matmul_expression,
                   formula="{}ᵀ")


def _jacobian_pullback(slot: int, local: Any, gradient: Any, argument: Any) -> Any:
    return np.tensordot(gradient, local, axes=np.ndim(gradient))[()]


def _jacobian_pushforward(slot: int, local: Any, tangent: Any) -> Any:
    return np.tensordot(local, tangent, axes=np.ndim(tangent))[()]


# A whole Jacobian d out / d argument, of shape out.shape + argument.shape: the total derivative
# through a folded group (engine/fold.py), where no structure is known.
JACOBIAN = LinearMap("jacobian", _jacobian_pullback, _jacobian_pushforward, array_label="J {}")


def _softmax_map(slot: int, softmax: Any, vector: Any, *extra: Any, axis: int = -1) -> Any:
    # The Jacobian diag(s) - s sᵀ along the axis is symmetric: one formula pulls and pushes.
    return softmax * (vector - np.sum(vector * softmax, axis=axis, keepdims=True))


def _log_softmax_pullback(slot: int, softmax: Any, gradient: Any, argument: Any,
                          axis: int = -1) -> Any:
    return gradient - softmax * np.sum(gradient, axis=axis, keepdims=True)


def _log_softmax_pushforward(slot: int, softmax: Any, tangent: Any, axis: int = -1) -> Any:
    return tangent - np.sum(softmax * tangent, axis=axis, keepdims=True)


def _reshape_pushforward(slot: int, local: Any, tangent: Any, shape: tuple[int, ...]) -> Any:
    return np.reshape(tangent, shape)


def _concat_pullback(slot: int, local: Any, gradient: Any, argument: Any, axis: int,
                     bounds: tuple[int, ...]) -> Any:
    return np.take(gradient, range(bounds[slot], bounds[slot + 1]), axis=axis)


def _concat_pushforward(slot: int, local: Any, tangent: Any, axis: int,
                        bounds: tuple[int, ...]) -> Any:
    width = list(np.shape(tangent))
    before, after = bounds[slot], bounds[-1] - bounds[slot + 1]
    pad = [(0, 0)] * len(width)
    pad[axis] = (before, after)
    return np.pad(tangent, pad)


def _stack_pushforward(slot: int, local: Any, tangent: Any, axis: int, count: int) -> Any:
    shape = list(np.shape(tangent))
    placed = np.zeros(shape[:axis] + [count] + shape[axis:])
    placed[(slice(None),) * axis + (slot,)] = tangent
    return placed


def _softmax_expression(e, slot, softmax, gradient, argument, axis=-1):
    weighted = e.expand(e.sum(e.mul(gradient, softmax), axis=axis), axis)
    return e.mul(softmax, e.sub(gradient, weighted))


def _log_softmax_expression(e, slot, softmax, gradient, argument, axis=-1):
    return e.sub(gradient, e.mul(softmax, e.expand(e.sum(gradient, axis=axis), axis)))


def _along(axis: int, item: Any) -> tuple:
    """An index that picks `item` along `axis` and everything along the axes before it."""
    return (slice(None),) * axis + (item,)


def broadcast(x: Any, shape: tuple[int, ...]) -> Any:
    """x repeated to `shape`, as numpy broadcasts it, in an array of its own: broadcast_to's
    value, and the pullback of sum_to."""
    return np.broadcast_to(x, shape).copy()[()]


def scattered(x: Any, key: tuple, shape: tuple[int, ...]) -> Any:
    """Zeros of `shape` with x at `key`: scatter's value, and the pullback of indexing."""
    spread = np.zeros(shape)
    spread[key] = x
    return spread[()]


# Softmax along an axis: the local derivative is s = softmax(x), the Jacobian diag(s) - s sᵀ.
SOFTMAX = LinearMap("softmax", _softmax_map, _softmax_map, array_label="diag(s) - s sᵀ",
                    expression=_softmax_expression, formula="diag(s) - s sᵀ, s = {}")
# log_softmax: the Jacobian I - 1 sᵀ along the axis, from s = softmax(x).
LOG_SOFTMAX = LinearMap("log_softmax", _log_softmax_pullback, _log_softmax_pushforward,
                        array_label="I - 1 sᵀ", expression=_log_softmax_expression,
                        formula="I - 1 sᵀ, s = {}")
# The structural maps move elements without scaling them: their local derivative is 1.
TRANSPOSE = LinearMap("transpose", lambda slot, local, gradient, argument: swap_last_axes(gradient),
                      lambda slot, local, tangent: swap_last_axes(tangent), scalar_label="ᵀ",
                      expression=lambda e, slot, local, gradient, argument: e.transpose(gradient),
                      formula="{} (transposed)")
RESHAPE = LinearMap("reshape",
                    lambda slot, local, gradient, argument, shape: np.reshape(
                        gradient, np.shape(argument)),
                    _reshape_pushforward, scalar_label="reshaped",
                    expression=lambda e, slot, local, gradient, argument, shape: e.reshape(
                        gradient, shape=e.shape(argument)),
                    formula="{} (reshaped)")
INDEX = LinearMap("index",
                  lambda slot, local, gradient, argument, key: scattered(
                      gradient, key, np.shape(argument)),
                  lambda slot, local, tangent, key: tangent[key], scalar_label="selected",
                  expression=lambda e, slot, local, gradient, argument, key: e.scatter(
                      gradient, key=key, shape=e.shape(argument)),
                  formula="{} (selected)")
CONCAT = LinearMap("concat", _concat_pullback, _concat_pushforward, scalar_label="placed",
                   expression=lambda e, slot, local, gradient, argument, axis, bounds: e.index(
                       gradient, key=_along(axis, slice(bounds[slot], bounds[slot + 1]))),
                   formula="{} (placed)")
STACK = LinearMap("stack",
                  lambda slot, local, gradient, argument, axis, count: np.take(
                      gradient, slot, axis=axis),
                  _stack_pushforward, scalar_label="placed",
                  expression=lambda e, slot, local, gradient, argument, axis, count: e.index(
                      gradient, key=_along(axis, slot)),
                  formula="{} (placed)")
# The maps of the ops that backward sweeps are built from, each the other's transpose:
# broadcasting and summing back, indexing and scattering.
BROADCAST = LinearMap("broadcast",
                      lambda slot, local, gradient, argument, shape: unbroadcast(
                          gradient, np.shape(argument)),
                      lambda slot, local, tangent, shape: broadcast(tangent, shape),
                      scalar_label="broadcast",
                      expression=lambda e, slot, local, gradient, argument, shape: e.sum_to(
                          gradient, shape=e.shape(argument)),
                      formula="{} (broadcast)")
SUM_TO = LinearMap("sum_to",
                   lambda slot, local, gradient, argument, shape: broadcast(
                       gradient, np.shape(argument)),
                   lambda slot, local, tangent, shape: unbroadcast(tangent, shape),
                   scalar_label="{} (each)",
                   expression=lambda e, slot, local, gradient, argument, shape: e.broadcast_to(
                       gradient, shape=e.shape(argument)),
                   formula="{} (summed)")
SCATTER = LinearMap("scatter",
                    lambda slot, local, gradient, argument, key, shape: np.asarray(
                        gradient)[key].copy()[()],
                    lambda slot, local, tangent, key, shape: scattered(tangent, key, shape),
                    scalar_label="placed",
                    expression=lambda e, slot, local, gradient, argument, key, shape: e.index(
                        gradient, key=key),
                    formula="{} (placed)")


def _no_pushforward(slot: int, local: Any, tangent: Any) -> Any:
    from graphviz_ad.errors import UsageError

    raise UsageError("forward mode through a Jacobian known only by its action is not "
                     "available", None, "its gradients come from a backward pass")


def known_by_action(name: str, pull: Callable[[Any], list], scalar_output: bool) -> LinearMap:
    """A Jacobian too large to store, known by its action (an importer's backward function, a
    large folded group): `pull(gradient)` gives the gradient of every argument. Its edges carry
    Jᵀ·1 = d sum(out) / d argument as the local derivative, so for a scalar output the whole
    derivative, which a gradient simply multiplies; otherwise `pull` does the work, and the
    label says Jᵀ·1."""
    remembered: list = [None, None]  # the last gradient pulled back, and what it gave

    def pullback(slot: int, local: Any, gradient: Any, argument: Any) -> Any:
        if scalar_output:
            return gradient * local
        if remembered[0] is not gradient:
            remembered[:] = [gradient, pull(gradient)]
        return remembered[1][slot]

    label = "{}" if scalar_output else "Jᵀ·1 {}"
    return LinearMap(name, pullback, _no_pushforward, scalar_label=label, array_label=label)
