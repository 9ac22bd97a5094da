"""What every command module of the CLI shares: the argument parser class, the handler type,
atomic file writes and transient status lines."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from harness.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from harness.algorithm.s3_data import TransferEvent
    from harness.documents import Document

PROG = "harness"

Handler = Callable[[argparse.Namespace, TextIO], ExitCode]


class ArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments; the harness's usage errors exit 4 (DESIGN §2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, where=self.prog, hint=f"see `{self.prog} --help`")


def add_aws_options(
    parser: argparse._ActionsContainer, service: str, *, profile_alias: bool = False
) -> None:
    """--aws-profile, --region and --endpoint-url: which of boto3's credentials, region and
    endpoint `service` is reached with (spec, submit and run REQUEST take the same three)."""
    names = ("--aws-profile", "--profile") if profile_alias else ("--aws-profile",)
    parser.add_argument(
        *names,
        dest="aws_profile",
        metavar="NAME",
        help="AWS profile of the credentials"
        + (" (--profile is the same option)" if profile_alias else ""),
    )
    parser.add_argument("--region", help="AWS region (default: the credential chain's)")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help=f"{service} endpoint to use instead of AWS's"
    )


def status_line(message: str) -> None:
    """A transient note on a terminal (pulls, resolutions); silent when stderr is not one."""
    if sys.stderr.isatty():
        print(f"... {message}", file=sys.stderr)


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write `path` so that a crash leaves the old file or the new one, never half of each."""
    temporary = path.with_name(f".{path.name}.harness-tmp")
    try:
        if isinstance(text, bytes):
            temporary.write_bytes(text)
        else:
            temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write: {exc.strerror}", where=str(path)) from None


def load_input_document(file: Path) -> Document:
    """A request or plan; a syntax error is a usage error (exit 4) pointing at the line."""
    from harness.documents import DocumentSyntaxError, load_document

    try:
        return load_document(file)
    except DocumentSyntaxError as exc:
        raise UsageError(
            exc.message, where=exc.where, hint="`harness validate` shows every problem"
        ) from None


class TransferPrinter:
    """S3 transfer progress on stderr: a line per object sent, fetched, kept or deleted, and on a
    terminal the percentage of large objects while they move."""

    def __init__(self, *, quiet: bool = False) -> None:
        self._quiet = quiet
        self._tty = sys.stderr.isatty()

    def __call__(self, event: TransferEvent) -> None:
        if self._quiet:
            return
        if event.action == "skip":
            self._line(f"unchanged {event.key}")
        elif event.action == "delete":
            self._line(f"deleted {event.key} (no longer in the local data)")
        elif event.bytes_done >= event.bytes_total:
            self._line(f"{event.action}ed {event.key} ({event.bytes_total} bytes)")
        elif self._tty:
            percent = 100 * event.bytes_done // max(event.bytes_total, 1)
            print(f"\r{event.action}ing {event.key}: {percent}%", end="", file=sys.stderr)

    def _line(self, text: str) -> None:
        print(("\r\033[K" if self._tty else "") + text, file=sys.stderr, flush=True)


def _seconds(text: str, *, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    # NaN compares false with everything: it fails both tests, as infinity fails the second.
    if not (value >= 0 if allow_zero else value > 0) or value == float("inf"):
        kind = "zero or more" if allow_zero else "a positive number of"
        raise argparse.ArgumentTypeError(f"must be {kind} seconds: {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type: a finite number of seconds above zero."""
    return _seconds(text, allow_zero=False)


def non_negative_seconds(text: str) -> float:
    """argparse type: a finite number of seconds, zero allowed."""
    return _seconds(text, allow_zero=True)
