"""read_log_excerpts: the tails of the logs a report names, read only from under --out."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from harness.report.html import render_html
from harness.report.log_excerpts import read_log_excerpts, run_logs, tail_text
from harness.report.model import RunRecord, RunReport
from tests.unit.report.sample_report import SAMPLE_REPORT, SMOKE_M5


def _report(*runs: RunRecord) -> RunReport:
    return replace(SAMPLE_REPORT, runs=runs)


def _with_logs(training_logs: list[str], serving_log: str | None = None) -> RunRecord:
    assert SMOKE_M5.training is not None
    assert SMOKE_M5.serving is not None
    hosts = [
        {"host": f"algo-{i + 1}", "exit_code": 0, "log": log} for i, log in enumerate(training_logs)
    ]
    return replace(
        SMOKE_M5,
        training={**SMOKE_M5.training, "hosts": hosts},
        serving={**SMOKE_M5.serving, "log": serving_log},
    )


def test_run_logs_lists_training_hosts_then_serving() -> None:
    logs = run_logs(SAMPLE_REPORT.runs[2])
    assert [(log.label, log.path, log.failed) for log in logs] == [
        ("algo-1 training log", "distributed/ml.m5.4xlarge/logs/algo-1.log", True),
        ("algo-2 training log", "distributed/ml.m5.4xlarge/logs/algo-2.log", True),
    ]
    assert [log.label for log in run_logs(SMOKE_M5)] == ["algo-1 training log", "serving log"]
    assert run_logs(SAMPLE_REPORT.runs[1]) == []  # never ran


def test_reads_the_last_lines_keyed_by_the_path_the_record_names(tmp_path: Path) -> None:
    log = tmp_path / "smoke/ml.m5.large/logs/algo-1.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    serve = tmp_path / "smoke/ml.m5.large/serve.log"
    serve.write_text("listening\nbye\n")
    excerpts = read_log_excerpts(_report(SMOKE_M5), tmp_path, max_lines=40)
    assert excerpts["smoke/ml.m5.large/serve.log"] == "listening\nbye"
    lines = excerpts["smoke/ml.m5.large/logs/algo-1.log"].split("\n")
    assert lines == [f"line {i}" for i in range(60, 100)]


def test_an_absolute_path_under_out_is_read_and_missing_files_are_left_out(tmp_path: Path) -> None:
    serve = tmp_path / "run/serve.log"
    serve.parent.mkdir()
    serve.write_text("ready\n")
    run = _with_logs(["run/logs/algo-1.log"], str(serve))  # older reports recorded it absolute
    assert read_log_excerpts(_report(run), tmp_path) == {str(serve): "ready"}


def test_nothing_outside_out_is_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "logs").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    (out / "logs/link.log").symlink_to(secret)
    run = _with_logs(["logs/link.log", "../secret.txt"], str(secret))
    assert read_log_excerpts(_report(run), out) == {}


def test_fifos_and_folders_are_not_read_and_do_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.log")
    (tmp_path / "folder.log").mkdir()
    run = _with_logs(["pipe.log", "folder.log"])
    assert read_log_excerpts(_report(run), tmp_path) == {}


def test_only_the_tail_is_read_and_its_partial_first_line_dropped(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_bytes(b"x" * 1_000_000 + b"\n" + b"".join(b"tail %d\n" % i for i in range(5)))
    run = _with_logs(["big.log"])
    excerpts = read_log_excerpts(_report(run), tmp_path, max_lines=40, max_bytes=1024)
    assert excerpts == {"big.log": "\n".join(f"tail {i}" for i in range(5))}
    whole = read_log_excerpts(_report(run), tmp_path, max_lines=2, max_bytes=2_000_000)
    assert whole == {"big.log": "tail 3\ntail 4"}


def test_empty_log_is_an_empty_excerpt(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    assert read_log_excerpts(_report(_with_logs(["empty.log"])), tmp_path) == {"empty.log": ""}
    html = render_html(_report(_with_logs(["empty.log"])), {"empty.log": ""})
    assert "<pre>(empty)</pre>" in html


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"caf\xc3\xa9 \xff\xfe ok\n", "café \ufffd\ufffd ok"),
        (b"\x1b[31mred\x1b[0m plain\n", "red plain"),
        (b"\x1b]0;title\x07shown\n", "shown"),
        (b"progress 10%\rprogress 50%\rprogress 100%\n", "progress 100%"),
        (b"windows\r\nline\r\n", "windows\nline"),
        (b"bell\x07 nul\x00 tab\tkept\n", "bell nul tab\tkept"),
        (b"no newline at the end", "no newline at the end"),
        (b"a\n\nb\n", "a\n\nb"),
    ],
)
def test_tail_text_cleans_what_a_terminal_would_interpret(data: bytes, text: str) -> None:
    assert tail_text(data) == text


def test_tail_text_cuts_overlong_lines() -> None:
    text = tail_text(b"y" * 5000 + b"\n")
    assert len(text) == 2001
    assert text.endswith("…")
