"""Property-based tests: whatever request the validator gets, it answers with findings.

Random JSON-like values and requests mutated from a valid one (members dropped, retyped,
replaced by strings of any alphabet, lists grown) go through `harness validate`; it must never
raise, and must exit 0 or 1.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.algorithm.validate import validate_request
from harness.cli import main
from harness.documents import load_document
from harness.plan import is_plan

COMPLETE = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "fixtures/requests/complete.yaml").read_text()
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=80),
    st.sampled_from(["None", "File", "Pipe", "ml.m5.large", "", "sha256:"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=20), children, max_size=5),
    ),
    max_leaves=30,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


ALL_PATHS = [p for p in _paths(COMPLETE) if p]


@st.composite
def mutated_requests(draw: st.DrawFn) -> Any:
    request = copy.deepcopy(COMPLETE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = request
        try:
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            action = draw(st.sampled_from(["delete", "replace", "duplicate"]))
            if action == "delete" and isinstance(parent, dict):
                parent.pop(key, None)
            elif action == "duplicate" and isinstance(parent, list):
                parent.extend([copy.deepcopy(parent[key])] * draw(st.integers(1, 50)))
            else:
                parent[key] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped the parent
    return request


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_values_never_crash_the_validator(value):
    findings = validate_request(value)
    assert all(f.message for f in findings)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_requests())
def test_mutated_requests_never_crash_the_validator(request):
    for finding in validate_request(request):
        assert finding.message
        assert finding.severity.value in ("error", "warning")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(mutated_requests(), json_values))
def test_the_cli_exits_0_or_1_for_any_request(tmp_path_factory, capsys, request):
    path = tmp_path_factory.mktemp("req") / "request.json"
    path.write_text(json.dumps(request))
    assert main(["validate", str(path)]) in (0, 1)
    capsys.readouterr()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.text(max_size=200))
def test_the_cli_exits_0_or_1_for_any_text(tmp_path_factory, capsys, text):
    path = tmp_path_factory.mktemp("txt") / "request.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", str(path)])
    capsys.readouterr()
    if code == 4:  # only a document that looks like a plan may be refused as a bad plan
        assert is_plan(load_document(path).data)
    else:
        assert code in (0, 1)
