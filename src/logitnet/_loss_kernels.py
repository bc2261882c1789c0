"""The unchecked kernels behind :mod:`logitnet.losses`: per-sample cross-entropy and its gradient.

Each takes checked 2-D arrays (the classes on the last axis, or on the first
for :func:`_sparse_logits_columns`) and returns losses and gradients without
validating anything: the training loop calls them once per step. The math and
Keras's conventions are described in :mod:`logitnet.losses`.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from numpy.typing import NDArray

EPSILON = 1e-7
"""Keras's ``keras.config.epsilon()``: the clip margin of the from-probabilities path."""

FloatArray = NDArray[np.floating]
Kernel = tuple[FloatArray, FloatArray, Optional[NDArray[np.bool_]]]

_OFFSETS: dict[tuple[int, int], NDArray[np.intp]] = {}
_COLUMN_CONSTANTS: dict[tuple, tuple] = {}


def _row_offsets(n_rows: int, n_cols: int) -> NDArray[np.intp]:
    """``arange(n_rows) * n_cols``: adding it to per-row column indices gives flat indices.

    Flat ``take``/``put`` are several times cheaper than ``a[rows, cols]`` on
    small batches; the offsets are cached per shape (read-only).
    """
    offsets = _OFFSETS.get((n_rows, n_cols))
    if offsets is None:
        offsets = np.arange(n_rows, dtype=np.intp) * n_cols
        offsets.flags.writeable = False
        if len(_OFFSETS) < 64:
            _OFFSETS[(n_rows, n_cols)] = offsets
    return offsets


def _softmax_parts(z: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Softmax of (B, C) logits and ``logsumexp(z) = m + lse_rest``, with a single ``exp``.

    Returns ``probs`` (B, C), the row maximum ``m`` (B,) and ``lse_rest`` (B,),
    ``log1p`` of the sum of the other shifted terms. Keeping ``m`` apart lets
    callers form ``(m - z_y) + lse_rest`` without cancellation. (The same math
    as ``ops.logsumexp``/``ops.softmax``, fused: 3x faster on the hot path.)
    """
    top = z.argmax(axis=1)
    top += _row_offsets(*z.shape)
    m = z.take(top)
    e = np.subtract(z, m[:, None], order="C")  # C order whatever z's: the flat writes below need it
    np.exp(e, out=e)
    flat = e.reshape(-1)
    flat[top] = 0.0
    rest = np.add.reduce(e, axis=1)
    flat[top] = 1.0
    e /= (rest + 1.0)[:, None]
    return e, m, np.log1p(rest)


def _column_constants(b: int, n_classes: int, dtype: Any, divisor: float) -> tuple:
    """Cached read-only arrays for :func:`_sparse_logits_columns` (ufuncs run faster on arrays than with
    scalars, and a product with ones is the cheapest sum of a few rows).

    ``(arange(b), b repeated b times, ones (b,), ones (n_classes,), divisor_or_none, step)``:
    ``divisor_or_none`` is ``divisor`` repeated b times when it is a power of two (scaling by it is
    exact, so it folds into the softmax's division), else None; ``step`` is the label's ``1 / divisor``
    repeated b times when folded, else ones (b,).
    """
    key = (b, n_classes, dtype.char, divisor)
    constants = _COLUMN_CONSTANTS.get(key)
    if constants is None:
        mantissa = np.frexp(divisor)[0]
        folded = np.full(b, divisor, dtype=dtype) if mantissa == 0.5 else None
        step = np.full(b, 1.0 / divisor, dtype=dtype) if folded is not None else np.ones(b, dtype=dtype)
        constants = (np.arange(b, dtype=np.intp), np.full(b, b, dtype=np.intp), np.ones(b, dtype=dtype),
                     np.ones(n_classes, dtype=dtype), folded, step)
        for a in constants:
            if a is not None:
                a.flags.writeable = False
        if len(_COLUMN_CONSTANTS) < 64:
            _COLUMN_CONSTANTS[key] = constants
    return constants


def _sparse_logits_columns(z: FloatArray, y: NDArray[np.intp], divisor: float, grad: FloatArray) -> float:
    """Sparse cross-entropy from logits laid out ``(n_classes, batch)``: the reduced loss, and its gradient in ``grad``.

    The same math as ``_sparse_2d`` from logits (one ``exp``, the largest
    term kept out of the ``log1p``), for the transposed layout of
    :mod:`logitnet.dense_chain`: reductions over the classes add whole rows,
    and per-sample factors broadcast along rows, both far cheaper than their
    per-row counterparts on a ``(batch, n_classes)`` array of a few columns.

    Parameters
    ----------
    z : ndarray of shape (n_classes, batch), C-contiguous
    y : ndarray of shape (batch,), intp labels in ``[0, n_classes)``
    divisor : float
        The reduction's divisor (the batch size, or 1 for ``"sum"``).
    grad : ndarray of shape (n_classes, batch), C-contiguous
        Receives ``(softmax(z) - onehot(y)) / divisor``.

    Returns
    -------
    float
        ``sum(logsumexp(z) - z[y]) / divisor``.
    """
    n_classes, b = z.shape
    cols, stride, ones, class_ones, folded, step = _column_constants(b, n_classes, z.dtype, divisor)
    top = z.argmax(axis=0)  # flat indices of each column's largest logit, then of its label
    np.multiply(top, stride, top)
    np.add(top, cols, top)
    label = np.multiply(y, stride)
    np.add(label, cols, label)
    flat_z, flat = z.reshape(-1), grad.reshape(-1)
    m = flat_z.take(top)
    np.subtract(z, m, grad)
    np.exp(grad, grad)
    flat[top] = 0.0
    rest = np.dot(class_ones, grad)  # the sum over the classes but the largest
    flat[top] = 1.0
    losses = np.subtract(m, flat_z.take(label))
    losses += np.log1p(rest)
    loss = float(np.dot(losses, ones)) / divisor
    np.add(rest, ones, rest)
    if folded is not None:  # (e / s) / d == e / (s d) and (p - 1) / d == p / d - 1 / d, exactly
        np.multiply(rest, folded, rest)
    np.divide(grad, rest, grad)
    picked = flat.take(label)
    np.subtract(picked, step, picked)
    flat.put(label, picked)
    if folded is None:
        np.multiply(grad, grad.dtype.type(1.0 / divisor), grad)  # as loss_and_grad scales it
    return loss


def _clip_bounds(dtype: Any) -> tuple[Any, Any]:
    return dtype.type(EPSILON), dtype.type(1.0 - EPSILON)


def _sparse_2d(z: FloatArray, y: NDArray[np.intp], from_logits: bool, ignore_class: Optional[int]) -> Kernel:
    """Per-sample sparse cross-entropy of (B, C) scores, its gradient (B, C) and the valid mask.

    From logits the gradient is ``softmax(z) - onehot(y)``. From probabilities
    (``c = clip(p)``, ``S = sum(c)``, loss ``log S - log c_y``) it is
    ``inside_j / S - [j == y] inside_y / c_y``, ``inside`` marking ``lo <= p <= hi``.
    Samples labelled ``ignore_class`` get loss 0 and gradient 0.
    """
    valid = None
    if ignore_class is not None:
        valid = y != ignore_class
        y = np.where(valid, y, 0)
    if from_logits:
        grad, m, lse_rest = _softmax_parts(z)
        flat_y = y + _row_offsets(*z.shape)
        losses = (m - z.take(flat_y)) + lse_rest
        grad.reshape(-1)[flat_y] -= 1.0
    else:
        rows = np.arange(z.shape[0])
        lo, hi = _clip_bounds(z.dtype)
        c = np.clip(z, lo, hi)
        s, c_y = c.sum(axis=1), c[rows, y]
        losses = np.log(s) - np.log(c_y)
        inside = (z >= lo) & (z <= hi)
        grad = (inside / s[:, None]).astype(z.dtype, copy=False)
        grad[rows, y] -= inside[rows, y] / c_y
    if valid is not None:
        losses = np.where(valid, losses, 0.0).astype(z.dtype, copy=False)
        grad[~valid] = 0.0
    return losses, grad, valid


def _categorical_2d(z: FloatArray, t: FloatArray, from_logits: bool, label_smoothing: float) -> Kernel:
    """Per-sample categorical cross-entropy of (B, C) scores against (B, C) targets, and its gradient.

    Targets are smoothed first: ``t (1 - ls) + ls / C``. From logits the
    gradient is ``softmax(z) sum(t) - t``. From probabilities (``q = p / sum(p)``)
    it is ``(g - sum(g q)) / sum(p)`` with ``g = -t inside / clip(q)``, the
    gradient with respect to ``q``.
    """
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]
    if from_logits:
        grad, m, lse_rest = _softmax_parts(z)
        t_sum = t.sum(axis=1)
        losses = (t * (m[:, None] - z)).sum(axis=1) + t_sum * lse_rest
        grad *= t_sum[:, None]
        grad -= t
        return losses, grad, None
    lo, hi = _clip_bounds(z.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):  # an all-zero row gives NaN, as in Keras
        s = z.sum(axis=1, keepdims=True)
        q = z / s
        c = np.clip(q, lo, hi)
        losses = -(t * np.log(c)).sum(axis=1)
        g = np.where((q >= lo) & (q <= hi), -t / c, 0.0).astype(z.dtype, copy=False)
        grad = (g - (g * q).sum(axis=1, keepdims=True)) / s
    return losses, grad, None
