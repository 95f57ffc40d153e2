"""A small MLP and its MSE loss, grouped by layer: every parameter's gradient is torch's own.

    gad torch samples/torch_mlp.py                     # the gradient of every parameter
    gad torch samples/torch_mlp.py -o mlp.svg --rankdir TB
    gad torch samples/torch_mlp.py:deep -o deep.svg    # Linear(2,H1), Linear(H1,H2), Linear(H2,1)
"""

import torch
from torch import nn

torch.manual_seed(0)
X = torch.randn(4, 2)
Y = torch.randn(4, 1)
model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
H1, H2 = 4, 3
deeper = nn.Sequential(nn.Linear(2, H1), nn.Tanh(), nn.Linear(H1, H2), nn.Tanh(),
                       nn.Linear(H2, 1))


def loss():
    return nn.functional.mse_loss(model(X), Y)


def deep():
    return nn.functional.mse_loss(deeper(X), Y)
