"""The op table: every primitive's value, partial derivatives, domain and description, in one place.

Adding a function is one `Op(...)` entry in `TABLE`. The parser knows no function names; the
builder, both differentiation modes, the renderer, `gad ops` and the docs all read this table.

Each partial is `rule(*arguments, out)`: the local derivative d out / d argument at the point,
allowed to reuse the output (`exp`, `tanh`). Formulas and domains are templates over `{0}`, `{1}`,
... (the arguments' labels), for edges, `gad ops` and error messages. How a local derivative acts
on a gradient is the entry's `linear_map` (engine/linear.py); an op takes any fixed number of
arguments (`clip(x, lo, hi)` takes three), or any number (`concat`, `variadic`). Operators use
Python's operator functions: on numpy scalars they skip the ufunc machinery (a product of two
np.float64 by `python -m timeit`: 36 ns against np.multiply's 544 ns) and on arrays they call the
same ufuncs.

Static parameters (`Static`: the axis of `sum(x, axis=1)`, the shape of `reshape`, the index of
`x[1:3]`) are part of the op, not inputs: they are written in the program as literal integers,
never differentiated, and `Op.bind` fixes them for one node. An op's value, partials and linear
map all take its static parameters as keywords.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable

import numpy as np

from graphviz_ad.engine.linear import (CONCAT, ELEMENTWISE, INDEX, LOG_SOFTMAX, MATMUL, REDUCE,
                                       RESHAPE, SOFTMAX, STACK, TRANSPOSE, LinearMap,
                                       swap_last_axes)


_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


@dataclass(frozen=True)
class Partial:
    rule: Callable[..., Any]
    formula: str


AXIS = "axis"    # a whole number, negative counting from the end; None: every axis
SHAPE = "shape"  # a whole number or an array of them, one of which may be -1
INDEX_KEY = "key"  # integers and slices, written x[1, 2:4]: only the parser makes these


@dataclass(frozen=True)
class Static:
    """A parameter fixed by the program's text, not an input: written as a literal (positionally
    after the arguments, or by keyword: `sum(x, 1)`, `sum(x, axis=1)`)."""

    name: str
    kind: str
    default: Any = None
    keyword_only: bool = False
    required: bool = False  # after any number of arguments (`concat(a, b, axis=1)`)


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    value: Callable[..., Any]
    partials: tuple[Partial, ...]
    description: str
    operator: str | None = None  # `+`: written between its arguments, and drawn so
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
    statics: tuple[Static, ...] = ()
    variadic: bool = False  # any number of arguments from `arity` on, all with partials[0]
    # Settings a bound op derives from its operands' shapes (`concat`'s slice bounds).
    derive: Callable[..., dict[str, Any]] | None = None
    settings: tuple[tuple[str, Any], ...] = ()  # a bound op's static parameters, by name
    aliases: tuple[str, ...] = ()  # other names it is called by (`ln` for log)
    # Whether the value accepts complex numbers and is analytic there (the complex-step check).
    complex_step: bool = False
    # Where the op has no derivative (relu at 0), and what the engine does there.
    kink: Callable[..., Any] | None = None
    kink_text: str = ""
    sample_statics: tuple[tuple[str, Any], ...] = ()  # for the finite-difference test
    label: str = field(init=False)  # what a graph node shows: the operator, else the name
    rules: tuple[Callable[..., Any], ...] = field(init=False)  # the partials' rules, for speed
    elementwise: bool = field(init=False)

    def __post_init__(self):
        if self.arity < 1 or len(self.partials) != (1 if self.variadic else self.arity):
            raise ValueError(f"op {self.name}: one partial per argument")
        object.__setattr__(self, "label", _label(self))
        object.__setattr__(self, "rules", tuple(partial.rule for partial in self.partials))
        object.__setattr__(self, "elementwise", self.linear_map is ELEMENTWISE)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names `gad ops` and the docs use for the arguments."""
        if self.variadic:
            return ("x1", "x2", "...")
        return self.parameter_names or ("x", "y")[: self.arity]

    @property
    def domain_in_xy(self) -> str:
        return self.domain_text.format(*self.parameters) if self.domain_text else "all x"

    @property
    def signature(self) -> str:
        if self.name == INDEX_OP:
            return "x[i, a:b]"
        if not self.statics:
            return self.written(self.parameters)
        statics = [f"{static.name}=k" if static.keyword_only else static.name
                   for static in self.statics]
        return f"{self.name}({', '.join(self.parameters + tuple(statics))})"

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str:
        """The local derivative d out / d argument `slot`, in terms of the arguments' texts."""
        return self.partials[0 if self.variadic else slot].formula.format(*arguments)

    def written(self, arguments: tuple[str, ...], as_operator: bool | None = None) -> str:
        """How the op is written on these argument texts: `x + y`, `-x`, `sin(x)`,
        `sum(x, axis=1)`, `x[0, 1:3]`; an op that is both (pow) is written as an operator when
        `as_operator` says so."""
        if as_operator is None:
            as_operator = not self.callable
        if self.name == INDEX_OP:
            return f"{arguments[0]}[{key_text(dict(self.settings)[INDEX_KEY])}]"
        if self.operator and as_operator:
            if self.arity == 1:
                return f"{self.operator}{arguments[0]}"
            return f"{arguments[0]} {self.operator} {arguments[1]}"
        return f"{self.name}({', '.join(tuple(arguments) + self.shown_settings())})"

    def shown_settings(self) -> tuple[str, ...]:
        """`axis=1` for each static parameter a bound op was given other than its default."""
        defaults = {static.name: static.default for static in self.statics}
        return tuple(f"{name}={_setting_text(value)}" for name, value in self.settings
                     if name in defaults and value != defaults[name])

    def bind(self, settings: dict[str, Any], shapes: tuple[tuple[int, ...], ...]) -> Op:
        """This op for one node: its static parameters fixed (defaults for those not given),
        and for a variadic op, one argument per shape. Shapes that do not fit raise ValueError."""
        chosen = {static.name: settings.get(static.name, static.default)
                  for static in self.statics}
        if self.derive is not None:
            chosen.update(self.derive(shapes, **chosen))
        arity = len(shapes) if self.variadic else self.arity
        if not chosen and arity == self.arity:
            return self
        partials = tuple(Partial(partial(entry.rule, **chosen), entry.formula)
                         for entry in self.partials)
        bound = replace(self, arity=arity, value=partial(self.value, **chosen),
                        partials=partials * arity if self.variadic else partials,
                        linear_map=self.linear_map.bound(chosen),
                        kink=partial(self.kink, **chosen) if self.kink else None,
                        domain=partial(self.domain, **chosen) if self.domain else None,
                        variadic=False, derive=None, settings=tuple(chosen.items()))
        return bound


INDEX_OP = "index"


def key_text(key: tuple) -> str:
    """An index as written: `0`, `1:3`, `:, 1`, `::-1`."""
    def part(item) -> str:
        if not isinstance(item, slice):
            return str(item)
        text = ":".join("" if bound is None else str(bound)
                        for bound in (item.start, item.stop))
        return text + (f":{item.step}" if item.step is not None else "")
    return ", ".join(part(item) for item in key)


def _setting_text(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _label(op: Op) -> str:
    """What a node shows: the operator or name, with any static parameter that is not the default
    (`sum axis=1`); an index shows itself (`[:, 1]`)."""
    if op.name == INDEX_OP:
        return f"[{key_text(dict(op.settings)[INDEX_KEY])}]" if op.settings else "[·]"
    shown = op.shown_settings()
    return " ".join((op.operator or op.name,) + shown)


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
    # PyTorch 2.13's clamp (2.14 on differ: docs/numerics.md): the gradient reaches x where
    # low <= x <= high, bounds included.
    return ((low <= x) & (x <= high)) * 1.0


def _clip_low(x, low, high, out):
    return (x < low) * 1.0


def _clip_high(x, low, high, out):
    return (x > high) * 1.0


def _clip_domain(x, low, high):
    # lo <= hi, at x's shape too (the elements named in an error): compared, not computed from
    # x, so x = ±inf is inside (0 * inf would be nan).
    shape = np.broadcast_shapes(np.shape(x), np.shape(low), np.shape(high))
    return np.broadcast_to(low <= high, shape)


def _pow_domain_given(base, exponent):
    """x^y's domain when the base or the exponent is a literal number."""
    if exponent is None and np.ndim(base) == 0:
        return "{1} >= 0" if base == 0 else "a whole-number {1}"
    if base is None and np.ndim(exponent) == 0:
        if exponent == np.floor(exponent):
            return "{0} != 0"
        return "{0} >= 0" if exponent > 0 else "{0} > 0"
    return None


def _one(*_):  # no **kwargs: an elementwise op's rule is the backward sweep's hot path
    return 1.0


def _minus_one(*_):
    return -1.0


def _zero(*_):
    return 0.0


def _placed(*_, **__):
    """The local derivative of an op that only moves or adds elements: 1, whatever its static
    parameters (an axis, a shape, an index)."""
    return 1.0


def _count(x, axis=None):
    """How many elements a reduction along `axis` (every axis: None) takes into each result."""
    return np.size(x) if axis is None else np.shape(x)[axis]


def _mean(x, axis=None):
    # numpy's mean without its warning for an empty x, whose mean is 0/0 = nan (PyTorch's).
    return np.sum(x, axis=axis) / _count(x, axis)


def _mean_share(x, out, axis=None):
    """1/n for each element averaged into n; an empty x has no element to give it to."""
    return 1.0 / max(_count(x, axis), 1)


def _extreme(reduce, which):
    """amax or amin: an empty array has no largest element (PyTorch refuses it too)."""
    def value(x, axis=None):
        if _count(x, axis) == 0:
            raise ValueError(f"an empty array has no {which} element")
        return reduce(x, axis=axis)
    return value


def _largest(x, axis):
    """The largest real part along `axis`, kept as length 1 (-inf along an empty axis): taken
    out before exp so nothing overflows, and real so complex-step checks go through."""
    return np.max(np.real(x), axis=axis, keepdims=True, initial=-np.inf)


def _logsumexp(x, axis=None):
    # Shifted by 0 where the largest term is ±inf, as PyTorch does: all -inf (or empty) gives
    # log 0 = -inf, not -inf - (-inf) = nan.
    largest = _largest(x, axis)
    shift = np.where(np.isfinite(largest), largest, 0.0)
    return np.log(np.sum(np.exp(x - shift), axis=axis)) + np.squeeze(shift, axis=axis)


def _expanded(out, axis):
    return out if axis is None else np.expand_dims(out, axis)


def _softmax(x, axis=-1):
    # An inf in a row makes the row nan (inf - inf), as PyTorch's softmax does.
    exponentials = np.exp(x - _largest(x, axis))
    return exponentials / np.sum(exponentials, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - _largest(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _extreme_share(x, out, axis=None):
    """The share of a max (or min) reduction's gradient each element gets: all of it at the
    extreme, split evenly between ties (PyTorch's amax and amin)."""
    hits = (x == _expanded(out, axis)) * 1.0
    return hits / np.sum(hits, axis=axis, keepdims=True)


def _ties(x, axis=None):
    """Where a max reduction has no derivative: the largest value is reached more than once."""
    largest = _expanded(np.max(x, axis=axis), axis)
    return (np.sum(x == largest, axis=axis, keepdims=True) > 1) & (x == largest)


def _lower_ties(x, axis=None):
    return _ties(-x, axis)


def _by_class_index(logits, target):
    """cross_entropy's target is class indices when it has one axis fewer than the logits."""
    return np.ndim(target) == np.ndim(logits) - 1


def _cross_entropy_shapes(logits, target):
    if np.ndim(logits) not in (1, 2) or np.ndim(target) not in (np.ndim(logits) - 1,
                                                               np.ndim(logits)):
        raise ValueError(f"cross_entropy takes logits of shape (N, C) or (C,) and class indices "
                         f"of shape (N,) or () or probabilities of the logits' shape; got "
                         f"{np.shape(logits)} and {np.shape(target)}")
    if np.shape(target) != np.shape(logits)[:np.ndim(target)]:
        raise ValueError(f"cross_entropy: {np.shape(target)} targets for logits of shape "
                         f"{np.shape(logits)}")


def _classes(logits, target):
    """Class indices as integers, rounded (a finite-difference nudge keeps its class), 0 where
    one is no class (nan); and which are classes."""
    classes = np.rint(np.real(target))
    valid = (classes >= 0) & (classes < np.shape(logits)[-1])
    return np.where(valid, classes, 0).astype(int), valid


def _class_onehot(logits, target):
    """Class indices as probabilities (one-hot rows, nan for an index that is no class, such
    as nan); probabilities as they are."""
    if not _by_class_index(logits, target):
        return target
    classes, valid = _classes(logits, target)
    rows = (np.arange(np.shape(logits)[-1]) == classes[..., None]) * 1.0
    return np.where(valid[..., None], rows, np.nan)


def _batch(logits):
    return np.shape(logits)[0] if np.ndim(logits) == 2 else 1


def _cross_entropy(logits, target):
    """-(1/N) Σ_n Σ_c t[n, c] log softmax(logits)[n, c]: PyTorch's cross_entropy with its mean
    over the batch; with class indices, -(1/N) Σ_n log softmax(logits)[n, t[n]]."""
    _cross_entropy_shapes(logits, target)
    log_probabilities = _log_softmax(logits)
    if not _by_class_index(logits, target):
        return -np.sum(target * log_probabilities) / _batch(logits)
    # Each row's target entry picked, as PyTorch does: a one-hot product would turn a masked
    # class (logit -inf) into 0 * -inf = nan.
    classes, valid = _classes(logits, target)
    picked = np.take_along_axis(log_probabilities, classes[..., None], axis=-1)[..., 0]
    return -np.sum(np.where(valid, picked, np.nan)) / _batch(logits)


def _cross_entropy_logits(logits, target, out):
    chosen = _class_onehot(logits, target)
    return (_softmax(logits) * np.sum(chosen, axis=-1, keepdims=True) - chosen) / _batch(logits)


def _cross_entropy_target(logits, target, out):
    if _by_class_index(logits, target):
        return 0.0  # class indices are labels, not quantities: no gradient (PyTorch)
    return -_log_softmax(logits) / _batch(logits)


def _cross_entropy_domain(logits, target):
    if not _by_class_index(logits, target):
        return True
    return bool(np.all((target == np.floor(target)) & (target >= 0)
                       & (target < np.shape(logits)[-1])))


def _mse(x, y):
    if np.shape(x) != np.shape(y):
        raise ValueError(f"mse compares two arrays of one shape, got {np.shape(x)} and "
                         f"{np.shape(y)}")
    return np.mean((x - y) * (x - y))


def _index(x, key):
    if np.ndim(x) == 0:
        raise ValueError("a number cannot be indexed")
    return np.asarray(x)[key].copy()[()]


def _whole_axis(axis, ndim, what):
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for {what} (axes -{ndim} to {ndim - 1})")
    return axis % ndim


def _concat_bounds(shapes, axis=0):
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("concat joins arrays along an axis; numbers are stacked: stack(a, b) "
                         "or [a, b]")
    axis = _whole_axis(axis, ndim, f"arrays of {ndim} dimension" + "s" * (ndim != 1))
    if any(len(shape) != ndim for shape in shapes):
        raise ValueError("concat needs arrays with the same number of dimensions, got shapes "
                         + " and ".join(map(str, shapes)))
    bounds = [0]
    for shape in shapes:
        bounds.append(bounds[-1] + shape[axis])
    return {"axis": axis, "bounds": tuple(bounds)}


def _stack_count(shapes, axis=0):
    ndim = len(shapes[0]) + 1
    return {"axis": _whole_axis(axis, ndim, f"stacking {ndim - 1}-dimensional values"),
            "count": len(shapes)}


def _where_condition(condition):
    # 0 or 1 by its domain; compared with 1/2 so a finite-difference nudge never flips it.
    return np.real(condition) > 0.5


_AXIS = Static("axis", AXIS)

TABLE: tuple[Op, ...] = (
    Op("add", 2, operator.add, (Partial(_one, "1"), Partial(_one, "1")),
       "sum of x and y", operator="+", callable=False, complex_step=True,
       sample=((-2, 2), (-2, 2))),
    Op("sub", 2, operator.sub, (Partial(_one, "1"), Partial(_minus_one, "-1")),
       "difference x - y", operator="-", callable=False, complex_step=True,
       sample=((-2, 2), (-2, 2))),
    Op("mul", 2, operator.mul,
       (Partial(lambda x, y, out: y, "{1}"), Partial(lambda x, y, out: x, "{0}")),
       "product of x and y", operator="*", callable=False, complex_step=True,
       sample=((-2, 2), (-2, 2))),
    Op("div", 2, operator.truediv,
       (Partial(lambda x, y, out: 1.0 / y, "1/{1}"),
        Partial(lambda x, y, out: -out / y, "-{0}/{1}^2")),
       "quotient x / y", operator="/", callable=False,
       domain=lambda x, y: y != 0, domain_text="{1} != 0", complex_step=True,
       sample=((-2, 2), (0.5, 2))),
    Op("pow", 2, operator.pow,
       (Partial(_pow_base_partial, "{1}*{0}^({1}-1)"),
        Partial(_pow_exponent_partial, "{0}^{1}*log({0})")),
       "x to the power y", operator="^",
       domain=_pow_domain,
       domain_text="{0} > 0, or a whole-number {1} (with {0} != 0 when {1} < 0)",
       domain_given=_pow_domain_given, complex_step=True,
       sample=((0.3, 2), (-2, 2))),
    Op("matmul", 2, operator.matmul,
       (Partial(lambda x, y, out: y, "{1}ᵀ"), Partial(lambda x, y, out: x, "{0}ᵀ")),
       "matrix product of x and y (matrix-vector, matrix-matrix, vector-vector); leading "
       "axes are a batch, broadcast as numpy's matmul does", operator="@",
       callable=False, linear_map=MATMUL, complex_step=True,
       sample=((-2, 2), (-2, 2)), sample_shapes=((2, 2, 3), (3, 4))),
    Op("neg", 1, operator.neg, (Partial(_minus_one, "-1"),),
       "negation -x", operator="-", callable=False, complex_step=True),
    Op("sin", 1, np.sin, (Partial(lambda x, out: np.cos(x), "cos({0})"),), "sine",
       complex_step=True),
    Op("cos", 1, np.cos, (Partial(lambda x, out: -np.sin(x), "-sin({0})"),), "cosine",
       complex_step=True),
    Op("tan", 1, np.tan, (Partial(lambda x, out: 1.0 + out * out, "1 + tan({0})^2"),),
       "tangent", complex_step=True, sample=((-1.2, 1.2),)),
    Op("sec", 1, lambda x: 1.0 / np.cos(x),
       (Partial(lambda x, out: out * np.tan(x), "sec({0})*tan({0})"),), "secant 1/cos(x)",
       domain=lambda x: np.cos(x) != 0, domain_text="cos({0}) != 0", complex_step=True,
       sample=((-1.2, 1.2),)),
    Op("csc", 1, lambda x: 1.0 / np.sin(x),
       (Partial(lambda x, out: -out / np.tan(x), "-csc({0})*cot({0})"),), "cosecant 1/sin(x)",
       domain=lambda x: np.sin(x) != 0, domain_text="sin({0}) != 0", complex_step=True,
       sample=((0.3, 2.8),)),
    Op("cot", 1, lambda x: 1.0 / np.tan(x),
       (Partial(lambda x, out: -(1.0 + out * out), "-(1 + cot({0})^2)"),),
       "cotangent cos(x)/sin(x)", domain=lambda x: np.sin(x) != 0,
       domain_text="sin({0}) != 0", complex_step=True, sample=((0.3, 2.8),)),
    Op("asin", 1, np.arcsin, (Partial(_inverse_sine_slope, "1/sqrt(1 - {0}^2)"),),
       "inverse sine", domain=lambda x: np.abs(x) <= 1, domain_text="-1 <= {0} <= 1",
       complex_step=True, sample=((-0.9, 0.9),)),
    Op("acos", 1, np.arccos, (Partial(lambda x, out: -_inverse_sine_slope(x, out),
                                      "-1/sqrt(1 - {0}^2)"),),
       "inverse cosine", domain=lambda x: np.abs(x) <= 1, domain_text="-1 <= {0} <= 1",
       complex_step=True, sample=((-0.9, 0.9),)),
    Op("atan", 1, np.arctan, (Partial(lambda x, out: 1.0 / (1.0 + x * x), "1/(1 + {0}^2)"),),
       "inverse tangent", complex_step=True),
    Op("sinh", 1, np.sinh, (Partial(lambda x, out: np.cosh(x), "cosh({0})"),),
       "hyperbolic sine", complex_step=True),
    Op("cosh", 1, np.cosh, (Partial(lambda x, out: np.sinh(x), "sinh({0})"),),
       "hyperbolic cosine", complex_step=True),
    Op("tanh", 1, np.tanh, (Partial(_tanh_slope, "1 - tanh({0})^2"),),
       "hyperbolic tangent", complex_step=True),
    Op("exp", 1, np.exp, (Partial(lambda x, out: out, "exp({0})"),), "e to the power x",
       complex_step=True),
    Op("log", 1, np.log, (Partial(lambda x, out: 1.0 / x, "1/{0}"),), "natural logarithm",
       domain=lambda x: x > 0, domain_text="{0} > 0", aliases=("ln",), complex_step=True,
       sample=((0.2, 3),)),
    Op("log2", 1, np.log2, (Partial(lambda x, out: 1.0 / (x * _LN2), "1/({0}*log(2))"),),
       "base-2 logarithm", domain=lambda x: x > 0, domain_text="{0} > 0", complex_step=True,
       sample=((0.2, 3),)),
    Op("log10", 1, np.log10, (Partial(lambda x, out: 1.0 / (x * _LN10), "1/({0}*log(10))"),),
       "base-10 logarithm", domain=lambda x: x > 0, domain_text="{0} > 0", complex_step=True,
       sample=((0.2, 3),)),
    Op("sqrt", 1, np.sqrt, (Partial(lambda x, out: 0.5 / out, "1/(2*sqrt({0}))"),),
       "square root", domain=lambda x: x >= 0, domain_text="{0} >= 0", complex_step=True,
       sample=((0.2, 3),)),
    Op("abs", 1, np.abs, (Partial(lambda x, out: np.sign(x), "sign({0})"),),
       "absolute value; abs'(0) = 0 as in PyTorch", kink=lambda x: x == 0,
       kink_text="abs is not differentiable at 0; the engine uses PyTorch's convention "
                 "abs'(0) = 0"),
    Op("sigmoid", 1, _sigmoid, (Partial(lambda x, out: _sigmoid_slope(x),
                                        "sigmoid({0})*(1 - sigmoid({0}))"),),
       "logistic function 1/(1 + e^-x), stable for large |x|"),
    Op("relu", 1, lambda x: np.maximum(x, 0.0), (Partial(lambda x, out: 1.0 - (x <= 0),
                                                         "[{0} > 0]"),),
       "maximum(x, 0); relu'(0) = 0 as in PyTorch", kink=lambda x: x == 0,
       kink_text="relu is not differentiable at 0; the engine uses PyTorch's convention "
                 "relu'(0) = 0"),
    Op("softplus", 1, lambda x: np.logaddexp(0.0, x), (Partial(lambda x, out: _sigmoid(x),
                                                               "sigmoid({0})"),),
       "log(1 + e^x), stable for large |x|"),
    Op("max", 2, np.maximum,
       (Partial(lambda x, y, out: _unless_below(x, y), "[{0} > {1}]"),
        Partial(lambda x, y, out: _unless_below(y, x), "[{1} > {0}]")),
       "larger of x and y, elementwise; a tie splits the gradient evenly, a nan passes it to "
       "both", aliases=("maximum",),
       kink=lambda x, y: x == y, kink_text="max is not differentiable where its arguments are "
                                           "equal; the engine splits the gradient evenly, as "
                                           "PyTorch does",
       sample=((-2, 0), (0.2, 2))),
    Op("min", 2, np.minimum,
       (Partial(lambda x, y, out: _unless_below(y, x), "[{0} < {1}]"),
        Partial(lambda x, y, out: _unless_below(x, y), "[{1} < {0}]")),
       "smaller of x and y, elementwise; a tie splits the gradient evenly, a nan passes it to "
       "both", aliases=("minimum",),
       kink=lambda x, y: x == y, kink_text="min is not differentiable where its arguments are "
                                           "equal; the engine splits the gradient evenly, as "
                                           "PyTorch does",
       sample=((-2, 0), (0.2, 2))),
    Op("clip", 3, np.clip,
       (Partial(_clip_inside, "[{1} <= {0} <= {2}]"), Partial(_clip_low, "[{0} < {1}]"),
        Partial(_clip_high, "[{0} > {2}]")),
       "x limited to [lo, hi]; at a bound the gradient goes to x, as in PyTorch 2.13's clamp",
       domain=_clip_domain, domain_text="{1} <= {2}",
       parameter_names=("x", "lo", "hi"),
       kink=lambda x, low, high: (x == low) | (x == high),
       kink_text="clip is not differentiable where x is at a bound; the engine passes the "
                 "gradient to x there, as PyTorch's clamp did up to 2.13",
       sample=((-3, 3), (-2, -1), (1, 2))),
    Op("sum", 1, lambda x, axis=None: np.sum(x, axis=axis), (Partial(_placed, "1"),),
       "sum of all elements, or along one axis", linear_map=REDUCE, statics=(_AXIS,),
       complex_step=True, sample_shapes=((3, 4),), sample_statics=(("axis", 1),)),
    Op("mean", 1, _mean, (Partial(_mean_share, "1/n"),),
       "mean of all elements, or along one axis", linear_map=REDUCE, statics=(_AXIS,),
       complex_step=True, sample_shapes=((3, 4),), sample_statics=(("axis", 0),)),
    Op("amax", 1, _extreme(np.max, "largest"),
       (Partial(_extreme_share, "[{0} = max] / ties"),),
       "largest element, or largest along one axis; ties share the gradient evenly "
       "(PyTorch's amax)", linear_map=REDUCE, statics=(_AXIS,),
       kink=_ties, kink_text="the largest element is reached more than once: the engine splits "
                             "the gradient evenly between the ties, as PyTorch's amax does",
       sample_shapes=((3, 4),), sample_statics=(("axis", -1),)),
    Op("amin", 1, _extreme(np.min, "smallest"),
       (Partial(_extreme_share, "[{0} = min] / ties"),),
       "smallest element, or smallest along one axis; ties share the gradient evenly "
       "(PyTorch's amin)", linear_map=REDUCE, statics=(_AXIS,),
       kink=_lower_ties, kink_text="the smallest element is reached more than once: the engine "
                                   "splits the gradient evenly between the ties, as PyTorch's "
                                   "amin does",
       sample_shapes=((3, 4),), sample_statics=(("axis", 0),)),
    Op("logsumexp", 1, _logsumexp,
       (Partial(lambda x, out, axis=None: np.exp(x - _expanded(out, axis)), "softmax({0})"),),
       "log Σ exp(x), of all elements or along one axis, stable for large |x|",
       linear_map=REDUCE, statics=(_AXIS,), complex_step=True, sample_shapes=((3, 4),),
       sample_statics=(("axis", 1),)),
    Op("softmax", 1, _softmax, (Partial(lambda x, out, axis=-1: out, "diag(s) - s sᵀ, "
                                                                      "s = softmax({0})"),),
       "exp(x) / Σ exp(x) along an axis (the last by default), stable for large |x|",
       linear_map=SOFTMAX, statics=(Static("axis", AXIS, -1),), complex_step=True,
       sample_shapes=((3, 4),), sample_statics=(("axis", 0),)),
    Op("log_softmax", 1, _log_softmax,
       (Partial(lambda x, out, axis=-1: np.exp(out), "I - 1 sᵀ, s = softmax({0})"),),
       "x - logsumexp(x) along an axis (the last by default), stable for large |x|",
       linear_map=LOG_SOFTMAX, statics=(Static("axis", AXIS, -1),), complex_step=True,
       sample_shapes=((3, 4),), sample_statics=(("axis", 0),)),
    Op("cross_entropy", 2, _cross_entropy,
       (Partial(_cross_entropy_logits, "(softmax({0}) - {1})/N"),
        Partial(_cross_entropy_target, "-log_softmax({0})/N")),
       "PyTorch's cross_entropy, mean over the batch: logits (N, C) or (C,); target class "
       "indices (N,) or () (no gradient), or probabilities shaped like the logits",
       linear_map=REDUCE, domain=_cross_entropy_domain,
       domain_text="{1} holds class indices 0 <= {1} < C, or probabilities shaped like {0}",
       parameter_names=("logits", "target"), complex_step=True,
       sample=((-2, 2), (0, 1)), sample_shapes=((4, 3), (4, 3))),
    Op("mse", 2, _mse,
       (Partial(lambda x, y, out: 2.0 * (x - y) / np.size(x), "2({0} - {1})/n"),
        Partial(lambda x, y, out: -2.0 * (x - y) / np.size(x), "-2({0} - {1})/n")),
       "mean squared error mean((x - y)^2) of two arrays of one shape", linear_map=REDUCE,
       complex_step=True, sample=((-2, 2), (-2, 2)), sample_shapes=((2, 3), (2, 3))),
    Op("transpose", 1, swap_last_axes, (Partial(_placed, "1 (transposed)"),),
       "the last two axes exchanged: a matrix transposed, each matrix of a batch transposed; "
       "a vector or a number unchanged", linear_map=TRANSPOSE, complex_step=True,
       sample_shapes=((2, 3, 4),)),
    Op("reshape", 1, lambda x, shape: np.reshape(x, shape), (Partial(_placed, "1 (reshaped)"),),
       "the elements of x in a new shape (row-major, one size may be -1)",
       linear_map=RESHAPE, statics=(Static("shape", SHAPE, required=True),), complex_step=True,
       sample_shapes=((2, 3),), sample_statics=(("shape", (3, -1)),)),
    Op(INDEX_OP, 1, _index, (Partial(_placed, "1 (selected)"),),
       "elements picked by integers and slices, as numpy's basic indexing: x[0], W[:, 1], "
       "x[1:3], x[::-1]; the gradient is scattered back", callable=False, linear_map=INDEX,
       statics=(Static(INDEX_KEY, INDEX_KEY, required=True),), complex_step=True,
       sample_shapes=((3, 4),), sample_statics=((INDEX_KEY, (slice(0, 2), -1)),)),
    Op("concat", 1, lambda *arrays, axis, bounds: np.concatenate(arrays, axis=axis),
       (Partial(_placed, "1 (placed)"),),
       "arrays joined along an existing axis (the first by default)", linear_map=CONCAT,
       statics=(Static("axis", AXIS, 0, keyword_only=True),), variadic=True,
       derive=_concat_bounds, complex_step=True, sample_shapes=((2, 3), (1, 3)),
       sample_statics=(("axis", -2),)),
    Op("stack", 1, lambda *arrays, axis, count: np.stack(arrays, axis=axis),
       (Partial(_placed, "1 (placed)"),),
       "values of one shape stacked along a new axis (the first by default); [a, b] with "
       "names in it is stack(a, b)", linear_map=STACK,
       statics=(Static("axis", AXIS, 0, keyword_only=True),), variadic=True,
       derive=_stack_count, complex_step=True, sample_shapes=((2, 3), (2, 3), (2, 3)),
       sample_statics=(("axis", 1),)),
    Op("where", 3, lambda condition, x, y: np.where(_where_condition(condition), x, y),
       (Partial(_zero, "0"),
        Partial(lambda condition, x, y, out: _where_condition(condition) * 1.0, "{0}"),
        Partial(lambda condition, x, y, out: 1.0 - _where_condition(condition), "1 - {0}")),
       "x where cond is 1, y where it is 0 (cond holds 0s and 1s: step(z), a mask)",
       domain=lambda condition, x, y: (condition == 0) | (condition == 1),
       domain_text="{0} is 0 or 1", parameter_names=("cond", "x", "y"), complex_step=True,
       sample=((0, 2, "whole"), (-2, 2), (-2, 2))),
    Op("sign", 1, np.sign, (Partial(_zero, "0"),),
       "-1, 0 or 1 by the sign of x; sign'(x) = 0, as in PyTorch",
       kink=lambda x: x == 0, kink_text="sign jumps at 0: the engine uses PyTorch's convention "
                                        "sign'(0) = 0"),
    Op("step", 1, lambda x: (x > 0) * 1.0, (Partial(_zero, "0"),),
       "1 where x > 0, else 0 (so relu'(x) = step(x)); step'(x) = 0",
       kink=lambda x: x == 0, kink_text="step jumps at 0: the engine takes step'(0) = 0"),
    Op("detach", 1, np.copy, (Partial(lambda x, out: 0.0, "0 (cut)"),),
       "the value of x with no gradient through it (PyTorch's x.detach())",
       stops_gradient=True, complex_step=True),
)

OPS: dict[str, Op] = {op.name: op for op in TABLE}
FUNCTIONS: dict[str, Op] = {name: op for op in TABLE if op.callable
                            for name in (op.name,) + op.aliases}
# Called with one argument, or with an axis, these names reduce: `max(x)`, `min(x, axis=0)`.
# With two they compare elementwise (also written `maximum`, `minimum`), where numpy and PyTorch
# read `max(W, 1)` as a reduction along axis 1: the builder refuses a whole number written there.
REDUCING: dict[str, Op] = {"max": OPS["amax"], "min": OPS["amin"]}
BINARY_OPERATORS: dict[str, Op] = {op.operator: op for op in TABLE
                                   if op.operator and op.arity == 2}
PREFIX_OPERATORS: dict[str, Op] = {"-": OPS["neg"]}

# Called like functions but handled by the builder, since they change what is recorded.
NO_GRAD = "no_grad"
NO_GRAD_DESCRIPTION = ("evaluate x without recording it: the result enters the graph as one "
                       "constant (PyTorch's torch.no_grad())")

CONSTANTS: dict[str, float] = {"pi": float(np.pi), "e": float(np.e)}
CALLABLE: frozenset[str] = frozenset(FUNCTIONS) | {NO_GRAD}  # every name that can be called
