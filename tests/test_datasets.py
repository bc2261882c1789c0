"""Tests for logitnet.datasets: bit-parity with sklearn.datasets.make_blobs."""

from __future__ import annotations

import numpy as np
import pytest

sk_datasets = pytest.importorskip("sklearn.datasets")

from logitnet.datasets import load_seed_blobs, make_blobs  # noqa: E402

PARITY_CASES = [
    dict(random_state=0),  # all defaults
    dict(n_samples=10, centers=3, n_features=2, random_state=0),
    dict(n_samples=101, centers=4, n_features=3, random_state=7),
    dict(n_samples=57, centers=5, n_features=7, cluster_std=0.3, random_state=123),
    dict(n_samples=[3, 3, 4], centers=None, n_features=2, random_state=0),
    dict(n_samples=[5, 0, 9], n_features=4, random_state=11),
    dict(n_samples=np.array([20, 30]), centers=[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], random_state=5),
    dict(n_samples=200, centers=[[-5, 2], [-2, -2], [1, 2], [5, -2]], random_state=1),
    dict(n_samples=90, centers=3, cluster_std=[0.5, 1.0, 2.5], random_state=2),
    dict(n_samples=90, centers=3, cluster_std=np.array([0.0, 1.0, 3.0]), random_state=3),
    dict(n_samples=[10, 20, 30], cluster_std=(1.0, 0.1, 4.0), random_state=4),
    dict(n_samples=50, centers=2, center_box=(0.0, 1.0), random_state=9),
    dict(n_samples=64, centers=4, shuffle=False, random_state=10),
    dict(n_samples=[7, 8], centers=[[1.0, 1.0], [-1.0, -1.0]], shuffle=False, random_state=12),
    dict(n_samples=33, centers=1, n_features=1, random_state=2**32 - 1),
    dict(
        n_samples=2000,
        centers=[[-5, 2], [-2, -2], [1, 2], [5, -2]],
        cluster_std=1.0,
        random_state=30,
    ),
]


@pytest.mark.parametrize("kwargs", PARITY_CASES)
def test_bit_equal_to_sklearn(kwargs):
    X_ref, y_ref = sk_datasets.make_blobs(**kwargs)
    X, y = make_blobs(**kwargs)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert y_ref.dtype == y.dtype
    assert X.shape == X_ref.shape and y.shape == y_ref.shape
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_random_state_instance_matches_and_advances_like_sklearn():
    ours, theirs = np.random.RandomState(42), np.random.RandomState(42)
    for _ in range(2):  # the second call checks the state was advanced identically
        X, y, c = make_blobs(n_samples=40, centers=3, random_state=ours, return_centers=True)
        X_ref, y_ref, c_ref = sk_datasets.make_blobs(
            n_samples=40, centers=3, random_state=theirs, return_centers=True
        )
        np.testing.assert_array_equal(X, X_ref)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(c, c_ref)
    assert ours.randint(0, 2**31) == theirs.randint(0, 2**31)


def test_return_centers_given_array():
    centers = [[1, 2], [3, 4]]
    X, y, c = make_blobs(n_samples=6, centers=centers, random_state=0, return_centers=True)
    assert c.dtype == np.float64
    np.testing.assert_array_equal(c, np.array(centers, dtype=float))


def test_unshuffled_layout_and_counts():
    # 10 samples over 3 centers: the first center gets the extra sample.
    _, y = make_blobs(n_samples=10, centers=3, shuffle=False, random_state=0)
    np.testing.assert_array_equal(y, [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])


def test_zero_std_puts_points_on_centers():
    centers = np.array([[1.5, -2.0], [4.0, 0.25]])
    X, y = make_blobs(n_samples=8, centers=centers, cluster_std=0.0, random_state=0)
    np.testing.assert_array_equal(X, centers[y])


def test_generator_is_accepted_and_reproducible():
    X1, y1 = make_blobs(n_samples=30, random_state=np.random.default_rng(3))
    X2, y2 = make_blobs(n_samples=30, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert X1.shape == (30, 2) and sorted(set(y1.tolist())) == [0, 1, 2]


def test_none_random_state_gives_valid_output():
    X, y = make_blobs(n_samples=12, centers=2)
    assert X.shape == (12, 2) and np.bincount(y).tolist() == [6, 6]


def test_load_seed_blobs_matches_seed_notebook_call():
    X, y = load_seed_blobs()
    X_ref, y_ref = sk_datasets.make_blobs(
        n_samples=2000, centers=[[-5, 2], [-2, -2], [1, 2], [5, -2]], cluster_std=1.0, random_state=30
    )
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    # Sample means sit within 4 standard errors (1/sqrt(500)) of the true centers.
    true = np.array([[-5, 2], [-2, -2], [1, 2], [5, -2]], dtype=float)
    for k in range(4):
        assert np.all(np.abs(X[y == k].mean(axis=0) - true[k]) < 4 / np.sqrt(500))


@pytest.mark.parametrize(
    "kwargs, exc, fragment",
    [
        (dict(n_samples=0), ValueError, "n_samples=0"),
        (dict(n_samples=-3), ValueError, "`n_samples`"),
        (dict(n_samples=2.5), ValueError, "`n_samples`"),
        (dict(n_samples=True), ValueError, "`n_samples`"),
        (dict(n_samples=[3, -1]), ValueError, "`n_samples`"),
        (dict(n_samples=[3.5, 1]), ValueError, "`n_samples`"),
        (dict(n_samples=[]), ValueError, "`n_samples`"),
        (dict(n_samples=[[1, 2]]), ValueError, "`n_samples`"),
        (dict(n_features=0), ValueError, "n_features=0"),
        (dict(centers=0), ValueError, "centers=0"),
        (dict(centers=[1.0, 2.0]), ValueError, "`centers`"),
        (dict(centers=[[np.nan, 1.0]]), ValueError, "`centers`"),
        (dict(n_samples=[3, 4], centers=2), ValueError, "`centers`"),
        (dict(n_samples=[3, 4], centers=[[0.0, 0.0]]), ValueError, "n_samples"),
        (dict(cluster_std=-1.0), ValueError, "cluster_std=-1.0"),
        (dict(cluster_std="big"), ValueError, "`cluster_std`"),
        (dict(centers=3, cluster_std=[1.0, 2.0]), ValueError, "3 centers"),
        (dict(centers=2, cluster_std=[1.0, -2.0]), ValueError, "`cluster_std`"),
        (dict(center_box=(1.0,)), ValueError, "`center_box`"),
        (dict(center_box=(5.0, 1.0)), ValueError, "`center_box`"),
        (dict(center_box=(0.0, np.inf)), ValueError, "`center_box`"),
        (dict(shuffle="yes"), TypeError, "`shuffle`"),
        (dict(return_centers=1), TypeError, "`return_centers`"),
        (dict(random_state=-1), ValueError, "random_state=-1"),
        (dict(random_state=2**32), ValueError, "`random_state`"),
        (dict(random_state="seed"), TypeError, "`random_state`"),
        (dict(random_state=1.5), TypeError, "`random_state`"),
    ],
)
def test_invalid_arguments(kwargs, exc, fragment):
    with pytest.raises(exc) as info:
        make_blobs(**kwargs)
    message = str(info.value)
    assert fragment in message
    assert "Received" in message
