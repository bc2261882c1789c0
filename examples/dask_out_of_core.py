"""Train SoftmaxClassifier on more data than any one process holds, with Dask-ML's ``Incremental``.

The data are a mixture of Gaussian classes generated block by block, inside
the Dask workers, from (seed, block number): no process ever holds the whole
array, the client included. ``Incremental`` passes the blocks to
``SoftmaxClassifier.partial_fit`` one after the other (one epoch per pass
over the blocks; the estimator, a few kilobytes, travels between workers with
its optimizer state); ``ParallelPostFit``-style prediction then runs on all
workers at once, block by block.

Run (needs the ``dask`` extra)::

    python examples/dask_out_of_core.py                  # a LocalCluster with 2 worker processes
    python examples/dask_out_of_core.py --rows 400000 --block-rows 20000   # seconds, not a minute
    python examples/dask_out_of_core.py --scheduler tcp://scheduler-host:8786   # an existing cluster

On a real cluster the same code runs unchanged: pass the scheduler's address
(each worker needs ``pip install 'logitnet[dask]'``). Memory per process
stays near one block whatever ``--rows`` is; the script prints each
process's peak resident memory next to the data's size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    from dask_ml.wrappers import Incremental
except ImportError:  # pragma: no cover
    raise SystemExit("This example needs Dask: pip install 'logitnet[dask]'") from None

from logitnet.sklearn import SoftmaxClassifier

N_FEATURES = 32
N_CLASSES = 8


# ----------------------------------------------------------------------------- the data, block by block
def _centers(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=1.0, size=(N_CLASSES, N_FEATURES))


def make_labels(block: int, rows: int, seed: int) -> np.ndarray:
    """Labels of one block, shape (rows,): a pure function of (seed, block)."""
    return np.random.default_rng([seed, block, 0]).integers(0, N_CLASSES, size=rows).astype(np.int32)


def make_features(block: int, rows: int, seed: int) -> np.ndarray:
    """Features of one block, shape (rows, N_FEATURES), float32: its class centre plus noise, squashed by tanh."""
    y = make_labels(block, rows, seed)
    noise = np.random.default_rng([seed, block, 1]).standard_normal(size=(rows, N_FEATURES), dtype=np.float32)
    x = _centers(seed)[y].astype(np.float32) + 1.5 * noise
    return np.tanh(x, out=x)


def dataset(n_blocks: int, block_rows: int, seed: int, first_block: int = 0) -> tuple:
    """Lazy ``X`` (n_blocks * block_rows, N_FEATURES) and ``y`` built from per-block tasks."""
    blocks = range(first_block, first_block + n_blocks)
    X = da.concatenate([
        da.from_delayed(dask.delayed(make_features)(b, block_rows, seed), (block_rows, N_FEATURES), np.float32)
        for b in blocks
    ])
    y = da.concatenate([
        da.from_delayed(dask.delayed(make_labels)(b, block_rows, seed), (block_rows,), np.int32) for b in blocks
    ])
    return X, y


# ----------------------------------------------------------------------------- memory
def peak_rss_mib() -> float:
    """This process's peak resident memory, in MiB (Linux and macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


# ----------------------------------------------------------------------------- training
def train(X, y, epochs: int, blocks_per_call: int, seed: int) -> Incremental:
    """``epochs`` passes of ``Incremental.partial_fit``, ``blocks_per_call`` blocks per call.

    Feeding a few blocks per call keeps the number of generated blocks in
    flight bounded: given the whole array at once, the scheduler would
    generate blocks (cheap root tasks) far faster than the chain of
    ``partial_fit`` tasks consumes them, and hold them all in memory.
    """
    model = Incremental(
        SoftmaxClassifier(hidden_layer_sizes=(64, 32), batch_size=256, learning_rate=2e-3, random_state=seed),
        shuffle_blocks=True, random_state=seed,
    )
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(X.numblocks[0])
        for i in range(0, len(order), blocks_per_call):
            chosen = order[i:i + blocks_per_call]
            Xb = da.concatenate([X.blocks[j] for j in chosen])
            yb = da.concatenate([y.blocks[j] for j in chosen])
            model.partial_fit(Xb, yb, classes=np.arange(N_CLASSES))
        print(f"epoch {epoch + 1}: {model.estimator_.n_iter_} partial_fit calls, "
              f"last loss {model.estimator_.history_['loss'][-1]:.4f}", flush=True)
    return model


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16_000_000, help="training rows (default 16,000,000: 2 GiB)")
    parser.add_argument("--block-rows", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--blocks-per-call", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    parser.add_argument("--json", action="store_true", help="also print the measurements as one JSON line")
    args = parser.parse_args(argv)

    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        return run(client, args)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _import_estimator() -> float:
    """Import logitnet.sklearn (and scikit-learn) in a worker; return its peak memory so far."""
    import logitnet.sklearn  # noqa: F401

    return peak_rss_mib()


def run(client: Client, args: argparse.Namespace) -> dict:
    client_baseline = peak_rss_mib()
    n_blocks = max(1, args.rows // args.block_rows)
    X, y = dataset(n_blocks, args.block_rows, args.seed)
    X_test, y_test = dataset(max(1, n_blocks // 10), args.block_rows, args.seed, first_block=n_blocks)
    data_mib = (X.nbytes + y.nbytes) / 2**20
    print(f"training data: {X.shape[0]:,} rows x {X.shape[1]} features in {n_blocks} blocks "
          f"= {data_mib:.0f} MiB, generated inside the workers", flush=True)
    baseline = client.run(_import_estimator)  # peak memory before any data exists

    start = time.perf_counter()
    model = train(X, y, args.epochs, args.blocks_per_call, args.seed)
    fit_seconds = time.perf_counter() - start

    proba = model.predict_proba(X_test)  # lazy; computed block by block on the workers
    accuracy = float((da.argmax(proba, axis=1) == y_test).mean().compute())

    peaks = client.run(peak_rss_mib)
    workers = {address: {"baseline_mib": baseline[address], "peak_mib": peaks[address]} for address in peaks}
    result = {
        "data_mib": data_mib,
        "block_mib": (X.nbytes + y.nbytes) / n_blocks / 2**20,
        "fit_seconds": fit_seconds,
        "test_accuracy": accuracy,
        "workers": workers,
        "client_baseline_mib": client_baseline,
        "client_peak_mib": peak_rss_mib(),
    }
    print(f"fit: {fit_seconds:.1f} s; held-out accuracy {accuracy:.4f} on {X_test.shape[0]:,} rows")
    print(f"data: {data_mib:.0f} MiB in blocks of {result['block_mib']:.1f} MiB; peak resident memory per process:")
    for address, w in sorted(workers.items()):
        print(f"  worker {address}: {w['peak_mib']:.0f} MiB "
              f"({w['baseline_mib']:.0f} MiB after imports, +{w['peak_mib'] - w['baseline_mib']:.0f} MiB training)")
    print(f"  client (pid {os.getpid()}): {result['client_peak_mib']:.0f} MiB "
          f"({client_baseline:.0f} MiB after imports)")
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
