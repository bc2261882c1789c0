"""Record Keras's behaviour for issue #9's toolbox, for ``test_keras_toolbox.py``.

Covers: weight regularizers (``kernel_regularizer`` / ``bias_regularizer``: L1,
L2, L1L2), the learning-rate schedules of ``keras.optimizers.schedules`` used
as an optimizer's ``learning_rate``, the ``ReduceLROnPlateau`` and
``LearningRateScheduler`` callbacks, ``BatchNormalization``, ``Dropout``,
``Input(shape)`` as a Sequential's first element and ``Dense(input_shape=...)``.

Run by hand, in an environment with TensorFlow (never logitnet's own)::

    /work/tfvenv/bin/python tests/parity/make_keras_toolbox_fixtures.py

It writes, in ``tests/parity/fixtures/``:

``toolbox_cases.json``
    Per case the declarative recipe (as in ``cases.json``, extended: a layer
    spec may name its ``class``, ``Dense``, ``BatchNormalization``, ``Dropout``
    or ``Input``; a regularizer is ``{"class": "L2", "l2": 0.01}`` or a
    string; an optimizer's ``learning_rate`` may be a schedule
    ``{"class": "ExponentialDecay", ...}``; a ``LearningRateScheduler``'s
    ``schedule`` is ``{"kind": ..., ...}``, see :func:`lr_function`) and
    Keras's results: history, epochs, running-mean batch losses of the first
    epoch, ``evaluate`` (both forms), the regularization penalty
    ``sum(model.losses)`` after training, the weight names, the learning rate
    and ``iterations`` after training, the values of the optimizer's schedule
    at steps 0..N, warnings and printed text. Also the values of a few
    schedules on their own (``schedule_values``) and ``model.summary()``
    texts (``summaries``).
``toolbox_arrays.npz``
    Keras's initial weights, right after the model is built
    (``init/seed<seed>_<shapes>``, shared by the cases with the same seed and
    shapes, named by the case's ``initial_weights``), per case the weights
    after ``fit`` (``<case>/w1``), ``predict`` on the first ``predict_rows``
    rows (``<case>/pred``), and for BatchNormalization cases the output of
    ``model(x[:train_call_rows], training=True)`` after training
    (``<case>/train_call``) and, where ``record_w2``, the weights after that
    call (``<case>/w2``: it updates the moving statistics). Weights are
    flattened in ``get_weights()`` order (shapes in the JSON); all float32 as
    Keras gives them.

The input data are those of ``make_keras_fixtures.py`` (``data/<name>`` in
``arrays.npz``); this script checks they are unchanged and stores none.
Two runs give byte-identical files (checked with TF 2.21 / Keras 3.15 on
CPU): training is deterministic there, and the npz is written with fixed zip
timestamps and sorted keys.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import warnings
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.pop("COLUMNS", None)  # the summary must use the non-TTY width (80 - 4)
os.environ.pop("LINES", None)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import keras
import make_keras_fixtures as base
import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "fixtures"

ADAM = {"class": "Adam", "learning_rate": 0.01}
VAL = {"validation_data": ["val_x", "val_y"]}


def _dense(units, activation="linear", **kwargs):
    return {"class": "Dense", "units": units, "activation": activation, **kwargs}


def _hidden(reg=None, bias_reg=None, out_reg=None, out_bias_reg=None):
    extra = {}
    if reg is not None:
        extra["kernel_regularizer"] = reg
    if bias_reg is not None:
        extra["bias_regularizer"] = bias_reg
    out = {}
    if out_reg is not None:
        out["kernel_regularizer"] = out_reg
    if out_bias_reg is not None:
        out["bias_regularizer"] = out_bias_reg
    return [_dense(25, "relu", **extra), _dense(15, "relu", **extra), _dense(4, **out)]


def _bn(**kwargs):
    return {"class": "BatchNormalization", **kwargs}


def _bn_layers(bn1=None, bn2=None):
    return [_dense(25, "relu"), _bn(**(bn1 or {})), _dense(15, "relu"), _bn(**(bn2 or {})), _dense(4)]


def _case(name, layers, optimizer=None, fit=None, callbacks=None, x="small_x", y="small_y", metrics=None,
          seed=1, predict_rows=64, train_call_rows=0, record_w2=False, train=True, note=""):
    return {
        "name": name,
        "note": note,
        "seed": seed,
        "x": x,
        "y": y,
        "layers": layers,
        "loss": base.PREFERRED_LOSS,
        "optimizer": optimizer or ADAM,
        "metrics": ["accuracy"] if metrics is None else metrics,
        "fit": {"epochs": 5, "batch_size": None, **(fit or {})},
        "callbacks": callbacks or [],
        "predict_rows": predict_rows,
        "train_call_rows": train_call_rows,
        "record_w2": record_w2,
        "train": train,
    }


def make_cases() -> list:
    l2 = {"class": "L2", "l2": 0.01}
    cases = [
        # (a) L2 penalties: Keras adds sum(penalties) to the loss it minimises and reports.
        _case("reg_l2", _hidden(reg=l2), fit=VAL, note="kernel_regularizer=L2(0.01) on the hidden layers"),
        _case("reg_l2_string_sgd", _hidden(reg="l2"), optimizer={"class": "SGD", "learning_rate": 0.05},
              fit=VAL, note="kernel_regularizer='l2': Keras's default L2(l2=0.01)"),
        # (b) L1 and L1L2 (+ bias regularizers).
        _case("reg_l1", _hidden(reg={"class": "L1", "l1": 0.01}), fit=VAL,
              note="L1: gradient l1 * sign(w) (0 at w = 0, the biases' start)"),
        _case("reg_l1_l2_bias", _hidden(reg={"class": "L1L2", "l1": 0.005, "l2": 0.01},
                                        bias_reg={"class": "L1", "l1": 0.02},
                                        out_reg={"class": "L2", "l2": 0.02},
                                        out_bias_reg={"class": "L1L2", "l1": 0.01, "l2": 0.05}),
              fit={"validation_split": 0.2},
              note="kernel L1L2 + bias L1 on the hidden layers; kernel L2 + bias L1L2 on the output"),
        # (c) Schedules as learning_rate (300 rows, batch 32: 10 steps an epoch, 50 in all).
        _case("sched_exponential", SEED_LAYERS_D,
              optimizer={"class": "SGD", "learning_rate": {"class": "ExponentialDecay", "initial_learning_rate": 0.1,
                                                           "decay_steps": 10, "decay_rate": 0.5}}),
        _case("sched_exponential_staircase", SEED_LAYERS_D,
              optimizer={"class": "Adam", "learning_rate": {"class": "ExponentialDecay",
                                                            "initial_learning_rate": 0.02, "decay_steps": 7,
                                                            "decay_rate": 0.6, "staircase": True}}),
        _case("sched_piecewise", SEED_LAYERS_D,
              optimizer={"class": "SGD", "momentum": 0.9,
                         "learning_rate": {"class": "PiecewiseConstantDecay", "boundaries": [12, 30],
                                           "values": [0.05, 0.02, 0.005]}},
              note="rate values[i] while step <= boundaries[i]"),
        _case("sched_cosine", SEED_LAYERS_D,
              optimizer={"class": "Adam", "learning_rate": {"class": "CosineDecay", "initial_learning_rate": 0.02,
                                                            "decay_steps": 40, "alpha": 0.1}},
              note="steps 40..49 past decay_steps: alpha * initial"),
        _case("sched_cosine_warmup", SEED_LAYERS_D,
              optimizer={"class": "Adam", "learning_rate": {"class": "CosineDecay", "initial_learning_rate": 0.001,
                                                            "decay_steps": 30, "alpha": 0.05,
                                                            "warmup_target": 0.02, "warmup_steps": 10}},
              note="linear warm-up 0.001 -> 0.02 over 10 steps, then cosine over 30 steps"),
        _case("sched_inverse_time", SEED_LAYERS_D,
              optimizer={"class": "SGD", "learning_rate": {"class": "InverseTimeDecay", "initial_learning_rate": 0.1,
                                                           "decay_steps": 5, "decay_rate": 0.5}}),
        _case("sched_inverse_time_staircase", SEED_LAYERS_D,
              optimizer={"class": "Adam", "learning_rate": {"class": "InverseTimeDecay",
                                                            "initial_learning_rate": 0.02, "decay_steps": 8,
                                                            "decay_rate": 1.0, "staircase": True}}),
        # (d) Learning-rate callbacks.
        _case("plateau_val_loss", SEED_LAYERS_D, optimizer={"class": "SGD", "learning_rate": 0.1, "momentum": 0.5},
              fit={"epochs": 12, **VAL},
              callbacks=[{"class": "ReduceLROnPlateau", "monitor": "val_loss", "factor": 0.5, "patience": 1,
                          "min_delta": 0.01, "verbose": 1}],
              note="val_loss must improve by 0.01; fires several times"),
        _case("plateau_loss_cooldown_min_lr", SEED_LAYERS_D, optimizer={"class": "SGD", "learning_rate": 0.5},
              fit={"epochs": 12}, metrics=[],
              callbacks=[{"class": "ReduceLROnPlateau", "monitor": "loss", "mode": "min", "factor": 0.3,
                          "patience": 0, "min_delta": 0.02, "cooldown": 1, "min_lr": 0.02, "verbose": 1}],
              note="patience 0, cooldown 1, floor min_lr"),
        _case("plateau_val_accuracy", SEED_LAYERS_D, optimizer={"class": "Adam", "learning_rate": 0.02},
              fit={"epochs": 10, **VAL},
              callbacks=[{"class": "ReduceLROnPlateau", "monitor": "val_accuracy", "factor": 0.2, "patience": 2}],
              note="mode auto on an accuracy: maximise. (With Adam(0.05) the run was float32-chaotic: the "
                   "relative difference between two float32 implementations grew 10x an epoch, to 5e-5.)"),
        _case("lrs_step_decay", SEED_LAYERS_D, fit={"epochs": 6, **VAL},
              callbacks=[{"class": "LearningRateScheduler", "verbose": 1,
                          "schedule": {"kind": "step_decay", "factor": 0.5, "every": 2}}],
              note="schedule(epoch, lr) = lr * 0.5 when epoch > 0 and epoch % 2 == 0, else lr"),
        _case("lrs_epoch_only", SEED_LAYERS_D, optimizer={"class": "SGD", "learning_rate": 0.01},
              fit={"epochs": 5},
              callbacks=[{"class": "LearningRateScheduler",
                          "schedule": {"kind": "exponential_epoch", "initial": 0.08, "rate": 0.7}}],
              note="a one-argument schedule(epoch) = 0.08 * 0.7 ** epoch (Keras's TypeError fallback)"),
        # (e) BatchNormalization.
        _case("bn_basic", _bn_layers(), fit=VAL, train_call_rows=64, record_w2=True,
              note="Dense(relu) -> BN -> Dense(relu) -> BN -> Dense; last batch of 12"),
        _case("bn_no_center_scale", _bn_layers({"center": False, "scale": False}, {"center": False, "scale": False}),
              fit=VAL, train_call_rows=64),
        _case("bn_momentum_epsilon", _bn_layers({"momentum": 0.9, "epsilon": 0.01}, {"momentum": 0.5, "epsilon": 0.1}),
              optimizer={"class": "SGD", "learning_rate": 0.05, "momentum": 0.9}, fit=VAL, train_call_rows=64),
        _case("bn_input_first", [_bn(momentum=0.8), _dense(25, "relu"), _dense(4)],
              optimizer={"class": "SGD", "learning_rate": 0.05}, fit=VAL, train_call_rows=64, record_w2=True,
              note="BN of the raw inputs (means about +-5)"),
        _case("bn_batch_of_one", _bn_layers(), fit={"batch_size": 13, **VAL}, train_call_rows=64,
              note="300 = 23 * 13 + 1: a last batch of one row (variance 0)"),
        _case("bn_frozen", [_dense(25, "relu"), _bn(), _dense(15, "relu"), _bn(trainable=False), _dense(4)],
              fit=VAL, train_call_rows=64, record_w2=True,
              note="a BN with trainable=False runs in inference mode, even in fit (Keras 3)"),
        _case("bn_digits", [_bn(), _dense(25, "relu"), _dense(10)], x="digits_x", y="digits_y",
              optimizer={"class": "Adam", "learning_rate": 0.001}, fit={"epochs": 3, "validation_split": 0.2},
              seed=3, train_call_rows=16,
              note="64 pixel features, some constant 0 (batch variance 0)"),
        # (f) Input(shape) and input_shape=.
        _case("input_first", [{"class": "Input", "shape": [2]}, *SEED_LAYERS_D], fit=VAL,
              note="trains as the same model built with model.build"),
        _case("dense_input_shape", [_dense(25, "relu", input_shape=[2]), *SEED_LAYERS_D[1:]], fit=VAL,
              note="Keras warns about input_shape"),
        # (g) Dropout.
        _case("dropout_zero", [_dense(25, "relu"), {"class": "Dropout", "rate": 0.0}, _dense(15, "relu"),
                               {"class": "Dropout", "rate": 0.0}, _dense(4)], fit=VAL,
              note="rate 0: identical to no dropout"),
        _case("dropout_inference", [_dense(25, "relu"), {"class": "Dropout", "rate": 0.5}, _dense(15, "relu"),
                                    {"class": "Dropout", "rate": 0.3, "seed": 7}, _dense(4)],
              train=False, predict_rows=100,
              note="not trained (Keras's random masks cannot be reproduced): predict and evaluate only, "
                   "which run in inference mode"),
        # Everything together.
        _case("toolbox_all", [{"class": "Input", "shape": [2]}, _dense(25, "relu", kernel_regularizer=l2), _bn(),
                              {"class": "Dropout", "rate": 0.0},
                              _dense(15, "relu", kernel_regularizer={"class": "L1", "l1": 0.001}), _bn(momentum=0.9),
                              _dense(4, bias_regularizer="l2")],
              optimizer={"class": "SGD", "learning_rate": 0.1, "momentum": 0.5},
              fit={"epochs": 8, "validation_split": 0.2, "batch_size": 16}, train_call_rows=64,
              callbacks=[{"class": "ReduceLROnPlateau", "factor": 0.5, "patience": 1, "min_delta": 0.02, "verbose": 1}]),
    ]
    return cases


SEED_LAYERS_D = [_dense(25, "relu", name="layer1"), _dense(15, "relu", name="layer2"), _dense(4)]

# Schedules evaluated on their own, at steps 0..SCHEDULE_STEPS (the optimizer's iterations).
SCHEDULE_STEPS = 60
SCHEDULES = [
    {"class": "ExponentialDecay", "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
    {"class": "ExponentialDecay", "initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.9,
     "staircase": True},
    {"class": "ExponentialDecay", "initial_learning_rate": 0.001, "decay_steps": 3, "decay_rate": 1.5},
    {"class": "PiecewiseConstantDecay", "boundaries": [0, 10, 11, 40], "values": [1.0, 0.5, 0.1, 0.05, 0.001]},
    {"class": "PiecewiseConstantDecay", "boundaries": [12.5, 30.0], "values": [0.05, 0.02, 0.005]},
    {"class": "CosineDecay", "initial_learning_rate": 0.02, "decay_steps": 40},
    {"class": "CosineDecay", "initial_learning_rate": 0.02, "decay_steps": 40, "alpha": 0.1},
    {"class": "CosineDecay", "initial_learning_rate": 0.0, "decay_steps": 25, "warmup_target": 0.1,
     "warmup_steps": 20},
    {"class": "CosineDecay", "initial_learning_rate": 0.05, "decay_steps": 30, "warmup_steps": 10,
     "note": "warmup_steps without warmup_target: no warm-up"},
    {"class": "CosineDecay", "initial_learning_rate": 0.1, "decay_steps": 20, "alpha": 0.2, "warmup_target": 0.05,
     "warmup_steps": 5, "note": "a warm-up that goes down"},
    {"class": "InverseTimeDecay", "initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5},
    {"class": "InverseTimeDecay", "initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 2.0,
     "staircase": True},
]

# model.summary() of models built from these recipes, each in a fresh session (names sequential, dense, ...).
SUMMARIES = {
    "input_first": {"layers": [{"class": "Input", "shape": [2]}, _dense(25, "relu"), _dense(15, "relu"),
                               _dense(4)]},
    "dense_input_shape": {"layers": [_dense(25, "relu", input_shape=[2]), _dense(4)]},
    "batchnorm": {"layers": [{"class": "Input", "shape": [2]}, _dense(25, "relu"), _bn(), _dense(15, "relu"),
                             _bn(center=False, scale=False), _dense(4)]},
    "batchnorm_trained": {"layers": [{"class": "Input", "shape": [2]}, _dense(25, "relu"), _bn(), _dense(15, "relu"),
                                     _bn(center=False, scale=False), _dense(4)], "train": True},
    "batchnorm_frozen": {"layers": [{"class": "Input", "shape": [2]}, _dense(25, "relu"), _bn(trainable=False),
                                    _dense(4)]},
    "dropout": {"layers": [{"class": "Input", "shape": [2]}, _dense(25, "relu"), {"class": "Dropout", "rate": 0.5},
                           _dense(4)]},
    "unbuilt_toolbox": {"layers": [_dense(25, "relu", kernel_regularizer={"class": "L2", "l2": 0.01}), _bn(),
                                   {"class": "Dropout", "rate": 0.2}, _dense(4)]},
}


# ----------------------------------------------------------------------------- Keras objects
def _instance(module, spec):
    if isinstance(spec, str):
        return spec
    return getattr(module, spec["class"])(**{k: v for k, v in spec.items() if k not in ("class", "note")})


def keras_layer(spec):
    spec = dict(spec)
    cls = spec.pop("class", "Dense")
    if cls == "Input":
        return keras.Input(shape=tuple(spec.pop("shape")), **spec)
    for key in ("kernel_regularizer", "bias_regularizer"):
        if isinstance(spec.get(key), dict):
            spec[key] = _instance(keras.regularizers, spec[key])
    if "input_shape" in spec:
        spec["input_shape"] = tuple(spec["input_shape"])
    return getattr(keras.layers, cls)(**spec)


def keras_optimizer(spec):
    spec = dict(spec)
    if isinstance(spec.get("learning_rate"), dict):
        spec["learning_rate"] = _instance(keras.optimizers.schedules, spec["learning_rate"])
    return _instance(keras.optimizers, spec)


def lr_function(spec):
    """The ``LearningRateScheduler`` schedule a recipe names (the test defines the same two)."""
    kind = spec["kind"]
    if kind == "step_decay":
        factor, every = spec["factor"], spec["every"]

        def schedule(epoch, lr):
            return lr * factor if epoch > 0 and epoch % every == 0 else lr

    elif kind == "exponential_epoch":
        initial, rate = spec["initial"], spec["rate"]

        def schedule(epoch):
            return initial * rate**epoch

    else:
        raise ValueError(kind)
    return schedule


def keras_callbacks(specs):
    out = []
    for spec in specs:
        spec = dict(spec)
        if spec["class"] == "LearningRateScheduler":
            spec["schedule"] = lr_function(spec["schedule"])
        out.append(_instance(keras.callbacks, spec))
    return out


def build(layers, seed, n_features):
    keras.backend.clear_session()  # fresh names: sequential, dense, ...
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras_layer(spec) for spec in layers])
    if not model.built:
        model.build((None, n_features))
    return model


def _flat(weights):
    return np.concatenate([w.ravel() for w in weights])


def _warning_texts(caught):
    return sorted({f"{w.category.__name__}: {w.message}" for w in caught
                   if not issubclass(w.category, (DeprecationWarning, FutureWarning))})


def run_case(case, data, arrays):
    name = case["name"]
    x, y = data[case["x"]], data[case["y"]]
    with warnings.catch_warnings(record=True) as caught_build:
        warnings.simplefilter("always")
        model = build(case["layers"], case["seed"], x.shape[1])
    w0 = model.get_weights()
    optimizer = keras_optimizer(case["optimizer"])
    schedule = getattr(optimizer, "_learning_rate", None)
    out = io.StringIO()
    batch_losses = []
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        model.compile(optimizer=optimizer, loss=base._keras_loss(case["loss"]), metrics=list(case["metrics"]))
        history, epochs = {}, []
        if case["train"]:
            fit_spec = dict(case["fit"])
            kwargs = {"epochs": fit_spec.pop("epochs"), "batch_size": fit_spec.pop("batch_size"), "shuffle": False,
                      "verbose": 0}
            if "validation_data" in fit_spec:
                kwargs["validation_data"] = tuple(data[k] for k in fit_spec.pop("validation_data"))
            kwargs.update(fit_spec)
            epoch_now = [0]
            recorder = keras.callbacks.LambdaCallback(
                on_epoch_begin=lambda epoch, logs: epoch_now.__setitem__(0, epoch),
                on_train_batch_end=lambda batch, logs: batch_losses.append(float(logs["loss"]))
                if epoch_now[0] == 0 else None,
            )
            fitted = model.fit(x, y, callbacks=[recorder, *keras_callbacks(case["callbacks"])], **kwargs)
            history, epochs = fitted.history, list(fitted.epoch)
    w1 = model.get_weights()
    pred = model.predict(x[: case["predict_rows"]], verbose=0)
    evaluated = model.evaluate(x, y, verbose=0)
    evaluated_dict = model.evaluate(x, y, return_dict=True, verbose=0)
    penalty = float(sum(float(v) for v in model.losses)) if model.losses else 0.0

    shapes = [list(w.shape) for w in w0]
    init_key = f"init/seed{case['seed']}_" + "_".join("x".join(map(str, s)) for s in shapes)
    if init_key in arrays and not np.array_equal(arrays[init_key], _flat(w0)):
        init_key = f"init/{name}"  # a Dropout with rate > 0 draws from the seed too: other weights
    arrays[init_key] = _flat(w0)
    arrays[f"{name}/w1"] = _flat(w1)
    arrays[f"{name}/pred"] = pred
    rows = case["train_call_rows"]
    if rows:
        arrays[f"{name}/train_call"] = keras.ops.convert_to_numpy(model(x[:rows], training=True))
        if case["record_w2"]:
            arrays[f"{name}/w2"] = _flat(model.get_weights())
    case = dict(case)
    case["weight_shapes"] = shapes
    case["initial_weights"] = init_key
    case["keras"] = {
        "history": base._pythonify(history),
        "epoch": epochs,
        "batch_losses_first_epoch": batch_losses,
        "evaluate": base._pythonify(evaluated),
        "evaluate_dict": base._pythonify(evaluated_dict),
        "penalty": penalty,
        "weight_names": [w.name for w in model.weights],
        "n_trainable_weights": len(model.trainable_weights),
        "n_non_trainable_weights": len(model.non_trainable_weights),
        "count_params": int(model.count_params()),
        "learning_rate_after": float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
        "iterations_after": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        "schedule_values": ([float(keras.ops.convert_to_numpy(schedule(s))) for s in range(SCHEDULE_STEPS + 1)]
                            if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule) else None),
        "build_warnings": _warning_texts(caught_build),
        "warnings": _warning_texts(caught),
        "stdout": out.getvalue(),
    }
    return case


def schedule_values():
    out = []
    for spec in SCHEDULES:
        schedule = _instance(keras.optimizers.schedules, spec)
        values = [float(keras.ops.convert_to_numpy(schedule(s))) for s in range(SCHEDULE_STEPS + 1)]
        out.append({"spec": spec, "config": base._pythonify(schedule.get_config()), "values": values,
                    "serialized": base._pythonify(keras.optimizers.schedules.serialize(schedule))})
    return out


def summaries(data):
    out = {}
    for key, spec in SUMMARIES.items():
        keras.backend.clear_session()  # fresh names: sequential, dense, ...
        keras.utils.set_random_seed(1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = keras.Sequential([keras_layer(s) for s in spec["layers"]])  # built if it has an input shape
        if spec.get("train"):
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss=base._keras_loss(base.PREFERRED_LOSS))
            model.fit(data["small_x"], data["small_y"], epochs=1, shuffle=False, verbose=0)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            model.summary()
        entry = {**spec, "text": buf.getvalue(), "warnings": _warning_texts(caught), "built": bool(model.built)}
        if model.built:
            entry.update({
                "weight_names": [w.name for w in model.weights],
                "weight_shapes": [list(w.shape) for w in model.weights],
                "n_trainable_weights": len(model.trainable_weights),
                "n_non_trainable_weights": len(model.non_trainable_weights),
                "count_params": int(model.count_params()),
            })
        out[key] = entry
    return out


def compact_json(value, indent: int = 0) -> str:
    """JSON with one key per line, but lists of numbers and strings on one line (smaller, still diffable)."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {compact_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + compact_json(v, indent + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def save_npz_deterministic(path, arrays):
    """``np.savez_compressed`` with fixed timestamps and order, so that equal arrays give equal bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, buf.getvalue())


def check_data_unchanged(data):
    with np.load(OUT / "arrays.npz") as stored:
        for key, value in data.items():
            assert np.array_equal(stored[f"data/{key}"], value), f"data/{key} differs from arrays.npz"
            assert stored[f"data/{key}"].dtype == value.dtype


def main() -> None:
    only = set(sys.argv[1:])
    data = base.make_data()
    check_data_unchanged(data)
    arrays = {}
    results = []
    for case in make_cases():
        if only and case["name"] not in only:
            continue
        result = run_case(case, data, arrays)
        print(f"{case['name']:30s} {json.dumps(result['keras']['history'])[:160]} {result['keras']['stdout']!r:.80}",
              file=sys.stderr)
        results.append(result)
    if only:  # a trial run: print, write nothing
        return
    by_name = {c["name"]: c for c in results}
    # Sanity checks of Keras itself that the tests rely on.
    assert by_name["dropout_zero"]["keras"]["history"] == by_name["input_first"]["keras"]["history"]
    assert by_name["dense_input_shape"]["keras"]["history"] == by_name["input_first"]["keras"]["history"]
    versions = {"tensorflow": base.tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
                "python": base.platform.python_version(), "machine": base.platform.machine()}
    payload = {"versions": versions, "schedule_steps": SCHEDULE_STEPS, "cases": results,
               "schedule_values": schedule_values(), "summaries": summaries(data)}
    with open(OUT / "toolbox_cases.json", "w", encoding="utf-8") as f:
        f.write(compact_json(payload))
        f.write("\n")
    save_npz_deterministic(OUT / "toolbox_arrays.npz", arrays)
    size = sum((OUT / n).stat().st_size for n in ("toolbox_cases.json", "toolbox_arrays.npz"))
    print(f"wrote {len(results)} cases ({size / 1024:.1f} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
