"""JAX functions drawn our way, from the call to the SVG: `.venv/bin/python bench/jaxpr.py`.

Two functions from the samples, in float64: the 12-layer MLP with cross-entropy
(samples/jax_mlp.py:deep) and an RNN by lax.scan over T = 20 steps (samples/jax_rnn.py's, longer).
Side by side and interleaved, the best wall time of a few runs of:
- ours: `trace_jax(fn, *args).save("f.svg")` (make_jaxpr, each equation evaluated by JAX, the
  sweep, JAX's gradient as the check, the picture laid out by the system `dot`), folded as by
  default, and with every group expanded;
- the floor: `jax.make_jaxpr(fn)(*args)`, one `jax.grad(fn)(*args)` evaluation, and `dot -Tsvg`
  of a plain graph with the same nodes and edges (one short label each).
The ratios are printed; the target is at most 2x. JAX caches what it compiles, so after the first
run both sides run warm.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
TARGET = 2.0


def best_of(runs: int, works: dict) -> dict:
    best = {name: float("inf") for name in works}
    for _ in range(runs):
        for name, work in works.items():
            started = time.perf_counter()
            work()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def plain_dot(graph) -> str:
    lines = ["digraph g {", "node [shape=box];"]
    lines += [f'n{node} [label="{label}"];' for node, label in enumerate(graph.labels)]
    lines += [f"n{producer} -> n{consumer};" for consumer, _, producer in graph.edges()]
    return "\n".join(lines + ["}"])


def main() -> int:
    try:
        import jax
    except ModuleNotFoundError:
        print("JAX is not installed: nothing to measure (pip install jax)")
        return 0
    if shutil.which("dot") is None:
        print("no system `dot` on PATH: nothing to measure")
        return 0
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    from graphviz_ad import trace_jax

    sys.path.insert(0, str(ROOT / "samples"))
    import jax_mlp
    import jax_rnn

    xs = jnp.asarray(np.random.default_rng(2).normal(size=(20, jax_rnn.D)))

    def rnn20(W, U, h0):
        def step(h, x):
            h = jnp.tanh(W @ h + U @ x)
            return h, h

        last, states = jax.lax.scan(step, h0, xs)
        return jnp.sum(last ** 2) + 0.1 * jnp.sum(states)

    cases = {"12-layer MLP": (jax_mlp.deep, (jax_mlp.DEEP,)),
             "scan RNN, T = 20": (rnn20, (jax_rnn.W0, jax_rnn.U0, jax_rnn.H0))}
    print(f"{'function':<18} {'nodes':>6} {'floor':>8} {'ours':>8} {'ratio':>6} "
          f"{'expanded':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder:
        svg = str(Path(folder) / "f.svg")
        for title, (fn, args) in cases.items():
            graph = trace_jax(fn, *args).graph
            dot = plain_dot(graph)

            def floor():
                jax.make_jaxpr(fn)(*args)
                jax.block_until_ready(jax.grad(fn)(*args))
                subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True,
                               check=True)

            best = best_of(RUNS, {
                "floor": floor,
                "ours": lambda: trace_jax(fn, *args).save(svg, renderer="dot"),
                "expanded": lambda: trace_jax(fn, *args).save(svg, renderer="dot",
                                                              expand_all=True)})
            print(f"{title:<18} {len(graph):>6} {best['floor']:>7.3f}s {best['ours']:>7.3f}s "
                  f"{best['ours'] / best['floor']:>5.2f}x {best['expanded']:>8.3f}s "
                  f"{best['expanded'] / best['floor']:>5.2f}x")
    print(f"target: at most {TARGET:.0f}x the floor (make_jaxpr + one jax.grad + dot of as many "
          "nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
