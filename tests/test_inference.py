"""Tests for logitnet.inference, predict()'s transposed fast path.

Reference: a float64 forward pass written here (x @ W + b, then the
activation), and the plain layer-by-layer path (Sequential._forward).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax

import logitnet as ln
from logitnet import inference, ops

RNG = np.random.default_rng(0)
X = RNG.standard_normal((300, 5)) * 2


def _reference(model, x):
    h = np.asarray(x, np.float64)
    for layer in model.layers:
        if isinstance(layer, ln.Dropout):
            continue
        h = h @ layer.params["kernel"].astype(np.float64)
        if layer.use_bias:
            h = h + layer.params["bias"].astype(np.float64)
        name = layer.activation.name
        h = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "linear": lambda z: z, "sigmoid": expit,
             "softmax": lambda z: softmax(z, axis=1)}[name](h)
    return h


def _model(layers, dtype="float32"):
    model = ln.Sequential(layers, seed=1, dtype=dtype)
    model.build((None, 5))
    for layer in model.layers:  # non-zero biases, so that a bias left out would show
        if "bias" in layer.params:
            layer.params["bias"][...] = RNG.standard_normal(layer.params["bias"].shape)
    return model


@pytest.mark.parametrize("dtype,tol", [("float32", 2e-6), ("float64", 1e-13)])
@pytest.mark.parametrize(
    "make",
    [
        lambda: [ln.Dense(8, activation="relu"), ln.Dense(6, activation="tanh"), ln.Dense(3)],
        lambda: [ln.Dense(8, activation="relu"), ln.Dropout(0.5), ln.Dense(3, activation="softmax")],
        lambda: [ln.Dense(8, activation="relu", use_bias=False), ln.Dense(3, activation="sigmoid")],
        lambda: [ln.Dense(4)],
    ],
)
def test_the_fast_path_is_taken_and_matches_a_float64_forward(make, dtype, tol):
    model = _model(make(), dtype)
    assert model._inference_plan() is not None
    want = _reference(model, X)
    for got in (model.predict(X), model.predict(X, batch_size=64), model(X)):
        assert got.dtype == np.dtype(dtype) and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_logits_of_a_softmax_model_skip_the_activation():
    model = _model([ln.Dense(8, activation="relu"), ln.Dense(3, activation="softmax")])
    plan = inference.dense_plan(model.layers)
    z = inference.run_plan(plan, X.astype(np.float32), logits=True)
    np.testing.assert_allclose(softmax(z.astype(np.float64), axis=1), model.predict(X), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        lambda: [ln.Dense(8), ln.BatchNormalization(), ln.Dense(3)],
        lambda: [ln.Dense(8, activation="softmax"), ln.Dense(3)],  # a softmax over the features of a hidden layer
    ],
)
def test_other_models_take_the_plain_path(make):
    model = _model(make())
    assert model._inference_plan() is None
    np.testing.assert_array_equal(model.predict(X), model._forward(X.astype(np.float32), False, False))


def test_the_plan_follows_new_weights_and_new_layers():
    model = _model([ln.Dense(8, activation="relu"), ln.Dense(3)])
    before = model.predict(X)
    model.set_weights([w * 2 for w in model.get_weights()])
    np.testing.assert_allclose(model.predict(X), _reference(model, X), rtol=2e-6, atol=2e-6)
    assert not np.allclose(model.predict(X), before)
    model.add(ln.Dense(2))
    assert model.predict(X).shape == (300, 2)
    np.testing.assert_allclose(model.predict(X), _reference(model, X), rtol=2e-6, atol=2e-6)


def test_relu_in_place_matches_maximum_including_nan_and_signed_zero():
    x = np.array([[-1.5, 0.0, -0.0, 2.0, np.nan, -np.inf, np.inf]], dtype=np.float32)
    want = np.maximum(x, 0)
    got = ops.relu_(x.copy())
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    big = RNG.standard_normal(ops._ZEROS_MAX_ELEMENTS + 1).astype(np.float32)
    np.testing.assert_array_equal(ops.relu_(big.copy()), np.maximum(big, 0))


@pytest.mark.parametrize("copier", ["deepcopy", "pickle"])
def test_a_copied_model_predicts_with_its_own_weights(copier):
    import copy
    import pickle

    model = _model([ln.Dense(8, activation="relu"), ln.Dense(3)])
    model.predict(X)  # the plan is cached
    clone = copy.deepcopy(model) if copier == "deepcopy" else pickle.loads(pickle.dumps(model))
    clone.set_weights([w * 3 for w in clone.get_weights()])
    np.testing.assert_allclose(clone.predict(X), _reference(clone, X), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(model.predict(X), _reference(model, X), rtol=2e-6, atol=2e-6)
