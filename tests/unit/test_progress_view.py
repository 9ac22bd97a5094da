"""What `harness run` shows on stderr: the progress board, its rich table, the plain lines and
what --quiet/--verbose keep; all from literal events."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from harness.cli import main
from harness.cli.progress_view import (
    ProgressBoard,
    ProgressView,
    cell_text,
    format_line,
    format_seconds,
    render_table,
    wants_line,
)
from harness.errors import ExitCode
from harness.jobs.events import RunEvent

SMOKE = ("smoke", "ml.m5.large")
SMALL = ("smoke", "ml.t3.medium")
PIPE = ("pipe", "ml.m5.large")


def ev(
    phase: str,
    state: str,
    row: tuple[str, str] | None = None,
    message: str = "",
    *,
    at: float,
    took: float | None = None,
) -> RunEvent:
    profile, instance_type = row if row is not None else (None, None)
    return RunEvent(phase, state, profile, instance_type, message, at, took)  # type: ignore[arg-type]


RUN = [
    ev("validate", "started", at=100.0),
    ev("validate", "passed", at=100.0, took=0.0),
    ev("images", "started", message="resolving and pulling images", at=100.1),
    ev("images", "note", message="pulling reg/x@sha256:ab", at=100.2),
    ev("images", "passed", at=101.3, took=1.2),
    ev("training", "started", SMOKE, "exact emulation, 1 host(s)", at=101.4),
    ev("training", "note", SMOKE, "ab12-smoke-m5-large: training on 1 host(s)", at=101.5),
    ev("training", "passed", SMOKE, at=109.5, took=8.1),
    ev("sigterm-probe", "started", SMOKE, at=109.5),
    ev("sigterm-probe", "failed", SMOKE, "TRAIN-SIGTERM", at=112.5, took=3.0),
    ev("serving", "started", SMOKE, at=112.6),
    ev("serving", "note", SMOKE, "ab12-smoke-m5-large-serve: waiting for /ping", at=112.7),
]


def board_after(events: list[RunEvent], rows=(SMOKE, SMALL, PIPE)) -> ProgressBoard:
    board = ProgressBoard(rows)
    for event in events:
        board.apply(event)
    return board


def test_board_cells_hold_state_and_elapsed_time():
    board = board_after(RUN)
    assert board.rows == [SMOKE, SMALL, PIPE]  # plan order, untouched rows kept
    training = board.cell(SMOKE, "training")
    assert training is not None
    assert (training.state, training.elapsed(999.0)) == ("passed", 8.1)
    assert cell_text(board.cell(SMOKE, "sigterm-probe"), 999.0) == "failed 3.0s"
    # A running phase counts up with the clock it is given.
    assert cell_text(board.cell(SMOKE, "serving"), 115.6) == "running 3.0s"
    assert board.cell(SMOKE, "transform") is None
    assert cell_text(None, 0.0) == ""
    assert board.cell(SMALL, "training") is None
    # The run's own phases are not rows.
    assert cell_text(board.cell(None, "images"), 999.0) == "passed 1.2s"
    assert board.cell(None, "validate") is not None


def test_board_ends_without_a_duration_and_skips_without_a_start():
    board = board_after(
        [
            ev("transform", "started", PIPE, at=10.0),
            ev("transform", "error", PIPE, "docker went away", at=12.5),
            ev("training", "skipped", SMALL, "cannot be emulated on this host", at=13.0),
        ]
    )
    assert cell_text(board.cell(PIPE, "transform"), 99.0) == "error 2.5s"
    skipped = board.cell(SMALL, "training")
    assert skipped is not None
    assert skipped.elapsed(99.0) is None
    assert cell_text(skipped, 99.0) == "skipped"


def test_rows_not_in_the_plan_are_appended_in_arrival_order():
    board = board_after(
        [
            ev("training", "started", ("gpu", "ml.g5.xlarge"), at=1.0),
            ev("training", "started", PIPE, at=2.0),
            ev("training", "started", ("extra", "ml.c5.xlarge"), at=3.0),
        ],
        rows=(SMOKE, PIPE),
    )
    assert board.rows == [SMOKE, PIPE, ("gpu", "ml.g5.xlarge"), ("extra", "ml.c5.xlarge")]
    assert ProgressBoard([SMOKE, SMOKE]).rows == [SMOKE]


def test_detail_is_the_last_note_while_running_then_why_it_went_wrong():
    board = board_after(RUN)
    assert board.detail(SMOKE) == "waiting for /ping"  # the job name prefix dropped
    board.apply(ev("serving", "passed", SMOKE, at=120.0, took=7.4))
    assert board.detail(SMOKE) == "TRAIN-SIGTERM"
    assert board.detail(SMALL) == ""
    board.apply(ev("training", "started", SMALL, at=121.0))
    board.apply(ev("training", "note", SMALL, "pulling a thing: slowly", at=121.5))
    assert board.detail(SMALL) == "pulling a thing: slowly"  # no job name: kept whole


def test_seconds_are_short():
    assert format_seconds(0.04) == "0.0s"
    assert format_seconds(59.94) == "59.9s"
    assert format_seconds(125.3) == "2m05s"


def test_plain_lines():
    assert (
        format_line(ev("training", "passed", SMOKE, at=112.3, took=8.1), 100.0)
        == "[   12.3s] smoke/ml.m5.large training passed (8.1 s)"
    )
    assert (
        format_line(ev("images", "started", message="resolving and pulling images", at=100.1), 100)
        == "[    0.1s] images started: resolving and pulling images"
    )
    assert (
        format_line(ev("sigterm-probe", "failed", SMOKE, "TRAIN-SIGTERM", at=103, took=3), 100)
        == "[    3.0s] smoke/ml.m5.large sigterm-probe failed (3.0 s): TRAIN-SIGTERM"
    )
    assert (
        format_line(ev("training", "skipped", SMALL, "no GPUs here", at=101.0), 100.0)
        == "[    1.0s] smoke/ml.t3.medium training skipped: no GPUs here"
    )
    assert (
        format_line(ev("serving", "note", SMOKE, "x: waiting for /ping", at=160.0), 100.0)
        == "[   60.0s] smoke/ml.m5.large serving: x: waiting for /ping"
    )


@pytest.mark.parametrize(
    ("verbosity", "states"),
    [
        ("quiet", {"failed", "error"}),
        ("normal", {"started", "passed", "failed", "skipped", "error"}),
        ("verbose", {"started", "passed", "failed", "skipped", "error", "note"}),
    ],
)
def test_verbosity_filters_the_plain_lines(verbosity, states):
    every = ("started", "passed", "failed", "skipped", "error", "note")
    kept = {s for s in every if wants_line(ev("training", s, SMOKE, at=0.0), verbosity)}
    assert kept == states


def rendered(board: ProgressBoard, now: float, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    console.print(render_table(board, now))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def test_the_rich_table_shows_every_row_and_cell():
    text = rendered(board_after(RUN), now=114.6, width=120)
    lines = text.splitlines()
    assert lines[0].split() == ["validate", "passed", "0.0s", "·", "images", "passed", "1.2s"]
    header = next(line for line in lines if "profile" in line)
    assert header.split() == [
        "profile",
        "instance",
        "type",
        "training",
        "sigterm-probe",
        "serving",
        "transform",
        "detail",
    ]
    rows = [line for line in lines if line.strip().startswith(("smoke", "pipe"))]
    assert len(rows) == 3
    first = re.split(r"\s{2,}", rows[0].strip())
    assert first == [
        "smoke",
        "ml.m5.large",
        "passed 8.1s",
        "failed 3.0s",
        "running 2.0s",
        "waiting for /ping",
    ]
    assert rows[1].split() == ["smoke", "ml.t3.medium"]
    assert rows[2].split() == ["pipe", "ml.m5.large"]


def test_the_table_gives_the_detail_what_width_is_left():
    board = board_after(RUN)
    board.apply(ev("training", "skipped", PIPE, "cannot be emulated: " + "x" * 200, at=1.0))
    text = rendered(board, now=114.6, width=100)
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "cannot be" in text
    assert "…" in text
    assert "sigterm-probe" in text  # headers keep their whole names


@pytest.mark.parametrize(("verbosity", "count"), [("normal", 9), ("verbose", 12), ("quiet", 1)])
def test_plain_view_prints_lines_by_verbosity(verbosity, count):
    stream = io.StringIO()
    view = ProgressView(stream, [SMOKE], verbosity=verbosity, started=100.0)
    assert view.live is False  # not a terminal
    with view:
        for event in RUN:
            view(event)
    lines = stream.getvalue().splitlines()
    assert len(lines) == count, lines
    assert all(re.match(r"\[ *\d+\.\ds\] ", line) for line in lines)
    if verbosity == "quiet":
        assert lines == ["[   12.5s] smoke/ml.m5.large sigterm-probe failed (3.0 s): TRAIN-SIGTERM"]
    assert view.board.cell(SMOKE, "training") is not None  # the board follows in every mode


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_live_table_unless_quiet_or_verbose(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    assert ProgressView(FakeTerminal(), [SMOKE]).live is True
    assert ProgressView(FakeTerminal(), [SMOKE], verbosity="quiet").live is False
    assert ProgressView(FakeTerminal(), [SMOKE], verbosity="verbose").live is False
    assert ProgressView(io.StringIO(), [SMOKE]).live is False
    monkeypatch.setenv("TERM", "dumb")
    assert ProgressView(FakeTerminal(), [SMOKE]).live is False


def test_live_view_stops_on_interrupt_and_leaves_its_last_frame():
    stream = io.StringIO()
    view = ProgressView(stream, [SMOKE, PIPE], live=True)

    def interrupted_run() -> None:
        with view:
            for event in RUN[:8]:
                view(event)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_run()
    assert view._display is None  # stopped
    view.close()  # idempotent
    text = stream.getvalue()
    assert "passed" in text
    assert "smoke" in text
    assert "pipe" in text
    assert not re.search(r"\[ *\d+\.\ds\]", text)  # no plain lines in live mode


def test_quiet_and_verbose_exclude_each_other(capsys, tmp_path):
    code = main(["run", str(tmp_path / "harness.yaml"), "--quiet", "--verbose"])
    _, err = capsys.readouterr()
    assert code == ExitCode.USAGE_ERROR
    assert "not allowed with argument" in err
