"""``BatchNormalization``: batch statistics in training, moving statistics in inference (Keras's rule)."""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
from numpy.typing import NDArray

from .. import initializers
from .._validation import check_bool, check_real
from .core import Layer

__all__ = ["BatchNormalization", "batch_moments", "batch_norm_backward"]


def batch_moments(x: NDArray[np.floating]) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]:
    """Per-feature mean and biased variance of ``x`` (n, f), each (f,), and ``x - mean`` (n, f).

    Computed about the first row (shifted data) in two passes: unlike Keras's
    ``E[x^2] - E[x]^2`` the variance cannot go negative, and the centred data
    keep their digits in float32 when the mean is large against the spread.
    """
    n = x.dtype.type(len(x))
    shift = x[0]
    centered = x - shift
    offset = np.add.reduce(centered, axis=0) / n
    centered -= offset
    variance = np.add.reduce(centered * centered, axis=0) / n
    return shift + offset, variance, centered


def batch_norm_backward(
    grad_out: NDArray[np.floating], x_hat: NDArray[np.floating], scale_inv: NDArray[np.floating]
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]:
    r"""Gradients of :math:`y = \gamma \hat x + \beta` with batch statistics.

    Parameters
    ----------
    grad_out : ndarray of shape (n, f)
        Gradient with respect to the output ``y``.
    x_hat : ndarray of shape (n, f)
        The standardised input :math:`(x - \mu) / \sqrt{\sigma^2 + \epsilon}`.
    scale_inv : ndarray of shape (f,)
        :math:`\gamma / \sqrt{\sigma^2 + \epsilon}`.

    Returns
    -------
    grad_x : ndarray of shape (n, f)
        :math:`\frac{\gamma}{\sqrt{\sigma^2+\epsilon}}\,(g - \bar g - \hat x\, \overline{g \hat x})`,
        where the bars are means over the batch.
    grad_gamma, grad_beta : ndarray of shape (f,)
        :math:`\sum_i g_i \hat x_i` and :math:`\sum_i g_i`.
    """
    n = grad_out.dtype.type(len(grad_out))
    grad_beta = np.add.reduce(grad_out, axis=0)
    grad_gamma = np.add.reduce(grad_out * x_hat, axis=0)
    grad_x = x_hat * (grad_gamma / n)
    np.subtract(grad_out, grad_x, out=grad_x)
    grad_x -= grad_beta / n
    grad_x *= scale_inv
    return grad_x, grad_gamma, grad_beta


class BatchNormalization(Layer):
    r"""Normalise each feature with the batch's statistics in training and moving ones in inference.

    Training (``fit``, ``model(x, training=True)``): :math:`y = \gamma (x -
    \mu_B) / \sqrt{\sigma_B^2 + \epsilon} + \beta` with the batch mean and
    (biased) variance, and the moving statistics are updated as in Keras:
    ``moving = moving * momentum + batch * (1 - momentum)``. Inference uses the
    moving statistics, and so does a layer whose ``trainable`` is False (Keras 3).

    Parameters
    ----------
    axis : int, default -1
        The feature axis (-1 or 1: logitnet's inputs are (n_samples, n_features)).
    momentum : float in [0, 1], default 0.99
    epsilon : float > 0, default 1e-3
    center : bool, default True
        Learn the offset ``beta``.
    scale : bool, default True
        Learn the scale ``gamma``.
    beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer : str
        Defaults ``"zeros"``, ``"ones"``, ``"zeros"``, ``"ones"``.
    name : str, optional
    trainable : bool, default True
    input_shape : tuple, optional

    Attributes
    ----------
    params : dict of ndarray of shape (n_features,)
        ``gamma`` (when ``scale``), ``beta`` (when ``center``), ``moving_mean``
        and ``moving_variance``, in Keras's order. The moving statistics are
        non-trainable weights: counted as such by ``summary()`` and saved
        with the model.
    """

    _non_trainable = ("moving_mean", "moving_variance")

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Union[str, Any] = "zeros",
        gamma_initializer: Union[str, Any] = "ones",
        moving_mean_initializer: Union[str, Any] = "zeros",
        moving_variance_initializer: Union[str, Any] = "ones",
        name: Optional[str] = None,
        trainable: bool = True,
        input_shape: Any = None,
    ) -> None:
        if axis not in (-1, 1) or isinstance(axis, bool):
            raise ValueError(
                "Received an invalid value for `axis`, expected -1 or 1 (the feature axis of (n_samples, n_features) "
                f"inputs). Received: axis={axis!r}"
            )
        self.axis = int(axis)
        self.momentum = check_real("momentum", momentum, 0.0, 1.0, expected="a float in [0, 1]")
        self.epsilon = check_real("epsilon", epsilon, 0.0, low_open=True, expected="a positive float")
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        super().__init__(name=name, trainable=trainable, input_shape=input_shape)

    def build(self, input_shape: tuple, rng: Optional[np.random.Generator] = None, dtype: Any = "float32") -> None:
        """Create the weights, each of shape (n_features,)."""
        shape = (int(input_shape[-1]),)
        rng = np.random.default_rng(0) if rng is None else rng  # the default initializers draw nothing
        self.params = {}
        if self.scale:
            self.params["gamma"] = self.gamma_initializer(shape, dtype, rng)
        if self.center:
            self.params["beta"] = self.beta_initializer(shape, dtype, rng)
        self.params["moving_mean"] = self.moving_mean_initializer(shape, dtype, rng)
        self.params["moving_variance"] = self.moving_variance_initializer(shape, dtype, rng)
        self._gradient_buffers()
        super().build(input_shape)

    def _affine(self, mean: NDArray[np.floating], variance: NDArray[np.floating]) -> tuple:
        """``(scale_inv, offset)`` with ``y = x * scale_inv + offset``, each (n_features,)."""
        dt = mean.dtype.type
        inv = 1.0 / np.sqrt(variance + dt(self.epsilon))
        scale_inv = inv * self.params["gamma"] if self.scale else inv
        offset = -mean * scale_inv
        if self.center:
            offset += self.params["beta"]
        return scale_inv, offset

    def forward(self, x: NDArray[np.floating], training: bool = False) -> NDArray[np.floating]:
        """Output of shape (n_samples, n_features); training updates the moving statistics."""
        if not (training and self.trainable):
            scale_inv, offset = self._affine(self.params["moving_mean"], self.params["moving_variance"])
            if training:  # a frozen layer still passes gradients back (as a fixed affine map)
                self._cache = (None, scale_inv)
            out = x * scale_inv
            out += offset
            return out
        mean, variance, x_hat = batch_moments(x)
        dt = x.dtype.type
        momentum = dt(self.momentum)
        for key, batch in (("moving_mean", mean), ("moving_variance", variance)):
            moving = self.params[key]
            moving[...] = moving * momentum + batch * (dt(1.0) - momentum)
        inv = 1.0 / np.sqrt(variance + dt(self.epsilon))
        x_hat *= inv
        scale_inv = inv * self.params["gamma"] if self.scale else inv
        self._cache = (x_hat, scale_inv)
        out = x_hat * self.params["gamma"] if self.scale else x_hat.copy()
        if self.center:
            out += self.params["beta"]
        return out

    def backward(self, grad_out: NDArray[np.floating], need_input_grad: bool = True) -> Optional[NDArray[np.floating]]:
        x_hat, scale_inv = self._cache
        if x_hat is None:  # frozen: inference statistics
            return grad_out * scale_inv if need_input_grad else None
        grad_x, grad_gamma, grad_beta = batch_norm_backward(grad_out, x_hat, scale_inv)
        if self.scale:
            self.grads["gamma"][...] = grad_gamma
        if self.center:
            self.grads["beta"][...] = grad_beta
        return grad_x if need_input_grad else None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "beta_initializer": self.beta_initializer.name,
            "gamma_initializer": self.gamma_initializer.name,
            "moving_mean_initializer": self.moving_mean_initializer.name,
            "moving_variance_initializer": self.moving_variance_initializer.name,
        })
        return config

    def __repr__(self) -> str:
        return f"<BatchNormalization name={self.name!r}, momentum={self.momentum}, epsilon={self.epsilon}>"
