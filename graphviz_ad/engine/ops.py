"""The op table: every primitive's value, partial derivatives, domain and description, in one place.

Adding a function is one `Op(...)` entry in `TABLE`. The parser knows no function names; the
builder, both differentiation modes, the renderer, `gad ops` and the docs all read this table.

Each partial is `rule(*arguments, out)`: the local derivative d out / d argument at the point,
allowed to reuse the output (`exp`, `tanh`). Formulas and domains are templates over `{0}`, `{1}`,
... (the arguments' labels), for edges, `gad ops` and error messages. How a local derivative acts
on a gradient is the entry's `linear_map` (engine/linear.py); an op takes any fixed number of
arguments (`clip(x, lo, hi)` takes three). Operators use Python's
operator functions: on numpy scalars they skip the ufunc machinery (about 20x faster) and on
arrays they call the same ufuncs.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from graphviz_ad.engine.linear import ELEMENTWISE, MATMUL, REDUCE, LinearMap


_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


@dataclass(frozen=True)
class Partial:
    rule: Callable[..., Any]
    formula: str


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    value: Callable[..., Any]
    partials: tuple[Partial, ...]
    description: str
    symbol: str = ""
    operator: str | None = None
    callable: bool = True
    domain: Callable[..., Any] | None = None
    domain_text: str = ""  # over {0}, {1}: the arguments' names or texts
    # The domain's text when some arguments are literal numbers (the others None), where that
    # reads simpler than domain_text (`0^y needs y >= 0`); None keeps domain_text.
    domain_given: Callable[..., str | None] | None = None
    linear_map: LinearMap = ELEMENTWISE
    stops_gradient: bool = False
    # Where the finite-difference test samples each argument, and the shapes it uses.
    sample: tuple[tuple[float, float], ...] = ((-2.0, 2.0),)
    sample_shapes: tuple[tuple[int, ...], ...] = ()
    parameter_names: tuple[str, ...] = ()  # for three or more arguments: `x, lo, hi`
    label: str = field(init=False)  # what a graph node shows: the symbol, else the name
    rules: tuple[Callable[..., Any], ...] = field(init=False)  # the partials' rules, for speed
    elementwise: bool = field(init=False)

    def __post_init__(self):
        if self.arity < 1 or len(self.partials) != self.arity:
            raise ValueError(f"op {self.name}: one partial per argument")
        object.__setattr__(self, "label", self.symbol or self.name)
        object.__setattr__(self, "rules", tuple(partial.rule for partial in self.partials))
        object.__setattr__(self, "elementwise", self.linear_map is ELEMENTWISE)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names `gad ops` and the docs use for the arguments."""
        return self.parameter_names or ("x", "y")[: self.arity]

    @property
    def domain_in_xy(self) -> str:
        return self.domain_text.format(*self.parameters) if self.domain_text else "all x"

    @property
    def signature(self) -> str:
        return self.written(self.parameters)

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str:
        """The local derivative d out / d argument `slot`, in terms of the arguments' texts."""
        return self.partials[slot].formula.format(*arguments)

    def written(self, arguments: tuple[str, ...], as_operator: bool | None = None) -> str:
        """How the op is written on these argument texts: `x + y`, `-x`, `sin(x)`; an op that
        is both (pow) is written as an operator when `as_operator` says so."""
        if as_operator is None:
            as_operator = not self.callable
        if self.operator and as_operator:
            if self.arity == 1:
                return f"{self.operator}{arguments[0]}"
            return f"{arguments[0]} {self.operator} {arguments[1]}"
        return f"{self.name}({', '.join(arguments)})"


def _unless_below(x, y):
    """The share of the gradient max(x, y) passes to x: none where x < y, half on a tie, else
    all, so a nan on either side passes all of it to both (PyTorch's maximum and minimum)."""
    return 1.0 - (x < y) - 0.5 * (x == y)


def _sigmoid(x):
    # 1/(1 + e^-x) for x >= 0 and e^x/(1 + e^x) below: within 2 ulp, never overflows.
    small = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, small)[()] / (1.0 + small)


def _sigmoid_slope(x):
    """sigmoid'(x) = e^-|x| / (1 + e^-|x|)^2, within a few ulp: sigmoid(x)*(1 - sigmoid(x))
    cancels where sigmoid(x) is near 1, and is 0 from about x = 37 on."""
    small = np.exp(-np.abs(x))
    return small / ((1.0 + small) * (1.0 + small))


def _tanh_slope(x, out):
    # 1 - tanh(x)^2 = 4 sigmoid'(2x): from x itself, since 1 - out*out (or (1 - out)(1 + out))
    # turns out's rounding into a relative error of 1e-8 at x = 10, and is 0 from x = 19 on.
    return 4.0 * _sigmoid_slope(2.0 * x)


def _inverse_sine_slope(x, out):
    # (1 - x)(1 + x), not 1 - x*x, which cancels near |x| = 1 (a million ulp off there).
    return 1.0 / np.sqrt((1.0 - x) * (1.0 + x))


def _pow_base_partial(x, y, out):
    # d/dx x^y = y x^(y-1), taken as 0 where y = 0 (PyTorch), so 0^0 has gradient 0, not nan.
    if type(y) is not np.ndarray:
        return y * x ** (y - 1.0) if y != 0 else np.float64(0.0) * x
    return np.where(y == 0, 0.0, y * np.power(x, y - 1.0))


def _pow_exponent_partial(x, y, out):
    # d/dy x^y = x^y log x; at x = 0 PyTorch takes 0 (the limit from x > 0 for y > 0).
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, out * np.log(safe), np.where(x == 0, 0.0, np.nan))[()]


def _pow_domain(x, y):
    whole = y == np.floor(y)
    return (x > 0) | (whole & ((x != 0) | (y >= 0))) | ((x == 0) & (y > 0))


def _clip_inside(x, low, high, out):
    # PyTorch's clamp: the gradient reaches x where low <= x <= high, bounds included.
    return ((low <= x) & (x <= high)) * 1.0


def _clip_low(x, low, high, out):
    return (x < low) * 1.0


def _clip_high(x, low, high, out):
    return (x > high) * 1.0
def _pow_domain_given(base, exponent):
    """x^y's domain when the base or the exponent is a literal number."""
    if exponent is None and np.ndim(base) == 0:
        return "{1} >= 0" if base == 0 else "a whole-number {1}"
    if base is None and np.ndim(exponent) == 0:
        if exponent == np.floor(exponent):
            return "{0} != 0"
        return "{0} >= 0" if exponent > 0 else "{0} > 0"
    return None


def _one(*_):
    return 1.0


def _minus_one(*_):
    return -1.0


TABLE: tuple[Op, ...] = (
    Op("add", 2, operator.add, (Partial(_one, "1"), Partial(_one, "1")),
       "sum of x and y", symbol="+", operator="+", callable=False, sample=((-2, 2), (-2, 2))),
    Op("sub", 2, operator.sub, (Partial(_one, "1"), Partial(_minus_one, "-1")),
       "difference x - y", symbol="-", operator="-", callable=False, sample=((-2, 2), (-2, 2))),
    Op("mul", 2, operator.mul,
       (Partial(lambda x, y, out: y, "{1}"), Partial(lambda x, y, out: x, "{0}")),
       "product of x and y", symbol="*", operator="*", callable=False,
       sample=((-2, 2), (-2, 2))),
    Op("div", 2, operator.truediv,
       (Partial(lambda x, y, out: 1.0 / y, "1/{1}"),
        Partial(lambda x, y, out: -out / y, "-{0}/{1}^2")),
       "quotient x / y", symbol="/", operator="/", callable=False,
       domain=lambda x, y: y != 0, domain_text="{1} != 0", sample=((-2, 2), (0.5, 2))),
    Op("pow", 2, operator.pow,
       (Partial(_pow_base_partial, "{1}*{0}^({1}-1)"),
        Partial(_pow_exponent_partial, "{0}^{1}*log({0})")),
       "x to the power y", symbol="^", operator="^",
       domain=_pow_domain,
       domain_text="{0} > 0, or a whole-number {1} (with {0} != 0 when {1} < 0)",
       domain_given=_pow_domain_given,
       sample=((0.3, 2), (-2, 2))),
    Op("matmul", 2, operator.matmul,
       (Partial(lambda x, y, out: y, "{1}ᵀ"), Partial(lambda x, y, out: x, "{0}ᵀ")),
       "matrix product of x and y (matrix-vector, matrix-matrix, vector-vector)",
       symbol="@", operator="@", callable=False, linear_map=MATMUL,
       sample=((-2, 2), (-2, 2)), sample_shapes=((2, 3), (3,))),
    Op("neg", 1, operator.neg, (Partial(_minus_one, "-1"),),
       "negation -x", symbol="-", operator="-", callable=False),
    Op("sin", 1, np.sin, (Partial(lambda x, out: np.cos(x), "cos({0})"),), "sine"),
    Op("cos", 1, np.cos, (Partial(lambda x, out: -np.sin(x), "-sin({0})"),), "cosine"),
    Op("tan", 1, np.tan, (Partial(lambda x, out: 1.0 + out * out, "1 + tan({0})^2"),),
       "tangent", sample=((-1.2, 1.2),)),
    Op("asin", 1, np.arcsin, (Partial(_inverse_sine_slope, "1/sqrt(1 - {0}^2)"),),
       "inverse sine", domain=lambda x: np.abs(x) <= 1, domain_text="-1 <= {0} <= 1",
       sample=((-0.9, 0.9),)),
    Op("acos", 1, np.arccos, (Partial(lambda x, out: -_inverse_sine_slope(x, out),
                                      "-1/sqrt(1 - {0}^2)"),),
       "inverse cosine", domain=lambda x: np.abs(x) <= 1, domain_text="-1 <= {0} <= 1",
       sample=((-0.9, 0.9),)),
    Op("atan", 1, np.arctan, (Partial(lambda x, out: 1.0 / (1.0 + x * x), "1/(1 + {0}^2)"),),
       "inverse tangent"),
    Op("sinh", 1, np.sinh, (Partial(lambda x, out: np.cosh(x), "cosh({0})"),),
       "hyperbolic sine"),
    Op("cosh", 1, np.cosh, (Partial(lambda x, out: np.sinh(x), "sinh({0})"),),
       "hyperbolic cosine"),
    Op("tanh", 1, np.tanh, (Partial(_tanh_slope, "1 - tanh({0})^2"),),
       "hyperbolic tangent"),
    Op("exp", 1, np.exp, (Partial(lambda x, out: out, "exp({0})"),), "e to the power x"),
    Op("log", 1, np.log, (Partial(lambda x, out: 1.0 / x, "1/{0}"),), "natural logarithm",
       domain=lambda x: x > 0, domain_text="{0} > 0", sample=((0.2, 3),)),
    Op("log2", 1, np.log2, (Partial(lambda x, out: 1.0 / (x * _LN2), "1/({0}*log(2))"),),
       "base-2 logarithm", domain=lambda x: x > 0, domain_text="{0} > 0", sample=((0.2, 3),)),
    Op("log10", 1, np.log10, (Partial(lambda x, out: 1.0 / (x * _LN10), "1/({0}*log(10))"),),
       "base-10 logarithm", domain=lambda x: x > 0, domain_text="{0} > 0", sample=((0.2, 3),)),
    Op("sqrt", 1, np.sqrt, (Partial(lambda x, out: 0.5 / out, "1/(2*sqrt({0}))"),),
       "square root", domain=lambda x: x >= 0, domain_text="{0} >= 0", sample=((0.2, 3),)),
    Op("abs", 1, np.abs, (Partial(lambda x, out: np.sign(x), "sign({0})"),),
       "absolute value; abs'(0) = 0 as in PyTorch"),
    Op("sigmoid", 1, _sigmoid, (Partial(lambda x, out: _sigmoid_slope(x),
                                        "sigmoid({0})*(1 - sigmoid({0}))"),),
       "logistic function 1/(1 + e^-x), stable for large |x|"),
    Op("relu", 1, lambda x: np.maximum(x, 0.0), (Partial(lambda x, out: 1.0 - (x <= 0),
                                                         "[{0} > 0]"),),
       "max(x, 0); relu'(0) = 0 as in PyTorch"),
    Op("softplus", 1, lambda x: np.logaddexp(0.0, x), (Partial(lambda x, out: _sigmoid(x),
                                                               "sigmoid({0})"),),
       "log(1 + e^x), stable for large |x|"),
    Op("max", 2, np.maximum,
       (Partial(lambda x, y, out: _unless_below(x, y), "[{0} > {1}]"),
        Partial(lambda x, y, out: _unless_below(y, x), "[{1} > {0}]")),
       "larger of x and y; a tie splits the gradient evenly, a nan passes it to both",
       sample=((-2, 0), (0.2, 2))),
    Op("min", 2, np.minimum,
       (Partial(lambda x, y, out: _unless_below(y, x), "[{0} < {1}]"),
        Partial(lambda x, y, out: _unless_below(x, y), "[{1} < {0}]")),
       "smaller of x and y; a tie splits the gradient evenly, a nan passes it to both",
       sample=((-2, 0), (0.2, 2))),
    Op("clip", 3, np.clip,
       (Partial(_clip_inside, "[{1} <= {0} <= {2}]"), Partial(_clip_low, "[{0} < {1}]"),
        Partial(_clip_high, "[{0} > {2}]")),
       "x limited to [lo, hi]; at a bound the gradient goes to x, as in PyTorch's clamp",
       domain=lambda x, low, high: low <= high + 0 * x, domain_text="{1} <= {2}",
       parameter_names=("x", "lo", "hi"), sample=((-3, 3), (-2, -1), (1, 2))),
    Op("sum", 1, np.sum, (Partial(_one, "1"),), "sum of all elements", linear_map=REDUCE,
       sample_shapes=((3,),)),
    Op("mean", 1, np.mean, (Partial(lambda x, out: 1.0 / np.size(x), "1/n"),),
       "mean of all elements", linear_map=REDUCE, sample_shapes=((3,),)),
    Op("detach", 1, np.copy, (Partial(lambda x, out: 0.0, "0 (cut)"),),
       "the value of x with no gradient through it (PyTorch's x.detach())",
       stops_gradient=True),
)

OPS: dict[str, Op] = {op.name: op for op in TABLE}
FUNCTIONS: dict[str, Op] = {op.name: op for op in TABLE if op.callable}
BINARY_OPERATORS: dict[str, Op] = {op.operator: op for op in TABLE
                                   if op.operator and op.arity == 2}
PREFIX_OPERATORS: dict[str, Op] = {"-": OPS["neg"]}

# Called like functions but handled by the builder, since they change what is recorded.
NO_GRAD = "no_grad"
NO_GRAD_DESCRIPTION = ("evaluate x without recording it: the result enters the graph as one "
                       "constant (PyTorch's torch.no_grad())")

CONSTANTS: dict[str, float] = {"pi": float(np.pi), "e": float(np.e)}
CALLABLE: frozenset[str] = frozenset(FUNCTIONS) | {NO_GRAD}  # every name that can be called
