"""Record Keras's behaviour on small cases, for ``test_keras_parity.py``.

Run by hand, in an environment with TensorFlow (never logitnet's own)::

    python3 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu scikit-learn
    /tmp/tfvenv/bin/python tests/parity/make_keras_fixtures.py

It writes, in ``tests/parity/fixtures/``:

``cases.json``
    The versions used, and per case: the data and model recipe (layers, loss,
    optimizer, metrics, ``fit`` arguments, callbacks) in a declarative form that
    the test turns into logitnet objects, and Keras's results: the history,
    the epochs run, the ``evaluate`` results (default form and dict), the
    warnings and anything printed.
``arrays.npz``
    The inputs (``data/<name>``); Keras's initial weights, recorded right after
    ``model.build`` (``init/seed<seed>_<shapes>``, shared by the cases that use
    the same seed and shapes); per case the weights after ``fit``
    (``<case>/w1``), both flattened in ``get_weights()`` order (the shapes are
    in ``cases.json``), and ``predict`` on the first ``predict_rows`` rows of
    ``x`` (``<case>/pred``). All float32 as Keras gives them.
``keras_text.json``
    What Keras prints for the seed workload: ``model.summary()`` (not a TTY,
    76 columns; unbuilt, built, trained) and the raw text written by
    ``fit(verbose=1)`` and ``fit(verbose=2)`` (also with a metric and
    validation), ``evaluate(verbose=1/2)`` and ``predict(verbose=1)``.

Every model is trained with ``shuffle=False`` so that logitnet, started from
the same initial weights, sees the same batches. This script does not import
logitnet.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.pop("COLUMNS", None)  # the summary must use the non-TTY width (80 - 4)
os.environ.pop("LINES", None)

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from sklearn.datasets import load_digits, make_blobs  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "fixtures"

SEED_CENTERS = [[-5, 2], [-2, -2], [1, 2], [5, -2]]
SEED_LAYERS = [
    {"units": 25, "activation": "relu", "name": "layer1"},
    {"units": 15, "activation": "relu", "name": "layer2"},
    {"units": 4, "activation": "linear"},
]
PREFERRED_LOSS = {"class": "SparseCategoricalCrossentropy", "from_logits": True}


def _layers(last_activation: str, n_out: int = 4, hidden: str = "relu") -> list:
    return [
        {"units": 25, "activation": hidden, "name": "layer1"},
        {"units": 15, "activation": hidden, "name": "layer2"},
        {"units": n_out, "activation": last_activation},
    ]


# ----------------------------------------------------------------------------- data
def make_data() -> dict:
    """Named input arrays shared by the cases (stored as ``data/<name>``)."""
    rng = np.random.RandomState(1234)
    data = {}
    x, y = make_blobs(n_samples=2000, centers=SEED_CENTERS, cluster_std=1.0, random_state=30)
    data["seed_x"], data["seed_y"] = x, y  # float64 and int64, exactly what the notebook passes
    x, y = make_blobs(n_samples=300, centers=SEED_CENTERS, cluster_std=1.0, random_state=7)
    data["small_x"], data["small_y"] = x, y
    xv, yv = make_blobs(n_samples=100, centers=SEED_CENTERS, cluster_std=1.0, random_state=8)
    data["val_x"], data["val_y"] = xv, yv
    data["val_sw"] = rng.uniform(0.0, 2.0, size=100)
    data["small_sw"] = rng.uniform(0.0, 2.0, size=300)
    data["small_y_onehot"] = np.eye(4)[data["small_y"]]
    soft = rng.dirichlet(np.ones(4) * 0.5, size=300)
    data["small_y_soft"] = 0.6 * data["small_y_onehot"] + 0.4 * soft  # rows sum to 1, argmax mostly the label
    y_ign = data["small_y"].copy()
    y_ign[rng.uniform(size=300) < 0.2] = -1
    data["small_y_ignore"] = y_ign
    data["small_y_twice_onehot"] = 2.0 * data["small_y_onehot"]
    data["small_y_col"] = data["small_y"].reshape(-1, 1)
    data["small_y_float"] = data["small_y"].astype(np.float64)
    digits = load_digits()
    data["digits_x"] = digits.data.astype(np.uint8)  # values 0..16: exact as uint8
    data["digits_y"] = digits.target.astype(np.int64)
    return data


# ----------------------------------------------------------------------------- cases
def _case(name, x="small_x", y="small_y", layers=None, loss=None, optimizer=None, metrics=None, fit=None,
          callbacks=None, seed=1, predict_rows=64, evaluate=None, note=""):
    return {
        "name": name,
        "note": note,
        "seed": seed,
        "x": x,
        "y": y,
        "layers": layers or SEED_LAYERS,
        "loss": loss or PREFERRED_LOSS,
        "optimizer": optimizer or {"class": "Adam", "learning_rate": 0.01},
        "metrics": metrics or [],
        "fit": {"epochs": 5, "batch_size": None, **(fit or {})},
        "callbacks": callbacks or [],
        "predict_rows": predict_rows,
        "evaluate": evaluate or {},
    }


def make_cases() -> list:
    adam_seed = {"class": "Adam", "learning_rate": 0.001}
    seed_fit = {"epochs": 10}
    cases = [
        # The seed workload (2000 x 2, 10 epochs, batch 32) in its five variants.
        _case("seed_preferred", "seed_x", "seed_y", SEED_LAYERS, PREFERRED_LOSS, adam_seed, fit=seed_fit,
              predict_rows=2000, seed=30, note="linear output + from_logits=True"),
        _case("seed_softmax", "seed_x", "seed_y", _layers("softmax"),
              {"class": "SparseCategoricalCrossentropy", "from_logits": False}, adam_seed, fit=seed_fit,
              predict_rows=256, seed=30, note="softmax output + from_logits=False"),
        _case("seed_sigmoid", "seed_x", "seed_y", _layers("sigmoid"),
              {"class": "SparseCategoricalCrossentropy", "from_logits": False}, adam_seed, fit=seed_fit,
              predict_rows=256, seed=30, note="sigmoid output + from_logits=False (the notebook's first model)"),
        _case("seed_softmax_from_logits", "seed_x", "seed_y", _layers("softmax"), PREFERRED_LOSS, adam_seed,
              fit=seed_fit, predict_rows=256, seed=30, note="softmax output + from_logits=True (Keras warns)"),
        _case("seed_linear_probs", "seed_x", "seed_y", SEED_LAYERS,
              {"class": "SparseCategoricalCrossentropy", "from_logits": False}, adam_seed, fit=seed_fit,
              predict_rows=256, seed=30, note="linear output + from_logits=False (trains badly)"),
        # Optimizers.
        _case("opt_sgd", optimizer={"class": "SGD", "learning_rate": 0.05}),
        _case("opt_sgd_momentum", optimizer={"class": "SGD", "learning_rate": 0.02, "momentum": 0.9}),
        _case("opt_sgd_nesterov", optimizer={"class": "SGD", "learning_rate": 0.02, "momentum": 0.9,
                                             "nesterov": True}),
        _case("opt_adam", optimizer={"class": "Adam", "learning_rate": 0.01}),
        _case("opt_adam_amsgrad", optimizer={"class": "Adam", "learning_rate": 0.01, "amsgrad": True}),
        _case("opt_adam_weight_decay", optimizer={"class": "Adam", "learning_rate": 0.01, "weight_decay": 0.05}),
        _case("opt_adamw", optimizer={"class": "AdamW", "learning_rate": 0.01, "weight_decay": 0.05}),
        _case("opt_rmsprop", optimizer={"class": "RMSprop", "learning_rate": 0.005}),
        _case("opt_rmsprop_centered_momentum",
              optimizer={"class": "RMSprop", "learning_rate": 0.002, "momentum": 0.5, "centered": True}),
        _case("opt_sgd_clipnorm", optimizer={"class": "SGD", "learning_rate": 0.1, "clipnorm": 0.5}),
        _case("opt_sgd_clipvalue", optimizer={"class": "SGD", "learning_rate": 0.1, "clipvalue": 0.05}),
        _case("opt_adam_global_clipnorm", optimizer={"class": "Adam", "learning_rate": 0.01,
                                                     "global_clipnorm": 0.5}),
        _case("opt_string_rmsprop", optimizer="rmsprop", note="compile(optimizer='rmsprop'): Keras's defaults"),
        _case("opt_string_sgd", optimizer="sgd"),
        # Batches, validation, weights, initial_epoch.
        _case("batch_7", fit={"batch_size": 7}, metrics=["accuracy"], note="300 = 42*7 + 6"),
        _case("batch_64", fit={"batch_size": 64}, metrics=["accuracy"], note="300 = 4*64 + 44"),
        _case("batch_larger_than_data", fit={"batch_size": 512}, metrics=["accuracy"]),
        _case("validation_split", fit={"validation_split": 0.2}, metrics=["accuracy"]),
        _case("validation_split_033", fit={"validation_split": 0.33, "batch_size": 50}, metrics=["accuracy"],
              note="floor(300 * (1 - 0.33)) = 200 in floating point"),
        _case("validation_data", fit={"validation_data": ["val_x", "val_y"]}, metrics=["accuracy"]),
        _case("validation_data_sw", fit={"validation_data": ["val_x", "val_y", "val_sw"]}, metrics=["accuracy"]),
        _case("class_weight", fit={"class_weight": {0: 1.0, 1: 3.0, 2: 0.25}, "validation_split": 0.2},
              metrics=["accuracy"], note="class 3 missing: weight 1"),
        _case("sample_weight", fit={"sample_weight": "small_sw"}, metrics=["accuracy"],
              evaluate={"sample_weight": "small_sw"}),
        _case("sample_weight_validation_split", fit={"sample_weight": "small_sw", "validation_split": 0.25},
              metrics=["accuracy"]),
        _case("initial_epoch", fit={"initial_epoch": 2, "epochs": 5}, metrics=["accuracy"]),
        # Losses and labels.
        _case("cce_onehot", y="small_y_onehot", loss={"class": "CategoricalCrossentropy", "from_logits": True},
              metrics=["accuracy"]),
        _case("cce_onehot_softmax", y="small_y_onehot", layers=_layers("softmax"),
              loss={"class": "CategoricalCrossentropy", "from_logits": False}, metrics=["accuracy"]),
        _case("cce_string_softmax", y="small_y_onehot", layers=_layers("softmax"),
              loss="categorical_crossentropy", metrics=["categorical_accuracy"]),
        _case("cce_soft", y="small_y_soft", loss={"class": "CategoricalCrossentropy", "from_logits": True},
              metrics=["accuracy"]),
        _case("cce_label_smoothing", y="small_y_onehot",
              loss={"class": "CategoricalCrossentropy", "from_logits": True, "label_smoothing": 0.1},
              metrics=["accuracy"], fit={"epochs": 3},
              note="smoothed float32 rows sum to 1 - 1.2e-7: TF's gradient softmax - t and logitnet's exact "
                   "softmax * sum(t) - t drift apart slowly (see docs/keras-compatibility.md)"),
        _case("cce_unnormalized_targets", y="small_y_twice_onehot",
              loss={"class": "CategoricalCrossentropy", "from_logits": True}, metrics=["accuracy"],
              note="target rows sum to 2: TF's gradient softmax - t is not the gradient of its loss"),
        _case("cce_label_smoothing_softmax", y="small_y_onehot", layers=_layers("softmax"),
              loss={"class": "CategoricalCrossentropy", "from_logits": False, "label_smoothing": 0.2}),
        _case("scce_ignore_class", y="small_y_ignore",
              loss={"class": "SparseCategoricalCrossentropy", "from_logits": True, "ignore_class": -1},
              metrics=["accuracy"], note="20% of the labels are -1"),
        _case("scce_ignore_class_valid_label", y="small_y",
              loss={"class": "SparseCategoricalCrossentropy", "from_logits": True, "ignore_class": 3},
              note="ignore a real class"),
        _case("linear_probs_sgd", loss={"class": "SparseCategoricalCrossentropy", "from_logits": False},
              optimizer={"class": "SGD", "learning_rate": 0.05}, metrics=["accuracy"], fit={"epochs": 2},
              note="raw outputs clipped to [1e-7, 1 - 1e-7], with SGD; short: the 1/p gradients make longer "
                   "runs part at float32 noise level (see test_keras_parity.py)"),
        _case("scce_string_softmax", layers=_layers("softmax"), loss="sparse_categorical_crossentropy",
              metrics=["sparse_categorical_accuracy"]),
        _case("labels_column", y="small_y_col", metrics=["acc"], note="y of shape (N, 1)"),
        _case("labels_float", y="small_y_float", metrics=["accuracy"], note="integral float labels"),
        # Callbacks.
        _case("early_stopping", optimizer={"class": "SGD", "learning_rate": 0.5, "momentum": 0.5},
              fit={"epochs": 20, "validation_split": 0.3},
              callbacks=[{"class": "EarlyStopping", "monitor": "val_loss", "patience": 2,
                          "restore_best_weights": True, "verbose": 1}],
              note="val_loss oscillates; the best weights are restored"),
        _case("terminate_on_nan", layers=_layers("linear", hidden="linear"),
              optimizer={"class": "SGD", "learning_rate": 500.0}, fit={"epochs": 5},
              callbacks=[{"class": "TerminateOnNaN"}],
              note="losses 1.5, 6.8e7, 2.5e24, then NaN at batch 3: few steps of amplification before it"),
        # The course's digit assignment, on scikit-learn's 8x8 digits.
        _case("digits", "digits_x", "digits_y", _layers("linear", n_out=10), PREFERRED_LOSS,
              {"class": "Adam", "learning_rate": 0.001}, metrics=["accuracy"],
              fit={"epochs": 8, "validation_split": 0.2}, predict_rows=200, seed=3),
    ]
    return cases


# ----------------------------------------------------------------------------- Keras objects
def _keras_loss(spec):
    if isinstance(spec, str):
        return spec
    cls = getattr(keras.losses, spec["class"])
    return cls(**{k: v for k, v in spec.items() if k != "class"})


def _keras_optimizer(spec):
    if isinstance(spec, str):
        return spec
    cls = getattr(keras.optimizers, spec["class"])
    return cls(**{k: v for k, v in spec.items() if k != "class"})


def _keras_callbacks(specs):
    out = []
    for spec in specs:
        cls = getattr(keras.callbacks, spec["class"])
        out.append(cls(**{k: v for k, v in spec.items() if k != "class"}))
    return out


def _build(case, n_features):
    keras.backend.clear_session()  # fresh names: sequential, dense, ...
    keras.utils.set_random_seed(case["seed"])
    model = keras.Sequential([keras.layers.Dense(**spec) for spec in case["layers"]])
    model.build((None, n_features))
    return model


def _pythonify(value):
    if isinstance(value, dict):
        return {str(k): _pythonify(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pythonify(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def run_case(case, data, arrays):
    name = case["name"]
    x, y = data[case["x"]], data[case["y"]]
    fit_spec = dict(case["fit"])
    kwargs = {"epochs": fit_spec.pop("epochs"), "batch_size": fit_spec.pop("batch_size"), "shuffle": False,
              "verbose": 0}
    if "validation_data" in fit_spec:
        kwargs["validation_data"] = tuple(data[k] for k in fit_spec.pop("validation_data"))
    if "sample_weight" in fit_spec:
        kwargs["sample_weight"] = data[fit_spec.pop("sample_weight")]
    kwargs.update(fit_spec)  # validation_split, class_weight, initial_epoch

    model = _build(case, x.shape[1])
    w0 = model.get_weights()
    first_epoch = kwargs.get("initial_epoch", 0)
    batch_losses = []  # the running mean `loss` that on_train_batch_end sees, first epoch only
    epoch_now = [first_epoch]
    recorder = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch_now.__setitem__(0, epoch),
        on_train_batch_end=lambda batch, logs: batch_losses.append(float(logs["loss"]))
        if epoch_now[0] == first_epoch else None,
    )
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        model.compile(optimizer=_keras_optimizer(case["optimizer"]), loss=_keras_loss(case["loss"]),
                      metrics=list(case["metrics"]))
        history = model.fit(x, y, callbacks=[recorder, *_keras_callbacks(case["callbacks"])], **kwargs)
    w1 = model.get_weights()
    pred = model.predict(x[: case["predict_rows"]], verbose=0)
    eval_kwargs = {"verbose": 0}
    if "sample_weight" in case["evaluate"]:
        eval_kwargs["sample_weight"] = data[case["evaluate"]["sample_weight"]]
    evaluated = model.evaluate(x, y, **eval_kwargs)
    evaluated_dict = model.evaluate(x, y, return_dict=True, **eval_kwargs)

    # Weights are stored flat (one array per case; the test splits them by the layer shapes), and
    # the initial weights once per (seed, shapes): cases with the same seed start from the same point.
    shapes = [list(w.shape) for w in w0]
    init_key = f"init/seed{case['seed']}_" + "_".join("x".join(map(str, s)) for s in shapes)
    flat0 = np.concatenate([w.ravel() for w in w0])
    if init_key in arrays:
        assert np.array_equal(arrays[init_key], flat0), f"{name}: Keras's init is not reproducible"
    arrays[init_key] = flat0
    arrays[f"{name}/w1"] = np.concatenate([w.ravel() for w in w1])
    arrays[f"{name}/pred"] = pred
    case = dict(case)
    case["weight_shapes"] = shapes
    case["initial_weights"] = init_key
    case["keras"] = {
        "history": _pythonify(history.history),
        "epoch": list(history.epoch),
        "batch_losses_first_epoch": batch_losses,
        "evaluate": _pythonify(evaluated),
        "evaluate_dict": _pythonify(evaluated_dict),
        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught
                            if not issubclass(w.category, (DeprecationWarning, FutureWarning))}),
        "stdout": out.getvalue(),
        "jit_compile": bool(getattr(model, "jit_compile", False)),
    }
    return case


# ----------------------------------------------------------------------------- console text
def capture_text(data, initial_weights_case):
    """Keras's printed output for the seed workload (preferred variant, shuffle=False)."""
    x, y = data["seed_x"], data["seed_y"]
    text = {}

    def fresh(metrics=()):
        model = _build(initial_weights_case, x.shape[1])
        model.compile(optimizer=keras.optimizers.Adam(0.001),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=list(metrics))
        return model

    def captured(fn):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            fn()
        return buf.getvalue()

    keras.backend.clear_session()
    unbuilt = keras.Sequential([keras.layers.Dense(**spec) for spec in initial_weights_case["layers"]])
    text["summary_unbuilt"] = captured(unbuilt.summary)  # no input shape seen yet
    model = fresh()
    text["summary_built"] = captured(model.summary)  # built and compiled, not trained
    text["fit_verbose1"] = captured(lambda: model.fit(x, y, epochs=10, shuffle=False, verbose=1))
    text["summary_trained"] = captured(model.summary)
    text["evaluate_verbose1"] = captured(lambda: model.evaluate(x, y, verbose=1))
    text["evaluate_verbose2"] = captured(lambda: model.evaluate(x, y, verbose=2))
    text["predict_verbose1"] = captured(lambda: model.predict(x, verbose=1))

    model = fresh()
    text["fit_verbose2"] = captured(lambda: model.fit(x, y, epochs=10, shuffle=False, verbose=2))

    model = fresh(["accuracy"])
    text["fit_verbose2_metrics_validation"] = captured(
        lambda: model.fit(x, y, epochs=3, shuffle=False, verbose=2, validation_split=0.2))
    model = fresh(["accuracy"])
    text["fit_verbose1_metrics_validation"] = captured(
        lambda: model.fit(x, y, epochs=3, shuffle=False, verbose=1, validation_split=0.2))
    text["evaluate_verbose1_metrics"] = captured(lambda: model.evaluate(x, y, verbose=1))
    return text


def main() -> None:
    OUT.mkdir(exist_ok=True)
    only = set(sys.argv[1:])
    data = make_data()
    arrays = {f"data/{k}": v for k, v in data.items()}
    results = []
    for case in make_cases():
        if only and case["name"] not in only:
            continue
        result = run_case(case, data, arrays)
        print(f"{case['name']:34s} {json.dumps(result['keras']['history'])[:150]}", file=sys.stderr)
        results.append(result)
    if only:  # a trial run: print, write nothing
        return
    versions = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset: oneDNN on)"),
    }
    seed_case = next(c for c in make_cases() if c["name"] == "seed_preferred")
    text = capture_text(data, seed_case)
    text = {"versions": versions, "seed": seed_case["seed"], **text}
    with open(OUT / "cases.json", "w", encoding="utf-8") as f:
        json.dump({"versions": versions, "cases": results}, f, indent=1, sort_keys=False)
        f.write("\n")
    with open(OUT / "keras_text.json", "w", encoding="utf-8") as f:
        json.dump(text, f, indent=1, ensure_ascii=False)
        f.write("\n")
    np.savez_compressed(OUT / "arrays.npz", **arrays)
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(results)} cases to {OUT} ({total / 1024:.1f} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
