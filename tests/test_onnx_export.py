"""ONNX export: the graph runs in onnxruntime and matches ``predict`` within 1e-5.

Independent references: onnxruntime executing the exported graph (a separate implementation
of every operator), compared with logitnet's ``predict``; SciPy's ``expit`` for sigmoid outputs.
Inputs are random (standard normal times 3) and real (iris, standardised; the seed notebook's blobs).
"""

from __future__ import annotations

import io
import json
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from scipy.special import expit
from sklearn.datasets import load_iris

import logitnet as ln
from logitnet import losses, optimizers
from logitnet.onnx_export import OPSET, export_onnx, to_onnx
from logitnet.tabular import class_probabilities

from _cases import ACTIVATIONS

STANDARD_OPS = {
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Exp",
    "Softplus",
    "Softsign",
    "Elu",
    "Selu",
    "LeakyRelu",
    "HardSigmoid",
    "HardSwish",
    "Erf",
    "Clip",
    "LessOrEqual",
    "Where",
    "Softmax",
    "LogSoftmax",
    "ArgMax",
    "Identity",
}
TOL = 1e-5


def iris():
    x, y = load_iris(return_X_y=True)
    return (x - x.mean(0)) / x.std(0), y


IRIS_X, IRIS_Y = iris()
RANDOM_X = np.random.default_rng(0).normal(size=(300, 4)) * 3


def run(model, x, **kwargs):
    buffer = io.BytesIO()
    model.export_onnx(buffer, **kwargs)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": np.asarray(x, dtype=np.float32)})))


def trained(hidden, output, dtype="float32", epochs=5, use_bias=True):
    model = ln.Sequential(
        [ln.Dense(16, activation=hidden, use_bias=use_bias), ln.Dense(3, activation=output)], seed=0, dtype=dtype
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.compile(
            optimizer=optimizers.Adam(0.01), loss=losses.SparseCategoricalCrossentropy(from_logits=output == "linear")
        )
        model.fit(IRIS_X, IRIS_Y, epochs=epochs, verbose=0)
    return model


def close(got, want, what):
    want = np.asarray(want, dtype=np.float64)
    error = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))  # absolute below 1, relative above
    assert error <= TOL, f"{what}: max error {error:.3g}"


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    "hidden", ACTIVATIONS, ids=lambda a: a if isinstance(a, str) else "-".join(map(str, a.values()))
)
@pytest.mark.parametrize("output", ["linear", "softmax", "sigmoid"])
def test_onnxruntime_matches_predict_for_every_activation(hidden, output):
    model = trained(hidden, output)
    for name, x in (("iris", IRIS_X), ("random", RANDOM_X)):
        out = run(model, x)
        with np.errstate(all="ignore"):
            predicted = model.predict(x)
        if output == "linear":
            close(out["logits"], predicted, f"{name} logits")
            close(out["probabilities"], ln.softmax(predicted.astype(np.float64)), f"{name} probabilities")
        elif output == "softmax":
            close(out["probabilities"], predicted, f"{name} probabilities")
        else:
            close(expit(out["logits"].astype(np.float64)), predicted, f"{name} sigmoid of logits")
            close(out["probabilities"], class_probabilities(model, x), f"{name} probabilities")
        np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, atol=1e-5)
        scores = class_probabilities(model, x) if output == "sigmoid" else predicted  # saturated sigmoids tie
        agree = np.mean(out["label"] == np.argmax(scores, axis=1))
        assert agree >= 0.99  # exact ties and 1-ulp near-ties may break differently


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("output", ["tanh", "relu"])
def test_other_last_activations_use_their_outputs_as_logits(output):
    model = trained("relu", output)
    out = run(model, IRIS_X)
    predicted = model.predict(IRIS_X)
    close(out["logits"], predicted, "logits")
    close(out["probabilities"], ln.softmax(predicted.astype(np.float64)), "probabilities")


def test_the_seed_blobs_float64_models_and_layers_without_bias():
    x, y = ln.datasets.load_seed_blobs()
    model = ln.Sequential(
        [ln.Dense(25, activation="relu"), ln.Dense(15, activation="relu", use_bias=False), ln.Dense(4)],
        seed=0,
        dtype="float64",
    )
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=3, verbose=0)
    out = run(model, x)
    close(out["logits"], model.predict(x), "logits of a float64 model (exported in float32)")
    assert np.mean(out["label"] == y) > 0.9
    ops = {node.op_type for node in to_onnx(model).graph.node}
    assert "MatMul" in ops and "Gemm" in ops


def test_the_graph_is_standard_onnx_with_plain_tensor_outputs():
    model = trained("gelu", "linear", epochs=1)
    proto = to_onnx(model)
    onnx.checker.check_model(proto, full_check=True)
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", OPSET)]
    assert {node.op_type for node in proto.graph.node} <= STANDARD_OPS  # no ZipMap, no ai.onnx.ml
    (inp,) = proto.graph.input
    assert inp.name == "input" and inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["batch", 4]
    outputs = {o.name: o.type.tensor_type for o in proto.graph.output}
    assert list(outputs) == ["probabilities", "logits", "label"]
    assert outputs["probabilities"].elem_type == onnx.TensorProto.FLOAT
    assert outputs["label"].elem_type == onnx.TensorProto.INT64
    assert [d.dim_param or d.dim_value for d in outputs["logits"].shape.dim] == ["batch", 3]
    assert proto.producer_name == "logitnet" and proto.producer_version == ln.__version__
    without = run(model, IRIS_X[:5], include_logits=False)
    assert list(without) == ["probabilities", "label"]


def test_standardisation_and_metadata_inside_the_graph(tmp_path):
    raw, y = load_iris(return_X_y=True)
    mean, scale = raw.mean(0), raw.std(0)
    model = trained("relu", "linear")  # trained on standardised iris
    path = tmp_path / "m.onnx"
    export_onnx(model, path, input_mean=mean, input_scale=scale, metadata={"classes": json.dumps(["a", "b", "c"])})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probabilities, logits, _ = session.run(None, {"input": raw.astype(np.float32)})
    close(logits, model.predict((raw - mean) / scale), "logits from raw features")
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["classes"]) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="`input_scale` must be 4 finite numbers"):
        export_onnx(model, tmp_path / "x.onnx", input_scale=[1.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="`input_mean` must be 4"):
        export_onnx(model, tmp_path / "x.onnx", input_mean=[0.0])


@pytest.mark.parametrize("last", ["dense", "batchnorm"])
def test_dropout_and_batch_normalization_export_in_inference_mode(last):
    layers = [ln.Dense(16, activation="relu"), ln.BatchNormalization(), ln.Dropout(0.3), ln.Dense(3)]
    if last == "batchnorm":
        layers.append(ln.BatchNormalization(center=False))
    model = ln.Sequential(layers, seed=0)
    model.compile(optimizer=optimizers.Adam(0.01), loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(IRIS_X, IRIS_Y, epochs=5, verbose=0)
    assert not np.allclose(model.layers[1].params["moving_variance"], 1.0)  # trained statistics
    for x in (IRIS_X, RANDOM_X):
        out = run(model, x)
        close(out["logits"], model.predict(x), "logits")
        close(out["probabilities"], ln.softmax(model.predict(x).astype(np.float64)), "probabilities")
    ops = [node.op_type for node in to_onnx(model).graph.node]
    assert ops.count("Mul") == len(layers) - 3 and "Dropout" not in ops


def test_export_refusals(monkeypatch):
    with pytest.raises(ValueError, match="isn't built"):
        ln.Sequential([ln.Dense(2)]).export_onnx(io.BytesIO())

    def double(z):
        return 2 * z

    custom = ln.Sequential([ln.Dense(2, activation=double)])
    custom.build((None, 3))
    with pytest.raises(ValueError, match="only logitnet's built-in activations"):
        custom.export_onnx(io.BytesIO())
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"logitnet\[onnx\]"):
        trained("relu", "linear", epochs=1).export_onnx(io.BytesIO())
