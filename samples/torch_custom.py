"""A custom torch.autograd.Function whose backward is wrong, which gad torch --check finds.

    gad torch samples/torch_custom.py:wrong x=[1,2] --check    # exits 1: [3, 6] against [2, 4]
    gad torch samples/torch_custom.py:right x=[1,2] --check    # agrees
    gad torch samples/torch_custom.py:wrong x=[1,2] -o custom.png

The function is drawn as one node named after its class (Square), as torch ran it.
"""

import torch


class Square(torch.autograd.Function):
    """x², with the derivative 3x where it should be 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x


def wrong(x):
    return Square.apply(x).sum()


def right(x):
    return (x * x).sum()
