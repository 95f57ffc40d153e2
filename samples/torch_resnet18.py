"""torchvision's resnet18 layout on a 224×224 image of zeros, as the document draws it with
torchviz's make_dot(model(x)); gad draws it folded into its stem, eight blocks and head:

    gad torch samples/torch_resnet18.py -o resnet18.svg

The logits are summed (a note says so), so the gradients are those of their sum.
torchvision is not needed: the layout is built from samples/torch_resnet.py's BasicBlock.
"""

import runpy
from pathlib import Path

import torch

resnet18 = runpy.run_path(str(Path(__file__).with_name("torch_resnet.py")))["resnet18"]
torch.manual_seed(0)
model = resnet18()
x = torch.zeros(1, 3, 224, 224)


def logits():
    return model(x)
