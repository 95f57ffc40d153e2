"""The worked example in PyTorch, with c as a third leaf (the document's torchviz case).

    gad torch samples/torch_seed.py x1=1.5 x2=0.5 c=1
    gad torch samples/torch_seed.py x1=1.5 x2=0.5 c=1 --paths --wrt x2
    gad torch samples/torch_seed.py x1=1.5 x2=0.5 c=1 --wrt x2 -o seed-torch.png
"""

import torch


def f(x1, x2, c):
    return (torch.sin(x2) + c) / (x2 + torch.exp(x1)) + x1 * x2
