"""Each derivative rule is written once: its three readings agree.

- Read on numbers, a rule equals the tuned numpy form kept beside it (where there is one).
- Read on texts, a rule is a formula of the language that evaluates to the same number.
- Read on numbers, each kind of edge's pullback expression equals its numeric pullback.
"""

import numpy as np
import pytest

from graphviz_ad.engine.build import build
from graphviz_ad.engine.emit import Formula, Written
from graphviz_ad.engine.ops import NUMBERS, OPS, TABLE, rule_text
from graphviz_ad.errors import ParseError, UnknownNameError

from test_ops import bound, cases, sample_points

# Formulas that name a piecewise-constant part in words, as no expression of the language can
# (the elements that tie for a largest, a class index's one-hot row).
WORDED = {"amax", "amin", "cross_entropy"}


@pytest.mark.parametrize("entry, settings", list(cases()))
def test_every_expression_agrees_with_its_tuned_form(entry, settings):
    rng = np.random.default_rng(sum(map(ord, entry.name)) + 7)
    tuned = [slot for slot, part in enumerate(entry.partials) if part.tuned is not None]
    for operands in sample_points(entry, rng):
        op = bound(entry, settings, operands)
        out = op.value(*operands)
        for slot in tuned:
            expression = op.partials[slot].expression(NUMBERS, *operands, out)
            np.testing.assert_allclose(expression, op.partials[slot].rule(*operands, out),
                                       rtol=1e-12, atol=1e-15, err_msg=f"{op.name} {slot}")


def _formula_points(entry):
    """The op's sample points at its default settings; cross_entropy's as one sample, where
    a formula's implicit reduced axis is no axis at all."""
    if entry.name == "cross_entropy":
        from dataclasses import replace
        entry = replace(entry, sample_shapes=((3,), (3,)))
    return entry, sample_points(entry, np.random.default_rng(len(entry.name)), count=3)


@pytest.mark.parametrize("entry", [op for op in TABLE if not op.stops_gradient],
                         ids=lambda op: op.name)
def test_every_formula_is_an_expression_that_equals_its_number(entry):
    entry, points = _formula_points(entry)
    required = any(static.required for static in entry.statics)
    for operands in points:
        op = bound(entry, dict(entry.sample_statics) if required else {}, operands)
        names = op.parameters if not op.variadic and op.arity == entry.arity else \
            tuple(f"x{index}" for index in range(op.arity))
        out = op.value(*operands)
        for slot in range(op.arity):
            text = rule_text(op, slot).format(*names)
            values = dict(zip(names, operands))
            values.update(n=np.size(operands[0]), N=np.shape(operands[0])[0]
                          if np.ndim(operands[0]) == 2 else 1)
            try:
                built = build(text, {name: value for name, value in values.items()
                                     if name in text})
            except (UnknownNameError, ParseError):
                assert entry.name in WORDED, text
                continue
            expected = op.partials[slot].rule(*operands, out)
            value = built.graph.values[built.graph.output]
            np.testing.assert_allclose(np.broadcast_to(value, np.shape(expected)), expected,
                                       rtol=1e-12, atol=1e-15, err_msg=f"{op.name}: {text}")


def test_worded_formulas_are_the_few_that_must_be():
    worded = set()
    for op in TABLE:
        shapes = op.sample_shapes or ((),) * op.arity
        if op.name == "cross_entropy":
            shapes = ((4, 3), (4,))  # class indices
        bound_op = op.bind(dict(op.sample_statics), shapes) if op.statics or op.derive else op
        texts = [rule_text(bound_op, slot) for slot in range(len(bound_op.partials))]
        if any("[" in text or "onehot" in text for text in texts):
            worded.add(op.name)
    assert worded == WORDED


@pytest.mark.parametrize("entry, settings", list(cases()))
def test_every_pullback_expression_equals_the_numeric_pullback(entry, settings):
    rng = np.random.default_rng(sum(map(ord, entry.name)) + 11)
    for operands in sample_points(entry, rng, count=3):
        op = bound(entry, settings, operands)
        out = op.value(*operands)
        gradient = rng.normal(size=np.shape(out))[()]
        for slot in range(op.arity):
            local = op.partials[slot].rule(*operands, out)
            numeric = op.linear_map.pullback(slot, local, gradient, operands[slot])
            expression = op.linear_map.expression(NUMBERS, slot, local, gradient,
                                                  operands[slot])
            np.testing.assert_allclose(expression, numeric, rtol=1e-13, atol=1e-15,
                                       err_msg=f"{op.name} slot {slot}")
            assert np.shape(expression) == np.shape(operands[slot])


@pytest.mark.parametrize("build_text, printed", [
    (lambda e: e.mul(e.add("x", "y"), "z"), "(x + y)*z"),
    (lambda e: e.sub("x", e.sub("y", "z")), "x - (y - z)"),
    (lambda e: e.div("x", e.mul("y", "z")), "x/(y*z)"),
    (lambda e: e.neg(e.mul("x", "y")), "-(x*y)"),
    (lambda e: e.pow(e.neg("x"), 2.0), "(-x)^2"),
    (lambda e: e.mul(e.sin("x"), e.sin("x")), "sin(x)^2"),
    (lambda e: e.mul(1.0, e.cos("x")), "cos(x)"),
    (lambda e: e.sum("g", axis=1), "sum(g, axis=1)"),
    (lambda e: e.reshape("g", shape=(2, 3)), "reshape(g, shape=[2, 3])"),
])
def test_formulas_bracket_exactly_where_the_language_needs_it(build_text, printed):
    text = build_text(Formula(OPS))
    assert text == printed
    assert isinstance(text, Written)
    values = {"x": 0.3, "y": -1.2, "z": 2.5, "g": np.arange(6.0).reshape(2, 3)}
    built = build(text, {name: value for name, value in values.items() if name in text})
    assert built.graph.output >= 0
