"""Tests for logitnet.layers.Dropout.

References: the identity (rate 0, inference), binomial statistics for the
masks (mean and zero fraction within 5 standard errors), the chain rule for
the backward pass, and bit-for-bit equality between seeded runs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from logitnet import utils
from logitnet.datasets import make_blobs
from logitnet.layers import Dense, Dropout
from logitnet.losses import SparseCategoricalCrossentropy
from logitnet.models import Sequential


@pytest.fixture(autouse=True)
def fresh_names():
    utils.reset_names()
    yield


def _built(rate, seed=None, noise_shape=None, rng_seed=0):
    layer = Dropout(rate, seed=seed, noise_shape=noise_shape)
    layer.build((None, 50), rng=np.random.default_rng(rng_seed))
    return layer


def _train(layers, seed=0, epochs=3):
    x, y = make_blobs(300, centers=3, random_state=1)
    model = Sequential(layers, seed=seed)
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model, history.history


def test_inference_is_the_identity():
    layer = _built(0.5)
    x = np.random.default_rng(0).standard_normal((20, 50)).astype(np.float32)
    assert layer.forward(x, training=False) is x
    assert layer(x) is not None and np.array_equal(layer(x), x)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_training_masks_preserve_the_mean_and_drop_the_rate(rate):
    layer = _built(rate)
    x = np.ones((4000, 50), dtype=np.float32)
    out = layer.forward(x, training=True)
    n = out.size
    zero_fraction = np.mean(out == 0.0)
    assert abs(zero_fraction - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    kept = out[out != 0.0]
    np.testing.assert_allclose(kept, np.float32(1.0 / (1.0 - rate)), rtol=1e-6)
    # Each output is (1/(1-rate)) * Bernoulli(1-rate): mean 1, variance rate/(1-rate).
    assert abs(out.mean() - 1.0) < 5 * np.sqrt(rate / (1 - rate) / n)


def test_backward_applies_the_same_mask():
    layer = _built(0.3)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 50))
    out = layer.forward(x, training=True)
    g = rng.standard_normal((30, 50))
    # out = x * m is linear in x, so d sum(out * g) / dx = g * m with m = out / x.
    np.testing.assert_allclose(layer.backward(g), g * (out / x), rtol=1e-12)


def test_noise_shape_drops_whole_rows():
    layer = _built(0.5, noise_shape=(None, 1))
    out = layer.forward(np.ones((200, 50), dtype=np.float32), training=True)
    row_zero = np.all(out == 0.0, axis=1)
    row_kept = np.all(out == 2.0, axis=1)
    assert np.all(row_zero | row_kept) and 0 < row_zero.sum() < 200


def test_rate_zero_trains_exactly_like_no_dropout():
    plain, h_plain = _train([Dense(16, activation="relu"), Dense(3)])
    utils.reset_names()
    dropped, h_dropped = _train([Dense(16, activation="relu"), Dropout(0.0), Dense(3)])
    assert h_plain == h_dropped
    for a, b in zip(plain.get_weights(), dropped.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_same_seed_gives_bit_identical_training_and_another_seed_differs():
    runs = []
    for seed in (7, 7, 8):
        utils.reset_names()
        model, history = _train([Dense(16, activation="relu"), Dropout(0.4), Dense(3)], seed=seed)
        runs.append((model.get_weights(), history))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    assert runs[0][1] != runs[2][1]


def test_dropout_changes_training_but_predict_is_deterministic():
    model, history = _train([Dense(16, activation="relu"), Dropout(0.4), Dense(3)])
    utils.reset_names()
    _, plain = _train([Dense(16, activation="relu"), Dense(3)])
    assert history["loss"] != plain["loss"]
    x, _ = make_blobs(50, centers=3, random_state=2)
    np.testing.assert_array_equal(model.predict(x), model.predict(x))
    np.testing.assert_array_equal(model(x, training=False), model.predict(x))
    assert not np.array_equal(model(x, training=True), model(x, training=True))


def test_own_seed_leaves_the_model_generator_alone():
    # With seed=, the masks come from the layer's own generator: the model's shuffles
    # and initial weights are those of the same model without dropout (rate>0 still changes training).
    a = Dropout(0.5, seed=3)
    a.build((None, 4), rng=np.random.default_rng(0))
    b = Dropout(0.5, seed=3)
    b.build((None, 4), rng=np.random.default_rng(99))
    x = np.ones((10, 4))
    np.testing.assert_array_equal(a.forward(x, training=True), b.forward(x, training=True))


@pytest.mark.parametrize("rate", [1.0, -0.1, "0.5", None, float("nan")])
def test_bad_rate_names_the_argument(rate):
    with pytest.raises(ValueError, match="`rate`") as info:
        Dropout(rate)
    assert repr(rate) in str(info.value)


def test_bad_noise_shape_and_seed():
    with pytest.raises(ValueError, match="`noise_shape`"):
        Dropout(0.5, noise_shape=(2,))
    with pytest.raises(ValueError, match="`seed`"):
        Dropout(0.5, seed=-1)


def test_config_round_trip():
    layer = Dropout(0.25, noise_shape=(None, 1), seed=5, name="drop")
    config = layer.get_config()
    assert config == {"name": "drop", "trainable": True, "rate": 0.25, "seed": 5, "noise_shape": [None, 1]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Dropout.from_config(config).get_config() == config
