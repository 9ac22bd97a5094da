from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ExitCode, PlanError, UsageError
from harness.plan import DEFAULT_MAX_RUNTIME_SECONDS, load_plan

GOOD = """\
algorithm: algorithm.json
profiles:
  - name: smoke
    instance_types: [ml.m5.large, ml.g5.xlarge]
    training:
      hyperparameters: {max_leaf_nodes: "5", depth: 3}
      channels:
        training: {path: data/training, content_type: text/csv}
    transform:
      input: data/batch
      content_type: text/csv
      split_type: Line
      expected_output: data/expected
    serving:
      requests:
        - {content_type: text/csv, accept: text/csv, body: data/payload.csv}
      load: {concurrency: 2, requests: 50, max_p99_ms: 250}
  - name: pipe
    instance_types: [ml.m5.large]
    training:
      input_mode: Pipe
      instance_count: 2
      max_runtime_seconds: 600
      channels:
        training: {path: data/training, compression: Gzip, distribution: ShardedByS3Key,
                   record_wrapper: RecordIO, input_mode: File}
"""


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    (tmp_path / "algorithm.json").write_text("{}")
    for folder in ("data/training", "data/batch", "data/expected"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "data/payload.csv").write_text("1,2\n")
    (tmp_path / "harness.yaml").write_text(GOOD)
    return tmp_path


def test_good_plan_loads_with_paths_resolved_and_defaults(plan_dir: Path):
    plan = load_plan(plan_dir / "harness.yaml")
    assert plan.algorithm == plan_dir / "algorithm.json"
    smoke, pipe = plan.profiles
    assert smoke.instance_types == ("ml.m5.large", "ml.g5.xlarge")
    training = smoke.training
    assert training.input_mode == "File"
    assert training.instance_count == 1
    assert training.max_runtime_seconds == DEFAULT_MAX_RUNTIME_SECONDS
    assert training.hyperparameter_map == {"max_leaf_nodes": "5", "depth": "3"}
    (channel,) = training.channels
    assert channel.name == "training"
    assert channel.path == plan_dir / "data/training"
    assert (channel.compression, channel.distribution, channel.record_wrapper) == (
        "None",
        "FullyReplicated",
        "None",
    )
    assert smoke.transform is not None
    assert smoke.transform.split_type == "Line"
    assert smoke.transform.max_payload_mb is None  # left to /execution-parameters
    assert smoke.transform.assemble_with == "None"
    assert smoke.serving is not None
    assert smoke.serving.requests[0].body == plan_dir / "data/payload.csv"
    assert smoke.serving.load.max_p99_ms == 250.0
    assert smoke.serving.startup_timeout_seconds == 240
    assert pipe.training.input_mode == "Pipe"
    assert pipe.training.instance_count == 2
    assert pipe.training.channels[0].input_mode == "File"
    assert pipe.transform is None
    assert plan.profile("pipe") is pipe


def _broken(plan_dir: Path, old: str, new: str) -> PlanError:
    text = GOOD.replace(old, new, 1)
    assert text != GOOD
    (plan_dir / "harness.yaml").write_text(text)
    with pytest.raises(PlanError) as caught:
        load_plan(plan_dir / "harness.yaml")
    assert caught.value.exit_code == ExitCode.USAGE_ERROR
    return caught.value


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("    transform:", "    transfrom:", 9, "did you mean 'transform'"),
        ("input_mode: Pipe", "input_mode: Stream", 21, "not one of File, FastFile, Pipe"),
        ("instance_count: 2", "instance_count: two", 22, "expected int"),
        ("instance_count: 2", "instance_count: 0", 22, "at least 1"),
        ("input: data/batch", "input: data/missing", 10, "does not exist"),
        ('"5", depth: 3}', '"5", depth: true}', 6, "quote it"),
        ("[ml.m5.large, ml.g5.xlarge]", "[m5.large]", 4, "not a SageMaker instance type"),
        ("  - name: pipe", "  - name: smoke", 18, "used twice"),
        ("max_p99_ms: 250", "max_p99_ms: fast", 17, "expected a number"),
        ("  - name: pipe", "  - name: bad.prof", 18, "cannot be a ValidationProfile's ProfileName"),
        ("  - name: pipe", "  - name: -pipe", 18, "the first and last a letter or digit"),
        ("instance_count: 2", "instance_count: 1000000000000", 22, "at most 64"),
        ("max_runtime_seconds: 600", "max_runtime_seconds: 2419201", 23, "at most 2419200"),
    ],
    ids=[
        "typo-with-suggestion",
        "bad-choice",
        "wrong-type",
        "too-small",
        "missing-folder",
        "boolean-hyperparameter",
        "bad-instance-type",
        "duplicate-profile",
        "bad-bound",
        "profile-name-pattern",
        "profile-name-edge",
        "instance-count-cap",
        "max-runtime-28-days",
    ],
)
def test_broken_plans_name_file_line_and_key(plan_dir, old, new, line, words):
    error = _broken(plan_dir, old, new)
    assert error.where is not None
    assert error.where.startswith(str(plan_dir / "harness.yaml") + f":{line}:")
    assert words in error.one_line()


def test_missing_required_section(plan_dir: Path):
    error = _broken(plan_dir, "algorithm: algorithm.json\n", "")
    assert "algorithm: is required" in error.one_line()


def test_plan_that_is_not_yaml(plan_dir: Path):
    (plan_dir / "harness.yaml").write_text("profiles: [\n")
    with pytest.raises(UsageError) as caught:  # a DocumentSyntaxError
        load_plan(plan_dir / "harness.yaml")
    assert caught.value.exit_code == ExitCode.USAGE_ERROR


def test_unknown_profile_name(plan_dir: Path):
    plan = load_plan(plan_dir / "harness.yaml")
    with pytest.raises(PlanError, match="no profile named 'nope'"):
        plan.profile("nope")


def test_sigterm_probe_settings(plan_dir: Path):
    text = GOOD.replace(
        "      max_runtime_seconds: 600\n",
        "      max_runtime_seconds: 600\n"
        '      sigterm_probe: {after_seconds: 3, hyperparameters: {epochs: "50"}}\n',
    )
    (plan_dir / "harness.yaml").write_text(text)
    plan = load_plan(plan_dir / "harness.yaml")
    probe = plan.profiles[1].training.sigterm_probe
    assert probe.after_seconds == 3.0
    assert probe.hyperparameters == (("epochs", "50"),)
    assert plan.profiles[0].training.sigterm_probe.after_seconds == 2.0


def test_sigterm_probe_after_must_be_positive(plan_dir: Path):
    error = _broken(
        plan_dir,
        "      max_runtime_seconds: 600\n",
        "      max_runtime_seconds: 600\n      sigterm_probe: {after_seconds: 0}\n",
    )
    assert "must be more than 0" in error.one_line()


def test_the_largest_allowed_values_load(plan_dir: Path):
    text = GOOD.replace("instance_count: 2", "instance_count: 64").replace(
        "max_runtime_seconds: 600", "max_runtime_seconds: 2419200"
    )
    (plan_dir / "harness.yaml").write_text(text.replace("name: pipe", "name: a-b--c9"))
    pipe = load_plan(plan_dir / "harness.yaml").profiles[1]
    assert (pipe.name, pipe.training.instance_count) == ("a-b--c9", 64)
    assert pipe.training.max_runtime_seconds == 2419200


def test_a_plan_with_yaml_anchors_is_refused_at_the_anchor(plan_dir: Path):
    from harness.documents import DocumentSyntaxError

    text = GOOD.replace(
        "hyperparameters: {max_leaf_nodes", "hyperparameters: &hp {max_leaf_nodes"
    ).replace("      input_mode: Pipe\n", "      hyperparameters: *hp\n      input_mode: Pipe\n")
    (plan_dir / "harness.yaml").write_text(text)
    with pytest.raises(DocumentSyntaxError) as caught:
        load_plan(plan_dir / "harness.yaml")
    assert caught.value.where == f"{plan_dir / 'harness.yaml'}:6:24"
    assert "anchors and aliases are not supported" in caught.value.one_line()
