"""logitnet against recorded Keras runs for issue #9's toolbox (no TensorFlow needed).

The fixtures ``fixtures/toolbox_cases.json`` and ``fixtures/toolbox_arrays.npz``
were written by ``make_keras_toolbox_fixtures.py`` with TensorFlow-Keras (the
versions are in the file); the input data are those of ``arrays.npz``. They
cover weight regularizers, learning-rate schedules, ``ReduceLROnPlateau``,
``LearningRateScheduler``, ``BatchNormalization``, ``Dropout``, ``Input(shape)``
and ``Dense(input_shape=...)``.

Two parts:

* What Keras does, checked on the fixtures alone against float64 NumPy
  re-computations (``test_keras_*``): that ``evaluate`` and ``val_loss``
  include the regularization penalty, BatchNormalization's batch statistics
  (biased variance) and moving-average update, each schedule's formula,
  ReduceLROnPlateau's and LearningRateScheduler's rules. These pin down the
  semantics logitnet must match, independently of logitnet.
* logitnet against those runs (``test_*_matches_keras``): each recipe is
  rebuilt with logitnet objects of the same names and arguments, started from
  Keras's initial weights, trained with ``shuffle=False``, and compared as in
  ``test_keras_parity.py``: running-mean batch losses of the first epoch and
  the history (same keys, same order, relative difference <= 1e-5), final
  weights (absolute <= 1e-5), ``predict`` and ``model(x, training=True)``
  (``assert_close_float32``), ``evaluate`` (relative <= 1e-5), the penalty, the
  learning rate after training, what the callbacks print (identical text),
  the ``input_shape`` warning, the weight layout and ``summary()``.

Regenerate the fixtures (TensorFlow needed) with
``python tests/parity/make_keras_toolbox_fixtures.py``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import logitnet as ln

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"


def _parity_module():
    """``test_keras_parity`` (its builders and comparison helpers), however pytest imported it."""
    name = "test_keras_parity"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "test_keras_parity.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


parity = _parity_module()
RTOL, ATOL = parity.RTOL, parity.ATOL
assert_close_float32 = parity.assert_close_float32
plain_console = parity.plain_console  # the fixture: a non-TTY console of the default width, fresh names
_data, _split, _nan_list = parity._data, parity._split, parity._nan_list

with open(FIXTURES / "toolbox_cases.json", encoding="utf-8") as _f:
    TOOLBOX = json.load(_f)
CASES = {case["name"]: case for case in TOOLBOX["cases"]}
with np.load(FIXTURES / "toolbox_arrays.npz") as _npz:
    ARRAYS = {key: _npz[key] for key in _npz.files}

TRAINED = sorted(name for name, case in CASES.items() if case["train"])
REGULARIZED = sorted(name for name in CASES if name.startswith("reg_"))
SCHEDULED = sorted(name for name, case in CASES.items() if isinstance(case["optimizer"]["learning_rate"], dict))
BATCHNORM = sorted(name for name, case in CASES.items() if case["train_call_rows"])
PLATEAU = sorted(name for name, case in CASES.items()
                 if any(cb["class"] == "ReduceLROnPlateau" for cb in case["callbacks"]))


def _f32(value: float) -> float:
    return float(np.float32(value))


# ----------------------------------------------------------------------------- float64 references
def _dense_specs(case_layers):
    return [dict(spec) for spec in case_layers if spec.get("class", "Dense") != "Input"]


def reference_forward(layers, weights, x, training=False):
    """Float64 forward pass of a recipe with given weights; returns ``(output, batch statistics per BN)``.

    Dropout is the identity (inference); a BatchNormalization uses the batch mean and biased variance
    when ``training`` and it is trainable, else its moving statistics.
    """
    it = iter(np.asarray(w, np.float64) for w in weights)
    h = np.asarray(x, np.float64)
    stats = []
    for spec in _dense_specs(layers):
        cls = spec.get("class", "Dense")
        if cls == "Dense":
            h = h @ next(it)
            if spec.get("use_bias", True):
                h = h + next(it)
            if spec.get("activation") == "relu":
                h = np.maximum(h, 0.0)
            else:
                assert spec.get("activation", "linear") == "linear"
        elif cls == "BatchNormalization":
            gamma = next(it) if spec.get("scale", True) else 1.0
            beta = next(it) if spec.get("center", True) else 0.0
            moving_mean, moving_var = next(it), next(it)
            if training and spec.get("trainable", True):
                mean, var = h.mean(axis=0), h.var(axis=0)  # biased (ddof=0)
                stats.append((mean, var))
            else:
                mean, var = moving_mean, moving_var
            h = (h - mean) / np.sqrt(var + spec.get("epsilon", 1e-3)) * gamma + beta
        else:
            assert cls == "Dropout"
    return h, stats


def reference_cross_entropy(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), np.asarray(y, int)].mean())


def reference_penalty(layers, weights):
    """Float64 sum of the recipe's weight penalties (Keras's formulas and string defaults)."""
    defaults = {"l1": {"class": "L1", "l1": 0.01}, "l2": {"class": "L2", "l2": 0.01},
                "l1_l2": {"class": "L1L2", "l1": 0.0, "l2": 0.0}}
    total, it = 0.0, iter(np.asarray(w, np.float64) for w in weights)
    for spec in _dense_specs(layers):
        cls = spec.get("class", "Dense")
        if cls == "BatchNormalization":
            for _ in range(2 + spec.get("scale", True) + spec.get("center", True)):
                next(it)
        if cls != "Dense":
            continue
        keys = ("kernel_regularizer", "bias_regularizer") if spec.get("use_bias", True) else ("kernel_regularizer",)
        for key in keys:
            w, reg = next(it), spec.get(key)
            if reg is None:
                continue
            reg = defaults[reg] if isinstance(reg, str) else reg
            total += reg.get("l1", 0.0) * np.abs(w).sum() + reg.get("l2", 0.0) * np.square(w).sum()
    return total


def reference_schedule(spec, step):
    """Float64 value of a Keras schedule at optimizer step ``step`` (Keras 3 formulas)."""
    cls = spec["class"]
    if cls in ("ExponentialDecay", "InverseTimeDecay"):
        p = step / spec["decay_steps"]
        if spec.get("staircase", False):
            p = math.floor(p)
        if cls == "ExponentialDecay":
            return spec["initial_learning_rate"] * spec["decay_rate"] ** p
        return spec["initial_learning_rate"] / (1.0 + spec["decay_rate"] * p)
    if cls == "PiecewiseConstantDecay":
        for boundary, value in zip(spec["boundaries"], spec["values"]):
            if step <= boundary:  # values[i] up to and including boundaries[i]
                return value
        return spec["values"][-1]
    assert cls == "CosineDecay"
    initial, decay_steps, alpha = spec["initial_learning_rate"], spec["decay_steps"], spec.get("alpha", 0.0)
    target, warmup = spec.get("warmup_target"), spec.get("warmup_steps", 0)
    if target is None:  # warmup_steps is ignored without a warmup_target
        start, step = initial, min(step, decay_steps)
    elif step < warmup:
        return initial + (target - initial) * step / warmup
    else:
        start, step = target, min(step, decay_steps + warmup) - warmup
    return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / decay_steps)) + alpha)


def reference_plateau(values, lr, spec):
    """Keras 3's ReduceLROnPlateau on recorded monitor values: (learning_rate logged per epoch, final rate)."""
    factor, patience = spec.get("factor", 0.1), spec.get("patience", 10)
    min_delta, cooldown, min_lr = abs(spec.get("min_delta", 1e-4)), spec.get("cooldown", 0), spec.get("min_lr", 0.0)
    mode = spec.get("mode", "auto")
    maximize = mode == "max" or (mode == "auto" and "acc" in spec.get("monitor", "val_loss"))
    best, wait, cooling, logged = None, 0, 0, []
    for value in values:
        logged.append(lr)  # logged before any reduction: the rate this epoch trained with
        if cooling > 0:
            cooling -= 1
            wait = 0
        if best is None or (value - min_delta > best if maximize else value + min_delta < best):
            best, wait = value, 0
        elif cooling == 0:
            wait += 1
            if wait >= patience and lr > _f32(min_lr):
                lr = _f32(max(lr * factor, min_lr))
                cooling, wait = cooldown, 0
    return logged, lr


def lr_function(spec):
    """The ``LearningRateScheduler`` schedule a recipe names (as in the fixture script)."""
    kind = spec["kind"]
    if kind == "step_decay":
        factor, every = spec["factor"], spec["every"]

        def schedule(epoch, lr):
            return lr * factor if epoch > 0 and epoch % every == 0 else lr

    else:
        assert kind == "exponential_epoch"
        initial, rate = spec["initial"], spec["rate"]

        def schedule(epoch):
            return initial * rate**epoch

    return schedule


def assert_weights_close(actual, desired, err_msg=""):
    """Weights: 1e-5 absolute, relative above magnitude 1 (``assert_close_float32``).

    Plain 1e-5 absolute is kept for every weight of magnitude <= 1 (all kernels and biases here). The
    relative part is for BatchNormalization's moving statistics of unnormalised features (pixel means up
    to 9, variances up to 23 in ``bn_digits``; 13 in ``bn_momentum_epsilon``): both libraries compute the
    batch moments in float32 with different summation orders, and the moving averages carry that
    rounding (float32 spacing at 16 is 1.9e-6). Measured: at most 3.4e-5 absolute, 1.5e-6 relative.
    """
    assert_close_float32(actual, desired, err_msg=err_msg)


def _keras_weights(case, key):
    return _split(ARRAYS[key], case["weight_shapes"])


# ----------------------------------------------------------------------------- what Keras does
def test_toolbox_fixtures_record_versions_and_stay_small():
    assert TOOLBOX["versions"]["keras"].startswith("3.")
    size = sum((FIXTURES / name).stat().st_size for name in ("toolbox_cases.json", "toolbox_arrays.npz"))
    assert size < 300_000
    for case in CASES.values():
        assert f"data/{case['x']}" in parity.ARRAYS and case["initial_weights"] in ARRAYS


@pytest.mark.parametrize("name", REGULARIZED + ["toolbox_all"])
def test_keras_evaluate_and_val_loss_include_the_penalty(name):
    case, keras = CASES[name], CASES[name]["keras"]
    w1 = _keras_weights(case, f"{name}/w1")
    penalty = reference_penalty(case["layers"], w1)
    assert penalty > 0.05
    np.testing.assert_allclose(keras["penalty"], penalty, rtol=RTOL)
    x, y = _data(case["x"]), _data(case["y"])
    data_loss = reference_cross_entropy(reference_forward(case["layers"], w1, x)[0], y)
    np.testing.assert_allclose(keras["evaluate_dict"]["loss"], data_loss + penalty, rtol=RTOL)
    # The last epoch's val_loss is computed with the final weights, penalty included.
    if "validation_data" in case["fit"]:
        xv, yv = (_data(k) for k in case["fit"]["validation_data"])
    else:
        n_train = int(len(x) * (1 - case["fit"]["validation_split"]))
        xv, yv = x[n_train:], y[n_train:]
    val_loss = reference_cross_entropy(reference_forward(case["layers"], w1, xv)[0], yv)
    np.testing.assert_allclose(keras["history"]["val_loss"][-1], val_loss + penalty, rtol=RTOL)


@pytest.mark.parametrize("name", BATCHNORM)
def test_keras_batchnorm_uses_batch_statistics_in_training_and_moving_ones_in_inference(name):
    case = CASES[name]
    x = _data(case["x"])
    w1 = _keras_weights(case, f"{name}/w1")
    pred, _ = reference_forward(case["layers"], w1, x[: case["predict_rows"]])
    assert_close_float32(ARRAYS[f"{name}/pred"], pred, err_msg="predict: moving statistics")
    rows = x[: case["train_call_rows"]]
    out, stats = reference_forward(case["layers"], w1, rows, training=True)
    assert_close_float32(ARRAYS[f"{name}/train_call"], out, err_msg="model(x, training=True): batch statistics")
    if f"{name}/w2" not in ARRAYS:
        return
    # model(x, training=True) also updated the moving statistics: moving * m + batch * (1 - m), batch
    # variance biased (the unbiased one would be off by var / (n - 1) * (1 - m): ~1e-4 here).
    w2 = _keras_weights(case, f"{name}/w2")
    names = case["keras"]["weight_names"]
    slots = [i for i, n in enumerate(names) if n == "moving_mean"]
    trainable_bns = [s for s in _dense_specs(case["layers"]) if s.get("class") == "BatchNormalization"]
    batch_stats = iter(stats)
    for slot, spec in zip(slots, trainable_bns):
        if not spec.get("trainable", True):
            np.testing.assert_array_equal(w2[slot], w1[slot])
            np.testing.assert_array_equal(w2[slot + 1], w1[slot + 1])
            continue
        momentum = spec.get("momentum", 0.99)
        mean, var = next(batch_stats)
        np.testing.assert_allclose(w2[slot], w1[slot] * momentum + mean * (1 - momentum), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w2[slot + 1], w1[slot + 1] * momentum + var * (1 - momentum), rtol=1e-6)
    others = [i for i, n in enumerate(names) if n not in ("moving_mean", "moving_variance")]
    for i in others:
        np.testing.assert_array_equal(w2[i], w1[i])


def assert_schedule_close(actual, desired, err_msg=""):
    """Relative 1e-6 (a few float32 steps), plus 1e-6 of the schedule's peak rate.

    The absolute part is for the tail of a cosine decay: ``1 + cos(pi * t)`` near ``t = 1`` cancels, and
    its float32 error is relative to 1, not to the small result (measured: 3.2e-9 at a rate of 1.6e-3 in
    a schedule peaking at 0.1, i.e. 2e-6 relative).
    """
    atol = 1e-6 * float(np.max(np.abs(desired)))
    np.testing.assert_allclose(actual, desired, rtol=1e-6, atol=atol, err_msg=err_msg)


def test_keras_schedule_values_follow_the_formulas():
    for entry in TOOLBOX["schedule_values"]:
        expected = [reference_schedule(entry["spec"], step) for step in range(TOOLBOX["schedule_steps"] + 1)]
        assert_schedule_close(entry["values"], expected, err_msg=str(entry["spec"]))
    for name in SCHEDULED:
        spec = CASES[name]["optimizer"]["learning_rate"]
        expected = [reference_schedule(spec, step) for step in range(TOOLBOX["schedule_steps"] + 1)]
        assert_schedule_close(CASES[name]["keras"]["schedule_values"], expected, err_msg=name)
        values = CASES[name]["keras"]["schedule_values"]
        assert max(values[:50]) > 3 * min(values[:50])  # the rate changes visibly over the 50 steps
        assert "learning_rate" not in CASES[name]["keras"]["history"]  # no callback: not logged


@pytest.mark.parametrize("name", PLATEAU)
def test_keras_reduce_lr_on_plateau_rule(name):
    case, keras = CASES[name], CASES[name]["keras"]
    spec = next(cb for cb in case["callbacks"] if cb["class"] == "ReduceLROnPlateau")
    monitored = keras["history"][spec.get("monitor", "val_loss")]
    logged, final = reference_plateau(monitored, _f32(case["optimizer"]["learning_rate"]), spec)
    assert keras["history"]["learning_rate"] == logged
    assert keras["learning_rate_after"] == final
    assert len(set(logged + [final])) >= 3  # fired at least twice
    assert list(keras["history"])[-1] == "learning_rate"


def test_keras_learning_rate_scheduler_rule():
    keras = CASES["lrs_step_decay"]["keras"]
    lrs = [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025]
    assert keras["history"]["learning_rate"] == [_f32(v) for v in lrs]
    # Printed: schedule(epoch, lr) as returned, lr being the float32 rate read back as a Python float.
    printed = [_f32(0.01), _f32(0.01), _f32(0.01) * 0.5, _f32(0.01) * 0.5, _f32(_f32(0.01) * 0.5) * 0.5]
    printed.append(printed[-1])
    assert keras["stdout"] == "".join(
        f"\nEpoch {e + 1}: LearningRateScheduler setting learning rate to {v}.\n" for e, v in enumerate(printed))
    keras = CASES["lrs_epoch_only"]["keras"]  # schedule(epoch) only: Keras retries without lr on TypeError
    assert keras["history"]["learning_rate"] == [_f32(0.08 * 0.7**e) for e in range(5)]


def test_keras_input_and_dropout_zero_train_as_the_plain_model():
    reference = CASES["input_first"]["keras"]
    for name in ("dense_input_shape", "dropout_zero"):
        assert CASES[name]["keras"]["history"] == reference["history"]
        np.testing.assert_array_equal(ARRAYS[f"{name}/w1"], ARRAYS["input_first/w1"])
    message = (
        "UserWarning: Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential models, "
        "prefer using an `Input(shape)` object as the first layer in the model instead."
    )
    assert CASES["dense_input_shape"]["keras"]["build_warnings"] == [message]


# ----------------------------------------------------------------------------- building logitnet objects
def _instance(module, spec):
    if isinstance(spec, str):
        return spec
    return getattr(module, spec["class"])(**{k: v for k, v in spec.items() if k not in ("class", "note")})


def ln_layer(spec):
    spec = dict(spec)
    cls = spec.pop("class", "Dense")
    if cls == "Input":
        return ln.layers.Input(shape=tuple(spec.pop("shape")), **spec)
    for key in ("kernel_regularizer", "bias_regularizer"):
        if isinstance(spec.get(key), dict):
            spec[key] = _instance(ln.regularizers, spec[key])
    if "input_shape" in spec:
        spec["input_shape"] = tuple(spec["input_shape"])
    return getattr(ln.layers, cls)(**spec)


def ln_optimizer(spec):
    if isinstance(spec, str):
        return spec
    spec = dict(spec)
    if isinstance(spec.get("learning_rate"), dict):
        spec["learning_rate"] = _instance(ln.optimizers.schedules, spec["learning_rate"])
    return _instance(ln.optimizers, spec)


def ln_callbacks(specs):
    out = []
    for spec in specs:
        spec = dict(spec)
        if spec["class"] == "LearningRateScheduler":
            spec["schedule"] = lr_function(spec["schedule"])
        out.append(_instance(ln.callbacks, spec))
    return out


def build(case):
    """The case's model with Keras's initial weights, and the UserWarnings given while building it."""
    x = _data(case["x"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ln.Sequential([ln_layer(spec) for spec in case["layers"]], seed=0)
    if not model.built:
        model.build((None, x.shape[1]))
    model.set_weights(_split(ARRAYS[case["initial_weights"]], case["weight_shapes"]))
    return model, [f"UserWarning: {w.message}" for w in caught if issubclass(w.category, UserWarning)]


def run(case):
    """Train logitnet as Keras was trained; return what the tests compare."""
    x, y = _data(case["x"]), _data(case["y"])
    model, build_warnings = build(case)
    batch_losses: list[float] = []
    epoch_now = [0]
    recorder = ln.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch_now.__setitem__(0, epoch),
        on_batch_end=lambda batch, logs: batch_losses.append(logs["loss"]) if epoch_now[0] == 0 else None,
    )
    model.compile(optimizer=ln_optimizer(case["optimizer"]), loss=_instance(ln.losses, case["loss"]),
                  metrics=list(case["metrics"]))
    history, epochs = {}, []
    if case["train"]:
        fitted = model.fit(x, y, callbacks=[recorder, *ln_callbacks(case["callbacks"])],
                           **parity._fit_kwargs(case))
        history, epochs = fitted.history, fitted.epoch
    result = {
        "model": model,
        "build_warnings": build_warnings,
        "history": history,
        "epoch": epochs,
        "batch_losses": batch_losses,
        "weights": np.concatenate([w.ravel() for w in model.get_weights()]),
        "pred": model.predict(x[: case["predict_rows"]], verbose=0),
        "evaluate": model.evaluate(x, y, verbose=0),
        "evaluate_dict": model.evaluate(x, y, return_dict=True, verbose=0),
        "penalty": float(sum(model.losses)),
        "learning_rate_after": model.optimizer.learning_rate,
        "iterations_after": model.optimizer.iterations,
    }
    if case["train_call_rows"]:
        result["train_call"] = model(x[: case["train_call_rows"]], training=True)
        result["weights_after_call"] = np.concatenate([w.ravel() for w in model.get_weights()])
    return result


# ----------------------------------------------------------------------------- logitnet against Keras
@pytest.mark.parametrize("name", sorted(CASES))
def test_training_matches_keras(name, capsys):
    case, keras = CASES[name], CASES[name]["keras"]
    got = run(case)
    expected_batches = keras["batch_losses_first_epoch"]
    assert len(got["batch_losses"]) == len(expected_batches)
    np.testing.assert_allclose(got["batch_losses"], expected_batches, rtol=RTOL, atol=0, err_msg="batch losses")
    assert got["epoch"] == keras["epoch"]
    assert sorted(got["history"]) == sorted(keras["history"])  # the order is checked last
    for key, expected in keras["history"].items():
        np.testing.assert_allclose(got["history"][key], expected, rtol=RTOL, atol=0, err_msg=f"history[{key!r}]")
    if "learning_rate" in keras["history"]:  # the float32 rate read back as a Python float: exactly Keras's
        assert got["history"]["learning_rate"] == keras["history"]["learning_rate"]

    assert got["weights"].dtype == np.float32
    assert_weights_close(got["weights"], ARRAYS[f"{name}/w1"], err_msg="final weights")
    expected_pred = ARRAYS[f"{name}/pred"]
    assert got["pred"].dtype == np.float32 and got["pred"].shape == expected_pred.shape
    assert_close_float32(got["pred"], expected_pred, err_msg="predict")
    if isinstance(keras["evaluate"], list):
        assert isinstance(got["evaluate"], list) and len(got["evaluate"]) == len(keras["evaluate"])
    else:
        assert isinstance(got["evaluate"], float)
    np.testing.assert_allclose(got["evaluate"], keras["evaluate"], rtol=RTOL, atol=0, err_msg="evaluate")
    assert list(got["evaluate_dict"]) == list(keras["evaluate_dict"])
    np.testing.assert_allclose(list(got["evaluate_dict"].values()), list(keras["evaluate_dict"].values()),
                               rtol=RTOL, atol=0, err_msg="evaluate(return_dict=True)")

    # What the callbacks print (ReduceLROnPlateau, LearningRateScheduler with verbose=1), word for word.
    assert capsys.readouterr().out == keras["stdout"]
    assert got["build_warnings"] == keras["build_warnings"]
    # The learning rate the next step would use (a schedule's value at `iterations`), and the step count.
    assert got["iterations_after"] == keras["iterations_after"]
    np.testing.assert_allclose(got["learning_rate_after"], keras["learning_rate_after"], rtol=1e-6)
    # Keras's History keys: the training logs sorted, then the val_ logs sorted, then what callbacks add
    # to the logs at epoch end (ReduceLROnPlateau's and LearningRateScheduler's learning_rate), in order.
    assert list(got["history"]) == list(keras["history"])


@pytest.mark.parametrize("name", REGULARIZED + ["toolbox_all"])
def test_penalty_matches_keras(name):
    case = CASES[name]
    model, _ = build(case)
    model.set_weights(_keras_weights(case, f"{name}/w1"))  # Keras's final weights: no training needed
    np.testing.assert_allclose(float(sum(model.losses)), case["keras"]["penalty"], rtol=RTOL)
    model.compile(optimizer="sgd", loss=_instance(ln.losses, case["loss"]), metrics=list(case["metrics"]))
    x, y = _data(case["x"]), _data(case["y"])
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), case["keras"]["evaluate"], rtol=RTOL)


@pytest.mark.parametrize("name", BATCHNORM)
def test_batchnorm_training_call_matches_keras(name):
    case = CASES[name]
    got = run(case)
    assert_close_float32(got["train_call"], ARRAYS[f"{name}/train_call"], err_msg="model(x, training=True)")
    if f"{name}/w2" in ARRAYS:  # the call updated the moving statistics as Keras's did
        assert_weights_close(got["weights_after_call"], ARRAYS[f"{name}/w2"], err_msg="weights after the call")


@pytest.mark.parametrize("name", sorted(CASES))
def test_weight_layout_matches_keras(name):
    case, keras = CASES[name], CASES[name]["keras"]
    model, _ = build(case)
    assert [list(w.shape) for w in model.get_weights()] == case["weight_shapes"]
    assert model.count_params() == keras["count_params"]
    assert len(model.trainable_weights) == keras["n_trainable_weights"]
    assert len(model.non_trainable_weights) == keras["n_non_trainable_weights"]
    assert not any(isinstance(layer, ln.layers.InputLayer) for layer in model.layers)  # Keras 3: not a layer


def _schedule_entries():
    entries = [(str(e["spec"]), e) for e in TOOLBOX["schedule_values"]]
    for name in SCHEDULED:
        spec = CASES[name]["optimizer"]["learning_rate"]
        entries.append((name, {"spec": spec, "values": CASES[name]["keras"]["schedule_values"]}))
    return entries


@pytest.mark.parametrize("entry", [e for _, e in _schedule_entries()], ids=[i for i, _ in _schedule_entries()])
def test_schedule_values_match_keras(entry):
    # Both compute in float32; TF's pow/cos and NumPy's may differ in the last bits (assert_schedule_close).
    schedule = _instance(ln.optimizers.schedules, entry["spec"])
    got = [schedule(step) for step in range(TOOLBOX["schedule_steps"] + 1)]
    assert all(isinstance(v, float) for v in got)
    assert_schedule_close(got, entry["values"])


@pytest.mark.parametrize("entry", TOOLBOX["schedule_values"], ids=[str(e["spec"]) for e in TOOLBOX["schedule_values"]])
def test_schedule_config_matches_keras(entry):
    schedule = _instance(ln.optimizers.schedules, entry["spec"])
    assert schedule.get_config() == entry["config"]
    serialized = ln.optimizers.schedules.serialize(schedule)
    assert serialized == {"class_name": entry["serialized"]["class_name"], "config": entry["serialized"]["config"]}


# ----------------------------------------------------------------------------- summary text
@pytest.mark.parametrize("key", sorted(TOOLBOX["summaries"]))
def test_summary_matches_keras(key, capsys, plain_console):
    entry = TOOLBOX["summaries"][key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ln.Sequential([ln_layer(spec) for spec in entry["layers"]])
    assert [f"UserWarning: {w.message}" for w in caught if issubclass(w.category, UserWarning)] == entry["warnings"]
    assert model.built == entry["built"]
    compiled = bool(entry.get("train"))
    if compiled:
        model.compile(optimizer=ln.optimizers.Adam(0.01), loss=_instance(ln.losses, parity.CASES[
            "seed_preferred"]["loss"]))
        model.fit(_data("small_x"), _data("small_y"), epochs=1, shuffle=False, verbose=0)
    assert parity._summary_lines(model, capsys, compiled=compiled) == parity.rendered_lines(entry["text"])
    if entry["built"]:
        assert [list(w.shape) for w in model.get_weights()] == entry["weight_shapes"]
        assert len(model.trainable_weights) == entry["n_trainable_weights"]
        assert len(model.non_trainable_weights) == entry["n_non_trainable_weights"]
        assert model.count_params() == entry["count_params"]

