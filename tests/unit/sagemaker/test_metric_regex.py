from __future__ import annotations

import pytest

from harness.sagemaker.metric_regex import analyse_metric_regex


@pytest.mark.parametrize(
    ("pattern", "groups"),
    [
        ("loss=([0-9.]+)", 1),
        ("loss=[0-9.]+", 0),
        ("(a)(b)", 2),
        ("(?:a|b)=(\\d+)", 1),
        ("(?P<v>\\d+)", 1),
        ("\\p{L}+=(\\d+)", 1),
    ],
    ids=["one", "none", "two", "non-capturing", "named", "unicode-class"],
)
def test_capture_groups_are_counted(pattern, groups):
    analysis = analyse_metric_regex(pattern)
    assert analysis.compile_error is None
    assert analysis.capture_groups == groups


def test_compile_error_is_reported():
    analysis = analyse_metric_regex("loss=([0-9")
    assert analysis.compile_error is not None


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+b",
        "(\\d*)*x",
        "((ab)*)+",
        "(x+x+)+y",
        "(?:\\s*\\w+){2,}=",
        "(a|aa+)*$",
        "\\p{L}(\\d+)+",
    ],
    ids=[
        "plus-plus",
        "star-star",
        "nested-groups",
        "adjacent",
        "counted-outer",
        "branch",
        "regex-only-syntax",
    ],
)
def test_nested_unbounded_quantifiers_are_flagged(pattern):
    assert analyse_metric_regex(pattern).nested_quantifier is not None


@pytest.mark.parametrize(
    "pattern",
    ["loss=([0-9.]+)", "(ab)+c", "(\\d{1,3})+", "(?>a+)+b", "(a++)+b", "epoch (\\d+) loss (\\S+)"],
    ids=[
        "plain",
        "group-without-inner-quantifier",
        "bounded-inner",
        "atomic",
        "possessive",
        "sequence",
    ],
)
def test_safe_patterns_are_not_flagged(pattern):
    assert analyse_metric_regex(pattern).nested_quantifier is None
