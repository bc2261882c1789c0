"""Tests for LearningRateScheduler and ReduceLROnPlateau (logitnet._lr_callbacks).

The expected behaviour is Keras 3.15's (keras/src/callbacks/learning_rate_scheduler.py and
reduce_lr_on_plateau.py): messages, the order of the checks, the float32 comparison with
``min_lr``. ReduceLROnPlateau is checked step by step against a table worked out by hand
from Keras's rule, and through real ``fit`` calls with scripted monitor values.
"""

from __future__ import annotations

import numpy as np
import pytest

import logitnet as ln
from logitnet._lr_callbacks import LearningRateScheduler, ReduceLROnPlateau
from logitnet.callbacks import Callback
from logitnet.losses import SparseCategoricalCrossentropy
from logitnet.optimizers import SGD
from logitnet.optimizers.schedules import ExponentialDecay
from _cases import Script


def f32(x):
    return float(np.float32(x))


def blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[-4.0, 2.0], [0.0, -2.0], [4.0, 2.0]])
    y = rng.integers(0, 3, size=n)
    return centers[y] + rng.normal(size=(n, 2)), y


def fit(callbacks, epochs, learning_rate=0.1, verbose=0):
    x, y = blobs()
    model = ln.Sequential([ln.Dense(4, activation="relu"), ln.Dense(3)], seed=0)
    model.compile(optimizer=SGD(learning_rate=learning_rate), loss=SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=epochs, batch_size=20, verbose=verbose, callbacks=callbacks)
    return model, history


class WeightLog(Callback):
    def on_train_begin(self, logs=None):
        self.weights = [self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


class FakeModel:
    def __init__(self, learning_rate):
        self.optimizer = SGD(learning_rate=learning_rate)


# --------------------------------------------------------------------------- LearningRateScheduler
def test_scheduler_passes_epoch_and_current_rate_and_logs_the_rate():
    calls = []

    def schedule(epoch, lr):
        calls.append((epoch, lr))
        return 0.2 * 0.5 ** epoch

    model, history = fit([LearningRateScheduler(schedule)], epochs=3)
    # lr is the optimizer's float32 value: first the compiled 0.1, then the previous epoch's rate
    assert calls == [(0, f32(0.1)), (1, f32(0.2)), (2, f32(0.1))]
    assert history.history["learning_rate"] == [f32(0.2), f32(0.1), f32(0.05)]
    assert model.optimizer.learning_rate == f32(0.05)


def test_scheduler_rate_is_the_one_training_uses():
    log = WeightLog()
    fit([LearningRateScheduler(lambda epoch, lr: 0.05 if epoch == 0 else 0.0), log], epochs=3)
    initial, after_0, after_1, after_2 = log.weights
    assert any(not np.array_equal(a, b) for a, b in zip(initial, after_0))  # 0.05 trains
    for a, b, c in zip(after_0, after_1, after_2):
        np.testing.assert_array_equal(a, b)  # a zero rate leaves the weights alone
        np.testing.assert_array_equal(b, c)


def test_scheduler_accepts_one_argument_schedules_and_numpy_floats():
    _, history = fit([LearningRateScheduler(lambda epoch: np.float32(0.01 * (epoch + 1)))], epochs=2)
    assert history.history["learning_rate"] == [f32(0.01), f32(0.02)]


@pytest.mark.parametrize("value", [1, "0.1", None, np.float16(0.1)])
def test_scheduler_rejects_non_float_output(value):
    with pytest.raises(ValueError, match=r"The output of the `schedule` function should be a float\. Got: "):
        fit([LearningRateScheduler(lambda epoch, lr: value)], epochs=1)


def test_scheduler_verbose_message(capsys):
    fit([LearningRateScheduler(lambda epoch, lr: 0.25 / (epoch + 1), verbose=1)], epochs=2)
    out = capsys.readouterr().out
    assert "\nEpoch 1: LearningRateScheduler setting learning rate to 0.25.\n" in out
    assert "\nEpoch 2: LearningRateScheduler setting learning rate to 0.125.\n" in out


def test_scheduler_argument_and_optimizer_errors():
    with pytest.raises(TypeError, match=r"`schedule` must be callable. Received: schedule=0.1"):
        LearningRateScheduler(0.1)
    callback = LearningRateScheduler(lambda epoch, lr: 0.1)
    callback.set_model(FakeModel(0.1))
    callback.model.optimizer = SGD(learning_rate=ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(TypeError, match=r"not settable"):
        callback.on_epoch_begin(0)
    callback.model.optimizer = object()
    with pytest.raises(ValueError, match=r'Optimizer must have a "learning_rate" attribute\.'):
        callback.on_epoch_begin(0)


# --------------------------------------------------------------------------- ReduceLROnPlateau, by hand
# factor 0.5, patience 2, cooldown 2, min_delta 1/16, min_lr 0.2, starting rate 1.0, mode min.
# Per epoch: the monitored value; then, after on_epoch_end: logged rate (the rate *before* any
# reduction), rate after, wait, cooldown counter, best. Worked out from Keras's rule:
#   if cooldown > 0: cooldown -= 1, wait = 0
#   if value + min_delta < best (or best is None): best = value, wait = 0
#   elif cooldown == 0: wait += 1; if wait >= patience and rate > float32(min_lr):
#       rate = max(rate * factor, min_lr), cooldown = 2, wait = 0
TABLE = [
    # value     logged  after  wait cd  best
    (1.0,       1.0,    1.0,   0,   0,  1.0),       # first value: always an improvement
    (0.96875,   1.0,    1.0,   1,   0,  1.0),       # 1.03125 is not < 1
    (0.953125,  1.0,    0.5,   0,   2,  1.0),       # wait 2 >= patience: reduce, start cooldown
    (0.984375,  0.5,    0.5,   0,   1,  1.0),       # in cooldown: nothing counted
    (0.96875,   0.5,    0.5,   1,   0,  1.0),       # cooldown ends this epoch, so this one counts
    (0.875,     0.5,    0.5,   0,   0,  0.875),     # 0.9375 < 1: improvement
    (0.859375,  0.5,    0.5,   1,   0,  0.875),     # an improvement smaller than min_delta
    (0.84375,   0.5,    0.25,  0,   2,  0.875),     # reduce to 0.25
    (0.828125,  0.25,   0.25,  0,   1,  0.875),
    (0.8125,    0.25,   0.25,  1,   0,  0.875),     # 0.875 < 0.875 is false: not an improvement
    (0.8125,    0.25,   0.2,   0,   2,  0.875),     # max(0.125, min_lr) = 0.2
    (0.8125,    0.2,    0.2,   0,   1,  0.875),
    (0.8125,    0.2,    0.2,   1,   0,  0.875),
    (0.8125,    0.2,    0.2,   2,   0,  0.875),     # float32(0.2) is not > float32(min_lr): no reduction,
    (0.8125,    0.2,    0.2,   3,   0,  0.875),     # so neither wait nor cooldown is reset (Keras 3.15)
    (0.75,      0.2,    0.2,   0,   0,  0.75),
]


def test_reduce_lr_follows_the_hand_table():
    callback = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2, min_delta=1 / 16, min_lr=0.2)
    callback.set_model(FakeModel(1.0))
    callback.on_train_begin()
    for epoch, (value, logged, after, wait, cooldown, best) in enumerate(TABLE):
        logs = {"loss": 9.0, "val_loss": value}
        callback.on_epoch_end(epoch, logs)
        state = (logs["learning_rate"], callback.model.optimizer.learning_rate, callback.wait,
                 callback.cooldown_counter, callback.best)
        assert state == (f32(logged), f32(after), wait, cooldown, best), epoch


def test_reduce_lr_max_mode_and_min_delta_sign():
    callback = ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=1, min_delta=-0.05)
    assert callback.min_delta == 0.05
    callback.set_model(FakeModel(0.5))
    callback.on_train_begin()
    rates = []
    for epoch, value in enumerate([0.5, 0.625, 0.65, 0.75]):  # +0.125 improves; +0.025 does not; +0.1 does
        callback.on_epoch_end(epoch, {"val_accuracy": value})
        rates.append(callback.model.optimizer.learning_rate)
    assert rates == [f32(0.5), f32(0.5), f32(f32(0.5) * 0.1), f32(f32(0.5) * 0.1)]
    assert callback.best == 0.75


def test_reduce_lr_patience_zero_and_default_min_delta():
    # patience 0: every epoch without an improvement of more than 1e-4 reduces the rate
    callback = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0)
    callback.set_model(FakeModel(1.0))
    callback.on_train_begin()
    for epoch, value in enumerate([1.0, 0.99995, 0.5, 0.5]):
        callback.on_epoch_end(epoch, {"loss": value})
    assert callback.model.optimizer.learning_rate == 0.25


def test_reduce_lr_verbose_message(capsys):
    callback = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, verbose=1)
    callback.set_model(FakeModel(0.001))
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": 1.0})
    callback.on_epoch_end(1, {"loss": 1.0})
    # Keras prints old_rate * factor before the float32 rounding: 0.0010000000474974513 / 2
    assert capsys.readouterr().out == f"\nEpoch 2: ReduceLROnPlateau reducing learning rate to {f32(0.001) * 0.5}.\n"


def test_reduce_lr_missing_monitor_warns_and_still_logs_the_rate():
    callback = ReduceLROnPlateau(patience=0)
    callback.set_model(FakeModel(0.1))
    callback.on_train_begin()
    logs = {"loss": 1.0, "accuracy": 0.5}
    with pytest.warns(UserWarning) as record:
        callback.on_epoch_end(0, logs)
    assert str(record[0].message) == (
        "Learning rate reduction is conditioned on metric `val_loss` which is not available. "
        "Available metrics are: loss,accuracy,learning_rate.")
    assert logs["learning_rate"] == f32(0.1)
    assert callback.model.optimizer.learning_rate == f32(0.1)


@pytest.mark.parametrize("kwargs,match", [
    ({"factor": 1.0}, r"ReduceLROnPlateau does not support a factor >= 1.0. Received factor=1.0"),
    ({"factor": 2}, r"Received factor=2"),
    ({"factor": -0.5}, r"`factor` must be a float in \[0, 1\). Received: factor=-0.5"),
    ({"factor": float("nan")}, r"Received: factor=nan"),
    ({"patience": -1}, r"Received an invalid value for `patience`, expected a non-negative integer"),
    ({"cooldown": 1.5}, r"Received: cooldown=1.5"),
    ({"min_lr": -1e-3}, r"`min_lr` must be a non-negative float"),
    ({"min_delta": float("inf")}, r"Received: min_delta=inf"),
    ({"mode": "up"}, r"expected 'auto', 'min' or 'max'. Received: mode='up'"),
    ({"monitor": "val_kl"}, r"ReduceLROnPlateau could not infer whether `val_kl` should be minimized"),
])
def test_reduce_lr_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReduceLROnPlateau(**kwargs)


def test_reduce_lr_defaults_as_keras():
    callback = ReduceLROnPlateau()
    assert (callback.monitor, callback.factor, callback.patience, callback.verbose, callback.mode,
            callback.min_delta, callback.cooldown, callback.min_lr) == ("val_loss", 0.1, 10, 0, "auto", 1e-4, 0, 0.0)


# --------------------------------------------------------------------------- ReduceLROnPlateau, through fit
def test_reduce_lr_in_fit_logs_the_rate_of_each_epoch_and_resets_between_fits():
    values = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    callback = ReduceLROnPlateau(factor=0.5, patience=1)
    model, history = fit([Script("val_loss", values), callback], epochs=6, learning_rate=0.4)
    # patience 1, no cooldown: every non-improving epoch (1, 2, 4, 5) halves the rate at its end;
    # the log holds the rate the epoch trained with. Halving a float32 is exact.
    r = f32(0.4)
    assert history.history["learning_rate"] == [r, r, r / 2, r / 4, r / 4, r / 8]
    assert model.optimizer.learning_rate == r / 16
    assert callback.wait == 0 and callback.best == 0.5

    # a second fit starts afresh (best None, wait 0): one flat epoch is not enough to reduce
    x, y = blobs()
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[Script("val_loss", [3.0]), callback])
    assert callback.best == 3.0 and callback.wait == 0
    assert history.history["learning_rate"] == [r / 16]


def test_both_callbacks_together_keep_keras_order():
    # The scheduler sets the rate at each epoch start, so a reduction lasts until then only.
    scheduler = LearningRateScheduler(lambda epoch, lr: 0.3)
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0)
    model, history = fit([scheduler, Script("loss", [1.0, 1.0, 1.0]), reduce], epochs=3)
    assert history.history["learning_rate"] == [f32(0.3)] * 3
    assert model.optimizer.learning_rate == f32(f32(0.3) * 0.5)
