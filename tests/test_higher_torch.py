"""Hessians against torch.autograd.functional.hessian in float64, on random programs with arrays
and broadcasting (skipped without torch)."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphviz_ad import analyze

torch = pytest.importorskip("torch")

# The inputs: a matrix, a vector that broadcasts along its rows, and a number.
SHAPES = {"B": (2, 3), "a": (3,), "c": ()}
UNARY = {"sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "atan": torch.atan,
         "sigmoid": torch.sigmoid, "softplus": torch.nn.functional.softplus}
BINARY = {"+": torch.add, "-": torch.sub, "*": torch.mul}


def leaves():
    return st.sampled_from(sorted(SHAPES)).map(lambda name: (name, lambda env: env[name]))


def combine(children):
    """(our text, the same computation in torch) pairs, built bottom-up."""
    unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", lambda env, f=UNARY[t[0]], g=t[1][1]: f(g(env))))
    binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(
        lambda t: (f"({t[1][0]} {t[0]} {t[2][0]})",
                   lambda env, f=BINARY[t[0]], g=t[1][1], h=t[2][1]: f(g(env), h(env))))
    # A denominator bounded away from zero keeps the quotient smooth.
    divide = st.tuples(children, children).map(
        lambda t: (f"({t[0][0]} / (2 + {t[1][0]}^2))",
                   lambda env, g=t[0][1], h=t[1][1]: g(env) / (2 + h(env) ** 2)))
    return st.one_of(unary, binary, divide)


def reduced(index, text, function):
    """The scalar the Hessian is taken of: the expression broadcast to B's shape (+ 0 * B),
    then reduced in one of four ways."""
    text = f"{text} + 0 * B"
    broadcast = lambda env: function(env) + 0 * env["B"]  # noqa: E731
    if index == 0:
        return f"sum({text})", lambda env: broadcast(env).sum()
    if index == 1:
        return f"logsumexp({text})", lambda env: torch.logsumexp(broadcast(env).reshape(-1), 0)
    if index == 2:
        return f"sum(softmax({text}, axis=0) * B)", lambda env: (
            torch.softmax(broadcast(env), 0) * env["B"]).sum()
    return f"sum((B @ sin(a)) * mean({text}, axis=1))", lambda env: (
        (env["B"] @ torch.sin(env["a"])) * broadcast(env).mean(1)).sum()


programs = st.tuples(st.integers(0, 3), st.recursive(leaves(), combine, max_leaves=6)).map(
    lambda t: reduced(t[0], *t[1]))
points = st.integers(0, 2 ** 32 - 1).map(lambda seed: {
    name: np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)[()]
    for name, shape in SHAPES.items()})


@settings(max_examples=40, deadline=None)
@given(programs, points)
def test_hessians_equal_torch_float64(program, point):
    text, function = program
    names = [name for name in sorted(SHAPES) if re.search(rf"\b{name}\b", text)]
    values = {name: point[name] for name in names}
    ours = analyze(text, values).hessian(names, check=False)
    tensors = tuple(torch.tensor(np.asarray(values[name]), dtype=torch.float64)
                    for name in names)
    theirs = torch.autograd.functional.hessian(
        lambda *arguments: function(dict(zip(names, arguments))), tensors)
    for row, first in enumerate(names):
        for column, second in enumerate(names):
            np.testing.assert_allclose(ours.blocks[first][second],
                                       theirs[row][column].numpy(), rtol=1e-9, atol=1e-11,
                                       err_msg=f"{text}: d²/d{first} d{second}")
