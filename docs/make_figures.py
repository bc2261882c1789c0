"""Draw the figures of the README and the docs into docs/images/ (needs matplotlib).

    python docs/make_figures.py            # writes docs/images/*.png
    python docs/make_figures.py --out DIR  # somewhere else

The seed notebook's two models are trained on its four blobs with fixed
seeds, so the figures come out the same on every run (for given versions of
NumPy and matplotlib). The PNGs carry no timestamp or version metadata.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import logitnet as ln
from logitnet import plotting

IMAGES = Path(__file__).resolve().parent / "images"
SAVE = {"metadata": {"Software": None}}  # no matplotlib version in the file: byte-stable output


def seed_model(output_activation: str, from_logits: bool, seed: int) -> ln.Sequential:
    """The seed notebook's network, compiled as the notebook does (plus the accuracy metric)."""
    model = ln.Sequential(
        [ln.Dense(25, activation="relu"), ln.Dense(15, activation="relu"), ln.Dense(4, activation=output_activation)],
        seed=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sigmoid model's note, expected here
        model.compile(
            loss=ln.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
            optimizer=ln.optimizers.Adam(learning_rate=0.001),
            metrics=["accuracy"],
        )
    return model


def make_figures(out: Path) -> list[Path]:
    """Train the models and write the PNGs into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    X, y = ln.datasets.load_seed_blobs()
    nonpreferred = seed_model("sigmoid", False, seed=1)
    preferred = seed_model("linear", True, seed=2)
    histories = [m.fit(X, y, epochs=10, verbose=0) for m in (nonpreferred, preferred)]
    # A third copy of the preferred model, trained longer with 20 % held out, for validation curves.
    curves_model = seed_model("linear", True, seed=3)
    curves = curves_model.fit(X, y, epochs=30, validation_split=0.2, verbose=0)

    figures = {
        "demo.png": (plotting.plot_demo(nonpreferred, preferred, X, y, histories), 72),
        "decision_regions.png": (plotting.plot_decision_regions(preferred, X, y), 90),
        "probabilities.png": (plotting.plot_probabilities(preferred, X, y), 80),
        "learning_curves.png": (curves.plot(), 90),
        "confusion_matrix.png": (plotting.plot_confusion_matrix(preferred, X, y), 80),
    }
    paths = []
    for name, (fig, dpi) in figures.items():
        path = out / name
        fig.savefig(path, dpi=dpi, **SAVE)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help=f"output folder (default {IMAGES})")
    args = parser.parse_args()
    for path in make_figures(args.out):
        print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
