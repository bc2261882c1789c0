"""Tests for logitnet.models.Sequential: fit / evaluate / predict / weights / errors / output.

Independent references used here:

* a float64 NumPy re-implementation of training written in this file (forward pass,
  hand-derived backprop of softmax cross-entropy from logits, Keras's Adam update,
  batches of 32 with a partial last batch, epoch loss = batch-size-weighted mean of the
  per-batch losses each taken before that batch's update), started from the same
  initial weights through ``set_weights``;
* Keras's measured semantics and error texts from keras-parity.md (§3.4, §5, §6, §7, §8, §9),
  copied in by hand.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import logitnet as ln
from logitnet.callbacks import Callback, LambdaCallback
from logitnet.losses import CategoricalCrossentropy, SparseCategoricalCrossentropy
from logitnet.optimizers import Adam

LR = 2.0**-6  # exactly representable in float32, so the optimizer's float32 learning rate is exact
N_SAMPLES = 100  # batches of 32, 32, 32 and a partial 4
SHAPES = [(2, 25), (25,), (25, 15), (15,), (15, 4), (4,)]


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    """Output is captured (not a terminal): make that independent of the CI environment."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


# --------------------------------------------------------------------------- data and models
def blobs(n=N_SAMPLES, seed=0):
    """Four well-separated 2-D blobs (labels 0..3), unshuffled structure mixed by the rng."""
    rng = np.random.default_rng(seed)
    centers = np.array([[-5.0, 2.0], [-2.0, -2.0], [1.0, 2.0], [5.0, -2.0]])
    y = rng.integers(0, 4, size=n)
    x = centers[y] + rng.normal(size=(n, 2))
    return x, y


def initial_weights(seed=1):
    """Glorot-like float64 weights in get_weights order, with non-zero biases."""
    rng = np.random.default_rng(seed)
    ws = []
    for shape in SHAPES:
        if len(shape) == 2:
            limit = np.sqrt(6.0 / sum(shape))
            ws.append(rng.uniform(-limit, limit, size=shape))
        else:
            ws.append(rng.normal(scale=0.1, size=shape))
    return ws


def make_model(last_activation=None, dtype="float64", seed=0, weights=None, name=None):
    model = ln.Sequential(
        [
            ln.Dense(25, activation="relu", name="layer1"),
            ln.Dense(15, activation="relu", name="layer2"),
            ln.Dense(4, activation=last_activation, name="out"),
        ],
        seed=seed,
        dtype=dtype,
        name=name,
    )
    model.build((None, 2))
    if weights is not None:
        model.set_weights(weights)
    return model


def compiled(loss=None, last_activation=None, dtype="float64", weights=None, metrics=None, lr=LR):
    model = make_model(last_activation, dtype=dtype, weights=initial_weights() if weights is None else weights)
    loss = SparseCategoricalCrossentropy(from_logits=True) if loss is None else loss
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.compile(optimizer=Adam(learning_rate=lr), loss=loss, metrics=metrics)
    return model


# --------------------------------------------------------------------------- the NumPy reference
def ref_forward(ws, x):
    w1, b1, w2, b2, w3, b3 = ws
    h1 = np.maximum(x @ w1 + b1, 0.0)
    h2 = np.maximum(h1 @ w2 + b2, 0.0)
    return (h1, h2), h2 @ w3 + b3


def ref_softmax_ce(z, y, weights=None, divisor=None):
    """Per-batch loss sum(w * l) / divisor and its gradient wrt the logits z (B, C)."""
    b = len(y)
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    losses = lse - z[np.arange(b), y]
    p = np.exp(z - lse[:, None])
    onehot = np.zeros_like(z)
    onehot[np.arange(b), y] = 1.0
    w = np.ones(b) if weights is None else weights
    d = float(b) if divisor is None else divisor
    if d == 0:
        return 0.0, np.zeros_like(z)
    return float(np.sum(w * losses) / d), (p - onehot) * w[:, None] / d


def ref_backward(ws, x, hidden, dz):
    _, _, w2, _, w3, _ = ws
    h1, h2 = hidden
    dh2 = (dz @ w3.T) * (h2 > 0)
    dh1 = (dh2 @ w2.T) * (h1 > 0)
    return [x.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0), h2.T @ dz, dz.sum(0)]


class RefAdam:
    """Keras's Adam: alpha = lr sqrt(1-b2^t)/(1-b1^t); m += (g-m)(1-b1); v += (g^2-v)(1-b2)."""

    def __init__(self, ws, lr, b1=0.9, b2=0.999, eps=1e-7):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m = [np.zeros_like(w) for w in ws]
        self.v = [np.zeros_like(w) for w in ws]
        self.t = 0

    def step(self, ws, gs):
        self.t += 1
        alpha = self.lr * np.sqrt(1 - self.b2**self.t) / (1 - self.b1**self.t)
        for w, g, m, v in zip(ws, gs, self.m, self.v):
            m += (g - m) * (1 - self.b1)
            v += (g * g - v) * (1 - self.b2)
            w -= m * alpha / (np.sqrt(v) + self.eps)


def ref_fit(ws, x, y, epochs, batch_size=32, lr=LR, sample_weight=None, ignore_class=None):
    """Returns (epoch losses, epoch accuracies, final weights) of Keras's training loop."""
    ws = [np.array(w, dtype=np.float64) for w in ws]
    adam = RefAdam(ws, lr)
    n = len(x)
    losses, accs = [], []
    for _ in range(epochs):
        total, correct = 0.0, 0
        for start in range(0, n, batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            wb = None if sample_weight is None else sample_weight[start : start + batch_size]
            divisor = None
            if ignore_class is not None:
                valid = yb != ignore_class
                wb, divisor, yb = valid.astype(float), float(valid.sum()), np.where(valid, yb, 0)
            hidden, z = ref_forward(ws, xb)
            loss, dz = ref_softmax_ce(z, yb, wb, divisor)
            total += loss * len(xb)
            correct += int(np.sum(np.argmax(z, axis=1) == y[start : start + batch_size]))
            adam.step(ws, ref_backward(ws, xb, hidden, dz))
        losses.append(total / n)
        accs.append(correct / n)
    return losses, accs, ws


def assert_weights_close(actual, expected, rtol=1e-10):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-13)


# =========================================================================== fit semantics
def test_fit_matches_float64_numpy_reference():
    x, y = blobs()
    model = compiled()
    history = model.fit(x, y, epochs=4, batch_size=32, shuffle=False, verbose=0)
    ref_losses, _, ref_ws = ref_fit(initial_weights(), x, y, epochs=4)
    np.testing.assert_allclose(history.history["loss"], ref_losses, rtol=1e-10)
    assert_weights_close(model.get_weights(), ref_ws)
    # Sanity: the reference trains (so the comparison is not between two no-ops).
    assert ref_losses[-1] < ref_losses[0]


def test_fit_reference_partial_batch_is_weighted_by_its_size():
    # A wrong weighting (plain mean of batch means) would differ from the reference.
    x, y = blobs(n=70)  # batches 32, 32, 6
    history = compiled().fit(x, y, epochs=2, shuffle=False, verbose=0)
    ref_losses, _, _ = ref_fit(initial_weights(), x, y, epochs=2)
    np.testing.assert_allclose(history.history["loss"], ref_losses, rtol=1e-10)


def test_fit_with_batch_size_7_matches_reference():
    x, y = blobs(n=30)
    model = compiled()
    history = model.fit(x, y, epochs=2, batch_size=7, shuffle=False, verbose=0)
    ref_losses, _, ref_ws = ref_fit(initial_weights(), x, y, epochs=2, batch_size=7)
    np.testing.assert_allclose(history.history["loss"], ref_losses, rtol=1e-10)
    assert_weights_close(model.get_weights(), ref_ws)


def test_sample_weight_is_sum_wl_over_batch_size():
    x, y = blobs()
    sw = np.random.default_rng(5).uniform(0.0, 3.0, size=len(y))
    model = compiled()
    history = model.fit(x, y, epochs=2, shuffle=False, verbose=0, sample_weight=sw)
    ref_losses, _, ref_ws = ref_fit(initial_weights(), x, y, epochs=2, sample_weight=sw)
    np.testing.assert_allclose(history.history["loss"], ref_losses, rtol=1e-10)
    assert_weights_close(model.get_weights(), ref_ws)


def test_class_weight_equals_equivalent_sample_weight():
    x, y = blobs()
    class_weight = {0: 2.0, 2: 0.25}  # class 1 and 3 missing: weight 1 (Keras)
    sw = np.array([{0: 2.0, 2: 0.25}.get(int(c), 1.0) for c in y])
    a = compiled()
    ha = a.fit(x, y, epochs=2, shuffle=False, verbose=0, class_weight=class_weight)
    b = compiled()
    hb = b.fit(x, y, epochs=2, shuffle=False, verbose=0, sample_weight=sw)
    assert ha.history == hb.history
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    ref_losses, _, _ = ref_fit(initial_weights(), x, y, epochs=2, sample_weight=sw)
    np.testing.assert_allclose(ha.history["loss"], ref_losses, rtol=1e-10)


def test_class_weight_with_sample_weight_is_keras_error():
    x, y = blobs()
    model = compiled()
    with pytest.raises(ValueError, match=re.escape("You cannot `class_weight` and `sample_weight` at the same time.")):
        model.fit(x, y, class_weight={0: 2.0}, sample_weight=np.ones(len(y)), verbose=0)


def test_class_weight_applies_to_training_rows_only():
    # Keras splits off the validation rows first; class_weight never weights val_loss.
    x, y = blobs()
    model = compiled()
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.2, class_weight={0: 5.0, 1: 0.1})
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[80:], y[80:], verbose=0), rel=1e-12)


# --------------------------------------------------------------------------- seed lesson (§3.4)
def _fit_variant(activation, loss, x, y):
    model = compiled(loss=loss, last_activation=activation)
    history = model.fit(x, y, epochs=3, shuffle=False, verbose=0)
    return model, history


def test_logits_softmax_sigmoid_variants_train_identically():
    x, y = blobs()
    variants = [
        (None, SparseCategoricalCrossentropy(from_logits=True)),
        ("softmax", SparseCategoricalCrossentropy()),
        ("sigmoid", SparseCategoricalCrossentropy()),
        ("softmax", SparseCategoricalCrossentropy(from_logits=True)),
    ]
    results = [_fit_variant(act, loss, x, y) for act, loss in variants]
    ref_losses, _, ref_ws = ref_fit(initial_weights(), x, y, epochs=3)
    base_model, base_history = results[0]
    np.testing.assert_allclose(base_history.history["loss"], ref_losses, rtol=1e-10)
    for model, history in results[1:]:
        assert history.history["loss"] == base_history.history["loss"]
        for w, w0 in zip(model.get_weights(), base_model.get_weights()):
            np.testing.assert_array_equal(w, w0)
    # predict still returns each layer's own activation of the same logits.
    logits = base_model.predict(x)
    z = logits.astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(results[1][0].predict(x), e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    sig = results[2][0].predict(x)
    np.testing.assert_allclose(sig, 1.0 / (1.0 + np.exp(-z)), rtol=1e-12)
    assert not np.allclose(sig.sum(axis=1), 1.0)
    np.testing.assert_allclose(results[3][0].predict(x), results[1][0].predict(x), rtol=0, atol=0)


def test_sigmoid_output_warns_that_rows_do_not_sum_to_one():
    model = make_model("sigmoid")
    with pytest.warns(UserWarning, match="does not sum to 1"):
        model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy())


def test_softmax_output_with_from_logits_true_warns():
    model = make_model("softmax")
    with pytest.warns(UserWarning, match="from_logits=True"):
        model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))


@pytest.mark.parametrize(
    "activation, from_logits", [(None, True), ("softmax", False), (None, False)]
)
def test_no_warning_for_consistent_or_keras_silent_setups(activation, from_logits):
    model = make_model(activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=from_logits))


def test_linear_output_with_from_logits_false_trains_on_clipped_outputs():
    x, y = blobs()
    ws = initial_weights()
    # One batch, one epoch: the logged loss is the loss at the initial weights.
    model = compiled(loss=SparseCategoricalCrossentropy(from_logits=False))
    history = model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    _, z = ref_forward(ws, x)
    c = np.clip(z, 1e-7, 1 - 1e-7)
    expected = np.mean(np.log(c.sum(axis=1)) - np.log(c[np.arange(len(y)), y]))
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-10)
    # ...and it learns worse than the logits model from the same start (Keras: 0.63 vs 0.043).
    bad_model = compiled(loss=SparseCategoricalCrossentropy(from_logits=False))
    bad = bad_model.fit(x, y, epochs=5, shuffle=False, verbose=0)
    good_model = compiled()
    good = good_model.fit(x, y, epochs=5, shuffle=False, verbose=0)
    assert bad.history["loss"][-1] > 2 * good.history["loss"][-1]
    assert np.mean(bad_model.predict(x).argmax(1) == y) < np.mean(good_model.predict(x).argmax(1) == y)


# --------------------------------------------------------------------------- validation & history
def test_validation_split_takes_last_rows_before_shuffling():
    x, y = blobs()
    a = compiled()
    history = a.fit(x, y, epochs=1, validation_split=0.2, shuffle=False, verbose=0)
    # Training used exactly the first 80 rows...
    b = compiled()
    train_only = b.fit(x[:80], y[:80], epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"] == train_only.history["loss"]
    # ...and validation the last 20, with the weights after the epoch.
    assert history.history["val_loss"][0] == pytest.approx(a.evaluate(x[80:], y[80:], verbose=0), rel=1e-12)
    _, z = ref_forward(a.get_weights(), x[80:])
    assert history.history["val_loss"][0] == pytest.approx(ref_softmax_ce(z, y[80:])[0], rel=1e-10)


def test_validation_split_with_shuffle_still_validates_on_last_rows():
    x, y = blobs()
    model = compiled()
    history = model.fit(x, y, epochs=1, validation_split=0.3, verbose=0)  # shuffle=True
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[70:], y[70:], verbose=0), rel=1e-12)
    assert history.params["steps"] == 3  # ceil(70 / 32)


def test_validation_data_two_tuple():
    x, y = blobs()
    xv, yv = blobs(n=40, seed=9)
    model = compiled()
    history = model.fit(x, y, epochs=1, validation_data=(xv, yv), verbose=0, validation_split=0.5)
    assert history.params["steps"] == 4  # validation_split is ignored when validation_data is given
    _, z = ref_forward(model.get_weights(), xv)
    assert history.history["val_loss"][0] == pytest.approx(ref_softmax_ce(z, yv)[0], rel=1e-10)


def test_validation_data_three_tuple_uses_sample_weight():
    x, y = blobs()
    xv, yv = blobs(n=40, seed=9)
    swv = np.linspace(0.0, 2.0, 40)
    model = compiled()
    history = model.fit(x, y, epochs=1, validation_data=(xv, yv, swv), verbose=0)
    _, z = ref_forward(model.get_weights(), xv)
    # Batches of 32 and 8: sum over batches of B * (sum w l / B), over N = sum w l / N.
    assert history.history["val_loss"][0] == pytest.approx(ref_softmax_ce(z, yv, swv)[0], rel=1e-10)


def test_history_keys_sorted_epochs_and_params():
    x, y = blobs()
    model = compiled(metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 3 and all(isinstance(f, float) for f in v) for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 3}
    assert model.history is history
    second = model.fit(x, y, epochs=1, verbose=0)
    assert second is not history and model.history is second


def test_history_params_keep_verbose_auto(capsys):
    x, y = blobs(n=40)
    history = compiled().fit(x, y, epochs=2)
    assert history.params == {"verbose": "auto", "epochs": 2, "steps": 2}
    assert "Epoch 2/2" in capsys.readouterr().out


def test_initial_epoch(capsys):
    x, y = blobs()
    history = compiled().fit(x, y, epochs=4, initial_epoch=2, verbose=1)
    assert history.epoch == [2, 3]
    assert len(history.history["loss"]) == 2
    epoch_lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert epoch_lines == ["Epoch 3/4", "Epoch 4/4"]


def test_epochs_zero_gives_empty_history_and_no_training(capsys):
    x, y = blobs()
    model = compiled()
    before = model.get_weights()
    history = model.fit(x, y, epochs=0)
    assert history.history == {} and history.epoch == []
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------- metrics
def test_accuracy_metric_equals_reference_and_keeps_its_name():
    x, y = blobs()
    for name in ("accuracy", "acc"):
        model = compiled(metrics=[name])
        history = model.fit(x, y, epochs=3, shuffle=False, verbose=0)
        assert list(history.history) == sorted([name, "loss"])
        ref_losses, ref_accs, _ = ref_fit(initial_weights(), x, y, epochs=3)
        assert history.history[name] == pytest.approx(ref_accs, abs=1e-12)
        np.testing.assert_allclose(history.history["loss"], ref_losses, rtol=1e-10)


def test_accuracy_resolves_to_categorical_for_one_hot_targets():
    x, y = blobs()
    onehot = np.eye(4)[y]
    model = compiled(loss=CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(x, onehot, epochs=2, shuffle=False, verbose=0)
    ref_losses, ref_accs, _ = ref_fit(initial_weights(), x, y, epochs=2)
    assert history.history["accuracy"] == pytest.approx(ref_accs, abs=1e-12)
    np.testing.assert_allclose(history.history["loss"], ref_losses, rtol=1e-10)
    expected = np.mean(model.predict(x).argmax(axis=1) == y)
    assert model.evaluate(x, onehot, verbose=0)[1] == pytest.approx(expected, abs=1e-12)


def test_accuracy_resolves_to_sparse_for_column_labels():
    x, y = blobs()
    model = compiled(metrics=["accuracy"])
    history = model.fit(x, y.reshape(-1, 1), epochs=2, shuffle=False, verbose=0)
    _, ref_accs, _ = ref_fit(initial_weights(), x, y, epochs=2)
    assert history.history["accuracy"] == pytest.approx(ref_accs, abs=1e-12)


def test_metric_instance_is_reset_between_training_validation_and_evaluate():
    x, y = blobs()
    model = compiled(metrics=[ln.metrics.SparseCategoricalAccuracy()])
    xv, yv = x[:10], y[:10]
    history = model.fit(x, y, epochs=2, validation_data=(xv, yv), verbose=0)
    expected_val = np.mean(model.predict(xv).argmax(axis=1) == yv)
    assert history.history["val_sparse_categorical_accuracy"][-1] == pytest.approx(expected_val, abs=1e-12)
    expected = np.mean(model.predict(x).argmax(axis=1) == y)
    first = model.evaluate(x, y, verbose=0)
    assert first == model.evaluate(x, y, verbose=0)
    assert first[1] == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------- evaluate
def test_evaluate_returns_float_without_metrics_equal_to_reference():
    x, y = blobs()
    model = compiled()
    model.fit(x, y, epochs=1, verbose=0)
    result = model.evaluate(x, y, verbose=0)
    assert type(result) is float
    _, z = ref_forward(model.get_weights(), x)
    assert result == pytest.approx(ref_softmax_ce(z, y)[0], rel=1e-10)
    # Batch-size-weighted: not the plain mean of the 4 batch means.
    batch_means = [ref_softmax_ce(z[i : i + 32], y[i : i + 32])[0] for i in range(0, 100, 32)]
    assert abs(result - np.mean(batch_means)) > 1e-6


def test_evaluate_with_sample_weight_and_batch_size():
    x, y = blobs()
    sw = np.random.default_rng(3).uniform(0.0, 2.0, size=len(y))
    model = compiled()
    _, z = ref_forward(initial_weights(), x)
    result = model.evaluate(x, y, sample_weight=sw, batch_size=7, verbose=0)
    assert result == pytest.approx(ref_softmax_ce(z, y, sw)[0], rel=1e-10)


def test_evaluate_list_and_dict_forms():
    x, y = blobs()
    model = compiled(metrics=["accuracy"])
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2 and all(type(v) is float for v in result)
    _, z = ref_forward(initial_weights(), x)
    assert result[0] == pytest.approx(ref_softmax_ce(z, y)[0], rel=1e-10)
    assert result[1] == pytest.approx(np.mean(z.argmax(axis=1) == y), abs=1e-12)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(as_dict) == ["accuracy", "loss"]
    assert as_dict == {"accuracy": result[1], "loss": result[0]}


def test_evaluate_loss_of_softmax_model_comes_from_logits():
    x, y = blobs()
    model = compiled(loss=SparseCategoricalCrossentropy(), last_activation="softmax")
    _, z = ref_forward(initial_weights(), x)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(ref_softmax_ce(z, y)[0], rel=1e-10)


def test_evaluate_verbose_prints_one_line(capsys):
    x, y = blobs()
    compiled(metrics=["accuracy"]).evaluate(x, y, verbose=2)
    out = capsys.readouterr().out
    assert re.fullmatch(r"4/4 - \d+s - \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}\n", out)


# --------------------------------------------------------------------------- ignore_class
def test_ignore_class_minus_one_passes_checks_and_is_ignored():
    x, y = blobs()
    y_masked = y.copy()
    y_masked[::5] = -1
    model = compiled(loss=SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1))
    history = model.fit(x, y_masked, epochs=2, shuffle=False, verbose=0)
    ref_losses, _, ref_ws = ref_fit(initial_weights(), x, y_masked, epochs=2, ignore_class=-1)
    np.testing.assert_allclose(history.history["loss"], ref_losses, rtol=1e-10)
    assert_weights_close(model.get_weights(), ref_ws)


def test_ignore_class_255_in_evaluate_and_with_class_weight():
    x, y = blobs()
    y_masked = y.copy()
    y_masked[:30] = 255
    model = compiled(loss=SparseCategoricalCrossentropy(from_logits=True, ignore_class=255))
    _, z = ref_forward(initial_weights(), x)
    valid = y_masked != 255
    # One batch: the mean over the non-ignored samples.
    result = model.evaluate(x, y_masked, batch_size=len(x), verbose=0)
    assert result == pytest.approx(ref_softmax_ce(z[valid], y[valid])[0], rel=1e-10)
    history = model.fit(x, y_masked, epochs=1, verbose=0, class_weight={0: 2.0})
    assert np.isfinite(history.history["loss"][0])


def test_labels_outside_range_still_rejected_with_ignore_class():
    x, y = blobs()
    y_bad = y.copy()
    y_bad[0] = 4
    model = compiled(loss=SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1))
    with pytest.raises(ValueError, match=r"`y`.*label 4"):
        model.fit(x, y_bad, verbose=0)


# --------------------------------------------------------------------------- predict
def test_predict_dtype_shape_silence_and_model_call(capsys):
    x, y = blobs()
    model = ln.Sequential([ln.Dense(25, activation="relu"), ln.Dense(4)], seed=3)
    out = model.predict(x)  # before any fit: builds with the random init
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (100, 4)
    assert capsys.readouterr().out == ""
    np.testing.assert_array_equal(out, model(x))
    w1, b1, w2, b2 = [w.astype(np.float64) for w in model.get_weights()]
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_predict_empty_input():
    model = make_model(dtype="float32")
    out = model.predict(np.empty((0, 2)))
    assert out.shape == (0, 4) and out.dtype == np.float32


def test_predict_batch_size_does_not_change_results():
    x, _ = blobs()
    model = make_model(weights=initial_weights())
    np.testing.assert_allclose(model.predict(x, batch_size=7), ref_forward(initial_weights(), x)[1], rtol=1e-12)


def test_predict_verbose_2_prints_one_line(capsys):
    x, _ = blobs()
    make_model().predict(x, verbose=2)
    out = capsys.readouterr().out
    assert re.fullmatch(r"4/4 - \d+s - \d+(us|ms)/step\n", out)


# --------------------------------------------------------------------------- weights
def test_get_weights_order_shapes_and_copies():
    model = make_model(dtype="float32")
    weights = model.get_weights()
    assert [w.shape for w in weights] == SHAPES
    assert all(w.dtype == np.float32 for w in weights)
    weights[0][...] = 123.0
    assert not np.any(model.get_weights()[0] == 123.0)


def test_set_weights_roundtrip_changes_predictions():
    x, _ = blobs()
    model = make_model()
    ws = initial_weights(seed=7)
    model.set_weights(ws)
    for a, b in zip(model.get_weights(), ws):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(model.predict(x), ref_forward(ws, x)[1], rtol=1e-12)


def test_set_weights_length_error_is_keras_text():
    model = make_model(name="sequential")
    expected = (
        "You called `set_weights(weights)` on layer 'sequential' with a weight list of length 2, "
        "but the layer was expecting 6 weights."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        model.set_weights(initial_weights()[:2])


def test_set_weights_shape_error_is_keras_text():
    model = make_model(name="sequential")
    ws = initial_weights()
    ws[0] = np.zeros((3, 3))
    expected = "Layer sequential weight shape (2, 25) is not compatible with provided weight shape (3, 3)."
    before = model.get_weights()
    with pytest.raises(ValueError, match=re.escape(expected)):
        model.set_weights(ws)
    for a, b in zip(model.get_weights(), before):  # nothing was half-assigned
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- reproducibility
def _seeded_run(seed):
    x, y = blobs()
    model = ln.Sequential([ln.Dense(25, activation="relu"), ln.Dense(15, activation="relu"), ln.Dense(4)], seed=seed)
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=3, verbose=0)  # shuffle=True
    return history.history["loss"], model.get_weights()


def test_same_seed_gives_bit_identical_history_and_weights():
    losses_a, weights_a = _seeded_run(0)
    losses_b, weights_b = _seeded_run(0)
    assert losses_a == losses_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    losses_c, _ = _seeded_run(1)
    assert losses_c != losses_a


def test_shuffle_true_differs_from_shuffle_false():
    x, y = blobs()
    shuffled = compiled().fit(x, y, epochs=2, verbose=0)
    ordered = compiled().fit(x, y, epochs=2, verbose=0, shuffle=False)
    assert shuffled.history["loss"] != ordered.history["loss"]


# =========================================================================== bad input
def _ready_model():
    return compiled(dtype="float32", weights=[w.astype(np.float32) for w in initial_weights()])


def assert_rejected(capsys, call, exc, *patterns, model=None):
    """``call(model)`` raises ``exc`` matching every pattern, before any training or output."""
    model = _ready_model() if model is None else model
    before = model.get_weights()
    with pytest.raises(exc) as info:
        call(model)
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0
    assert capsys.readouterr().out == ""
    return message


X_GOOD, Y_GOOD = blobs()


def test_bad_x_one_dimensional(capsys):
    assert_rejected(capsys, lambda m: m.fit(X_GOOD[:, 0], Y_GOOD), ValueError, "`x`", "2-D", "reshape")


def test_bad_x_three_dimensional(capsys):
    assert_rejected(capsys, lambda m: m.fit(X_GOOD.reshape(100, 1, 2), Y_GOOD), ValueError, "`x`", "ndim=3")


def test_bad_mismatched_lengths(capsys):
    assert_rejected(
        capsys, lambda m: m.fit(X_GOOD, Y_GOOD[:99]), ValueError, "cardinality", "'x' sizes: 100", "'y' sizes: 99"
    )


def test_bad_label_equal_to_n_outputs(capsys):
    y = Y_GOOD.copy()
    y[17] = 4
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, y), ValueError, "`y`", "label 4", r"\[0, 4\)")


def test_bad_negative_label(capsys):
    y = Y_GOOD.copy()
    y[3] = -1
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, y), ValueError, "`y`", "label -1", r"\[0, 4\)")


def test_bad_one_based_labels_get_a_hint(capsys):
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, Y_GOOD + 1), ValueError, "`y`", "1-based")


def test_bad_label_in_evaluate(capsys):
    y = Y_GOOD.copy()
    y[0] = 7
    assert_rejected(capsys, lambda m: m.evaluate(X_GOOD, y), ValueError, "`y`", "label 7")


def test_bad_label_in_validation_data(capsys):
    yv = Y_GOOD.copy()
    yv[0] = 9
    def call(m):
        m.fit(X_GOOD, Y_GOOD, validation_data=(X_GOOD, yv))

    assert_rejected(capsys, call, ValueError, "validation_data y", "label 9")


def test_bad_nan_in_x(capsys):
    x = X_GOOD.copy()
    x[5, 1] = np.nan
    assert_rejected(capsys, lambda m: m.fit(x, Y_GOOD), ValueError, "`x`", "NaN", "row 5, column 1")


def test_bad_inf_in_x(capsys):
    x = X_GOOD.copy()
    x[2, 0] = np.inf
    assert_rejected(capsys, lambda m: m.fit(x, Y_GOOD), ValueError, "`x`", "infinity", "row 2, column 0")


def test_bad_string_labels_with_sparse_loss(capsys):
    y = np.array(["a", "b", "c", "d"])[Y_GOOD]
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, y), TypeError, "`y`", "strings", "LabelEncoder|np.unique")


def test_bad_one_hot_labels_with_sparse_loss(capsys):
    assert_rejected(
        capsys, lambda m: m.fit(X_GOOD, np.eye(4)[Y_GOOD]), ValueError, "`y`", r"\(100, 4\)", "categorical_crossentropy"
    )


def test_bad_integer_labels_with_categorical_loss(capsys):
    model = compiled(loss=CategoricalCrossentropy(from_logits=True), dtype="float32",
                     weights=[w.astype(np.float32) for w in initial_weights()])
    assert_rejected(
        capsys, lambda m: m.fit(X_GOOD, Y_GOOD), ValueError, "`y`", r"\(100,\)", "sparse_categorical_crossentropy",
        model=model,
    )


def test_bad_non_integral_float_labels(capsys):
    y = Y_GOOD.astype(float)
    y[4] = 2.7
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, y), ValueError, "`y`", "2.7", "integer")


def test_integral_float_labels_are_accepted():
    model = _ready_model()
    model.fit(X_GOOD, Y_GOOD.astype(np.float64), epochs=1, verbose=0)  # 0., 1., 2., 3. work (Keras)


def test_bad_unknown_activation_at_construction():
    with pytest.raises(ValueError, match="Could not interpret activation function identifier: foo"):
        ln.Dense(4, activation="foo")


def test_bad_unknown_loss_at_compile():
    model = make_model()
    with pytest.raises(ValueError, match="Could not interpret loss identifier: foo"):
        model.compile(optimizer="adam", loss="foo")
    assert not model.compiled


def test_bad_unknown_optimizer_at_compile():
    model = make_model()
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: foo"):
        model.compile(optimizer="foo", loss="sparse_categorical_crossentropy")


def test_bad_compile_without_loss():
    model = make_model()
    with pytest.raises(ValueError, match="`loss` is required"):
        model.compile(optimizer="adam")


def test_bad_fit_before_compile(capsys):
    model = make_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=re.escape("You must call `compile()` before using the model.")):
        model.fit(X_GOOD, Y_GOOD)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert capsys.readouterr().out == ""


def test_bad_evaluate_before_compile(capsys):
    with pytest.raises(ValueError, match=re.escape("You must call `compile()` before using the model.")):
        make_model().evaluate(X_GOOD, Y_GOOD)
    assert capsys.readouterr().out == ""


def test_bad_predict_wrong_number_of_features(capsys):
    model = make_model()
    with pytest.raises(ValueError, match=r"`x` has 3 features per sample, but the model expects 2"):
        model.predict(np.ones((5, 3)))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, "32"])
def test_bad_batch_size(capsys, batch_size):
    def call(m):
        m.fit(X_GOOD, Y_GOOD, batch_size=batch_size)

    assert_rejected(capsys, call, ValueError, "`batch_size`", "batch_size=")


@pytest.mark.parametrize("epochs", [-1, 1.5, True, "3"])
def test_bad_epochs(capsys, epochs):
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, Y_GOOD, epochs=epochs), ValueError, "`epochs`", "epochs=")


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5, "0.2"])
def test_bad_validation_split(capsys, split):
    assert_rejected(
        capsys,
        lambda m: m.fit(X_GOOD, Y_GOOD, validation_split=split),
        ValueError,
        "`validation_split`",
        "validation_split=",
    )


def test_validation_split_too_small_to_split_is_keras_error(capsys):
    assert_rejected(
        capsys,
        lambda m: m.fit(X_GOOD[:3], Y_GOOD[:3], validation_split=0.9),
        ValueError,
        re.escape("Training data contains 3 samples, which is not sufficient to split it into a validation and"),
    )


@pytest.mark.parametrize("verbose", [3, -1, "yes", True, None])
def test_bad_verbose(capsys, verbose):
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, Y_GOOD, verbose=verbose), ValueError, "`verbose`", "verbose=")


def test_bad_validation_data_shape(capsys):
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, Y_GOOD, validation_data=(X_GOOD,)), ValueError, "`validation_data`")


def test_bad_callback_type(capsys):
    assert_rejected(capsys, lambda m: m.fit(X_GOOD, Y_GOOD, callbacks=[print]), TypeError, "`callbacks`")


def test_bad_duplicate_layer_names_is_keras_text():
    expected = (
        "All layers added to a Sequential model should have unique names. Name 'a' is already the name of a "
        "layer in this model. Update the `name` argument to pass a unique name."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        ln.Sequential([ln.Dense(3, name="a"), ln.Dense(3, name="a")])


# =========================================================================== progress output
BAR_LINE = re.compile(r"^\d+/\d+ ━+ \d+s \d+(us|ms|s)/step - loss: \d\.\d{4}$")


def test_verbose_1_in_a_pipe_prints_clean_epoch_lines(capsys):
    x, y = blobs()
    history = compiled().fit(x, y, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\b" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line, loss in zip((lines[1], lines[3]), history.history["loss"]):
        assert BAR_LINE.match(line), line
        assert line.startswith("4/4 " + "━" * 20 + " ")
        assert line.endswith(f"loss: {loss:.4f}")


def test_verbose_2_prints_one_plain_line_per_epoch(capsys):
    x, y = ln.datasets.load_seed_blobs()
    model = ln.Sequential([ln.Dense(25, activation="relu"), ln.Dense(4)], seed=0)
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line, loss in zip((lines[1], lines[3]), history.history["loss"]):
        assert re.match(r"^63/63 - \d+s - \d+(us|ms)/step - loss: \d\.\d{4}$", line), line
        assert line.endswith(f"loss: {loss:.4f}")


def test_single_epoch_prints_no_epoch_line(capsys):
    x, y = blobs()
    compiled().fit(x, y, epochs=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and BAR_LINE.match(lines[0])


def test_verbose_0_prints_nothing(capsys):
    x, y = blobs()
    model = compiled(metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.2)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_progress_line_shows_sorted_metrics_and_validation(capsys):
    x, y = blobs()
    history = compiled(metrics=["accuracy"]).fit(x, y, epochs=1, validation_split=0.2)
    line = capsys.readouterr().out.splitlines()[-1]
    h = {k: v[0] for k, v in history.history.items()}
    tail = (
        f" - accuracy: {h['accuracy']:.4f} - loss: {h['loss']:.4f}"
        f" - val_accuracy: {h['val_accuracy']:.4f} - val_loss: {h['val_loss']:.4f}"
    )
    assert line.startswith("3/3 ") and line.endswith(tail)


def test_user_callback_output_comes_before_the_progress_line(capsys):
    x, y = blobs()
    printer = LambdaCallback(on_epoch_end=lambda epoch, logs: print(f"user end {epoch}"))
    compiled().fit(x, y, epochs=1, callbacks=[printer])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "user end 0" and BAR_LINE.match(lines[1])


def test_model_is_set_on_callbacks_and_can_stop_training():
    x, y = blobs()

    class StopAfterFirst(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.seen_model = self.model
            self.model.stop_training = True

    cb = StopAfterFirst()
    model = compiled()
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[cb])
    assert cb.seen_model is model and history.epoch == [0]


def test_weights_live_in_one_flat_buffer_that_the_optimizer_updates_at_once():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.arange(40) % 3
    model = ln.Sequential([ln.Dense(5, activation="relu"), ln.Dense(3)], seed=0)
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X, y, epochs=1, verbose=0)
    weights = model.weights
    assert all(w.base is weights[0].base for w in weights)
    assert model.optimizer._flat_cache is not None  # the one-buffer update ran
    # set_weights writes into the same buffer (no rebinding).
    model.set_weights([np.zeros_like(w) for w in weights])
    assert all(w.base is weights[0].base for w in model.weights)
    assert not weights[0].base.any()
