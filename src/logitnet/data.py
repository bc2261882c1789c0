"""Checking and converting user data once, at the public boundary.

Everything the training loop touches has been through one of these checks:
the loop itself never validates. Each error names the argument, what was
expected and what was received.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "check_features",
    "check_sparse_labels",
    "check_categorical_targets",
    "check_sample_weight",
    "check_same_length",
    "class_weight_to_sample_weight",
    "train_validation_split",
    "assign_weights",
]


def _describe(arr: Any) -> str:
    shape = getattr(arr, "shape", None)
    dtype = getattr(arr, "dtype", None)
    return f"shape={shape}, dtype={dtype}" if shape is not None else f"type={type(arr).__name__}"


def _as_array(value: ArrayLike, name: str) -> np.ndarray:
    if value is None:
        raise ValueError(f"Argument `{name}` is required, but received None.")
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise ValueError(
            f"Argument `{name}` could not be converted to an array: {exc}. Received: {type(value).__name__}"
        ) from None


def _first_nonfinite(arr: np.ndarray) -> tuple:
    bad = np.argwhere(~np.isfinite(arr))[0]
    return tuple(int(i) for i in bad)


def check_features(
    x: ArrayLike, *, name: str = "x", dtype: Any = np.float32, n_features: Optional[int] = None
) -> NDArray[np.floating]:
    """Check inputs and return them as a C-contiguous float array.

    Parameters
    ----------
    x : array_like of shape (n_samples, n_features)
        Numbers (ints, floats or bools); lists and DataFrames are converted.
    name : str
        The argument's name, for messages.
    dtype : numpy dtype
        The model's dtype (float32 by default).
    n_features : int, optional
        The feature count the model was built for.

    Returns
    -------
    ndarray of shape (n_samples, n_features) and the requested dtype

    Raises
    ------
    ValueError
        Not 2-D, wrong feature count, NaN or infinity.
    TypeError
        Non-numeric values (strings, objects).
    """
    arr = _as_array(x, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Argument `{name}` must hold numbers (int, float or bool), but has dtype {arr.dtype}"
            + (" (strings)" if arr.dtype.kind in "USO" else "")
            + ". Encode text columns as numbers first (e.g. one-hot encoding)."
        )
    if arr.ndim != 2:
        hint = ""
        if arr.ndim == 1:
            hint = (
                " Reshape with x.reshape(-1, 1) if it holds one feature, or x.reshape(1, -1) if it holds one sample."
            )
        raise ValueError(
            f"Argument `{name}` must be a 2-D array of shape (n_samples, n_features), "
            f"but received an array with ndim={arr.ndim} and shape {arr.shape}.{hint}"
        )
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"Argument `{name}` has {arr.shape[1]} features per sample, but the model expects {n_features} "
            f"(it was built for inputs of shape (None, {n_features})). Received: {name}.shape={arr.shape}"
        )
    with np.errstate(over="ignore"):  # overflow to inf is reported below
        converted = np.ascontiguousarray(arr, dtype=dtype)
    if converted.size and not np.isfinite(converted).all():
        row, col = _first_nonfinite(converted)
        value = arr[row, col]
        hint = f" It overflows {np.dtype(dtype).name}, the model's dtype." if np.isfinite(value) else ""
        raise ValueError(
            f"Argument `{name}` contains NaN or infinity (first at row {row}, column {col}: "
            f"{value}).{hint} Remove or impute those values before training or predicting."
        )
    return converted


def check_same_length(**arrays: Any) -> None:
    """Raise if the named arrays do not all have the same number of rows."""
    sizes = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(sizes.values())) > 1:
        detail = "".join(f"'{k}' sizes: {n}\n" for k, n in sizes.items())
        raise ValueError(
            "Data cardinality is ambiguous: all arrays must contain the same number of samples. " + detail
        )


def _integral_labels(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype.kind in "USO":
        sample = ", ".join(repr(v) for v in np.unique(arr.astype(str))[:3])
        raise TypeError(
            f"Argument `{name}` holds strings ({sample}, ...), but a sparse categorical loss needs integer "
            "class indices 0..K-1. Encode them first, e.g. `classes, y = np.unique(y, return_inverse=True)` "
            "or sklearn.preprocessing.LabelEncoder."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Argument `{name}` must hold integer class indices, but has dtype {arr.dtype}.")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"Argument `{name}` contains NaN or infinity; labels must be integers 0..K-1.")
        frac = arr != np.floor(arr)
        if frac.any():
            bad = arr[frac][0]
            raise ValueError(
                f"Argument `{name}` must hold integer class indices, but contains the non-integral value "
                f"{bad!r}. (Keras would silently truncate it to {int(bad)}; round or encode the labels first.)"
            )
    return arr.astype(np.intp)


def check_sparse_labels(
    y: ArrayLike,
    *,
    n_classes: int,
    name: str = "y",
    loss_name: str = "sparse_categorical_crossentropy",
    ignore_class: Optional[int] = None,
) -> NDArray[np.intp]:
    """Check integer class labels against the model's output width.

    Parameters
    ----------
    y : array_like of shape (n_samples,) or (n_samples, 1)
    n_classes : int
        The number of output units.
    ignore_class : int, optional
        The loss's ``ignore_class``: labels equal to it are accepted (the loss
        leaves those samples out) even outside ``[0, n_classes)``.

    Returns
    -------
    ndarray of shape (n_samples,) and dtype intp
    """
    arr = _as_array(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        hint = ""
        if arr.ndim == 2 and arr.shape[1] == n_classes:
            hint = (
                " It looks one-hot encoded: use loss='categorical_crossentropy' (CategoricalCrossentropy) for "
                "one-hot targets, or pass y.argmax(axis=1)."
            )
        raise ValueError(
            f"Argument `{name}` for `{loss_name}` must hold one class index per sample, shape (n_samples,) "
            f"or (n_samples, 1), but received shape {arr.shape}.{hint}"
        )
    labels = _integral_labels(arr, name)
    checked = labels if ignore_class is None else labels[labels != ignore_class]
    if checked.size:
        lo, hi = int(checked.min()), int(checked.max())
        if lo < 0 or hi >= n_classes:
            bad = lo if lo < 0 else hi
            hint = ""
            if lo == 1 and hi == n_classes:
                hint = " The labels look 1-based: subtract 1 (or use sklearn's LabelEncoder)."
            elif hi >= n_classes:
                hint = (
                    f" Either the last layer needs at least {hi + 1} units, or the labels need re-encoding "
                    "to 0..K-1 (e.g. with sklearn's LabelEncoder)."
                )
            raise ValueError(
                f"Argument `{name}` contains the label {bad}, outside the valid range [0, {n_classes}) for a "
                f"model with {n_classes} outputs.{hint}"
            )
    return labels


def check_categorical_targets(
    y: ArrayLike, *, n_classes: int, dtype: Any = np.float32, name: str = "y"
) -> NDArray[np.floating]:
    """Check one-hot or soft targets of shape (n_samples, n_classes)."""
    arr = _as_array(y, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Argument `{name}` for `categorical_crossentropy` must hold numbers (one-hot or probability rows), "
            f"but has dtype {arr.dtype}."
        )
    if arr.ndim != 2 or arr.shape[1] != n_classes:
        hint = ""
        if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
            hint = (
                " It looks like integer class labels: use loss='sparse_categorical_crossentropy' "
                "(SparseCategoricalCrossentropy), or one-hot encode with logitnet.ops.one_hot(y, n_classes)."
            )
        raise ValueError(
            f"Argument `{name}` for `categorical_crossentropy` must have shape (n_samples, {n_classes}) "
            f"to match the model's {n_classes} outputs, but received shape {arr.shape}.{hint}"
        )
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if arr.size and not np.isfinite(arr).all():
        row, col = _first_nonfinite(arr)
        raise ValueError(f"Argument `{name}` contains NaN or infinity (first at row {row}, column {col}).")
    return arr


def check_sample_weight(
    sample_weight: Optional[ArrayLike], *, n_samples: int, dtype: Any = np.float32, name: str = "sample_weight"
) -> Optional[NDArray[np.floating]]:
    """Check per-sample weights: shape (n_samples,) (or (n_samples, 1)), finite, non-negative."""
    if sample_weight is None:
        return None
    arr = _as_array(sample_weight, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Argument `{name}` must hold numbers, but has dtype {arr.dtype}.")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape != (n_samples,):
        raise ValueError(
            f"Argument `{name}` must have shape ({n_samples},), one weight per sample, but received shape {arr.shape}."
        )
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if arr.size and not (np.isfinite(arr).all() and (arr >= 0).all()):
        raise ValueError(f"Argument `{name}` must hold finite, non-negative numbers.")
    return arr


def class_weight_to_sample_weight(
    class_weight: dict, labels: NDArray[np.intp], *, n_classes: int, dtype: Any = np.float32
) -> NDArray[np.floating]:
    """Turn ``{class_index: weight}`` into per-sample weights (missing classes weigh 1, as Keras).

    Parameters
    ----------
    class_weight : dict
    labels : ndarray of shape (n_samples,)
        Integer class indices (the argmax of one-hot targets). Labels outside
        ``[0, n_classes)`` (an ``ignore_class`` such as -1 or 255) weigh 1.
    """
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"Argument `class_weight` must be a dict mapping class index to weight. Received: {type(class_weight).__name__}"
        )
    table = np.ones(n_classes, dtype=np.float64)
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n_classes:
            raise ValueError(
                f"Argument `class_weight` has the key {key!r}; keys must be class indices in [0, {n_classes})."
            )
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"Argument `class_weight` has weight {value!r} for class {key}; expected >= 0.")
        table[int(key)] = value
    weights = np.ones(len(labels), dtype=dtype)
    known = (labels >= 0) & (labels < n_classes)
    weights[known] = table[labels[known]]
    return weights


def train_validation_split(arrays: Sequence[Optional[np.ndarray]], validation_split: float) -> tuple[list, list]:
    """Keras's split: the last ``n - floor(n * (1 - split))`` rows, before any shuffling."""
    n = len(arrays[0])
    split_at = int(np.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a validation and "
            f"training set as specified by `validation_split={validation_split}`. Either provide more data, or "
            "a different value for the `validation_split` argument."
        )
    train = [None if a is None else a[:split_at] for a in arrays]
    val = [None if a is None else a[split_at:] for a in arrays]
    return train, val


def assign_weights(owner: str, targets: list[np.ndarray], weights: Sequence[ArrayLike]) -> None:
    """Copy ``weights`` into ``targets`` in place, after checking count and shapes (Keras's messages)."""
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"`set_weights` expects a list of arrays. Received: {type(weights).__name__}")
    if len(weights) != len(targets):
        raise ValueError(
            f"You called `set_weights(weights)` on layer '{owner}' with a weight list of length {len(weights)}, "
            f"but the layer was expecting {len(targets)} weights."
        )
    arrays = [np.asarray(w) for w in weights]
    for target, w in zip(targets, arrays):
        if target.shape != w.shape:
            raise ValueError(
                f"Layer {owner} weight shape {target.shape} is not compatible with provided weight shape {w.shape}."
            )
        if w.dtype.kind not in "biuf" or not np.isfinite(w).all():
            raise ValueError(f"Weights given to `set_weights` on '{owner}' must be finite numbers.")
    for target, w in zip(targets, arrays):
        target[...] = w
