"""Gradients pulled back through torch's own backward functions, one op at a time.

A foreign op's local derivatives (Jᵀ·1) and what its edges carry come from calling its backward
function directly (`node_pull`), or, where one argument is computed from another, from torch's
engine less what reaches each argument through the others (`partial_pull`).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.autograd.graph import GradientEdge, get_gradient_edge

from graphviz_ad.engine.linear import unbroadcast
from graphviz_ad.errors import UsageError
from graphviz_ad.sources.torch_compat import input_metadata, pull_grad
from graphviz_ad.sources.torch_ops import DTYPES, numpy_owned, seed_tensor


def again(backward: Callable[[], Any]) -> Any:
    """Run torch's backward machinery after the trace (a local derivative or a folded group
    is computed when a view first reads it): a typed error if the graph changed since."""
    try:
        return backward()
    except RuntimeError as error:
        reason = str(error).split(".")[0].split("\n")[0]
        raise UsageError(f"torch cannot run the backward pass again: {reason}", None,
                         "draw the picture before the model changes (an optimizer step, an "
                         "in-place update) or backward() frees its graph, or trace it "
                         "again") from None


def function_pull(out: torch.Tensor, arg_edges: list[GradientEdge | None],
                   arg_values: list[Any]) -> Callable[..., list] | None:
    """torch's backward function of `out`, called directly, when its inputs are exactly the
    arguments' edges (cat, mse_loss; not linear, whose weight passes through a transpose): so
    an argument given twice (`torch.cat([x, x])`) gets its own gradient at each slot, which
    torch's engine, asked for the gradient of one tensor, sums. None when the op is made of
    several backward functions."""
    function = out.grad_fn
    positions = None if function is None else input_positions(function, arg_edges)
    if positions is None:
        return None
    call = node_pull(function, get_gradient_edge(out).output_nr,
                      input_metadata(function), every_input=True)

    def pull(gradient: Any, slots: Sequence[int] | None = None) -> list:
        grads = call(gradient)
        # the engine sums a broadcast argument's gradient back to its shape; called
        # directly, the backward function leaves that to its caller
        parts = [None if index is None else
                 np.zeros_like(arg_values[slot])[()] if grads[index] is None else
                 unbroadcast(grads[index], np.shape(arg_values[slot]))[()]
                 for slot, index in enumerate(positions)]
        return parts if slots is None else [parts[slot] for slot in slots]

    return pull


def input_positions(function: Any, arg_edges: list[GradientEdge | None]
                    ) -> list[int | None] | None:
    """Where each argument's edge is among the inputs of torch's backward function `function`
    (None for an argument without one), when its inputs are exactly those edges, each once;
    else None."""
    entries = list(function.next_functions)
    taken: set[int] = set()
    positions: list[int | None] = []
    for edge in arg_edges:
        if edge is None:
            positions.append(None)
            continue
        index = next((index for index, (node, number) in enumerate(entries)
                      if index not in taken and node is edge.node
                      and number == edge.output_nr), None)
        if index is None:
            return None
        taken.add(index)
        positions.append(index)
    if any(node is not None and index not in taken for index, (node, _) in enumerate(entries)):
        return None
    return positions


def edge_pull(out_edge: GradientEdge, arg_edges: list[GradientEdge | None],
               arg_values: list[Any], dtype: torch.dtype) -> Callable[..., list]:
    """torch's backward from one output to its arguments only: a gradient of the output in, the
    gradient of each argument out (None for an argument no gradient reaches). An argument given
    twice gets the whole of its gradient at its first slot."""
    wanted: list[tuple[int, GradientEdge]] = []
    for slot, edge in enumerate(arg_edges):
        if edge is not None and all(edge != seen for _, seen in wanted):
            wanted.append((slot, edge))

    def pull(gradient: Any, slots: Sequence[int] | None = None) -> list:
        """Each argument's gradient in slot order, or, given `slots`, only theirs."""
        chosen = wanted if slots is None else [(slot, edge) for slot, edge in wanted
                                               if slot in slots]
        grads = again(lambda: pull_grad([out_edge], [edge for _, edge in chosen],
                                        [seed_tensor(gradient, dtype)]))
        parts: list[Any] = [None] * len(arg_edges)
        for (slot, _), grad in zip(chosen, grads):
            parts[slot] = np.zeros_like(arg_values[slot]) if grad is None else \
                numpy_owned(grad)
        return parts if slots is None else [parts[slot] for slot in slots]

    return pull


def partial_pull(total: Callable[..., list], arg_edges: list[GradientEdge | None],
                  arguments: tuple[int, ...], arg_values: list[Any]) -> Callable[..., list]:
    """A foreign op's pull when one argument is computed from another and torch's backward
    function cannot be called alone (`torch.autograd.grad(tanh(x), x)` inside the function,
    `linear(x, W)` with W made from x): the engine's pull `total` gives each argument every
    path, the ones through the other arguments too. An argument's own derivative is its total
    less what reaches it through the arguments made after it (creation order is topological),
    each pulled back by torch from its own derivative, the latest first; so the path products
    sum to the gradient."""
    slots = [slot for slot, edge in enumerate(arg_edges)
             if edge is not None and all(edge != arg_edges[seen] for seen in range(slot))]
    latest_first = sorted(slots, key=lambda slot: -arguments[slot])

    def pull(gradient: Any, asked: Sequence[int] | None = None) -> list:
        parts = total(gradient)
        done: list[int] = []
        for slot in latest_first:
            if done:
                seeds = [seed_tensor(parts[later], DTYPES.get(np.result_type(parts[later]).name,
                                                          torch.float64)) for later in done]
                (through,) = again(lambda: pull_grad(
                    [arg_edges[later] for later in done], [arg_edges[slot]], seeds))
                if through is not None:
                    parts[slot] = unbroadcast(parts[slot] - numpy_owned(through),
                                              np.shape(arg_values[slot]))[()]
            done.append(slot)
        return parts if asked is None else [parts[slot] for slot in asked]

    return pull


def node_pull(function: Any, output_nr: int, metadata: list, every_input: bool = False,
              shapes: Sequence[tuple[int, ...]] | None = None) -> Callable[..., list]:
    """Call torch's backward function itself: the gradient of one of its outputs in (zeros
    for the others), the gradient of each of its inputs that has a next function out (given
    `slots`, of those; with `every_input`, of every input, None for those without), summed
    back to `shapes` where the input was broadcast (which torch's engine does after it)."""
    def pull(gradient: Any, slots: Sequence[int] | None = None) -> list:
        grads = []
        for index, meta in enumerate(metadata):
            if index == output_nr:
                grads.append(seed_tensor(gradient, meta.dtype))
            else:
                grads.append(torch.zeros(tuple(meta.shape), dtype=meta.dtype))
        with torch.no_grad():
            # a custom autograd.Function's backward node is called through its apply
            call = function if callable(function) else function.apply
            result = again(lambda: call(*grads))
        result = result if isinstance(result, tuple) else (result,)
        present = [grad for (next_function, _), grad in zip(function.next_functions, result)
                   if every_input or next_function is not None]
        parts = [None if grad is None else numpy_owned(grad) for grad in present]
        if shapes is not None:
            parts = [part if part is None else unbroadcast(part, shape)[()]
                     for part, shape in zip(parts, shapes)]
        return parts if slots is None else [parts[slot] for slot in slots]

    return pull
