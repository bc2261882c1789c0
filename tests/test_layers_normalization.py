"""Tests for logitnet.layers.BatchNormalization.

References: float64 formulas written here (the batch statistics, Keras's
moving-average rule ``moving * momentum + batch * (1 - momentum)``), central
finite differences of the layer's own forward pass for the gradients, and
Keras's parameter counts as printed by Keras 3.15's ``summary()`` for the
same model (Dense(4) on 2 features, BatchNormalization, Dropout, Dense(3):
43 total, 35 trainable, 8 non-trainable).
"""

from __future__ import annotations

import numpy as np
import pytest

from logitnet import utils
from logitnet.layers import BatchNormalization, Dense, Dropout
from logitnet.models import Sequential
from _cases import central_diff


@pytest.fixture(autouse=True)
def fresh_names():
    utils.reset_names()
    yield


def _built(n_features=3, dtype="float64", **kwargs):
    layer = BatchNormalization(**kwargs)
    layer.build((None, n_features), rng=np.random.default_rng(0), dtype=dtype)
    return layer


def _random_affine(layer, rng):
    if layer.scale:
        layer.params["gamma"][...] = rng.uniform(0.5, 2.0, layer.params["gamma"].shape)
    if layer.center:
        layer.params["beta"][...] = rng.standard_normal(layer.params["beta"].shape)


# ----------------------------------------------------------------------------- forward
def test_weights_are_created_in_keras_order_with_keras_initial_values():
    layer = _built(4, dtype="float32")
    assert list(layer.params) == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert list(layer.grads) == ["gamma", "beta"]
    for key, value in zip(layer.params, (1.0, 0.0, 0.0, 1.0)):
        assert layer.params[key].shape == (4,) and layer.params[key].dtype == np.float32
        assert np.all(layer.params[key] == value)


def test_center_and_scale_false_drop_beta_and_gamma():
    assert list(_built(center=False).params) == ["gamma", "moving_mean", "moving_variance"]
    assert list(_built(scale=False).params) == ["beta", "moving_mean", "moving_variance"]
    assert list(_built(center=False, scale=False).grads) == []


def test_training_output_uses_batch_statistics_and_updates_the_moving_ones():
    rng = np.random.default_rng(1)
    layer = _built(3, momentum=0.9, epsilon=1e-2)
    _random_affine(layer, rng)
    layer.params["moving_mean"][...] = [0.5, -1.0, 2.0]
    layer.params["moving_variance"][...] = [1.5, 0.25, 4.0]
    old_mean, old_var = layer.params["moving_mean"].copy(), layer.params["moving_variance"].copy()
    x = rng.standard_normal((8, 3)) * [1.0, 3.0, 0.1] + [5.0, -2.0, 0.0]
    out = layer.forward(x, training=True)
    mean, var = x.mean(axis=0), ((x - x.mean(axis=0)) ** 2).mean(axis=0)  # biased variance, as Keras
    expected = layer.params["gamma"] * (x - mean) / np.sqrt(var + 1e-2) + layer.params["beta"]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.params["moving_mean"], old_mean * 0.9 + mean * 0.1, rtol=1e-14)
    np.testing.assert_allclose(layer.params["moving_variance"], old_var * 0.9 + var * 0.1, rtol=1e-14)


def test_inference_uses_moving_statistics_and_writes_nothing():
    rng = np.random.default_rng(2)
    layer = _built(3)
    _random_affine(layer, rng)
    layer.params["moving_mean"][...] = [1.0, 2.0, 3.0]
    layer.params["moving_variance"][...] = [4.0, 0.5, 2.0]
    before = {k: v.copy() for k, v in layer.params.items()}
    x = rng.standard_normal((5, 3))
    out = layer.forward(x, training=False)
    expected = layer.params["gamma"] * (x - [1.0, 2.0, 3.0]) / np.sqrt(np.array([4.0, 0.5, 2.0]) + 1e-3)
    np.testing.assert_allclose(out, expected + layer.params["beta"], rtol=1e-12)
    for k in before:
        np.testing.assert_array_equal(layer.params[k], before[k])
    assert layer._cache is None


def test_float32_statistics_stay_accurate_when_the_mean_dwarfs_the_spread():
    # E[x^2] - E[x]^2 in float32 loses every digit here (1e4^2 = 1e8 against a variance of 1e-2);
    # the two-pass variance keeps the float64 answer to float32 precision.
    rng = np.random.default_rng(3)
    x64 = 1e4 + 0.1 * rng.standard_normal((256, 2))
    layer = _built(2, dtype="float32", epsilon=1e-6)
    out = layer.forward(x64.astype(np.float32), training=True)
    x32 = x64.astype(np.float32).astype(np.float64)
    expected = (x32 - x32.mean(0)) / np.sqrt(x32.var(0) + 1e-6)
    np.testing.assert_allclose(out, expected, atol=2e-3)
    assert np.all(np.isfinite(out)) and abs(out.std() - 1.0) < 1e-2


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False), (False, False)])
def test_training_gradients_match_finite_differences(center, scale):
    rng = np.random.default_rng(4)
    layer = _built(3, center=center, scale=scale, epsilon=1e-3)
    _random_affine(layer, rng)
    x = rng.standard_normal((7, 3)) * [1.0, 2.0, 0.5]
    weights = rng.standard_normal((7, 3))

    def f():
        return float(np.sum(layer.forward(x, training=True) * weights))

    f()
    grad_x = layer.backward(weights)
    np.testing.assert_allclose(grad_x, central_diff(f, x, h=1e-6), rtol=1e-6, atol=1e-8)
    for key in layer.grads:
        f()
        layer.backward(weights)
        analytic = layer.grads[key].copy()
        np.testing.assert_allclose(analytic, central_diff(f, layer.params[key], h=1e-6), rtol=1e-6, atol=1e-8)


def test_frozen_layer_trains_with_moving_statistics_and_passes_exact_gradients():
    rng = np.random.default_rng(5)
    layer = _built(3, trainable=False)
    _random_affine(layer, rng)
    layer.params["moving_mean"][...] = [0.2, -0.3, 1.0]
    layer.params["moving_variance"][...] = [2.0, 0.7, 1.3]
    before = layer.params["moving_mean"].copy()
    x = rng.standard_normal((6, 3))
    weights = rng.standard_normal((6, 3))

    def f():
        return float(np.sum(layer.forward(x, training=True) * weights))

    np.testing.assert_allclose(layer.forward(x, training=True), layer.forward(x, training=False), rtol=1e-15)
    f()
    np.testing.assert_allclose(layer.backward(weights), central_diff(f, x, h=1e-6), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(layer.params["moving_mean"], before)


# ----------------------------------------------------------------------------- in a model
def test_summary_counts_moving_statistics_as_non_trainable_like_keras():
    model = Sequential([Dense(4), BatchNormalization(), Dropout(0.5), Dense(3)], seed=0)
    model.build((None, 2))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 43 (172.00 B)" in text
    assert "Trainable params: 35 (140.00 B)" in text
    assert "Non-trainable params: 8 (32.00 B)" in text
    assert [w.shape for w in model.non_trainable_weights] == [(4,), (4,)]
    assert len(model.trainable_weights) == 6


def test_fit_trains_gamma_and_beta_and_tracks_the_data_statistics():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((512, 2)) * [3.0, 0.5] + [10.0, -4.0]
    y = (x[:, 0] - 10.0 > 0).astype(int)
    model = Sequential([BatchNormalization(momentum=0.9), Dense(2)], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)
    bn = model.layers[0]
    assert not np.allclose(bn.params["gamma"], 1.0) and not np.allclose(bn.params["beta"], 0.0)  # trained
    np.testing.assert_allclose(bn.params["moving_mean"], x.mean(0), rtol=0.02, atol=0.05)
    np.testing.assert_allclose(bn.params["moving_variance"], x.var(0), rtol=0.15)
    # predict() uses the moving statistics: the same rows give the same outputs in any batch.
    np.testing.assert_array_equal(model.predict(x[:10]), model.predict(x)[:10])


def test_moving_statistics_live_in_a_buffer_the_epoch_guard_copies():
    # A diverged epoch is rolled back from a copy of these buffers (logitnet.training.StateGuard).
    from logitnet.training import _buffers

    model = Sequential([Dense(3), BatchNormalization(), Dense(2)], seed=0)
    model.build((None, 2))
    bases = _buffers(model.weights)
    assert len(bases) == 2  # trainable weights, and the moving statistics
    for key in ("moving_mean", "moving_variance"):
        assert any(model.layers[1].params[key].base is b for b in bases)


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"axis": 0}, "`axis`"),
        ({"momentum": 1.5}, "`momentum`"),
        ({"epsilon": 0.0}, "`epsilon`"),
        ({"center": "yes"}, "`center`"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        BatchNormalization(**kwargs)
