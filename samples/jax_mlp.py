"""A two-layer MLP with softmax cross-entropy in plain jax.numpy, each layer a named scope.

    gad jax samples/jax_mlp.py:loss                     # every parameter's gradient, JAX's
    gad jax samples/jax_mlp.py:loss -o mlp-jax.svg --rankdir TB
    gad jax samples/jax_mlp.py:deep -o deep-jax.svg     # 12 layers: one box per layer
"""

import jax
import jax.numpy as jnp
import numpy as np

random = np.random.default_rng(0)
X = jnp.asarray(random.normal(size=(4, 3)))
LABELS = jnp.asarray(np.eye(2)[[0, 1, 1, 0]])  # one-hot targets
PARAMS = {"layer1": {"W": jnp.asarray(random.normal(size=(3, 5)) * 0.5),
                     "b": jnp.zeros(5)},
          "layer2": {"W": jnp.asarray(random.normal(size=(5, 2)) * 0.5),
                     "b": jnp.zeros(2)}}
DEEP = {f"layer{index}": {"W": jnp.asarray(random.normal(size=(3, 3)) * 0.9),
                          "b": jnp.zeros(3)} for index in range(1, 13)}


def dense(name, params, h, last=False):
    with jax.named_scope(name):
        h = h @ params["W"] + params["b"]
        return h if last else jax.nn.relu(h)


def cross_entropy(logits, labels):
    with jax.named_scope("cross_entropy"):
        return -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(logits), axis=1))


def network(params, h):
    count = len(params)  # layer1 ... layerN in order (a pytree's dict comes back sorted by key)
    for index in range(1, count + 1):
        h = dense(f"layer{index}", params[f"layer{index}"], h, last=index == count)
    return h


def loss(params=PARAMS):
    return cross_entropy(network(params, X), LABELS)


def deep(params=DEEP):
    return cross_entropy(network(params, X)[:, :2], LABELS)
