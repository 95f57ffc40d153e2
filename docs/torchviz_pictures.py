"""torchviz's pictures of the document's cases, for docs/torch.md to show beside ours.

    PYTHONPATH=DIR .venv/bin/python docs/torchviz_pictures.py

torchviz is not a dependency of graphviz-ad: install it apart (`pip install --no-deps --target
DIR torchviz`) and put DIR on PYTHONPATH. Draws with the system Graphviz `dot`, into
docs/pictures/torchviz-*.png, each from the same sample as our picture of the case.
"""

import runpy
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
PICTURES = ROOT / "docs" / "pictures"


def sample(name: str) -> dict:
    return runpy.run_path(str(ROOT / "samples" / name))


def main() -> int:
    try:
        from torchviz import make_dot
    except ImportError:
        print("torchviz is not installed: pip install --no-deps --target DIR torchviz, then "
              "PYTHONPATH=DIR")
        return 1
    torch.set_default_dtype(torch.float64)  # as gad torch runs the samples
    leaves = {name: torch.tensor(value, requires_grad=True)
              for name, value in (("x1", 1.5), ("x2", 0.5), ("c", 1.0))}
    drawings = {"seed": make_dot(sample("torch_seed.py")["f"](**leaves), params=leaves)}
    x = torch.ones(2, requires_grad=True)
    drawings["detach"] = make_dot(sample("torch_detach.py")["with_detach"](x), params={"x": x})
    resnet = sample("torch_resnet18.py")
    drawings["resnet18"] = make_dot(resnet["logits"](),
                                    params=dict(resnet["model"].named_parameters()))
    for name, drawing in drawings.items():
        drawing.render(str(PICTURES / f"torchviz-{name}"), format="png", cleanup=True)
        print(f"wrote docs/pictures/torchviz-{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
