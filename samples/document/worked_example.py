import torch
from torchviz import make_dot

x1 = torch.tensor(1.5, requires_grad=True)
x2 = torch.tensor(0.5, requires_grad=True)
c = torch.tensor(1.0, requires_grad=True)
y = (torch.sin(x2) + c) / (x2 + torch.exp(x1)) + x1 * x2
y.backward()
print(x1.grad)
print(x2.grad)
print(c.grad)
params = {'x1': x1, 'x2': x2, 'c': c}
param_map = {id(v): k for k, v in params.items()}
make_dot(y, params)
