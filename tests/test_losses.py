"""Tests for logitnet.losses against hand numbers, Keras's measured numbers, scipy and finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.special import log_softmax as sp_log_softmax
from scipy.special import logsumexp as sp_logsumexp
from scipy.special import softmax as sp_softmax

from logitnet import losses
from logitnet.losses import CategoricalCrossentropy, SparseCategoricalCrossentropy

SCCE, CCE = SparseCategoricalCrossentropy, CategoricalCrossentropy
EPS = 1e-7
REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none"]


# ----------------------------------------------------------------------------- independent float64 references
def ref_sparse_logits(y, z):
    z = np.asarray(z, np.float64)
    return sp_logsumexp(z, axis=1) - z[np.arange(len(y)), y]


def ref_sparse_probs(y, p):
    c = np.clip(np.asarray(p, np.float64), EPS, 1 - EPS)
    return -np.log(c[np.arange(len(y)), y]) + np.log(c.sum(axis=1))


def ref_cat_logits(t, z, ls=0.0):
    t = np.asarray(t, np.float64)
    t = t * (1 - ls) + ls / t.shape[1]
    return -(t * sp_log_softmax(np.asarray(z, np.float64), axis=1)).sum(axis=1)


def ref_cat_probs(t, p, ls=0.0):
    t = np.asarray(t, np.float64)
    t = t * (1 - ls) + ls / t.shape[1]
    p = np.asarray(p, np.float64)
    q = np.clip(p / p.sum(axis=1, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(q)).sum(axis=1)


def ref_reduce(l, w, reduction, valid=None):
    l = np.asarray(l, np.float64)
    w = np.ones_like(l) if w is None else np.asarray(w, np.float64)
    if valid is not None:
        w = w * valid
    if reduction == "sum":
        return (w * l).sum()
    if reduction == "mean_with_sample_weight":
        return (w * l).sum() / w.sum()
    n = len(l) if valid is None else valid.sum()
    return (w * l).sum() / n


def numeric_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (f(xp) - f(xm)) / (2 * h)
    return g


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def inner_probs(rng, n, c):
    """Probability rows with every entry in [0.04, 0.9]: far from the clip boundaries."""
    p = rng.uniform(0.2, 1.0, size=(n, c))
    return p / p.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- Keras's numbers
def test_keras_extremes_sparse_from_probabilities():
    # keras-parity.md 3.4: SCCE()(y=[1], p=[[1,0,0,0]]) = 16.118095 = -log(1e-7); y=[0] gives 3.58e-7.
    assert SCCE()([1], [[1, 0, 0, 0]]) == pytest.approx(16.118095, abs=2e-6)
    assert -math.log(1e-7) == pytest.approx(16.118095, abs=1e-6)
    # float32 (Keras's dtype): within one float32 ulp at 1 of Keras's 3.58e-7
    assert SCCE()([0], [[1, 0, 0, 0]]) == pytest.approx(3.58e-7, abs=1.2e-7)
    # float64: the exact value of the formula, -log(1 - 1e-7) + log(1 - 1e-7 + 3e-7)
    exact = -math.log(1 - 1e-7) + math.log(1 + 2e-7)
    assert SCCE()([0], np.array([[1.0, 0, 0, 0]])) == pytest.approx(exact, rel=1e-6)


def test_keras_docstring_examples():
    # Keras's SparseCategoricalCrossentropy / CategoricalCrossentropy docstring numbers.
    y, p = [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    t = [[0, 1, 0], [0, 0, 1]]
    for loss_cls, target in ((SCCE, y), (CCE, t)):
        assert loss_cls()(target, p) == pytest.approx(1.177, abs=1e-3)
        assert loss_cls()(target, p, sample_weight=[0.3, 0.7]) == pytest.approx(0.814, abs=1e-3)
        assert loss_cls(reduction="sum")(target, p) == pytest.approx(2.354, abs=1e-3)
        np.testing.assert_allclose(loss_cls(reduction="none")(target, p), [0.0513, 2.303], atol=1e-3)
    b = [[0.9, 0.05, 0.05], [0.05, 0.89, 0.06], [0.05, 0.01, 0.94]]
    np.testing.assert_allclose(losses.categorical_crossentropy(np.eye(3), b), [0.10536, 0.11653, 0.06188], atol=1e-5)


def test_keras_reduction_example():
    # keras-parity.md 3.5: l = [0.449, 0.194, 0.042, 1.386], w = [1, 2, 0, 0.5] (l rounded to 3 d.p.).
    l, w = np.array([0.449, 0.194, 0.042, 1.386]), np.array([1, 2, 0, 0.5])
    red = losses.reduce_weighted_values
    assert red(l, w, "sum_over_batch_size") == pytest.approx((0.449 + 0.388 + 0.693) / 4)
    assert red(l, w, "sum_over_batch_size") == pytest.approx(0.38256, abs=1e-3)
    assert red(l, w, "mean") == red(l, w, "sum_over_batch_size")
    assert red(l, w, "sum") == pytest.approx(1.53023, abs=1e-3)
    assert red(l, w, "mean_with_sample_weight") == pytest.approx(1.530 / 3.5)
    assert red(l, w, "mean_with_sample_weight") == pytest.approx(0.43721, abs=1e-3)
    np.testing.assert_allclose(red(l, w, "none"), [0.449, 0.388, 0, 0.693])
    np.testing.assert_allclose(red(l, w, None), [0.449, 0.388, 0, 0.693])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reductions_through_the_class(reduction):
    # Two-class probabilities [e^-l, 1 - e^-l] with label 0 give exactly loss l (no clipping, rows sum to 1).
    l = np.array([0.449, 0.194, 0.042, 1.386])
    w = np.array([1, 2, 0, 0.5])
    p = np.stack([np.exp(-l), 1 - np.exp(-l)], axis=1)
    got = SCCE(reduction=reduction)(np.zeros(4, int), p, sample_weight=w)
    if reduction == "none":
        np.testing.assert_allclose(got, w * l, rtol=1e-12)
    else:
        assert isinstance(got, float)
        assert got == pytest.approx(ref_reduce(l, w, reduction), rel=1e-12)


def test_divide_no_nan_and_empty():
    assert losses.reduce_weighted_values([1.0, 2.0], [0.0, 0.0], "mean_with_sample_weight") == 0.0
    assert losses.reduce_weighted_values(np.zeros(0), None, "sum_over_batch_size") == 0.0
    loss, grad = SCCE(reduction="mean_with_sample_weight").loss_and_grad(
        np.array([0, 1]), np.ones((2, 3)), np.zeros(2), from_logits=True
    )
    assert loss == 0.0 and not grad.any()


def test_ignore_class_means_over_valid_samples(rng):
    z = rng.normal(size=(5, 4))
    y = np.array([0, 3, -1, 2, -1])
    valid = y != -1
    l_valid = ref_sparse_logits(y[valid], z[valid])
    assert SCCE(from_logits=True, ignore_class=-1)(y, z) == pytest.approx(l_valid.mean(), rel=1e-12)
    assert SCCE(from_logits=True, ignore_class=-1, reduction="sum")(y, z) == pytest.approx(l_valid.sum(), rel=1e-12)
    per = SCCE(from_logits=True, ignore_class=-1, reduction="none")(y, z)
    np.testing.assert_allclose(per[valid], l_valid, rtol=1e-12)
    assert not per[~valid].any()
    # an ignored label may also be a valid class index
    y2 = np.array([0, 3, 1, 2, 1])
    assert SCCE(from_logits=True, ignore_class=1)(y2, z) == pytest.approx(
        ref_sparse_logits(y2[y2 != 1], z[y2 != 1]).mean(), rel=1e-12
    )
    w = np.array([1.0, 2.0, 5.0, 0.5, 5.0])
    got = SCCE(from_logits=True, ignore_class=-1, reduction="mean_with_sample_weight")(y, z, sample_weight=w)
    assert got == pytest.approx((w[valid] * l_valid).sum() / w[valid].sum(), rel=1e-12)


# ----------------------------------------------------------------------------- per-sample values
def test_per_sample_values_match_references(rng):
    z = rng.normal(size=(6, 5)) * 3
    y = rng.integers(0, 5, size=6)
    t = sp_softmax(rng.normal(size=(6, 5)), axis=1)
    p = inner_probs(rng, 6, 5)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(y, z, from_logits=True), ref_sparse_logits(y, z), rtol=1e-12)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(y, p), ref_sparse_probs(y, p), rtol=1e-12)
    np.testing.assert_allclose(losses.categorical_crossentropy(t, z, from_logits=True), ref_cat_logits(t, z), rtol=1e-12)
    np.testing.assert_allclose(losses.categorical_crossentropy(t, p), ref_cat_probs(t, p), rtol=1e-12)
    np.testing.assert_allclose(
        losses.categorical_crossentropy(t, z, from_logits=True, label_smoothing=0.2), ref_cat_logits(t, z, 0.2), rtol=1e-12
    )


def test_clip_then_normalise_vs_normalise_then_clip():
    # Unnormalised "probabilities" with a zero: the two Keras paths differ, each as its formula says.
    p = np.array([[0.0, 0.5, 1.5]])
    sparse = losses.sparse_categorical_crossentropy([1], p)[0]
    assert sparse == pytest.approx(-math.log(0.5) + math.log(1e-7 + 0.5 + (1 - 1e-7)), rel=1e-12)
    cat = losses.categorical_crossentropy([[0, 1, 0]], p)[0]
    assert cat == pytest.approx(-math.log(0.25), rel=1e-12)


def test_sparse_equals_categorical_of_one_hot(rng):
    z = rng.normal(size=(7, 4)) * 5
    y = rng.integers(0, 4, size=7)
    t = np.eye(4)[y]
    p = sp_softmax(rng.normal(size=(7, 4)), axis=1)
    for scores, fl in ((z, True), (p, False)):
        np.testing.assert_allclose(
            losses.sparse_categorical_crossentropy(y, scores, from_logits=fl),
            losses.categorical_crossentropy(t, scores, from_logits=fl),
            rtol=1e-10,
        )
        gs = SCCE(from_logits=fl).loss_and_grad(y, scores.copy())
        gc = CCE(from_logits=fl).loss_and_grad(t, scores.copy())
        assert gs[0] == pytest.approx(gc[0], rel=1e-10)
        np.testing.assert_allclose(gs[1], gc[1], rtol=1e-9, atol=1e-12)


def test_label_smoothing_by_hand():
    # t = [0, 1] smoothed with 0.2 over 2 classes -> [0.1, 0.9]; p = [0.25, 0.75].
    got = losses.categorical_crossentropy([[0, 1]], np.array([[0.25, 0.75]]), label_smoothing=0.2)[0]
    assert got == pytest.approx(-(0.1 * math.log(0.25) + 0.9 * math.log(0.75)), rel=1e-12)


def test_labels_n_by_1_and_float_truncation(rng):
    z = rng.normal(size=(4, 3))
    y = np.array([0, 2, 1, 1])
    base = losses.sparse_categorical_crossentropy(y, z, from_logits=True)
    np.testing.assert_array_equal(losses.sparse_categorical_crossentropy(y[:, None], z, from_logits=True), base)
    np.testing.assert_array_equal(losses.sparse_categorical_crossentropy([0.0, 2.7, 1.9, 1.0], z, from_logits=True), base)


def test_dtypes():
    y = [0, 1]
    assert SCCE(reduction="none")(y, [[0.5, 0.5], [0.1, 0.9]]).dtype == np.float32  # lists: Keras's float32
    assert SCCE(reduction="none")(y, np.array([[0.5, 0.5], [0.1, 0.9]])).dtype == np.float64
    assert SCCE(reduction="none")(y, np.array([[0.5, 0.5], [0.1, 0.9]], np.float32)).dtype == np.float32
    assert isinstance(SCCE()(y, [[0.5, 0.5], [0.1, 0.9]]), float)
    for fl in (True, False):
        for loss, target in ((SCCE(from_logits=fl), np.array([0, 1])), (CCE(from_logits=fl), np.eye(2, dtype=np.float32))):
            value, grad = loss.loss_and_grad(target, np.array([[0.3, 0.7], [0.6, 0.4]], np.float32))
            assert isinstance(value, float) and grad.dtype == np.float32 and grad.shape == (2, 2)


def test_categorical_axis(rng):
    z = rng.normal(size=(3, 4, 2))  # classes on axis 1
    t = sp_softmax(rng.normal(size=(3, 4, 2)), axis=1)
    got = losses.categorical_crossentropy(t, z, from_logits=True, axis=1)
    ref = -(t * sp_log_softmax(z, axis=1)).sum(axis=1)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    grad = losses.categorical_crossentropy_grad(t, z, from_logits=True, axis=1)
    np.testing.assert_allclose(grad, sp_softmax(z, axis=1) * t.sum(axis=1, keepdims=True) - t, atol=1e-12)


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_loss_and_grad_finite_differences(rng, reduction, from_logits, weighted):
    n, c = 5, 4
    y = rng.integers(0, c, size=n)
    x = rng.normal(size=(n, c)) * 2 if from_logits else inner_probs(rng, n, c)
    w = rng.uniform(0.1, 2.0, size=n) if weighted else None
    loss = SCCE(from_logits=from_logits, reduction=reduction)
    value, grad = loss.loss_and_grad(y, x.copy(), w)
    ref_l = ref_sparse_logits(y, x) if from_logits else ref_sparse_probs(y, x)
    ref_red = "sum_over_batch_size" if reduction == "none" else reduction
    assert value == pytest.approx(ref_reduce(ref_l, w, ref_red), rel=1e-10)
    numeric = numeric_grad(lambda v: loss.loss_and_grad(y, v, w)[0], x)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_categorical_loss_and_grad_finite_differences(rng, reduction, from_logits, label_smoothing):
    n, c = 4, 3
    t = sp_softmax(rng.normal(size=(n, c)) * 2, axis=1)
    t[0] = np.eye(c)[1]
    t[2] *= 1.7  # targets need not sum to 1: the logits gradient is softmax(z) sum(t) - t
    x = rng.normal(size=(n, c)) * 2 if from_logits else inner_probs(rng, n, c) * rng.uniform(0.5, 2, size=(n, 1))
    w = rng.uniform(0.1, 2.0, size=n)
    loss = CCE(from_logits=from_logits, label_smoothing=label_smoothing, reduction=reduction)
    value, grad = loss.loss_and_grad(t, x.copy(), w)
    ref_l = ref_cat_logits(t, x, label_smoothing) if from_logits else ref_cat_probs(t, x, label_smoothing)
    ref_red = "sum_over_batch_size" if reduction == "none" else reduction
    assert value == pytest.approx(ref_reduce(ref_l, w, ref_red), rel=1e-10)
    numeric = numeric_grad(lambda v: loss.loss_and_grad(t, v, w)[0], x)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("from_logits", [True, False])
def test_ignore_class_gradient_finite_differences(rng, reduction, from_logits):
    y = np.array([2, -1, 0, 1, -1, 2])
    x = rng.normal(size=(6, 3)) if from_logits else inner_probs(rng, 6, 3)
    w = rng.uniform(0.1, 2.0, size=6)
    loss = SCCE(from_logits=from_logits, ignore_class=-1, reduction=reduction)
    value, grad = loss.loss_and_grad(y, x.copy(), w)
    valid = y != -1
    ref_l = np.zeros(6)
    ref_l[valid] = (ref_sparse_logits if from_logits else ref_sparse_probs)(y[valid], x[valid])
    ref_red = "sum_over_batch_size" if reduction == "none" else reduction
    assert value == pytest.approx(ref_reduce(ref_l, w, ref_red, valid), rel=1e-10)
    numeric = numeric_grad(lambda v: loss.loss_and_grad(y, v, w)[0], x)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    assert not grad[~valid].any()


def test_per_sample_gradient_functions(rng):
    z = rng.normal(size=(4, 3))
    y = np.array([0, 2, 1, 2])
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy_grad(y, z, from_logits=True), sp_softmax(z, axis=1) - np.eye(3)[y], atol=1e-12
    )
    p = inner_probs(rng, 4, 3)
    for grad_fn, loss_fn, target in (
        (losses.sparse_categorical_crossentropy_grad, losses.sparse_categorical_crossentropy, y),
        (losses.categorical_crossentropy_grad, losses.categorical_crossentropy, np.eye(3)[y]),
    ):
        numeric = numeric_grad(lambda v: loss_fn(target, v).sum(), p)
        np.testing.assert_allclose(grad_fn(target, p), numeric, rtol=1e-5, atol=1e-8)


def test_gradient_zero_outside_clip_and_passes_at_the_boundary():
    # TF's clip_by_value passes the gradient where lo <= p <= hi (inclusive), zero outside.
    p = np.array([[0.0, 0.3, 0.7], [1e-7, 0.3, 0.7 - 1e-7]])
    y = np.array([1, 1])
    g = losses.sparse_categorical_crossentropy_grad(y, p)
    s0 = 1e-7 + 1.0
    assert g[0, 0] == 0.0  # below the clip: no gradient
    assert g[0, 1] == pytest.approx(1 / s0 - 1 / 0.3) and g[0, 2] == pytest.approx(1 / s0)
    assert g[1, 0] == pytest.approx(1 / 1.0)  # exactly at lo: gradient passes
    # the loss really is flat below the clip: moving p_0 inside [0, 1e-7) changes nothing
    f = losses.sparse_categorical_crossentropy
    assert f([1], [[0.0, 0.3, 0.7]])[0] == f([1], [[5e-8, 0.3, 0.7]])[0]


def test_from_logits_override_and_none_reduction(rng):
    z = rng.normal(size=(5, 3))
    y = rng.integers(0, 3, size=5)
    value, grad = SCCE(from_logits=False, reduction="none").loss_and_grad(y, z.copy(), from_logits=True)
    assert value == pytest.approx(ref_sparse_logits(y, z).mean(), rel=1e-12)
    np.testing.assert_allclose(grad, (sp_softmax(z, axis=1) - np.eye(3)[y]) / 5, atol=1e-12)


def test_hot_path_agrees_with_checked_call(rng):
    z = rng.normal(size=(8, 4)).astype(np.float32)
    y = rng.integers(0, 4, size=8)
    w = rng.uniform(0, 2, size=8).astype(np.float32)
    for loss in (SCCE(from_logits=True), SCCE(), SCCE(reduction="sum", ignore_class=2, from_logits=True)):
        x = z if loss.from_logits else sp_softmax(z, axis=1).astype(np.float32)
        assert loss.loss_and_grad(y, x.copy(), w)[0] == pytest.approx(loss(y, x, sample_weight=w), rel=1e-6)


def _columns(loss, y, z, from_logits=None):
    """The columns kernel's (loss, gradient (B, C)) for rows ``z`` (B, C), run on their transpose."""
    kernel = loss.columns_kernel(from_logits)
    z_t = np.ascontiguousarray(z.T)
    grad_t = np.full_like(z_t, np.nan)
    value = kernel(y.astype(np.intp), z_t, grad_t)
    np.testing.assert_array_equal(z_t, z.T)  # the logits are left alone
    return value, grad_t.T


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batch", [1, 7, 32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_columns_kernel_matches_float64_references(rng, reduction, batch, dtype):
    z = (rng.normal(size=(batch, 5)) * 4).astype(dtype)
    y = rng.integers(0, 5, size=batch)
    value, grad = _columns(SCCE(from_logits=True, reduction=reduction), y, z)
    divisor = 1.0 if reduction == "sum" else batch
    z64 = z.astype(np.float64)
    rtol = 2e-6 if dtype == np.float32 else 1e-13
    assert value == pytest.approx(ref_sparse_logits(y, z64).sum() / divisor, rel=rtol)
    np.testing.assert_allclose(grad, (sp_softmax(z64, axis=1) - np.eye(5)[y]) / divisor, rtol=rtol, atol=rtol / batch)
    # and the same numbers as the row layout's hot path, up to the order of one sum
    row_value, row_grad = SCCE(from_logits=True, reduction=reduction).loss_and_grad(y, z.copy())
    assert value == pytest.approx(row_value, rel=rtol)
    np.testing.assert_allclose(grad, row_grad, rtol=rtol, atol=rtol / batch)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_columns_kernel_ties_extremes_and_tiny_losses(dtype):
    z = np.array([[2.0, 2.0, -1.0],  # a tie for the largest logit: both terms count
                  [3.0, 3.0, 3.0],
                  [30.0, 0.0, 0.0],  # a confident sample: loss 2 exp(-30), kept to full relative precision
                  [1e4, -1e4, 5e3],
                  [-1e4, 1e4, 0.0]], dtype)
    y = np.array([1, 2, 0, 2, 0])
    z64 = z.astype(np.float64)
    per = [math.log1p(np.exp(np.delete(z64[i], y[i]) - z64[i, y[i]]).sum()) if z64[i, y[i]] == z64[i].max()
           else ref_sparse_logits(y[i:i + 1], z64[i:i + 1])[0] for i in range(len(y))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = _columns(SCCE(from_logits=True, reduction="sum"), y, z)
    assert value == pytest.approx(sum(per), rel=1e-6)
    tiny, _ = _columns(SCCE(from_logits=True, reduction="sum"), y[2:3], z[2:3])
    assert tiny == pytest.approx(2 * math.exp(-30.0), rel=1e-6)
    np.testing.assert_allclose(grad, sp_softmax(z64, axis=1) - np.eye(3)[y], atol=1e-7)


def test_columns_kernel_only_for_sparse_logits_without_ignore_class():
    assert SCCE(from_logits=True).columns_kernel() is not None
    assert SCCE().columns_kernel(from_logits=True) is not None  # the model's override (a fused softmax)
    assert SCCE().columns_kernel() is None  # probabilities
    assert SCCE(from_logits=True).columns_kernel(from_logits=False) is None
    assert SCCE(from_logits=True, ignore_class=0).columns_kernel() is None
    assert CCE(from_logits=True).columns_kernel() is None


@pytest.mark.parametrize("loss", [SCCE(from_logits=True), SCCE(), SCCE(from_logits=True, ignore_class=1)])
def test_loss_and_grad_takes_any_memory_layout(rng, loss):
    z = rng.normal(size=(9, 4))
    x = z if loss.from_logits else sp_softmax(z, axis=1)
    y = rng.integers(0, 4, size=9)
    c_value, c_grad = loss.loss_and_grad(y, np.ascontiguousarray(x))
    f_value, f_grad = loss.loss_and_grad(y, np.asfortranarray(x))
    assert f_value == c_value
    np.testing.assert_array_equal(f_grad, c_grad)


# ----------------------------------------------------------------------------- stability
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_finite_and_exact(rng, dtype):
    z = (rng.normal(size=(16, 4)) * 1e4).astype(dtype)
    z[0] = [1e4, -1e4, 0, 5e3]
    y = rng.integers(0, 4, size=16)
    y[0] = 0
    ref = ref_sparse_logits(y, z.astype(np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per = losses.sparse_categorical_crossentropy(y, z, from_logits=True)
        value, grad = SCCE(from_logits=True).loss_and_grad(y, z.copy())
        cvalue, cgrad = CCE(from_logits=True).loss_and_grad(np.eye(4, dtype=dtype)[y], z.copy())
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(per, ref, rtol=rtol, atol=0)
    assert value == pytest.approx(ref.mean(), rel=rtol) and cvalue == pytest.approx(ref.mean(), rel=rtol)
    assert np.isfinite(grad).all() and np.isfinite(cgrad).all()
    np.testing.assert_allclose(grad, (sp_softmax(z.astype(np.float64), axis=1) - np.eye(4)[y]) / 16, atol=1e-7)


def test_tiny_losses_keep_relative_precision_in_float32():
    z = np.array([[30.0, 0.0, 0.0], [20.0, 3.0, -4.0]], np.float32)
    y = np.array([0, 0])
    # when y is the top class, loss = log1p(sum_{j != y} exp(z_j - z_y)) exactly (scipy's logsumexp(z) - z_y
    # cancels here: 30 + 1.9e-13 loses ~0.6% in float64)
    z64 = z.astype(np.float64)
    ref = np.array([math.log1p(np.exp(z64[i, 1:] - z64[i, 0]).sum()) for i in range(2)])  # ~1.87e-13, ~4.1e-8
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(y, z, from_logits=True), ref, rtol=1e-5)
    assert SCCE(from_logits=True).loss_and_grad(y, z.copy())[0] == pytest.approx(ref.mean(), rel=1e-5)


# ----------------------------------------------------------------------------- errors
def test_one_hot_labels_to_sparse_loss():
    with pytest.raises(ValueError, match=r"must have rank \(ndim\) `target.ndim - 1`.*target.shape=\(3, 4\).*one-hot.*CategoricalCrossentropy"):
        SCCE()(np.eye(4)[:3], np.full((3, 4), 0.25))


def test_integer_labels_to_categorical_loss():
    with pytest.raises(ValueError, match=r"`y_true`.*SparseCategoricalCrossentropy"):
        CCE()([0, 1, 2], np.full((3, 4), 0.25))
    with pytest.raises(ValueError, match=r"same shape.*target.shape=\(3, 1\)"):
        CCE()([[0], [1], [2]], np.full((3, 4), 0.25))


@pytest.mark.parametrize("bad, shown", [(4, 4), (-1, -1), (7.5, 7)])
def test_label_out_of_range(bad, shown):
    msg = rf"Received a label value of {shown} which is outside the valid range of \[0, 4\).*`y_true`"
    with pytest.raises(ValueError, match=msg):
        SCCE(from_logits=True)([0, bad, 1], np.zeros((3, 4)))


def test_one_based_labels_get_a_hint():
    with pytest.raises(ValueError, match="1-based"):
        SCCE()([1, 2, 3], np.full((3, 3), 1 / 3))


def test_ignore_class_label_is_not_out_of_range():
    assert SCCE(from_logits=True, ignore_class=-100)([-100, 0], np.zeros((2, 2))) == pytest.approx(math.log(2))


def test_bad_dtypes_and_values():
    with pytest.raises(TypeError, match="`y_true`.*np.unique"):
        SCCE()(["cat", "dog"], np.full((2, 2), 0.5))
    with pytest.raises(TypeError, match="`y_pred`"):
        SCCE()([0, 1], [["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="`y_true` contains NaN"):
        SCCE()([0.0, np.nan], np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="`y_true` contains NaN"):
        CCE()([[0.0, np.nan], [1, 0]], np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="`sample_weight`.*shape \\(2,\\).*sample_weight.shape=\\(3,\\)"):
        SCCE()([0, 1], np.full((2, 2), 0.5), sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match="`sample_weight` contains NaN"):
        SCCE()([0, 1], np.full((2, 2), 0.5), sample_weight=[1, np.nan])
    with pytest.raises(ValueError, match=r"Only axis=-1 is currently supported. Received: axis=0"):
        losses.sparse_categorical_crossentropy([0, 1], np.full((2, 2), 0.5), axis=0)


def test_nan_predictions_propagate():
    assert math.isnan(SCCE(from_logits=True)([0], [[np.nan, 1.0]]))


def test_constructor_arguments():
    with pytest.raises(ValueError, match=r"Invalid value for argument `reduction`. Expected one of .*Received: reduction=auto"):
        SCCE(reduction="auto")
    with pytest.raises(ValueError, match="mean_with_sample_weight"):
        CCE(reduction="sample_weight")
    with pytest.raises(TypeError, match=r"`from_logits`, expected a bool. Received: from_logits='True'"):
        SCCE(from_logits="True")
    with pytest.raises(TypeError, match="`ignore_class`"):
        SCCE(ignore_class=1.5)
    with pytest.raises(ValueError, match=r"`label_smoothing`.*\[0, 1\]. Received: label_smoothing=1.5"):
        CCE(label_smoothing=1.5)
    with pytest.raises(TypeError, match="`axis`"):
        CCE(axis=True)
    with pytest.raises(TypeError, match="`name`"):
        SCCE(name=3)


# ----------------------------------------------------------------------------- config, get, warning text
def test_configs_round_trip():
    s = SCCE(from_logits=True, ignore_class=-1, reduction="sum", name="s")
    assert s.get_config() == {"name": "s", "reduction": "sum", "from_logits": True, "ignore_class": -1}
    c = CCE(from_logits=True, label_smoothing=0.1)
    assert c.get_config() == {
        "name": "categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": True, "label_smoothing": 0.1, "axis": -1,
    }
    for loss in (s, c):
        again = type(loss).from_config(loss.get_config())
        assert again.get_config() == loss.get_config()
    assert repr(s).startswith("SparseCategoricalCrossentropy(name='s'")


def test_attributes_used_by_the_model():
    assert SCCE().target == "sparse" and CCE().target == "categorical"
    assert SCCE().fn_name == "sparse_categorical_crossentropy"
    assert SCCE().reduction == "sum_over_batch_size" and SCCE().from_logits is False
    assert SCCE().name == "sparse_categorical_crossentropy" and CCE().name == "categorical_crossentropy"


def test_get():
    inst = SCCE(from_logits=True)
    assert losses.get(inst) is inst
    for name, cls in (
        ("sparse_categorical_crossentropy", SCCE), ("SparseCategoricalCrossentropy", SCCE),
        ("categorical_crossentropy", CCE), ("CategoricalCrossentropy", CCE),
    ):
        got = losses.get(name)
        assert type(got) is cls and got.from_logits is False
    assert losses.get(CCE).name == "categorical_crossentropy"
    got = losses.get({"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}})
    assert got.from_logits is True
    with pytest.raises(ValueError, match=r"Could not interpret loss identifier: foo.*'sparse_categorical_crossentropy'"):
        losses.get("foo")
    with pytest.raises(ValueError, match="Could not interpret loss identifier: ce"):
        losses.get("ce")


def test_logits_warning_text():
    assert losses.logits_warning_text("sparse_categorical_crossentropy") == (
        "`sparse_categorical_crossentropy` received `from_logits=True`, but the `output` argument was produced "
        "by a Softmax activation and thus does not represent logits. Was this intended?"
    )
