"""Test cases and helpers shared by several test modules."""

from logitnet.callbacks import Callback

# Every activation name, plus parameter variants, as Dense(activation=...) accepts them.
ACTIVATIONS = [
    "linear",
    "relu",
    {"name": "relu", "negative_slope": 0.1, "max_value": 2.0, "threshold": 0.3},
    {"name": "relu", "max_value": 1.0},
    {"name": "relu", "threshold": -0.5},
    "sigmoid",
    "tanh",
    "relu6",
    "hard_sigmoid",
    "log_sigmoid",
    "exponential",
    "softplus",
    "softsign",
    "elu",
    {"name": "elu", "alpha": 0.3},
    "selu",
    "leaky_relu",
    {"name": "leaky_relu", "negative_slope": 0.01},
    "gelu",
    {"name": "gelu", "approximate": True},
    "silu",
    "swish",
    "hard_silu",
    "hard_swish",
    "mish",
    "softmax",
    "log_softmax",
    {"name": "relu", "negative_slope": 0.1, "max_value": 3.0, "threshold": 0.2},
    {"name": "elu", "alpha": 0.5},
]


def central_diff(f, arr, h=1e-5):
    """d f() / d arr by central differences, perturbing ``arr`` in place."""
    import numpy as np

    grad = np.zeros_like(arr)
    flat, gflat = arr.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad


class Script(Callback):
    """Overwrites ``logs[key]`` with ``values[epoch]`` (the same dict later callbacks see)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
