"""What the importers share: `Imported`, what each hands the facade, and the node limit's error.

Both the PyTorch importer (sources/pytorch.py, torch_output.py) and the JAX one (jaxpr.py)
hand the facade an `Imported`, refuse a graph past their node limits the same way, and hold
their gradients to the framework's with the same tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from graphviz_ad.engine.annotated import AnnotatedGraph
from graphviz_ad.errors import LimitError


# How far our gradients may differ from the framework's, in units of their magnitudes: rounding
# in float64, never a path missing or counted twice; lower precisions round far more.
FLOAT64_TOLERANCE = 1e-9
LOW_PRECISION_TOLERANCE = 1e-3


def agreement_tolerance(dtype: Any) -> float:
    """The relative tolerance for comparing our gradients with the framework's in `dtype`."""
    return FLOAT64_TOLERANCE if np.dtype(dtype) == np.float64 else LOW_PRECISION_TOLERANCE


@dataclass(frozen=True)
class Imported:
    """An imported graph, what a user should know about how it was made, and, for a traced
    call, finite differences of an input's gradient by calling the function again:
    `finite_difference(name, method, step)`."""

    graph: AnnotatedGraph
    notes: tuple[str, ...]
    finite_difference: Callable[[str, str, float], Any] | None = None


def too_many_nodes(subject: str, limit: int, label: str, group: tuple[str, ...], stopping: str,
                   hint: str) -> LimitError:
    """The error for the node past an importer's `limit`: `label`, in `group`."""
    where = f" in {'.'.join(group)}" if group else ""
    return LimitError(f"{subject} more than {limit:,} nodes (the next is `{label}`{where}): "
                      f"graphviz-ad {stopping}, as annotating and drawing it would take "
                      "minutes", None, hint)
