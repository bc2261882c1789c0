"""One adapter per framework: build + train a fresh model, predict, single-row calls.

Every adapter receives the same float64 ``x`` and int64 ``y`` (as a user's
generator returns them) and does its own float32 conversion inside ``fit``,
so the conversion is part of the timed work for everyone. All use the same
architecture (ReLU hidden layers, a linear output trained from logits),
Adam(lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7), the batch size and epoch
count of the workload, and a fresh permutation per epoch with the last
partial batch kept. Differences a peer cannot avoid are listed in ``NOTES``.

A framework is imported only when its adapter is created.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable

import numpy as np

__all__ = ["ADAPTERS", "IMPORTS", "NOTES", "create"]

Spec = dict[str, Any]

# What the import-time measurement runs after ``import numpy`` (None: nothing beyond numpy).
IMPORTS: dict[str, str | None] = {
    "logitnet": "import logitnet",
    "numpy-ref": None,
    "torch": "import torch",
    "sklearn": "from sklearn.neural_network import MLPClassifier",
    "keras": "import keras",
}

NOTES: dict[str, str] = {
    "logitnet": "`Sequential(seed=s)`, `compile`, `fit(verbose=0, shuffle=True)`; `predict(x)` with its "
    "default batch_size (large internal chunks when silent, in this version).",
    "numpy-ref": "hand-written float32 loop in benchmarks/numpy_ref.py (speed floor); predict is one "
    "whole-set forward pass.",
    "torch": "plain loop: per-epoch `randperm` + slices, `CrossEntropyLoss`, `optim.Adam(eps=1e-7)` "
    "(torch adds eps to sqrt(v_hat), Kingma-Ba Algorithm 1; Keras adds it to sqrt(v) before "
    "bias correction); xavier_uniform_/zeros_ init; predict = `model(x)` under `no_grad` "
    "(one batch, numpy in/out); its matrix products run in its own MKL/oneDNN (not in the BLAS "
    "list, which shows NumPy's OpenBLAS loaded in the same process).",
    "sklearn": "MLPClassifier(solver='adam', alpha=0, tol=0, epsilon=1e-7, early_stopping=False) on a "
    "float32 copy of x (so it computes in float32); sklearn's Adam has Keras's epsilon form; its "
    "init draws biases uniformly too (not zeros); softmax output, so predict = `predict_proba` "
    "(one batch).",
    "keras": "Keras 3 on TensorFlow (CPU), default `jit_compile='auto'`; a fresh model traces its "
    "train function inside fit (included in the fit time); `predict(x, verbose=0)` with its default "
    "batch_size=32; TensorFlow computes with Eigen/oneDNN (the BLAS list shows only NumPy's and "
    "SciPy's OpenBLAS loaded in the process).",
}


class LogitnetAdapter:
    name = "logitnet"
    kind = "logits"

    def __init__(self) -> None:
        import logitnet

        self.ln = logitnet

    def version(self) -> dict[str, str]:
        return {"logitnet": self.ln.__version__, "numpy": np.__version__}

    progress = True  # the worker also times fit with its progress display (verbose=1)

    def fit(self, x: np.ndarray, y: np.ndarray, spec: Spec, seed: int, verbose: int = 0) -> tuple[Any, float]:
        ln = self.ln
        layers = [ln.Dense(h, activation="relu") for h in spec["hidden"]] + [ln.Dense(spec["n_classes"])]
        model = ln.Sequential(layers, seed=seed)
        model.compile(
            loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True),
            optimizer=ln.optimizers.Adam(learning_rate=spec["lr"], beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        )
        history = model.fit(x, y, batch_size=spec["batch_size"], epochs=spec["epochs"], verbose=verbose,
                            shuffle=True)
        return model, float(history.history["loss"][-1])

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.predict(x)

    def predict_one_batch(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.predict(x, batch_size=len(x))

    def row_calls(self, model: Any, row: np.ndarray) -> dict[str, Callable[[], Any]]:
        return {"predict": lambda: model.predict(row), "__call__": lambda: model(row)}


class NumpyRefAdapter:
    name = "numpy-ref"
    kind = "logits"

    def __init__(self) -> None:
        from numpy_ref import NumpyMLP

        self.cls = NumpyMLP

    def version(self) -> dict[str, str]:
        return {"numpy": np.__version__}

    def fit(self, x: np.ndarray, y: np.ndarray, spec: Spec, seed: int) -> tuple[Any, float]:
        model = self.cls(x.shape[1], spec["hidden"], spec["n_classes"], seed)
        loss = model.fit(x, y, spec["batch_size"], spec["epochs"], lr=spec["lr"])
        return model, loss

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.predict(x)

    predict_one_batch = predict

    def row_calls(self, model: Any, row: np.ndarray) -> dict[str, Callable[[], Any]]:
        return {"predict": lambda: model.predict(row)}


class TorchAdapter:
    name = "torch"
    kind = "logits"

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        self.torch = torch

    def version(self) -> dict[str, str]:
        return {"torch": self.torch.__version__, "torch_threads": str(self.torch.get_num_threads())}

    def _build(self, n_in: int, spec: Spec) -> Any:
        nn = self.torch.nn
        sizes = [n_in, *spec["hidden"], spec["n_classes"]]
        mods: list[Any] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = nn.Linear(a, b)
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)
            mods.append(lin)
            if i < len(sizes) - 2:
                mods.append(nn.ReLU())
        return nn.Sequential(*mods)

    def fit(self, x: np.ndarray, y: np.ndarray, spec: Spec, seed: int) -> tuple[Any, float]:
        torch = self.torch
        torch.manual_seed(seed)
        model = self._build(x.shape[1], spec)
        opt = torch.optim.Adam(model.parameters(), lr=spec["lr"], betas=(0.9, 0.999), eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
        gen = torch.Generator().manual_seed(seed)
        n, bs = len(xt), spec["batch_size"]
        model.train()
        epoch_loss = 0.0
        for _ in range(spec["epochs"]):
            perm = torch.randperm(n, generator=gen)
            xe, ye = xt[perm], yt[perm]
            total = 0.0
            for start in range(0, n, bs):
                xb, yb = xe[start:start + bs], ye[start:start + bs]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            epoch_loss = total / n
        model.eval()
        return model, epoch_loss

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return model(self.torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()

    predict_one_batch = predict

    def row_calls(self, model: Any, row: np.ndarray) -> dict[str, Callable[[], Any]]:
        return {"predict": lambda: self.predict(model, row)}


class SklearnAdapter:
    name = "sklearn"
    kind = "proba"

    def __init__(self) -> None:
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        self.sklearn = sklearn
        self.cls = MLPClassifier
        warnings.filterwarnings("ignore", category=ConvergenceWarning)

    def version(self) -> dict[str, str]:
        return {"sklearn": self.sklearn.__version__}

    def fit(self, x: np.ndarray, y: np.ndarray, spec: Spec, seed: int) -> tuple[Any, float]:
        model = self.cls(
            hidden_layer_sizes=tuple(spec["hidden"]), activation="relu", solver="adam", alpha=0.0,
            batch_size=spec["batch_size"], learning_rate_init=spec["lr"], max_iter=spec["epochs"],
            shuffle=True, random_state=seed, tol=0.0, n_iter_no_change=spec["epochs"] + 1,
            early_stopping=False, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
        )
        model.fit(np.asarray(x, dtype=np.float32), y)
        return model, float(model.loss_)

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.predict_proba(x)

    predict_one_batch = predict

    def row_calls(self, model: Any, row: np.ndarray) -> dict[str, Callable[[], Any]]:
        return {"predict_proba": lambda: model.predict_proba(row)}


class KerasAdapter:
    name = "keras"
    kind = "logits"

    def __init__(self) -> None:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras

        self.keras = keras

    def version(self) -> dict[str, str]:
        out = {"keras": self.keras.__version__, "backend": self.keras.backend.backend()}
        try:
            import tensorflow as tf

            out["tensorflow"] = tf.__version__
        except ImportError:  # pragma: no cover
            pass
        return out

    def fit(self, x: np.ndarray, y: np.ndarray, spec: Spec, seed: int) -> tuple[Any, float]:
        keras = self.keras
        keras.utils.set_random_seed(seed)
        layers = [keras.Input(shape=(x.shape[1],))]
        layers += [keras.layers.Dense(h, activation="relu") for h in spec["hidden"]]
        layers.append(keras.layers.Dense(spec["n_classes"]))
        model = keras.Sequential(layers)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=spec["lr"], beta_1=0.9, beta_2=0.999, epsilon=1e-7),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        history = model.fit(x, y, batch_size=spec["batch_size"], epochs=spec["epochs"], verbose=0, shuffle=True)
        return model, float(history.history["loss"][-1])

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.predict(x, verbose=0)

    def predict_one_batch(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.predict(x, batch_size=len(x), verbose=0)

    def row_calls(self, model: Any, row: np.ndarray) -> dict[str, Callable[[], Any]]:
        return {
            "predict": lambda: model.predict(row, verbose=0),
            "__call__": lambda: np.asarray(model(row, training=False)),
        }


ADAPTERS = {
    "logitnet": LogitnetAdapter,
    "numpy-ref": NumpyRefAdapter,
    "torch": TorchAdapter,
    "sklearn": SklearnAdapter,
    "keras": KerasAdapter,
}


def create(name: str) -> Any:
    """Import the framework ``name`` and return its adapter."""
    return ADAPTERS[name]()
