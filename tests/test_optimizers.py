"""Tests for logitnet.optimizers.

Every expected value comes from a reference written here, independently of the code under
test: plain float64 NumPy transcriptions of Keras 3's update rules (docs/keras-parity.md §4,
keras/src/optimizers/*.py), or numbers given in the spec.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from logitnet import optimizers
from logitnet.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop, get


def f32(x: float) -> float:
    """Keras keeps the learning rate in a float32 variable."""
    return float(np.float32(x))


# ----------------------------------------------------------------------------- fixtures
def initial_params(dtype=np.float64) -> list[np.ndarray]:
    return [np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]], dtype=dtype),
            np.array([1.0, -2.0, 0.75], dtype=dtype)]


BASE_GRADS = [np.array([[0.3, -0.2, 1.5], [-0.7, 0.05, 0.4]]), np.array([2.0, -0.1, 0.0])]
# Large, sign-flipped, then small: momentum changes sign, AMSGrad's max(v_hat, v) matters.
STEP_SCALES = [1.0, -2.0, 0.1]


def grads_at(step: int, dtype=np.float64) -> list[np.ndarray]:
    return [(g * STEP_SCALES[step]).astype(dtype) for g in BASE_GRADS]


# ----------------------------------------------------------------------------- references
def ref_clip(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    if clipnorm is not None:
        return [g * clipnorm / max(np.sqrt(np.sum(g * g)), clipnorm) for g in grads]
    if global_clipnorm is not None:
        norm = np.sqrt(sum(np.sum(g * g) for g in grads))
        return [g * global_clipnorm / max(norm, global_clipnorm) for g in grads]
    if clipvalue is not None:
        return [np.minimum(np.maximum(g, -clipvalue), clipvalue) for g in grads]
    return grads


def ref_run(rule, n_steps=3, lr=0.01, weight_decay=None, clip=None, dtype=np.float64, **hp):
    """Run a float64 reference of Keras's machinery; return params after each step."""
    lr = f32(lr)
    w = [p.astype(np.float64) for p in initial_params()]
    state = [dict() for _ in w]
    history = []
    for t in range(1, n_steps + 1):
        grads = ref_clip(grads_at(t - 1), **(clip or {}))
        if weight_decay is not None:
            w = [p - p * weight_decay * lr for p in w]
        w = [rule(p, g, s, t, lr, **hp) for p, g, s in zip(w, grads, state)]
        history.append([p.copy() for p in w])
    return history


def ref_sgd(w, g, s, t, lr, momentum=0.0, nesterov=False):
    if momentum == 0:
        return w - lr * g
    m = momentum * s.get("m", 0.0) - lr * g
    s["m"] = m
    return w + (momentum * m - lr * g if nesterov else m)


def ref_adam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    m = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    v = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g * g
    s["m"], s["v"] = m, v
    if amsgrad:
        v = s["v_hat"] = np.maximum(s.get("v_hat", 0.0), v)
    alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return w - alpha * m / (np.sqrt(v) + epsilon)


def ref_adam_textbook(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Kingma & Ba, Algorithm 1: bias-corrected moments, epsilon outside the sqrt."""
    m = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    v = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g * g
    s["m"], s["v"] = m, v
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + epsilon)


def ref_rmsprop(w, g, s, t, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    v = s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
    if centered:
        a = s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
        denom = v - a * a + epsilon
    else:
        denom = v + epsilon
    inc = lr * g / np.sqrt(denom)
    if momentum > 0:
        mom = s["mom"] = momentum * s.get("mom", 0.0) + inc
        return w - mom
    return w - inc


# (id, optimizer factory, reference rule, reference kwargs)
CASES = [
    ("sgd", lambda: SGD(0.1), ref_sgd, dict(lr=0.1)),
    ("sgd_momentum", lambda: SGD(0.1, momentum=0.9), ref_sgd, dict(lr=0.1, momentum=0.9)),
    ("sgd_nesterov", lambda: SGD(0.1, momentum=0.9, nesterov=True), ref_sgd,
     dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("sgd_weight_decay", lambda: SGD(0.1, weight_decay=0.3), ref_sgd,
     dict(lr=0.1, weight_decay=0.3)),
    ("adam", lambda: Adam(0.05, epsilon=1e-3), ref_adam, dict(lr=0.05, epsilon=1e-3)),
    ("adam_betas", lambda: Adam(0.05, beta_1=0.5, beta_2=0.75), ref_adam,
     dict(lr=0.05, beta_1=0.5, beta_2=0.75)),
    ("adam_amsgrad", lambda: Adam(0.05, beta_2=0.5, amsgrad=True), ref_adam,
     dict(lr=0.05, beta_2=0.5, amsgrad=True)),
    ("adamw", lambda: AdamW(0.05), ref_adam, dict(lr=0.05, weight_decay=0.004)),
    ("adamw_big_decay", lambda: AdamW(0.05, weight_decay=0.5), ref_adam,
     dict(lr=0.05, weight_decay=0.5)),
    ("adam_weight_decay", lambda: Adam(0.05, weight_decay=0.5), ref_adam,
     dict(lr=0.05, weight_decay=0.5)),
    ("rmsprop", lambda: RMSprop(0.01), ref_rmsprop, dict(lr=0.01)),
    ("rmsprop_centered", lambda: RMSprop(0.01, centered=True), ref_rmsprop,
     dict(lr=0.01, centered=True)),
    ("rmsprop_momentum", lambda: RMSprop(0.01, momentum=0.8), ref_rmsprop,
     dict(lr=0.01, momentum=0.8)),
    ("rmsprop_centered_momentum", lambda: RMSprop(0.01, rho=0.7, momentum=0.8, centered=True),
     ref_rmsprop, dict(lr=0.01, rho=0.7, momentum=0.8, centered=True)),
    ("clipnorm", lambda: SGD(0.1, clipnorm=1.0), ref_sgd,
     dict(lr=0.1, clip=dict(clipnorm=1.0))),
    ("clipvalue", lambda: Adam(0.05, clipvalue=0.5), ref_adam,
     dict(lr=0.05, clip=dict(clipvalue=0.5))),
    ("global_clipnorm", lambda: RMSprop(0.01, momentum=0.5, global_clipnorm=2.0), ref_rmsprop,
     dict(lr=0.01, momentum=0.5, clip=dict(global_clipnorm=2.0))),
]


def run(opt: Optimizer, n_steps: int = 3, dtype=np.float64):
    params = initial_params(dtype)
    history = []
    for t in range(n_steps):
        opt.apply(params, grads_at(t, dtype))
        history.append([p.copy() for p in params])
    return params, history


# ----------------------------------------------------------------------------- update rules
@pytest.mark.parametrize("factory, rule, kwargs", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_first_three_steps_match_keras_formulas_float64(factory, rule, kwargs):
    expected = ref_run(rule, **kwargs)
    _, got = run(factory())
    for step in range(3):
        for g, e in zip(got[step], expected[step]):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15, err_msg=f"step {step + 1}")


def test_clipping_cases_actually_clip():
    # Guards the clip cases above against being vacuous: the clipped and raw references differ.
    for clip in (dict(clipnorm=1.0), dict(clipvalue=0.5), dict(global_clipnorm=2.0)):
        raw, clipped = grads_at(1), ref_clip(grads_at(1), **clip)
        assert any(not np.allclose(r, c) for r, c in zip(raw, clipped))
    # clipnorm is per tensor: the bias gradient of step 3 (norm 0.2) is left alone.
    small = grads_at(2)[1]
    np.testing.assert_array_equal(ref_clip([small], clipnorm=1.0)[0], small)


def test_amsgrad_case_is_not_vacuous():
    # With beta_2 = 0.5, v shrinks at step 3, so max(v_hat, v) changes the result.
    plain = ref_run(ref_adam, lr=0.05, beta_2=0.5)[-1]
    ams = ref_run(ref_adam, lr=0.05, beta_2=0.5, amsgrad=True)[-1]
    assert not np.allclose(plain[0], ams[0], rtol=1e-6)


@pytest.mark.parametrize("factory, rule, kwargs", [
    (lambda: Adam(0.05, epsilon=1e-3), ref_adam, dict(lr=0.05, epsilon=1e-3)),
    (lambda: RMSprop(0.01, centered=True, momentum=0.5), ref_rmsprop,
     dict(lr=0.01, centered=True, momentum=0.5)),
    (lambda: SGD(0.1, momentum=0.9, nesterov=True), ref_sgd,
     dict(lr=0.1, momentum=0.9, nesterov=True)),
])
def test_float32_parameters_stay_float32_and_match_float64_reference(factory, rule, kwargs):
    opt = factory()
    params, got = run(opt, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in params)
    assert all(v.dtype == np.float32 for v in opt.variables()[1:])
    for g, e in zip(got[-1], ref_run(rule, **kwargs)[-1]):
        np.testing.assert_allclose(g, e, rtol=2e-6, atol=2e-6)


def test_adam_uses_epsilon_hat_form_not_algorithm_1():
    kwargs = dict(lr=0.05, epsilon=0.1)
    keras_form = ref_run(ref_adam, **kwargs)[-1]
    textbook = ref_run(ref_adam_textbook, **kwargs)[-1]
    # The two forms differ far beyond the tolerance used below, so the test can tell them apart.
    assert max(np.max(np.abs(k - b)) for k, b in zip(keras_form, textbook)) > 1e-4
    _, got = run(Adam(0.05, epsilon=0.1))
    for g, k, b in zip(got[-1], keras_form, textbook):
        np.testing.assert_allclose(g, k, rtol=1e-12, atol=1e-15)
        assert not np.allclose(g, b, rtol=1e-6, atol=1e-9)


def test_adamw_equals_adam_with_weight_decay():
    a, _ = run(AdamW(0.05, weight_decay=0.2))
    b, _ = run(Adam(0.05, weight_decay=0.2))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_weight_decay_uses_parameter_before_update():
    # One SGD step from w = 2, g = 1, lr = 0.5, wd = 0.1: w - w*wd*lr - lr*g = 2 - 0.1 - 0.5.
    w = np.array([2.0])
    SGD(0.5, weight_decay=0.1).apply([w], [np.array([1.0])])
    np.testing.assert_allclose(w, [1.4], rtol=1e-15)


def test_learning_rate_is_rounded_to_float32():
    assert Adam().learning_rate == 0.0010000000474974513  # keras-parity.md §4
    w = np.zeros(1)
    SGD(0.1).apply([w], [np.ones(1)])
    assert w[0] == -0.10000000149011612
    assert w[0] != -0.1


def test_mixed_dtypes_use_each_parameter_dtype():
    params = [np.array([0.5, -1.0], dtype=np.float32), np.array([1.0, -2.0])]
    opt = Adam(0.05, epsilon=1e-3)
    for scale in STEP_SCALES:
        opt.apply(params, [np.array([0.3, -0.2], np.float32) * scale, np.array([2.0, -0.1]) * scale])
    w, s = np.array([1.0, -2.0]), {}
    for t, scale in enumerate(STEP_SCALES, start=1):
        w = ref_adam(w, np.array([2.0, -0.1]) * scale, s, t, f32(0.05), epsilon=1e-3)
    np.testing.assert_allclose(params[1], w, rtol=1e-12)  # float64 precision kept
    assert params[0].dtype == np.float32


def test_learning_rate_can_be_changed_between_steps():
    w = np.array([1.0])
    opt = SGD(0.5)
    opt.apply([w], [np.array([1.0])])
    opt.learning_rate = 0.25
    opt.apply([w], [np.array([1.0])])
    np.testing.assert_allclose(w, [1.0 - 0.5 - 0.25], rtol=1e-15)
    with pytest.raises(ValueError, match="`learning_rate`"):
        opt.learning_rate = -1.0


# ----------------------------------------------------------------------------- convergence
A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
C = np.array([1.0, -2.0, 0.5])


@pytest.mark.parametrize("opt, steps, tol", [
    (SGD(0.1), 400, 1e-6),
    (SGD(0.05, momentum=0.9), 500, 1e-6),
    (SGD(0.05, momentum=0.9, nesterov=True), 500, 1e-6),
    (Adam(0.05), 1500, 1e-6),
    (Adam(0.05, amsgrad=True), 1500, 1e-6),
    (RMSprop(0.01), 1500, 2e-2),  # constant-step RMSprop hovers within ~lr of the minimum
    (RMSprop(0.01, momentum=0.5, centered=True), 1500, 2e-2),
], ids=["sgd", "momentum", "nesterov", "adam", "amsgrad", "rmsprop", "rmsprop_centered"])
def test_converges_on_quadratic(opt, steps, tol):
    # f(w) = (w - c)^T A (w - c) / 2 with A symmetric positive definite: minimum at c.
    w = np.zeros(3)
    for _ in range(steps):
        opt.apply([w], [A @ (w - C)])
    np.testing.assert_allclose(w, C, atol=tol)


def test_adam_minimises_rosenbrock():
    w = np.array([-1.5, 2.0])
    opt = Adam(0.02)
    for _ in range(6000):
        x, y = w
        opt.apply([w], [np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])])
    np.testing.assert_allclose(w, [1.0, 1.0], atol=1e-3)


# ----------------------------------------------------------------------------- state
WORKLOAD_SHAPES = [(2, 25), (25,), (25, 15), (15,), (15, 4), (4,)]  # 529 parameters


def workload(dtype=np.float32):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(dtype) for s in WORKLOAD_SHAPES]
    grads = [rng.standard_normal(s).astype(dtype) for s in WORKLOAD_SHAPES]
    return params, grads


def test_apply_updates_in_place_and_counts_iterations():
    buffer = np.concatenate([p.ravel() for p in initial_params()] + [np.array([7.0])])
    params = [buffer[:6].reshape(2, 3), buffer[6:9]]  # views into one buffer
    ids = [id(p) for p in params]
    opt = Adam(0.05, epsilon=1e-3)
    for t in range(3):
        opt.apply(params, grads_at(t))
    assert [id(p) for p in params] == ids
    assert opt.iterations == 3
    # The shared memory itself holds the reference result; the element after it is untouched.
    expected = ref_run(ref_adam, lr=0.05, epsilon=1e-3)[-1]
    np.testing.assert_allclose(buffer[:9], np.concatenate([e.ravel() for e in expected]),
                               rtol=1e-12)
    assert buffer[9] == 7.0
    assert opt.variables()[0] == 3 and opt.variables()[0].dtype == np.int64


@pytest.mark.parametrize("opt, expected", [
    (Adam(), 2 + 2 * 529), (AdamW(), 2 + 2 * 529), (Adam(amsgrad=True), 2 + 3 * 529),
    (SGD(), 2), (SGD(momentum=0.9), 2 + 529), (RMSprop(), 2 + 529),
    (RMSprop(momentum=0.9, centered=True), 2 + 3 * 529),
])
def test_count_params(opt, expected):
    assert opt.count_params() == 0
    assert opt.variables() == []
    params, grads = workload()
    opt.apply(params, grads)
    assert opt.count_params() == expected
    assert sum(np.size(v) for v in opt.variables()) == expected


def test_adam_workload_counts_1060():
    opt = Adam()
    opt.build(workload()[0])
    assert opt.count_params() == 1060  # keras-parity.md §4 and the summary in §6.6


def test_adam_variables_order_interleaves_momentum_and_velocity():
    params, grads = workload(np.float64)
    opt = Adam(amsgrad=True)
    opt.apply(params, [g.copy() for g in grads])
    v = opt.variables()
    assert v[1] == np.float32(0.001) and v[1].dtype == np.float32
    n = len(params)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(v[2 + 2 * i], 0.1 * g, rtol=1e-12)  # m = (1 - beta_1) g
        np.testing.assert_allclose(v[3 + 2 * i], 0.001 * g * g, rtol=1e-9)  # v = (1 - beta_2) g^2
        np.testing.assert_allclose(v[2 + 2 * n + i], 0.001 * g * g, rtol=1e-9)  # v_hat


def test_rmsprop_variables_are_grouped_by_slot():
    params, grads = workload(np.float64)
    opt = RMSprop(0.01, rho=0.8, momentum=0.5, centered=True)
    opt.apply(params, [g.copy() for g in grads])
    v, n = opt.variables(), len(params)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(v[2 + i], 0.2 * g * g, rtol=1e-12)  # velocity
        inc = f32(0.01) * g / np.sqrt(0.2 * g * g - (0.2 * g) ** 2 + 1e-7)
        np.testing.assert_allclose(v[2 + n + i], inc, rtol=1e-9)  # momentum
        np.testing.assert_allclose(v[2 + 2 * n + i], 0.2 * g, rtol=1e-12)  # average gradient


def test_get_state_set_state_round_trip_continues_identically():
    a = Adam(0.05, amsgrad=True)
    pa, _ = run(a, n_steps=2)
    state = a.get_state()
    assert set(state) == {"iterations", "learning_rate", "momentum.0", "velocity.0",
                          "velocity_hat.0", "momentum.1", "velocity.1", "velocity_hat.1"}
    b = Adam.from_config(a.get_config())
    pb = [p.copy() for p in pa]
    b.build(pb)
    b.set_state(state)
    for arr in state.values():  # set_state copied: later edits to the dict do not leak
        arr[...] = 0
    assert b.iterations == 2
    a.apply(pa, grads_at(2))
    b.apply(pb, grads_at(2))
    for x, y in zip(pa, pb):
        np.testing.assert_array_equal(x, y)
    # And both equal the uninterrupted float64 reference.
    for x, e in zip(pa, ref_run(ref_adam, lr=0.05, amsgrad=True)[-1]):
        np.testing.assert_allclose(x, e, rtol=1e-12)


def test_set_state_errors():
    opt = SGD(momentum=0.5)
    with pytest.raises(ValueError, match="not yet been built"):
        opt.set_state({"iterations": np.array(0)})
    params = initial_params()
    opt.build(params)
    good = opt.get_state()
    with pytest.raises(ValueError, match="keys"):
        opt.set_state({k: v for k, v in good.items() if k != "momentum.1"})
    bad = dict(good, **{"momentum.0": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"momentum\.0.*shape \(2, 3\)"):
        opt.set_state(bad)


def test_apply_rejects_mismatched_lists():
    opt = SGD()
    with pytest.raises(ValueError, match="same length"):
        opt.apply(initial_params(), grads_at(0)[:1])
    opt.apply(initial_params(), grads_at(0))
    with pytest.raises(ValueError, match="built for 2 parameters"):
        opt.apply(initial_params()[:1], grads_at(0)[:1])


def test_build_rejects_non_float_params():
    with pytest.raises(ValueError, match=r"`params`.*params\[1\]"):
        Adam().build([np.zeros(2), np.zeros(2, dtype=np.int64)])


# ----------------------------------------------------------------------------- config, get
@pytest.mark.parametrize("opt", [
    SGD(0.1, momentum=0.9, nesterov=True, clipnorm=1.0),
    Adam(0.01, beta_1=0.8, epsilon=1e-6, amsgrad=True, weight_decay=0.1, name="opt"),
    AdamW(global_clipnorm=2.0),
    RMSprop(0.002, rho=0.95, momentum=0.1, centered=True, clipvalue=0.3),
], ids=["sgd", "adam", "adamw", "rmsprop"])
def test_get_config_round_trip(opt):
    config = opt.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(opt).from_config(config)
    assert type(clone) is type(opt) and clone.get_config() == config
    p1, _ = run(opt)
    p2, _ = run(clone)
    for x, y in zip(p1, p2):
        np.testing.assert_array_equal(x, y)


def test_adam_config_has_keras_keys():
    assert list(Adam().get_config()) == [
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
        "beta_1", "beta_2", "epsilon", "amsgrad"]
    assert Adam().get_config()["name"] == "adam" and SGD().name == "SGD"


@pytest.mark.parametrize("name, cls", [
    ("adam", Adam), ("Adam", Adam), ("ADAM", Adam), ("adamw", AdamW), ("AdamW", AdamW),
    ("sgd", SGD), ("SGD", SGD), ("rmsprop", RMSprop), ("RMSprop", RMSprop),
])
def test_get_by_name(name, cls):
    opt = get(name)
    assert type(opt) is cls
    assert opt.iterations == 0 and not opt.built


def test_get_defaults_match_keras():
    assert get("sgd").learning_rate == f32(0.01) and get("sgd").momentum == 0.0
    adam = get("adam")
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (
        f32(0.001), 0.9, 0.999, 1e-7, False)
    assert get("adamw").weight_decay == 0.004
    rms = get("rmsprop")
    assert (rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.9, 0.0, 1e-7, False)


def test_get_instance_and_dict():
    opt = SGD()
    assert get(opt) is opt
    made = get({"class_name": "Adam", "config": {"learning_rate": 0.5}})
    assert type(made) is Adam and made.learning_rate == 0.5


@pytest.mark.parametrize("identifier", ["foo", 42, None, {"class_name": "Foo"}])
def test_get_unknown(identifier):
    with pytest.raises(ValueError) as info:
        get(identifier)
    message = str(info.value)
    assert message.startswith(f"Could not interpret optimizer identifier: {identifier}")
    assert all(name in message for name in ("adam", "adamw", "rmsprop", "sgd"))


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("make, argument", [
    (lambda: SGD(momentum=1), "momentum"),
    (lambda: SGD(momentum=1.5), "momentum"),
    (lambda: SGD(momentum=-0.1), "momentum"),
    (lambda: SGD(nesterov="yes"), "nesterov"),
    (lambda: Adam(learning_rate=-0.1), "learning_rate"),
    (lambda: Adam(learning_rate="0.1"), "learning_rate"),
    (lambda: Adam(learning_rate=float("nan")), "learning_rate"),
    (lambda: Adam(learning_rate=True), "learning_rate"),
    (lambda: Adam(learning_rate=1e40), "learning_rate"),  # would round to inf in float32
    (lambda: Adam(beta_1=1.0), "beta_1"),
    (lambda: Adam(beta_2=-0.1), "beta_2"),
    (lambda: Adam(epsilon=-1e-7), "epsilon"),
    (lambda: Adam(amsgrad=1), "amsgrad"),
    (lambda: Adam(weight_decay=-0.1), "weight_decay"),
    (lambda: AdamW(weight_decay=None), "weight_decay"),
    (lambda: SGD(clipnorm=0.0), "clipnorm"),
    (lambda: SGD(clipvalue=-1.0), "clipvalue"),
    (lambda: SGD(global_clipnorm=float("inf")), "global_clipnorm"),
    (lambda: RMSprop(rho=1.0), "rho"),
    (lambda: RMSprop(momentum=1.5), "momentum"),
    (lambda: RMSprop(epsilon=-1.0), "epsilon"),
    (lambda: RMSprop(centered=None), "centered"),
    (lambda: Adam(name=3), "name"),
])
def test_invalid_hyperparameters_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=f"`{argument}`.*Received: {argument}="):
        make()


def test_keras_error_texts():
    with pytest.raises(ValueError, match=r"^`momentum` must be a float between \[0, 1\]\."):
        SGD(momentum=1)
    with pytest.raises(ValueError, match=r"^Argument `weight_decay` must be a float\. "
                                         r"Received: weight_decay=None$"):
        AdamW(weight_decay=None)
    with pytest.raises(ValueError, match=r"^Only one of `clipnorm`, `clipvalue` and "
                                         r"`global_clipnorm` can be set\."):
        Adam(clipnorm=1.0, clipvalue=0.5)


def test_boundary_values_are_accepted():
    SGD(momentum=0.0), SGD(momentum=1.0), SGD(learning_rate=0.0)
    Adam(learning_rate=1, beta_1=0.0, epsilon=0.0), RMSprop(rho=0.0, momentum=1)
    assert Adam(learning_rate=np.float32(0.5)).learning_rate == 0.5


# --------------------------------------------------------------------------- flat parameter buffers
def _flat_backed(arrays):
    """Copies of ``arrays`` as views into one flat buffer (as Sequential stores its weights)."""
    flat = np.empty(sum(a.size for a in arrays), dtype=arrays[0].dtype)
    views, start = [], 0
    for a in arrays:
        view = flat[start:start + a.size].reshape(a.shape)
        view[...] = a
        views.append(view)
        start += a.size
    return views


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.Adam(learning_rate=0.01),
        lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True),
        lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
        lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
        lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
        lambda: optimizers.Adam(learning_rate=0.01, clipnorm=0.5),
    ],
)
def test_flat_buffer_path_is_bit_identical_to_per_array_updates(make):
    rng = np.random.default_rng(7)
    shapes = [(3, 5), (5,), (5, 2), (2,)]
    start = [rng.normal(size=s).astype(np.float32) for s in shapes]
    separate = [a.copy() for a in start]
    flat = _flat_backed(start)
    grad_flat = _flat_backed([np.zeros(s, np.float32) for s in shapes])
    opt_separate, opt_flat = make(), make()
    for _ in range(5):
        g = [rng.normal(size=s).astype(np.float32) for s in shapes]
        for view, value in zip(grad_flat, g):
            view[...] = value
        opt_separate.apply(separate, [x.copy() for x in g])
        opt_flat.apply(flat, grad_flat)
    assert opt_flat._flat_state is not None  # the flat path was taken
    for a, b in zip(separate, flat):
        np.testing.assert_array_equal(a, b)
    # The per-parameter state views see the flat state.
    for a, b in zip(opt_separate.variables()[2:], opt_flat.variables()[2:]):
        np.testing.assert_array_equal(a, b)


def test_flat_span_detects_back_to_back_views_only():
    flat = np.arange(10.0)
    a, b = flat[:4].reshape(2, 2), flat[4:10]
    np.testing.assert_array_equal(optimizers.flat_span([a, b]), flat)
    assert optimizers.flat_span([b, a]) is None  # out of order
    assert optimizers.flat_span([a, np.ones(6)]) is None  # another buffer
    assert optimizers.flat_span([flat[:4], flat[5:]]) is None  # a gap


# ----------------------------------------------------------------------------- learning-rate schedules
def test_a_schedule_gives_each_step_its_learning_rate():
    from logitnet.optimizers.schedules import ExponentialDecay

    schedule = ExponentialDecay(0.5, decay_steps=2, decay_rate=0.1)
    opt = SGD(learning_rate=schedule)
    w = np.array([1.0, -2.0])
    expected = w.copy()
    for step in range(5):
        g = np.array([0.3, 0.7]) * (step + 1)
        lr = float(np.float32(0.5 * 0.1 ** (step / 2)))  # the rate at iterations == step, float32 as Keras
        assert opt.learning_rate == pytest.approx(lr, rel=1e-6)
        expected -= np.float64(np.float32(opt.learning_rate)) * g
        opt.apply([w], [g.copy()])
        np.testing.assert_allclose(w, expected, rtol=1e-12)
    assert opt.iterations == 5


def test_a_scheduled_learning_rate_is_not_settable_and_round_trips_through_config():
    from logitnet.optimizers.schedules import CosineDecay

    opt = Adam(learning_rate=CosineDecay(0.01, decay_steps=100, alpha=0.1))
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    clone = Adam.from_config(opt.get_config())
    assert clone.get_config() == opt.get_config()
    assert isinstance(clone._schedule, CosineDecay) and clone.learning_rate == opt.learning_rate


@pytest.mark.parametrize(
    "make",
    [
        lambda: Adam(0.01),
        lambda: Adam(0.01, amsgrad=True, weight_decay=0.1),
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        lambda: RMSprop(0.01, centered=True, momentum=0.5),
        lambda: AdamW(0.01),
        lambda: Adam(0.01, clipnorm=0.5),
        lambda: SGD(optimizers.schedules.ExponentialDecay(0.1, 3, 0.5)),
    ],
)
def test_the_stepper_is_bit_identical_to_apply(make):
    # Two copies of the same flat-packed parameters: one updated by apply(), one by the fit loop's stepper.
    rng = np.random.default_rng(0)
    runs = []
    for _ in range(2):
        flat, gflat = np.empty(10, np.float32), np.empty(10, np.float32)
        params = [flat[:6].reshape(2, 3), flat[6:]]
        grads = [gflat[:6].reshape(2, 3), gflat[6:]]
        flat[...] = np.random.default_rng(1).standard_normal(10)
        runs.append((make(), flat, gflat, params, grads))
    (opt_a, flat_a, g_a, p_a, gr_a), (opt_b, flat_b, g_b, p_b, gr_b) = runs
    step = opt_b.stepper(p_b, gr_b)
    for _ in range(7):
        g = rng.standard_normal(10).astype(np.float32)
        g_a[...] = g
        g_b[...] = g
        opt_a.apply(p_a, gr_a)
        step()
        np.testing.assert_array_equal(flat_a, flat_b)
    assert opt_a.iterations == opt_b.iterations == 7
