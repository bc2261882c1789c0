"""``Dropout``: inverted dropout, active only in training."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from numpy.typing import NDArray

from .._validation import check_real, is_int
from ..utils import make_rng
from .core import Layer

__all__ = ["Dropout"]


def _check_rate(rate: Any) -> float:
    return check_real("rate", rate, 0.0, 1.0, high_open=True,
                      expected="a float in [0, 1) (the fraction of inputs set to 0; rate=1 would drop everything)")


def _check_noise_shape(noise_shape: Any) -> Optional[tuple]:
    if noise_shape is None:
        return None
    ok = isinstance(noise_shape, (tuple, list)) and len(noise_shape) == 2 and all(
        d is None or (is_int(d) and d > 0) for d in noise_shape
    )
    if not ok:
        raise ValueError(
            "Received an invalid value for `noise_shape`, expected None or a tuple (batch, features) of positive "
            f"integers or None, e.g. (None, 1) to drop whole rows. Received: noise_shape={noise_shape!r}"
        )
    return tuple(None if d is None else int(d) for d in noise_shape)


class Dropout(Layer):
    r"""Set a random fraction ``rate`` of the inputs to 0 in training, and scale the rest by ``1 / (1 - rate)``.

    In inference (``predict``, ``evaluate``, ``model(x)``) the layer passes
    its input through unchanged, so the expected activation is the same in
    both modes.

    Parameters
    ----------
    rate : float in [0, 1)
        Probability of dropping each input. ``rate=0`` draws no random numbers
        and is exactly the identity.
    noise_shape : tuple (batch, features), optional
        Shape of the keep mask, broadcast over the input; ``None`` entries take
        the input's size, e.g. ``(None, 1)`` drops whole rows.
    seed : int, optional
        Gives the layer its own generator. By default the masks come from the
        model's generator (``Sequential(seed=...)``), so a seeded model's
        training is reproducible bit for bit.
    name : str, optional

    Notes
    -----
    For input ``x`` of shape (n_samples, n_features), the training output is
    ``x * m`` with ``m = (u >= rate) / (1 - rate)``, ``u`` uniform in [0, 1).
    """

    weightless = True

    def __init__(self, rate: float, noise_shape: Any = None, seed: Optional[int] = None,
                 name: Optional[str] = None, trainable: bool = True, input_shape: Any = None) -> None:
        self.rate = _check_rate(rate)
        self.noise_shape = _check_noise_shape(noise_shape)
        if seed is not None and not (is_int(seed) and seed >= 0):
            raise ValueError(f"Received an invalid value for `seed`, expected None or a non-negative integer. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        super().__init__(name=name, trainable=trainable, input_shape=input_shape)
        self._rng: Optional[np.random.Generator] = None if seed is None else make_rng(self.seed)

    def build(self, input_shape: tuple, rng: Optional[np.random.Generator] = None, dtype: Any = "float32") -> None:
        """No weights; keeps the model's generator ``rng`` for the masks (unless ``seed`` was given)."""
        if self._rng is None:
            self._rng = make_rng(None) if rng is None else rng
        self._dtype = np.dtype(dtype)
        super().build(input_shape)

    @property
    def dtype(self) -> np.dtype:
        return getattr(self, "_dtype", np.dtype(np.float32))

    def forward(self, x: NDArray[np.floating], training: bool = False) -> NDArray[np.floating]:
        """``x`` itself in inference; ``x * mask`` (a new array) in training."""
        if not training or self.rate == 0.0:
            self._cache = None
            return x
        shape = x.shape if self.noise_shape is None else tuple(
            n if d is None else d for d, n in zip(self.noise_shape, x.shape))
        u = self._rng.random(shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
        mask = np.greater_equal(u, self.rate).astype(x.dtype)
        mask *= x.dtype.type(1.0 / (1.0 - self.rate))
        self._cache = mask
        return x * mask

    def backward(self, grad_out: NDArray[np.floating], need_input_grad: bool = True) -> Optional[NDArray[np.floating]]:
        if not need_input_grad:
            return None
        mask = self._cache
        return grad_out if mask is None else grad_out * mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed,
                       "noise_shape": None if self.noise_shape is None else list(self.noise_shape)})
        return config

    def __repr__(self) -> str:
        return f"<Dropout name={self.name!r}, rate={self.rate}>"

