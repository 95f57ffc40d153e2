"""A small RNN by lax.scan: h_t = tanh(W h_(t-1) + U x_t), the loss the last state's sum of
squares. The scan is one group of T steps, folded into one box carrying its total derivative.

    gad jax samples/jax_rnn.py                      # the gradients of W, U and h0
    gad jax samples/jax_rnn.py -o rnn-jax.svg       # the scan folded
    gad jax samples/jax_rnn.py --paths --wrt h0
"""

import jax.numpy as jnp
import numpy as np
from jax import lax

random = np.random.default_rng(1)
T, H, D = 5, 3, 2
XS = jnp.asarray(random.normal(size=(T, D)))
W0 = jnp.asarray(random.normal(size=(H, H)) * 0.5)
U0 = jnp.asarray(random.normal(size=(H, D)) * 0.5)
H0 = jnp.zeros(H)


def rnn(W=W0, U=U0, h0=H0):
    def step(h, x):
        h = jnp.tanh(W @ h + U @ x)
        return h, h

    last, states = lax.scan(step, h0, XS)
    return jnp.sum(last ** 2) + 0.1 * jnp.sum(states)
