"""An MLP as an Equinox module, with cross-entropy: parameters named by their paths in the model
(model.layers.0.weight), each layer's equations in the group its named scope gives.

    gad jax samples/jax_equinox.py:loss                 # every parameter's gradient, JAX's
    gad jax samples/jax_equinox.py:loss -o mlp-equinox.svg
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


class MLP(eqx.Module):
    layers: list

    def __init__(self, sizes, key):
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = [eqx.nn.Linear(n_in, n_out, key=k)
                       for n_in, n_out, k in zip(sizes[:-1], sizes[1:], keys)]

    def __call__(self, x):
        for index, layer in enumerate(self.layers):
            with jax.named_scope(f"layers.{index}"):
                x = layer(x)
                if index < len(self.layers) - 1:
                    x = jax.nn.relu(x)
        return x


MODEL = MLP([3, 4, 2], jax.random.PRNGKey(0))
X = jnp.asarray(np.random.default_rng(0).normal(size=3))
LABEL = 1


def loss(model=MODEL):
    return -jax.nn.log_softmax(model(X))[LABEL]
