"""``Sequential``: a stack of layers with Keras's ``compile`` / ``fit`` / ``evaluate`` / ``predict``.

Data flow of :meth:`Sequential.fit`: the inputs are checked and converted
once (:mod:`logitnet.data`); the model is built from the first input's
feature count; each epoch draws one permutation from the model's own
generator and walks consecutive batches (the last partial batch kept); each
step runs forward, the fused loss-and-gradient at the output, backward and
the optimizer's in-place update. The epoch loss is the batch-size-weighted
mean of the per-batch losses, each taken before that batch's update (Keras).

When the last layer's activation is softmax or sigmoid and the loss is a
cross-entropy, the loss and its gradient are computed from that layer's
pre-activation (its logits), as TensorFlow-Keras does, so the model never
takes the log of a probability; ``predict`` still returns the activation.

The epoch loop itself, and what happens on a non-finite loss or Ctrl-C, live
in :mod:`logitnet.training`; out-of-core inputs in :mod:`logitnet.outofcore`.
``predict`` and ``evaluate`` write nothing that training or another thread
uses: several threads may predict or evaluate with one model at once.
"""

from __future__ import annotations

import copy
import threading
import warnings
from math import isfinite
from typing import Any, Optional, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import callbacks as callbacks_module
from . import data, diagnostics, inference
from . import training as training_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from ._validation import check_int
from .exceptions import NotCompiledError
from .layers import InputLayer, Layer
from .utils import make_rng, unique_name

__all__ = ["Sequential", "load_model"]

_FUSABLE = ("softmax", "sigmoid")
_PREDICT_CHUNK = 8192  # rows per forward pass in a silent predict()
_BUILD_LOCK = threading.Lock()  # a lazy build from several threads happens once


def _check_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return int(verbose)
    raise ValueError(f"Received an invalid value for `verbose`, expected 'auto', 0, 1 or 2. Received: verbose={verbose!r}")


class Sequential:
    """A linear stack of layers trained as a softmax classifier.

    Parameters
    ----------
    layers : list of Layer, optional
    name : str, optional
        Automatic Keras-style name (``sequential``, ``sequential_1``, ...) when omitted.
    seed : int or numpy.random.Generator, optional
        Seeds the model's own generator, used for weight initialisation and
        shuffling: the same seed gives bit-identical weights, shuffles and
        history. ``None`` draws from :func:`logitnet.utils.set_random_seed`'s
        sequence, or from fresh entropy.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the weights and computations (float32 like Keras).

    Examples
    --------
    >>> import logitnet as ln
    >>> X, y = ln.datasets.make_blobs(200, centers=3, random_state=0)
    >>> model = ln.Sequential([ln.Dense(8, activation="relu"), ln.Dense(3)], seed=0)
    >>> model.compile(optimizer="adam", loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> history = model.fit(X, y, epochs=2, verbose=0)
    >>> model.predict(X).shape
    (200, 3)
    """

    def __init__(
        self,
        layers: Optional[Sequence[Layer]] = None,
        name: Optional[str] = None,
        seed: Union[int, np.random.Generator, None] = None,
        dtype: str = "float32",
    ) -> None:
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"Received an invalid value for `dtype`, expected 'float32' or 'float64'. Received: dtype={dtype!r}")
        self.name = name if name is not None else unique_name("Sequential")
        self.dtype = np.dtype(dtype)
        self._rng = make_rng(seed)
        self._layers: list[Layer] = []
        self.built = False
        self.input_dim: Optional[int] = None
        self.optimizer: Optional[optimizers_module.Optimizer] = None
        self.loss: Optional[losses_module.Loss] = None
        self.compiled = False
        self._metric_ids: list[Any] = []
        self.stop_training = False
        self._initial_epoch: Optional[int] = None  # set by BackupAndRestore.on_train_begin to resume
        self.history: Optional[callbacks_module.History] = None
        self._input_layer: Optional[InputLayer] = None
        self._penalties: list = []
        self._plan: Optional[tuple] = None
        self._dense_chain: Any = None  # set by fit (logitnet.training) when the layers qualify  # (weight, grad, regularizer) of the trainable regularized weights, set by fit
        if layers is not None:
            if isinstance(layers, Layer):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """The layers, in order."""
        return list(self._layers)

    def add(self, layer: Layer) -> None:
        """Append a layer; names must be unique within the model.

        An :func:`~logitnet.layers.Input` (or a first layer given
        ``input_shape``) makes the model build as soon as it has a layer.
        """
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    "An `Input` can only be the first element of a Sequential model. Received it after: "
                    f"{[existing.name for existing in self._layers] or [self._input_layer.name]}"
                )
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                "Only instances of `logitnet.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the `name` argument "
                "to pass a unique name."
            )
        self._layers.append(layer)
        declared = self._input_layer.shape if self._input_layer is not None else layer._build_input_shape
        if not self.built and len(self._layers) == 1 and declared is not None:
            self.build(declared)
        elif self.built:
            shape: tuple = (None, self.input_dim)
            for previous in self._layers[:-1]:
                shape = previous.compute_output_shape(shape)
            self._build_layer(layer, shape)
            self._pack_weights()

    def _build_layer(self, layer: Layer, input_shape: tuple) -> tuple:
        if not layer.built:
            layer.build(input_shape, rng=self._rng, dtype=self.dtype)
        elif layer.input_dim != input_shape[-1]:
            raise ValueError(
                f"Layer '{layer.name}' was built for inputs with {layer.input_dim} features, but receives {input_shape[-1]}."
            )
        return layer.compute_output_shape(input_shape)

    def build(self, input_shape: Union[tuple, list, int]) -> None:
        """Create all weights for inputs of shape ``(None, n_features)``."""
        if isinstance(input_shape, (int, np.integer)):
            input_shape = (None, int(input_shape))
        input_shape = tuple(input_shape)
        if len(input_shape) != 2 or not isinstance(input_shape[-1], (int, np.integer)) or input_shape[-1] <= 0:
            raise ValueError(
                "Received an invalid value for `input_shape`, expected (None, n_features) with a positive "
                f"n_features. Received: input_shape={input_shape!r}"
            )
        if not self._layers:
            raise ValueError("The model has no layers to build; add layers with `model.add(...)` first.")
        shape: tuple = (None, int(input_shape[-1]))
        for layer in self._layers:
            shape = self._build_layer(layer, shape)
        self.input_dim = int(input_shape[-1])
        self.built = True
        self._pack_weights()

    def _pack_weights(self) -> None:
        """Move the weights that have gradients, and their gradient buffers, into one flat array each.

        Each layer's ``params[name]`` and ``grads[name]`` become views into
        them, so the optimizer can update every weight with one set of array
        operations per step (see :func:`logitnet.optimizers.flat_span`). The
        weights without gradients (moving statistics) go into a second buffer.
        """
        with_grads = [(layer, key) for layer in self._layers for key in layer.grads]
        others = [(layer, key) for layer in self._layers for key in layer.params if key not in layer.grads]
        for entries, gradients in ((with_grads, True), (others, False)):
            size = sum(layer.params[key].size for layer, key in entries)
            weights = np.empty(size, dtype=self.dtype)
            grads = np.zeros(size, dtype=self.dtype) if gradients else None
            self._plan = self._dense_chain = None  # both hold views of the old buffers
            start = 0
            for layer, key in entries:
                shape = layer.params[key].shape
                stop = start + layer.params[key].size
                view = weights[start:stop].reshape(shape)
                view[...] = layer.params[key]
                layer.params[key] = view
                if gradients:
                    layer.grads[key] = grads[start:stop].reshape(shape)
                start = stop

    def __getstate__(self) -> dict:
        """Pickling and ``copy.deepcopy`` leave out the cached plan and chain: they hold views of buffers
        that a copy does not share (they are made again on first use)."""
        state = self.__dict__.copy()
        state["_plan"] = None
        state["_dense_chain"] = None
        return state

    def _inference_plan(self) -> Optional[list]:
        """:func:`logitnet.inference.dense_plan` of the layers, found once per packing of the weights."""
        if self._plan is None:  # reset by _pack_weights (which every change of the layers goes through)
            self._plan = (inference.dense_plan(self._layers),)
        return self._plan[0]

    @property
    def n_outputs(self) -> int:
        """Width of the model's output (the last layer that sets a width, e.g. a Dense's ``units``)."""
        shape: tuple = (None, self.input_dim or 1)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return int(shape[-1])

    # ------------------------------------------------------------------ weights
    def _weight_arrays(self) -> list[NDArray[np.floating]]:
        return [w for layer in self._layers for w in layer.params.values()]

    def get_weights(self) -> list[NDArray[np.floating]]:
        """Copies of all weights, layer by layer, each as ``[kernel, bias]``."""
        return [w.copy() for w in self._weight_arrays()]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Load weights in the order :meth:`get_weights` gives them (Keras's checks)."""
        data.assign_weights(self.name, self._weight_arrays(), weights)

    @property
    def weights(self) -> list[NDArray[np.floating]]:
        """All weights (live arrays), layer by layer in Keras's order."""
        return self._weight_arrays()

    @property
    def trainable_weights(self) -> list[NDArray[np.floating]]:
        """The weights the optimizer updates."""
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[NDArray[np.floating]]:
        """Moving statistics, and the weights of frozen layers."""
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    def _trainable_pairs(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(params, grads)``: the trainable weights and their gradient buffers, in order."""
        keys = [(layer, k) for layer in self._layers if layer.trainable for k in layer.grads]
        return [layer.params[k] for layer, k in keys], [layer.grads[k] for layer, k in keys]

    @property
    def losses(self) -> list[float]:
        """The weight penalties of the trainable regularized weights (Keras's ``model.losses``), as floats."""
        return [reg(layer.params[key]) for layer in self._layers if layer.trainable
                for key, reg in layer.regularizers()]

    def _regularization_loss(self) -> float:
        return float(sum(self.losses))

    def count_params(self) -> int:
        """Number of weights in the model (raises before the model is built)."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on model '{self.name}', but the model isn't built. "
                "Call `model.build((None, n_features))` or train it first."
            )
        return int(sum(w.size for w in self._weight_arrays()))

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Union[str, optimizers_module.Optimizer] = "rmsprop",
        loss: Union[str, losses_module.Loss, None] = None,
        metrics: Optional[Sequence[Any]] = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        Parameters
        ----------
        optimizer : str or Optimizer, default "rmsprop"
            ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"`` or an instance.
        loss : str or Loss
            ``"sparse_categorical_crossentropy"`` (integer labels),
            ``"categorical_crossentropy"`` (one-hot rows) or an instance.
        metrics : list, optional
            E.g. ``["accuracy"]``: resolved from the label shape as Keras does.

        Raises
        ------
        ValueError
            Unknown names (listing the valid ones), a missing loss.
        """
        if loss is None:
            raise ValueError(
                "Argument `loss` is required: pass e.g. loss='sparse_categorical_crossentropy' or "
                "loss=logitnet.losses.SparseCategoricalCrossentropy(from_logits=True)."
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_module.Metric)):
            metrics = [metrics]
        self._metric_ids = list(metrics)
        self.compiled = True
        self._warn_about_output()

    def _fused_output(self) -> bool:
        """Whether the loss is computed from the last layer's logits (see the module docstring)."""
        activation = getattr(self._layers[-1], "activation", None) if self._layers else None
        return activation is not None and activation.name in _FUSABLE

    def _warn_about_output(self) -> None:
        if not self._layers or not self._fused_output():
            return
        last = self._layers[-1]
        act = last.activation.name
        loss_name = self.loss.name
        if self.loss.from_logits:
            warnings.warn(
                f"`{loss_name}` received `from_logits=True`, but the last layer '{last.name}' applies "
                f"activation='{act}', so the model's outputs are not logits. logitnet (like TensorFlow-Keras) "
                f"computes the loss from that layer's input to the {act}, i.e. its logits. To make this "
                f"explicit, use activation='linear' in '{last.name}'.",
                UserWarning,
                stacklevel=3,
            )
        elif act == "sigmoid":
            warnings.warn(
                f"The last layer '{last.name}' uses activation='sigmoid' with `{loss_name}`. logitnet (like "
                "TensorFlow-Keras) computes the loss from that layer's logits, so training is the same as with a "
                "linear output and from_logits=True; but predict() returns sigmoids, one per class, which are not "
                "class probabilities: each row does not sum to 1. For probabilities, use activation='linear' with "
                "from_logits=True and apply logitnet.softmax to predict()'s output (or use activation='softmax').",
                UserWarning,
                stacklevel=3,
            )

    def _require_compiled(self) -> None:
        if not self.compiled:
            raise NotCompiledError("You must call `compile()` before using the model.")

    # ------------------------------------------------------------------ data checks
    def _check_x(self, x: ArrayLike, name: str = "x", stream: bool = False, stats: bool = False) -> Any:
        """Checked inputs: an array, or with ``stream`` a RowSource for out-of-core inputs."""
        if not self._layers:
            raise ValueError("The model has no layers; add layers before using it.")
        n_features = self.input_dim if self.built else None
        return data.check_features(x, name=name, dtype=self.dtype, n_features=n_features, stream=stream, stats=stats)

    def _ensure_built(self, n_features: int) -> None:
        if not self.built:
            with _BUILD_LOCK:
                if not self.built:
                    self.build((None, n_features))

    def _check_y(self, y: ArrayLike, name: str = "y") -> np.ndarray:
        n_classes = self.n_outputs
        last = self._layers[-1]
        data.check_n_outputs(n_classes, last.name, getattr(getattr(last, "activation", None), "name", "linear"))
        if self.loss.target == "sparse":
            return data.check_sparse_labels(
                y, n_classes=n_classes, name=name, loss_name=self.loss.name,
                ignore_class=getattr(self.loss, "ignore_class", None),
            )
        return data.check_categorical_targets(y, n_classes=n_classes, dtype=self.dtype, name=name)

    def _labels_of(self, y: np.ndarray) -> NDArray[np.intp]:
        return y if y.ndim == 1 else np.argmax(y, axis=1)

    def _check_xy(
        self, x: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike], prefix: str = "", stats: bool = False
    ) -> tuple:
        x = self._check_x(x, name=prefix + "x", stream=True, stats=stats)
        self._ensure_built(x.shape[1])
        y = self._check_y(y, name=prefix + "y")
        data.check_same_length(**{prefix + "x": x, prefix + "y": y})
        sw = data.check_sample_weight(sample_weight, n_samples=len(x), dtype=self.dtype)
        return x, y, sw

    def _make_metrics(self, y: np.ndarray) -> list:
        return [
            metrics_module.get(
                m, y_true_ndim=y.ndim, y_true_last_dim=y.shape[-1] if y.ndim > 1 else None, n_outputs=self.n_outputs
            )
            for m in self._metric_ids
        ]

    # ------------------------------------------------------------------ the hot path
    def _forward(self, x: NDArray[np.floating], training: bool, logits: bool) -> NDArray[np.floating]:
        layers = self._layers
        for layer in layers[:-1]:
            x = layer.forward(x, training)
        if logits:
            return layers[-1].forward(x, training, apply_activation=False)
        return layers[-1].forward(x, training)

    def _train_step(self, xb, yb, wb, fused: bool, update: Any, trainable_from: int):
        """One step on a batch: forward, loss and gradient, backward, ``update()``; returns ``(loss, output)``.

        ``fit`` sets ``_dense_chain`` for plain Dense stacks whose outputs are
        logits: their steps run transposed, with folded biases
        (:mod:`logitnet.dense_chain`).
        """
        chain = self._dense_chain
        if chain is not None:
            return chain.step(xb, yb, wb, update)
        out = self._forward(xb, training=True, logits=fused)
        loss, grad = self.loss.loss_and_grad(yb, out, wb, from_logits=True if fused else None)
        loss = self._step_loss(loss)
        if not isfinite(loss):  # not applied
            return loss, out
        layers = self._layers
        for i in range(len(layers) - 1, trainable_from - 1, -1):
            grad = layers[i].backward(grad, need_input_grad=i > trainable_from)
        self._step_update(update)
        return loss, out

    def _step_loss(self, loss: float) -> float:
        """A step's reported loss: the batch loss plus the weight penalties, at the weights before the update
        (Keras). A non-finite total sets ``stop_training``: the step is never applied (see logitnet.training)."""
        for w, _, reg in self._penalties:
            loss += reg(w)
        if not isfinite(loss):
            self.stop_training = True
        return loss

    def _step_update(self, update: Any) -> None:
        """End a step whose gradients are in place: add the penalties' gradients, then ``update()``."""
        for w, g, reg in self._penalties:
            reg.add_gradient(w, g)
        update()

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: ArrayLike = None,
        y: ArrayLike = None,
        batch_size: Optional[int] = None,
        epochs: int = 1,
        verbose: Union[str, int] = "auto",
        callbacks: Optional[Sequence[callbacks_module.Callback]] = None,
        validation_split: float = 0.0,
        validation_data: Optional[tuple] = None,
        shuffle: bool = True,
        class_weight: Optional[dict] = None,
        sample_weight: Optional[ArrayLike] = None,
        initial_epoch: int = 0,
    ) -> callbacks_module.History:
        """Train the model; returns a :class:`~logitnet.callbacks.History`.

        Parameters
        ----------
        x : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,) or (n_samples, n_classes)
            Integer labels for a sparse loss, one-hot (or soft) rows for a
            categorical loss.
        batch_size : int, default 32
        epochs : int, default 1
            Index of the last epoch (training runs ``range(initial_epoch, epochs)``).
        verbose : {"auto", 0, 1, 2}, default "auto"
            ``"auto"`` and 1 show a progress bar, 2 one line per epoch.
        callbacks : list of Callback, optional
        validation_split : float, default 0.0
            Fraction of the *last* rows held out (before shuffling), as Keras.
        validation_data : tuple, optional
            ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``;
            overrides ``validation_split``.
        shuffle : bool, default True
            A fresh permutation per epoch from the model's generator.
        class_weight : dict, optional
            ``{class_index: weight}``; cannot be combined with ``sample_weight``.
        sample_weight : array_like of shape (n_samples,), optional
        initial_epoch : int, default 0

        Returns
        -------
        History
            ``history.history`` maps ``loss``, metrics and ``val_`` metrics
            (keys sorted) to per-epoch lists of floats.

        Warns
        -----
        UserWarning
            Before training, when the features' spreads are orders of
            magnitude apart (standardize them).
        DivergenceWarning
            When the loss (or the weights) became NaN or infinite: training
            stopped, the model keeps the weights of the last finite step, and
            the message names the likely cause.

        Notes
        -----
        ``x`` may be an ``np.memmap`` or another sliceable array-like: it is
        read one batch at a time (:mod:`logitnet.outofcore`), with the same
        results as in memory. Ctrl-C stops training after the current step
        and raises ``KeyboardInterrupt``; the model keeps the weights of the
        last completed step and ``model.history`` the completed epochs
        (:mod:`logitnet.training`).
        """
        self._require_compiled()
        verbose_arg, verbose = verbose, _check_verbose(verbose)
        batch_size = check_int(32 if batch_size is None else batch_size, "batch_size")
        epochs = check_int(epochs, "epochs", minimum=0)
        initial_epoch = check_int(initial_epoch, "initial_epoch", minimum=0)
        if not (isinstance(validation_split, (int, float)) and 0.0 <= validation_split < 1.0):
            raise ValueError(
                f"Received an invalid value for `validation_split`, expected a float in [0, 1). Received: validation_split={validation_split!r}"
            )
        if shuffle not in (True, False):
            raise ValueError(f"Received an invalid value for `shuffle`, expected True or False. Received: shuffle={shuffle!r}")
        if class_weight is not None and sample_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        user_callbacks = list(callbacks or [])
        for cb in user_callbacks:
            if not isinstance(cb, callbacks_module.Callback):
                raise TypeError(f"Argument `callbacks` must hold logitnet Callback instances. Received: {cb!r}")

        x, y, sw = self._check_xy(x, y, sample_weight, stats=True)
        if len(x) == 0:
            raise ValueError("Argument `x` has 0 samples; there is nothing to train on.")
        stats = diagnostics.feature_stats(x)
        unscaled = diagnostics.unscaled_inputs_message(stats)
        if unscaled is not None:
            warnings.warn(unscaled, UserWarning, stacklevel=2)
        val = None
        if validation_data is not None:
            val = self._check_validation_data(validation_data)
        elif validation_split > 0:
            (x, y, sw), val = data.train_validation_split([x, y, sw], validation_split)
        if class_weight is not None:  # after the split: Keras weights the training rows only
            sw = data.class_weight_to_sample_weight(
                class_weight, self._labels_of(y), n_classes=self.n_outputs, dtype=self.dtype
            )

        history = callbacks_module.History()
        all_callbacks = user_callbacks + [history]
        if verbose:
            all_callbacks.append(callbacks_module.ProgbarLogger(verbose))
        params_info = {"verbose": verbose_arg, "epochs": int(epochs), "steps": -(-len(x) // batch_size)}
        cbs = callbacks_module.CallbackList(all_callbacks, self, params_info)
        history.set_params(params_info)
        self.history = history
        training_module.run_epochs(
            self, x, y, sw, val, cbs, self._make_metrics(y), batch_size=batch_size, epochs=int(epochs),
            initial_epoch=int(initial_epoch), shuffle=shuffle, stats=stats,
        )
        return history

    def _check_validation_data(self, validation_data: Any) -> tuple:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "Argument `validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val). "
                f"Received: {type(validation_data).__name__}"
                + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
            )
        xv, yv = validation_data[0], validation_data[1]
        swv = validation_data[2] if len(validation_data) == 3 else None
        return self._check_xy(xv, yv, swv, prefix="validation_data ")

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_arrays(
        self, x: np.ndarray, y: np.ndarray, sw: Optional[np.ndarray], batch_size: int, bar: Any = None
    ) -> dict:
        """Loss and metrics over checked arrays, batch by batch (Keras's weighting)."""
        fused = self._fused_output()
        activation = self._layers[-1].activation if fused else None
        # Private copies: a Metric instance passed to compile() is shared with training and other threads.
        shared = {id(m) for m in self._metric_ids}
        metric_objs = [copy.deepcopy(m) if id(m) in shared else m for m in self._make_metrics(y)]
        for m in metric_objs:
            m.reset_state()
        total, seen = 0.0, 0
        penalty = self._regularization_loss()
        n = len(x)
        steps = -(-n // batch_size)
        for step in range(steps):
            sl = slice(step * batch_size, (step + 1) * batch_size)
            out = self._forward(x[sl], training=False, logits=fused)
            loss, _ = self.loss.loss_and_grad(y[sl], out, None if sw is None else sw[sl], from_logits=True if fused else None)
            loss += penalty
            b = len(out)
            total += loss * b
            seen += b
            if metric_objs:
                y_pred = activation(out) if fused else out
                for m in metric_objs:
                    m.update_state(y[sl], y_pred)
            if bar is not None:
                bar.update(step + 1, self._logs(total, seen, metric_objs), finalize=False)
        logs = self._logs(total, seen, metric_objs)
        if bar is not None:
            bar.update(steps, logs, finalize=True)
        return dict(logs)

    @staticmethod
    def _logs(total: float, seen: int, metric_objs: list) -> list:
        logs = {"loss": total / seen if seen else 0.0}
        for m in metric_objs:
            logs[m.name] = m.result()
        return sorted((k, float(v)) for k, v in logs.items())

    def evaluate(
        self,
        x: ArrayLike = None,
        y: ArrayLike = None,
        batch_size: Optional[int] = None,
        verbose: Union[str, int] = "auto",
        sample_weight: Optional[ArrayLike] = None,
        return_dict: bool = False,
    ) -> Union[float, list, dict]:
        """Loss (and metrics) on ``x``, ``y``, in Keras's return forms.

        Returns
        -------
        float
            The loss, when no metrics were compiled.
        list of float
            ``[loss, metric, ...]`` in ``metrics_names`` order otherwise.
        dict
            ``{name: value}`` with sorted keys when ``return_dict=True``.
        """
        self._require_compiled()
        verbose = _check_verbose(verbose)
        batch_size = check_int(32 if batch_size is None else batch_size, "batch_size")
        x, y, sw = self._check_xy(x, y, sample_weight)
        if len(x) == 0:
            raise ValueError("Argument `x` has 0 samples; there is nothing to evaluate.")
        bar = None
        if verbose:
            from .progress import ProgressBar

            bar = ProgressBar(-(-len(x) // batch_size), verbose=verbose)
        logs = self._evaluate_arrays(x, y, sw, batch_size, bar=bar)
        if return_dict:
            return logs
        if not self._metric_ids:
            return logs["loss"]
        names = [m.name for m in self._make_metrics(y)]
        return [logs["loss"]] + [logs[name] for name in names]

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", <metric names>]`` once compiled."""
        names = ["loss"]
        for m in self._metric_ids:
            names.append(m if isinstance(m, str) else getattr(m, "name", str(m)))
        return names

    def predict(
        self, x: ArrayLike, batch_size: Optional[int] = None, verbose: Union[str, int] = 0
    ) -> NDArray[np.floating]:
        """The last layer's outputs for ``x``.

        Parameters
        ----------
        x : array_like of shape (n_samples, n_features)
            Also an ``np.memmap`` or another sliceable array-like, read one
            batch at a time (:mod:`logitnet.outofcore`).
        batch_size : int, optional
            Rows per forward pass. By default 8192 when silent, and 32 (Keras's
            steps) when a progress bar is shown.
        verbose : {0, 1, 2, "auto"}, default 0
            Silent by default (unlike Keras); 1 or ``"auto"`` shows a bar.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            In the model's dtype. Logits for a linear last layer (apply
            :func:`logitnet.softmax` for probabilities), probabilities for a
            softmax one.
        """
        verbose = _check_verbose(verbose)
        if batch_size is None:
            # Silent predictions run in large chunks (one matmul per layer per
            # chunk); with a progress display, Keras's 32-row steps are shown.
            batch_size = 32 if verbose else _PREDICT_CHUNK
        batch_size = check_int(batch_size, "batch_size")
        x = self._check_x(x, stream=True)
        self._ensure_built(x.shape[1])
        n = len(x)
        steps = -(-n // batch_size)
        bar = None
        if verbose:
            from .progress import ProgressBar

            bar = ProgressBar(steps, verbose=verbose)
        plan = self._inference_plan()
        if steps == 1 and isinstance(x, np.ndarray):  # one chunk: its output is the result, no copy
            out = self._forward(x, training=False, logits=False) if plan is None else inference.run_plan(plan, x)
            if bar is not None:
                bar.update(1, None, finalize=True)
            return out
        out = np.empty((n, self.n_outputs), dtype=self.dtype)
        for step in range(steps):
            sl = slice(step * batch_size, (step + 1) * batch_size)
            xb = x[sl]
            out[sl] = self._forward(xb, training=False, logits=False) if plan is None else inference.run_plan(plan, xb)
            if bar is not None:
                bar.update(step + 1, None, finalize=step + 1 == steps)
        return out

    def __call__(self, x: ArrayLike, training: bool = False) -> NDArray[np.floating]:
        """Forward pass on ``x`` (one batch) returning a NumPy array."""
        x = self._check_x(x)
        self._ensure_built(x.shape[1])
        plan = None if training else self._inference_plan()
        if plan is not None:  # the same arithmetic as predict()
            return inference.run_plan(plan, x)
        return self._forward(x, training=training, logits=False)

    # ------------------------------------------------------------------ saving (see logitnet.saving)
    def save(
        self,
        filepath: Any,
        overwrite: bool = True,
        *,
        include_optimizer: bool = True,
        metadata: Optional[dict] = None,
    ) -> None:
        """Save to one ``.logitnet`` file, atomically: :func:`logitnet.saving.save_model`."""
        from .saving import save_model

        save_model(self, filepath, overwrite, include_optimizer=include_optimizer, metadata=metadata)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights to a ``.weights.logitnet`` file: :func:`logitnet.saving.save_weights`."""
        from .saving import save_weights

        save_weights(self, filepath, overwrite)

    def load_weights(self, filepath: Any) -> None:
        """Load weights saved by ``save_weights`` or ``save``, by position: :func:`logitnet.saving.load_weights`."""
        from .saving import load_weights

        load_weights(self, filepath)

    def export_onnx(self, filepath: Any, **kwargs: Any) -> None:
        """Write an ONNX graph of the model: :func:`logitnet.onnx_export.export_onnx` (needs ``onnx``)."""
        from .onnx_export import export_onnx

        export_onnx(self, filepath, **kwargs)

    # ------------------------------------------------------------------ summary
    def summary(self, line_length: Optional[int] = None, print_fn: Any = None) -> None:
        """Print Keras's table: layer (type), output shape and parameter count, then totals."""
        from .summary import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r}, layers={[layer.name for layer in self._layers]}, built={self.built}>"


def load_model(filepath: Any, compile: bool = True) -> Sequential:
    """Load a model saved by ``model.save``: :func:`logitnet.saving.load_model`."""
    from .saving import load_model as _load_model

    return _load_model(filepath, compile=compile)
