"""A PyTorch function's call recorded as an annotated graph, with torch's values and adjoints.

`trace(fn, args, kwargs)` runs `fn` under a recorder (a `TorchFunctionMode`): each call of a
torch function becomes a node holding its value, in the module it ran in (global module hooks
give the group paths, `layer1.0.conv1`); `detach()` and `.data` are cut edges, and a value made
under `torch.no_grad()` enters as a cut value, as our language draws them. torch's backward pass
then gives every adjoint (torch_graph.py). A finished output's backward graph (torchviz's
`make_dot(y, params)`) is torch_output.py; torch's calls in our terms are torch_ops.py, pulls
through torch's backward functions torch_pulls.py, and the check's re-run torch_check.py.

Local derivatives: an op our table knows (add, mul, sin, matmul, sum, relu, ...) gets the table's
local derivatives on torch's values, so its edges read as `gad` draws them and path products
agree with `gad paths`. Any other op (conv2d, linear, batch_norm) is a `ForeignOp` whose edges
carry Jᵀ·1 = d sum(out) / d argument (for a scalar edge the exact local derivative, for a scalar
output the whole derivative), computed when a view reads it, and pull gradients back through
torch's own backward function.
"""


from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Callable, Mapping

import numpy as np
import torch
from torch.autograd.graph import get_gradient_edge
from torch.overrides import TorchFunctionMode

from graphviz_ad import display
from graphviz_ad.engine.annotated import (CONSTANT, CUT, OPERATION, ForeignOp, NodeOp,
                                          one_feeds_another)
from graphviz_ad.engine.linear import known_by_action
from graphviz_ad.engine.ops import OPS
from graphviz_ad.errors import UsageError
from graphviz_ad.sources.torch_check import Held, Rerun, copied, kind_of
from graphviz_ad.sources.torch_compat import (inside_custom_forward, keystr,
                                              transforms_active, tree_flatten,
                                              tree_flatten_with_path, version)
from graphviz_ad.sources.imported import Imported
from graphviz_ad.sources.torch_graph import LEAF_PREFIX, Nodes, finish
from graphviz_ad.sources.torch_ops import (CUTS, DATA, NO_GRAD_LABEL, TorchOp, base_name,
                                           function_name, is_float_tensor, is_shareable,
                                           number_text, numpy_owned, our_op, summary_of,
                                           to_numpy)
from graphviz_ad.sources.torch_pulls import edge_pull, function_pull, partial_pull

MAX_TEXT = 40  # characters of an argument's own text inside its consumer's text
MAX_NAMED_ITEMS = 1_000  # things in a list, tuple or dict the function reads, looked into


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
        # by the call's number (see torch_check.Replay).
        self.call_names: list[str] = []
        self.held: dict[int, Held] = {}
        # each tensor changed in place without grad, and its value before the first change
        self.mutated: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.paused = False
        # each random generator the function names, and its state before its first use
        self.generators: dict[int, tuple[torch.Generator, torch.Tensor]] = {}
        # Values kept as numpy views of torch's memory, not copies (a model's parameters are
        # most of its memory), by the address of their storage: the tensor and its version,
        # each node's; copied before a call the recorder sees writes into that storage.
        self.shared: dict[int, list[tuple[int, torch.Tensor, int]]] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.paused:  # our own calls, in a module hook: not the function's
            return func(*args, **kwargs)
        if transforms_active():
            raise UsageError(f"`{function_name(func)}` runs inside a torch.func transform "
                             "(grad, vmap, jacrev), whose values graphviz-ad cannot read",
                             None, "trace the function the transform is applied to, or "
                                   "compute the derivative with torch.autograd.grad")
        generator = kwargs.get("generator")
        if isinstance(generator, torch.Generator) and id(generator) not in self.generators:
            self.generators[id(generator)] = (generator, generator.get_state())
        name = function_name(func)
        call = self.current_call = len(self.call_names)
        self.call_names.append(name)
        tensors = [item for item in _leaves(args, kwargs) if is_float_tensor(item)]
        in_place = base_name(name)[1] or kwargs.get("inplace") is True
        if self.shared and (in_place or name.endswith("_") or "out" in kwargs):
            self._copy_before_write(tensors)  # `add_`, `_foreach_add_`, `out=`, `x[0] = y`
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
        if not torch.is_grad_enabled() and name.endswith("_") and args:
            for tensor in _leaves((args[0],)):  # a parameter updated (an optimizer's step):
                if isinstance(tensor, torch.Tensor) and tensor.is_leaf and tensor.requires_grad:
                    self.node_of.pop(id(tensor), None)  # its next use reads its new value
        made = _leaves((result,))
        if torch.is_grad_enabled():
            _refuse_complex(name, made)
        if not any(self._tracked(tensor) for tensor in tensors):
            return result
        outputs = [item for item in made if is_float_tensor(item)]
        if name == "__setitem__" and written is not None and torch.is_grad_enabled():
            outputs = [written]  # `z[0] = y` returns None: z is the new version
        # what the gradient takes as a constant, the check holds as traced; not inside a
        # custom autograd.Function's forward, which runs without grad but is differentiated
        holding = not torch.is_grad_enabled() and not inside_custom_forward()
        if not outputs:  # a number (x.item()), a mask, an index: a constant to the gradient
            if torch.is_grad_enabled() or holding:
                self._hold(call).result = (copied(result),)
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
        self._record(name, args, _given(func, kwargs), tensors, outputs)
        return result

    def _value(self, tensor: torch.Tensor, shared: bool) -> Any:
        """The tensor's value as numpy: with `shared` (a parameter, an input or an activation
        with a history, which only a call the recorder sees can change), a read-only view of
        torch's memory, else a copy."""
        if not shared or tensor.dim() == 0 or not is_shareable(tensor):
            return to_numpy(tensor)
        value = numpy_owned(tensor)
        self.shared.setdefault(tensor.untyped_storage().data_ptr(), []).append(
            (len(self.nodes.kinds), tensor, version(tensor)))
        return value

    def _copy_before_write(self, tensors: list[torch.Tensor]) -> None:
        """Copy the shared values in the memory of tensors a call may write into."""
        for tensor in tensors:
            for node, _, _ in self.shared.pop(tensor.untyped_storage().data_ptr(), ()):
                self.nodes.values[node] = np.array(self.nodes.values[node])

    def require_unchanged(self) -> None:
        """Refuse a trace whose shared values torch changed in place by a call the recorder
        did not see (inside a kernel): the picture would show the changed values."""
        for entries in self.shared.values():
            for node, tensor, writes in entries:
                if version(tensor) != writes:
                    raise UsageError(
                        f"`{self.nodes.labels[node]}` was changed in place during the call by "
                        "torch code the trace does not see, so its value as used is lost", None,
                        "change it outside the traced function, or write a new tensor "
                        "(y = x + 1 rather than x.add_(1))")

    def _hold(self, call: int) -> Held:
        if call not in self.held:
            self.held[call] = Held()
        return self.held[call]

    def _tracked(self, tensor: torch.Tensor) -> bool:
        key = id(tensor)
        return key in self.node_of or key in self.cut_values or tensor.requires_grad

    def _record(self, name: str, args: tuple, kwargs: dict, tensors: list,
                outputs: list) -> None:
        base, in_place, reflected = base_name(name)
        in_place = in_place or kwargs.get("inplace") is True
        if not in_place and all(any(out is tensor for tensor in tensors) for out in outputs):
            return  # `x.to(x.dtype)`, `x.contiguous()`: the same version, nothing to draw
        group = self.stack[-1]
        if base in CUTS:
            self._cut(base, tensors[0], outputs[0], group)
            return
        ours = our_op(base, reflected, args, kwargs)
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
            pull = function_pull(out, edges, values)
            if pull is not None:
                return pull, True
        pull = edge_pull(get_gradient_edge(out), edges, values, out.dtype)
        return (partial_pull(pull, edges, arguments, values) if chained else pull), False

    def _operation(self, op: NodeOp, arguments: tuple[int, ...], out: torch.Tensor,
                   group: tuple[str, ...], label: str, detail: str,
                   pull: Callable | None = None, separated: bool = False) -> int:
        requires = out.requires_grad
        node = self.nodes.add(OPERATION, op, arguments, self._value(out, requires), label,
                              requires, get_gradient_edge(out) if requires else None, group,
                              detail, pull)
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
            # A number is made for its one use: in that op's module, so it folds with it.
            value = np.float64(item)
            return self.nodes.add(CONSTANT, None, (), value, number_text(value), False,
                                  group=self.stack[-1], detail=display.shortest(value))
        node = self.node_of.get(id(item))
        if node is not None:
            return node
        cut = self.cut_values.get(id(item))
        if cut is not None and item.grad_fn is not None:
            node = self._custom_function(item, cut[2])
            if node is not None:
                return node
        value = self._value(item, item.requires_grad and item.is_leaf and cut is None)
        named = self.names.tensor(item)
        if cut is not None:
            node = self.nodes.add(CUT, None, (), value, NO_GRAD_LABEL, False,
                                  detail=f"{cut[1]} under torch.no_grad(): a value without "
                                         "its history")
        elif named is not None and item.requires_grad:
            node = self.nodes.add_input(item, value, named[0], named[1])
        elif named is not None:  # a target, data, a buffer
            node = self.nodes.add(CONSTANT, None, (), value, named[0], False, None, named[1],
                                  f"{named[0]} = {summary_of(item, value, self.nodes.ranges)}")
        elif item.requires_grad:
            self.leaves += 1
            node = self.nodes.add_input(item, value, f"{LEAF_PREFIX}{self.leaves}")
        else:
            node = self.nodes.add(CONSTANT, None, (), value, number_text(value), False,
                                  detail=display.summary(value))
        self.node_of[id(item)] = node
        self.alive.append(item)
        return node


def _leaves(args: tuple, kwargs: Mapping[str, Any] | None = None) -> list:
    """The things in a call's arguments or result, lists, tuples and dicts looked into: a
    call on tensors and numbers alone, most of them, skips torch's pytree walk."""
    if kwargs or any(isinstance(item, (list, tuple, dict)) or not isinstance(
            item, (torch.Tensor, int, float, bool, str, type(None))) for item in args):
        return tree_flatten((args, kwargs or {}))[0]
    return list(args)


def _refuse_complex(name: str, result: list) -> None:
    """A complex tensor with a history is refused where it is made: the graph holds real
    values, one local derivative per edge, and torch's gradient through complex values (a
    conjugate, Wirtinger derivative) is no sum of such products."""
    if any(isinstance(item, torch.Tensor) and item.is_complex() and item.requires_grad
           for item in result):
        raise UsageError(f"`{name}` made a complex tensor that requires grad; graphviz-ad draws "
                         "real floating-point tensors only, and torch's gradient through "
                         "complex values is not a sum of real path products", None,
                         "compute with real tensors (|a + bi| is sqrt(a² + b²)), or take "
                         "torch's gradient directly with loss.backward()")


@functools.lru_cache(maxsize=None)
def _defaults(func: Callable) -> dict[str, Any]:
    """A torch function's keyword defaults (none where its signature cannot be read)."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {parameter.name: parameter.default for parameter in parameters
            if parameter.default is not parameter.empty}


def _given(func: Callable, kwargs: dict) -> dict:
    """The keywords a call set to other than their defaults: F.cross_entropy hands torch every
    one of its keywords, and its text should show only those the user chose."""
    if not kwargs:
        return kwargs
    defaults = _defaults(func)
    return {key: value for key, value in kwargs.items()
            if key not in defaults or not _same(value, defaults[key])}


def _same(value: Any, default: Any) -> bool:
    return value is default or (type(value) is type(default) and not isinstance(
        value, torch.Tensor) and value == default)


def _short(item: Any) -> str:
    text = repr(item)
    return text if len(text) <= 24 else text[:23] + "…"


def _backward_name(tensor: torch.Tensor) -> str:
    return tensor.grad_fn.name() if tensor.grad_fn is not None else ""


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
    rerun = Rerun(fn, args, kwargs, recorder.names.kept)

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
        raise UsageError(f"the function returned {kind_of(result)}; it must return a "
                         "floating-point tensor (a loss)", None,
                         "return the tensor to differentiate, e.g. the loss")
    notes = []
    if result.dim() > 0:
        notes.append(f"the result has shape {display.shape(np.empty(tuple(result.shape)))}: "
                     "the gradients are those of its sum")
        with recorder:
            result = result.sum()
    recorder.require_unchanged()
    nodes, output = recorder.nodes.without_unused_siblings(recorder._operand(result),
                                                           only_what_reaches)
    label = getattr(fn, "__name__", "")
    if label.isidentifier() and label not in nodes.labels:  # `loss`, never a node's own label
        nodes.names[output] = (label,)
    rerun.learn(recorder.call_names[:calls], recorder.held, recorder.generators.values(),
                recorder.mutated.values(), nodes, result)
    try:
        graph = finish(nodes, output, result)
    except RuntimeError as error:
        reason = str(error).split(chr(10))[0].split(". ")[0]
        if only_what_reaches:  # a script, which ran its own backward passes
            raise UsageError(f"torch could not run the backward pass of the drawn tensor again: "
                             f"{reason}", None, "draw a tensor computed after the script's last "
                             "optimizer step, or before it changes what the tensor needs") \
                from None
        raise UsageError(f"torch could not run the backward pass after the function: {reason}",
                         None, "return the loss without calling backward() or an optimizer's "
                         "step() in the function: gad torch runs the backward pass itself") \
            from None
    return Imported(graph, tuple(notes), rerun.finite_difference)
