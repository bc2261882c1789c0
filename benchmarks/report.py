"""Turn the runner's collected results into target checks and a Markdown report."""

from __future__ import annotations

import statistics
from typing import Any, Optional

import adapters

__all__ = ["evaluate_targets", "render"]

PEERS = ["torch", "sklearn", "keras"]
ORDER = ["logitnet", "numpy-ref", "torch", "sklearn", "keras"]
MB = 2**20
NOISY = 0.15  # cores used by other processes during a measurement above which a row is flagged (as run.py)


# ----------------------------------------------------------------------------- access
def _run(results: dict, wl: str, fw: str, mode: Optional[str] = None) -> Optional[dict]:
    mode = mode or results["meta"]["main_mode"]
    r = results["runs"].get(mode, {}).get(wl, {}).get(fw)
    return r if r and r.get("ok") else None


def _fit(r: Optional[dict]) -> Optional[float]:
    return r["fit"]["median"] if r else None


def _predict(r: Optional[dict]) -> Optional[float]:
    return r["predict"]["median"] if r else None


def _row(r: Optional[dict]) -> Optional[float]:
    return next(iter(r["row"].values()))["median"] if r else None


def _div(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


# ----------------------------------------------------------------------------- targets
def _target(tid: str, text: str, value: Optional[float], goal: float, op: str, shown: str) -> dict[str, Any]:
    passed = None if value is None else (value <= goal if op == "<=" else value >= goal)
    return {"id": tid, "target": text, "value": value, "goal": goal, "op": op,
            "measured": shown if value is not None else "not measured", "pass": passed}


def _speed_targets(results: dict, wl: str, goals: dict[str, float], label: str) -> list[dict[str, Any]]:
    out = []
    ln = _fit(_run(results, wl, "logitnet"))
    for fw, goal in goals.items():
        if fw == "numpy-ref":
            v = _div(ln, _fit(_run(results, wl, fw)))
            out.append(_target(f"{wl}-fit-{fw}", f"{label} fit within {goal}x of the NumPy reference loop",
                               v, goal, "<=", f"logitnet / numpy-ref = {v:.2f}x" if v else ""))
        else:
            v = _div(_fit(_run(results, wl, fw)), ln)
            word = "no slower than" if goal == 1.0 else f">= {goal}x faster than"
            out.append(_target(f"{wl}-fit-{fw}", f"{label} fit {word} {fw}", v, goal, ">=",
                               f"{fw} / logitnet = {v:.2f}x" if v else ""))
    return out


def _quality_target(results: dict, wl: str) -> dict[str, Any]:
    ln = _run(results, wl, "logitnet")
    peers = [r for fw in ORDER[1:] if (r := _run(results, wl, fw))]
    if not ln or not peers:
        return _target(f"{wl}-quality", f"{wl}: loss/accuracy in the peers' range", None, 0, ">=", "")
    accs = [p["train"]["accuracy"] for p in peers]
    losses = [p["train"]["loss"] for p in peers]
    acc, loss = ln["train"]["accuracy"], ln["train"]["loss"]
    ok = acc >= min(accs) - 0.01 and loss <= 1.25 * max(losses)
    shown = (f"acc {acc:.3f} (peers {min(accs):.3f}-{max(accs):.3f}), "
             f"loss {loss:.3f} (peers {min(losses):.3f}-{max(losses):.3f})")
    t = _target(f"{wl}-quality", f"{wl}: loss/accuracy in the peers' range (acc >= lowest - 0.01, "
                "loss <= 1.25 x highest)",
                1.0 if ok else 0.0, 1.0, ">=", shown)
    return t


def _predict_targets(results: dict, wls: list[str]) -> list[dict[str, Any]]:
    out = []
    for what, get in (("full-set predict (default call)", _predict), ("single-row predict", _row)):
        worst: Optional[tuple[float, str]] = None
        for wl in wls:
            ln = get(_run(results, wl, "logitnet"))
            for fw in PEERS:
                v = _div(get(_run(results, wl, fw)), ln)
                if v is not None and (worst is None or v < worst[0]):
                    worst = (v, f"{wl}/{fw}")
        v = worst[0] if worst else None
        shown = f"slowest case: peer / logitnet = {v:.2f}x ({worst[1]})" if worst else ""
        out.append(_target(f"predict-{what.split()[0]}", f"{what} no slower than any peer", v, 1.0, ">=", shown))
    return out


def evaluate_targets(results: dict) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and pass/fail (None if not measured)."""
    wls = list(results["workloads"])
    out: list[dict[str, Any]] = []
    if "seed" in wls:
        out += _speed_targets(results, "seed", {"numpy-ref": 1.2, "keras": 50, "torch": 5, "sklearn": 4}, "seed")
    if "large" in wls:
        out += _speed_targets(results, "large", {"torch": 1.0, "sklearn": 1.4, "keras": 1.6}, "large")
    for wl in wls:
        out.append(_quality_target(results, wl))
    out += _predict_targets(results, wls)
    imp = results["imports"].get("logitnet", {})
    v = imp.get("framework_s") if imp.get("ok") else None
    out.append(_target("import", "`import logitnet` adds at most 30 ms to `import numpy`", v, 0.030, "<=",
                       f"{v * 1e3:.1f} ms" if v is not None else ""))
    if "seed" in wls:
        v = _row(_run(results, "seed", "logitnet"))
        out.append(_target("row", "single-row `predict` under 20 us (seed model)", v, 20e-6, "<=",
                           f"{v * 1e6:.1f} us" if v is not None else ""))
    if "large" in wls:
        r = _run(results, "large", "logitnet")
        if r:
            budget = 1.2 * (r["data"]["x_bytes"] + r["data"]["x_float32_bytes"])
            v = r["memory"]["fit_delta"] / budget
            shown = (f"{r['memory']['fit_delta'] / MB:.0f} MB over the pre-data RSS vs budget {budget / MB:.0f} MB "
                     f"(= {v:.2f} of it)")
            if results["meta"]["quick"]:
                shown += "; quick size: fixed overheads dominate, check the full run"
        else:
            v, shown = None, ""
        out.append(_target("memory", "large: peak memory <= 1.2 x (data + its float32 copy)", v, 1.0, "<=", shown))
    return out


# ----------------------------------------------------------------------------- formatting
def _fmt(v: Optional[float], unit: str) -> str:
    if v is None:
        return "-"
    scale = {"s": 1, "ms": 1e3, "us": 1e6}[unit]
    x = v * scale
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def _x(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.2f}"


def _blas_short(r: dict) -> str:
    parts = []
    for b in r.get("blas", []):
        name = b.get("internal_api", "?")
        bits = [name, b.get("version") or ""]
        if b.get("architecture"):
            bits.append(b["architecture"])
        bits.append(f"{b.get('num_threads', '?')} threads")
        parts.append(" ".join(x for x in bits if x))
    return "; ".join(dict.fromkeys(parts)) or "-"


def _versions(r: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in r.get("versions", {}).items())


def _workload_table(results: dict, wl: str, mode: str) -> list[str]:
    bucket = results["runs"].get(mode, {}).get(wl, {})
    ln = _run(results, wl, "logitnet", mode)
    head = ("| framework | fit (s) | x | predict full (ms) | x | predict full, 1 batch (ms) | x | "
            "1 row (us) | x | train loss | train acc | fit peak RSS (MB) |")
    lines = [head, "|---|" + "---:|" * 12]
    alt_notes: list[str] = []
    noisy: list[str] = []
    for fw in ORDER:
        if fw not in bucket:
            continue
        r = _run(results, wl, fw, mode)
        if r is None:
            err = bucket[fw].get("error", "failed")
            lines.append(f"| {fw} | {err} |" + " |" * 11)
            continue
        others = (r.get("load") or {}).get("others_during_cores") or 0.0
        cells = [fw + (" †" if others > NOISY else "")]
        if others > NOISY:
            noisy.append(f"{fw} {others:.2f}")
        for get, unit in ((_fit, "s"), (_predict, "ms"),
                          (lambda q: q["predict_one_batch"]["median"] if q else None, "ms"), (_row, "us")):
            cells += [_fmt(get(r), unit), _x(_div(get(r), get(ln)))]
        cells += [f"{r['train']['loss']:.4f}", f"{r['train']['accuracy']:.4f}",
                  f"{r['memory']['peak_after_first_fit'] / MB:.0f} (+{r['memory']['fit_delta'] / MB:.0f})"]
        lines.append("| " + " | ".join(cells) + " |")
        for label, s in list(r["row"].items())[1:]:
            alt_notes.append(f"{fw} `{label}` on one row: {_fmt(s['median'], 'us')} us")
    if alt_notes:
        lines += ["", "Other single-row calls: " + "; ".join(alt_notes) + "."]
    progress = (ln or {}).get("progress_fit")
    if progress:
        def ratio(key: str) -> float:  # per seed, against the silent fit run just before: drifts cancel
            return statistics.median(a / b for a, b in zip(progress[key]["times"], progress["silent"]["times"]))

        shown = [f"{label} {_fmt(progress[key]['median'], 's')} s ({_x(ratio(key))}x)"
                 for key, label in (("terminal", "drawn live in a terminal"), ("file", "written to a file"))]
        lines += ["", "logitnet's progress display (`verbose=1`), against silent fits of the same seeds run "
                  f"alternately (median {_fmt(progress['silent']['median'], 's')} s; in parentheses the median "
                  "of the per-seed ratios): " + "; ".join(shown) + "."]
    if noisy:
        lines += ["", "† Other processes on the machine used CPU during this measurement (cores, on average): "
                  + ", ".join(noisy) + "; its times may be inflated."]
    return lines


def _blas_keep_table(results: dict) -> list[str]:
    keep = results["runs"].get("keep", {}).get("large", {})
    if results["meta"]["main_mode"] != "unset" or not keep:
        return []
    lines = ["## The large workload under both OpenBLAS settings", "",
             "Only the frameworks that use NumPy's/SciPy's OpenBLAS; `kept` = with this machine's "
             f"`OPENBLAS_CORETYPE`/`OPENBLAS_L2_SIZE` ({results['meta']['machine']['openblas_env']}), "
             "`unset` = without them (the main tables).", "",
             "| framework | fit unset (s) | fit kept (s) | kept / unset | predict 1 batch unset (ms) | kept (ms) | "
             "kernel unset | kernel kept |", "|---|---:|---:|---:|---:|---:|---|---|"]
    for fw in ORDER:
        u, k = _run(results, "large", fw, "unset"), _run(results, "large", fw, "keep")
        if not u or not k:
            continue
        lines.append(f"| {fw} | {_fmt(_fit(u), 's')} | {_fmt(_fit(k), 's')} | {_x(_div(_fit(k), _fit(u)))} | "
                     f"{_fmt(u['predict_one_batch']['median'], 'ms')} | {_fmt(k['predict_one_batch']['median'], 'ms')} | "
                     f"{_blas_short(u)} | {_blas_short(k)} |")
    return lines + [""]


def _imports_table(results: dict) -> list[str]:
    lines = ["## Import time", "",
             "Median over fresh interpreters (after one that fills a bytecode cache): time of the statement "
             "below, run right after `import numpy`.", "",
             "| framework | statement | import after numpy (ms) | x | `import numpy` (ms) |", "|---|---|---:|---:|---:|"]
    ln = results["imports"].get("logitnet", {}).get("framework_s")
    for fw in ORDER:
        imp = results["imports"].get(fw)
        if imp is None:
            continue
        if not imp.get("ok"):
            lines.append(f"| {fw} | - | {imp.get('error', 'failed')} | | |")
            continue
        stmt = imp.get("statement") or "(numpy only)"
        ratio = _x(_div(imp["framework_s"], ln)) if imp.get("statement") else "-"
        lines.append(f"| {fw} | `{stmt}` | {_fmt(imp['framework_s'], 'ms')} | {ratio} | {_fmt(imp.get('numpy_s'), 'ms')} |")
    return lines + [""]


def render(results: dict) -> str:
    """The Markdown report: machine, targets, one table per workload, imports, BLAS."""
    meta = results["meta"]
    m = meta["machine"]
    mode = meta["main_mode"]
    ln_any = next((r for wl in results["workloads"] if (r := _run(results, wl, "logitnet"))), None)
    lines = [
        "# logitnet benchmark results" + (" (quick run)" if meta["quick"] else ""), "",
        f"Generated {meta['date']} by `{meta['command']}` in {meta['total_s']} s, on logitnet at commit "
        f"{meta.get('git', {}).get('commit')}"
        + (f" plus uncommitted changes to {len(meta['git']['uncommitted_src_files'])} source file(s)"
           if meta.get("git", {}).get("uncommitted_src_files") else "") + ".", "",
        f"- Machine: {m['cpu']}, {m['cpu_count']} CPUs, {m['memory_gib']} GiB; {m['platform']}; Python {m['python']}, "
        f"NumPy {m['numpy']}.",
        f"- BLAS for the main tables: OpenBLAS env {'unset' if mode == 'unset' else 'kept'} "
        f"(the machine sets {m['openblas_env']}); logitnet's process ran "
        f"{_blas_short(ln_any) if ln_any else '-'}.",
    ]
    loads = [(r.get("load") or {}).get("others_during_cores") or 0.0
             for runs in results["runs"].values() for bucket in runs.values() for r in bucket.values()]
    if loads:
        lines.append(f"- Other processes' CPU use during the measurements: median {statistics.median(loads):.2f}, "
                     f"max {max(loads):.2f} cores (rows above {NOISY} are marked †).")
    for fw, info in meta["frameworks"].items():
        r = next((q for wl in results["workloads"] if (q := _run(results, wl, fw))), None)
        if r:
            lines.append(f"- {fw}: {_versions(r)}; BLAS/threads: {_blas_short(r)}.")
        else:
            lines.append(f"- {fw}: {info.get('reason') or 'failed'}.")
    lines += ["", "`x` columns: the framework's time divided by logitnet's (above 1: logitnet is faster). "
              "Times are medians; fit = a fresh model built, compiled and trained (after one warm-up fit). "
              "Train loss/acc: float64 cross-entropy and accuracy of the trained model on the whole training "
              "set (median over the fits). Fit peak RSS: peak RSS (VmHWM) after the first fit (in parentheses: "
              "above the RSS before the data was loaded).", "", "## Targets", "",
              "| target | measured | pass |", "|---|---|---|"]
    for t in results["targets"]:
        mark = {True: "yes", False: "**NO**", None: "-"}[t["pass"]]
        lines.append(f"| {t['target']} | {t['measured']} | {mark} |")
    lines.append("")
    for wl, spec in results["workloads"].items():
        lines += [f"## {spec['title']}", "", f"{spec['steps']} steps per fit; fit repeats: {spec['repeats']}.", ""]
        lines += _workload_table(results, wl, mode) + [""]
    lines += _imports_table(results)
    lines += _blas_keep_table(results)
    lines += ["## How each framework is run", ""]
    lines += [f"- **{fw}**: {note}" for fw, note in adapters.NOTES.items()]
    return "\n".join(lines) + "\n"
