"""Model files: save/load round trips, exact resumption, refusals, atomic saves, ModelCheckpoint.

Independent references used here:

* the original, never-saved model: a loaded copy must predict and evaluate bit for bit
  like it, and training the copy must continue exactly as the original continues;
* the file-format specification (docs/file-format.md), read by hand with zipfile, json
  and numpy.lib.format, for the layout checks and for crafting damaged files;
* Keras's ModelCheckpoint semantics and messages (keras-parity.md §5, Keras's source).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile

import numpy as np
import pytest

import logitnet as ln
from logitnet import losses, metrics, optimizers
from logitnet.callbacks import LambdaCallback, ModelCheckpoint
from logitnet.exceptions import DivergenceWarning, ModelFileError
from logitnet.saving import load_model, load_weights, read_metadata

from _cases import ACTIVATIONS

# (loss, output activation): every loss, from logits and from probabilities, with its options.
LOSSES = [
    (lambda: losses.SparseCategoricalCrossentropy(from_logits=True), "linear"),
    (lambda: losses.SparseCategoricalCrossentropy(), "softmax"),
    (lambda: losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3, reduction="sum"), "linear"),
    (lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), "linear"),
    (lambda: losses.CategoricalCrossentropy(reduction="mean"), "sigmoid"),
]
OPTIMIZERS = [
    lambda: optimizers.SGD(learning_rate=0.05),
    lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True, clipvalue=1.0),
    lambda: optimizers.Adam(learning_rate=0.01),
    lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True, clipnorm=1.0),
    lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.05),
    lambda: optimizers.RMSprop(learning_rate=0.01),
    lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True, global_clipnorm=1.0),
]


def data(n=40, seed=0, n_features=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    x = rng.normal(size=(n, n_features)) + y[:, None]
    return x, y


def targets_for(loss, y):
    return np.eye(4)[y] if loss.target == "categorical" else y


def model_for(activation, out_activation, seed=0, dtype="float32"):
    return ln.Sequential(
        [ln.Dense(6, activation=activation, name="hidden"), ln.Dense(4, activation=out_activation, name="out")],
        seed=seed,
        dtype=dtype,
    )


def compile_quietly(model, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.compile(**kwargs)


def roundtrip(model, **kwargs):
    buffer = io.BytesIO()
    model.save(buffer, **kwargs)
    buffer.seek(0)
    return load_model(buffer)


def same_weights(a, b):
    return len(a.weights) == len(b.weights) and all(
        np.array_equal(u, v, equal_nan=True) for u, v in zip(a.weights, b.weights)
    )


# =========================================================================== round trips
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    "activation", ACTIVATIONS, ids=lambda a: a if isinstance(a, str) else "-".join(map(str, a.values()))
)
@pytest.mark.parametrize("loss_index", range(len(LOSSES)))
def test_every_activation_loss_and_optimizer_round_trips_and_resumes_exactly(activation, loss_index):
    make_loss, out_activation = LOSSES[loss_index]
    x, y = data()
    for make_optimizer in OPTIMIZERS:
        loss = make_loss()
        t = targets_for(loss, y)
        model = model_for(activation, out_activation)
        compile_quietly(model, optimizer=make_optimizer(), loss=loss, metrics=["accuracy"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(x, t, batch_size=16, epochs=1, verbose=0)
        # A diverging combination (e.g. exponential hidden units under SGD) stops at its first non-finite loss.
        steps = 3 if not any(issubclass(w.category, DivergenceWarning) for w in caught) else model.optimizer.iterations
        loaded = roundtrip(model)

        assert loaded.layers[0].get_config() == model.layers[0].get_config()
        assert loaded.layers[1].get_config() == model.layers[1].get_config()
        assert type(loaded.loss) is type(loss) and loaded.loss.get_config() == loss.get_config()
        assert type(loaded.optimizer) is type(model.optimizer)
        assert loaded.optimizer.get_config() == model.optimizer.get_config()
        assert loaded.optimizer.iterations == model.optimizer.iterations == steps
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        np.testing.assert_equal(loaded.evaluate(x, t, verbose=0), model.evaluate(x, t, verbose=0))

        # Training continues exactly as the original continues (optimizer state and shuffling restored).
        h1 = model.fit(x, t, batch_size=16, epochs=3, initial_epoch=1, verbose=0).history
        h2 = loaded.fit(x, t, batch_size=16, epochs=3, initial_epoch=1, verbose=0).history
        assert same_weights(model, loaded), make_optimizer()
        np.testing.assert_equal(h2, h1)


def test_training_resumed_from_a_file_in_a_fresh_process_matches_an_uninterrupted_run(tmp_path):
    x, y = data(n=100)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)

    def fresh():
        model = ln.Sequential([ln.Dense(8, activation="relu"), ln.Dense(4)], seed=7)
        model.compile(optimizer=optimizers.Adam(0.01), loss=losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    uninterrupted = fresh()
    full = uninterrupted.fit(x, y, epochs=6, verbose=0).history["loss"]
    first = fresh()
    first.fit(x, y, epochs=3, verbose=0)
    first.save(tmp_path / "ck.logitnet")
    code = textwrap.dedent(f"""
        import json, numpy as np, logitnet as ln
        d = {str(tmp_path)!r}
        model = ln.load_model(d + "/ck.logitnet")
        h = model.fit(np.load(d + "/x.npy"), np.load(d + "/y.npy"), epochs=6, initial_epoch=3, verbose=0)
        np.savez(d + "/after.npz", *model.get_weights())
        print(json.dumps(h.history["loss"]))
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == full[3:]
    after = np.load(tmp_path / "after.npz")
    for k, w in enumerate(uninterrupted.get_weights()):
        np.testing.assert_array_equal(after[f"arr_{k}"], w)


@pytest.mark.filterwarnings("ignore")
def test_layer_options_dtype_and_metric_objects_round_trip():
    x, y = data()
    model = ln.Sequential(
        [
            ln.Dense(5, activation="tanh", use_bias=False, kernel_initializer="he_normal", name="a"),
            ln.Dense(7, activation="elu", trainable=False, bias_initializer="ones", name="b"),
            ln.Dense(4, activation="softmax", kernel_initializer="glorot_normal", name="c"),
        ],
        name="my_model",
        seed=3,
        dtype="float64",
    )
    model.compile(
        optimizer=optimizers.SGD(learning_rate=0.1, momentum=0.5),
        loss=losses.SparseCategoricalCrossentropy(),
        metrics=["acc", metrics.SparseCategoricalAccuracy(name="sca")],
    )
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    loaded = roundtrip(model)
    assert loaded.name == "my_model" and loaded.dtype == np.float64
    assert [layer.name for layer in loaded.layers] == ["a", "b", "c"]
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    assert loaded.layers[1].trainable is False and "bias" not in loaded.layers[0].params
    assert loaded.predict(x).dtype == np.float64
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(x, y, verbose=0, return_dict=True)
    assert loaded.metrics_names == ["loss", "acc", "sca"]
    # The frozen layer stays frozen and the rest continues exactly.
    model.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
    loaded.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
    assert same_weights(model, loaded)


def test_unbuilt_and_uncompiled_models_round_trip():
    model = ln.Sequential([ln.Dense(3, activation="relu", kernel_initializer="he_uniform"), ln.Dense(2)], seed=0)
    loaded = roundtrip(model)
    assert not loaded.built and not loaded.compiled
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    model.build((None, 4))
    loaded = roundtrip(model)
    assert loaded.built and not loaded.compiled and loaded.input_dim == 4
    assert same_weights(model, loaded)
    compile_quietly(model, optimizer="adam", loss="sparse_categorical_crossentropy")
    loaded = roundtrip(model)
    assert loaded.compiled and not loaded.optimizer.built  # never trained: no optimizer state saved
    assert not roundtrip(model).__class__ is None
    assert load_model(_bytes_of(model), compile=False).compiled is False


def _bytes_of(model, **kwargs):
    buffer = io.BytesIO()
    model.save(buffer, **kwargs)
    return io.BytesIO(buffer.getvalue())


def test_without_the_optimizer_the_file_has_no_training_state_and_loads_fresh():
    x, y = data()
    model = model_for("relu", "linear")
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, verbose=0)
    with_state = zipfile.ZipFile(_bytes_of(model)).namelist()
    without = zipfile.ZipFile(_bytes_of(model, include_optimizer=False)).namelist()
    assert any(n.startswith("optimizer/") for n in with_state)
    assert not any(n.startswith("optimizer/") for n in without)
    loaded = load_model(_bytes_of(model, include_optimizer=False))
    assert loaded.optimizer.iterations == 0 and not loaded.optimizer.built
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_diverged_model_with_nan_weights_is_restored_as_saved():
    model = model_for("relu", "linear")
    model.build((None, 3))
    model.weights[0][0, 0] = np.nan
    model.weights[1][1] = np.inf
    loaded = roundtrip(model)
    assert np.isnan(loaded.weights[0][0, 0]) and np.isinf(loaded.weights[1][1])


# =========================================================================== the file itself
def test_the_file_is_the_zip_the_specification_describes(tmp_path):
    x, y = data()
    model = model_for("relu", "linear")
    model.compile(
        optimizer="rmsprop", loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.logitnet"
    model.save(path, metadata={"labels": ["a", "b", "c", "d"]})
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[:2] == ["metadata.json", "config.json"]
        assert names[2:6] == [f"weights/{k}.npy" for k in range(4)]
        meta = json.loads(zf.read("metadata.json"))
        assert set(meta) == {"format", "format_version", "kind", "logitnet_version", "date_saved"}
        assert (meta["format"], meta["format_version"], meta["kind"]) == ("logitnet", 1, "model")
        assert meta["logitnet_version"] == ln.__version__
        assert time.strptime(meta["date_saved"], "%Y-%m-%dT%H:%M:%SZ")
        config = json.loads(zf.read("config.json"))
        assert set(config) == {"model", "compile", "weights", "optimizer_state", "rng_state", "user_metadata"}
        assert config["user_metadata"] == {"labels": ["a", "b", "c", "d"]}
        assert config["weights"][0] == {"layer": "hidden", "name": "kernel", "shape": [3, 6], "dtype": "float32"}
        assert config["compile"]["optimizer"]["class_name"] == "RMSprop"
        state_keys = [e["key"] for e in config["optimizer_state"]]
        assert state_keys == ["iterations", "learning_rate"] + [f"velocity.{i}" for i in range(4)]
        for k, w in enumerate(model.get_weights()):
            raw = io.BytesIO(zf.read(f"weights/{k}.npy"))
            assert np.lib.format.read_magic(raw) == (1, 0)
            raw.seek(0)
            array = np.load(raw, allow_pickle=False)  # plain arrays: loading them needs no pickle
            np.testing.assert_array_equal(array, w)
        iterations = np.load(io.BytesIO(zf.read("optimizer/0.npy")), allow_pickle=False)
        assert iterations.shape == () and iterations.dtype == np.int64 and iterations == 2
    assert read_metadata(path)["user_metadata"] == {"labels": ["a", "b", "c", "d"]}


def test_save_refuses_wrong_extensions_and_custom_objects(tmp_path):
    model = model_for("relu", "linear")
    model.build((None, 3))
    with pytest.raises(ValueError, match=r"must end in `\.logitnet`.*does not write Keras files"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.logitnet`"):
        model.save_weights(tmp_path / "m.logitnet")

    def my_activation(z):
        return z * 2

    custom = ln.Sequential([ln.Dense(2, activation=my_activation)])
    with pytest.raises(ValueError, match="built-in objects only"):
        custom.save(tmp_path / "c.logitnet")

    class MyLoss(losses.SparseCategoricalCrossentropy):
        pass

    model.compile(optimizer="adam", loss=MyLoss(from_logits=True))
    with pytest.raises(ValueError, match="Cannot save the loss"):
        model.save(tmp_path / "c.logitnet")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[metrics.Accuracy()])
    with pytest.raises(ValueError, match="Cannot save the metric"):
        model.save(tmp_path / "c.logitnet")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["f1"])
    with pytest.raises(ValueError, match="Cannot save the unknown metric 'f1'"):
        model.save(tmp_path / "c.logitnet")
    with pytest.raises(ValueError, match="JSON-serialisable"):
        model_for("relu", "linear").save(tmp_path / "c.logitnet", metadata={"x": object()})
    assert os.listdir(tmp_path) == []  # nothing written, no temporary files left


def test_overwrite_false_keeps_the_existing_file(tmp_path):
    model = model_for("relu", "linear")
    model.build((None, 3))
    path = tmp_path / "m.logitnet"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    assert path.read_bytes() == b"old"


# =========================================================================== weights files
def test_save_and_load_weights_by_position(tmp_path):
    x, _ = data()
    model = model_for("tanh", "linear", seed=1)
    model.build((None, 3))
    model.save_weights(tmp_path / "w.weights.logitnet")
    other = model_for("tanh", "linear", seed=2)  # unbuilt: built from the file's first kernel
    other.load_weights(tmp_path / "w.weights.logitnet")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    assert read_metadata(tmp_path / "w.weights.logitnet")["kind"] == "weights"
    # A full model file works too (Keras's load_weights accepts .keras files).
    model.save(tmp_path / "m.logitnet")
    third = model_for("tanh", "linear", seed=3)
    load_weights(third, tmp_path / "m.logitnet")
    assert same_weights(third, model)
    with pytest.raises(ModelFileError, match="weights-only file.*load_weights"):
        load_model(tmp_path / "w.weights.logitnet")


def test_load_weights_into_a_different_architecture_is_a_plain_value_error(tmp_path):
    model = model_for("tanh", "linear")
    model.build((None, 3))
    model.save_weights(tmp_path / "w.weights.logitnet")
    wider = ln.Sequential([ln.Dense(7), ln.Dense(4)])
    wider.build((None, 3))
    with pytest.raises(ValueError, match=r"has shape \(3, 6\), but model .* needs \(3, 7\)") as info:
        wider.load_weights(tmp_path / "w.weights.logitnet")
    assert not isinstance(info.value, ModelFileError)
    deeper = ln.Sequential([ln.Dense(6), ln.Dense(4), ln.Dense(2)])
    with pytest.raises(ValueError, match="holds 4 weight arrays, but model .* has 6"):
        deeper.load_weights(tmp_path / "w.weights.logitnet")
    with pytest.raises(ValueError, match="isn't built"):
        ln.Sequential([ln.Dense(2)]).save_weights(tmp_path / "u.weights.logitnet")


# =========================================================================== refusals
def good_file(optimizer=True):
    x, y = data()
    model = model_for("relu", "linear")
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    return _bytes_of(model, include_optimizer=optimizer).getvalue()


def rezip(data_bytes, replace=None, drop=(), add=None):
    """Rebuild a file with some members replaced, dropped or added (CRCs stay valid)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data_bytes)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name in drop:
                continue
            content = (replace or {}).get(name, src.read(name))
            dst.writestr(name, content(src.read(name)) if callable(content) else content)
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def edit_json(name, change):
    def apply(raw):
        obj = json.loads(raw)
        change(obj)
        return json.dumps(obj)

    return {name: apply}


def load_bytes(raw):
    return load_model(io.BytesIO(raw))


def npy(array, **kwargs):
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda g: b"", "not a zip archive"),
        (lambda g: b"PK\x03\x04" + b"\0" * 40, "not a zip archive"),
        (lambda g: g[: len(g) // 2], "truncated or corrupted"),
        (lambda g: g[:-30], "truncated or corrupted"),
        (
            lambda g: rezip(g, edit_json("metadata.json", lambda m: m.update(format_version=2))),
            r"format version 2 .*reads format versions up to 1; upgrade logitnet",
        ),
        (lambda g: rezip(g, edit_json("metadata.json", lambda m: m.update(format="keras"))), "not a logitnet file"),
        (
            lambda g: rezip(g, edit_json("metadata.json", lambda m: m.update(format_version="1"))),
            "invalid format_version",
        ),
        (lambda g: rezip(g, drop=["weights/1.npy"]), r"member 'weights/1\.npy' is missing"),
        (lambda g: rezip(g, drop=["config.json"]), r"member 'config\.json' is missing"),
        (lambda g: rezip(g, add={"extra.bin": b"x"}), r"unexpected member 'extra\.bin'"),
        (lambda g: rezip(g, replace={"config.json": b"{not json"}), "config.json is not valid UTF-8 JSON"),
        (
            lambda g: rezip(
                g, edit_json("config.json", lambda c: c["model"]["config"]["layers"][0]["config"].update(units=7))
            ),
            r"weights\[0\] is hidden/kernel of shape \[3, 6\] .* architecture needs hidden/kernel of shape \[3, 7\]",
        ),
        (
            lambda g: rezip(g, replace={"weights/0.npy": npy(np.zeros((6, 3), np.float32))}),
            r"shape \(6, 3\), expected \(3, 6\)",
        ),
        (lambda g: rezip(g, replace={"weights/1.npy": npy(np.zeros(6, np.float64))}), r"dtype '<f8', expected '<f4'"),
        (
            lambda g: rezip(g, replace={"weights/1.npy": npy(np.zeros(6, np.float32))[:-4]}),
            "4 bytes of data, expected 24|20 bytes of data",
        ),
        (
            lambda g: rezip(g, replace={"weights/1.npy": npy(np.array([None] * 6, dtype=object), allow_pickle=True)}),
            r"dtype '\|O'",
        ),
        (
            lambda g: rezip(
                g, edit_json("config.json", lambda c: c["compile"]["optimizer"].update(class_name="os.system"))
            ),
            r"names the class 'os\.system', which is not one of logitnet's built-ins",
        ),
        (
            lambda g: rezip(
                g, edit_json("config.json", lambda c: c["compile"]["loss"]["config"].update(from_logits="yes"))
            ),
            "the loss .* has an invalid configuration",
        ),
        (
            lambda g: rezip(
                g,
                edit_json(
                    "config.json", lambda c: c["model"]["config"]["layers"][0]["config"].update(activation="bogus")
                ),
            ),
            "layer 0 .* invalid configuration .*Could not interpret activation",
        ),
        (
            lambda g: rezip(
                g,
                edit_json(
                    "config.json", lambda c: c["model"]["config"]["layers"][0]["config"].update(use_bias="false")
                ),
            ),
            "`use_bias` must be a bool",
        ),
        (
            lambda g: rezip(g, edit_json("config.json", lambda c: c["compile"].update(metrics=["f1"]))),
            "unknown metric 'f1'",
        ),
        (
            lambda g: rezip(
                rezip(g, edit_json("config.json", lambda c: c["optimizer_state"].pop())), drop=["optimizer/9.npy"]
            ),
            "optimizer state holds .* but Adam",
        ),
        (
            lambda g: rezip(g, edit_json("config.json", lambda c: c["optimizer_state"][2].update(shape=[3, 5]))),
            "optimizer state holds|is described as",
        ),
        (lambda g: rezip(g, edit_json("config.json", lambda c: c.update(extra=1))), "unknown key 'extra'"),
        (
            lambda g: rezip(g, edit_json("config.json", lambda c: c["rng_state"].update(bit_generator="MT19937"))),
            "unknown bit generator",
        ),
        (lambda g: rezip(g, replace={"metadata.json": b'{"format": NaN}'}), "not valid UTF-8 JSON"),
        (
            lambda g: rezip(
                g, edit_json("config.json", lambda c: c["model"]["config"]["layers"][0]["config"].pop("name"))
            ),
            "layer 0: `name` must be a string",
        ),
        (
            lambda g: rezip(g, edit_json("config.json", lambda c: c["model"]["config"].update(layers=[{}] * 5000))),
            "at most 4096 layers",
        ),
    ],
)
def test_damaged_files_raise_model_file_error_naming_the_problem(make, message):
    with pytest.raises(ModelFileError, match=message) as info:
        load_bytes(make(good_file()))
    assert isinstance(info.value, ValueError)
    assert "<file object>" in str(info.value)


def test_loading_never_unpickles_nor_imports_what_a_file_names(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    raw = rezip(good_file(), replace={"weights/1.npy": npy(np.array([Exploit()] * 6, dtype=object), allow_pickle=True)})
    raw = rezip(
        raw, edit_json("config.json", lambda c: c["model"]["config"]["layers"][0].update(class_name="antigravity"))
    )
    before = set(sys.modules)
    with pytest.raises(ModelFileError):
        load_bytes(raw)
    raw = rezip(good_file(), edit_json("config.json", lambda c: c["compile"]["loss"].update(class_name="this")))
    with pytest.raises(ModelFileError):
        load_bytes(raw)
    assert not marker.exists()
    assert set(sys.modules) == before  # neither `antigravity` nor `this` (nor anything else) was imported


def test_missing_files_are_os_errors_not_format_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nope.logitnet")
    with pytest.raises(IsADirectoryError):
        load_model(tmp_path)


# =========================================================================== atomic saves
def big_model(value=0.0):
    model = ln.Sequential([ln.Dense(300), ln.Dense(300), ln.Dense(4)], seed=0)
    model.build((None, 300))
    model.set_weights([np.full(w.shape, value) for w in model.weights])
    return model


@pytest.mark.parametrize("interrupt", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_save_interrupted_midway_leaves_the_old_file_intact(tmp_path, monkeypatch, interrupt):
    path = tmp_path / "m.logitnet"
    big_model(1.0).save(path)
    before = path.read_bytes()
    from logitnet import _archive

    original = _archive.ArchiveWriter.add_array
    calls = []

    def failing_add_array(self, name, array):
        calls.append(name)
        if len(calls) == 3:
            raise interrupt
        original(self, name, array)

    monkeypatch.setattr(_archive.ArchiveWriter, "add_array", failing_add_array)
    with pytest.raises(type(interrupt)):
        big_model(2.0).save(path)
    assert len(calls) == 3  # it failed in the middle, after writing two arrays
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.logitnet"]  # the temporary file was removed
    assert all(np.all(w == 1.0) for w in load_model(path).weights)


KILL_CHILD = """
import sys, numpy as np, logitnet as ln
path = sys.argv[1]
model = ln.Sequential([ln.Dense(1000), ln.Dense(1000), ln.Dense(4)], seed=0)
model.build((None, 1000))
for i in range(1, 1000):
    model.set_weights([np.full(w.shape, float(i)) for w in model.weights])
    print("begin", i, flush=True)
    model.save(path)
    print("end", i, flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_sigkill_during_a_large_save_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "m.logitnet"
    big_model(0.0).save(path)
    rng = np.random.default_rng(0)
    killed_mid_save = 0
    for trial in range(4):
        proc = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(path)], stdout=subprocess.PIPE, text=True)
        lines = []
        while len(lines) < 2 * (trial + 1):  # let it finish trial+1 saves (of 8 MB each) ...
            lines.append(proc.stdout.readline().split())
        assert lines[-1] == ["end", str(trial + 1)]
        while proc.stdout.readline().split()[0] != "begin":  # ... then kill it inside the next one
            pass
        time.sleep(rng.uniform(0.0, 0.02))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        temporaries = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
        killed_mid_save += bool(temporaries)
        for name in temporaries:  # a hard kill can leave the temporary file; never a damaged target
            os.unlink(tmp_path / name)
        values = {float(np.unique(w)[0]) for w in load_model(path).weights if w.size}
        assert len(values) == 1 and values.pop() in (trial + 1, trial + 2)  # one whole save, old or new
    assert killed_mid_save >= 1  # the kill did land inside a save at least once


# =========================================================================== ModelCheckpoint
def trained_with(callback, epochs=4, validation=True, **fit):
    x, y = data(n=60)
    model = model_for("relu", "linear", seed=0)
    model.compile(
        optimizer=optimizers.Adam(0.05),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    snapshots = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.predict(x)))
    history = model.fit(
        x,
        y,
        epochs=epochs,
        verbose=0,
        callbacks=[callback, record],
        validation_data=data(n=30, seed=1) if validation else None,
        **fit,
    )
    return model, x, snapshots, history.history


def test_checkpoint_every_epoch_with_a_template(tmp_path):
    template = str(tmp_path / "ck" / "model-{epoch:02d}-{loss:.3f}.logitnet")
    model, x, snapshots, history = trained_with(ModelCheckpoint(template))
    for epoch, snapshot in enumerate(snapshots):
        path = template.format(epoch=epoch + 1, loss=history["loss"][epoch])
        np.testing.assert_array_equal(load_model(path).predict(x), snapshot)
    assert len(os.listdir(tmp_path / "ck")) == 4


def test_checkpoint_save_best_only_keeps_the_best_epoch_and_prints_keras_messages(tmp_path, capsys):
    path = tmp_path / "best.logitnet"
    model, x, snapshots, history = trained_with(ModelCheckpoint(path, save_best_only=True, verbose=1), epochs=6)
    losses_ = history["val_loss"]
    best = int(np.argmin(losses_))
    np.testing.assert_array_equal(load_model(path).predict(x), snapshots[best])
    out = capsys.readouterr().out
    assert f"\nEpoch 1: val_loss improved from None to {losses_[0]:.5f}, saving model to {path}\n" in out
    assert f"\nEpoch 1: finished saving model to {path}\n" in out
    improved = [e for e in range(1, 6) if losses_[e] < min(losses_[:e])]
    for e in range(1, 6):
        if e in improved:
            assert f"Epoch {e + 1}: val_loss improved from {min(losses_[:e]):.5f} to {losses_[e]:.5f}" in out
        else:
            assert f"Epoch {e + 1}: val_loss did not improve from {min(losses_[:e]):.5f}" in out


def test_checkpoint_max_mode_weights_only_and_batch_frequency(tmp_path):
    path = tmp_path / "w.weights.logitnet"
    model, x, snapshots, history = trained_with(
        ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True, save_weights_only=True), epochs=5
    )
    best = int(np.argmax(history["val_accuracy"]))  # first of the maxima: later ties do not count as improvements
    restored = model_for("relu", "linear")
    restored.load_weights(path)
    np.testing.assert_array_equal(restored.predict(x), snapshots[best])

    saved_at = []
    callback = ModelCheckpoint(tmp_path / "b-{epoch}-{batch}.logitnet", save_freq=3)
    original = callback._save
    callback._save = lambda epoch, batch, logs: (saved_at.append((epoch, batch)), original(epoch, batch, logs))
    trained_with(callback, epochs=2, validation=False, batch_size=16)  # 4 batches per epoch
    assert saved_at == [(0, 2), (1, 1)]  # batches 3 and 6 of 8
    assert sorted(os.listdir(tmp_path))[:2] == ["b-1-3.logitnet", "b-2-2.logitnet"]


def test_checkpoint_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"must end in `\.logitnet`"):
        ModelCheckpoint(tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.logitnet`"):
        ModelCheckpoint(tmp_path / "m.logitnet", save_weights_only=True)
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint(tmp_path / "m.logitnet", save_freq="batch")
    with pytest.raises(ValueError, match="could not infer"):
        ModelCheckpoint(tmp_path / "m.logitnet", monitor="f1", save_best_only=True)
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        trained_with(ModelCheckpoint(tmp_path / "{nope}.logitnet"), epochs=1)
