"""Tests for logitnet.layers (Dense) and the gradients a Sequential model trains with.

References are independent of the code under test: Keras's measured texts and
parameter counts (keras-parity.md §1), float64 formulas written here with
NumPy/SciPy, and central finite differences of those formulas.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import scipy.special as sp

from logitnet import activations, utils
from logitnet.exceptions import NotBuiltError
from logitnet.layers import Dense, Layer
from logitnet.losses import CategoricalCrossentropy, SparseCategoricalCrossentropy
from logitnet.models import Sequential
from logitnet.optimizers import SGD
from _cases import central_diff

SELU_ALPHA = 1.6732632423543772848170429916717  # Klambauer et al. (2017)
SELU_SCALE = 1.0507009873554804934193349852946


@pytest.fixture(autouse=True)
def fresh_names():
    utils.reset_names()
    yield


# ----------------------------------------------------------------------------- float64 references
def _softplus(z):
    return np.logaddexp(0.0, z)


REFERENCE = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": sp.expit,
    "softmax": lambda z: sp.softmax(z, axis=1),
    "log_softmax": lambda z: sp.log_softmax(z, axis=1),
    "tanh": np.tanh,
    "softplus": _softplus,
    "softsign": lambda z: z / (1.0 + np.abs(z)),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "relu6": lambda z: np.clip(z, 0.0, 6.0),
    "gelu": lambda z: 0.5 * z * (1.0 + sp.erf(z / np.sqrt(2.0))),
    "silu": lambda z: z * sp.expit(z),
    "swish": lambda z: z * sp.expit(z),
    "hard_sigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0),
    "hard_silu": lambda z: z * np.clip(z / 6.0 + 0.5, 0.0, 1.0),
    "hard_swish": lambda z: z * np.clip(z / 6.0 + 0.5, 0.0, 1.0),
    "exponential": np.exp,
    "mish": lambda z: z * np.tanh(_softplus(z)),
    "log_sigmoid": sp.log_expit,
}
# Points where the activation is not differentiable (or its derivative jumps).
KINKS = {
    "relu": (0.0,),
    "leaky_relu": (0.0,),
    "elu": (0.0,),
    "selu": (0.0,),
    "relu6": (0.0, 6.0),
    "hard_sigmoid": (-3.0, 3.0),
    "hard_silu": (-3.0, 3.0),
    "hard_swish": (-3.0, 3.0),
}
_API_NAMES = {"Activation", "get", "serialize", "deserialize"}
ACTIVATION_NAMES = sorted(set(activations.__all__) - _API_NAMES)


def test_reference_covers_every_activation_name():
    assert set(ACTIVATION_NAMES) == set(REFERENCE)


def _build(layer: Dense, n_in: int, dtype="float64", seed: int = 0) -> Dense:
    layer.build((None, n_in), rng=np.random.default_rng(seed), dtype=dtype)
    return layer


def _away_from_kinks(name, rng, n=6, n_in=3, units=4, margin=1e-3):
    """Float64 x, kernel, bias whose pre-activations avoid ``name``'s kinks and cover every regime."""
    for _ in range(100):
        x = rng.standard_normal((n, n_in))
        w = 2.0 * rng.standard_normal((n_in, units))
        b = 1.5 * rng.standard_normal(units)
        z = x @ w + b
        if all(np.min(np.abs(z - k)) > margin for k in KINKS.get(name, ())):
            return x, w, b
    raise AssertionError("could not draw pre-activations away from the kinks")


def _assert_grad_close(analytic, numeric, rtol=1e-6):
    scale = max(1.0, float(np.max(np.abs(numeric))))
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=1e-8 * scale)


# ----------------------------------------------------------------------------- construction
@pytest.mark.parametrize("units", [0, -1, 2.5, True, "3", None])
def test_invalid_units_raise_keras_message(units):
    with pytest.raises(ValueError) as info:
        Dense(units)
    assert str(info.value) == (
        f"Received an invalid value for `units`, expected a positive integer. Received: units={units!r}"
    )


def test_units_zero_message_matches_keras_exactly():
    with pytest.raises(ValueError, match=r"^Received an invalid value for `units`, expected a positive integer\. "
                       r"Received: units=0$"):
        Dense(0)


def test_numpy_integer_units_accepted():
    assert Dense(np.int64(3)).units == 3


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError) as info:
        Dense(3, activation="foo")
    message = str(info.value)
    assert message.startswith("Could not interpret activation function identifier: foo")
    for name in ("relu", "softmax", "sigmoid", "tanh", "linear", "gelu"):
        assert name in message


def test_failed_construction_does_not_consume_a_name():
    with pytest.raises(ValueError):
        Dense(0)
    assert Dense(2).name == "dense"


@pytest.mark.parametrize("name", ["", 3])
def test_invalid_name_raises(name):
    with pytest.raises(ValueError, match="`name`"):
        Dense(2, name=name)


def test_activation_none_is_linear():
    layer = Dense(2)
    assert layer.activation.__name__ == "linear"
    assert layer.get_config()["activation"] == "linear"


# ----------------------------------------------------------------------------- names
def test_auto_names_follow_keras_counter():
    assert Dense(2).name == "dense"
    assert Dense(2).name == "dense_1"
    assert Dense(2).name == "dense_2"


def test_explicit_names_do_not_consume_the_counter():
    # keras-parity §1: [layer1, layer2, <auto>] gives layer1, layer2, dense in a fresh process.
    names = [Dense(25, name="layer1").name, Dense(15, name="layer2").name, Dense(4).name]
    assert names == ["layer1", "layer2", "dense"]
    assert Dense(4).name == "dense_1"


def test_layer_and_model_counters_are_independent():
    Dense(2)
    assert Sequential().name == "sequential"
    assert Dense(2).name == "dense_1"
    assert Sequential().name == "sequential_1"


# ----------------------------------------------------------------------------- lazy build
def test_lazy_build_state_and_count_params_error():
    layer = Dense(4)
    assert layer.built is False
    assert layer.weights == []
    assert layer.params == {}
    with pytest.raises(ValueError) as info:  # NotBuiltError subclasses ValueError
        layer.count_params()
    assert isinstance(info.value, NotBuiltError)
    assert str(info.value) == (
        "You tried to call `count_params` on layer 'dense', but the layer isn't built. "
        "You can build it manually via: `layer.build(input_shape)`."
    )


@pytest.mark.parametrize("n_in, units, expected", [(2, 25, 75), (25, 15, 390), (15, 4, 64)])
def test_shapes_and_param_count(n_in, units, expected):
    layer = _build(Dense(units), n_in, dtype="float32")
    assert layer.built is True
    assert layer.input_dim == n_in
    assert layer.params["kernel"].shape == (n_in, units)
    assert layer.params["bias"].shape == (units,)
    assert [w.shape for w in layer.weights] == [(n_in, units), (units,)]  # Keras order: kernel, bias
    assert layer.count_params() == expected
    assert all(w.dtype == np.float32 for w in layer.weights)
    assert layer.grads["kernel"].shape == (n_in, units) and layer.grads["bias"].shape == (units,)
    assert layer.compute_output_shape((None, n_in)) == (None, units)


def test_default_initializers_glorot_kernel_zero_bias():
    layer = _build(Dense(30), 20)
    limit = np.sqrt(6.0 / (20 + 30))
    assert np.all(np.abs(layer.params["kernel"]) <= limit)
    assert np.std(layer.params["kernel"]) > 0.3 * limit
    np.testing.assert_array_equal(layer.params["bias"], np.zeros(30))


def test_workload_param_total_is_529():
    model = Sequential([Dense(25, "relu"), Dense(15, "relu"), Dense(4)], seed=0)
    model.build((None, 2))
    assert [layer.count_params() for layer in model.layers] == [75, 390, 64]
    assert model.count_params() == 529


# ----------------------------------------------------------------------------- forward
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_forward_matches_float64_reference(name):
    rng = np.random.default_rng(1)
    layer = _build(Dense(4, activation=name), 3, seed=2)
    x = rng.standard_normal((6, 3))
    w, b = layer.params["kernel"], layer.params["bias"]
    b[:] = rng.standard_normal(4)  # non-zero bias, so that adding it is tested
    z = x @ w + b
    np.testing.assert_allclose(layer.forward(x), REFERENCE[name](z), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.forward(x, apply_activation=False), z, rtol=1e-12, atol=1e-14)


def test_forward_float32_layer():
    rng = np.random.default_rng(3)
    layer = _build(Dense(5, activation="tanh"), 3, dtype="float32")
    layer.params["bias"][:] = rng.standard_normal(5)
    x = rng.standard_normal((7, 3)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    ref = np.tanh(x.astype(np.float64) @ layer.params["kernel"].astype(np.float64) + layer.params["bias"])
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_forward_does_not_modify_input():
    layer = _build(Dense(3, activation="relu"), 2)
    x = np.array([[1.0, -2.0], [0.5, 0.25]])
    before = x.copy()
    layer.forward(x, training=True)
    layer.forward(x)
    np.testing.assert_array_equal(x, before)


def test_use_bias_false():
    layer = _build(Dense(3, activation="sigmoid", use_bias=False), 4)
    assert list(layer.params) == ["kernel"]
    assert len(layer.weights) == 1
    assert layer.count_params() == 12
    assert layer.get_config()["use_bias"] is False
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_allclose(layer.forward(x), sp.expit(x @ layer.params["kernel"]), rtol=1e-12)


def test_use_bias_false_gradient():
    rng = np.random.default_rng(4)
    layer = _build(Dense(3, activation="tanh", use_bias=False), 4)
    x = rng.standard_normal((5, 4))
    g = rng.standard_normal((5, 3))
    w = layer.params["kernel"]
    layer.forward(x, training=True)
    dx = layer.backward(g.copy())
    assert list(layer.grads) == ["kernel"]

    def f():
        return float(np.sum(g * np.tanh(x @ w)))

    _assert_grad_close(layer.grads["kernel"], central_diff(f, w))
    _assert_grad_close(dx, central_diff(f, x))


# ----------------------------------------------------------------------------- __call__
def test_call_builds_from_first_input():
    layer = Dense(3)
    out = layer([[1, 2], [3, 4], [5, 6]])  # ints in a list: converted to float32 like Keras
    assert layer.built and layer.input_dim == 2
    assert layer.params["kernel"].shape == (2, 3)
    assert out.shape == (3, 3) and out.dtype == np.float32
    x = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float64)
    np.testing.assert_allclose(out, x @ layer.params["kernel"] + layer.params["bias"], rtol=1e-6, atol=1e-6)


def test_call_feature_count_mismatch_names_layer_and_shapes():
    layer = Dense(3, name="d")
    layer(np.ones((2, 2)))
    with pytest.raises(ValueError) as info:
        layer(np.ones((3, 3)))
    message = str(info.value)
    assert "'d'" in message
    assert "expected axis -1 of input shape to have value 2" in message
    assert "(3, 3)" in message


def test_call_rejects_1d_input_with_hint():
    layer = Dense(3)
    with pytest.raises(ValueError) as info:
        layer(np.ones(4))
    message = str(info.value)
    assert "2-D" in message and "ndim=1" in message and "(4,)" in message
    assert "reshape" in message
    assert layer.built is False


def test_call_keeps_built_dtype():
    layer = _build(Dense(2), 3, dtype="float64")
    assert layer([[1.0, 2.0, 3.0]]).dtype == np.float64


# ----------------------------------------------------------------------------- config
def test_get_config_contents_and_round_trip():
    layer = Dense(7, activation="relu", use_bias=False, kernel_initializer="he_normal", name="hidden")
    config = layer.get_config()
    assert config == {
        "name": "hidden",
        "trainable": True,
        "units": 7,
        "activation": "relu",
        "use_bias": False,
        "kernel_initializer": "he_normal",
        "bias_initializer": "zeros",
        "kernel_regularizer": None,
        "bias_regularizer": None,
    }
    clone = Dense.from_config(config)
    assert clone.get_config() == config
    assert clone.built is False


def test_get_config_activation_with_arguments():
    layer = Dense(2, activation=activations.get({"name": "relu", "max_value": 6.0}))
    assert layer.get_config()["activation"] == {"name": "relu", "max_value": 6.0}


# ----------------------------------------------------------------------------- backward: finite differences
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_backward_matches_finite_differences(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x, w0, b0 = _away_from_kinks(name, rng)
    layer = _build(Dense(4, activation=name), 3)
    layer.params["kernel"][:] = w0
    layer.params["bias"][:] = b0
    w, b = layer.params["kernel"], layer.params["bias"]
    g = rng.standard_normal((6, 4))  # upstream gradient: L = sum(g * out)
    ref = REFERENCE[name]

    def f():
        return float(np.sum(g * ref(x @ w + b)))

    layer.forward(x, training=True)
    kernel_grad, bias_grad = layer.grads["kernel"], layer.grads["bias"]
    dx = layer.backward(g.copy())
    assert layer.grads["kernel"] is kernel_grad and layer.grads["bias"] is bias_grad  # filled in place
    assert dx.shape == x.shape
    _assert_grad_close(layer.grads["kernel"], central_diff(f, w))
    _assert_grad_close(layer.grads["bias"], central_diff(f, b))
    _assert_grad_close(dx, central_diff(f, x))


@pytest.mark.parametrize("name", ["linear", "relu", "sigmoid", "softmax", "tanh", "exponential"])
def test_backward_without_activation_is_gradient_of_logits(name):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 3))
    g = rng.standard_normal((5, 4))
    layer = _build(Dense(4, activation=name), 3)
    w, b = layer.params["kernel"], layer.params["bias"]
    b[:] = rng.standard_normal(4)

    def f():
        return float(np.sum(g * (x @ w + b)))

    z = layer.forward(x, training=True, apply_activation=False)
    np.testing.assert_allclose(z, x @ w + b, rtol=1e-12)
    dx = layer.backward(g.copy())
    _assert_grad_close(layer.grads["kernel"], central_diff(f, w))
    _assert_grad_close(layer.grads["bias"], central_diff(f, b))
    _assert_grad_close(dx, central_diff(f, x))
    # Hand formulas for the linear map: dW = x^T g, db = sum g, dx = g W^T.
    np.testing.assert_allclose(layer.grads["kernel"], x.T @ g, rtol=1e-12)
    np.testing.assert_allclose(dx, g @ w.T, rtol=1e-12)


def test_backward_need_input_grad_false_still_fills_grads():
    rng = np.random.default_rng(5)
    layer = _build(Dense(3, activation="tanh"), 2)
    x, g = rng.standard_normal((4, 2)), rng.standard_normal((4, 3))
    layer.forward(x, training=True)
    assert layer.backward(g.copy(), need_input_grad=False) is None
    dz = g * (1.0 - np.tanh(x @ layer.params["kernel"] + layer.params["bias"]) ** 2)
    np.testing.assert_allclose(layer.grads["kernel"], x.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], dz.sum(axis=0), rtol=1e-12)


# ----------------------------------------------------------------------------- inference never writes the cache
@pytest.mark.parametrize("name", ["linear", "relu", "softplus", "softmax"])
def test_inference_forward_leaves_cache_untouched(name):
    rng = np.random.default_rng(6)
    layer = _build(Dense(3, activation=name), 2)
    layer.forward(np.ones((1, 2)))
    assert layer._cache is None  # never trained: inference wrote nothing

    x_train = rng.standard_normal((4, 2))
    layer.forward(x_train, training=True)
    cache = layer._cache
    snapshot = [None if a is None or isinstance(a, bool) else np.array(a, copy=True) for a in cache]
    layer.forward(rng.standard_normal((7, 2)), training=False)
    layer.forward(rng.standard_normal((7, 2)), training=False, apply_activation=False)
    assert layer._cache is cache
    for kept, before in zip(layer._cache, snapshot):
        if before is not None:
            np.testing.assert_array_equal(kept, before)

    # backward still refers to the training batch, not to the inference ones.
    g = rng.standard_normal((4, 3))
    dx = layer.backward(g.copy())
    assert dx.shape == (4, 2)
    ref = REFERENCE[name]
    w, b = layer.params["kernel"], layer.params["bias"]

    def f():
        return float(np.sum(g * ref(x_train @ w + b)))

    _assert_grad_close(layer.grads["kernel"], central_diff(f, w))


# ----------------------------------------------------------------------------- whole model: finite differences
def _ref_logits(weights, x):
    """Independent forward of Dense(5, tanh) -> Dense(4, relu) -> Dense(3, no activation): logits and pre-relu."""
    w1, b1, w2, b2, w3, b3 = weights
    a2 = np.tanh(x @ w1 + b1) @ w2 + b2
    return np.maximum(a2, 0.0) @ w3 + b3, a2


def _ref_sparse_loss(weights, x, y, sw=None):
    z, _ = _ref_logits(weights, x)
    per_sample = sp.logsumexp(z, axis=1) - z[np.arange(len(y)), y]
    w = np.ones(len(y)) if sw is None else sw
    return float(np.sum(w * per_sample) / len(y))  # Keras's sum_over_batch_size: divide by N, not sum(w)


def _ref_categorical_loss(weights, x, t, sw=None):
    z, _ = _ref_logits(weights, x)
    per_sample = np.sum(t * (sp.logsumexp(z, axis=1, keepdims=True) - z), axis=1)
    w = np.ones(len(t)) if sw is None else sw
    return float(np.sum(w * per_sample) / len(t))


def _model(last_activation, loss):
    model = Sequential([Dense(5, "tanh"), Dense(4, "relu"), Dense(3, last_activation)], dtype="float64", seed=3)
    model.compile(optimizer=SGD(learning_rate=1.0), loss=loss)
    model.build((None, 3))
    return model


def _data(model, n=12, seed=0):
    """Inputs whose relu pre-activations stay >= 1e-3 away from 0 (finite differences cross no kink)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3 * n, 3))
    _, a2 = _ref_logits(model.get_weights(), x)
    x = x[np.min(np.abs(a2), axis=1) > 1e-3][:n]
    assert len(x) == n
    return x, rng


def _model_gradient(model, x, y, sw=None):
    """The gradient the training step applies, read off one SGD(lr=1) step: w_before - w_after."""
    fused = model._fused_output()
    params = [w for layer in model.layers for w in layer.params.values()]
    grads = [layer.grads[k] for layer in model.layers for k in layer.params]
    before = [p.copy() for p in params]
    loss, _ = model._train_step(x, y, sw, fused, lambda: model.optimizer.apply(params, grads), 0)
    grad = [b - p for b, p in zip(before, params)]
    model.set_weights(before)
    return loss, grad


def _check_model_gradient(model, loss_fn):
    weights = model.get_weights()
    loss, grads = _model_gradient(model, *loss_fn.args)
    assert loss == pytest.approx(loss_fn(weights), rel=1e-12)
    for w, g in zip(weights, grads):
        _assert_grad_close(g, central_diff(lambda: loss_fn(weights), w))


class _Loss:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __call__(self, weights):
        return self.fn(weights, *self.args)


def test_model_gradient_linear_output_sparse_from_logits():
    model = _model(None, SparseCategoricalCrossentropy(from_logits=True))
    x, rng = _data(model)
    y = rng.integers(0, 3, len(x)).astype(np.intp)
    _check_model_gradient(model, _Loss(_ref_sparse_loss, x, y))


def test_model_gradient_sparse_with_sample_weight():
    model = _model(None, SparseCategoricalCrossentropy(from_logits=True))
    x, rng = _data(model, seed=1)
    y = rng.integers(0, 3, len(x)).astype(np.intp)
    sw = rng.uniform(0.0, 2.0, len(x))
    _check_model_gradient(model, _Loss(_ref_sparse_loss, x, y, sw))


def test_model_gradient_softmax_output_fused():
    model = _model("softmax", SparseCategoricalCrossentropy())
    x, rng = _data(model, seed=2)
    y = rng.integers(0, 3, len(x)).astype(np.intp)
    _check_model_gradient(model, _Loss(_ref_sparse_loss, x, y))
    # predict still returns the softmax of the logits
    z, _ = _ref_logits(model.get_weights(), x)
    np.testing.assert_allclose(model.predict(x), sp.softmax(z, axis=1), rtol=1e-12)


def test_model_gradient_sigmoid_output_uses_pre_sigmoid_logits():
    with pytest.warns(UserWarning, match="sigmoid"):
        model = _model("sigmoid", SparseCategoricalCrossentropy())
    x, rng = _data(model, seed=3)
    y = rng.integers(0, 3, len(x)).astype(np.intp)
    _check_model_gradient(model, _Loss(_ref_sparse_loss, x, y))
    z, _ = _ref_logits(model.get_weights(), x)
    np.testing.assert_allclose(model.predict(x), sp.expit(z), rtol=1e-12)


def test_model_gradient_categorical_soft_targets_and_sample_weight():
    model = _model(None, CategoricalCrossentropy(from_logits=True))
    x, rng = _data(model, seed=4)
    t = rng.dirichlet(np.ones(3), len(x))
    sw = rng.uniform(0.0, 2.0, len(x))
    _check_model_gradient(model, _Loss(_ref_categorical_loss, x, t, sw))


def test_model_gradient_softmax_output_categorical_fused():
    model = _model("softmax", CategoricalCrossentropy())
    x, rng = _data(model, seed=5)
    t = rng.dirichlet(np.ones(3), len(x))
    sw = rng.uniform(0.0, 2.0, len(x))
    _check_model_gradient(model, _Loss(_ref_categorical_loss, x, t, sw))


def test_layer_base_class_is_abstract():
    layer = Layer(name="base")
    with pytest.raises(NotImplementedError):
        layer.forward(np.ones((1, 1)))
    with pytest.raises(NotImplementedError):
        layer.backward(np.ones((1, 1)))
