"""Tests for ``model.summary()`` against the Keras captures in keras-parity.md §6.6.

The expected tables below are copied from that document (Keras 3.15.1 output), not produced
by logitnet. logitnet adds one line after Keras's totals ("Outputs: ..."), checked separately.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest

import logitnet as ln
from logitnet.losses import SparseCategoricalCrossentropy
from logitnet.summary import format_bytes
from logitnet.utils import reset_names

KERAS_AFTER_FIT = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ layer1 (Dense)                  │ (None, 25)             │            75 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ layer2 (Dense)                  │ (None, 15)             │           390 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 4)              │            64 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 1,589 (6.21 KB)
 Trainable params: 529 (2.07 KB)
 Non-trainable params: 0 (0.00 B)
 Optimizer params: 1,060 (4.14 KB)
"""

KERAS_UNBUILT_ROW = "│ dense (Dense)                   │ ?                      │   0 (unbuilt) │"


@pytest.fixture(autouse=True)
def _pipe_environment(monkeypatch):
    """Not a terminal and no COLUMNS: Keras's width is 80 - 4 = 76."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    reset_names()
    yield
    reset_names()


def seed_model(last_activation=None):
    """The seed notebook's model: names layer1, layer2 and the automatic 'dense'."""
    return ln.Sequential(
        [
            ln.Dense(25, activation="relu", name="layer1"),
            ln.Dense(15, activation="relu", name="layer2"),
            ln.Dense(4, activation=last_activation),
        ],
        seed=0,
    )


def trained_seed_model():
    x, y = ln.datasets.load_seed_blobs()
    model = seed_model()
    model.compile(optimizer=ln.optimizers.Adam(0.001), loss=SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, verbose=0)
    return model


def test_summary_after_fit_equals_keras_capture(capsys):
    model = trained_seed_model()
    assert model.name == "sequential"
    model.summary()
    out = capsys.readouterr().out
    keras_lines = KERAS_AFTER_FIT.splitlines()
    lines = out.splitlines()
    assert lines[: len(keras_lines)] == keras_lines
    assert out.startswith(KERAS_AFTER_FIT)
    assert len(lines) == len(keras_lines) + 1  # exactly one extra line


def test_summary_extra_outputs_line():
    model = trained_seed_model()
    captured = []
    model.summary(print_fn=captured.append)
    last = captured[0].splitlines()[-1]
    assert last.startswith(" Outputs: logits")
    assert "softmax" in last and "from_logits=True" in last


def test_summary_outputs_line_for_softmax_and_sigmoid():
    for activation, words in (("softmax", "probabilities"), ("sigmoid", "do not sum to 1")):
        reset_names()
        model = seed_model(activation)
        with pytest.warns(UserWarning) if activation == "sigmoid" else nullcontext():
            model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy())
        captured = []
        model.summary(print_fn=captured.append)
        assert words in captured[0].splitlines()[-1]


def test_summary_without_compile_has_no_outputs_or_optimizer_line(capsys):
    model = seed_model()
    model.build((None, 2))
    model.summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[-3:] == [
        " Total params: 529 (2.07 KB)",
        " Trainable params: 529 (2.07 KB)",
        " Non-trainable params: 0 (0.00 B)",
    ]


def test_unbuilt_model_rows_and_totals(capsys):
    model = ln.Sequential([ln.Dense(25), ln.Dense(4)])
    model.summary()
    lines = capsys.readouterr().out.splitlines()
    assert KERAS_UNBUILT_ROW in lines
    assert KERAS_UNBUILT_ROW.replace("dense (Dense)  ", "dense_1 (Dense)") in lines
    assert lines[-3:] == [
        " Total params: 0 (0.00 B)",
        " Trainable params: 0 (0.00 B)",
        " Non-trainable params: 0 (0.00 B)",
    ]
    assert not any("Optimizer params" in line for line in lines)


def test_built_untrained_totals():
    model = ln.Sequential([ln.Dense(25), ln.Dense(4)])
    model.build((None, 2))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")  # optimizer not built yet
    captured = []
    model.summary(print_fn=captured.append)
    lines = captured[0].splitlines()
    assert lines[-4:-1] == [
        " Total params: 179 (716.00 B)",
        " Trainable params: 179 (716.00 B)",
        " Non-trainable params: 0 (0.00 B)",
    ]
    assert not any("Optimizer params" in line for line in lines)


def test_width_follows_columns(monkeypatch, capsys):
    model = seed_model()
    model.build((None, 2))
    monkeypatch.setenv("COLUMNS", "120")
    model.summary()
    table = [line for line in capsys.readouterr().out.splitlines() if line[:1] in "┏┃┡│├└"]
    assert table and all(len(line) == 88 for line in table)  # min(88, 120 - 4)
    monkeypatch.setenv("COLUMNS", "60")
    model.summary()
    table = [line for line in capsys.readouterr().out.splitlines() if line[:1] in "┏┃┡│├└"]
    assert table and all(len(line) == 56 for line in table)  # 60 - 4


def test_line_length_argument(capsys):
    model = seed_model()
    model.build((None, 2))
    model.summary(line_length=64)
    table = [line for line in capsys.readouterr().out.splitlines() if line[:1] in "┏┃┡│├└"]
    assert table and all(len(line) == 64 for line in table)


def test_print_fn_receives_one_string_and_nothing_is_printed(capsys):
    model = trained_seed_model()
    captured = []
    model.summary(print_fn=captured.append)
    assert capsys.readouterr().out == ""
    assert len(captured) == 1 and captured[0].startswith(KERAS_AFTER_FIT)


def test_no_ansi_codes_when_captured(capsys):
    trained_seed_model().summary()
    assert "\x1b" not in capsys.readouterr().out


def test_float64_model_counts_eight_bytes_per_param():
    model = ln.Sequential([ln.Dense(25), ln.Dense(4)], dtype="float64")
    model.build((None, 2))
    captured = []
    model.summary(print_fn=captured.append)
    assert " Total params: 179 (1.40 KB)" in captured[0].splitlines()  # 179 * 8 = 1432 B


@pytest.mark.parametrize(
    "n_bytes, text",
    [(0, "0.00 B"), (716, "716.00 B"), (1023, "1023.00 B"), (1024, "1.00 KB"), (6356, "6.21 KB"),
     (2116, "2.07 KB"), (4240, "4.14 KB"), (3 * 1024**2, "3.00 MB")],
)
def test_format_bytes(n_bytes, text):
    assert format_bytes(n_bytes) == text


def test_summary_does_not_change_the_model():
    model = trained_seed_model()
    before = model.get_weights()
    model.summary(print_fn=lambda s: None)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
