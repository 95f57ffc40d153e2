"""A function with a jit-ed function inside, and the graph of a derivative (jax.grad inside).

    gad jax samples/jax_jit.py:outer x=0.7 -o jit-jax.png     # `layer` a group of its own
    gad jax samples/jax_jit.py:slope x=0.7 --paths --wrt x    # paths sum to d²/dx² of sin(x)²
"""

import jax
import jax.numpy as jnp


@jax.jit
def layer(x):
    return jnp.tanh(3.0 * x) * x


def outer(x):
    return layer(layer(x)) + jnp.exp(x)


def square_of_sine(x):
    return jnp.sin(x) ** 2


def slope(x):
    return jax.grad(square_of_sine)(x)
