"""The layer contract, :class:`Layer`, and the core layers :class:`Dense` and :class:`InputLayer`.

The contract every layer keeps:

- ``build(input_shape, rng, dtype)`` creates ``params[name]`` for each weight
  (in Keras's order) and a matching ``grads[name]`` buffer for each weight the
  optimizer may update; the names in ``_non_trainable`` (a BatchNormalization's
  moving statistics) get no gradient and are only written by ``forward``
  during training;
- ``forward(x, training=False)`` returns the output; only with
  ``training=True`` does it keep what ``backward`` needs, in a single slot
  that the next training call overwrites (inference never writes layer
  state, so several threads may predict with one model at once);
- ``backward(grad_out)`` fills ``grads[name]`` in place and returns the
  gradient with respect to the layer's input.

Layers never hold an optimizer.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import activations as activations_module
from .. import initializers
from .. import regularizers as regularizers_module
from .._validation import check_int
from ..exceptions import NotBuiltError
from ..utils import make_rng, unique_name

__all__ = ["Layer", "Dense", "InputLayer", "Input"]

_INPUT_SHAPE_WARNING = (
    "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential models, prefer using an "
    "`Input(shape)` object as the first layer in the model instead."
)


def check_input_shape(shape: Any, name: str = "shape") -> tuple:
    """``(None, n_features)`` from ``(n_features,)``, ``n_features`` or ``(None, n_features)``; ValueError otherwise."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    ok = isinstance(shape, (tuple, list)) and len(shape) in (1, 2)
    if ok and len(shape) == 2:
        ok = shape[0] is None
        shape = tuple(shape[1:])
    ok = ok and isinstance(shape[0], (int, np.integer)) and not isinstance(shape[0], bool) and shape[0] > 0
    if not ok:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected (n_features,) with a positive integer n_features "
            f"(logitnet models take 2-D inputs of shape (n_samples, n_features); flatten images first). "
            f"Received: {name}={shape!r}"
        )
    return (None, int(shape[0]))


class Layer:
    """Base class of logitnet layers.

    Parameters
    ----------
    name : str, optional
        Unique within a model; Keras-style automatic names (``dense``,
        ``dense_1``, ...) when omitted.
    trainable : bool, default True
        Whether the optimizer updates this layer's weights.
    input_shape : tuple, optional
        ``(n_features,)``: a first layer given it builds its Sequential at
        once. Keras accepts it with a warning recommending ``Input(shape)``,
        and so does logitnet.
    """

    _non_trainable: tuple[str, ...] = ()  # weights updated by forward(training=True), never by the optimizer
    weightless = False  # True for layers that never have weights (Dropout)

    def __init__(self, name: Optional[str] = None, trainable: bool = True, input_shape: Any = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(
                f"Received an invalid value for `name`, expected a non-empty string. Received: name={name!r}"
            )
        self.name = name if name is not None else unique_name(type(self).__name__)
        self.trainable = trainable
        self.built = False
        self.input_dim: Optional[int] = None
        self.params: dict[str, NDArray[np.floating]] = {}
        self.grads: dict[str, NDArray[np.floating]] = {}
        self._cache: Any = None
        self._build_input_shape: Optional[tuple] = None
        if input_shape is not None:
            self._build_input_shape = check_input_shape(input_shape, "input_shape")
            warnings.warn(_INPUT_SHAPE_WARNING, UserWarning, stacklevel=3)

    # -- to be provided by subclasses -------------------------------------
    def build(self, input_shape: tuple, rng: Optional[np.random.Generator] = None, dtype: Any = "float32") -> None:
        """Create the weights for inputs of shape ``(None, n_features)``."""
        self.input_dim = int(input_shape[-1])
        self.built = True

    def forward(self, x: NDArray[np.floating], training: bool = False) -> NDArray[np.floating]:
        raise NotImplementedError

    def backward(self, grad_out: NDArray[np.floating], need_input_grad: bool = True) -> Optional[NDArray[np.floating]]:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    # -- shared machinery ---------------------------------------------------
    def __call__(self, x: ArrayLike, training: bool = False) -> NDArray[np.floating]:
        """Apply the layer to ``x`` of shape ``(n_samples, n_features)``, building it if needed."""
        from ..data import check_features

        dtype = self.dtype if self.built else np.float32
        x = check_features(x, name="x", dtype=dtype)
        if not self.built:
            self.build((None, x.shape[1]), rng=make_rng(None), dtype=dtype)
        elif x.shape[1] != self.input_dim:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected axis -1 of input "
                f"shape to have value {self.input_dim}, but received input with shape {x.shape}"
            )
        return self.forward(x, training=training)

    @property
    def dtype(self) -> np.dtype:
        for value in self.params.values():
            return value.dtype
        return np.dtype(np.float32)

    @property
    def weights(self) -> list[NDArray[np.floating]]:
        """The weight arrays, in Keras order (kernel, then bias)."""
        return list(self.params.values())

    @property
    def trainable_weights(self) -> list[NDArray[np.floating]]:
        """The weights the optimizer updates (none when ``trainable`` is False)."""
        return [self.params[k] for k in self.grads] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[NDArray[np.floating]]:
        """The other weights: moving statistics, and all weights of a frozen layer."""
        if not self.trainable:
            return list(self.params.values())
        return [w for k, w in self.params.items() if k not in self.grads]

    def regularizers(self) -> list[tuple[str, Any]]:
        """``(weight name, Regularizer)`` pairs whose penalties join the loss (none by default)."""
        return []

    def count_params(self) -> int:
        """Number of weights; raises if the layer is not built yet (as Keras)."""
        if not self.built:
            raise NotBuiltError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(w.size for w in self.params.values()))

    def get_weights(self) -> list[NDArray[np.floating]]:
        """Copies of the weights, in Keras order."""
        return [w.copy() for w in self.params.values()]

    def set_weights(self, weights: list[ArrayLike]) -> None:
        """Copy ``weights`` (Keras order and shapes) into the layer."""
        from ..data import assign_weights

        assign_weights(self.name, list(self.params.values()), weights)

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable}

    def _gradient_buffers(self) -> None:
        """Zeroed ``grads`` for every weight not in ``_non_trainable`` (called at the end of ``build``)."""
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items() if k not in self._non_trainable}

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


class Dense(Layer):
    r"""Fully connected layer: ``activation(x @ kernel + bias)``.

    Parameters
    ----------
    units : int
        Number of outputs (a positive integer).
    activation : str, Activation or None, default None
        Name from :mod:`logitnet.activations`; ``None`` means ``"linear"``.
    use_bias : bool, default True
    kernel_initializer : str, default "glorot_uniform"
    bias_initializer : str, default "zeros"
    kernel_regularizer, bias_regularizer : Regularizer, str or None
        A penalty from :mod:`logitnet.regularizers` (e.g. ``l2(0.01)`` adds
        ``0.01 * sum(kernel ** 2)`` to the loss); its exact gradient is added
        to the weight's gradient in each training step.
    name : str, optional
    trainable : bool, default True
    input_shape : tuple, optional
        See :class:`Layer`; ``Input(shape)`` as a Sequential's first element
        is the recommended form.

    Attributes
    ----------
    params["kernel"] : ndarray of shape (n_features, units)
    params["bias"] : ndarray of shape (units,), when ``use_bias``

    Notes
    -----
    The weights are created lazily on the first input (Keras); an input of
    shape ``(n_samples, n_features)`` gives an output of shape
    ``(n_samples, units)``.
    """

    def __init__(
        self,
        units: int,
        activation: Union[str, Any, None] = None,
        use_bias: bool = True,
        kernel_initializer: Union[str, Any] = "glorot_uniform",
        bias_initializer: Union[str, Any] = "zeros",
        kernel_regularizer: Union[str, Any, None] = None,
        bias_regularizer: Union[str, Any, None] = None,
        name: Optional[str] = None,
        trainable: bool = True,
        input_shape: Any = None,
    ) -> None:
        self.units = check_int(units, "units")
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        super().__init__(name=name, trainable=trainable, input_shape=input_shape)

    def build(self, input_shape: tuple, rng: Optional[np.random.Generator] = None, dtype: Any = "float32") -> None:
        """Create ``kernel`` (input_shape[-1], units) and ``bias`` (units,)."""
        n_in = int(input_shape[-1])
        rng = make_rng(None) if rng is None else rng
        self.params = {"kernel": self.kernel_initializer((n_in, self.units), dtype, rng)}
        if self.use_bias:
            self.params["bias"] = self.bias_initializer((self.units,), dtype, rng)
        self._gradient_buffers()
        super().build(input_shape)

    def regularizers(self) -> list[tuple[str, Any]]:
        found = [("kernel", self.kernel_regularizer)]
        if self.use_bias:
            found.append(("bias", self.bias_regularizer))
        return [(key, reg) for key, reg in found if reg is not None]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(
        self, x: NDArray[np.floating], training: bool = False, apply_activation: bool = True
    ) -> NDArray[np.floating]:
        """Output of shape (n_samples, units); ``apply_activation=False`` gives the logits.

        With ``training=True`` the input, pre-activation and output are kept
        for :meth:`backward`.
        """
        # np.dot on 2-D arrays is the same BLAS product as @, with less dispatch (~0.3 us a call).
        z = np.dot(x, self.params["kernel"])
        if self.use_bias:
            z += self.params["bias"]
        act = self.activation
        if not apply_activation or act.name == "linear":
            out = z
            applied = False
        else:
            # z is this call's own temporary: overwrite it unless backward needs it.
            out = act(z) if training and act.needs_input else act.inplace(z)
            applied = True
        if training:
            self._cache = (x, z if applied and act.needs_input else None, out, applied)
        return out

    def backward(
        self, grad_out: NDArray[np.floating], need_input_grad: bool = True
    ) -> Optional[NDArray[np.floating]]:
        """Gradient wrt the input, shape (n_samples, n_features); fills ``grads``.

        ``grad_out`` is the gradient wrt this layer's output (or wrt its
        logits when the last forward had ``apply_activation=False``).
        """
        x, z, out, applied = self._cache
        g = self.activation.backward(grad_out, z, out) if applied else grad_out
        np.dot(x.T, g, out=self.grads["kernel"])
        if self.use_bias:
            np.add.reduce(g, axis=0, out=self.grads["bias"])  # np.sum's wrapper costs 2 us a call
        if not need_input_grad:
            return None
        return np.dot(g, self.params["kernel"].T)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations_module.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer.name,
                "bias_initializer": self.bias_initializer.name,
                "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
            }
        )
        return config

    def __repr__(self) -> str:
        return f"<Dense name={self.name!r}, units={self.units}, activation={self.activation.name!r}>"


class InputLayer(Layer):
    """The input specification of a Sequential model; made by :func:`Input`.

    Placed first in a ``Sequential``, it builds the model at once for inputs
    of shape ``(n_samples, n_features)``. It is not one of ``model.layers``
    (as in Keras 3) and has no weights.

    Parameters
    ----------
    shape : tuple of one int
        ``(n_features,)``.
    name : str, optional
    """

    def __init__(self, shape: Any, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.shape = check_input_shape(shape)
        self.input_dim = self.shape[1]

    def forward(self, x: NDArray[np.floating], training: bool = False) -> NDArray[np.floating]:
        return x

    def get_config(self) -> dict:
        return {"shape": [self.shape[1]], "name": self.name}

    def __repr__(self) -> str:
        return f"<InputLayer name={self.name!r}, shape={self.shape}>"


def Input(shape: Any, name: Optional[str] = None) -> InputLayer:  # noqa: N802 (Keras's name)
    """Declare the input of a Sequential model: ``Sequential([Input((n_features,)), Dense(...), ...])``.

    Parameters
    ----------
    shape : tuple of one int, or int
        ``(n_features,)``: the model takes arrays of shape ``(n_samples, n_features)``.
    name : str, optional

    Returns
    -------
    InputLayer
    """
    return InputLayer(shape, name=name)
