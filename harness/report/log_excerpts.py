"""The last lines of each log a run recorded, for report.html's collapsed log excerpts.

A run record names its logs by path (`training.hosts[].log` relative to `--out`; `serving.log`
and `transform.log` where recorded). `read_log_excerpts` reads their tails, so that the HTML
renderer stays a pure function of the report and these excerpts, keyed by the path exactly as
the record spells it. Only regular files under `out_dir` are read, each at most `max_bytes` from
its end; bytes that are not UTF-8 are replaced, terminal escape sequences and control characters
dropped, and a carriage-return progress line keeps only its last state.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, NamedTuple

from harness.report.model import RunRecord, RunReport

MAX_LINES = 40
MAX_BYTES = 64 * 1024
MAX_LINE_CHARS = 2000

_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class LogRef(NamedTuple):
    label: str
    """What the log is: `algo-1 training log`, `serving log`."""
    path: str
    """As the run record names it: relative to `--out` (or absolute)."""
    failed: bool
    """The process that wrote it failed (a training host that exited non-zero)."""


def run_logs(run: RunRecord) -> list[LogRef]:
    """Each log `run` records, in the order the page shows them."""
    logs: list[LogRef] = []
    training = run.training or {}
    for host in training.get("hosts") or []:
        if isinstance(host, dict) and isinstance(host.get("log"), str) and host["log"]:
            failed = host.get("exit_code") not in (0, None) or bool(host.get("oom_killed"))
            logs.append(LogRef(f"{host.get('host') or 'host'} training log", host["log"], failed))
    for part in ("serving", "transform"):
        record: dict[str, Any] = getattr(run, part) or {}
        if isinstance(record.get("log"), str) and record["log"]:
            logs.append(LogRef(f"{part} log", record["log"], False))
    return logs


def read_log_excerpts(
    report: RunReport,
    out_dir: Path,
    max_lines: int = MAX_LINES,
    max_bytes: int = MAX_BYTES,
) -> dict[str, str]:
    """{path as the record names it: its last `max_lines` lines} for every log of every run
    that is a readable regular file under `out_dir`; the others are left out."""
    root = out_dir.resolve()
    excerpts: dict[str, str] = {}
    for run in report.runs:
        for log in run_logs(run):
            name = log.path
            if name in excerpts:
                continue
            tail = _tail_bytes(root, name, max_bytes)
            if tail is not None:
                excerpts[name] = tail_text(tail[0], max_lines, cut=tail[1])
    return excerpts


def tail_text(data: bytes, max_lines: int = MAX_LINES, *, cut: bool = False) -> str:
    """The last `max_lines` lines of `data`, cleaned for display; `cut`: `data` starts
    mid-file, so its first (partial) line is dropped."""
    if cut:
        newline = data.find(b"\n")
        data = data[newline + 1 :] if newline >= 0 else b""
    text = _ESCAPES.sub("", data.decode("utf-8", errors="replace"))
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = _CONTROLS.sub("", line.rstrip("\r").rsplit("\r", 1)[-1])
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + "…"
        lines.append(line)
    if lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines[-max_lines:] if max_lines > 0 else [])


def _tail_bytes(root: Path, name: str, max_bytes: int) -> tuple[bytes, bool] | None:
    """The last `max_bytes` of the regular file `name` under `root`, and whether that is
    less than the whole file."""
    try:
        path = (root / name).resolve(strict=True)  # an absolute `name` stays itself
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(root):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        start = max(0, info.st_size - max(0, max_bytes))
        return os.pread(fd, info.st_size - start, start), start > 0
    except OSError:
        return None
    finally:
        os.close(fd)
