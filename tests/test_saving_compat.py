"""The compatibility promise: every committed file of every released format version still loads.

``tests/data/model_files/v<N>/`` holds files written by logitnet when format version N was
current (``make_files.py``), and ``expected.json``: the configuration, the exact weights and
optimizer state each file was given, and the outputs of an independent float64 NumPy forward
pass on some inputs. These files are never rewritten; a new format version adds a directory.
"""

from __future__ import annotations

import json
import pathlib
import zipfile

import numpy as np
import pytest

import logitnet as ln
from logitnet.saving import FORMAT_VERSION, load_model, read_metadata

ROOT = pathlib.Path(__file__).parent / "data" / "model_files"
VERSIONS = sorted(ROOT.glob("v*"), key=lambda p: int(p.name[1:]))
# Dense arguments added after format version 1 was first released (issue #9): a file that predates
# them loads with their defaults (files that do not use them are still written without them).
DENSE_ARGUMENTS_ADDED_LATER = {"kernel_regularizer": None, "bias_regularizer": None}
CASES = [
    pytest.param(version, entry, id=f"{version.name}/{entry['file']}")
    for version in VERSIONS
    for entry in json.loads((version / "expected.json").read_text())["files"]
]


def test_every_released_version_has_files_and_every_file_is_checked():
    assert [v.name for v in VERSIONS] == [f"v{n}" for n in range(1, FORMAT_VERSION + 1)]
    for version in VERSIONS:
        listed = {entry["file"] for entry in json.loads((version / "expected.json").read_text())["files"]}
        on_disk = {p.name for p in version.iterdir() if p.name.endswith(".logitnet")}
        assert listed == on_disk
        for name in on_disk:
            with zipfile.ZipFile(version / name) as zf:
                assert json.loads(zf.read("metadata.json"))["format_version"] == int(version.name[1:])


@pytest.mark.parametrize("version, entry", CASES)
def test_committed_file_loads_as_written(version, entry):
    path = version / entry["file"]
    meta = read_metadata(path)
    assert meta["kind"] == entry["kind"]
    if entry["kind"] == "weights":
        model = ln.Sequential([ln.layers.Dense.from_config(c) for c in entry["layers"]], dtype=entry["dtype"])
        model.load_weights(path)
    else:
        model = load_model(path)
        assert model.name == entry["name"]
        assert meta["user_metadata"] == entry["user_metadata"]
    assert model.dtype == np.dtype(entry["dtype"])
    expected_layers = [{**DENSE_ARGUMENTS_ADDED_LATER, **c} if "units" in c else c for c in entry["layers"]]
    assert [layer.get_config() for layer in model.layers] == expected_layers
    assert model.built == (entry["input_dim"] is not None)
    if model.built:
        assert model.input_dim == entry["input_dim"]
        for got, want in zip(model.weights, entry["weights"], strict=True):
            np.testing.assert_array_equal(got, np.asarray(want, dtype=entry["dtype"]))
        tolerance = 1e-12 if entry["dtype"] == "float64" else 2e-6
        np.testing.assert_allclose(
            model.predict(np.asarray(entry["x"])), entry["predict"], rtol=tolerance, atol=tolerance
        )
    if entry["kind"] == "weights":
        return
    compiled = entry["compile"]
    assert model.compiled == (compiled is not None)
    if compiled is not None:
        assert type(model.loss).__name__ == compiled["loss"]["class_name"]
        assert model.loss.get_config() == compiled["loss"]["config"]
        assert type(model.optimizer).__name__ == compiled["optimizer"]["class_name"]
        assert model.optimizer.get_config() == compiled["optimizer"]["config"]
        assert [
            m if isinstance(m, str) else {"class_name": type(m).__name__, "config": m.get_config()}
            for m in model._metric_ids
        ] == compiled["metrics"]
    state = entry["optimizer_state"]
    if state is None:
        assert model.optimizer is None or not model.optimizer.built
    else:
        got = model.optimizer.get_state()
        assert sorted(got) == sorted(state)
        for key, value in state.items():
            np.testing.assert_array_equal(got[key], np.asarray(value, dtype=got[key].dtype))
    rng = model._rng.bit_generator.state["state"]
    if entry["rng_state"] is not None:
        assert (hex(rng["state"]), hex(rng["inc"])) == (entry["rng_state"]["state"], entry["rng_state"]["inc"])


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_committed_models_keep_training(version):
    """Loaded files are fully usable: a compiled, built model trains from its stored state."""
    x = np.linspace(-1, 1, 32).reshape(8, 4)
    for entry in json.loads((version / "expected.json").read_text())["files"]:
        if entry["kind"] != "model" or not entry.get("compile") or entry["input_dim"] is None:
            continue
        model = load_model(version / entry["file"])
        n_classes = model.n_outputs
        y = np.arange(8) % n_classes
        target = np.eye(n_classes)[y] if model.loss.target == "categorical" else y
        before = model.optimizer.iterations
        history = model.fit(x, target, epochs=1, batch_size=4, verbose=0)
        assert model.optimizer.iterations == before + 2
        assert np.isfinite(history.history["loss"][0])
