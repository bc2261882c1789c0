"""Synthetic datasets, drawn exactly as scikit-learn draws them.

:func:`make_blobs` reproduces ``sklearn.datasets.make_blobs`` bit for bit:
given the same arguments and the same integer seed (or an equally seeded
``np.random.RandomState``) it returns identical arrays, using NumPy alone.
:func:`load_seed_blobs` returns the four-cluster dataset of the seed notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import check_int, is_int, is_real

__all__ = ["make_blobs", "load_seed_blobs", "SEED_BLOB_CENTERS"]

RandomStateLike = Union[int, np.random.RandomState, np.random.Generator, None]

#: Centers of the seed notebook's four blobs, shape ``(4, 2)``.
SEED_BLOB_CENTERS: tuple[tuple[float, float], ...] = (
    (-5.0, 2.0),
    (-2.0, -2.0),
    (1.0, 2.0),
    (5.0, -2.0),
)


def _random_source(random_state: RandomStateLike) -> np.random.RandomState | np.random.Generator:
    """Return the object whose ``uniform``/``normal``/``shuffle`` draw the data.

    An int seeds a new local ``RandomState`` (the legacy MT19937 stream that
    scikit-learn uses), which is what makes the output bit-identical.
    """
    if random_state is None:
        return np.random.RandomState()
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        return random_state
    if is_int(random_state):
        if not 0 <= random_state < 2**32:
            raise ValueError(
                "Received an invalid value for `random_state`, expected an integer "
                f"in [0, 2**32 - 1]. Received: random_state={random_state}"
            )
        return np.random.RandomState(int(random_state))
    raise TypeError(
        "Received an invalid value for `random_state`, expected None, an integer, "
        "a np.random.RandomState or a np.random.Generator. "
        f"Received: random_state={random_state!r} (of type {type(random_state).__name__})"
    )


def _check_counts(n_samples: Any) -> list[int]:
    """Validate a per-center list of sample counts."""
    message = (
        "Received an invalid value for `n_samples`, expected a positive integer or a "
        f"non-empty 1-D sequence of non-negative integers. Received: n_samples={n_samples!r}"
    )
    if isinstance(n_samples, (str, bytes)):
        raise ValueError(message)
    try:
        counts = np.asarray(n_samples)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(message)
    if not all(is_int(c) and c >= 0 for c in counts.tolist()):
        raise ValueError(message)
    return [int(c) for c in counts.tolist()]


def _check_centers_array(centers: Any) -> NDArray[np.float64]:
    try:
        array = np.asarray(centers, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 2 or 0 in array.shape or not np.all(np.isfinite(array)):
        raise ValueError(
            "Received an invalid value for `centers`, expected None, a positive integer or "
            "a finite 2-D array of shape (n_centers, n_features). "
            f"Received: centers={centers!r}"
        )
    return array


def _check_center_box(center_box: Any) -> tuple[float, float]:
    ok = (
        isinstance(center_box, (Sequence, np.ndarray))
        and len(center_box) == 2
        and all(is_real(b) and np.isfinite(b) for b in center_box)
        and center_box[0] <= center_box[1]
    )
    if not ok:
        raise ValueError(
            "Received an invalid value for `center_box`, expected a pair of finite numbers "
            f"(low, high) with low <= high. Received: center_box={center_box!r}"
        )
    return float(center_box[0]), float(center_box[1])


def _check_cluster_std(cluster_std: Any, n_centers: int) -> list[float]:
    if is_real(cluster_std):
        values = [cluster_std]
    elif isinstance(cluster_std, (Sequence, np.ndarray)) and np.ndim(cluster_std) == 1:
        values = np.asarray(cluster_std).tolist()
    else:
        values = None
    if values is None or not all(is_real(s) and 0 <= s < np.inf for s in values):
        raise ValueError(
            "Received an invalid value for `cluster_std`, expected a non-negative number or a "
            "sequence of non-negative numbers, one per center. "
            f"Received: cluster_std={cluster_std!r}"
        )
    if is_real(cluster_std):
        return [float(cluster_std)] * n_centers
    if len(values) != n_centers:
        raise ValueError(
            f"Expected one `cluster_std` per center ({n_centers} centers), "
            f"received {len(values)}. Received: cluster_std={cluster_std!r}"
        )
    return [float(s) for s in values]


def _resolve_centers(n_samples, n_features, centers, center_box, rng):
    """Return ``(counts, centers)`` as scikit-learn derives them (same draws)."""
    if is_int(n_samples):
        n_total = check_int(n_samples, "n_samples")
        if centers is None:
            centers = 3
        if is_int(centers):
            n_centers = check_int(centers, "centers")
            centers = rng.uniform(center_box[0], center_box[1], size=(n_centers, n_features))
        else:
            centers = _check_centers_array(centers)
            n_centers = centers.shape[0]
        counts = [n_total // n_centers] * n_centers
        for i in range(n_total % n_centers):
            counts[i] += 1
        return counts, centers

    counts = _check_counts(n_samples)
    if centers is None:
        centers = rng.uniform(center_box[0], center_box[1], size=(len(counts), n_features))
    elif is_int(centers):
        raise ValueError(
            "Received an invalid value for `centers`: when `n_samples` is a sequence, "
            "`centers` must be None or an array of shape (len(n_samples), n_features). "
            f"Received: centers={centers!r}"
        )
    centers = _check_centers_array(centers)
    if centers.shape[0] != len(counts):
        raise ValueError(
            "The length of `n_samples` must equal the number of centers. "
            f"Received: n_samples={n_samples!r} ({len(counts)} entries) and "
            f"centers with {centers.shape[0]} rows"
        )
    return counts, centers


def make_blobs(
    n_samples: int | ArrayLike = 100,
    n_features: int = 2,
    *,
    centers: int | ArrayLike | None = None,
    cluster_std: float | ArrayLike = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: RandomStateLike = None,
    return_centers: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.int64]] | tuple[
    NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]
]:
    """Generate isotropic Gaussian blobs, identical to ``sklearn.datasets.make_blobs``.

    Parameters
    ----------
    n_samples : int or array-like of shape (n_centers,), default=100
        Total number of points, split as evenly as possible between the
        centers (the first ``n_samples % n_centers`` centers get one more), or
        the number of points of each center.
    n_features : int, default=2
        Number of features. Ignored when ``centers`` is an array (its number
        of columns is used), as in scikit-learn.
    centers : int or array-like of shape (n_centers, n_features), default=None
        Number of centers to draw uniformly in ``center_box``, or the centers
        themselves. None means 3 centers when ``n_samples`` is an int, and one
        drawn center per entry when it is a sequence.
    cluster_std : float or array-like of shape (n_centers,), default=1.0
        Standard deviation of each cluster (non-negative).
    center_box : tuple of (float, float), default=(-10.0, 10.0)
        Bounds ``(low, high)`` of the box the random centers are drawn from.
    shuffle : bool, default=True
        Shuffle the samples. If False, samples are grouped by center.
    random_state : None, int, np.random.RandomState or np.random.Generator, default=None
        An int (or a ``RandomState``) reproduces scikit-learn's output exactly.
        None uses a fresh, unseeded ``RandomState`` (scikit-learn would use
        NumPy's global one; either way the result is not reproducible).
        A ``Generator`` is accepted and used directly: the result is
        reproducible but differs from scikit-learn, which rejects Generators.
    return_centers : bool, default=False
        Also return the centers.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        The samples.
    y : ndarray of shape (n_samples,), dtype int64
        The index of each sample's center.
    centers : ndarray of shape (n_centers, n_features), dtype float64
        The centers; returned only when ``return_centers`` is True.

    Raises
    ------
    ValueError
        If an argument has an invalid value or the arguments are inconsistent.
    TypeError
        If ``random_state`` has an unsupported type.

    Notes
    -----
    Random draws happen in scikit-learn's order: the centers
    (``uniform(low, high, size=(n_centers, n_features))``) when they are not
    given, then ``normal(loc=center, scale=std, size=(n, n_features))`` per
    center, then ``shuffle(arange(n_samples))``.

    Examples
    --------
    >>> X, y = make_blobs(n_samples=10, centers=3, n_features=2, random_state=0)
    >>> X.shape
    (10, 2)
    >>> y
    array([0, 0, 1, 0, 2, 2, 2, 1, 1, 0])
    """
    rng = _random_source(random_state)
    n_features = check_int(n_features, "n_features")
    low_high = _check_center_box(center_box)
    for name, flag in (("shuffle", shuffle), ("return_centers", return_centers)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(
                f"Received an invalid value for `{name}`, expected a bool. "
                f"Received: {name}={flag!r}"
            )
    counts, centers = _resolve_centers(n_samples, n_features, centers, low_high, rng)
    stds = _check_cluster_std(cluster_std, len(counts))
    n_features = centers.shape[1]

    n_total = sum(counts)
    X = np.empty((n_total, n_features), dtype=np.float64)
    y = np.empty(n_total, dtype=np.int64)
    start = 0
    for i, (n, std) in enumerate(zip(counts, stds)):
        X[start : start + n] = rng.normal(loc=centers[i], scale=std, size=(n, n_features))
        y[start : start + n] = i
        start += n

    if shuffle:
        indices = np.arange(n_total)
        rng.shuffle(indices)
        X, y = X[indices], y[indices]
    if return_centers:
        return X, y, np.asarray(centers, dtype=np.float64)
    return X, y


def load_seed_blobs() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Return the seed notebook's dataset: 2000 points in four 2-D blobs.

    Equal to ``sklearn.datasets.make_blobs(n_samples=2000, centers=[[-5, 2],
    [-2, -2], [1, 2], [5, -2]], cluster_std=1.0, random_state=30)``.

    Returns
    -------
    X : ndarray of shape (2000, 2), dtype float64
        The samples, 500 per blob, shuffled.
    y : ndarray of shape (2000,), dtype int64
        The blob index (0 to 3) of each sample.

    Examples
    --------
    >>> X, y = load_seed_blobs()
    >>> X.shape, y.shape
    ((2000, 2), (2000,))
    >>> [int(c) for c in np.bincount(y)]
    [500, 500, 500, 500]
    """
    return make_blobs(
        n_samples=2000,
        centers=[list(c) for c in SEED_BLOB_CENTERS],
        cluster_std=1.0,
        random_state=30,
    )
