"""Metric extraction from literal log lines: formats, streams, hosts, engines, bounds, threads."""

from __future__ import annotations

import json
import threading
import time

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.sagemaker.metric_regex import (
    compile_metric_regex,
    compile_re2,
    literal_runs,
    literal_word,
    required_literal,
)
from harness.sagemaker.metrics import (
    MetricDefinition,
    MetricExtractor,
    MetricSeries,
    metric_values,
    parse_metric_value,
)

NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def extract(
    definitions: dict[str, str], lines: list[str], **options: float
) -> dict[str, MetricSeries]:
    extractor = MetricExtractor(
        [MetricDefinition(n, r) for n, r in definitions.items()],
        **options,  # type: ignore[arg-type]
    )
    for t, line in enumerate(lines):
        extractor.feed("algo-1", "stdout", float(t), line)
    return {s.name: s for s in extractor.results()}


def run_guarded(function, seconds: float = 10.0) -> None:
    """Runs `function` in a thread and fails the test if it has not returned within `seconds`."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            function()
        except BaseException as exc:  # handed back to the test
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if errors:
        raise errors[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42.0),
        ("-3", -3.0),
        ("+0.5", 0.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("-1.25", -1.25),
        ("1e-05", 1e-05),
        ("2.5E+3", 2500.0),
        ("7E-5", 7e-05),
        ("  0.75 ", 0.75),
        ("93%", None),
        ("1,234", None),
        ("1_000", None),
        ("nan", None),
        ("inf", None),
        ("-Infinity", None),
        ("1e999", None),
        ("", None),
        ("0x10", None),
        ("١٢", None),
        ("N/A", None),
    ],
)
def test_parse_metric_value(text, value):
    assert parse_metric_value(text) == value


@pytest.mark.parametrize(
    ("regex_", "line", "value"),
    [
        ("epoch=" + r"(\d+)", "[12:00] epoch=17 done", 17.0),
        ("loss=" + NUMBER, "step 3 loss=-0.0421", -0.0421),
        ("lr=" + NUMBER, "lr=1e-05 warmup", 1e-05),
        ("lr=" + NUMBER, "lr=2.5E+3", 2500.0),
        (r"accuracy: ([0-9.]+)%", "validation accuracy: 93.5% (best)", 93.5),
        (r"delta=(\S+)", "delta=+0.5", 0.5),
        (r"train-rmse:([0-9.]+)", "[12]#011train-rmse:0.1234#011validation-rmse:0.2345", 0.1234),
        (r"loss = (.*?);", "Train loss = 0.3;", 0.3),
    ],
    ids=["integer", "negative", "exponent", "exponent-upper", "percent", "plus", "xgb", "lazy"],
)
def test_number_formats_in_log_lines(regex_, line, value):
    series = extract({"m": regex_}, [line])["m"]
    assert series.values() == [value]
    assert series.final == value
    assert series.engine == "re2"


def test_exponent_values_are_kept_and_sampled():
    series = extract({"lr": "lr=" + NUMBER}, ["lr=1e-05", "lr=0.001", "lr=2.5E+3"])["lr"]
    assert series.values() == [1e-05, 0.001, 2500.0]
    assert series.exponent_samples == ("1e-05", "2.5E+3")


def test_non_numeric_captures_are_counted_with_samples():
    series = extract(
        {"acc": r"acc: (\S+)"},
        ["acc: 93%", "acc: 0.9", "acc: 1,234", "acc: nan", "acc: 93%"],
    )["acc"]
    assert series.values() == [0.9]
    assert (series.matches, series.non_numeric, series.count) == (5, 4, 1)
    assert series.non_numeric_samples == ("'93%'", "'1,234'", "'nan'")


def test_a_regex_without_a_group_captures_nothing():
    series = extract({"m": r"loss=\d+", "o": r"loss=(\d+)?x"}, ["loss=3", "loss=x"])
    assert series["m"].non_numeric_samples == ("(the regex has no capture group)",)
    assert series["o"].non_numeric_samples == ("(group 1 took no part in the match)",)
    assert series["m"].count == series["o"].count == 0


def test_a_tab_reads_as_sagemaker_shows_it():
    builtin = r".*\[[0-9]+\].*#011validation-rmse:" + NUMBER + ".*"
    lines = ["[3]\ttrain-rmse:0.5\tvalidation-rmse:0.75", "[4]#011validation-rmse:0.5"]
    series = extract(
        {"builtin": builtin, "tab": r"train-rmse:(\S+)\t", "rest": r"rmse:(\S+)"}, lines
    )
    assert series["builtin"].values() == [0.75, 0.5]
    assert series["tab"].matches == 0
    assert series["rest"].non_numeric_samples == ("'0.5#011validation-rmse:0.75'",)
    extractor = MetricExtractor([MetricDefinition("builtin", builtin)])
    extractor.feed_text("algo-1", "stdout", 0.0, "\n".join(lines))
    assert extractor.results()[0].values() == [0.75, 0.5]


def test_search_not_full_match_and_one_value_per_line_the_leftmost():
    series = extract(
        {"loss": r"loss=(\d+)", "val": r"val_loss=(\d+)"},
        ["epoch 1 loss=5 val_loss=7 loss=9"],
    )
    assert series["loss"].values() == [5.0]
    assert series["val"].values() == [7.0]


def test_every_host_and_both_streams_are_read():
    extractor = MetricExtractor([MetricDefinition("loss", r"loss=([0-9.]+)")])
    extractor.feed("algo-1", "stdout", 1.0, "loss=0.5")
    extractor.feed("algo-2", "stderr", 2.0, "WARNING loss=0.25")
    extractor.feed_text("algo-1", "stderr", 3.0, "noise\nloss=0.125\n")
    extractor.feed("algo-3", "stdout", 4.0, "nothing here")
    series = extractor.results()[0]
    assert [(p.host, p.stream, p.t, p.value) for p in series.points] == [
        ("algo-1", "stdout", 1.0, 0.5),
        ("algo-2", "stderr", 2.0, 0.25),
        ("algo-1", "stderr", 3.0, 0.125),
    ]
    assert series.hosts == ("algo-1", "algo-2")
    assert series.hosts_seen == ("algo-1", "algo-2", "algo-3")
    report = series.to_dict()
    assert report["per_host"] == {
        "algo-1": {"count": 2, "final": 0.125},
        "algo-2": {"count": 1, "final": 0.25},
    }
    assert report["values"] == [0.5, 0.25, 0.125]
    assert report["final"] == 0.125
    json.dumps(report, allow_nan=False)
    assert metric_values(extractor.results()) == {"loss": [0.5, 0.25, 0.125]}


def test_near_misses_share_the_literal_text_when_nothing_matched():
    series = extract(
        {"err": r"Train_error=(.*?);", "loss": r"loss=([0-9.]+)"},
        ["train_error = 0.3;", "epoch 1", "Train_error=0.3", "loss=1", "loss: 2"],
    )
    assert series["err"].matches == 0
    assert series["err"].near_misses == ("train_error = 0.3;", "Train_error=0.3")
    assert series["loss"].near_misses == ()


def test_nothing_close_means_no_near_misses():
    assert extract({"x": r"Xyzzy=(\d+)"}, ["loss=1", "epoch 2"])["x"].near_misses == ()


def test_crlf_and_blocks_give_the_same_values_as_single_lines():
    definitions = {"loss": r"loss=(\d+)$", "step": r"^step (\d+)", "any": r"=(\d+)"}
    text = "step 1 loss=10\r\nstep 2 loss=20 x\r\nloss=30\r\n\r\n"
    extractor = MetricExtractor([MetricDefinition(n, r) for n, r in definitions.items()])
    extractor.feed_text("algo-1", "stdout", 0.0, text)
    by_block = metric_values(extractor.results())
    by_line = metric_values(extract(definitions, text.split("\r\n")).values())
    assert by_block == by_line == {"loss": [10.0, 30.0], "step": [1.0, 2.0], "any": [10, 20, 30]}


def test_anchors_mean_the_line_for_patterns_searched_line_by_line():
    series = extract({"a": r"\Aloss=(\d+)\z", "b": r"(?<=^acc )(\d+)$"}, ["loss=1", "xloss=2"])
    assert series["a"].values() == [1.0]
    series = extract({"b": r"(?<=^acc )(\d+)$"}, ["acc 5", "x acc 6", "acc 7 x"])
    assert series["b"].engine == "regex"
    assert series["b"].values() == [5.0]


def test_non_ascii_lines_and_long_lines():
    series = extract(
        {"loss": r"pérte=([0-9.]+)"}, ["époque 1 pérte=0.5", "x" * 1_000_000 + " pérte=2"]
    )
    assert series["loss"].values() == [0.5, 2.0]


def test_empty_input():
    extractor = MetricExtractor([MetricDefinition("e", r"^(\d*)$")])
    extractor.feed_text("algo-1", "stdout", 0.0, "")
    assert extractor.results()[0].matches == 0
    extractor.feed("algo-1", "stdout", 0.0, "")
    assert extractor.results()[0].non_numeric_samples == ("''",)


def test_points_are_bounded_and_keep_first_last_min_and_max():
    values = [float((i * 37) % 1000) for i in range(10_000)]
    values[5000], values[7777] = -5.0, 5000.0
    extractor = MetricExtractor([MetricDefinition("v", r"v=(\S+)")], max_points=50)
    extractor.feed_text("algo-1", "stdout", 0.0, "".join(f"v={v}\n" for v in values))
    series = extractor.results()[0]
    kept = series.values()
    assert len(kept) <= 50
    assert series.count == 10_000
    assert kept[0] == values[0]
    assert series.final == values[-1]
    assert min(kept) == -5.0
    assert max(kept) == 5000.0
    assert [p.t for p in series.points] == sorted(p.t for p in series.points)


def test_max_points_must_hold_the_kept_extremes():
    with pytest.raises(ValueError, match="max_points"):
        MetricExtractor([], max_points=3)


def test_feeding_from_several_threads_loses_nothing():
    extractor = MetricExtractor(
        [MetricDefinition("loss", r"loss=(\d+)"), MetricDefinition("acc", r"(?<=acc=)(\d+)")]
    )

    def reader(host: str) -> None:
        for i in range(2000):
            if i % 2:
                extractor.feed(host, "stdout", float(i), f"step {i} loss={i} acc={i}")
            else:
                extractor.feed_text(host, "stderr", float(i), f"noise\nloss={i}\nacc={i}\n")

    threads = [threading.Thread(target=reader, args=(f"algo-{n}",)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for series in extractor.results():
        assert series.count == 8000
        assert {h.host: h.count for h in series.per_host} == {
            f"algo-{n}": 2000 for n in range(1, 5)
        }


# Each holds the literal text its pattern needs, so the prefilter cannot spare the regex the work.
ADVERSARIAL = (
    ["a" * 5000 + "!"] * 100
    + ["a" * 5000 + "!b"] * 100
    + ["x" * 5000 + "y0"] * 100
    + ["word " * 1000 + "!"] * 50
)


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(x+x+)+y", r"^(\w+\s?)*$!", r"(a|aa)+b", r"(.*a){20}b", r"(\d+)+(\d+)+x"],
)
def test_catastrophic_patterns_run_in_linear_time_on_re2(pattern):
    results: dict[str, MetricSeries] = {}

    def work() -> None:
        extractor = MetricExtractor([MetricDefinition("bad", pattern)])
        extractor.feed_text("algo-1", "stdout", 0.0, "\n".join(ADVERSARIAL))
        for line in ADVERSARIAL[:20]:
            extractor.feed("algo-1", "stdout", 0.0, line)
        results["bad"] = extractor.results()[0]

    started = time.monotonic()
    run_guarded(work, seconds=10)
    assert time.monotonic() - started < 5
    assert results["bad"].engine == "re2"
    assert results["bad"].unsafe is None


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+(?=b)", r"((a+)+)\2b", r"(x+x+)+y(?=1)", r"(.*a){20}(?=b)"],
    ids=["lookahead", "backreference", "nested-lookahead", "counted-lookahead"],
)
def test_catastrophic_patterns_outside_re2_are_abandoned_as_unsafe(pattern):
    results: dict[str, MetricSeries] = {}

    def work() -> None:
        extractor = MetricExtractor(
            [MetricDefinition("bad", pattern), MetricDefinition("loss", r"loss=(\d+)")]
        )
        extractor.feed_text("algo-1", "stdout", 0.0, "loss=1\n" + "\n".join(ADVERSARIAL))
        extractor.feed("algo-1", "stdout", 1.0, "loss=2")
        results.update((s.name, s) for s in extractor.results())

    run_guarded(work, seconds=10)
    assert results["bad"].engine == "regex"
    assert results["bad"].unsafe is not None
    assert "catastrophic backtracking" in results["bad"].unsafe
    assert results["bad"].near_misses == ()
    assert results["loss"].values() == [1.0, 2.0]


def test_a_slow_pattern_outside_re2_is_abandoned_on_its_time_budget():
    ticks = iter(range(0, 10_000, 3))
    extractor = MetricExtractor(
        [MetricDefinition("slow", r"(?<=v=)(\d+)"), MetricDefinition("fast", r"v=(\d+)")],
        clock=lambda: float(next(ticks)),
    )
    for i in range(10):
        extractor.feed("algo-1", "stdout", float(i), f"v={i}")
    slow, fast = extractor.results()
    assert slow.unsafe is not None
    assert "slower than 1 MB/s" in slow.unsafe
    assert slow.count == 1
    assert fast.count == 10


def test_a_pattern_no_engine_compiles_is_reported_and_skipped():
    series = extract({"broken": r"loss=([0-9", "loss": r"loss=(\d+)"}, ["loss=3"])
    assert series["broken"].engine == "none"
    assert series["broken"].unsafe is not None
    assert series["broken"].unsafe.startswith("the regex does not compile")
    assert series["loss"].values() == [3.0]


@pytest.mark.parametrize(
    ("pattern", "engine"),
    [
        (r"loss=(\d+)", "re2"),
        (r"\p{L}+=(\d+)", "re2"),
        (r"(?P<v>\d+)", "re2"),
        (r"(?<=loss=)(\d+)", "regex"),
        (r"(?=loss)loss=(\d+)", "regex"),
        (r"(a)\1=(\d+)", "regex"),
        (r"a++=(\d+)", "regex"),
        (r"(?>a+)=(\d+)", "regex"),
        (r"loss=(\d+)\Z", "regex"),
    ],
)
def test_re2_runs_what_it_accepts_and_never_falls_back_silently(pattern, engine):
    assert compile_metric_regex(pattern).engine == engine
    assert (compile_re2(pattern)[1] is None) == (engine == "re2")


@pytest.mark.parametrize(
    ("pattern", "runs", "literal", "word"),
    [
        (r"loss=(\d+)", ["loss="], "loss=", "loss"),
        (r"loss=(0\.\d+)", ["loss=0."], "loss=0.", "loss"),
        (r"Train_error=(.*?);", ["Train_error=", ";"], "Train_error=", "Train_error"),
        (r"epoch (\d+) val acc: (\S+)", ["epoch ", " val acc: "], " val acc: ", "epoch"),
        (r"(?:loss=)+(\d+)", ["loss="], "loss=", "loss"),
        (r"(?i)loss=(\d+)", None, None, "loss"),
        (r"(?i:loss)=(\d+)", ["="], "=", None),
        (r"[[:digit:]]loss", None, None, "loss"),
        (r"loss{,3}=(\d+)", None, None, "loss"),
        (r"(?:loss){e<=1}=(\d+)", None, None, "loss"),
        (r"\p{L}+_loss=(\d+)", None, None, "_loss"),
        (r"(loss|acc)=(\d+)", ["="], "=", None),
    ],
)
def test_literal_text_every_match_contains(pattern, runs, literal, word):
    assert literal_runs(pattern) == runs
    assert required_literal(pattern) == literal
    assert literal_word(pattern) == word


LINES = st.lists(
    st.text(alphabet="ab=1.-e \r\tλ", max_size=12).map(lambda s: s.replace("\r", "")),
    max_size=12,
)
PATTERNS = [
    r"a=([-0-9.e]+)",
    r"=(\d*)",
    r"^b(\d)",
    r"(\d+)$",
    r"(?<=a)=(\d+)",
    r"\Aa(.)",
    r"(a+)+=(\d)",
    r"ab= (\S+)",
    r"λ(\d)",
    r"\s(\d+)\s",
    r"#011(\d)",
]


@settings(max_examples=200, deadline=None)
@given(LINES)
def test_blocks_lines_and_a_reference_search_agree(lines):
    """The prefilter, block search and line search give what `regex` per line gives."""
    definitions = {f"p{i}": p for i, p in enumerate(PATTERNS)}
    expected: dict[str, list[float]] = {}
    for name, pattern in definitions.items():
        compiled = regex.compile(pattern)
        expected[name] = []
        for line in lines:
            match = compiled.search(line.replace("\t", "#011"))
            value = parse_metric_value(match.group(1) or "") if match else None
            if value is not None:
                expected[name].append(value)
    by_line = metric_values(extract(definitions, lines).values())
    block = MetricExtractor([MetricDefinition(n, p) for n, p in definitions.items()])
    block.feed_text("algo-1", "stdout", 0.0, "".join(line + "\n" for line in lines))
    assert by_line == expected
    assert metric_values(block.results()) == expected
