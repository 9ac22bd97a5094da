"""The inline SVG charts of report.html: a y axis that stays on the values' side of zero, short
tick labels, and a left margin wide enough for the widest of them."""

from __future__ import annotations

import re

import pytest

from harness.report.html_charts import line_chart, lines_chart, number, tick_label

_TICK = re.compile(
    r'<text x="([0-9.]+)" y="[0-9.-]+" font-size="10" [^>]*text-anchor="end">([^<]*)<'
)


def _width(label: str) -> float:
    """The most a tick label takes at font-size 10 in the sans-serif fonts a browser may use:
    digits are 0.55 em (Arial) to 0.64 em (DejaVu Sans), `-` and `.` under 0.4 em, `M`, `G`
    and `+` up to 0.9 em."""
    return sum(9.0 if c in "MG+" else 4.0 if c in "-." else 6.4 for c in label)


def _ticks(svg: str) -> list[tuple[float, str]]:
    return [(float(x), label) for x, label in _TICK.findall(svg) if not label.endswith(" s")]


def _series(*values: float) -> list[tuple[float, float]]:
    return [(float(i), v) for i, v in enumerate(values)]


def test_a_non_negative_metric_axis_never_goes_below_zero() -> None:
    """A loss falling to 0.033 once had the axis start at -0.06333."""
    chart = line_chart("loss", _series(0.9, 0.4, 0.1, 0.033), zero_based=False)
    labels = [label for _, label in _ticks(chart)]
    assert all(not label.startswith("-") for label in labels), labels
    assert float(labels[0]) == 0.0
    flat = line_chart("zero", _series(0.0, 0.0), zero_based=False)
    assert all(float(label) >= 0 for _, label in _ticks(flat)), _ticks(flat)


def test_a_non_positive_metric_axis_never_goes_above_zero() -> None:
    chart = line_chart("log-likelihood", _series(-0.8, -0.3, -0.02), zero_based=False)
    labels = [float(label) for _, label in _ticks(chart)]
    assert max(labels) == 0.0, labels
    assert min(labels) < -0.8


def test_a_metric_axis_keeps_its_margin_away_from_zero() -> None:
    """Accuracy near 0.8 spans its values, with room above and below."""
    chart = line_chart("accuracy", _series(0.8011, 0.8222, 0.8356), zero_based=False)
    labels = [float(label) for _, label in _ticks(chart)]
    assert 0.79 < min(labels) < 0.8011, labels
    assert 0.8356 < max(labels) < 0.85, labels


def test_a_metric_crossing_zero_keeps_both_margins() -> None:
    chart = line_chart("delta", _series(-1.0, 1.0), zero_based=False)
    labels = [float(label) for _, label in _ticks(chart)]
    assert labels == [-1.2, 0.0, 1.2]


@pytest.mark.parametrize(
    "values",
    [
        (0.9, 0.4, 0.1, 0.033),
        (0.8011, 0.8222, 0.8356),
        (-0.0123456, -123.456),
        (1234567.0, 7654321.0),
        (0.000012, 0.000031),
        (-98765.4321, 12.5),
    ],
)
def test_tick_labels_are_short_and_fit_the_left_margin(values: tuple[float, ...]) -> None:
    chart = line_chart("m", _series(*values), zero_based=False)
    ticks = _ticks(chart)
    assert len(ticks) == 3
    for x, label in ticks:
        mantissa = re.sub(r"(e[-+]?\d+|[kMGT])$", "", label).lstrip("-")
        if "." not in mantissa:
            mantissa = mantissa.rstrip("0")  # 9890: three significant digits
        assert len(mantissa.replace(".", "").lstrip("0")) <= 3, label
        assert x - _width(label) >= 0, (label, x)  # drawn right-aligned at x
    plot_left = float(re.search(r'<line x1="([0-9.]+)"', chart).group(1))  # type: ignore[union-attr]
    assert plot_left > max(x for x, _ in ticks)


def test_tick_labels_get_more_digits_only_when_three_would_repeat() -> None:
    chart = line_chart("steps", _series(1000.1, 1000.3), zero_based=False)
    labels = [label for _, label in _ticks(chart)]
    assert len(set(labels)) == 3, labels


def test_usage_charts_still_start_at_zero() -> None:
    chart = lines_chart("memory", [("algo-1", _series(300.0, 412.0))], " MiB")
    assert _ticks(chart)[0][1] == "0"


def test_number_is_short_and_stable() -> None:
    assert number(0.4107) == "0.4107"
    assert number(0.033, 3) == "0.033"
    assert number(1229.3, 3) == "1229"
    assert number(0.0) == "0"
    assert number(-0.06333, 3) == "-0.0633"


def test_tick_labels_are_three_significant_digits_with_a_suffix_for_large_values() -> None:
    assert tick_label(-0.06333) == "-0.0633"
    assert tick_label(0.0) == tick_label(-0.0) == "0"
    assert tick_label(0.8184) == "0.818"
    assert tick_label(412.0) == "412"
    assert tick_label(999.7) == "1000"
    assert tick_label(8192.0) == "8190"
    assert tick_label(12345.0) == "12.3k"
    assert tick_label(-592592.0) == "-593k"
    assert tick_label(7654321.0) == "7.65M"
    assert tick_label(3.2e9) == "3.2G"
    assert tick_label(0.000031) == "3.1e-5"
    assert tick_label(0.00012) == "0.00012"
    assert tick_label(1000.08, 5) == "1000.1"
