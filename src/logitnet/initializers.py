"""Weight initializers (Keras names and formulas).

Every initializer is called as ``init(shape, dtype, rng)`` with an explicit
:class:`numpy.random.Generator`, so weights depend only on the model's seed.
For a kernel of shape ``(fan_in, fan_out)``:

- ``glorot_uniform`` (Keras's default): U[-l, l] with l = sqrt(6 / (fan_in + fan_out));
- ``glorot_normal``: normal truncated at 2 std, std = sqrt(2 / (fan_in + fan_out)) / 0.8796...;
- ``he_uniform``: U[-l, l] with l = sqrt(6 / fan_in);
- ``he_normal``: normal truncated at 2 std, std = sqrt(2 / fan_in) / 0.8796...;
- ``zeros``, ``ones``;
- ``RandomUniform(minval=-0.05, maxval=0.05, seed=None)``: U[minval, maxval), any shape.

Initializers without a ``seed`` draw from the generator they are given (the
model's). ``RandomUniform(seed=...)`` has its own randomness, as in Keras 3:
an int seed gives the same values at every call (and leaves the model's
generator alone); a ``Generator`` seed is drawn from and advanced.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import numpy as np

from ._validation import check_real, is_int
from .utils import snake_case

__all__ = [
    "Initializer",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "Zeros",
    "Ones",
    "RandomUniform",
    "get",
]

# std of a unit normal truncated to [-2, 2]; Keras divides by it so the
# truncated draw keeps the requested variance.
_TRUNCATED_STD = 0.87962566103423978


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def _truncated_normal(rng: np.random.Generator, std: float, shape: tuple[int, ...]) -> np.ndarray:
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while np.any(bad):
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out * std


class Initializer:
    """Base class: ``init(shape, dtype, rng) -> ndarray of that shape and dtype``."""

    name = "initializer"

    def __call__(self, shape: tuple[int, ...], dtype: "np.dtype | str", rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self._sample(tuple(shape), rng), dtype=dtype)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        """Create an instance from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class GlorotUniform(Initializer):
    """Uniform on [-l, l], l = sqrt(6 / (fan_in + fan_out)) (Keras's default kernel init)."""

    name = "glorot_uniform"

    def _sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / max(1.0, fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)


class GlorotNormal(Initializer):
    """Truncated normal, std sqrt(2 / (fan_in + fan_out))."""

    name = "glorot_normal"

    def _sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        std = np.sqrt(2.0 / max(1.0, fan_in + fan_out)) / _TRUNCATED_STD
        return _truncated_normal(rng, std, shape)


class HeUniform(Initializer):
    """Uniform on [-l, l], l = sqrt(6 / fan_in)."""

    name = "he_uniform"

    def _sample(self, shape, rng):
        fan_in, _ = _fans(shape)
        limit = np.sqrt(6.0 / max(1.0, fan_in))
        return rng.uniform(-limit, limit, shape)


class HeNormal(Initializer):
    """Truncated normal, std sqrt(2 / fan_in)."""

    name = "he_normal"

    def _sample(self, shape, rng):
        fan_in, _ = _fans(shape)
        std = np.sqrt(2.0 / max(1.0, fan_in)) / _TRUNCATED_STD
        return _truncated_normal(rng, std, shape)


class Zeros(Initializer):
    """All zeros (Keras's default bias init)."""

    name = "zeros"

    def _sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones."""

    name = "ones"

    def _sample(self, shape, rng):
        return np.ones(shape)


class RandomUniform(Initializer):
    """Uniform on [minval, maxval), whatever the shape (Keras's ``RandomUniform``).

    Parameters
    ----------
    minval, maxval : float, default -0.05, 0.05
        The bounds; ``minval <= maxval`` (equal bounds give a constant).
    seed : None, int or numpy.random.Generator, default None
        ``None`` draws from the generator passed at each call (the model's,
        so the model's seed decides the values). An int gives the
        initializer its own stream, restarted at every call: every call
        returns the same values for the same shape, as Keras 3 does for an
        int seed, and the model's generator is not advanced. A
        ``Generator`` (the counterpart of Keras's ``SeedGenerator``) is drawn
        from and advanced, so successive calls differ.

    Raises
    ------
    ValueError
        A bound that is not a finite number, ``minval > maxval``, or a seed
        that is not None, a non-negative int or a Generator.
    """

    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Optional[Any] = None) -> None:
        self.minval = check_real("minval", minval, -np.inf, expected="a finite number")
        self.maxval = check_real("maxval", maxval, -np.inf, expected="a finite number")
        if self.minval > self.maxval:
            raise ValueError(
                f"Received an invalid value for `maxval`, expected a number >= minval={self.minval!r}. "
                f"Received: maxval={maxval!r}"
            )
        valid_seed = seed is None or isinstance(seed, np.random.Generator) or (is_int(seed) and seed >= 0)
        if not valid_seed:
            raise ValueError(
                "Received an invalid value for `seed`, expected None, a non-negative integer or a "
                f"numpy.random.Generator. Received: seed={seed!r}"
            )
        self.seed = int(seed) if is_int(seed) else seed

    def _sample(self, shape, rng):
        if self.seed is not None:
            rng = np.random.default_rng(self.seed) if isinstance(self.seed, int) else self.seed
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


_BY_NAME: dict[str, type] = {
    cls.name: cls for cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, Zeros, Ones, RandomUniform)
}


def get(identifier: Union[str, Initializer, Callable, None]) -> Initializer:
    """Resolve a name (``"glorot_uniform"``, ``"GlorotUniform"``) or instance to an initializer.

    A name gives the initializer with its default arguments (for
    ``"random_uniform"``: U[-0.05, 0.05), unseeded), as in Keras.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else snake_case(identifier)
        if key in _BY_NAME:
            return _BY_NAME[key]()
    raise ValueError(
        f"Could not interpret initializer identifier: {identifier!r}. "
        f"Valid names: {', '.join(sorted(_BY_NAME))}"
    )
