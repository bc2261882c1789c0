"""SoftmaxClassifier against scikit-learn's MLPClassifier on digits, iris and wine.

Both get the same network and training: hidden layers (25, 15) with ReLU,
Adam with learning rate 1e-3 (its other settings at each library's
defaults), batches of 32, shuffling, the same L2 penalty ``alpha`` on the
weights (``--alpha``, default 1e-4, MLPClassifier's default), standardised
features (a scaler fitted on each training split) and the same stratified
75/25 splits. Each library initialises its weights its own way: Glorot-uniform
kernels, and biases uniform in +-sqrt(6 / (fan_in + fan_out)), with
different random draws. Three settings:

- ``fixed``: exactly ``--epochs`` epochs each (MLPClassifier with tol=0 and
  n_iter_no_change=epochs, so it never stops early);
- ``early-stopping``: at most ``--epochs`` epochs; each holds out 10% of the
  training data and stops after 10 epochs without improvement
  (SoftmaxClassifier monitors the validation loss and keeps the best
  epoch's weights; MLPClassifier monitors validation accuracy);
- ``mlp-defaults``: SoftmaxClassifier as in ``fixed``, MLPClassifier with its
  default stopping rule (tol=1e-4, n_iter_no_change=10, at most
  ``--epochs`` epochs): what a user of MLPClassifier gets.

Each dataset is split with several seeds (``--seeds``; by default 50 for
digits and 200 for iris and wine: with few splits the standard error of the
difference is itself too noisy to trust). The table gives the mean held-out
accuracy of each model, their paired difference (same split, same seed)
with its standard error, the median fit time and number of epochs, and the
ratio of the median times per epoch (MLPClassifier / SoftmaxClassifier).

Run (needs the ``sklearn`` extra; about 6 minutes on 2 cores)::

    python examples/compare_mlp.py               # all settings, 200 epochs, alpha 1e-4
    python examples/compare_mlp.py --setting fixed --seeds 2 --epochs 50
    python examples/compare_mlp.py --setting fixed --seeds 100 --datasets digits --alpha 0
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

try:
    from sklearn.datasets import load_digits, load_iris, load_wine
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler
except ImportError:  # pragma: no cover
    raise SystemExit("This example needs scikit-learn: pip install 'logitnet[sklearn]'") from None

from logitnet.sklearn import SoftmaxClassifier

DATASETS = {"digits": load_digits, "iris": load_iris, "wine": load_wine}
DEFAULT_SEEDS = {"digits": 50, "iris": 200, "wine": 200}
HIDDEN = (25, 15)
SETTINGS = ("fixed", "early-stopping", "mlp-defaults")


def make_models(setting: str, epochs: int, seed: int, alpha: float) -> dict:
    """The two classifiers with matched settings."""
    common = dict(hidden_layer_sizes=HIDDEN, activation="relu", batch_size=32, alpha=alpha, random_state=seed)
    if setting == "fixed":
        ours = dict(epochs=epochs)
        theirs = dict(max_iter=epochs, tol=0.0, n_iter_no_change=epochs)
    elif setting == "early-stopping":
        ours = dict(epochs=epochs, early_stopping=True, validation_fraction=0.1, patience=10)
        theirs = dict(max_iter=epochs, early_stopping=True, validation_fraction=0.1, n_iter_no_change=10)
    else:  # mlp-defaults: MLPClassifier's own stopping rule (tol=1e-4, n_iter_no_change=10)
        ours = dict(epochs=epochs)
        theirs = dict(max_iter=epochs)
    return {
        "SoftmaxClassifier": SoftmaxClassifier(optimizer="adam", learning_rate=1e-3, **common, **ours),
        "MLPClassifier": MLPClassifier(solver="adam", learning_rate_init=1e-3, **common, **theirs),
    }


def run(name: str, setting: str, epochs: int, seeds: int, alpha: float) -> dict:
    """Accuracies and fit times of both models over ``seeds`` stratified splits of one dataset."""
    X, y = DATASETS[name](return_X_y=True)
    results: dict = {}
    for seed in range(seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        for model_name, model in make_models(setting, epochs, seed, alpha).items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            entry = results.setdefault(model_name, {"accuracy": [], "seconds": [], "epochs": []})
            entry["accuracy"].append(model.score(X_test, y_test))
            entry["seconds"].append(seconds)
            entry["epochs"].append(model.n_iter_)
    return results


def _mean_se(values: list) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se)


def summarize(name: str, results: dict) -> dict:
    """Mean accuracies, the paired difference (ours - MLP) with its standard error, median fit times and epochs."""
    ours, theirs = results["SoftmaxClassifier"], results["MLPClassifier"]
    diff = np.subtract(ours["accuracy"], theirs["accuracy"])
    return {
        "dataset": name,
        "splits": len(diff),
        "acc_ours": _mean_se(ours["accuracy"])[0],
        "acc_mlp": _mean_se(theirs["accuracy"])[0],
        "diff": _mean_se(diff)[0],
        "diff_se": _mean_se(diff)[1],
        "sec_ours": float(np.median(ours["seconds"])),
        "sec_mlp": float(np.median(theirs["seconds"])),
        "epochs_ours": float(np.median(ours["epochs"])),
        "epochs_mlp": float(np.median(theirs["epochs"])),
        "per_epoch_speedup": float(np.median(np.divide(theirs["seconds"], theirs["epochs"]))
                                   / np.median(np.divide(ours["seconds"], ours["epochs"]))),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=SETTINGS + ("all",), default="all")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=None,
                        help="stratified splits per dataset (default: 50 for digits, 200 for iris and wine)")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty of both models (default 1e-4)")
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    args = parser.parse_args(argv)

    rows = []
    for setting in SETTINGS if args.setting == "all" else (args.setting,):
        epochs = {"fixed": f"exactly {args.epochs} epochs",
                  "early-stopping": f"at most {args.epochs} epochs, early stopping",
                  "mlp-defaults": f"{args.epochs} epochs; MLPClassifier at most {args.epochs}, with its tol stop",
                  }[setting]
        print(f"\nSetting '{setting}': {epochs}; hidden {HIDDEN}, ReLU, Adam lr 1e-3, batch 32, "
              f"alpha {args.alpha:g}; accuracy: mean over stratified 75/25 splits; difference: paired, "
              "+- standard error; fit time: median\n")
        print("| dataset | splits | SoftmaxClassifier accuracy | MLPClassifier accuracy | difference | "
              "SoftmaxClassifier fit (epochs) | MLPClassifier fit (epochs) | speed-up per epoch |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in args.datasets:
            seeds = DEFAULT_SEEDS[name] if args.seeds is None else args.seeds
            row = {"setting": setting, **summarize(name, run(name, setting, args.epochs, seeds, args.alpha))}
            rows.append(row)
            print(f"| {name} | {row['splits']} | {row['acc_ours']:.4f} | {row['acc_mlp']:.4f} | {row['diff']:+.4f} "
                  f"+- {row['diff_se']:.4f} | {row['sec_ours']:.3f} s ({row['epochs_ours']:.0f}) | "
                  f"{row['sec_mlp']:.3f} s ({row['epochs_mlp']:.0f}) | {row['per_epoch_speedup']:.1f}x |", flush=True)
    return rows


if __name__ == "__main__":
    main()
