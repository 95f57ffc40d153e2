"""The check of a traced function: called again as traced, for finite differences.

What the gradient takes as constant is held at its traced value (`Held`, `Replay`), as `gad
grad`'s check holds its cuts; afterwards everything the call touched is put back (`Rerun`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from graphviz_ad.errors import UsageError
from graphviz_ad.sources.torch_compat import (backward_hook_keys, module_buffers,
                                              remove_backward_hooks, tree_flatten, tree_map,
                                              tree_unflatten)
from graphviz_ad.sources.torch_ops import function_name, is_float_tensor

if TYPE_CHECKING:
    from graphviz_ad.sources.torch_graph import Nodes


class Rerun:
    """The traced function called again for finite differences, as it ran when traced: from the
    same random states (torch's and each generator it names: the same dropout masks), with the
    buffers of every module it ran, the tensors without a gradient it takes or reads, and every
    tensor it changes in place without grad, as they were before the trace; and with what the
    gradient treats as constants held at their traced values (Replay), as `gad grad`'s check
    holds its cuts. An input is moved through `.data`, so torch's graph, which holds the
    original values, stays valid; afterwards every input, constant, buffer, generator and the
    inputs' `.grad` and hooks are as the trace left them."""

    def __init__(self, fn: Callable, args: tuple, kwargs: Mapping[str, Any],
                 named: Sequence[Any]):
        """`named`: what the recorder names the function's values by (its arguments, the
        modules and tensors in its scope)."""
        self.call = lambda: fn(*args, **kwargs)
        self.random_state = torch.random.get_rng_state()
        self.buffers: dict[int, tuple[torch.nn.Module, dict[str, torch.Tensor]]] = {}
        for item in named:
            if isinstance(item, torch.nn.Module):
                for module in item.modules():
                    self.remember(module)
        self.constants = [(item, item.detach().clone()) for item in named
                          if isinstance(item, torch.Tensor) and not item.requires_grad]
        # what the trace learns (`learn`)
        self.leaves: dict[str, torch.Tensor] = {}
        self.call_names: list[str] = []
        self.held: dict[int, Held] = {}
        self.generators: list[tuple[torch.Generator, torch.Tensor]] = []
        self.mutated: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.single: str | None = None  # a node whose value is not float64, if any
        self.traced_value = 0.0

    def learn(self, call_names: Sequence[str], held: dict[int, Held],
              generators: Iterable[tuple[torch.Generator, torch.Tensor]],
              mutated: Iterable[tuple[torch.Tensor, torch.Tensor]], nodes: Nodes,
              result: torch.Tensor) -> None:
        """What the traced call did, as the recorder saw it: its torch calls by name and what to
        hold at them, the generators (with their states before) and the tensors (with their
        values before) it changed; and its inputs by name and its value."""
        self.call_names = list(call_names)
        self.held = held
        self.generators = list(generators)
        self.mutated = list(mutated)
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
              ) -> tuple[float, Replay]:
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
            replay = Replay(self.call_names, self.held)
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
            if not np.isclose(base, self.traced_value, rtol=1e-12, atol=1e-300, equal_nan=True):
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
class Held:
    """What the check holds at one torch call of the traced function, as traced: float outputs
    by position, replaced by copies (a detach() or .data result, a no_grad value), or copied
    into the tensor the call changed in place (`written`: y.detach_(), buf.copy_(x) under
    no_grad), or the whole result of a call that made no float tensor from tracked values (a
    number from .item(), a mask, an index), in a 1-tuple."""

    outputs: dict[int, torch.Tensor] = field(default_factory=dict)
    written: dict[int, torch.Tensor] = field(default_factory=dict)
    result: tuple | None = None


def copied(item: Any) -> Any:
    return tree_map(lambda leaf: leaf.clone() if isinstance(leaf, torch.Tensor)
                    else np.array(leaf) if isinstance(leaf, np.ndarray) else leaf, item)


class Replay(TorchFunctionMode):
    """The function run again with what the trace held as traced (`Held`): the calls are
    counted and named as the recorder counted them, and a run that makes other calls is
    refused. Records which tensors the calls were given (`seen`)."""

    def __init__(self, call_names: list[str], held: Mapping[int, Held]):
        super().__init__()
        self.call_names, self.held = call_names, held
        self.calls = 0
        self.seen: set[int] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        call = self.calls
        self.calls += 1
        name = function_name(func)
        if call >= len(self.call_names) or self.call_names[call] != name:
            self._refuse(f"its call {call + 1} is `{name}`")
        self.seen.update(id(item) for item in tree_flatten((args, kwargs))[0]
                         if isinstance(item, torch.Tensor))
        result = func(*args, **kwargs)
        plan = self.held.get(call)
        if plan is None:
            return result
        if plan.result is not None:
            return copied(plan.result[0])
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


def kind_of(item: Any) -> str:
    if isinstance(item, torch.Tensor):
        return f"a tensor of {item.dtype}"
    return f"a {type(item).__name__}"
