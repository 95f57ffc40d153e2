"""Each row of docs/numerics.md, evaluated: value, gradient and warning exactly as documented."""

import math
import re
from pathlib import Path

import numpy as np
import pytest

from graphviz_ad import analyze
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
