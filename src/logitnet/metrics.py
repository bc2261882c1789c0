"""Accuracy metrics with Keras's names, as pure functions and running-mean objects.

The pure functions return one value per sample. The :class:`Metric` objects
accumulate a (weighted) running mean over samples across batches, as Keras's
``MeanMetricWrapper`` does; ``update_state`` does no validation because it runs
every training step (the model checks ``y`` once, up front).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "Metric",
    "Mean",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "get",
]

_FLOATX = np.float32


def _same_rank(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's ``squeeze_or_expand_to_same_rank``; two 1-D inputs become (n_samples, 1) columns."""
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_pred = y_pred[..., None]
    if y_true.ndim == y_pred.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    return y_true, y_pred


def sparse_categorical_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float32]:
    """1.0 where ``argmax(y_pred)`` equals the integer label, else 0.0.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,) or (n_samples, 1)
        Class indices. Float labels are compared as floats, like Keras
        (2.0 matches class 2; 2.7 matches nothing).
    y_pred : array_like of shape (n_samples, n_classes)
        Scores; ties go to the first maximal index.

    Returns
    -------
    ndarray of shape (n_samples,), float32
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true == np.argmax(y_pred, axis=-1)).astype(_FLOATX)


def categorical_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float32]:
    """1.0 where ``argmax(y_pred)`` equals ``argmax(y_true)``, else 0.0.

    Parameters
    ----------
    y_true : array_like of shape (n_samples, n_classes)
        One-hot (or probability) rows.
    y_pred : array_like of shape (n_samples, n_classes)

    Returns
    -------
    ndarray of shape (n_samples,), float32
    """
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(_FLOATX)


def binary_accuracy(y_true: ArrayLike, y_pred: ArrayLike, threshold: float = 0.5) -> NDArray[np.float32]:
    """Share of outputs where ``y_pred > threshold`` equals the 0/1 label, per sample.

    Parameters
    ----------
    y_true : array_like of shape (n_samples, n_outputs) or (n_samples,)
    y_pred : array_like of shape (n_samples, n_outputs) or (n_samples,)
    threshold : float, default 0.5

    Returns
    -------
    ndarray of shape (n_samples,), float32
        The mean over the last axis (two 1-D inputs are treated as one column).
    """
    y_true, y_pred = _same_rank(np.asarray(y_true), np.asarray(y_pred))
    return np.mean(y_true == (y_pred > threshold).astype(y_true.dtype), axis=-1, dtype=_FLOATX)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float32]:
    """Share of exact matches ``y_true == y_pred`` over the last axis, per sample (Keras's ``accuracy``)."""
    y_true, y_pred = _same_rank(np.asarray(y_true), np.asarray(y_pred))
    return np.mean(y_true == y_pred, axis=-1, dtype=_FLOATX)


class Metric:
    """Base class: a named, stateful metric with Keras's ``update_state``/``result``/``reset_state``."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Received an invalid value for `name`, expected a str. Received: name={name!r}")
        self.name = name

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        """JSON-safe constructor arguments."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        """Rebuild a metric (with empty state) from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Mean(Metric):
    """Weighted running mean: ``result() = sum(w * v) / sum(w)`` (0.0 before any update).

    The model's loss tracker calls ``update_state(batch_loss, sample_weight=batch_size)``.
    Sums are kept as Python floats (float64), where Keras keeps float32 variables.

    Parameters
    ----------
    name : str, default "mean"
    """

    def __init__(self, name: str = "mean") -> None:
        super().__init__(name)
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> None:
        """Add ``values`` (a scalar, or one value per sample) with weights ``sample_weight``.

        Parameters
        ----------
        values : float or array_like of shape (n_samples,) or (n_samples, ...)
            Extra axes are averaged per sample.
        sample_weight : float or array_like of shape (n_samples,), optional
            Default 1 per value. A scalar weight with a vector of values weighs
            their mean (Keras's ``reduce_to_samplewise_values``).
        """
        if np.ndim(values) == 0 and np.ndim(sample_weight) == 0:  # the loss tracker's case
            weight = 1.0 if sample_weight is None else float(sample_weight)
            self.total += float(values) * weight
            self.count += weight
            return
        v = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            if v.ndim > 1:
                v = v.reshape(v.shape[0], -1).mean(axis=1)
            self.total += float(v.sum())
            self.count += v.shape[0]
            return
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim == v.ndim + 1 and w.shape[-1] == 1:
            w = w[..., 0]
        if v.ndim > w.ndim:
            v = v.mean(axis=tuple(range(w.ndim, v.ndim)))
        w = np.broadcast_to(w, v.shape)
        self.total += float((v * w).sum())
        self.count += float(w.sum())

    def result(self) -> float:
        """The weighted mean so far; 0.0 when the total weight is 0 (``divide_no_nan``)."""
        return self.total / self.count if self.count else 0.0

    def reset_state(self) -> None:
        """Forget everything accumulated."""
        self.total = 0.0
        self.count = 0.0


class MeanMetricWrapper(Mean):
    """Running mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Parameters
    ----------
    fn : callable
        Returns one value per sample, shape (n_samples,).
    name : str
    **kwargs
        Passed to ``fn`` on every update.
    """

    def __init__(self, fn: Callable[..., np.ndarray], name: str, **kwargs: Any) -> None:
        super().__init__(name)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(  # type: ignore[override]
        self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: Optional[ArrayLike] = None
    ) -> None:
        """Add ``fn(y_true, y_pred)`` for a batch; no validation (hot path).

        Parameters
        ----------
        y_true : array_like of shape (n_samples,) or (n_samples, n_classes)
        y_pred : array_like of shape (n_samples, n_classes)
        sample_weight : array_like of shape (n_samples,), optional
        """
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Running share of samples whose ``argmax(y_pred)`` equals the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy") -> None:
        super().__init__(sparse_categorical_accuracy, name)


class CategoricalAccuracy(MeanMetricWrapper):
    """Running share of samples whose ``argmax(y_pred)`` equals ``argmax(y_true)``."""

    def __init__(self, name: str = "categorical_accuracy") -> None:
        super().__init__(categorical_accuracy, name)


class Accuracy(MeanMetricWrapper):
    """Running share of exact matches ``y_true == y_pred`` (Keras's ``Accuracy``: no argmax)."""

    def __init__(self, name: str = "accuracy") -> None:
        super().__init__(accuracy, name)


class BinaryAccuracy(MeanMetricWrapper):
    """Running share of 0/1 labels matched by ``y_pred > threshold``.

    Parameters
    ----------
    name : str, default "binary_accuracy"
    threshold : float in (0, 1), default 0.5
    """

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"Invalid value for argument `threshold`. Expected a float. Received: threshold={threshold!r}"
            )
        if not 0 < threshold < 1:
            raise ValueError(
                "Invalid value for argument `threshold`. Expected a value in interval (0, 1). "
                f"Received: threshold={threshold}"
            )
        super().__init__(binary_accuracy, name, threshold=float(threshold))
        self.threshold = float(threshold)

    def get_config(self) -> dict:
        """``{'name', 'threshold'}``."""
        return {"name": self.name, "threshold": self.threshold}


_BY_NAME: dict[str, type[MeanMetricWrapper]] = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
    "SparseCategoricalAccuracy": SparseCategoricalAccuracy,
    "CategoricalAccuracy": CategoricalAccuracy,
    "BinaryAccuracy": BinaryAccuracy,
}


def _resolve_accuracy(
    identifier: str, y_true_ndim: Optional[int], y_true_last_dim: Optional[int], n_outputs: Optional[int]
) -> Metric:
    """Keras's ``compile_utils.get_metric`` table for ``"accuracy"``/``"acc"``."""
    if y_true_ndim is None or n_outputs is None:
        raise ValueError(
            f"The metric '{identifier}' is chosen from the shapes of y_true and y_pred (as Keras does); pass "
            "y_true_ndim, y_true_last_dim and n_outputs, or name it explicitly, e.g. 'sparse_categorical_accuracy'."
        )
    if n_outputs == 1:
        return BinaryAccuracy(name=identifier)
    if y_true_ndim < 2 or y_true_last_dim == 1:
        return SparseCategoricalAccuracy(name=identifier)
    return CategoricalAccuracy(name=identifier)


def get(
    identifier: Any,
    *,
    y_true_ndim: Optional[int] = None,
    y_true_last_dim: Optional[int] = None,
    n_outputs: Optional[int] = None,
) -> Metric:
    """Resolve a metric identifier to a fresh :class:`Metric` (instances are returned as is).

    ``"accuracy"``/``"acc"`` (any case) resolve as Keras's ``compile`` does,
    keeping the name passed: ``n_outputs == 1`` gives :class:`BinaryAccuracy`;
    ``y_true_ndim < 2`` or ``y_true_last_dim == 1`` gives
    :class:`SparseCategoricalAccuracy`; otherwise :class:`CategoricalAccuracy`.
    Other names: ``"sparse_categorical_accuracy"``, ``"categorical_accuracy"``,
    ``"binary_accuracy"`` and their class names; the metric is named by the string given.

    Parameters
    ----------
    identifier : str, Metric or dict
        A name, an instance, or ``{"class_name": ..., "config": {...}}``.
    y_true_ndim : int, optional
        Rank of the labels ``y``.
    y_true_last_dim : int, optional
        ``y.shape[-1]`` when ``y`` has 2 or more axes.
    n_outputs : int, optional
        Width of the model's output (``y_pred.shape[-1]``).

    Raises
    ------
    ValueError
        An unknown identifier (the message lists the valid names), or
        ``"accuracy"`` without the shapes.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_NAME:
        return _BY_NAME[identifier["class_name"]].from_config(dict(identifier.get("config") or {}))
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _resolve_accuracy(identifier, y_true_ndim, y_true_last_dim, n_outputs)
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
    valid = ", ".join(repr(k) for k in ["accuracy", "acc", *_BY_NAME])
    raise ValueError(f"Could not interpret metric identifier: {identifier}. Valid names: {valid}.")
