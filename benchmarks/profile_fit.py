"""Per-step profile of logitnet's fit next to the plain NumPy reference loop.

Usage::

    python benchmarks/profile_fit.py [--workload seed|large|many] [--quick] [--repeats 7] [--top 25]
                                     [--out benchmarks/profile_seed.md]

Three views, all per training step (630 steps per fit for the seed workload):

1. end to end: median fit time / steps, without any instrumentation;
2. phases: the forward and backward passes, loss and gradient, and optimizer update
   are timed with wrappers (the wrapper's own cost is measured and subtracted);
   what remains of the fit time is the loop itself (shuffling, slicing, checks,
   callbacks, loss bookkeeping);
3. cProfile: calls per step and own time per step of every Python function and
   NumPy method/builtin, for both implementations (cProfile inflates each call
   by a fraction of a microsecond, so read it for counts and relative cost).
   Ufunc calls (``matmul``, ``exp``, ``maximum``, in-place operators) are not
   reported by cProfile: their time is in the calling function's own time.

Run it with the OpenBLAS pins unset to match the main tables
(``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/profile_fit.py``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402
import workloads  # noqa: E402

SPEC: dict[str, Any] = {}


def _data() -> tuple[np.ndarray, np.ndarray]:
    return workloads.make_data(SPEC)


def _logitnet_model(seed: int) -> Any:
    import logitnet as ln

    layers = [ln.Dense(h, activation="relu") for h in SPEC["hidden"]] + [ln.Dense(SPEC["n_classes"])]
    model = ln.Sequential(layers, seed=seed)
    model.compile(loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=ln.optimizers.Adam(learning_rate=SPEC["lr"], epsilon=1e-7))
    model.build((None, SPEC["n_features"]))
    return model


def _fit_logitnet(model: Any, x: np.ndarray, y: np.ndarray) -> None:
    model.fit(x, y, batch_size=SPEC["batch_size"], epochs=SPEC["epochs"], verbose=0, shuffle=True)


def _ref_model(seed: int) -> Any:
    from numpy_ref import NumpyMLP

    return NumpyMLP(SPEC["n_features"], SPEC["hidden"], SPEC["n_classes"], seed)


def _fit_ref(model: Any, x: np.ndarray, y: np.ndarray) -> None:
    model.fit(x, y, SPEC["batch_size"], SPEC["epochs"], lr=SPEC["lr"])


# ----------------------------------------------------------------------------- timers
def _wrap(fn: Callable, key: str, acc: dict[str, int], calls: dict[str, int]) -> Callable:
    clock = time.perf_counter_ns

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = clock()
        out = fn(*args, **kwargs)
        acc[key] += clock() - t
        calls[key] += 1
        return out

    return wrapper


def _wrapper_overhead_ns() -> float:
    acc: dict[str, int] = defaultdict(int)
    calls: dict[str, int] = defaultdict(int)
    noop = _wrap(lambda *a, **k: None, "x", acc, calls)
    n = 200_000
    t = time.perf_counter_ns()
    for _ in range(n):
        noop(1)
    outer = (time.perf_counter_ns() - t) / n
    t = time.perf_counter_ns()
    f = lambda *a, **k: None  # noqa: E731
    for _ in range(n):
        f(1)
    bare = (time.perf_counter_ns() - t) / n
    return max(0.0, outer - bare)


def _phases(make: Callable, patch: Callable, fit: Callable, x: np.ndarray, y: np.ndarray,
            repeats: int) -> dict[str, float]:
    """Median per-step microseconds of each phase and of the rest of the loop."""
    overhead = _wrapper_overhead_ns()
    per_run: list[dict[str, float]] = []
    for seed in range(repeats + 1):
        model = make(seed)
        acc: dict[str, int] = defaultdict(int)
        calls: dict[str, int] = defaultdict(int)
        patch(model, acc, calls)
        gc.collect()
        t = time.perf_counter_ns()
        fit(model, x, y)
        total = time.perf_counter_ns() - t
        wrapped = sum(calls.values())
        parts = {k: v / SPEC["steps"] / 1e3 for k, v in acc.items()}
        parts["rest of the loop"] = (total - sum(acc.values()) - wrapped * overhead) / SPEC["steps"] / 1e3
        parts["total (instrumented)"] = total / SPEC["steps"] / 1e3
        if seed:  # seed 0 is the warm-up
            per_run.append(parts)
    return {k: statistics.median(p[k] for p in per_run) for k in per_run[0]}


FWD_BWD, LOSS, UPDATE = "forward + backward", "loss and gradient", "optimizer update"


def _wrap_outer(fn: Callable, key: str, nested: tuple[str, ...], acc: dict[str, int],
                calls: dict[str, int]) -> Callable:
    """Like :func:`_wrap`, but ``key`` gets the call's time minus that of the ``nested`` phases inside it."""
    clock = time.perf_counter_ns

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = sum(acc[k] for k in nested)
        t = clock()
        out = fn(*args, **kwargs)
        acc[key] += clock() - t - (sum(acc[k] for k in nested) - before)
        calls[key] += 1
        return out

    return wrapper


def _patch_logitnet(model: Any, acc: dict, calls: dict) -> None:
    """Time fit's step (``Sequential._train_step``, whichever path it takes: the transposed
    ``DenseChain`` or layer by layer), its loss kernel and its optimizer update."""
    loss, optimizer = model.loss, model.optimizer
    loss.loss_and_grad = _wrap(loss.loss_and_grad, LOSS, acc, calls)
    columns_kernel = loss.columns_kernel

    def wrapped_kernel(*args: Any, **kwargs: Any) -> Any:
        kernel = columns_kernel(*args, **kwargs)
        return None if kernel is None else _wrap(kernel, LOSS, acc, calls)

    loss.columns_kernel = wrapped_kernel
    stepper = optimizer.stepper
    optimizer.stepper = lambda params, grads: _wrap(stepper(params, grads), UPDATE, acc, calls)
    model._train_step = _wrap_outer(model._train_step, FWD_BWD, (LOSS, UPDATE), acc, calls)


def _patch_ref(model: Any, acc: dict, calls: dict) -> None:
    model.forward = _wrap(model.forward, FWD_BWD, acc, calls)
    model.loss_grad = _wrap(model.loss_grad, LOSS, acc, calls)
    model.backward = _wrap(model.backward, FWD_BWD, acc, calls)
    model.adam = _wrap(model.adam, UPDATE, acc, calls)


def _end_to_end(make: Callable, fit: Callable, x: np.ndarray, y: np.ndarray, repeats: int) -> float:
    times = []
    for seed in range(repeats + 1):
        model = make(seed)
        gc.collect()
        t = time.perf_counter()
        fit(model, x, y)
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:]) / SPEC["steps"] * 1e6


def _cprofile(make: Callable, fit: Callable, x: np.ndarray, y: np.ndarray, top: int) -> list[tuple]:
    model = make(99)
    prof = cProfile.Profile()
    prof.enable()
    fit(model, x, y)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = func if file == "~" else f"{Path(file).name}:{line}({func})"
        rows.append((where, nc / SPEC["steps"], tt / SPEC["steps"] * 1e6, ct / SPEC["steps"] * 1e6))
    rows.sort(key=lambda r: -r[2])
    total_calls = sum(r[1] for r in rows)
    total_tt = sum(r[2] for r in rows)
    return [("(all)", total_calls, total_tt, total_tt)] + rows[:top]


# ----------------------------------------------------------------------------- report
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Per-step profile of logitnet's fit vs the NumPy loop.")
    parser.add_argument("--workload", default="seed", choices=list(workloads.WORKLOADS))
    parser.add_argument("--quick", action="store_true", help="the --quick size of the workload")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", default=None, help="also write the Markdown here")
    args = parser.parse_args(argv)
    SPEC.update(workloads.specs([args.workload], quick=args.quick)[args.workload])
    x, y = _data()
    import logitnet

    lines = [f"# Fit profile, per step ({SPEC['steps']} steps; {SPEC['title']})", "",
             f"logitnet {logitnet.__version__}, NumPy {np.__version__}; BLAS: "
             + "; ".join(f"{b.get('internal_api')} {b.get('architecture', '')} {b.get('num_threads')} threads"
                         for b in common.blas_info()), ""]
    e2e = {"logitnet": _end_to_end(_logitnet_model, _fit_logitnet, x, y, args.repeats),
           "numpy-ref": _end_to_end(_ref_model, _fit_ref, x, y, args.repeats)}
    lines += ["## End to end (no instrumentation)", "", "| | us per step | fit (ms) |", "|---|---:|---:|"]
    for k, v in e2e.items():
        lines.append(f"| {k} | {v:.1f} | {v * SPEC['steps'] / 1e3:.1f} |")
    lines.append(f"| logitnet / numpy-ref | {e2e['logitnet'] / e2e['numpy-ref']:.2f}x | |")
    ph_ln = _phases(_logitnet_model, _patch_logitnet, _fit_logitnet, x, y, args.repeats)
    ph_ref = _phases(_ref_model, _patch_ref, _fit_ref, x, y, args.repeats)
    lines += ["", "## Phases (timer wrappers; median us per step)", "",
              "logitnet's step is `Sequential._train_step` (for these models the transposed `DenseChain` step); "
              "its loss kernel and its optimizer update are timed inside it, and the rest of it is the forward "
              "and backward passes. The reference's phases are its `forward` + `backward`, `loss_grad` and "
              "`adam` methods.", "",
              "| phase | logitnet | numpy-ref | difference |", "|---|---:|---:|---:|"]
    for k in ph_ln:
        a, b = ph_ln[k], ph_ref.get(k, float("nan"))
        lines.append(f"| {k} | {a:.1f} | {b:.1f} | {a - b:+.1f} |")
    for name, make, fit in (("logitnet", _logitnet_model, _fit_logitnet), ("numpy-ref", _ref_model, _fit_ref)):
        rows = _cprofile(make, fit, x, y, args.top)
        lines += ["", f"## cProfile: {name} (per step; own time includes cProfile's overhead)", "",
                  "Ufunc calls (`matmul`, `exp`, `maximum`, in-place operators) are not listed: their time "
                  "is in the calling function's own time.", "",
                  "| function | calls | own us | cumulative us |", "|---|---:|---:|---:|"]
        lines += [f"| `{w}` | {c:.2f} | {tt:.2f} | {ct:.2f} |" for w, c, tt, ct in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
