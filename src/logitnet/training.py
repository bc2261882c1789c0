"""The training loop behind :meth:`Sequential.fit`, and what it does when training goes wrong.

Each epoch draws one permutation from the model's generator (a small
in-memory input is shuffled whole; one above ``CHUNKED_ABOVE`` bytes is
gathered about ``CHUNK_BYTES`` of rows at a time into a buffer allocated once
per fit, so no second full copy is made; an out-of-core one is read batch by
batch; the batches are the same in all three cases, see
:mod:`logitnet.outofcore`), then runs one step per batch: forward, the fused
loss and gradient, backward, the optimizer's in-place update.

**Divergence.** ``Sequential._train_step`` checks each step's loss (a Python
float) before the update; a step whose loss is NaN or infinite is not applied
and stops training: this check is the only per-step cost of what follows (a
copy of the weights and optimizer state per epoch is the other). At
the end of each epoch (and after a non-finite loss) the weights and optimizer
state are checked for NaN and infinity; if a step whose loss was finite left
them non-finite (a non-finite gradient or update), the epoch is replayed from
a copy taken at its start, step by step, keeping the state after the last
finite step. The replay is bit-identical to the original steps (same batches,
same arithmetic) as long as callbacks did not change the learning rate in the
middle of the epoch. ``fit`` then closes the epoch (its loss is logged as NaN,
as Keras logs it), runs the remaining callbacks and warns with a
:class:`~logitnet.exceptions.DivergenceWarning` naming the likely cause.

**Interruption.** While ``fit`` runs in the main thread with Python's default
SIGINT handler, Ctrl-C is deferred to the end of the current step: the step
completes, training stops, and ``KeyboardInterrupt`` is raised with a message
saying what the model holds: the weights after the last completed step, and
``model.history`` with the completed epochs. A ``KeyboardInterrupt`` raised by
a callback is handled the same way. A second Ctrl-C aborts at once; if it
lands inside a step, the model is put back to the start of the epoch (a
consistent state). ``on_train_end`` is not called (as in Keras), so
:class:`~logitnet.callbacks.BackupAndRestore` keeps its backup.
"""

from __future__ import annotations

import signal
import threading
import warnings
from math import isfinite
from typing import Any, Callable, Optional

import numpy as np

from . import diagnostics
from .dense_chain import DenseChain
from .exceptions import DivergenceWarning
from .outofcore import PermutedChunks, PermutedRows

__all__ = ["run_epochs", "StateGuard", "SigintDeferral"]

_UPDATE_MODULE = "logitnet.optimizers"  # the weights change only inside Optimizer.apply
CHUNKED_ABOVE = 1 << 24  # in-memory training data above this many bytes is shuffled chunk by chunk
CHUNK_BYTES = 1 << 22  # about this many bytes of rows per chunk (a whole number of batches)


def _buffers(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The distinct memory blocks behind ``arrays`` (one flat buffer for a packed model)."""
    found: dict[int, np.ndarray] = {}
    for a in arrays:
        base = a.base if isinstance(a.base, np.ndarray) else a  # a view's base owns its memory
        found.setdefault(id(base), base)
    return list(found.values())


class StateGuard:
    """A copy of the weights and optimizer state (slots and step count), taken at the start of each epoch.

    The copies go into buffers allocated once, so a snapshot costs one
    ``copyto`` per flat buffer (three for a packed model trained with Adam).
    """

    def __init__(self, model: Any, params: list[np.ndarray]) -> None:
        self.model = model
        self.params = params
        self.iterations: Optional[int] = None
        self.epoch = 0  # the epoch whose start the copy holds (set by run_epochs)
        self._live: list[np.ndarray] = []
        self._saved: list[np.ndarray] = []

    def take(self) -> None:
        optimizer = self.model.optimizer
        if self.iterations is None:  # the optimizer's first apply() would build it with these params
            optimizer.build(self.params)
            self._live = _buffers(self.model.weights) + _buffers(optimizer.variables()[2:])
            self._saved = [np.empty_like(b) for b in self._live]
        for live, saved in zip(self._live, self._saved):
            np.copyto(saved, live)
        self.iterations = optimizer.iterations

    def restore(self) -> None:
        for live, saved in zip(self._live, self._saved):
            np.copyto(live, saved)
        self.model.optimizer.iterations = self.iterations

    def finite(self) -> bool:
        """Whether every weight and optimizer slot is finite."""
        for b in self._live:
            if not np.isfinite(b).all():
                return False
        return True


class SigintDeferral:
    """Turns Ctrl-C into a request to stop after the current step, while ``fit`` runs in the main thread.

    Installed only when SIGINT has Python's default handler (so a program's
    own handler is left alone), and restored on exit. A second Ctrl-C raises
    ``KeyboardInterrupt`` at once.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.requested = False
        self.forced = False
        self._previous: Any = None

    def __enter__(self) -> "SigintDeferral":
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    self._previous = signal.signal(signal.SIGINT, self._handle)
            except ValueError:  # not the main interpreter
                self._previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            self.forced = True
            raise KeyboardInterrupt
        self.requested = True
        self.model.stop_training = True

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def _mid_update(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside an optimizer update (where the weights may be half updated)."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__") == _UPDATE_MODULE or frame.f_code.co_name in ("apply", "_update"):
            return True
        tb = tb.tb_next
    return False


def _recover(guard: StateGuard, step: Callable[[int], float], failing: int, upto: int) -> tuple[str, int]:
    """Put back the state after the last finite step of this epoch.

    ``failing`` is the step whose loss was not finite (not applied), or -1
    when the state went bad with all losses finite; ``upto`` steps were applied
    this epoch. Returns ``(how, failing_step)`` for the message (see
    :func:`logitnet.diagnostics.divergence_message`).
    """
    if failing >= 0 and guard.finite():
        return "skipped", failing
    last = failing if failing >= 0 else upto - 1
    guard.restore()
    if not guard.finite():
        return "start", last
    for k in range(upto):
        guard.take()
        loss = step(k)
        if not isfinite(loss) or not guard.finite():
            guard.restore()
            return "replayed", k
    return "outside", last


def run_epochs(
    model: Any,
    x: Any,
    y: np.ndarray,
    sw: Optional[np.ndarray],
    val: Optional[tuple],
    cbs: Any,
    metric_objs: list,
    *,
    batch_size: int,
    epochs: int,
    initial_epoch: int,
    shuffle: bool,
    stats: Optional[diagnostics.FeatureStats],
) -> None:
    """Train ``model`` on checked data; the History callback in ``cbs`` records the epochs.

    Parameters
    ----------
    x : ndarray of shape (n_samples, n_features), or RowSource
    y : ndarray of shape (n_samples,) or (n_samples, n_classes)
    sw : ndarray of shape (n_samples,), optional
    val : tuple, optional
        Checked ``(x_val, y_val, sw_val)``.
    stats : FeatureStats, optional
        Statistics of the inputs, for a divergence diagnosis.
    """
    layers = model._layers
    fused = model._fused_output()
    trainable_from = next((i for i, layer in enumerate(layers) if layer.trainable and layer.grads), len(layers))
    params, grads = model._trainable_pairs()
    model._penalties = [(layer.params[k], layer.grads[k], reg) for layer in layers if layer.trainable
                        for k, reg in layer.regularizers()]
    activation = layers[-1].activation if fused else None
    steps = -(-len(x) // batch_size)
    guard = StateGuard(model, params)
    deferral = SigintDeferral(model)
    train_step = model._train_step
    update = model.optimizer.stepper(params, grads)
    model._dense_chain = DenseChain.build(model, fused) if trainable_from == 0 else None

    model.stop_training = False
    model._initial_epoch = None
    epoch_logs: dict = {}
    diverged: Optional[str] = None
    epoch = initial_epoch
    chunks = _epoch_chunks(x, y, sw, batch_size) if shuffle else None
    with deferral:
        try:
            cbs.on_train_begin()
            start = initial_epoch if model._initial_epoch is None else int(model._initial_epoch)
            for epoch in range(start, int(epochs)):
                for m in metric_objs:
                    m.reset_state()
                cbs.on_epoch_begin(epoch)
                xe, ye, we = _epoch_arrays(model, x, y, sw, shuffle, chunks)
                guard.take()
                guard.epoch = epoch
                loss = 0.0
                total, seen = 0.0, 0
                for step in range(steps):
                    start_row = step * batch_size
                    stop_row = start_row + batch_size
                    xb, yb = xe[start_row:stop_row], ye[start_row:stop_row]
                    wb = None if we is None else we[start_row:stop_row]
                    if cbs.wants_batch_begin:
                        cbs.on_batch_begin(step)
                    loss, out = train_step(xb, yb, wb, fused, update, trainable_from)
                    b = len(xb)
                    total += loss * b
                    seen += b
                    if metric_objs:
                        y_pred = activation(out) if fused else out
                        for m in metric_objs:
                            m.update_state(yb, y_pred)
                    if cbs.batch_end_due(step):
                        logs = {"loss": total / seen}
                        for m in metric_objs:
                            logs[m.name] = m.result()
                        cbs.on_batch_end(step, dict(sorted(logs.items())))
                    if model.stop_training:
                        break
                if not isfinite(loss) or not guard.finite():

                    def replay_step(k: int) -> float:
                        sl = slice(k * batch_size, (k + 1) * batch_size)
                        wk = None if we is None else we[sl]
                        return train_step(xe[sl], ye[sl], wk, fused, update, trainable_from)[0]

                    failing = step if not isfinite(loss) else -1
                    how, bad = _recover(guard, replay_step, failing, step if failing >= 0 else step + 1)
                    where = f"in epoch {epoch + 1}/{epochs} at batch {bad + 1}/{steps}"
                    failing_batch = xe[bad * batch_size:(bad + 1) * batch_size]
                    diverged = _divergence_message(model, where, loss, how, failing_batch, y, sw, stats)
                if deferral.requested:
                    raise KeyboardInterrupt
                epoch_logs = {"loss": total / seen}
                for m in metric_objs:
                    epoch_logs[m.name] = m.result()
                if val is not None:
                    val_logs = model._evaluate_arrays(*val, batch_size=batch_size)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                epoch_logs = {k: float(v) for k, v in sorted(epoch_logs.items())}
                cbs.on_epoch_end(epoch, epoch_logs)
                if model.stop_training:
                    break
            if deferral.requested:
                raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise KeyboardInterrupt(_interrupt_message(model, guard, exc, epochs, steps)) from (
                None if deferral.requested and not deferral.forced else exc
            )
    cbs.on_train_end(epoch_logs)
    if diverged is not None:
        warnings.warn(DivergenceWarning(diverged), stacklevel=3)


def _epoch_chunks(x: Any, y: np.ndarray, sw: Optional[np.ndarray], batch_size: int) -> Optional[tuple]:
    """Chunked readers for ``(x, y, sw)`` (None for an out-of-core ``x`` or a missing ``sw``), made once per
    fit; or None when the in-memory arrays total at most ``CHUNKED_ABOVE`` bytes (they are permuted whole).

    A chunk holds a whole number of batches, about ``CHUNK_BYTES`` of rows.
    """
    arrays = [a if isinstance(a, np.ndarray) else None for a in (x, y, sw)]
    size = sum(a.nbytes for a in arrays if a is not None)
    if size <= CHUNKED_ABOVE:
        return None
    row_bytes = max(1, size // len(y))
    chunk_rows = max(1, CHUNK_BYTES // (row_bytes * batch_size)) * batch_size
    return tuple(None if a is None else PermutedChunks(a, chunk_rows) for a in arrays)


def _epoch_arrays(model: Any, x: Any, y: np.ndarray, sw: Optional[np.ndarray], shuffle: bool,
                  chunks: Optional[tuple] = None) -> tuple:
    """This epoch's inputs, labels and weights: in a fresh order from the model's generator if ``shuffle``.

    Small in-memory arrays are permuted whole; with ``chunks`` (from
    :func:`_epoch_chunks`) they are gathered a chunk at a time into buffers
    reused across epochs (:class:`~logitnet.outofcore.PermutedChunks`), so a
    large input is never copied whole. An out-of-core ``x`` is read batch by
    batch (:class:`~logitnet.outofcore.PermutedRows`). The batches are the
    same either way.
    """
    if not shuffle:
        return x, y, sw
    order = model._rng.permutation(len(x))
    if chunks is None:
        xe = x[order] if isinstance(x, np.ndarray) else PermutedRows(x, order)
        return xe, y[order], None if sw is None else sw[order]
    xc, yc, wc = chunks
    xe = PermutedRows(x, order) if xc is None else xc.reorder(order)
    return xe, yc.reorder(order), None if wc is None else wc.reorder(order)


def _divergence_message(model: Any, where: str, loss: float, how: str, xb: np.ndarray, y: np.ndarray,
                        sw: Optional[np.ndarray], stats: Optional[diagnostics.FeatureStats]) -> str:
    model.stop_training = True
    ignore_class = getattr(model.loss, "ignore_class", None)
    labels = diagnostics.describe_labels(y, model.loss.target, model.n_outputs, ignore_class)
    return diagnostics.divergence_message(
        where=where, loss=loss, iterations=model.optimizer.iterations, how=how, model=model,
        logit=diagnostics.largest_logit(model, xb), stats=stats, labels=labels, sample_weight=sw,
    )


def _interrupt_message(model: Any, guard: StateGuard, exc: BaseException, epochs: int, steps: int) -> str:
    """Make the model consistent after a KeyboardInterrupt and say what it holds."""
    iterations = model.optimizer.iterations
    if guard.iterations is not None and _mid_update(exc):
        guard.restore()
        state = (
            f"The interrupt landed in the middle of a weight update, so the model was put back to the start of epoch "
            f"{guard.epoch + 1}/{epochs} (optimizer.iterations={guard.iterations})"
        )
    elif guard.iterations is not None:
        done = iterations - guard.iterations
        state = (
            f"The model keeps the weights of the last completed step (epoch {guard.epoch + 1}/{epochs}, batch "
            f"{done}/{steps}; optimizer.iterations={iterations})"
        )
    else:
        state = f"No step had run; the model keeps its weights (optimizer.iterations={iterations})"
    history = getattr(model, "history", None)
    completed = len(history.epoch) if history is not None else 0
    return (
        f"Training interrupted. {state}; model.history holds the {completed} completed epoch"
        f"{'' if completed == 1 else 's'}. fit() again continues from these weights."
    )
