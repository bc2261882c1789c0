"""Seeds and names: the two pieces of process-wide bookkeeping logitnet keeps.

No NumPy global random state is ever touched. :func:`set_random_seed` seeds
logitnet's own seed sequence, from which every model (and every layer built
on its own) that was not given a ``seed`` draws its generator, in creation
order. So after ``set_random_seed(n)`` the same script gives bit-identical
weights, shuffles and histories.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from typing import Optional

import numpy as np

from ._validation import check_int

__all__ = ["set_random_seed", "make_rng", "unique_name", "reset_names", "snake_case", "Configurable"]

_seed_sequence: Optional[np.random.SeedSequence] = None
_name_counters: dict[str, itertools.count] = defaultdict(itertools.count)


def set_random_seed(seed: int) -> None:
    """Make every later model without its own ``seed`` reproducible.

    Parameters
    ----------
    seed : int
        A non-negative integer. Models and layers created afterwards without an
        explicit ``seed`` draw their generators from a sequence seeded by it,
        in the order they are created.

    Examples
    --------
    >>> import logitnet as ln
    >>> ln.utils.set_random_seed(0)
    """
    global _seed_sequence
    _seed_sequence = np.random.SeedSequence(check_int(seed, "seed", minimum=0))


def make_rng(seed: "int | np.random.Generator | None" = None) -> np.random.Generator:
    """Return a new generator for a model or layer.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        An int seeds a fresh generator; a Generator is used as is; ``None``
        draws from the sequence set by :func:`set_random_seed`, or from fresh
        OS entropy when no seed was set.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        if _seed_sequence is None:
            return np.random.default_rng()
        return np.random.default_rng(_seed_sequence.spawn(1)[0])
    expected = "a non-negative integer, a numpy.random.Generator or None"
    return np.random.default_rng(check_int(seed, "seed", minimum=0, expected=expected))


def snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``"GlorotUniform"`` -> ``"glorot_uniform"``, ``"SGD"`` -> ``"sgd"``.

    Runs of capitals stay together (``"MyCNNLayer"`` -> ``"my_cnn_layer"``).
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(class_name: str) -> str:
    """Keras-style automatic name: ``dense``, ``dense_1``, ``dense_2``, ...

    Parameters
    ----------
    class_name : str
        A class name such as ``"Dense"``; it is turned into snake case.
    """
    base = snake_case(class_name)
    n = next(_name_counters[base])
    return base if n == 0 else f"{base}_{n}"


def reset_names() -> None:
    """Restart the automatic name counters (``dense``, ``dense_1``, ...)."""
    _name_counters.clear()


class Configurable:
    """Base of objects rebuilt from their ``get_config()`` dict (regularizers, schedules)."""

    def get_config(self) -> dict:
        raise NotImplementedError(f"'{type(self).__name__}' does not implement get_config()")

    @classmethod
    def from_config(cls, config: dict):  # noqa: ANN206 (returns an instance of cls)
        """Create an instance from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"
