import torch
from torchviz import make_dot

D_in, H1, H2, D_out = 2, 3, 3, 1
model = torch.nn.Sequential(
    torch.nn.Linear(D_in, H1),
    torch.nn.Tanh(),
    torch.nn.Linear(H1, H2),
    torch.nn.Tanh(),
    torch.nn.Linear(H2, D_out),
)
x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
target = torch.tensor([[1.0], [1.0], [0.0], [0.0]])
loss = ((model(x) - target) ** 2).mean()
loss.backward()
make_dot(loss, dict(model.named_parameters()))
