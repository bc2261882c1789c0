"""SoftmaxClassifier: scikit-learn's estimator checks, and its behaviour against independent references.

References: scipy's softmax/log_softmax/expit, float64 forward passes and
gradient steps written here in NumPy, scikit-learn's compute_class_weight,
and logitnet's Sequential driven by hand (for the wiring of seeds,
epochs and optimizer state).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.special import expit, log_softmax, softmax
from sklearn.base import clone
from sklearn.datasets import load_iris, make_blobs
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.estimator_checks import parametrize_with_checks

import logitnet as ln
from logitnet.sklearn import SoftmaxClassifier

SRC = os.path.join(os.path.dirname(__file__), os.pardir, "src")


def _expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "Minibatch training: a sample of weight k sits in one batch, while k copies of it are spread over "
            "several batches and shuffles, so the two fits agree only in expectation (scikit-learn's own "
            "SGDClassifier is marked the same way). Weight 0 is exactly removal: see "
            "test_zero_weight_equals_removal; weights scale gradients as Keras does: see "
            "test_one_sgd_step_matches_hand_computation."
        ),
    }


@parametrize_with_checks([SoftmaxClassifier()], expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": os.path.abspath(SRC), **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120)


def test_array_api_check_passes_when_scipy_array_api_is_enabled():
    # parametrize_with_checks skips this check unless SCIPY_ARRAY_API=1 is set before scipy is imported.
    code = (
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from logitnet.sklearn import SoftmaxClassifier\n"
        "check_array_api_input('SoftmaxClassifier', SoftmaxClassifier(random_state=0), array_namespace='numpy',"
        " expect_only_array_outputs=False)\n"
        "print('ok')\n"
    )
    result = _run(code, SCIPY_ARRAY_API="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_logitnet_does_not_import_sklearn_and_missing_sklearn_names_the_extra():
    code = (
        "import sys\n"
        "import logitnet\n"
        "assert 'sklearn' not in sys.modules, 'import logitnet imported sklearn'\n"
        "sys.modules['sklearn'] = None  # as if scikit-learn were not installed\n"
        "try:\n"
        "    import logitnet.sklearn\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert "SoftmaxClassifier needs scikit-learn: pip install 'logitnet[sklearn]'" in result.stdout


# ----------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def fitted(iris):
    X, y = iris
    return SoftmaxClassifier(hidden_layer_sizes=(8, 6), epochs=30, random_state=0).fit(X, y)


def _forward64(clf, X):
    """Float64 forward pass with ReLU hidden layers, from the estimator's weights."""
    weights = clf.model_.get_weights()
    h = np.asarray(X, dtype=np.float32).astype(np.float64)
    for i in range(0, len(weights), 2):
        h = h @ weights[i].astype(np.float64) + weights[i + 1].astype(np.float64)
        if i + 2 < len(weights):
            h = np.maximum(h, 0.0)
    return h


# ----------------------------------------------------------------------------- outputs
def test_outputs_are_logits_softmax_and_log_softmax(fitted, iris):
    X, _ = iris
    z = _forward64(fitted, X)
    np.testing.assert_allclose(fitted.decision_function(X), z, rtol=1e-12, atol=1e-12)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba, softmax(z, axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fitted.predict_log_proba(X), log_softmax(fitted.decision_function(X), axis=1),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(fitted.predict(X), np.argmax(z, axis=1))


def test_log_proba_stays_finite_where_probabilities_underflow(iris):
    X, y = iris
    clf = SoftmaxClassifier(hidden_layer_sizes=(), epochs=5, random_state=0).fit(X, y)
    kernel, bias = clf.model_.get_weights()
    clf.model_.set_weights([kernel * 2000.0, bias])  # logit gaps of thousands
    z = clf.decision_function(X)
    assert np.ptp(z, axis=1).max() > 1000
    assert (clf.predict_proba(X) == 0.0).any()  # exp underflows in float64 ...
    log_p = clf.predict_log_proba(X)
    assert np.isfinite(log_p).all()  # ... but the log-probabilities are exact
    np.testing.assert_allclose(log_p, log_softmax(z, axis=1), rtol=1e-12, atol=1e-12)


def test_binary_problem_gives_two_probability_columns_and_sklearn_decision_shape():
    X, y = make_blobs(n_samples=120, centers=2, random_state=1)
    labels = np.where(y == 1, "yes", "no")
    clf = SoftmaxClassifier(hidden_layer_sizes=(5,), epochs=20, random_state=0).fit(X, labels)
    z = _forward64(clf, X)
    assert z.shape == (120, 2)  # two logits and a softmax, not one sigmoid unit
    decision = clf.decision_function(X)
    assert decision.shape == (120,)
    np.testing.assert_allclose(decision, z[:, 1] - z[:, 0], rtol=1e-12, atol=1e-12)
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba[:, 1], expit(decision), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(clf.predict(X), np.where(decision > 0, "yes", "no"))
    assert list(clf.classes_) == ["no", "yes"]


@pytest.mark.parametrize("labels", [np.array(["setosa", "versicolor", "virginica"]), np.array([-7, 3, 1000])])
def test_labels_round_trip_in_their_own_space(iris, labels):
    X, y = iris
    clf = SoftmaxClassifier(hidden_layer_sizes=(8,), epochs=40, learning_rate=0.01, random_state=0).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, labels)
    predicted = clf.predict(X)
    assert predicted.dtype == labels.dtype
    assert set(predicted) <= set(labels)
    assert np.mean(predicted == labels[y]) > 0.9


def test_dataframe_feature_names_and_series_labels(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    labels = pd.Series(np.array(["a", "b", "c"])[y])
    clf = SoftmaxClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0).fit(frame, labels)
    np.testing.assert_array_equal(clf.feature_names_in_, ["sl", "sw", "pl", "pw"])
    assert clf.n_features_in_ == 4
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(clf.predict(frame), clf.predict(X))
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[["sw", "sl", "pl", "pw"]])


def test_empty_input_gives_empty_outputs(fitted):
    empty = np.zeros((0, 4))
    assert fitted.predict(empty).shape == (0,)
    assert fitted.predict_proba(empty).shape == (0, 3)
    assert fitted.predict_log_proba(empty).shape == (0, 3)
    assert fitted.decision_function(empty).shape == (0, 3)


# ----------------------------------------------------------------------------- attributes and training wiring
def test_fit_sets_attributes_and_matches_sequential_with_the_same_seed(iris):
    X, y = iris
    clf = SoftmaxClassifier(hidden_layer_sizes=(7,), activation="tanh", epochs=4, batch_size=16,
                            learning_rate=0.01, random_state=3).fit(X, y)
    assert isinstance(clf.model_, ln.Sequential)
    assert clf.n_iter_ == 4 and len(clf.history_["loss"]) == 4
    assert clf.n_features_in_ == 4
    # MLPClassifier's bias initialisation, written out: U(-b, b), b = sqrt(6 / (fan_in + fan_out)) for tanh.
    hidden_bias = ln.initializers.RandomUniform(-np.sqrt(6.0 / (4 + 7)), np.sqrt(6.0 / (4 + 7)))
    output_bias = ln.initializers.RandomUniform(-np.sqrt(6.0 / (7 + 3)), np.sqrt(6.0 / (7 + 3)))
    model = ln.Sequential([ln.Dense(7, activation="tanh", bias_initializer=hidden_bias),
                           ln.Dense(3, bias_initializer=output_bias)], seed=3)
    model.compile(optimizer=ln.optimizers.Adam(learning_rate=0.01),
                  loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(X, y, batch_size=16, epochs=4, verbose=0)
    for ours, reference in zip(clf.model_.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, reference)
    np.testing.assert_allclose(clf.history_["loss"], history.history["loss"], rtol=1e-12)


def _hand_initial_weights(seed, widths, factor):
    """Draws in build order from default_rng(seed): per layer a Glorot-uniform kernel, then U(-b, b) biases."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))  # Keras's glorot_uniform, whatever the activation
        bound = np.sqrt(factor / (fan_in + fan_out))  # MLPClassifier's _init_coef
        weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return weights


@pytest.mark.parametrize(
    "hidden, activation, factor",
    [((25, 15), "relu", 6.0), ((9,), "tanh", 6.0), ((12, 5), "sigmoid", 2.0), ((), "relu", 6.0)],
)
def test_initial_biases_are_mlpclassifiers_uniform_draws(hidden, activation, factor):
    n_features, classes = 6, ["a", "b", "c", "d"]
    clf = SoftmaxClassifier(hidden_layer_sizes=hidden, activation=activation, random_state=7)
    clf.partial_fit(np.zeros((0, n_features)), [], classes=classes)  # builds the network, trains nothing
    widths = (n_features, *hidden, len(classes))
    initial = clf.model_.get_weights()
    for ours, expected in zip(initial, _hand_initial_weights(7, widths, factor)):
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours, expected)
    for k, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        bias = initial[2 * k + 1]
        bound = np.sqrt(factor / (fan_in + fan_out))
        assert np.all(np.abs(bias) <= np.float32(bound))
        assert np.count_nonzero(bias) == len(bias)  # not Keras's zeros
        assert np.ptp(bias) > 0.1 * bound  # spread over the interval, not a constant


def test_initial_biases_depend_on_the_seed_and_survive_pickling(iris):
    X, y = iris
    first = SoftmaxClassifier(hidden_layer_sizes=(8,), random_state=1).partial_fit(X[:0], y[:0], classes=[0, 1, 2])
    second = SoftmaxClassifier(hidden_layer_sizes=(8,), random_state=2).partial_fit(X[:0], y[:0], classes=[0, 1, 2])
    assert not np.array_equal(first.model_.get_weights()[1], second.model_.get_weights()[1])
    copy = pickle.loads(pickle.dumps(first))
    for a, b in zip(copy.model_.get_weights(), first.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    copy.partial_fit(X, y)
    first.partial_fit(X, y)
    for a, b in zip(copy.model_.get_weights(), first.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_refits_with_an_int_random_state_are_bit_identical(iris):
    X, y = iris
    clf = SoftmaxClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=11)
    first = [w.copy() for w in clf.fit(X, y).model_.get_weights()]
    second = clf.fit(X, y).model_.get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    other = SoftmaxClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=12).fit(X, y)
    assert not np.array_equal(first[0], other.model_.get_weights()[0])
    # A Generator is used as is: default_rng(11) is what random_state=11 means.
    generator = SoftmaxClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=np.random.default_rng(11))
    np.testing.assert_array_equal(generator.fit(X, y).model_.get_weights()[0], first[0])
    legacy = SoftmaxClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=np.random.RandomState(0))
    assert legacy.fit(X, y).n_iter_ == 5


def test_partial_fit_keeps_optimizer_state_so_two_calls_equal_two_epochs(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(8,), batch_size=20, random_state=5)
    whole = SoftmaxClassifier(epochs=2, **params).fit(X, y)
    parts = SoftmaxClassifier(**params)
    parts.partial_fit(X, y, classes=[0, 1, 2])
    parts.partial_fit(X, y)
    assert parts.n_iter_ == 2 and len(parts.history_["loss"]) == 2
    assert parts.model_.optimizer.iterations == whole.model_.optimizer.iterations == 16
    for a, b in zip(parts.model_.get_weights(), whole.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_warm_start_continues_and_cold_fit_restarts(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(8,), random_state=2)
    five = SoftmaxClassifier(epochs=5, **params).fit(X, y)
    warm = SoftmaxClassifier(epochs=3, warm_start=True, **params).fit(X, y)
    warm.set_params(epochs=2).fit(X, y)
    assert warm.n_iter_ == 5 and len(warm.history_["loss"]) == 5
    for a, b in zip(warm.model_.get_weights(), five.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    cold = warm.set_params(warm_start=False).fit(X, y)
    assert cold.n_iter_ == 2
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        SoftmaxClassifier(epochs=1, warm_start=True, **params).fit(X, y).set_params(hidden_layer_sizes=(4,)).fit(X, y)


def test_partial_fit_class_handling(iris):
    X, y = iris
    clf = SoftmaxClassifier(hidden_layer_sizes=(4,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:0], y[:0], classes=np.array([2, 0, 1]))  # an empty first block sets up the network
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_iter_ == 0 and clf.model_.optimizer.iterations == 0
    clf.partial_fit(X[y == 0], y[y == 0])  # a block holding one class is fine
    assert clf.n_iter_ == 1
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"not among the classes \[0, 1, 2\]: \[7\]"):
        clf.partial_fit(X[:3], np.array([0, 7, 1]))
    with pytest.raises(ValueError, match="balanced"):
        SoftmaxClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_early_stopping_restores_the_best_epoch_and_stops_after_patience():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 10))
    y = rng.integers(0, 3, size=120)  # pure noise: the validation loss soon rises
    clf = SoftmaxClassifier(hidden_layer_sizes=(64, 64), epochs=300, learning_rate=0.01, early_stopping=True,
                            patience=4, random_state=0).fit(X, y)
    val = np.asarray(clf.history_["val_loss"])
    assert len(val) == clf.n_iter_ == len(clf.history_["loss"]) < 300
    assert int(np.argmin(val)) == clf.n_iter_ - 1 - 4  # Keras: stop after `patience` epochs without improvement


def test_one_class_is_refused_with_a_message_about_classes():
    with pytest.raises(ValueError, match="at least 2 classes"):
        SoftmaxClassifier().fit(np.zeros((5, 2)), np.ones(5))


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes="25"), "hidden_layer_sizes"),
        (dict(activation="nope"), "activation"),
        (dict(epochs=0), "epochs"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(optimizer="lbfgs"), "optimizer"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(early_stopping="yes"), "early_stopping"),
        (dict(patience=0), "patience"),
        (dict(class_weight="auto"), "class_weight"),
        (dict(class_weight={5: 2.0}), "class_weight"),
        (dict(warm_start=1), "warm_start"),
        (dict(random_state=-1), "random_state"),
        (dict(verbose=3), "verbose"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(alpha=-1e-4), "alpha"),
        (dict(alpha="l2"), "alpha"),
    ],
)
def test_invalid_hyperparameters_are_named(iris, params, name):
    X, y = iris
    with pytest.raises(ValueError, match=f"`{name}`|{name}"):
        SoftmaxClassifier(**{"epochs": 1, **params}).fit(X, y)


# ----------------------------------------------------------------------------- weights
def _one_sgd_step(W0, b0, X, y_index, weights, lr, n_classes):
    """W, b after one full-batch SGD step on sum(w * CE) / batch_size, in float64."""
    X = X.astype(np.float32).astype(np.float64)
    p = softmax(X @ W0 + b0, axis=1)
    delta = (p - np.eye(n_classes)[y_index]) * weights[:, None] / len(X)
    return W0 - lr * X.T @ delta, b0 - lr * delta.sum(axis=0)


def _initial_weights(**params):
    clf = SoftmaxClassifier(**params).partial_fit(np.zeros((0, 4)), np.zeros(0), classes=["a", "b", "c"])
    return [w.astype(np.float64) for w in clf.model_.get_weights()]


def test_one_sgd_step_matches_hand_computation(iris):
    X, y = iris
    labels = np.array(["a", "b", "c"])[y]
    sw = np.random.default_rng(1).uniform(0.0, 3.0, size=len(y))
    sw[:5] = 0.0  # weight 0: the row is dropped, so the batch is 145 rows
    params = dict(hidden_layer_sizes=(), optimizer="sgd", learning_rate=0.5, batch_size=1000, random_state=4,
                  class_weight={"a": 2.0, "c": 0.5})
    W0, b0 = _initial_weights(**params)
    clf = SoftmaxClassifier(**params).partial_fit(X, labels, classes=["a", "b", "c"], sample_weight=sw)
    per_class = np.array([2.0, 1.0, 0.5])
    keep = sw > 0
    W1, b1 = _one_sgd_step(W0, b0, X[keep], y[keep], (sw * per_class[y])[keep], 0.5, 3)
    W, b = clf.model_.get_weights()
    np.testing.assert_allclose(W, W1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, b1, rtol=1e-5, atol=1e-6)


def test_alpha_adds_mlpclassifiers_l2_penalty_to_the_step(iris):
    # scikit-learn's MLP adds 0.5 * alpha * ||W||^2 / n to a batch of n samples: the gradient gains alpha * W / n.
    X, y = iris
    alpha, lr = 3.0, 0.5
    params = dict(hidden_layer_sizes=(), optimizer="sgd", learning_rate=lr, batch_size=150, random_state=4, alpha=alpha)
    W0, b0 = _initial_weights(**params)
    clf = SoftmaxClassifier(**params).partial_fit(X, y, classes=[0, 1, 2])
    W1, b1 = _one_sgd_step(W0, b0, X, y, np.ones(150), lr, 3)
    W, b = clf.model_.get_weights()
    np.testing.assert_allclose(W, W1 - lr * alpha / 150 * W0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, b1, rtol=1e-5, atol=1e-6)  # biases are not penalised
    Xf = X.astype(np.float32).astype(np.float64)
    data_loss = -np.mean(log_softmax(Xf @ W0 + b0, axis=1)[np.arange(150), y])
    assert clf.history_["loss"][0] == pytest.approx(data_loss + 0.5 * alpha * np.sum(W0**2) / 150, rel=1e-5)


def test_dropout_regularises_training_only(iris):
    X, y = iris
    plain = SoftmaxClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0).fit(X, y)
    zero = SoftmaxClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0, dropout=0.0).fit(X, y)
    dropped = SoftmaxClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0, dropout=0.5).fit(X, y)
    assert [type(layer).__name__ for layer in dropped.model_.layers] == ["Dense", "Dropout", "Dense"]
    assert plain.history_ == zero.history_
    assert dropped.history_["loss"] != plain.history_["loss"]
    np.testing.assert_array_equal(dropped.predict_proba(X), dropped.predict_proba(X))
    again = SoftmaxClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0, dropout=0.5).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), dropped.predict_proba(X))
    restored = pickle.loads(pickle.dumps(dropped))
    np.testing.assert_array_equal(restored.predict_proba(X), dropped.predict_proba(X))


def test_balanced_class_weight_equals_compute_class_weight(iris):
    X, y = iris
    keep = np.r_[np.arange(50), np.arange(50, 70), np.arange(100, 150)]  # unbalanced: 50 / 20 / 50
    X, y = X[keep], y[keep]
    labels = np.array(["a", "b", "c"])[y]
    sw = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    params = dict(hidden_layer_sizes=(), optimizer="sgd", learning_rate=0.5, batch_size=1000, random_state=4)
    W0, b0 = _initial_weights(**params)
    clf = SoftmaxClassifier(epochs=1, class_weight="balanced", **params).fit(X, labels, sample_weight=sw)
    expected = compute_class_weight("balanced", classes=np.array(["a", "b", "c"]), y=labels, sample_weight=sw)
    W1, b1 = _one_sgd_step(W0, b0, X, y, expected[y] * sw, 0.5, 3)
    W, b = clf.model_.get_weights()
    np.testing.assert_allclose(W, W1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, b1, rtol=1e-5, atol=1e-6)


def test_zero_weight_equals_removal(iris):
    X, y = iris
    sw = np.ones(len(y))
    sw[::7] = 0.0
    params = dict(hidden_layer_sizes=(8,), epochs=3, random_state=9)
    weighted = SoftmaxClassifier(**params).fit(X, y, sample_weight=sw)
    removed = SoftmaxClassifier(**params).fit(X[sw > 0], y[sw > 0])
    for a, b in zip(weighted.model_.get_weights(), removed.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- scikit-learn tooling
def test_pickle_round_trip_is_small_and_training_continues_identically(iris):
    X, y = iris
    clf = SoftmaxClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, y)
    blob = pickle.dumps(clf)
    n_weight_bytes = sum(w.nbytes for w in clf.model_.get_weights())
    assert len(blob) < 3 * n_weight_bytes + 8000  # weights, two Adam slots and a little bookkeeping
    copy = pickle.loads(blob)
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    copy.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert copy.model_.optimizer.iterations == clf.model_.optimizer.iterations
    for a, b in zip(copy.model_.get_weights(), clf.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_clone_keeps_parameters_and_drops_fitted_state(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "model_") and not hasattr(copy, "classes_")


def test_pipeline_grid_search_with_two_processes_and_cross_val_score(iris):
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), SoftmaxClassifier(epochs=60, random_state=0))
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, X, y, cv=cv)
    assert scores.shape == (3,) and scores.min() > 0.85
    grid = {"softmaxclassifier__hidden_layer_sizes": [(4,), (16, 8)],
            "softmaxclassifier__learning_rate": [1e-3, 1e-2]}
    search = GridSearchCV(pipe, grid, cv=cv, n_jobs=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.9
    best = search.best_estimator_[-1]
    assert best.get_params()["hidden_layer_sizes"] == search.best_params_["softmaxclassifier__hidden_layer_sizes"]
    assert search.score(X, y) > 0.9


def test_compare_mlp_example_runs(monkeypatch):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "examples"))
    try:
        import compare_mlp
    finally:
        sys.path.pop(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = compare_mlp.main(["--setting", "fixed", "--seeds", "2", "--epochs", "3"])
    assert [r["dataset"] for r in rows] == ["digits", "iris", "wine"]
    assert all(0.0 <= r["acc_ours"] <= 1.0 and r["sec_ours"] > 0 for r in rows)
