"""How an edge's local derivative acts: pulled back on a gradient (reverse) or pushed on a tangent.

Each kind of Jacobian is one `LinearMap`: elementwise edges multiply and then sum over the axes
numpy broadcast; reductions spread the gradient over the input's shape; matrix products multiply
by the other operand, transposed. A new kind (an axis reduction, a transpose) is one more
`LinearMap` here and a reference to it from its op-table entry; the backward sweep, forward mode,
paths and pictures all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    def label(self, local_text: str, scalar: bool) -> str:
        return (self.scalar_label if scalar else self.array_label).format(local_text)


def _elementwise_pullback(slot: int, local: Any, gradient: Any, argument: Any) -> Any:
    contribution = gradient * local
    if type(contribution) is np.ndarray and contribution.shape != np.shape(argument):
        return unbroadcast(contribution, np.shape(argument))
    return contribution


def _reduce_pullback(slot: int, local: Any, gradient: Any, argument: Any) -> Any:
    return np.broadcast_to(gradient * local, np.shape(argument)).copy()


def _matmul_pullback(slot: int, local: Any, gradient: Any, argument: Any) -> Any:
    if slot == 0:
        return np.multiply.outer(gradient, local) if np.ndim(local) == 1 else gradient @ local.T
    return np.multiply.outer(local, gradient) if np.ndim(local) == 1 else local.T @ gradient


ELEMENTWISE = LinearMap("elementwise", _elementwise_pullback,
                        lambda slot, local, tangent: local * tangent, array_label="diag {}")
REDUCE = LinearMap("reduce", _reduce_pullback,
                   lambda slot, local, tangent: np.sum(local * tangent), scalar_label="{} (each)")
MATMUL = LinearMap("matmul", _matmul_pullback,
                   lambda slot, local, tangent: tangent @ local if slot == 0 else local @ tangent,
                   scalar_label="({})ᵀ", array_label="({})ᵀ")


def _jacobian_pullback(slot: int, local: Any, gradient: Any, argument: Any) -> Any:
    return np.tensordot(gradient, local, axes=np.ndim(gradient))[()]


def _jacobian_pushforward(slot: int, local: Any, tangent: Any) -> Any:
    return np.tensordot(local, tangent, axes=np.ndim(tangent))[()]


# A whole Jacobian d out / d argument, of shape out.shape + argument.shape: the total derivative
# through a folded group (engine/fold.py), where no structure is known.
JACOBIAN = LinearMap("jacobian", _jacobian_pullback, _jacobian_pushforward, array_label="J {}")


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
