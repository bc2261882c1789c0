"""How Sequential handles issue #9's pieces: Input, input_shape, weight penalties, trainable vs not.

References: Keras 3.15's behaviour as measured (``Input`` builds the model at
once and is not in ``model.layers``; the ``input_shape`` warning text; the
penalty joins the reported loss and ``evaluate``; frozen layers' penalties are
not counted), and hand-computed float64 losses and SGD steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from logitnet import utils
from logitnet.callbacks import LambdaCallback
from logitnet.layers import BatchNormalization, Dense, Dropout, Input
from logitnet.losses import SparseCategoricalCrossentropy
from logitnet.models import Sequential
from logitnet.optimizers import SGD

INPUT_SHAPE_WARNING = (
    "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential models, prefer using an "
    "`Input(shape)` object as the first layer in the model instead."
)


@pytest.fixture(autouse=True)
def fresh_names():
    utils.reset_names()
    yield


# ----------------------------------------------------------------------------- Input / input_shape
def test_input_builds_the_model_at_once_and_is_not_a_layer():
    model = Sequential([Input((2,)), Dense(3, activation="relu"), Dense(4)], seed=0)
    assert model.built and model.input_dim == 2
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert [w.shape for w in model.get_weights()] == [(2, 3), (3,), (3, 4), (4,)]


def test_input_gives_the_same_initial_weights_as_a_lazy_build():
    a = Sequential([Input((5,)), Dense(3), Dense(2)], seed=11)
    b = Sequential([Dense(3), Dense(2)], seed=11)
    b.build((None, 5))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_input_then_add_builds_when_the_first_layer_arrives():
    model = Sequential([Input(shape=(3,))])
    assert not model.built
    model.add(Dense(2))
    assert model.built and model.layers[0].params["kernel"].shape == (3, 2)


def test_input_must_come_first():
    with pytest.raises(ValueError, match="first element"):
        Sequential([Dense(2), Input((3,))])


@pytest.mark.parametrize("shape", [(0,), (28, 28), "2", (2.0,), (None,)])
def test_bad_input_shapes_are_explained(shape):
    with pytest.raises(ValueError, match=r"`shape`.*\(n_features,\)"):
        Input(shape)


def test_input_shape_argument_warns_like_keras_and_builds():
    with pytest.warns(UserWarning) as record:
        model = Sequential([Dense(4, input_shape=(2,)), Dense(3)])
    assert [str(w.message) for w in record] == [INPUT_SHAPE_WARNING]
    assert model.built and model.count_params() == 12 + 15


def test_input_model_trains_like_the_lazily_built_one():
    x = np.random.default_rng(0).standard_normal((64, 2))
    y = (x[:, 0] > 0).astype(int)
    histories = []
    for layers in ([Input((2,)), Dense(4, activation="relu"), Dense(2)], [Dense(4, activation="relu"), Dense(2)]):
        utils.reset_names()
        model = Sequential(layers, seed=3)
        model.compile("adam", SparseCategoricalCrossentropy(from_logits=True))
        histories.append(model.fit(x, y, epochs=2, verbose=0).history)
    assert histories[0] == histories[1]


# ----------------------------------------------------------------------------- penalties
def _logsumexp_loss(z, y):
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def _regularized_model(kernel_regularizer, bias_regularizer=None, dtype="float64"):
    model = Sequential([Dense(3, kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer)],
                       seed=0, dtype=dtype)
    model.build((None, 4))
    rng = np.random.default_rng(1)
    model.set_weights([rng.standard_normal((4, 3)), rng.standard_normal(3)])
    return model


def _data():
    rng = np.random.default_rng(2)
    return rng.standard_normal((10, 4)), rng.integers(0, 3, 10)


F = float(np.float32(0.01))  # Keras keeps the factor as a float32 number, also for float64 weights


@pytest.mark.parametrize(
    "spec,penalty,gradient",
    [
        ("l2", lambda w: F * np.sum(w**2), lambda w: 2 * F * w),
        ("l1", lambda w: F * np.sum(np.abs(w)), lambda w: F * np.sign(w)),
    ],
)
def test_penalty_joins_the_loss_and_its_gradient_the_step(spec, penalty, gradient):
    from logitnet import regularizers

    reg = regularizers.get(spec)
    x, y = _data()
    model = _regularized_model(reg)
    w0, b0 = (w.copy() for w in model.get_weights())
    lr = 0.1
    model.compile(SGD(learning_rate=lr), SparseCategoricalCrossentropy(from_logits=True))
    batch_losses = []
    model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0,
              callbacks=[LambdaCallback(on_batch_end=lambda b, logs: batch_losses.append(logs["loss"]))])
    z = x @ w0 + b0
    assert batch_losses[0] == pytest.approx(_logsumexp_loss(z, y) + penalty(w0), rel=1e-12)
    # One SGD step: w <- w - lr * (data gradient + penalty gradient), in float64.
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(10), y] -= 1.0
    p /= 10
    lr = float(np.float32(lr))  # Keras stores the learning rate as a float32 number
    np.testing.assert_allclose(model.get_weights()[0], w0 - lr * (x.T @ p + gradient(w0)), rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[1], b0 - lr * p.sum(0), rtol=1e-12)
    # evaluate reports the penalty too (Keras), at the current weights.
    w1, b1 = model.get_weights()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(_logsumexp_loss(x @ w1 + b1, y) + penalty(w1), rel=1e-12)
    assert model.losses == [pytest.approx(penalty(w1), rel=1e-12)]


def test_bias_regularizer_and_frozen_layers():
    from logitnet import regularizers

    x, y = _data()
    model = _regularized_model(regularizers.l2(0.5), bias_regularizer=regularizers.l1(0.25))
    w, b = model.get_weights()
    assert model.losses == [pytest.approx(0.5 * np.sum(w**2)), pytest.approx(0.25 * np.sum(np.abs(b)))]
    model.layers[0].trainable = False  # Keras counts the penalties of trainable weights only
    assert model.losses == []
    model.compile("sgd", SparseCategoricalCrossentropy(from_logits=True))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(_logsumexp_loss(x @ w + b, y), rel=1e-12)


def test_regularizer_names_and_bad_values():
    from logitnet import regularizers

    layer = Dense(2, kernel_regularizer="l2")
    assert isinstance(layer.kernel_regularizer, regularizers.L2)
    with pytest.raises(ValueError, match="regularizer"):
        Dense(2, kernel_regularizer="l3")


# ----------------------------------------------------------------------------- trainable weights
def test_trainable_and_non_trainable_weights():
    model = Sequential([Input((2,)), Dense(4), BatchNormalization(), Dropout(0.5), Dense(3)])
    assert [w.shape for w in model.trainable_weights] == [(2, 4), (4,), (4,), (4,), (4, 3), (3,)]
    assert [w.shape for w in model.non_trainable_weights] == [(4,), (4,)]
    model.layers[0].trainable = False
    assert [w.shape for w in model.non_trainable_weights] == [(2, 4), (4,), (4,), (4,)]
