"""SoftmaxClassifier under Dask: Incremental training and blockwise prediction on a real LocalCluster.

The cluster has 2 worker processes (one thread each). References: the same
estimator trained in this process with partial_fit over the same blocks,
and in-memory predictions.

Locally the tests skip when Dask is missing; under CI (``CI`` set) a
missing ``logitnet[dask]`` dependency fails instead of skipping.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def _require(name: str):
    if os.environ.get("CI"):
        return importlib.import_module(name)
    return pytest.importorskip(name)


da = _require("dask.array")
distributed = _require("distributed")
wrappers = _require("dask_ml.wrappers")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402

from logitnet.sklearn import SoftmaxClassifier  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dask_out_of_core.py"


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=600, centers=3, n_features=5, cluster_std=2.0, random_state=0)
    return X.astype(np.float32), y


def test_cluster_has_two_worker_processes(client):
    pids = client.run(os.getpid)
    assert len(pids) == 2
    assert os.getpid() not in pids.values() and len(set(pids.values())) == 2


def test_incremental_trains_block_by_block_on_the_workers(client, blobs):
    X, y = blobs
    Xd, yd = da.from_array(X, chunks=(100, 5)), da.from_array(y, chunks=100)
    estimator = SoftmaxClassifier(hidden_layer_sizes=(8,), batch_size=16, random_state=0)
    with distributed.get_task_stream(client) as stream:
        inc = wrappers.Incremental(estimator, shuffle_blocks=False).fit(Xd, yd, classes=[0, 1, 2])
    keys = [t["key"] for t in stream.data]
    fit_tasks = [t for t, k in zip(stream.data, keys) if isinstance(k, tuple) and k[0].startswith("fit-") and k[1] >= 0]
    assert len(fit_tasks) == 6, keys  # one partial_fit per block ...
    assert {t["worker"] for t in fit_tasks} <= set(client.scheduler_info()["workers"])  # ... run by the workers
    # Reference: the same blocks, in the same order, through partial_fit in this process. The estimator
    # travelled between processes 6 times (pickled with its optimizer state and generator).
    local = clone(estimator)
    for start in range(0, 600, 100):
        local.partial_fit(X[start:start + 100], y[start:start + 100], classes=[0, 1, 2])
    assert inc.estimator_.n_iter_ == local.n_iter_ == 6
    assert inc.estimator_.model_.optimizer.iterations == local.model_.optimizer.iterations == 6 * 7
    for a, b in zip(inc.estimator_.model_.get_weights(), local.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(inc.classes_, [0, 1, 2])


def test_incremental_partial_fit_continues_over_epochs(client, blobs):
    X, y = blobs
    labels = np.array(["red", "green", "blue"])[y]
    Xd, yd = da.from_array(X, chunks=(150, 5)), da.from_array(labels, chunks=150)
    inc = wrappers.Incremental(SoftmaxClassifier(hidden_layer_sizes=(8,), learning_rate=0.01, random_state=0),
                               random_state=0)
    for _ in range(3):
        inc.partial_fit(Xd, yd, classes=["red", "green", "blue"])
    assert inc.estimator_.n_iter_ == 12 and len(inc.estimator_.history_["loss"]) == 12
    predicted = inc.predict(Xd).compute()
    assert predicted.dtype == labels.dtype
    assert np.mean(predicted == labels) > 0.9


def test_blockwise_prediction_handles_empty_blocks(client, blobs):
    X, y = blobs
    labels = np.array(["red", "green", "blue"])[y]
    clf = SoftmaxClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0).fit(X, labels)
    Xd = da.from_array(X[:100], chunks=((40, 0, 35, 0, 25), (5,)))
    assert 0 in Xd.chunks[0]
    post = wrappers.ParallelPostFit(clf)
    proba = post.predict_proba(Xd)
    assert proba.chunks == ((40, 0, 35, 0, 25), (3,))
    np.testing.assert_allclose(proba.compute(), clf.predict_proba(X[:100]), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(post.predict(Xd).compute(), clf.predict(X[:100]))
    log_proba = Xd.map_blocks(clf.predict_log_proba, chunks=(Xd.chunks[0], (3,)), dtype=np.float64)
    np.testing.assert_allclose(log_proba.compute(), clf.predict_log_proba(X[:100]), rtol=1e-12, atol=1e-12)
    empty = Xd.blocks[1].map_blocks(clf.predict_proba, chunks=((0,), (3,)), dtype=np.float64).compute()
    assert empty.shape == (0, 3) and empty.dtype == np.float64


def test_out_of_core_example_keeps_worker_memory_far_below_the_data(client):
    address = client.scheduler.address
    cmd = [sys.executable, str(EXAMPLE), "--rows", "2400000", "--block-rows", "20000", "--scheduler", address,
           "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["data_mib"] > 290
    assert report["test_accuracy"] > 0.9
    for worker in report["workers"].values():
        # Training adds a few blocks' worth of memory to a worker, not a share of the data.
        assert worker["peak_mib"] - worker["baseline_mib"] < 0.25 * report["data_mib"]
    assert report["client_peak_mib"] - report["client_baseline_mib"] < 0.2 * report["data_mib"]  # never holds it
