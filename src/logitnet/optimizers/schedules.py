r"""Learning-rate schedules: the rate of each optimizer step as a function of the step count.

An optimizer created with ``learning_rate=ExponentialDecay(...)`` (or any
:class:`LearningRateSchedule`) uses ``schedule(iterations)`` as the rate of each
step, ``iterations`` being the number of steps done before it (0 on the first).

The built-in schedules reproduce Keras 3's arithmetic: the step and every
hyperparameter are cast to float32 and combined in Keras's order of operations,
one float32 rounding per operation. The only difference is in ``cos`` and
``pow``, computed here in double precision and rounded once to float32, where
TensorFlow's kernels may differ by one unit in the last place (in a fraction of
a percent of steps, measured): a relative difference below :math:`10^{-7}`.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Union

import numpy as np

from .._validation import check_bool, check_real, is_int, is_real
from ..utils import Configurable

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "CosineDecay",
    "InverseTimeDecay",
    "serialize",
    "deserialize",
]

Number = Union[int, float]
_F32_MAX = float(np.finfo(np.float32).max)
_F32_PI = np.float32(math.pi)
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)


# ----------------------------------------------------------------------------- helpers
def _f32(x: float) -> np.float32:
    """Round a double to float32 (inf beyond the float32 range, without a warning)."""
    return np.float32(x) if abs(x) <= _F32_MAX else np.float32(math.copysign(math.inf, x))


def _pow32(base: np.float32, exponent: np.float32) -> np.float32:
    """``base ** exponent`` for float32 operands, computed in double and rounded once."""
    try:
        return _f32(math.pow(float(base), float(exponent)))
    except OverflowError:
        return np.float32(math.inf)


def _cos32(x: np.float32) -> np.float32:
    return np.float32(math.cos(float(x)))


def _number(value: Number) -> Number:
    """A JSON-safe Python int or float (NumPy scalars converted)."""
    return int(value) if is_int(value) else float(value)


def _check_learning_rate(name: str, value: Any) -> float:
    return check_real(name, value, 0.0, _F32_MAX, expected="a non-negative float (float32 range)")


def _check_decay_steps(value: Any, name: str = "decay_steps") -> Number:
    # Keras: "Argument `decay_steps` must be > 0."; we also refuse non-numbers and inf.
    check_real(name, value, 0.0, _F32_MAX, low_open=True, expected="a positive number (> 0)")
    return _number(value)


def _check_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Argument `name` must be a string. Received: name={value!r}")
    return value


def _check_numbers(name: str, values: Any) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) and not isinstance(values, np.ndarray):
        raise ValueError(f"Argument `{name}` must be a list of numbers. Received: {name}={values!r}")
    out = list(values)
    for v in out:
        if not is_real(v) or not math.isfinite(v):
            raise ValueError(f"Argument `{name}` must be a list of finite numbers. Received: {name}={values!r}")
    return [_number(v) for v in out]


# ----------------------------------------------------------------------------- base class
class LearningRateSchedule(Configurable):
    """Base class: a learning rate as a function of the optimizer step.

    A subclass implements ``__call__(step) -> float`` and, to be saved with a model,
    ``get_config()`` (the constructor arguments as a JSON-safe dict).
    """

    def __call__(self, step: int) -> float:
        """Return the learning rate of the step that follows ``step`` completed steps."""
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `__call__(self, step)`.")

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a JSON-safe dict, in Keras's key order."""
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()` in order to be "
            "serializable.")



# ----------------------------------------------------------------------------- schedules
class _RateDecay(LearningRateSchedule):
    """Shared by ExponentialDecay and InverseTimeDecay: the same arguments, and the progress ``t / s``."""

    _default_name = ""

    def __init__(self, initial_learning_rate: float, decay_steps: Number, decay_rate: float,
                 staircase: bool = False, name: Optional[str] = None) -> None:
        self.initial_learning_rate = _check_learning_rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _check_decay_steps(decay_steps)
        self.decay_rate = check_real("decay_rate", decay_rate, 0.0, _F32_MAX, expected="a non-negative float")
        self.staircase = check_bool("staircase", staircase)
        self.name = _check_name(self._default_name if name is None else name)
        self._lr = np.float32(self.initial_learning_rate)
        self._steps = np.float32(self.decay_steps)
        self._rate = np.float32(self.decay_rate)

    def _progress(self, step: int) -> np.float32:
        """:math:`t / s` in float32, floored with ``staircase``."""
        p = np.float32(step) / self._steps
        return np.floor(p) if self.staircase else p

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    r"""Exponential decay; Keras's ``ExponentialDecay``.

    Parameters
    ----------
    initial_learning_rate : float
        :math:`\eta_0 \ge 0`.
    decay_steps : int or float
        :math:`s > 0`.
    decay_rate : float
        :math:`r \ge 0` (below 1 to decay).
    staircase : bool, default False
        Use :math:`\lfloor t / s \rfloor` instead of :math:`t / s`.
    name : str, default "ExponentialDecay"

    Notes
    -----
    At step :math:`t`: :math:`\eta_t = \eta_0 \, r^{t / s}`.

    Examples
    --------
    >>> schedule = ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
    >>> schedule(0), schedule(100)  # float32 values, as Keras computes them
    (0.10000000149011612, 0.05000000074505806)
    """

    _default_name = "ExponentialDecay"

    def __call__(self, step: int) -> float:
        return float(self._lr * _pow32(self._rate, self._progress(step)))



class PiecewiseConstantDecay(LearningRateSchedule):
    r"""A constant rate on each interval between step boundaries; Keras's ``PiecewiseConstantDecay``.

    Parameters
    ----------
    boundaries : list of numbers, length n >= 1
        Strictly increasing step counts :math:`b_0 < \dots < b_{n-1}`.
    values : list of floats, length n + 1
        Non-negative learning rates :math:`v_0, \dots, v_n`.
    name : str, default "PiecewiseConstant"

    Notes
    -----
    The rate is :math:`v_0` while :math:`t \le b_0`, :math:`v_i` while
    :math:`b_{i-1} < t \le b_i`, and :math:`v_n` once :math:`t > b_{n-1}`.
    """

    def __init__(self, boundaries: Sequence[Number], values: Sequence[float],
                 name: str = "PiecewiseConstant") -> None:
        boundaries = _check_numbers("boundaries", boundaries)
        values = _check_numbers("values", values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and values={values} "
                f"of length {len(values)}.")
        if not boundaries:
            raise ValueError("Argument `boundaries` must hold at least one step count. Received: boundaries=[]")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"Argument `boundaries` must be strictly increasing. Received: boundaries={boundaries}")
        for v in values:
            _check_learning_rate("values", v)
        self.boundaries = boundaries
        self.values = values
        self.name = _check_name(name)
        self._values = [float(np.float32(v)) for v in values]

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self._values):
            if step <= boundary:
                return value
        return self._values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    r"""Cosine decay, optionally after a linear warmup; Keras's ``CosineDecay``.

    Parameters
    ----------
    initial_learning_rate : float
        :math:`\eta_0 \ge 0`: the rate at step 0.
    decay_steps : int or float
        :math:`s > 0`: the length of the decay.
    alpha : float, default 0.0
        :math:`\alpha \in [0, 1]`: the final rate as a fraction of the decay's starting rate.
    name : str, default "CosineDecay"
    warmup_target : float or None, default None
        :math:`\eta_w \ge 0`. If set, the rate first rises linearly from :math:`\eta_0`
        to :math:`\eta_w` over ``warmup_steps`` steps, then decays from :math:`\eta_w`.
        If None, there is no warmup (``warmup_steps`` is then ignored, as in Keras).
    warmup_steps : int or float, default 0
        :math:`w \ge 0`.

    Notes
    -----
    Without warmup, at step :math:`t`, with :math:`\tau = \min(t, s)`:
    :math:`\eta_t = \eta_0 \left((1-\alpha)\,\tfrac12\left(1 + \cos(\pi\tau/s)\right) + \alpha\right)`.
    With warmup, :math:`\tau = \min(t, w + s)`; for :math:`\tau < w`,
    :math:`\eta_t = (\eta_w - \eta_0)\,\tau / w + \eta_0`; otherwise the decay formula with
    :math:`\eta_w` in place of :math:`\eta_0` and :math:`\tau - w` in place of :math:`\tau`.

    References
    ----------
    Loshchilov & Hutter (2017), "SGDR: Stochastic Gradient Descent with Warm Restarts",
    ICLR, arXiv:1608.03983. Goyal et al. (2017), "Accurate, Large Minibatch SGD: Training
    ImageNet in 1 Hour", arXiv:1706.02677 (the warmup).
    """

    def __init__(self, initial_learning_rate: float, decay_steps: Number, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: Optional[float] = None,
                 warmup_steps: Number = 0) -> None:
        self.initial_learning_rate = _check_learning_rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _check_decay_steps(decay_steps)
        self.alpha = check_real("alpha", alpha, 0.0, 1.0, expected="a float in [0, 1]")
        self.name = _check_name(name)
        if warmup_target is not None:
            warmup_target = _check_learning_rate("warmup_target", warmup_target)
        self.warmup_target = warmup_target
        check_real("warmup_steps", warmup_steps, 0.0, _F32_MAX, expected="a non-negative number")
        self.warmup_steps = _number(warmup_steps)
        self._lr = np.float32(self.initial_learning_rate)
        self._steps = np.float32(self.decay_steps)
        self._one_minus_alpha = np.float32(1 - self.alpha)  # Keras: a Python float, then float32
        self._alpha = np.float32(self.alpha)
        self._target = np.float32(0.0 if warmup_target is None else warmup_target)
        self._warmup = np.float32(self.warmup_steps)

    def _decay(self, step: np.float32, decay_from: np.float32) -> np.float32:
        completed = step / self._steps
        cosine = _HALF * (_ONE + _cos32(_F32_PI * completed))
        return decay_from * (self._one_minus_alpha * cosine + self._alpha)

    def __call__(self, step: int) -> float:
        t = np.float32(step)
        if self.warmup_target is None:
            return float(self._decay(min(t, self._steps), self._lr))
        t = min(t, self._steps + self._warmup)
        if t < self._warmup:
            return float((self._target - self._lr) * (t / self._warmup) + self._lr)
        return float(self._decay(t - self._warmup, self._target))

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class InverseTimeDecay(_RateDecay):
    r"""Inverse-time decay; Keras's ``InverseTimeDecay``.

    Parameters
    ----------
    initial_learning_rate : float
        :math:`\eta_0 \ge 0`.
    decay_steps : int or float
        :math:`s > 0`.
    decay_rate : float
        :math:`r \ge 0`.
    staircase : bool, default False
        Use :math:`\lfloor t / s \rfloor` instead of :math:`t / s`.
    name : str, default "InverseTimeDecay"

    Notes
    -----
    At step :math:`t`: :math:`\eta_t = \eta_0 / (1 + r\, t / s)`.
    """

    _default_name = "InverseTimeDecay"

    def __call__(self, step: int) -> float:
        return float(self._lr / (_ONE + self._rate * self._progress(step)))



# ----------------------------------------------------------------------------- (de)serialization
_BUILT_IN: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay, InverseTimeDecay)}


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict[str, Any]:
    """Return ``{"class_name": ..., "config": ...}`` for a schedule (JSON-safe).

    Raises ValueError if the argument is not a :class:`LearningRateSchedule`.
    """
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise ValueError("Argument `learning_rate_schedule` must be a LearningRateSchedule. "
                         f"Received: learning_rate_schedule={learning_rate_schedule!r}")
    return {"class_name": type(learning_rate_schedule).__name__, "config": learning_rate_schedule.get_config()}


def deserialize(config: dict[str, Any],
                custom_objects: Optional[dict[str, type[LearningRateSchedule]]] = None) -> LearningRateSchedule:
    """Create a schedule from :func:`serialize` output.

    Parameters
    ----------
    config : dict
        ``{"class_name": name, "config": {...}}``; extra keys (Keras's ``module``,
        ``registered_name``) are ignored.
    custom_objects : dict of str to LearningRateSchedule subclass, optional
        Classes of user-defined schedules, by class name.

    Raises
    ------
    ValueError
        If ``config`` is not such a dict or names an unknown class.
    """
    classes = {**_BUILT_IN, **(custom_objects or {})}
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = classes.get(name) if isinstance(name, str) else None
    inner = config.get("config") if isinstance(config, dict) else None
    if cls is None or not isinstance(inner, dict):
        raise ValueError(
            "Could not interpret learning rate schedule config. Expected a dict "
            "{'class_name': name, 'config': {...}} with one of the names "
            f"{', '.join(sorted(classes))}. Received: config={config!r}")
    return cls.from_config(inner)
