"""The ``chainrule`` command: a thin layer over the public API.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``; they are discovered automatically. Errors print one line and
exit with 2 (bad usage or input) or 1 (training failure), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys
from contextlib import contextmanager

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
#: The reader of standard output went away (``| head``): a shell's status for a SIGPIPE death.
EXIT_BROKEN_PIPE = 128 + 13
#: Ctrl-C: a shell's status for a SIGINT death.
EXIT_INTERRUPTED = 128 + 2


class UsageError(Exception):
    """Bad command-line usage; printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (``chainrule: error: ...``) and exit 2."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = OneLineParser(
        prog="chainrule",
        description="Feedforward neural networks trained by backpropagation written out by hand.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv=None) -> int:
    """Entry point of the console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    return _run(argv)


def _run(argv: list[str]) -> int:
    from ..callbacks import DivergenceError

    try:
        with _broken_pipe_raises():
            parser = build_parser()
            args = parse(parser, argv)
            if getattr(args, "handler", None) is None:
                parser.print_help()
                return EXIT_USAGE
            code = int(args.handler(args) or EXIT_OK)
            sys.stdout.flush()
            return code
    except BrokenPipeError:
        return _reader_gone()
    except UsageError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except DivergenceError as exc:
        _fail(f"chainrule: training failed: {exc}")
        return EXIT_FAILURE
    except (ValueError, TypeError, OSError, KeyError) as exc:
        _fail(f"chainrule: error: {_message(exc, argv)}")
        return EXIT_USAGE
    except MemoryError as exc:
        _fail(f"chainrule: error: not enough memory for this run ({_message(exc, argv)}); ask for less data or a "
              "smaller network")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _fail("chainrule: interrupted")
        return EXIT_INTERRUPTED


@contextmanager
def _broken_pipe_raises():
    """rich exits with status 1 when standard output's reader goes away, and 1 means "training
    failed" here: for the command's run, its consoles raise BrokenPipeError instead."""
    from rich.console import Console

    def raise_it(console):
        console.quiet = True  # nothing more to write there
        raise BrokenPipeError(32, "Broken pipe")

    original = getattr(Console, "on_broken_pipe", None)
    if original is None:  # rich before 13.8 raises BrokenPipeError itself
        yield
        return
    Console.on_broken_pipe = raise_it
    try:
        yield
    finally:
        Console.on_broken_pipe = original


def _reader_gone() -> int:
    """Stop quietly when standard output's reader has gone (``chainrule train | head -1``),
    with the status of a program stopped by SIGPIPE; standard output is pointed at /dev/null
    so that Python's own flush at exit does not fail (as the ``signal`` module's
    documentation recommends)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a file descriptor (a test's captured output)
        pass
    return EXIT_BROKEN_PIPE


_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NO_VALUE = re.compile(r"argument (\S+): expected one argument")


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``parser.parse_args``, but ``--lr -1e-3`` reaches the option's own check.

    argparse only takes "-1" and "-0.5" for negative numbers; "-1e-3" looks like an option to
    it, so the option before it gets "expected one argument". Then parse again with the value
    attached (``--lr=-1e-3``), which either works or fails with the option's own message.
    """
    try:
        return parser.parse_args(argv)
    except UsageError as exc:
        missing = _NO_VALUE.search(str(exc))
        names = missing.group(1).split("/") if missing else []
        for i, (token, value) in enumerate(zip(argv, argv[1:])):
            if token in names and _NUMBER.fullmatch(value):
                return parse(parser, [*argv[:i], f"{token}={value}", *argv[i + 2:]])
        raise


def _message(exc: BaseException, argv=()) -> str:
    """The one line printed for ``exc``: its first line, once every command-line argument
    that holds a newline or another character that does not print (a file name), and each
    directory above it that does, is shown as Python writes it (``'a\\nb.csv'``), so that
    such a name is not cut."""
    from pathlib import Path

    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename:
        text = f"{exc.strerror or text}: {exc.filename}"
    odd = {str(form) for arg in argv if not arg.isprintable()
           for form in (arg, Path(arg), *Path(arg).parents) if not str(form).isprintable()}
    for name in sorted(odd, key=len, reverse=True):  # a longer form first: it may hold a shorter one
        text = text.replace(name, repr(name))
    return text.splitlines()[0] if text else text


def _fail(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
