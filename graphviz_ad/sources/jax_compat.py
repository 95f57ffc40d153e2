"""What the JAX importer needs from JAX that differs between releases, with feature tests.

The importer reads jaxprs through JAX's public API (`jax.make_jaxpr`, `jax.extend.core`'s
`ClosedJaxpr`, `Jaxpr`, `Var`, `Literal` and `jaxpr_as_fun`, `jax.vjp`). What is not public, or
changed between releases, is reached here, each with a feature test and a fallback: the name
stack of an equation (`jax.named_scope`, `jvp`, `transpose`), a nested jaxpr's function name
(its debug info), the name of `jit`'s primitive (`pjit` in 0.6), `keystr`'s dotted form and the
float64 switch.
Supported: jax OLDEST_JAX and newer (docs/jax.md lists the releases CI tests).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, ContextManager

import jax

from graphviz_ad.sources.versions import require_release

OLDEST_JAX = (0, 6)

try:  # public since jax 0.4.33
    from jax.extend.core import ClosedJaxpr, Jaxpr, Literal, Var, jaxpr_as_fun
except ImportError:  # pragma: no cover - older releases kept them in jax.core
    from jax.core import ClosedJaxpr, Jaxpr, Literal, Var, jaxpr_as_fun  # type: ignore

__all__ = ["OLDEST_JAX", "ClosedJaxpr", "Jaxpr", "Literal", "Var", "JIT_NAMES",
           "require_supported", "one_equation", "scope_of", "function_name", "path_text",
           "x64_enabled", "x64"]

# JAX warns at every fork of a process it runs in; the renderer forks only to exec `dot` at once
# (render/backend.py), which is safe, so a picture of a JAX function does not print the warning.
warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)

# `jax.jit`'s call primitive: `pjit` up to jax 0.6, `jit` from 0.7.
JIT_NAMES = ("jit", "pjit")


def require_supported() -> None:
    require_release("jax", jax.__version__, OLDEST_JAX)


def x64_enabled() -> bool:
    return bool(jax.config.read("jax_enable_x64")) if hasattr(jax.config, "read") \
        else bool(jax.config.jax_enable_x64)


def x64(enabled: bool) -> ContextManager:
    """A context in which JAX computes in float64 (`enabled`) or float32: `jax.enable_x64`
    where JAX has it (0.10 does), else `jax.experimental.enable_x64` / `disable_x64`."""
    state = getattr(jax, "enable_x64", None)
    if state is not None:
        return state(enabled)
    from jax import experimental

    return experimental.enable_x64() if enabled else experimental.disable_x64()


def one_equation(equation: Any) -> Callable[..., list]:
    """The equation as a function of its variables (each once, in order of first use): JAX's
    own evaluation of a one-equation jaxpr, so call primitives, custom rules and effects are
    handled as `jax.core.eval_jaxpr` handles them, under `jax.vjp` too."""
    variables = list(dict.fromkeys(item for item in equation.invars if isinstance(item, Var)))
    outputs = list(equation.outvars)
    try:  # a jaxpr without debug info is deprecated from jax 0.5 (jax issue 26480)
        from jax.extend.core import DebugInfo

        info = DebugInfo("graphviz-ad", equation.primitive.name,
                         tuple(str(item) for item in variables),
                         tuple(str(item) for item in outputs))
        jaxpr = Jaxpr([], variables, outputs, [equation], equation.effects, debug_info=info)
    except (ImportError, TypeError):  # jax 0.6: no public DebugInfo, its warning moot
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            jaxpr = Jaxpr([], variables, outputs, [equation], equation.effects)
    return jaxpr_as_fun(ClosedJaxpr(jaxpr, []))


def scope_of(equation: Any) -> tuple[str, ...]:
    """The equation's name stack as group names: `jax.named_scope("block")` gives `block`;
    a derivative's equations sit in `jvp(f)` (its forward part) and `transpose(jvp(f))` (its
    backward part). Empty where the release keeps no name stack."""
    stack = getattr(getattr(equation, "source_info", None), "name_stack", None)
    text = str(stack) if stack is not None else ""
    return tuple(part for part in text.split("/") if part)


def function_name(jaxpr: Any, default: str) -> str:
    """The Python function a nested jaxpr was traced from (`body` of a scan), from its debug
    info (`func_src_info`: `body at file.py:8`), else `default`."""
    info = getattr(getattr(jaxpr, "jaxpr", jaxpr), "debug_info", None)
    source = getattr(info, "func_src_info", None) or ""
    name = source.split(" ")[0]
    return name if name.isidentifier() and name != "<lambda>" else default


def path_text(path: Any) -> str:
    """A pytree key path as a name: `.W1`, `[0].b` (keystr's dotted form, jax 0.4.36 on)."""
    try:
        return jax.tree_util.keystr(path, simple=True, separator=".")
    except TypeError:
        return jax.tree_util.keystr(path)
