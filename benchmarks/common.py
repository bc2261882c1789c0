"""Helpers shared by the benchmark worker and runner: timing, memory, BLAS info, metrics.

Only NumPy and the standard library are imported here (threadpoolctl optionally),
so a worker can run under another interpreter (e.g. a separate TensorFlow venv).
"""

from __future__ import annotations

import ctypes
import gc
import os
import resource
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

__all__ = [
    "rss_bytes",
    "maxrss_bytes",
    "blas_info",
    "numpy_blas_config",
    "train_metrics",
    "time_calls",
    "time_repeated",
    "summary",
]

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ----------------------------------------------------------------------------- memory
def rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def maxrss_bytes() -> int:
    """Peak resident set size of this process so far.

    ``VmHWM`` from /proc/self/status where available: Linux keeps
    ``getrusage(RUSAGE_SELF).ru_maxrss`` across ``execve``, so in a worker started
    by the runner it would report the runner's own peak when that is higher.
    Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


# ----------------------------------------------------------------------------- BLAS
def _corename_via_ctypes() -> list[dict[str, Any]]:
    """Ask every loaded OpenBLAS for its kernel name, when threadpoolctl is missing."""
    found = []
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return found
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        info: dict[str, Any] = {"internal_api": "openblas", "filepath": os.path.basename(path)}
        for prefix in ("openblas", "scipy_openblas"):
            for suffix in ("", "64_"):
                fn = getattr(lib, f"{prefix}_get_corename{suffix}", None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    info["architecture"] = fn().decode()
                nt = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if nt is not None:
                    info["num_threads"] = int(nt())
        found.append(info)
    return found


def blas_info() -> list[dict[str, Any]]:
    """The BLAS/OpenMP libraries loaded in this process, with kernel (architecture) and threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return _corename_via_ctypes()
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads", "threading_layer")
    out = []
    for entry in threadpool_info():
        item = {k: entry.get(k) for k in keep if entry.get(k) is not None}
        item["filepath"] = os.path.basename(entry.get("filepath", ""))
        out.append(item)
    return out


def numpy_blas_config() -> dict[str, Any]:
    """NumPy's build-time BLAS (name, version) from ``numpy.show_config``."""
    try:
        cfg = np.show_config(mode="dicts")  # numpy >= 1.25
        blas = cfg["Build Dependencies"]["blas"]
        return {"name": blas.get("name"), "version": blas.get("version")}
    except Exception:  # pragma: no cover - old numpy
        return {}


# ----------------------------------------------------------------------------- metrics
def train_metrics(out: np.ndarray, y: np.ndarray, kind: str) -> dict[str, float]:
    """Mean cross-entropy and accuracy, in float64, from logits or probabilities.

    Parameters
    ----------
    out : ndarray of shape (n_samples, n_classes)
    y : ndarray of shape (n_samples,), integer labels
    kind : {"logits", "proba"}
    """
    out = np.asarray(out, dtype=np.float64)
    rows = np.arange(len(y))
    if kind == "logits":
        m = out.max(axis=1)
        lse = m + np.log(np.exp(out - m[:, None]).sum(axis=1))
        losses = lse - out[rows, y]
    else:
        losses = -np.log(np.clip(out[rows, y], 1e-300, None))
    return {"loss": float(losses.mean()), "accuracy": float((out.argmax(axis=1) == y).mean())}


# ----------------------------------------------------------------------------- timing
def time_repeated(fn: Callable[[], Any], *, min_repeats: int, max_repeats: int, budget_s: float,
                  collect: bool = False, warmup: int = 0) -> list[float]:
    """Wall times (s) of ``fn()``: at least ``min_repeats`` calls, then more until ``budget_s``.

    ``warmup`` untimed calls come first; ``collect`` runs the garbage collector
    (untimed) before each timed call.
    """
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_repeats:
        if collect:
            gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) >= min_repeats and time.perf_counter() - start > budget_s:
            break
    return times


def time_calls(fn: Callable[[], Any], *, max_calls: int, budget_s: float, warmup: int = 20) -> list[float]:
    """Per-call wall times (s) of a fast ``fn()``, each timed alone (for medians)."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    clock = time.perf_counter_ns
    deadline = time.perf_counter() + budget_s
    while len(times) < max_calls:
        t = clock()
        fn()
        times.append((clock() - t) * 1e-9)
        if len(times) >= 10 and time.perf_counter() > deadline:
            break
    return times


def summary(times: list[float]) -> dict[str, Any]:
    """Median, min, max and count of a list of durations (s)."""
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "n": len(times),
    }
