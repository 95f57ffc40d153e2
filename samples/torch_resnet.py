"""A small ResNet (torchvision's BasicBlock, two blocks) on a 32×32 image, grouped by module.

    gad torch samples/torch_resnet.py:loss -o resnet.svg --rankdir TB

torchvision is not needed: `resnet18()` builds torchvision's resnet18 layout from the same block
(bench/pytorch.py draws it).
"""

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norms, an in-place ReLU, and the input added in place
    (through a 1×1 convolution where the shape changes)."""

    def __init__(self, inputs, outputs, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.downsample = None
        if stride != 1 or inputs != outputs:
            self.downsample = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride=stride,
                                                      bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, widths=(8,), blocks=2, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        previous = widths[0]
        for index, width in enumerate(widths, start=1):
            stride = 1 if index == 1 else 2
            layer = [BasicBlock(previous, width, stride)]
            layer += [BasicBlock(width, width) for _ in range(blocks - 1)]
            setattr(self, f"layer{index}", nn.Sequential(*layer))
            previous = width
        self.layers = len(widths)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(previous, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for index in range(1, self.layers + 1):
            x = getattr(self, f"layer{index}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18():
    """torchvision's resnet18 layout: 64 to 512 channels, two blocks a stage, 1000 classes
    (its stem is a 7×7 convolution and a max pool; here a 3×3 one, as in CIFAR ResNets)."""
    return ResNet((64, 128, 256, 512), 2, 1000)


torch.manual_seed(0)
model = ResNet()
image = torch.rand(1, 3, 32, 32)
label = torch.tensor([3])


def loss():
    return nn.functional.cross_entropy(model(image), label)
