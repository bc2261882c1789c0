"""The schema of format version 1: the allow-lists, and the checks a file goes through when it is read.

Every check raises :class:`~logitnet.exceptions.ModelFileError` through
:meth:`ArchiveReader.error`, naming the file and the problem; values echoed
from the file are shortened. ``docs/file-format.md`` is the specification.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional

import numpy as np

from . import activations, losses, metrics, optimizers, regularizers
from ._archive import ArchiveReader
from .layers import BatchNormalization, Dense, Dropout
from .optimizers import schedules

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "EXTENSION",
    "WEIGHTS_EXTENSION",
    "LAYERS",
    "LAYER_INITIALIZERS",
    "REGULARIZERS",
    "SCHEDULES",
    "WEIGHT_NAMES",
    "LOSSES",
    "OPTIMIZERS",
    "METRICS",
    "BIT_GENERATORS",
    "DTYPES",
    "MAX_LAYERS",
    "unsaveable",
    "builtin_activation",
    "short",
    "require",
    "check_metadata",
    "check_config",
    "array_entry",
    "parse_model",
    "expected_weights",
    "read_weights",
    "parse_compile",
    "parse_rng",
    "parse_layer_rngs",
]

FORMAT_NAME = "logitnet"
FORMAT_VERSION = 1
EXTENSION = ".logitnet"
WEIGHTS_EXTENSION = ".weights.logitnet"

# The allow-lists: the only classes a file can name.
LAYERS = {cls.__name__: cls for cls in (Dense, Dropout, BatchNormalization)}
REGULARIZERS = {cls.__name__: cls for cls in (regularizers.L1, regularizers.L2, regularizers.L1L2)}
SCHEDULES = {
    cls.__name__: cls
    for cls in (
        schedules.ExponentialDecay,
        schedules.PiecewiseConstantDecay,
        schedules.CosineDecay,
        schedules.InverseTimeDecay,
    )
}
LOSSES = {cls.__name__: cls for cls in (losses.SparseCategoricalCrossentropy, losses.CategoricalCrossentropy)}
OPTIMIZERS = {cls.__name__: cls for cls in (optimizers.SGD, optimizers.Adam, optimizers.AdamW, optimizers.RMSprop)}
METRICS = {
    cls.__name__: cls
    for cls in (metrics.SparseCategoricalAccuracy, metrics.CategoricalAccuracy, metrics.BinaryAccuracy)
}
BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM}
DTYPES = ("float32", "float64")
_METADATA_KEYS = {"format", "format_version", "kind", "logitnet_version", "date_saved"}
_CONFIG_KEYS = {"model", "compile", "weights", "optimizer_state", "rng_state", "layer_rng_states", "user_metadata"}
# Per layer class: the initializer arguments (names of built-ins), the bool arguments, and all allowed arguments.
LAYER_INITIALIZERS = {
    "Dense": ("kernel_initializer", "bias_initializer"),
    "Dropout": (),
    "BatchNormalization": (
        "beta_initializer",
        "gamma_initializer",
        "moving_mean_initializer",
        "moving_variance_initializer",
    ),
}
_LAYER_BOOLS = {
    "Dense": ("trainable", "use_bias"),
    "Dropout": ("trainable",),
    "BatchNormalization": ("trainable", "center", "scale"),
}
_REGULARIZER_KEYS = ("kernel_regularizer", "bias_regularizer")
_LAYER_KEYS = {
    "Dense": {"name", "units", "activation", *_LAYER_BOOLS["Dense"], *LAYER_INITIALIZERS["Dense"], *_REGULARIZER_KEYS},
    "Dropout": {"name", "rate", "noise_shape", "seed", *_LAYER_BOOLS["Dropout"]},
    "BatchNormalization": {
        "name", "axis", "momentum", "epsilon", *_LAYER_BOOLS["BatchNormalization"],
        *LAYER_INITIALIZERS["BatchNormalization"],
    },
}
WEIGHT_NAMES = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance")
MAX_LAYERS = 4096  # a reader's bound, so that a crafted file cannot make loading take minutes
MAX_WEIGHTS = 4 * MAX_LAYERS  # a BatchNormalization has 4 weights


# --------------------------------------------------------------------------- saving: what a file can name
def unsaveable(what: str, obj: Any) -> ValueError:
    text = repr(obj)
    if type(obj).__name__ not in text:  # e.g. a subclass that inherits its parent's repr
        text += f" (of class {type(obj).__name__})"
    return ValueError(
        f"Cannot save {what} {text}: logitnet model files hold logitnet's built-in objects only, so that "
        "loading never runs code named in a file. Use a built-in, or save the weights with "
        "`model.save_weights(...)` and rebuild the model in code."
    )


def builtin_activation(layer: Dense) -> Any:
    """The activation's config, if it is a built-in one (so a file can name it); else ValueError."""
    config = activations.serialize(layer.activation)
    try:
        same = activations.get(config) == layer.activation
    except ValueError:
        same = False
    if not same:
        raise unsaveable(f"the activation of layer '{layer.name}'", layer.activation)
    return config


# --------------------------------------------------------------------------- checks
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def short(value: Any) -> str:
    """``repr(value)``, cut to a readable length (values come from untrusted files)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def require(reader: ArchiveReader, ok: bool, problem: str) -> None:
    if not ok:
        raise reader.error(problem)


def check_metadata(reader: ArchiveReader) -> dict:
    meta = reader.read_json("metadata.json", limit=64 * 1024)
    require(reader, isinstance(meta, dict), "metadata.json is not a JSON object")
    require(
        reader, meta.get("format") == FORMAT_NAME, f"it is not a logitnet file (format {short(meta.get('format'))})"
    )
    version = meta.get("format_version")
    require(reader, _is_int(version) and version >= 1, f"invalid format_version {short(version)}")
    if version > FORMAT_VERSION:
        raise reader.error(
            f"it was written in format version {version} (by logitnet {short(meta.get('logitnet_version'))}), but this "
            f"logitnet reads format versions up to {FORMAT_VERSION}; upgrade logitnet to load it"
        )
    unknown = sorted(set(meta) - _METADATA_KEYS)
    require(reader, not unknown, f"metadata.json has an unknown key {short(unknown[0])}" if unknown else "")
    require(reader, meta.get("kind") in ("model", "weights"), f"metadata.json: unknown kind {short(meta.get('kind'))}")
    for key in ("logitnet_version", "date_saved"):
        require(reader, isinstance(meta.get(key), str), f"metadata.json: `{key}` must be a string")
    return meta


def check_config(reader: ArchiveReader, kind: str) -> dict:
    config = reader.read_json("config.json")
    require(reader, isinstance(config, dict), "config.json is not a JSON object")
    unknown = sorted(set(config) - _CONFIG_KEYS)
    require(reader, not unknown, f"config.json has an unknown key {short(unknown[0])}" if unknown else "")
    required = ("model", "weights") if kind == "model" else ("weights",)
    for key in required:
        require(reader, key in config, f"config.json has no `{key}`")
    if kind == "weights":
        require(reader, set(config) == {"weights"}, "a weights file's config.json holds `weights` only")
    weights, entries = config["weights"], config.get("optimizer_state")
    require(
        reader,
        isinstance(weights, list) and len(weights) <= MAX_WEIGHTS,
        f"config.json: `weights` must be a list of at most {MAX_WEIGHTS} entries",
    )
    ok = entries is None or (isinstance(entries, list) and len(entries) <= 2 + 6 * MAX_LAYERS)
    require(reader, ok, "config.json: `optimizer_state` must be a list of at most 24578 entries")
    user = config.get("user_metadata")
    require(reader, user is None or isinstance(user, dict), "config.json: `user_metadata` must be an object")
    members = {"metadata.json", "config.json"} | {f"weights/{k}.npy" for k in range(len(weights))}
    members |= {f"optimizer/{k}.npy" for k in range(len(entries or []))}
    reader.check_members(members)
    return config


def array_entry(
    reader: ArchiveReader, where: str, entry: Any, keys: set, dtypes: tuple = DTYPES + ("int64",)
) -> tuple[tuple[int, ...], str]:
    """Check a manifest entry's keys, shape and dtype; returns ``(shape, dtype)``."""
    require(
        reader,
        isinstance(entry, dict) and set(entry) == keys,
        f"config.json: {where} must have the keys {sorted(keys)}",
    )
    shape = entry["shape"]
    ok = isinstance(shape, list) and len(shape) <= 2 and all(_is_int(n) and n >= 0 for n in shape)
    require(reader, ok, f"config.json: {where} has an invalid shape {short(shape)}")
    require(reader, entry["dtype"] in dtypes, f"config.json: {where} has an invalid dtype {short(entry['dtype'])}")
    return tuple(shape), entry["dtype"]


def _construct(reader: ArchiveReader, what: str, cls: type, config: Any) -> Any:
    """``cls.from_config(config)``, with the constructor's own checks reported as file errors."""
    require(reader, isinstance(config, dict), f"config.json: {what} must have a `config` object")
    try:
        return cls.from_config(dict(config))
    except (ValueError, TypeError, ArithmeticError) as exc:  # e.g. OverflowError: an integer too large for a float
        raise reader.error(f"config.json: {what} has an invalid configuration ({exc})") from None


def _lookup(reader: ArchiveReader, what: str, entry: Any, allowed: dict) -> type:
    """The allow-listed class an entry ``{"class_name": ..., "config": {...}}`` names."""
    ok = isinstance(entry, dict) and set(entry) == {"class_name", "config"}
    require(reader, ok, f"config.json: {what} must be {{'class_name': ..., 'config': ...}}")
    cls = allowed.get(entry["class_name"]) if isinstance(entry["class_name"], str) else None
    if cls is None:
        raise reader.error(
            f"config.json: {what} names the class {short(entry['class_name'])}, which is not one of logitnet's "
            f"built-ins ({', '.join(allowed)}); files can only name built-ins"
        )
    return cls


def _class_entry(reader: ArchiveReader, what: str, entry: Any, allowed: dict) -> Any:
    cls = _lookup(reader, what, entry, allowed)
    return _construct(reader, f"{what} ({entry['class_name']})", cls, entry["config"])


def _check_layer_arguments(reader: ArchiveReader, what: str, class_name: str, config: dict) -> None:
    unknown = sorted(set(config) - _LAYER_KEYS[class_name])
    require(reader, not unknown, f"config.json: {what} has an unknown argument {short(unknown[0])}" if unknown else "")
    for key in _LAYER_BOOLS[class_name]:
        require(reader, isinstance(config.get(key, True), bool), f"config.json: {what}: `{key}` must be a bool")
    require(reader, isinstance(config.get("name"), str), f"config.json: {what}: `name` must be a string")
    for key in LAYER_INITIALIZERS[class_name]:
        require(reader, isinstance(config.get(key, "x"), str), f"config.json: {what}: `{key}` must be a string")


def _parse_layer(reader: ArchiveReader, index: int, entry: Any) -> Any:
    what = f"layer {index}"
    ok = isinstance(entry, dict) and set(entry) == {"class_name", "config"} and isinstance(entry["config"], dict)
    require(reader, ok, f"config.json: {what} must be {{'class_name': ..., 'config': {{...}}}}")
    cls = _lookup(reader, what, entry, LAYERS)
    class_name = entry["class_name"]
    config = dict(entry["config"])
    _check_layer_arguments(reader, what, class_name, config)
    if cls is Dense:
        act = config.get("activation")
        require(reader, act is None or isinstance(act, (str, dict)), f"config.json: {what}: invalid `activation`")
        for key in _REGULARIZER_KEYS:  # absent or null: no penalty
            if config.get(key) is not None:
                config[key] = _class_entry(reader, f"{what}: `{key}`", config[key], REGULARIZERS)
    layer = _construct(reader, f"{what} ({class_name})", cls, config)
    if cls is Dense:
        axis = layer.activation.get_config().get("axis", -1)
        require(reader, -2 <= axis <= 1, f"config.json: {what}: activation axis {axis} does not exist for 2-D data")
    return layer


def parse_model(reader: ArchiveReader, entry: Any) -> tuple[str, str, Optional[int], list]:
    ok = isinstance(entry, dict) and entry.get("class_name") == "Sequential" and set(entry) == {"class_name", "config"}
    require(reader, ok, "config.json: `model` must be {'class_name': 'Sequential', 'config': {...}}")
    config = entry["config"]
    ok = isinstance(config, dict) and set(config) == {"name", "dtype", "input_dim", "layers"}
    require(reader, ok, "config.json: the model config must have the keys dtype, input_dim, layers and name")
    name, dtype, input_dim, layer_entries = config["name"], config["dtype"], config["input_dim"], config["layers"]
    require(reader, isinstance(name, str), "config.json: the model's `name` must be a string")
    require(reader, dtype in DTYPES, f"config.json: the model's dtype must be float32 or float64, not {short(dtype)}")
    ok = input_dim is None or (_is_int(input_dim) and input_dim >= 1)
    require(reader, ok, f"config.json: invalid input_dim {short(input_dim)}")
    ok = isinstance(layer_entries, list) and len(layer_entries) <= MAX_LAYERS
    require(reader, ok, f"config.json: the model's `layers` must be a list of at most {MAX_LAYERS} layers")
    layers = [_parse_layer(reader, i, e) for i, e in enumerate(layer_entries)]
    counts = Counter(layer.name for layer in layers)
    duplicate = next((name for name, n in counts.items() if n > 1), None)
    require(reader, duplicate is None, f"config.json: two layers are named {short(duplicate)}")
    return name, dtype, input_dim, layers


def _layer_weights(layer: Any, n_in: int) -> tuple[list[tuple[str, list[int]]], int]:
    """The ``(name, shape)`` of each weight a layer built for ``n_in`` features has, and its output width."""
    if isinstance(layer, Dense):
        weights = [("kernel", [n_in, layer.units])] + ([("bias", [layer.units])] if layer.use_bias else [])
        return weights, layer.units
    if isinstance(layer, BatchNormalization):
        names = (["gamma"] if layer.scale else []) + (["beta"] if layer.center else [])
        names += ["moving_mean", "moving_variance"]
        return [(name, [n_in]) for name in names], n_in
    return [], n_in  # Dropout: no weights, same width


def expected_weights(layers: list, input_dim: Optional[int], dtype: str) -> list[dict]:
    """The weight manifest a built model of these layers has, in ``model.weights`` order."""
    if input_dim is None:
        return []
    expected, n_in = [], input_dim
    for layer in layers:
        weights, n_in = _layer_weights(layer, n_in)
        expected += [{"layer": layer.name, "name": name, "shape": shape, "dtype": dtype} for name, shape in weights]
    return expected


def _weight_label(entry: dict) -> str:
    text = f"{entry['layer']}/{entry['name']}"
    return text if len(text) <= 60 else text[:57] + "..."


def read_weights(reader: ArchiveReader, manifest: list, expected: Optional[list] = None) -> list[np.ndarray]:
    """Check the weight manifest (against ``expected`` if given), then read every array."""
    keys = {"layer", "name", "shape", "dtype"}
    described = [array_entry(reader, f"weights[{k}]", e, keys, DTYPES) for k, e in enumerate(manifest)]
    if expected is not None:
        if len(manifest) != len(expected):
            raise reader.error(
                f"config.json lists {len(manifest)} weight arrays, but the architecture has {len(expected)}"
            )
        for k, (got, want) in enumerate(zip(manifest, expected)):
            if got != want:
                raise reader.error(
                    f"config.json: weights[{k}] is {_weight_label(got)} of shape {got['shape']} ({got['dtype']}), "
                    f"but the architecture needs {_weight_label(want)} of shape {want['shape']} ({want['dtype']})"
                )
    for k, entry in enumerate(manifest):
        require(
            reader,
            isinstance(entry["layer"], str) and entry["name"] in WEIGHT_NAMES,
            f"config.json: weights[{k}] names no layer weight",
        )
    return [reader.read_array(f"weights/{k}.npy", shape, dtype) for k, (shape, dtype) in enumerate(described)]


def _parse_optimizer(reader: ArchiveReader, entry: Any) -> Any:
    """The optimizer; a ``learning_rate`` object is an allow-listed schedule, made here (not by the optimizer)."""
    cls = _lookup(reader, "the optimizer", entry, OPTIMIZERS)
    config = entry["config"]
    if isinstance(config, dict) and isinstance(config.get("learning_rate"), dict):
        what = "the optimizer's `learning_rate`"
        config = {**config, "learning_rate": _class_entry(reader, what, config["learning_rate"], SCHEDULES)}
    return _construct(reader, f"the optimizer ({entry['class_name']})", cls, config)


def parse_compile(reader: ArchiveReader, entry: Any) -> tuple[Any, Any, list]:
    ok = isinstance(entry, dict) and set(entry) == {"optimizer", "loss", "metrics"}
    require(reader, ok, "config.json: `compile` must have the keys loss, metrics and optimizer")
    optimizer = _parse_optimizer(reader, entry["optimizer"])
    loss = _class_entry(reader, "the loss", entry["loss"], LOSSES)
    require(reader, isinstance(entry["metrics"], list), "config.json: `metrics` must be a list")
    metric_ids: list[Any] = []
    for k, m in enumerate(entry["metrics"]):
        if isinstance(m, str):
            try:
                metrics.get(m, y_true_ndim=1, y_true_last_dim=None, n_outputs=2)
            except (ValueError, TypeError):
                raise reader.error(f"config.json: unknown metric {short(m)}") from None
            metric_ids.append(m)
        else:
            metric_ids.append(_class_entry(reader, f"metrics[{k}]", m, METRICS))
    return optimizer, loss, metric_ids


def parse_rng(reader: ArchiveReader, entry: Any, where: str = "rng_state") -> Optional[np.random.Generator]:
    """The generator an ``rng_state`` entry describes (None for null)."""
    if entry is None:
        return None
    keys = {"bit_generator", "state", "inc", "has_uint32", "uinteger"}
    require(
        reader,
        isinstance(entry, dict) and set(entry) == keys,
        f"config.json: `{where}` must have the keys {sorted(keys)}",
    )
    name = entry["bit_generator"]
    require(
        reader,
        isinstance(name, str) and name in BIT_GENERATORS,
        f"config.json: unknown bit generator {short(name)} in `{where}`",
    )
    numbers = []
    for key in ("state", "inc"):
        text = entry[key]
        ok = isinstance(text, str) and text.startswith("0x") and 2 < len(text) <= 34
        try:
            value = int(text, 16) if ok else -1
        except ValueError:
            value = -1
        require(reader, value >= 0, f"config.json: `{where}.{key}` must be a hex string of at most 128 bits")
        numbers.append(value)
    ok = entry["has_uint32"] in (0, 1) and _is_int(entry["uinteger"]) and 0 <= entry["uinteger"] < 2**32
    require(reader, ok and _is_int(entry["has_uint32"]), f"config.json: invalid `{where}`")
    bit_generator = BIT_GENERATORS[name]()
    bit_generator.state = {
        "bit_generator": name,
        "state": {"state": numbers[0], "inc": numbers[1]},
        "has_uint32": entry["has_uint32"],
        "uinteger": entry["uinteger"],
    }
    return np.random.Generator(bit_generator)


def parse_layer_rngs(reader: ArchiveReader, entry: Any, layers: list) -> dict[str, np.random.Generator]:
    """``{layer name: generator}`` for the seeded Dropout layers whose generator state the file holds."""
    if entry is None:
        return {}
    require(reader, isinstance(entry, dict), "config.json: `layer_rng_states` must be an object")
    seeded = {layer.name for layer in layers if isinstance(layer, Dropout) and layer.seed is not None}
    generators = {}
    for name, state in entry.items():
        if name not in seeded:
            raise reader.error(
                f"config.json: `layer_rng_states` names {short(name)}, which is not a Dropout layer with a `seed`"
            )
        where = f"layer_rng_states[{short(name)}]"
        generators[name] = parse_rng(reader, {} if state is None else state, where)  # null is refused
    return generators
