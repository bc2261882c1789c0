"""Cross-entropy losses and their gradients, with Keras's names, defaults and numbers.

From simple to complex: the unchecked kernels (loss and gradient per sample,
in :mod:`logitnet._loss_kernels`); the checked per-sample functions ``sparse_categorical_crossentropy`` and
``categorical_crossentropy`` and their ``*_grad``; Keras's reductions
(:func:`reduce_weighted_values`); thin classes whose ``__call__`` checks its
input and whose ``loss_and_grad`` is the unchecked training hot path; :func:`get`.

Numbers follow TensorFlow-Keras 3 (``keras-parity.md`` §3). From logits the loss
is ``logsumexp(z) - z[y]``, never ``log(softmax(z))``. From probabilities, with
``clip`` to ``[1e-7, 1 - 1e-7]``:

* sparse: ``-log(clip(p_y)) + log(sum_j clip(p_j))`` (clip, then normalise);
* categorical: ``q = p / sum(p)``, then ``-sum(t * log(clip(q)))`` (normalise, then clip).

Gradients through the clip follow TensorFlow's ``clip_by_value``: they pass
where ``1e-7 <= x <= 1 - 1e-7`` (both ends inclusive) and are zero outside.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._loss_kernels import (
    EPSILON,
    FloatArray,
    Kernel,
    _categorical_2d,
    _sparse_2d,
    _sparse_logits_columns,
)

__all__ = [
    "EPSILON",
    "Loss",
    "SparseCategoricalCrossentropy",
    "CategoricalCrossentropy",
    "sparse_categorical_crossentropy",
    "sparse_categorical_crossentropy_grad",
    "categorical_crossentropy",
    "categorical_crossentropy_grad",
    "reduce_weighted_values",
    "standardize_reduction",
    "logits_warning_text",
    "get",
]

_FLOATX = np.float32
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_REDUCTIONS_TEXT = "{'sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none', None}"
_BOOL, _INT, _REAL = (bool, np.bool_), (int, np.integer), (int, float, np.integer, np.floating)


def logits_warning_text(fn_name: str = "sparse_categorical_crossentropy") -> str:
    """Keras's warning for ``from_logits=True`` on a softmax (or sigmoid) output.

    Keras's text starts with a stray literal ``"`` (a typo in its source); it is left out.
    """
    return (
        f"`{fn_name}` received `from_logits=True`, but the `output` argument was produced by a "
        "Softmax activation and thus does not represent logits. Was this intended?"
    )


# --------------------------------------------------------------------------- input checks
def _check_arg(value: Any, name: str, types: tuple, expected: str) -> Any:
    """TypeError unless ``value`` is one of ``types``; bools only count where bools are expected."""
    if not isinstance(value, types) or (isinstance(value, _BOOL) and types is not _BOOL):
        raise TypeError(f"Received an invalid value for `{name}`, expected {expected}. Received: {name}={value!r}")
    return value


def _check_ignore_class(value: Any) -> Optional[int]:
    return None if value is None else int(_check_arg(value, "ignore_class", _INT, "an integer or None"))


def _check_label_smoothing(value: Any) -> float:
    value = float(_check_arg(value, "label_smoothing", _REAL, "a float in [0, 1]"))
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            "Received an invalid value for `label_smoothing`, expected a float in [0, 1]. "
            f"Received: label_smoothing={value}"
        )
    return value


def _numeric_array(x: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"Argument `{name}` could not be converted to an array: {exc}") from None
    if arr.dtype.kind in "USO":
        raise TypeError(
            f"Invalid dtype for `{name}`: {arr.dtype}. Expected numbers; string labels must be encoded as "
            "integer class indices first, e.g. `classes, y = np.unique(y, return_inverse=True)`."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Invalid dtype for `{name}`: {arr.dtype}. Expected real numbers.")
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"Argument `{name}` contains NaN or infinity; it must hold finite numbers.")


def _prediction_array(y_pred: ArrayLike) -> FloatArray:
    """float32/float64 ndarrays are kept; anything else becomes float32 (Keras's floatx)."""
    if isinstance(y_pred, np.ndarray) and y_pred.dtype in (np.float32, np.float64):
        return y_pred
    return _numeric_array(y_pred, "y_pred").astype(_FLOATX)


def _class_indices(labels: np.ndarray, n_classes: int, ignore_class: Optional[int]) -> NDArray[np.intp]:
    """Labels as intp, floats truncated toward zero like Keras's cast (1.9 -> 1), range-checked."""
    _check_finite(labels, "y_true")
    if labels.dtype.kind == "f":
        labels = np.trunc(labels)
        labels = np.where(np.abs(labels) > np.iinfo(np.intp).max // 2, -1, labels)  # reported below
    labels = labels.astype(np.intp)
    bad = (labels < 0) | (labels >= n_classes)
    if ignore_class is not None:
        bad &= labels != ignore_class
    if bad.any():
        one_based = labels.min() == 1 and labels.max() == n_classes
        raise ValueError(
            f"Received a label value of {int(labels[bad][0])} which is outside the valid range of "
            f"[0, {n_classes}). `y_true` must hold class indices in [0, n_classes), where n_classes={n_classes} "
            "is the size of the last axis of `y_pred`." + (" The labels look 1-based: subtract 1." if one_based else "")
        )
    return labels


def _check_sparse(y_true: ArrayLike, y_pred: ArrayLike, ignore_class: Optional[int], axis: int) -> tuple:
    """Keras's rank and shape rules for sparse labels; returns intp labels and float scores."""
    z = _prediction_array(y_pred)
    labels = _numeric_array(y_true, "y_true")
    if z.ndim < 1:
        raise ValueError(f"Argument `output` (`y_pred`) must be at least rank 1. Received: output.shape={z.shape}")
    if _check_arg(axis, "axis", _INT, "an integer") not in (-1, z.ndim - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    if labels.ndim == z.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    names = "(`target` is `y_true`, `output` is `y_pred`)."
    if labels.ndim != z.ndim - 1:
        hint = ""
        if labels.shape == z.shape:
            hint = (
                " `y_true` has the same shape as `y_pred`, so it looks one-hot encoded: use "
                "CategoricalCrossentropy ('categorical_crossentropy'), or pass `y_true.argmax(axis=-1)`."
            )
        raise ValueError(
            "Argument `output` must have rank (ndim) `target.ndim - 1`. "
            f"Received: target.shape={labels.shape}, output.shape={z.shape} {names}{hint}"
        )
    if labels.shape != z.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={labels.shape}, output.shape={z.shape} {names}"
        )
    return _class_indices(labels, z.shape[-1], _check_ignore_class(ignore_class)), z


def _check_categorical(y_true: ArrayLike, y_pred: ArrayLike, axis: int) -> tuple[FloatArray, FloatArray]:
    """Keras's rank and shape rules for one-hot (or soft) targets."""
    z = _prediction_array(y_pred)
    t = _numeric_array(y_true, "y_true")
    shapes = f"Received: target.shape={t.shape}, output.shape={z.shape} (`target` is `y_true`, `output` is `y_pred`)."
    hint = ""
    if t.ndim == z.ndim - 1 or (t.ndim == z.ndim > 1 and t.shape[-1] == 1 < z.shape[-1]):
        hint = (
            " `y_true` looks like integer class labels: use SparseCategoricalCrossentropy "
            "('sparse_categorical_crossentropy'), or one-hot encode it with logitnet.ops.one_hot."
        )
    if t.ndim < 1:
        raise ValueError(f"Arguments `target` and `output` must be at least rank 1. {shapes}")
    if t.ndim != z.ndim:
        raise ValueError(f"Arguments `target` and `output` must have the same rank (ndim). {shapes}{hint}")
    if t.shape != z.shape:
        raise ValueError(f"Arguments `target` and `output` must have the same shape. {shapes}{hint}")
    if not -z.ndim <= _check_arg(axis, "axis", _INT, "an integer") < z.ndim:
        raise ValueError(f"Argument `axis` is out of range for `y_pred` of rank {z.ndim}. Received: axis={axis}")
    _check_finite(t, "y_true")
    return t.astype(z.dtype, copy=False), z


def _check_sample_weight(sample_weight: Optional[ArrayLike], shape: tuple, dtype: Any) -> Optional[FloatArray]:
    """A scalar (broadcast), or one weight per loss value (a trailing length-1 axis is squeezed)."""
    if sample_weight is None:
        return None
    w = _numeric_array(sample_weight, "sample_weight")
    if w.ndim == len(shape) + 1 and w.shape[-1] == 1:
        w = w[..., 0]
    if w.ndim == 0:
        w = np.full(shape, w)
    if w.shape != shape:
        raise ValueError(
            f"Argument `sample_weight` must be a scalar or hold one weight per sample, shape {shape}. "
            f"Received: sample_weight.shape={w.shape}"
        )
    _check_finite(w, "sample_weight")
    return w.astype(dtype, copy=False)


# --------------------------------------------------------------------------- per-sample functions
def _sparse_core(y_true: ArrayLike, y_pred: ArrayLike, from_logits: Any, ignore_class: Any, axis: Any) -> Kernel:
    labels, z = _check_sparse(y_true, y_pred, ignore_class, axis)
    from_logits = bool(_check_arg(from_logits, "from_logits", _BOOL, "a bool"))
    losses, grad, valid = _sparse_2d(z.reshape(labels.size, z.shape[-1]), labels.reshape(-1), from_logits, ignore_class)
    shape = labels.shape
    return losses.reshape(shape), grad.reshape(z.shape), None if valid is None else valid.reshape(shape)


def _categorical_core(
    y_true: ArrayLike, y_pred: ArrayLike, from_logits: Any, label_smoothing: Any, axis: Any
) -> Kernel:
    t, z = _check_categorical(y_true, y_pred, axis)
    from_logits = bool(_check_arg(from_logits, "from_logits", _BOOL, "a bool"))
    t, z = np.moveaxis(t, axis, -1), np.moveaxis(z, axis, -1)
    n_classes = z.shape[-1]
    losses, grad, _ = _categorical_2d(
        z.reshape(-1, n_classes), t.reshape(-1, n_classes), from_logits, _check_label_smoothing(label_smoothing)
    )
    return losses.reshape(z.shape[:-1]), np.moveaxis(grad.reshape(z.shape), -1, axis), None


def sparse_categorical_crossentropy(
    y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False, ignore_class: Optional[int] = None, axis: int = -1
) -> FloatArray:
    """Per-sample cross-entropy with integer labels (Keras's function of the same name).

    Parameters
    ----------
    y_true : array_like of shape (n_samples,) or (n_samples, 1)
        Class indices in ``[0, n_classes)``; floats are truncated like Keras (1.9 -> 1).
    y_pred : array_like of shape (n_samples, n_classes)
        Probabilities, or logits when ``from_logits=True``.
    from_logits : bool, default False
    ignore_class : int, optional
        Samples with this label get loss 0 (and gradient 0).
    axis : int, default -1
        Only the last axis is supported, as in Keras.

    Returns
    -------
    ndarray of shape (n_samples,)
        In ``y_pred``'s dtype if it is a float32/float64 array, else float32.

    Raises
    ------
    ValueError
        Keras's rank/shape messages (one-hot ``y_true`` is pointed to
        CategoricalCrossentropy); labels outside ``[0, n_classes)``; NaN labels.
    TypeError
        Non-numeric (e.g. string) input; a non-bool ``from_logits``.
    """
    return _sparse_core(y_true, y_pred, from_logits, ignore_class, axis)[0]


def sparse_categorical_crossentropy_grad(
    y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False, ignore_class: Optional[int] = None, axis: int = -1
) -> FloatArray:
    """Gradient of each per-sample sparse cross-entropy with respect to its row of ``y_pred``.

    From logits ``softmax(z) - onehot(y)``; from probabilities the exact gradient
    of Keras's clipped formula. Arguments as for :func:`sparse_categorical_crossentropy`.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Row ``i`` is ``d loss_i / d y_pred[i]``; rows of ignored samples are 0.
    """
    return _sparse_core(y_true, y_pred, from_logits, ignore_class, axis)[1]


def categorical_crossentropy(
    y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> FloatArray:
    """Per-sample cross-entropy with one-hot (or soft) targets (Keras's function of the same name).

    Parameters
    ----------
    y_true : array_like of shape (n_samples, n_classes)
        One-hot or probability rows.
    y_pred : array_like of shape (n_samples, n_classes)
        Probabilities (normalised, then clipped), or logits when ``from_logits=True``.
    from_logits : bool, default False
    label_smoothing : float in [0, 1], default 0
        Targets become ``y_true * (1 - label_smoothing) + label_smoothing / n_classes``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray of shape (n_samples,)
        In ``y_pred``'s dtype if it is a float32/float64 array, else float32.

    Raises
    ------
    ValueError
        Keras's rank/shape messages (integer labels are pointed to
        SparseCategoricalCrossentropy); NaN targets; ``label_smoothing`` outside [0, 1].
    TypeError
        Non-numeric input; a non-bool ``from_logits``.
    """
    return _categorical_core(y_true, y_pred, from_logits, label_smoothing, axis)[0]


def categorical_crossentropy_grad(
    y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> FloatArray:
    """Gradient of each per-sample categorical cross-entropy with respect to ``y_pred``.

    From logits ``softmax(z) * sum(t) - t`` (``t`` after smoothing); from
    probabilities the exact gradient of Keras's normalise-then-clip formula.
    Arguments as for :func:`categorical_crossentropy`.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    return _categorical_core(y_true, y_pred, from_logits, label_smoothing, axis)[1]


# --------------------------------------------------------------------------- reductions
def standardize_reduction(reduction: Optional[str]) -> Optional[str]:
    """Return ``reduction`` if Keras accepts it, else raise Keras's ValueError."""
    if not (reduction is None or isinstance(reduction, str)) or reduction not in _REDUCTIONS:
        hint = " ('sample_weight' is not a Keras reduction; 'mean_with_sample_weight' divides by the weights' sum.)"
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS_TEXT}. "
            f"Received: reduction={reduction}" + (hint if reduction == "sample_weight" else "")
        )
    return reduction


def _weights_and_divisor(
    n: int, sample_weight: Optional[np.ndarray], valid: Optional[np.ndarray], reduction: str
) -> tuple[Optional[np.ndarray], float]:
    """Weights and divisor such that the reduced loss is ``sum(weights * losses) / divisor``."""
    weights = sample_weight
    if valid is not None:
        weights = valid if weights is None else weights * valid
    if reduction == "sum":
        return weights, 1.0
    if reduction == "mean_with_sample_weight" and weights is not None:
        return weights, float(np.sum(weights))
    if valid is not None:  # Keras rescales the mask by total/valid: the mean over valid samples
        return weights, float(np.count_nonzero(valid))
    return weights, float(n)


def reduce_weighted_values(
    values: ArrayLike,
    sample_weight: Optional[ArrayLike] = None,
    reduction: Optional[str] = "sum_over_batch_size",
    mask: Optional[ArrayLike] = None,
) -> Union[float, FloatArray]:
    """Keras's reduction of per-sample losses ``l`` with weights ``w`` (default 1).

    ``"sum_over_batch_size"``/``"mean"``: ``sum(w l) / N``, ``N`` the number of
    values (not ``sum(w)``); ``"sum"``: ``sum(w l)``; ``"mean_with_sample_weight"``:
    ``sum(w l) / sum(w)``; ``"none"``/``None``: the array ``w l``. A division by
    0 gives 0 (``divide_no_nan``). A boolean ``mask`` (``ignore_class``) zeroes
    the masked values, and the means then run over the unmasked ones.

    Parameters
    ----------
    values, sample_weight : array_like of shape (n_samples,)
    reduction : str or None, default "sum_over_batch_size"
    mask : array_like of bool, shape (n_samples,), optional

    Returns
    -------
    float, or ndarray of shape (n_samples,) for ``"none"``/``None``
    """
    reduction = standardize_reduction(reduction)
    values = np.asarray(values)
    w = None if sample_weight is None else np.asarray(sample_weight)
    valid = None if mask is None else np.asarray(mask, dtype=bool)
    if reduction is None or reduction == "none":
        weights = _weights_and_divisor(values.size, w, valid, "sum")[0]
        return values if weights is None else (values * weights).astype(values.dtype, copy=False)
    weights, divisor = _weights_and_divisor(values.size, w, valid, reduction)
    total = values.sum() if weights is None else (values * weights).sum()
    return float(total) / divisor if divisor != 0 else 0.0


# --------------------------------------------------------------------------- classes
class Loss:
    """Base class: a loss's configuration and its two entry points.

    Subclasses set ``target`` (``"sparse"`` or ``"categorical"``: the ``y_true``
    they take) and ``fn_name`` (the Keras function they wrap), and implement
    ``_checked`` and ``_kernel``.
    """

    target: ClassVar[str] = ""
    fn_name: ClassVar[str] = ""

    def __init__(self, name: str, reduction: Optional[str], from_logits: bool) -> None:
        self.name = _check_arg(name, "name", (str,), "a str")
        self.reduction = standardize_reduction(reduction)
        self.from_logits = bool(_check_arg(from_logits, "from_logits", _BOOL, "a bool"))

    def __call__(
        self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: Optional[ArrayLike] = None
    ) -> Union[float, FloatArray]:
        """Checked loss, reduced per ``self.reduction``.

        Parameters
        ----------
        y_true : array_like
            (n_samples,) or (n_samples, 1) labels for sparse losses; (n_samples, n_classes) for categorical ones.
        y_pred : array_like of shape (n_samples, n_classes)
        sample_weight : array_like of shape (n_samples,), or a scalar, optional

        Returns
        -------
        float, or ndarray of shape (n_samples,) for reduction ``"none"``/``None``
        """
        values, _, valid = self._checked(y_true, y_pred)
        w = _check_sample_weight(sample_weight, values.shape, values.dtype)
        return reduce_weighted_values(values, w, self.reduction, valid)

    def loss_and_grad(
        self,
        y_true: np.ndarray,
        y_pred: FloatArray,
        sample_weight: Optional[FloatArray] = None,
        *,
        from_logits: Optional[bool] = None,
    ) -> tuple[float, FloatArray]:
        """Reduced loss and its gradient with respect to ``y_pred``: the unchecked hot path.

        Parameters
        ----------
        y_true : ndarray
            intp labels (batch,) for sparse losses; float targets (batch, n_classes) for categorical ones.
        y_pred : ndarray of shape (batch, n_classes), float32 or float64
            Classes on the last axis; the computation runs in this dtype.
        sample_weight : ndarray of shape (batch,), optional
        from_logits : bool, optional
            Overrides ``self.from_logits`` (the model forces True when it fuses its output activation).

        Returns
        -------
        loss : float
            Reduced per ``self.reduction`` (``"none"`` counts as ``"sum_over_batch_size"`` here).
        grad : ndarray, same shape and dtype as ``y_pred``
            From logits with the default reduction: ``(softmax(z) - onehot(y)) * w / batch``.
        """
        use_logits = self.from_logits if from_logits is None else from_logits
        losses, grad, valid = self._kernel(y_true, y_pred, use_logits)
        reduction = "sum_over_batch_size" if self.reduction in (None, "none") else self.reduction
        weights, divisor = _weights_and_divisor(losses.shape[0], sample_weight, valid, reduction)
        if divisor == 0:
            return 0.0, np.zeros_like(y_pred)
        if weights is None:
            grad *= grad.dtype.type(1.0 / divisor)
            return float(losses.sum()) / divisor, grad
        grad *= (weights / divisor).astype(grad.dtype, copy=False)[:, None]
        return float(np.dot(weights, losses)) / divisor, grad

    def columns_kernel(self, from_logits: Optional[bool] = None) -> Optional[Callable[..., float]]:
        """The fused kernel for logits laid out ``(n_classes, batch)`` without sample weights, or None.

        Returns ``kernel(y_true, z, grad) -> loss`` (the reduced loss; the
        gradient with respect to ``z`` written into ``grad``) when this loss
        has one for ``from_logits`` (overriding ``self.from_logits`` as in
        :meth:`loss_and_grad`), else None: the caller then uses
        :meth:`loss_and_grad`.
        """
        return None

    def _checked(self, y_true: ArrayLike, y_pred: ArrayLike) -> Kernel:
        raise NotImplementedError

    def _kernel(self, y_true: np.ndarray, y_pred: FloatArray, from_logits: bool) -> Kernel:
        raise NotImplementedError

    def get_config(self) -> dict:
        """JSON-safe constructor arguments, with Keras's keys."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        """Rebuild a loss from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy between integer labels and predicted class scores.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits (recommended) rather than probabilities.
    ignore_class : int, optional
        A label whose samples are left out: loss 0, and means run over the other samples.
    reduction : str or None, default "sum_over_batch_size"
        Or ``"mean"``, ``"sum"``, ``"mean_with_sample_weight"``, ``"none"``, None.
    axis : int, default -1
        Only the last axis is supported, as in Keras.
    name : str, default "sparse_categorical_crossentropy"
    """

    target = "sparse"
    fn_name = "sparse_categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: Optional[int] = None,
        reduction: Optional[str] = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
    ) -> None:
        super().__init__(name, reduction, from_logits)
        self.ignore_class = _check_ignore_class(ignore_class)
        self.axis = int(_check_arg(axis, "axis", _INT, "an integer"))

    def _checked(self, y_true: ArrayLike, y_pred: ArrayLike) -> Kernel:
        return _sparse_core(y_true, y_pred, self.from_logits, self.ignore_class, self.axis)

    def _kernel(self, y_true: np.ndarray, y_pred: FloatArray, from_logits: bool) -> Kernel:
        return _sparse_2d(y_pred, y_true, from_logits, self.ignore_class)

    def columns_kernel(self, from_logits: Optional[bool] = None) -> Optional[Callable[..., float]]:
        """See :meth:`Loss.columns_kernel`: from logits, without ``ignore_class``."""
        use_logits = self.from_logits if from_logits is None else from_logits
        if not use_logits or self.ignore_class is not None:
            return None
        by_sum = self.reduction == "sum"

        def kernel(y_true: NDArray[np.intp], z: FloatArray, grad: FloatArray) -> float:
            return _sparse_logits_columns(z, y_true, 1.0 if by_sum else float(z.shape[1]), grad)

        return kernel

    def get_config(self) -> dict:
        """``{'name', 'reduction', 'from_logits', 'ignore_class'}``, as Keras."""
        return {**super().get_config(), "from_logits": self.from_logits, "ignore_class": self.ignore_class}


class CategoricalCrossentropy(Loss):
    """Cross-entropy between one-hot (or soft) targets and predicted class scores.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits (recommended) rather than probabilities.
    label_smoothing : float in [0, 1], default 0
        Targets become ``y * (1 - label_smoothing) + label_smoothing / n_classes``.
    axis : int, default -1
        The class axis (``loss_and_grad`` assumes the last one).
    reduction : str or None, default "sum_over_batch_size"
    name : str, default "categorical_crossentropy"
    """

    target = "categorical"
    fn_name = "categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
    ) -> None:
        super().__init__(name, reduction, from_logits)
        self.label_smoothing = _check_label_smoothing(label_smoothing)
        self.axis = int(_check_arg(axis, "axis", _INT, "an integer"))

    def _checked(self, y_true: ArrayLike, y_pred: ArrayLike) -> Kernel:
        return _categorical_core(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)

    def _kernel(self, y_true: np.ndarray, y_pred: FloatArray, from_logits: bool) -> Kernel:
        return _categorical_2d(y_pred, y_true, from_logits, self.label_smoothing)

    def get_config(self) -> dict:
        """``{'name', 'reduction', 'from_logits', 'label_smoothing', 'axis'}``, as Keras."""
        config = {**super().get_config(), "from_logits": self.from_logits}
        return {**config, "label_smoothing": self.label_smoothing, "axis": self.axis}


_BY_NAME: dict[str, type[Loss]] = {
    "SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
    "CategoricalCrossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
}


def get(identifier: Any) -> Loss:
    """Resolve a loss identifier to a :class:`Loss` instance.

    Parameters
    ----------
    identifier : Loss, Loss subclass, str or dict
        An instance (returned as is); a class name such as
        ``"SparseCategoricalCrossentropy"`` or a function name such as
        ``"sparse_categorical_crossentropy"`` (Keras's defaults, ``from_logits=False``);
        or ``{"class_name": ..., "config": {...}}``. Keras's shape-dependent
        ``"crossentropy"``/``"ce"`` is not supported: name the loss explicitly.

    Raises
    ------
    ValueError
        ``Could not interpret loss identifier: ...``, with the valid names.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss) and identifier is not Loss:
        return identifier()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_NAME:
        return _BY_NAME[identifier["class_name"]].from_config(dict(identifier.get("config") or {}))
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    valid = ", ".join(repr(k) for k in _BY_NAME)
    raise ValueError(f"Could not interpret loss identifier: {identifier}. Valid names: {valid}.")
