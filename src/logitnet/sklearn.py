"""``SoftmaxClassifier``: a scikit-learn estimator over logitnet's engine.

Importing this module imports scikit-learn (the ``logitnet[sklearn]`` extra);
``import logitnet`` does not. The estimator follows scikit-learn's
conventions: ``__init__`` only stores its arguments, learned state ends in
``_``, ``fit`` and ``partial_fit`` return ``self``, and ``predict`` answers in
the labels ``y`` was given in. It works in ``Pipeline``, ``GridSearchCV``,
``cross_val_score``, pickles small, and trains block by block under Dask-ML's
``Incremental`` through :meth:`SoftmaxClassifier.partial_fit`.

The network is ``Dense(units, activation)`` per hidden layer and a linear
output layer with one unit per class, trained on
``SparseCategoricalCrossentropy(from_logits=True)``: its outputs are logits
``z``. ``decision_function`` returns them, ``predict_proba`` is
``softmax(z)`` and ``predict_log_proba`` is ``log_softmax(z)``, never the log
of a rounded probability.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.model_selection import train_test_split
    from sklearn.utils.multiclass import check_classification_targets, unique_labels
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "SoftmaxClassifier needs scikit-learn: pip install 'logitnet[sklearn]' "
        f"(scikit-learn >= 1.6; the import failed with: {exc})"
    ) from exc

from . import ops
from ._sklearn_utils import (
    as_1d_sample_weight,
    build_network,
    check_hyperparameters,
    class_weight_vector,
    encode_labels,
    export_network,
    set_weight_penalty,
    extend_history,
    import_network,
    make_generator,
)
from .callbacks import EarlyStopping

__all__ = ["SoftmaxClassifier"]

_PREDICT_BATCH = 4096  # rows per forward pass when predicting


class SoftmaxClassifier(ClassifierMixin, BaseEstimator):
    """Multiclass neural-network classifier trained on the softmax cross-entropy of its logits.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (25, 15)
        Units of each hidden ``Dense`` layer; ``()`` gives multinomial
        logistic regression.
    activation : str, default "relu"
        Activation of the hidden layers (any :mod:`logitnet.activations` name).
    epochs : int, default 200
        Passes over the training data per call to :meth:`fit` (fewer when
        early stopping ends training).
    batch_size : int, default 32
        Samples per gradient step; the last batch of an epoch may be smaller.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default "adam"
        With Keras's defaults for everything but the learning rate.
    learning_rate : float, default 1e-3
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified),
        stop when its loss has not improved for ``patience`` epochs, and keep
        the weights of the epoch with the lowest validation loss. Used by
        :meth:`fit` only.
    validation_fraction : float, default 0.1
    patience : int, default 10
    dropout : float in [0, 1), default 0.0
        Dropout rate after each hidden layer (:class:`logitnet.layers.Dropout`):
        a random fraction of the hidden units is zeroed in each training step,
        which regularises oversized networks. Inference is unaffected.
    alpha : float, default 0.0
        L2 penalty on the weights (not the biases), with MLPClassifier's
        meaning: ``0.5 * alpha * sum(W ** 2) / batch_size`` is added to each
        batch's loss, i.e. :func:`logitnet.regularizers.l2` with factor
        ``alpha / (2 * batch_size)`` on every kernel.
    class_weight : dict, "balanced" or None, default None
        ``{label: weight}`` (labels absent from the dict weigh 1), or
        ``"balanced"``: ``n_samples / (n_classes * count of the class)``,
        computed with the sample weights when given. Multiplies
        ``sample_weight``. ``"balanced"`` is refused by :meth:`partial_fit`.
    warm_start : bool, default False
        If True, :meth:`fit` continues training the current network (and its
        optimizer state) instead of starting a new one.
    random_state : int, numpy RandomState or Generator, or None, default None
        Seeds the initial weights, the shuffles and the validation split. An
        int makes refits bit-identical (the network is
        ``Sequential(..., seed=random_state)``).
    verbose : {0, 1, 2}, default 0
        0 is silent, 1 shows a progress bar per epoch, 2 prints one line per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted; ``predict`` returns values from it.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` was a DataFrame with string column names.
    model_ : logitnet.Sequential
        The float32 network; ``model_.predict(X)`` gives its logits.
    history_ : dict of str to list of float
        Per-epoch ``"loss"`` (and ``"val_loss"`` with early stopping) since the
        network was created; :meth:`fit` with ``warm_start`` and
        :meth:`partial_fit` append, NaN filling epochs without a value.
    n_iter_ : int
        Epochs trained since the network was created: ``epochs`` (or fewer,
        with early stopping) after a fresh :meth:`fit`, plus one per
        :meth:`partial_fit` call. Equals ``len(history_["loss"])``.

    Notes
    -----
    Initial weights: Glorot-uniform kernels, as in Keras, but biases drawn
    uniformly in ``+-sqrt(6 / (fan_in + fan_out))`` of
    their layer (factor 2 instead of 6 for ``activation="sigmoid"``,
    MLPClassifier's ``"logistic"``; the output layer uses the hidden
    layers' factor), which is MLPClassifier's rule, not Keras's zero biases.
    This is deliberate: it is the one difference between the two
    algorithms that changed held-out accuracy in paired tests (same kernels
    and shuffles, only the biases changed): zero biases lost
    0.0053 +- 0.0011 on iris (200 splits); on digits and wine the effect
    was at most 0.0016 either way. The biases come from the same generator
    as the kernels (kernel, then bias, layer by layer), so ``random_state``
    still makes fits bit-identical; they are
    :class:`logitnet.initializers.RandomUniform` ``(-b, b)`` on each
    ``Dense`` of ``model_``.

    The loss of a batch of size :math:`b` is Keras's
    :math:`\\frac{1}{b}\\sum_i w_i \\,(\\operatorname{logsumexp}(z_i) - z_{i,y_i})`,
    with :math:`w_i` the product of the sample and class weights. Samples of
    weight 0 are dropped before training, so they are exactly equivalent to
    removing them. Scaling all weights by :math:`c` scales the gradients by
    :math:`c`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from logitnet.sklearn import SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxClassifier(epochs=50, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    def __init__(
        self,
        hidden_layer_sizes: Union[tuple, int] = (25, 15),
        activation: str = "relu",
        epochs: int = 200,
        batch_size: int = 32,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        dropout: float = 0.0,
        alpha: float = 0.0,
        class_weight: Union[dict, str, None] = None,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.dropout = dropout
        self.alpha = alpha
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ training
    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> "SoftmaxClassifier":
        """Train a new network (or continue the current one if ``warm_start``) for ``epochs`` epochs.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,)
            Class labels of any sortable type (ints, strings, ...).
        sample_weight : array_like of shape (n_samples,), optional
            Non-negative weights, multiplied by the class weights.

        Returns
        -------
        self
        """
        hp = check_hyperparameters(self)
        config = (hp["hidden_layer_sizes"], hp["activation"], hp["optimizer"], hp["dropout"])
        continuing = hp["warm_start"] and hasattr(self, "model_")
        if continuing:
            self._check_same_network(config)
        X, y = _validate(self, X, y, reset=not continuing)
        classes = self.classes_ if continuing else _at_least_two(unique_labels(y), "y")
        X, y_index, weights = self._weighted(X, y, classes, sample_weight, hp)
        if len(X) == 0:
            raise ValueError("All samples have zero weight (`sample_weight` times `class_weight`): nothing to fit.")
        if continuing:
            self.model_.optimizer.learning_rate = hp["learning_rate"]
        else:
            self._new_network(X.shape[1], classes, config, hp["learning_rate"])
        self._train(X, y_index, weights, hp, epochs=hp["epochs"], early_stopping=hp["early_stopping"])
        return self

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: Optional[ArrayLike] = None,
        sample_weight: Optional[ArrayLike] = None,
    ) -> "SoftmaxClassifier":
        """One epoch over ``(X, y)``, continuing the current network and its optimizer state.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            May have 0 rows (nothing is trained; a first call still sets up the network).
        y : array_like of shape (n_samples,)
        classes : array_like of shape (n_classes,), optional
            Every label that will ever occur: required on the first call
            (unless :meth:`fit` ran before); later it must be the same set.
        sample_weight : array_like of shape (n_samples,), optional

        Returns
        -------
        self

        Notes
        -----
        Early stopping does not apply here, and ``class_weight="balanced"``
        is refused (a block's class frequencies are not the data's): compute
        weights once, e.g. with ``sklearn.utils.class_weight.compute_class_weight``
        on a sample of labels, and pass them as a dict.
        """
        hp = check_hyperparameters(self)
        if hp["class_weight"] == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: a block's class counts are not the "
                "data's. Compute the weights once, e.g. sklearn.utils.class_weight.compute_class_weight("
                "'balanced', classes=classes, y=a_large_sample_of_y), and pass them as a dict."
            )
        config = (hp["hidden_layer_sizes"], hp["activation"], hp["optimizer"], hp["dropout"])
        first = not hasattr(self, "model_")
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            all_classes = _at_least_two(unique_labels(classes), "classes")
        else:
            self._check_same_network(config)
            all_classes = self.classes_
            if classes is not None and not np.array_equal(all_classes, unique_labels(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on the first call to partial_fit, "
                    f"was: {all_classes!r}"
                )
        X, y = _validate(self, X, y, reset=first, ensure_min_samples=0)
        X, y_index, weights = self._weighted(X, y, all_classes, sample_weight, hp)
        if first:
            self._new_network(X.shape[1], all_classes, config, hp["learning_rate"])
        else:
            self.model_.optimizer.learning_rate = hp["learning_rate"]
        if len(X):
            self._train(X, y_index, weights, hp, epochs=1, early_stopping=False)
        return self

    def _weighted(self, X: np.ndarray, y: np.ndarray, classes: np.ndarray, sample_weight: Any, hp: dict) -> tuple:
        """Labels as class indices, and the per-sample weights; rows of weight 0 removed."""
        y_index = encode_labels(y, classes)
        sw = as_1d_sample_weight(sample_weight, len(X))
        if hp["class_weight"] is not None:
            per_class = class_weight_vector(hp["class_weight"], classes, y_index, sw)
            sw = per_class[y_index] if sw is None else per_class[y_index] * sw
        if sw is None:
            return X, y_index, None
        keep = sw > 0
        if not keep.all():
            X, y_index, sw = X[keep], y_index[keep], sw[keep]
        return X, y_index, None if np.all(sw == 1.0) else sw

    def _new_network(self, n_features: int, classes: np.ndarray, config: tuple, learning_rate: float) -> None:
        self._rng = make_generator(self.random_state)
        self._network_config = config
        self.model_ = build_network(n_features, len(classes), config, learning_rate, self._rng)
        self.classes_ = classes
        self.history_: dict[str, list] = {}
        self.n_iter_ = 0

    def _check_same_network(self, config: tuple) -> None:
        if config != self._network_config:
            names = ("hidden_layer_sizes", "activation", "optimizer", "dropout")
            was = ", ".join(f"{n}={v!r}" for n, v in zip(names, self._network_config))
            now = ", ".join(f"{n}={v!r}" for n, v in zip(names, config))
            raise ValueError(
                f"The network was built with {was}, but the estimator now has {now}. These cannot change "
                "while training continues (warm_start=True or partial_fit); fit with warm_start=False to "
                "start a new network."
            )

    def _train(self, X: np.ndarray, y_index: np.ndarray, weights: Optional[np.ndarray], hp: dict,
               epochs: int, early_stopping: bool) -> None:
        callbacks, validation_data = [], None
        set_weight_penalty(self.model_, hp["alpha"], hp["batch_size"])
        if early_stopping:
            X, y_index, weights, validation_data = self._split(X, y_index, weights, hp["validation_fraction"])
            callbacks = [EarlyStopping(monitor="val_loss", patience=hp["patience"], restore_best_weights=True)]
        history = self.model_.fit(
            X, y_index, batch_size=hp["batch_size"], epochs=epochs, verbose=hp["verbose"],
            callbacks=callbacks, validation_data=validation_data, sample_weight=weights, shuffle=True,
        )
        self.history_ = extend_history(self.history_, history.history, self.n_iter_)
        self.n_iter_ += len(history.history["loss"])

    def _split(self, X: np.ndarray, y_index: np.ndarray, weights: Optional[np.ndarray], fraction: float) -> tuple:
        """Stratified train/validation split when every class can be split, else a plain shuffled one."""
        counts = np.bincount(y_index)
        counts = counts[counts > 0]
        n_val = int(np.ceil(fraction * len(X)))
        stratify = y_index if counts.min() >= 2 and len(counts) <= min(n_val, len(X) - n_val) else None
        seed = int(self._rng.integers(np.iinfo(np.int32).max))
        train, val = train_test_split(np.arange(len(X)), test_size=fraction, stratify=stratify, random_state=seed)
        train.sort()
        val.sort()
        w_train = None if weights is None else weights[train]
        w_val = None if weights is None else weights[val]
        return X[train], y_index[train], w_train, (X[val], y_index[val], w_val)

    # ------------------------------------------------------------------ prediction
    def _logits(self, X: ArrayLike) -> NDArray[np.float64]:
        """The network's logits, computed in float64 from its float32 weights, shape (n_samples, n_classes).

        float64 makes each row's result independent of the other rows in
        the call (float32 BLAS kernels round differently with the row
        count), so predicting block by block equals predicting at once.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32, order="C", ensure_min_samples=0)
        layers = self.model_.layers
        out = np.empty((len(X), len(self.classes_)), dtype=np.float64)
        for start in range(0, len(X), _PREDICT_BATCH):
            h = X[start:start + _PREDICT_BATCH].astype(np.float64)
            for layer in layers:
                h = layer.forward(h, training=False)  # float32 weights promote to float64
            out[start:start + _PREDICT_BATCH] = h
        return out

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """The network's logits.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
            The logits ``z``, computed in float64 from the float32 weights
            (they may differ from ``model_.predict(X)`` in the last float32
            digit). For two
            classes, scikit-learn's convention: shape (n_samples,), the
            log-odds ``z[:, 1] - z[:, 0]`` of ``classes_[1]``.
        """
        z = self._logits(X)
        if len(self.classes_) == 2:
            return z[:, 1] - z[:, 0]
        return z

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Class probabilities ``softmax(z)``, shape (n_samples, n_classes), float64; rows sum to 1.

        ``(0, n_classes)`` for an empty ``X``; ``(n_samples, 2)`` for two classes.
        """
        return ops.softmax(self._logits(X), axis=1)

    def predict_log_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """``log_softmax(z)``, shape (n_samples, n_classes), float64: finite however confident the model."""
        return ops.log_softmax(self._logits(X), axis=1)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class of each sample, shape (n_samples,), from ``classes_``."""
        z = self._logits(X)
        return self.classes_[np.argmax(z, axis=1)]

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        """The fitted network travels as plain arrays (weights, optimizer slots), not as objects."""
        state = dict(super().__getstate__())  # a copy: object.__getstate__ returns __dict__ itself
        model = state.pop("model_", None)
        if model is not None:
            state["_network_state"] = export_network(model)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        network = state.pop("_network_state", None)
        super().__setstate__(state)
        if network is not None:
            self.model_ = import_network(network, self._network_config, self._rng)


def _validate(est: Any, X: Any, y: Any, **kwargs: Any) -> tuple:
    """scikit-learn's checks of ``X`` and ``y``, with the fix named for one-hot and non-integral labels."""
    try:
        X, y = validate_data(est, X, y, dtype=np.float32, order="C", **kwargs)
    except ValueError:
        _refuse_one_hot(y)
        raise
    _check_targets(y)
    return X, y


def _refuse_one_hot(y: Any) -> None:
    """Name the fix when ``y`` is one-hot encoded (scikit-learn's own message only says "1d")."""
    try:
        arr = np.asarray(y)
    except Exception:  # whatever scikit-learn refused, its message stands
        return
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.dtype.kind not in "biuf":
        return
    if np.all((arr == 0) | (arr == 1)) and np.all(arr.sum(axis=1) == 1):
        raise ValueError(
            f"y should be a 1d array, got an array of shape {arr.shape} instead. It looks one-hot encoded: "
            "SoftmaxClassifier takes one label per sample; pass y.argmax(axis=1) (or the original labels)."
        ) from None


def _check_targets(y: np.ndarray) -> None:
    """scikit-learn's target check, with the fix named for non-integral float labels."""
    try:
        check_classification_targets(y)
    except ValueError as exc:
        if y.dtype.kind != "f" or "continuous" not in str(exc):
            raise
        bad = y[np.isfinite(y) & (y != np.floor(y))]
        value = float(bad[0]) if bad.size else 2.7
        raise ValueError(
            f"{exc} `y` holds non-integral floats such as {value!r}, but class labels must be discrete "
            f"(Keras would silently truncate {value!r} to {int(value)}; logitnet refuses). Round them (np.rint) "
            "if they are integers stored as floats, or encode them first."
        ) from None


def _at_least_two(classes: np.ndarray, name: str) -> np.ndarray:
    if len(classes) < 2:
        raise ValueError(
            f"SoftmaxClassifier needs samples of at least 2 classes, but `{name}` has only one class: "
            f"{classes.tolist()}."
        )
    return classes
