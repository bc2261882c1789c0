"""Tests for logitnet.initializers against Keras's formulas and measured numbers (keras-parity.md §1).

Distributions are checked statistically on large kernels; the truncated-normal
constants come from scipy.stats.truncnorm, not from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from logitnet import initializers
from logitnet.initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Initializer,
    Ones,
    RandomUniform,
    Zeros,
)

TRUNC = stats.truncnorm(-2.0, 2.0)  # unit normal truncated at 2 std
TRUNC_STD = TRUNC.std()  # 0.8796...
P_ABOVE_ONE = float(TRUNC.sf(1.0) * 2)  # P(|Z| > 1) for the truncated unit normal


def _draw(init, shape, dtype="float64", seed=0):
    return init(shape, dtype, np.random.default_rng(seed))


# ----------------------------------------------------------------------------- uniform
def test_glorot_uniform_keras_numbers_500x1000():
    w = _draw(GlorotUniform(), (500, 1000), dtype="float32")
    assert w.shape == (500, 1000) and w.dtype == np.float32
    limit = np.sqrt(6.0 / 1500.0)
    assert limit == pytest.approx(0.0632456, abs=1e-7)
    assert np.max(np.abs(w)) <= 0.0632456
    assert np.max(np.abs(w)) > 0.999 * limit  # fills the interval
    assert np.std(w, dtype=np.float64) == pytest.approx(0.03651, rel=5e-3)
    assert np.std(w, dtype=np.float64) == pytest.approx(limit / np.sqrt(3.0), rel=5e-3)
    assert abs(np.mean(w, dtype=np.float64)) < 5 * limit / np.sqrt(3.0) / np.sqrt(w.size)


def test_glorot_uniform_is_uniform():
    w = _draw(GlorotUniform(), (200, 300)).ravel()
    limit = np.sqrt(6.0 / 500.0)
    assert stats.kstest(w, stats.uniform(-limit, 2 * limit).cdf).pvalue > 1e-3


def test_he_uniform_bound_uses_fan_in_only():
    w = _draw(HeUniform(), (400, 50))
    limit = np.sqrt(6.0 / 400.0)
    assert np.max(np.abs(w)) <= limit
    assert np.max(np.abs(w)) > 0.99 * limit
    assert np.std(w) == pytest.approx(limit / np.sqrt(3.0), rel=2e-2)


def test_one_dimensional_shape_uses_size_as_both_fans():
    # Keras's compute_fans: for shape (n,), fan_in = fan_out = n.
    w = _draw(GlorotUniform(), (20000,))
    limit = np.sqrt(6.0 / 40000.0)
    assert np.max(np.abs(w)) <= limit
    assert np.std(w) == pytest.approx(limit / np.sqrt(3.0), rel=3e-2)


# ----------------------------------------------------------------------------- truncated normal
@pytest.mark.parametrize(
    "init, std",
    [
        (GlorotNormal(), np.sqrt(2.0 / (500 + 1000))),
        (HeNormal(), np.sqrt(2.0 / 500)),
    ],
)
def test_truncated_normal_std_and_cutoff(init, std):
    w = _draw(init, (500, 1000))
    sigma = std / TRUNC_STD  # the underlying normal's std, chosen so the truncated draw has variance std**2
    assert np.std(w) == pytest.approx(std, rel=5e-3)
    assert abs(np.mean(w)) < 5 * std / np.sqrt(w.size)
    assert np.max(np.abs(w)) <= 2.0 * sigma
    assert np.max(np.abs(w)) > 1.99 * sigma  # truncated, not clipped to a smaller range
    # Shape: a truncated normal, not a clipped one (no mass piled at the cutoff) and not a uniform.
    assert np.mean(np.abs(w) > sigma) == pytest.approx(P_ABOVE_ONE, abs=5e-3)
    assert np.mean(np.abs(w) > 1.999 * sigma) < 1e-3


def test_truncated_normal_matches_scipy_distribution():
    w = _draw(HeNormal(), (300, 200)).ravel()
    sigma = np.sqrt(2.0 / 300) / TRUNC_STD
    assert stats.kstest(w / sigma, TRUNC.cdf).pvalue > 1e-3


# ----------------------------------------------------------------------------- random uniform
def test_random_uniform_defaults_are_kerass_plus_minus_0_05():
    init = RandomUniform()
    assert (init.minval, init.maxval, init.seed) == (-0.05, 0.05, None)
    w = _draw(init, (400, 500), dtype="float32")
    assert w.shape == (400, 500) and w.dtype == np.float32
    assert w.min() >= np.float32(-0.05) and w.max() <= np.float32(0.05)
    assert w.min() < -0.0499 and w.max() > 0.0499  # fills the interval


@pytest.mark.parametrize("minval, maxval", [(-0.3, 0.3), (0.5, 2.0), (-7.0, -6.5)])
def test_random_uniform_bounds_and_moments(minval, maxval):
    w = _draw(RandomUniform(minval, maxval), (300, 400), seed=1).ravel()
    n, width = w.size, maxval - minval
    assert w.min() >= minval and w.max() < maxval  # [minval, maxval), as Keras documents
    # U(a, b): mean (a + b) / 2, variance (b - a)^2 / 12; 5 standard errors.
    assert abs(w.mean() - (minval + maxval) / 2) < 5 * width / np.sqrt(12 * n)
    assert abs(w.var() - width**2 / 12) < 5 * width**2 * np.sqrt(1 / 180 / n)  # var of (U-mu)^2 is w^4/180
    assert stats.kstest(w, stats.uniform(minval, width).cdf).pvalue > 1e-3


def test_random_uniform_any_shape_and_fans_are_ignored():
    w = _draw(RandomUniform(-1.0, 1.0), (3, 4, 5))
    assert w.shape == (3, 4, 5)
    assert np.all(np.abs(w) <= 1.0)
    assert _draw(RandomUniform(), ()).shape == ()


def test_random_uniform_without_seed_draws_from_the_given_generator():
    np.testing.assert_array_equal(
        _draw(RandomUniform(-0.2, 0.7), (5, 3), seed=4), np.random.default_rng(4).uniform(-0.2, 0.7, (5, 3))
    )
    rng = np.random.default_rng(0)
    init = RandomUniform()
    assert not np.array_equal(init((4,), "float64", rng), init((4,), "float64", rng))


def test_random_uniform_int_seed_repeats_and_leaves_the_model_generator_alone():
    # Keras 3: an initializer seeded with an int gives the same values at every call.
    init = RandomUniform(-1.0, 1.0, seed=123)
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    a = init((6, 2), "float64", rng)
    b = init((6, 2), "float64", np.random.default_rng(99))
    assert rng.bit_generator.state == before
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.default_rng(123).uniform(-1.0, 1.0, (6, 2)))
    assert not np.array_equal(a, RandomUniform(-1.0, 1.0, seed=124)((6, 2), "float64", rng))


def test_random_uniform_generator_seed_is_advanced():
    seed = np.random.default_rng(5)
    init = RandomUniform(seed=seed)
    first = init((3,), "float64", np.random.default_rng(0))
    second = init((3,), "float64", np.random.default_rng(0))
    reference = np.random.default_rng(5)
    np.testing.assert_array_equal(first, reference.uniform(-0.05, 0.05, 3))
    np.testing.assert_array_equal(second, reference.uniform(-0.05, 0.05, 3))


def test_random_uniform_equal_bounds_give_a_constant():
    np.testing.assert_array_equal(_draw(RandomUniform(0.25, 0.25), (2, 3)), np.full((2, 3), 0.25))


def test_random_uniform_config_round_trip_and_repr():
    init = RandomUniform(-0.1, 0.2, seed=3)
    assert init.get_config() == {"minval": -0.1, "maxval": 0.2, "seed": 3}
    again = RandomUniform.from_config(init.get_config())
    np.testing.assert_array_equal(_draw(again, (4, 4)), _draw(init, (4, 4)))
    assert repr(init) == "RandomUniform(minval=-0.1, maxval=0.2, seed=3)"


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(minval="a"), "minval"),
        (dict(minval=float("nan")), "minval"),
        (dict(maxval=float("inf")), "maxval"),
        (dict(maxval=True), "maxval"),
        (dict(minval=1.0, maxval=0.5), "maxval"),
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(seed="0"), "seed"),
        (dict(seed=np.random.RandomState(0)), "seed"),
    ],
)
def test_random_uniform_invalid_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`") as info:
        RandomUniform(**kwargs)
    assert f"Received: {name}=" in str(info.value)


# ----------------------------------------------------------------------------- constants, dtype, seeds
@pytest.mark.parametrize("init, value", [(Zeros(), 0.0), (Ones(), 1.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64", np.float32])
def test_constant_initializers(init, value, dtype):
    w = _draw(init, (3, 4), dtype=dtype)
    assert w.shape == (3, 4) and w.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(w, np.full((3, 4), value))


@pytest.mark.parametrize("cls", [GlorotUniform, GlorotNormal, HeUniform, HeNormal, Zeros, Ones, RandomUniform])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_and_shape_honoured(cls, dtype):
    w = _draw(cls(), [6, 5], dtype=dtype)  # a list shape is accepted too
    assert w.shape == (6, 5)
    assert w.dtype == np.dtype(dtype)


@pytest.mark.parametrize("cls", [GlorotUniform, GlorotNormal, HeUniform, HeNormal, RandomUniform])
def test_same_seed_identical_different_seed_differs(cls):
    a = _draw(cls(), (30, 20), seed=5)
    b = _draw(cls(), (30, 20), seed=5)
    c = _draw(cls(), (30, 20), seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_draws_advance_the_given_generator():
    rng = np.random.default_rng(0)
    a = GlorotUniform()((4, 4), "float64", rng)
    b = GlorotUniform()((4, 4), "float64", rng)
    assert not np.array_equal(a, b)


def test_float32_draw_is_the_float64_draw_rounded():
    w64 = _draw(GlorotNormal(), (10, 10), dtype="float64", seed=3)
    w32 = _draw(GlorotNormal(), (10, 10), dtype="float32", seed=3)
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


# ----------------------------------------------------------------------------- get
@pytest.mark.parametrize(
    "identifier, cls",
    [
        ("glorot_uniform", GlorotUniform),
        ("glorot_normal", GlorotNormal),
        ("he_uniform", HeUniform),
        ("he_normal", HeNormal),
        ("zeros", Zeros),
        ("ones", Ones),
        ("GlorotUniform", GlorotUniform),
        ("GlorotNormal", GlorotNormal),
        ("HeUniform", HeUniform),
        ("HeNormal", HeNormal),
        ("Zeros", Zeros),
        ("Ones", Ones),
        ("random_uniform", RandomUniform),
        ("RandomUniform", RandomUniform),
    ],
)
def test_get_by_name(identifier, cls):
    init = initializers.get(identifier)
    assert type(init) is cls
    assert isinstance(init, Initializer)


def test_get_returns_instances_unchanged():
    init = HeNormal()
    assert initializers.get(init) is init


def test_names_are_keras_snake_case():
    assert [c.name for c in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, Zeros, Ones, RandomUniform)] == [
        "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros", "ones", "random_uniform",
    ]


def test_get_by_name_gives_random_uniform_defaults():
    init = initializers.get("random_uniform")
    assert (init.minval, init.maxval, init.seed) == (-0.05, 0.05, None)


@pytest.mark.parametrize("identifier", ["foo", "glorot", "", 3, None])
def test_get_unknown_lists_valid_names(identifier):
    with pytest.raises(ValueError) as info:
        initializers.get(identifier)
    message = str(info.value)
    assert message.startswith("Could not interpret initializer identifier")
    for name in ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros", "ones", "random_uniform"):
        assert name in message
