"""Write the committed model files of the current format version, and what they must load as.

Run from the repository root when a new format version is released (never to rewrite an
existing version's files: they are the compatibility promise):

    python tests/data/model_files/make_files.py

It writes ``tests/data/model_files/v<FORMAT_VERSION>/*.logitnet`` through logitnet's own
``save``/``save_weights``, and ``expected.json``: for each file, the configuration, the exact
weights and optimizer state it was given, some inputs, and the outputs an independent float64
NumPy forward pass (written below, with SciPy's erf) computes from those weights.
``tests/test_saving_compat.py`` loads every file of every version against its ``expected.json``.

Weights and optimizer state come from a deterministic formula (sines), not from training or
a random generator, so the script needs nothing but logitnet, NumPy and SciPy.
"""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
from scipy.special import erf, expit, log_softmax, softmax

import logitnet as ln
from logitnet import losses, metrics, optimizers
from logitnet.saving import FORMAT_VERSION

HERE = pathlib.Path(__file__).parent / f"v{FORMAT_VERSION}"
X = (np.arange(24).reshape(6, 4) % 7 - 3) / 4.0  # exactly representable in float32


def formula(shape, seed, scale=0.6):
    return np.sin(np.arange(int(np.prod(shape))) * 0.37 + seed).reshape(shape) * scale


# --------------------------------------------------------------------------- the reference forward pass
def softplus(z):
    return np.logaddexp(z, 0.0)


def ref_activation(z, act):
    act = {"name": act} if isinstance(act, str) else dict(act)
    name = act.pop("name")
    if name == "linear":
        return z
    if name == "relu":
        ns, mx, th = act.get("negative_slope", 0.0), act.get("max_value"), act.get("threshold", 0.0)
        y = np.where(z <= th, 0.0, z)
        if mx is not None:
            y = np.clip(y, 0.0, mx)
        return y - ns * np.maximum(th - z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return expit(z)
    if name == "softmax":
        return softmax(z, axis=1)
    if name == "log_softmax":
        return log_softmax(z, axis=1)
    if name == "elu":
        a = act.get("alpha", 1.0)
        return np.where(z > 0, z, a * np.expm1(np.minimum(z, 0)))
    if name == "selu":
        return 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0)))
    if name == "leaky_relu":
        return np.where(z > 0, z, act.get("negative_slope", 0.2) * z)
    if name == "gelu":
        if act.get("approximate", False):
            return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))
        return 0.5 * z * (1 + erf(z / np.sqrt(2)))
    if name == "softplus":
        return softplus(z)
    if name == "mish":
        return z * np.tanh(softplus(z))
    if name == "silu":
        return z * expit(z)
    raise ValueError(name)


def ref_predict(layers, weights, x):
    h, k = x.astype(np.float64), 0
    for config in layers:
        z = h @ np.asarray(weights[k], np.float64)
        k += 1
        if config.get("use_bias", True):
            z = z + np.asarray(weights[k], np.float64)
            k += 1
        h = ref_activation(z, config.get("activation", "linear"))
    return h


# --------------------------------------------------------------------------- the files
def set_formula_weights(model, seed):
    model.set_weights([formula(w.shape, seed + i) for i, w in enumerate(model.weights)])


def set_formula_state(model, iterations, seed):
    params = [w for layer in model.layers if layer.trainable for w in layer.params.values()]
    model.optimizer.build(params)
    state = model.optimizer.get_state()
    for i, key in enumerate(sorted(state)):
        if key == "iterations":
            state[key] = np.array(iterations, np.int64)
        elif key != "learning_rate":
            value = formula(state[key].shape, seed + i, scale=0.01)
            # second moments are non-negative and, for centered RMSprop, exceed the squared average gradient
            state[key] = np.abs(value) + 0.001 if key.startswith("velocity") else value
    model.optimizer.set_state(state)


def specs():
    """(file name, build function, save kwargs). Each build returns a model ready to save."""

    def adam_relu():
        m = ln.Sequential(
            [ln.Dense(5, activation="relu", name="hidden"), ln.Dense(3, name="logits")], name="adam_relu", seed=11
        )
        m.compile(
            optimizer=optimizers.Adam(learning_rate=0.01),
            metrics=["accuracy"],
            loss=losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        m.build((None, 4))
        set_formula_weights(m, 1)
        set_formula_state(m, 7, 100)
        return m

    def sgd_f64():
        m = ln.Sequential(
            [ln.Dense(4, activation="tanh", use_bias=False, name="a"), ln.Dense(3, activation="softmax", name="b")],
            name="sgd_f64",
            seed=12,
            dtype="float64",
        )
        m.compile(
            optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
            loss=losses.CategoricalCrossentropy(label_smoothing=0.1),
            metrics=[metrics.CategoricalAccuracy(name="acc")],
        )
        m.build((None, 4))
        set_formula_weights(m, 2)
        set_formula_state(m, 3, 200)
        return m

    def rmsprop_elu_gelu():
        m = ln.Sequential(
            [
                ln.Dense(6, activation={"name": "elu", "alpha": 0.5}),
                ln.Dense(5, activation={"name": "gelu", "approximate": True}),
                ln.Dense(3, activation="sigmoid"),
            ],
            name="rmsprop",
            seed=13,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.compile(
                optimizer=optimizers.RMSprop(momentum=0.5, centered=True, clipnorm=1.0),
                loss=losses.SparseCategoricalCrossentropy(ignore_class=2),
                metrics=["acc"],
            )
        m.build((None, 4))
        set_formula_weights(m, 3)
        set_formula_state(m, 12, 300)
        return m

    def adamw_frozen():
        m = ln.Sequential(
            [
                ln.Dense(5, activation="selu", trainable=False, name="frozen"),
                ln.Dense(4, activation={"name": "leaky_relu", "negative_slope": 0.1}),
                ln.Dense(4, activation={"name": "relu", "max_value": 1.5, "threshold": 0.1}),
                ln.Dense(3, activation="gelu"),
                ln.Dense(3, activation="mish"),
            ],
            name="adamw",
            seed=14,
        )
        m.compile(
            optimizer=optimizers.AdamW(weight_decay=0.01, amsgrad=True, global_clipnorm=2.0),
            loss=losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
        )
        m.build((None, 4))
        set_formula_weights(m, 4)
        set_formula_state(m, 5, 400)
        return m

    def unbuilt():
        return ln.Sequential(
            [
                ln.Dense(8, activation="softplus", kernel_initializer="he_normal"),
                ln.Dense(2, activation="log_softmax", bias_initializer="ones"),
            ],
            name="unbuilt",
            seed=15,
        )

    def untrained_with_metadata():
        m = ln.Sequential([ln.Dense(3, activation="silu"), ln.Dense(2)], name="tabular", seed=16)
        m.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        m.build((None, 4))
        set_formula_weights(m, 6)
        return m

    metadata = {
        "logitnet.tabular": {
            "target": "kind",
            "features": ["a", "b", "c", "d"],
            "classes": ["no", "yes"],
            "mean": [0.5, -1.0, 2.0, 0.0],
            "scale": [1.0, 2.0, 0.5, 4.0],
        }
    }
    return [
        ("adam_relu_sparse.logitnet", adam_relu, {}),
        ("sgd_nesterov_categorical_float64.logitnet", sgd_f64, {}),
        ("rmsprop_centered_elu_gelu_sigmoid.logitnet", rmsprop_elu_gelu, {}),
        ("adamw_amsgrad_frozen_layer.logitnet", adamw_frozen, {}),
        ("adam_relu_without_optimizer.logitnet", adam_relu, {"include_optimizer": False}),
        ("unbuilt_uncompiled.logitnet", unbuilt, {}),
        ("untrained_with_user_metadata.logitnet", untrained_with_metadata, {"metadata": metadata}),
        ("adam_relu.weights.logitnet", adam_relu, "weights"),
    ]


def expectation(name, model, save_kwargs):
    layers = [layer.get_config() for layer in model.layers]
    entry = {
        "file": name,
        "kind": "weights" if save_kwargs == "weights" else "model",
        "name": model.name,
        "dtype": model.dtype.name,
        "input_dim": model.input_dim,
        "layers": layers,
    }
    if model.built:
        entry["weights"] = [w.tolist() for w in model.weights]
        entry["x"] = X.tolist()
        entry["predict"] = ref_predict(layers, model.weights, X).tolist()
    if entry["kind"] == "weights":
        return entry
    entry["compile"] = None
    if model.compiled:
        entry["compile"] = {
            "loss": {"class_name": type(model.loss).__name__, "config": model.loss.get_config()},
            "optimizer": {"class_name": type(model.optimizer).__name__, "config": model.optimizer.get_config()},
            "metrics": [
                m if isinstance(m, str) else {"class_name": type(m).__name__, "config": m.get_config()}
                for m in model._metric_ids
            ],
        }
    with_state = model.compiled and model.optimizer.built and save_kwargs.get("include_optimizer", True)
    entry["optimizer_state"] = {k: v.tolist() for k, v in model.optimizer.get_state().items()} if with_state else None
    rng = model._rng.bit_generator.state
    entry["rng_state"] = (
        {"state": hex(rng["state"]["state"]), "inc": hex(rng["state"]["inc"])}
        if save_kwargs.get("include_optimizer", True)
        else None
    )
    entry["user_metadata"] = save_kwargs.get("metadata")
    return entry


def main():
    HERE.mkdir(parents=True, exist_ok=True)
    expected = []
    for name, build, save_kwargs in specs():
        model = build()
        if save_kwargs == "weights":
            model.save_weights(HERE / name)
        else:
            model.save(HERE / name, **save_kwargs)
        expected.append(expectation(name, model, save_kwargs))
    (HERE / "expected.json").write_text(
        json.dumps({"format_version": FORMAT_VERSION, "files": expected}, indent=1) + "\n"
    )
    print(f"wrote {len(expected)} files to {HERE}")


if __name__ == "__main__":
    main()
