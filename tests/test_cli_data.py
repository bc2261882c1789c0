"""The data-file commands: ``logitnet train | evaluate | predict | summary | export`` on CSV and Parquet.

Each command runs through ``main(argv)`` and as a subprocess. Independent references: pandas
and NumPy computations written here (feature means and standard deviations, a float64
cross-entropy from the model's logits, softmax probabilities), and onnxruntime for the export.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
from sklearn.datasets import load_iris

import logitnet as ln
from logitnet.cli import main
from logitnet.saving import read_metadata
from logitnet.tabular import METADATA_KEY

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    x, y = load_iris(return_X_y=True)
    iris = pd.DataFrame(x, columns=FEATURES)
    iris["species"] = np.array(["setosa", "versicolor", "virginica"])[y]
    iris.to_csv(d / "iris.csv", index=False)
    iris.to_parquet(d / "iris.parquet", index=False)
    shuffled = iris.sample(frac=1.0, random_state=0)[
        ["species", "petal_width", "sepal_length", "petal_length", "sepal_width"]
    ]
    shuffled.assign(extra=1.0).to_csv(d / "reordered.csv", index=False)
    numbers = iris.assign(species=y + 1)  # integer labels 1, 2, 3
    numbers.to_csv(d / "numbers.csv", index=False)
    numbers.assign(species=np.where(np.arange(150) == 7, 4, y + 1)).to_csv(d / "unknown_label.csv", index=False)
    iris.drop(columns=["petal_width"]).to_csv(d / "missing_feature.csv", index=False)
    iris.assign(sepal_width=iris["sepal_width"].astype(str) + "cm").to_csv(d / "text_feature.csv", index=False)
    iris.assign(petal_length=np.where(np.arange(150) == 4, np.nan, iris["petal_length"])).to_csv(
        d / "nan.csv", index=False
    )
    (d / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (d / "notes.txt").write_text("hello")
    assert (
        main(["train", str(d / "iris.csv"), "--target", "species", "--out", str(d / "iris.logitnet"), "--quiet"]) == 0
    )
    assert (
        main(
            [
                "train",
                str(d / "numbers.csv"),
                "--target",
                "species",
                "--out",
                str(d / "numbers.logitnet"),
                "--hidden",
                "8",
                "--quiet",
            ]
        )
        == 0
    )
    return d


def model_outputs(d, frame, model="iris.logitnet"):
    """Logits of the saved model on ``frame``, standardising by hand from the stored statistics."""
    spec = read_metadata(d / model)["user_metadata"][METADATA_KEY]
    x = (frame[spec["features"]].to_numpy(float) - spec["mean"]) / spec["scale"]
    return ln.load_model(d / model).predict(x).astype(np.float64), spec


def softmax64(z):
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


# =========================================================================== train
def test_train_shows_progress_and_stores_the_table_description(files, tmp_path, capsys):
    out_path = tmp_path / "m.logitnet"
    code = main(
        [
            "train",
            str(files / "iris.csv"),
            "--target",
            "species",
            "--out",
            str(out_path),
            "--epochs",
            "3",
            "--validation-split",
            "0.2",
            "--hidden",
            "10",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(
        "Training on 120 rows (30 held out for validation): 4 features, 3 classes (setosa, versicolor, virginica)"
    )
    assert "Epoch 3/3" in out and "val_accuracy" in out and "\r" not in out
    assert f"Saved {out_path} (" in out.splitlines()[-1]
    spec = read_metadata(out_path)["user_metadata"][METADATA_KEY]
    assert spec["features"] == FEATURES and spec["target"] == "species"
    assert spec["classes"] == ["setosa", "versicolor", "virginica"]
    assert [layer.units for layer in ln.load_model(out_path).layers] == [10, 3]


def test_standardisation_statistics_are_those_of_the_training_rows(files):
    spec = read_metadata(files / "iris.logitnet")["user_metadata"][METADATA_KEY]
    frame = pd.read_csv(files / "iris.csv")
    np.testing.assert_allclose(spec["mean"], frame[FEATURES].mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(spec["scale"], frame[FEATURES].std(ddof=0).to_numpy(), rtol=1e-12)


def test_train_json_and_quiet(files, tmp_path, capsys):
    assert (
        main(
            [
                "train",
                str(files / "iris.parquet"),
                "--target",
                "species",
                "--out",
                str(tmp_path / "j.logitnet"),
                "--epochs",
                "2",
                "--json",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["command"] == "train" and report["train_rows"] == 150 and report["validation_rows"] == 0
    assert report["metrics"]["loss"] == report["history"]["loss"][-1] and len(report["history"]["loss"]) == 2
    assert "Epoch 2/2" in captured.err  # progress goes to stderr, so stdout stays machine-readable
    assert (
        main(
            [
                "train",
                str(files / "iris.csv"),
                "--target",
                "species",
                "--out",
                str(tmp_path / "q.logitnet"),
                "--epochs",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr() == ("", "")


def test_a_trained_model_is_decent_and_reproducible(files, tmp_path, capsys):
    assert (
        main(["evaluate", str(files / "iris.logitnet"), str(files / "iris.csv"), "--target", "species", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["accuracy"] >= 0.9
    again = tmp_path / "again.logitnet"
    assert main(["train", str(files / "iris.csv"), "--target", "species", "--out", str(again), "--quiet"]) == 0
    for a, b in zip(ln.load_model(again).weights, ln.load_model(files / "iris.logitnet").weights):
        np.testing.assert_array_equal(a, b)


# =========================================================================== evaluate / predict
@pytest.mark.parametrize("data", ["iris.csv", "iris.parquet"])
def test_evaluate_reports_the_cross_entropy_and_accuracy(files, data, capsys):
    assert main(["evaluate", str(files / "iris.logitnet"), str(files / data), "--target", "species", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    frame = pd.read_csv(files / "iris.csv")
    logits, spec = model_outputs(files, frame)
    labels = frame["species"].map({c: i for i, c in enumerate(spec["classes"])}).to_numpy()
    m = logits.max(axis=1)
    cross_entropy = np.mean(m + np.log(np.exp(logits - m[:, None]).sum(axis=1)) - logits[np.arange(150), labels])
    assert report["rows"] == 150
    assert report["loss"] == pytest.approx(cross_entropy, rel=1e-5)
    assert report["accuracy"] == pytest.approx(np.mean(logits.argmax(axis=1) == labels))
    assert main(["evaluate", str(files / "iris.logitnet"), str(files / data), "--target", "species"]) == 0
    assert capsys.readouterr().out.strip().endswith("(150 rows)")


def test_predict_picks_features_by_name_and_writes_labels_and_probabilities(files, tmp_path, capsys):
    assert main(["predict", str(files / "iris.logitnet"), str(files / "reordered.csv"), "--proba"]) == 0
    written = pd.read_csv(io.StringIO(capsys.readouterr().out))
    frame = pd.read_csv(files / "reordered.csv")
    logits, spec = model_outputs(files, frame)
    assert list(written.columns) == ["prediction", "proba_setosa", "proba_versicolor", "proba_virginica"]
    assert list(written["prediction"]) == list(np.array(spec["classes"])[logits.argmax(axis=1)])
    np.testing.assert_allclose(written.iloc[:, 1:].to_numpy(), softmax64(logits), atol=1e-6)
    out = tmp_path / "p.parquet"
    assert main(["predict", str(files / "iris.logitnet"), str(files / "iris.parquet"), "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert list(pd.read_parquet(out).columns) == ["prediction"]


def test_numeric_labels_come_back_as_numbers(files, capsys):
    assert main(["predict", str(files / "numbers.logitnet"), str(files / "numbers.csv")]) == 0
    written = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert written["prediction"].dtype.kind == "i" and set(written["prediction"]) <= {1, 2, 3}
    assert read_metadata(files / "numbers.logitnet")["user_metadata"][METADATA_KEY]["classes"] == [1, 2, 3]


# =========================================================================== summary / export
def test_summary_text_and_json(files, capsys):
    assert main(["summary", str(files / "iris.logitnet")]) == 0
    out = capsys.readouterr().out
    assert "logitnet model file (format version 1)" in out
    assert "Target: 'species' with 3 classes: setosa, versicolor, virginica" in out
    assert "Features (4, standardised): sepal_length, sepal_width, petal_length, petal_width" in out
    assert "hidden_1 (Dense)" in out and "Total params:" in out
    assert main(["summary", str(files / "iris.logitnet"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["file"]["format_version"] == 1
    assert [layer["config"]["units"] for layer in report["architecture"]["layers"]] == [25, 15, 3]
    assert report["table"]["classes"] == ["setosa", "versicolor", "virginica"]


def test_exported_onnx_takes_raw_features_and_matches_predict_proba(files, tmp_path, capsys):
    onnx_path = tmp_path / "iris.onnx"
    assert main(["export", str(files / "iris.logitnet"), "--onnx", str(onnx_path)]) == 0
    assert "Wrote" in capsys.readouterr().out
    frame = pd.read_csv(files / "iris.csv")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    probabilities, _, label = session.run(None, {"input": frame[FEATURES].to_numpy(np.float32)})
    logits, spec = model_outputs(files, frame)
    np.testing.assert_allclose(probabilities, softmax64(logits), atol=1e-5)
    props = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert json.loads(props["logitnet.classes"]) == spec["classes"]
    assert np.mean(label == logits.argmax(axis=1)) >= 0.99


# =========================================================================== bad input
def bad_cases(d):
    """(argv, exit code, text the one-line message must contain)."""
    m = str(d / "iris.logitnet")
    return [
        (
            ["train", str(d / "iris.csv"), "--target", "colour", "--out", str(d / "x.logitnet")],
            1,
            "target column 'colour' not found",
        ),
        (["evaluate", m, str(d / "iris.csv"), "--target", "colour"], 1, "target column 'colour' not found"),
        (["predict", m, str(d / "missing_feature.csv")], 1, "missing feature column(s) 'petal_width'"),
        (
            ["train", str(d / "text_feature.csv"), "--target", "species", "--out", str(d / "x.logitnet")],
            1,
            "column 'sepal_width' is not numeric",
        ),
        (["predict", m, str(d / "text_feature.csv")], 1, "column 'sepal_width' is not numeric"),
        (
            ["train", str(d / "nan.csv"), "--target", "species", "--out", str(d / "x.logitnet")],
            1,
            "column 'petal_length' has 1 missing value(s), the first in row 5",
        ),
        (
            ["evaluate", str(d / "numbers.logitnet"), str(d / "unknown_label.csv"), "--target", "species"],
            1,
            "unknown label 4 in column 'species' (row 8)",
        ),
        (["evaluate", m, str(d / "nope.csv"), "--target", "species"], 1, "cannot read"),
        (["predict", m, str(d / "broken.parquet")], 1, "cannot read"),
        (["predict", m, str(d / "notes.txt")], 1, "expected a .csv or .parquet file"),
        (["summary", str(d / "iris.csv")], 1, "is not a zip archive"),
        (["export", str(d / "missing.logitnet"), "--onnx", str(d / "x.onnx")], 1, "No such file or directory"),
        (
            ["train", str(d / "iris.csv"), "--target", "species", "--out", str(d / "x.keras")],
            1,
            "--out must name a .logitnet file",
        ),
        (
            ["train", str(d / "iris.csv"), "--out", str(d / "x.logitnet")],
            2,
            "the following arguments are required: --target",
        ),
        (
            ["train", str(d / "iris.csv"), "--target", "species", "--out", str(d / "x.logitnet"), "--hidden", "3,x"],
            2,
            "argument --hidden",
        ),
    ]


def test_bad_input_gives_one_line_and_an_exit_code(files, capsys):
    for argv, code, text in bad_cases(files):
        assert main(argv) == code, argv
        captured = capsys.readouterr()
        assert captured.out == "", argv
        message = captured.err
        assert message.count("\n") == 1 and message.startswith(f"logitnet {argv[0]}: error: "), message
        assert text in message, (text, message)
    assert not (files / "x.logitnet").exists()


def run_all(commands):
    """Run console commands in parallel; returns (returncode, stdout, stderr) per command."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "logitnet.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for argv in commands
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    return results


def test_console_commands_as_subprocesses(files, tmp_path):
    model = str(tmp_path / "sub.logitnet")
    ((code, out, err),) = run_all(
        [["train", str(files / "iris.parquet"), "--target", "species", "--out", model, "--epochs", "2"]]
    )
    assert code == 0, err
    assert "Epoch 2/2" in out and "Saved" in out
    cases = [
        (["evaluate", model, str(files / "iris.csv"), "--target", "species", "--json"], '"accuracy"'),
        (["predict", model, str(files / "iris.parquet"), "--proba"], "prediction,proba_setosa"),
        (["summary", model], "Target: 'species'"),
        (["export", model, "--onnx", str(tmp_path / "sub.onnx")], "Wrote"),
    ]
    # One case of each kind: missing column, missing feature, non-numeric feature, unknown label,
    # missing file, unreadable Parquet, not a model file, bad usage.
    bad = [bad_cases(files)[i] for i in (0, 2, 3, 6, 7, 8, 10, 13)]
    results = run_all([argv for argv, _ in cases] + [argv for argv, _, _ in bad])
    for (argv, text), (code, out, err) in zip(cases, results):
        assert code == 0 and text in out, (argv, err)
    for (argv, want_code, text), (code, out, err) in zip(bad, results[len(cases) :]):
        assert code == want_code, (argv, err)
        assert text in err and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
