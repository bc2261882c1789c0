"""Helpers for :mod:`logitnet.sklearn`: hyperparameter checks, the network, labels, weights, pickling.

NumPy and logitnet only; :mod:`logitnet.sklearn` holds everything that
touches scikit-learn. Nothing here runs inside the training loop.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations, losses, optimizers
from ._validation import check_bool, check_int, check_real, is_int
from .initializers import RandomUniform
from .layers import Dense, Dropout
from .models import Sequential

__all__ = [
    "OPTIMIZERS",
    "check_hyperparameters",
    "make_generator",
    "bias_bound",
    "build_network",
    "export_network",
    "import_network",
    "encode_labels",
    "class_weight_vector",
    "extend_history",
    "as_1d_sample_weight",
]

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")


def _invalid(name: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"Received an invalid value for `{name}`, expected {expected}. Received: {name}={value!r}")


def _check_hidden(value: Any) -> tuple[int, ...]:
    expected = "a tuple of positive integers (one per hidden layer; () for none) or a positive integer"
    if is_int(value):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise _invalid("hidden_layer_sizes", expected, value)
    sizes = tuple(value)
    if not all(is_int(s) and s > 0 for s in sizes):
        raise _invalid("hidden_layer_sizes", expected, value)
    return tuple(int(s) for s in sizes)


def _check_activation(value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid("activation", "the name of an activation, e.g. 'relu' or 'tanh'", value)
    activations.get(value)  # raises ValueError listing the valid names
    return value


def _check_class_weight(value: Any) -> Any:
    if value is None or value == "balanced" or isinstance(value, dict):
        return value
    raise _invalid("class_weight", "None, 'balanced' or a dict {class label: weight}", value)


def _check_verbose(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or is_int(value):
        if 0 <= int(value) <= 2:
            return int(value)
    raise _invalid("verbose", "0 (silent), 1 (progress bar) or 2 (one line per epoch)", value)


def check_hyperparameters(est: Any) -> dict[str, Any]:
    """Validate an estimator's hyperparameters; return them normalised.

    Called at the start of ``fit`` and ``partial_fit`` (scikit-learn's
    ``__init__`` only stores its arguments).

    Raises
    ------
    ValueError
        The first invalid argument, named, with what was expected and received.
    """
    optimizer = est.optimizer
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise _invalid("optimizer", "one of " + ", ".join(repr(o) for o in OPTIMIZERS), optimizer)
    return {
        "hidden_layer_sizes": _check_hidden(est.hidden_layer_sizes),
        "activation": _check_activation(est.activation),
        "epochs": check_int(est.epochs, "epochs"),
        "batch_size": check_int(est.batch_size, "batch_size"),
        "optimizer": optimizer.lower(),
        "learning_rate": check_real(
            "learning_rate", est.learning_rate, 0.0, low_open=True, expected="a positive float"
        ),
        "early_stopping": check_bool("early_stopping", est.early_stopping),
        "validation_fraction": check_real(
            "validation_fraction", est.validation_fraction, 0.0, 1.0,
            low_open=True, high_open=True, expected="a float in (0, 1)",
        ),
        "patience": check_int(est.patience, "patience"),
        "dropout": check_real("dropout", est.dropout, 0.0, 1.0, high_open=True, expected="a float in [0, 1)"),
        "alpha": check_real("alpha", est.alpha, 0.0, expected="a non-negative float"),
        "class_weight": _check_class_weight(est.class_weight),
        "warm_start": check_bool("warm_start", est.warm_start),
        "verbose": _check_verbose(est.verbose),
    }


def make_generator(random_state: Any) -> np.random.Generator:
    """The generator a new network uses for its initial weights, shuffles and validation split.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        An int gives ``np.random.default_rng(random_state)``, exactly what
        ``Sequential(seed=random_state)`` uses, so refits are bit-identical.
        A ``RandomState`` (scikit-learn's convention) is drawn from once to
        seed a generator; a ``Generator`` is used as is (and advanced).
        ``None`` follows :func:`logitnet.utils.set_random_seed`, or fresh entropy.
    """
    if random_state is None:
        from .utils import make_rng

        return make_rng(None)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(np.iinfo(np.int32).max)))
    if is_int(random_state) and random_state >= 0:
        return np.random.default_rng(int(random_state))
    raise _invalid(
        "random_state", "None, a non-negative integer, a numpy RandomState or a numpy Generator", random_state
    )


def bias_bound(fan_in: int, fan_out: int, activation: str) -> float:
    """MLPClassifier's initial bound for a layer: sqrt(factor / (fan_in + fan_out)).

    ``factor`` is 2 for the logistic activation (logitnet's ``"sigmoid"``) and
    6 otherwise, and ``activation`` is the *hidden* layers' activation, also
    for the output layer (scikit-learn's ``_init_coef``).
    """
    factor = 2.0 if activations.get(activation).name == "sigmoid" else 6.0
    return math.sqrt(factor / (fan_in + fan_out))


def build_network(
    n_features: int,
    n_classes: int,
    config: tuple,
    learning_rate: float,
    rng: np.random.Generator,
) -> Sequential:
    """A compiled, built ``Sequential`` whose last layer outputs ``n_classes`` logits.

    Parameters
    ----------
    n_features, n_classes : int
    config : tuple
        ``(hidden_layer_sizes, activation, optimizer_name, dropout)``.
    learning_rate : float
    rng : numpy.random.Generator
        The model's generator (its weights are drawn from it here, layer by
        layer: kernel, then bias).

    Returns
    -------
    Sequential
        ``Dense(units, activation)`` per hidden layer (each followed by
        ``Dropout(dropout)`` when ``dropout > 0``), then a linear
        ``Dense(n_classes)``, compiled with
        ``SparseCategoricalCrossentropy(from_logits=True)``; float32.
        Kernels are Glorot-uniform (Keras's default); each layer's biases
        are ``RandomUniform(-b, b)`` with ``b = bias_bound(fan_in, fan_out,
        activation)``, MLPClassifier's initialisation, not Keras's zeros.
    """
    hidden, activation, optimizer_name, dropout = config
    widths = (n_features, *hidden, n_classes)
    bounds = [bias_bound(fan_in, fan_out, activation) for fan_in, fan_out in zip(widths[:-1], widths[1:])]
    layers: list = []
    for i, units in enumerate(hidden):
        bias_init = RandomUniform(-bounds[i], bounds[i])
        layers.append(Dense(units, activation=activation, bias_initializer=bias_init, name=f"hidden_{i + 1}"))
        if dropout > 0:
            layers.append(Dropout(dropout, name=f"dropout_{i + 1}"))
    output_init = RandomUniform(-bounds[-1], bounds[-1])
    layers.append(Dense(n_classes, activation="linear", bias_initializer=output_init, name="logits"))
    model = Sequential(layers, name="softmax_classifier", seed=rng, dtype="float32")
    optimizer = optimizers.get(optimizer_name)
    optimizer.learning_rate = learning_rate
    model.compile(optimizer=optimizer, loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    model.build((None, n_features))
    return model


def set_weight_penalty(model: Sequential, alpha: float, batch_size: int) -> None:
    """Put MLPClassifier's L2 penalty on every kernel: ``alpha / (2 * batch_size) * sum(kernel ** 2)`` per step.

    scikit-learn adds ``0.5 * alpha * sum(W ** 2) / n`` to the mean loss of a
    batch of ``n`` samples; with logitnet's :func:`~logitnet.regularizers.l2`
    that is ``l2(alpha / (2 * batch_size))`` (full batches). ``alpha=0``
    removes the penalty.
    """
    from .regularizers import L2

    for layer in model.layers:
        if isinstance(layer, Dense):
            layer.kernel_regularizer = L2(alpha / (2.0 * batch_size)) if alpha > 0 else None


def export_network(model: Sequential) -> dict[str, Any]:
    """Plain arrays describing a network and its optimizer: small to pickle, easy to rebuild.

    Leaves out gradient buffers and the layers' cached last batch.
    """
    optimizer = model.optimizer
    return {
        "n_features": model.input_dim,
        "n_classes": model.n_outputs,
        "weights": model.get_weights(),
        "learning_rate": optimizer.learning_rate,
        "optimizer_state": optimizer.get_state() if optimizer.built else None,
    }


def import_network(state: dict[str, Any], config: tuple, rng: np.random.Generator) -> Sequential:
    """Rebuild :func:`export_network`'s network around ``rng``, without advancing ``rng``.

    Continued training is bit-identical to training the original network:
    same weights, optimizer slots and step count, and the same generator
    state for the next shuffles.
    """
    rng_state = rng.bit_generator.state
    model = build_network(state["n_features"], state["n_classes"], config, state["learning_rate"], rng)
    rng.bit_generator.state = rng_state  # building drew initial weights; undo that
    model.set_weights(state["weights"])
    if state["optimizer_state"] is not None:
        model.optimizer.build(model.weights)
        model.optimizer.set_state(state["optimizer_state"])
    return model


def encode_labels(y: np.ndarray, classes: np.ndarray) -> NDArray[np.intp]:
    """Indices of ``y``'s labels in the sorted array ``classes``.

    Raises
    ------
    ValueError
        A label of ``y`` is not in ``classes``.
    """
    if len(y) == 0:
        return np.zeros(0, dtype=np.intp)
    index = np.searchsorted(classes, y)
    clipped = np.minimum(index, len(classes) - 1)
    unknown = classes[clipped] != y
    if np.any(unknown):
        bad = list(dict.fromkeys(y[unknown].tolist()))[:5]
        raise ValueError(
            f"`y` contains labels that are not among the classes {classes.tolist()}: {bad}. Pass every "
            "label at the first call to `partial_fit(..., classes=...)`, or refit without `warm_start`."
        )
    return index.astype(np.intp, copy=False)


def class_weight_vector(
    class_weight: Any, classes: np.ndarray, y_index: NDArray[np.intp], sample_weight: Optional[np.ndarray]
) -> NDArray[np.float64]:
    """One weight per class, shape (n_classes,), from ``None``, ``"balanced"`` or a dict.

    ``"balanced"`` gives class ``k`` the weight ``sum(w) / (n_classes * sum(w[y == k]))``,
    with ``w`` the sample weights (ones if None): the weighted form of
    ``n_samples / (n_classes * np.bincount(y))``. A class without weight in
    the data gets 0. A dict maps class labels to weights; classes it leaves
    out weigh 1.
    """
    n_classes = len(classes)
    if class_weight is None:
        return np.ones(n_classes)
    if class_weight == "balanced":
        counts = np.bincount(y_index, weights=sample_weight, minlength=n_classes).astype(np.float64)
        total = counts.sum()
        out = np.zeros(n_classes)
        present = counts > 0
        out[present] = total / (n_classes * counts[present])
        return out
    out = np.ones(n_classes)
    for label, weight in class_weight.items():
        matches = np.flatnonzero(classes == label) if len(classes) else []
        if len(matches) != 1:
            raise ValueError(
                f"Received an invalid value for `class_weight`: its key {label!r} is not one of the classes "
                f"{classes.tolist()}. Keys are class labels as they appear in `y`."
            )
        if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, (int, float, np.integer, np.floating)) \
                or not math.isfinite(weight) or weight < 0:
            raise ValueError(
                f"Received an invalid value for `class_weight`: the weight of class {label!r} must be a finite "
                f"non-negative number. Received: {weight!r}"
            )
        out[matches[0]] = float(weight)
    return out


def extend_history(history: dict[str, list], logs: dict[str, list], n_before: int) -> dict[str, list]:
    """Append one call's per-epoch logs to the running history, keeping every list the same length.

    A key that one side lacks is filled with NaN for those epochs, so
    ``len(history[key])`` is the total number of epochs for every key.
    """
    n_new = len(logs.get("loss", []))
    merged = {}
    for key in sorted(set(history) | set(logs)):
        old = history.get(key, [math.nan] * n_before)
        new = logs.get(key, [math.nan] * n_new)
        merged[key] = list(old) + [float(v) for v in new]
    return merged


def as_1d_sample_weight(sample_weight: Optional[ArrayLike], n_samples: int) -> Optional[NDArray[np.float64]]:
    """Checked per-sample weights in float64 (None stays None)."""
    from .data import check_sample_weight

    return check_sample_weight(sample_weight, n_samples=n_samples, dtype=np.float64)
