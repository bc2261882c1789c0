r"""Weight penalties added to the training loss: Keras's ``L1``, ``L2`` and ``L1L2``.

A regularizer attached to a layer's weight (``Dense(..., kernel_regularizer=L2(0.01))``)
adds its penalty :math:`R(W)` to the loss of each training step, and its gradient
:math:`\partial R / \partial W` to the weight's gradient, both at the weights before the
update, as Keras does. Calling a regularizer on an array returns the penalty;
:meth:`Regularizer.add_gradient` accumulates the gradient in place.

As in Keras, the factor enters the arithmetic as a float32 number cast to the weight's
dtype: ``L2(0.1)`` on a float64 weight multiplies by ``0.10000000149011612``.
"""

from __future__ import annotations

import inspect
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import NDArray

from ._validation import check_real
from .utils import Configurable

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize"]

Array = NDArray[np.floating]
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_factor(name: str, value: Any, default: float) -> float:
    """Return the factor as a float (``None`` gives ``default``, as in Keras)."""
    if value is None:
        return default
    return check_real(name, value, 0.0, _FLOAT32_MAX, expected="a non-negative float")


class Regularizer(Configurable):
    """Base class of the weight penalties.

    A subclass implements ``__call__(w)`` (the penalty, a float), ``add_gradient(w, g)``
    (adds the penalty's gradient to ``g`` in place: logitnet computes gradients by hand,
    so a penalty without it cannot be trained) and ``get_config()``.
    The base class itself is the zero penalty, as in Keras.
    """

    def __call__(self, w: Array) -> float:
        """Return the penalty of a weight array; 0.0 for the base class.

        Parameters
        ----------
        w : ndarray of floats, any shape (e.g. a kernel, ``(n_features, n_units)``)

        Returns
        -------
        float
            The penalty, computed in ``w``'s dtype.
        """
        return 0.0

    def add_gradient(self, w: Array, g: Array) -> None:
        """Add the penalty's gradient at ``w`` to ``g``, in place.

        Called once per training step: it does not validate its arguments.

        Parameters
        ----------
        w : ndarray of floats, any shape
        g : ndarray, the shape and dtype of ``w``
            The gradient of the loss with respect to ``w``; updated in place.
        """
        if type(self) is not Regularizer:
            raise NotImplementedError(
                f"Regularizer '{type(self).__name__}' must override `add_gradient(w, g)` to be used in "
                "training: logitnet adds each penalty's gradient by hand.")

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a JSON-safe dict."""
        raise NotImplementedError(f"Regularizer '{type(self).__name__}' does not implement get_config()")


    # Scratch arrays, one per (shape, dtype), so that the per-step calls allocate nothing.
    def _scratch(self, w: Array) -> Array:
        buffers: dict = self.__dict__.setdefault("_buffers", {})
        key = (w.shape, w.dtype)
        s = buffers.get(key)
        if s is None:
            s = buffers[key] = np.empty(w.shape, dtype=w.dtype)
        return s

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_buffers", None)  # copies and pickles do not carry the scratch arrays
        return state


def _l1_penalty(w: Array, s: Array, c: np.float32) -> Any:
    np.abs(w, out=s)
    return w.dtype.type(c) * s.sum()


def _l2_penalty(w: Array, c: np.float32) -> Any:
    return w.dtype.type(c) * np.vdot(w, w)


def _add_l1_gradient(w: Array, g: Array, s: Array, c: np.float32) -> None:
    np.sign(w, out=s)
    s *= c
    g += s


def _add_l2_gradient(w: Array, g: Array, s: Array, c2: np.float32) -> None:
    np.multiply(w, c2, out=s)
    g += s


class L1(Regularizer):
    r"""The L1 penalty :math:`\lambda_1 \sum_i |w_i|`; Keras's ``L1`` (alias ``l1``).

    Parameters
    ----------
    l1 : float, default 0.01
        :math:`\lambda_1 \ge 0`, finite. ``None`` means 0.01 (Keras).

    Notes
    -----
    The gradient is :math:`\lambda_1 \operatorname{sign}(w)`, taken as 0 at
    :math:`w = 0`, as TensorFlow does.
    """

    def __init__(self, l1: Optional[float] = 0.01) -> None:
        self.l1 = _check_factor("l1", l1, 0.01)
        self._c1 = np.float32(self.l1)

    def __call__(self, w: Array) -> float:
        return float(_l1_penalty(w, self._scratch(w), self._c1))

    def add_gradient(self, w: Array, g: Array) -> None:
        _add_l1_gradient(w, g, self._scratch(w), self._c1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    r"""The L2 penalty :math:`\lambda_2 \sum_i w_i^2`; Keras's ``L2`` (alias ``l2``).

    Parameters
    ----------
    l2 : float, default 0.01
        :math:`\lambda_2 \ge 0`, finite. ``None`` means 0.01 (Keras).

    Notes
    -----
    There is no factor 1/2: the gradient is :math:`2 \lambda_2 w`.

    Examples
    --------
    >>> L2(0.5)(np.array([[1.0, -2.0], [0.0, 1.0]]))
    3.0
    """

    def __init__(self, l2: Optional[float] = 0.01) -> None:
        self.l2 = _check_factor("l2", l2, 0.01)
        self._c2 = np.float32(self.l2)
        self._c2x2 = 2 * self._c2  # exact

    def __call__(self, w: Array) -> float:
        return float(_l2_penalty(w, self._c2))

    def add_gradient(self, w: Array, g: Array) -> None:
        _add_l2_gradient(w, g, self._scratch(w), self._c2x2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class L1L2(Regularizer):
    r"""The sum :math:`\lambda_1 \sum_i |w_i| + \lambda_2 \sum_i w_i^2`; Keras's ``L1L2`` (alias ``l1_l2``).

    Parameters
    ----------
    l1, l2 : float, default 0.0
        The factors of :class:`L1` and :class:`L2`. Note Keras's defaults: both 0, so
        ``L1L2()`` adds nothing (the string ``"l1_l2"`` gives 0.01 and 0.01, see :func:`get`).
        ``None`` means 0.

    Notes
    -----
    The gradient is :math:`\lambda_1 \operatorname{sign}(w) + 2 \lambda_2 w`. A zero
    factor's term is skipped, as in Keras.
    """

    def __init__(self, l1: Optional[float] = 0.0, l2: Optional[float] = 0.0) -> None:
        self.l1 = _check_factor("l1", l1, 0.0)
        self.l2 = _check_factor("l2", l2, 0.0)
        self._c1 = np.float32(self.l1)
        self._c2 = np.float32(self.l2)
        self._c2x2 = 2 * self._c2  # exact

    def __call__(self, w: Array) -> float:
        penalty = w.dtype.type(0.0)
        if self.l1 != 0.0:
            penalty += _l1_penalty(w, self._scratch(w), self._c1)
        if self.l2 != 0.0:
            penalty += _l2_penalty(w, self._c2)
        return float(penalty)

    def add_gradient(self, w: Array, g: Array) -> None:
        if self.l1 != 0.0:
            _add_l1_gradient(w, g, self._scratch(w), self._c1)
        if self.l2 != 0.0:
            _add_l2_gradient(w, g, self._scratch(w), self._c2x2)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


# Keras 3's function-style aliases are the classes themselves.
l1 = L1
l2 = L2
l1_l2 = L1L2

# Keras's lookup table (class names and their snake_case forms).
_BY_NAME: dict[str, type[Regularizer]] = {
    "L1": L1, "l1": L1, "L2": L2, "l2": L2, "L1L2": L1L2, "l1l2": L1L2}
_EXPECTED = ("None, a Regularizer, one of 'l1', 'l2', 'l1_l2', 'L1', 'L2', 'L1L2', "
             "or a {'class_name': ..., 'config': {...}} dict")


def _invalid(identifier: Any) -> ValueError:
    return ValueError(f"Could not interpret regularizer identifier: {identifier!r}. Expected "
                      f"{_EXPECTED}. Received: regularizer={identifier!r}")


def _from_dict(identifier: dict) -> Regularizer:
    name = identifier.get("class_name")
    cls = _BY_NAME.get(name) if isinstance(name, str) else None
    config = identifier.get("config") or {}
    if cls is None or not isinstance(config, dict):
        raise _invalid(identifier)
    return cls.from_config(config)


def get(identifier: Union[None, str, dict, Regularizer, type]) -> Optional[Regularizer]:
    """Return a regularizer from a name, a config dict or an instance.

    Parameters
    ----------
    identifier : None, str, dict, Regularizer or Regularizer subclass
        ``None`` gives ``None``; an instance is returned unchanged; a subclass is
        instantiated with its defaults. ``"l1"``/``"L1"`` give ``L1()`` (0.01) and
        ``"l2"``/``"L2"`` give ``L2()`` (0.01); ``"L1L2"``/``"l1l2"`` give ``L1L2()``
        (0 and 0, as Keras 3's lookup does) while ``"l1_l2"`` gives
        ``L1L2(l1=0.01, l2=0.01)``, the value Keras documents for that string.
        A dict ``{"class_name": "L2", "config": {"l2": 0.1}}`` (the output of
        :func:`serialize`) goes through ``from_config``.

    Returns
    -------
    Regularizer or None

    Raises
    ------
    ValueError
        For anything else (Keras: "Could not interpret regularizer identifier").
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, Regularizer):
        return identifier()
    if isinstance(identifier, str):
        if identifier == "l1_l2":
            return L1L2(l1=0.01, l2=0.01)
        cls = _BY_NAME.get(identifier)
        if cls is not None:
            return cls()
    elif isinstance(identifier, dict):
        return _from_dict(identifier)
    raise _invalid(identifier)


def serialize(regularizer: Optional[Regularizer]) -> Optional[dict[str, Any]]:
    """Return ``{"class_name": ..., "config": ...}`` for ``regularizer`` (``None`` gives ``None``).

    Raises ValueError if ``regularizer`` is neither None nor a :class:`Regularizer`.
    """
    if regularizer is None:
        return None
    if not isinstance(regularizer, Regularizer):
        raise ValueError("Argument `regularizer` must be a Regularizer or None. "
                         f"Received: regularizer={regularizer!r}")
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
