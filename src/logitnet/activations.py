"""Activations: Keras names mapped to objects with a forward and a backward pass.

``get("relu")`` returns an :class:`Activation`; layers call it forward and,
during training, call :meth:`Activation.backward` with the cached output
(and the cached input ``x`` only when :attr:`Activation.needs_input`).
The math lives in :mod:`logitnet.ops`; the plain functions of this module
(``relu(x)``, ``softmax(x, axis=-1)``, ...) mirror ``keras.activations``.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, ClassVar, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import ops
from .ops import (
    elu,
    exponential,
    gelu,
    hard_sigmoid,
    hard_silu,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softplus,
    softsign,
    tanh,
)

__all__ = [
    "Activation",
    "get",
    "serialize",
    "deserialize",
    "linear",
    "relu",
    "sigmoid",
    "softmax",
    "log_softmax",
    "tanh",
    "softplus",
    "softsign",
    "elu",
    "selu",
    "leaky_relu",
    "relu6",
    "gelu",
    "silu",
    "swish",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "exponential",
    "mish",
    "log_sigmoid",
]

FloatArray = NDArray[np.floating]

swish = silu
hard_swish = hard_silu


def linear(x: ArrayLike) -> FloatArray:
    """Identity activation: returns ``x`` as a float array (no copy if it is one)."""
    return ops.as_float_array(x)


def _warn_if_size_one(shape: tuple[int, ...], axis: int) -> None:
    if len(shape) and -len(shape) <= axis < len(shape) and shape[axis] == 1:
        warnings.warn(
            f"You are using a softmax over axis {axis} of a tensor of shape {shape}. "
            "This axis has size 1. The softmax operation will always return the value 1, "
            "which is likely not what you intended. Did you mean to use a sigmoid instead?",
            UserWarning,
            stacklevel=3,
        )


def softmax(x: ArrayLike, axis: int | tuple[int, ...] | None = -1) -> FloatArray:
    """Softmax over ``axis`` (see :func:`logitnet.ops.softmax`).

    Warns, as Keras does, when the (integer) axis has size 1.
    """
    z = ops.as_float_array(x)
    if isinstance(axis, int):
        _warn_if_size_one(z.shape, axis)
    return ops.softmax(z, axis=axis)


# --------------------------------------------------------------------------
# Activation objects
# --------------------------------------------------------------------------


class Activation:
    """An activation function with its derivative, as layers use it.

    Attributes
    ----------
    name : str
        Keras name (``"relu"``); ``str(activation)`` and ``get_config`` use it.
    needs_input : bool
        Whether :meth:`backward` needs the pre-activation ``x``. When False,
        the cached output suffices and ``backward`` receives ``x=None``.

    Notes
    -----
    Built-in subclasses set ``_forward`` and ``_derivative`` (elementwise
    ``dy/dx`` of ``x`` if ``needs_input``, else of the output) and list their
    constructor arguments with defaults in ``_defaults``. A user-defined
    activation that can be trained through subclasses this, sets ``name`` and
    ``needs_input``, and overrides ``__call__`` and ``backward``.
    """

    name: str = ""
    needs_input: bool = True
    _defaults: ClassVar[dict[str, Any]] = {}
    _forward: ClassVar[Callable[..., FloatArray]]
    _derivative: ClassVar[Callable[..., FloatArray]]

    def __init__(self, **params: Any) -> None:
        self._params = {**self._defaults, **params}

    def __call__(self, x: FloatArray) -> FloatArray:
        """Forward pass; ``x`` is not modified.

        Parameters
        ----------
        x : ndarray, e.g. (n_samples, n_units)
            Pre-activation.

        Returns
        -------
        ndarray
            Same shape and dtype as ``x``.
        """
        return type(self)._forward(x, **self._params)

    def inplace(self, x: FloatArray) -> FloatArray:
        """Forward pass that may overwrite ``x`` (a temporary the caller owns) with the output.

        Saves an allocation per layer and call where the activation allows it;
        by default it is ``self(x)``.
        """
        return self(x)

    def backward(self, grad_out: FloatArray, x: FloatArray | None, out: FloatArray) -> FloatArray:
        """Gradient of the loss with respect to ``x``.

        Parameters
        ----------
        grad_out : ndarray
            Gradient with respect to the output, same shape as ``out``; may be
            overwritten and returned.
        x : ndarray or None
            The pre-activation, or None when ``needs_input`` is False.
        out : ndarray
            The output of the forward pass; not modified.

        Returns
        -------
        ndarray
            Gradient with respect to ``x``, same shape as ``out``.
        """
        arg = x if self.needs_input else out
        grad_out *= type(self)._derivative(arg, **self._params)
        return grad_out

    def get_config(self) -> dict[str, Any]:
        """Return ``{"name": name}`` plus the arguments that differ from their defaults."""
        extra = {k: v for k, v in self._params.items() if v != self._defaults[k]}
        return {"name": self.name, **extra}

    @property
    def __name__(self) -> str:  # Keras: ``layer.activation.__name__ == "relu"``
        return self.name

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"<Activation {self.name}{' (' + args + ')' if args else ''}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Activation):
            return NotImplemented
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_config().items()))))


def _number(name: str, value: Any, allow_none: bool = False) -> float | None:
    """Validate a real-number hyperparameter and return it as a Python float."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"Received an invalid value for `{name}`, expected a number. Received: {name}={value!r}"
        )
    if not np.isfinite(value):
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a finite number. "
            f"Received: {name}={value!r}"
        )
    return float(value)


class _Linear(Activation):
    name = "linear"
    needs_input = False

    def __call__(self, x: FloatArray) -> FloatArray:
        return x  # no copy, as Keras; callers must not write into the output

    def backward(self, grad_out: FloatArray, x: FloatArray | None, out: FloatArray) -> FloatArray:
        return grad_out


class _ReLU(Activation):
    name = "relu"
    _defaults = {"negative_slope": 0.0, "max_value": None, "threshold": 0.0}
    _forward = staticmethod(ops.relu)
    _derivative = staticmethod(ops.relu_grad)

    def __init__(
        self, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
    ) -> None:
        checked_max = _number("max_value", max_value, allow_none=True)
        if checked_max is not None and checked_max < 0:
            raise ValueError(
                "Received an invalid value for `max_value`, expected a non-negative number. "
                f"Received: max_value={max_value!r}"
            )
        super().__init__(
            negative_slope=_number("negative_slope", negative_slope),
            max_value=checked_max,
            threshold=_number("threshold", threshold),
        )
        # The plain relu's derivative is read off its output (out > 0).
        self.needs_input = self.get_config() != {"name": "relu"}

    def __call__(self, x: FloatArray) -> FloatArray:
        if not self.needs_input:
            return np.maximum(x, 0)
        return ops.relu(x, **self._params)

    def inplace(self, x: FloatArray) -> FloatArray:
        if not self.needs_input:
            return ops.relu_(x)
        return ops.relu(x, **self._params)

    def backward(self, grad_out: FloatArray, x: FloatArray | None, out: FloatArray) -> FloatArray:
        if self.needs_input:
            grad_out *= ops.relu_grad(x, **self._params)
        else:  # out >= 0, so sign(out) is the derivative (0 or 1): one cheap ufunc
            np.multiply(grad_out, np.sign(out), out=grad_out)
        return grad_out


def _exp_derivative(out: FloatArray) -> FloatArray:
    """The exponential is its own derivative."""
    return out


class _Sigmoid(Activation):
    name = "sigmoid"
    needs_input = False
    _forward = staticmethod(ops.sigmoid)
    _derivative = staticmethod(ops.sigmoid_grad_from_output)


class _Tanh(Activation):
    name = "tanh"
    needs_input = False
    _forward = staticmethod(ops.tanh)
    _derivative = staticmethod(ops.tanh_grad_from_output)


class _ReLU6(Activation):
    name = "relu6"
    needs_input = False
    _forward = staticmethod(ops.relu6)
    _derivative = staticmethod(ops.relu6_grad_from_output)


class _HardSigmoid(Activation):
    name = "hard_sigmoid"
    needs_input = False
    _forward = staticmethod(ops.hard_sigmoid)
    _derivative = staticmethod(ops.hard_sigmoid_grad_from_output)


class _LogSigmoid(Activation):
    name = "log_sigmoid"
    needs_input = False
    _forward = staticmethod(ops.log_sigmoid)
    _derivative = staticmethod(ops.log_sigmoid_grad_from_output)


class _Exponential(Activation):
    name = "exponential"
    needs_input = False
    _forward = staticmethod(ops.exponential)
    _derivative = staticmethod(_exp_derivative)


class _Softplus(Activation):
    name = "softplus"
    needs_input = True
    _forward = staticmethod(ops.softplus)
    _derivative = staticmethod(ops.softplus_grad)


class _Softsign(Activation):
    name = "softsign"
    needs_input = True
    _forward = staticmethod(ops.softsign)
    _derivative = staticmethod(ops.softsign_grad)


class _SELU(Activation):
    name = "selu"
    needs_input = True
    _forward = staticmethod(ops.selu)
    _derivative = staticmethod(ops.selu_grad)


class _SiLU(Activation):
    name = "silu"
    needs_input = True
    _forward = staticmethod(ops.silu)
    _derivative = staticmethod(ops.silu_grad)


class _HardSiLU(Activation):
    name = "hard_silu"
    needs_input = True
    _forward = staticmethod(ops.hard_silu)
    _derivative = staticmethod(ops.hard_silu_grad)


class _Mish(Activation):
    name = "mish"
    needs_input = True
    _forward = staticmethod(ops.mish)
    _derivative = staticmethod(ops.mish_grad)


class _ELU(Activation):
    name = "elu"
    _defaults = {"alpha": 1.0}
    _forward = staticmethod(ops.elu)
    _derivative = staticmethod(ops.elu_grad)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=_number("alpha", alpha))


class _LeakyReLU(Activation):
    name = "leaky_relu"
    _defaults = {"negative_slope": 0.2}
    _forward = staticmethod(ops.leaky_relu)
    _derivative = staticmethod(ops.leaky_relu_grad)

    def __init__(self, negative_slope: float = 0.2) -> None:
        super().__init__(negative_slope=_number("negative_slope", negative_slope))


class _GELU(Activation):
    name = "gelu"
    _defaults = {"approximate": False}
    _forward = staticmethod(ops.gelu)
    _derivative = staticmethod(ops.gelu_grad)

    def __init__(self, approximate: bool = False) -> None:
        if not isinstance(approximate, (bool, np.bool_)):
            raise TypeError(
                "Received an invalid value for `approximate`, expected a bool. "
                f"Received: approximate={approximate!r}"
            )
        super().__init__(approximate=bool(approximate))


class _Softmax(Activation):
    """Softmax over ``axis``; its backward is the Jacobian-vector product from the output."""

    name = "softmax"
    needs_input = False
    _defaults = {"axis": -1}

    def __init__(self, axis: int = -1) -> None:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(
                "Received an invalid value for `axis`, expected an integer. "
                f"Received: axis={axis!r}"
            )
        super().__init__(axis=int(axis))

    def __call__(self, x: FloatArray) -> FloatArray:
        _warn_if_size_one(x.shape, self._params["axis"])
        return ops.softmax(x, axis=self._params["axis"])

    def backward(self, grad_out: FloatArray, x: FloatArray | None, out: FloatArray) -> FloatArray:
        return ops.softmax_vjp(grad_out, out, axis=self._params["axis"])


class _LogSoftmax(_Softmax):
    name = "log_softmax"

    def __call__(self, x: FloatArray) -> FloatArray:
        return ops.log_softmax(x, axis=self._params["axis"])

    def backward(self, grad_out: FloatArray, x: FloatArray | None, out: FloatArray) -> FloatArray:
        return ops.log_softmax_vjp(grad_out, out, axis=self._params["axis"])


class _Custom(Activation):
    """A user's callable: forward only."""

    needs_input = False

    def __init__(self, fn: Callable[[FloatArray], ArrayLike]) -> None:
        super().__init__()
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, x: FloatArray) -> FloatArray:
        return np.asarray(self.fn(x))

    def backward(self, grad_out: FloatArray, x: FloatArray | None, out: FloatArray) -> FloatArray:
        raise NotImplementedError(
            f"The activation {self.name!r} is a custom callable, and logitnet has no derivative "
            "for custom callables, so it cannot train through it (forward passes such as predict "
            f"work). Use one of the built-in activations ({', '.join(_REGISTRY)}), or subclass "
            "logitnet.activations.Activation and implement backward()."
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Custom) and other.fn is self.fn

    def __hash__(self) -> int:
        return hash((_Custom, id(self.fn)))


_REGISTRY: dict[str, type[Activation]] = {
    cls.name: cls
    for cls in (
        _ELU, _Exponential, _GELU, _HardSigmoid, _HardSiLU, _LeakyReLU, _Linear,
        _LogSigmoid, _LogSoftmax, _Mish, _ReLU, _ReLU6, _SELU, _Sigmoid, _SiLU,
        _Softmax, _Softplus, _Softsign, _Tanh,
    )
}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}
_KERAS_ONLY = (
    "celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink", "threshold",
)
# Our plain functions (and ops') map back to their activation objects.
_FUNCTION_NAMES = {
    id(fn): name
    for name, fn in {
        "linear": linear, "relu": relu, "sigmoid": sigmoid, "softmax": softmax,
        "log_softmax": log_softmax, "tanh": tanh, "softplus": softplus, "softsign": softsign,
        "elu": elu, "selu": selu, "leaky_relu": leaky_relu, "relu6": relu6, "gelu": gelu,
        "silu": silu, "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu,
        "exponential": exponential, "mish": mish, "log_sigmoid": log_sigmoid,
    }.items()
}
_FUNCTION_NAMES[id(ops.softmax)] = "softmax"

Identifier = Union[str, dict, Activation, Callable, None]


def _unknown(identifier: Any) -> ValueError:
    names = sorted([*_REGISTRY, *_ALIASES])
    message = (
        f"Could not interpret activation function identifier: {identifier}. "
        f"Valid names are: {', '.join(names)}; or pass None, an Activation or a callable."
    )
    if identifier in _KERAS_ONLY:
        message += f" ({identifier!r} exists in Keras but logitnet does not implement it.)"
    return ValueError(message)


def deserialize(config: str | dict[str, Any]) -> Activation:
    """Build an activation from a name or a ``get_config()`` dict.

    Parameters
    ----------
    config : str or dict
        ``"relu"``, or ``{"name": "relu", "max_value": 6.0}``.

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        If the name is unknown or the dict has arguments the activation does not take.
    """
    params: dict[str, Any] = {}
    if isinstance(config, dict):
        params = dict(config)
        name = params.pop("name", None)
    else:
        name = config
    if not isinstance(name, str):
        raise _unknown(config)
    cls = _REGISTRY.get(_ALIASES.get(name, name))
    if cls is None:
        raise _unknown(name)
    unexpected = sorted(set(params) - set(cls._defaults))
    if unexpected:
        raise ValueError(
            f"Activation {cls.name!r} got unexpected arguments {unexpected}; it takes "
            f"{sorted(cls._defaults) or 'no arguments'}. Received: config={config!r}"
        )
    return cls(**params)


def get(identifier: Identifier) -> Activation:
    """Return the :class:`Activation` for a name, config, object or callable (Keras ``get``).

    Parameters
    ----------
    identifier : str, dict, Activation, callable or None
        ``None`` and ``"linear"`` give the identity. A string is a Keras name
        (``"relu"``, ``"softmax"``, aliases ``"swish"`` and ``"hard_swish"``);
        a dict is a ``get_config()`` result; an ``Activation`` is returned as
        is; one of this module's (or :mod:`logitnet.ops`') functions gives its
        activation; any other callable is wrapped for forward use only (its
        ``backward`` raises ``NotImplementedError``).

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        ``Could not interpret activation function identifier: foo``, followed
        by the valid names.
    """
    if identifier is None:
        return _Linear()
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Activation):
        return identifier()
    if callable(identifier):
        name = _FUNCTION_NAMES.get(id(identifier))
        return _REGISTRY[name]() if name is not None else _Custom(identifier)
    raise _unknown(identifier)


def serialize(activation: Activation | str | Callable | None) -> str | dict[str, Any]:
    """Return the activation's name, or its config dict if it has non-default arguments.

    Parameters
    ----------
    activation : Activation, str, callable or None
        Anything :func:`get` accepts.

    Returns
    -------
    str or dict
        ``"relu"`` for built-ins with default arguments (as Keras), else
        ``get_config()``, e.g. ``{"name": "elu", "alpha": 0.5}``.
    """
    config = get(activation).get_config()
    return config["name"] if len(config) == 1 else config
