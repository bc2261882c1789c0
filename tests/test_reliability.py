"""Reliability: label pre-flight, divergence triage, interruption and resume, threads, out-of-core data.

Independent references used here:

* for "the weights of the last finite / last completed step": a second model with the same
  seed trained for exactly that many steps by a plain run (a callback stops it), so the
  expected weights never come from the code that restores them;
* the number of finite steps is read from the per-batch losses the callbacks see;
* feature spreads in messages are compared with ``np.std`` of the data;
* out-of-core training is compared with training on the same data in memory, and a
  counting array-like records every read;
* kill-and-resume and the 2 GB memmap run in subprocesses (a killed process, a fresh
  ``ru_maxrss``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import logitnet as ln
from logitnet.callbacks import BackupAndRestore, Callback, LambdaCallback
from logitnet.exceptions import DivergenceWarning
from logitnet.losses import CategoricalCrossentropy, SparseCategoricalCrossentropy
from logitnet.metrics import SparseCategoricalAccuracy
from logitnet.optimizers import SGD
from logitnet.outofcore import RowSource
from logitnet.sklearn import SoftmaxClassifier

# NumPy's own overflow warnings precede each DivergenceWarning in the diverging runs below.
pytestmark = pytest.mark.filterwarnings("ignore:(overflow|invalid value) encountered:RuntimeWarning")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CENTERS = np.array([[-2.0, 1.0], [-1.0, -1.0], [0.5, 1.0], [2.0, -1.0]])


def blobs(n=320, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    return CENTERS[y] + 0.5 * rng.normal(size=(n, 2)), y


def model_for(optimizer=None, units=4, activation=None, loss=None, seed=0, metrics=None):
    model = ln.Sequential([ln.Dense(8, activation="relu"), ln.Dense(units, activation=activation)], seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.compile(
            optimizer=optimizer if optimizer is not None else "adam",
            loss=loss if loss is not None else SparseCategoricalCrossentropy(from_logits=True),
            metrics=metrics,
        )
    return model


class StopAfter(Callback):
    """Stops training after ``n`` steps: the plain-run reference for "the state after n steps"."""

    def __init__(self, n):
        super().__init__()
        self.n, self.done = n, 0

    def on_batch_end(self, batch, logs=None):
        self.done += 1
        if self.done == self.n:
            self.model.stop_training = True


def trained_for(steps, make, x, y, **fit):
    model = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, y, verbose=0, callbacks=[StopAfter(steps)], **fit)
    assert model.optimizer.iterations == steps
    return model


def assert_same_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


X, Y = blobs()


# =========================================================================== label pre-flight
def keras_rejects(call, model, *patterns, exc=ValueError):
    before = model.get_weights() if model.built else None
    with pytest.raises(exc) as info:
        call(model)
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    if before is not None:
        assert_same_weights_list(model.get_weights(), before)
    assert model.optimizer.iterations == 0
    return message


def assert_same_weights_list(a, b):
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def fit(model, x, y):
    return model.fit(x, y, epochs=1, verbose=0)


def evaluate(model, x, y):
    return model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("call", [fit, evaluate])
def test_one_based_labels_keras(call):
    keras_rejects(lambda m: call(m, X, Y + 1), model_for(), "`y`", "label 4", "1-based", "subtract 1",
                  "LabelEncoder", r"Labels must be 0\.\.3")


def test_one_based_labels_sklearn_are_just_labels():
    # The estimator encodes whatever labels it gets: 1..4 is four classes, and the model is
    # exactly the one trained on 0..3 (same seed), answering in the labels it was given.
    a = SoftmaxClassifier(epochs=2, random_state=0).fit(X, Y + 1)
    b = SoftmaxClassifier(epochs=2, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(a.classes_, [1, 2, 3, 4])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict(X), b.predict(X) + 1)


@pytest.mark.parametrize("call", [fit, evaluate])
def test_more_classes_than_output_units_keras(call):
    y = np.arange(len(X)) % 10
    keras_rejects(lambda m: call(m, X, y), model_for(), "label 9", "10 classes", "4 output units",
                  "at least 10 units")


def test_more_classes_than_output_units_sklearn():
    clf = SoftmaxClassifier(epochs=1, random_state=0).partial_fit(X, Y, classes=[0, 1, 2, 3])
    before = clf.model_.get_weights()
    with pytest.raises(ValueError, match=r"not among the classes \[0, 1, 2, 3\]: \[9\]"):
        clf.partial_fit(X[:10], np.full(10, 9))
    assert_same_weights_list(clf.model_.get_weights(), before)


@pytest.mark.parametrize("call", [fit, evaluate])
def test_one_hot_labels_with_a_sparse_loss_keras(call):
    keras_rejects(lambda m: call(m, X, np.eye(4)[Y]), model_for(), "one-hot", "loss='categorical_crossentropy'",
                  r"argmax")


def test_one_hot_labels_with_fewer_columns_than_outputs_still_named_one_hot():
    keras_rejects(lambda m: fit(m, X, np.eye(3)[Y % 3]), model_for(), "one-hot", "3 columns", "4 outputs")


def test_one_hot_labels_sklearn():
    with pytest.raises(ValueError, match=r"y should be a 1d array.*one-hot.*y\.argmax\(axis=1\)"):
        SoftmaxClassifier(epochs=1).fit(X, np.eye(4)[Y])


@pytest.mark.parametrize("call", [fit, evaluate])
def test_integer_labels_with_a_categorical_loss_keras(call):
    # The estimator has no loss to choose (it always takes one label per sample): Keras API only.
    model = model_for(loss=CategoricalCrossentropy(from_logits=True))
    keras_rejects(lambda m: call(m, X, Y), model, "integer class labels", "loss='sparse_categorical_crossentropy'")


def test_more_one_hot_columns_than_outputs_with_a_categorical_loss():
    model = model_for(loss=CategoricalCrossentropy(from_logits=True))
    keras_rejects(lambda m: fit(m, X, np.eye(6)[Y]), model, "6 columns", "more than the model's 4 output units")


@pytest.mark.parametrize("call", [fit, evaluate])
def test_non_integral_float_labels_keras(call):
    y = Y.astype(float)
    y[7] = 2.7
    keras_rejects(lambda m: call(m, X, y), model_for(), "2.7", "truncate it to 2")


def test_non_integral_float_labels_sklearn():
    y = Y.astype(float)
    y[7] = 2.7
    with pytest.raises(ValueError, match=r"Unknown label type: .*2\.7.*truncate 2\.7 to 2; logitnet refuses"):
        SoftmaxClassifier(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"Unknown label type: .*2\.7"):
        SoftmaxClassifier(epochs=1).partial_fit(X, y, classes=[0, 1, 2, 3])


@pytest.mark.parametrize("call", [fit, evaluate])
@pytest.mark.parametrize("activation", ["softmax", "sigmoid", None])
def test_single_unit_output_keras(call, activation):
    # The estimator always has one output per class and refuses a single class (below).
    model = model_for(units=1, activation=activation)
    keras_rejects(lambda m: call(m, X, np.zeros(len(X), dtype=int)), model, "has 1 unit", "always 1",
                  "nothing can be learned", r"Dense\(2\)")


def test_single_class_sklearn():
    with pytest.raises(ValueError, match="at least 2 classes"):
        SoftmaxClassifier(epochs=1).fit(X, np.zeros(len(X), dtype=int))


def test_sigmoid_output_on_exclusive_classes_is_explained_once_at_compile():
    model = ln.Sequential([ln.Dense(8, activation="relu"), ln.Dense(4, activation="sigmoid")], seed=0)
    with pytest.warns(UserWarning, match="not class probabilities: each row does not sum to 1"):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not repeated by fit, evaluate or predict
        model.fit(X, Y, epochs=1, verbose=0)
        model.evaluate(X, Y, verbose=0)
        p = model.predict(X)
    np.testing.assert_array_equal((p > 0) & (p < 1), True)  # sigmoids, as explained


# =========================================================================== unscaled inputs
def test_unscaled_inputs_warn_before_training_with_the_numbers_and_the_remedy():
    x = X * np.array([1e4, 1.0])
    std = x.std(axis=0)  # an independent computation of what the message reports
    model = model_for()
    with pytest.warns(UserWarning, match="look unscaled") as record:
        model.fit(x, Y, epochs=1, verbose=0)
    message = str(next(r.message for r in record if "unscaled" in str(r.message)))
    assert f"{std[1]:.3g} (feature 1)" in message and f"{std[0]:.3g} (feature 0)" in message
    assert "4 orders of magnitude" in message and "StandardScaler" in message


def test_scaled_inputs_and_constant_features_do_not_warn():
    constant = np.column_stack([X, np.full(len(X), 1e6), np.full(len(X), 5.0)])  # no spread to compare
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model_for().fit(X, Y, epochs=1, verbose=0)
        model_for().fit(constant, Y, epochs=1, verbose=0)


# =========================================================================== divergence
def diverging_run(make, x, y, **fit):
    """Fit until divergence, recording the running loss after every batch."""
    losses = []
    model = make()
    recorder = LambdaCallback(on_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    with pytest.warns(DivergenceWarning) as record:
        history = model.fit(x, y, verbose=0, callbacks=[recorder], **fit)
    message = str(next(r.message for r in record if r.category is DivergenceWarning))
    finite_steps = next(i for i, v in enumerate(losses) if not np.isfinite(v))
    return model, history, message, finite_steps


def test_divergence_from_a_large_learning_rate_keeps_the_last_finite_step():
    def make():
        return model_for(SGD(learning_rate=1e4))

    model, history, message, k = diverging_run(make, X, Y, epochs=3, batch_size=32)
    assert k >= 2  # a few steps were finite
    reference = trained_for(k, make, X, Y, epochs=3, batch_size=32)
    assert_same_weights(model, reference)
    assert model.optimizer.iterations == k
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert history.epoch == [0] and not np.isfinite(history.history["loss"][0])  # logged, as Keras does
    assert f"at batch {k + 1}/10" in message and f"optimizer.iterations={k}" in message
    assert "Likely cause: the learning rate: SGD with learning_rate=1e+04" in message
    assert "largest |logit|" in message and "learning_rate=1e+03" in message  # the suggested value


def test_divergence_from_unscaled_inputs_names_the_input_scale():
    x = X * np.array([1e5, 1.0])

    def make():
        return model_for(SGD(learning_rate=0.01))

    with pytest.warns(UserWarning, match="look unscaled"):
        model, _, message, k = diverging_run(make, x, Y, epochs=3, batch_size=32)
    reference = trained_for(k, make, x, Y, epochs=3, batch_size=32)
    assert_same_weights(model, reference)
    first = message.splitlines()[1]
    assert first.startswith("Likely cause: the input scale") and "StandardScaler" in first
    assert f"{x.std(axis=0)[0]:.3g} (feature 0)" in first
    assert "Also check: the learning rate" in message


class FaultyAfter(SGD):
    """SGD whose ``at``-th update leaves a NaN in the weights although the loss was finite."""

    def __init__(self, at, **kwargs):
        super().__init__(**kwargs)
        self.at = at

    def apply(self, params, grads):
        super().apply(params, grads)
        if self.iterations == self.at:
            params[0].flat[0] = np.nan


@pytest.mark.parametrize("at, epochs", [(5, 3), (20, 2)])  # mid-epoch; the very last step of training
def test_a_non_finite_update_with_a_finite_loss_is_found_by_replaying_the_epoch(at, epochs):
    # 320 samples: 10 steps per epoch, so update 20 is the last one of the 2-epoch run.
    model = model_for(FaultyAfter(at, learning_rate=0.1))
    with pytest.warns(DivergenceWarning, match="recomputed from the start of the epoch") as record:
        model.fit(X, Y, epochs=epochs, batch_size=32, verbose=0)
    message = str(record[0].message)
    assert model.optimizer.iterations == at - 1
    reference = trained_for(at - 1, lambda: model_for(SGD(learning_rate=0.1)), X, Y, epochs=epochs, batch_size=32)
    assert_same_weights(model, reference)
    assert f"at batch {(at - 1) % 10 + 1}/10" in message


def test_weights_broken_by_a_callback_are_recomputed_and_said_so():
    class Corrupt(Callback):
        def on_batch_begin(self, batch, logs=None):
            if batch == 3:
                self.model.layers[0].params["kernel"][0, 0] = np.nan

    model = model_for(SGD(learning_rate=0.1))
    with pytest.warns(DivergenceWarning, match="outside the training steps"):
        model.fit(X, Y, epochs=2, batch_size=32, verbose=0, callbacks=[Corrupt()])
    reference = trained_for(3, lambda: model_for(SGD(learning_rate=0.1)), X, Y, epochs=2, batch_size=32)
    assert_same_weights(model, reference)


def test_divergence_warning_can_be_made_an_error_and_the_state_is_still_restored():
    model = model_for(SGD(learning_rate=1e4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        with pytest.raises(DivergenceWarning, match="Likely cause"):
            model.fit(X, Y, epochs=2, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_negative_soft_targets_are_named_as_the_cause():
    y = np.eye(4)[Y] * 2.0 - 0.5  # not probabilities: the cross-entropy is unbounded below
    model = model_for(SGD(learning_rate=1.0), loss=CategoricalCrossentropy(from_logits=True))
    with pytest.warns(DivergenceWarning, match=r"Likely cause: the targets: they include negative values"):
        history = model.fit(X, y, epochs=200, batch_size=32, verbose=0)
    assert len(history.epoch) < 200


def test_sklearn_estimator_diverges_the_same_way():
    clf = SoftmaxClassifier(optimizer="sgd", learning_rate=1e6, epochs=3, random_state=0)
    with pytest.warns(DivergenceWarning, match="Likely cause: the learning rate"):
        clf.fit(X, Y)
    assert all(np.isfinite(w).all() for w in clf.model_.get_weights())
    assert np.isfinite(clf.predict_proba(X)).all()


# =========================================================================== interruption
def test_keyboard_interrupt_from_a_callback_keeps_the_last_completed_step_and_the_history():
    class Interrupt(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.model.optimizer.iterations == 13:  # epoch 1 (0-based), batch 2
                raise KeyboardInterrupt

    model = model_for(SGD(learning_rate=0.1))
    with pytest.raises(KeyboardInterrupt) as info:
        model.fit(X, Y, epochs=3, batch_size=32, verbose=0, callbacks=[Interrupt()])
    message = str(info.value)
    assert "epoch 2/3, batch 3/10" in message and "optimizer.iterations=13" in message
    assert "model.history holds the 1 completed epoch." in message
    reference = trained_for(13, lambda: model_for(SGD(learning_rate=0.1)), X, Y, epochs=3, batch_size=32)
    assert_same_weights(model, reference)
    one_epoch = model_for(SGD(learning_rate=0.1))
    one_epoch.fit(X, Y, epochs=1, batch_size=32, verbose=0)
    assert model.history.epoch == [0]
    assert model.history.history == one_epoch.history.history


class HalfwayInterrupt(SGD):
    """SGD that receives ``signals`` SIGINTs halfway through its update number ``at``."""

    def __init__(self, at, signals, **kwargs):
        super().__init__(**kwargs)
        self.at, self.signals = at, signals

    def _update(self, p, g, state, c):
        if self.iterations + 1 != self.at:
            return super()._update(p, g, state, c)
        p, g = p.reshape(-1), g.reshape(-1)  # the arithmetic of SGD._update, in two halves
        half = p.size // 2
        g *= c[0]
        p[:half] -= g[:half]
        for _ in range(self.signals):
            signal.raise_signal(signal.SIGINT)
        p[half:] -= g[half:]


main_thread_only = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread() or not hasattr(signal, "raise_signal"),
    reason="SIGINT is delivered to the main thread",
)


@main_thread_only
def test_ctrl_c_in_the_middle_of_an_update_finishes_that_step_first():
    model = model_for(HalfwayInterrupt(at=4, signals=1, learning_rate=0.1))
    with pytest.raises(KeyboardInterrupt, match=r"last completed step \(epoch 1/2, batch 4/10"):
        model.fit(X, Y, epochs=2, batch_size=32, verbose=0)
    reference = trained_for(4, lambda: model_for(SGD(learning_rate=0.1)), X, Y, epochs=2, batch_size=32)
    assert_same_weights(model, reference)
    assert model.optimizer.iterations == 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # fit put the handler back


@main_thread_only
def test_a_second_ctrl_c_aborts_at_once_and_goes_back_to_the_start_of_the_epoch():
    model = model_for(HalfwayInterrupt(at=14, signals=2, learning_rate=0.1))
    with pytest.raises(KeyboardInterrupt, match=r"put back to the start of epoch 2/3 \(optimizer.iterations=10\)"):
        model.fit(X, Y, epochs=3, batch_size=32, verbose=0)
    reference = trained_for(10, lambda: model_for(SGD(learning_rate=0.1)), X, Y, epochs=3, batch_size=32)
    assert_same_weights(model, reference)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


RESUME_SCRIPT = textwrap.dedent(
    """
    import os, sys, json
    import numpy as np
    import logitnet as ln
    backup, out, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(0)
    centers = np.array([[-2.0, 1.0], [-1.0, -1.0], [0.5, 1.0], [2.0, -1.0]])
    y = rng.integers(0, 4, size=300)
    x = centers[y] + 0.5 * rng.normal(size=(300, 2))
    model = ln.Sequential([ln.Dense(16, activation="relu"), ln.Dense(4)], seed=7)
    model.compile(optimizer="adam", loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True))
    def crash(batch, logs):
        if model.optimizer.iterations == kill_at:
            os._exit(3)  # a hard crash: no cleanup, no on_train_end
    callbacks = [ln.callbacks.BackupAndRestore(backup), ln.callbacks.LambdaCallback(on_batch_end=crash)]
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0, callbacks=callbacks)
    np.save(out, np.concatenate([w.ravel() for w in model.get_weights()]))
    print(json.dumps({"epochs": history.epoch, "iterations": model.optimizer.iterations}))
    """
)


def run_script(code, *args, timeout=120, fresh=False):
    """Run ``code`` in a new interpreter; ``fresh`` starts it from a small launcher process.

    A process's ``ru_maxrss`` starts from the peak of the process it was forked from (Linux
    keeps the high-water mark across exec), so a child of the test process would inherit the
    test process's memory; a child of a bare launcher inherits only the launcher's ~10 MB.
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=os.path.join(ROOT, "src"))
    command = [sys.executable, "-c", code, *map(str, args)]
    if fresh:
        launcher = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
        command = [sys.executable, "-S", "-c", launcher, *command]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)


def test_a_killed_run_resumes_from_its_backup_to_the_same_final_weights(tmp_path):
    backup = tmp_path / "backup"
    # 10 steps per epoch: update 35 is in the middle of epoch 4 (0-based 3), after 3 backed-up epochs.
    killed = run_script(RESUME_SCRIPT, backup, tmp_path / "never.npy", 35)
    assert killed.returncode == 3, killed.stderr
    assert (backup / "latest.logitnet").exists() and not (tmp_path / "never.npy").exists()
    resumed = run_script(RESUME_SCRIPT, backup, tmp_path / "resumed.npy", -1)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"epochs": [3, 4, 5], "iterations": 60}
    assert not backup.exists()  # a finished run deletes its backup
    straight = run_script(RESUME_SCRIPT, tmp_path / "other", tmp_path / "straight.npy", -1)
    assert straight.returncode == 0, straight.stderr
    assert json.loads(straight.stdout) == {"epochs": [0, 1, 2, 3, 4, 5], "iterations": 60}
    np.testing.assert_array_equal(np.load(tmp_path / "resumed.npy"), np.load(tmp_path / "straight.npy"))


def test_backup_and_restore_keeps_the_backup_after_an_interrupt_and_resumes_in_process(tmp_path):
    backup = tmp_path / "b"

    class Interrupt(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.model.optimizer.iterations == 25:
                raise KeyboardInterrupt

    model = model_for(SGD(learning_rate=0.1))
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=4, batch_size=32, verbose=0, callbacks=[BackupAndRestore(backup), Interrupt()])
    assert (backup / "latest.logitnet").exists()
    fresh = model_for(SGD(learning_rate=0.1))
    history = fresh.fit(X, Y, epochs=4, batch_size=32, verbose=0, callbacks=[BackupAndRestore(backup)])
    assert history.epoch == [2, 3]
    straight = model_for(SGD(learning_rate=0.1))
    straight.fit(X, Y, epochs=4, batch_size=32, verbose=0)
    assert_same_weights(fresh, straight)
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore(backup, save_freq=10)


# =========================================================================== threads
def test_many_threads_predicting_and_evaluating_with_one_model_give_the_sequential_results():
    model = model_for(metrics=[SparseCategoricalAccuracy()])
    model.fit(X, Y, epochs=2, verbose=0)
    chunks = [np.roll(X, k, axis=0)[: 50 + 10 * k] for k in range(8)]
    labels = [np.roll(Y, k)[: 50 + 10 * k] for k in range(8)]
    expected = [model.predict(c, batch_size=16) for c in chunks]
    expected_eval = [model.evaluate(c, t, batch_size=16, verbose=0) for c, t in zip(chunks, labels)]
    results, errors = {}, []
    barrier = threading.Barrier(8)

    def work(k):
        try:
            barrier.wait()
            for _ in range(20):
                predicted = model.predict(chunks[k], batch_size=16)
                evaluated = model.evaluate(chunks[k], labels[k], batch_size=16, verbose=0)
                results.setdefault(k, []).append((predicted, evaluated))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(8):
        for predicted, evaluated in results[k]:
            np.testing.assert_array_equal(predicted, expected[k])
            assert evaluated == expected_eval[k]


def test_evaluate_from_another_thread_during_training_does_not_disturb_training():
    def run(probe):
        model = model_for(metrics=[SparseCategoricalAccuracy()])
        callbacks = []
        if probe:
            def evaluate_elsewhere(batch, logs):
                t = threading.Thread(target=model.evaluate, args=(X[:40], Y[:40]), kwargs={"verbose": 0})
                t.start()
                t.join()

            callbacks = [LambdaCallback(on_batch_end=evaluate_elsewhere)]
        return model.fit(X, Y, epochs=2, verbose=0, callbacks=callbacks).history

    assert run(probe=True) == run(probe=False)


# =========================================================================== out-of-core data
class CountingArray:
    """A sliceable array-like (no ndarray): records the rows of every read."""

    def __init__(self, data):
        self._data = data
        self.shape, self.dtype = data.shape, data.dtype
        self.reads = []

    def __getitem__(self, key):
        out = self._data[key]
        self.reads.append(len(out) if np.ndim(out) == 2 else 1)
        return out


def test_a_memmap_trains_evaluates_and_predicts_exactly_like_the_array_in_memory(tmp_path):
    x = np.random.default_rng(1).normal(size=(700, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0)
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")

    def run(data):
        model = model_for(metrics=["accuracy"])
        history = model.fit(data, y, epochs=3, batch_size=37, verbose=0, validation_split=0.2)
        return model, history

    a, ha = run(x)
    b, hb = run(mm)
    assert_same_weights(a, b)
    assert ha.history == hb.history
    np.testing.assert_array_equal(a.predict(x), b.predict(mm))
    assert a.evaluate(x, y, verbose=0) == b.evaluate(mm, y, verbose=0)
    assert isinstance(b._check_x(mm, stream=True), RowSource)


def test_any_sliceable_array_like_is_read_one_batch_at_a_time():
    x = np.random.default_rng(2).normal(size=(2000, 3))
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0)
    counting = CountingArray(x)
    reference = model_for()
    reference.fit(x, y, epochs=2, batch_size=64, verbose=0, validation_split=0.25)
    model = model_for()
    checks = LambdaCallback(on_train_begin=lambda logs: counting.reads.append("training"))
    model.fit(counting, y, epochs=2, batch_size=64, verbose=0, validation_split=0.25, callbacks=[checks])
    assert_same_weights(model, reference)
    training = counting.reads[counting.reads.index("training") + 1:]
    # 24 training batches and 8 validation batches per epoch, none larger than a batch
    assert len(training) == 2 * (24 + 8) and max(training) == 64
    counting.reads.clear()
    np.testing.assert_array_equal(model.predict(counting, batch_size=100), reference.predict(x, batch_size=100))
    assert counting.reads[1:] == [100] * 20  # after the one 4 MB check block


def test_a_nan_in_a_memmap_is_found_block_by_block_and_named(tmp_path):
    x = np.zeros((300_000, 4), dtype=np.float32)  # two 4 MB blocks: the NaN is in the second
    x[280_001, 2] = np.nan
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    with pytest.raises(ValueError, match=r"`x` contains NaN or infinity \(first at row 280001, column 2"):
        model_for().fit(mm, np.zeros(len(mm), dtype=int), verbose=0)


MEMMAP_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    import logitnet as ln
    x = np.load(sys.argv[1], mmap_mode="r")
    y = np.load(sys.argv[2])
    model = ln.Sequential([ln.Dense(16, activation="relu"), ln.Dense(4)], seed=0)
    model.compile(optimizer=ln.optimizers.Adam(learning_rate=0.01),
                  loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=8192, epochs=1, verbose=0, validation_split=0.05)
    accuracy = float((model.predict(x).argmax(axis=1) == y).mean())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(json.dumps({"peak": peak, "accuracy": accuracy, "val_loss": history.history["val_loss"][0]}))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="uses resource.getrusage")
def test_a_2gb_float32_memmap_trains_with_peak_memory_far_below_its_size(tmp_path):
    n_features, base_rows, repeats = 256, 1 << 16, 32  # 2 GiB of float32
    rows = base_rows * repeats
    path = tmp_path / "x.npy"
    header = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, n_features))
    offset = header.offset
    del header  # a sparse file of the right size, with its .npy header; filled block by block below
    rng = np.random.default_rng(0)
    y_base = rng.integers(0, 4, size=base_rows)
    block = rng.standard_normal((base_rows, n_features), dtype=np.float32)
    block[:, :2] += 3.0 * np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float32)[y_base]
    raw = block.tobytes()
    del block
    try:
        with open(path, "r+b") as f:
            f.seek(offset)
            for _ in range(repeats):
                f.write(raw)
        np.save(tmp_path / "y.npy", np.tile(y_base.astype(np.int8), repeats))
        size = os.path.getsize(path)
        assert size >= 2 * 1024**3
        done = run_script(MEMMAP_SCRIPT, path, tmp_path / "y.npy", timeout=600, fresh=True)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
    finally:
        os.remove(path)
    assert result["peak"] < size / 8, f"peak RSS {result['peak'] / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file"
    assert result["accuracy"] > 0.99 and result["val_loss"] < 0.1  # it did train on the data


SIGINT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import logitnet as ln
    out = sys.argv[1]
    rng = np.random.default_rng(0)  # the data of blobs() above
    centers = np.array([[-2.0, 1.0], [-1.0, -1.0], [0.5, 1.0], [2.0, -1.0]])
    y = rng.integers(0, 4, size=320)
    x = centers[y] + 0.5 * rng.normal(size=(320, 2))
    model = ln.Sequential([ln.Dense(8, activation="relu"), ln.Dense(4)], seed=0)  # model_for() above
    model.compile(optimizer="adam", loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True))
    started = ln.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epoch == 0 and print("started", flush=True))
    try:
        model.fit(x, y, epochs=100000, batch_size=32, verbose=0, callbacks=[started])
    except KeyboardInterrupt as exc:
        np.savez(out + ".npz", *model.get_weights())
        model.save(out + ".logitnet")
        print(json.dumps({"message": str(exc), "iterations": model.optimizer.iterations,
                          "epochs": len(model.history.epoch)}), flush=True)
        sys.exit(0)
    sys.exit(5)  # training finished: the signal never arrived
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(pid, SIGINT) is POSIX")
def test_a_subprocess_receiving_sigint_in_the_middle_of_fit_exits_cleanly_with_usable_weights(tmp_path):
    out = str(tmp_path / "interrupted")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=os.path.join(ROOT, "src"))
    child = subprocess.Popen([sys.executable, "-c", SIGINT_SCRIPT, out], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = child.stdout.readline()  # blocks until the first epoch has ended (or the child died)
        assert first == "started\n", (first, child.stderr.read() if child.poll() is not None else "")
        os.kill(child.pid, signal.SIGINT)  # a real Ctrl-C, delivered by the OS in the middle of fit
        stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, stderr
    assert "Traceback" not in stderr
    report = json.loads(stdout)
    k = report["iterations"]
    message = report["message"]
    assert message.startswith("Training interrupted. The model keeps the weights of the last completed step")
    where = re.search(r"\(epoch (\d+)/100000, batch (\d+)/10; optimizer.iterations=(\d+)\)", message)
    assert where, message
    epoch, batch = int(where[1]), int(where[2])
    assert k >= 10 and int(where[3]) == k and (epoch - 1) * 10 + batch == k  # 10 steps per epoch
    # A full last epoch is in the history if the signal arrived after its on_epoch_end (e.g. while printing "started").
    assert report["epochs"] in ((epoch - 1, epoch) if batch == 10 else (epoch - 1,))
    assert f"model.history holds the {report['epochs']} completed epoch" in message
    saved = np.load(out + ".npz")
    weights = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    assert all(np.isfinite(w).all() for w in weights)
    # Usable: the same weights as a plain run of exactly k steps, and a saved model that loads and predicts.
    reference = trained_for(k, model_for, X, Y, epochs=100000, batch_size=32)
    assert_same_weights_list(weights, reference.get_weights())
    loaded = ln.load_model(out + ".logitnet")
    assert_same_weights_list(loaded.get_weights(), weights)
    assert loaded.optimizer.iterations == k
    np.testing.assert_array_equal(loaded.predict(X), reference.predict(X))


def test_learning_rate_1e6_stops_with_finite_weights_and_names_the_learning_rate():
    def make():
        return model_for(SGD(learning_rate=1e6))

    model, history, message, k = diverging_run(make, X, Y, epochs=3, batch_size=32)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.optimizer.iterations == k
    assert "learning rate" in message and "learning_rate=1e+06" in message
