"""PyTorch computations as annotated graphs, with torch's values, adjoints and local derivatives.

Two ways in. `trace(fn, args, kwargs)` runs `fn` under a recorder (a `TorchFunctionMode`): each
call of a torch function becomes a node holding its value, in the module it ran in (global module
hooks give the group paths, `layer1.0.conv1`); `detach()` and `.data` are cut edges, and a value
made under `torch.no_grad()` enters as a cut value, as our language draws them. The other way,
a finished output's backward graph (torchviz's `make_dot(y, params)`), is torch_output.py, which
shares this module's graph building. Either way the adjoints are torch's: one backward pass
through torch's autograd gives them all.

Local derivatives: an op our table knows (add, mul, sin, matmul, sum, relu, ...) gets the table's
local derivatives on torch's values, so its edges read as `gad` draws them and path products
agree with `gad paths`. Any other op (conv2d, linear, batch_norm) is a `ForeignOp` whose edges
carry Jᵀ·1 = d sum(out) / d argument (for a scalar edge the exact local derivative, for a scalar
output the whole derivative), computed when a view reads it, and pull gradients back through
torch's own backward function. The check (`_Rerun`) calls the traced function again.
"""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch.autograd.graph import GradientEdge, get_gradient_edge
from torch.overrides import TorchFunctionMode

from graphviz_ad import display
from graphviz_ad.engine.annotated import (CONSTANT, CUT, INPUT, OPERATION, AnnotatedGraph,
                                          DeferredRow, ForeignOp, NodeOp, flows_in,
                                          one_feeds_another)
from graphviz_ad.engine.linear import known_by_action, unbroadcast
from graphviz_ad.engine.ops import OPS, Op
from graphviz_ad.errors import UsageError
from graphviz_ad.sources.torch_compat import (CLAMP_IS_OURS, backward_hook_keys,
                                              inside_custom_forward, input_metadata, keystr,
                                              module_buffers, remove_backward_hooks,
                                              tree_flatten, tree_flatten_with_path, tree_map,
                                              tree_unflatten)

# torch's names for our ops, called with the arguments in our order; in-place forms (`add_`,
# `__iadd__`) are the same op on a new version of the tensor.
SAME_ORDER = {
    **{name: name for name in ("add", "sub", "mul", "div", "pow", "matmul", "neg", "sin", "cos",
                               "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp",
                               "log", "log2", "log10", "sqrt", "abs", "sigmoid", "relu", "sum",
                               "mean")},
    "subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div",
    "mm": "matmul", "mv": "matmul", "negative": "neg", "absolute": "abs", "arcsin": "asin",
    "arccos": "acos", "arctan": "atan", "maximum": "max", "minimum": "min", "clamp": "clip",
    "clip": "clip",
}
# torch's reflected operators: `3 - x` calls `x.__rsub__(3)`.
REVERSED = {"radd": "add", "rsub": "sub", "rmul": "mul", "rdiv": "div", "rtruediv": "div",
            "rpow": "pow", "rmatmul": "matmul"}
DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}
CUTS = ("detach", "data")  # a value passed on without its history
DATA = ForeignOp("data", 1, "x.data: the value of x without its history, so no gradient "
                            "flows back through it", stops_gradient=True)
NO_GRAD_LABEL = "no_grad"
MAX_TEXT = 40  # characters of an argument's own text inside its consumer's text
MAX_NAMED_ITEMS = 1_000  # things in a list, tuple or dict the function reads, looked into
LEAF_PREFIX = "leaf"  # an unnamed tensor that requires grad: leaf1, leaf2, ...


@dataclass(frozen=True)
class TorchOp:
    """One of our ops as torch ran it: our table's label, formulas and linear map, and the name
    of torch's backward function for the backward view."""

    op: Op
    backward_name: str

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "op" or attribute.startswith("__"):  # not yet set (copy, pickle)
            raise AttributeError(attribute)
        return getattr(self.op, attribute)

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str:
        return self.op.formula(slot, arguments)

    def written(self, arguments: tuple[str, ...], as_operator: bool | None = None) -> str:
        return self.op.written(arguments, as_operator)


def is_float_tensor(item: Any) -> bool:
    return isinstance(item, torch.Tensor) and item.is_floating_point()


def to_numpy(tensor: torch.Tensor) -> Any:
    """A copy of the tensor's value as numpy (float32 for the half types numpy lacks); a 0-d
    tensor becomes a numpy scalar, as our engine's scalars are."""
    value = tensor.detach()
    if value.dtype in (torch.bfloat16, torch.float16):
        value = value.float()
    return np.array(value.cpu().numpy())[()]


def _numpy_owned(tensor: torch.Tensor) -> Any:
    """A tensor nothing else holds or changes (a gradient torch.autograd.grad returned) as
    numpy without a copy, read-only."""
    if tensor.dtype in (torch.bfloat16, torch.float16):
        return to_numpy(tensor)
    value = tensor.detach().cpu().numpy()
    value.flags.writeable = False
    return value[()]


def _again(backward: Callable[[], Any]) -> Any:
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


def _tensor(gradient: Any, dtype: torch.dtype) -> torch.Tensor:
    """A gradient to seed torch's backward with, sharing memory with a read-only array (torch
    warns that it could write to it; its backward functions do not write to a gradient)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.as_tensor(np.asarray(gradient), dtype=dtype)


def _number_text(value: Any) -> str:
    return display.shortest(value) if np.ndim(value) == 0 else display.shape(value)


def _function_name(func: Callable) -> str:
    """`mul`, `__rsub__`, `relu_`; a property read (`x.data`, `x.T`) is named by the property."""
    name = getattr(func, "__name__", "")
    if name == "__get__":
        return getattr(getattr(func, "__self__", None), "__name__", name)
    return name or type(func).__name__


def _base_name(name: str) -> tuple[str, bool, bool]:
    """torch's name without its in-place or reflected form: (base, in place, reflected)."""
    if name.startswith("__") and name.endswith("__"):
        inner = name[2:-2]
        if inner in REVERSED:
            return REVERSED[inner], False, True
        if inner == "setitem":  # `z[0] = y` writes into z
            return inner, True, False
        if inner.startswith("i") and inner[1:] in SAME_ORDER:
            return inner[1:], True, False
        return inner, False, False
    if name.endswith("_") and not name.startswith("_"):
        return name[:-1], True, False
    return name, False, False


def _our_op(base: str, reflected: bool, args: tuple, kwargs: dict) -> tuple[Op, list] | None:
    """Our op and its operands in slot order, when torch's call is exactly one of our ops."""
    name = SAME_ORDER.get(base)
    if name is None or set(kwargs) - {"inplace"} or (name == "clip" and not CLAMP_IS_OURS):
        return None
    op = OPS[name]
    operands = [item for item in args if not isinstance(item, bool)]
    if reflected:
        operands.reverse()
    if len(operands) != op.arity:
        return None
    if not all(is_float_tensor(item) or isinstance(item, (int, float)) for item in operands):
        return None
    if name == "matmul" and not all(isinstance(item, torch.Tensor) and item.dim() in (1, 2)
                                    for item in operands):
        return None
    return op, operands


def _function_pull(out: torch.Tensor, arg_edges: list[GradientEdge | None],
                   arg_values: list[Any]) -> Callable[..., list] | None:
    """torch's backward function of `out`, called directly, when its inputs are exactly the
    arguments' edges (cat, mse_loss; not linear, whose weight passes through a transpose): so
    an argument given twice (`torch.cat([x, x])`) gets its own gradient at each slot, which
    torch's engine, asked for the gradient of one tensor, sums. None when the op is made of
    several backward functions."""
    function = out.grad_fn
    if function is None:
        return None
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


def _edge_pull(out_edge: GradientEdge, arg_edges: list[GradientEdge | None],
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
        grads = _again(lambda: torch.autograd.grad(
            [out_edge], [edge for _, edge in chosen], grad_outputs=[_tensor(gradient, dtype)],
            retain_graph=True, allow_unused=True))
        parts: list[Any] = [None] * len(arg_edges)
        for (slot, _), grad in zip(chosen, grads):
            parts[slot] = np.zeros_like(arg_values[slot]) if grad is None else \
                _numpy_owned(grad)
        return parts if slots is None else [parts[slot] for slot in slots]

    return pull


def _partial_pull(total: Callable[..., list], arg_edges: list[GradientEdge | None],
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
                seeds = [_tensor(parts[later], DTYPES.get(np.result_type(parts[later]).name,
                                                          torch.float64)) for later in done]
                (through,) = _again(lambda: torch.autograd.grad(
                    [arg_edges[later] for later in done], [arg_edges[slot]], grad_outputs=seeds,
                    retain_graph=True, allow_unused=True))
                if through is not None:
                    parts[slot] = unbroadcast(parts[slot] - _numpy_owned(through),
                                              np.shape(arg_values[slot]))[()]
            done.append(slot)
        return parts if asked is None else [parts[slot] for slot in asked]

    return pull


class Nodes:
    """The graph as it is built: parallel lists, one entry per node; for each node also the
    edge torch's autograd reaches it by, and for a foreign op the pull of its backward."""

    def __init__(self):
        self.kinds: list[str] = []
        self.ops: list[NodeOp | None] = []
        self.args: list[tuple[int, ...]] = []
        self.values: list[Any] = []
        self.labels: list[str] = []
        self.requires: list[bool] = []
        self.edges: list[GradientEdge | None] = []
        self.pulls: list[Callable | None] = []
        self.leaf_tensors: dict[int, torch.Tensor] = {}  # each input's tensor
        # foreign ops whose pull gives an argument used twice its gradient at each slot
        self.separated: set[int] = set()
        self.siblings: list[list[int]] = []  # the outputs of each op with several
        self.inputs: dict[str, int] = {}
        self.groups: dict[int, tuple[str, ...]] = {}
        self.details: dict[int, str] = {}
        self.names: dict[int, tuple[str, ...]] = {}

    def without_unused_siblings(self, output: int, only_what_reaches: bool = False
                                ) -> tuple[Nodes, int]:
        """These nodes without the outputs of a many-output op that nothing uses while another
        of them is used (an LSTM's final states beside its outputs, the unused chunks of a
        split), and with `only_what_reaches`, without every node the output does not depend
        on; renumbered, with the output's new number."""
        used = {argument for arguments in self.args for argument in arguments} | {output}
        dropped = {node for siblings in self.siblings if used.intersection(siblings)
                   for node in siblings if node not in used}
        if only_what_reaches:
            reaches = [False] * len(self.kinds)
            reaches[output] = True
            for node in range(output, -1, -1):  # creation order is a topological order
                if reaches[node]:
                    for argument in self.args[node]:
                        reaches[argument] = True
            dropped |= {node for node, kept in enumerate(reaches) if not kept}
        if not dropped:
            return self, output
        kept = [node for node in range(len(self.kinds)) if node not in dropped]
        number = {old: new for new, old in enumerate(kept)}
        nodes = Nodes()
        for name, value in vars(self).items():  # every field: one per node, or keyed by node
            if name == "args":
                value = [tuple(number[argument] for argument in value[node]) for node in kept]
            elif name == "inputs":
                value = {label: number[node] for label, node in value.items()
                         if node in number}
            elif name == "siblings":
                value = [[number[node] for node in group if node in number] for group in value]
            elif isinstance(value, list):
                value = [value[node] for node in kept]
            elif isinstance(value, dict):
                value = {number[node]: item for node, item in value.items() if node in number}
            else:
                value = {number[node] for node in value if node in number}
            setattr(nodes, name, value)
        return nodes, number[output]

    def add(self, kind: str, op: NodeOp | None, args: tuple[int, ...], value: Any, label: str,
            requires: bool, edge: GradientEdge | None = None, group: tuple[str, ...] = (),
            detail: str = "", pull: Callable | None = None) -> int:
        node = len(self.kinds)
        self.kinds.append(kind)
        self.ops.append(op)
        self.args.append(args)
        self.values.append(value)
        self.labels.append(label)
        self.requires.append(requires)
        self.edges.append(edge)
        self.pulls.append(pull)
        if group:
            self.groups[node] = group
        if detail:
            self.details[node] = detail
        if kind == INPUT:
            self.inputs[label] = node
        return node

    def add_input(self, tensor: torch.Tensor, value: Any, label: str,
                  group: tuple[str, ...] = ()) -> int:
        """A leaf that requires grad: an input, with its tensor kept for the check."""
        node = self.add(INPUT, None, (), value, label, True, get_gradient_edge(tensor), group,
                        f"{label} = {display.summary(value)}")
        self.leaf_tensors[node] = tensor
        return node


class _Names:
    """Names for tensors and module paths: the function's arguments, the globals and closure
    variables it reads, and each module's parameters and buffers by torch's own names."""

    def __init__(self, scope: Callable[[], Mapping[str, Any]] | None = None):
        self.tensors: dict[int, tuple[str, tuple[str, ...], bool]] = {}  # name, group, buffer
        self.modules: dict[int, tuple[str, ...]] = {}
        self.kept: list = []  # every named object stays alive, so its id stays its own
        self.roots = 0
        # a script's globals, which fill as it runs: looked into when a name is missing
        self.scope = scope
        self.looked: dict[str, int] = {}  # each global looked into, by the id of its value

    def tensor(self, item: torch.Tensor) -> tuple[str, tuple[str, ...], bool] | None:
        """The name, group and buffer flag of a named tensor, else None."""
        found = self.tensors.get(id(item))
        if found is None and self._look_in_scope():
            found = self.tensors.get(id(item))
        return found

    def _look_in_scope(self) -> bool:
        """Name what the script's globals hold that was not there at the last look; whether
        anything new was named."""
        if self.scope is None:
            return False
        before = len(self.tensors) + len(self.modules)
        for name, item in list(self.scope().items()):
            if not name.startswith("__") and self.looked.get(name) != id(item):
                self.looked[name] = id(item)
                self.add_each(name, item)
        return len(self.tensors) + len(self.modules) != before

    def add_tensor(self, name: str, tensor: torch.Tensor) -> None:
        if id(tensor) not in self.tensors:
            self.tensors[id(tensor)] = (name, (), False)
            self.kept.append(tensor)

    def add_module(self, prefix: tuple[str, ...], module: torch.nn.Module) -> None:
        self.kept.append(module)
        for name, sub in module.named_modules():
            self.modules.setdefault(id(sub), prefix + tuple(name.split(".")) if name else prefix)
        for buffer, named in ((False, module.named_parameters()), (True, module.named_buffers())):
            for name, tensor in named:
                path = prefix + tuple(name.split("."))
                if id(tensor) not in self.tensors:
                    self.tensors[id(tensor)] = (".".join(path), path[:-1], buffer)

    def add(self, name: str, item: Any) -> None:
        if isinstance(item, torch.Tensor):
            self.add_tensor(name, item)
        elif isinstance(item, torch.nn.Module) and id(item) not in self.modules:
            self.add_module((name,), item)

    def add_each(self, name: str, item: Any) -> None:
        """A tensor or module, or each in a list, tuple or dict of them (`models['net']`); a
        container of more than MAX_NAMED_ITEMS things (a data set, say) is not looked into."""
        if isinstance(item, (list, tuple, dict)) and len(item) > MAX_NAMED_ITEMS:
            return
        for path, leaf in tree_flatten_with_path(item)[0]:
            self.add(name + keystr(path), leaf)

    def module_path(self, module: torch.nn.Module) -> tuple[str, ...]:
        """A module met first when it runs is a root of its own, named by its class."""
        if id(module) not in self.modules:
            self._look_in_scope()
        if id(module) not in self.modules:
            self.roots += 1
            self.add_module((f"{type(module).__name__}{self.roots}",), module)
        return self.modules[id(module)]


def _names_for(fn: Callable, args: tuple, kwargs: dict,
               scope: Callable[[], Mapping[str, Any]] | None) -> _Names:
    names = _Names(scope)
    owner = fn if isinstance(fn, torch.nn.Module) else getattr(fn, "__self__", None)
    if isinstance(owner, torch.nn.Module):
        names.add_module((), owner)
    target = owner.forward if isinstance(fn, torch.nn.Module) else fn
    try:
        bound = inspect.signature(target).bind_partial(*args, **kwargs)
        for name, item in bound.arguments.items():
            names.add_each(name, item)
    except (TypeError, ValueError):
        pass  # a builtin or a signature inspect cannot read: arguments stay unnamed
    function = getattr(target, "__func__", target)
    code = getattr(function, "__code__", None)
    if code is not None:
        scope = getattr(function, "__globals__", {})
        for name in code.co_names:
            if name in scope:
                names.add_each(name, scope[name])
        for name, cell in zip(code.co_freevars, getattr(function, "__closure__", None) or ()):
            try:
                names.add_each(name, cell.cell_contents)
            except ValueError:  # a closure variable not yet assigned
                continue
    return names


class _Recorder(TorchFunctionMode):
    """Each torch call that touches a recorded value or one that requires grad becomes a node."""

    def __init__(self, names: _Names):
        super().__init__()
        self.names = names
        self.nodes = Nodes()
        self.node_of: dict[int, int] = {}  # id(tensor) -> the node of its current version
        self.alive: list = []
        # made under no_grad: the tensor, the name of the call that made it, the group it ran in
        self.cut_values: dict[int, tuple[torch.Tensor, str, tuple[str, ...]]] = {}
        self.stack: list[tuple[str, ...]] = [()]
        self.leaves = 0
        # Every torch call by name, in order, and what the check holds fixed at some of them,
        # by the call's number (see _Replay).
        self.call_names: list[str] = []
        self.held: dict[int, _Held] = {}
        # each tensor changed in place without grad, and its value before the first change
        self.mutated: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.paused = False
        # each random generator the function names, and its state before its first use
        self.generators: dict[int, tuple[torch.Generator, torch.Tensor]] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.paused:  # our own calls, in a module hook: not the function's
            return func(*args, **kwargs)
        generator = kwargs.get("generator")
        if isinstance(generator, torch.Generator) and id(generator) not in self.generators:
            self.generators[id(generator)] = (generator, generator.get_state())
        name = _function_name(func)
        call = self.current_call = len(self.call_names)
        self.call_names.append(name)
        tensors = [item for item in tree_flatten((args, kwargs))[0] if is_float_tensor(item)]
        in_place = _base_name(name)[1] or kwargs.get("inplace") is True
        if not torch.is_grad_enabled() and in_place and tensors \
                and id(tensors[0]) not in self.mutated:  # a tensor about to change in place
            self.mutated[id(tensors[0])] = (tensors[0], tensors[0].detach().clone())
        written = args[0] if in_place and args and is_float_tensor(args[0]) else None
        if torch.is_grad_enabled() and written is not None and not self._tracked(written) \
                and any(self._tracked(tensor) for tensor in tensors if tensor is not written):
            # `z = torch.zeros(3); z[0] = y` or `z.add_(x)`: z requires grad once written, so
            # its version before the write is taken now, as the constant it is
            self._operand(written)
        result = func(*args, **kwargs)
        if torch.is_grad_enabled():
            _refuse_complex(name, result)
        if not any(self._tracked(tensor) for tensor in tensors):
            return result
        outputs = [item for item in tree_flatten(result)[0] if is_float_tensor(item)]
        if name == "__setitem__" and written is not None and torch.is_grad_enabled():
            outputs = [written]  # `z[0] = y` returns None: z is the new version
        # what the gradient takes as a constant, the check holds as traced; not inside a
        # custom autograd.Function's forward, which runs without grad but is differentiated
        holding = not torch.is_grad_enabled() and not inside_custom_forward()
        if not outputs:  # a number (x.item()), a mask, an index: a constant to the gradient
            if torch.is_grad_enabled() or holding:
                self._hold(call).result = (_copied(result),)
            return result
        if not torch.is_grad_enabled():
            for position, tensor in enumerate(outputs):
                if tensor.requires_grad:  # a parameter updated in place stays an input
                    continue
                if holding:
                    changed = any(tensor is item for item in tensors)  # in place, handed back
                    held = self._hold(call)
                    (held.written if changed else held.outputs)[position] = \
                        tensor.detach().clone()
                if any(tensor is item and self._tracked(item) for item in tensors):
                    if in_place:  # changed: its uses from now on read a new cut value
                        self.node_of.pop(id(tensor), None)
                        self.cut_values[id(tensor)] = (tensor, name, self.stack[-1])
                    continue  # else still what it was: a cut value, a node
                self.cut_values[id(tensor)] = (tensor, name, self.stack[-1])
                self.alive.append(tensor)
            return result
        if all(tensor.is_leaf and tensor.requires_grad for tensor in outputs):
            return result  # a parameter set in place under an inner no_grad (nn.init): a leaf
        self._record(name, args, kwargs, tensors, outputs)
        return result

    def _hold(self, call: int) -> _Held:
        if call not in self.held:
            self.held[call] = _Held()
        return self.held[call]

    def _tracked(self, tensor: torch.Tensor) -> bool:
        key = id(tensor)
        return key in self.node_of or key in self.cut_values or tensor.requires_grad

    def _record(self, name: str, args: tuple, kwargs: dict, tensors: list,
                outputs: list) -> None:
        base, in_place, reflected = _base_name(name)
        in_place = in_place or kwargs.get("inplace") is True
        if not in_place and all(any(out is tensor for tensor in tensors) for out in outputs):
            return  # `x.to(x.dtype)`, `x.contiguous()`: the same version, nothing to draw
        group = self.stack[-1]
        if base in CUTS:
            self._cut(base, tensors[0], outputs[0], group)
            return
        ours = _our_op(base, reflected, args, kwargs)
        if ours is not None and len(outputs) == 1:
            op, operands = ours
            arguments = tuple(self._operand(item) for item in operands)
            self._operation(TorchOp(op, _backward_name(outputs[0])), arguments, outputs[0],
                            group, op.label, op.written(self._texts(arguments)))
            return
        included = [tensor for tensor in tensors if self._included(tensor)]
        arguments = tuple(self._operand(tensor) for tensor in included)
        texts = self._texts(arguments)
        omitted = len(tensors) - len(included)
        if omitted:
            texts.append(f"{omitted} constant tensor{'s' if omitted > 1 else ''}")
        texts += [f"{key}={_short(value)}" for key, value in kwargs.items()
                  if not isinstance(value, torch.Tensor)]
        detail = f"{base}({', '.join(texts)})"
        siblings = []
        for index, out in enumerate(outputs):
            label = base if len(outputs) == 1 else f"{base}[{index}]"
            backward = _backward_name(out)
            description = f"{detail}, differentiated by torch's {backward or 'nothing'}"
            if not out.requires_grad:
                siblings.append(self._operation(ForeignOp(label, len(arguments), description),
                                                arguments, out, group, label, detail))
                continue
            pull, separated = self._pull(out, arguments)
            op = ForeignOp(label, len(arguments), description, backward_name=backward,
                           linear_map=known_by_action("torch", pull, out.dim() == 0))
            siblings.append(self._operation(op, arguments, out, group, label, detail, pull,
                                            separated))
        if len(siblings) > 1:
            self.nodes.siblings.append(siblings)

    def _pull(self, out: torch.Tensor,
              arguments: tuple[int, ...]) -> tuple[Callable[..., list], bool]:
        """How a foreign op's gradient is pulled back to its arguments, and whether each slot
        gets its own. torch's engine, asked for the gradients of several tensors, sums every
        path to each: one given twice, or one computed from another (torch.cat([x, f(x)])),
        needs the backward function called directly for each slot's own derivative; else the
        engine's pull, to the slots asked for only, is cheaper."""
        edges = [self.nodes.edges[node] for node in arguments]
        values = [self.nodes.values[node] for node in arguments]
        chained = one_feeds_another(self.nodes.args, arguments)
        if len(set(arguments)) < len(arguments) or chained:
            pull = _function_pull(out, edges, values)
            if pull is not None:
                return pull, True
        pull = _edge_pull(get_gradient_edge(out), edges, values, out.dtype)
        return (_partial_pull(pull, edges, arguments, values) if chained else pull), False

    def _operation(self, op: NodeOp, arguments: tuple[int, ...], out: torch.Tensor,
                   group: tuple[str, ...], label: str, detail: str,
                   pull: Callable | None = None, separated: bool = False) -> int:
        requires = out.requires_grad
        node = self.nodes.add(OPERATION, op, arguments, to_numpy(out), label, requires,
                              get_gradient_edge(out) if requires else None, group, detail, pull)
        if separated:
            self.nodes.separated.add(node)
        self.node_of[id(out)] = node
        self.alive.append(out)
        return node

    def _texts(self, arguments: tuple[int, ...]) -> list[str]:
        """How a node's text names its arguments: a leaf by its label, an operation by its own
        text while that is short (a deep model's would grow without end)."""
        texts = []
        for node in arguments:
            text = self.nodes.details.get(node, self.nodes.labels[node])
            if self.nodes.kinds[node] != OPERATION:
                text = self.nodes.labels[node]
            elif len(text) > MAX_TEXT:
                text = self.nodes.labels[node]
            texts.append(display.atom(text) if self.nodes.kinds[node] == OPERATION else text)
        return texts

    def _cut(self, base: str, source: torch.Tensor, out: torch.Tensor,
             group: tuple[str, ...]) -> None:
        argument = self._operand(source)
        op = OPS["detach"] if base == "detach" else DATA
        text = self.nodes.labels[argument]
        written = f"{text}.detach()" if base == "detach" else f"{text}.data"
        node = self.nodes.add(OPERATION, op, (argument,), to_numpy(out), op.label, False,
                              None, group, f"{written}: the value without its history")
        if not inside_custom_forward():
            held = self._hold(self.current_call)
            (held.written if out is source else held.outputs)[0] = out.detach().clone()
        self.node_of[id(out)] = node
        self.alive.append(out)

    def _custom_function(self, out: torch.Tensor, group: tuple[str, ...]) -> int | None:
        """The output of a custom `torch.autograd.Function`: its forward ran without grad (so
        its inside looked like a no_grad value), then autograd gave the result its backward
        function. A node of its own, its arguments found from that function's inputs, and an
        argument that is another custom Function's output (`Square.apply(Square.apply(x))`)
        made a node first, without recursion; None when an argument is no value of ours."""
        pending = [(out, group)]
        while pending:
            tensor, its_group = pending[-1]
            arguments: list[int] = []
            for next_function, number in tensor.grad_fn.next_functions:
                if next_function is None:
                    continue
                variable = getattr(next_function, "variable", None)
                node = self._operand(variable) if variable is not None else next(
                    (node for node, edge in enumerate(self.nodes.edges) if edge is not None
                     and edge.node is next_function and edge.output_nr == number), None)
                if node is None:
                    inner = next(((item, made_in) for item, _, made_in in self.cut_values.values()
                                  if item.grad_fn is next_function
                                  and get_gradient_edge(item).output_nr == number), None)
                    if inner is None or any(inner[0] is item for item, _ in pending):
                        return None
                    pending.append(inner)
                    break
                arguments.append(node)
            else:
                pending.pop()
                self._custom_node(tensor, tuple(arguments), its_group)
        return self.node_of[id(out)]

    def _custom_node(self, out: torch.Tensor, arguments: tuple[int, ...],
                     group: tuple[str, ...]) -> int:
        """The node of a custom Function's output, its arguments' nodes made."""
        function = out.grad_fn
        name = re.sub(r"Backward\d*$", "", type(function).__name__) or "function"
        pull, separated = self._pull(out, arguments)
        texts = ", ".join(self._texts(arguments))
        op = ForeignOp(name, len(arguments), f"{name}.apply({texts}): a custom "
                       f"torch.autograd.Function, differentiated by its own backward",
                       backward_name=function.name(),
                       linear_map=known_by_action("torch", pull, out.dim() == 0))
        return self._operation(op, arguments, out, group, name, f"{name}.apply({texts})", pull,
                               separated)

    def _included(self, tensor: torch.Tensor) -> bool:
        """A foreign op's argument is drawn when it is recorded, named (buffers aside), cut or
        differentiable; other constants (a target, a running mean) are named in its text."""
        key = id(tensor)
        if key in self.node_of or key in self.cut_values or tensor.requires_grad:
            return True
        named = self.names.tensor(tensor)
        return named is not None and not named[2]

    def _operand(self, item: Any) -> int:
        """The node of an argument: its current version, else a new leaf."""
        if not isinstance(item, torch.Tensor):
            value = np.float64(item)
            return self.nodes.add(CONSTANT, None, (), value, _number_text(value), False,
                                  detail=display.shortest(value))
        node = self.node_of.get(id(item))
        if node is not None:
            return node
        cut = self.cut_values.get(id(item))
        if cut is not None and item.grad_fn is not None:
            node = self._custom_function(item, cut[2])
            if node is not None:
                return node
        value = to_numpy(item)
        named = self.names.tensor(item)
        if cut is not None:
            node = self.nodes.add(CUT, None, (), value, NO_GRAD_LABEL, False,
                                  detail=f"{cut[1]} under torch.no_grad(): a value without "
                                         "its history")
        elif named is not None and item.requires_grad:
            node = self.nodes.add_input(item, value, named[0], named[1])
        elif named is not None:  # a target, data, a buffer
            node = self.nodes.add(CONSTANT, None, (), value, named[0], False, None, named[1],
                                  f"{named[0]} = {display.summary(value)}")
        elif item.requires_grad:
            self.leaves += 1
            node = self.nodes.add_input(item, value, f"{LEAF_PREFIX}{self.leaves}")
        else:
            node = self.nodes.add(CONSTANT, None, (), value, _number_text(value), False,
                                  detail=display.summary(value))
        self.node_of[id(item)] = node
        self.alive.append(item)
        return node


def _refuse_complex(name: str, result: Any) -> None:
    """A complex tensor with a history is refused where it is made: the graph holds real
    values, one local derivative per edge, and torch's gradient through complex values (a
    conjugate, Wirtinger derivative) is no sum of such products."""
    if any(isinstance(item, torch.Tensor) and item.is_complex() and item.requires_grad
           for item in tree_flatten(result)[0]):
        raise UsageError(f"`{name}` made a complex tensor that requires grad; graphviz-ad draws "
                         "real floating-point tensors only, and torch's gradient through "
                         "complex values is not a sum of real path products", None,
                         "compute with real tensors (|a + bi| is sqrt(a² + b²)), or take "
                         "torch's gradient directly with loss.backward()")


def _short(item: Any) -> str:
    text = repr(item)
    return text if len(text) <= 24 else text[:23] + "…"


def _backward_name(tensor: torch.Tensor) -> str:
    return tensor.grad_fn.name() if tensor.grad_fn is not None else ""


@dataclass(frozen=True)
class Imported:
    """An imported graph, what a user should know about how it was made, and, for a traced
    call, finite differences of an input's gradient by calling the function again:
    `finite_difference(name, method, step)`."""

    graph: AnnotatedGraph
    notes: tuple[str, ...]
    finite_difference: Callable[[str, str, float], Any] | None = None


def trace(fn: Callable, args: tuple = (), kwargs: Mapping[str, Any] | None = None,
          scope: Callable[[], Mapping[str, Any]] | None = None,
          only_what_reaches: bool = False) -> Imported:
    """Run `fn(*args, **kwargs)` under the recorder, then torch's backward pass from its result.

    `scope` gives names the function's own do not (a script's globals, as they fill);
    with `only_what_reaches`, calls whose results do not reach the result are left out (a
    script computes more than the tensor drawn).

    The result must be a floating tensor; one with more than one element is summed (a `sum`
    node is drawn), so the gradient is that of its sum. The parameters' `.grad` are left as
    they were: the gradients are taken with `torch.autograd.grad`.
    """
    kwargs = dict(kwargs or {})
    recorder = _Recorder(_names_for(fn, args, kwargs, scope))
    rerun = _Rerun(fn, args, kwargs, recorder.names)

    def enter(module, inputs):
        recorder.paused = True
        try:
            rerun.remember(module)
        finally:
            recorder.paused = False
        recorder.stack.append(recorder.names.module_path(module))

    def leave(module, inputs, output):
        recorder.stack.pop()

    hooks = [torch.nn.modules.module.register_module_forward_pre_hook(enter),
             torch.nn.modules.module.register_module_forward_hook(leave)]
    try:
        with recorder:
            result = fn(*args, **kwargs)
    finally:
        for hook in hooks:
            hook.remove()
    calls = len(recorder.call_names)  # the function's own, before we sum an array result
    if not is_float_tensor(result):
        raise UsageError(f"the function returned {_kind_of(result)}; it must return a "
                         "floating-point tensor (a loss)", None,
                         "return the tensor to differentiate, e.g. the loss")
    notes = []
    if result.dim() > 0:
        notes.append(f"the result has shape {display.shape(np.empty(tuple(result.shape)))}: "
                     "the gradients are those of its sum")
        with recorder:
            result = result.sum()
    nodes, output = recorder.nodes.without_unused_siblings(recorder._operand(result),
                                                           only_what_reaches)
    label = getattr(fn, "__name__", "")
    if label.isidentifier() and label not in nodes.labels:  # `loss`, never a node's own label
        nodes.names[output] = (label,)
    rerun.learn(recorder, calls, nodes, result)
    try:
        graph = finish(nodes, output, result)
    except RuntimeError as error:
        raise UsageError(f"torch could not run the backward pass after the function: "
                         f"{str(error).split(chr(10))[0]}", None,
                         "return the loss without calling backward() or an optimizer's step() "
                         "in the function: gad torch runs the backward pass itself") from None
    return Imported(graph, tuple(notes), rerun.finite_difference)


class _Rerun:
    """The traced function called again for finite differences, as it ran when traced: from the
    same random states (torch's and each generator it names: the same dropout masks), with the
    buffers of every module it ran, the tensors without a gradient it takes or reads, and every
    tensor it changes in place without grad, as they were before the trace; and with what the
    gradient treats as constants held at their traced values (_Replay), as `gad grad`'s check
    holds its cuts. An input is moved through `.data`, so torch's graph, which holds the
    original values, stays valid; afterwards every input, constant, buffer, generator and the
    inputs' `.grad` and hooks are as the trace left them."""

    def __init__(self, fn: Callable, args: tuple, kwargs: Mapping[str, Any], names: _Names):
        self.call = lambda: fn(*args, **kwargs)
        self.random_state = torch.random.get_rng_state()
        self.buffers: dict[int, tuple[torch.nn.Module, dict[str, torch.Tensor]]] = {}
        for item in names.kept:
            if isinstance(item, torch.nn.Module):
                for module in item.modules():
                    self.remember(module)
        self.constants = [(item, item.detach().clone()) for item in names.kept
                          if isinstance(item, torch.Tensor) and not item.requires_grad]
        # what the trace learns (`learn`)
        self.leaves: dict[str, torch.Tensor] = {}
        self.call_names: list[str] = []
        self.held: dict[int, _Held] = {}
        self.generators: list[tuple[torch.Generator, torch.Tensor]] = []
        self.mutated: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.single: str | None = None  # a node whose value is not float64, if any
        self.traced_value = 0.0

    def learn(self, recorder: _Recorder, calls: int, nodes: Nodes,
              result: torch.Tensor) -> None:
        """What the traced call did: its `calls` torch calls and what to hold at them, the
        generators and tensors it changed, its inputs by name, and its value."""
        self.call_names = recorder.call_names[:calls]
        self.held = recorder.held
        self.generators = list(recorder.generators.values())
        self.mutated = list(recorder.mutated.values())
        self.leaves = {nodes.labels[node]: tensor for node, tensor in nodes.leaf_tensors.items()}
        self.single = next((nodes.labels[node] for node, value in enumerate(nodes.values)
                            if np.result_type(value) != np.float64), None)
        self.traced_value = float(result.detach())

    def remember(self, module: torch.nn.Module) -> None:
        """A module's buffers before the traced call first runs it."""
        if id(module) not in self.buffers:
            self.buffers[id(module)] = (module, {name: buffer.detach().clone() for name, buffer
                                                 in module_buffers(module).items()})

    def value(self, moved: tuple[torch.Tensor, tuple[int, ...], float] | None = None
              ) -> tuple[float, _Replay]:
        """The function's result (summed) with the input `moved` (tensor, index, number) moved,
        and the replay that ran it."""
        kept = [(module, name, module_buffers(module)[name])
                for module, saved in self.buffers.values() for name in saved]
        for module, saved in self.buffers.values():  # fresh copies, which the call may update
            for name, buffer in saved.items():
                setattr(module, name, buffer.clone())
        for tensor, before in self.constants + self.mutated:
            tensor.data.copy_(before)
        if moved is not None:
            moved[0].data[moved[1]] = moved[2]
        torch.random.set_rng_state(self.random_state)
        for generator, state in self.generators:
            generator.set_state(state)
        try:
            replay = _Replay(self.call_names, self.held)
            with replay:
                result = self.call()
            replay.require_every_call()
            return float(result.detach().sum()), replay
        finally:
            for module, name, buffer in kept:
                setattr(module, name, buffer)

    def finite_difference(self, name: str, method: str, step: float) -> Any:
        """d result / d input `name` by central (`central`) or forward differences, one element
        at a time, h = step·max(1, |x|); or why it cannot be had."""
        tensor = self.leaves[name]
        if tensor.dtype != torch.float64 or self.single is not None:
            return (f"checking {name} needs float64 throughout, and "
                    + (f"it is {str(tensor.dtype).replace('torch.', '')}"
                       if tensor.dtype != torch.float64 else f"`{self.single}` is not")
                    + ": make the model float64 (model.double())")
        after = torch.random.get_rng_state()
        generators = [(generator, generator.get_state()) for generator, _ in self.generators]
        leaves = list(self.leaves.values())
        states = [(item, item.data.clone()) for item in leaves] + \
            [(item, item.data.clone()) for item, _ in self.constants + self.mutated]
        grads = [(leaf, None if leaf.grad is None else leaf.grad.clone()) for leaf in leaves]
        hooks = [(leaf, backward_hook_keys(leaf)) for leaf in leaves]
        found = np.empty(tuple(tensor.shape))
        try:
            base, replay = self.value()
            if not np.isclose(base, self.traced_value, rtol=1e-12, atol=1e-300):
                return (f"the function gives {base!r} when called again, not its traced "
                        f"{self.traced_value!r}: it keeps state between calls")
            if id(tensor) not in replay.seen:
                return f"{name} is made anew by each call of the function"
            if any(tensor is changed for changed, _ in self.mutated):
                return f"the function changes {name} in place before using it"
            for index in np.ndindex(*found.shape):
                original = float(tensor.data[index])
                h = step * max(1.0, abs(original))
                up = self.value((tensor, index, original + h))[0]
                found[index] = (up - self.value((tensor, index, original - h))[0]) / (2 * h) \
                    if method == "central" else (up - base) / h
        finally:
            torch.random.set_rng_state(after)
            for generator, state in generators:
                generator.set_state(state)
            for item, value in states:
                item.data.copy_(value)
            for leaf, grad in grads:
                leaf.grad = grad
            for leaf, keys in hooks:
                remove_backward_hooks(leaf, keys)
        return found[()]


@dataclass
class _Held:
    """What the check holds at one torch call of the traced function, as traced: float outputs
    by position, replaced by copies (a detach() or .data result, a no_grad value), or copied
    into the tensor the call changed in place (`written`: y.detach_(), buf.copy_(x) under
    no_grad), or the whole result of a call that made no float tensor from tracked values (a
    number from .item(), a mask, an index), in a 1-tuple."""

    outputs: dict[int, torch.Tensor] = field(default_factory=dict)
    written: dict[int, torch.Tensor] = field(default_factory=dict)
    result: tuple | None = None


def _copied(item: Any) -> Any:
    return tree_map(lambda leaf: leaf.clone() if isinstance(leaf, torch.Tensor)
                    else np.array(leaf) if isinstance(leaf, np.ndarray) else leaf, item)


class _Replay(TorchFunctionMode):
    """The function run again with what the trace held as traced (`_Held`): the calls are
    counted and named as the recorder counted them, and a run that makes other calls is
    refused. Records which tensors the calls were given (`seen`)."""

    def __init__(self, call_names: list[str], held: Mapping[int, _Held]):
        super().__init__()
        self.call_names, self.held = call_names, held
        self.calls = 0
        self.seen: set[int] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        call = self.calls
        self.calls += 1
        name = _function_name(func)
        if call >= len(self.call_names) or self.call_names[call] != name:
            self._refuse(f"its call {call + 1} is `{name}`")
        self.seen.update(id(item) for item in tree_flatten((args, kwargs))[0]
                         if isinstance(item, torch.Tensor))
        result = func(*args, **kwargs)
        plan = self.held.get(call)
        if plan is None:
            return result
        if plan.result is not None:
            return _copied(plan.result[0])
        items, spec = tree_flatten(result)
        places = [place for place, item in enumerate(items) if is_float_tensor(item)]
        for position, value in plan.written.items():
            items[places[position]].data.copy_(value)
        for position, value in plan.outputs.items():
            items[places[position]] = value.clone()
        return tree_unflatten(items, spec)

    def require_every_call(self) -> None:
        if self.calls != len(self.call_names):
            self._refuse(f"it makes {self.calls} torch calls, the trace {len(self.call_names)}")

    def _refuse(self, difference: str) -> None:
        raise UsageError(f"the function made other torch calls when called again ({difference}),"
                         " so its finite differences cannot hold its constants as traced", None,
                         "check a function that makes the same calls each time (no cache "
                         "filled on its first call)")


def _kind_of(item: Any) -> str:
    if isinstance(item, torch.Tensor):
        return f"a tensor of {item.dtype}"
    return f"a {type(item).__name__}"


def finish(nodes: Nodes, output: int, result: torch.Tensor,
            unknown: Sequence[int] = ()) -> AnnotatedGraph:
    """torch's backward pass from `result`: every node's adjoint, then each edge's local
    derivative and what it carried back. A foreign op's local derivatives (Jᵀ·1, a backward
    pass through it) are computed when a view first reads them. A graph whose path products
    would not sum to torch's gradients is refused (`_require_sums`)."""
    _require_seen_history(nodes)
    reached = [node for node in range(len(nodes.kinds)) if nodes.edges[node] is not None]
    grads: tuple = ()
    if reached and result.requires_grad:
        grads = torch.autograd.grad([result], [nodes.edges[node] for node in reached],
                                    retain_graph=True, allow_unused=True)
    gradient_of = {node: grad for node, grad in zip(reached, grads) if grad is not None}
    adjoints = [_numpy_owned(gradient_of[node]) if node in gradient_of
                else np.zeros_like(nodes.values[node])[()] for node in range(len(nodes.kinds))]
    local: list[Sequence] = [(None,) * len(arguments) for arguments in nodes.args]
    uses = _uses(nodes, gradient_of)
    order: list[int] = []
    carried: list[Any] = []
    with np.errstate(all="ignore"):
        for node in range(output, -1, -1):
            op = nodes.ops[node]
            if op is None or node not in gradient_of or op.stops_gradient:
                continue
            row, parts = _edge_derivatives(nodes, node, adjoints, uses)
            local[node] = row
            if parts:
                order.append(node)
                carried.extend(parts)
        _require_sums(nodes, output, gradient_of, adjoints, local, uses, order, carried)
    return AnnotatedGraph(
        kinds=tuple(nodes.kinds), ops=tuple(nodes.ops), args=tuple(nodes.args),
        values=tuple(nodes.values), labels=tuple(nodes.labels),
        requires_grad=tuple(nodes.requires), inputs=dict(nodes.inputs), output=output,
        adjoints=tuple(adjoints), local=tuple(local), carried=tuple(carried),
        sweep_order=tuple(order), names=dict(nodes.names), groups=dict(nodes.groups),
        details=dict(nodes.details), pull_through=_pull_through(nodes),
        unknown_values=frozenset(unknown))


# How far the gradients the drawn edges carry into a node may differ from torch's adjoint, in
# units of their magnitudes: rounding, never a path missing or counted twice.
SUM_TOLERANCE = {np.dtype(np.float64): 1e-9}
LOW_PRECISION_TOLERANCE = 1e-3


def _require_seen_history(nodes: Nodes) -> None:
    """Refuse an input that torch computed from another node of the graph by calls the
    recorder did not see (before the call, or in a way it cannot draw): torch's gradient of
    that node counts the way through the input, which no drawn path takes. Walks torch's
    graph back from each such input without recursion."""
    owners = {id(edge.node): node for node, edge in enumerate(nodes.edges) if edge is not None}
    for node, tensor in nodes.leaf_tensors.items():
        if tensor.grad_fn is None:
            continue
        pending, seen = [tensor.grad_fn], {id(tensor.grad_fn)}
        while pending:
            for function, _ in pending.pop().next_functions:
                if function is None or id(function) in seen:
                    continue
                seen.add(id(function))
                source = owners.get(id(function))
                if source is not None and source != node:
                    raise UsageError(
                        f"`{nodes.labels[node]}` was computed from `{nodes.labels[source]}` by "
                        "torch calls the trace did not record (a write into a view of it, such "
                        "as z[0:2].copy_(y), or a computation before the call), so the paths of "
                        f"`{nodes.labels[source]}` would miss the way through it and not sum "
                        "to its gradient", None,
                        "write into the tensor itself (z[0:2] = y), compute it inside the "
                        "traced function, or pass it in detached (.detach()) if it is a "
                        "constant")
                pending.append(function)


def _require_sums(nodes: Nodes, output: int, gradient_of: Mapping[int, Any], adjoints: list,
                  local: list, uses: list[int], order: list[int], carried: list) -> None:
    """The chain rule's own check, before any path is listed: what the drawn edges carry back
    into each node must sum to torch's adjoint of it. It fails where torch's gradient reached
    a node by a way the graph does not draw (an op the recorder did not see), or where a
    drawn edge's derivative is not torch's (our table's rule, read as torch's backward would,
    into an argument used once; else what the backward sweep pulled). Its cost is one pullback
    per edge of our ops, the foreign ops' being torch's and already summed."""
    into: list[list] = [[] for _ in nodes.kinds]
    parts = iter(carried)
    for node in order:
        op, row = nodes.ops[node], local[node]
        for slot, argument in enumerate(nodes.args[node]):
            if not flows_in(row, slot):
                continue
            part = next(parts)
            if isinstance(op, TorchOp) and uses[argument] == 1:
                part = op.linear_map.pullback(slot, row[slot], adjoints[node],
                                              nodes.values[argument])
            into[argument].append(part)
    for node in range(output):
        if node not in gradient_of:
            continue
        adjoint, drawn = adjoints[node], into[node]
        if len(drawn) == 1 and drawn[0] is adjoint:  # torch's own pull, into its one use
            continue
        total = sum(drawn, np.zeros_like(adjoint))
        scale = sum((np.abs(part) for part in drawn), np.abs(adjoint))
        tolerance = SUM_TOLERANCE.get(np.result_type(adjoint), LOW_PRECISION_TOLERANCE)
        wrong = np.isfinite(scale) & (np.abs(total - adjoint) > tolerance * scale)
        if not np.any(wrong):
            continue
        where = nodes.details.get(node, nodes.labels[node])
        how = ("torch's gradient reaches it by a way the trace did not record" if not drawn
               else "the derivatives drawn on the edges out of it are not torch's")
        raise UsageError(
            f"the paths through `{nodes.labels[node]}` ({where}) would not sum to torch's "
            f"gradient: {how} (they carry {display.summary(total)}, torch "
            f"{display.summary(adjoint)})", None,
            "torch's gradient itself is right (loss.backward()); graphviz-ad cannot draw this "
            "function path by path: please report it with the function")


def _pull_through(nodes: Nodes) -> Callable[[int, Sequence[int], Any], list]:
    """torch's backward from one node to several, along every path between them, in one call."""
    def pull(output: int, producers: Sequence[int], gradient: Any) -> list:
        wanted = [producer for producer in producers if nodes.edges[producer] is not None]
        grads: Sequence = ()
        if wanted and nodes.edges[output] is not None:
            seed = _tensor(gradient, DTYPES[np.result_type(nodes.values[output]).name])
            grads = _again(lambda: torch.autograd.grad(
                [nodes.edges[output]], [nodes.edges[producer] for producer in wanted],
                grad_outputs=[seed], retain_graph=True, allow_unused=True))
        found = {producer: _numpy_owned(grad) for producer, grad in zip(wanted, grads)
                 if grad is not None}
        return [found.get(producer) for producer in producers]

    return pull


def _uses(nodes: Nodes, reached: Mapping[int, Any]) -> list[int]:
    """How many edges carry a gradient back into each node."""
    uses = [0] * len(nodes.kinds)
    for node, arguments in enumerate(nodes.args):
        op = nodes.ops[node]
        if node in reached and op is not None and not op.stops_gradient:
            for argument in arguments:
                uses[argument] += nodes.requires[argument]
    return uses


def _edge_derivatives(nodes: Nodes, node: int, adjoints: list,
                      uses: list[int]) -> tuple[Sequence, list]:
    """The local derivative on each argument slot of `node` (None where no gradient flows) and
    what each carried back, in slot order. Our op's are its table's formulas; a foreign op's,
    Jᵀ·1 through torch's backward, are computed when first read. Into an argument that no
    other edge feeds, torch's backward pass carried exactly that argument's adjoint: it is not
    pulled back again; the others are pulled back through our op's linear map or torch's
    backward function, for those slots only."""
    op = nodes.ops[node]
    arguments = nodes.args[node]
    values = [nodes.values[argument] for argument in arguments]
    out, adjoint = nodes.values[node], adjoints[node]
    if isinstance(op, TorchOp):
        row: Sequence = tuple(op.op.rules[slot](*values, out) if nodes.requires[argument]
                              else None for slot, argument in enumerate(arguments))
    else:
        # A foreign op given one tensor twice has a gradient at each slot when torch's
        # backward function is called directly, else all of it at the first (see _edge_pull).
        carries = [nodes.requires[argument] and (node in nodes.separated
                                                 or argument not in arguments[:slot])
                   for slot, argument in enumerate(arguments)]
        row = DeferredRow(carries, lambda: [
            np.zeros_like(values[slot])[()] if part is None else part
            for slot, part in enumerate(nodes.pulls[node](np.ones_like(out)))])
    slots = [slot for slot in range(len(arguments)) if flows_in(row, slot)]
    shared = [slot for slot in slots if uses[arguments[slot]] > 1]
    pulled: dict[int, Any] = {}
    if shared and isinstance(op, TorchOp):
        pulled = {slot: op.linear_map.pullback(slot, row[slot], adjoint, values[slot])
                  for slot in shared}
    elif shared and np.ndim(out) == 0:
        pulled = {slot: adjoint * row[slot] for slot in shared}
    elif shared:
        pulled = dict(zip(shared, nodes.pulls[node](adjoint, shared)))
    return row, [pulled[slot] if slot in pulled else adjoints[arguments[slot]]
                 for slot in slots]


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
                grads.append(_tensor(gradient, meta.dtype))
            else:
                grads.append(torch.zeros(tuple(meta.shape), dtype=meta.dtype))
        with torch.no_grad():
            # a custom autograd.Function's backward node is called through its apply
            call = function if callable(function) else function.apply
            result = _again(lambda: call(*grads))
        result = result if isinstance(result, tuple) else (result,)
        present = [grad for (next_function, _), grad in zip(function.next_functions, result)
                   if every_input or next_function is not None]
        parts = [None if grad is None else _numpy_owned(grad) for grad in present]
        if shapes is not None:
            parts = [part if part is None else unbroadcast(part, shape)[()]
                     for part, shape in zip(parts, shapes)]
        return parts if slots is None else [parts[slot] for slot in slots]

    return pull
