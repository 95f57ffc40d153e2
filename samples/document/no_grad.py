import torch

x = torch.tensor(2., requires_grad=True)
with torch.no_grad():
    y = x * 2
print(y, y.requires_grad)
