"""Write the batch that samples/softmax_step.gad reads: `.venv/bin/python samples/make_data.py`.

Twelve points with four features from three classes, each a Gaussian blob around its own
centre (seeded, so the files are the same on every run): samples/data/X.npy (12×4, float64)
and samples/data/y.npy (12 class indices 0, 1, 2, as float64, which cross_entropy reads as
indices).
"""

from pathlib import Path

import numpy as np

FOLDER = Path(__file__).resolve().parent / "data"
CENTRES = np.array([[1.0, 0.0, -1.0, 0.5], [-1.0, 1.0, 0.0, -0.5], [0.0, -1.0, 1.0, 0.0]])
PER_CLASS = 4


def main() -> None:
    rng = np.random.default_rng(2026)
    labels = np.repeat(np.arange(len(CENTRES)), PER_CLASS)
    points = CENTRES[labels] + 0.5 * rng.standard_normal((len(labels), CENTRES.shape[1]))
    order = rng.permutation(len(labels))
    FOLDER.mkdir(exist_ok=True)
    np.save(FOLDER / "X.npy", np.round(points[order], 3))
    np.save(FOLDER / "y.npy", labels[order].astype(np.float64))
    print(f"wrote {FOLDER / 'X.npy'} {points.shape} and {FOLDER / 'y.npy'} {labels.shape}")


if __name__ == "__main__":
    main()
