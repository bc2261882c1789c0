"""Checking and converting user data once, at the public boundary.

Everything the training loop touches has been through one of these checks:
the loop itself never validates. Each error names the argument, what was
expected and what was received.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import outofcore
from .diagnostics import StatsAccumulator

__all__ = [
    "check_features",
    "check_n_outputs",
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


def _all_finite(arr: np.ndarray) -> bool:
    """Whether a 2-D array holds no NaN or infinity, checked over blocks of rows (no full-size mask)."""
    if arr.nbytes <= outofcore.BLOCK_BYTES:
        return bool(np.isfinite(arr).all())
    step = max(1, outofcore.BLOCK_BYTES // (arr.shape[1] * arr.itemsize))
    return all(np.isfinite(arr[a:a + step]).all() for a in range(0, len(arr), step))


def _first_nonfinite(arr: np.ndarray) -> tuple:
    bad = np.argwhere(~np.isfinite(arr))[0]
    return tuple(int(i) for i in bad)


def _check_layout(kind: str, shape: tuple, dtype: Any, name: str, n_features: Optional[int]) -> None:
    if kind not in "biuf":
        raise TypeError(
            f"Argument `{name}` must hold numbers (int, float or bool), but has dtype {dtype}"
            + (" (strings)" if kind in "USO" else "")
            + ". Encode text columns as numbers first (e.g. one-hot encoding)."
        )
    if len(shape) != 2:
        hint = ""
        if len(shape) == 1:
            hint = (
                " Reshape with x.reshape(-1, 1) if it holds one feature, or x.reshape(1, -1) if it holds one sample."
            )
        raise ValueError(
            f"Argument `{name}` must be a 2-D array of shape (n_samples, n_features), "
            f"but received an array with ndim={len(shape)} and shape {shape}.{hint}"
        )
    if n_features is not None and shape[1] != n_features:
        raise ValueError(
            f"Argument `{name}` has {shape[1]} features per sample, but the model expects {n_features} "
            f"(it was built for inputs of shape (None, {n_features})). Received: {name}.shape={shape}"
        )


def _nonfinite_error(name: str, row: int, col: int, value: Any, dtype: Any) -> ValueError:
    hint = f" It overflows {np.dtype(dtype).name}, the model's dtype." if np.isfinite(value) else ""
    return ValueError(
        f"Argument `{name}` contains NaN or infinity (first at row {row}, column {col}: "
        f"{value}).{hint} Remove or impute those values before training or predicting."
    )


def check_features(
    x: ArrayLike,
    *,
    name: str = "x",
    dtype: Any = np.float32,
    n_features: Optional[int] = None,
    stream: bool = False,
    stats: bool = False,
) -> Any:
    """Check inputs and return them as a C-contiguous float array (or a batch reader).

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
    stream : bool, default False
        Return a :class:`~logitnet.outofcore.RowSource` for an ``np.memmap``
        or another sliceable array-like (see :mod:`logitnet.outofcore`)
        instead of loading it: it is checked block by block.
    stats : bool, default False
        With ``stream``, also gather the per-feature statistics
        (:class:`~logitnet.diagnostics.FeatureStats`) in ``source.stats``
        during the same pass.

    Returns
    -------
    ndarray of shape (n_samples, n_features) and the requested dtype, or RowSource

    Raises
    ------
    ValueError
        Not 2-D, wrong feature count, NaN or infinity.
    TypeError
        Non-numeric values (strings, objects).
    """
    if stream and outofcore.is_streamable(x):
        return _check_source(x, name, dtype, n_features, stats)
    arr = _as_array(x, name)
    _check_layout(arr.dtype.kind, arr.shape, arr.dtype, name, n_features)
    with np.errstate(over="ignore"):  # overflow to inf is reported below
        converted = np.ascontiguousarray(arr, dtype=dtype)
    if converted.size and not _all_finite(converted):
        row, col = _first_nonfinite(converted)
        raise _nonfinite_error(name, row, col, arr[row, col], dtype)
    return converted


def _check_source(x: Any, name: str, dtype: Any, n_features: Optional[int], stats: bool) -> outofcore.RowSource:
    """Check a streamed input block by block (a few MB at a time), gathering its statistics if asked."""
    in_dtype = np.dtype(x.dtype)
    _check_layout(in_dtype.kind, tuple(x.shape), in_dtype, name, n_features)
    source = outofcore.RowSource(x, dtype)
    acc = StatsAccumulator(source.shape[1]) if stats else None
    for first, block in source.blocks():
        if not np.isfinite(block).all():
            row, col = _first_nonfinite(block)
            raise _nonfinite_error(name, first + row, col, x[first + row, col], dtype)
        if acc is not None:
            acc.add(block)
    if acc is not None:
        source.stats = acc.result()
    return source


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
        if arr.ndim == 2 and (arr.shape[1] == n_classes or _looks_one_hot(arr)):
            hint = (
                " It looks one-hot encoded: use loss='categorical_crossentropy' (CategoricalCrossentropy) for "
                "one-hot targets, or pass y.argmax(axis=1)."
            )
            if arr.shape[1] != n_classes:
                hint += f" (It has {arr.shape[1]} columns, but the model has {n_classes} outputs.)"
        raise ValueError(
            f"Argument `{name}` for `{loss_name}` must hold one class index per sample, shape (n_samples,) "
            f"or (n_samples, 1), but received shape {arr.shape}.{hint}"
        )
    labels = _integral_labels(arr, name)
    checked = labels if ignore_class is None else labels[labels != ignore_class]
    if checked.size:
        lo, hi = int(checked.min()), int(checked.max())
        if lo < 0 or hi >= n_classes:
            raise ValueError(
                f"Argument `{name}` contains the label {lo if lo < 0 else hi}, outside the valid range "
                f"[0, {n_classes}) for a model with {n_classes} outputs.{_label_range_hint(checked, lo, hi, n_classes)}"
            )
    return labels


def _label_range_hint(labels: np.ndarray, lo: int, hi: int, n_classes: int) -> str:
    """The likely mistake behind labels outside [0, n_classes), and its fix."""
    last = n_classes - 1
    if lo == 1 and hi == n_classes:
        return (
            " The labels look 1-based: subtract 1 (or use sklearn's LabelEncoder). Labels must be "
            f"0..{last} for a model with {n_classes} outputs."
        )
    if lo < 0:
        negative = np.unique(labels[labels < 0])
        if len(negative) == 1:
            return (
                f" Labels must be 0..{last}. If {lo} marks samples without a label, leave them out of the loss "
                f"with SparseCategoricalCrossentropy(ignore_class={lo})."
            )
        return f" Labels must be 0..{last}; encode them with sklearn's LabelEncoder."
    n_distinct = int(np.unique(labels).size)
    more = (
        f" `y` holds {n_distinct} classes, more than the model's {n_classes} output units."
        if n_distinct > n_classes else ""
    )
    return more + (
        f" Either the last layer needs at least {hi + 1} units, or the labels need re-encoding "
        "to 0..K-1 (e.g. with sklearn's LabelEncoder)."
    )


def _looks_one_hot(arr: np.ndarray) -> bool:
    if arr.dtype.kind not in "biuf" or arr.size == 0:
        return False
    return bool(np.all((arr == 0) | (arr == 1)) and np.all(arr.sum(axis=1) == 1))


def check_n_outputs(n_outputs: int, layer_name: str, activation: str) -> None:
    """Refuse a model with a single output unit: a softmax over one output is always 1.

    Raises
    ------
    ValueError
        When ``n_outputs == 1``, explaining why and what to use instead.
    """
    if n_outputs != 1:
        return
    raise ValueError(
        f"The last layer '{layer_name}' has 1 unit (activation='{activation}'), but a softmax classifier needs one "
        "output per class: a softmax over a single output is always 1, so the cross-entropy is always 0 and "
        "nothing can be learned. For two classes, use 2 units (e.g. Dense(2), labels 0 and 1). Keras's "
        "Dense(1, activation='sigmoid') with binary_crossentropy is the same model as Dense(2) with a softmax; "
        "logitnet has no binary cross-entropy."
    )


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
        elif arr.ndim == 2 and arr.shape[1] > n_classes:
            hint = (
                f" `{name}` has {arr.shape[1]} columns (classes), more than the model's {n_classes} output units: "
                f"give the last layer {arr.shape[1]} units."
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
    """Keras's split: the last ``n - floor(n * (1 - split))`` rows, before any shuffling.

    A :class:`~logitnet.outofcore.RowSource` is split into two views (nothing is read).
    """
    n = len(arrays[0])
    split_at = int(np.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a validation and "
            f"training set as specified by `validation_split={validation_split}`. Either provide more data, or "
            "a different value for the `validation_split` argument."
        )
    train = [_rows(a, 0, split_at) for a in arrays]
    val = [_rows(a, split_at, n) for a in arrays]
    return train, val


def _rows(a: Any, start: int, stop: int) -> Any:
    if a is None:
        return None
    if isinstance(a, outofcore.RowSource):
        return a.subset(start, stop)  # a view: an out-of-core input is not read here
    return a[start:stop]


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
