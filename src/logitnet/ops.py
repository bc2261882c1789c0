"""Pure array math: the only place where ``exp`` and ``log`` of user data happen.

Every function here takes array-likes, returns NumPy arrays, and is finite for
every finite input in float32 and float64 (``exponential`` excepted: ``exp``
of a large number is ``inf``), without overflow or invalid-value warnings.
Integer and boolean inputs are promoted to float64 (as :mod:`scipy.special`
does); float32 stays float32. NaN propagates (``np.maximum`` semantics).

The activation formulas follow Keras 3 (``keras.activations``). Their
derivatives are pure functions too: ``<name>_grad(x)`` takes the
pre-activation ``x``, ``<name>_grad_from_output(out)`` takes the activation's
output; both return the elementwise derivative, same shape and dtype. The
softmaxes are not elementwise: ``softmax_vjp`` and ``log_softmax_vjp`` return
the vector-Jacobian product directly.
"""

from __future__ import annotations

import math
from typing import Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "logsumexp",
    "softmax",
    "log_softmax",
    "softmax_vjp",
    "log_softmax_vjp",
    "one_hot",
    "erf",
    "erfc",
    "sigmoid",
    "relu",
    "tanh",
    "softplus",
    "softsign",
    "elu",
    "selu",
    "leaky_relu",
    "relu6",
    "gelu",
    "silu",
    "hard_sigmoid",
    "hard_silu",
    "exponential",
    "mish",
    "log_sigmoid",
    "sigmoid_grad_from_output",
    "tanh_grad_from_output",
    "relu_grad_from_output",
    "relu6_grad_from_output",
    "hard_sigmoid_grad_from_output",
    "log_sigmoid_grad_from_output",
    "relu_grad",
    "leaky_relu_grad",
    "softplus_grad",
    "softsign_grad",
    "elu_grad",
    "selu_grad",
    "gelu_grad",
    "silu_grad",
    "hard_silu_grad",
    "mish_grad",
]

Axis = Union[int, tuple[int, ...], None]
FloatArray = NDArray[np.floating]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715
# Beyond this |x| the tanh-gelu is saturated; clipping keeps x**3 finite in float32.
_GELU_CLIP = 1e4


def as_float_array(x: ArrayLike) -> FloatArray:
    """Return ``x`` as a floating-point ndarray, promoting ints and bools to float64.

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape; float16/32/64 inputs keep their dtype (and are returned
        without a copy), everything else is converted to float64.
    """
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


# --------------------------------------------------------------------------
# Reductions: logsumexp and the softmaxes
# --------------------------------------------------------------------------


def _shifted_log_sum_exp(s: FloatArray, axis: Axis) -> FloatArray:
    """``log(sum(exp(s)))`` with keepdims, for slices whose maximum is exactly 0.

    The ``n`` terms equal to the maximum contribute exactly ``n``; the rest go
    through ``log1p``, so a dominating term loses no precision (as scipy).
    """
    top = s == 0
    n = np.add.reduce(top, axis=axis, keepdims=True, dtype=s.dtype)
    e = np.exp(s)
    np.putmask(e, top, 0)
    rest = np.add.reduce(e, axis=axis, keepdims=True)
    return np.log(n) + np.log1p(rest / n)


def _log_sum_exp_parts(x: FloatArray, axis: Axis) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Split ``logsumexp(x)`` into a shift ``m``, the shifted ``s = x - m`` and a remainder ``r``.

    ``m`` and ``r`` have keepdims shapes; ``m + r == logsumexp(x)`` and
    ``s - r == log_softmax(x)``. ``m`` is the slice maximum where that is
    finite and 0 elsewhere; a slice whose maximum is not finite (all ``-inf``,
    some ``+inf`` or NaN) gets that maximum as its remainder, which is then
    the exact logsumexp.
    """
    if x.size == 0:
        with np.errstate(divide="ignore"):
            r = np.log(np.sum(np.exp(x), axis=axis, keepdims=True))
        return np.zeros_like(r), x.copy(), r
    m = np.maximum.reduce(x, axis=axis, keepdims=True)
    finite = np.isfinite(m)
    if finite.all():
        s = x - m
        return m, s, _shifted_log_sum_exp(s, axis)
    m_safe = np.where(finite, m, 0).astype(x.dtype, copy=False)
    with np.errstate(all="ignore"):
        s = x - m_safe
        r = _shifted_log_sum_exp(s, axis)
    return m_safe, s, np.where(finite, r, m).astype(x.dtype, copy=False)


def _squeeze(out: FloatArray, axis: Axis) -> FloatArray:
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


def logsumexp(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> FloatArray:
    r"""Compute :math:`\log \sum_j e^{a_j}` over ``axis`` without overflow.

    .. math:: \operatorname{logsumexp}(a) = m + \log \sum_j e^{a_j - m},
              \quad m = \max_j a_j

    Parameters
    ----------
    a : array_like
        Input of any shape.
    axis : int, tuple of int or None, default None
        Axes to reduce; ``None`` reduces over all axes (as scipy.special does).
    keepdims : bool, default False
        Keep the reduced axes with length one.

    Returns
    -------
    ndarray
        ``a``'s shape without the reduced axes (or with them as length one).
        A slice of all ``-inf`` (or an empty slice) gives ``-inf``; any
        ``+inf`` gives ``+inf``; any NaN gives NaN.

    Notes
    -----
    The terms equal to the maximum contribute exactly their count to the sum
    and the others go through ``log1p``, so the result is accurate to the last
    bit when one term dominates: ``logsumexp([0, -40]) = 4.248354255291589e-18``.
    """
    x = as_float_array(a)
    if x.ndim == 0:  # numpy reductions of a 0-d array give scalars, not arrays
        return np.add.reduce(x, axis=axis, keepdims=keepdims)  # also validates axis
    m, _, r = _log_sum_exp_parts(x, axis)
    out = m + r
    return out if keepdims else _squeeze(out, axis)


def softmax(x: ArrayLike, axis: Axis = -1) -> FloatArray:
    r"""Softmax, eq. (1) of the lesson, computed without overflow.

    .. math:: a_j = \frac{e^{z_j - m}}{\sum_k e^{z_k - m}}, \quad m = \max_k z_k

    Parameters
    ----------
    x : array_like
        Logits of any shape, typically ``(n_samples, n_classes)``.
    axis : int, tuple of int or None, default -1
        Axes the probabilities sum over (``-1`` like ``tf.nn.softmax``).

    Returns
    -------
    ndarray
        Same shape as ``x``; non-negative and summing to 1 over ``axis``.
        ``softmax([1000., 0.])`` is ``[1., 0.]``; ``-inf`` entries get 0.
        A slice of all ``-inf``, or with NaN, gives NaN.
    """
    z = as_float_array(x)
    if z.size == 0:
        return np.exp(z)
    m = np.maximum.reduce(z, axis=axis, keepdims=True)
    finite = np.isfinite(m)
    if finite.all():
        e = np.exp(z - m)
        e /= np.add.reduce(e, axis=axis, keepdims=True)
        return e
    m = np.where(finite, m, 0).astype(z.dtype, copy=False)
    with np.errstate(all="ignore"):
        e = np.exp(z - m)
        e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def log_softmax(x: ArrayLike, axis: Axis = -1) -> FloatArray:
    r"""Logarithm of the softmax, computed directly from the logits.

    .. math:: \log a_j = (z_j - m) - \log \sum_k e^{z_k - m}

    Never ``log(softmax(z))``, which gives ``-inf`` once a probability
    underflows. The shift ``z_j - m`` is exact, so large logits lose nothing.

    Parameters
    ----------
    x : array_like
        Logits of any shape, typically ``(n_samples, n_classes)``.
    axis : int, tuple of int or None, default -1
        Axes the softmax normalises over.

    Returns
    -------
    ndarray
        Same shape as ``x``; ``logsumexp(result, axis) == 0``.
    """
    _, s, r = _log_sum_exp_parts(as_float_array(x), axis)
    with np.errstate(invalid="ignore"):  # only -inf - -inf and inf - inf
        s -= r
    return s


def softmax_vjp(grad_out: FloatArray, out: FloatArray, axis: Axis = -1) -> FloatArray:
    r"""Gradient through a softmax: the Jacobian-vector product from its output.

    .. math:: \frac{\partial L}{\partial z_j} = a_j \Big(g_j - \sum_k g_k a_k\Big)

    Parameters
    ----------
    grad_out : ndarray
        :math:`g = \partial L / \partial a`, same shape as ``out``.
    out : ndarray
        The softmax output :math:`a`, e.g. ``(n_samples, n_classes)``.
    axis : int, tuple of int or None, default -1
        The axis the softmax was taken over.

    Returns
    -------
    ndarray
        :math:`\partial L / \partial z`, same shape as ``out``.
    """
    return out * (grad_out - np.sum(grad_out * out, axis=axis, keepdims=True))


def log_softmax_vjp(grad_out: FloatArray, out: FloatArray, axis: Axis = -1) -> FloatArray:
    r"""Gradient through a log-softmax, from its output :math:`\ell = \log a`.

    .. math:: \frac{\partial L}{\partial z_j} = g_j - e^{\ell_j} \sum_k g_k

    Parameters
    ----------
    grad_out : ndarray
        :math:`g = \partial L / \partial \ell`, same shape as ``out``.
    out : ndarray
        The log-softmax output, e.g. ``(n_samples, n_classes)``.
    axis : int, tuple of int or None, default -1
        The axis the log-softmax was taken over.

    Returns
    -------
    ndarray
        :math:`\partial L / \partial z`, same shape as ``out``.
    """
    return grad_out - np.exp(out) * np.sum(grad_out, axis=axis, keepdims=True)


def one_hot(labels: ArrayLike, n_classes: int, dtype: type = np.float32) -> FloatArray:
    """Encode integer class labels as one-hot rows.

    Parameters
    ----------
    labels : array_like of int, shape (n_samples,) or (n_samples, 1)
        Class indices in ``[0, n_classes)``. Float labels are truncated
        towards zero, as Keras does.
    n_classes : int
        Number of columns.
    dtype : numpy dtype, default float32

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Row ``i`` has a 1 in column ``labels[i]`` and 0 elsewhere.

    Raises
    ------
    ValueError
        If ``n_classes`` is not a positive integer or a label is outside
        ``[0, n_classes)``.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ValueError(
            "Received an invalid value for `n_classes`, expected a positive integer. "
            f"Received: n_classes={n_classes!r}"
        )
    idx = np.asarray(labels).astype(np.intp, copy=False).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n_classes):
        bad = idx[(idx < 0) | (idx >= n_classes)][0]
        raise ValueError(
            f"Received a label value of {bad} which is outside the valid range of "
            f"[0, {n_classes})."
        )
    out = np.zeros((idx.shape[0], n_classes), dtype=dtype)
    out[np.arange(idx.shape[0]), idx] = 1
    return out


# --------------------------------------------------------------------------
# The error function (W. J. Cody's rational Chebyshev approximations)
# --------------------------------------------------------------------------

# Coefficients of CALERF (Netlib SPECFUN): W. J. Cody, "Rational Chebyshev
# approximations for the error function", Math. Comp. 23 (1969) 631-638.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
_ERF_SMALL = 0.46875  # |x| at or below: erf by A/B; above: erfc by C/D, then P/Q
_ERFC_ZERO = 26.543  # erfc(x) underflows to 0 in float64 beyond this


def _rational(t: FloatArray, num: tuple[float, ...], den: tuple[float, ...]) -> FloatArray:
    """Cody's Horner scheme: ``(num[-1] t^k + ... + num[-2]) / (t^k + ... + den[-1])``."""
    xnum = num[-1] * t
    xden = t
    for a, b in zip(num[:-2], den[:-1]):
        xnum = (xnum + a) * t
        xden = (xden + b) * t
    return (xnum + num[-2]) / (xden + den[-1])


def _erf_small(x: FloatArray) -> FloatArray:
    """erf(x) for ``|x| <= 0.46875`` (float64)."""
    return x * _rational(x * x, _ERF_A, _ERF_B)


def _erfc_positive(y: FloatArray) -> FloatArray:
    """erfc(y) for ``y > 0.46875`` or NaN (float64), with ``exp(-y^2)`` split for accuracy."""
    out = np.where(np.isnan(y), np.nan, 0.0)
    mid = y <= 4.0
    far = (y > 4.0) & (y < _ERFC_ZERO)
    ym, yf = y[mid], y[far]
    out[mid] = _rational(ym, _ERF_C, _ERF_D)
    ysq = 1.0 / (yf * yf)
    out[far] = (1.0 / math.sqrt(math.pi) - ysq * _rational(ysq, _ERF_P, _ERF_Q)) / yf
    near = mid | far
    yn = y[near]
    ytrunc = np.trunc(16.0 * yn) / 16.0
    out[near] *= np.exp(-ytrunc * ytrunc) * np.exp(-(yn - ytrunc) * (yn + ytrunc))
    return out


def _erf_parts(x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray, type]:
    """Return float64 ``x``, the mask ``|x| <= 0.46875``, ``erfc(|x|)`` off it, and the dtype."""
    z = as_float_array(x)
    xd = z.astype(np.float64, copy=False)
    small = np.abs(xd) <= _ERF_SMALL
    return xd, small, _erfc_positive(np.abs(xd[~small])), z.dtype


def erf(x: ArrayLike) -> FloatArray:
    r"""The error function :math:`\frac{2}{\sqrt\pi}\int_0^x e^{-t^2}\,dt`, vectorised.

    W. J. Cody's rational Chebyshev approximations (Netlib SPECFUN ``CALERF``),
    about 1e-16 relative error in float64; computed in float64 for any input.

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape and floating dtype as ``x``, in ``[-1, 1]``.
    """
    xd, small, tail, dtype = _erf_parts(x)
    out = np.empty_like(xd)
    out[small] = _erf_small(xd[small])
    out[~small] = np.copysign(1.0 - tail, xd[~small])
    return out.astype(dtype, copy=False)


def erfc(x: ArrayLike) -> FloatArray:
    r"""The complementary error function :math:`1 - \operatorname{erf}(x)`, vectorised.

    Accurate in relative terms far into the right tail (no cancellation);
    same algorithm and dtype rules as :func:`erf`.

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape and floating dtype as ``x``, in ``[0, 2]``.
    """
    xd, small, tail, dtype = _erf_parts(x)
    out = np.empty_like(xd)
    out[small] = 1.0 - _erf_small(xd[small])
    out[~small] = np.where(xd[~small] < 0, 2.0 - tail, tail)
    return out.astype(dtype, copy=False)


# --------------------------------------------------------------------------
# Elementwise activations (Keras 3 formulas); each maps x to the same shape
# --------------------------------------------------------------------------


def _sigmoid_parts(z: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return ``sigmoid(z)`` and ``sigmoid(z) * sigmoid(-z)``; only ``exp(-|z|)`` is taken."""
    e = np.exp(-np.abs(z))
    r = 1 / (1 + e)
    return np.where(z >= 0, r, e * r), e * r * r


def sigmoid(x: ArrayLike) -> FloatArray:
    r"""Logistic sigmoid :math:`1/(1+e^{-x})`, stable for any ``|x|``.

    Uses :math:`e^{-|x|}` only, so it never overflows; ``sigmoid(-40)`` keeps
    its full relative precision (4.25e-18), not 0.
    """
    return _sigmoid_parts(as_float_array(x))[0]


_ZEROS: dict[tuple, np.ndarray] = {}  # read-only zero arrays by (shape, dtype), for relu_
_ZEROS_MAX_ELEMENTS = 1 << 21


def relu_(x: FloatArray) -> FloatArray:
    r"""The plain relu :math:`\max(x, 0)` written into ``x`` (C-contiguous), which is returned.

    ``np.maximum`` against a scalar 0 runs an unvectorised loop (about 6x
    slower than against an array of zeros on AVX2/AVX-512 machines), so the
    zeros come from a small cache of read-only arrays of ``x``'s shape.
    The result is the same, NaN included.
    """
    if x.size > _ZEROS_MAX_ELEMENTS:
        return np.maximum(x, 0, out=x)
    key = (x.shape, x.dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        zeros = np.zeros(x.shape, x.dtype)
        zeros.flags.writeable = False
        if len(_ZEROS) >= 32:
            _ZEROS.clear()
        _ZEROS[key] = zeros
    return np.maximum(x, zeros, out=x)


def relu(
    x: ArrayLike,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> FloatArray:
    r"""Rectified linear unit with Keras's options.

    ``max_value`` if :math:`x \ge` ``max_value``; :math:`x` if ``threshold``
    :math:`< x <` ``max_value``; ``negative_slope * (x - threshold)`` otherwise.
    As in Keras, when ``max_value`` is given the kept part is also clipped
    below at 0 (matters only for a negative ``threshold``).
    """
    z = as_float_array(x)
    negative_slope, threshold = float(negative_slope), float(threshold)  # keep float32 float32
    if negative_slope == 0 and max_value is None and threshold == 0:
        return np.maximum(z, 0)
    y = np.where(z <= threshold, 0, z).astype(z.dtype, copy=False)  # NaN kept
    if max_value is not None:
        y = np.clip(y, 0, float(max_value))
    if negative_slope != 0:
        y -= negative_slope * np.maximum(threshold - z, 0)
    return y


def tanh(x: ArrayLike) -> FloatArray:
    """Hyperbolic tangent."""
    return np.tanh(as_float_array(x))


def _softplus(z: FloatArray) -> FloatArray:
    """``logaddexp(z, 0)`` written out, so that NaN passes through without a warning."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def softplus(x: ArrayLike) -> FloatArray:
    r""":math:`\log(1 + e^x) = \max(x, 0) + \log(1 + e^{-|x|})` (``logaddexp(x, 0)``)."""
    return _softplus(as_float_array(x))


def softsign(x: ArrayLike) -> FloatArray:
    r""":math:`x / (1 + |x|)`."""
    z = as_float_array(x)
    return z / (1 + np.abs(z))


def elu(x: ArrayLike, alpha: float = 1.0) -> FloatArray:
    r""":math:`x` if :math:`x > 0`, else :math:`\alpha (e^x - 1)` (``expm1``)."""
    z = as_float_array(x)
    return np.where(z > 0, z, float(alpha) * np.expm1(np.minimum(z, 0)))


def selu(x: ArrayLike) -> FloatArray:
    r"""Scaled ELU: ``1.0507009873554805 * elu(x, 1.6732632423543772)``."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def leaky_relu(x: ArrayLike, negative_slope: float = 0.2) -> FloatArray:
    r""":math:`x` if :math:`x > 0`, else ``negative_slope * x`` (``tf.nn.leaky_relu``)."""
    z = as_float_array(x)
    return np.where(z > 0, z, float(negative_slope) * z)


def relu6(x: ArrayLike) -> FloatArray:
    r""":math:`\min(\max(x, 0), 6)`."""
    return np.minimum(np.maximum(as_float_array(x), 0), 6)


def _gelu_tanh_arg(z: FloatArray) -> FloatArray:
    r"""``2 u`` with :math:`u = \sqrt{2/\pi}(x + 0.044715 x^3)`, x clipped where tanh saturates."""
    c = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
    return (2 * _SQRT_2_OVER_PI) * (c + _GELU_CUBIC * c * c * c)


def gelu(x: ArrayLike, approximate: bool = False) -> FloatArray:
    r"""Gaussian error linear unit :math:`x \Phi(x)`.

    Exact (default, as ``keras.activations.gelu``):
    :math:`\tfrac12 x\,\operatorname{erfc}(-x/\sqrt2)`, equal to
    :math:`\tfrac12 x (1 + \operatorname{erf}(x/\sqrt2))` without its
    cancellation for negative x. ``approximate=True``:
    :math:`\tfrac12 x (1 + \tanh u) = x\,\sigma(2u)`,
    :math:`u = \sqrt{2/\pi}(x + 0.044715 x^3)`.
    """
    z = as_float_array(x)
    if approximate:
        return z * _sigmoid_parts(_gelu_tanh_arg(z))[0]
    return 0.5 * z * erfc(-_SQRT_HALF * z)


def silu(x: ArrayLike) -> FloatArray:
    r"""SiLU (swish): :math:`x \sigma(x)`."""
    z = as_float_array(x)
    return z * _sigmoid_parts(z)[0]


def hard_sigmoid(x: ArrayLike) -> FloatArray:
    r"""``relu6(x + 3) / 6`` (Keras 3; Keras 2 used ``0.2 x + 0.5``)."""
    return relu6(as_float_array(x) + 3) / 6


def hard_silu(x: ArrayLike) -> FloatArray:
    r"""Hard SiLU (hard swish): ``x * hard_sigmoid(x)``."""
    z = as_float_array(x)
    return z * hard_sigmoid(z)


def exponential(x: ArrayLike) -> FloatArray:
    r""":math:`e^x`; ``inf`` (silently) once it exceeds the dtype's range."""
    with np.errstate(over="ignore"):
        return np.exp(as_float_array(x))


def mish(x: ArrayLike) -> FloatArray:
    r""":math:`x \tanh(\operatorname{softplus}(x))`."""
    z = as_float_array(x)
    return z * np.tanh(_softplus(z))


def log_sigmoid(x: ArrayLike) -> FloatArray:
    r""":math:`\log \sigma(x) = -\operatorname{softplus}(-x)`."""
    return -_softplus(-as_float_array(x))


# --------------------------------------------------------------------------
# Derivatives: elementwise dy/dx, same shape and dtype as the argument
# --------------------------------------------------------------------------


def _mask(cond: NDArray[np.bool_], like: FloatArray) -> FloatArray:
    return cond.astype(like.dtype)


def sigmoid_grad_from_output(out: FloatArray) -> FloatArray:
    r"""Sigmoid derivative from its output ``a``: :math:`a (1 - a)`."""
    return out * (1 - out)


def tanh_grad_from_output(out: FloatArray) -> FloatArray:
    r"""Tanh derivative from its output ``a``: :math:`1 - a^2`."""
    return 1 - out * out


def relu_grad_from_output(out: FloatArray) -> FloatArray:
    """Plain relu derivative from its output: 1 where ``out > 0``, else 0 (TF convention at 0)."""
    return _mask(out > 0, out)


def relu6_grad_from_output(out: FloatArray) -> FloatArray:
    """relu6 derivative from its output: 1 where ``0 < out < 6``, else 0."""
    return _mask((out > 0) & (out < 6), out)


def hard_sigmoid_grad_from_output(out: FloatArray) -> FloatArray:
    """hard_sigmoid derivative from its output: 1/6 where ``0 < out < 1``, else 0."""
    return _mask((out > 0) & (out < 1), out) / 6


def log_sigmoid_grad_from_output(out: FloatArray) -> FloatArray:
    r"""log_sigmoid derivative from its output :math:`\ell`: :math:`-\operatorname{expm1}(\ell)`.

    That is :math:`1 - \sigma(x) = \sigma(-x)`, accurate in both tails.
    """
    return -np.expm1(out)


def relu_grad(
    x: FloatArray,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> FloatArray:
    """Derivative of :func:`relu` with the same options, from its input (0 at the kinks)."""
    kept = x > threshold
    if max_value is not None:
        kept &= (x > 0) & (x < max_value)
    d = _mask(kept, x)
    if negative_slope != 0:
        d += negative_slope * _mask(x < threshold, x)
    return d


def leaky_relu_grad(x: FloatArray, negative_slope: float = 0.2) -> FloatArray:
    """Derivative of :func:`leaky_relu`: 1 where ``x > 0``, else ``negative_slope``."""
    return np.where(x > 0, 1, negative_slope).astype(x.dtype, copy=False)


def softplus_grad(x: FloatArray) -> FloatArray:
    r"""Derivative of softplus: :math:`\sigma(x)`."""
    return _sigmoid_parts(x)[0]


def softsign_grad(x: FloatArray) -> FloatArray:
    r"""Derivative of softsign: :math:`1 / (1 + |x|)^2` (squared after dividing: no overflow)."""
    t = 1 / (1 + np.abs(x))
    return t * t


def elu_grad(x: FloatArray, alpha: float = 1.0) -> FloatArray:
    r"""Derivative of ELU: 1 where :math:`x > 0`, else :math:`\alpha e^x`."""
    return np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)


def selu_grad(x: FloatArray) -> FloatArray:
    """Derivative of SELU: ``1.0507009873554805 * elu_grad(x, 1.6732632423543772)``."""
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


def gelu_grad(x: FloatArray, approximate: bool = False) -> FloatArray:
    r"""Derivative of :func:`gelu`.

    Exact: :math:`\Phi(x) + x \varphi(x)`. Approximate, with :math:`v = 2u`:
    :math:`\sigma(v) + x\,v'\,\sigma(v)\sigma(-v)`.
    """
    if approximate:
        s, ss = _sigmoid_parts(_gelu_tanh_arg(x))
        c = np.clip(x, -_GELU_CLIP, _GELU_CLIP)
        dv = (2 * _SQRT_2_OVER_PI) * (1 + (3 * _GELU_CUBIC) * c * c)
        return s + x * dv * ss
    c = np.clip(x, -40, 40)  # exp(-800) is already 0: keeps x*x finite
    return 0.5 * erfc(-_SQRT_HALF * x) + x * (_INV_SQRT_2PI * np.exp(-0.5 * c * c))


def silu_grad(x: FloatArray) -> FloatArray:
    r"""Derivative of SiLU: :math:`\sigma(x) + x \sigma(x) \sigma(-x)`."""
    s, ss = _sigmoid_parts(x)
    return s + x * ss


def hard_silu_grad(x: FloatArray) -> FloatArray:
    r"""Derivative of hard SiLU: 0 for x <= -3, 1 for x >= 3, else :math:`(2x + 3)/6`."""
    d = np.where(x >= 3, 1, (2 * x + 3) / 6)
    return np.where(x <= -3, 0, d).astype(x.dtype, copy=False)


def mish_grad(x: FloatArray) -> FloatArray:
    r"""Derivative of mish: :math:`t + x (1 - t^2) \sigma(x)` where ``t = tanh(softplus(x))``."""
    t = np.tanh(_softplus(x))
    return t + x * (1 - t * t) * _sigmoid_parts(x)[0]
