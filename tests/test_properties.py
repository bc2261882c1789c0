"""Property-based tests (hypothesis) for logitnet.ops and logitnet.losses.

Independent references: the mathematical identities themselves (rows sum to 1,
shift invariance, log_softmax == log(softmax)), the from-probabilities loss path
against the from-logits one, and central finite differences for gradients.
Logits cover float32 and float64, 0 rows, 1 class, up to 200 classes and
extreme magnitudes (up to ~1e34 in float32, ~1e304 in float64); never NaN/inf.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from logitnet import losses, ops

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
FAST = settings(SETTINGS, max_examples=60)

DTYPES = (np.float32, np.float64)
# Per-dtype tolerance for "sums to 1" with up to 200 terms.
SUM_ATOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}
SCALES = {
    np.dtype(np.float32): (1.0, 1e-30, 1e-6, 1e3, 1e8, 1e15, 1e30),  # |z| <= 1e34 < 3.4e38
    np.dtype(np.float64): (1.0, 1e-30, 1e-6, 1e3, 1e8, 1e15, 1e30, 1e300),  # |z| <= 1e304
}

n_rows = st.integers(0, 20)
n_classes = st.one_of(st.integers(1, 50), st.integers(51, 200))


@st.composite
def logits(draw, dtypes=DTYPES, rows=n_rows, classes=n_classes, lo=-1e4, hi=1e4, scaled=True):
    """Finite (n, C) logits: base elements in [lo, hi] times a scale in SCALES[dtype]."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape = (draw(rows), draw(classes))
    width = 32 if dtype == np.float32 else 64
    elems = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=width)
    z = draw(arrays(dtype, shape, elements=elems))
    if scaled:
        scale = draw(st.sampled_from(SCALES[dtype]))
        z = (z.astype(np.float64) * scale).astype(dtype)
    assert np.isfinite(z).all()
    return z


@st.composite
def exact_shift_case(draw):
    """Logits and a per-row shift c such that z + c is computed exactly.

    ``z = k * 2**q`` and ``c = j * 2**q`` with |k| <= 2**20, |j| <= 2**22: every
    sum is a multiple of 2**q below 2**23 * 2**q, representable in float32 too.
    """
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    qmax = 100 if dtype == np.float32 else 900
    q = draw(st.integers(-qmax, qmax))
    n, c = draw(n_rows), draw(n_classes)
    k = draw(arrays(np.int64, (n, c), elements=st.integers(-(2**20), 2**20)))
    j = draw(arrays(np.int64, (n, 1), elements=st.integers(-(2**22), 2**22)))
    unit = np.ldexp(1.0, q)
    z = (k * unit).astype(dtype)
    shift = (j * unit).astype(dtype)
    return z, shift


def _labels(draw, n: int, c: int) -> np.ndarray:
    return draw(arrays(np.intp, (n,), elements=st.integers(0, c - 1)))


@st.composite
def sparse_case(draw, **kw):
    z = draw(logits(**kw))
    return _labels(draw, z.shape[0], z.shape[1]), z


# ---------------------------------------------------------------- softmax
@SETTINGS
@given(logits())
@example(np.zeros((0, 5), np.float32))
@example(np.full((3, 1), 1e30, np.float64))
@example(np.array([[1e34, -1e34, 0.0]], np.float32))
@example(np.array([[1e304, -1e304] * 100], np.float64))
def test_softmax_rows_sum_to_one_and_lie_in_unit_interval(z):
    p = ops.softmax(z)
    assert p.shape == z.shape and p.dtype == z.dtype
    assert np.isfinite(p).all()
    assert (p >= 0).all() and (p <= 1).all()
    sums = p.astype(np.float64).sum(axis=-1)
    np.testing.assert_allclose(sums, 1.0, rtol=0, atol=SUM_ATOL[z.dtype])
    # The largest logit always gets the largest probability.
    if z.size:
        rows = np.arange(z.shape[0])
        assert (p[rows, z.argmax(axis=-1)] == p.max(axis=-1)).all()


@SETTINGS
@given(exact_shift_case())
def test_softmax_is_shift_invariant(case):
    z, c = case
    shifted = z + c
    assert np.isfinite(shifted).all()
    # The shift is exact (see exact_shift_case), so only softmax's own rounding may differ.
    np.testing.assert_allclose(ops.softmax(shifted), ops.softmax(z), rtol=SUM_ATOL[z.dtype], atol=1e-30)
    np.testing.assert_allclose(
        ops.log_softmax(shifted), ops.log_softmax(z), rtol=SUM_ATOL[z.dtype], atol=SUM_ATOL[z.dtype]
    )


# ---------------------------------------------------------------- log_softmax / logsumexp
@SETTINGS
@given(logits())
@example(np.array([[0.0, -1e4, 1e4]], np.float32))
@example(np.zeros((2, 1), np.float64))
def test_log_softmax_nonpositive_and_equals_log_of_softmax(z):
    ls = ops.log_softmax(z)
    assert ls.shape == z.shape and ls.dtype == z.dtype
    assert np.isfinite(ls).all()
    assert (ls <= 0).all()
    p = ops.softmax(z)
    info = np.finfo(z.dtype)
    ok = p > info.tiny
    with np.errstate(divide="ignore"):
        logp = np.log(p.astype(np.float64))
    # log_softmax = s - r with s = z - max exact; both sides carry a few ulps of |result|.
    tol = 16 * float(info.eps) * (1.0 + np.abs(ls[ok].astype(np.float64)))
    assert (np.abs(ls[ok] - logp[ok]) <= tol).all()
    # Single-class rows: log_softmax is exactly 0.
    if z.shape[1] == 1:
        assert (ls == 0).all()


@SETTINGS
@given(logits())
def test_logsumexp_finite_and_bounded(z):
    lse = ops.logsumexp(z, axis=-1)
    assert lse.shape == z.shape[:1]
    assert np.isfinite(lse).all()
    if z.size:
        m = z.max(axis=-1).astype(np.float64)
        info = np.finfo(z.dtype)
        slack = 4 * float(info.eps) * (1.0 + np.abs(m))
        # max <= logsumexp <= max + log(C)
        assert (lse >= m - slack).all()
        assert (lse <= m + np.log(z.shape[1]) + slack + 4 * float(info.eps) * np.log(z.shape[1])).all()
        assert np.isfinite(ops.logsumexp(z))  # axis=None over the whole array


# ---------------------------------------------------------------- cross-entropy: logits vs probabilities
PROB_LO, PROB_HI = 1e-6, 1.0 - 1e-6
moderate = dict(rows=st.integers(0, 20), classes=st.integers(2, 200), lo=-5.0, hi=5.0, scaled=False)


def _probs_within_bounds(p: np.ndarray) -> bool:
    return bool(((p >= PROB_LO) & (p <= PROB_HI)).all())


@SETTINGS
@given(sparse_case(**moderate))
def test_sparse_ce_from_logits_matches_from_probabilities(case):
    y, z = case
    z64 = z.astype(np.float64)
    p = ops.softmax(z64)
    assume(_probs_within_bounds(p))
    from_logits = losses.sparse_categorical_crossentropy(y, z64, from_logits=True)
    from_probs = losses.sparse_categorical_crossentropy(y, p, from_logits=False)
    assert from_logits.shape == (z.shape[0],)
    np.testing.assert_allclose(from_logits, from_probs, rtol=1e-10, atol=1e-12)
    # Independent reference: -log softmax(z)[y] written out in float64.
    if z.size:
        ref = np.log(np.exp(z64 - z64.max(1, keepdims=True)).sum(1)) + z64.max(1) - z64[np.arange(len(y)), y]
        np.testing.assert_allclose(from_logits, ref, rtol=1e-10, atol=1e-12)


@st.composite
def categorical_case(draw, **kw):
    z = draw(logits(**kw))
    t = draw(arrays(np.float64, z.shape, elements=st.floats(0.0, 1.0)))
    smoothing = draw(st.sampled_from([0.0, 0.1]))
    return t, z, smoothing


@SETTINGS
@given(categorical_case(**moderate))
def test_categorical_ce_from_logits_matches_from_probabilities(case):
    t, z, ls = case
    z64 = z.astype(np.float64)
    p = ops.softmax(z64)
    assume(_probs_within_bounds(p))
    from_logits = losses.categorical_crossentropy(t, z64, from_logits=True, label_smoothing=ls)
    from_probs = losses.categorical_crossentropy(t, p, from_logits=False, label_smoothing=ls)
    np.testing.assert_allclose(from_logits, from_probs, rtol=1e-10, atol=1e-12)
    # Independent reference with smoothed targets.
    ts = t * (1 - ls) + ls / z.shape[1]
    shifted = z64 - z64.max(1, keepdims=True) if z.size else z64
    ref = -(ts * (shifted - np.log(np.exp(shifted).sum(1, keepdims=True)))).sum(1)
    np.testing.assert_allclose(from_logits, ref, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- losses: non-negative and finite
@SETTINGS
@given(sparse_case())
@example((np.array([1], np.intp), np.array([[1e34, -1e34]], np.float32)))
@example((np.array([0, 0], np.intp), np.full((2, 1), -3e30, np.float32)))
def test_sparse_ce_nonnegative_and_finite(case):
    y, z = case
    values = losses.sparse_categorical_crossentropy(y, z, from_logits=True)
    assert values.shape == (z.shape[0],)
    assert np.isfinite(values).all()
    assert (values >= 0).all()
    loss, grad = losses.SparseCategoricalCrossentropy(from_logits=True).loss_and_grad(y, z.copy())
    assert np.isfinite(loss) and loss >= 0
    assert grad.shape == z.shape and grad.dtype == z.dtype and np.isfinite(grad).all()


@SETTINGS
@given(categorical_case())
def test_categorical_ce_nonnegative_and_finite(case):
    t, z, ls = case
    values = losses.categorical_crossentropy(t.astype(z.dtype), z, from_logits=True, label_smoothing=ls)
    assert values.shape == (z.shape[0],)
    assert np.isfinite(values).all()
    assert (values >= 0).all()


# ---------------------------------------------------------------- gradients vs finite differences
small = dict(dtypes=(np.float64,), rows=st.integers(1, 5), classes=st.integers(1, 6), lo=-5.0, hi=5.0, scaled=False)


def _central_diff(f, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        g[idx] = (f(zp) - f(zm)) / (2 * h)
    return g


@FAST
@given(sparse_case(**small))
def test_sparse_ce_gradient_matches_finite_differences(case):
    y, z = case
    loss_obj = losses.SparseCategoricalCrossentropy(from_logits=True)
    loss, grad = loss_obj.loss_and_grad(y, z.copy())
    np.testing.assert_allclose(loss, float(loss_obj(y, z)), rtol=1e-12, atol=1e-14)
    numeric = _central_diff(lambda w: loss_obj.loss_and_grad(y, w)[0], z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@FAST
@given(categorical_case(**small))
def test_categorical_ce_gradient_matches_finite_differences(case):
    t, z, ls = case
    loss_obj = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=ls)
    loss, grad = loss_obj.loss_and_grad(t, z.copy())
    np.testing.assert_allclose(loss, float(loss_obj(t, z)), rtol=1e-12, atol=1e-14)
    numeric = _central_diff(lambda w: loss_obj.loss_and_grad(t, w)[0], z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@FAST
@given(logits(**small), st.data())
def test_log_softmax_vjp_matches_finite_differences(z, data):
    g = data.draw(arrays(np.float64, z.shape, elements=st.floats(-2.0, 2.0)))
    analytic = ops.log_softmax_vjp(g, ops.log_softmax(z))
    numeric = _central_diff(lambda w: float((g * ops.log_softmax(w)).sum()), z)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)
    analytic_sm = ops.softmax_vjp(g, ops.softmax(z))
    numeric_sm = _central_diff(lambda w: float((g * ops.softmax(w)).sum()), z)
    np.testing.assert_allclose(analytic_sm, numeric_sm, rtol=1e-5, atol=1e-7)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
