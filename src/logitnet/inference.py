"""``predict``'s fast path for stacks of Dense layers: features on the first axis, biases inside the products.

``Sequential.predict`` runs a chain of :class:`~logitnet.layers.Dense` layers
(Dropout layers are the identity in inference) on a transposed layout: each
activation is stored as ``(units + 1, n_samples)`` with a last row of ones,
and each layer's kernel and bias, which the model keeps next to each other in
one buffer, form a single ``(n_in + 1, units)`` matrix. One matrix product per
layer then includes the bias, and the elementwise activations run over
contiguous rows. The bias addition ``z += b`` over rows of a few dozen units,
which NumPy cannot vectorise well, disappears; on the seed workload a 2000-row
predict takes about half the time of the plain path.

The results equal the plain path's up to float rounding (the bias is added
inside the product's sum). The layout pays off for narrow networks, where
the per-row bias addition dominates; with wide inputs or layers the
transposition costs more than it saves (3x slower for 256 features), so
models with more than ``MAX_FEATURES`` inputs or ``MAX_UNITS`` units in a
layer, models with other layers, and models with axis-wise hidden
activations (softmax) use the plain path.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from numpy.typing import NDArray

__all__ = ["dense_plan", "run_plan", "joined_view", "MAX_FEATURES", "MAX_UNITS"]

MAX_FEATURES = 16  # measured: 2 features 0.67x the plain path's time, 20 features 0.93x, 64 features 1.5x
MAX_UNITS = 64


def joined_view(kernel: NDArray[np.floating], bias: NDArray[np.floating]) -> Optional[NDArray[np.floating]]:
    """The ``(n_in + 1, units)`` matrix ``[kernel; bias]`` as a view of the buffer holding both, or None.

    ``kernel`` (n_in, units) and ``bias`` (units,) must be consecutive in one
    flat buffer, as :meth:`Sequential._pack_weights` lays out weights and
    gradients.
    """
    if not kernel.flags.c_contiguous or kernel.base is None or bias.base is not kernel.base:
        return None
    if kernel.ctypes.data + kernel.nbytes != bias.ctypes.data:
        return None
    start = (kernel.ctypes.data - kernel.base.ctypes.data) // kernel.itemsize
    flat = kernel.base.reshape(-1)
    return flat[start:start + kernel.size + bias.size].reshape(kernel.shape[0] + 1, kernel.shape[1])


def dense_plan(layers: list) -> Optional[list[tuple[Any, NDArray[np.floating], bool]]]:
    """Per Dense layer ``(layer, matrix, with_bias)``, or None when the model does not qualify.

    ``matrix`` is the augmented ``[kernel; bias]`` (or the kernel alone
    without a bias); Dropout layers are skipped. The last layer's activation
    may be anything (it is applied in the usual layout); hidden activations
    must be elementwise.
    """
    from .layers import Dense, Dropout

    plan = []
    dense = [layer for layer in layers if not isinstance(layer, Dropout)]
    if not dense or any(type(layer) is not Dense for layer in dense):
        return None
    if dense[0].params["kernel"].shape[0] > MAX_FEATURES or max(layer.units for layer in dense) > MAX_UNITS:
        return None
    for i, layer in enumerate(dense):
        if i < len(dense) - 1 and "axis" in getattr(layer.activation, "_params", {"axis": None}):
            return None  # softmax and log_softmax work along the features, which are rows here
        if layer.use_bias:
            matrix = joined_view(layer.params["kernel"], layer.params["bias"])
            if matrix is None:
                return None
            plan.append((layer, matrix, True))
        else:
            plan.append((layer, layer.params["kernel"], False))
    return plan


def run_plan(plan: list, x: NDArray[np.floating], logits: bool = False) -> NDArray[np.floating]:
    """Outputs of shape (n_samples, units of the last layer) for ``x`` (n_samples, n_features).

    With ``logits=True`` the last layer's activation is not applied.
    """
    n, n_in = x.shape
    dtype = plan[0][1].dtype
    h = np.empty((n_in + 1, n), dtype=dtype)
    h[:n_in] = x.T
    h[n_in] = 1.0
    last = len(plan) - 1
    for i, (layer, matrix, with_bias) in enumerate(plan):
        units = matrix.shape[1]
        extra = 0 if i == last else 1
        z = np.empty((units + extra, n), dtype=dtype)
        np.dot(matrix.T, h if with_bias else h[:-1], out=z[:units])
        if i < last:
            z[units] = 1.0
            if layer.activation.name != "linear":
                rows = z[:units]
                result = layer.activation.inplace(rows)
                if result is not rows:
                    rows[...] = result
        h = z
    out = np.ascontiguousarray(h.T)
    act = plan[last][0].activation
    if logits or act.name == "linear":
        return out
    return act.inplace(out)
