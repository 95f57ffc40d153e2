"""Programs of a given size in the five shapes the picture benchmarks use (bench/pictures.py)."""

from __future__ import annotations

import random


def chain(nodes: int) -> str:
    """A chain of one-input operations, one statement each: v1 = sin(x), v2 = cos(v1), ..."""
    functions = ("sin", "cos", "tanh", "exp")
    lines = ["x = 0.3", "v0 = x"]
    for index in range(1, nodes):
        lines.append(f"v{index} = {functions[index % 4]}(v{index - 1})")
    return "\n".join(lines)


def fanout_sum(nodes: int) -> str:
    """x*1 + x*2 + ...: one input used by every product, summed in one expression."""
    terms = max(1, nodes // 3)
    return "x = 0.5\n" + " + ".join(f"x*{index}" for index in range(1, terms + 1))


def composed_seed(nodes: int) -> str:
    """The worked example composed with itself: (x1, x2) -> (x2, f(x1, x2)), repeated."""
    lines = ["x1 = 1.5", "x2 = 0.5", "a0 = x1", "b0 = x2"]
    for index in range(max(1, nodes // 10)):
        lines += [f"n{index} = 1 + sin(b{index})", f"d{index} = b{index} + exp(a{index} / 4)",
                  f"a{index + 1} = b{index}",
                  f"b{index + 1} = n{index} / d{index} + tanh(a{index} * b{index})"]
    return "\n".join(lines)


def scalar_mlp(nodes: int, width: int = 4) -> str:
    """Scalar neurons h = tanh(w·h_prev + b), layer after layer, weights as literals."""
    rng = random.Random(0)
    lines = [f"x{index} = {rng.uniform(-1, 1):.2f}" for index in range(width)]
    previous = [f"x{index}" for index in range(width)]
    per_layer = width * (3 * width + 2)
    for layer in range(max(1, nodes // per_layer)):
        current = []
        for unit in range(width):
            terms = " + ".join(f"{rng.uniform(-1, 1):.2f}*{name}" for name in previous)
            lines.append(f"h{layer}_{unit} = tanh({terms} + {rng.uniform(-0.5, 0.5):.2f})")
            current.append(f"h{layer}_{unit}")
        previous = current
    lines.append(" + ".join(previous))
    return "\n".join(lines)


def array_mlp(nodes: int, width: int = 3) -> str:
    """h = tanh(W @ h + b) with 3×3 weights as inputs, layer after layer, then sum(h * h)."""
    rng = random.Random(1)

    def matrix() -> str:
        return "[" + ", ".join("[" + ", ".join(f"{rng.uniform(-1, 1):.2f}" for _ in range(width))
                               + "]" for _ in range(width)) + "]"

    lines = ["x = [" + ", ".join(f"{rng.uniform(-1, 1):.2f}" for _ in range(width)) + "]",
             "h0 = x"]
    layers = max(1, nodes // 5)
    for layer in range(1, layers + 1):
        lines += [f"W{layer} = {matrix()}",
                  f"h{layer} = tanh(W{layer} @ h{layer - 1} + 0.1)"]
    lines.append(f"sum(h{layers} * h{layers})")
    return "\n".join(lines)


SHAPES = {"chain": chain, "fan-out sum": fanout_sum, "composed seed": composed_seed,
          "scalar MLP": scalar_mlp, "array MLP": array_mlp}
