"""Tests for logitnet.dense_chain: fit's step for plain Dense stacks, with biases folded into the products.

Reference: the layer-by-layer step (Sequential._train_step with the chain
switched off), itself checked against finite differences in test_layers.py;
in float64 the two must agree to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

import logitnet as ln
from logitnet.dense_chain import DenseChain

RNG = np.random.default_rng(0)
X = RNG.standard_normal((70, 3))
Y = RNG.integers(0, 4, 70)


def _pair(layers_fn, optimizer_fn, loss=None, dtype="float64"):
    models = []
    for _ in range(2):
        model = ln.Sequential(layers_fn(), seed=3, dtype=dtype)
        model.compile(optimizer_fn(), loss or ln.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.build((None, 3))
        for layer in model.layers:  # non-zero biases (copied to the second model below)
            if "bias" in layer.params:
                layer.params["bias"][...] = RNG.standard_normal(layer.params["bias"].shape)
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    return models


def _fit_both(layers_fn, optimizer_fn, loss=None, sample_weight=None, dtype="float64", y=Y):
    a, b = _pair(layers_fn, optimizer_fn, loss, dtype)
    ha = a.fit(X, y, batch_size=16, epochs=3, verbose=0, sample_weight=sample_weight).history
    assert a._dense_chain is not None  # the chain ran
    original = DenseChain.build
    try:
        DenseChain.build = classmethod(lambda cls, model, fused: None)
        hb = b.fit(X, y, batch_size=16, epochs=3, verbose=0, sample_weight=sample_weight).history
    finally:
        DenseChain.build = original
    assert b._dense_chain is None
    return a, b, ha, hb


@pytest.mark.parametrize(
    "layers_fn,optimizer_fn",
    [
        (lambda: [ln.Dense(6, activation="relu"), ln.Dense(5, activation="relu"), ln.Dense(4)],
         lambda: ln.optimizers.Adam(0.01)),
        (lambda: [ln.Dense(6), ln.Dropout(0.0), ln.Dense(4, activation="softmax")],
         lambda: ln.optimizers.SGD(0.1, momentum=0.9)),
        (lambda: [ln.Dense(6, activation="relu", kernel_regularizer=ln.regularizers.l2(0.01)),
                  ln.Dense(4, activation="sigmoid", bias_regularizer=ln.regularizers.l1(0.01))],
         lambda: ln.optimizers.RMSprop(0.01)),
        (lambda: [ln.Dense(4)], lambda: ln.optimizers.Adam(0.01)),
    ],
)
@pytest.mark.parametrize("weighted", [True, False])  # without weights the loss runs in the columns kernel
def test_the_chain_trains_like_the_layer_by_layer_step(layers_fn, optimizer_fn, weighted):
    sw = RNG.uniform(0.5, 2.0, len(X)) if weighted else None
    a, b, ha, hb = _fit_both(layers_fn, optimizer_fn, sample_weight=sw)
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-12)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-10, atol=1e-12)  # 9 steps; 70 rows leave a partial batch
    assert a.optimizer.iterations == b.optimizer.iterations == 15


def test_the_chain_with_a_summed_loss():
    loss = ln.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    a, b, ha, hb = _fit_both(lambda: [ln.Dense(6, activation="relu"), ln.Dense(4)], lambda: ln.optimizers.SGD(0.01),
                             loss=loss)
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-12)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-10, atol=1e-12)


def test_the_chain_with_a_categorical_loss_and_float32():
    y = np.eye(4)[Y]
    a, b, ha, hb = _fit_both(lambda: [ln.Dense(6, activation="relu"), ln.Dense(4)], lambda: ln.optimizers.Adam(0.01),
                             loss=ln.losses.CategoricalCrossentropy(from_logits=True), dtype="float32", y=y)
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-5)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-5)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "layers,qualifies",
    [
        ([ln.Dense(4, activation="relu"), ln.Dense(3)], False),  # a linear output read as probabilities
        ([ln.Dense(4, activation="tanh"), ln.Dense(3)], False),  # only relu and linear hidden layers
        ([ln.Dense(4, activation=ln.activations.get({"name": "relu", "max_value": 6.0})), ln.Dense(3)], False),
        ([ln.Dense(4, use_bias=False), ln.Dense(3)], False),
        ([ln.Dense(4), ln.Dropout(0.5), ln.Dense(3)], False),
        ([ln.Dense(4), ln.BatchNormalization(), ln.Dense(3)], False),
        ([ln.Dense(4), ln.Dense(3, activation="softmax")], True),
        ([ln.Dense(4), ln.Dense(3, activation="relu")], False),  # an unfused output activation
    ],
)
def test_which_models_qualify(layers, qualifies):
    model = ln.Sequential(layers, seed=0)
    model.compile("adam", ln.losses.SparseCategoricalCrossentropy(from_logits=False))
    model.build((None, 3))
    assert (DenseChain.build(model, model._fused_output()) is not None) == qualifies


def test_a_linear_output_qualifies_with_logits():
    model = ln.Sequential([ln.Dense(4, activation="relu"), ln.Dense(3)], seed=0)
    model.compile("adam", ln.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.build((None, 3))
    assert DenseChain.build(model, model._fused_output()) is not None


def test_a_frozen_layer_leaves_the_chain_out():
    model = ln.Sequential([ln.Dense(4, activation="relu"), ln.Dense(3)], seed=0)
    model.compile("adam", ln.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.layers[0].trainable = False
    model.fit(X, Y % 3, epochs=1, verbose=0)
    assert model._dense_chain is None


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_non_finite_loss_is_not_applied():
    model = ln.Sequential([ln.Dense(4, activation="relu"), ln.Dense(4)], seed=0, dtype="float64")
    model.compile(ln.optimizers.SGD(0.1), ln.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.build((None, 3))
    chain = DenseChain.build(model, False)
    model._penalties = []
    before = model.get_weights()
    x = X[:8].copy()
    x[0, 0] = np.inf
    loss, _ = chain.step(x, Y[:8], None, model.optimizer.stepper(*model._trainable_pairs()))
    assert not np.isfinite(loss) and model.stop_training
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
