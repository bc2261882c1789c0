"""logitnet: numerically stable softmax classifiers in NumPy, with a Keras-compatible API.

>>> import logitnet as ln
>>> ln.softmax([1000.0, 0.0])
array([1., 0.])

The modules mirror Keras: ``ln.layers``, ``ln.models``, ``ln.losses``,
``ln.optimizers``, ``ln.callbacks``, ``ln.activations``, ``ln.metrics``, plus
``ln.ops`` (the stable math) and ``ln.datasets``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import (
    activations,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    regularizers,
    utils,
)
from .layers import BatchNormalization, Dense, Dropout, Input
from .models import Sequential
from .ops import log_softmax, logsumexp, softmax
from .models import load_model

__all__ = [
    "__version__",
    "activations",
    "callbacks",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "regularizers",
    "utils",
    "Dense",
    "Dropout",
    "BatchNormalization",
    "Input",
    "Sequential",
    "load_model",
    "softmax",
    "log_softmax",
    "logsumexp",
]
