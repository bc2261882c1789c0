"""Fuzzing ``load_model`` with damaged files (hypothesis, 10,000+ generated cases, plus every truncation).

Every case must end in ``ModelFileError`` or in a valid model (one that predicts); any other
exception fails the test, and a per-case watchdog turns a hang into a failure. The cases:

* mutated bytes of small valid files (bit flips, byte overwrites, deletions, insertions,
  duplicated runs): these exercise the zip container and its checksums;
* structurally valid zips (correct checksums) whose JSON has one node replaced, deleted or
  added, which exercise the schema checks behind the container;
* structurally valid zips whose arrays or member list are wrong (random .npy headers and
  shapes, dropped, renamed, duplicated or extra members, deflated members);
* every prefix of each valid file (exhaustive truncation, not counted in the 10,000).

Generation is derandomized so CI runs the same cases every time. For a deeper local run:
``LOGITNET_FUZZ_SCALE=10 LOGITNET_FUZZ_RANDOM=1 pytest tests/test_saving_fuzz.py`` (10x the
cases, fresh random ones).
"""

from __future__ import annotations

import copy
import io
import json
import os
import signal
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logitnet as ln
from logitnet import losses, metrics, optimizers, regularizers
from logitnet.exceptions import ModelFileError
from logitnet.optimizers import schedules
from logitnet.saving import load_model

CASE_TIMEOUT = 5.0  # seconds; loading a file of a few KB takes about a millisecond
SCALE = float(os.environ.get("LOGITNET_FUZZ_SCALE", "1"))
N_MUTATED, N_JSON, N_MEMBERS = int(4000 * SCALE), int(4000 * SCALE), int(2500 * SCALE)  # 10,500 in all


def _small_files() -> list[bytes]:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 3)), rng.integers(0, 3, size=24)
    files = []

    def save(model, **kwargs):
        buffer = io.BytesIO()
        model.save(buffer, **kwargs)
        files.append(buffer.getvalue())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = ln.Sequential([ln.Dense(4, activation="relu", name="h"), ln.Dense(3, name="o")], seed=0)
        a.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        a.fit(x, y, epochs=1, batch_size=8, verbose=0)
        save(a, metadata={"classes": ["a", "b", "c"]})
        b = ln.Sequential(
            [
                ln.Dense(2, activation={"name": "relu", "max_value": 2.0}, use_bias=False),
                ln.Dense(3, activation="softmax"),
            ],
            seed=1,
            dtype="float64",
        )
        b.compile(
            optimizer=optimizers.RMSprop(momentum=0.5, centered=True),
            loss=losses.CategoricalCrossentropy(),
            metrics=[metrics.CategoricalAccuracy(name="acc")],
        )
        b.fit(x, np.eye(3)[y], epochs=1, batch_size=8, verbose=0)
        save(b)
        c = ln.Sequential([ln.Dense(3, activation="gelu"), ln.Dense(3, activation="sigmoid")], seed=2)
        c.compile(optimizer=optimizers.SGD(momentum=0.9), loss="sparse_categorical_crossentropy")
        save(c)  # compiled, unbuilt
        d = ln.Sequential(  # the issue-#9 pieces: regularizers, BatchNormalization, Dropout (seeded too), a schedule
            [
                ln.Dense(4, activation="relu", kernel_regularizer=regularizers.L2(0.01), name="h"),
                ln.BatchNormalization(center=False, name="bn"),
                ln.Dropout(0.25, seed=3, name="dr"),
                ln.Dense(3, bias_regularizer=regularizers.L1L2(l1=0.01), name="o"),
            ],
            seed=3,
        )
        d.compile(
            optimizer=optimizers.SGD(schedules.PiecewiseConstantDecay([2], [0.1, 0.01]), momentum=0.5),
            loss=losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        d.fit(x, y, epochs=1, batch_size=8, verbose=0)
        save(d)
        buffer = io.BytesIO()
        a.save_weights(buffer)  # a weights-only file: load_model must refuse it cleanly
        files.append(buffer.getvalue())
    return files


FILES = _small_files()


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"a single load took more than {CASE_TIMEOUT} s")


def check(raw: bytes) -> str:
    """Load ``raw``: 'error' for ModelFileError, 'model' for a usable model; anything else propagates."""
    watchdog = hasattr(signal, "setitimer")  # POSIX; elsewhere a hang shows as a stuck test run
    if watchdog:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, CASE_TIMEOUT)
    try:
        try:
            model = load_model(io.BytesIO(raw))
        except ModelFileError:
            return "error"
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if model.built:
                out = model.predict(np.ones((2, model.input_dim)))
                assert out.shape == (2, model.n_outputs)
        return "model"
    finally:
        if watchdog:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


SETTINGS = dict(
    deadline=None,
    derandomize=not os.environ.get("LOGITNET_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_base_files_load():
    assert [check(f) for f in FILES] == ["model", "model", "model", "model", "error"]


# --------------------------------------------------------------------------- mutated bytes
MUTATION = st.tuples(
    st.sampled_from(["flip", "set", "delete", "insert", "duplicate"]),
    st.floats(0, 1, exclude_max=True),
    st.integers(0, 255),
    st.integers(1, 64),
)


def mutate(raw: bytes, ops) -> bytes:
    data = bytearray(raw)
    for op, where, value, length in ops:
        if not data:
            break
        i = int(where * len(data))
        if op == "flip":
            data[i] ^= 1 << (value % 8)
        elif op == "set":
            data[i] = value
        elif op == "delete":
            del data[i : i + length]
        elif op == "insert":
            data[i:i] = bytes([value]) * length
        else:
            data[i:i] = data[i : i + length]
    return bytes(data)


def test_mutated_bytes():
    outcomes = {"error": 0, "model": 0}

    @settings(max_examples=N_MUTATED, **SETTINGS)
    @given(st.sampled_from(range(len(FILES))), st.lists(MUTATION, min_size=1, max_size=6))
    def run(index, ops):
        outcomes[check(mutate(FILES[index], ops))] += 1

    run()
    assert sum(outcomes.values()) >= N_MUTATED
    assert outcomes["error"] > 0


# --------------------------------------------------------------------------- valid zips, wrong JSON
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 2, 3, 4, 10**6, 2**31, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(
        [
            "Dense",
            "Dropout",
            "BatchNormalization",
            "L2",
            "PiecewiseConstantDecay",
            "gamma",
            "moving_mean",
            "Adam",
            "SGD",
            "relu",
            "softmax",
            "float32",
            "float64",
            "int64",
            "kernel",
            "bias",
            "iterations",
            "momentum.0",
            "PCG64",
            "0x1",
            "logitnet",
            "model",
            "weights",
            "accuracy",
            "SparseCategoricalCrossentropy",
            "__import__",
            "os.system",
        ]
    ),
)
def _json_containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3))


JSON_VALUE = st.recursive(JSON_LEAF, _json_containers, max_leaves=6)


def json_paths(node, path=()):
    """Every path (tuple of keys/indices) to a node of a JSON tree, the root first."""
    yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from json_paths(child, path + (key,))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from json_paths(child, path + (i,))


def rebuild(raw: bytes, replace: dict, drop=(), add=(), compression=zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", compression=compression) as dst:
        for name in src.namelist():
            if name not in drop:
                dst.writestr(name, replace.get(name, src.read(name)))
        for name, content in add:
            dst.writestr(name, content)
    return out.getvalue()


def test_valid_zips_with_one_json_node_changed():
    outcomes = {"error": 0, "model": 0}

    @settings(max_examples=N_JSON, **SETTINGS)
    @given(st.sampled_from(range(len(FILES))), st.sampled_from(["config.json", "metadata.json"]), st.data())
    def run(index, member, data):
        with zipfile.ZipFile(io.BytesIO(FILES[index])) as zf:
            tree = json.loads(zf.read(member))
        paths = list(json_paths(tree))
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        tree = copy.deepcopy(tree)
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        if not path:
            tree = data.draw(JSON_VALUE)
        elif action == "replace":
            parent[path[-1]] = data.draw(JSON_VALUE)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=6))] = data.draw(JSON_VALUE)
        else:
            parent.insert(path[-1], data.draw(JSON_VALUE))
        outcomes[check(rebuild(FILES[index], {member: json.dumps(tree).encode()}))] += 1

    run()
    assert sum(outcomes.values()) >= N_JSON
    assert outcomes["error"] > 0 and outcomes["model"] > 0


# --------------------------------------------------------------------------- valid zips, wrong arrays/members
def npy_bytes(data) -> bytes:
    kind = data.draw(st.sampled_from(["array", "header", "garbage"]))
    if kind == "garbage":
        return data.draw(st.binary(max_size=200))
    dtype = data.draw(st.sampled_from(["<f4", "<f8", "<i8", ">f4", "<f2", "|b1", "<c8"]))
    shape = tuple(data.draw(st.lists(st.integers(0, 5), max_size=3)))
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.zeros(shape, dtype=dtype))
    raw = buffer.getvalue()
    if kind == "header":  # a hand-written header: any descr, order and shape, then some bytes
        header = repr(
            {
                "descr": data.draw(st.sampled_from(["<f4", "<f8", "|O", "<i8", "[('a', '<f4')]", "x"])),
                "fortran_order": data.draw(st.sampled_from([False, True, 0, None])),
                "shape": data.draw(st.sampled_from([(), (3,), (3, 4), (4, 3), (-1,), (2**62, 2**62), "x"])),
            }
        )
        body = header.encode("latin-1")
        raw = b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body + data.draw(st.binary(max_size=64))
    return raw


def test_valid_zips_with_wrong_arrays_or_members():
    outcomes = {"error": 0, "model": 0}

    @settings(max_examples=N_MEMBERS, **SETTINGS)
    @given(st.sampled_from(range(len(FILES))), st.data())
    def run(index, data):
        with zipfile.ZipFile(io.BytesIO(FILES[index])) as zf:
            names = zf.namelist()
        arrays = [n for n in names if n.endswith(".npy")]
        action = data.draw(st.sampled_from(["array", "drop", "rename", "duplicate", "extra", "deflate"]))
        replace, drop, add = {}, (), ()
        compression = zipfile.ZIP_STORED
        if action == "array" and arrays:
            replace = {data.draw(st.sampled_from(arrays)): npy_bytes(data)}
        elif action == "drop":
            drop = (data.draw(st.sampled_from(names)),)
        elif action == "rename":
            old = data.draw(st.sampled_from(names))
            drop, add = (old,), ((data.draw(st.sampled_from(names + ["weights/99.npy", "x/", "../evil"])), b"{}"),)
        elif action == "duplicate":
            add = ((data.draw(st.sampled_from(names)), b"{}"),)
        elif action == "extra":
            name = data.draw(
                st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), min_size=1, max_size=12)
            )
            add = ((name, data.draw(st.binary(max_size=16))),)
        else:
            compression = zipfile.ZIP_DEFLATED
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about duplicate names
            raw = rebuild(FILES[index], replace, drop, add, compression)
        outcomes[check(raw)] += 1

    run()
    assert sum(outcomes.values()) >= N_MEMBERS
    assert outcomes["error"] > 0 and outcomes["model"] > 0  # deflated members are fine


# --------------------------------------------------------------------------- every truncation
@pytest.mark.parametrize("index", range(len(FILES)))
def test_every_truncation(index):
    raw = FILES[index]
    assert [check(raw[:n]) for n in range(len(raw))] == ["error"] * len(raw)
