"""The one number formatter: exact (shortest round-trip) or short, for scalars and arrays; JSON."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SHORT_DIGITS = 6


def number(value: float, digits: int | None = None) -> str:
    """`repr` precision (round-trips exactly) when digits is None, else `digits` significant."""
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if digits is None:
        return repr(value)
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def value(item: Any, digits: int | None = None) -> str:
    """A scalar or an array (as nested brackets), each element through `number`."""
    if np.ndim(item) == 0:
        return number(item, digits)
    return np.array2string(np.asarray(item), separator=", ", max_line_width=72,
                           formatter={"float_kind": lambda element: number(element, digits)})


def shape(item: Any) -> str:
    return "×".join(str(size) for size in np.shape(item)) or "scalar"


def jsonable(item: Any) -> Any:
    """Floats and nested lists; non-finite numbers as the strings "nan", "inf", "-inf"."""
    if np.ndim(item) == 0:
        element = float(item)
        return element if math.isfinite(element) else str(element)
    return [jsonable(element) for element in np.asarray(item)]
