"""Model files with the issue-#9 pieces: Dropout, BatchNormalization, weight regularizers, schedules.

Independent references used here:

* the original, never-saved model: a loaded copy must predict like it and continue training
  bit for bit as it continues (weights, moving statistics, optimizer slots, the schedule's step,
  the model's generator and a seeded Dropout's own generator all restored);
* a float64 NumPy forward pass written here (Dropout is the identity in inference,
  BatchNormalization uses the moving statistics), and the schedule formula written here;
* the committed version-1 files (tests/data/model_files/v1): re-saving them must write the
  same config.json and arrays, so files without the new pieces are unchanged for older readers;
* docs/file-format.md, read by hand with zipfile and json, for the layout and for crafting
  damaged files (helpers from test_saving).
"""

from __future__ import annotations

import functools
import io
import json
import pathlib
import warnings
import zipfile

import numpy as np
import pytest

import logitnet as ln
from logitnet import initializers, losses, optimizers, regularizers
from logitnet.exceptions import ModelFileError
from logitnet.optimizers import schedules
from logitnet.saving import load_model, read_metadata

from test_saving import edit_json, load_bytes, npy, rezip

V1 = pathlib.Path(__file__).parent / "data" / "model_files" / "v1"


def data(n=48, seed=0, n_features=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    x = rng.normal(size=(n, n_features)) + y[:, None]
    return x, y


def toolbox_layers():
    """Every new piece: regularized Dense, two BN (one without beta), a Dropout on the model's generator,
    a seeded Dropout on its own. Layer indexes 0..6; 13 weight arrays."""
    return [
        ln.Dense(8, activation="relu", kernel_regularizer=regularizers.L2(0.01),
                 bias_regularizer=regularizers.L1(0.001), name="hidden"),
        ln.BatchNormalization(momentum=0.9, epsilon=0.01, name="bn"),
        ln.Dropout(0.3, name="drop"),
        ln.Dense(6, activation="tanh", kernel_regularizer=regularizers.L1L2(l1=0.001, l2=0.01), name="mid"),
        ln.Dropout(0.25, noise_shape=(None, 6), seed=5, name="drop_seeded"),
        ln.BatchNormalization(center=False, name="bn2"),
        ln.Dense(4, name="out"),
    ]


def toolbox_model(optimizer=None, dtype="float32", built=True):
    layers = toolbox_layers()
    model = ln.Sequential(([ln.Input((3,))] if built else []) + layers, seed=0, dtype=dtype)
    if optimizer is None:
        optimizer = optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5))
    model.compile(optimizer=optimizer, loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def save_bytes(model, **kwargs):
    buffer = io.BytesIO()
    model.save(buffer, **kwargs)
    return buffer.getvalue()


def config_of(raw):
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return json.loads(zf.read("config.json"))


def same_weights(a, b):
    return len(a.weights) == len(b.weights) and all(np.array_equal(u, v) for u, v in zip(a.weights, b.weights))


def reference_predict(model, x):
    """Inference in float64 from the model's weights: Dropout passes through, BN uses the moving statistics."""
    h = np.asarray(x, dtype=np.float64)
    for layer in model.layers:
        p = {k: v.astype(np.float64) for k, v in layer.params.items()}
        if isinstance(layer, ln.Dense):
            h = h @ p["kernel"] + p.get("bias", 0.0)
            h = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "linear": lambda z: z}[
                layer.activation.name](h)
        elif isinstance(layer, ln.BatchNormalization):
            h = (h - p["moving_mean"]) / np.sqrt(p["moving_variance"] + layer.epsilon)
            h = h * p.get("gamma", 1.0) + p.get("beta", 0.0)
    return h


@functools.cache
def trained_file():
    """The bytes of a toolbox model saved after 2 epochs (8 steps)."""
    x, y = data()
    model = toolbox_model()
    model.fit(x, y, batch_size=12, epochs=2, verbose=0)
    return save_bytes(model)


# =========================================================================== round trip and resumption
def test_every_new_piece_round_trips_and_training_resumes_bit_for_bit():
    x, y = data()
    model = toolbox_model()
    model.fit(x, y, batch_size=12, epochs=2, verbose=0)
    bn, bn2 = model.layers[1], model.layers[5]
    # The moving statistics moved away from their initial values: restoring them is not vacuous.
    assert not np.allclose(bn.params["moving_mean"], 0.0) and not np.allclose(bn2.params["moving_variance"], 1.0)
    loaded = load_model(io.BytesIO(save_bytes(model)))

    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    assert type(loaded.layers[0].kernel_regularizer) is regularizers.L2
    assert type(loaded.layers[0].bias_regularizer) is regularizers.L1
    assert loaded.layers[3].kernel_regularizer.get_config() == {"l1": 0.001, "l2": 0.01}
    assert loaded.layers[3].bias_regularizer is None
    assert loaded.layers[4].noise_shape == (None, 6) and loaded.layers[4].seed == 5
    assert same_weights(model, loaded)
    assert [w.shape for w in loaded.layers[5].weights] == [(6,), (6,), (6,)]  # gamma, moving_mean, moving_variance
    assert len(loaded.trainable_weights) == len(model.trainable_weights) == 9

    # Inference: identical to the original, and to the float64 reference (moving statistics, no dropout).
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_allclose(loaded.predict(x), reference_predict(model, x), rtol=1e-5, atol=1e-5)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(x, y, verbose=0, return_dict=True)

    # The optimizer, its schedule and its state.
    assert type(loaded.optimizer) is optimizers.Adam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert type(loaded.optimizer._schedule) is schedules.ExponentialDecay
    assert loaded.optimizer.iterations == 8
    assert loaded.optimizer.learning_rate == float(np.float32(0.05) * np.float32(0.5) ** np.float32(8 / 3))
    with pytest.raises(TypeError):
        loaded.optimizer.learning_rate = 0.1  # still a schedule, not a number
    for key, value in model.optimizer.get_state().items():
        np.testing.assert_array_equal(loaded.optimizer.get_state()[key], value)

    # The unseeded Dropout draws from the loaded model's generator, the seeded one from its own.
    assert loaded.layers[2]._rng is loaded._rng and loaded.layers[4]._rng is not loaded._rng

    h1 = model.fit(x, y, batch_size=12, epochs=4, initial_epoch=2, verbose=0).history
    h2 = loaded.fit(x, y, batch_size=12, epochs=4, initial_epoch=2, verbose=0).history
    assert same_weights(model, loaded)  # kernels, BN weights and moving statistics
    np.testing.assert_equal(h2, h1)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 16


def test_the_seeded_dropouts_generator_state_is_what_makes_resumption_exact():
    x, y = data()
    original = toolbox_model()
    original.fit(x, y, batch_size=12, epochs=2, verbose=0)
    raw = save_bytes(original)
    without = load_bytes(rezip(raw, edit_json("config.json", lambda c: c.pop("layer_rng_states"))))
    with_state = load_bytes(raw)
    for model in (original, without, with_state):
        model.fit(x, y, batch_size=12, epochs=3, initial_epoch=2, verbose=0)
    assert same_weights(with_state, original)
    assert not same_weights(without, original)  # its Dropout restarted from its seed: other masks


SCHEDULE_CASES = [
    (lambda: optimizers.SGD(schedules.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01]), momentum=0.9), "float32"),
    (lambda: optimizers.RMSprop(schedules.CosineDecay(0.01, 10, alpha=0.1, warmup_target=0.02, warmup_steps=3),
                                centered=True), "float64"),
    (lambda: optimizers.AdamW(schedules.InverseTimeDecay(0.02, 4, 0.5, staircase=True), weight_decay=0.01),
     "float32"),
    (lambda: optimizers.Adam(schedules.ExponentialDecay(0.02, 2.5, 0.9, staircase=True, name="decay"),
                             amsgrad=True), "float64"),
]


@pytest.mark.parametrize("make_optimizer, dtype", SCHEDULE_CASES, ids=["sgd-piecewise", "rmsprop-cosine",
                                                                        "adamw-inverse", "adam-exponential"])
def test_every_schedule_and_optimizer_round_trips_and_resumes(make_optimizer, dtype):
    x, y = data(n=36)
    model = toolbox_model(make_optimizer(), dtype=dtype)
    model.fit(x, y, batch_size=12, epochs=1, verbose=0)
    loaded = load_bytes(save_bytes(model))
    schedule = model.optimizer._schedule
    assert type(loaded.optimizer._schedule) is type(schedule)
    assert loaded.optimizer._schedule.get_config() == schedule.get_config()
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.dtype == np.dtype(dtype)
    for step in (0, 3, 7, 100):
        assert loaded.optimizer._schedule(step) == schedule(step)
    h1 = model.fit(x, y, batch_size=12, epochs=3, initial_epoch=1, verbose=0).history
    h2 = loaded.fit(x, y, batch_size=12, epochs=3, initial_epoch=1, verbose=0).history
    assert same_weights(model, loaded)
    np.testing.assert_equal(h2, h1)


def test_an_unbuilt_model_with_the_new_layers_trains_after_loading_as_it_would_have():
    x, y = data()
    model = toolbox_model(built=False)
    loaded = load_bytes(save_bytes(model))
    assert not loaded.built and [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    h1 = model.fit(x, y, batch_size=12, epochs=2, verbose=0).history
    h2 = loaded.fit(x, y, batch_size=12, epochs=2, verbose=0).history
    assert loaded.layers[2]._rng is loaded._rng  # built by fit with the model's generator
    assert same_weights(model, loaded)
    np.testing.assert_equal(h2, h1)


def test_frozen_batch_normalization_round_trips_and_stays_frozen():
    x, y = data()
    model = ln.Sequential([ln.Input((3,)), ln.BatchNormalization(trainable=False, scale=False, name="bn"),
                           ln.Dense(4, name="out")], seed=1)
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    model.layers[0].params["moving_mean"][...] = [0.5, -1.0, 2.0]
    model.layers[0].params["moving_variance"][...] = [4.0, 0.25, 1.0]
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    loaded = load_bytes(save_bytes(model))
    assert loaded.layers[0].trainable is False and list(loaded.layers[0].params) == ["beta", "moving_mean",
                                                                                     "moving_variance"]
    np.testing.assert_array_equal(loaded.layers[0].params["moving_mean"], np.float32([0.5, -1.0, 2.0]))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    model.fit(x, y, epochs=2, initial_epoch=1, batch_size=16, verbose=0)
    loaded.fit(x, y, epochs=2, initial_epoch=1, batch_size=16, verbose=0)
    assert same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.layers[0].params["moving_variance"], np.float32([4.0, 0.25, 1.0]))


# =========================================================================== the file itself
def test_the_new_pieces_in_config_json():
    config = config_of(trained_file())
    layers = config["model"]["config"]["layers"]
    assert [entry["class_name"] for entry in layers] == [
        "Dense", "BatchNormalization", "Dropout", "Dense", "Dropout", "BatchNormalization", "Dense"]
    assert layers[0]["config"]["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    assert layers[0]["config"]["bias_regularizer"] == {"class_name": "L1", "config": {"l1": 0.001}}
    assert "bias_regularizer" not in layers[3]["config"]  # no regularizer: no key, as before regularizers existed
    assert "kernel_regularizer" not in layers[6]["config"]
    assert layers[1]["config"] == {
        "name": "bn", "trainable": True, "axis": -1, "momentum": 0.9, "epsilon": 0.01, "center": True,
        "scale": True, "beta_initializer": "zeros", "gamma_initializer": "ones",
        "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones"}
    assert layers[4]["config"] == {"name": "drop_seeded", "trainable": True, "rate": 0.25, "seed": 5,
                                   "noise_shape": [None, 6]}
    assert [(e["layer"], e["name"], e["shape"]) for e in config["weights"]] == [
        ("hidden", "kernel", [3, 8]), ("hidden", "bias", [8]),
        ("bn", "gamma", [8]), ("bn", "beta", [8]), ("bn", "moving_mean", [8]), ("bn", "moving_variance", [8]),
        ("mid", "kernel", [8, 6]), ("mid", "bias", [6]),
        ("bn2", "gamma", [6]), ("bn2", "moving_mean", [6]), ("bn2", "moving_variance", [6]),
        ("out", "kernel", [6, 4]), ("out", "bias", [4])]
    # Adam's slots cover the 9 trainable weights (BN's moving statistics have none).
    keys = [e["key"] for e in config["optimizer_state"]]
    assert keys == ["iterations", "learning_rate"] + [f"{s}.{i}" for s in ("momentum", "velocity") for i in range(9)]
    assert config["compile"]["optimizer"]["config"]["learning_rate"] == {
        "class_name": "ExponentialDecay",
        "config": {"initial_learning_rate": 0.05, "decay_steps": 3, "decay_rate": 0.5, "staircase": False,
                   "name": "ExponentialDecay"}}
    assert list(config["layer_rng_states"]) == ["drop_seeded"]  # only the Dropout with its own generator
    assert set(config["layer_rng_states"]["drop_seeded"]) == {"bit_generator", "state", "inc", "has_uint32",
                                                              "uinteger"}
    without = config_of(save_bytes(load_bytes(trained_file()), include_optimizer=False))
    assert "layer_rng_states" not in without and without["rng_state"] is None


def test_the_stored_dropout_state_is_the_layers_generator_state():
    x, y = data()
    model = toolbox_model()
    model.fit(x, y, batch_size=12, epochs=1, verbose=0)
    state = model.layers[4]._rng.bit_generator.state
    stored = config_of(save_bytes(model))["layer_rng_states"]["drop_seeded"]
    assert (stored["state"], stored["inc"]) == (hex(state["state"]["state"]), hex(state["state"]["inc"]))
    fresh = np.random.default_rng(5).bit_generator.state["state"]
    assert stored["state"] != hex(fresh["state"])  # the generator did advance during training


@pytest.mark.parametrize("name", sorted(p.name for p in V1.glob("*.logitnet") if ".weights." not in p.name))
def test_files_without_the_new_pieces_are_written_exactly_as_before(name):
    """Re-saving a committed version-1 file gives the same config.json and arrays: older readers still load it."""
    original = (V1 / name).read_bytes()
    before = config_of(original)
    model = load_bytes(original)
    raw = save_bytes(model, include_optimizer=before["rng_state"] is not None,
                     metadata=read_metadata(io.BytesIO(original))["user_metadata"])
    assert config_of(raw) == before
    with zipfile.ZipFile(io.BytesIO(original)) as old, zipfile.ZipFile(io.BytesIO(raw)) as new:
        assert new.namelist() == old.namelist()
        for member in old.namelist():
            if member.endswith(".npy"):
                assert new.read(member) == old.read(member), member


# =========================================================================== weights files
def test_weights_files_hold_the_batch_normalization_weights_and_load_by_position(tmp_path):
    x, y = data()
    model = toolbox_model()
    model.fit(x, y, batch_size=12, epochs=1, verbose=0)
    path = tmp_path / "w.weights.logitnet"
    model.save_weights(path)
    with zipfile.ZipFile(path) as zf:
        names = [e["name"] for e in json.loads(zf.read("config.json"))["weights"]]
    assert names[2:6] == ["gamma", "beta", "moving_mean", "moving_variance"]
    other = ln.Sequential(toolbox_layers(), seed=9)  # unbuilt: built from the file
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))

    # A first layer without a kernel: the width comes from the first BatchNormalization weight.
    first_bn = ln.Sequential([ln.Input((3,)), ln.BatchNormalization(), ln.Dense(2)], seed=0)
    first_bn.layers[0].params["moving_mean"][...] = [1.0, 2.0, 3.0]
    first_bn.save_weights(tmp_path / "bn.weights.logitnet")
    fresh = ln.Sequential([ln.BatchNormalization(), ln.Dense(2)])
    fresh.load_weights(tmp_path / "bn.weights.logitnet")
    assert fresh.input_dim == 3 and same_weights(fresh, first_bn)


def test_a_weights_file_naming_an_unknown_weight_is_refused(tmp_path):
    model = ln.Sequential([ln.Input((3,)), ln.BatchNormalization(name="bn"), ln.Dense(2)], seed=0)
    buffer = io.BytesIO()
    model.save_weights(buffer)
    raw = rezip(buffer.getvalue(), edit_json("config.json", lambda c: c["weights"][2].update(name="running_mean")))
    with pytest.raises(ModelFileError, match=r"weights\[2\] names no layer weight"):
        model.load_weights(io.BytesIO(raw))


# =========================================================================== refusals
def layer_config(index, **changes):
    return edit_json("config.json", lambda c: c["model"]["config"]["layers"][index]["config"].update(changes))


def lr_entry(change):
    return edit_json("config.json", lambda c: change(c["compile"]["optimizer"]["config"]))


def schedule_config(change):
    return lr_entry(lambda opt: change(opt["learning_rate"]["config"]))


def rng_states(change):
    return edit_json("config.json", lambda c: change(c["layer_rng_states"]))


REFUSALS = [
    # unknown layer classes
    (lambda g: rezip(g, edit_json("config.json", lambda c: c["model"]["config"]["layers"][2].update(
        class_name="SpatialDropout1D"))),
     (r"layer 2 names the class 'SpatialDropout1D', which is not one of logitnet's built-ins "
      r"\(Dense, Dropout, BatchNormalization\)")),
    (lambda g: rezip(g, edit_json("config.json", lambda c: c["model"]["config"]["layers"][1].update(
        class_name="LayerNormalization"))),
     r"layer 1 names the class 'LayerNormalization'"),
    # BatchNormalization weights: shapes, count, order
    (lambda g: rezip(g, edit_json("config.json", lambda c: c["weights"][2].update(shape=[7]))),
     r"weights\[2\] is bn/gamma of shape \[7\] .* architecture needs bn/gamma of shape \[8\]"),
    (lambda g: rezip(g, replace={"weights/4.npy": npy(np.zeros(7, np.float32))}),
     r"the array 'weights/4\.npy' does not match its description: shape \(7,\), expected \(8,\)"),
    (lambda g: rezip(g, replace={"weights/10.npy": npy(np.zeros((6, 1), np.float32))}),
     r"'weights/10\.npy' .* shape \(6, 1\), expected \(6,\)"),
    (lambda g: rezip(g, layer_config(1, center=False)),
     r"config\.json lists 13 weight arrays, but the architecture has 12"),
    (lambda g: rezip(g, edit_json("config.json", lambda c: c["weights"][4].update(name="moving_variance"))),
     r"weights\[4\] is bn/moving_variance .* architecture needs bn/moving_mean"),
    # BatchNormalization and Dropout configurations
    (lambda g: rezip(g, layer_config(1, renorm=True)), r"layer 1 has an unknown argument 'renorm'"),
    (lambda g: rezip(g, layer_config(1, momentum=1.5)),
     r"layer 1 \(BatchNormalization\) has an invalid configuration \(Argument `momentum`"),
    (lambda g: rezip(g, layer_config(1, epsilon=0)), r"layer 1 \(BatchNormalization\) .*`epsilon`"),
    (lambda g: rezip(g, layer_config(5, scale="no")), r"layer 5: `scale` must be a bool"),
    (lambda g: rezip(g, layer_config(1, gamma_initializer={"class_name": "Ones"})),
     r"layer 1: `gamma_initializer` must be a string"),
    (lambda g: rezip(g, layer_config(1, moving_variance_initializer="bogus")),
     r"layer 1 \(BatchNormalization\) has an invalid configuration \(Could not interpret initializer"),
    (lambda g: rezip(g, layer_config(2, rate=1.0)), r"layer 2 \(Dropout\) has an invalid configuration .*`rate`"),
    (lambda g: rezip(g, layer_config(4, noise_shape=[0, 6])), r"layer 4 \(Dropout\) .*`noise_shape`"),
    (lambda g: rezip(g, layer_config(4, seed=-1)), r"layer 4 \(Dropout\) .*`seed`"),
    (lambda g: rezip(g, layer_config(2, units=3)), r"layer 2 has an unknown argument 'units'"),
    (lambda g: rezip(g, layer_config(2, kernel_regularizer=None)),
     r"layer 2 has an unknown argument 'kernel_regularizer'"),
    # regularizers
    (lambda g: rezip(g, layer_config(0, kernel_regularizer={"class_name": "OrthogonalRegularizer", "config": {}})),
     (r"layer 0: `kernel_regularizer` names the class 'OrthogonalRegularizer', which is not one of logitnet's "
      r"built-ins \(L1, L2, L1L2\)")),
    (lambda g: rezip(g, layer_config(0, kernel_regularizer={"class_name": "L2", "config": {"l2": -1.0}})),
     r"layer 0: `kernel_regularizer` \(L2\) has an invalid configuration \(Argument `l2`"),
    (lambda g: rezip(g, layer_config(0, bias_regularizer={"class_name": "L1", "config": {"l2": 0.1}})),
     r"layer 0: `bias_regularizer` \(L1\) has an invalid configuration"),
    (lambda g: rezip(g, layer_config(3, kernel_regularizer={"class_name": "L1L2", "config": [0.1]})),
     r"layer 3: `kernel_regularizer` \(L1L2\) must have a `config` object"),
    (lambda g: rezip(g, layer_config(0, kernel_regularizer="l2")),
     r"layer 0: `kernel_regularizer` must be \{'class_name': \.\.\., 'config': \.\.\.\}"),
    # schedules
    (lambda g: rezip(g, lr_entry(lambda opt: opt["learning_rate"].update(class_name="CosineDecayRestarts"))),
     (r"the optimizer's `learning_rate` names the class 'CosineDecayRestarts', which is not one of logitnet's "
      r"built-ins \(ExponentialDecay, PiecewiseConstantDecay, CosineDecay, InverseTimeDecay\)")),
    (lambda g: rezip(g, schedule_config(lambda s: s.update(decay_steps=0))),
     r"the optimizer's `learning_rate` \(ExponentialDecay\) has an invalid configuration \(.*`decay_steps`"),
    (lambda g: rezip(g, schedule_config(lambda s: s.pop("decay_rate"))),
     r"the optimizer's `learning_rate` \(ExponentialDecay\) has an invalid configuration \(.*decay_rate"),
    (lambda g: rezip(g, schedule_config(lambda s: s.update(warmup_steps=3))),
     r"the optimizer's `learning_rate` \(ExponentialDecay\) has an invalid configuration"),
    (lambda g: rezip(g, lr_entry(lambda opt: opt["learning_rate"].update(module="keras.optimizers.schedules"))),
     r"the optimizer's `learning_rate` must be \{'class_name'"),
    (lambda g: rezip(g, lr_entry(lambda opt: opt.update(learning_rate="0.01"))),
     r"the optimizer \(Adam\) has an invalid configuration \(.*learning_rate"),
    # the seeded Dropout's generator
    (lambda g: rezip(g, rng_states(lambda s: s.update(drop=s["drop_seeded"]))),
     r"`layer_rng_states` names 'drop', which is not a Dropout layer with a `seed`"),
    (lambda g: rezip(g, rng_states(lambda s: s["drop_seeded"].update(bit_generator="MT19937"))),
     r"unknown bit generator 'MT19937' in `layer_rng_states\['drop_seeded'\]`"),
    (lambda g: rezip(g, rng_states(lambda s: s["drop_seeded"].update(state="0xnothex"))),
     r"`layer_rng_states\['drop_seeded'\]\.state` must be a hex string"),
    (lambda g: rezip(g, rng_states(lambda s: s.update(drop_seeded=None))),
     r"`layer_rng_states\['drop_seeded'\]` must have the keys"),
    (lambda g: rezip(g, edit_json("config.json", lambda c: c.update(layer_rng_states=[1]))),
     r"`layer_rng_states` must be an object"),
]


@pytest.mark.parametrize("make, message", REFUSALS, ids=range(len(REFUSALS)))
def test_malformed_entries_raise_model_file_error_naming_the_problem(make, message):
    with pytest.raises(ModelFileError, match=message) as info:
        load_bytes(make(trained_file()))
    assert str(info.value).startswith("Cannot load <file object>: ")


def test_the_good_file_loads():  # the refusals above come from their one change, not from the base file
    assert load_bytes(trained_file()).optimizer.iterations == 8


# =========================================================================== what cannot be saved
def test_save_refuses_custom_regularizers_schedules_layers_and_initializers(tmp_path):
    class MyL2(regularizers.L2):
        pass

    class MyDecay(schedules.ExponentialDecay):
        pass

    class MyDropout(ln.Dropout):
        pass

    class MyOnes(initializers.Ones):
        pass

    path = tmp_path / "m.logitnet"
    model = ln.Sequential([ln.Dense(2, kernel_regularizer=MyL2(0.1), name="d")])
    with pytest.raises(ValueError, match=r"Cannot save the kernel_regularizer of layer 'd' MyL2"):
        model.save(path)
    model = ln.Sequential([ln.Dense(2)])
    model.compile(optimizer=optimizers.SGD(MyDecay(0.1, 2, 0.5)), loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"Cannot save the learning-rate schedule MyDecay"):
        model.save(path)
    expected = r"Cannot save the layer <Dropout name='my_dropout', rate=0\.5> \(of class MyDropout\)"
    with pytest.raises(ValueError, match=expected):
        ln.Sequential([MyDropout(0.5)]).save(path)
    with pytest.raises(ValueError, match=r"Cannot save the gamma_initializer of layer 'bn'"):
        ln.Sequential([ln.BatchNormalization(gamma_initializer=MyOnes(), name="bn")]).save(path)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield
