"""The training step for plain stacks of Dense layers: samples on the last axis, biases inside the products.

``fit`` uses :class:`DenseChain` instead of the layer-by-layer step when every
layer is a trainable :class:`~logitnet.layers.Dense` with a bias (Dropout
layers with ``rate=0`` are skipped) whose hidden activations are ``relu`` or
``linear``, and the loss reads the outputs as logits (``from_logits=True``, or
a softmax output fused into the loss). A linear output trained as
probabilities keeps the layer-by-layer step: its ``1/p`` gradients amplify
float32 rounding, and the Keras parity tests measure that case on that step.

The model keeps each layer's kernel ``(n_in, units)`` and bias ``(units,)``
next to each other in one buffer, so together they are one ``(n_in + 1,
units)`` matrix, and so are their gradients. The step runs transposed, as
``predict``'s fast path does (:mod:`logitnet.inference`): each layer's input
is kept as ``(n_in + 1, batch)`` with a last row of ones, so one matrix
product gives the layer's ``kernel.T @ x.T + bias`` and, in the backward pass,
one product gives both the kernel's and the bias's gradient. With the samples
on the last axis the elementwise work runs over contiguous rows, and the
loss's reductions over the classes and its per-sample factors work on whole
rows (:meth:`~logitnet.losses.Loss.columns_kernel`): a broadcast over rows of
4 classes, or a bias added row by row, costs about 1 us, an operation on equal
shapes about 0.3 us. On the seed workload (batch 32, 2-25-15-4) the step
without its optimizer update takes 15.8 us, against 21.7 us for the same
folding in the usual layout; the matrix products are about 4.5 us of either.

The weight penalties, the non-finite-loss check and the optimizer update are
the layer-by-layer step's; the results agree with it up to float rounding
(the bias enters the product's sum).
"""

from __future__ import annotations

from math import isfinite
from typing import Any, Callable, Optional

import numpy as np
from numpy.typing import NDArray

from .inference import joined_view

__all__ = ["DenseChain"]


class DenseChain:
    """Training steps for an eligible Sequential (see the module docstring); build with :meth:`build`."""

    def __init__(self, model: Any, dense: list, weights: list, grads: list, fused: bool) -> None:
        self.model = model
        self.fused = fused
        self.weights = weights  # per layer: (n_in + 1, units) views of [kernel; bias]
        self.kernels = [w[:-1] for w in weights]  # (n_in, units) views, for the backward pass
        self.grads = grads  # the same for the gradients
        self.relu = [layer.activation.name == "relu" for layer in dense[:-1]]
        self.widths = [w.shape[0] - 1 for w in weights] + [weights[-1].shape[1]]
        self.loss_kernel = model.loss.columns_kernel(from_logits=True if fused else None)
        self._buffers: dict[int, tuple] = {}

    @classmethod
    def build(cls, model: Any, fused: bool) -> Optional["DenseChain"]:
        """The chain for ``model``, or None when a layer does not qualify."""
        from .layers import Dense, Dropout

        dense = [layer for layer in model._layers if not (isinstance(layer, Dropout) and layer.rate == 0.0)]
        if not dense or any(type(layer) is not Dense or not layer.trainable or not layer.use_bias for layer in dense):
            return None
        for layer in dense[:-1]:
            act = layer.activation
            if act.name not in ("relu", "linear") or act.needs_input:
                return None
        if not fused and (dense[-1].activation.name != "linear" or not model.loss.from_logits):
            return None  # scores that are not logits: the layer-by-layer step
        weights, grads = [], []
        for layer in dense:
            w = joined_view(layer.params["kernel"], layer.params["bias"])
            g = joined_view(layer.grads["kernel"], layer.grads["bias"])
            if w is None or g is None:
                return None
            weights.append(w)
            grads.append(g)
        return cls(model, dense, weights, grads, fused)

    def _make_buffers(self, b: int, dtype: Any) -> tuple:
        """Per batch size: the layers' inputs (n_in + 1, b) with a row of ones, and the work arrays."""
        widths = self.widths
        inputs = []
        for n in widths[:-1]:
            h = np.empty((n + 1, b), dtype=dtype)
            h[n] = 1.0
            inputs.append(h)
        rows = [h[:-1] for h in inputs]  # the inputs without their ones
        outputs = [np.empty((n, b), dtype=dtype) for n in widths[1:]]
        zeros = [np.zeros((n, b), dtype=dtype) for n in widths[1:-1]]
        below = [np.empty((n, b), dtype=dtype) for n in widths[1:-1]]  # gradients of the hidden outputs
        signs = [np.empty((n, b), dtype=dtype) for n in widths[1:-1]]
        grad = np.empty((widths[-1], b), dtype=dtype)
        buffers = (inputs, rows, outputs, zeros, below, signs, grad)
        if len(self._buffers) < 4:
            self._buffers[b] = buffers
        return buffers

    def step(self, xb: NDArray[np.floating], yb: np.ndarray, wb: Optional[np.ndarray],
             update: Callable[[], None]) -> tuple[float, NDArray[np.floating]]:
        """One training step on a batch; returns ``(loss, logits)``.

        The logits are a ``(batch, n_classes)`` view of a buffer reused next step.
        """
        dot, maximum, multiply, sign = np.dot, np.maximum, np.multiply, np.sign
        b = len(xb)
        buffers = self._buffers.get(b)
        if buffers is None:
            buffers = self._make_buffers(b, xb.dtype)
        inputs, rows, outputs, zeros, below, signs, grad_t = buffers
        weights, relu = self.weights, self.relu
        last = len(weights) - 1
        np.copyto(rows[0], xb.T)
        for i in range(last):
            if relu[i]:
                dot(weights[i].T, inputs[i], outputs[i])
                maximum(outputs[i], zeros[i], out=rows[i + 1])
            else:  # linear: straight into the next layer's input
                dot(weights[i].T, inputs[i], rows[i + 1])
        z_t = outputs[last]
        dot(weights[last].T, inputs[last], z_t)
        model = self.model
        if self.loss_kernel is not None and wb is None:
            loss = self.loss_kernel(yb, z_t, grad_t)
        else:
            loss, grad = model.loss.loss_and_grad(yb, z_t.T, wb, from_logits=True if self.fused else None)
            grad_t = grad.T
        loss = model._step_loss(loss)
        if not isfinite(loss):  # not applied
            return loss, z_t.T
        grads, kernels = self.grads, self.kernels
        for i in range(last, -1, -1):
            dot(inputs[i], grad_t.T, grads[i])
            if i:
                g = below[i - 1]
                dot(kernels[i], grad_t, g)
                if relu[i - 1]:
                    multiply(g, sign(rows[i], signs[i - 1]), g)
                grad_t = g
        model._step_update(update)
        return loss, z_t.T
