"""Measure one framework on one workload in this fresh process and write a JSON report.

Run by ``benchmarks/run.py``, one process per (framework, workload, BLAS setting),
so that imports, thread pools and the peak RSS (``ru_maxrss``) belong to that
measurement alone. Sequence:

1. import the framework (through its adapter), note the RSS;
2. load the workload's data (float64 ``x``, int64 ``y``) saved by the runner;
3. one warm-up fit (seed 0); the peak RSS right after it is the fit's memory;
4. ``--fit-repeats`` fresh models (seeds 1..N), each timed from construction to the
   end of ``fit``; each one's training-set loss and accuracy are computed in float64
   from a whole-set prediction (untimed);
5. for logitnet, the same fits again with its progress display on (``verbose=1``), drawn
   into a (fake) terminal and written to a file, interleaved with silent ones;
6. predict on the full set (the library's default call, and as one batch): one
   warm-up call, then repeated within a time budget (3 to 200 calls); then
   single-row calls, each timed alone.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import resource
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import adapters  # noqa: E402
import common  # noqa: E402


def _fit_once(adapter: Any, x: np.ndarray, y: np.ndarray, spec: dict, seed: int) -> tuple[Any, float, float]:
    gc.collect()
    t = time.perf_counter()
    model, reported = adapter.fit(x, y, spec, seed)
    return model, time.perf_counter() - t, reported


class _Terminal(io.StringIO):
    """An in-memory stream that says it is a terminal, so a progress bar draws its live line into it."""

    def isatty(self) -> bool:
        return True


def _progress_fits(adapter: Any, x: np.ndarray, y: np.ndarray, spec: dict, repeats: int) -> dict[str, Any]:
    """Fit times with the progress display on (``verbose=1``): drawn live into a terminal, and written
    to a file (one line per epoch), with ``sys.stdout`` redirected; interleaved with silent fits."""
    times: dict[str, list[float]] = {"silent": [], "terminal": [], "file": []}
    with open(os.devnull, "w") as devnull:
        for seed in range(1, repeats + 1):
            for name in times:
                stream = _Terminal() if name == "terminal" else devnull
                with contextlib.redirect_stdout(stream):
                    gc.collect()
                    t = time.perf_counter()
                    adapter.fit(x, y, spec, seed, verbose=0 if name == "silent" else 1)
                    times[name].append(time.perf_counter() - t)
    return {name: {**common.summary(ts), "times": ts} for name, ts in times.items()}


def run(args: argparse.Namespace, result: dict[str, Any]) -> None:
    t = time.perf_counter()
    adapter = adapters.create(args.framework)
    result["import_in_worker_s"] = time.perf_counter() - t
    result["versions"] = adapter.version()
    rss_before_data = common.rss_bytes()

    data_dir = Path(args.data_dir)
    spec = json.loads((data_dir / f"{args.workload}.json").read_text())
    x = np.load(data_dir / f"{args.workload}_x.npy")
    y = np.load(data_dir / f"{args.workload}_y.npy")
    result["spec"] = spec
    result["data"] = {"x_bytes": x.nbytes, "y_bytes": y.nbytes, "x_float32_bytes": x.size * 4}

    model, warm_s, _ = _fit_once(adapter, x, y, spec, seed=0)
    peak_fit = common.maxrss_bytes()
    result["warmup_fit_s"] = warm_s
    result["memory"] = {
        "rss_before_data": rss_before_data,
        "peak_after_first_fit": peak_fit,
        "fit_delta": peak_fit - rss_before_data,
    }
    del model

    fits = []
    for seed in range(1, args.fit_repeats + 1):
        model, dt, reported = _fit_once(adapter, x, y, spec, seed)
        metrics = common.train_metrics(adapter.predict_one_batch(model, x), y, adapter.kind)
        fits.append({"seed": seed, "time_s": dt, "reported_loss": reported, **metrics})
    times = [f["time_s"] for f in fits]
    result["fit"] = {**common.summary(times), "runs": fits}
    result["train"] = {
        "loss": statistics.median(f["loss"] for f in fits),
        "accuracy": statistics.median(f["accuracy"] for f in fits),
        "reported_loss": statistics.median(f["reported_loss"] for f in fits),
    }

    if getattr(adapter, "progress", False):
        result["progress_fit"] = _progress_fits(adapter, x, y, spec, args.fit_repeats)

    budget = args.predict_budget
    result["predict"] = common.summary(common.time_repeated(
        lambda: adapter.predict(model, x), min_repeats=3, max_repeats=200, budget_s=budget, warmup=1))
    result["predict_one_batch"] = common.summary(common.time_repeated(
        lambda: adapter.predict_one_batch(model, x), min_repeats=3, max_repeats=200, budget_s=budget, warmup=1))
    row = np.ascontiguousarray(x[:1])
    result["row"] = {
        label: common.summary(common.time_calls(fn, max_calls=args.row_calls, budget_s=args.row_budget))
        for label, fn in adapter.row_calls(model, row).items()
    }
    result["memory"]["peak_end"] = common.maxrss_bytes()
    result["memory"]["ru_maxrss_end_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["blas"] = common.blas_info()
    result["numpy_blas"] = common.numpy_blas_config()
    result["env"] = {k: os.environ.get(k) for k in common.OPENBLAS_VARS}
    result["cpu_count"] = os.cpu_count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", required=True, choices=sorted(adapters.ADAPTERS))
    parser.add_argument("--workload", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fit-repeats", type=int, default=5)
    parser.add_argument("--predict-budget", type=float, default=2.0, help="seconds per predict measurement")
    parser.add_argument("--row-calls", type=int, default=2000)
    parser.add_argument("--row-budget", type=float, default=2.0, help="seconds per single-row measurement")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"framework": args.framework, "workload": args.workload, "ok": False}
    try:
        run(args, result)
        result["ok"] = True
    except Exception as exc:  # reported in the table, never fatal for the run
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
