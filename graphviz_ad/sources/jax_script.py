"""A user's JAX file, run as Python runs a script, and its function traced (`gad jax`).

`gad jax FILE.py[:NAME] NAME=VALUE ...` runs FILE.py with `runpy` (sources/user_file.py: its
folder first on `sys.path`, `__name__` set to `__gad__`), with `jax_enable_x64` on while it runs
and is traced, then calls the function NAME (or the only one) with each NAME=VALUE as a float64
array, under `jax.make_jaxpr`. The user's prints go to standard error, warnings become notes, and
an exception becomes a typed error at its line.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from graphviz_ad.sources.imported import Imported
from graphviz_ad.sources.jax_compat import x64
from graphviz_ad.sources.jax_import import trace
from graphviz_ad.sources.user_file import (as_a_script, check_arguments, choose_function,
                                          run_file, users_code)


@contextmanager
def _as_a_script(path: Path) -> Iterator[None]:
    """What `python FILE.py` sets up (user_file.as_a_script), and float64 in JAX."""
    with as_a_script(path), x64(True):
        yield


def _array_defaults(function: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters not given whose defaults are arrays or pytrees holding arrays (a model's
    parameters): inputs at their defaults, as a torch module's parameters are."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return {}
    found = {}
    for parameter in parameters:
        leaves = jax.tree_util.tree_leaves(parameter.default)
        if parameter.name not in given and parameter.default is not parameter.empty \
                and any(isinstance(leaf, (jax.Array, np.ndarray)) for leaf in leaves):
            found[parameter.name] = parameter.default
    return found


def run(shown: str, name: str | None, values: Mapping[str, Any]) -> Imported:
    """Run the Python file `shown` and trace its function NAME (or its only one) at `values`."""
    path = Path(shown)
    warned: list[str] = []
    with _as_a_script(path):
        namespace = run_file(path, shown, warned, "jax")
        function = choose_function(namespace, path, shown, name, "jax", "defines no function",
                                   "define the function to differentiate: def loss(x): ...")
        check_arguments(function, function, values, shown)
        given = {key: jnp.asarray(np.asarray(value, dtype=np.float64))
                 for key, value in values.items()}
        given.update(_array_defaults(function, given))
        keys = list(given)
        arguments = [given[key] for key in keys]
        doing = f"in {getattr(function, '__name__', name)}"
        with users_code(path, shown, doing, warned, "jax"):
            imported = trace(function, arguments, keys)

    def finite_difference(*asked: Any) -> Any:
        with _as_a_script(path), users_code(path, shown, doing, [], "jax"):
            return imported.finite_difference(*asked)

    return replace(imported, notes=imported.notes + tuple(warned),
                   finite_difference=finite_difference)
