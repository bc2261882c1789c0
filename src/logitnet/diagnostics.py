"""What ``fit`` tells the user about their data and about a diverged training run.

- :func:`feature_stats` computes each feature's mean, spread (standard
  deviation), minimum and maximum in one pass over blocks of rows (float64
  accumulation, Chan et al.'s pairwise update), so it never needs a second
  copy of a large input;
- :func:`unscaled_inputs_message` is the cheap check run before training:
  features whose spreads are orders of magnitude apart;
- :func:`divergence_message` explains a non-finite loss from what the model
  can see: the learning rate, the largest |logit| on the failing batch, the
  input scale and the labels.

Nothing here runs inside the training loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FeatureStats",
    "StatsAccumulator",
    "feature_stats",
    "unscaled_inputs_message",
    "describe_inputs",
    "describe_labels",
    "largest_logit",
    "divergence_message",
]

SPREAD_RATIO = 1e3  # spreads this far apart (3 orders of magnitude) count as unscaled
LARGE_INPUT = 1e3  # |x| beyond this counts as large, in a diagnosis
LARGE_LOGIT = 1e4  # logits beyond this point at exploding weights
_BLOCK_ELEMENTS = 1 << 20
_NARROW = 16  # fewer features than this: reduce the transposed block


@dataclass(frozen=True)
class FeatureStats:
    """Per-feature statistics of an input, each an array of shape (n_features,), float64."""

    n_samples: int
    mean: NDArray[np.float64]
    std: NDArray[np.float64]
    min: NDArray[np.float64]
    max: NDArray[np.float64]


class StatsAccumulator:
    """Merges blocks of rows into running means, sums of squared deviations, minima and maxima."""

    def __init__(self, n_features: int) -> None:
        self.n = 0
        self.mean = np.zeros(n_features)
        self.m2 = np.zeros(n_features)
        self.min = np.full(n_features, np.inf)
        self.max = np.full(n_features, -np.inf)

    def add(self, block: np.ndarray) -> None:
        """Add a block of shape (n_rows, n_features)."""
        nb = len(block)
        if nb == 0:
            return
        block = np.asarray(block)
        if block.shape[1] < _NARROW:
            # Features as contiguous rows: reducing a narrow (n_samples, n_features) array
            # along its rows is ~20x slower than reducing its transpose along a contiguous axis.
            b, axis = np.array(block.T, dtype=np.float64, order="C"), 1
        else:
            b, axis = np.array(block, dtype=np.float64), 0
        mean_b = np.add.reduce(b, axis=axis) / nb
        np.minimum(self.min, np.minimum.reduce(b, axis=axis), out=self.min)
        np.maximum(self.max, np.maximum.reduce(b, axis=axis), out=self.max)
        b -= mean_b[:, None] if axis == 1 else mean_b
        b *= b
        m2_b = np.add.reduce(b, axis=axis)
        if self.n == 0:  # the first block (often the only one)
            self.n, self.mean, self.m2 = nb, mean_b, m2_b
            return
        total = self.n + nb
        delta = mean_b - self.mean
        self.mean += delta * (nb / total)
        self.m2 += m2_b + delta * delta * (self.n * nb / total)
        self.n = total

    def result(self) -> FeatureStats:
        std = np.sqrt(self.m2 / self.n) if self.n else np.zeros_like(self.m2)
        return FeatureStats(self.n, self.mean.copy(), std, self.min.copy(), self.max.copy())


def feature_stats(x: Any) -> FeatureStats:
    """Statistics of the columns of ``x``, shape (n_samples, n_features), over blocks of rows.

    A :class:`~logitnet.outofcore.RowSource` that was scanned by the checks
    already carries them (``x.stats``).
    """
    cached = getattr(x, "stats", None)
    if cached is not None:
        return cached
    acc = StatsAccumulator(x.shape[1])
    step = max(1, _BLOCK_ELEMENTS // max(1, x.shape[1]))
    for start in range(0, len(x), step):
        acc.add(x[start:start + step])
    return acc.result()


def _varying(stats: FeatureStats) -> NDArray[np.intp]:
    return np.flatnonzero(stats.max > stats.min)


def unscaled_inputs_message(stats: FeatureStats, name: str = "x") -> Optional[str]:
    """A warning text when the non-constant features' spreads are >= 1000x apart, else None."""
    varying = _varying(stats)
    if len(varying) < 2:
        return None
    std = stats.std[varying]
    lo, hi = int(np.argmin(std)), int(np.argmax(std))
    if not std[lo] > 0 or std[hi] / std[lo] < SPREAD_RATIO:
        return None
    orders = int(math.floor(math.log10(std[hi] / std[lo])))
    return (
        f"The features of `{name}` look unscaled: their spreads (standard deviations) range from "
        f"{std[lo]:.3g} (feature {varying[lo]}) to {std[hi]:.3g} (feature {varying[hi]}), {orders} orders of "
        "magnitude apart. Gradient descent on such inputs learns slowly or diverges. Standardize the "
        "features, e.g. with sklearn.preprocessing.StandardScaler: fit it on the training data and apply it "
        "to every input (fit, evaluate and predict)."
    )


def _input_flags(stats: Optional[FeatureStats]) -> tuple[bool, bool]:
    """(some feature is large, spreads are orders of magnitude apart)."""
    if stats is None or stats.n_samples == 0:
        return False, False
    large = float(np.max(np.maximum(np.abs(stats.min), np.abs(stats.max)))) >= LARGE_INPUT
    varying = _varying(stats)
    std = stats.std[varying]
    apart = len(varying) >= 2 and std.min() > 0 and std.max() / std.min() >= SPREAD_RATIO
    return large, bool(apart)


def describe_inputs(stats: Optional[FeatureStats]) -> str:
    """``means a..b, spreads (std) c (feature i) .. d (feature j), values from e to f``."""
    if stats is None or stats.n_samples == 0:
        return "not available"
    std = stats.std
    lo, hi = int(np.argmin(std)), int(np.argmax(std))
    return (
        f"feature means {stats.mean.min():.3g} .. {stats.mean.max():.3g}, spreads (std) {std[lo]:.3g} "
        f"(feature {lo}) .. {std[hi]:.3g} (feature {hi}), values from {stats.min.min():.3g} to "
        f"{stats.max.max():.3g}"
    )


def describe_labels(
    y: np.ndarray, target: str, n_outputs: int, ignore_class: Optional[int]
) -> tuple[str, Optional[str]]:
    """A description of the labels, and a problem with them that can make the loss diverge (or None)."""
    if target == "sparse":
        kept = y if ignore_class is None else y[y != ignore_class]
        if kept.size == 0:
            return "every label is ignore_class", None
        return f"labels {int(kept.min())}..{int(kept.max())} for {n_outputs} outputs", None
    lo, hi = float(y.min()), float(y.max())
    sums = y.sum(axis=1, dtype=np.float64)
    text = f"targets in [{lo:.3g}, {hi:.3g}], row sums {sums.min():.3g} .. {sums.max():.3g}"
    if lo < 0:
        return text, (
            f"the targets: they include negative values (down to {lo:.3g}), and with a negative target the "
            "cross-entropy has no lower bound, so the logits grow without limit. Targets must be probabilities: "
            "one-hot rows or soft labels in [0, 1]."
        )
    return text, None


def largest_logit(model: Any, xb: np.ndarray) -> float:
    """max |logit| of the batch ``xb``, computed in float64 from the model's weights (no overflow)."""
    with np.errstate(all="ignore"):
        z = model._forward(np.asarray(xb, dtype=np.float64), training=False, logits=model._fused_output())
    return float(np.max(np.abs(z))) if z.size else 0.0


def _default_learning_rate(optimizer: Any) -> float:
    try:
        return float(type(optimizer)().learning_rate)
    except Exception:  # a custom optimizer that needs arguments
        return 1e-3


def _learning_rate_cause(optimizer: Any, logit: float, weight: float, dtype: np.dtype) -> str:
    lr = optimizer.learning_rate
    name = type(optimizer).__name__
    clipped = any(getattr(optimizer, k, None) is not None for k in ("clipnorm", "global_clipnorm", "clipvalue"))
    remedy = f"Lower it (e.g. learning_rate={lr / 10:.3g})" + (
        "" if clipped else f", or clip the gradients ({name}(..., clipnorm=1.0))"
    ) + "."
    limit = float(np.finfo(dtype).max)
    if not logit >= LARGE_LOGIT:
        return (
            f"the learning rate: {name} with learning_rate={lr:.3g} may be too large for this model and data. "
            f"{remedy}"
        )
    over = f", beyond {dtype.name}'s largest number {limit:.3g}" if logit > limit else ""
    return (
        f"the learning rate: {name} with learning_rate={lr:.3g} let the weights grow (largest |weight| "
        f"{weight:.3g}) until the logits overflowed (largest |logit| on the failing batch {logit:.3g}{over}). "
        f"{remedy}"
    )


def _input_cause(stats: FeatureStats, large: bool) -> str:
    what = "large" if large else "unevenly scaled"
    return (
        f"the input scale: the features are {what} ({describe_inputs(stats)}), so the first layer's outputs "
        "and gradients are large. Standardize the features, e.g. with sklearn.preprocessing.StandardScaler "
        "(fit it on the training data, apply it to every input)."
    )


def divergence_message(
    *,
    where: str,
    loss: float,
    iterations: int,
    how: str,
    model: Any,
    logit: float,
    stats: Optional[FeatureStats],
    labels: tuple[str, Optional[str]],
    sample_weight: Optional[np.ndarray],
) -> str:
    """The text of the DivergenceWarning.

    Parameters
    ----------
    where : str
        E.g. ``"in epoch 3/10 at batch 18/63"``.
    loss : float
        The failing step's loss (finite when the weights went bad first).
    iterations : int
        ``optimizer.iterations`` of the state kept.
    how : {"skipped", "replayed", "outside", "start"}
        Whether the failing step was simply not applied, found by replaying
        the epoch, not reproducible (the state was changed outside the
        training steps), or the epoch began with non-finite weights.
    logit : float
        The largest |logit| of the failing batch with the weights kept.
    """
    optimizer = model.optimizer
    what = f"the loss became {loss}" if not math.isfinite(loss) else (
        "the weights or the optimizer's state became non-finite after a step whose loss was finite (a non-finite "
        "gradient or update)"
    )
    kept = {
        "skipped": "the model keeps the weights and optimizer state of the last finite step",
        "replayed": "the model keeps the weights and optimizer state of the last finite step (recomputed from "
        "the start of the epoch)",
        "outside": "the weights had been made non-finite outside the training steps (by a callback?); the model "
        "keeps the state of the last finite step, recomputed from the start of the epoch",
        "start": "the weights were already non-finite when the epoch began, and are left as they are",
    }[how]
    flat = np.concatenate([w.ravel() for w in model.weights]) if model.weights else np.zeros(1)
    with np.errstate(invalid="ignore"):
        weight = float(np.max(np.abs(flat)))
    large, apart = _input_flags(stats)
    lr = optimizer.learning_rate
    lr_cause = _learning_rate_cause(optimizer, logit, weight, model.dtype)
    causes = []
    if how in ("outside", "start"):
        causes.append("the weights were changed outside the training steps, e.g. by a callback or by hand.")
    if labels[1] is not None:
        causes.append(labels[1])
    high_lr = lr >= 100 * _default_learning_rate(optimizer)
    input_cause = _input_cause(stats, large) if (large or apart) and stats is not None else None
    if how not in ("outside", "start"):
        causes += [lr_cause, input_cause] if high_lr else [input_cause, lr_cause]
    causes = [c for c in causes if c]
    seen = [
        f"learning_rate={lr:.3g} ({type(optimizer).__name__})",
        f"largest |logit| on the failing batch {logit:.3g}",
        f"largest |weight| {weight:.3g}",
        f"inputs: {describe_inputs(stats)}",
        labels[0],
    ]
    if sample_weight is not None and sample_weight.size:
        seen.append(f"sample weights {float(sample_weight.min()):.3g} .. {float(sample_weight.max()):.3g}")
    lines = [
        f"Training diverged {where}: {what}. Training stopped; {kept} (optimizer.iterations={iterations}).",
        f"Likely cause: {causes[0]}",
    ]
    if len(causes) > 1:
        lines.append("Also check: " + " ".join(causes[1:]))
    lines.append("What logitnet saw: " + "; ".join(seen) + ".")
    return "\n".join(lines)
