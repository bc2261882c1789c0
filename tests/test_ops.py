"""Tests for logitnet.ops: reductions, one_hot and erf, against scipy and hand math.

The elementwise activations and their derivatives are tested in
tests/test_activations.py (forward formulas and finite differences).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.special as sp

from logitnet import ops


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


class strict:
    """Turn overflow/invalid/divide floating-point events and all warnings into errors."""

    def __enter__(self) -> None:
        self._err = np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")
        self._warn = warnings.catch_warnings()
        self._err.__enter__()
        self._warn.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc: object) -> None:
        self._warn.__exit__(*exc)
        self._err.__exit__(*exc)


SHAPES_AXES = [
    ((7,), None),
    ((7,), 0),
    ((7,), -1),
    ((4, 5), None),
    ((4, 5), 0),
    ((4, 5), 1),
    ((4, 5), -1),
    ((4, 5), (0, 1)),
    ((3, 4, 5), 1),
    ((3, 4, 5), (0, 2)),
    ((3, 4, 5), (-1, -2)),
    ((3, 4, 5), None),
]


# --------------------------------------------------------------------------
# logsumexp
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape, axis", SHAPES_AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_matches_scipy(rng, shape, axis, keepdims):
    x = rng.normal(scale=5.0, size=shape)
    got = ops.logsumexp(x, axis=axis, keepdims=keepdims)
    want = sp.logsumexp(x, axis=axis, keepdims=keepdims)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


def test_logsumexp_default_axis_is_none():
    x = np.log(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(ops.logsumexp(x), math.log(10.0), rtol=1e-15)
    assert ops.logsumexp(x).shape == ()
    assert float(ops.logsumexp(3.5)) == 3.5  # 0-d input, as scipy
    assert ops.logsumexp(np.float32(3.5)).dtype == np.float32


def test_logsumexp_hand_values():
    # log(2 + 3) = log 5, and ties: log(e^1000 + e^1000) = 1000 + log 2.
    assert ops.logsumexp([math.log(2.0), math.log(3.0)]) == pytest.approx(math.log(5.0), rel=1e-15)
    assert ops.logsumexp([1000.0, 1000.0]) == pytest.approx(1000.0 + math.log(2.0), rel=1e-15)
    assert ops.logsumexp([-1000.0, -1000.0, -1000.0]) == pytest.approx(
        -1000.0 + math.log(3.0), rel=1e-15
    )


def test_logsumexp_dominant_term_keeps_full_precision():
    # log(1 + e^-40) = log1p(e^-40); naive log(sum) would return exactly 0.
    got = ops.logsumexp([0.0, -40.0])
    assert got == pytest.approx(4.248354255291589e-18, rel=1e-14)
    assert got == pytest.approx(sp.logsumexp([0.0, -40.0]), rel=1e-14)
    got32 = ops.logsumexp(np.array([0.0, -20.0], np.float32))
    assert got32.dtype == np.float32
    assert got32 == pytest.approx(math.log1p(math.exp(-20.0)), rel=1e-6)


def test_logsumexp_infinities_and_nan():
    with strict():
        assert ops.logsumexp([-np.inf, -np.inf]) == -np.inf
        assert ops.logsumexp([0.0, -np.inf]) == 0.0
        assert ops.logsumexp([np.inf, 0.0]) == np.inf
        assert np.isnan(ops.logsumexp([np.nan, 0.0]))
        rows = ops.logsumexp(np.array([[-np.inf, -np.inf], [0.0, 0.0], [np.nan, 1.0]]), axis=1)
    assert rows[0] == -np.inf
    assert rows[1] == pytest.approx(math.log(2.0), rel=1e-15)
    assert np.isnan(rows[2])


def test_logsumexp_lists_ints_and_dtypes():
    got = ops.logsumexp([1, 2, 3])
    assert got.dtype == np.float64
    assert got == pytest.approx(math.log(math.e + math.e**2 + math.e**3), rel=1e-15)
    assert ops.logsumexp(np.array([[True, False]]), axis=1).dtype == np.float64
    x32 = np.array([[1.0, 2.0, 3.0]], np.float32)
    assert ops.logsumexp(x32, axis=1).dtype == np.float32


def test_logsumexp_empty():
    assert ops.logsumexp(np.array([])) == -np.inf  # as scipy: log of an empty sum
    assert ops.logsumexp(np.empty((0, 3)), axis=1).shape == (0,)
    assert ops.logsumexp(np.empty((0, 3)), axis=1, keepdims=True).shape == (0, 1)
    got = ops.logsumexp(np.empty((2, 0)), axis=1)
    assert got.shape == (2,) and np.all(got == -np.inf)


# --------------------------------------------------------------------------
# softmax and log_softmax
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape, axis", SHAPES_AXES)
def test_softmax_and_log_softmax_match_scipy(rng, shape, axis):
    x = rng.normal(scale=5.0, size=shape)
    np.testing.assert_allclose(
        ops.softmax(x, axis=axis), sp.softmax(x, axis=axis), rtol=1e-13, atol=1e-300
    )
    np.testing.assert_allclose(
        ops.log_softmax(x, axis=axis), sp.log_softmax(x, axis=axis), rtol=1e-13, atol=1e-13
    )
    np.testing.assert_allclose(
        np.sum(ops.softmax(x, axis=axis), axis=axis), 1.0, rtol=1e-14
    )


def test_softmax_default_axis_is_last(rng):
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(ops.softmax(x), sp.softmax(x, axis=-1), rtol=1e-14)
    np.testing.assert_allclose(ops.log_softmax(x), sp.log_softmax(x, axis=-1), rtol=1e-14)


def test_softmax_hand_values():
    # softmax([0, log 3]) = [1/4, 3/4]; log_softmax = [log 1/4, log 3/4].
    np.testing.assert_allclose(ops.softmax([0.0, math.log(3.0)]), [0.25, 0.75], rtol=1e-15)
    np.testing.assert_allclose(
        ops.log_softmax([0.0, math.log(3.0)]), [math.log(0.25), math.log(0.75)], rtol=1e-15
    )
    # A constant shift changes nothing.
    shifted = ops.softmax([500.0, 500.0 + math.log(3.0)])
    np.testing.assert_allclose(shifted, [0.25, 0.75], rtol=1e-13)


def test_softmax_large_logits_exact_values():
    assert ops.softmax([1000.0, 0.0]).tolist() == [1.0, 0.0]
    assert ops.softmax([1000.0, 0.0, -1000.0]).tolist() == [1.0, 0.0, 0.0]
    np.testing.assert_array_equal(ops.log_softmax([1000.0, 0.0]), [0.0, -1000.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_scaled_by_1e4_are_stable(rng, dtype):
    z64 = rng.normal(size=(16, 5)) * 1e4
    z = z64.astype(dtype)
    with strict():
        p = ops.softmax(z)
        lp = ops.log_softmax(z)
        lse = ops.logsumexp(z, axis=1)
    for arr in (p, lp, lse):
        assert arr.dtype == dtype
        assert np.all(np.isfinite(arr))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    ref = sp.log_softmax(z.astype(np.float64), axis=1)
    # Each entry is as exact as its magnitude allows ...
    np.testing.assert_allclose(lp, ref, rtol=4 * np.finfo(dtype).eps, atol=1e-30)
    # ... in particular the largest logit's log-probability, close to 0, keeps
    # absolute accuracy far below the spacing of float32 numbers near 1e4 (1e-3).
    top = np.argmax(z, axis=1)
    rows = np.arange(len(z))
    np.testing.assert_allclose(lp[rows, top], ref[rows, top], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_of_large_close_logits_is_exact(dtype):
    # 1e4 + [0, -1, -2] is exact in float32, but 1e4 + log(1 + e^-1 + e^-2)
    # is not: log_softmax must subtract the shift before adding the log-sum.
    z = np.array([[1e4, 1e4 - 1, 1e4 - 2]], dtype=dtype)
    want = sp.log_softmax([0.0, -1.0, -2.0])
    np.testing.assert_allclose(ops.log_softmax(z)[0], want, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_allclose(
        ops.softmax(z)[0], sp.softmax([0.0, -1.0, -2.0]), rtol=4 * np.finfo(dtype).eps
    )


def test_negative_infinity_entries():
    with strict():
        assert ops.softmax([0.0, -np.inf]).tolist() == [1.0, 0.0]
        assert ops.log_softmax([0.0, -np.inf]).tolist() == [0.0, -np.inf]
        p = ops.softmax(np.array([[0.0, -np.inf, math.log(3.0)], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(p[0], [0.25, 0.0, 0.75], rtol=1e-15)
    np.testing.assert_allclose(p[1], sp.softmax([1.0, 2.0, 3.0]), rtol=1e-15)


def test_nan_propagates_within_its_row_only():
    x = np.array([[np.nan, 0.0], [1.0, 2.0]])
    p = ops.softmax(x)
    lp = ops.log_softmax(x)
    assert np.all(np.isnan(p[0])) and np.all(np.isnan(lp[0]))
    np.testing.assert_allclose(p[1], sp.softmax([1.0, 2.0]), rtol=1e-15)
    np.testing.assert_allclose(lp[1], sp.log_softmax([1.0, 2.0]), rtol=1e-15)


def test_softmax_lists_ints_and_dtypes():
    p = ops.softmax([1, 2, 3])
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, sp.softmax([1.0, 2.0, 3.0]), rtol=1e-15)
    assert ops.log_softmax([[1, 2]]).dtype == np.float64
    x32 = np.array([[1.0, 2.0, 3.0]], np.float32)
    assert ops.softmax(x32).dtype == np.float32
    assert ops.log_softmax(x32).dtype == np.float32


def test_softmax_does_not_modify_input():
    x = np.array([[3.0, 1.0, -2.0]])
    before = x.copy()
    ops.softmax(x)
    ops.log_softmax(x)
    ops.logsumexp(x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
def test_softmax_empty(shape):
    x = np.empty(shape)
    with strict():
        assert ops.softmax(x).shape == shape
        assert ops.log_softmax(x).shape == shape
    assert ops.softmax(np.empty(shape, np.float32)).dtype == np.float32


# --------------------------------------------------------------------------
# Vector-Jacobian products of the softmaxes
# --------------------------------------------------------------------------


def test_softmax_vjp_matches_explicit_jacobian(rng):
    z = rng.normal(size=(3, 5))
    g = rng.normal(size=(3, 5))
    a = sp.softmax(z, axis=1)
    got = ops.softmax_vjp(g, a)
    for i in range(3):
        jac = np.diag(a[i]) - np.outer(a[i], a[i])  # d a_j / d z_k, symmetric
        np.testing.assert_allclose(got[i], jac.T @ g[i], rtol=1e-13, atol=1e-15)


def test_log_softmax_vjp_matches_explicit_jacobian(rng):
    z = rng.normal(size=(3, 5))
    g = rng.normal(size=(3, 5))
    a = sp.softmax(z, axis=1)
    got = ops.log_softmax_vjp(g, np.log(a))
    for i in range(3):
        jac = np.eye(5) - a[i][None, :]  # d log a_j / d z_k = delta_jk - a_k
        np.testing.assert_allclose(got[i], jac.T @ g[i], rtol=1e-13, atol=1e-15)


def test_softmax_vjp_along_axis_zero(rng):
    z = rng.normal(size=(4, 2))
    g = rng.normal(size=(4, 2))
    a = sp.softmax(z, axis=0)
    got = ops.softmax_vjp(g, a, axis=0)
    want = ops.softmax_vjp(g.T, a.T, axis=-1).T
    np.testing.assert_allclose(got, want, rtol=1e-14)


# --------------------------------------------------------------------------
# one_hot
# --------------------------------------------------------------------------


def test_one_hot_values_and_dtype():
    got = ops.one_hot([2, 0, 1], 4)
    want = np.array([[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32
    column = ops.one_hot(np.array([[1], [0]]), 2, dtype=np.float64)
    assert column.dtype == np.float64 and column.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert ops.one_hot([1.9, 0.0], 2).tolist() == [[0.0, 1.0], [1.0, 0.0]]  # truncation, as Keras
    assert ops.one_hot([], 3).shape == (0, 3)


@pytest.mark.parametrize("labels", [[0, 4], [-1, 0]])
def test_one_hot_rejects_out_of_range_labels(labels):
    pattern = r"label value of -?\d+ which is outside the valid range of \[0, 4\)"
    with pytest.raises(ValueError, match=pattern):
        ops.one_hot(labels, 4)


@pytest.mark.parametrize("n_classes", [0, -2, 2.5, True])
def test_one_hot_rejects_bad_n_classes(n_classes):
    with pytest.raises(ValueError, match="n_classes"):
        ops.one_hot([0], n_classes)


# --------------------------------------------------------------------------
# erf and erfc
# --------------------------------------------------------------------------

ERF_POINTS = np.concatenate(
    [
        np.linspace(-7.0, 7.0, 4001),
        np.geomspace(1e-300, 30.0, 2001),
        -np.geomspace(1e-300, 30.0, 2001),
        # Interval edges of the approximation.
        np.nextafter(0.46875, [-1.0, 2.0]),
        [0.46875, -0.46875, 4.0, -4.0, np.nextafter(4.0, 5.0), 26.5, 1e10, -1e300],
    ]
)


def test_erf_matches_scipy_and_math():
    got = ops.erf(ERF_POINTS)
    want_math = np.array([math.erf(v) for v in ERF_POINTS])
    np.testing.assert_allclose(got, want_math, rtol=1e-15, atol=0)
    np.testing.assert_allclose(got, sp.erf(ERF_POINTS), rtol=1e-15, atol=0)


def test_erfc_matches_math_in_relative_terms():
    x = ERF_POINTS[np.abs(ERF_POINTS) < 26.0]
    got = ops.erfc(x)
    want = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(got, want, rtol=2e-15, atol=0)
    # scipy's (Cephes) erfc is itself only good to ~1.4e-14 relative in the tail.
    np.testing.assert_allclose(got, sp.erfc(x), rtol=3e-14, atol=0)
    assert ops.erfc(10.0) == pytest.approx(2.088487583762545e-45, rel=1e-14)  # 1 - erf would give 0


def test_erf_special_values_and_dtypes():
    with strict():
        got = ops.erf([0.0, -0.0, np.inf, -np.inf, 1e308, -1e308])
        gotc = ops.erfc([np.inf, -np.inf, 1e308, -1e308, 30.0])
    assert got.tolist() == [0.0, 0.0, 1.0, -1.0, 1.0, -1.0]
    assert math.copysign(1.0, got[1]) == -1.0
    assert gotc.tolist() == [0.0, 2.0, 0.0, 2.0, 0.0]
    assert np.isnan(ops.erf(np.nan)) and np.isnan(ops.erfc(np.nan))
    assert ops.erf(np.float32([0.3, 1.0])).dtype == np.float32
    assert ops.erf([1, 2]).dtype == np.float64
    assert ops.erf(1.0).shape == ()
    assert ops.erf(np.empty((2, 0))).shape == (2, 0)
    assert float(ops.erf(1.0)) == pytest.approx(0.8427007929497149, rel=1e-15)
