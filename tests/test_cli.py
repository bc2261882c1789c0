"""The command line: ``logitnet demo`` runs the seed notebook end to end."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from logitnet.cli import main


def _accuracies(text: str) -> dict[str, tuple[float, float]]:
    found = re.findall(r"^(non-preferred|preferred) model: training accuracy ([\d.]+), final epoch loss ([\d.]+)", text, re.M)
    return {name: (float(acc), float(loss)) for name, acc, loss in found}


def test_demo_trains_both_models_and_prints_the_notebook_output(capsys):
    assert main(["demo", "--quiet"]) == 0
    out = capsys.readouterr().out
    results = _accuracies(out)
    assert set(results) == {"non-preferred", "preferred"}
    for acc, loss in results.values():
        assert acc >= 0.97
        assert loss < 0.1
    # What the notebook prints: largest/smallest values, categories by argmax.
    assert out.count("largest value") == 3
    assert len(re.findall(r"category: [0-3]$", out, re.M)) == 10
    assert "Why the preferred model is preferred" in out
    # The sigmoid model's note says its rows do not sum to 1.
    assert "do not sum to 1" in out or "does not sum to 1" in out


def test_demo_softmax_rows_of_preferred_model_sum_to_one(capsys):
    main(["demo", "--quiet", "--epochs", "2"])
    out = capsys.readouterr().out
    block = out.split("softmax turns them into probabilities:")[1].split("largest value")[0]
    rows = re.findall(r"\[([^\[\]]+)\]", block)
    assert len(rows) == 2
    for row in rows:
        values = np.array([float(v) for v in row.split()])
        assert values.sum() == pytest.approx(1.0, abs=1e-5)
        assert np.all(values >= 0)


def test_demo_is_reproducible_with_a_seed(capsys):
    main(["demo", "--quiet", "--epochs", "2", "--seed", "3"])
    first = re.sub(r"fit time [\d.]+ s", "", capsys.readouterr().out)
    main(["demo", "--quiet", "--epochs", "2", "--seed", "3"])
    second = re.sub(r"fit time [\d.]+ s", "", capsys.readouterr().out)
    assert first == second


def test_demo_progress_in_a_pipe_has_no_control_characters(capsys):
    main(["demo", "--epochs", "2"])
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out
    assert "\x1b" not in out and "\r" not in out and "\b" not in out
    assert re.search(r"^63/63 ━+ \d+s \d+(us|ms)/step - loss: \d\.\d{4}$", out, re.M)


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_bad_epochs_is_a_one_line_error(capsys):
    assert main(["demo", "--epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert "--epochs" in err and "Traceback" not in err


def test_console_script_runs_demo():
    proc = subprocess.run(
        [sys.executable, "-m", "logitnet.cli", "demo", "--quiet", "--epochs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "preferred model: training accuracy" in proc.stdout


def test_import_is_light():
    code = "import sys, logitnet; print(sorted(m for m in ('rich', 'scipy', 'sklearn', 'matplotlib') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
