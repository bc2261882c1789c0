"""Tests for logitnet.metrics against hand-computed values and Keras's documented numbers."""

from __future__ import annotations

import numpy as np
import pytest

from logitnet import metrics
from logitnet.metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    SparseCategoricalAccuracy,
)

P = np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0.0], [0.7, 0.2, 0.1], [0.3, 0.3, 0.4]])


# ----------------------------------------------------------------------------- pure functions
def test_sparse_categorical_accuracy_by_hand():
    # argmax per row: 1, 1, 0, 2
    got = metrics.sparse_categorical_accuracy([1, 0, 0, 1], P)
    np.testing.assert_array_equal(got, [1, 0, 1, 0])
    assert got.shape == (4,) and got.dtype == np.float32
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([[1], [0], [0], [1]], P), [1, 0, 1, 0])


def test_argmax_ties_go_to_the_first_index():
    p = [[0.4, 0.4, 0.2], [0.1, 0.45, 0.45]]
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([0, 1], p), [1, 1])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([1, 2], p), [0, 0])
    np.testing.assert_array_equal(metrics.categorical_accuracy([[0, 1, 0], [0, 0, 1]], p), [0, 0])


def test_float_labels_compared_as_floats_like_keras():
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([1.0, 1.0, 0.0, 2.0], P), [1, 1, 1, 1])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([1.0, 1.7, 0.2, 2.0], P), [1, 0, 0, 1])


def test_categorical_accuracy_by_hand():
    t = np.eye(3)[[1, 0, 0, 1]]
    np.testing.assert_array_equal(metrics.categorical_accuracy(t, P), [1, 0, 1, 0])
    soft = [[0.2, 0.5, 0.3], [0.5, 0.4, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]]
    np.testing.assert_array_equal(metrics.categorical_accuracy(soft, P), [1, 0, 0, 1])


def test_binary_accuracy_by_hand():
    np.testing.assert_array_equal(metrics.binary_accuracy([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]), [1, 1, 1, 0])
    np.testing.assert_array_equal(metrics.binary_accuracy([1, 1, 0, 0], [[0.98], [1], [0], [0.6]]), [1, 1, 1, 0])
    np.testing.assert_array_equal(metrics.binary_accuracy([1, 0], [0.4, 0.3]), [0, 1])
    # mean over the last axis: 2 of 3 outputs right in row 0, 3 of 3 in row 1
    got = metrics.binary_accuracy([[1, 0, 1], [0, 0, 1]], [[0.9, 0.2, 0.1], [0.1, 0.4, 0.8]])
    np.testing.assert_allclose(got, [2 / 3, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(metrics.binary_accuracy([[1], [0]], [[0.5], [0.2]], threshold=0.4), [1, 1])
    np.testing.assert_array_equal(metrics.binary_accuracy([[1]], [[0.5]]), [0])  # strictly greater than 0.5


def test_exact_accuracy():
    np.testing.assert_array_equal(metrics.accuracy([[1], [2], [3], [4]], [[0], [2], [3], [4]]), [0, 1, 1, 1])


# ----------------------------------------------------------------------------- stateful metrics (Keras docstring numbers)
def test_keras_documented_results():
    m = SparseCategoricalAccuracy()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    m.reset_state()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert m.result() == pytest.approx(0.3)

    c = CategoricalAccuracy()
    c.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert c.result() == pytest.approx(0.5)
    c.reset_state()
    c.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert c.result() == pytest.approx(0.3)

    b = BinaryAccuracy()
    b.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert b.result() == pytest.approx(0.75)
    b.reset_state()
    b.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    assert b.result() == pytest.approx(0.5)

    a = Accuracy()
    a.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert a.result() == pytest.approx(0.75)
    a.reset_state()
    a.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert a.result() == pytest.approx(0.5)


def test_running_mean_over_batches_weights_by_samples():
    rng = np.random.default_rng(7)
    p = rng.normal(size=(70, 4))
    y = rng.integers(0, 4, size=70)
    m = SparseCategoricalAccuracy()
    for start in range(0, 70, 32):  # batches of 32, 32, 6
        m.update_state(y[start : start + 32], p[start : start + 32])
    assert m.result() == pytest.approx(np.mean(np.argmax(p, axis=1) == y))
    assert m.count == 70


def test_mean_weighting():
    m = Mean()
    assert m.result() == 0.0
    m.update_state(2.0, sample_weight=3)  # the loss tracker: batch loss weighted by batch size
    m.update_state(4.0, sample_weight=1)
    assert m.result() == pytest.approx((2 * 3 + 4 * 1) / 4)
    m.reset_state()
    m.update_state([1.0, 2.0, 6.0])
    assert m.result() == pytest.approx(3.0)
    m.update_state([10.0, 20.0], sample_weight=[0.0, 1.0])
    assert m.result() == pytest.approx((1 + 2 + 6 + 20) / 4)
    m.reset_state()
    m.update_state([[1.0, 3.0], [5.0, 7.0]])  # extra axes are averaged per sample
    assert m.result() == pytest.approx(4.0) and m.count == 2
    m.reset_state()
    m.update_state([1.0, 2.0, 6.0], sample_weight=2.0)  # Keras: a scalar weight weighs the batch mean
    assert m.result() == pytest.approx(3.0) and m.count == 2.0
    m.reset_state()
    m.update_state([1.0, 3.0], sample_weight=[0.0, 0.0])
    assert m.result() == 0.0  # divide_no_nan
    assert isinstance(m.result(), float)


def test_threshold_validation():
    with pytest.raises(ValueError, match=r"`threshold`. Expected a value in interval \(0, 1\). Received: threshold=1"):
        BinaryAccuracy(threshold=1)
    with pytest.raises(TypeError, match="`threshold`"):
        BinaryAccuracy(threshold="0.5")
    assert BinaryAccuracy(threshold=0.3).get_config() == {"name": "binary_accuracy", "threshold": 0.3}


# ----------------------------------------------------------------------------- get()
@pytest.mark.parametrize("name", ["accuracy", "acc", "Accuracy"])
@pytest.mark.parametrize(
    "y_true_ndim, y_true_last_dim, n_outputs, expected",
    [
        (1, None, 4, SparseCategoricalAccuracy),
        (2, 1, 4, SparseCategoricalAccuracy),
        (2, 4, 4, CategoricalAccuracy),
        (2, 1, 1, BinaryAccuracy),
        (1, None, 1, BinaryAccuracy),
    ],
)
def test_accuracy_resolution_table_keeps_the_name(name, y_true_ndim, y_true_last_dim, n_outputs, expected):
    m = metrics.get(name, y_true_ndim=y_true_ndim, y_true_last_dim=y_true_last_dim, n_outputs=n_outputs)
    assert type(m) is expected
    assert m.name == name


def test_get_explicit_names_and_instances():
    for name, cls in (
        ("sparse_categorical_accuracy", SparseCategoricalAccuracy),
        ("categorical_accuracy", CategoricalAccuracy),
        ("binary_accuracy", BinaryAccuracy),
        ("SparseCategoricalAccuracy", SparseCategoricalAccuracy),
    ):
        m = metrics.get(name, y_true_ndim=1, y_true_last_dim=None, n_outputs=3)
        assert type(m) is cls and m.name == name
    inst = CategoricalAccuracy(name="cat")
    assert metrics.get(inst, y_true_ndim=2, y_true_last_dim=3, n_outputs=3) is inst
    assert type(metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.7}})) is BinaryAccuracy


def test_get_returns_fresh_state():
    a = metrics.get("accuracy", y_true_ndim=1, y_true_last_dim=None, n_outputs=3)
    b = metrics.get("accuracy", y_true_ndim=1, y_true_last_dim=None, n_outputs=3)
    a.update_state([0], [[1.0, 0.0, 0.0]])
    assert a is not b and b.result() == 0.0 and a.result() == 1.0


def test_get_errors():
    with pytest.raises(ValueError, match=r"Could not interpret metric identifier: f1.*'accuracy'.*'sparse_categorical_accuracy'"):
        metrics.get("f1", y_true_ndim=1, y_true_last_dim=None, n_outputs=3)
    with pytest.raises(ValueError, match="y_true_ndim"):
        metrics.get("accuracy")
