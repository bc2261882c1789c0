"""The ``logitnet`` command line.

``logitnet demo`` runs the seed notebook. The data-file commands train and use
classifiers on CSV or Parquet tables (``docs/cli.md``)::

    logitnet train DATA --target COLUMN --out MODEL.logitnet
    logitnet evaluate MODEL DATA --target COLUMN
    logitnet predict MODEL DATA [--proba] [--out FILE]
    logitnet summary MODEL
    logitnet export MODEL --onnx FILE.onnx

Exit codes: 0 success, 1 a bad input file or value (one line on stderr,
never a traceback), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from typing import Any, Callable, Optional, Sequence

__all__ = ["main"]


class _UsageError(Exception):
    """An argparse error, reported in one line instead of argparse's usage text."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- argument types
def _number(convert: Callable[[str], Any], accept: Callable[[Any], bool], expected: str) -> Callable[[str], Any]:
    """An argparse type: ``convert(text)``, refused with "expected ..." unless ``accept`` holds."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_seed = _number(int, lambda v: v >= 0, "a non-negative integer")
_learning_rate = _number(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
_fraction = _number(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")


def _hidden(text: str) -> list[int]:
    if text.strip().lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = [0]
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive layer sizes such as 25,15, got {text!r}")
    return sizes


# --------------------------------------------------------------------------- the parser
def _add_data_commands(sub: Any) -> None:
    train = sub.add_parser("train", help="train a classifier on a CSV or Parquet file and save it")
    train.add_argument("data", metavar="DATA", help="CSV or Parquet file with a header row")
    train.add_argument("--target", required=True, metavar="COLUMN", help="the label column (strings or numbers)")
    train.add_argument("--out", required=True, metavar="MODEL", help="where to save the model (.logitnet)")
    train.add_argument(
        "--hidden",
        type=_hidden,
        default=[25, 15],
        metavar="25,15",
        help="hidden ReLU layer sizes (default 25,15; 'none' for a linear model)",
    )
    train.add_argument("--epochs", type=_positive_int, default=20, help="training epochs (default 20)")
    train.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (default 32)")
    train.add_argument("--lr", type=_learning_rate, default=0.01, help="Adam learning rate (default 0.01)")
    train.add_argument(
        "--validation-split",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="fraction of the (shuffled) rows held out for validation (default 0)",
    )
    train.add_argument("--seed", type=_seed, default=0, help="seed for the split, weights and shuffling (default 0)")
    train.add_argument("--quiet", action="store_true", help="no progress display")
    train.add_argument("--json", action="store_true", help="print the metrics as JSON (progress goes to stderr)")

    evaluate = sub.add_parser("evaluate", help="loss and accuracy of a saved model on a data file")
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("data", metavar="DATA")
    evaluate.add_argument("--target", required=True, metavar="COLUMN", help="the label column")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")

    predict = sub.add_parser("predict", help="predicted labels (and probabilities) for a data file")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("data", metavar="DATA")
    predict.add_argument("--proba", action="store_true", help="also output one probability column per class")
    predict.add_argument("--out", metavar="FILE", help="write a .csv or .parquet file instead of CSV on stdout")

    summary = sub.add_parser("summary", help="describe a saved model")
    summary.add_argument("model", metavar="MODEL")
    summary.add_argument("--json", action="store_true", help="print the description as JSON")

    export = sub.add_parser("export", help="export a saved model")
    export.add_argument("model", metavar="MODEL")
    export.add_argument("--onnx", required=True, metavar="FILE", help="write an ONNX graph to FILE")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="logitnet", description="Numerically stable softmax classifiers in NumPy.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"logitnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run the seed notebook end to end (both models) and print its results")
    demo.add_argument("--epochs", type=int, default=10, help="training epochs per model (default 10)")
    demo.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    demo.add_argument(
        "--plot", metavar="FILE.png", help="also save a figure of both models (needs matplotlib: logitnet[plot])"
    )
    _add_data_commands(sub)
    return parser


# --------------------------------------------------------------------------- shared pieces
class _Failure(Exception):
    """A bad input the user can fix; printed as one line."""


def _load(path: str, target: Optional[str] = None) -> tuple:
    """The model, its file metadata and its table spec."""
    from .saving import load_model, read_metadata
    from .tabular import TabularSpec

    model = load_model(path)
    meta = read_metadata(path)
    if not model.built:
        raise _Failure(f"{path} holds a model that was never built or trained; it has no weights to use")
    return model, meta, TabularSpec.from_metadata(meta["user_metadata"], model, target)


def _metrics_text(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


def _print_json(obj: dict) -> None:
    print(json.dumps(obj, indent=2, allow_nan=True))


# --------------------------------------------------------------------------- train
def _split(n: int, fraction: float, seed: int) -> tuple:
    import numpy as np

    order = np.random.default_rng([seed, 1]).permutation(n)
    n_train = math.ceil(n * (1.0 - fraction))
    if n_train < 1:
        raise _Failure(f"--validation-split {fraction} leaves no training rows out of {n}")
    return order[:n_train], order[n_train:]


def _train(args: argparse.Namespace) -> int:
    from . import losses, optimizers
    from .layers import Dense
    from .models import Sequential
    from .tabular import METADATA_KEY, TabularSpec, read_table

    if not args.out.endswith(".logitnet"):
        raise _Failure(f"--out must name a .logitnet file, got {args.out!r}")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise _Failure(f"cannot write {args.out}: the directory {out_dir} does not exist")
    frame = read_table(args.data)
    spec = TabularSpec.from_frame(frame, args.target)
    x_raw, y = spec.raw_features(frame), spec.labels_of(frame)
    train_rows, val_rows = _split(len(y), args.validation_split, args.seed)
    spec.fit_scaling(x_raw[train_rows])
    x = spec.standardize(x_raw)
    layers = [Dense(n, activation="relu", name=f"hidden_{i + 1}") for i, n in enumerate(args.hidden)]
    model = Sequential(layers + [Dense(len(spec.classes), name="output")], name="classifier", seed=args.seed)
    model.compile(
        optimizer=optimizers.Adam(learning_rate=args.lr),
        metrics=["accuracy"],
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    validation = (x[val_rows], y[val_rows]) if len(val_rows) else None
    talk = not (args.quiet or args.json)
    if talk:
        held_out = f" ({len(val_rows)} held out for validation)" if len(val_rows) else ""
        shown = ", ".join(map(str, spec.classes[:10])) + (", ..." if len(spec.classes) > 10 else "")
        print(
            f"Training on {len(train_rows)} rows{held_out}: {len(spec.features)} features, "
            f"{len(spec.classes)} classes ({shown})"
        )
    progress = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with progress:
        history = model.fit(
            x[train_rows],
            y[train_rows],
            batch_size=args.batch_size,
            epochs=args.epochs,
            verbose=0 if args.quiet else 1,
            validation_data=validation,
        )
    model.save(args.out, metadata={METADATA_KEY: spec.to_metadata()})
    final = {k: v[-1] for k, v in history.history.items()}
    if args.json:
        _print_json(
            {
                "command": "train",
                "model": args.out,
                "train_rows": int(len(train_rows)),
                "validation_rows": int(len(val_rows)),
                "features": spec.features,
                "classes": spec.classes,
                "epochs": args.epochs,
                "metrics": final,
                "history": history.history,
            }
        )
    elif not args.quiet:
        print(f"Saved {args.out} ({_metrics_text(final)})")
    return 0


# --------------------------------------------------------------------------- evaluate / predict
def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .ops import one_hot
    from .tabular import class_probabilities, read_table

    model, _, spec = _load(args.model, args.target)
    if not model.compiled:
        raise _Failure(f"{args.model} was saved without its loss (never compiled); evaluate needs it")
    frame = read_table(args.data)
    x, y = spec.features_of(frame), spec.labels_of(frame, args.target)
    if model.loss.target == "categorical":
        y = one_hot(y, model.n_outputs, dtype=model.dtype)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    if "accuracy" not in logs:
        labels = y if y.ndim == 1 else y.argmax(axis=1)
        logs["accuracy"] = float(np.mean(class_probabilities(model, x).argmax(axis=1) == labels))
    if args.json:
        _print_json({"command": "evaluate", "model": args.model, "data": args.data, "rows": len(frame), **logs})
    else:
        print(f"{_metrics_text(logs)} ({len(frame)} rows)")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .tabular import require_pandas, class_probabilities, read_table, write_table

    if args.out is not None and not args.out.lower().endswith((".csv", ".parquet", ".pq")):
        raise _Failure(f"--out must name a .csv or .parquet file, got {args.out!r}")
    model, _, spec = _load(args.model)
    frame = read_table(args.data)
    x = spec.features_of(frame)
    if x.shape[1] != model.input_dim:
        raise _Failure(f"{args.data} has {x.shape[1]} feature columns, but the model takes {model.input_dim}")
    proba = class_probabilities(model, x)
    columns: dict[str, Any] = {"prediction": spec.decode(proba.argmax(axis=1))}
    if args.proba:
        for i, label in enumerate(spec.classes):
            columns[f"proba_{label}"] = proba[:, i].astype("float64")
    write_table(require_pandas().DataFrame(columns), args.out, stream=sys.stdout)
    return 0


# --------------------------------------------------------------------------- summary / export
def _describe(model: Any) -> dict:
    compiled = None
    if model.compiled:
        compiled = {
            "loss": {"class_name": type(model.loss).__name__, "config": model.loss.get_config()},
            "optimizer": {"class_name": type(model.optimizer).__name__, "config": model.optimizer.get_config()},
            "optimizer_iterations": model.optimizer.iterations,
        }
    return {
        "name": model.name,
        "dtype": model.dtype.name,
        "input_dim": model.input_dim,
        "params": model.count_params(),
        "compile": compiled,
        "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()} for layer in model.layers],
    }


def _summary(args: argparse.Namespace) -> int:
    model, meta, spec = _load(args.model)
    table = spec.to_metadata() if spec.features is not None else None
    if args.json:
        file_info = {k: meta[k] for k in ("format", "format_version", "logitnet_version", "date_saved")}
        _print_json(
            {
                "command": "summary",
                "model": args.model,
                "file": file_info,
                "architecture": _describe(model),
                "table": table,
            }
        )
        return 0
    print(
        f"{args.model}: logitnet model file (format version {meta['format_version']}), "
        f"saved {meta['date_saved']} by logitnet {meta['logitnet_version']}"
    )
    if model.compiled:
        print(f"Loss: {model.loss!r}")
        print(
            f"Optimizer: {type(model.optimizer).__name__} (learning rate {model.optimizer.learning_rate:.6g}), "
            f"{model.optimizer.iterations} training steps"
        )
    if table is not None:
        print(f"Target: {spec.target!r} with {len(spec.classes)} classes: {', '.join(map(str, spec.classes))}")
        print(f"Features ({len(spec.features)}, standardised): {', '.join(spec.features)}")
    model.summary()
    return 0


def _export(args: argparse.Namespace) -> int:
    model, _, spec = _load(args.model)
    metadata = None
    if spec.features is not None:
        metadata = {
            "logitnet.target": spec.target,
            "logitnet.classes": json.dumps(spec.classes),
            "logitnet.features": json.dumps(spec.features),
        }
    model.export_onnx(args.onnx, input_mean=spec.mean, input_scale=spec.scale, metadata=metadata)
    print(
        f"Wrote {args.onnx}: ONNX opset 17, input 'input' float32 (batch, {model.input_dim}); "
        "outputs 'probabilities', 'logits' (float32) and 'label' (int64 class index)"
    )
    return 0


_COMMANDS = {"train": _train, "evaluate": _evaluate, "predict": _predict, "summary": _summary, "export": _export}


def _run(command: str, args: argparse.Namespace) -> int:
    """Run a data-file command; bad inputs become one line on stderr and exit code 1."""
    try:
        return _COMMANDS[command](args)
    except KeyboardInterrupt:
        print(f"logitnet {command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `logitnet predict ... | head`: stop quietly, as Unix tools do
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        message = f"{exc.strerror or exc}{where}"
    except (_Failure, ValueError, TypeError, ImportError) as exc:
        message = str(exc)
    print(f"logitnet {command}: error: {' '.join(message.split())}", file=sys.stderr)
    return 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        from .demo import run_demo

        if args.epochs < 1:
            print("logitnet demo: error: --epochs must be a positive integer", file=sys.stderr)
            return 2
        run_demo(epochs=args.epochs, seed=args.seed, verbose=0 if args.quiet else 1, plot=args.plot)
        return 0
    return _run(args.command, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
