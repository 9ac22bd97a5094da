"""The `harness` command line: the only package that reads argv, prints, writes report files and
exits. This module assembles the subcommands (each module under harness/cli/ registers its own)
and turns errors into one line and an exit code.

Imports of the heavy parts (botocore, docker, boto3) happen inside the command functions, so
`harness --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from harness import __version__
from harness.cli import aws_commands, inspect_commands, report_commands, run_command
from harness.cli.common import PROG, ArgumentParser, Handler
from harness.errors import ExitCode, HarnessError

# Registration order is the order `harness --help` lists the commands: the flow, then the host.
_REGISTRARS = (
    inspect_commands.register,
    run_command.register,
    aws_commands.register,
    report_commands.register,
    inspect_commands.register_host,
)


def _build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="Conformance harness for Amazon SageMaker algorithm containers.",
        epilog="Exit codes: 0 passed, 1 checks failed, 2 interrupted, 3 engine problem, "
        "4 usage error, 5 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error instead of one line"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for register in _REGISTRARS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments or os.environ.get("HARNESS_DEBUG") == "1"
    try:
        args = _build_parser().parse_args(arguments)
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            _build_parser().print_help(sys.stderr)
            return ExitCode.USAGE_ERROR
        return handler(args, sys.stdout)
    except HarnessError as exc:
        if debug:
            traceback.print_exc()
        _print_error(exc.one_line())
        return exc.exit_code
    except KeyboardInterrupt:
        _print_error("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # `harness validate x | head`: the reader left; nothing more to say.
        sys.stderr.close()
        return ExitCode.OK
    except Exception as exc:  # the last line of defence: a bug, reported as one
        if debug:
            traceback.print_exc()
        _print_error(
            f"internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback, and please report it)"
        )
        return ExitCode.INTERNAL_ERROR


def _print_error(line: str) -> None:
    print(f"{PROG}: error: {line}", file=sys.stderr)
