"""What `harness run` goes through and where it writes: the check IDs `--only/--skip` may name,
the rows of the matrix (each once), the host count, each row's folder emptied before it runs,
and the data digests of the training record."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import ExitCode, UsageError
from harness.jobs.run_parts import (
    RUN_CHECK_IDS,
    RunOptions,
    empty_row_folder,
    host_count,
    require_known_check_selectors,
    run_inputs,
    run_matrix,
    training_dict,
    unknown_check_selectors,
)
from harness.plan import load_plan

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PLAN = ROOT / "fixtures/algorithms/reference/harness.yaml"

# --- check selectors --------------------------------------------------------------------------


def test_the_catalogue_is_what_docs_checks_md_lists_for_a_run():
    text = (ROOT / "docs/checks.md").read_text()
    run_time = text.split("## Run-time checks", 1)[1]
    documented = {
        check
        for cell in re.findall(r"^\| ([A-Z][A-Z0-9, -]+) \|", run_time, re.MULTILINE)
        for check in re.split(r",\s*", cell)
        if re.fullmatch(r"[A-Z]+(-[A-Z0-9]+)+", check)
    }
    assert documented == set(RUN_CHECK_IDS)
    assert len(RUN_CHECK_IDS) == len(set(RUN_CHECK_IDS))


@pytest.mark.parametrize(
    "selector",
    ["TRAIN-COMPLETES", "TRAIN-", "TRAIN", "SERVE-", "TRANSFORM-EXEC-PARAMS", "SPEC-", "IMAGE-"],
)
def test_an_id_or_the_start_of_one_is_known(selector):
    assert unknown_check_selectors([selector]) == []


def test_unknown_selectors_are_returned_in_order_each_once():
    given = ["NOPE", "TRAIN-", "train-model", "NOPE", "", " ", "TRAIN-MODEL-X", "SPEC-PARSE"]
    assert unknown_check_selectors(given) == [
        "NOPE",
        "train-model",  # IDs are case-sensitive, as RunOptions.wants reads them
        "",  # would select every check
        " ",
        "TRAIN-MODEL-X",
        "SPEC-PARSE",  # its findings are SPEC-SCHEMA's in a run
    ]


def test_unknown_selectors_are_a_usage_error_naming_each_option():
    require_known_check_selectors(frozenset({"TRAIN-"}), frozenset({"TRAIN-SIGTERM"}))
    with pytest.raises(UsageError) as caught:
        require_known_check_selectors(frozenset({"NOPE", "TRAIN-"}), ["TRAIN-MODLE"])
    error = caught.value
    assert error.exit_code == ExitCode.USAGE_ERROR
    assert error.message == "--only 'NOPE', --skip 'TRAIN-MODLE' select no check"
    assert error.hint is not None
    assert error.hint.startswith("did you mean 'TRAIN-MODEL'")
    assert "TRANSFORM-EXEC-PARAMS" in error.hint


def test_a_conformance_run_with_an_unknown_selector_is_refused_before_anything_runs(tmp_path):
    from harness.documents import load_document
    from harness.jobs.run import ConformanceRun

    plan = load_plan(REFERENCE_PLAN)
    unused = None  # nothing may be touched: the engine, registry and credentials are unused
    options = RunOptions(out_dir=tmp_path / "out", only=frozenset({"NOPE"}))
    with pytest.raises(UsageError, match="--only 'NOPE' selects no check"):
        ConformanceRun(
            plan,
            load_document(plan.algorithm),
            [],
            unused,  # type: ignore[arg-type]
            unused,  # type: ignore[arg-type]
            unused,  # type: ignore[arg-type]
            options,
        )
    assert not (tmp_path / "out").exists()


# --- the matrix -------------------------------------------------------------------------------


def test_a_repeated_instance_type_runs_once_in_the_order_given(tmp_path):
    plan = load_plan(REFERENCE_PLAN)
    options = RunOptions(
        out_dir=tmp_path,
        instance_types=("ml.c5.xlarge", "ml.m5.large", "ml.c5.xlarge", "ml.m5.large"),
    )
    rows = [(p.name, t) for p, t in run_matrix(plan, options)]
    assert rows == [
        (name, t)
        for name in ("smoke", "pipe", "distributed")
        for t in ("ml.c5.xlarge", "ml.m5.large")
    ]


def test_a_plan_that_repeats_a_type_runs_it_once(tmp_path):
    plan = load_plan(REFERENCE_PLAN)
    smoke = plan.profiles[0]
    twice = replace(smoke, instance_types=("ml.m5.large", "ml.t3.medium", "ml.m5.large"))
    rows = run_matrix(replace(plan, profiles=(twice,)), RunOptions(out_dir=tmp_path))
    assert [t for _, t in rows] == ["ml.m5.large", "ml.t3.medium"]
    rows = run_matrix(replace(plan, profiles=(smoke, smoke)), RunOptions(out_dir=tmp_path))
    assert [(p.name, t) for p, t in rows] == [("smoke", "ml.m5.large"), ("smoke", "ml.t3.medium")]


# --- hosts ------------------------------------------------------------------------------------


def test_a_host_count_outside_the_emulated_range_is_refused():
    smoke = load_plan(REFERENCE_PLAN).profiles[0]
    assert host_count(smoke) == 1
    for count in (0, 65, 1000000000000):
        huge = replace(smoke, training=replace(smoke.training, instance_count=count))
        with pytest.raises(UsageError, match=f"instance_count {count} is not between 1 and 64"):
            host_count(huge)


# --- a row's folder ---------------------------------------------------------------------------


def _stale_row(out: Path) -> Path:
    folder = out / "smoke" / "ml.m5.large"
    for name in ("transform/old.out", "logs/algo-2.log", "serve.log", "sigterm-probe/logs/x.log"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("from an earlier run")
    (folder / ".transform-work").mkdir()
    return folder


def test_a_row_folder_is_emptied_and_nothing_else_is_touched(tmp_path):
    out = tmp_path / "out"
    folder = _stale_row(out)
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "keep.txt").write_text("not the run's")
    (folder / "link-to-folder").symlink_to(outside)
    (folder / "logs" / "link-to-file").symlink_to(outside / "sub" / "keep.txt")
    (folder / "dangling").symlink_to(tmp_path / "nowhere")
    sibling = out / "smoke" / "ml.t3.medium" / "model.tar.gz"
    sibling.parent.mkdir(parents=True)
    sibling.write_text("another row")
    (out / "report.json").write_text("{}")

    empty_row_folder(out, folder)

    assert folder.is_dir()
    assert list(folder.iterdir()) == []
    assert (outside / "sub" / "keep.txt").read_text() == "not the run's"  # links not followed
    assert sibling.read_text() == "another row"
    assert (out / "report.json").is_file()


def test_a_missing_row_folder_stays_missing(tmp_path):
    empty_row_folder(tmp_path, tmp_path / "smoke" / "ml.m5.large")
    assert list(tmp_path.iterdir()) == []


def test_a_link_where_the_row_folder_belongs_is_removed_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    out = tmp_path / "out"
    (out / "smoke").mkdir(parents=True)
    (out / "smoke" / "ml.m5.large").symlink_to(outside)
    empty_row_folder(out, out / "smoke" / "ml.m5.large")
    assert not (out / "smoke" / "ml.m5.large").exists()
    assert not (out / "smoke" / "ml.m5.large").is_symlink()
    assert (outside / "keep.txt").read_text() == "x"


def test_a_linked_profile_folder_is_refused_and_left_alone(tmp_path):
    outside = tmp_path / "outside"
    (outside / "ml.m5.large").mkdir(parents=True)
    (outside / "ml.m5.large" / "keep.txt").write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    (out / "smoke").symlink_to(outside)
    with pytest.raises(UsageError, match="symbolic link or a file"):
        empty_row_folder(out, out / "smoke" / "ml.m5.large")
    assert (outside / "ml.m5.large" / "keep.txt").read_text() == "x"


@pytest.mark.parametrize(
    "relative",
    ["smoke", "smoke/ml.m5.large/deeper", "../smoke/ml.m5.large", "smoke/.."],
)
def test_only_a_row_folder_two_names_below_out_is_emptied(tmp_path, relative):
    out = tmp_path / "out"
    (out / "smoke" / "ml.m5.large").mkdir(parents=True)
    (out / "smoke" / "ml.m5.large" / "keep.txt").write_text("x")
    with pytest.raises(UsageError):
        empty_row_folder(out, out / relative)
    assert (out / "smoke" / "ml.m5.large" / "keep.txt").read_text() == "x"


def test_a_row_folder_holding_an_input_of_the_run_is_refused_and_left_alone(tmp_path):
    plan = load_plan(REFERENCE_PLAN)
    folder = tmp_path / "smoke" / "ml.m5.large"
    folder.mkdir(parents=True)
    data = folder / "data"
    data.mkdir()
    (data / "train.csv").write_text("1,2\n")
    smoke = plan.profiles[0]
    channel = replace(smoke.training.channels[0], path=data)
    moved = replace(smoke, training=replace(smoke.training, channels=(channel,)))
    inputs = run_inputs(replace(plan, profiles=(moved,)), plan.algorithm)
    assert data in inputs
    assert plan.file in inputs
    with pytest.raises(UsageError, match="which this run reads"):
        empty_row_folder(tmp_path, folder, inputs)
    assert (data / "train.csv").read_text() == "1,2\n"


def test_the_run_s_inputs_are_every_file_it_reads():
    plan = load_plan(REFERENCE_PLAN)
    data = REFERENCE_PLAN.parent / "data"
    inputs = set(run_inputs(plan, plan.algorithm))
    assert {
        plan.file,
        plan.algorithm,
        data / "training",
        data / "validation",
        data / "batch",
        data / "payload.csv",
        data / "payload.json",
    } <= inputs


# --- the training record's data digests -------------------------------------------------------


def test_the_training_record_says_each_channel_s_digest_once(tmp_path):
    from harness.jobs.training import TrainingOutcome
    from harness.report.model import RunRecord

    digest = {"training": "a" * 64, "validation": "b" * 64}
    channels = {
        host: {
            name: {"mode": "File", "files": 1, "bytes": 3, "data_sha256": value}
            for name, value in digest.items()
        }
        for host in ("algo-1", "algo-2")
    }
    outcome = TrainingOutcome(None, "Completed", (), 1.0, channels=channels)  # type: ignore[arg-type]
    record = training_dict(outcome, tmp_path)
    assert record["data_sha256"] == digest
    assert record["channels"]["algo-2"]["training"] == {"mode": "File", "files": 1, "bytes": 3}
    assert "data_sha256" in channels["algo-1"]["training"]  # the outcome is left as it was
    without = training_dict(TrainingOutcome(None, "Completed", (), 1.0), tmp_path)  # type: ignore[arg-type]
    assert "data_sha256" not in without

    import importlib.resources

    import jsonschema

    from harness.report.json_report import render_report_json
    from harness.report.model import RunReport

    schema = json.loads(
        importlib.resources.files("harness").joinpath("schemas/report.schema.json").read_text()
    )
    record.update(metrics={})
    run = RunRecord(
        "smoke",
        "ml.m5.large",
        "exact",
        training=record,
        transform={"records": 3, "input_sha256": "c" * 64},
    )
    report = RunReport(
        "0", "2026-11-27T09:00:00+00:00", 1.0, "a.json", "p.yaml", {}, (), (run,), ()
    )
    data = json.loads(render_report_json(report))
    jsonschema.validate(data, schema)
    data["runs"][0]["transform"]["input_sha256"] = "sha256:c"
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(data, schema)
    data["runs"][0]["transform"]["input_sha256"] = "c" * 64
    data["runs"][0]["training"]["data_sha256"]["training"] = "short"
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(data, schema)
