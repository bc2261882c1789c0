"""The three workloads: their data, architecture and training settings.

The data is generated once by the runner (float64 ``x``, int64 ``y``, as
scikit-learn's generators return them) and saved as ``.npy`` files that
every worker loads, so all frameworks train on the same arrays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["WORKLOADS", "specs", "make_data", "write_data"]

SEED_CENTERS = [[-5, 2], [-2, -2], [1, 2], [5, -2]]

# name -> full-size spec; "quick" overrides apply with --quick.
WORKLOADS: dict[str, dict[str, Any]] = {
    "seed": {
        "title": "seed: make_blobs 2000 x 2, 4 classes, 2-25-15-4, batch 32, 10 epochs (630 steps)",
        "generator": "blobs",
        "n_samples": 2000, "n_features": 2, "n_classes": 4,
        "hidden": [25, 15], "batch_size": 32, "epochs": 10, "lr": 0.001,
        "repeats": 7, "quick": {"repeats": 3},
    },
    "large": {
        "title": "large: make_classification 200,000 x 50, 10 classes, 50-256-256-10, batch 256, 2 epochs",
        "generator": "classification",
        "n_samples": 200_000, "n_features": 50, "n_classes": 10, "n_informative": 30, "n_redundant": 10,
        "n_clusters_per_class": 2,
        "hidden": [256, 256], "batch_size": 256, "epochs": 2, "lr": 0.001,
        "repeats": 3,
        "quick": {"n_samples": 20_000, "repeats": 2,
                  "title": "large (quick): make_classification 20,000 x 50, 10 classes, 50-256-256-10, "
                           "batch 256, 2 epochs"},
    },
    "many": {
        "title": "many classes: make_classification 20,000 x 256, 100 classes, 256-256-100, batch 64, 5 epochs",
        "generator": "classification",
        "n_samples": 20_000, "n_features": 256, "n_classes": 100, "n_informative": 64, "n_redundant": 32,
        "n_clusters_per_class": 1, "class_sep": 2.0,
        "hidden": [256], "batch_size": 64, "epochs": 5, "lr": 0.001,
        "repeats": 5,
        "quick": {"n_samples": 5_000, "epochs": 2, "repeats": 2,
                  "title": "many classes (quick): make_classification 5,000 x 256, 100 classes, 256-256-100, "
                           "batch 64, 2 epochs"},
    },
}


def specs(names: list[str], quick: bool) -> dict[str, dict[str, Any]]:
    """The selected workloads' specs, with the quick overrides applied if asked."""
    out = {}
    for name in names:
        spec = {k: v for k, v in WORKLOADS[name].items() if k != "quick"}
        if quick:
            spec.update(WORKLOADS[name]["quick"])
        spec["name"] = name
        spec["steps"] = spec["epochs"] * -(-spec["n_samples"] // spec["batch_size"])
        out[name] = spec
    return out


def make_data(spec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The workload's float64 ``x`` (n_samples, n_features) and int64 ``y`` (n_samples,)."""
    try:
        from sklearn.datasets import make_blobs, make_classification
    except ImportError:  # the blobs are also in logitnet (same samples)
        make_classification = None
        from logitnet.datasets import make_blobs
    if spec["generator"] == "blobs":
        x, y = make_blobs(n_samples=spec["n_samples"], centers=SEED_CENTERS, cluster_std=1.0, random_state=30)
    else:
        if make_classification is None:
            raise RuntimeError("the 'large' and 'many' workloads need scikit-learn's make_classification")
        x, y = make_classification(
            n_samples=spec["n_samples"], n_features=spec["n_features"], n_informative=spec["n_informative"],
            n_redundant=spec["n_redundant"], n_classes=spec["n_classes"],
            n_clusters_per_class=spec["n_clusters_per_class"], class_sep=spec.get("class_sep", 1.0), random_state=0,
        )
    return np.ascontiguousarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)


def write_data(spec: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """Generate a workload's data into ``data_dir``; returns facts about it."""
    x, y = make_data(spec)
    np.save(data_dir / f"{spec['name']}_x.npy", x)
    np.save(data_dir / f"{spec['name']}_y.npy", y)
    (data_dir / f"{spec['name']}.json").write_text(json.dumps(spec))
    return {"shape": list(x.shape), "classes": int(y.max()) + 1, "x_mb": x.nbytes / 2**20}
