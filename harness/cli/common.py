"""What every command module of the CLI shares: the argument parser class, the handler type,
atomic file writes and transient status lines."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TextIO

from harness.errors import ExitCode, UsageError

PROG = "harness"

Handler = Callable[[argparse.Namespace, TextIO], ExitCode]


class ArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments; the harness's usage errors exit 4 (DESIGN §2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, where=self.prog, hint=f"see `{self.prog} --help`")


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
