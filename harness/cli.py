"""The `harness` command: the only module that reads argv, prints, writes report files and exits.

Imports of the heavy parts (botocore, docker, jinja2) happen inside the command functions, so
`harness --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from harness import __version__
from harness.errors import ExitCode, HarnessError, UsageError

PROG = "harness"


class _ArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments; the harness's usage errors exit 4 (DESIGN §2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, where=self.prog, hint=f"see `{self.prog} --help`")


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog=PROG,
        description="Conformance harness for Amazon SageMaker algorithm containers.",
        epilog="Exit codes: 0 passed, 1 checks failed, 2 interrupted, 3 engine problem, "
        "4 usage error, 5 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error instead of one line"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_ArgumentParser
    )

    validate = commands.add_parser(
        "validate",
        help="check a CreateAlgorithm request (or a plan) against the API model",
        description="Check a CreateAlgorithm request against every constraint of botocore's "
        "SageMaker model (SPEC-SCHEMA) and the cross-field rules (SPEC-SEMANTICS). FILE is the "
        "request in JSON or YAML, or a plan whose `algorithm` names it; a plan's profiles are "
        "checked against the request too. Exit 0: no errors; 1: errors; 4: bad arguments or "
        "unreadable file.",
    )
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (json: see docs/validate-json.md)",
    )
    validate.set_defaults(handler=_cmd_validate)
    return parser


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.algorithm.validate import validate_file
    from harness.report.validation import render_json, render_text

    result = validate_file(args.file)
    out.write(render_json(result) if args.format == "json" else render_text(result))
    return ExitCode.OK if result.ok else ExitCode.CHECKS_FAILED


Handler = Callable[[argparse.Namespace, TextIO], ExitCode]


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
