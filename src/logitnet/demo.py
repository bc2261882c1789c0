"""``logitnet demo``: the seed notebook, end to end, on logitnet.

It trains the notebook's two models on its four-blob data: the
*non-preferred* one with a sigmoid output layer and the *preferred* one with
a linear output trained ``from_logits=True``, and prints what the notebook
prints, plus each model's training accuracy and fit time.
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Optional, TextIO

import numpy as np

from . import losses, optimizers
from .datasets import load_seed_blobs
from .layers import Dense
from .models import Sequential
from .ops import softmax

__all__ = ["run_demo"]


def _train(model: Sequential, loss: losses.Loss, X: np.ndarray, y: np.ndarray, epochs: int, verbose: int, out: TextIO):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile(loss=loss, optimizer=optimizers.Adam(learning_rate=0.001))
    for w in caught:
        print(f"note: {w.message}", file=out)
    start = time.perf_counter()
    history = model.fit(X, y, epochs=epochs, verbose=verbose)
    seconds = time.perf_counter() - start
    return history, seconds


def _report(name: str, p: np.ndarray, y: np.ndarray, history, seconds: float, out: TextIO) -> None:
    accuracy = float(np.mean(np.argmax(p, axis=1) == y))
    print(
        f"{name}: training accuracy {accuracy:.4f}, final epoch loss {history.history['loss'][-1]:.4f}, "
        f"fit time {seconds:.3f} s",
        file=out,
    )


def run_demo(
    epochs: int = 10, seed: Optional[int] = 0, verbose: int = 1, out: TextIO = None, plot: Optional[str] = None
) -> dict:
    """Run the seed notebook and print its results.

    Parameters
    ----------
    epochs : int, default 10
    seed : int or None, default 0
        Seeds both models (weights and shuffling); ``None`` for a fresh run.
    verbose : int, default 1
        Progress display of ``fit`` (0 silent, 1 bar, 2 one line per epoch).
    out : text stream, default sys.stdout
    plot : str or path, optional
        Also write a PNG of both models' decision regions and learning curves
        and the preferred model's probability surfaces
        (:func:`logitnet.plotting.plot_demo`); needs matplotlib.

    Returns
    -------
    dict
        ``{"nonpreferred": (accuracy, final_loss), "preferred": (accuracy, final_loss)}``.
    """
    out = sys.stdout if out is None else out
    if plot is not None:
        from .plotting import _require_matplotlib

        _require_matplotlib()  # fail before training, not after
    X_train, y_train = load_seed_blobs()
    print(f"Data: make_blobs, {X_train.shape[0]} samples x {X_train.shape[1]} features, 4 classes", file=out)
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**31, size=2) if seed is not None else (None, None)

    print("\n== Non-preferred model: sigmoid output layer, SparseCategoricalCrossentropy() ==", file=out)
    model = Sequential(
        [
            Dense(25, activation="relu", name="layer1"),
            Dense(15, activation="relu", name="layer2"),
            Dense(4, activation="sigmoid", name="layer3"),
        ],
        seed=None if seeds[0] is None else int(seeds[0]),
    )
    history, seconds = _train(model, losses.SparseCategoricalCrossentropy(), X_train, y_train, epochs, verbose, out)
    p_nonpreferred = model.predict(X_train)
    with np.printoptions(precision=8):
        print(p_nonpreferred[:2], file=out)
        print("largest value", np.max(p_nonpreferred), "smallest value", np.min(p_nonpreferred), file=out)
        for i in range(5):
            print(f"{p_nonpreferred[i]}, category: {np.argmax(p_nonpreferred[i])}", file=out)
    _report("non-preferred model", p_nonpreferred, y_train, history, seconds, out)
    histories = [history]
    results = {"nonpreferred": (float(np.mean(np.argmax(p_nonpreferred, 1) == y_train)), history.history["loss"][-1])}

    print("\n== Preferred model: linear output layer, SparseCategoricalCrossentropy(from_logits=True) ==", file=out)
    preferred_model = Sequential(
        [Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(4, activation="linear")],
        seed=None if seeds[1] is None else int(seeds[1]),
    )
    history, seconds = _train(
        preferred_model, losses.SparseCategoricalCrossentropy(from_logits=True), X_train, y_train, epochs, verbose, out
    )
    p_preferred = preferred_model.predict(X_train)
    with np.printoptions(precision=8):
        print(f"two example output vectors:\n {p_preferred[:2]}", file=out)
        print("largest value", np.max(p_preferred), "smallest value", np.min(p_preferred), file=out)
        print("The outputs are logits, not probabilities; softmax turns them into probabilities:", file=out)
        sm_preferred = softmax(p_preferred)
        print(f"two example output vectors:\n {sm_preferred[:2]}", file=out)
        print("largest value", np.max(sm_preferred), "smallest value", np.min(sm_preferred), file=out)
        print("To pick the most likely category, softmax is not needed: argmax of the logits gives it.", file=out)
        for i in range(5):
            print(f"{p_preferred[i]}, category: {np.argmax(p_preferred[i])}", file=out)
    _report("preferred model", p_preferred, y_train, history, seconds, out)
    histories.append(history)
    results["preferred"] = (float(np.mean(np.argmax(p_preferred, 1) == y_train)), history.history["loss"][-1])

    print(
        "\nWhy the preferred model is preferred:\n"
        "  - Its outputs are logits z, and the loss log(sum(exp(z))) - z[y] is computed from them directly, so no\n"
        "    probability is ever rounded to 0 or 1 before its log is taken: the loss and gradient stay exact.\n"
        "  - Softmax is applied afterwards, only when probabilities are wanted; its rows sum to 1, unlike the\n"
        "    non-preferred model's sigmoid outputs (logitnet, like TensorFlow-Keras, trains that model from its\n"
        "    logits too, which is why both reach the same accuracy here).",
        file=out,
    )
    if plot is not None:
        from .plotting import plot_demo

        plot_demo(model, preferred_model, X_train, y_train, histories).savefig(plot, dpi=100)
        print(f"\nFigure written to {plot}", file=out)
    return results
