"""How `harness run` shows its progress on stderr.

On a terminal: a table of profile x instance type (rows, in plan order) by phase (columns), each
cell the phase's state and elapsed time, redrawn in place with rich's `Live` and left on screen
when the run ends. Elsewhere, or with `--quiet`/`--verbose`: one line per event,

    [   12.3s] smoke/ml.m5.large training passed (8.1 s)

`--verbose` adds the runners' notes; `--quiet` keeps only the failures and errors.

`ProgressBoard` is the pure state behind the table; rich is imported only to draw it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal, TextIO

from harness.jobs.events import ROW_PHASES, RUN_PHASES, Phase, RunEvent

if TYPE_CHECKING:
    from rich.live import Live
    from rich.table import Table

Verbosity = Literal["quiet", "normal", "verbose"]
RowKey = tuple[str, str]
"""(profile, instance type)"""

_STYLES = {
    "running": "bold cyan",
    "passed": "green",
    "failed": "bold red",
    "error": "bold magenta",
    "skipped": "yellow",
}
_CELL_CHARS = len("passed 12.3s")


@dataclass
class Cell:
    state: str
    """`running`, or how the phase ended: `passed`, `failed`, `skipped`, `error`."""
    started: float
    duration_s: float | None = None
    message: str = ""

    def elapsed(self, now: float) -> float | None:
        """Seconds so far (running) or in all (ended); None for a phase skipped unstarted."""
        if self.state == "running":
            return max(0.0, now - self.started)
        return self.duration_s


class ProgressBoard:
    """The run's phases by row; `apply()` each event in order. Pure: no clock, no output."""

    def __init__(self, rows: Iterable[RowKey] = ()):
        self.rows: list[RowKey] = list(dict.fromkeys(rows))
        self.cells: dict[RowKey, dict[Phase, Cell]] = {row: {} for row in self.rows}
        self.run_cells: dict[Phase, Cell] = {}
        """The run's own phases (validate, images)."""
        self.notes: dict[RowKey | None, str] = {}
        """The last note of each row (None: the run's own)."""

    def apply(self, event: RunEvent) -> None:
        key: RowKey | None = None
        if event.profile is not None:
            key = (event.profile, event.instance_type or "")
            if key not in self.cells:  # not in the plan's order: appended as it comes
                self.rows.append(key)
                self.cells[key] = {}
        cells = self.run_cells if key is None else self.cells[key]
        if event.state == "note":
            self.notes[key] = event.message
        elif event.state == "started":
            cells[event.phase] = Cell("running", event.time, message=event.message)
            self.notes.pop(key, None)
        else:
            cell = cells.get(event.phase)
            duration = event.duration_s
            if duration is None and cell is not None and cell.state == "running":
                duration = max(0.0, event.time - cell.started)
            started = cell.started if cell is not None else event.time
            cells[event.phase] = Cell(event.state, started, duration, event.message)

    def cell(self, row: RowKey | None, phase: Phase) -> Cell | None:
        return (self.run_cells if row is None else self.cells.get(row, {})).get(phase)

    def detail(self, row: RowKey) -> str:
        """What to say beside a row: its last note while a phase runs, else why a phase
        failed, errored or was skipped."""
        cells = self.cells.get(row, {})
        if any(c.state == "running" for c in cells.values()):
            note = self.notes.get(row, "")
            # The runners name their job first (`ab12cd34-smoke-m5-large: ...`): the row says it.
            name, colon, rest = note.partition(": ")
            return rest if colon and " " not in name and row[0] in name else note
        for state in ("error", "failed", "skipped"):
            for phase in ROW_PHASES:
                cell = cells.get(phase)
                if cell is not None and cell.state == state and cell.message:
                    return cell.message
        return ""


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def cell_text(cell: Cell | None, now: float) -> str:
    """`passed 8.1s`, `running 3.0s`, `skipped`; empty for a phase not (yet) seen."""
    if cell is None:
        return ""
    elapsed = cell.elapsed(now)
    return cell.state if elapsed is None else f"{cell.state} {format_seconds(elapsed)}"


def render_table(board: ProgressBoard, now: float) -> Table:
    """The board as a rich Table (its title: the run's own phases)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def styled(cell: Cell | None) -> Text:
        return Text(cell_text(cell, now), style=_STYLES.get(cell.state, "") if cell else "")

    title = Text("  ·  ").join(
        Text.assemble(f"{phase} ", styled(board.run_cells[phase]))
        for phase in RUN_PHASES
        if phase in board.run_cells
    )
    table = Table(
        title=title or None,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        collapse_padding=True,
        pad_edge=False,
    )
    # Every column but the detail keeps its whole text; the detail gets what width is left.
    for header in ("profile", "instance type"):
        table.add_column(header, no_wrap=True, min_width=len(header))
    for phase in ROW_PHASES:  # room for `passed 12.3s`: less jiggle as the times grow
        table.add_column(phase, no_wrap=True, min_width=max(len(phase), _CELL_CHARS))
    table.add_column("detail", min_width=0)
    for row in board.rows:
        table.add_row(
            row[0],
            row[1],
            *(styled(board.cell(row, phase)) for phase in ROW_PHASES),
            Text(board.detail(row), style="dim", no_wrap=True, overflow="ellipsis"),
        )
    return table


def wants_line(event: RunEvent, verbosity: Verbosity) -> bool:
    """Plain mode: which events get a line."""
    if verbosity == "quiet":
        return event.state in ("failed", "error")
    return verbosity == "verbose" or event.state != "note"


def format_line(event: RunEvent, started: float) -> str:
    """`[   12.3s] smoke/ml.m5.large training passed (8.1 s)`; the clock starts at `started`."""
    subject = f"{event.where} {event.phase}" if event.where else event.phase
    if event.state == "note":
        text = f"{subject}: {event.message}"
    else:
        text = f"{subject} {event.state}"
        if event.duration_s is not None:
            text += f" ({event.duration_s:.1f} s)"
        if event.message:
            text += f": {event.message}"
    return f"[{event.time - started:7.1f}s] {text}"


class ProgressView:
    """The event sink of `harness run` and the display it feeds; a context manager (the live
    table is drawn between enter and exit, and left on screen after)."""

    def __init__(
        self,
        stream: TextIO,
        rows: Iterable[RowKey],
        *,
        verbosity: Verbosity = "normal",
        live: bool | None = None,
        started: float | None = None,
    ):
        """`live` None: a live table when `stream` is a terminal and verbosity is normal."""
        self._stream = stream
        self._verbosity = verbosity
        self._started = time.monotonic() if started is None else started
        self.board = ProgressBoard(rows)
        if live is None:
            live = verbosity == "normal" and _is_terminal(stream)
        self.live = live
        self._lock = threading.Lock()
        self._display: Live | None = None

    def __call__(self, event: RunEvent) -> None:
        with self._lock:
            self.board.apply(event)
        if not self.live and wants_line(event, self._verbosity):
            print(format_line(event, self._started), file=self._stream, flush=True)

    def __enter__(self) -> ProgressView:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self._stream)
            self._display = Live(
                _LiveBoard(self), console=console, refresh_per_second=4, transient=False
            )
            self._display.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the live display (its last frame stays); idempotent."""
        display, self._display = self._display, None
        if display is not None:
            display.stop()

    def render(self, now: float | None = None) -> Table:
        with self._lock:
            return render_table(self.board, time.monotonic() if now is None else now)


class _LiveBoard:
    """Redrawn on every refresh, so running cells count up between events."""

    def __init__(self, view: ProgressView):
        self._view = view

    def __rich__(self) -> Table:
        return self._view.render()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
