"""stop_gradient in JAX: drawn as a cut, as detach() is.

    gad jax samples/jax_detach.py:plain x=[1,1]              # df/dx = [3, 3]
    gad jax samples/jax_detach.py:with_stop_gradient x=[1,1] # [2, 2]: the stopped branch is cut
"""

import jax.numpy as jnp
from jax import lax


def plain(x):
    y = 2 * x
    z = 3 + x
    return jnp.sum(y + z)


def with_stop_gradient(x):
    y = 2 * x
    z = 3 + lax.stop_gradient(x)
    return jnp.sum(y + z)
