"""Weight initializers (Keras names and formulas).

Every initializer is called as ``init(shape, dtype, rng)`` with an explicit
:class:`numpy.random.Generator`, so weights depend only on the model's seed.
For a kernel of shape ``(fan_in, fan_out)``:

- ``glorot_uniform`` (Keras's default): U[-l, l] with l = sqrt(6 / (fan_in + fan_out));
- ``glorot_normal``: normal truncated at 2 std, std = sqrt(2 / (fan_in + fan_out)) / 0.8796...;
- ``he_uniform``: U[-l, l] with l = sqrt(6 / fan_in);
- ``he_normal``: normal truncated at 2 std, std = sqrt(2 / fan_in) / 0.8796...;
- ``zeros``, ``ones``.
"""

from __future__ import annotations

from typing import Callable, Union

import numpy as np

from .utils import snake_case

__all__ = ["Initializer", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "Zeros", "Ones", "get"]

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


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


_BY_NAME: dict[str, type] = {
    cls.name: cls for cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, Zeros, Ones)
}


def get(identifier: Union[str, Initializer, Callable, None]) -> Initializer:
    """Resolve a name (``"glorot_uniform"``, ``"GlorotUniform"``) or instance to an initializer.

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
