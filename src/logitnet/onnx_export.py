"""ONNX export: a standard ONNX graph of a ``Sequential`` model.

The graph uses only standard operators of the default domain (opset 17):
``Gemm`` (or ``MatMul`` without a bias) per Dense layer, the activations
(``Relu``, ``Sigmoid``, ``Tanh``, ``Elu``, ``Selu``, ``LeakyRelu``,
``Softplus``, ``Softsign``, ``HardSigmoid``, ``HardSwish``, ``Erf``, ``Exp``,
``Clip`` and elementwise arithmetic where an activation has no operator of
its own), then ``Softmax`` and ``ArgMax``. It has one input and up to three
plain tensor outputs, never per-row dictionaries (no ``ZipMap``):

- ``input``: float32, shape ``(batch, n_features)``;
- ``probabilities``: float32, shape ``(batch, n_classes)``, rows summing to 1;
- ``logits``: float32, shape ``(batch, n_classes)`` (``include_logits=True``);
- ``label``: int64, shape ``(batch,)``, the index of the largest logit (and probability).

``logits`` are what logitnet's losses treat as logits: the last layer's
pre-activation when its activation is linear, softmax or sigmoid (the cases
``fit`` fuses), otherwise the last layer's output; ``probabilities`` is their
softmax. So for a linear last layer ``logits`` equals ``model.predict(x)``;
for a softmax last layer ``probabilities`` equals it.

The ``onnx`` package is imported only here, when exporting (``pip install
"logitnet[onnx]"``).
"""

from __future__ import annotations

import math
import os
from typing import Any, BinaryIO, Optional, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

from ._archive import atomic_write
from .ops import SELU_ALPHA, SELU_SCALE

__all__ = ["OPSET", "export_onnx", "to_onnx", "logits_are_preactivation"]

OPSET = 17
IR_VERSION = 8  # readable by onnxruntime >= 1.13 and other runtimes of that era
_FUSED = ("linear", "softmax", "sigmoid")


def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(
            'ONNX export needs the `onnx` package: pip install "logitnet[onnx]" (or pip install onnx).'
        ) from None
    return onnx


def logits_are_preactivation(model: Any) -> bool:
    """Whether the model's logits are its last layer's pre-activation (linear, softmax or sigmoid output)."""
    activation = getattr(model.layers[-1], "activation", None)
    return activation is None or activation.name in _FUSED


class _Graph:
    """Collects nodes and initializers, naming every tensor uniquely."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, value: ArrayLike) -> str:
        name = self._name(hint)
        array = np.asarray(value, dtype=np.float32)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], hint: str, output: Optional[str] = None, **attrs: Any) -> str:
        output = output or self._name(hint)
        node = self.onnx.helper.make_node(
            op_type, list(inputs), [output], name=self._name(f"{hint}/{op_type}"), **attrs
        )
        self.nodes.append(node)
        return output


# --------------------------------------------------------------------------- activations
def _softplus(g: _Graph, x: str, hint: str) -> str:
    return g.op("Softplus", [x], hint)  # onnxruntime computes it stably: max(x, 0) + log1p(exp(-|x|))


def _relu_general(g: _Graph, x: str, hint: str, params: dict) -> str:
    """Keras's relu(x, negative_slope, max_value, threshold), as logitnet.ops.relu computes it."""
    threshold = g.const(f"{hint}/threshold", params["threshold"])
    zero = g.const(f"{hint}/zero", 0.0)
    below = g.op("LessOrEqual", [x, threshold], hint)
    y = g.op("Where", [below, zero, x], hint)
    if params["max_value"] is not None:
        y = g.op("Clip", [y, zero, g.const(f"{hint}/max_value", params["max_value"])], hint)
    if params["negative_slope"] != 0:
        leak = g.op("Relu", [g.op("Sub", [threshold, x], hint)], hint)
        leak = g.op("Mul", [leak, g.const(f"{hint}/negative_slope", params["negative_slope"])], hint)
        y = g.op("Sub", [y, leak], hint)
    return y


def _gelu(g: _Graph, x: str, hint: str, approximate: bool) -> str:
    if approximate:  # x * sigmoid(2 u), u = sqrt(2/pi) (c + 0.044715 c^3), c = clip(x, +-1e4)
        c = g.op("Clip", [x, g.const(f"{hint}/lo", -1e4), g.const(f"{hint}/hi", 1e4)], hint)
        cube = g.op("Mul", [g.op("Mul", [c, c], hint), c], hint)
        inner = g.op("Add", [c, g.op("Mul", [cube, g.const(f"{hint}/cubic", 0.044715)], hint)], hint)
        arg = g.op("Mul", [inner, g.const(f"{hint}/scale", 2 * math.sqrt(2 / math.pi))], hint)
        return g.op("Mul", [x, g.op("Sigmoid", [arg], hint)], hint)
    erf = g.op("Erf", [g.op("Mul", [x, g.const(f"{hint}/inv_sqrt2", math.sqrt(0.5))], hint)], hint)
    one_plus = g.op("Add", [erf, g.const(f"{hint}/one", 1.0)], hint)
    return g.op("Mul", [g.op("Mul", [x, one_plus], hint), g.const(f"{hint}/half", 0.5)], hint)


def _activation(g: _Graph, activation: Any, x: str, hint: str) -> str:
    """Append the nodes of a built-in activation to ``x``; returns the output name."""
    config = activation.get_config()
    name = config["name"]
    params = {**getattr(activation, "_defaults", {}), **config}
    simple = {
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "exponential": "Exp",
        "softsign": "Softsign",
        "hard_silu": "HardSwish",
    }
    if name == "linear":
        return x
    if name in simple:
        return g.op(simple[name], [x], hint)
    if name == "relu":
        return g.op("Relu", [x], hint) if len(config) == 1 else _relu_general(g, x, hint, params)
    if name == "relu6":
        return g.op("Clip", [x, g.const(f"{hint}/zero", 0.0), g.const(f"{hint}/six", 6.0)], hint)
    if name == "hard_sigmoid":
        return g.op("HardSigmoid", [x], hint, alpha=1.0 / 6.0, beta=0.5)
    if name == "softplus":
        return _softplus(g, x, hint)
    if name == "log_sigmoid":
        return g.op("Neg", [_softplus(g, g.op("Neg", [x], hint), hint)], hint)
    if name == "elu":
        return g.op("Elu", [x], hint, alpha=float(params["alpha"]))
    if name == "selu":
        return g.op("Selu", [x], hint, alpha=SELU_ALPHA, gamma=SELU_SCALE)
    if name == "leaky_relu":
        return g.op("LeakyRelu", [x], hint, alpha=float(params["negative_slope"]))
    if name == "gelu":
        return _gelu(g, x, hint, bool(params["approximate"]))
    if name == "silu":
        return g.op("Mul", [x, g.op("Sigmoid", [x], hint)], hint)
    if name == "mish":
        return g.op("Mul", [x, g.op("Tanh", [_softplus(g, x, hint)], hint)], hint)
    if name in ("softmax", "log_softmax"):
        op_type = "Softmax" if name == "softmax" else "LogSoftmax"
        return g.op(op_type, [x], hint, axis=int(params["axis"]))
    raise ValueError(
        f"Cannot export the activation {name!r} to ONNX: only logitnet's built-in activations are supported."
    )


# --------------------------------------------------------------------------- the graph
def _check_model(model: Any) -> None:
    from .layers import BatchNormalization, Dense, Dropout
    from ._schema import builtin_activation

    if not model.built:
        raise ValueError(
            f"You tried to export model '{model.name}' to ONNX, but the model isn't built. "
            "Call `model.build((None, n_features))` or train it first."
        )
    for layer in model.layers:
        if type(layer) in (Dropout, BatchNormalization):
            continue
        if type(layer) is not Dense:
            raise ValueError(
                f"Cannot export layer {layer!r} to ONNX: only Dense, Dropout and BatchNormalization layers are supported."
            )
        try:
            builtin_activation(layer)
        except ValueError:
            raise ValueError(
                f"Cannot export the activation of layer '{layer.name}' ({layer.activation!r}) to ONNX: "
                "only logitnet's built-in activations are supported."
            ) from None


def _standardize(g: _Graph, x: str, n: int, mean: Optional[ArrayLike], scale: Optional[ArrayLike]) -> str:
    for value, op_type, label in ((mean, "Sub", "input_mean"), (scale, "Div", "input_scale")):
        if value is None:
            continue
        array = np.asarray(value, dtype=np.float64)
        if array.shape != (n,) or not np.all(np.isfinite(array)) or (label == "input_scale" and np.any(array == 0)):
            raise ValueError(
                f"Argument `{label}` must be {n} finite numbers"
                + (" (non-zero)" if label == "input_scale" else "")
                + f", one per feature. Received: {label} of shape {array.shape}"
            )
        x = g.op(op_type, [x, g.const(label, array)], "standardize")
    return x


def _layer(g: _Graph, layer: Any, x: str, apply_activation: bool) -> str:
    """The inference-mode graph of one layer: Dropout is the identity, BatchNormalization one Mul and one Add."""
    name = type(layer).__name__
    if name == "Dropout":
        return x
    if name == "BatchNormalization":
        params = {k: v.astype(np.float64) for k, v in layer.params.items()}
        inv = 1.0 / np.sqrt(params["moving_variance"] + layer.epsilon)
        scale = inv * params["gamma"] if layer.scale else inv
        offset = params.get("beta", 0.0) - params["moving_mean"] * scale
        x = g.op("Mul", [x, g.const(f"{layer.name}/scale", scale)], layer.name)
        return g.op("Add", [x, g.const(f"{layer.name}/offset", offset)], layer.name)
    kernel = g.const(f"{layer.name}/kernel", layer.params["kernel"])
    if layer.use_bias:
        z = g.op("Gemm", [x, kernel, g.const(f"{layer.name}/bias", layer.params["bias"])], layer.name)
    else:
        z = g.op("MatMul", [x, kernel], layer.name)
    return _activation(g, layer.activation, z, layer.name) if apply_activation else z


def to_onnx(
    model: Any,
    *,
    include_logits: bool = True,
    input_mean: Optional[ArrayLike] = None,
    input_scale: Optional[ArrayLike] = None,
    metadata: Optional[dict] = None,
) -> Any:
    """Build the ONNX ``ModelProto`` of a built model (see :func:`export_onnx`)."""
    onnx = _require_onnx()
    from . import __version__

    _check_model(model)
    helper, tensor = onnx.helper, onnx.TensorProto
    g = _Graph(onnx)
    n_features, n_classes = model.input_dim, model.n_outputs
    x = _standardize(g, "input", n_features, input_mean, input_scale)
    layers = model.layers
    for layer in layers[:-1]:
        x = _layer(g, layer, x, apply_activation=True)
    logits = _layer(g, layers[-1], x, apply_activation=not logits_are_preactivation(model))
    outputs = [helper.make_tensor_value_info("probabilities", tensor.FLOAT, ["batch", n_classes])]
    g.op("Softmax", [logits], "probabilities", output="probabilities", axis=1)
    if include_logits:
        g.op("Identity", [logits], "logits", output="logits")
        outputs.append(helper.make_tensor_value_info("logits", tensor.FLOAT, ["batch", n_classes]))
    g.op("ArgMax", [logits], "label", output="label", axis=1, keepdims=0)
    outputs.append(helper.make_tensor_value_info("label", tensor.INT64, ["batch"]))
    inputs = [helper.make_tensor_value_info("input", tensor.FLOAT, ["batch", n_features])]
    doc = f"logitnet Sequential model '{model.name}': input -> probabilities, label" + (
        ", logits" if include_logits else ""
    )
    graph = helper.make_graph(g.nodes, model.name, inputs, outputs, initializer=g.initializers, doc_string=doc)
    proto = helper.make_model(
        graph, producer_name="logitnet", producer_version=__version__, opset_imports=[helper.make_opsetid("", OPSET)]
    )
    proto.ir_version = IR_VERSION
    for key, value in (metadata or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = str(key), value if isinstance(value, str) else str(value)
    onnx.checker.check_model(proto)
    return proto


def export_onnx(
    model: Any,
    filepath: Union[str, "os.PathLike[str]", BinaryIO],
    *,
    include_logits: bool = True,
    input_mean: Optional[ArrayLike] = None,
    input_scale: Optional[ArrayLike] = None,
    metadata: Optional[dict] = None,
    overwrite: bool = True,
) -> None:
    """Write a built model as a standard ONNX graph (opset 17, float32).

    Parameters
    ----------
    model : Sequential
        Built, made of Dense layers with built-in activations, Dropout
        (the identity in inference) and BatchNormalization (its moving
        statistics folded into one scale and offset). float64
        models are exported in float32.
    filepath : str, os.PathLike or binary file object
        Written atomically when a path.
    include_logits : bool, default True
        Also output ``logits`` (see the module docstring).
    input_mean, input_scale : array_like of shape (n_features,), optional
        Standardise the input inside the graph, ``(input - mean) / scale``,
        for models trained on standardised features (``logitnet train``).
    metadata : dict of str, optional
        Stored as the model's ``metadata_props`` (e.g. class names as JSON).
    overwrite : bool, default True

    Raises
    ------
    ImportError
        If the ``onnx`` package is missing.
    ValueError
        An unbuilt model, a layer or activation that is not a built-in, or
        a badly shaped ``input_mean``/``input_scale``.
    """
    data = to_onnx(
        model, include_logits=include_logits, input_mean=input_mean, input_scale=input_scale, metadata=metadata
    ).SerializeToString()
    if hasattr(filepath, "write"):
        filepath.write(data)  # type: ignore[union-attr]
    else:
        atomic_write(filepath, lambda f: f.write(data), overwrite=overwrite)  # type: ignore[arg-type]
