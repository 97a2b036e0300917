"""``lstmkit <command> [options]``: thin wrappers that parse, call the library, print, write files.

Each command lives in its own module of this package with a ``register(subparsers)`` function that
adds its parser and sets ``func`` (called with the parsed arguments, returning an exit code).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import logging
import sys
from collections.abc import Sequence

from lstmkit._version import __version__
from lstmkit.errors import LstmkitError

# One module per command (or command group), in the order ``lstmkit --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "demo",
    "forecast",
    "quickstart",
    "experiments",
    "inspect",
    "bench",
    "detect",
    "classify",
    "text",
    "tag",
    "translate",
    "speech",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstmkit",
        description="Long Short-Term Memory networks: train, evaluate, benchmark and inspect.",
    )
    parser.add_argument("--version", action="version", version=f"lstmkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"lstmkit.cli.{name}").register(subparsers)
    return parser


_exit_collection_skipped = False


def _skip_exit_collection() -> None:
    """At interpreter exit, freeze the heap so the cyclic collector's final passes skip it.

    Those passes walk every object torch and pandas made at import (hundreds of thousands) only
    to free memory the OS takes back anyway: a few tenths of a second of every command's wall
    time. Other exit handlers (logging's flush among them) still run; registered once, so
    in-process callers (the tests) are not affected until their own exit.
    """
    global _exit_collection_skipped
    if not _exit_collection_skipped:
        atexit.register(gc.freeze)
        _exit_collection_skipped = True


def main(argv: Sequence[str] | None = None) -> int:
    _skip_exit_collection()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except LstmkitError as err:
        # Errors we raise on purpose already say what is wrong; a traceback would bury that.
        print(f"lstmkit: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
