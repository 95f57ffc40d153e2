import torch
import torchvision.models as models
from torchviz import make_dot

resnet18 = models.resnet18()
x = torch.zeros(1, 3, 224, 224, dtype=torch.float)
out = resnet18(x)
make_dot(out)
