"""Tests for logitnet.callbacks, through real ``fit`` calls.

Expected behaviour and messages come from Keras's callbacks as described in keras-parity.md §5
(EarlyStopping, TerminateOnNaN, callback order). EarlyStopping is driven by scripted monitor
values (a callback placed before it overwrites the logged value), so every expected stop epoch
is worked out by hand from Keras's rule: ``wait += 1`` each epoch, reset on an improvement
``current - min_delta < best``; stop when ``wait >= patience and epoch > 0``.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import logitnet as ln
from logitnet.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LambdaCallback,
    ProgbarLogger,
    TerminateOnNaN,
)
from logitnet.losses import SparseCategoricalCrossentropy
from _cases import Script


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def blobs(n=100, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[-5.0, 2.0], [-2.0, -2.0], [1.0, 2.0], [5.0, -2.0]])
    y = rng.integers(0, 4, size=n)
    return centers[y] + rng.normal(size=(n, 2)), y


def model_for(seed=0, optimizer="adam", metrics=None):
    model = ln.Sequential([ln.Dense(8, activation="relu"), ln.Dense(4)], seed=seed)
    model.compile(optimizer=optimizer, loss=SparseCategoricalCrossentropy(from_logits=True), metrics=metrics)
    return model


class WeightLog(Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def run(callbacks, epochs, verbose=0, metrics=None):
    x, y = blobs()
    model = model_for(metrics=metrics)
    history = model.fit(x, y, epochs=epochs, verbose=verbose, callbacks=callbacks)
    return model, history


# --------------------------------------------------------------------------- History
def test_history_records_epoch_logs_and_params():
    model, history = run([], epochs=3)
    assert isinstance(history, History)
    assert history.epoch == [0, 1, 2]
    assert list(history.history) == ["loss"] and len(history.history["loss"]) == 3
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 4}
    assert history.model is model and model.history is history


def test_history_standalone_keeps_the_order_it_receives_and_appends():
    # fit() sorts its own logs; keys a callback adds later (learning_rate) come last, as in Keras's History.
    h = History()
    h.on_train_begin()
    h.on_epoch_end(0, {"val_loss": 2.0, "loss": 1.0, "accuracy": 0.5})
    h.on_epoch_end(1, {"val_loss": 1.5, "loss": 0.5, "accuracy": 0.75})
    assert list(h.history) == ["val_loss", "loss", "accuracy"]
    assert h.history == {"accuracy": [0.5, 0.75], "loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert h.epoch == [0, 1]


# --------------------------------------------------------------------------- EarlyStopping
def test_early_stopping_patience():
    # best 0.8 at epoch 1; epochs 2, 3 do not improve: wait 1, 2 -> stop at epoch 3.
    es = EarlyStopping(monitor="loss", patience=2)
    _, history = run([Script("loss", [1.0, 0.8, 0.9, 0.85, 0.1, 0.1]), es], epochs=6)
    assert history.epoch == [0, 1, 2, 3]
    assert es.stopped_epoch == 3


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    es = EarlyStopping(monitor="loss")
    _, history = run([Script("loss", [1.0, 0.9, 0.95, 0.5]), es], epochs=4)
    assert history.epoch == [0, 1, 2]


def test_early_stopping_baseline_with_patience_zero():
    es = EarlyStopping(monitor="loss", patience=0, baseline=0.0)
    _, history = run([Script("loss", [1.0, 2.0, 3.0]), es], epochs=3)
    assert history.epoch == [0, 1]


def test_early_stopping_min_delta():
    values = [1.0, 0.95, 0.92, 0.5]
    # Improvements of 0.05 and 0.03 do not count with min_delta=0.1: wait 1, 2 -> stop at epoch 2.
    es = EarlyStopping(monitor="loss", patience=2, min_delta=0.1)
    _, history = run([Script("loss", values), es], epochs=4)
    assert history.epoch == [0, 1, 2]
    # Without min_delta every epoch improves.
    es = EarlyStopping(monitor="loss", patience=2)
    _, history = run([Script("loss", values), es], epochs=4)
    assert history.epoch == [0, 1, 2, 3]
    # A negative min_delta is taken as its absolute value (Keras).
    assert EarlyStopping(monitor="loss", min_delta=-0.1).min_delta == 0.1


def test_early_stopping_baseline_must_be_beaten():
    # Improving but never below the baseline: wait is not reset (1, 2) -> stop at epoch 1.
    es = EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    _, history = run([Script("loss", [0.9, 0.95, 0.96, 0.97]), es], epochs=4)
    assert history.epoch == [0, 1]


@pytest.mark.parametrize(
    "monitor, values, expected_epochs",
    [
        ("loss", [1.0, 0.9, 0.8], 3),  # decreasing loss improves
        ("loss", [1.0, 1.1, 1.2], 2),  # increasing loss does not
        ("accuracy", [0.5, 0.6, 0.7], 3),  # increasing accuracy improves
        ("accuracy", [0.7, 0.6, 0.5], 2),  # decreasing accuracy does not
        ("val_accuracy", [0.7, 0.6, 0.5], 2),
    ],
)
def test_early_stopping_mode_auto(monitor, values, expected_epochs):
    es = EarlyStopping(monitor=monitor, patience=0)
    _, history = run([Script(monitor, values), es], epochs=3)
    assert len(history.epoch) == expected_epochs


def test_early_stopping_explicit_mode_max_on_a_loss():
    es = EarlyStopping(monitor="loss", mode="max", patience=0)
    _, history = run([Script("loss", [1.0, 0.9, 0.8]), es], epochs=3)
    assert history.epoch == [0, 1]


def test_early_stopping_unknown_direction_and_bad_mode():
    with pytest.raises(ValueError, match="mode="):
        EarlyStopping(monitor="foo")
    with pytest.raises(ValueError, match="`mode`"):
        EarlyStopping(monitor="loss", mode="up")
    with pytest.raises(ValueError, match="`patience`"):
        EarlyStopping(monitor="loss", patience=-1)


def test_early_stopping_verbose_messages_and_restore(capsys):
    # best at epoch 3 (0.7); epoch 4 does not improve -> stop at epoch 4 with patience 1.
    es = EarlyStopping(monitor="loss", patience=1, verbose=1, restore_best_weights=True)
    log = WeightLog()
    model, history = run([Script("loss", [1.0, 0.9, 0.8, 0.7, 0.75, 0.1]), log, es], epochs=6)
    assert history.epoch == [0, 1, 2, 3, 4]
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Epoch 5: early stopping",
        "Restoring model weights from the end of the best epoch: 4.",
    ]
    for restored, best in zip(model.get_weights(), log.weights[3]):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(log.weights[3][0], log.weights[4][0])


def test_restore_best_weights_even_without_early_stop(capsys):
    es = EarlyStopping(monitor="loss", patience=10, verbose=1, restore_best_weights=True)
    log = WeightLog()
    model, history = run([Script("loss", [1.0, 0.5, 0.7, 0.8]), log, es], epochs=4)
    assert history.epoch == [0, 1, 2, 3] and es.stopped_epoch == 0
    assert capsys.readouterr().out.splitlines() == ["Restoring model weights from the end of the best epoch: 2."]
    for restored, best in zip(model.get_weights(), log.weights[1]):
        np.testing.assert_array_equal(restored, best)


def test_without_restore_the_last_weights_stay():
    es = EarlyStopping(monitor="loss", patience=0)
    log = WeightLog()
    model, _ = run([Script("loss", [1.0, 0.5, 0.7]), log, es], epochs=3)
    for final, last in zip(model.get_weights(), log.weights[-1]):
        np.testing.assert_array_equal(final, last)


def test_early_stopping_missing_monitor_warns_and_training_continues():
    es = EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(UserWarning) as record:
        _, history = run([es], epochs=3)
    messages = [str(w.message) for w in record]
    assert messages[0] == (
        "Early stopping conditioned on metric `val_loss` which is not available. Available metrics are: loss"
    )
    assert history.epoch == [0, 1, 2]


def test_early_stopping_monitors_real_val_loss():
    x, y = blobs()
    model = model_for()
    es = EarlyStopping(monitor="val_loss", patience=1)
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.2, callbacks=[es])
    assert es.best == min(history.history["val_loss"])


def test_early_stopping_instance_is_reusable_across_fits():
    es = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    script = [1.0, 0.9, 0.95, 0.97, 0.1]
    _, first = run([Script("loss", script), es], epochs=5)
    _, second = run([Script("loss", script), es], epochs=5)
    assert first.epoch == second.epoch == [0, 1, 2]
    assert es.best == 0.9 and es.best_epoch == 1 and es.wait == 1


# --------------------------------------------------------------------------- TerminateOnNaN
class Corrupt(Callback):
    """Puts a NaN into the first kernel just before batch ``at`` of epoch 0."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_batch_begin(self, batch, logs=None):
        if batch == self.at:
            self.model.layers[0].params["kernel"][0, 0] = np.nan


def test_terminate_on_nan_stops_after_the_bad_batch(capsys):
    batches = []
    recorder = LambdaCallback(on_batch_end=lambda batch, logs: batches.append((batch, logs["loss"])))
    with np.errstate(invalid="ignore"):
        _, history = run([Corrupt(at=2), TerminateOnNaN(), recorder], epochs=3)
    assert [b for b, _ in batches] == [0, 1, 2]
    assert np.isfinite(batches[1][1]) and np.isnan(batches[2][1])
    assert history.epoch == [0]
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"


def test_terminate_on_nan_with_a_diverging_optimizer(capsys):
    x, y = blobs()
    model = model_for(optimizer=ln.optimizers.SGD(learning_rate=1e12))
    with np.errstate(all="ignore"):
        history = model.fit(x * 1000.0, y, epochs=5, verbose=0, shuffle=False, callbacks=[TerminateOnNaN()])
    assert history.epoch == [0]
    assert not np.isfinite(history.history["loss"][0])
    assert re.fullmatch(r"Batch \d: Invalid loss, terminating training\n", capsys.readouterr().out)


def test_terminate_on_nan_raise_error():
    with np.errstate(invalid="ignore"), pytest.raises(RuntimeError, match="loss"):
        run([Corrupt(at=1), TerminateOnNaN(raise_error=True)], epochs=2)


def test_terminate_on_nan_is_quiet_on_finite_losses(capsys):
    _, history = run([TerminateOnNaN()], epochs=2)
    assert history.epoch == [0, 1] and capsys.readouterr().out == ""


# --------------------------------------------------------------------------- LambdaCallback & order
def test_lambda_callback_hooks_are_called_in_order():
    events = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_batch_begin=lambda batch, logs: events.append(f"batch_begin {batch}"),
        on_batch_end=lambda batch, logs: events.append(f"batch_end {batch}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"),
    )
    x, y = blobs(n=40)  # 2 steps
    model_for(metrics=["accuracy"]).fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    per_epoch = ["batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1"]
    assert events == (
        ["train_begin", "epoch_begin 0", *per_epoch, "epoch_end 0 ['accuracy', 'loss']"]
        + ["epoch_begin 1", *per_epoch, "epoch_end 1 ['accuracy', 'loss']", "train_end"]
    )


def test_batch_logs_hold_running_means_ending_at_the_epoch_value():
    seen = []
    cb = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(dict(logs)))
    _, history = run([cb], epochs=1, metrics=["accuracy"])
    assert len(seen) == 4 and all(list(logs) == ["accuracy", "loss"] for logs in seen)
    assert seen[-1]["loss"] == pytest.approx(history.history["loss"][0], rel=1e-12)
    assert seen[-1]["accuracy"] == pytest.approx(history.history["accuracy"][0], rel=1e-12)


def test_lambda_callback_rejects_non_callables():
    with pytest.raises(TypeError, match="`on_epoch_end`"):
        LambdaCallback(on_epoch_end=3)


def test_user_on_epoch_end_runs_before_the_progress_line(capsys):
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: print(f"[user] epoch {epoch} loss={logs['loss']:.4f}"))
    _, history = run([cb], epochs=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert lines[1] == f"[user] epoch 0 loss={history.history['loss'][0]:.4f}"
    assert lines[2].startswith("4/4 ") and lines[3] == "Epoch 2/2"


def test_callback_list_skips_batch_hooks_nobody_overrides():
    class EpochOnly(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    quiet = CallbackList([EpochOnly(), History()], model=None, params={})
    assert not quiet.wants_batch_begin and not quiet.wants_batch_end
    busy = CallbackList([History(), ProgbarLogger(1), LambdaCallback(on_batch_begin=lambda b, l: None)], None, {})
    assert busy.wants_batch_begin and busy.wants_batch_end


def test_batch_logs_are_built_only_when_someone_reads_them():
    model = type("M", (), {})()
    assert not CallbackList([History()], model, {"steps": 10}).batch_end_due(3)
    bar_only = CallbackList([History(), ProgbarLogger(2)], model, {"steps": 10, "epochs": 1})
    bar_only.callbacks[1].on_epoch_begin(0)  # a plain (not live) bar: due at the first and last batch only
    assert [bar_only.batch_end_due(b) for b in range(10)] == [True] + [False] * 8 + [True]
    with_user = CallbackList([ProgbarLogger(2), LambdaCallback(on_batch_end=lambda b, l: None)], model,
                             {"steps": 10, "epochs": 1})
    with_user.callbacks[0].on_epoch_begin(0)
    assert all(with_user.batch_end_due(b) for b in range(10))


def test_keras_long_hook_names_route_to_the_short_ones():
    calls = []

    class Short(Callback):
        def on_batch_end(self, batch, logs=None):
            calls.append(batch)

    Short().on_train_batch_end(5, {})
    assert calls == [5]


def test_progbar_logger_verbose_2_lines(capsys):
    logger = ProgbarLogger(verbose=2)
    logger.set_params({"epochs": 2, "steps": 3, "verbose": 2})
    logger.on_epoch_begin(0)
    for step in range(3):
        logger.on_batch_end(step, {"loss": 0.5})
    logger.on_epoch_end(0, {"loss": 0.25})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert re.fullmatch(r"3/3 - \d+s - \d+(us|ms)/step - loss: 0\.2500", lines[1])
    assert len(lines) == 2


def test_no_warnings_from_a_plain_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run([EarlyStopping(monitor="loss")], epochs=2)
