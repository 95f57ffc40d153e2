"""How an edge's local derivative acts: pulled back on a gradient (reverse) or pushed on a tangent.

Elementwise edges multiply and then sum over the axes numpy broadcast; reductions spread the
gradient over the input's shape; matrix products multiply by the other operand, transposed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphviz_ad.engine.ops import ELEMENTWISE, REDUCE


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


def pullback(linear_map: str, slot: int, local: Any, gradient: Any,
             argument: Any) -> Any:
    """The contribution of `gradient` (d output / d node) to d output / d argument."""
    if linear_map == ELEMENTWISE:
        contribution = gradient * local
        if type(contribution) is np.ndarray and contribution.shape != np.shape(argument):
            return unbroadcast(contribution, np.shape(argument))
        return contribution
    if linear_map == REDUCE:
        return np.broadcast_to(gradient * local, np.shape(argument)).copy()
    if slot == 0:
        return np.multiply.outer(gradient, local) if np.ndim(local) == 1 else gradient @ local.T
    return np.multiply.outer(local, gradient) if np.ndim(local) == 1 else local.T @ gradient


def pushforward(linear_map: str, slot: int, local: Any, tangent: Any) -> Any:
    """The tangent of the node contributed by `tangent` (d argument / d seed) through this edge."""
    if linear_map == ELEMENTWISE:
        return local * tangent
    if linear_map == REDUCE:
        return np.sum(local * tangent)
    return tangent @ local if slot == 0 else local @ tangent
