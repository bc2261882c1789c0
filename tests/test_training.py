"""The training loop's data path: large in-memory inputs are shuffled a chunk at a time.

Independent references used here:

* ``array[order][a:b]`` (NumPy fancy indexing of the whole array) for what a
  chunked reader must return;
* the batches every step receives, against ``x[perm]`` sliced by hand, where
  ``perm`` comes from a copy of the model's generator taken before ``fit``;
* the same seeded fit through the whole-array path (the threshold raised), for
  bit-identical weights, history and divergence messages;
* ``tracemalloc`` for the memory a large fit allocates.
"""

from __future__ import annotations

import copy
import tracemalloc
import warnings

import numpy as np
import pytest

import logitnet as ln
from logitnet import training
from logitnet.exceptions import DivergenceWarning
from logitnet.losses import CategoricalCrossentropy, SparseCategoricalCrossentropy
from logitnet.optimizers import SGD
from logitnet.outofcore import PermutedChunks


def data(n=1003, d=5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = rng.normal(size=(n, d)) + y[:, None]
    return x, y


def model_for(loss=None, optimizer=None, metrics=None, d=5):
    model = ln.Sequential([ln.Dense(8, activation="relu"), ln.Dense(3)], seed=0)
    model.compile(
        optimizer=optimizer if optimizer is not None else "adam",
        loss=loss if loss is not None else SparseCategoricalCrossentropy(from_logits=True),
        metrics=metrics,
    )
    model.build((None, d))
    return model


def record_batches(model):
    """Make ``model`` record a copy of every batch its training steps receive."""
    seen = []
    step = model._train_step

    def recording(xb, yb, wb, *args):
        seen.append((xb.copy(), yb.copy(), None if wb is None else wb.copy()))
        return step(xb, yb, wb, *args)

    model._train_step = recording
    return seen


# =========================================================================== PermutedChunks
@pytest.mark.parametrize("shape", [(103, 3), (103,)])
def test_permuted_chunks_return_the_permuted_rows_for_any_slice(shape):
    rng = np.random.default_rng(1)
    array = rng.normal(size=shape).astype(np.float32)
    order = rng.permutation(shape[0])
    expected = array[order]
    chunks = PermutedChunks(array, chunk_rows=10)
    chunks.reorder(order)
    # in order, inside chunks, across chunk boundaries, the partial last chunk, empty and clipped slices
    for a, b in [(0, 10), (10, 20), (3, 7), (95, 103), (100, 110), (8, 12), (5, 31), (0, 103), (40, 40),
                 (60, 50), (103, 103), (-5, None), (0, 10)]:
        got = chunks[a:b]
        np.testing.assert_array_equal(got, expected[a:b])
        assert got.dtype == array.dtype and got.flags.c_contiguous
    other = rng.permutation(shape[0])  # a new epoch: nothing of the previous order is kept
    chunks.reorder(other)
    np.testing.assert_array_equal(chunks[0:10], array[other][0:10])


def test_batches_are_views_of_one_buffer_reused_for_every_chunk():
    array = np.arange(40.0).reshape(20, 2)
    order = np.arange(20)[::-1].copy()
    chunks = PermutedChunks(array, chunk_rows=8).reorder(order)
    first = chunks[0:4]
    second = chunks[4:8]
    last = chunks[16:20]  # the partial last chunk
    assert first.base is not None and first.base is second.base is last.base
    assert first.base.shape == (8, 2)  # one chunk, not the whole array
    np.testing.assert_array_equal(second, array[[15, 14, 13, 12]])
    np.testing.assert_array_equal(last, array[[3, 2, 1, 0]])


# =========================================================================== which path
def test_only_inputs_above_the_threshold_are_chunked_in_whole_batches():
    small = np.empty((2000, 2), dtype=np.float32)
    assert training._epoch_chunks(small, np.zeros(2000, dtype=np.intp), None, 32) is None
    n = 400_000  # 400_000 x 10 float32 (16 MB) + int64 labels (3.2 MB) = 19.2 MB > 16 MiB
    x = np.empty((n, 10), dtype=np.float32)
    y = np.empty(n, dtype=np.intp)
    xc, yc, wc = training._epoch_chunks(x, y, None, 256)
    assert wc is None and xc.chunk_rows == yc.chunk_rows
    assert xc.chunk_rows % 256 == 0
    row_bytes = 10 * 4 + 8
    assert xc.chunk_rows * row_bytes <= training.CHUNK_BYTES < (xc.chunk_rows + 256) * row_bytes


# =========================================================================== bit-identical fits
CASES = {
    "plain": dict(),
    "weights, validation split, metrics": dict(sample_weight=True, validation_split=0.2, metrics=["accuracy"]),
    "class weights": dict(class_weight={0: 1.0, 1: 2.0, 2: 0.5}, validation_split=0.1),
    "one-hot targets": dict(categorical=True, sample_weight=True),
}


def chunked_fit(monkeypatch, chunk_bytes, x, y, case, epochs=3, batch_size=32):
    """A seeded fit; ``chunk_bytes=None`` takes the whole-array path."""
    case = dict(case)
    categorical = case.pop("categorical", False)
    metrics = case.pop("metrics", None)
    if case.pop("sample_weight", False):
        case["sample_weight"] = np.random.default_rng(5).uniform(0.1, 2.0, size=len(x))
    if categorical:
        y = np.eye(3)[y]
    monkeypatch.setattr(training, "CHUNKED_ABOVE", 1 << 62 if chunk_bytes is None else 0)
    monkeypatch.setattr(training, "CHUNK_BYTES", chunk_bytes or 1)
    model = model_for(loss=CategoricalCrossentropy(from_logits=True) if categorical else None, metrics=metrics)
    rng = copy.deepcopy(model._rng)
    seen = record_batches(model)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, **case)
    return model, history, seen, rng


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
@pytest.mark.parametrize("chunk_bytes", [1, 3 * 32 * 28, 1 << 30])  # 1 batch, 2 to 3 batches, 1 chunk
def test_a_chunked_fit_is_bit_identical_to_the_whole_array_fit(monkeypatch, case, chunk_bytes):
    x, y = data()
    a, ha, seen_a, rng = chunked_fit(monkeypatch, None, x, y, case)
    b, hb, seen_b, _ = chunked_fit(monkeypatch, chunk_bytes, x, y, case)
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert ha.history == hb.history
    assert a.optimizer.iterations == b.optimizer.iterations
    # The batches themselves: x[perm] sliced in batches of 32, the last one partial (1003 or 802 or 902 rows)
    n = int(np.floor(len(x) * (1 - case.get("validation_split", 0.0))))
    x32 = x[:n].astype(np.float32)
    batches = -(-n // 32)
    assert len(seen_b) == 3 * batches and len(seen_b[-1][0]) == n - 32 * (batches - 1) < 32
    for epoch in range(3):
        perm = rng.permutation(n)
        for k in range(batches):
            xb, yb, wb = seen_b[epoch * batches + k]
            np.testing.assert_array_equal(xb, x32[perm[32 * k:32 * (k + 1)]])
            np.testing.assert_array_equal(yb, seen_a[epoch * batches + k][1])
            if wb is not None:
                np.testing.assert_array_equal(wb, seen_a[epoch * batches + k][2])


def test_a_diverging_chunked_fit_keeps_the_same_step_and_says_the_same(monkeypatch):
    x, y = data()
    messages, models = [], []
    for chunk_above in (1 << 62, 0):
        monkeypatch.setattr(training, "CHUNKED_ABOVE", chunk_above)
        monkeypatch.setattr(training, "CHUNK_BYTES", 3 * 32 * 28)
        model = model_for(optimizer=SGD(learning_rate=1e4))
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            model.fit(x * 50, y, epochs=3, batch_size=32, verbose=0)
        messages.append([str(w.message) for w in record if issubclass(w.category, DivergenceWarning)])
        models.append(model)
    assert len(messages[0]) == 1 and messages[0] == messages[1]
    assert 0 < models[0].optimizer.iterations == models[1].optimizer.iterations
    for u, v in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_array_equal(u, v)
        assert np.isfinite(u).all()


# =========================================================================== memory
def test_a_large_fit_never_makes_a_second_copy_of_its_input():
    rng = np.random.default_rng(0)
    n, d = 400_000, 25  # 40 MB of float32: above the threshold
    x = rng.standard_normal((n, d), dtype=np.float32)
    y = rng.integers(0, 3, size=n)
    model = model_for(d=d)
    tracemalloc.start()
    try:
        model.fit(x, y, epochs=2, batch_size=8192, verbose=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The whole-array path allocated x[order] (40 MB) per epoch; left: labels, orders, a 4 MB chunk, statistics
    assert peak < 0.5 * x.nbytes, f"peak {peak / 2**20:.1f} MiB for a {x.nbytes / 2**20:.0f} MiB input"
