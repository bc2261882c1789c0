"""Tests for logitnet.activations (and the activation math in logitnet.ops).

Forward passes are compared with float64 formulas written here with the
``math`` module, scalar by scalar; backward passes with central finite
differences of the forward pass.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.special as sp

from logitnet import activations, ops
from logitnet.activations import Activation, get

SELU_ALPHA = 1.6732632423543772848170429916717  # Klambauer et al. (2017)
SELU_SCALE = 1.0507009873554804934193349852946


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def _softplus(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _keras_relu(v: float, negative_slope=0.0, max_value=None, threshold=0.0) -> float:
    """Keras 3 ``ReLU.static_call`` transcribed line by line for one scalar."""
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return v if v > 0 else negative_slope * v  # tf.nn.leaky_relu
    negative_part = max(-v + threshold, 0.0)
    y = v if v > threshold else 0.0
    if max_value is not None:
        y = min(max(y, 0.0), max_value)
    if negative_slope != 0.0:
        y -= negative_slope * negative_part
    return y


# name -> scalar float64 reference of the forward pass
REFERENCE = {
    "linear": lambda v: v,
    "relu": lambda v: max(v, 0.0),
    "sigmoid": _sig,
    "tanh": math.tanh,
    "softplus": _softplus,
    "softsign": lambda v: v / (1.0 + abs(v)),
    "elu": lambda v: v if v > 0 else math.expm1(v),
    "selu": lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v)),
    "leaky_relu": lambda v: max(v, 0.2 * v),
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "gelu": lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))),
    "silu": lambda v: v * _sig(v),
    "hard_sigmoid": lambda v: min(max(v / 6.0 + 0.5, 0.0), 1.0),
    "hard_silu": lambda v: v * min(max(v / 6.0 + 0.5, 0.0), 1.0),
    "exponential": math.exp,
    "mish": lambda v: v * math.tanh(_softplus(v)),
    "log_sigmoid": lambda v: -_softplus(-v),
}
ELEMENTWISE = sorted(REFERENCE)
ALL_NAMES = ELEMENTWISE + ["softmax", "log_softmax"]
WITH_ARGUMENTS = [
    {"name": "gelu", "approximate": True},
    {"name": "relu", "negative_slope": 0.3, "max_value": 4.0, "threshold": 1.5},
    {"name": "relu", "threshold": -1.0},
    {"name": "elu", "alpha": 0.5},
]
KINKS = {"relu": [0.0], "leaky_relu": [0.0], "elu": [0.0], "selu": [0.0], "relu6": [0.0, 6.0],
         "hard_sigmoid": [-3.0, 3.0], "hard_silu": [-3.0, 3.0]}


def _reference(fn, x: np.ndarray) -> np.ndarray:
    return np.array([fn(float(v)) for v in x.ravel()]).reshape(x.shape)


def _away_from(x: np.ndarray, kinks: list[float], gap: float = 1e-3) -> np.ndarray:
    x = x.copy()
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + 0.05
    return x


def _grid(rng: np.random.Generator) -> np.ndarray:
    """24 points, one in each half-unit cell of [-5, 7), shuffled into shape (4, 6)."""
    x = np.arange(-5.0, 7.0, 0.5) + rng.uniform(0.05, 0.45, size=24)
    return rng.permutation(x).reshape(4, 6)


def _numeric_vjp(act: Activation, x: np.ndarray, g: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of sum(g * act(x)) with respect to each x."""
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        grad[idx] = np.sum(g * (act(xp) - act(xm))) / (2 * eps)
    return grad


def _backward(act: Activation, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    out = act(x)
    out_before = out.copy()
    got = act.backward(g.copy(), x if act.needs_input else None, out)
    np.testing.assert_array_equal(out, out_before)  # backward must not modify out
    return got


# --------------------------------------------------------------------------
# Forward
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_forward_matches_float64_reference(name):
    x = np.concatenate([np.linspace(-8.0, 8.0, 160), [-30.0, -0.3, 1e-9, 2.5, 30.0]])
    x = x.reshape(-1, 3)
    act = get(name)
    before = x.copy()
    got = act(x)
    np.testing.assert_array_equal(x, before)  # forward must not modify x
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, _reference(REFERENCE[name], x), rtol=1e-13, atol=1e-15)
    # The module-level function (keras.activations style) agrees.
    np.testing.assert_allclose(getattr(activations, name)(x), got, rtol=0, atol=0)


def test_gelu_approximate_matches_tanh_formula():
    x = np.linspace(-8.0, 8.0, 161)
    c = math.sqrt(2.0 / math.pi)
    want = _reference(lambda v: 0.5 * v * (1.0 + math.tanh(c * (v + 0.044715 * v**3))), x)
    np.testing.assert_allclose(ops.gelu(x, approximate=True), want, rtol=1e-13, atol=1e-15)
    act = get({"name": "gelu", "approximate": True})
    np.testing.assert_allclose(act(x), want, rtol=1e-13, atol=1e-15)


def test_keras_reference_numbers():
    # keras-parity.md section 2, measured with Keras 3.15.1.
    assert float(activations.gelu(-1.0)) == pytest.approx(-0.158655, abs=1e-6)
    assert float(activations.hard_sigmoid(-1.0)) == pytest.approx(0.3333, abs=1e-4)
    assert float(activations.selu(1.0)) == pytest.approx(SELU_SCALE, rel=1e-15)
    assert float(activations.selu(-50.0)) == pytest.approx(-SELU_SCALE * SELU_ALPHA, rel=1e-15)
    big = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_array_equal(activations.softmax(big), [[1, 0, 0]])


def test_sigmoid_keeps_relative_precision_in_the_tails():
    tail = math.exp(-40.0) / (1 + math.exp(-40.0))
    assert float(ops.sigmoid(-40.0)) == pytest.approx(tail, rel=1e-15)
    assert float(ops.log_sigmoid(40.0)) == pytest.approx(-math.log1p(math.exp(-40.0)), rel=1e-15)
    x = np.linspace(-700, 700, 57)
    np.testing.assert_allclose(ops.sigmoid(x), sp.expit(x), rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"negative_slope": 0.1},
        {"max_value": 6.0},
        {"max_value": 2.5},
        {"threshold": 1.0},
        {"threshold": -1.0},
        {"threshold": -1.0, "max_value": 4.0},
        {"negative_slope": 0.3, "max_value": 4.0, "threshold": 1.5},
        {"negative_slope": 0.3, "threshold": -2.0},
    ],
)
def test_relu_options_follow_keras(kwargs):
    x = np.linspace(-5.0, 7.0, 97)
    want = _reference(lambda v: _keras_relu(v, **kwargs), x)
    np.testing.assert_allclose(ops.relu(x, **kwargs), want, rtol=1e-15, atol=1e-15)
    act = get({"name": "relu", **kwargs})
    np.testing.assert_allclose(act(x), want, rtol=1e-15, atol=1e-15)
    assert act.needs_input
    assert act.get_config() == {"name": "relu", **kwargs}


def test_keras_relu_clips_negative_kept_values_when_max_value_is_set():
    # threshold=-1 keeps x=-0.5 ... then Keras clips it to [0, max_value].
    assert float(ops.relu(-0.5, threshold=-1.0)) == -0.5
    assert float(ops.relu(-0.5, threshold=-1.0, max_value=6.0)) == 0.0


@pytest.mark.parametrize("name", ALL_NAMES + WITH_ARGUMENTS, ids=str)
def test_nan_propagates(name):
    x = np.array([[np.nan, 1.0, -1.0]])
    with np.errstate(invalid="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        out = get(name)(x)
    assert np.isnan(out[0, 0])
    if get(name).name not in ("softmax", "log_softmax"):
        assert np.all(np.isfinite(out[0, 1:]))


@pytest.mark.parametrize("dtype, big", [(np.float32, 1e30), (np.float64, 1e300)])
@pytest.mark.parametrize("name", ALL_NAMES + WITH_ARGUMENTS, ids=str)
def test_large_inputs_stay_finite_without_warnings(name, dtype, big):
    values = [-big, -1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4, big]
    if name == "exponential":
        values = [-big, -1e4, -100.0, 0.0, 1.0, 80.0]
    x = np.array([values], dtype=dtype)
    act = get(name)
    g = np.ones_like(x)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = act(x)
            grad = act.backward(g, x if act.needs_input else None, out)
    assert out.dtype == dtype and grad.dtype == dtype
    assert np.all(np.isfinite(out)), out
    assert np.all(np.isfinite(grad)), grad


def test_exponential_overflows_to_inf_quietly():
    with np.errstate(over="raise"):
        assert ops.exponential(1e4) == np.inf


@pytest.mark.parametrize("name", ALL_NAMES)
def test_float32_in_float32_out(name):
    x = np.array([[-2.0, 0.5, 3.0]], np.float32)
    act = get(name)
    out = act(x)
    assert out.dtype == np.float32
    grad = act.backward(np.ones_like(out), x if act.needs_input else None, out)
    assert grad.dtype == np.float32


def test_plain_functions_accept_lists_and_ints():
    np.testing.assert_allclose(activations.relu([-1, 2]), [0.0, 2.0])
    assert activations.sigmoid([0]).dtype == np.float64
    assert float(activations.sigmoid([0])[0]) == 0.5
    p = activations.softmax([[0, math.log(3.0)]])
    np.testing.assert_allclose(p, [[0.25, 0.75]], rtol=1e-15)
    assert activations.linear([1, 2]).dtype == np.float64


# --------------------------------------------------------------------------
# Backward: finite differences
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_NAMES)
def test_backward_matches_finite_differences(name, rng):
    x = _away_from(_grid(rng), KINKS.get(name, []))
    g = rng.normal(size=x.shape)
    act = get(name)
    np.testing.assert_allclose(_backward(act, x, g), _numeric_vjp(act, x, g), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "config",
    [
        {"name": "relu", "negative_slope": 0.1},
        {"name": "relu", "negative_slope": 0.3, "max_value": 4.0, "threshold": 1.5},
        {"name": "relu", "threshold": -1.0, "max_value": 4.0},
        {"name": "elu", "alpha": 0.5},
        {"name": "leaky_relu", "negative_slope": 0.05},
        {"name": "gelu", "approximate": True},
        {"name": "softmax", "axis": 0},
        {"name": "log_softmax", "axis": 0},
    ],
)
def test_backward_with_arguments_matches_finite_differences(config, rng):
    kinks = [0.0, 4.0, 1.5, -1.0]
    x = _away_from(_grid(rng), kinks)
    g = rng.normal(size=x.shape)
    act = get(config)
    np.testing.assert_allclose(_backward(act, x, g), _numeric_vjp(act, x, g), rtol=1e-6, atol=1e-8)


def test_backward_in_the_tails_is_accurate():
    # Where finite differences are useless, compare with closed forms.
    x = np.array([-40.0, -20.0, 20.0, 40.0])
    ones = np.ones_like(x)
    silu = get("silu")
    s = sp.expit(x)
    got = silu.backward(ones.copy(), x, silu(x))
    np.testing.assert_allclose(got, s + x * s * (1 - s), rtol=1e-13)
    gelu = get("gelu")
    phi = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    want = sp.ndtr(x) + x * phi
    np.testing.assert_allclose(gelu.backward(ones.copy(), x, gelu(x)), want, rtol=1e-13, atol=0)
    softplus = get("softplus")
    np.testing.assert_allclose(softplus.backward(ones.copy(), x, softplus(x)), s, rtol=1e-15)


def test_softmax_backward_is_the_jacobian_vector_product(rng):
    z = rng.normal(size=(2, 4))
    g = rng.normal(size=(2, 4))
    act = get("softmax")
    a = act(z)
    got = act.backward(g.copy(), None, a)
    for i in range(2):
        jac = np.diag(a[i]) - np.outer(a[i], a[i])
        np.testing.assert_allclose(got[i], jac @ g[i], rtol=1e-13, atol=1e-15)


def test_relu_backward_reads_the_output():
    act = get("relu")
    assert not act.needs_input
    out = np.array([[0.0, 2.0, 0.0, 0.5]])
    got = act.backward(np.array([[1.0, 2.0, 3.0, 4.0]]), None, out)
    np.testing.assert_array_equal(got, [[0.0, 2.0, 0.0, 4.0]])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("linear", False), ("relu", False), ("sigmoid", False), ("tanh", False),
        ("softmax", False), ("log_softmax", False), ("exponential", False), ("relu6", False),
        ("hard_sigmoid", False), ("log_sigmoid", False), ("elu", True), ("gelu", True),
        ("silu", True), ("softplus", True), ("mish", True),
    ],
)
def test_needs_input(name, expected):
    assert get(name).needs_input is expected


# --------------------------------------------------------------------------
# Softmax's size-one warning
# --------------------------------------------------------------------------

SIZE_ONE_MESSAGE = (
    "You are using a softmax over axis -1 of a tensor of shape (3, 1). This axis has size 1. "
    "The softmax operation will always return the value 1, which is likely not what you "
    "intended. Did you mean to use a sigmoid instead?"
)


def test_softmax_warns_when_axis_has_size_one():
    with pytest.warns(UserWarning) as record:
        out = get("softmax")(np.zeros((3, 1)))
    assert [str(w.message) for w in record] == [SIZE_ONE_MESSAGE]
    np.testing.assert_array_equal(out, np.ones((3, 1)))
    with pytest.warns(UserWarning, match="Did you mean to use a sigmoid instead"):
        activations.softmax(np.zeros((3, 1)))


def test_softmax_does_not_warn_otherwise():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get("softmax")(np.zeros((3, 2)))
        get("log_softmax")(np.zeros((3, 1)))
        activations.softmax(np.zeros((1, 3)))


# --------------------------------------------------------------------------
# get / serialize
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_NAMES)
def test_get_by_name(name):
    act = get(name)
    assert isinstance(act, Activation)
    assert act.name == name
    assert str(act) == name
    assert act.__name__ == name
    assert act.get_config() == {"name": name}
    assert activations.serialize(act) == name


@pytest.mark.parametrize("alias, name", [("swish", "silu"), ("hard_swish", "hard_silu")])
def test_aliases_report_the_keras_name(alias, name):
    act = get(alias)
    assert act.name == name
    assert act == get(name)


def test_none_and_linear():
    for ident in (None, "linear"):
        act = get(ident)
        assert act.name == "linear"
        x = np.array([[1.0, -2.0]])
        assert act(x) is x
        g = np.array([[3.0, 4.0]])
        assert act.backward(g, None, x) is g


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        get("foo")
    message = str(info.value)
    assert message.startswith("Could not interpret activation function identifier: foo")
    for name in ALL_NAMES + ["swish", "hard_swish"]:
        assert name in message
    with pytest.raises(ValueError, match="exists in Keras but logitnet does not implement"):
        get("celu")
    with pytest.raises(ValueError, match="Could not interpret activation function identifier: 3"):
        get(3)
    with pytest.raises(ValueError, match="Could not interpret"):
        get("ReLU")  # names are case-sensitive, as in Keras


def test_instance_passthrough_and_equality():
    act = get({"name": "elu", "alpha": 0.5})
    assert get(act) is act
    assert act == get({"name": "elu", "alpha": 0.5})
    assert act != get("elu")
    assert len({get("relu"), get("relu"), get("tanh")}) == 2


def test_our_functions_map_to_their_activations():
    assert get(activations.relu).name == "relu"
    assert get(activations.swish).name == "silu"
    assert get(activations.softmax).name == "softmax"
    assert get(ops.softmax).name == "softmax"
    assert get(ops.gelu).name == "gelu"
    x = np.array([[0.5, -3.0]])
    np.testing.assert_array_equal(get(activations.tanh).backward(np.ones((1, 2)), None, np.tanh(x)),
                                  1 - np.tanh(x) ** 2)


def test_user_subclass_can_be_trained_through():
    class Cube(Activation):
        name = "cube"
        needs_input = True

        def __call__(self, x):
            return x**3

        def backward(self, grad_out, x, out):
            grad_out *= 3 * x**2
            return grad_out

    act = Cube()
    assert get(act) is act and str(act) == "cube" and act.get_config() == {"name": "cube"}
    x = np.array([[0.5, -1.5, 2.0]])
    g = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(_backward(act, x, g), _numeric_vjp(act, x, g), rtol=1e-6)


def test_custom_callable_is_forward_only():
    def double(x):
        return 2 * x

    act = get(double)
    assert act.name == "double"
    np.testing.assert_array_equal(act(np.array([1.0, 2.0])), [2.0, 4.0])
    with pytest.raises(NotImplementedError, match="custom callable.*no derivative"):
        act.backward(np.ones(2), None, np.ones(2))
    assert act == get(double)


def test_config_round_trip_and_serialize():
    configs = (
        {"name": "relu", "max_value": 6.0},
        {"name": "leaky_relu", "negative_slope": 0.1},
        {"name": "gelu", "approximate": True},
        {"name": "softmax", "axis": 0},
    )
    for config in configs:
        act = get(config)
        assert act.get_config() == config
        assert activations.serialize(act) == config
        assert get(act.get_config()) == act
    assert activations.serialize("swish") == "silu"
    assert activations.deserialize("relu6") == get("relu6")


def test_bad_arguments_raise_keras_style_errors():
    with pytest.raises(ValueError, match="unexpected arguments"):
        get({"name": "elu", "beta": 1.0})
    pattern = r"`max_value`, expected a non-negative number. Received: max_value=-1$"
    with pytest.raises(ValueError, match=pattern):
        get({"name": "relu", "max_value": -1})
    with pytest.raises(TypeError, match=r"`alpha`, expected a number. Received: alpha='x'"):
        get({"name": "elu", "alpha": "x"})
    with pytest.raises(TypeError, match="approximate"):
        get({"name": "gelu", "approximate": "tanh"})


def test_inplace_forward_equals_the_plain_forward_and_overwrites_only_where_allowed():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 5)).astype(np.float32)
    relu = activations.get("relu")
    buf = z.copy()
    out = relu.inplace(buf)
    assert out is buf  # overwritten: no new array
    np.testing.assert_array_equal(out, np.maximum(z, 0))
    # An activation without an in-place form leaves its input alone.
    tanh = activations.get("tanh")
    buf = z.copy()
    np.testing.assert_array_equal(tanh.inplace(buf), np.tanh(z))
    np.testing.assert_array_equal(buf, z)
