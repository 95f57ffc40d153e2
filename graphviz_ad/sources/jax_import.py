"""A JAX function, or a jaxpr already made, imported as an annotated graph (sources/jaxpr.py).

`trace(fn, args)` makes the jaxpr with `jax.make_jaxpr`, names the inputs after the function's
parameters and the leaves of pytree arguments (`params.W1`), the constants after the globals
and closure variables they came from, reads it, sweeps it, and checks the sweep against JAX's
own gradient. `from_closed` does the same for a `ClosedJaxpr` and its arguments.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from graphviz_ad.engine.annotated import INPUT
from graphviz_ad.errors import UsageError
from graphviz_ad.sources.imported import Imported
from graphviz_ad.sources.jax_compat import (ClosedJaxpr, jaxpr_as_fun, path_text,
                                            require_supported, x64_enabled)
from graphviz_ad.sources.jaxpr import check_against_jax, read, sweep

MAX_NAMED_ITEMS = 1_000  # leaves of a global pytree looked into for the constants' names
FLOAT32_NOTE = ("JAX computed in float32 (jax_enable_x64 is off): call "
                "jax.config.update('jax_enable_x64', True) first for float64, as gad jax does")


def _parameter_names(fn: Callable, count: int) -> list[str]:
    """The names of the first `count` parameters (x1, x2, ... where the signature cannot be
    read, or for `*args`)."""
    try:
        parameters = [parameter.name for parameter in inspect.signature(fn).parameters.values()
                      if parameter.kind in (parameter.POSITIONAL_ONLY,
                                            parameter.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        parameters = []
    return [parameters[position] if position < len(parameters) else f"x{position + 1}"
            for position in range(count)]


def _leaf_name(bases: list[str], path: tuple) -> str:
    """An argument's name, with the path of the leaf in its pytree: `params.layer1.W`."""
    base = bases[path[0].idx]
    text = path_text(path[1:]).lstrip(".")
    return f"{base}.{text}" if text else base


def _const_names(fn: Callable) -> dict[int, str]:
    """The names of the arrays a function reads from its globals and closure, by their ids:
    what make_jaxpr closes over keeps them (a data set `X`, a target `y`)."""
    function = inspect.unwrap(fn) if callable(fn) else fn
    code = getattr(function, "__code__", None)
    found: dict[int, str] = {}
    if code is None:
        return found
    scope = getattr(function, "__globals__", {})
    items = [(name, scope[name]) for name in code.co_names if name in scope]
    for name, cell in zip(code.co_freevars, getattr(function, "__closure__", None) or ()):
        try:
            items.append((name, cell.cell_contents))
        except ValueError:  # a closure variable not yet assigned
            continue
    for name, item in items:
        if isinstance(item, (list, tuple, dict)) and len(item) > MAX_NAMED_ITEMS:
            continue
        for path, leaf in jax.tree_util.tree_flatten_with_path(item)[0]:
            if isinstance(leaf, (jax.Array, np.ndarray)):
                text = path_text(path).lstrip(".")
                found.setdefault(id(leaf), f"{name}.{text}" if text else name)
    return found


def _finite_difference(closed: ClosedJaxpr, flat: list[Any], names: list[str]):
    """Finite differences of an input's gradient by evaluating the jaxpr again (jitted once),
    one element at a time, h = step·max(1, |x|); or why not (a float32 input)."""
    evaluate = jax.jit(lambda *values: jnp.sum(jaxpr_as_fun(closed)(*values)[0]))

    def difference(name: str, method: str, step: float) -> Any:
        slot = names.index(name)
        base_value = np.array(flat[slot], dtype=np.result_type(flat[slot]))
        if base_value.dtype != np.float64:
            return f"checking {name} needs float64: enable jax_enable_x64"

        def at(value: Any) -> float:
            values = list(flat)
            values[slot] = jnp.asarray(value)
            return float(evaluate(*values))

        base = at(base_value)
        found = np.empty(base_value.shape)
        for index in np.ndindex(*base_value.shape):
            h = step * max(1.0, abs(float(base_value[index])))
            nudged = base_value.copy()
            nudged[index] += h
            up = at(nudged)
            if method == "central":
                nudged[index] -= 2 * h
                found[index] = (up - at(nudged)) / (2 * h)
            else:
                found[index] = (up - base) / h
        return found[()]

    return difference


def from_closed(closed: Any, args: Sequence[Any], names: Sequence[str] | None = None,
                const_names: dict[int, str] | None = None, label: str = "",
                function: Callable[..., Any] | None = None) -> Imported:
    """The annotated graph of a ClosedJaxpr at `args` (pytrees, flattened as make_jaxpr
    flattens them), inputs named by `names` (one per leaf; x1, x2, ... by default). JAX's
    gradient checks ours: of `function` (the traced function of the flat arguments, whose
    jit-ed parts JAX has compiled before), else of the jaxpr."""
    require_supported()
    if not isinstance(closed, ClosedJaxpr):
        raise UsageError(f"from_jaxpr takes a ClosedJaxpr (what jax.make_jaxpr(f)(*args) "
                         f"returns), not {type(closed).__name__}", None,
                         "pass jax.make_jaxpr(f)(*args), and the same args")
    flat = [jnp.asarray(leaf) for leaf in jax.tree_util.tree_leaves(list(args))]
    if len(flat) != len(closed.jaxpr.invars):
        raise UsageError(f"the jaxpr takes {len(closed.jaxpr.invars)} arrays; {len(flat)} were "
                         "given", None, "pass the arguments make_jaxpr was called with")
    names = list(names) if names is not None else [f"x{slot + 1}" for slot in range(len(flat))]
    found = read(closed, flat, names, const_names or {}, label)
    graph = sweep(found.nodes, found.output)
    inputs = [found.nodes.inputs.get(name) for name in names]
    notes = list(found.notes)
    if any(np.result_type(np.asarray(value)) == np.float32 for value in flat
           if jnp.issubdtype(value.dtype, jnp.floating)) or not x64_enabled():
        notes.append(FLOAT32_NOTE)
    function = function or (lambda *values: jaxpr_as_fun(closed)(*values)[0])
    cannot = check_against_jax(graph, function, flat, [node if node is not None and
                                                     graph.kinds[node] == INPUT else None
                                                     for node in inputs])
    if cannot:
        notes.append(cannot)
    return Imported(graph, tuple(notes), _finite_difference(closed, flat, names))


def _is_traced(argument: Any) -> bool:
    return isinstance(argument, (jax.Array, np.ndarray, np.generic, float, int)) \
        and not isinstance(argument, bool)


def trace(fn: Callable, args: Sequence[Any], keywords: Sequence[str] = ()) -> Imported:
    """`jax.make_jaxpr(fn)(*args)`, read and annotated (see the module's docstring); with
    `keywords`, the arguments are given by these names instead (`gad jax`'s NAME=VALUE). The
    arrays and numbers in the arguments' pytrees are traced; any other leaf (an Equinox
    model's activation function) is passed as it is."""
    require_supported()
    bases = list(keywords) if keywords else _parameter_names(fn, len(args))
    leaves, structure = jax.tree_util.tree_flatten_with_path(list(args))
    traced = [slot for slot, (_, leaf) in enumerate(leaves) if _is_traced(leaf)]
    fixed = [leaf for _, leaf in leaves]

    def flat(*values: Any) -> Any:
        chosen = list(fixed)
        for slot, value in zip(traced, values):
            chosen[slot] = value
        rebuilt = jax.tree_util.tree_unflatten(structure, chosen)
        return fn(**dict(zip(keywords, rebuilt))) if keywords else fn(*rebuilt)

    values = [jnp.asarray(leaves[slot][1]) for slot in traced]
    names = [_leaf_name(bases, leaves[slot][0]) for slot in traced]
    closed = jax.make_jaxpr(flat)(*values)
    return from_closed(closed, values, names, _const_names(fn), getattr(fn, "__name__", ""),
                       flat)
