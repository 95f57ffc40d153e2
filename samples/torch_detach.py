"""detach(), .data and no_grad() in PyTorch: each cuts the gradient where torchviz draws nothing.

    gad torch samples/torch_detach.py:plain x=[1,1]          # df/dx = [3, 3]
    gad torch samples/torch_detach.py:with_detach x=[1,1]    # [2, 2]: the detached branch is cut
    gad torch samples/torch_detach.py:with_data x=[1,1]      # [2, 2]: .data cuts it too
    gad torch samples/torch_detach.py:with_no_grad x=[1,1]   # [1, 1]: y enters as a cut value
"""

import torch


def plain(x):
    y = 2 * x
    z = 3 + x
    return (y + z).sum()


def with_detach(x):
    y = 2 * x
    z = 3 + x.detach()
    return (y + z).sum()


def with_data(x):
    y = 2 * x
    z = 3 + x.data
    return (y + z).sum()


def with_no_grad(x):
    with torch.no_grad():
        y = x * 2
    return (y + x).sum()
