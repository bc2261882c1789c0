"""Record Keras 3's learning-rate schedule values, for ``tests/test_schedules.py``.

Run by hand, in an environment with TensorFlow and Keras 3 (never logitnet's own)::

    /work/tfvenv/bin/python tests/data/make_schedule_fixtures.py

It writes ``tests/data/schedule_fixtures.json``: the versions used and, per case, the
schedule's ``{"class_name", "config"}``, the steps, and Keras's values at those steps
(float32 values written as the exact Python floats). The steps are fed as int64
tensors, like ``optimizer.iterations``; the schedules run eagerly. Deterministic:
no randomness, fixed cases. This script does not import logitnet.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedule_fixtures.json")

STEPS = [0, 1, 2, 3, 7, 10, 99, 100, 101, 250, 999, 1000, 1001, 1234, 5000, 12345, 100000]

CASES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.96}),
    ("ExponentialDecay", {"initial_learning_rate": 0.01, "decay_steps": 1000, "decay_rate": 0.5,
                          "staircase": True}),
    ("ExponentialDecay", {"initial_learning_rate": 0.001, "decay_steps": 7, "decay_rate": 0.9}),
    ("ExponentialDecay", {"initial_learning_rate": 0.05, "decay_steps": 33, "decay_rate": 0.77,
                          "staircase": True}),
    ("ExponentialDecay", {"initial_learning_rate": 3e-4, "decay_steps": 2.5, "decay_rate": 0.999}),
    ("PiecewiseConstantDecay", {"boundaries": [100, 1000], "values": [0.1, 0.01, 0.001]}),
    ("PiecewiseConstantDecay", {"boundaries": [1, 2, 3], "values": [1.0, 0.3, 0.07, 0.003]}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 1000}),
    ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 250, "alpha": 0.1}),
    ("CosineDecay", {"initial_learning_rate": 0.003, "decay_steps": 7, "alpha": 0.01}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 1000, "warmup_target": 0.1,
                     "warmup_steps": 100}),
    ("CosineDecay", {"initial_learning_rate": 0.001, "decay_steps": 100, "alpha": 0.2,
                     "warmup_target": 0.01, "warmup_steps": 250}),
    ("CosineDecay", {"initial_learning_rate": 0.02, "decay_steps": 3, "warmup_target": 0.005,
                     "warmup_steps": 10}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 1.0, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.01, "decay_steps": 100, "decay_rate": 0.3,
                          "staircase": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.007, "decay_steps": 13, "decay_rate": 2.5}),
]


def main() -> None:
    schedules = keras.optimizers.schedules
    cases = []
    for class_name, config in CASES:
        schedule = getattr(schedules, class_name)(**config)
        values = [float(np.float32(schedule(keras.ops.convert_to_tensor(step, dtype="int64"))))
                  for step in STEPS]
        cases.append({"class_name": class_name, "config": config, "steps": STEPS, "values": values})
    import tensorflow as tf

    fixtures = {"keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__,
                "python": sys.version.split()[0], "cases": cases}
    with open(OUT, "w") as f:
        json.dump(fixtures, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
