"""Tests for logitnet.regularizers (Keras 3's L1, L2, L1L2).

References: penalties worked out by hand (factors exact in binary, so the float32
rounding of the factor does not matter), values measured with Keras 3.15 / TensorFlow 2.21
(quoted below), gradients against the float64 formulas and against central finite
differences of the penalty.
"""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from logitnet import regularizers
from logitnet.regularizers import L1, L1L2, L2, Regularizer

W = np.array([[1.5, -2.0], [0.0, 3.0]])  # sum |w| = 6.5, sum w^2 = 15.25


# --------------------------------------------------------------------------- penalties
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_penalties_by_hand(dtype):
    w = W.astype(dtype)
    assert L1(0.25)(w) == 0.25 * 6.5
    assert L2(0.25)(w) == 0.25 * 15.25
    assert L1L2(0.25, 0.5)(w) == 0.25 * 6.5 + 0.5 * 15.25
    assert L1L2(l2=0.5)(w) == 0.5 * 15.25
    assert L1L2(l1=0.25)(w) == 0.25 * 6.5
    assert L1L2()(w) == 0.0
    assert isinstance(L2(0.25)(w), float)


def test_penalties_match_keras_float64():
    # keras.regularizers.L1(0.1)(x) etc. with x = W as float64, Keras 3.15 (TensorFlow backend):
    # Keras casts the factor through float32, hence the digits after 0.65.
    assert L1(0.1)(W) == 0.6500000096857548
    assert L2(0.1)(W) == 1.5250000227242708
    assert L1L2(0.1, 0.2)(W) == 3.7000000551342964


def test_penalties_match_keras_float32():
    # The same in float32: Keras printed 0.65000004 and 1.525.
    w = W.astype(np.float32)
    assert np.float32(L1(0.1)(w)) == np.float32("0.65000004")
    assert np.float32(L2(0.1)(w)) == np.float32("1.525")


def test_penalty_of_random_weights_against_float64_formula():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(7, 5))
    c1, c2 = float(np.float32(0.03)), float(np.float32(0.07))
    expected = c1 * np.abs(w).sum() + c2 * (w ** 2).sum()
    assert L1L2(0.03, 0.07)(w) == pytest.approx(expected, rel=1e-13)
    w32 = w.astype(np.float32)
    assert L1L2(0.03, 0.07)(w32) == pytest.approx(expected, rel=1e-5)


# --------------------------------------------------------------------------- gradients
def numerical_gradient(reg, w, h=1e-6):
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        wp, wm = w.copy(), w.copy()
        wp[i] += h
        wm[i] -= h
        g[i] = (reg(wp) - reg(wm)) / (2 * h)
    return g


@pytest.mark.parametrize("reg", [L1(0.3), L2(0.2), L1L2(0.3, 0.2), L1L2(l2=0.7), L1L2(l1=0.4)], ids=repr)
def test_gradient_against_finite_differences(reg):
    rng = np.random.default_rng(1)
    w = rng.normal(size=(4, 3))
    w[np.abs(w) < 0.05] = 0.5  # keep away from the kink of |w|
    g = np.zeros_like(w)
    reg.add_gradient(w, g)
    np.testing.assert_allclose(g, numerical_gradient(reg, w), rtol=1e-7, atol=1e-9)


def test_gradient_formulas_float64():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(6, 2))
    w[0, 0] = 0.0
    g0 = rng.normal(size=w.shape)
    c1, c2 = float(np.float32(0.3)), float(np.float32(0.2))
    g = g0.copy()
    L1L2(0.3, 0.2).add_gradient(w, g)
    np.testing.assert_allclose(g, g0 + c1 * np.sign(w) + 2 * c2 * w, rtol=1e-15, atol=1e-15)


def test_l1_gradient_is_zero_at_zero_and_accumulates_in_place():
    w = np.array([[0.0, -1.0, 2.0]], dtype=np.float32)
    g = np.full_like(w, 10.0)
    target = g
    L1(0.5).add_gradient(w, g)
    assert g is target
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [[10.0, 9.5, 10.5]])


def test_l2_gradient_by_hand_float32():
    w = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    g = np.array([1.0, 1.0, 1.0], dtype=np.float32)
    L2(0.25).add_gradient(w, g)
    np.testing.assert_array_equal(g, [1.5, 0.0, 1.25])  # g + 2 * 0.25 * w
    assert g.dtype == np.float32


def test_float32_gradient_close_to_float64_formula():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(5, 5)).astype(np.float32)
    g = np.zeros_like(w)
    L1L2(0.01, 0.02).add_gradient(w, g)
    w64 = w.astype(np.float64)
    np.testing.assert_allclose(g, 0.01 * np.sign(w64) + 0.04 * w64, rtol=1e-6)


def test_one_instance_serves_weights_of_several_shapes():
    reg = L1L2(0.5, 0.25)
    a, b = np.ones((3, 2)), -np.ones(4)
    ga, gb = np.zeros_like(a), np.zeros_like(b)
    reg.add_gradient(a, ga)
    reg.add_gradient(b, gb)
    reg.add_gradient(a.astype(np.float32), np.zeros((3, 2), dtype=np.float32))
    np.testing.assert_array_equal(ga, np.full((3, 2), 0.5 + 0.5))
    np.testing.assert_array_equal(gb, np.full(4, -0.5 - 0.5))
    assert reg(a) == 0.5 * 6 + 0.25 * 6
    assert reg(b) == 0.5 * 4 + 0.25 * 4


# --------------------------------------------------------------------------- constructors
def test_defaults_and_aliases_as_keras():
    assert L1().l1 == 0.01 and L2().l2 == 0.01
    assert (L1L2().l1, L1L2().l2) == (0.0, 0.0)
    assert L1(None).l1 == 0.01 and L2(None).l2 == 0.01
    assert (L1L2(None, None).l1, L1L2(None, None).l2) == (0.0, 0.0)
    assert regularizers.l1 is L1 and regularizers.l2 is L2 and regularizers.l1_l2 is L1L2
    assert isinstance(L1(np.float32(0.5)).l1, float)


@pytest.mark.parametrize("cls,name", [(L1, "l1"), (L2, "l2")])
@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True, 1e39, [0.1]])
def test_invalid_factors_raise(cls, name, bad):
    with pytest.raises(ValueError, match=rf"Argument `{name}` must be a non-negative float\. Received: {name}="):
        cls(bad)


def test_invalid_l1l2_names_the_argument():
    with pytest.raises(ValueError, match=r"Received: l2=-1"):
        L1L2(0.1, -1)
    with pytest.raises(ValueError, match=r"Received: l1=nan"):
        L1L2(float("nan"), 0.1)


# --------------------------------------------------------------------------- config, get, serialize
@pytest.mark.parametrize("reg", [L1(0.3), L2(0.02), L1L2(0.1, 0.2), L1L2()], ids=repr)
def test_config_round_trip(reg):
    config = json.loads(json.dumps(reg.get_config()))
    clone = type(reg).from_config(config)
    assert clone.get_config() == reg.get_config()
    assert regularizers.get(json.loads(json.dumps(regularizers.serialize(reg)))).get_config() == reg.get_config()


def test_serialize_format():
    assert regularizers.serialize(L2()) == {"class_name": "L2", "config": {"l2": 0.01}}
    assert regularizers.serialize(L1L2(0.1, 0.2)) == {"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}
    assert regularizers.serialize(None) is None
    with pytest.raises(ValueError, match=r"Received: regularizer='l2'"):
        regularizers.serialize("l2")


def test_get_resolves_identifiers():
    reg = L2(0.3)
    assert regularizers.get(None) is None
    assert regularizers.get(reg) is reg
    assert type(regularizers.get(L1)) is L1
    for name, cls, config in [("l1", L1, {"l1": 0.01}), ("L1", L1, {"l1": 0.01}), ("l2", L2, {"l2": 0.01}),
                              ("L2", L2, {"l2": 0.01}), ("L1L2", L1L2, {"l1": 0.0, "l2": 0.0}),
                              ("l1l2", L1L2, {"l1": 0.0, "l2": 0.0}),
                              ("l1_l2", L1L2, {"l1": 0.01, "l2": 0.01})]:
        got = regularizers.get(name)
        assert type(got) is cls and got.get_config() == config, name
    got = regularizers.get({"class_name": "L2", "config": {"l2": 0.5}})
    assert type(got) is L2 and got.l2 == 0.5
    keras_form = {"module": "keras.regularizers", "class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2},
                  "registered_name": None}
    assert regularizers.get(keras_form).get_config() == {"l1": 0.1, "l2": 0.2}


@pytest.mark.parametrize("bad", [5, "foo", "l3", {"class_name": "Nope", "config": {}}, {"config": {}}, [0.1],
                                 lambda w: 0.0])
def test_get_rejects_anything_else(bad):
    with pytest.raises(ValueError, match=r"Could not interpret regularizer identifier: .*Received: regularizer="):
        regularizers.get(bad)


# --------------------------------------------------------------------------- base class and copies
def test_base_class_is_the_zero_penalty():
    reg = Regularizer()
    w = np.ones(3)
    g = np.zeros(3)
    assert reg(w) == 0.0
    reg.add_gradient(w, g)
    np.testing.assert_array_equal(g, 0.0)
    with pytest.raises(NotImplementedError):
        reg.get_config()


def test_subclass_without_add_gradient_cannot_train():
    class Penalty(Regularizer):
        def __call__(self, w):
            return float(np.sum(w))

    with pytest.raises(NotImplementedError, match=r"must override `add_gradient\(w, g\)`"):
        Penalty().add_gradient(np.ones(2), np.zeros(2))


def test_copies_and_pickles_behave_like_the_original():
    reg = L1L2(0.5, 0.25)
    w = np.array([1.0, -2.0])
    reg(w)  # creates a scratch array
    for clone in (copy.deepcopy(reg), pickle.loads(pickle.dumps(reg))):
        assert "_buffers" not in clone.__dict__
        assert clone(w) == reg(w) == 0.5 * 3 + 0.25 * 5
        g = np.zeros(2)
        clone.add_gradient(w, g)
        np.testing.assert_array_equal(g, [0.5 + 0.5, -0.5 - 1.0])
