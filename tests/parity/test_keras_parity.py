"""logitnet against recorded Keras runs (no TensorFlow needed).

The fixtures in ``fixtures/`` were written by ``make_keras_fixtures.py`` with
TensorFlow-Keras (the versions are in the files). For each case the test
builds the same model in logitnet, loads Keras's initial weights with
``set_weights``, trains with ``shuffle=False`` on the same data and compares:

* the running-mean loss after each batch of the first epoch, and every
  per-epoch value of the history (loss, metrics, ``val_`` metrics): relative
  difference <= 1e-5, same keys, same epochs run;
* the weights after training: absolute difference <= 1e-5;
* ``predict`` outputs: <= 1e-5 * max(1, |value|) (see ``assert_close_float32``);
* ``evaluate`` results (both return forms): relative difference <= 1e-5;
* what callbacks print (EarlyStopping, TerminateOnNaN): identical text.

Cases where logitnet differs from Keras on purpose are skipped with the reason
(``DELIBERATE_DIFFERENCES``); the one case that float32 cannot reproduce over
its full length is compared as far as it can be (``CHAOTIC``), with the
measurements written down.

The second part compares logitnet's console text with Keras's for the seed
workload: the ``summary()`` table and the progress lines of ``fit``,
``evaluate`` and ``predict`` (verbose 1 and 2), ignoring only the timings.

Regenerate the fixtures (TensorFlow needed) with
``python tests/parity/make_keras_fixtures.py``.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import logitnet as ln

FIXTURES = Path(__file__).resolve().parent / "fixtures"
with open(FIXTURES / "cases.json", encoding="utf-8") as _f:
    _CASES_FILE = json.load(_f)
CASES = {case["name"]: case for case in _CASES_FILE["cases"]}
with np.load(FIXTURES / "arrays.npz") as _npz:
    ARRAYS = {key: _npz[key] for key in _npz.files}
with open(FIXTURES / "keras_text.json", encoding="utf-8") as _f:
    KERAS_TEXT = json.load(_f)

RTOL = 1e-5  # per-epoch history, evaluate results (relative, as the issue asks)
ATOL = 1e-5  # weights and predictions (absolute, float32)


def assert_close_float32(actual, desired, err_msg: str = "") -> None:
    """``|actual - desired| <= 1e-5 * max(1, |desired|)``: 1e-5 absolute, relative above magnitude 1.

    Used for predictions. Most are probabilities or logits below ~20, where this is the plain 1e-5
    absolute bound; but ``linear_probs_sgd`` drives logits to ~110, where float32's spacing is 7.6e-6,
    so an absolute 1e-5 would demand agreement to one rounding step (measured there: 1.5e-5 at a
    logit of 110, i.e. 1.4e-7 relative, with the weights within 2.4e-7).
    """
    actual, desired = np.asarray(actual, np.float64), np.asarray(desired, np.float64)
    bound = ATOL * np.maximum(1.0, np.abs(desired))
    bad = ~(np.abs(actual - desired) <= bound) & ~(np.isnan(actual) & np.isnan(desired))
    assert not bad.any(), (
        f"{err_msg}: {bad.sum()} of {bad.size} values differ by more than 1e-5 * max(1, |desired|); "
        f"worst {np.nanmax(np.abs(actual - desired) / bound)} times the bound"
    )


# ----------------------------------------------------------------------------- building from a case
def _data(name: str) -> np.ndarray:
    return ARRAYS[f"data/{name}"]


def _split(flat: np.ndarray, shapes: list) -> list[np.ndarray]:
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[start:start + size].reshape(shape))
        start += size
    assert start == flat.size
    return out


def _instance(module, spec):
    if isinstance(spec, str):
        return spec
    kwargs = {k: v for k, v in spec.items() if k != "class"}
    return getattr(module, spec["class"])(**kwargs)


def _build(case: dict) -> ln.Sequential:
    x = _data(case["x"])
    model = ln.Sequential([ln.layers.Dense(**spec) for spec in case["layers"]], seed=0)
    model.build((None, x.shape[1]))
    model.set_weights(_split(ARRAYS[case["initial_weights"]], case["weight_shapes"]))
    return model


def _fit_kwargs(case: dict) -> dict:
    spec = dict(case["fit"])
    kwargs = {"epochs": spec.pop("epochs"), "batch_size": spec.pop("batch_size"), "shuffle": False, "verbose": 0}
    if "validation_data" in spec:
        kwargs["validation_data"] = tuple(_data(k) for k in spec.pop("validation_data"))
    if "sample_weight" in spec:
        kwargs["sample_weight"] = _data(spec.pop("sample_weight"))
    if "class_weight" in spec:  # JSON turned the class indices into strings
        kwargs["class_weight"] = {int(k): v for k, v in spec.pop("class_weight").items()}
    kwargs.update(spec)  # validation_split, initial_epoch
    return kwargs


def _run(case: dict) -> dict:
    """Train logitnet as Keras was trained; return what the test compares."""
    x, y = _data(case["x"]), _data(case["y"])
    model = _build(case)
    first_epoch = case["fit"].get("initial_epoch", 0)
    batch_losses: list[float] = []  # the running-mean `loss` passed to on_batch_end, first epoch only
    epoch_now = [first_epoch]
    recorder = ln.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch_now.__setitem__(0, epoch),
        on_batch_end=lambda batch, logs: batch_losses.append(logs["loss"]) if epoch_now[0] == first_epoch else None,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile(
            optimizer=_instance(ln.optimizers, case["optimizer"]),
            loss=_instance(ln.losses, case["loss"]),
            metrics=list(case["metrics"]),
        )
    callbacks = [_instance(ln.callbacks, spec) for spec in case["callbacks"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in the diverging case
        history = model.fit(x, y, callbacks=[recorder, *callbacks], **_fit_kwargs(case))
        eval_kwargs = {"verbose": 0}
        if "sample_weight" in case["evaluate"]:
            eval_kwargs["sample_weight"] = _data(case["evaluate"]["sample_weight"])
        result = {
            "history": history.history,
            "epoch": history.epoch,
            "batch_losses": batch_losses,
            "weights": np.concatenate([w.ravel() for w in model.get_weights()]),
            "pred": model.predict(x[: case["predict_rows"]]),
            "evaluate": model.evaluate(x, y, **eval_kwargs),
            "evaluate_dict": model.evaluate(x, y, return_dict=True, **eval_kwargs),
            "warnings": [str(w.message) for w in caught if issubclass(w.category, UserWarning)],
        }
    return result


def _nan(value):
    return np.nan if value is None else value


# ----------------------------------------------------------------------------- numeric parity
def test_fixtures_record_versions_and_stay_small():
    versions = _CASES_FILE["versions"]
    assert versions["tensorflow"] and versions["keras"].startswith("3.")
    assert KERAS_TEXT["versions"] == versions
    total = sum(p.stat().st_size for p in FIXTURES.iterdir())
    assert total < 1_000_000


# Cases where logitnet deliberately differs from Keras (docs/keras-compatibility.md): recorded, not compared.
DELIBERATE_DIFFERENCES = {
    "cce_unnormalized_targets": (
        "Target rows summing to 2: TensorFlow backpropagates softmax(z) - t, which is not the gradient of the "
        "loss it reports when rows do not sum to 1; logitnet uses the exact gradient softmax(z) * sum(t) - t."
    ),
}

# Cases that diverge: Keras applies the step whose loss is NaN (its final weights, predictions and
# evaluate are NaN); logitnet never applies a non-finite step (logitnet.training), so it keeps the
# weights of the last finite step. The losses, history and printed text are still compared.
DIVERGING = {"terminate_on_nan"}

# Cases that float32 cannot reproduce to 1e-5 from one implementation to another (measured, see
# test_linear_output_with_probability_loss_matches_until_float32_noise_takes_over): compared separately.
CHAOTIC = {"seed_linear_probs"}


def _compare_history(got: dict, keras: dict) -> None:
    assert got["epoch"] == keras["epoch"]
    assert list(got["history"]) == list(keras["history"])  # same keys, sorted as Keras sorts them
    for key, expected in keras["history"].items():
        np.testing.assert_allclose(
            got["history"][key], [_nan(v) for v in expected], rtol=RTOL, atol=0, err_msg=f"history[{key!r}]"
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_matches_keras(name, capsys):
    if name in DELIBERATE_DIFFERENCES:
        pytest.skip(DELIBERATE_DIFFERENCES[name])
    if name in CHAOTIC:
        pytest.skip("compared in test_linear_output_with_probability_loss_matches_until_float32_noise_takes_over")
    case = CASES[name]
    keras = case["keras"]
    got = _run(case)

    # The running mean of the loss after each batch of the first epoch, then every epoch's logs.
    expected_batches = keras["batch_losses_first_epoch"]
    assert len(got["batch_losses"]) == len(expected_batches)
    np.testing.assert_allclose(
        got["batch_losses"], [_nan(v) for v in expected_batches], rtol=RTOL, atol=0, err_msg="batch losses"
    )
    _compare_history(got, keras)
    if name in DIVERGING:
        assert not np.isfinite(ARRAYS[f"{name}/w1"]).all()  # Keras's weights went NaN...
        assert np.isfinite(got["weights"]).all()  # ...logitnet's did not (though they are huge here)
        assert capsys.readouterr().out == keras["stdout"]
        return

    expected_weights = ARRAYS[f"{name}/w1"]
    assert got["weights"].dtype == np.float32
    np.testing.assert_allclose(got["weights"], expected_weights, rtol=0, atol=ATOL, err_msg="final weights")

    expected_pred = ARRAYS[f"{name}/pred"]
    assert got["pred"].dtype == np.float32 and got["pred"].shape == expected_pred.shape
    assert_close_float32(got["pred"], expected_pred, err_msg="predict")

    expected_eval = keras["evaluate"]
    if isinstance(expected_eval, list):
        assert isinstance(got["evaluate"], list) and len(got["evaluate"]) == len(expected_eval)
    else:
        assert isinstance(got["evaluate"], float)
    np.testing.assert_allclose(got["evaluate"], _nan_list(expected_eval), rtol=RTOL, atol=0, err_msg="evaluate")
    assert list(got["evaluate_dict"]) == list(keras["evaluate_dict"])
    np.testing.assert_allclose(
        list(got["evaluate_dict"].values()), _nan_list(list(keras["evaluate_dict"].values())), rtol=RTOL, atol=0
    )

    # What the callbacks print (EarlyStopping's messages, TerminateOnNaN's), word for word.
    assert capsys.readouterr().out == keras["stdout"]

    # Where Keras warns that a softmax output is not logits, logitnet warns too (its own wording).
    if any("from_logits=True" in w for w in keras["warnings"]):
        assert any("from_logits=True" in w for w in got["warnings"])


def test_linear_output_with_probability_loss_matches_until_float32_noise_takes_over():
    """The notebook's linear output with ``from_logits=False``: raw outputs clipped to [1e-7, 1 - 1e-7].

    This case cannot be matched to 1e-5 over 10 epochs by any two float32 implementations. Most outputs
    sit at the clip bounds (zero gradient); the others give gradients so small that Adam's
    ``m / (sqrt(v) + eps)`` turns their float32 rounding noise into steps of ~1e-5. After one Adam step,
    Keras's and logitnet's weights each differ from a float64 computation by ~1e-6 (1.8e-6 and 1.1e-6,
    measured), in different directions; after 4 steps they differ from each other by 1.0e-5. The
    running-mean batch losses still agree to 4e-7 for 40 steps, then part: 2e-6 at step 42, 2e-5 at
    step 48, 1e-3 at the end of epoch 1 (6.8614 vs 6.8544); the final losses are 1.157 vs 1.361 and the
    final weights differ by 0.11. So only the first 40 steps are compared to 1e-5; after that, that both
    train badly. The same loss with SGD, which does not rescale tiny gradients, is compared in full
    (case ``linear_probs_sgd``, kept short: the 1/p gradients make its runs part too after ~40 steps).
    """
    case = CASES["seed_linear_probs"]
    keras = case["keras"]
    got = _run(case)
    n = 40  # steps before the divergence (measured: relative difference <= 4e-7 through step 40)
    np.testing.assert_allclose(
        got["batch_losses"][:n], keras["batch_losses_first_epoch"][:n], rtol=RTOL, atol=0, err_msg="batch losses"
    )
    preferred_final = CASES["seed_preferred"]["keras"]["history"]["loss"][-1]
    assert keras["history"]["loss"][-1] > 20 * preferred_final  # Keras trains badly...
    assert got["history"]["loss"][-1] > 20 * preferred_final  # ...and so does logitnet
    assert got["epoch"] == keras["epoch"]


def _nan_list(value):
    if isinstance(value, list):
        return [_nan(v) for v in value]
    return _nan(value)


def test_the_four_logit_variants_train_identically_in_both():
    # Keras computes the loss from the last layer's logits for softmax and sigmoid outputs, so the
    # seed workload's preferred, softmax, sigmoid and softmax+from_logits=True variants give the same
    # history; check that the fixtures show it (a property of Keras the parity cases rely on).
    reference = CASES["seed_preferred"]["keras"]["history"]
    for name in ("seed_softmax", "seed_sigmoid", "seed_softmax_from_logits"):
        assert CASES[name]["keras"]["history"] == reference
    assert CASES["seed_linear_probs"]["keras"]["history"]["loss"][-1] > 10 * reference["loss"][-1]


# ----------------------------------------------------------------------------- console text
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rendered_lines(raw: str) -> list[str]:
    """What a terminal finally shows for Keras's raw output: per line, the text after the last ``\\r``."""
    lines = []
    for line in raw.split("\n"):
        shown = line.split("\r")[-1].replace("\b", "")
        lines.append(_ANSI.sub("", shown).rstrip(" "))
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def without_timings(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = re.sub(r"\b\d+(us|ms|s)/step\b", "<T>/step", line)
        line = re.sub(r"\b\d+s\b", "<E>", line)
        out.append(line)
    return out


def test_rendered_lines_reduces_keras_bytes():
    raw = (
        "Epoch 1/2\n"
        "\r\x1b[1m1/2\x1b[0m \x1b[37m━━\x1b[0m \x1b[1m1s\x1b[0m 5ms/step - loss: 1.0000"
        + "\b" * 30
        + "\r\x1b[1m2/2\x1b[0m \x1b[32m━━\x1b[0m \x1b[1m0s\x1b[0m 3ms/step - loss: 0.5    \n"
    )
    assert rendered_lines(raw) == ["Epoch 1/2", "2/2 ━━ 0s 3ms/step - loss: 0.5"]
    assert without_timings(["63/63 - 12s - 760us/step - loss: 0.7814"]) == ["63/63 - <E> - <T>/step - loss: 0.7814"]


@pytest.fixture
def plain_console(monkeypatch):
    """A non-interactive stdout of the default width, whatever the CI environment says."""
    for var in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE", "JPY_PARENT_PID"):
        monkeypatch.delenv(var, raising=False)
    ln.utils.reset_names()  # Keras's fixture comes from a fresh session: sequential, dense


def _seed_model(metrics=()):
    case = CASES["seed_preferred"]
    model = ln.Sequential([ln.layers.Dense(**spec) for spec in case["layers"]])
    model.build((None, 2))
    model.set_weights(_split(ARRAYS[case["initial_weights"]], case["weight_shapes"]))
    model.compile(
        optimizer=ln.optimizers.Adam(0.001),
        loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=list(metrics),
    )
    return model


def _summary_lines(model, capsys, compiled: bool = True) -> list[str]:
    model.summary()
    lines = capsys.readouterr().out.rstrip("\n").split("\n")
    if not compiled:
        return lines
    # logitnet adds one line saying what the outputs are (logits here); Keras has no such line.
    assert lines[-1].startswith(" Outputs: logits")
    return lines[:-1]


def test_unbuilt_summary_matches_keras(plain_console, capsys):
    layers = CASES["seed_preferred"]["layers"]
    model = ln.Sequential([ln.layers.Dense(**spec) for spec in layers])
    assert _summary_lines(model, capsys, compiled=False) == rendered_lines(KERAS_TEXT["summary_unbuilt"])


def test_summary_and_progress_text_match_keras(plain_console, capsys):
    x, y = _data("seed_x"), _data("seed_y")
    model = _seed_model()
    assert model.name == "sequential"
    assert _summary_lines(model, capsys) == rendered_lines(KERAS_TEXT["summary_built"])

    model.fit(x, y, epochs=10, shuffle=False, verbose=1)
    fit1 = capsys.readouterr().out
    assert "\r" not in fit1 and "\b" not in fit1 and "\x1b" not in fit1  # clean lines in a pipe
    assert without_timings(fit1.rstrip("\n").split("\n")) == without_timings(
        rendered_lines(KERAS_TEXT["fit_verbose1"])
    )
    assert _summary_lines(model, capsys) == rendered_lines(KERAS_TEXT["summary_trained"])

    for verbose in (1, 2):
        model.evaluate(x, y, verbose=verbose)
        out = capsys.readouterr().out.rstrip("\n").split("\n")
        assert without_timings(out) == without_timings(rendered_lines(KERAS_TEXT[f"evaluate_verbose{verbose}"]))

    model.predict(x, verbose=1)
    out = capsys.readouterr().out.rstrip("\n").split("\n")
    assert without_timings(out) == without_timings(rendered_lines(KERAS_TEXT["predict_verbose1"]))


def test_verbose2_progress_text_matches_keras(plain_console, capsys):
    x, y = _data("seed_x"), _data("seed_y")
    _seed_model().fit(x, y, epochs=10, shuffle=False, verbose=2)
    out = capsys.readouterr().out.rstrip("\n").split("\n")
    assert without_timings(out) == without_timings(rendered_lines(KERAS_TEXT["fit_verbose2"]))


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_text_with_metrics_and_validation_matches_keras(plain_console, capsys, verbose):
    x, y = _data("seed_x"), _data("seed_y")
    model = _seed_model(["accuracy"])
    model.fit(x, y, epochs=3, shuffle=False, verbose=verbose, validation_split=0.2)
    out = capsys.readouterr().out.rstrip("\n").split("\n")
    expected = rendered_lines(KERAS_TEXT[f"fit_verbose{verbose}_metrics_validation"])
    assert without_timings(out) == without_timings(expected)
    if verbose == 1:
        model.evaluate(x, y, verbose=1)
        out = capsys.readouterr().out.rstrip("\n").split("\n")
        assert without_timings(out) == without_timings(rendered_lines(KERAS_TEXT["evaluate_verbose1_metrics"]))
