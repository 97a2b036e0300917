"""``lstmkit <command> [options]``: thin wrappers that parse, call the library, print, write files.

Each command lives in its own module of this package with a ``register(subparsers)`` function that
adds its parser and sets ``func`` (called with the parsed arguments, returning an exit code).

Exit codes (:data:`EXIT_CODES`): 0 success; 1 a runtime or data error (bad or unreadable input, a
broken model directory, a file that cannot be written), reported on one ``lstmkit: error:`` line;
2 a usage error (argparse's own, or an option value the library refuses); 130 when interrupted
with Ctrl-C.
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
from lstmkit.errors import ConfigError, LstmkitError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_ERROR: "a runtime or data error (bad or unreadable input, a broken model, an "
    "unwritable path)",
    EXIT_USAGE: "a usage error (an unknown option, a missing argument, an option value refused)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}
# Everything a command writes goes through a temporary file or directory that is renamed into
# place (lstmkit._files.atomic_write, the model persistence), so an interrupt leaves each output
# whole or absent; only a training run's log folder (OUT/run) grows as training goes.
INTERRUPTED_MESSAGE = (
    "lstmkit: interrupted; nothing half-written was left: models and output files are written "
    "whole or not at all (a training log folder may stop mid-run)"
)

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
    "serve",
    "export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstmkit",
        description="Long Short-Term Memory networks: train, evaluate, benchmark and inspect.",
    )
    parser.add_argument("--version", action="version", version=f"lstmkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars or progress lines on stderr"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"lstmkit.cli.{name}").register(subparsers)
    _add_quiet_everywhere(parser)
    return parser


def _add_quiet_everywhere(parser: argparse.ArgumentParser) -> None:
    """Give every (sub)command ``-q/--quiet`` too, so it may follow the command's name.

    The sub-level option defaults to SUPPRESS, so it never clears a top-level ``--quiet``.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                if "--quiet" not in sub._option_string_actions:
                    flags = ["--quiet"] if "-q" in sub._option_string_actions else ["-q", "--quiet"]
                    sub.add_argument(
                        *flags,
                        action="store_true",
                        default=argparse.SUPPRESS,
                        help="no progress bars or progress lines on stderr",
                    )
                _add_quiet_everywhere(sub)


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
    try:
        # Building the parser imports every command (seconds): Ctrl-C here is an interrupt too.
        parser = build_parser()
        args = parser.parse_args(argv)
        # the words as typed, for reports that print the command that reruns them
        args.argv = list(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        print(f"\n{INTERRUPTED_MESSAGE}", file=sys.stderr)
        return EXIT_INTERRUPTED
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"\n{INTERRUPTED_MESSAGE}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ConfigError as err:
        # An option value the library refused: a usage error, like argparse's own.
        _error(str(err))
        return EXIT_USAGE
    except LstmkitError as err:
        # Errors we raise on purpose already say what is wrong; a traceback would bury that.
        _error(str(err))
        return EXIT_ERROR
    except UnicodeDecodeError as err:
        _error(f"input is not UTF-8 text ({err.reason} at byte {err.start}); is it a binary file?")
        return EXIT_ERROR
    except OSError as err:
        _error(describe_os_error(err))
        return EXIT_ERROR


def _error(message: str) -> None:
    """One ``lstmkit: error:`` line, however many lines the message had."""
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"lstmkit: error: {one_line}", file=sys.stderr)


def describe_os_error(err: OSError) -> str:
    """``cannot ...: REASON: 'path'`` without errno numbers, e.g. ``No such file or directory``."""
    reason = err.strerror or str(err) or type(err).__name__
    paths = [p for p in (err.filename, err.filename2) if p is not None]
    if not paths:
        return reason
    return f"{reason}: " + " -> ".join(repr(str(p)) for p in paths)


if __name__ == "__main__":
    sys.exit(main())
