import torch
from torchviz import make_dot

D_in, H, D_out = 2, 3, 1
model = torch.nn.Sequential(torch.nn.Linear(D_in, H), torch.nn.Linear(H, D_out))
x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
target = torch.tensor([[1.0], [1.0], [0.0], [0.0]])
loss = torch.nn.functional.mse_loss(model(x), target)
loss.backward()
make_dot(loss, dict(model.named_parameters()))
