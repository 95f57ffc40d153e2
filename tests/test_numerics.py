"""Each row of docs/numerics.md, evaluated: value, gradient and warning exactly as documented."""

import math
import re
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest

from graphviz_ad import analyze
from graphviz_ad.engine.ops import OPS
from graphviz_ad.errors import GadError

TABLE = Path(__file__).resolve().parent.parent / "docs" / "numerics.md"


def rows():
    for line in TABLE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`"):
            yield cells


def point(text: str) -> dict:
    values = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, value = (side.strip() for side in part.split("="))
        values[name] = float(value)
    return values


def same(actual: float, expected: str) -> bool:
    wanted = float(expected)
    return (math.isnan(actual) and math.isnan(wanted)) or actual == wanted


@pytest.mark.parametrize("expression, at, value, gradient, warning, why", list(rows()),
                         ids=lambda cell: cell if isinstance(cell, str) else None)
def test_documented_edge_point(expression, at, value, gradient, warning, why):
    source = expression.strip("`")
    if value.startswith("error: "):
        with pytest.raises(GadError) as caught:
            analyze(source, point(at))
        assert caught.value.reason == value[len("error: "):]
        return
    analysis = analyze(source, point(at))
    assert same(analysis.value, value)
    for entry in filter(None, (piece.strip() for piece in gradient.split(","))):
        name, expected = (side.strip() for side in entry.split(":"))
        assert same(float(np.asarray(analysis.gradient(name))), expected), name
    messages = [issue.message for issue in analysis.numeric_issues]
    assert messages == ([warning.replace("\\|", "|")] if warning else [])


def test_the_table_has_every_kind_of_row():
    kinds = {re.sub(r"\(.*", "", row[0].strip("`")) for row in rows()}
    assert {"log", "sqrt", "x^y", "abs", "relu", "max", "min", "tanh", "sigmoid", "exp",
            "x / y"} <= kinds


def exact_slope(name: str, x: float) -> Decimal:
    """The derivative at the float x, to 50 digits."""
    with localcontext() as context:
        context.prec = 50
        point = Decimal(x)
        if name in ("asin", "acos"):
            slope = 1 / (1 - point * point).sqrt()
            return slope if name == "asin" else -slope
        if name == "tanh":
            small = (-2 * abs(point)).exp()
            return 4 * small / (1 + small) ** 2
        small = (-abs(point)).exp()
        if name == "sigmoid":
            return small / (1 + small) ** 2
        return 1 / (1 + small) if point >= 0 else small / (1 + small)  # softplus' = sigmoid


@pytest.mark.parametrize("name, points", [
    ("tanh", (-3.58, 0.3, 5.0, 10.0, -15.5, 18.7, 19.5, 30.0, -100.0, 300.0)),
    ("sigmoid", (-700.0, -40.0, -30.0, 0.3, 20.0, 36.9, 40.0, 100.0)),
    ("softplus", (-700.0, -40.0, -30.0, 0.3, 25.0, 40.0)),
    ("asin", (0.5, 0.999, 0.9999999999, 1 - 2**-30, -(1 - 2**-45))),
    ("acos", (0.5, -0.999, 0.9999999999, 1 - 2**-45)),
])
def test_saturating_derivatives_are_within_four_ulp_of_the_exact_value(name, points):
    op = OPS[name]
    for x in points:
        point = np.float64(x)
        slope = float(op.partials[0].rule(point, op.value(point)))
        exact = exact_slope(name, x)
        error_in_ulp = abs(Decimal(slope) - exact) / Decimal(math.ulp(float(exact)))
        assert error_in_ulp <= 4, f"{name}'({x}) = {slope!r}, exact {exact:.17e}"
