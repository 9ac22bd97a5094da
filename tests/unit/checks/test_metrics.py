"""TRAIN-METRICS and TRAIN-OBJECTIVE from literal MetricSeries: every branch, both ways."""

from __future__ import annotations

from harness.checks.metrics import TRAIN_METRICS, TRAIN_OBJECTIVE, check_metrics, check_objective
from harness.checks.results import CheckStatus
from harness.sagemaker.metrics import MetricPoint, MetricSeries


def series(
    name: str = "loss",
    values: tuple[float, ...] = (0.5, 0.25),
    *,
    hosts: tuple[str, ...] = ("algo-1",),
    non_numeric: tuple[str, ...] = (),
    near_misses: tuple[str, ...] = (),
    unsafe: str | None = None,
    exponents: tuple[str, ...] = (),
    hosts_seen: tuple[str, ...] = ("algo-1",),
    regex: str = r"loss=(\S+)",
) -> MetricSeries:
    points = tuple(
        MetricPoint(float(i), hosts[i % len(hosts)], "stdout", v) for i, v in enumerate(values)
    )
    return MetricSeries(
        name=name,
        regex=regex,
        engine="re2",
        points=points,
        matches=len(values) + len(non_numeric),
        non_numeric=len(non_numeric),
        non_numeric_samples=tuple(repr(s) for s in non_numeric),
        near_misses=near_misses,
        unsafe=unsafe,
        hosts=tuple(sorted({p.host for p in points})),
        exponent_samples=exponents,
        hosts_seen=hosts_seen,
    )


def test_no_definitions_skip():
    result = check_metrics([])
    assert (result.id, result.status) == (TRAIN_METRICS, CheckStatus.SKIP)


def test_every_definition_with_numbers_passes():
    result = check_metrics([series("loss"), series("acc", (0.9,))])
    assert result.status == CheckStatus.PASS
    assert "loss=0.25 (2 values)" in result.message
    assert "acc=0.9 (1 values)" in result.message
    assert result.warnings == ()
    assert result.evidence["metrics"]["loss"]["final"] == 0.25


def test_a_silent_definition_fails_with_its_near_misses():
    silent = series("err", (), regex=r"Train_error=(.*?);", near_misses=("train_error = 0.3;",))
    result = check_metrics([series("loss"), silent])
    assert result.status == CheckStatus.FAIL
    assert result.message.startswith("1 of 2 MetricDefinition(s) yielded no number")
    assert "err: 'Train_error=(.*?);' matched no line" in result.message
    assert "train_error = 0.3;" in result.message
    assert "loss" not in result.message.split(":", 1)[1].split("err")[0]


def test_a_definition_that_never_came_close_says_so():
    result = check_metrics([series("err", ())])
    assert result.status == CheckStatus.FAIL
    assert "nor came close" in result.message


def test_a_regex_that_needs_a_tab_is_told_how_sagemaker_shows_one():
    result = check_metrics([series("rmse", (), regex=r"\ttrain-rmse:(\S+)")])
    assert "a tab reads as #011" in result.message


def test_non_numeric_captures_fail_with_samples_and_the_percent_hint():
    result = check_metrics([series("acc", (), non_numeric=("93%", "94%"))])
    assert result.status == CheckStatus.FAIL
    assert "acc matched 2 line(s) but captured no number: '93%', '94%'" in result.message
    assert "put the % outside the capture group" in result.message


def test_an_unsafe_pattern_fails_by_name_even_with_some_values():
    unsafe = series("slow", (1.0,), unsafe="matching took over 0.05 s on one line; abandoned")
    result = check_metrics([series("loss"), unsafe])
    assert result.status == CheckStatus.FAIL
    assert "slow is unsafe: matching took over 0.05 s" in result.message


def test_warnings_exponents_partial_non_numeric_and_some_hosts():
    hosts = ("algo-1", "algo-2")
    result = check_metrics(
        [
            series("lr", (1e-05,), exponents=("1e-05",), hosts_seen=hosts),
            series("acc", (0.9,), non_numeric=("nan",), hosts_seen=hosts),
            series("loss", (0.5, 0.4), hosts=hosts, hosts_seen=hosts),
        ]
    )
    assert result.status == CheckStatus.PASS
    text = "\n".join(result.warnings)
    assert "lr: values in exponent notation (1e-05)" in text
    assert "aws/sagemaker-python-sdk#4263" in text
    assert "acc: 1 of 2 matches captured no number (e.g. 'nan')" in text
    assert "lr: emitted by algo-1 but not by algo-2" in text
    assert "loss: emitted" not in text


def test_one_host_runs_raise_no_host_warning():
    result = check_metrics([series("loss")])
    assert not any("emitted by" in w for w in result.warnings)


def test_objective_skip_without_objectives():
    result = check_objective([series()], [])
    assert (result.id, result.status) == (TRAIN_OBJECTIVE, CheckStatus.SKIP)


def test_objective_pass_when_emitted():
    result = check_objective([series("validation:auc", (0.7, 0.8)), series()], ["validation:auc"])
    assert result.status == CheckStatus.PASS
    assert "validation:auc (final 0.8)" in result.message
    assert result.evidence["objectives"] == {"validation:auc": {"count": 2, "final": 0.8}}


def test_objective_fail_names_each_missing_one():
    result = check_objective(
        [series("validation:auc", ()), series("slow", (1.0,), unsafe="timed out"), series()],
        ["validation:auc", "slow", "undefined", "loss"],
    )
    assert result.status == CheckStatus.FAIL
    assert "validation:auc (its regex found no number)" in result.message
    assert "slow (its regex was abandoned: timed out)" in result.message
    assert "undefined (no MetricDefinition has this name)" in result.message
    assert "loss (" not in result.message
    assert result.evidence["objectives"]["undefined"] is None
