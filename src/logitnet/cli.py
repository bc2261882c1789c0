"""The ``logitnet`` command line: ``logitnet demo`` (more subcommands to come)."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logitnet", description="Numerically stable softmax classifiers in NumPy."
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"logitnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run the seed notebook end to end (both models) and print its results")
    demo.add_argument("--epochs", type=int, default=10, help="training epochs per model (default 10)")
    demo.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        from .demo import run_demo

        if args.epochs < 1:
            print("logitnet demo: error: --epochs must be a positive integer", file=sys.stderr)
            return 2
        run_demo(epochs=args.epochs, seed=args.seed, verbose=0 if args.quiet else 1)
        return 0
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects it first
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
