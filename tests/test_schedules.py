"""Tests for logitnet.optimizers.schedules (Keras 3's learning-rate schedules).

References: the float64 formulas of Keras's docstrings (the float32 results must agree to
~1e-6 relative), values worked out by hand, and Keras 3.15's own float32 values recorded by
``tests/data/make_schedule_fixtures.py`` (``tests/data/schedule_fixtures.json``).
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from logitnet.optimizers import SGD, schedules
from logitnet.optimizers.schedules import (
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "data", "schedule_fixtures.json")
STEPS = [0, 1, 2, 5, 9, 10, 11, 49, 50, 99, 100, 101, 150, 999, 1000, 1001, 5000]
TINY32 = float(np.finfo(np.float32).tiny)


def f32(x):
    return float(np.float32(x))


def ulps(a, b):
    return abs(int(np.float32(a).view(np.int32)) - int(np.float32(b).view(np.int32)))


# --------------------------------------------------------------------------- float64 formulas
def exponential64(lr, s, r, staircase, t):
    p = math.floor(t / s) if staircase else t / s
    return lr * r ** p


def inverse_time64(lr, s, r, staircase, t):
    p = math.floor(t / s) if staircase else t / s
    return lr / (1 + r * p)


def cosine64(lr, s, alpha, target, warmup, t):
    if target is None:
        tau = min(t, s)
        return lr * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * tau / s)) + alpha)
    tau = min(t, s + warmup)
    if tau < warmup:
        return (target - lr) * tau / warmup + lr
    return target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * (tau - warmup) / s)) + alpha)


@pytest.mark.parametrize("lr,s,r,staircase", [(0.1, 100, 0.96, False), (0.01, 7, 0.5, True), (1.0, 2.5, 0.9, False)])
def test_exponential_decay_against_float64(lr, s, r, staircase):
    schedule = ExponentialDecay(lr, s, r, staircase=staircase)
    for t in STEPS:
        assert schedule(t) == pytest.approx(exponential64(lr, s, r, staircase, t), rel=2e-6), t


@pytest.mark.parametrize("lr,s,r,staircase", [(0.1, 1.0, 0.5, False), (0.01, 100, 0.3, True), (0.5, 13, 2.5, False)])
def test_inverse_time_decay_against_float64(lr, s, r, staircase):
    schedule = InverseTimeDecay(lr, s, r, staircase=staircase)
    for t in STEPS:
        assert schedule(t) == pytest.approx(inverse_time64(lr, s, r, staircase, t), rel=1e-6), t


@pytest.mark.parametrize("lr,s,alpha,target,warmup", [
    (0.1, 1000, 0.0, None, 0), (0.01, 100, 0.1, None, 0), (0.003, 7, 0.5, None, 40),
    (0.0, 100, 0.0, 0.1, 10), (0.001, 50, 0.2, 0.01, 100), (0.02, 3, 0.0, 0.005, 10)])
def test_cosine_decay_against_float64(lr, s, alpha, target, warmup):
    schedule = CosineDecay(lr, s, alpha=alpha, warmup_target=target, warmup_steps=warmup)
    for t in STEPS:
        expected = cosine64(lr, s, alpha, target, warmup, t)
        # Near the end of the decay, 1 + cos(.) cancels: float32 keeps ~1e-7 of the peak rate, absolutely.
        peak = max(lr, target or 0.0)
        assert schedule(t) == pytest.approx(expected, rel=1e-6, abs=2e-7 * peak), t


# --------------------------------------------------------------------------- hand values
def test_exponential_decay_by_hand():
    schedule = ExponentialDecay(0.1, 100, 0.5)
    assert schedule(0) == f32(0.1)
    assert schedule(100) == f32(0.05)  # halving a float32 is exact
    assert schedule(200) == f32(0.025)
    stairs = ExponentialDecay(0.1, 100, 0.5, staircase=True)
    assert [stairs(t) for t in (0, 99, 100, 199, 200)] == [f32(0.1), f32(0.1), f32(0.05), f32(0.05), f32(0.025)]


def test_piecewise_constant_boundaries_by_hand():
    schedule = PiecewiseConstantDecay([100, 1000], [0.1, 0.01, 0.001])
    got = [schedule(t) for t in (0, 99, 100, 101, 999, 1000, 1001, 10**6)]
    assert got == [f32(0.1), f32(0.1), f32(0.1), f32(0.01), f32(0.01), f32(0.01), f32(0.001), f32(0.001)]
    single = PiecewiseConstantDecay([0], [1.0, 0.5])
    assert [single(0), single(1)] == [1.0, 0.5]


def test_cosine_decay_by_hand():
    schedule = CosineDecay(1.0, 100)
    assert schedule(0) == 1.0
    assert schedule(50) == pytest.approx(0.5, rel=1e-7)
    assert schedule(100) == 0.0
    assert schedule(150) == 0.0  # held at the end
    floor = CosineDecay(0.5, 10, alpha=0.25)
    assert floor(10) == floor(11) == floor(10**6) == 0.125  # alpha * initial
    assert floor(5) == pytest.approx(0.5 * (0.75 * 0.5 + 0.25), rel=1e-7)


def test_cosine_decay_warmup_by_hand():
    schedule = CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10)
    assert schedule(0) == 0.0
    assert schedule(5) == f32(0.05)
    assert schedule(10) == f32(0.1)  # end of warmup: the decay starts from the target
    assert schedule(60) == pytest.approx(0.05, rel=1e-6)
    assert schedule(110) == 0.0 and schedule(500) == 0.0
    # warmup_steps without warmup_target: ignored, as in Keras
    assert CosineDecay(0.2, 10, warmup_steps=5)(0) == f32(0.2)


def test_inverse_time_decay_by_hand():
    schedule = InverseTimeDecay(0.1, 1.0, 0.5)
    assert schedule(0) == f32(0.1)
    assert schedule(2) == f32(0.05)
    stairs = InverseTimeDecay(0.1, 10, 1.0, staircase=True)
    assert [stairs(9), stairs(10), stairs(19), stairs(20)] == [f32(0.1), f32(0.05), f32(0.05), f32(0.1 / 3)]


def test_values_are_python_floats_holding_float32_values():
    for schedule in (ExponentialDecay(0.1, 7, 0.9), CosineDecay(0.1, 7), InverseTimeDecay(0.1, 7, 0.3),
                     PiecewiseConstantDecay([3], [0.1, 0.01])):
        for t in (0, 3, 8):
            value = schedule(t)
            assert type(value) is float
            assert f32(value) == value


# --------------------------------------------------------------------------- Keras's own values
def fixture_cases():
    with open(FIXTURES) as f:
        return json.load(f)["cases"]


def test_agrees_with_keras_float32_values():
    exact = total = 0
    for case in fixture_cases():
        schedule = schedules.deserialize({"class_name": case["class_name"], "config": case["config"]})
        transcendental = case["class_name"] in ("ExponentialDecay", "CosineDecay")
        for step, keras_value in zip(case["steps"], case["values"]):
            ours = schedule(step)
            total += 1
            if abs(keras_value) < TINY32:  # TensorFlow flushes subnormal float32 results to zero
                assert abs(ours) < TINY32, (case, step)
                exact += 1
                continue
            distance = ulps(ours, keras_value)
            exact += distance == 0
            # cos and pow may differ by one unit in the last place from TensorFlow's kernels
            assert distance <= (1 if transcendental else 0), (case, step, ours, keras_value)
    assert total > 250
    assert exact >= 0.97 * total  # the same float32 operations in the same order


# --------------------------------------------------------------------------- optimizer
def test_sgd_uses_the_rate_of_each_step():
    schedule = ExponentialDecay(0.5, 1, 0.5)  # 0.5, 0.25, 0.125, ...
    optimizer = SGD(learning_rate=schedule)
    p = np.array([1.0], dtype=np.float32)
    for t in range(3):
        assert optimizer.learning_rate == 0.5 * 0.5 ** t
        optimizer.apply([p], [np.array([1.0], dtype=np.float32)])
    np.testing.assert_array_equal(p, [1.0 - 0.5 - 0.25 - 0.125])
    with pytest.raises(TypeError):
        optimizer.learning_rate = 0.1


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("make,match", [
    (lambda: ExponentialDecay(0.1, 0, 0.9), r"`decay_steps` must be a positive number .*Received: decay_steps=0"),
    (lambda: InverseTimeDecay(0.1, -5, 0.9), r"Received: decay_steps=-5"),
    (lambda: CosineDecay(0.1, float("inf")), r"Received: decay_steps=inf"),
    (lambda: ExponentialDecay(-0.1, 10, 0.9),
     r"`initial_learning_rate` must be .*Received: initial_learning_rate=-0.1"),
    (lambda: ExponentialDecay(float("nan"), 10, 0.9), r"Received: initial_learning_rate=nan"),
    (lambda: ExponentialDecay(0.1, 10, -0.5), r"`decay_rate` must be a non-negative float"),
    (lambda: InverseTimeDecay(0.1, 10, "0.5"), r"Received: decay_rate='0.5'"),
    (lambda: ExponentialDecay(0.1, 10, 0.9, staircase=1), r"`staircase` must be a bool"),
    (lambda: ExponentialDecay(0.1, 10, 0.9, name=7), r"`name` must be a string"),
    (lambda: CosineDecay(0.1, 10, alpha=1.5), r"`alpha` must be a float in \[0, 1\]. Received: alpha=1.5"),
    (lambda: CosineDecay(0.1, 10, warmup_target=-1.0), r"Received: warmup_target=-1.0"),
    (lambda: CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=-1), r"Received: warmup_steps=-1"),
    (lambda: PiecewiseConstantDecay([10], [0.1]),
     (r"The length of boundaries should be 1 less than the length of values. Received: boundaries=\[10\] of length 1, "
      r"and values=\[0.1\] of length 1.")),
    (lambda: PiecewiseConstantDecay([], [0.1]), r"`boundaries` must hold at least one step count"),
    (lambda: PiecewiseConstantDecay([10, 10], [0.1, 0.2, 0.3]), r"`boundaries` must be strictly increasing"),
    (lambda: PiecewiseConstantDecay([10], [0.1, -0.2]), r"Received: values=-0.2"),
    (lambda: PiecewiseConstantDecay(10, [0.1, 0.2]), r"`boundaries` must be a list of numbers"),
    (lambda: PiecewiseConstantDecay([10], [0.1, float("nan")]), r"`values` must be a list of finite numbers"),
])
def test_invalid_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --------------------------------------------------------------------------- config
ALL = [
    ExponentialDecay(0.1, 100, 0.96, staircase=True, name="exp"),
    PiecewiseConstantDecay([100, 1000], [0.1, 0.01, 0.001]),
    CosineDecay(0.0, 1000, alpha=0.1, warmup_target=0.1, warmup_steps=100),
    CosineDecay(0.1, 1000),
    InverseTimeDecay(0.1, 1.0, 0.5),
]


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_serialize_round_trip(schedule):
    data = json.loads(json.dumps(schedules.serialize(schedule)))
    assert data["class_name"] == type(schedule).__name__
    clone = schedules.deserialize(data)
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert [clone(t) for t in STEPS] == [schedule(t) for t in STEPS]
    assert type(schedule).from_config(schedule.get_config()).get_config() == schedule.get_config()


def test_config_keys_and_values_as_keras():
    assert list(CosineDecay(0.1, 1000).get_config().items()) == [
        ("initial_learning_rate", 0.1), ("decay_steps", 1000), ("alpha", 0.0), ("name", "CosineDecay"),
        ("warmup_target", None), ("warmup_steps", 0)]
    assert list(ExponentialDecay(0.1, 100, 0.96).get_config().items()) == [
        ("initial_learning_rate", 0.1), ("decay_steps", 100), ("decay_rate", 0.96), ("staircase", False),
        ("name", "ExponentialDecay")]
    assert InverseTimeDecay(0.1, 10, 0.5).get_config()["name"] == "InverseTimeDecay"
    assert PiecewiseConstantDecay((np.int64(5),), (0.1, np.float32(0.5))).get_config() == {
        "boundaries": [5], "values": [0.1, 0.5], "name": "PiecewiseConstant"}


def test_deserialize_accepts_keras_form_and_custom_classes():
    keras_form = {"module": "keras.optimizers.schedules", "class_name": "InverseTimeDecay",
                  "config": {"initial_learning_rate": 0.1, "decay_steps": 1.0, "decay_rate": 0.5,
                             "staircase": False, "name": "InverseTimeDecay"}, "registered_name": None}
    assert schedules.deserialize(keras_form)(2) == f32(0.05)

    class Halving(LearningRateSchedule):
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, step):
            return self.rate / 2 ** step

        def get_config(self):
            return {"rate": self.rate}

    data = schedules.serialize(Halving(1.0))
    assert schedules.deserialize(data, custom_objects={"Halving": Halving})(3) == 0.125
    with pytest.raises(ValueError, match=r"Could not interpret learning rate schedule config.*Received: config="):
        schedules.deserialize(data)


@pytest.mark.parametrize("bad", [{"class_name": "Nope", "config": {}}, {"class_name": "CosineDecay"},
                                 "CosineDecay", None])
def test_deserialize_rejects_bad_input(bad):
    with pytest.raises(ValueError, match=r"Could not interpret learning rate schedule config"):
        schedules.deserialize(bad)


def test_serialize_rejects_non_schedules():
    with pytest.raises(ValueError, match=r"Received: learning_rate_schedule=0.1"):
        schedules.serialize(0.1)


def test_base_class_must_be_overridden():
    with pytest.raises(NotImplementedError, match=r"must override `__call__\(self, step\)`"):
        LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match=r"must override `get_config\(\)`"):
        schedules.serialize(LearningRateSchedule())


def test_name_none_gives_the_keras_default_names():
    assert ExponentialDecay(0.1, 10, 0.9, name=None).name == "ExponentialDecay"
    assert InverseTimeDecay(0.1, 10, 0.9).get_config()["name"] == "InverseTimeDecay"
