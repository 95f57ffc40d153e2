"""The doors for JAX: `trace_jax`, `from_jaxpr` and `load_jax` (what `gad jax` does).

Each imports JAX only when called (`import graphviz_ad` never does) and gives an `Analysis` of
the neutral annotated graph every view reads (sources/jaxpr.py, docs/jax.md).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from graphviz_ad import arguments
from graphviz_ad.api import Analysis
from graphviz_ad.errors import UsageError


@contextmanager
def requiring_jax() -> Iterator[None]:
    """Around the imports of the JAX importer: no JAX, or a too old one, is a message saying
    what to install."""
    try:
        from graphviz_ad.sources.jax_compat import require_supported

        require_supported()
        yield
    except ModuleNotFoundError as error:
        if error.name not in ("jax", "jaxlib"):
            raise
        raise UsageError("JAX is not installed", None, "install it: pip install "
                         "'graphviz-ad[jax]' (or pip install jax)") from None


def _analysis(imported) -> Analysis:
    return Analysis.from_graph(imported.graph, imported.notes, imported.finite_difference)


def trace_jax(fn, *args: Any) -> Analysis:
    """Make `fn`'s jaxpr at `args` (numbers, arrays or pytrees of them) and read it equation by
    equation: each value JAX's, grouped by named scope, `jit`-ed function and scan step,
    `stop_gradient` drawn as a cut. Float leaves are inputs, named after the parameters
    (`params.W1`); an array result is summed. float64 needs jax_enable_x64."""
    with requiring_jax():
        from graphviz_ad.sources.jax_import import trace
    return _analysis(trace(fn, args))


def from_jaxpr(closed_jaxpr, *args: Any) -> Analysis:
    """The graph of a ClosedJaxpr (`jax.make_jaxpr(f)(*args)`) at the same `args`; its inputs
    are named x1, x2, ... in the order of the jaxpr's."""
    with requiring_jax():
        from graphviz_ad.sources.jax_import import from_closed
    return _analysis(from_closed(closed_jaxpr, args))


def load_jax(target: str | arguments.ScriptTarget, assignments: Iterable[str] = ()) -> Analysis:
    """What `gad jax` does: run `FILE.py` as Python runs a script, with jax_enable_x64, and
    trace its function (`FILE.py:NAME`, or its only one) called with the NAME=VALUE
    `assignments` as float64 arrays. This runs the file's code."""
    script = arguments.split_torch_target(target) if isinstance(target, str) else target
    values = arguments.parse_values(list(assignments))
    with requiring_jax():
        from graphviz_ad.sources.jax_script import run
    arguments.require_script(script.file, "jax")
    return _analysis(run(script.file, script.name, values))
