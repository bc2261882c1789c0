"""``model.summary()``: Keras's table, drawn with rich, plus one line on what the outputs are."""

from __future__ import annotations

import io
import shutil
import sys
from typing import Any, Callable, Optional

__all__ = ["print_summary", "format_bytes"]


def format_bytes(n_bytes: float) -> str:
    """Keras's memory figure: 1024-based, two decimals (``716.00 B``, ``6.21 KB``)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024 or unit == "TB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    raise AssertionError("unreachable")


def _line_length(line_length: Optional[int], file: Any) -> int:
    if line_length is not None:
        return int(line_length)
    if getattr(file, "isatty", lambda: False)():
        columns = shutil.get_terminal_size().columns
    else:
        import os

        columns = int(os.environ.get("COLUMNS", 80))
    return min(88, columns - 4)


def _output_description(model: Any) -> Optional[str]:
    if not model.compiled or not model.layers:
        return None
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    act = activation.name if activation is not None else "linear"
    loss = model.loss
    logits = "from_logits=True" if loss.from_logits else "from_logits=False"
    if act == "linear":
        what = "logits (apply logitnet.softmax for probabilities)"
    elif act == "softmax":
        what = "probabilities (softmax); the loss is computed from the logits before it"
    elif act == "sigmoid":
        what = "per-class sigmoids (rows do not sum to 1); the loss is computed from the logits before it"
    else:
        what = f"{act} activations"
    return f" Outputs: {what}. Loss: {loss.name}({logits})."


def print_summary(model: Any, line_length: Optional[int] = None, print_fn: Optional[Callable[[str], Any]] = None) -> None:
    """Print (or pass to ``print_fn``) the summary of a Sequential model.

    Parameters
    ----------
    model : Sequential
    line_length : int, optional
        Table width; by default ``min(88, terminal columns - 4)`` (76 in a pipe), as Keras.
    print_fn : callable(str), optional
        Receives the whole summary as one string instead of printing it.
    """
    from rich.console import Console
    from rich.table import Table, box

    width = _line_length(line_length, sys.stdout)
    positions = [0.45, 0.80, 1.0]
    bounds = [int(width * p) for p in positions]
    widths = [bounds[0], bounds[1] - bounds[0], bounds[2] - bounds[1]]

    table = Table(box=box.HEAVY_HEAD, show_lines=True, width=width)
    table.add_column("Layer (type)", width=widths[0])  # long names wrap onto a second line, as in Keras
    table.add_column("Output Shape", width=widths[1], no_wrap=True)
    table.add_column("Param #", width=widths[2], justify="right", no_wrap=True)

    shape: tuple = (None, model.input_dim) if model.built else None
    for layer in model.layers:
        if layer.built:
            shape = layer.compute_output_shape(shape)
            table.add_row(f"{layer.name} ({type(layer).__name__})", str(shape), f"{layer.count_params():,}")
        else:  # Keras counts a layer without weights (Dropout) as built from the start
            table.add_row(f"{layer.name} ({type(layer).__name__})", "?", "0" if layer.weightless else "0 (unbuilt)")

    itemsize = model.dtype.itemsize
    trainable = sum(w.size for w in model.trainable_weights)
    frozen = sum(w.size for w in model.non_trainable_weights)
    opt_params = model.optimizer.count_params() if model.optimizer is not None else 0
    total = trainable + frozen + opt_params
    # Keras's byte counts: the optimizer's step counter is an int64 and its learning rate a float32.
    opt_bytes = (opt_params - 2) * itemsize + 8 + 4 if opt_params else 0

    lines = [
        f" Total params: {total:,} ({format_bytes((trainable + frozen) * itemsize + opt_bytes)})",
        f" Trainable params: {trainable:,} ({format_bytes(trainable * itemsize)})",
        f" Non-trainable params: {frozen:,} ({format_bytes(frozen * itemsize)})",
    ]
    if opt_params:
        lines.append(f" Optimizer params: {opt_params:,} ({format_bytes(opt_bytes)})")
    extra = _output_description(model)
    if extra:
        lines.append(extra)

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False, highlight=False)
    console.print(f'Model: "{model.name}"', markup=False)
    console.print(table)
    text = buffer.getvalue() + "\n".join(lines) + "\n"
    if print_fn is not None:
        print_fn(text.rstrip("\n"))
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
