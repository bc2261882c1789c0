"""Callbacks that set the optimizer's learning rate between epochs: Keras's
``LearningRateScheduler`` and ``ReduceLROnPlateau`` (re-exported by :mod:`logitnet.callbacks`).

Both write the learning rate into the epoch's logs as ``logs["learning_rate"]``, so it
appears in ``History.history``, as in Keras. The optimizer stores the rate rounded to
float32 (see :class:`logitnet.optimizers.Optimizer`), so the logged value is the float32
value, e.g. ``0.0010000000474974513`` for ``0.001``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Optional

import numpy as np

from ._validation import check_int, check_real
from .callbacks import Callback, _is_min_mode

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def _optimizer_of(model: Any) -> Any:
    optimizer = getattr(model, "optimizer", None)
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return optimizer


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from a function of the epoch.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> float``: ``epoch`` counts from 0 and ``lr`` is the
        current learning rate (a float). A function of the epoch alone,
        ``schedule(epoch)``, is accepted too: as in Keras, it is called that way when the
        two-argument call raises TypeError. It must return a ``float`` (a Python float
        or a NumPy float32/float64 scalar; an ``int`` is refused, as in Keras).
    verbose : int, default 0
        1 prints ``Epoch 3: LearningRateScheduler setting learning rate to 0.01.``
        at the start of each epoch.

    Raises
    ------
    ValueError
        At the start of an epoch, if ``schedule`` does not return a float.
    TypeError
        If ``schedule`` is not callable, or if the optimizer's learning rate is a
        :class:`~logitnet.optimizers.schedules.LearningRateSchedule` (not settable).

    Examples
    --------
    >>> def schedule(epoch, lr):
    ...     return lr if epoch < 10 else lr * 0.9
    >>> callback = LearningRateScheduler(schedule)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"Argument `schedule` must be callable. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def _next_rate(self, optimizer: Any, epoch: int) -> Any:
        try:  # Keras 3's call, then its fallback for one-argument schedules
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
        return learning_rate

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        optimizer = _optimizer_of(self.model)
        learning_rate = self._next_rate(optimizer, epoch)
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    r"""Reduce the learning rate when a monitored quantity has stopped improving (Keras semantics).

    Parameters
    ----------
    monitor : str, default "val_loss"
        The log key to watch.
    factor : float, default 0.1
        :math:`\phi < 1`: the rate becomes :math:`\max(\phi \, \eta, \eta_{min})`.
    patience : int, default 10
        Epochs without improvement (outside cooldown) before the rate is reduced.
    verbose : int, default 0
        1 prints ``Epoch 5: ReduceLROnPlateau reducing learning rate to 0.0001.``
    mode : {"auto", "min", "max"}, default "auto"
        ``auto`` minimises ``*loss`` and maximises accuracies.
    min_delta : float, default 1e-4
        A change smaller than this does not count as an improvement
        (:math:`|\delta|` is used).
    cooldown : int, default 0
        Epochs after a reduction during which no waiting is counted.
    min_lr : float, default 0.0
        The lower bound :math:`\eta_{min}` of the learning rate.

    Notes
    -----
    At each epoch end, as Keras 3.15 does: the current rate goes into ``logs["learning_rate"]``;
    if in cooldown, the cooldown counter decreases by one and ``wait`` is reset to 0; then, if
    the monitored value ``current`` improves on ``best`` (``current + min_delta < best`` in
    min mode, ``current - min_delta > best`` in max mode; the first value always does),
    ``best = current`` and ``wait = 0``; otherwise, if no longer in cooldown, ``wait`` grows
    by one and, once ``wait >= patience``, the rate is reduced if it is above ``min_lr``
    (compared as float32), after which the cooldown starts and ``wait`` is reset.
    The state is reset at the start of each ``fit``.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__()
        if not isinstance(monitor, str):
            raise ValueError(f"Argument `monitor` must be a string. Received: monitor={monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"Received an invalid value for `mode`, expected 'auto', 'min' or 'max'. Received: mode={mode!r}")
        factor = check_real("factor", factor, -math.inf, expected="a float < 1.0")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        if factor < 0.0:
            raise ValueError(f"Argument `factor` must be a float in [0, 1). Received: factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = check_int(patience, "patience", 0)
        self.verbose = verbose
        self.mode = mode
        self.min_delta = abs(check_real("min_delta", min_delta, -math.inf, expected="a finite float"))
        self.cooldown = check_int(cooldown, "cooldown", 0)
        self.min_lr = check_real("min_lr", min_lr, 0.0, expected="a non-negative float")
        try:
            self._minimize = _is_min_mode(monitor, mode)
        except ValueError:
            raise ValueError(
                f"ReduceLROnPlateau could not infer whether `{monitor}` should be minimized or maximized. "
                "Pass `mode='max'` for metrics that improve as they grow, or `mode='min'` otherwise.") from None
        self._reset()

    def _reset(self) -> None:
        self.best: Optional[float] = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        """Whether the callback is in the cooldown that follows a reduction."""
        return self.cooldown_counter > 0

    def _is_improvement(self, current: float, best: Optional[float]) -> bool:
        if best is None:
            return True
        if self._minimize:
            return current + self.min_delta < best
        return current - self.min_delta > best

    def _reduce(self, optimizer: Any, epoch: int) -> bool:
        old_lr = float(optimizer.learning_rate)
        if not old_lr > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        logs = {} if logs is None else logs
        optimizer = _optimizer_of(self.model)
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}.", UserWarning, stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0
