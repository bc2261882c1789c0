"""The seed notebook, with only its imports changed, trains as the notebook does."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

import logitnet

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seed_notebook.py"


@pytest.fixture(scope="module")
def notebook():
    # The example itself is unseeded like the notebook; seed logitnet's own
    # sequence so this test is deterministic.
    logitnet.utils.set_random_seed(2026)
    return runpy.run_path(str(EXAMPLE), run_name="__main__")


@pytest.mark.parametrize("model_name, output_name", [("model", "p_nonpreferred"), ("preferred_model", "p_preferred")])
def test_both_models_reach_the_notebook_quality(notebook, model_name, output_name):
    model = notebook[model_name]
    y = notebook["y_train"]
    p = notebook[output_name]
    accuracy = np.mean(np.argmax(p, axis=1) == y)
    assert accuracy >= 0.97
    assert model.history.history["loss"][-1] < 0.1
    assert len(model.history.history["loss"]) == 10


def test_nonpreferred_outputs_are_sigmoids_not_probabilities(notebook):
    p = notebook["p_nonpreferred"]
    assert p.dtype == np.float32
    assert np.all((p > 0) & (p < 1))
    assert not np.allclose(p.sum(axis=1), 1.0, atol=1e-2)


def test_preferred_outputs_are_logits_whose_softmax_rows_sum_to_one(notebook):
    p = notebook["p_preferred"]
    assert p.min() < 0 or p.max() > 1  # logits, not probabilities
    sm = notebook["sm_preferred"]
    np.testing.assert_allclose(sm.sum(axis=1), 1.0, atol=1e-6)
    # Independent float64 softmax.
    z = p.astype(np.float64)
    ref = np.exp(z - z.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sm, ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(np.argmax(sm, axis=1), np.argmax(p, axis=1))


def test_example_only_changes_imports():
    text = EXAMPLE.read_text()
    assert "tensorflow" not in text.split('"""', 2)[2]
    assert "logitnet.softmax(p_preferred)" in text


def test_regularization_example_trains_the_four_variants():
    module = runpy.run_path(str(EXAMPLE.parent / "regularization_digits.py"))
    names = [type(layer).__name__ for layer in module["build"]("dropout+l2", 0, 1e-3).layers]
    assert names == ["Dropout", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert module["build"]("l2", 0, 1e-3).layers[0].kernel_regularizer is not None
    results = module["run"]([0], epochs=3, train_size=0.25, l2=1e-3)
    assert set(results) == {"none", "dropout", "l2", "dropout+l2"}
    assert all(len(acc) == 1 and 0.85 < acc[0] <= 1.0 for acc in results.values())
