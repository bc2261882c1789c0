"""The plain NumPy reference: a hand-written float32 MLP trained with Keras's Adam.

This is the speed floor the benchmark compares logitnet against: no
validation, no callbacks, no layer objects. All weights live in one flat
float32 vector (``W`` and ``b`` are views into it) and so do their gradients,
so Adam is a dozen whole-vector NumPy calls per step. A step of the seed
network (2-25-15-4) costs about 40 NumPy calls:

- forward: ``matmul``, ``+= bias``, ``maximum`` per hidden layer, then the logits;
- softmax cross-entropy from logits: shift by the row max, ``exp``, row sums,
  the batch loss (``log``, a gather), and ``softmax - onehot`` scaled by 1/batch;
- backward: ``x.T @ g`` and ``sum(g)`` into the flat gradient per layer,
  ``g @ W.T`` times the ReLU mask below it;
- Adam in Keras's form (``epsilon`` hat, ``alpha_t = lr sqrt(1-b2^t) / (1-b1^t)``).

Reductions call the ufuncs' ``reduce`` directly (``np.add.reduce``), which
skips ``np.sum``'s Python-level dispatch. The batch order follows logitnet and Keras: a fresh permutation per epoch
(drawn from the model's generator), consecutive batches, the last partial
batch kept. The initialisation is Glorot uniform with zero biases.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["NumpyMLP"]


class NumpyMLP:
    """ReLU MLP ``n_in - hidden... - n_out`` with linear (logit) outputs.

    Parameters
    ----------
    n_in : int
    hidden : sequence of int
    n_out : int
    seed : int
        Seeds the generator used for the initialisation and the shuffles.
    """

    def __init__(self, n_in: int, hidden: Sequence[int], n_out: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        sizes = [n_in, *hidden, n_out]
        shapes = [s for a, b in zip(sizes[:-1], sizes[1:]) for s in ((a, b), (b,))]
        total = sum(math.prod(s) for s in shapes)
        self.flat = np.zeros(total, np.float32)
        self.gflat = np.zeros(total, np.float32)
        self.m = np.zeros(total, np.float32)
        self.v = np.zeros(total, np.float32)
        self.s = np.empty(total, np.float32)
        params, grads, offset = [], [], 0
        for shape in shapes:
            size = math.prod(shape)
            params.append(self.flat[offset:offset + size].reshape(shape))
            grads.append(self.gflat[offset:offset + size].reshape(shape))
            offset += size
        self.W, self.b = params[0::2], params[1::2]
        self.gW, self.gb = grads[0::2], grads[1::2]
        for w in self.W:
            limit = math.sqrt(6.0 / (w.shape[0] + w.shape[1]))
            w[...] = self.rng.uniform(-limit, limit, w.shape)
        self.hidden = list(hidden)
        self.n_out = n_out
        self.t = 0

    def fit(self, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, lr: float = 0.001,
            beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7) -> float:
        """Train; returns the last epoch's mean batch loss (each taken before its update)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.intp)
        n, B = len(x), batch_size
        self.prepare(B, lr, beta_1, beta_2, epsilon)
        forward, loss_grad, backward, adam = self.forward, self.loss_grad, self.backward, self.adam
        epoch_loss = 0.0
        for _ in range(epochs):
            order = self.rng.permutation(n)
            xe, ye = x[order], y[order]
            total = 0.0
            for start in range(0, n, B):
                xb, yb = xe[start:start + B], ye[start:start + B]
                forward(xb)
                total += loss_grad(yb)
                backward(xb)
                adam()
            epoch_loss = total / n
        return epoch_loss

    # -- one training step, in four phases (separate so that they can be profiled) --
    def prepare(self, B: int, lr: float, beta_1: float, beta_2: float, epsilon: float) -> None:
        """Allocate the per-batch buffers (for batches of up to ``B`` rows) and Adam's constants."""
        self.acts = [np.empty((B, h), np.float32) for h in self.hidden]
        self.deltas = [np.empty((B, h), np.float32) for h in self.hidden]
        self.z = np.empty((B, self.n_out), np.float32)
        self.e = np.empty((B, self.n_out), np.float32)
        self.rows = np.arange(B)
        self.hyper = (lr, beta_1, beta_2)
        self.c1, self.c2, self.eps = np.float32(1 - beta_1), np.float32(1 - beta_2), np.float32(epsilon)

    def forward(self, xb: np.ndarray) -> None:
        """Hidden activations into ``acts``, logits into ``z`` (first ``len(xb)`` rows)."""
        b, W, bias = len(xb), self.W, self.b
        self.b_rows = b
        h = xb
        for i in range(len(self.hidden)):
            a = self.acts[i][:b]
            np.matmul(h, W[i], out=a)
            a += bias[i]
            np.maximum(a, 0.0, out=a)
            h = a
        zz = self.z[:b]
        np.matmul(h, W[-1], out=zz)
        zz += bias[-1]

    def loss_grad(self, yb: np.ndarray) -> float:
        """Summed batch cross-entropy; leaves ``(softmax(z) - onehot(y)) / b`` in ``e``."""
        b = self.b_rows
        zz, ee, r = self.z[:b], self.e[:b], self.rows[:b]
        zz -= np.maximum.reduce(zz, axis=1, keepdims=True)
        np.exp(zz, out=ee)
        sums = np.add.reduce(ee, axis=1, keepdims=True)
        total = float(np.add.reduce(np.log(sums), axis=None) - np.add.reduce(zz[r, yb]))
        ee /= sums
        ee[r, yb] -= 1.0
        ee *= np.float32(1.0 / b)
        return total

    def backward(self, xb: np.ndarray) -> None:
        """Weight gradients into the flat gradient vector."""
        b, acts, W, gW, gb = self.b_rows, self.acts, self.W, self.gW, self.gb
        grad = self.e[:b]
        for i in range(len(self.hidden), -1, -1):
            below = acts[i - 1][:b] if i else xb
            np.matmul(below.T, grad, out=gW[i])
            np.add.reduce(grad, axis=0, out=gb[i])
            if i:
                d = self.deltas[i - 1][:b]
                np.matmul(grad, W[i].T, out=d)
                d *= below > 0
                grad = d

    def adam(self) -> None:
        """Keras's Adam update of the flat parameter vector."""
        lr, beta_1, beta_2 = self.hyper
        g, m, v, s = self.gflat, self.m, self.v, self.s
        self.t += 1
        alpha = np.float32(lr * math.sqrt(1 - beta_2 ** self.t) / (1 - beta_1 ** self.t))
        np.subtract(g, m, out=s)
        s *= self.c1
        m += s
        np.multiply(g, g, out=s)
        s -= v
        s *= self.c2
        v += s
        np.sqrt(v, out=s)
        s += self.eps
        np.divide(m, s, out=s)
        s *= alpha
        self.flat -= s

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Logits of shape (n_samples, n_out) for the whole input at once."""
        h = np.asarray(x, dtype=np.float32)
        for i in range(len(self.hidden)):
            h = h @ self.W[i]
            h += self.b[i]
            np.maximum(h, 0.0, out=h)
        out = h @ self.W[-1]
        out += self.b[-1]
        return out
