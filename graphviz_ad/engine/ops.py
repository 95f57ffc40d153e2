"""The op table: every primitive's value, partial derivatives, domain and description, in one place.

Adding a function is one `Op(...)` entry in `TABLE`. The parser knows no function names; the
builder, both differentiation modes, the renderer, `gad ops` and the docs all read this table.

Each partial is one rule, `expression(e, *arguments, out)`: the local derivative d out / d
argument at the point, written with the ops of this table through an emitter `e`
(engine/emit.py), allowed to reuse the output (`exp`, `tanh`). Read on numbers it is the numeric
rule the sweeps call, on texts the formula on edges, in `gad ops` and the docs, on graph nodes
the derivative's own graph (`grad(f, x)`, engine/differentiate.py). Domains are templates over
`{0}`, `{1}`, ... (the arguments' labels), for error messages. How a local derivative acts
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

from graphviz_ad.engine.emit import Duals, Formula, Numbers, Written, reduced_count
from graphviz_ad.engine.linear import (BROADCAST, CONCAT, ELEMENTWISE, INDEX, LOG_SOFTMAX,
                                       MATMUL, REDUCE, RESHAPE, SCATTER, SOFTMAX, STACK, SUM_TO,
                                       TRANSPOSE, LinearMap, broadcast, scattered, swap_last_axes,
                                       unbroadcast)


# The rules' numeric emitter: its ops are bound once the table below is complete.
NUMBERS = Numbers()
_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


@dataclass(frozen=True)
class Partial:
    """d out / d one argument at the point, written once: `expression(e, *arguments, out,
    **statics)` with an emitter's ops (engine/emit.py). Read on numbers it is the numeric rule,
    on texts the formula, on graph nodes the derivative's own graph. A rule may return a plain
    number for a constant derivative (add's 1). `tuned` is a numpy form of the same derivative,
    kept where it is more accurate than the expression (tanh' from x, not 1 - tanh(x)^2) or
    follows PyTorch where the expression is nan (a tie, a nan operand); tests/test_rules.py
    checks that the two agree."""

    expression: Callable[..., Any]
    tuned: Callable[..., Any] | None = None
    rule: Callable[..., Any] = field(init=False)  # the numeric form the sweeps call

    def __post_init__(self):
        object.__setattr__(self, "rule", self.tuned or partial(self.expression, NUMBERS))

    def bound(self, settings: dict[str, Any]) -> Partial:
        return Partial(partial(self.expression, **settings),
                       self.tuned and partial(self.tuned, **settings))


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
    templates: dict[int, str] = field(init=False, repr=False, compare=False)  # formulas, by slot

    def __post_init__(self):
        if self.arity < 1 or len(self.partials) != (1 if self.variadic else self.arity):
            raise ValueError(f"op {self.name}: one partial per argument")
        object.__setattr__(self, "label", _label(self))
        object.__setattr__(self, "rules", tuple(partial.rule for partial in self.partials))
        object.__setattr__(self, "elementwise", self.linear_map is ELEMENTWISE)
        object.__setattr__(self, "templates", {})

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
        if not self.callable and self.operator is None:
            return f"{self.name} (made by grad)"
        if not self.statics:
            return self.written(self.parameters)
        statics = [f"{static.name}=k" if static.keyword_only else static.name
                   for static in self.statics]
        return f"{self.name}({', '.join(self.parameters + tuple(statics))})"

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str:
        """The local derivative d out / d argument `slot`, in terms of the arguments' texts,
        printed from its rule."""
        slot = 0 if self.variadic else slot
        template = self.templates.get(slot)
        if template is None:
            template = self.templates[slot] = _formula_template(self, slot)
        return template.format(*arguments)

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
        partials = tuple(entry.bound(chosen) for entry in self.partials)
        bound = replace(self, arity=arity, value=partial(self.value, **chosen),
                        partials=partials * arity if self.variadic else partials,
                        linear_map=self.linear_map.bound(chosen),
                        kink=partial(self.kink, **chosen) if self.kink else None,
                        domain=partial(self.domain, **chosen) if self.domain else None,
                        variadic=False, derive=None, settings=tuple(chosen.items()))
        return bound


INDEX_OP = "index"
SCATTER_OP = "scatter"


def _formula_template(op: Op, slot: int) -> str:
    """The formula an edge of this kind shows (`yᵀ` for @), over the arguments' texts."""
    return op.linear_map.formula.format(rule_text(op, slot))


def rule_text(op: Op, slot: int) -> str:
    """The rule of `slot` read on texts, an expression of the language over the arguments'
    texts `{0}`, `{1}` (or words, where part of it is piecewise constant: `[x = max]/ties`)."""
    operands = tuple(Written(f"{{{index}}}") for index in range(op.arity))
    settings = dict(op.settings)
    statics = {static.name: settings[static.name] for static in op.statics
               if static.name in settings}
    out = getattr(FORMULA, op.name)(*operands, **statics)
    return FORMULA.const(op.partials[slot].expression(FORMULA, *operands, out, **settings))


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
    (`sum axis=1`); an index shows itself (`[:, 1]`). A one-argument operator shows its name
    (`neg`): its sign is a two-argument one's too, and `-` would read as subtraction."""
    if op.name == INDEX_OP:
        return f"[{key_text(dict(op.settings)[INDEX_KEY])}]" if op.settings else "[·]"
    shown = op.shown_settings()
    operator = op.operator if op.arity != 1 else None
    return " ".join((operator or op.name,) + shown)


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


# Constant derivatives as plain numbers: add's rule is the backward sweep's hot path. No
# **kwargs on these: an elementwise op's rule is called with its operands only.
def _one(e, *_):
    return 1.0


def _minus_one(e, *_):
    return -1.0


def _zero(e, *_):
    return 0.0


def _placed(e, *_, **__):
    """The local derivative of an op that only moves or adds elements: 1, whatever its static
    parameters (an axis, a shape, an index)."""
    return 1.0


def _half_sign(e, x, y):
    """max's share for x: all where x > y, none where x < y, half on a tie."""
    return e.div(e.add(1.0, e.sign(e.sub(x, y))), 2.0)


def _sum_to(x, shape):
    if np.broadcast_shapes(np.shape(x), shape) != np.shape(x):
        raise ValueError(f"an array of shape {np.shape(x)} cannot be summed to shape "
                         f"{shape}: it does not broadcast from it")
    return unbroadcast(x, shape)[()]


def _mean(x, axis=None):
    # numpy's mean without its warning for an empty x, whose mean is 0/0 = nan (PyTorch's).
    return np.sum(x, axis=axis) / reduced_count(x, axis)


def _extreme(reduce, which):
    """amax or amin: an empty array has no largest element (PyTorch refuses it too)."""
    def value(x, axis=None):
        if reduced_count(x, axis) == 0:
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


def _softmax(x, axis=-1):
    # An inf in a row makes the row nan (inf - inf), as PyTorch's softmax does.
    exponentials = np.exp(x - _largest(x, axis))
    return exponentials / np.sum(exponentials, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - _largest(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _extreme_share_numbers(x, out, axis=None):
    """The share of a max (or min) reduction's gradient each element gets: all of it at the
    extreme, split evenly between ties (PyTorch's amax and amin)."""
    hits = (x == Numbers.expand(out, axis)) * 1.0
    return hits / np.sum(hits, axis=axis, keepdims=True)


def _extreme_share(which):
    """The share as a rule: piecewise constant, so its own derivative is 0."""
    def rule(e, x, out, axis=None):
        return e.fixed(partial(_extreme_share_numbers, axis=axis), f"[{{0}} = {which}]/ties",
                       x, out)
    return rule


def _ties(x, axis=None):
    """Where a max reduction has no derivative: the largest value is reached more than once."""
    largest = Numbers.expand(np.max(x, axis=axis), axis)
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


def _cross_entropy(logits, target, **_):
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


def _batch_size(logits):
    return float(_batch(logits))


def _cross_entropy_kind(shapes, **_):
    """Whether the target is class indices (one axis fewer than the logits), fixed per node:
    the two kinds have different derivatives, so different formulas."""
    return {"classes": len(shapes[1]) == len(shapes[0]) - 1}


def _cross_entropy_logits(e, logits, target, out, classes=False):
    size = e.fixed(_batch_size, "N", logits)
    if classes:
        # A row sums to 1, so the general form's sum(target) drops out; an index that is no
        # class makes its row nan either way.
        chosen = e.fixed(_class_onehot, "onehot({1})", logits, target)
        return e.div(e.sub(e.softmax(logits), chosen), size)
    total = e.expand(e.sum(target, axis=-1), -1)
    return e.div(e.sub(e.mul(e.softmax(logits), total), target), size)


def _cross_entropy_target(e, logits, target, out, classes=False):
    if classes:
        return 0.0  # class indices are labels, not quantities: no gradient (PyTorch)
    return e.div(e.neg(e.log_softmax(logits)), e.fixed(_batch_size, "N", logits))


def _cross_entropy_domain(logits, target, **_):
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


def _chosen(e, condition):
    """where's condition as its rules read it: 0 or 1, a constant (d/dcond is 0 by definition,
    so a derivative of a derivative does not pass through it)."""
    return e.fixed(_where_mask, "{0}", condition)


def _where_mask(condition):
    return _where_condition(condition) * 1.0


def _where_condition(condition):
    # 0 or 1 by its domain; compared with 1/2 so a finite-difference nudge never flips it.
    return np.real(condition) > 0.5


_AXIS = Static("axis", AXIS)

TABLE: tuple[Op, ...] = (
    Op("add", 2, operator.add, (Partial(_one), Partial(_one)),
       "sum of x and y", operator="+", callable=False, complex_step=True,
       sample=((-2, 2), (-2, 2))),
    Op("sub", 2, operator.sub, (Partial(_one), Partial(_minus_one)),
       "difference x - y", operator="-", callable=False, complex_step=True,
       sample=((-2, 2), (-2, 2))),
    Op("mul", 2, operator.mul,
       (Partial(lambda e, x, y, out: y), Partial(lambda e, x, y, out: x)),
       "product of x and y", operator="*", callable=False, complex_step=True,
       sample=((-2, 2), (-2, 2))),
    Op("div", 2, operator.truediv,
       (Partial(lambda e, x, y, out: e.div(1.0, y)),
        Partial(lambda e, x, y, out: e.div(e.neg(x), e.mul(y, y)),
                tuned=lambda x, y, out: -out / y)),
       "quotient x / y", operator="/", callable=False,
       domain=lambda x, y: y != 0, domain_text="{1} != 0", complex_step=True,
       sample=((-2, 2), (0.5, 2))),
    Op("pow", 2, operator.pow,
       (Partial(lambda e, x, y, out: e.mul(y, e.pow(x, e.sub(y, 1.0))),
                tuned=_pow_base_partial),
        Partial(lambda e, x, y, out: e.mul(out, e.log(x)), tuned=_pow_exponent_partial)),
       "x to the power y", operator="^",
       domain=_pow_domain,
       domain_text="{0} > 0, or a whole-number {1} (with {0} != 0 when {1} < 0)",
       domain_given=_pow_domain_given, complex_step=True,
       sample=((0.3, 2), (-2, 2))),
    Op("matmul", 2, operator.matmul,
       (Partial(lambda e, x, y, out: y), Partial(lambda e, x, y, out: x)),
       "matrix product of x and y (matrix-vector, matrix-matrix, vector-vector); leading "
       "axes are a batch, broadcast as numpy's matmul does", operator="@",
       callable=False, linear_map=MATMUL, complex_step=True,
       sample=((-2, 2), (-2, 2)), sample_shapes=((2, 2, 3), (3, 4))),
    Op("neg", 1, operator.neg, (Partial(_minus_one),),
       "negation -x", operator="-", callable=False, complex_step=True),
    Op("sin", 1, np.sin, (Partial(lambda e, x, out: e.cos(x)),), "sine", complex_step=True),
    Op("cos", 1, np.cos, (Partial(lambda e, x, out: e.neg(e.sin(x))),), "cosine",
       complex_step=True),
    Op("tan", 1, np.tan, (Partial(lambda e, x, out: e.add(1.0, e.mul(out, out))),),
       "tangent", complex_step=True, sample=((-1.2, 1.2),)),
    Op("sec", 1, lambda x: 1.0 / np.cos(x), (Partial(lambda e, x, out: e.mul(out, e.tan(x))),),
       "secant 1/cos(x)", domain=lambda x: np.cos(x) != 0, domain_text="cos({0}) != 0",
       complex_step=True, sample=((-1.2, 1.2),)),
    Op("csc", 1, lambda x: 1.0 / np.sin(x),
       (Partial(lambda e, x, out: e.mul(e.neg(out), e.cot(x))),), "cosecant 1/sin(x)",
       domain=lambda x: np.sin(x) != 0, domain_text="sin({0}) != 0", complex_step=True,
       sample=((0.3, 2.8),)),
    Op("cot", 1, lambda x: 1.0 / np.tan(x),
       (Partial(lambda e, x, out: e.neg(e.add(1.0, e.mul(out, out)))),),
       "cotangent cos(x)/sin(x)", domain=lambda x: np.sin(x) != 0,
       domain_text="sin({0}) != 0", complex_step=True, sample=((0.3, 2.8),)),
    # (1 - x)(1 + x), not 1 - x*x, which cancels near |x| = 1 (a million ulp off there).
    Op("asin", 1, np.arcsin,
       (Partial(lambda e, x, out: e.div(1.0, e.sqrt(e.mul(e.sub(1.0, x), e.add(1.0, x))))),),
       "inverse sine", domain=lambda x: np.abs(x) <= 1, domain_text="-1 <= {0} <= 1",
       complex_step=True, sample=((-0.9, 0.9),)),
    Op("acos", 1, np.arccos,
       (Partial(lambda e, x, out: e.div(-1.0, e.sqrt(e.mul(e.sub(1.0, x), e.add(1.0, x))))),),
       "inverse cosine", domain=lambda x: np.abs(x) <= 1, domain_text="-1 <= {0} <= 1",
       complex_step=True, sample=((-0.9, 0.9),)),
    Op("atan", 1, np.arctan, (Partial(lambda e, x, out: e.div(1.0, e.add(1.0, e.mul(x, x)))),),
       "inverse tangent", complex_step=True),
    Op("sinh", 1, np.sinh, (Partial(lambda e, x, out: e.cosh(x)),), "hyperbolic sine",
       complex_step=True),
    Op("cosh", 1, np.cosh, (Partial(lambda e, x, out: e.sinh(x)),), "hyperbolic cosine",
       complex_step=True),
    Op("tanh", 1, np.tanh,
       (Partial(lambda e, x, out: e.sub(1.0, e.mul(out, out)), tuned=_tanh_slope),),
       "hyperbolic tangent", complex_step=True),
    Op("exp", 1, np.exp, (Partial(lambda e, x, out: out),), "e to the power x",
       complex_step=True),
    Op("log", 1, np.log, (Partial(lambda e, x, out: e.div(1.0, x)),), "natural logarithm",
       domain=lambda x: x > 0, domain_text="{0} > 0", aliases=("ln",), complex_step=True,
       sample=((0.2, 3),)),
    Op("log2", 1, np.log2,
       (Partial(lambda e, x, out: e.div(1.0, e.mul(x, e.const(_LN2, "log(2)")))),),
       "base-2 logarithm", domain=lambda x: x > 0, domain_text="{0} > 0", complex_step=True,
       sample=((0.2, 3),)),
    Op("log10", 1, np.log10,
       (Partial(lambda e, x, out: e.div(1.0, e.mul(x, e.const(_LN10, "log(10)")))),),
       "base-10 logarithm", domain=lambda x: x > 0, domain_text="{0} > 0", complex_step=True,
       sample=((0.2, 3),)),
    Op("sqrt", 1, np.sqrt, (Partial(lambda e, x, out: e.div(1.0, e.mul(2.0, out))),),
       "square root", domain=lambda x: x >= 0, domain_text="{0} >= 0", complex_step=True,
       sample=((0.2, 3),)),
    Op("abs", 1, np.abs, (Partial(lambda e, x, out: e.sign(x)),),
       "absolute value; abs'(0) = 0 as in PyTorch", kink=lambda x: x == 0,
       kink_text="abs is not differentiable at 0; the engine uses PyTorch's convention "
                 "abs'(0) = 0"),
    Op("sigmoid", 1, _sigmoid,
       (Partial(lambda e, x, out: e.mul(out, e.sub(1.0, out)),
                tuned=lambda x, out: _sigmoid_slope(x)),),
       "logistic function 1/(1 + e^-x), stable for large |x|"),
    Op("relu", 1, lambda x: np.maximum(x, 0.0),
       (Partial(lambda e, x, out: e.step(x), tuned=lambda x, out: 1.0 - (x <= 0)),),
       "maximum(x, 0); relu'(0) = 0 as in PyTorch", kink=lambda x: x == 0,
       kink_text="relu is not differentiable at 0; the engine uses PyTorch's convention "
                 "relu'(0) = 0"),
    Op("softplus", 1, lambda x: np.logaddexp(0.0, x), (Partial(lambda e, x, out: e.sigmoid(x)),),
       "log(1 + e^x), stable for large |x|"),
    Op("max", 2, np.maximum,
       (Partial(lambda e, x, y, out: _half_sign(e, x, y),
                tuned=lambda x, y, out: _unless_below(x, y)),
        Partial(lambda e, x, y, out: _half_sign(e, y, x),
                tuned=lambda x, y, out: _unless_below(y, x))),
       "larger of x and y, elementwise; a tie splits the gradient evenly, a nan passes it to "
       "both", aliases=("maximum",),
       kink=lambda x, y: x == y, kink_text="max is not differentiable where its arguments are "
                                           "equal; the engine splits the gradient evenly, as "
                                           "PyTorch does",
       sample=((-2, 0), (0.2, 2))),
    Op("min", 2, np.minimum,
       (Partial(lambda e, x, y, out: _half_sign(e, y, x),
                tuned=lambda x, y, out: _unless_below(y, x)),
        Partial(lambda e, x, y, out: _half_sign(e, x, y),
                tuned=lambda x, y, out: _unless_below(x, y))),
       "smaller of x and y, elementwise; a tie splits the gradient evenly, a nan passes it to "
       "both", aliases=("minimum",),
       kink=lambda x, y: x == y, kink_text="min is not differentiable where its arguments are "
                                           "equal; the engine splits the gradient evenly, as "
                                           "PyTorch does",
       sample=((-2, 0), (0.2, 2))),
    Op("clip", 3, np.clip,
       (Partial(lambda e, x, low, high, out: e.mul(e.sub(1.0, e.step(e.sub(low, x))),
                                                   e.sub(1.0, e.step(e.sub(x, high)))),
                tuned=_clip_inside),
        Partial(lambda e, x, low, high, out: e.step(e.sub(low, x)), tuned=_clip_low),
        Partial(lambda e, x, low, high, out: e.step(e.sub(x, high)), tuned=_clip_high)),
       "x limited to [lo, hi]; at a bound the gradient goes to x, as in PyTorch 2.13's clamp",
       domain=_clip_domain, domain_text="{1} <= {2}",
       parameter_names=("x", "lo", "hi"),
       kink=lambda x, low, high: (x == low) | (x == high),
       kink_text="clip is not differentiable where x is at a bound; the engine passes the "
                 "gradient to x there, as PyTorch's clamp did up to 2.13",
       sample=((-3, 3), (-2, -1), (1, 2))),
    Op("sum", 1, lambda x, axis=None: np.sum(x, axis=axis), (Partial(_placed),),
       "sum of all elements, or along one axis", linear_map=REDUCE, statics=(_AXIS,),
       complex_step=True, sample_shapes=((3, 4),), sample_statics=(("axis", 1),)),
    Op("mean", 1, _mean, (Partial(lambda e, x, out, axis=None: e.div(1.0, e.count(x, axis))),),
       "mean of all elements, or along one axis", linear_map=REDUCE, statics=(_AXIS,),
       complex_step=True, sample_shapes=((3, 4),), sample_statics=(("axis", 0),)),
    Op("amax", 1, _extreme(np.max, "largest"), (Partial(_extreme_share("max")),),
       "largest element, or largest along one axis; ties share the gradient evenly "
       "(PyTorch's amax)", linear_map=REDUCE, statics=(_AXIS,),
       kink=_ties, kink_text="the largest element is reached more than once: the engine splits "
                             "the gradient evenly between the ties, as PyTorch's amax does",
       sample_shapes=((3, 4),), sample_statics=(("axis", -1),)),
    Op("amin", 1, _extreme(np.min, "smallest"), (Partial(_extreme_share("min")),),
       "smallest element, or smallest along one axis; ties share the gradient evenly "
       "(PyTorch's amin)", linear_map=REDUCE, statics=(_AXIS,),
       kink=_lower_ties, kink_text="the smallest element is reached more than once: the engine "
                                   "splits the gradient evenly between the ties, as PyTorch's "
                                   "amin does",
       sample_shapes=((3, 4),), sample_statics=(("axis", 0),)),
    Op("logsumexp", 1, _logsumexp,
       (Partial(lambda e, x, out, axis=None: e.exp(e.sub(x, e.expand(out, axis)))),),
       "log Σ exp(x), of all elements or along one axis, stable for large |x|",
       linear_map=REDUCE, statics=(_AXIS,), complex_step=True, sample_shapes=((3, 4),),
       sample_statics=(("axis", 1),)),
    Op("softmax", 1, _softmax, (Partial(lambda e, x, out, axis=-1: out),),
       "exp(x) / Σ exp(x) along an axis (the last by default), stable for large |x|",
       linear_map=SOFTMAX, statics=(Static("axis", AXIS, -1),), complex_step=True,
       sample_shapes=((3, 4),), sample_statics=(("axis", 0),)),
    Op("log_softmax", 1, _log_softmax,
       (Partial(lambda e, x, out, axis=-1: e.softmax(x, axis=axis),
                tuned=lambda x, out, axis=-1: np.exp(out)),),
       "x - logsumexp(x) along an axis (the last by default), stable for large |x|",
       linear_map=LOG_SOFTMAX, statics=(Static("axis", AXIS, -1),), complex_step=True,
       sample_shapes=((3, 4),), sample_statics=(("axis", 0),)),
    Op("cross_entropy", 2, _cross_entropy,
       (Partial(_cross_entropy_logits), Partial(_cross_entropy_target)),
       "PyTorch's cross_entropy, mean over the batch: logits (N, C) or (C,); target class "
       "indices (N,) or () (no gradient), or probabilities shaped like the logits",
       linear_map=REDUCE, domain=_cross_entropy_domain, derive=_cross_entropy_kind,
       domain_text="{1} holds class indices 0 <= {1} < C, or probabilities shaped like {0}",
       parameter_names=("logits", "target"), complex_step=True,
       sample=((-2, 2), (0, 1)), sample_shapes=((4, 3), (4, 3))),
    Op("mse", 2, _mse,
       (Partial(lambda e, x, y, out: e.div(e.mul(2.0, e.sub(x, y)), e.count(x))),
        Partial(lambda e, x, y, out: e.div(e.mul(-2.0, e.sub(x, y)), e.count(x)))),
       "mean squared error mean((x - y)^2) of two arrays of one shape", linear_map=REDUCE,
       complex_step=True, sample=((-2, 2), (-2, 2)), sample_shapes=((2, 3), (2, 3))),
    Op("transpose", 1, swap_last_axes, (Partial(_placed),),
       "the last two axes exchanged: a matrix transposed, each matrix of a batch transposed; "
       "a vector or a number unchanged", linear_map=TRANSPOSE, complex_step=True,
       sample_shapes=((2, 3, 4),)),
    Op("reshape", 1, lambda x, shape: np.reshape(x, shape), (Partial(_placed),),
       "the elements of x in a new shape (row-major, one size may be -1)",
       linear_map=RESHAPE, statics=(Static("shape", SHAPE, required=True),), complex_step=True,
       sample_shapes=((2, 3),), sample_statics=(("shape", (3, -1)),)),
    Op("broadcast_to", 1, broadcast, (Partial(_placed),),
       "x repeated along new leading axes and along its axes of length 1, to a shape (numpy's "
       "broadcasting, written out)", linear_map=BROADCAST,
       statics=(Static("shape", SHAPE, required=True),), complex_step=True,
       sample_shapes=((3, 1),), sample_statics=(("shape", (2, 3, 4)),)),
    Op("sum_to", 1, _sum_to, (Partial(_placed),),
       "x summed back to a shape it broadcasts from (what broadcasting does, undone: the "
       "gradient of broadcast_to)", linear_map=SUM_TO,
       statics=(Static("shape", SHAPE, required=True),), complex_step=True,
       sample_shapes=((2, 3, 4),), sample_statics=(("shape", (3, 1)),)),
    Op(INDEX_OP, 1, _index, (Partial(_placed),),
       "elements picked by integers and slices, as numpy's basic indexing: x[0], W[:, 1], "
       "x[1:3], x[::-1]; the gradient is scattered back", callable=False, linear_map=INDEX,
       statics=(Static(INDEX_KEY, INDEX_KEY, required=True),), complex_step=True,
       sample_shapes=((3, 4),), sample_statics=((INDEX_KEY, (slice(0, 2), -1)),)),
    Op(SCATTER_OP, 1, scattered, (Partial(_placed),),
       "x placed at an index of an array of zeros (the gradient of indexing; made by "
       "grad(...), not written)", callable=False, linear_map=SCATTER,
       statics=(Static(INDEX_KEY, INDEX_KEY, required=True),
                Static("shape", SHAPE, required=True)), complex_step=True,
       sample_shapes=((2,),), sample_statics=((INDEX_KEY, (slice(0, 2), -1)),
                                               ("shape", (3, 4)))),
    Op("concat", 1, lambda *arrays, axis, bounds: np.concatenate(arrays, axis=axis),
       (Partial(_placed),),
       "arrays joined along an existing axis (the first by default)", linear_map=CONCAT,
       statics=(Static("axis", AXIS, 0, keyword_only=True),), variadic=True,
       derive=_concat_bounds, complex_step=True, sample_shapes=((2, 3), (1, 3)),
       sample_statics=(("axis", -2),)),
    Op("stack", 1, lambda *arrays, axis, count: np.stack(arrays, axis=axis),
       (Partial(_placed),),
       "values of one shape stacked along a new axis (the first by default); [a, b] with "
       "names in it is stack(a, b)", linear_map=STACK,
       statics=(Static("axis", AXIS, 0, keyword_only=True),), variadic=True,
       derive=_stack_count, complex_step=True, sample_shapes=((2, 3), (2, 3), (2, 3)),
       sample_statics=(("axis", 1),)),
    Op("where", 3, lambda condition, x, y: np.where(_where_condition(condition), x, y),
       (Partial(_zero),
        Partial(lambda e, condition, x, y, out: _chosen(e, condition)),
        Partial(lambda e, condition, x, y, out: e.sub(1.0, _chosen(e, condition)))),
       "x where cond is 1, y where it is 0 (cond holds 0s and 1s: step(z), a mask)",
       domain=lambda condition, x, y: (condition == 0) | (condition == 1),
       domain_text="{0} is 0 or 1", parameter_names=("cond", "x", "y"), complex_step=True,
       sample=((0, 2, "whole"), (-2, 2), (-2, 2))),
    Op("sign", 1, np.sign, (Partial(_zero),),
       "-1, 0 or 1 by the sign of x; sign'(x) = 0, as in PyTorch",
       kink=lambda x: x == 0, kink_text="sign jumps at 0: the engine uses PyTorch's convention "
                                        "sign'(0) = 0"),
    Op("step", 1, lambda x: (x > 0) * 1.0, (Partial(_zero),),
       "1 where x > 0, else 0 (so relu'(x) = step(x)); step'(x) = 0",
       kink=lambda x: x == 0, kink_text="step jumps at 0: the engine takes step'(0) = 0"),
    Op("detach", 1, np.copy, (Partial(lambda e, x, out: e.const(0.0, "0 (cut)")),),
       "the value of x with no gradient through it (PyTorch's x.detach())",
       stops_gradient=True, complex_step=True),
)

OPS: dict[str, Op] = {op.name: op for op in TABLE}
NUMBERS.learn(TABLE)
FORMULA = Formula(OPS)
DUALS = Duals()
DUALS.learn(TABLE)
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
GRAD = "grad"
GRAD_DESCRIPTION = ("the gradient df/dx of a number f with respect to a name x, shaped like x, "
                    "built into the graph by the backward sweep's rules, so it can be drawn and "
                    "differentiated again: grad(grad(f, x), x) is the second derivative")

CALLABLE: frozenset[str] = frozenset(FUNCTIONS) | {NO_GRAD, GRAD}  # every name that can be called
