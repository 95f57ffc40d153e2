"""A PyTorch output already computed, as an annotated graph: torchviz's `make_dot(y, params)`.

`from_output` walks `output.grad_fn` without recursion, one node per (backward function, output
number); torch's backward pass gives the adjoints, each backward function called on its own the
local derivatives. Values are what torch saved for its backward pass, or are recomputed from
what it saved (a batch norm's output from its input and statistics, a linear layer's from its
matrices); a value neither gives is drawn as `value not kept`.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np
import torch
from torch.autograd.graph import GradientEdge

from graphviz_ad import display
from graphviz_ad.engine.annotated import INPUT, OPERATION, AnnotatedGraph, ForeignOp
from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.graph import GraphBuilder
from graphviz_ad.engine.linear import known_by_action
from graphviz_ad.engine.ops import OPS
from graphviz_ad.errors import GadError, UsageError
from graphviz_ad.sources.torch_compat import input_metadata
from graphviz_ad.sources.imported import Imported
from graphviz_ad.sources.torch_graph import LEAF_PREFIX, Nodes, finish
from graphviz_ad.sources.torch_ops import is_float_tensor, to_numpy
from graphviz_ad.sources.torch_pulls import node_pull

SAVED_SLOTS = {"_saved_self": 0, "_saved_input": 0, "_saved_other": 1}  # torch's input position
FORWARD_ALIASES = {"t": "transpose"}  # torch's forward names for our ops, where they differ
# torch's backward functions that are exactly one of our ops on their tensor arguments alone
# (no number saved beside them, no axis): what our engine can compute again from the leaves
OURS_ON_TENSORS = {"AddBackward0": "add", "SubBackward0": "sub", "MulBackward0": "mul",
                   "DivBackward0": "div", "PowBackward1": "pow", "MmBackward0": "matmul",
                   "NegBackward0": "neg", "SinBackward0": "sin", "CosBackward0": "cos",
                   "TanBackward0": "tan", "ExpBackward0": "exp", "LogBackward0": "log",
                   "SqrtBackward0": "sqrt", "TanhBackward0": "tanh",
                   "SigmoidBackward0": "sigmoid", "ReluBackward0": "relu",
                   "AbsBackward0": "abs", "SumBackward0": "sum", "MeanBackward0": "mean"}


def forward_name(backward_name: str) -> str:
    """`MulBackward0` -> `mul`, `NativeBatchNormBackward0` -> `native_batch_norm`."""
    stem = re.sub(r"Backward\d*$", "", backward_name) or backward_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", stem).lower()


def from_output(output: torch.Tensor, params: Mapping[str, torch.Tensor] | None = None
                ) -> Imported:
    """The backward graph of `output` (a tensor computed with autograd), walked from its
    `grad_fn` without recursion; leaves named by `params` (name -> tensor, as make_dot takes).

    Values are those torch saved for its backward pass (and, for our ops, recomputed from
    their arguments'); a value torch did not keep is held as nan of its shape and drawn as
    `value not kept` (`unknown_values`)."""
    if not is_float_tensor(output) or output.grad_fn is None:
        raise UsageError("the output has no backward graph", None,
                         "compute it from tensors with requires_grad=True, outside no_grad")
    notes = []
    if output.dim() > 0:
        notes.append(f"the output has shape {display.shape(to_numpy(output))}: the gradients "
                     "are those of its sum")
        output = output.sum()
    leaf_names = {id(tensor): name for name, tensor in (params or {}).items()}
    order = _topological(output.grad_fn)
    nodes = Nodes()
    node_of: dict[tuple[int, int], int] = {}
    unknown: list[int] = []
    leaves = 0
    backward_names: list[str] = []
    for function, output_nr in order:
        backward_names.append(function.name() if _saved(function, "_saved_alpha") in (None, 1)
                              else "")  # `torch.add(x, y, alpha=2)` is no op of ours
        if hasattr(function, "variable"):
            variable = function.variable
            name = leaf_names.get(id(variable))
            if name is None:
                leaves += 1
                name = f"{LEAF_PREFIX}{leaves}"
            node_of[(id(function), output_nr)] = nodes.add(
                INPUT, None, (), to_numpy(variable), name, True, GradientEdge(function, 0),
                detail=f"{name} = {display.summary(to_numpy(variable))}")
            continue
        metadata = input_metadata(function)
        arguments = tuple(node_of[(id(next_function), number)]
                          for next_function, number in function.next_functions
                          if next_function is not None)
        name = forward_name(function.name())
        value = _saved_value(function, output_nr, metadata, nodes, arguments)
        if value is None:
            unknown.append(len(nodes.kinds))
            value = np.full(tuple(metadata[output_nr].shape), np.nan)[()]
        pull = node_pull(function, output_nr, metadata,
                         shapes=[np.shape(nodes.values[argument]) for argument in arguments])
        scalar = len(metadata[output_nr].shape) == 0
        op = ForeignOp(name, len(arguments), f"{name}: torch's {function.name()}",
                       known_by_action("torch", pull, scalar), backward_name=function.name())
        node_of[(id(function), output_nr)] = nodes.add(
            OPERATION, op, arguments, value, name, True, GradientEdge(function, output_nr),
            detail=f"{name}({', '.join(nodes.labels[argument] for argument in arguments)}) · "
                   f"{function.name()}", pull=pull)
        nodes.separated.add(node_of[(id(function), output_nr)])
    output_node = node_of[(id(output.grad_fn), 0)]
    nodes.values[output_node] = to_numpy(output)
    # a later node's saved input, or the output itself, may have given a value since
    unknown = [node for node in unknown if np.isnan(np.sum(nodes.values[node]))]
    if unknown:
        notes.append(f"torch did not keep the values of {len(unknown)} of {len(nodes.kinds)} "
                     "nodes: they are drawn with their shapes, as `value not kept`")
    try:
        return Imported(finish(nodes, output_node, output, unknown), tuple(notes))
    except RuntimeError as error:
        freed = "backward through the graph a second time" in str(error)
        again = _our_engine_again(nodes, output_node, backward_names) if freed else None
        if again is not None:
            return Imported(again, tuple(notes) + (
                "backward() had freed torch's graph: its values and gradients are recomputed "
                "from the leaves by graphviz-ad's engine, in float64",))
        reason = ("backward() has freed the graph torch kept for this tensor, and with it its "
                  "values and local derivatives" if freed else
                  "torch could not run the backward pass again: "
                  + str(error).split("\n")[0].split(". ")[0])
        raise UsageError(reason, None, "draw it before calling backward(), or call "
                         "backward(retain_graph=True); gad torch FILE.py runs a script "
                         "keeping the graph") from None


def _our_engine_again(nodes: Nodes, output: int,
                      backward_names: list[str]) -> AnnotatedGraph | None:
    """The graph computed again by our engine from its leaves' values, where every op is one of
    ours on tensors alone (the document's worked example is) and the leaves still give torch's
    value; None otherwise."""
    builder = GraphBuilder()
    try:
        for node, kind in enumerate(nodes.kinds):
            if kind == INPUT:
                builder.input(nodes.labels[node], nodes.values[node])
                continue
            name = OURS_ON_TENSORS.get(backward_names[node])
            if name is None or OPS[name].arity != len(nodes.args[node]):
                return None
            builder.apply(name, nodes.args[node])
        graph = builder.finish(output)
        # the leaves as they are now gave torch's value: they were not changed since (a step)
        if not np.allclose(graph.values[graph.output], nodes.values[output], rtol=1e-5):
            return None
        return backward(graph)
    except GadError:  # outside our op's domain, where torch went on: torch's numbers only
        return None


def _topological(root: Any) -> list[tuple[Any, int]]:
    """Each (backward function, output number) reached from `root`, arguments first, by an
    iterative depth-first walk."""
    order: list[tuple[Any, int]] = []
    done: set[tuple[int, int]] = set()
    stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
    while stack:
        function, number, expanded = stack.pop()
        key = (id(function), number)
        if key in done:
            continue
        if expanded:
            done.add(key)
            order.append((function, number))
            continue
        stack.append((function, number, True))
        for next_function, next_number in reversed(function.next_functions):
            if next_function is not None and (id(next_function), next_number) not in done:
                stack.append((next_function, next_number, False))
    return order


def _saved_value(function: Any, output_nr: int, metadata: list, nodes: Nodes,
                 arguments: tuple[int, ...]) -> Any:
    """The node's value where torch kept it (its saved result), or recomputed by our op of
    the same name from its arguments' values."""
    shape = tuple(metadata[output_nr].shape)
    saved = _saved(function, "_saved_result")
    if isinstance(saved, torch.Tensor) and tuple(saved.shape) == shape:
        return to_numpy(saved)
    # torch's inputs by position (self, other), and the argument each is, if it is a node
    slot_of = {}
    for position, (next_function, _) in enumerate(function.next_functions):
        if next_function is not None:
            slot_of[position] = len(slot_of)
    for attribute, position in SAVED_SLOTS.items():
        slot = slot_of.get(position)
        if slot is not None and not _known(nodes.values[arguments[slot]]):
            kept = _saved(function, attribute)
            if isinstance(kept, torch.Tensor) and \
                    tuple(kept.shape) == np.shape(nodes.values[arguments[slot]]):
                nodes.values[arguments[slot]] = to_numpy(kept)
    values = [nodes.values[argument] for argument in arguments]
    if function.name() in RECOMPUTED:
        with np.errstate(all="ignore"):
            value = RECOMPUTED[function.name()](function, values, shape)
        return value if value is not None and np.shape(value) == shape else None
    op = OPS.get(FORWARD_ALIASES.get(forward_name(function.name()),
                                      forward_name(function.name())))
    if op is not None and not _only_plain_settings(function):
        return None  # torch.add(a, b, alpha=2), x.transpose(0, 1): not what our op computes
    # x.pow(2), x * 2: the number is no argument, but torch saved it
    exponent, other = _saved(function, "_saved_exponent"), _saved(function, "_saved_other")
    if op is not None and op.arity == len(arguments) + 1:
        if isinstance(exponent, (int, float)):
            values.append(np.float64(exponent))
        elif isinstance(other, torch.Tensor) and other.dim() == 0 and slot_of == {0: 0}:
            values.append(np.float64(other.item()))
    if op is None or op.arity != len(values) or any(np.isnan(np.sum(value))
                                                     for value in values):
        return None
    with np.errstate(all="ignore"):
        value = op.value(*values)
    return value if np.shape(value) == shape else None


PLAIN_SAVED = ("_saved_self", "_saved_other", "_saved_result", "_saved_exponent")
SHAPES_SAVED = ("_sym_sizes", "_sym_numel", "_sym_strides")


def _only_plain_settings(function: Any) -> bool:
    """Whether torch's call had no setting our op of the same name lacks: it saved only its
    operands, result, exponent, shapes, and an alpha of 1."""
    for attribute in dir(function):
        if not attribute.startswith("_saved_") or attribute in PLAIN_SAVED \
                or attribute.endswith(SHAPES_SAVED):
            continue
        if attribute == "_saved_alpha" and _saved(function, attribute) == 1:
            continue
        return False
    return True


def _saved(function: Any, attribute: str) -> Any:
    """What a backward function saved, None if it saved no such thing or has freed it (after
    `backward()`: the backward pass itself then says so)."""
    try:
        return getattr(function, attribute, None)
    except RuntimeError:
        return None


def _known(value: Any) -> bool:
    return not np.isnan(np.sum(value))


def _axes(function: Any) -> tuple[int, ...]:
    """torch's saved reduction axes, which it gives as unsigned 64-bit numbers (-1 is 2⁶⁴-1)."""
    return tuple(axis - 2 ** 64 if axis >= 2 ** 63 else axis for axis in function._saved_dim)


def _reduced_value(function: Any, values: list, shape: tuple[int, ...]) -> Any:
    """A sum or mean along axes (`x.mean(dim=(2, 3))`, an adaptive average pool to 1×1)."""
    if len(values) != 1 or not _known(values[0]):
        return None
    reduce = np.mean if function.name().startswith("Mean") else np.sum
    return reduce(values[0], axis=_axes(function), keepdims=function._saved_keepdim)


def _view_value(function: Any, values: list, shape: tuple[int, ...]) -> Any:
    """A view or reshape: its argument's value in the output's shape."""
    return np.reshape(values[0], shape) if len(values) == 1 and _known(values[0]) else None


def _addmm_value(function: Any, values: list, shape: tuple[int, ...]) -> Any:
    """A linear layer's output, which torch does not keep, from the matrices it does: the bias
    (the node's first argument, when it has a gradient) + mat1 @ mat2."""
    mat1, mat2 = _saved(function, "_saved_mat1"), _saved(function, "_saved_mat2")
    if function.next_functions[0][0] is None or not isinstance(mat1, torch.Tensor) \
            or not isinstance(mat2, torch.Tensor) or not _known(values[0]):
        return None
    return function._saved_beta * values[0] + \
        function._saved_alpha * (to_numpy(mat1) @ to_numpy(mat2))


def _batch_norm_value(function: Any, values: list, shape: tuple[int, ...]) -> Any:
    """A batch norm's output, which torch does not keep, from what it does: its input, and the
    batch's mean and inverse standard deviation (in training) or the running ones; the weight
    and bias are the node's other arguments, when it has them."""
    data = _saved(function, "_saved_input")
    if not isinstance(data, torch.Tensor) or data.dim() < 2:
        return None
    if function._saved_training:
        mean, scale = to_numpy(function._saved_result1), to_numpy(function._saved_result2)
    else:
        mean = to_numpy(function._saved_running_mean)
        scale = 1.0 / np.sqrt(to_numpy(function._saved_running_var) + function._saved_eps)
    channels = (1, -1) + (1,) * (data.dim() - 2)
    value = (to_numpy(data) - mean.reshape(channels)) * scale.reshape(channels)
    if len(values) == 3 and _known(values[1]) and _known(values[2]):
        return value * np.reshape(values[1], channels) + np.reshape(values[2], channels)
    return value if len(values) == 1 else None


# Values torch does not keep, recomputed from what its backward functions save.
RECOMPUTED = {"NativeBatchNormBackward0": _batch_norm_value, "AddmmBackward0": _addmm_value,
              "MeanBackward1": _reduced_value, "SumBackward1": _reduced_value,
              "ViewBackward0": _view_value, "ReshapeAliasBackward0": _view_value,
              "UnsafeViewBackward0": _view_value}
