"""Argument checks shared by the public constructors and methods.

Each raises with Keras's template: the argument's name, what was expected,
and ``Received: name=value``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional

import numpy as np

__all__ = ["is_int", "is_real", "check_int", "check_real", "check_bool"]


def is_int(value: Any) -> bool:
    """True for Python and NumPy integers, False for bools."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """True for Python and NumPy real numbers, False for bools."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(value: Any, name: str, minimum: int = 1, expected: Optional[str] = None) -> int:
    """Return ``value`` as an int, or raise ValueError unless it is an integer >= ``minimum``."""
    if not is_int(value) or value < minimum:
        if expected is None:
            expected = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        raise ValueError(f"Received an invalid value for `{name}`, expected {expected}. Received: {name}={value!r}")
    return int(value)


def check_real(
    name: str,
    value: Any,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    expected: str,
) -> float:
    """Return ``value`` as a float after checking it is a finite real number in range."""
    ok = is_real(value) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"Argument `{name}` must be {expected}. Received: {name}={value!r}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a bool, or raise ValueError unless it is one."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Argument `{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)
