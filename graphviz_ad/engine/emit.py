"""Emitters: what a derivative rule of the op table is read as.

A rule is written once, as a function of an emitter `e` and the op's operands, with one method
per op (`e.cos(x)`, `e.mul(y, x)`, `e.sum(g, axis=1)`) and a few more:

- `e.const(value, text)`: a number (`text` says how a formula prints it: `log(2)`);
- `e.count(x, axis)`: how many elements a reduction along `axis` takes into each result;
- `e.expand(x, axis)`: a reduction's result with its reduced axis back, as length 1;
- `e.shape(x)`: the shape of an operand (for the pullbacks of engine/linear.py, which are read
  on numbers, nodes and duals, never printed);
- `e.fixed(function, template, *operands)`: a value that is constant where the op is
  differentiable (which elements tie for a max, a class index's one-hot row), computed by a
  numpy `function`, printed from `template`, with derivative 0.

Three emitters read every rule: `Numbers` (numpy values: the numeric sweep), `Formula` (the text
on edges, in tables and on the page) and, in engine/differentiate.py, `Nodes`, which appends graph
nodes, so that the backward sweep becomes a graph that can be drawn and differentiated again. A
fourth, `Duals`, reads a rule on values with their tangents: forward over reverse, for
Hessian-vector products with no graph made.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np


def reduced_count(x: Any, axis: int | None = None) -> int:
    """How many elements a reduction along `axis` (every axis: None) takes into each result."""
    return np.size(x) if axis is None else np.shape(x)[axis]


class Numbers:
    """Rules read on numpy values: each op is its value function, bound once per table."""

    def learn(self, table: Iterable[Any]) -> None:
        """Bind each op's value function: the table's rules hold this emitter before the table
        they read is complete."""
        for op in table:
            setattr(self, op.name, op.value)

    @staticmethod
    def const(value: float, text: str | None = None) -> float:
        return value

    @staticmethod
    def count(x: Any, axis: int | None = None) -> Any:
        return np.float64(reduced_count(x, axis))  # 1/0 is inf (an empty mean), not an error

    @staticmethod
    def expand(x: Any, axis: int | None = None) -> Any:
        return x if axis is None else np.expand_dims(x, axis)

    @staticmethod
    def shape(x: Any) -> tuple[int, ...]:
        return np.shape(x)

    @staticmethod
    def fixed(function: Callable[..., Any], template: str, *operands: Any) -> Any:
        return function(*operands)


# How tightly a formula's part binds: an operand is bracketed when it binds less tightly than
# its place needs (`(x + y)*z`, `-(x*y)`, `(-x)^2`).
SUM, PRODUCT, SIGN, POWER, ATOM = 1, 2, 3, 4, 5


class Written(str):
    """A formula's text, with how tightly it binds."""

    binding: int

    def __new__(cls, text: str, binding: int = ATOM):
        written = super().__new__(cls, text)
        written.binding = binding
        return written


def _setting(value: Any) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, tuple) else str(value)


def _text(item: Any) -> Written:
    """A formula's part; a number as its shortest text (`2`, `0.5`, `-1`)."""
    if isinstance(item, Written):
        return item
    if isinstance(item, str):
        return Written(item)
    text = repr(float(item)).removesuffix(".0")
    return Written(text, SIGN if text.startswith("-") else ATOM)


def _operand(text: str, least: int) -> str:
    binding = getattr(text, "binding", ATOM)
    return text if binding >= least else f"({text})"


# The ops written between their operands, with how tightly each binds.
_OPERATORS = {"add": ("+", SUM), "sub": ("-", SUM), "mul": ("*", PRODUCT),
              "div": ("/", PRODUCT), "matmul": ("@", PRODUCT), "pow": ("^", POWER)}


class Formula:
    """Rules read on texts: each op writes itself as the language does (`cos(x)`, `x*y`,
    `sum(g, axis=1)`), so a printed formula parses as an expression of the language and can
    never disagree with its number. Multiplying by 1 is left out, and `a*a` reads `a^2`."""

    def __init__(self, ops: dict[str, Any]):
        self._ops = ops

    def __getattr__(self, name: str) -> Callable[..., Written]:
        op = self._ops.get(name)
        if op is None:
            raise AttributeError(name)
        if name in _OPERATORS:
            symbol, binding = _OPERATORS[name]
            return lambda x, y: self._binary(symbol, binding, _text(x), _text(y))
        if name == "neg":
            return lambda x: Written(f"-{_operand(_text(x), POWER)}", SIGN)

        def call(*operands: Any, **settings: Any) -> Written:
            operands = tuple(map(_text, operands))
            defaults = {static.name: static.default for static in op.statics}
            shown = [f"{key}={_setting(value)}" for key, value in settings.items()
                     if defaults.get(key, object()) != value]
            return Written(f"{name}({', '.join(list(operands) + shown)})")
        return call

    @staticmethod
    def _binary(symbol: str, binding: int, x: str, y: str) -> Written:
        if symbol == "*":
            if x == "1":
                return y
            if y == "1":
                return x
            if x == y and getattr(x, "binding", ATOM) == ATOM:
                return Written(f"{x}^2", POWER)
        if binding == POWER:  # x^y^z is x^(y^z): both operands are atoms, to be plain
            return Written(f"{_operand(x, ATOM)}^{_operand(y, ATOM)}", POWER)
        # Left-associative: the right operand binds more tightly than the operator itself.
        right = _operand(y, binding + 1)
        spaced = f" {symbol} " if binding == SUM else symbol
        return Written(f"{_operand(x, binding)}{spaced}{right}", binding)

    @staticmethod
    def const(value: float, text: str | None = None) -> Written:
        return _text(value) if text is None else Written(text, SIGN if text[0] == "-" else ATOM)

    @staticmethod
    def count(x: str, axis: int | None = None) -> Written:
        return Written("n")

    @staticmethod
    def expand(x: str, axis: int | None = None) -> str:
        return x

    @staticmethod
    def fixed(function: Callable[..., Any], template: str, *operands: str) -> Written:
        return Written(template.format(*operands))


class Dual:
    """A value and its tangent, its directional derivative (None: zero)."""

    __slots__ = ("value", "tangent")

    def __init__(self, value: Any, tangent: Any = None):
        self.value = value
        self.tangent = tangent


def _primal(operand: Any) -> Any:
    return operand.value if type(operand) is Dual else operand


def _lifted_unary(value: Callable[..., Any], rule: Callable[..., Any]) -> Callable[..., Any]:
    """An elementwise function of one argument on duals, the common case, unrolled: its
    tangent is its local derivative times its argument's."""
    def lifted(x: Any) -> Any:
        if type(x) is not Dual:
            return value(x)
        out = value(x.value)
        return Dual(out, None if x.tangent is None else rule(x.value, out) * x.tangent)
    return lifted


class Duals:
    """Rules read on duals: each op gives its value and pushes its operands' tangents forward
    through its own numeric rules (forward mode), so a rule read on duals gives a local
    derivative and its directional derivative at once: forward over reverse, with no graph
    made (engine/differentiate.py `hessian_vector_product`)."""

    def learn(self, table: Iterable[Any]) -> None:
        for op in table:
            setattr(self, op.name, self._lifted(op))

    @staticmethod
    def _lifted(op: Any) -> Callable[..., Dual]:
        if op.elementwise and op.arity == 1 and not op.stops_gradient and not op.statics:
            return _lifted_unary(op.value, op.rules[0])

        statics = op.statics

        def lifted(*operands: Any, **given: Any) -> Dual:
            values = tuple(map(_primal, operands))
            # The op's static parameters as Op.bind fixes them, without making a bound op.
            settings = {static.name: given.get(static.name, static.default)
                        for static in statics}
            if op.derive is not None:
                settings.update(op.derive(tuple(map(np.shape, values)), **settings))
            out = op.value(*values, **settings)
            tangent = None
            for slot, operand in enumerate(operands):
                if type(operand) is Dual and operand.tangent is not None \
                        and not op.stops_gradient:
                    local = op.rules[0 if op.variadic else slot](*values, out, **settings)
                    part = op.linear_map.pushforward(slot, local, operand.tangent, **settings)
                    tangent = part if tangent is None else tangent + part
            if tangent is not None and np.shape(tangent) != np.shape(out):
                tangent = np.broadcast_to(tangent, np.shape(out))  # a number's, spread
            return Dual(out, tangent)
        return lifted

    @staticmethod
    def const(value: Any, text: str | None = None) -> Any:
        return value

    @staticmethod
    def count(x: Any, axis: int | None = None) -> Any:
        return np.float64(reduced_count(_primal(x), axis))

    @staticmethod
    def expand(x: Any, axis: int | None = None) -> Any:
        if axis is None:
            return x
        if type(x) is not Dual:
            return Numbers.expand(x, axis)
        tangent = None if x.tangent is None else np.expand_dims(x.tangent, axis)
        return Dual(np.expand_dims(x.value, axis), tangent)

    @staticmethod
    def shape(x: Any) -> tuple[int, ...]:
        return np.shape(_primal(x))

    @staticmethod
    def fixed(function: Callable[..., Any], template: str, *operands: Any) -> Any:
        return function(*map(_primal, operands))
