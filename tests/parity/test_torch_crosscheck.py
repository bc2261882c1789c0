"""PyTorch cross-check of logitnet's softmax family, its cross-entropies and their gradients.

PyTorch is an independent implementation of the same mathematics, so every
number here is compared with what torch computes on the same (seeded, random)
input, in the same dtype:

* ``ops.softmax``, ``ops.log_softmax``, ``ops.logsumexp`` (several axes) against
  ``torch.softmax``, ``torch.log_softmax``, ``torch.logsumexp``;
* the per-sample cross-entropies from logits against
  ``torch.nn.functional.cross_entropy(reduction="none")``, with label smoothing
  (torch smooths one-hot and probability targets as ``t (1 - ls) + ls / C``,
  which is Keras's formula) and with soft targets;
* the class API's reductions with sample weights against torch's per-sample
  losses reduced the Keras way (``sum(w l) / N``, ``sum(w l)``,
  ``sum(w l) / sum(w)``, ``w l``), and torch's own per-class ``weight=`` and
  ``ignore_index`` against the equivalent Keras sample weights and ``ignore_class``;
* ``Loss.loss_and_grad`` (from logits, and from probabilities with Keras's
  clipped formulas re-implemented in torch) against torch autograd;
* the softmax and log-softmax activations' backward passes (vector-Jacobian
  products) against torch autograd.

Inputs include extreme logits: scaled by 1e2 and 1e4, mixed +-1e4, rows with
one dominant term, exact ties, and ``-inf`` entries where both libraries define
the result.

Tolerances (``TOL``): float64 ``rtol=1e-12``; float32 ``rtol=1e-5``. The
absolute parts cover values that are differences of nearly equal numbers, whose
error is a few units in the last place of 1, not of the value: a log-softmax or
loss near 0 for a dominant class (logitnet takes ``log1p`` of the small terms,
torch ``log`` of their sum plus 1, so torch returns exactly 0 where logitnet
returns e.g. 8.7e-27) and gradients ``p - 1`` with ``p`` close to 1. float64
``atol=4e-15`` is 18 ulp of 1; float32 ``atol=1e-6`` is 8 ulp of 1. Measured
largest differences: 4.4e-16 (float64) and 7.2e-7 (float32, a log-softmax
backward ``g - exp(out) sum(g)`` with ``|sum(g)|`` about 3), i.e. at most 0.2 of
the bound. That last-bit accuracy near 0 (``log1p``) is therefore not tested
here: torch is the less accurate side; ``tests/test_ops.py`` covers it with scipy.
"""

from __future__ import annotations

import numpy as np
import pytest

from logitnet import activations, ops
from logitnet.losses import (
    EPSILON,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    categorical_crossentropy,
    categorical_crossentropy_grad,
    sparse_categorical_crossentropy,
    sparse_categorical_crossentropy_grad,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

DTYPES = [np.float32, np.float64]
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 4e-15}}
KINDS = ["normal", "scale1e2", "scale1e4", "mixed1e4", "dominant", "ties", "neg_inf"]
OP_SHAPES = [(1, 2), (7, 3), (16, 10), (3, 4, 5)]
LOSS_SHAPES = [(1, 2), (8, 3), (32, 10), (4, 5, 6)]  # classes last; (4, 5, 6) has an extra axis
REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none"]
SMOOTHING = [0.0, 0.1, 0.5]


# ----------------------------------------------------------------------------- helpers
@pytest.fixture(autouse=True, scope="module")
def _torch_single_thread():
    """The arrays are tiny: torch's OpenMP threads only add overhead, and on a busy
    2-core machine their spin-waiting made this file 5x slower (13 s instead of 2.5 s)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _seed(*parts: object) -> int:
    """A stable seed per test case (``hash`` of strings is salted per process, so not used)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(repr(parts))) % (2**32)


def make_logits(kind: str, shape: tuple[int, ...], dtype: type, rng: np.random.Generator) -> np.ndarray:
    """Random logits of one of ``KINDS``; ``neg_inf`` keeps one finite entry per last-axis slice."""
    z = rng.standard_normal(shape)
    if kind == "scale1e2":
        z *= 1e2
    elif kind == "scale1e4":
        z *= 1e4
    elif kind == "mixed1e4":  # +-1e4 plus O(1) noise: near-ties among the large entries
        z += rng.choice([-1e4, 1e4], size=shape)
    elif kind == "dominant":  # exp(-60) = 8.7e-27: the other probabilities are tiny but representable
        top = rng.integers(0, shape[-1], size=shape[:-1])
        np.put_along_axis(z, top[..., None], 60.0, axis=-1)
    elif kind == "ties":  # integers in a small range: repeated maxima and exact ties
        z = np.round(z)
    elif kind == "neg_inf":
        keep = rng.integers(0, shape[-1], size=shape[:-1])[..., None]
        z[rng.random(shape) < 0.4] = -np.inf
        np.put_along_axis(z, keep, rng.standard_normal(keep.shape), axis=-1)
    return z.astype(dtype)


def labels_for(z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class indices (int64) for ``z``, never pointing at a ``-inf`` logit (that loss is +inf)."""
    finite = np.isfinite(z)
    scores = np.where(finite, rng.random(z.shape), -1.0)
    return scores.argmax(axis=-1).astype(np.int64)


def soft_targets(shape: tuple[int, ...], dtype: type, rng: np.random.Generator) -> np.ndarray:
    """Probability rows over the last axis (Dirichlet(1))."""
    g = rng.gamma(1.0, size=shape)
    return (g / g.sum(axis=-1, keepdims=True)).astype(dtype)


def one_hot(y: np.ndarray, n_classes: int, dtype: type) -> np.ndarray:
    return (y[..., None] == np.arange(n_classes)).astype(dtype)


def T(x: np.ndarray) -> "torch.Tensor":
    return torch.from_numpy(np.ascontiguousarray(x))


def classes_second(x: np.ndarray) -> "torch.Tensor":
    """torch's losses take the classes on axis 1: (N, C, d1, ...)."""
    return T(np.moveaxis(x, -1, 1))


def classes_last(x: "torch.Tensor") -> np.ndarray:
    return np.moveaxis(x.detach().numpy(), 1, -1)


def assert_close(actual, desired, dtype: type, err_msg: str = "") -> None:
    actual = np.asarray(actual)
    desired = desired.detach().numpy() if isinstance(desired, torch.Tensor) else np.asarray(desired)
    assert actual.shape == desired.shape, (actual.shape, desired.shape, err_msg)
    np.testing.assert_allclose(actual, desired, err_msg=err_msg, **TOL[dtype])


def keras_reduce(losses: "torch.Tensor", w: "torch.Tensor | None", reduction: str) -> "torch.Tensor":
    """Keras's reduction (keras-parity.md 3.5) written with torch tensors."""
    wl = losses if w is None else losses * w
    if reduction == "none":
        return wl
    total = wl.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and w is not None:
        return total / w.sum()
    return total / losses.numel()


def sample_weights(n: int, dtype: type, rng: np.random.Generator) -> np.ndarray:
    """Weights in [0, 2) with a zero, so that sum(w) != N."""
    w = rng.uniform(0.0, 2.0, size=n)
    w[0] = 0.0
    return w.astype(dtype)


# ----------------------------------------------------------------------------- ops
def _axes(ndim: int) -> list[int]:
    return [-1, *range(ndim - 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_softmax_and_log_softmax_match_torch(kind, dtype):
    rng = np.random.default_rng(_seed("sm", kind, dtype))
    for shape in OP_SHAPES:
        z = make_logits(kind, shape, dtype, rng)
        for axis in _axes(len(shape)):
            case = f"shape={shape}, axis={axis}"
            p = ops.softmax(z, axis=axis)
            lp = ops.log_softmax(z, axis=axis)
            assert p.dtype == dtype and lp.dtype == dtype
            assert_close(p, torch.softmax(T(z), dim=axis), dtype, f"softmax {case}")
            assert_close(lp, torch.log_softmax(T(z), dim=axis), dtype, f"log_softmax {case}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_logsumexp_matches_torch(kind, dtype):
    rng = np.random.default_rng(_seed("lse", kind, dtype))
    for shape in OP_SHAPES:
        z = make_logits(kind, shape, dtype, rng)
        ndim = len(shape)
        for axis in [*_axes(ndim), (0, ndim - 1), None]:
            case = f"shape={shape}, axis={axis}"
            dims = tuple(range(ndim)) if axis is None else axis
            got = ops.logsumexp(z, axis=axis)
            assert got.dtype == dtype
            assert_close(got, torch.logsumexp(T(z), dim=dims), dtype, case)
            kept = ops.logsumexp(z, axis=axis, keepdims=True)
            assert_close(kept, torch.logsumexp(T(z), dim=dims, keepdim=True), dtype, f"{case}, keepdims")


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_neg_inf_and_pos_inf_slices_match_torch(dtype):
    """Where both define the result: an all ``-inf`` slice has logsumexp ``-inf`` and a NaN softmax;
    a ``+inf`` entry gives logsumexp ``+inf``."""
    z = np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 2.0], [-np.inf, 5.0, -np.inf]], dtype=dtype)
    assert_close(ops.logsumexp(z, axis=-1), torch.logsumexp(T(z), dim=-1), dtype)
    assert_close(ops.logsumexp(z, axis=0), torch.logsumexp(T(z), dim=0), dtype)
    got = ops.softmax(z, axis=-1)
    assert_close(got, torch.softmax(T(z), dim=-1), dtype)  # assert_allclose matches NaN with NaN
    assert np.isnan(got[0]).all() and np.isfinite(got[1:]).all()
    assert_close(ops.log_softmax(z, axis=-1), torch.log_softmax(T(z), dim=-1), dtype)
    z_inf = np.array([[np.inf, 0.0, -np.inf], [1e4, np.inf, np.inf]], dtype=dtype)
    assert_close(ops.logsumexp(z_inf, axis=-1), torch.logsumexp(T(z_inf), dim=-1), dtype)


# ----------------------------------------------------------------------------- per-sample losses from logits
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_sparse_crossentropy_from_logits_matches_torch(kind, dtype):
    rng = np.random.default_rng(_seed("scce", kind, dtype))
    for shape in LOSS_SHAPES:
        z = make_logits(kind, shape, dtype, rng)
        y = labels_for(z, rng)
        got = sparse_categorical_crossentropy(y, z, from_logits=True)
        assert got.dtype == dtype and np.isfinite(got).all()
        zt = classes_second(z).requires_grad_()
        ref = F.cross_entropy(zt, T(y), reduction="none")
        assert_close(got, ref, dtype, f"losses, shape={shape}")
        ref.sum().backward()  # loss i depends on row i only: the gradient's rows are the per-sample gradients
        grad = sparse_categorical_crossentropy_grad(y, z, from_logits=True)
        assert_close(grad, classes_last(zt.grad), dtype, f"grad, shape={shape}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "neg_inf"])
@pytest.mark.parametrize("target", ["one_hot", "soft"])
def test_categorical_crossentropy_from_logits_with_smoothing_matches_torch(target, kind, dtype):
    """One-hot targets against torch's class-index targets (torch's ``label_smoothing`` there is Keras's
    ``t (1 - ls) + ls / C``), and probability targets, one row of which does not sum to 1 (neither
    library normalises targets)."""
    rng = np.random.default_rng(_seed("cce", target, kind, dtype))
    for shape in LOSS_SHAPES:
        z = make_logits(kind, shape, dtype, rng)
        if target == "one_hot":
            y = labels_for(z, rng)
            t, torch_target = one_hot(y, shape[-1], dtype), T(y)
        else:
            t = soft_targets(shape, dtype, rng)
            t.reshape(-1, shape[-1])[-1] *= dtype(1.5)
            torch_target = classes_second(t)
        for ls in SMOOTHING:
            case = f"shape={shape}, label_smoothing={ls}"
            got = categorical_crossentropy(t, z, from_logits=True, label_smoothing=ls)
            assert got.dtype == dtype and np.isfinite(got).all()
            zt = classes_second(z).requires_grad_()
            ref = F.cross_entropy(zt, torch_target, reduction="none", label_smoothing=ls)
            assert_close(got, ref, dtype, f"losses, {case}")
            ref.sum().backward()
            grad = categorical_crossentropy_grad(t, z, from_logits=True, label_smoothing=ls)
            assert_close(grad, classes_last(zt.grad), dtype, f"grad, {case}")


def test_categorical_class_axis_one_matches_torch():
    """``axis=1`` on (N, C, d) input is torch's own layout."""
    rng = np.random.default_rng(_seed("axis1"))
    z = make_logits("scale1e2", (4, 6, 5), np.float64, rng)
    t = soft_targets((4, 5, 6), np.float64, rng).transpose(0, 2, 1)
    got = categorical_crossentropy(t, z, from_logits=True, label_smoothing=0.2, axis=1)
    ref = F.cross_entropy(T(z), T(t), reduction="none", label_smoothing=0.2)
    assert_close(got, ref, np.float64)


# ----------------------------------------------------------------------------- class API reductions
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["normal", "scale1e4", "mixed1e4", "neg_inf"])
def test_sparse_class_reductions_match_torch(kind, dtype):
    rng = np.random.default_rng(_seed("scce-red", kind, dtype))
    z = make_logits(kind, (16, 5), dtype, rng)
    y = labels_for(z, rng)
    ref_losses = F.cross_entropy(T(z), T(y), reduction="none")
    for w in [None, sample_weights(16, dtype, rng)]:
        for reduction in REDUCTIONS:
            got = SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)(y, z, sample_weight=w)
            ref = keras_reduce(ref_losses, None if w is None else T(w), reduction)
            assert_close(got, ref, dtype, f"reduction={reduction}, weighted={w is not None}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ls", [0.0, 0.2])
def test_categorical_class_reductions_match_torch(ls, dtype):
    rng = np.random.default_rng(_seed("cce-red", ls, dtype))
    z = make_logits("scale1e2", (16, 5), dtype, rng)
    t = soft_targets((16, 5), dtype, rng)
    ref_losses = F.cross_entropy(T(z), T(t), reduction="none", label_smoothing=ls)
    for w in [None, sample_weights(16, dtype, rng)]:
        for reduction in REDUCTIONS:
            loss = CategoricalCrossentropy(from_logits=True, label_smoothing=ls, reduction=reduction)
            ref = keras_reduce(ref_losses, None if w is None else T(w), reduction)
            case = f"reduction={reduction}, weighted={w is not None}"
            assert_close(loss(t, z, sample_weight=w), ref, dtype, case)


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_class_weight_equals_keras_sample_weight(dtype):
    """torch's per-class ``weight=`` with ``mean`` is Keras's ``mean_with_sample_weight`` with ``w_i = cw[y_i]``
    (what Keras's ``class_weight`` turns into), and ``sum`` is ``sum``."""
    rng = np.random.default_rng(_seed("cw", dtype))
    z = make_logits("scale1e2", (24, 4), dtype, rng)
    y = labels_for(z, rng)
    cw = np.array([0.5, 2.0, 1.0, 3.0], dtype=dtype)
    for torch_red, keras_red in [("mean", "mean_with_sample_weight"), ("sum", "sum")]:
        loss = SparseCategoricalCrossentropy(from_logits=True, reduction=keras_red)
        zt = T(z).requires_grad_()
        ref = F.cross_entropy(zt, T(y), weight=T(cw), reduction=torch_red)
        assert_close(loss(y, z, sample_weight=cw[y]), ref, dtype, torch_red)
        ref.backward()
        value, grad = loss.loss_and_grad(y.astype(np.intp), z.copy(), cw[y])
        assert_close(value, ref, dtype, torch_red)
        assert_close(grad, zt.grad, dtype, torch_red)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ignore", [2, -1])
def test_ignore_class_equals_torch_ignore_index(ignore, dtype):
    """Keras's ``ignore_class`` averages over the other samples, as torch's ``ignore_index`` with ``mean``."""
    rng = np.random.default_rng(_seed("ignore", ignore, dtype))
    z = make_logits("scale1e2", (20, 4), dtype, rng)
    y = labels_for(z, rng)
    y[rng.random(20) < 0.3] = ignore
    loss = SparseCategoricalCrossentropy(from_logits=True, ignore_class=ignore)
    zt = T(z).requires_grad_()
    ref = F.cross_entropy(zt, T(y), ignore_index=ignore, reduction="mean")
    assert_close(loss(y, z), ref, dtype)
    ref.backward()
    value, grad = loss.loss_and_grad(y.astype(np.intp), z.copy())
    assert_close(value, ref, dtype)
    assert_close(grad, zt.grad, dtype)


# ----------------------------------------------------------------------------- loss_and_grad against autograd
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["normal", "scale1e4", "mixed1e4", "dominant", "neg_inf"])
def test_sparse_loss_and_grad_from_logits_matches_autograd(kind, dtype):
    rng = np.random.default_rng(_seed("scce-lg", kind, dtype))
    z = make_logits(kind, (12, 7), dtype, rng)
    y = labels_for(z, rng)
    for w in [None, sample_weights(12, dtype, rng)]:
        for reduction in REDUCTIONS:
            case = f"reduction={reduction}, weighted={w is not None}"
            loss = SparseCategoricalCrossentropy(reduction=reduction)
            value, grad = loss.loss_and_grad(y.astype(np.intp), z.copy(), w, from_logits=True)
            # loss_and_grad returns a scalar: it treats "none" as "sum_over_batch_size".
            hot_reduction = "sum_over_batch_size" if reduction == "none" else reduction
            zt = T(z).requires_grad_()
            per_sample = F.cross_entropy(zt, T(y), reduction="none")
            ref = keras_reduce(per_sample, None if w is None else T(w), hot_reduction)
            ref.backward()
            assert grad.dtype == dtype
            assert_close(value, ref, dtype, f"loss, {case}")
            assert_close(grad, zt.grad, dtype, f"grad, {case}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["normal", "scale1e4", "mixed1e4", "dominant"])
def test_categorical_loss_and_grad_from_logits_matches_autograd(kind, dtype):
    rng = np.random.default_rng(_seed("cce-lg", kind, dtype))
    z = make_logits(kind, (12, 7), dtype, rng)
    t = soft_targets((12, 7), dtype, rng)
    t[:4] = one_hot(labels_for(z[:4], rng), 7, dtype)
    for w in [None, sample_weights(12, dtype, rng)]:
        for ls in SMOOTHING:
            for reduction in ["sum_over_batch_size", "sum", "mean_with_sample_weight"]:
                case = f"ls={ls}, reduction={reduction}, weighted={w is not None}"
                loss = CategoricalCrossentropy(label_smoothing=ls, reduction=reduction)
                value, grad = loss.loss_and_grad(t, z.copy(), w, from_logits=True)
                zt = T(z).requires_grad_()
                per_sample = F.cross_entropy(zt, T(t), reduction="none", label_smoothing=ls)
                ref = keras_reduce(per_sample, None if w is None else T(w), reduction)
                ref.backward()
                assert_close(value, ref, dtype, f"loss, {case}")
                assert_close(grad, zt.grad, dtype, f"grad, {case}")


# ----------------------------------------------------------------------------- from probabilities (Keras clips)
def torch_sparse_from_probs(y: "torch.Tensor", p: "torch.Tensor") -> "torch.Tensor":
    """Keras (TF backend): ``-log(clip(p_y)) + log(sum_j clip(p_j))``: clip, then normalise."""
    c = p.clamp(EPSILON, 1.0 - EPSILON)
    return -c.gather(1, y[:, None])[:, 0].log() + c.sum(dim=1).log()


def torch_categorical_from_probs(t: "torch.Tensor", p: "torch.Tensor", ls: float) -> "torch.Tensor":
    """Keras: smooth ``t``, ``q = p / sum(p)``, then ``-sum(t * log(clip(q)))``: normalise, then clip."""
    t = t * (1.0 - ls) + ls / t.shape[1]
    q = p / p.sum(dim=1, keepdim=True)
    return -(t * q.clamp(EPSILON, 1.0 - EPSILON).log()).sum(dim=1)


def probabilities(kind: str, shape: tuple[int, ...], dtype: type, rng: np.random.Generator) -> np.ndarray:
    """Scores for the from-probabilities path, all far (a factor 2 or more) from both clip bounds.

    ``softmax``: probability rows with entries in about [1e-5, 1 - 1e-5]. ``raw``:
    unnormalised scores in (0.01, 0.99) with exact zeros (clipped: no gradient there).
    ``outside``: ``raw`` plus scores below 0 and above 1, as a linear output layer gives.
    """
    if kind == "softmax":
        p = np.clip(ops.softmax(3.0 * rng.standard_normal(shape)), 1e-5, 1 - 1e-5)
        return (p / p.sum(axis=1, keepdims=True)).astype(dtype)
    p = rng.uniform(0.01, 0.99, size=shape)
    p[rng.random(shape) < 0.15] = 0.0
    if kind == "outside":
        p[rng.random(shape) < 0.2] = -0.3
        p[rng.random(shape) < 0.2] = 1.7
    return p.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["softmax", "raw", "outside"])
def test_sparse_from_probabilities_matches_torch_autograd(kind, dtype):
    rng = np.random.default_rng(_seed("scce-p", kind, dtype))
    p = probabilities(kind, (16, 5), dtype, rng)
    y = rng.integers(0, 5, size=16)
    w = sample_weights(16, dtype, rng)
    assert_close(sparse_categorical_crossentropy(y, p), torch_sparse_from_probs(T(y), T(p)), dtype, "per-sample")
    for reduction in ["sum_over_batch_size", "sum", "mean_with_sample_weight"]:
        pt = T(p).requires_grad_()
        ref = keras_reduce(torch_sparse_from_probs(T(y), pt), T(w), reduction)
        loss = SparseCategoricalCrossentropy(reduction=reduction)
        assert_close(loss(y, p, sample_weight=w), ref, dtype, f"class API, reduction={reduction}")
        ref.backward()
        value, grad = loss.loss_and_grad(y.astype(np.intp), p.copy(), w)
        assert_close(value, ref, dtype, f"loss_and_grad value, reduction={reduction}")
        assert_close(grad, pt.grad, dtype, f"loss_and_grad grad, reduction={reduction}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["softmax", "raw"])
def test_categorical_from_probabilities_matches_torch_autograd(kind, dtype):
    rng = np.random.default_rng(_seed("cce-p", kind, dtype))
    p = probabilities(kind, (16, 5), dtype, rng)
    p[:, 0] = np.maximum(p[:, 0], dtype(0.05))  # no all-zero row (0/0 is NaN in both)
    t = soft_targets((16, 5), dtype, rng)
    t[:6] = one_hot(rng.integers(0, 5, size=6), 5, dtype)
    w = sample_weights(16, dtype, rng)
    for ls in SMOOTHING:
        per_sample = categorical_crossentropy(t, p, label_smoothing=ls)
        assert_close(per_sample, torch_categorical_from_probs(T(t), T(p), ls), dtype, f"per-sample, ls={ls}")
        for reduction in ["sum_over_batch_size", "sum", "mean_with_sample_weight"]:
            case = f"ls={ls}, reduction={reduction}"
            pt = T(p).requires_grad_()
            ref = keras_reduce(torch_categorical_from_probs(T(t), pt, ls), T(w), reduction)
            loss = CategoricalCrossentropy(label_smoothing=ls, reduction=reduction)
            assert_close(loss(t, p, sample_weight=w), ref, dtype, f"class API, {case}")
            ref.backward()
            value, grad = loss.loss_and_grad(t, p.copy(), w)
            assert_close(value, ref, dtype, f"loss_and_grad value, {case}")
            assert_close(grad, pt.grad, dtype, f"loss_and_grad grad, {case}")


# ----------------------------------------------------------------------------- activations' backward passes
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_activations_backward_match_autograd(name, kind, dtype):
    """``Activation.backward`` (the vector-Jacobian product from the output) against autograd."""
    rng = np.random.default_rng(_seed("act", name, kind, dtype))
    torch_fn = torch.softmax if name == "softmax" else torch.log_softmax
    for shape in [(7, 3), (16, 10), (3, 4, 5)]:
        x = make_logits(kind, shape, dtype, rng)
        g = rng.standard_normal(shape).astype(dtype)
        for axis in _axes(len(shape)):
            case = f"shape={shape}, axis={axis}"
            act = activations.get({"name": name, "axis": axis})
            out = act(x)
            xt = T(x).requires_grad_()
            ref_out = torch_fn(xt, dim=axis)
            ref_out.backward(T(g))
            assert_close(out, ref_out, dtype, f"forward, {case}")
            grad = act.backward(g.copy(), x if act.needs_input else None, out)
            assert grad.dtype == dtype
            assert_close(grad, xt.grad, dtype, f"backward, {case}")
