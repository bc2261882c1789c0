"""Layers, with Keras's names: :class:`Dense`, :class:`Dropout`, :class:`BatchNormalization`, :func:`Input`.

Every layer keeps the contract described in :mod:`logitnet.layers.core`.
"""

from __future__ import annotations

from .core import Dense, Input, InputLayer, Layer
from .normalization import BatchNormalization
from .regularization import Dropout

__all__ = ["Layer", "Dense", "Dropout", "BatchNormalization", "Input", "InputLayer"]
