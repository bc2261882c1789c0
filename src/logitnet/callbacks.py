"""Callbacks: hooks into ``fit`` with Keras's names and ``logs`` dicts.

``fit`` calls, in order: ``on_train_begin``, then per epoch
``on_epoch_begin``, ``on_batch_begin``/``on_batch_end`` per step and
``on_epoch_end``, then ``on_train_end``. A callback stops training by setting
``self.model.stop_training = True``. The progress display is itself a
callback (:class:`ProgbarLogger`), added by ``fit`` after the user's
callbacks and :class:`History`, as in Keras.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from typing import Any, Callable, Optional

import numpy as np

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "ProgbarLogger",
    "EarlyStopping",
    "ModelCheckpoint",
    "BackupAndRestore",
    "TerminateOnNaN",
    "LambdaCallback",
]


class Callback:
    """Base class: override the hooks you need.

    Attributes
    ----------
    model : Sequential
        Set by ``fit`` before ``on_train_begin``.
    params : dict
        ``{"verbose": ..., "epochs": ..., "steps": ...}``.
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        pass

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        pass

    # Keras's longer names for the same hooks.
    def on_train_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        self.on_batch_end(batch, logs)


def _overrides(callback: Callback, *hooks: str) -> bool:
    """Whether ``callback`` replaces any of ``hooks`` (by subclassing or per instance)."""
    for hook in hooks:
        bound = getattr(callback, hook)
        if getattr(bound, "__func__", bound) is not getattr(Callback, hook):
            return True
    return False


class CallbackList:
    """Calls each callback's hook in turn; skips batch hooks nobody overrides.

    Parameters
    ----------
    callbacks : list of Callback
    model : Sequential
    params : dict
    """

    def __init__(self, callbacks: list[Callback], model: Any, params: dict) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self._batch_begin = [
            cb for cb in self.callbacks if _overrides(cb, "on_batch_begin", "on_train_batch_begin")
        ]
        self._batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_batch_end", "on_train_batch_end")]
        # fit's own progress bar is told about a batch only when it is due to redraw (batch_end_due)
        self._progress = next((cb for cb in self._batch_end if type(cb) is ProgbarLogger), None)
        self._every_batch_end = [cb for cb in self._batch_end if cb is not self._progress]

    @property
    def wants_batch_begin(self) -> bool:
        return bool(self._batch_begin)

    @property
    def wants_batch_end(self) -> bool:
        return bool(self._batch_end)

    def batch_end_due(self, batch: int) -> bool:
        """Whether :meth:`on_batch_end` for ``batch`` reaches anyone: a callback with a batch hook (every
        batch), or the progress bar when it is due to redraw. The training loop builds the logs only then."""
        return bool(self._every_batch_end) or (self._progress is not None and self._progress.due(batch + 1))

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None:
        for cb in self._batch_begin:
            cb.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        for cb in self._batch_end:
            cb.on_train_batch_end(batch, logs)


class History(Callback):
    """Records the epoch logs; ``fit`` returns it.

    Attributes
    ----------
    history : dict of str to list of float
        One list per log key in Keras's order: ``fit``'s own logs sorted
        (``loss``, metrics, ``val_`` metrics), then keys callbacks add, such
        as ``learning_rate``.
    epoch : list of int
        The epoch indices that ran.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if self.model is not None:
            self.model.history = self

    def plot(self, **kwargs: Any) -> Any:
        """Learning curves of the recorded epochs: :func:`logitnet.plotting.plot_history` (needs matplotlib).

        Returns
        -------
        matplotlib.figure.Figure
            One panel per quantity (loss first), training solid, validation dashed.
        """
        from .plotting import plot_history

        return plot_history(self, **kwargs)

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and one progress line per epoch (Keras's content).

    Parameters
    ----------
    verbose : int, default 1
        1: a bar updating in place in a terminal, one clean line per epoch in
        a log file or pipe; 2: one plain line per epoch; 0: nothing.
    """

    def __init__(self, verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose
        self._bar: Any = None
        self._console: Any = None  # one rich Console per fit, shared by the epochs' bars

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        self._console = None
        if self.verbose == 1:
            from rich.console import Console

            self._console = Console(file=sys.stdout)

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        from .progress import ProgressBar, print_line

        epochs = self.params.get("epochs", 1)
        if epochs > 1:
            print_line(f"Epoch {epoch + 1}/{epochs}")
        self._bar = ProgressBar(self.params.get("steps"), verbose=self.verbose, file=self._console)

    def due(self, current: int) -> bool:
        """Whether the bar would redraw at step ``current`` (see :meth:`ProgressBar.due`)."""
        return self._bar is None or self._bar.due(current)

    def on_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        self._bar.update(batch + 1, list(logs.items()) if logs else None, finalize=False)

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        steps = self.params.get("steps")
        self._bar.update(steps, list((logs or {}).items()), finalize=True)


def _is_min_mode(monitor: str, mode: str) -> bool:
    if mode == "min":
        return True
    if mode == "max":
        return False
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name.endswith("loss") or name.endswith("error"):
        return True
    if "acc" in name or name.endswith("auc") or "precision" in name or "recall" in name:
        return False
    raise ValueError(
        f"EarlyStopping could not infer whether `{monitor}` should be minimized or maximized. "
        "Pass `mode='max'` for metrics that improve as they grow, or `mode='min'` otherwise."
    )


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving (Keras semantics).

    Parameters
    ----------
    monitor : str, default "val_loss"
    min_delta : float, default 0
        An improvement smaller than this does not count.
    patience : int, default 0
        Epochs without improvement before stopping.
    verbose : int, default 0
    mode : {"auto", "min", "max"}, default "auto"
        ``auto`` minimises ``*loss`` and maximises accuracies.
    baseline : float, optional
        Training stops if the quantity does not beat it within ``patience``.
    restore_best_weights : bool, default False
        At the end of training, put back the weights of the best epoch.
    start_from_epoch : int, default 0
        Epochs to wait before monitoring.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: Optional[float] = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"Received an invalid value for `mode`, expected 'auto', 'min' or 'max'. Received: mode={mode!r}")
        if patience < 0:
            raise ValueError(f"Received an invalid value for `patience`, expected >= 0. Received: patience={patience!r}")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self._minimize = _is_min_mode(monitor, mode)
        self.stopped_epoch = 0

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        # Reset so one instance can be reused across fit calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self._minimize else -math.inf
        self.best_weights: Optional[list] = None
        self.best_epoch = 0

    def _improved(self, current: float, reference: float) -> bool:
        # Keras: monitor_op(current - min_delta, best), min_delta negated when minimising.
        if self._minimize:
            return current + self.min_delta < reference
        return current - self.min_delta > reference

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs or {})}",
                UserWarning,
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model, or its weights, during training (Keras semantics).

    Every save goes through :func:`logitnet.saving.save_model` (or
    ``save_weights``), so it is atomic: a crash in the middle of a save leaves
    the previous checkpoint intact.

    Parameters
    ----------
    filepath : str or os.PathLike
        Must end in ``.logitnet`` (``.weights.logitnet`` with
        ``save_weights_only``). May hold ``{epoch}`` (1-based), ``{batch}``
        and log keys, e.g. ``"ck/model-{epoch:02d}-{val_loss:.3f}.logitnet"``.
        Missing directories are created.
    monitor : str, default "val_loss"
        The log key compared when ``save_best_only``.
    verbose : int, default 0
        1 prints Keras's messages (``Epoch 3: val_loss improved from 0.41230 to ...``).
    save_best_only : bool, default False
        Save only when ``monitor`` improves on the best value so far.
    save_weights_only : bool, default False
        Save ``model.save_weights(...)`` instead of the whole model.
    mode : {"auto", "min", "max"}, default "auto"
        ``auto`` minimises ``*loss`` and maximises accuracies.
    save_freq : "epoch" or int, default "epoch"
        Save at the end of every epoch, or after every this many batches.
    initial_value_threshold : float, optional
        The best value to beat at the start (``save_best_only``).
    """

    def __init__(
        self,
        filepath: "str | os.PathLike[str]",
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: "str | int" = "epoch",
        initial_value_threshold: Optional[float] = None,
    ) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        batches = isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0
        if save_freq != "epoch" and not batches:
            raise ValueError(
                f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or positive integer values"
            )
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"Received an invalid value for `mode`, expected 'auto', 'min' or 'max'. Received: mode={mode!r}"
            )
        extension = ".weights.logitnet" if save_weights_only else ".logitnet"
        if not self.filepath.endswith(extension):
            raise ValueError(
                f"The filepath provided must end in `{extension}` when `save_weights_only={save_weights_only}`. "
                f"Received: filepath={self.filepath}"
            )
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = mode
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self._minimize = True
        if save_best_only:
            try:
                self._minimize = _is_min_mode(monitor, mode)
            except ValueError:
                raise ValueError(
                    f"ModelCheckpoint could not infer whether `{monitor}` should be minimized or maximized. "
                    "Pass `mode='max'` for metrics that improve as they grow, or `mode='min'` otherwise."
                ) from None
        self._epoch = 0
        self._batches_since_save = 0
        self._last_batch = 0
        if save_freq != "epoch":  # only then does fit pay for batch hooks
            self.on_batch_end = self._save_on_batch  # type: ignore[method-assign]

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        self._epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save_on_batch(self, batch: int, logs: Optional[dict] = None) -> None:
        # Keras's counting: a batch index not above the last one starts a new epoch.
        self._batches_since_save += batch + 1 if batch <= self._last_batch else batch - self._last_batch
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs or {})

    def _file_path(self, epoch: int, batch: Optional[int], logs: dict) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as exc:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {exc}') from None

    def _should_save(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", UserWarning, stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        improved = self.best is None or (current < self.best if self._minimize else current > self.best)
        if not improved:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
            return False
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, saving model to {filepath}"
            )
        self.best = current
        return True

    def _save(self, epoch: int, batch: Optional[int], logs: dict) -> None:
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")


class BackupAndRestore(Callback):
    """Back up the training state after every epoch; resume from it after a crash (Keras's callback).

    At the end of each epoch, the whole training state (weights, optimizer
    slots and step count, and the model's shuffling generator) is written
    atomically to ``backup_dir/latest.logitnet`` (a model file, see
    :mod:`logitnet.saving`). When ``fit`` starts and a backup exists because
    the previous run was killed or interrupted, that state is put back into
    the model and training resumes with the epoch after the backed-up one.
    With the same data, model seed and ``fit`` arguments, the final weights
    are bit-identical to those of an uninterrupted run. A run that finishes
    deletes the backup (unless ``delete_checkpoint=False``); an interrupted
    one (Ctrl-C, a crash, a killed process) keeps it.

    Parameters
    ----------
    backup_dir : str or os.PathLike
        Created if missing. Use one directory per training job.
    save_freq : "epoch", default "epoch"
        Only per-epoch backups are supported: an interrupted epoch is rerun
        from its start.
    delete_checkpoint : bool, default True
        Delete the backup when training ends normally.

    Notes
    -----
    The model must be made of logitnet's built-in layers. ``model.history``
    of a resumed run holds the epochs run since resuming (as in Keras).
    Writes are atomic, so Keras's ``double_checkpoint`` is not needed.
    """

    _FILE = "latest.logitnet"

    def __init__(self, backup_dir: "str | os.PathLike[str]", save_freq: str = "epoch",
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(
                "Received an invalid value for `save_freq`, expected 'epoch' (logitnet backs up at epoch ends "
                f"only). Received: save_freq={save_freq!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)

    @property
    def _path(self) -> str:
        return os.path.join(self.backup_dir, self._FILE)

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        if not os.path.exists(self._path):
            return
        from .saving import load_model, read_metadata

        epoch = (read_metadata(self._path)["user_metadata"] or {}).get("backup_epoch")
        saved = load_model(self._path)
        model = self.model
        try:
            model.set_weights(saved.get_weights())
        except ValueError as exc:
            raise ValueError(
                f"The backup {self._path} does not fit this model ({exc}). Delete it, or use another backup_dir."
            ) from None
        if saved.optimizer is not None and saved.optimizer.built:
            model.optimizer.build(model._trainable_pairs()[0])
            model.optimizer.set_state(saved.optimizer.get_state())
        if type(saved._rng.bit_generator) is type(model._rng.bit_generator):
            model._rng.bit_generator.state = saved._rng.bit_generator.state
        if isinstance(epoch, int):
            model._initial_epoch = epoch + 1

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "optimizer state not saved": the resume then starts fresh
            self.model.save(self._path, overwrite=True, metadata={"backup_epoch": int(epoch)})

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        if self.delete_checkpoint and os.path.exists(self._path):
            os.remove(self._path)
            try:
                os.rmdir(self.backup_dir)  # only if nothing else is in it
            except OSError:
                pass


class TerminateOnNaN(Callback):
    """Stop training when the loss becomes NaN or infinite.

    Parameters
    ----------
    raise_error : bool, default False
        Raise a RuntimeError instead of stopping quietly.
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf found in loss at batch {batch}: loss={loss}")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made from plain functions.

    Parameters
    ----------
    on_epoch_begin, on_epoch_end : callable(epoch, logs), optional
    on_batch_begin, on_batch_end : callable(batch, logs), optional
    on_train_begin, on_train_end : callable(logs), optional
    """

    def __init__(
        self,
        on_epoch_begin: Optional[Callable] = None,
        on_epoch_end: Optional[Callable] = None,
        on_batch_begin: Optional[Callable] = None,
        on_batch_end: Optional[Callable] = None,
        on_train_begin: Optional[Callable] = None,
        on_train_end: Optional[Callable] = None,
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
        }
        for hook, fn in hooks.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"Argument `{hook}` must be callable. Received: {fn!r}")
                setattr(self, hook, fn)


# The learning-rate callbacks live in their own module (they build on Callback and EarlyStopping's mode logic above).
from ._lr_callbacks import LearningRateScheduler, ReduceLROnPlateau  # noqa: E402

__all__ += ["LearningRateScheduler", "ReduceLROnPlateau"]
