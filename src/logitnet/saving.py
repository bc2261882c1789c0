"""Model files: save and load ``Sequential`` models safely, in one versioned file.

A ``.logitnet`` file is a zip holding ``metadata.json`` (format name and
version), ``config.json`` (architecture, compile settings, a description of
every array, optional user metadata) and one ``.npy`` member per array (the
weights, and optionally the optimizer state). ``docs/file-format.md`` is the
specification.

Loading is safe for untrusted files: nothing is unpickled, imported or
executed. Classes are looked up by name in fixed allow-lists of logitnet's
built-ins (``Dense``, ``Dropout``, ``BatchNormalization``; the regularizers
L1, L2, L1L2; the two cross-entropies; SGD, Adam, AdamW, RMSprop and the four
learning-rate schedules; the accuracies; the built-in activations and
initializers). Every array is checked against the shape and dtype the
architecture implies before it is read. Any problem raises
:class:`~logitnet.exceptions.ModelFileError` (a ValueError) naming the file
and the problem.

Saving is atomic: a temporary file in the same directory is written,
fsynced and renamed over the target, so an interrupted save leaves the
previous file intact.
"""

from __future__ import annotations

import datetime
import json
import os
import warnings
from typing import Any, BinaryIO, Callable, Optional, Union

import numpy as np

from . import initializers, metrics
from ._archive import ArchiveReader, ArchiveWriter, atomic_write
from ._schema import (
    BIT_GENERATORS,
    EXTENSION,
    FORMAT_NAME,
    FORMAT_VERSION,
    LAYER_INITIALIZERS,
    LAYERS,
    LOSSES,
    MAX_LAYERS,
    METRICS,
    OPTIMIZERS,
    REGULARIZERS,
    SCHEDULES,
    WEIGHTS_EXTENSION,
    array_entry,
    builtin_activation,
    check_config,
    check_metadata,
    expected_weights,
    parse_compile,
    parse_layer_rngs,
    parse_model,
    parse_rng,
    read_weights,
    require,
    short,
    unsaveable,
)
from .exceptions import ModelFileError
from .layers import Dropout, Layer
from .models import Sequential

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "EXTENSION",
    "WEIGHTS_EXTENSION",
    "ModelFileError",
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "read_metadata",
]

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]


# =========================================================================== saving
def _check_extension(filepath: Any, extension: str, what: str) -> None:
    if hasattr(filepath, "write"):
        return
    path = os.fspath(filepath)
    if not path.endswith(extension):
        hint = " logitnet does not write Keras files." if path.endswith((".keras", ".h5")) else ""
        raise ValueError(
            f"Invalid filepath extension for {what}: the filename must end in `{extension}`.{hint} "
            f"Received: filepath={path}"
        )


def _object_config(obj: Any, allowed: dict, what: str) -> dict:
    if allowed.get(type(obj).__name__) is not type(obj):
        raise unsaveable(what, obj)
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def _layer_config(layer: Any) -> dict:
    class_name = type(layer).__name__
    if LAYERS.get(class_name) is not type(layer):
        raise unsaveable("the layer", layer)
    config = layer.get_config()
    for attr in LAYER_INITIALIZERS[class_name]:
        init = getattr(layer, attr)
        try:
            same = type(initializers.get(init.name)) is type(init)
        except ValueError:
            same = False
        if not same:
            raise unsaveable(f"the {attr} of layer '{layer.name}'", init)
    if class_name == "Dense":
        builtin_activation(layer)
        for attr in ("kernel_regularizer", "bias_regularizer"):
            reg = getattr(layer, attr)
            if reg is None:  # absent means none: a file without regularizers is as before they existed
                config.pop(attr, None)
            else:
                config[attr] = _object_config(reg, REGULARIZERS, f"the {attr} of layer '{layer.name}'")
    return {"class_name": class_name, "config": config}


def _model_config(model: Sequential) -> dict:
    if len(model.layers) > MAX_LAYERS:
        raise ValueError(f"Cannot save a model of {len(model.layers)} layers: model files hold at most {MAX_LAYERS}.")
    return {
        "class_name": "Sequential",
        "config": {
            "name": model.name,
            "dtype": model.dtype.name,
            "input_dim": model.input_dim if model.built else None,
            "layers": [_layer_config(layer) for layer in model.layers],
        },
    }


def _optimizer_config(optimizer: Any) -> dict:
    entry = _object_config(optimizer, OPTIMIZERS, "the optimizer")
    schedule = getattr(optimizer, "_schedule", None)
    if schedule is not None:
        entry["config"]["learning_rate"] = _object_config(schedule, SCHEDULES, "the learning-rate schedule")
    return entry


def _compile_config(model: Sequential) -> Optional[dict]:
    if not model.compiled:
        return None
    metric_ids = []
    for m in model._metric_ids:
        if isinstance(m, str):
            try:
                metrics.get(m, y_true_ndim=1, y_true_last_dim=None, n_outputs=2)
            except ValueError:
                raise ValueError(f"Cannot save the unknown metric {m!r}.") from None
            metric_ids.append(m)
        else:
            metric_ids.append(_object_config(m, METRICS, "the metric"))
    return {
        "optimizer": _optimizer_config(model.optimizer),
        "loss": _object_config(model.loss, LOSSES, "the loss"),
        "metrics": metric_ids,
    }


def _weight_entries(model: Sequential) -> list[tuple[dict, np.ndarray]]:
    return [
        ({"layer": layer.name, "name": key, "shape": list(w.shape), "dtype": w.dtype.name}, w)
        for layer in model.layers
        for key, w in layer.params.items()
    ]


def _trainable_params(model: Sequential) -> list[np.ndarray]:
    """The parameter list ``fit`` hands the optimizer (its state is indexed by it)."""
    return model._trainable_pairs()[0]


def _optimizer_entries(model: Sequential) -> Optional[list[tuple[dict, np.ndarray]]]:
    optimizer = model.optimizer
    if optimizer is None or not optimizer.built:
        return None
    params = _trainable_params(model)
    state = optimizer.get_state()
    slots: dict[str, list[int]] = {}
    for key in state:
        if key not in ("iterations", "learning_rate"):
            slot, _, index = key.rpartition(".")
            slots.setdefault(slot, []).append(int(index))
    consistent = all(sorted(ix) == list(range(len(params))) for ix in slots.values()) and all(
        state[f"{slot}.{i}"].shape == params[i].shape for slot, ix in slots.items() for i in ix
    )
    if not consistent:
        warnings.warn(
            f"Not saving the state of optimizer {optimizer.name!r}: it was built for other parameters than "
            "the model's trainable weights (did `trainable` change after training?). The file will load "
            "with a fresh optimizer.",
            UserWarning,
            stacklevel=4,
        )
        return None
    return [({"key": key, "shape": list(a.shape), "dtype": a.dtype.name}, a) for key, a in state.items()]


def _rng_config(rng: np.random.Generator) -> Optional[dict]:
    state = rng.bit_generator.state
    if state.get("bit_generator") not in BIT_GENERATORS:
        return None  # e.g. a user's MT19937 generator: training resumes with fresh shuffles
    return {
        "bit_generator": state["bit_generator"],
        "state": hex(state["state"]["state"]),
        "inc": hex(state["state"]["inc"]),
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def _layer_rng_configs(model: Sequential) -> dict:
    """The generator states of the layers that have their own (a Dropout given a ``seed``)."""
    states = {}
    for layer in model.layers:
        rng = getattr(layer, "_rng", None) if isinstance(layer, Dropout) and layer.seed is not None else None
        entry = None if rng is None else _rng_config(rng)
        if entry is not None:
            states[layer.name] = entry
    return states


def _metadata(kind: str) -> dict:
    from . import __version__

    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "logitnet_version": __version__,
        "date_saved": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _write(filepath: PathOrFile, overwrite: bool, fill: Callable[[ArchiveWriter], None]) -> None:
    def write(f: BinaryIO) -> None:
        writer = ArchiveWriter(f)
        fill(writer)
        writer.close()

    if hasattr(filepath, "write"):
        write(filepath)  # type: ignore[arg-type]
    else:
        atomic_write(filepath, write, overwrite=overwrite)  # type: ignore[arg-type]


def _fill(writer: ArchiveWriter, kind: str, config: dict, weights: list, opt_entries: Optional[list]) -> None:
    config["weights"] = [entry for entry, _ in weights]
    if opt_entries is not None:
        config["optimizer_state"] = [entry for entry, _ in opt_entries]
    writer.add_json("metadata.json", _metadata(kind))
    writer.add_json("config.json", config)
    for k, (_, array) in enumerate(weights):
        writer.add_array(f"weights/{k}.npy", array)
    for k, (_, array) in enumerate(opt_entries or []):
        writer.add_array(f"optimizer/{k}.npy", array)


def save_model(
    model: Sequential,
    filepath: PathOrFile,
    overwrite: bool = True,
    *,
    include_optimizer: bool = True,
    metadata: Optional[dict] = None,
) -> None:
    """Save the architecture, compile settings, weights (and training state) to one file.

    Parameters
    ----------
    model : Sequential
        Built or not, compiled or not; made of logitnet's built-in objects.
    filepath : str, os.PathLike or binary file object
        A path must end in ``.logitnet``; it is written atomically (the old
        file stays intact if the save is interrupted). A file object is
        written to as is.
    overwrite : bool, default True
        If False, an existing file raises FileExistsError.
    include_optimizer : bool, default True
        Also store the optimizer state (slots, ``iterations``), the model's
        generator (shuffles, dropout masks) and those of Dropout layers given
        a ``seed``, so that ``fit`` on the loaded model continues exactly as
        the original would have.
    metadata : dict, optional
        Extra JSON-serialisable information (e.g. label names), returned by
        :func:`read_metadata` as ``"user_metadata"``.

    Raises
    ------
    ValueError
        A wrong extension, a custom (non built-in) object, or metadata that is
        not JSON-serialisable.
    """
    _check_extension(filepath, EXTENSION, "saving a model")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"Argument `metadata` must be a dict or None. Received: metadata={metadata!r}")
    config: dict[str, Any] = {"model": _model_config(model), "compile": _compile_config(model)}
    weights = _weight_entries(model) if model.built else []
    opt_entries = _optimizer_entries(model) if include_optimizer and model.compiled else None
    config["rng_state"] = _rng_config(model._rng) if include_optimizer else None
    layer_rngs = _layer_rng_configs(model) if include_optimizer else {}
    if layer_rngs:  # written only when there are some: other files are as before this key existed
        config["layer_rng_states"] = layer_rngs
    if metadata is not None:
        try:
            json.dumps(metadata, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Argument `metadata` must be JSON-serialisable: {exc}") from None
        config["user_metadata"] = metadata
    _write(filepath, overwrite, lambda writer: _fill(writer, "model", config, weights, opt_entries))


def save_weights(model: Sequential, filepath: PathOrFile, overwrite: bool = True) -> None:
    """Save only the weights (any layers, built-in or not) to a ``.weights.logitnet`` file.

    The file lists each array with its layer name, key, shape and dtype;
    :func:`load_weights` puts them back by position, as Keras does.

    Raises
    ------
    ValueError
        If the model is not built, or the extension is wrong.
    """
    _check_extension(filepath, WEIGHTS_EXTENSION, "saving weights")
    if not model.built:
        raise ValueError(
            f"You are calling `save_weights` on model '{model.name}', which isn't built yet. "
            "Build it (`model.build((None, n_features))`) or train it first."
        )
    weights = _weight_entries(model)
    _write(filepath, overwrite, lambda writer: _fill(writer, "weights", {}, weights, None))


# =========================================================================== loading: assembly
def _assemble(
    name: str, dtype: str, input_dim: Optional[int], layers: list[Layer], arrays: list, rng: Any, layer_rngs: dict
) -> Sequential:
    if input_dim is not None:
        scratch = np.random.default_rng(0)  # the initial values are overwritten; the model's generator is untouched
        shape: tuple = (None, input_dim)
        for layer in layers:
            if not isinstance(layer, Dropout):  # a Dropout keeps the generator it is built with: the model's
                layer.build(shape, rng=scratch, dtype=dtype)
            shape = layer.compute_output_shape(shape)
    model = Sequential(layers, name=name, seed=rng, dtype=dtype)
    if input_dim is not None:
        model.build((None, input_dim))
        for target, value in zip(model.weights, arrays):
            np.copyto(target, value)  # as saved, non-finite values included
    for layer in layers:
        if layer.name in layer_rngs:
            layer._rng = layer_rngs[layer.name]
    return model


def _restore_optimizer(reader: ArchiveReader, model: Sequential, entries: list) -> None:
    optimizer = model.optimizer
    optimizer.build(_trainable_params(model))
    expected = optimizer.get_state()
    keys = [e.get("key") if isinstance(e, dict) else None for e in entries]
    if sorted(map(str, keys)) != sorted(expected):
        raise reader.error(
            f"config.json: the optimizer state holds {short(sorted(map(str, keys)))}, but {type(optimizer).__name__} "
            f"with this configuration and model needs {sorted(expected)}"
        )
    state = {}
    for k, entry in enumerate(entries):
        shape, dtype = array_entry(reader, f"optimizer_state[{k}]", entry, {"key", "shape", "dtype"})
        want = expected[entry["key"]]
        if shape != want.shape or dtype != want.dtype.name:
            raise reader.error(
                f"config.json: optimizer state {entry['key']!r} is described as {list(shape)} {dtype}, "
                f"but the model needs {list(want.shape)} {want.dtype.name}"
            )
        state[entry["key"]] = reader.read_array(f"optimizer/{k}.npy", shape, dtype)
    if state["iterations"] < 0:
        raise reader.error("the optimizer's `iterations` is negative")
    try:
        optimizer.set_state(state)
    except (ValueError, TypeError) as exc:
        raise reader.error(f"invalid optimizer state ({exc})") from None


def _load(filepath: PathOrFile, compile: bool) -> Sequential:
    with ArchiveReader(filepath) as reader:
        meta = check_metadata(reader)
        if meta["kind"] != "model":
            raise reader.error(
                "it is a weights-only file (written by `save_weights`); load it into a model of the same "
                "architecture with `model.load_weights(...)`"
            )
        config = check_config(reader, "model")
        name, dtype, input_dim, layers = parse_model(reader, config["model"])
        arrays = read_weights(reader, config["weights"], expected_weights(layers, input_dim, dtype))
        compile_entry = config.get("compile")
        entries = config.get("optimizer_state")
        require(
            reader, entries is None or compile_entry is not None, "config.json has an optimizer state but no `compile`"
        )
        require(reader, not entries or input_dim is not None, "config.json has an optimizer state but no weights")
        rng = parse_rng(reader, config.get("rng_state"))
        layer_rngs = parse_layer_rngs(reader, config.get("layer_rng_states"), layers)
        model = _assemble(name, dtype, input_dim, layers, arrays, rng, layer_rngs)
        if compile and compile_entry is not None:
            optimizer, loss, metric_ids = parse_compile(reader, compile_entry)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # compile's advice was given when the model was first compiled
                model.compile(optimizer=optimizer, loss=loss, metrics=metric_ids)
            if entries is not None and input_dim is not None:
                _restore_optimizer(reader, model, entries)
        return model


def load_model(filepath: PathOrFile, compile: bool = True) -> Sequential:
    """Load a model saved by :func:`save_model` (``model.save``).

    Parameters
    ----------
    filepath : str, os.PathLike or binary file object
    compile : bool, default True
        Re-compile with the saved loss, optimizer (and its state) and metrics.

    Returns
    -------
    Sequential
        Predictions and ``evaluate`` are identical to the saved model's; with
        the optimizer state saved, ``fit`` continues exactly as it would have.

    Raises
    ------
    ModelFileError
        (a ValueError) Not a logitnet file, an unknown format version, a weights-only
        file, a missing or unexpected member, a class that is not a logitnet
        built-in, an invalid configuration, an array of the wrong shape or
        dtype, a truncated or corrupted file. The message names the problem.
    OSError
        The file cannot be opened (FileNotFoundError, PermissionError, ...).
    """
    return _load(filepath, compile)


def load_weights(model: Sequential, filepath: PathOrFile) -> None:
    """Copy the weights stored in a weights file or a model file into ``model``, by position.

    An unbuilt model is first built for the input width of the stored first
    weight (a kernel's rows, or a BatchNormalization weight's length).

    Raises
    ------
    ModelFileError
        The file is damaged (see :func:`load_model`).
    ValueError
        The file is fine but its arrays do not fit the model (count or shapes).
    """
    with ArchiveReader(filepath) as reader:
        meta = check_metadata(reader)
        config = check_config(reader, meta["kind"])
        arrays = read_weights(reader, config["weights"])
    if not model.built and arrays and arrays[0].ndim in (1, 2) and arrays[0].shape[0] >= 1:
        model.build((None, arrays[0].shape[0]))
    targets = model.weights if model.built else []
    if len(arrays) != len(targets):
        raise ValueError(
            f"{reader.name} holds {len(arrays)} weight arrays, but model '{model.name}' has {len(targets)}."
        )
    for k, (target, value) in enumerate(zip(targets, arrays)):
        if target.shape != value.shape:
            raise ValueError(
                f"Weight {k} in {reader.name} has shape {value.shape}, but model '{model.name}' needs {target.shape}."
            )
    for target, value in zip(targets, arrays):
        np.copyto(target, value, casting="same_kind")


def read_metadata(filepath: PathOrFile) -> dict:
    """The file's metadata and user metadata, without loading the model.

    Returns
    -------
    dict
        ``format``, ``format_version``, ``kind`` (``"model"`` or
        ``"weights"``), ``logitnet_version``, ``date_saved`` (ISO 8601, UTC) and
        ``user_metadata`` (the dict passed to ``save``, or None).

    Raises
    ------
    ModelFileError
        As :func:`load_model`, for the parts it reads.
    """
    with ArchiveReader(filepath) as reader:
        meta = check_metadata(reader)
        config = check_config(reader, meta["kind"])
    return {**meta, "user_metadata": config.get("user_metadata")}
