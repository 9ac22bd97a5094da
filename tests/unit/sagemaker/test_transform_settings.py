from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.plan import TransformPlan
from harness.sagemaker.transform_settings import (
    TransformSettings,
    batch_environment,
    canonical_batch_strategy,
    resolve_settings,
    validate_execution_parameters,
)

DOC_EXAMPLE = {"MaxConcurrentTransforms": 8, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}
BAD_FIXTURE = {"MaxConcurrentTransforms": -1, "BatchStrategy": "SOMETIMES", "MaxPayloadInMB": 500}


def _plan(**fields: object) -> TransformPlan:
    return TransformPlan(input=Path("/data"), **fields)  # type: ignore[arg-type]


# --- precedence --------------------------------------------------------------------------------


def test_defaults_when_neither_plan_nor_container_says():
    settings = resolve_settings(_plan(), None)
    assert (settings.batch_strategy, settings.batch_strategy_source) == ("MultiRecord", "default")
    assert (settings.max_payload_mb, settings.max_payload_mb_source) == (6, "default")
    assert (settings.max_concurrent_transforms, settings.max_concurrent_transforms_source) == (
        1,
        "default",
    )


def test_container_values_when_the_plan_leaves_them_out():
    settings = resolve_settings(_plan(), DOC_EXAMPLE)
    assert (settings.batch_strategy, settings.batch_strategy_source) == (
        "MultiRecord",
        "execution-parameters",
    )
    assert (settings.max_payload_mb, settings.max_payload_mb_source) == (6, "execution-parameters")
    assert (settings.max_concurrent_transforms, settings.max_concurrent_transforms_source) == (
        8,
        "execution-parameters",
    )


def test_plan_values_win_over_the_container():
    plan = _plan(batch_strategy="SingleRecord", max_payload_mb=2, max_concurrent_transforms=3)
    settings = resolve_settings(plan, DOC_EXAMPLE)
    assert (settings.batch_strategy, settings.batch_strategy_source) == ("SingleRecord", "plan")
    assert (settings.max_payload_mb, settings.max_payload_mb_source) == (2, "plan")
    assert (settings.max_concurrent_transforms, settings.max_concurrent_transforms_source) == (
        3,
        "plan",
    )


@pytest.mark.parametrize(
    ("field", "plan_value", "answer", "expected"),
    [
        (
            "batch_strategy",
            "SingleRecord",
            {"BatchStrategy": "MultiRecord"},
            ("SingleRecord", "plan"),
        ),
        (
            "batch_strategy",
            None,
            {"BatchStrategy": "SINGLE_RECORD"},
            ("SingleRecord", "execution-parameters"),
        ),
        (
            "batch_strategy",
            None,
            {"BatchStrategy": "SingleRecord"},
            ("SingleRecord", "execution-parameters"),
        ),
        (
            "batch_strategy",
            None,
            {"BatchStrategy": "MULTI_RECORD"},
            ("MultiRecord", "execution-parameters"),
        ),
        ("batch_strategy", None, {"BatchStrategy": "multi_record"}, ("MultiRecord", "default")),
        ("batch_strategy", None, {}, ("MultiRecord", "default")),
        ("max_payload_mb", 0, {"MaxPayloadInMB": 10}, (0, "plan")),
        ("max_payload_mb", None, {"MaxPayloadInMB": 0}, (0, "execution-parameters")),
        ("max_payload_mb", None, {"MaxPayloadInMB": 100}, (100, "execution-parameters")),
        ("max_payload_mb", None, {"MaxPayloadInMB": 101}, (6, "default")),
        ("max_payload_mb", None, {"MaxPayloadInMB": "6"}, (6, "default")),
        ("max_payload_mb", None, {"MaxPayloadInMB": True}, (6, "default")),
        (
            "max_concurrent_transforms",
            0,
            {"MaxConcurrentTransforms": 4},
            (4, "execution-parameters"),
        ),
        ("max_concurrent_transforms", 0, {}, (1, "default")),
        ("max_concurrent_transforms", 2, {"MaxConcurrentTransforms": 4}, (2, "plan")),
        ("max_concurrent_transforms", None, {"MaxConcurrentTransforms": 0}, (1, "default")),
        ("max_concurrent_transforms", None, {"MaxConcurrentTransforms": 2.0}, (1, "default")),
    ],
    ids=[
        "strategy-plan-wins",
        "strategy-env-spelling-single",
        "strategy-api-spelling-single",
        "strategy-env-spelling-multi",
        "strategy-wrong-case-ignored",
        "strategy-absent",
        "payload-plan-zero-is-a-value",
        "payload-container-zero-is-a-value",
        "payload-container-max",
        "payload-container-over-max-ignored",
        "payload-container-string-ignored",
        "payload-container-bool-ignored",
        "concurrency-plan-zero-is-unset",
        "concurrency-plan-zero-then-default",
        "concurrency-plan-wins",
        "concurrency-container-zero-ignored",
        "concurrency-container-float-ignored",
    ],
)
def test_each_setting_follows_the_precedence(field, plan_value, answer, expected):
    settings = resolve_settings(_plan(**{field: plan_value}), answer)
    assert (getattr(settings, field), getattr(settings, f"{field}_source")) == expected


def test_the_bad_exec_params_fixture_values_are_not_used():
    settings = resolve_settings(_plan(), BAD_FIXTURE)
    assert (
        settings.max_concurrent_transforms,
        settings.batch_strategy,
        settings.max_payload_mb,
    ) == (
        1,
        "MultiRecord",
        6,
    )
    assert {
        settings.max_concurrent_transforms_source,
        settings.batch_strategy_source,
        settings.max_payload_mb_source,
    } == {"default"}


def test_plan_fields_are_carried_over():
    plan = _plan(
        split_type="Line", assemble_with="Line", content_type="text/csv", accept="application/json"
    )
    settings = resolve_settings(plan, None)
    assert (settings.split_type, settings.assemble_with) == ("Line", "Line")
    assert (settings.content_type, settings.accept) == ("text/csv", "application/json")


def test_an_unknown_plan_strategy_is_refused():
    with pytest.raises(UsageError, match="BatchStrategy 'Both'"):
        resolve_settings(_plan(batch_strategy="Both"), None)


@pytest.mark.parametrize(
    ("mb", "limit"), [(6, 6 * 1024 * 1024), (1, 1_048_576), (100, 104_857_600), (0, None)]
)
def test_payload_limit_in_bytes(mb, limit):
    assert resolve_settings(_plan(max_payload_mb=mb), None).max_payload_bytes == limit


@pytest.mark.parametrize(
    ("split_type", "assemble_with", "counts"),
    [
        ("Line", "Line", True),
        ("RecordIO", "Line", True),
        ("Line", "None", False),
        ("None", "Line", False),
    ],
)
def test_output_lines_are_counted_only_for_split_records_assembled_by_line(
    split_type, assemble_with, counts
):
    settings = resolve_settings(_plan(split_type=split_type, assemble_with=assemble_with), None)
    assert isinstance(settings, TransformSettings)
    assert settings.counts_output_lines is counts


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("MultiRecord", "MultiRecord"),
        ("MULTI_RECORD", "MultiRecord"),
        ("SingleRecord", "SingleRecord"),
        ("SINGLE_RECORD", "SingleRecord"),
    ],
)
def test_both_spellings_of_batch_strategy(spelling, canonical):
    assert canonical_batch_strategy(spelling) == canonical


# --- /execution-parameters validation ----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        DOC_EXAMPLE,
        {"MaxConcurrentTransforms": 1, "BatchStrategy": "SingleRecord", "MaxPayloadInMB": 100},
        {"MaxConcurrentTransforms": 100, "BatchStrategy": "SINGLE_RECORD", "MaxPayloadInMB": 1},
        {"MaxConcurrentTransforms": 50, "BatchStrategy": "MultiRecord", "MaxPayloadInMB": 0},
        {"MaxConcurrentTransforms": 4},
        {},
    ],
    ids=["doc-example", "max-payload", "max-concurrency", "unlimited-payload", "partial", "empty"],
)
def test_valid_execution_parameters(body):
    check = validate_execution_parameters(body)
    assert check.ok
    assert check.problems == ()
    assert check.warnings == ()


def test_the_bad_exec_params_fixture_has_three_problems():
    check = validate_execution_parameters(BAD_FIXTURE)
    assert not check.ok
    assert check.problems == (
        "MaxConcurrentTransforms must be a positive integer, not -1",
        "BatchStrategy must be one of MultiRecord, SingleRecord, MULTI_RECORD, SINGLE_RECORD, "
        'not "SOMETIMES"',
        "MaxPayloadInMB must be an integer from 0 to 100, not 500",
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([1, 2], "not a JSON object but an array: [1, 2]"),
        ("MULTI_RECORD", 'not a JSON object but a string: "MULTI_RECORD"'),
        (None, "not a JSON object but null"),
        (6, "not a JSON object but a number: 6"),
        (
            {"MaxConcurrentTransforms": 0},
            "MaxConcurrentTransforms must be a positive integer, not 0",
        ),
        (
            {"MaxConcurrentTransforms": "4"},
            'MaxConcurrentTransforms must be a positive integer, not "4"',
        ),
        ({"MaxConcurrentTransforms": 4.0}, "positive integer, not 4.0"),
        ({"MaxConcurrentTransforms": True}, "positive integer, not true"),
        ({"MaxPayloadInMB": -1}, "MaxPayloadInMB must be an integer from 0 to 100, not -1"),
        ({"MaxPayloadInMB": 101}, "from 0 to 100, not 101"),
        ({"MaxPayloadInMB": None}, "from 0 to 100, not null"),
        ({"BatchStrategy": "multirecord"}, 'not "multirecord"'),
        ({"BatchStrategy": 1}, "BatchStrategy must be one of"),
        (
            {"MaxConcurrentTransforms": 8, "MaxPayloadInMB": 13},
            "MaxConcurrentTransforms × MaxPayloadInMB = 8 × 13 = 104 MB, "
            "above SageMaker's limit of 100 MB",
        ),
    ],
    ids=[
        "array",
        "string",
        "null",
        "number",
        "zero-concurrency",
        "string-concurrency",
        "float-concurrency",
        "bool-concurrency",
        "negative-payload",
        "payload-over-100",
        "null-payload",
        "strategy-wrong-case",
        "strategy-number",
        "product-over-100",
    ],
)
def test_invalid_execution_parameters(body, problem):
    check = validate_execution_parameters(body)
    assert not check.ok
    assert any(problem in p for p in check.problems), check.problems


def test_product_exactly_100_is_allowed():
    assert validate_execution_parameters({"MaxConcurrentTransforms": 10, "MaxPayloadInMB": 10}).ok


def test_unknown_keys_are_warnings_not_problems():
    check = validate_execution_parameters({**DOC_EXAMPLE, "MaxPayloadInMb": 6, "Extra": 1})
    assert check.ok
    assert check.warnings == (
        "unknown key 'Extra': SageMaker reads only MaxConcurrentTransforms, BatchStrategy, "
        "MaxPayloadInMB",
        "unknown key 'MaxPayloadInMb': SageMaker reads only MaxConcurrentTransforms, "
        "BatchStrategy, MaxPayloadInMB",
    )


def test_a_long_value_is_cut_short_in_the_message():
    (problem,) = validate_execution_parameters({"BatchStrategy": "x" * 500}).problems
    assert problem.endswith("…")
    assert len(problem) < 200


# --- environment -------------------------------------------------------------------------------


def test_environment_has_only_sagemaker_batch_when_the_plan_sets_nothing():
    assert batch_environment(_plan()) == {"SAGEMAKER_BATCH": "true"}


def test_environment_passes_what_the_plan_sets_in_the_environment_spelling():
    plan = _plan(batch_strategy="SingleRecord", max_payload_mb=0, max_concurrent_transforms=4)
    assert batch_environment(plan) == {
        "SAGEMAKER_BATCH": "true",
        "SAGEMAKER_BATCH_STRATEGY": "SINGLE_RECORD",
        "SAGEMAKER_MAX_PAYLOAD_IN_MB": "0",
        "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "4",
    }


def test_environment_leaves_out_a_zero_concurrency():
    env = batch_environment(_plan(batch_strategy="MultiRecord", max_concurrent_transforms=0))
    assert env == {"SAGEMAKER_BATCH": "true", "SAGEMAKER_BATCH_STRATEGY": "MULTI_RECORD"}
