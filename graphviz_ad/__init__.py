"""graphviz-ad: see reverse-mode automatic differentiation, edge by edge and path by path."""

__all__ = ["Analysis", "analyze", "from_jaxpr", "from_torch", "load", "make_dot", "trace_jax",
           "trace_torch"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so `gad --help` does not pay for numpy.
    if name == "make_dot":
        from graphviz_ad.torchviz_dot import make_dot

        return make_dot
    if name in ("trace_jax", "from_jaxpr"):
        from graphviz_ad import jax_api

        return getattr(jax_api, name)
    if name in __all__:
        from graphviz_ad import api

        return getattr(api, name)
    raise AttributeError(f"module 'graphviz_ad' has no attribute {name!r}")


def __dir__() -> list[str]:
    # What completion offers: the public names, loaded or not (not the submodules).
    return sorted(__all__ + [name for name in globals() if name.startswith("__")])
