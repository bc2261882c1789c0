"""Tables for the command line: CSV and Parquet files, feature columns, labels, standardisation.

``logitnet train`` learns a :class:`TabularSpec` from a table: the target
column, the feature columns (every other column, all numeric), the sorted
class labels (strings or numbers) and each feature's mean and standard
deviation on the training rows. The spec is stored in the model file's user
metadata under :data:`METADATA_KEY`; ``evaluate``, ``predict`` and
``export`` use it to pick the feature columns *by name*, standardise them
the same way and turn class indices back into labels.

pandas (and pyarrow, for Parquet) is imported only when a table is read or
written (``pip install "logitnet[data]"``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
from numpy.typing import NDArray

from .ops import softmax

__all__ = [
    "METADATA_KEY",
    "DataError",
    "TabularSpec",
    "read_table",
    "write_table",
    "class_probabilities",
    "require_pandas",
]

METADATA_KEY = "logitnet.tabular"
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
_PARQUET = (".parquet", ".pq")


class DataError(ValueError):
    """A data file cannot be used: unreadable, a missing column, a non-numeric feature, an unknown label."""


def require_pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError(
            'Reading CSV and Parquet files needs pandas (and pyarrow for Parquet): pip install "logitnet[data]".'
        ) from None
    return pandas


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def read_table(path: str) -> Any:
    """Read a CSV (``.csv``, compressed too) or Parquet (``.parquet``, ``.pq``) file with a header row.

    Raises
    ------
    DataError
        An unknown extension, a missing or unreadable file, no data rows.
    """
    pd = require_pandas()
    lower = os.fspath(path).lower()
    if not lower.endswith(_CSV + _PARQUET):
        raise DataError(f"cannot read {path}: expected a .csv or .parquet file")
    if not os.path.isfile(path):
        raise DataError(f"cannot read {path}: no such file")
    try:
        frame = pd.read_parquet(path) if lower.endswith(_PARQUET) else pd.read_csv(path)
    except ImportError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types (ParserError, ArrowInvalid, UnicodeDecodeError, OSError)
        raise DataError(f"cannot read {path}: {_one_line(exc)}") from None
    if len(frame) == 0:
        raise DataError(f"{path} has no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def write_table(frame: Any, path: Optional[str], stream: Any = None) -> None:
    """Write ``frame`` to ``path`` (``.csv`` or ``.parquet``), or as CSV to ``stream`` when ``path`` is None."""
    if path is None:
        frame.to_csv(stream, index=False, float_format="%.7g")
        return
    lower = path.lower()
    if lower.endswith(_PARQUET):
        frame.to_parquet(path, index=False)
    elif lower.endswith(_CSV):
        frame.to_csv(path, index=False, float_format="%.7g")
    else:
        raise DataError(f"cannot write {path}: expected a .csv or .parquet file name")


def _first_row(mask: NDArray[np.bool_]) -> int:
    """1-based number of the first data row where ``mask`` holds."""
    return int(np.argmax(mask)) + 1


def _numeric_column(frame: Any, name: str) -> NDArray[np.float64]:
    pd = require_pandas()
    column = frame[name]
    if not pd.api.types.is_numeric_dtype(column) or column.dtype.kind == "c":
        values = column.dropna()
        example = f", e.g. {values.iloc[0]!r} in row {_first_row(column.notna().to_numpy())}" if len(values) else ""
        raise DataError(f"column {name!r} is not numeric ({column.dtype}{example}); features must be numbers")
    x = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(x).any():
        missing = np.isnan(x)
        raise DataError(
            f"column {name!r} has {int(missing.sum())} missing value(s), the first in row {_first_row(missing)}"
        )
    if np.isinf(x).any():
        raise DataError(f"column {name!r} has an infinite value in row {_first_row(np.isinf(x))}")
    return x


def _label_values(frame: Any, name: str, as_text: bool) -> NDArray[Any]:
    column = frame[name]
    missing = column.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"target column {name!r} has {int(missing.sum())} missing label(s), the first in row {_first_row(missing)}"
        )
    return column.astype(str).to_numpy(dtype=object) if as_text else column.to_numpy()


def _require_column(frame: Any, name: str, what: str) -> None:
    if name not in frame.columns:
        shown = ", ".join(map(repr, list(frame.columns)[:20])) + (", ..." if frame.shape[1] > 20 else "")
        raise DataError(f"{what} column {name!r} not found; the columns are {shown}")


def _plain(value: Any) -> Any:
    """A NumPy scalar as a JSON-ready Python scalar."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class TabularSpec:
    """How a model reads a table.

    Attributes
    ----------
    target : str
        The label column.
    features : list of str or None
        Feature columns in model order; None for a model not trained by
        ``logitnet train`` (then every column but the target is a feature, by position).
    classes : list
        Class labels in output order (str, int, float or bool).
    mean, scale : list of float or None
        Standardisation ``(x - mean) / scale`` applied to the features.
    """

    target: str
    features: Optional[list]
    classes: list
    mean: Optional[list] = None
    scale: Optional[list] = None

    # ------------------------------------------------------------------ learning
    @classmethod
    def from_frame(cls, frame: Any, target: str) -> "TabularSpec":
        """Features and classes of a training table (standardisation set by :meth:`fit_scaling`)."""
        pd = require_pandas()
        _require_column(frame, target, "target")
        features = [c for c in frame.columns if c != target]
        if not features:
            raise DataError("the table has no feature columns besides the target")
        as_text = not (pd.api.types.is_numeric_dtype(frame[target]) or pd.api.types.is_bool_dtype(frame[target]))
        classes = [_plain(c) for c in np.unique(_label_values(frame, target, as_text))]
        if len(classes) < 2:
            raise DataError(
                f"target column {target!r} holds a single class ({classes[0]!r}); a classifier needs two or more"
            )
        return cls(target=target, features=features, classes=classes)

    def fit_scaling(self, x: NDArray[np.float64]) -> None:
        """Set ``mean`` and ``scale`` (population std, 1 for constant columns) from raw features."""
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        self.mean = mean.tolist()
        self.scale = np.where(std > 0, std, 1.0).tolist()

    # ------------------------------------------------------------------ applying
    def raw_features(self, frame: Any) -> NDArray[np.float64]:
        """The feature columns, by name (in model order), as float64, unscaled."""
        names = self.features if self.features is not None else [c for c in frame.columns if c != self.target]
        if self.features is not None:
            missing = [n for n in names if n not in frame.columns]
            if missing:
                shown = ", ".join(map(repr, missing[:10])) + (", ..." if len(missing) > 10 else "")
                raise DataError(
                    f"missing feature column(s) {shown}; the model was trained on {', '.join(map(repr, names))}"
                )
        return np.column_stack([_numeric_column(frame, n) for n in names]) if names else np.empty((len(frame), 0))

    def standardize(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(x - mean) / scale`` (``x`` itself without statistics), shape (n_rows, n_features)."""
        if self.mean is None:
            return x
        return (x - np.asarray(self.mean)) / np.asarray(self.scale)

    def features_of(self, frame: Any) -> NDArray[np.float64]:
        """The standardised feature matrix, shape (n_rows, n_features)."""
        return self.standardize(self.raw_features(frame))

    def labels_of(self, frame: Any, target: Optional[str] = None) -> NDArray[np.intp]:
        """Class indices of the target column (``target`` defaults to the trained one)."""
        pd = require_pandas()
        target = self.target if target is None else target
        _require_column(frame, target, "target")
        as_text = all(isinstance(c, str) for c in self.classes)
        values = _label_values(frame, target, as_text)
        codes = pd.Series(values).map({c: i for i, c in enumerate(self.classes)})
        unknown = codes.isna().to_numpy()
        if unknown.any():
            row = _first_row(unknown)
            known = ", ".join(map(repr, self.classes[:20])) + (", ..." if len(self.classes) > 20 else "")
            raise DataError(
                f"unknown label {_plain(values[row - 1])!r} in column {target!r} (row {row}); the model knows {known}"
            )
        return codes.to_numpy(dtype=np.intp)

    def decode(self, indices: NDArray[np.integer]) -> NDArray[Any]:
        """Class labels of class indices."""
        return np.asarray(self.classes, dtype=object)[indices]

    # ------------------------------------------------------------------ storage
    def to_metadata(self) -> dict:
        return {
            "target": self.target,
            "features": self.features,
            "classes": self.classes,
            "mean": self.mean,
            "scale": self.scale,
        }

    @classmethod
    def from_metadata(cls, metadata: Any, model: Any, target: Optional[str] = None) -> "TabularSpec":
        """The spec stored in a model file's user metadata, checked against the model.

        A model without one gets a positional spec (classes ``0..n-1``, no scaling).
        """
        n_features = model.input_dim
        n_classes = model.n_outputs
        stored = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
        if stored is None:
            return cls(target=target or "", features=None, classes=list(range(n_classes)))
        try:
            spec = cls(**stored)
        except TypeError:
            raise DataError("the model's table description is invalid") from None
        spec._check(n_features, n_classes)
        if target is not None:
            spec.target = target
        return spec

    def _check(self, n_features: int, n_classes: int) -> None:
        def numbers(v: Any) -> bool:
            return (
                isinstance(v, list)
                and len(v) == n_features
                and all(isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a) for a in v)
            )

        ok = (
            isinstance(self.target, str)
            and isinstance(self.features, list)
            and len(self.features) == n_features
            and all(isinstance(f, str) for f in self.features)
            and isinstance(self.classes, list)
            and len(self.classes) == n_classes
            and all(isinstance(c, (str, int, float, bool)) for c in self.classes)
            and (self.mean is None or (numbers(self.mean) and numbers(self.scale) and 0 not in self.scale))
        )
        if not ok:
            raise DataError("the model's table description does not match the model")


def _model_logits(model: Any, x: NDArray[np.floating]) -> NDArray[np.floating]:
    """What logitnet's losses treat as logits (see :func:`logitnet.onnx_export.logits_are_preactivation`)."""
    return model._forward(np.ascontiguousarray(x, dtype=model.dtype), training=False, logits=model._fused_output())


def class_probabilities(model: Any, x: NDArray[np.floating], batch_size: int = 65536) -> NDArray[np.floating]:
    """Softmax of the model's logits: the ``probabilities`` output of the ONNX export.

    Parameters
    ----------
    model : Sequential
        Built.
    x : ndarray of shape (n_samples, n_features)
        Checked features.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    parts: Sequence[NDArray[np.floating]] = [
        softmax(_model_logits(model, x[i : i + batch_size]), axis=1) for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts) if parts else np.empty((0, model.n_outputs), dtype=model.dtype)
