"""Tests for logitnet.utils: reproducible seeding without global NumPy state, and Keras-style names."""

from __future__ import annotations

import random

import numpy as np
import pytest

from logitnet import utils
from logitnet.layers import Dense
from logitnet.losses import SparseCategoricalCrossentropy
from logitnet.models import Sequential


@pytest.fixture(autouse=True)
def isolated_state(monkeypatch):
    """Each test starts unseeded, with fresh name counters; the process-wide seed is restored afterwards."""
    monkeypatch.setattr(utils, "_seed_sequence", None)
    utils.reset_names()
    yield


def _data(n=40):
    rng = np.random.default_rng(123)
    x = rng.standard_normal((n, 3))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    return x, y


def _model(seed=None):
    model = Sequential([Dense(6, activation="relu"), Dense(3)], seed=seed)
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    return model


def _fit(model):
    x, y = _data()
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return history.history, model.get_weights()


def _assert_same_weights(a, b):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)


def _differ(a, b):
    return any(not np.array_equal(wa, wb) for wa, wb in zip(a, b))


# ----------------------------------------------------------------------------- set_random_seed
def test_set_random_seed_makes_models_bit_identical():
    utils.set_random_seed(42)
    first = _model()
    first.build((None, 3))
    init_first = first.get_weights()
    history_first, final_first = _fit(first)

    utils.set_random_seed(42)
    second = _model()
    second.build((None, 3))
    _assert_same_weights(init_first, second.get_weights())
    history_second, final_second = _fit(second)

    assert history_first == history_second  # exact float equality, both epochs
    assert len(history_first["loss"]) == 2
    _assert_same_weights(final_first, final_second)
    assert _differ(init_first, final_first)  # training did change the weights


def test_set_random_seed_different_seeds_differ():
    utils.set_random_seed(1)
    a = _model()
    a.build((None, 3))
    utils.set_random_seed(2)
    b = _model()
    b.build((None, 3))
    assert _differ(a.get_weights(), b.get_weights())


def test_models_after_one_seed_draw_in_creation_order():
    utils.set_random_seed(7)
    a, b = _model(), _model()
    for m in (a, b):
        m.build((None, 3))
    assert _differ(a.get_weights(), b.get_weights())  # two models, two streams
    utils.set_random_seed(7)
    a2, b2 = _model(), _model()
    for m in (b2, a2):  # build order does not matter: creation order does
        m.build((None, 3))
    _assert_same_weights(a.get_weights(), a2.get_weights())
    _assert_same_weights(b.get_weights(), b2.get_weights())


def test_set_random_seed_reproduces_standalone_layer():
    x = np.ones((2, 4))
    utils.set_random_seed(3)
    first = Dense(5)
    first(x)
    utils.set_random_seed(3)
    second = Dense(5)
    second(x)
    _assert_same_weights(first.get_weights(), second.get_weights())


def test_unseeded_models_differ():
    a, b = _model(), _model()
    a.build((None, 3))
    b.build((None, 3))
    assert _differ(a.get_weights(), b.get_weights())


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3", None, [1]])
def test_set_random_seed_rejects_invalid(seed):
    with pytest.raises(ValueError) as info:
        utils.set_random_seed(seed)
    message = str(info.value)
    assert "`seed`" in message and f"Received: seed={seed!r}" in message


def test_set_random_seed_accepts_numpy_and_large_integers():
    utils.set_random_seed(np.int64(5))
    utils.set_random_seed(2**64 + 1)


# ----------------------------------------------------------------------------- Sequential(seed=...)
def test_model_seed_gives_identical_weights_and_history():
    a, b = _model(seed=11), _model(seed=11)
    a.build((None, 3))
    b.build((None, 3))
    _assert_same_weights(a.get_weights(), b.get_weights())
    history_a, final_a = _fit(a)
    history_b, final_b = _fit(b)
    assert history_a == history_b
    _assert_same_weights(final_a, final_b)


def test_model_seed_differs_between_seeds():
    a, b = _model(seed=11), _model(seed=12)
    a.build((None, 3))
    b.build((None, 3))
    assert _differ(a.get_weights(), b.get_weights())


def test_model_seed_wins_over_global_seed():
    utils.set_random_seed(1)
    a = _model(seed=11)
    utils.set_random_seed(2)
    b = _model(seed=11)
    a.build((None, 3))
    b.build((None, 3))
    _assert_same_weights(a.get_weights(), b.get_weights())


# ----------------------------------------------------------------------------- no global random state
def test_no_global_random_state_is_touched():
    np_state = np.random.get_state()
    py_state = random.getstate()
    utils.set_random_seed(0)
    _fit(_model())
    _fit(_model(seed=4))
    model = _model()
    model.predict(_data()[0])
    Dense(3)(np.ones((2, 2)))
    after = np.random.get_state()
    assert after[0] == np_state[0]
    np.testing.assert_array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]
    assert random.getstate() == py_state


def test_seeding_does_not_depend_on_numpy_global_seed():
    utils.set_random_seed(9)
    a = _model()
    a.build((None, 3))
    state = np.random.get_state()
    try:
        np.random.seed(12345)  # a user's own global seeding must not change logitnet's draws
        utils.set_random_seed(9)
        b = _model()
        b.build((None, 3))
    finally:
        np.random.set_state(state)
    _assert_same_weights(a.get_weights(), b.get_weights())


# ----------------------------------------------------------------------------- make_rng
def test_make_rng():
    g = np.random.default_rng(0)
    assert utils.make_rng(g) is g
    assert utils.make_rng(5).random() == np.random.default_rng(5).random()
    assert isinstance(utils.make_rng(None), np.random.Generator)


@pytest.mark.parametrize("seed", [-1, 2.5, "a", True])
def test_make_rng_rejects_invalid(seed):
    with pytest.raises(ValueError, match=r"`seed`.*Received: seed="):
        utils.make_rng(seed)


# ----------------------------------------------------------------------------- names
def test_unique_name_counts_per_base_name():
    assert [utils.unique_name("Dense") for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert utils.unique_name("Sequential") == "sequential"
    assert utils.unique_name("Dense") == "dense_3"


def test_reset_names_restarts_counters():
    utils.unique_name("Dense")
    utils.unique_name("Dense")
    utils.reset_names()
    assert utils.unique_name("Dense") == "dense"


@pytest.mark.parametrize(
    "class_name, expected",
    [
        # Keras's naming.to_snake_case: runs of capitals stay together.
        ("Dense", "dense"),
        ("Sequential", "sequential"),
        ("GlorotUniform", "glorot_uniform"),
        ("SGD", "sgd"),
        ("MyCNNLayer", "my_cnn_layer"),
        ("ReLU", "re_lu"),
        ("dense", "dense"),
    ],
)
def test_unique_name_uses_keras_snake_case(class_name, expected):
    assert utils.unique_name(class_name) == expected


def test_subclass_layer_gets_snake_case_auto_name():
    class MyDense(Dense):
        pass

    assert MyDense(2).name == "my_dense"
    assert MyDense(2).name == "my_dense_1"
    assert Dense(2).name == "dense"
