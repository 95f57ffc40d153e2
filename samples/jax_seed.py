"""The worked example in JAX: f(x1, x2) = (1 + sin x2)/(x2 + e^x1) + x1·x2.

    gad jax samples/jax_seed.py x1=1.5 x2=0.5                  # the gradients, as gad grad's
    gad jax samples/jax_seed.py x1=1.5 x2=0.5 --paths --wrt x2 # three paths, summing to df/dx2
    gad jax samples/jax_seed.py x1=1.5 x2=0.5 --wrt x2 -o seed-jax.png
"""

import jax.numpy as jnp


def f(x1, x2):
    return (1 + jnp.sin(x2)) / (x2 + jnp.exp(x1)) + x1 * x2
