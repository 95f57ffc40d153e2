"""Hypothesis properties: parser round trips and totality; reverse = forward = finite differences."""

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from graphviz_ad import analyze
from graphviz_ad.errors import GadError
from graphviz_ad.language import parse, to_sexpr

NAMES = ("x", "y", "z")
SMOOTH_FUNCTIONS = ("sin", "cos", "tanh", "atan", "sigmoid", "softplus", "exp")


def leaves():
    return st.one_of(st.sampled_from(NAMES).map(lambda name: (name, name)),
                     st.integers(1, 9).map(lambda number: (str(number), str(number))))


def combine(children):
    """Pairs of (source text, expected S-expression), built bottom-up."""
    binary = st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(
        lambda t: (f"({t[1][0]} {t[0]} {t[2][0]})", f"({t[0]} {t[1][1]} {t[2][1]})"))
    unary = st.tuples(st.sampled_from(SMOOTH_FUNCTIONS), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", f"({t[0]} {t[1][1]})"))
    negate = children.map(lambda c: (f"(-{c[0]})", f"(- {c[1]})"))
    # Division by a denominator bounded away from zero, and whole powers, stay smooth.
    divide = st.tuples(children, children).map(
        lambda t: (f"({t[0][0]} / (2 + {t[1][0]}^2))", f"(/ {t[0][1]} (+ 2 (^ {t[1][1]} 2)))"))
    power = st.tuples(children, st.integers(2, 3)).map(
        lambda t: (f"({t[0][0]} ^ {t[1]})", f"(^ {t[0][1]} {t[1]})"))
    return st.one_of(binary, unary, negate, divide, power)


expressions = st.recursive(leaves(), combine, max_leaves=12)
points = st.fixed_dictionaries({name: st.floats(-1.5, 1.5) for name in NAMES})


@given(expressions)
def test_fully_bracketed_text_parses_to_its_tree(expression):
    source, expected = expression
    assert to_sexpr(parse(source).statements[0]) == expected


@given(st.text(max_size=60))
def test_tokenizer_and_parser_are_total(text):
    try:
        parse(text)
    except GadError as error:
        assert error.span is not None
        assert 0 <= error.span.start <= len(text)


@given(st.lists(st.sampled_from(["x", "1", "+", "-", "*", "/", "^", "**", "@", "(", ")", "[",
                                 "]", ",", "=", ";", "\n", "sin", " ", ".5", "#"]),
                max_size=25))
def test_random_token_sequences_parse_or_fail_cleanly(tokens):
    text = "".join(tokens)
    try:
        parse(text)
    except GadError as error:
        assert 0 <= error.span.start <= len(text)


@given(expressions, points)
def test_reverse_forward_and_finite_differences_agree(expression, point):
    source, _ = expression
    analysis = analyze(source, {name: value for name, value in point.items() if name in source})
    assume(math.isfinite(analysis.value) and abs(analysis.value) < 1e6)
    for name in analysis.inputs:
        reverse = analysis.gradient(name)
        forward = analysis.gradient(name, "forward")
        assert np.allclose(reverse, forward, rtol=1e-12, atol=1e-12)
        check = analysis.check(name)
        scale = max(1.0, abs(float(reverse)), abs(analysis.value))
        assert check.difference <= 1e-5 * scale, (source, point, name)
