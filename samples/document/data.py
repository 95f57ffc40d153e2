import torch
from torchviz import make_dot

x = torch.ones(2, requires_grad=True)
y = 2 * x
z = 3 + x.data
r = (y + z).sum()
make_dot(r)
