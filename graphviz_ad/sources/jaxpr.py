"""A JAX computation read from its jaxpr as an annotated graph, with JAX's values.

`read` evaluates a `ClosedJaxpr` equation by equation with JAX, keeping each value: every
equation that depends on an input becomes a node (one per float output), in the group of the
named scope, `jit`-ed function or loop it ran in; equations on constants alone
are evaluated and folded into the constants they make. Nested jaxprs are read in place: a
`jit`-ed function's equations in a group of its name; a `scan` of T steps unrolled, step by step,
into a group holding one group per step (folded, the scan is one box carrying its total
derivative); a `while` loop likewise, its condition evaluated at each turn; a `cond`, the branch
taken. `stop_gradient` is a cut, as `detach` is. A `custom_jvp` or `custom_vjp` function is one
node pulled back through its own rule (relu is ours).

Local derivatives: an equation that is one of our ops (jax_ops.py) gets the table's rules on
JAX's values; any other is a `ForeignOp` whose edges carry Jᵀ·1 and whose gradient is pulled
back through JAX's VJP of that one equation. Our backward sweep then gives every adjoint
(`sweep`), and one `jax.grad` of the whole function checks it at the inputs (`check_against_jax`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from graphviz_ad import collector, display
from graphviz_ad.engine.annotated import (BACKWARD_GROUP, CONSTANT, DATA, INPUT, OPERATION,
                                          AnnotatedGraph, DeferredRow, ForeignOp, flows_in)
from graphviz_ad.engine.graph import NodeLists
from graphviz_ad.engine.grouping import with_their_uses
from graphviz_ad.engine.linear import known_by_action
from graphviz_ad.engine.ops import OPS, Op
from graphviz_ad.errors import UsageError
from graphviz_ad.sources.imported import agreement_tolerance, too_many_nodes
from graphviz_ad.sources.jax_compat import (JIT_NAMES, ClosedJaxpr, Jaxpr, Literal, Var,
                                            function_name, jaxpr_as_fun, one_equation, scope_of,
                                            x64, x64_enabled)
from graphviz_ad.sources.jax_ops import CUSTOM, PASSED_ON, our_op

# Nodes of one import, refused as the one past it is made (a long scan unrolls into many).
MAX_JAX_NODES = 20_000

# Call primitives whose jaxpr is read in place, in a group of the function's name.
CALLS = JIT_NAMES + ("closed_call", "core_call", "remat", "checkpoint", "custom_lin")
CUSTOM_CALLS = ("custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr")


class Held:
    """A variable's value as the reading goes: JAX's array, its node (None for a constant
    nothing drew yet) and the name a constant is drawn with."""

    __slots__ = ("value", "node", "name")

    def __init__(self, value: Any, node: int | None = None, name: str = ""):
        self.value, self.node, self.name = value, node, name


def is_float(value: Any) -> bool:
    return jnp.issubdtype(jnp.result_type(value), jnp.floating)


def to_numpy(value: Any) -> Any:
    """JAX's array as numpy (a number as a numpy scalar, as our engine's are)."""
    return np.array(value)[()]


class Pull:
    """A foreign node's pullback through JAX's VJP of its equation, made when first needed."""

    def __init__(self, apply: Callable[..., Any], arguments: list[Any]):
        self.apply, self.arguments = apply, arguments
        self._vjp: Callable | None = None
        self.float64 = x64_enabled()  # a view may pull after the script's setting is gone

    def __call__(self, gradient: Any) -> list:
        with x64(self.float64):
            if self._vjp is None:
                self._vjp = jax.vjp(self.apply, *self.arguments)[1]
            return [to_numpy(part) for part in self._vjp(jnp.asarray(gradient))]


class JaxNodes(NodeLists):
    """The graph as it is read: the engine's node lists and each foreign node's pull."""

    def __init__(self):
        super().__init__()
        self.pulls: dict[int, Pull] = {}

    def add(self, kind: str, op: Any, args: tuple[int, ...], value: Any, label: str,
            group: tuple[str, ...] = (), detail: str = "") -> int:
        node = len(self.kinds)
        if node >= MAX_JAX_NODES:
            raise too_many_nodes("the jaxpr unrolls into", MAX_JAX_NODES, label, group,
                                 "stops there", "trace a smaller piece: fewer scan steps or "
                                                "loop turns, fewer layers")
        requires = kind == INPUT or (op is not None and not op.stops_gradient and any(
            self.requires_grad[argument] for argument in args))
        self.append(kind, op, args, value, label, requires)
        if group:
            self.groups[node] = group
        if detail:
            self.details[node] = detail
        return node


def _named_scope(parts: tuple[str, ...]) -> tuple[str, ...]:
    """A name stack as group names: a derivative's backward part (`transpose(jvp(f))`) is
    drawn as a backward group, as `grad(f, x)`'s sweep is; its forward part (`jvp(f)`) beside
    it as `forward · grad(f)`."""
    named = []
    for part in parts:
        if part.startswith("transpose(jvp(") and part.endswith("))"):
            part = f"{BACKWARD_GROUP}grad({part[14:-2] or 'f'})"
        elif part.startswith("jvp(") and part.endswith(")"):
            part = f"forward · grad({part[4:-1] or 'f'})"
        named.append(part)
    return tuple(named)


class Reader:
    """Reads jaxprs into `JaxNodes`, evaluating each equation with JAX."""

    def __init__(self):
        self.nodes = JaxNodes()

    def node_of(self, held: Held) -> int:
        """The node of a value, a constant node made the first time one is needed."""
        if held.node is None:
            value = to_numpy(held.value)
            label = held.name or (display.shortest(value) if np.ndim(value) == 0
                                  else display.shape(value))
            detail = f"{held.name} = {display.summary(value)}" if held.name \
                else display.summary(value)
            held.node = self.nodes.add(CONSTANT, None, (), value, label, detail=detail)
        return held.node

    def read(self, jaxpr: Jaxpr, consts: Sequence[Held], arguments: Sequence[Held],
             group: tuple[str, ...]) -> list[Held]:
        """The outputs of `jaxpr` on these values, its equations' nodes made in `group`.
        Nested jaxprs are read by calling this again: as deep as the program nests them."""
        env: dict[Any, Held] = dict(zip(jaxpr.constvars, consts))
        env.update(zip(jaxpr.invars, arguments))

        def held(item: Any) -> Held:
            return Held(item.val) if isinstance(item, Literal) else env[item]

        for equation in jaxpr.eqns:
            given = [held(item) for item in equation.invars]
            where = group + _named_scope(scope_of(equation))
            env.update(zip(equation.outvars, self.equation(equation, given, where)))
        return [held(item) for item in jaxpr.outvars]

    def equation(self, equation: Any, given: list[Held], group: tuple[str, ...]) -> list[Held]:
        name = equation.primitive.name
        params = equation.params
        if all(item.node is None for item in given):  # constants only: a constant
            return [Held(value) for value in _evaluate(equation, given)]
        if name in CALLS:
            inner = params.get("jaxpr", params.get("call_jaxpr"))
            label = params.get("name") or function_name(inner, name)
            return self._inline(inner, given, group + (str(label),))
        if name == "scan":
            return self._scan(equation, given, group)
        if name == "while":
            return self._while(equation, given, group)
        if name == "cond":
            index = int(given[0].value)
            branch = params["branches"][index]
            label = f"cond: {function_name(branch, f'branch {index}')}"
            return self._inline(branch, given[1:], group + (label,))
        if name in PASSED_ON and len(given) == len(equation.outvars) \
                and all(is_float(item.value) for item in given) \
                and all(jnp.issubdtype(var.aval.dtype, jnp.floating) for var in equation.outvars):
            return [Held(jnp.asarray(item.value, var.aval.dtype), item.node, item.name)
                    for item, var in zip(given, equation.outvars)]
        if name in ("max", "min") and len(given) == 2:  # max(-inf, x) is x (log_softmax's)
            bound = -np.inf if name == "max" else np.inf
            kept = [item for item in given if not (item.node is None and np.ndim(item.value) == 0
                                                   and float(item.value) == bound)]
            if len(kept) == 1:
                return [kept[0]]
        values = _evaluate(equation, given)
        shapes = [tuple(np.shape(item.value)) for item in given]
        custom = CUSTOM.get(_custom_name(equation)) if name in CUSTOM_CALLS else None
        mapped = (OPS[custom], ()) if custom and len(given) == 1 \
            else our_op(name, params, shapes) if len(values) == 1 else None
        if mapped is not None and is_float(values[0]):
            op, extra = mapped
            arguments = tuple(self.node_of(item) for item in given) + tuple(
                self.node_of(Held(np.float64(number))) for number in extra)
            node = self.nodes.add(OPERATION, op, arguments, to_numpy(values[0]), op.label, group)
            return [Held(values[0], node)]
        return self._foreign(equation, given, values, group)

    def _inline(self, inner: Any, given: list[Held], group: tuple[str, ...]) -> list[Held]:
        if isinstance(inner, ClosedJaxpr):
            return self.read(inner.jaxpr, [Held(value) for value in inner.consts], given, group)
        return self.read(inner, [], given, group)

    def _foreign(self, equation: Any, given: list[Held], values: list[Any],
                 group: tuple[str, ...]) -> list[Held]:
        """A primitive our table does not know: one node per float output, its arguments the
        values with nodes (and named constants), the rest held fixed in its apply."""
        name = equation.primitive.name
        label = _custom_name(equation) if name in CUSTOM_CALLS else name
        drawn = [slot for slot, item in enumerate(given) if item.node is not None or item.name]
        arguments = tuple(self.node_of(given[slot]) for slot in drawn)
        function = one_equation(equation)
        variables = list(dict.fromkeys(item for item in equation.invars if isinstance(item, Var)))
        fixed = {item: given[slot].value for slot, item in enumerate(equation.invars)
                 if isinstance(item, Var)}
        texts = ", ".join(self.nodes.labels[node] for node in arguments)
        kind = "a custom_jvp/custom_vjp function, differentiated by its own rule" \
            if name in CUSTOM_CALLS else "a JAX primitive, differentiated by JAX's VJP"
        result = []
        for position, value in enumerate(values):
            if not is_float(value):
                result.append(Held(value))
                continue

            def apply(*drawn_values, position=position):
                known = dict(fixed)
                for slot, item in zip(drawn, drawn_values):
                    known[equation.invars[slot]] = item
                return function(*(known[variable] for variable in variables))[position]

            pull = Pull(apply, [given[slot].value for slot in drawn])
            op = ForeignOp(label, len(arguments), f"{label}({texts}): {kind}",
                           linear_map=known_by_action("jax", pull, np.ndim(value) == 0))
            node = self.nodes.add(OPERATION, op, arguments, to_numpy(value), label, group,
                                  f"{label}({texts})")
            self.nodes.pulls[node] = pull
            result.append(Held(value, node))
        return result

    def _scan(self, equation: Any, given: list[Held], group: tuple[str, ...]) -> list[Held]:
        """`lax.scan` unrolled: step t reads the body on the carry and the t-th slice of each
        scanned array, in a group `scan(body).t`; the stacked outputs are a `stack` node."""
        params = equation.params
        body = params["jaxpr"]
        consts_count, carry_count = params["num_consts"], params["num_carry"]
        length = int(params["length"])
        consts, carry = given[:consts_count], given[consts_count:consts_count + carry_count]
        scanned = given[consts_count + carry_count:]
        outer = group + (f"scan({function_name(body, 'body')})",)
        steps = range(length - 1, -1, -1) if params["reverse"] else range(length)
        stacked: list[list[Held]] = []
        for step in steps:
            here = outer + (str(step),)
            slices = [self._slice(item, step, here) for item in scanned]
            outputs = self._inline(body, consts + carry + slices, here)
            carry, ys = outputs[:carry_count], outputs[carry_count:]
            stacked.append(ys)
        if params["reverse"]:
            stacked.reverse()
        return carry + [self._stack([ys[index] for ys in stacked], outer, var)
                        for index, var in enumerate(equation.outvars[carry_count:])]

    def _slice(self, item: Held, step: int, group: tuple[str, ...]) -> Held:
        value = item.value[step]
        if item.node is None:  # a named constant's slice is named too (`XS[3]`)
            return Held(value, None, f"{item.name}[{step}]" if item.name else "")
        op = OPS["index"].bind({"key": (step,)}, (tuple(np.shape(item.value)),))
        return Held(value, self.nodes.add(OPERATION, op, (item.node,), to_numpy(value),
                                          op.label, group))

    def _stack(self, parts: list[Held], group: tuple[str, ...], var: Any) -> Held:
        if not parts:
            return Held(jnp.zeros(var.aval.shape, var.aval.dtype))
        value = jnp.stack([part.value for part in parts])
        if all(part.node is None for part in parts) or not is_float(value):
            return Held(value)
        op = OPS["stack"].bind({"axis": 0}, tuple(tuple(np.shape(part.value)) for part in parts))
        arguments = tuple(self.node_of(part) for part in parts)
        return Held(value, self.nodes.add(OPERATION, op, arguments, to_numpy(value), "stack",
                                          group, f"the {len(parts)} steps' outputs stacked"))

    def _while(self, equation: Any, given: list[Held], group: tuple[str, ...]) -> list[Held]:
        """`lax.while_loop` unrolled: its condition evaluated on the carry before each turn."""
        params = equation.params
        cond_count, body_count = params["cond_nconsts"], params["body_nconsts"]
        cond_consts = given[:cond_count]
        body_consts = given[cond_count:cond_count + body_count]
        carry = given[cond_count + body_count:]
        condition = jaxpr_as_fun(params["cond_jaxpr"])
        outer = group + (f"while({function_name(params['body_jaxpr'], 'body')})",)
        turn = 0
        while bool(condition(*(item.value for item in cond_consts + carry))[0]):
            carry = self._inline(params["body_jaxpr"], body_consts + carry, outer + (str(turn),))
            turn += 1
        return carry


def _custom_name(equation: Any) -> str:
    """A custom_jvp or custom_vjp function's name (`relu`)."""
    params = equation.params
    return str(params.get("name") or function_name(params.get("call_jaxpr"),
                                                   equation.primitive.name))


def _evaluate(equation: Any, given: list[Held]) -> list[Any]:
    """The equation's outputs on these values, by JAX."""
    known = {item: held.value for item, held in zip(equation.invars, given)
             if isinstance(item, Var)}
    variables = dict.fromkeys(item for item in equation.invars if isinstance(item, Var))
    return list(one_equation(equation)(*(known[variable] for variable in variables)))


@dataclass(frozen=True)
class Read:
    """A jaxpr read: its nodes, the output's node, and what a user should know."""

    nodes: JaxNodes
    output: int
    notes: tuple[str, ...]


def read(closed: ClosedJaxpr, arguments: Sequence[Any], names: Sequence[str],
         const_names: dict[int, str], output_label: str) -> Read:
    """The graph of `closed` at `arguments` (flat, one per invar), its inputs named by `names`:
    float arguments are inputs, the others data. An array output is summed (a `sum` node)."""
    reader = Reader()
    nodes = reader.nodes
    given = []
    for value, name in zip(arguments, names):
        value = jnp.asarray(value)
        if is_float(value):
            node = nodes.add(INPUT, None, (), to_numpy(value), name,
                             detail=f"{name} = {display.summary(to_numpy(value))}")
        else:
            node = nodes.add(DATA, None, (), to_numpy(value), name,
                             detail=f"{name} = {display.summary(to_numpy(value))}")
        given.append(Held(value, node))
    consts = [Held(value, None, const_names.get(id(value), "")) for value in closed.consts]
    with collector.paused():
        outputs = reader.read(closed.jaxpr, consts, given, ())
    if len(outputs) != 1:
        raise UsageError(f"the function returns {len(outputs)} arrays; it must return one "
                         "floating-point array (a loss)", None,
                         "return the value to differentiate, e.g. the loss")
    result = outputs[0]
    if not is_float(result.value):
        raise UsageError(f"the function returns an array of {jnp.result_type(result.value)}; "
                         "it must return a floating-point one (a loss)", None,
                         "return the value to differentiate, e.g. the loss")
    notes = []
    output = reader.node_of(result)
    if np.ndim(result.value) > 0:
        notes.append(f"the result has shape {display.shape(to_numpy(result.value))}: the "
                     "gradients are those of its sum")
        op = OPS["sum"]
        output = nodes.add(OPERATION, op, (output,), to_numpy(jnp.sum(result.value)), op.label)
    if output_label.isidentifier() and output_label not in nodes.labels:
        nodes.names[output] = (output_label,)
    # A parameter used in one scope alone (a layer's W and b) belongs to it, as a module's do.
    with_their_uses(nodes, [node for node, kind in enumerate(nodes.kinds) if kind == INPUT])
    return Read(nodes, output, tuple(notes))


def sweep(nodes: JaxNodes, output: int) -> AnnotatedGraph:
    """Our backward sweep over the graph read: our ops' local derivatives from the table, a
    foreign op's pulled through JAX's VJP of its equation (Jᵀ·1 computed when a view reads
    it); each edge's part recorded as the engine records it, so paths and traces read alike."""
    count = len(nodes.kinds)
    values, requires = nodes.values, nodes.requires_grad
    adjoints: list[Any] = [None] * count
    local: list[Sequence] = [()] * count
    order: list[int] = []
    carried: list[Any] = []
    adjoints[output] = np.ones_like(values[output])[()]
    with collector.paused(), np.errstate(all="ignore"):
        for node in range(output, -1, -1):
            gradient, op = adjoints[node], nodes.ops[node]
            if gradient is None or op is None or not requires[node]:
                continue
            arguments = nodes.args[node]
            operands = [values[argument] for argument in arguments]
            out = values[node]
            scalar = np.ndim(out) == 0
            if isinstance(op, Op):
                row: Sequence = tuple(op.rules[slot](*operands, out) if requires[argument]
                                      else None for slot, argument in enumerate(arguments))
            else:
                pull = nodes.pulls[node]
                row = DeferredRow([requires[argument] for argument in arguments],
                                  lambda pull=pull, out=out: pull(np.ones_like(out)))
            local[node] = row
            order.append(node)
            for slot, argument in enumerate(arguments):
                if not flows_in(row, slot):
                    continue
                if isinstance(op, Op) and op.elementwise and scalar:
                    part = gradient * row[slot]
                else:
                    part = op.linear_map.pullback(slot, row[slot] if isinstance(op, Op) or scalar
                                                  else None, gradient, operands[slot])
                carried.append(part)
                previous = adjoints[argument]
                adjoints[argument] = part if previous is None else previous + part
    return AnnotatedGraph.assembled(nodes, output, adjoints=adjoints, local=local,
                                    carried=carried, order=order)


def check_against_jax(graph: AnnotatedGraph, function: Callable[..., Any],
                      arguments: Sequence[Any], input_nodes: Sequence[int | None]) -> str | None:
    """JAX's gradient of the whole function (of the flat `arguments`, as the jaxpr takes them):
    our sweep's gradient of each input must be JAX's, else the drawn paths do not sum to JAX's
    gradient and the import is refused. Returns a note where JAX cannot differentiate the
    function itself (a while loop)."""
    floats = [slot for slot, node in enumerate(input_nodes) if node is not None
              and graph.kinds[node] == INPUT]

    def of_inputs(*chosen):
        full = list(arguments)
        for slot, value in zip(floats, chosen):
            full[slot] = value
        return jnp.sum(function(*full))

    try:
        gradients = jax.grad(of_inputs, argnums=tuple(range(len(floats))))(
            *(arguments[slot] for slot in floats)) if floats else ()
    except (ValueError, TypeError, NotImplementedError) as error:
        reason = str(error).split("\n")[0]
        return f"JAX cannot differentiate this function itself ({reason}); the gradients are " \
               "graphviz-ad's sweep through the unrolled loop"
    for slot, theirs in zip(floats, gradients):
        node = input_nodes[slot]
        ours, theirs = np.asarray(graph.adjoints[node]), np.asarray(theirs)
        tolerance = agreement_tolerance(theirs.dtype)
        scale = np.abs(ours) + np.abs(theirs) + np.finfo(theirs.dtype).tiny
        wrong = np.isfinite(scale) & (np.abs(ours - theirs) > tolerance * np.max(scale))
        if np.any(wrong):
            raise UsageError(
                f"the paths from `{graph.labels[node]}` would not sum to JAX's gradient (they "
                f"carry {display.summary(ours)}, JAX {display.summary(theirs)})", None,
                "JAX's gradient itself is right (jax.grad); graphviz-ad cannot draw this "
                "function path by path: please report it with the function")
    return None
