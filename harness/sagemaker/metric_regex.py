"""MetricDefinition regexes: static analysis (the lint) and compilation (the log extractor).

SageMaker takes a metric's value from the first capture group of its regex and does not document
its regex engine, so a pattern that backtracks exponentially (a quantified group that itself
contains an unbounded quantifier, such as `(\\d+)+`) may hang or be cut off there. The same
analysis serves the static lint (SPEC-SEMANTICS) and the extractor (sagemaker/metrics.py):
whether RE2 accepts the pattern (then matching takes linear time) and the literal text every
match must contain (the extractor's prefilter, and the word it looks for in near misses).
"""

from __future__ import annotations

import re
import re._constants as sre_constants  # the stdlib parser gives a structural view of a pattern
import re._parser as sre_parse
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import re2
import regex

UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED
"""The anchor argument of `Match` on google-re2's low-level objects for a search."""


@dataclass(frozen=True)
class MetricRegexAnalysis:
    """What the lint knows about one pattern; `compile_error` set means nothing else is."""

    compile_error: str | None
    capture_groups: int
    nested_quantifier: str | None
    """The offending fragment when the pattern can backtrack exponentially, else None."""
    re2_error: str | None = None
    """Why RE2 refuses the pattern (lookaround, backreference, possessive...), else None."""
    required_literal: str | None = None
    """Text every match contains (None when there is none or the parsers may disagree)."""


def analyse_metric_regex(pattern: str) -> MetricRegexAnalysis:
    try:
        compiled = regex.compile(pattern)
    except regex.error as exc:
        return MetricRegexAnalysis(str(exc), 0, None, re2_error(pattern))
    return MetricRegexAnalysis(
        None,
        compiled.groups,
        _find_nested_quantifier(pattern),
        re2_error(pattern),
        required_literal(pattern),
    )


def re2_options(*, never_nl: bool = False) -> Any:
    """RE2 options for metric regexes: errors are returned, never logged to stderr.

    `never_nl` keeps every match inside one line when a whole block of lines is searched at once.
    """
    options = re2.Options()
    options.log_errors = False
    options.never_nl = never_nl
    return options


def compile_re2(pattern: str, *, never_nl: bool = False) -> tuple[Any, str | None]:
    """The low-level RE2 object for `pattern` and None, or None and RE2's reason for refusing it.

    google-re2's `re2.compile` wraps every search in a generator that maps UTF-8 offsets back to
    str offsets: three times the cost of the search itself. The extractor searches bytes, so it
    calls `Match(anchor, text, pos, endpos)` on this object, which returns the span of the whole
    match and of each group ((-1, -1) for none). This google-re2 raises on unsupported syntax
    and never falls back to another engine (tested).
    """
    compiled = re2._re2.RE2(
        pattern.encode("utf-8", "surrogatepass"), re2_options(never_nl=never_nl)
    )
    if compiled.ok():
        return compiled, None
    return None, bytes(compiled.error()).decode("utf-8", "replace")


def re2_error(pattern: str) -> str | None:
    return compile_re2(pattern)[1]


_UNBOUNDED = sre_constants.MAXREPEAT
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)


def _parse(pattern: str) -> Any:
    """Python's parse tree of `pattern`, or None for `regex`-only syntax such as `\\p{..}`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FutureWarning "possible nested set" and the like
            return sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        return None


def _find_nested_quantifier(pattern: str) -> str | None:
    tree = _parse(pattern)
    if tree is None:  # fall back to a textual look at the pattern
        match = _TEXTUAL_NESTED.search(pattern)
        return match.group() if match else None
    return _nested_in(tree, inside_repeat=False, pattern=pattern)


def _nested_in(items: Any, *, inside_repeat: bool, pattern: str) -> str | None:
    for op, arg in items:
        if op in _REPEATS:
            _low, high, body = arg
            repeats_many = high == _UNBOUNDED or high > 1
            if inside_repeat and high == _UNBOUNDED:
                return _describe(pattern)
            found = _nested_in(body, inside_repeat=inside_repeat or repeats_many, pattern=pattern)
            if found:
                return found
        elif op == _POSSESSIVE or op == sre_constants.ATOMIC_GROUP:
            continue  # possessive and atomic parts never backtrack into themselves
        elif op == sre_constants.SUBPATTERN:
            found = _nested_in(arg[-1], inside_repeat=inside_repeat, pattern=pattern)
            if found:
                return found
        elif op == sre_constants.BRANCH:
            for branch in arg[1]:
                found = _nested_in(branch, inside_repeat=inside_repeat, pattern=pattern)
                if found:
                    return found
    return None


# `( ... + ... )+`, `( ... * ... ){2,}` and the like, read from the text.
_TEXTUAL_NESTED = re.compile(r"\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})")


def _describe(pattern: str) -> str:
    match = _TEXTUAL_NESTED.search(pattern)
    return match.group() if match else pattern


def literal_runs(pattern: str) -> list[str] | None:
    """Every run of literal text that each match of `pattern` contains, or None if unknown.

    Read from Python's parser, so a pattern that RE2 or `regex` may read differently (POSIX
    classes such as `[[:digit:]]`, `{,n}`, fuzzy `{e<=1}`), or one that ignores case, yields None:
    a literal that a match need not contain would make the extractor skip lines that match.
    """
    tree = None if _MAY_PARSE_DIFFERENTLY.search(pattern) else _parse(pattern)
    if tree is None or tree.state.flags & re.IGNORECASE:
        return None
    runs: list[str] = []
    current = _literal_tokens(tree, runs)
    runs.append(current)
    return [run for run in runs if run]


def required_literal(pattern: str) -> str | None:
    """The longest of `literal_runs` (in UTF-8 bytes, what the extractor searches)."""
    runs = literal_runs(pattern)
    if not runs:
        return None
    return max(runs, key=lambda run: len(run.encode("utf-8", "surrogatepass")))


def literal_word(pattern: str) -> str | None:
    """The longest word of the pattern's literal text (`Train_error` in `Train_error=(.*?);`).

    Lines that contain it, in any case, are the near misses shown when a metric never matches;
    for a pattern Python cannot parse, the words are read from the text, escapes removed.
    """
    runs = literal_runs(pattern)
    text = " ".join(runs) if runs is not None else _NOT_LITERAL.sub(" ", pattern)
    words = _WORD.findall(text)
    return max(words, key=len) if words else None


# POSIX classes, `{,n}` (a quantifier to Python, literal text to RE2) and any other brace that is
# not a counted repeat (`regex` reads `{e<=1}` as fuzzy matching): literals are not trusted.
_MAY_PARSE_DIFFERENTLY = re.compile(r"\[:|(?<!\\)\{(?!\d+(?:,\d*)?\})")
_NOT_LITERAL = re.compile(r"\\[pPNxuUg]\{[^}]*\}|\\.|\[[^\]]*\]|\{[^}]*\}|\(\?[^:)]*")
_WORD = re.compile(r"[^\W\d]\w{2,}")


def _literal_tokens(items: Any, runs: list[str], current: str = "") -> str:
    """Extends `current` with the literal run at the start of `items`, closing runs into `runs`.

    Returns the run still open at the end, so a group's text joins its neighbours' (`loss=(0.`).
    """
    for op, arg in items:
        if op == sre_constants.LITERAL:
            current += chr(arg)
        elif op == sre_constants.SUBPATTERN and not arg[1] & sre_constants.SRE_FLAG_IGNORECASE:
            current = _literal_tokens(arg[-1], runs, current)
        elif op == sre_constants.ATOMIC_GROUP:
            current = _literal_tokens(arg, runs, current)
        elif op in _REPEATS or op == _POSSESSIVE:
            low, high, body = arg
            if low == high == 1:
                current = _literal_tokens(body, runs, current)
                continue
            runs.append(current)
            current = ""
            if low >= 1:  # the body occurs at least once: its own runs are required
                runs.append(_literal_tokens(body, runs))
        else:  # classes, alternatives, anchors, lookarounds, backreferences: no known text
            runs.append(current)
            current = ""
    return current


@dataclass(frozen=True)
class MetricPattern:
    """A metric regex compiled for the extractor: RE2 where it accepts the pattern, else `regex`.

    `line_re2` and `block_re2` are google-re2's low-level objects (see `compile_re2`);
    `block_re2` is the pattern in multi-line mode, never matching a newline, for searching a
    block of lines at once (None where `\\A` or `\\z` would mean the block's ends).
    """

    source: str
    groups: int
    line_re2: Any = None
    block_re2: Any = None
    fallback: regex.Pattern[str] | None = None
    runs: tuple[bytes, ...] = ()
    """Literal texts (UTF-8) every match contains, less `literal`."""
    literal: bytes | None = None
    """The run the extractor's prefilter looks for, set by `choose_literals`."""
    word: str | None = None
    error: str | None = None
    """Why neither engine compiles the pattern."""

    @property
    def engine(self) -> str:
        return "re2" if self.line_re2 is not None else "regex" if self.fallback else "none"


def compile_metric_regex(source: str) -> MetricPattern:
    runs = tuple(r.encode("utf-8", "surrogatepass") for r in literal_runs(source) or () if r)
    word = literal_word(source)
    line_re2, refused = compile_re2(source)
    if line_re2 is not None:
        block_re2 = None
        if not re.search(r"\\[Az]", source):
            block_re2 = compile_re2("(?m)" + source, never_nl=True)[0]
        groups = line_re2.NumberOfCapturingGroups()
        return MetricPattern(source, groups, line_re2, block_re2, runs=runs, word=word)
    try:
        fallback = regex.compile(source)
    except regex.error as exc:
        return MetricPattern(source, 0, word=word, error=f"{exc} (RE2: {refused})")
    return MetricPattern(source, fallback.groups, fallback=fallback, runs=runs, word=word)


def choose_literals(patterns: Sequence[MetricPattern], min_length: int) -> list[MetricPattern]:
    """Gives each pattern the prefilter literal that singles it out best, when it has one.

    That is its longest run of at least `min_length` bytes that no other pattern shares, else its
    longest: ten definitions whose longest run is `#quality_metric: host=` are told apart by
    their `train_loss <score>=`. A run holding a newline cannot occur in a line: never chosen.
    """
    shared: dict[bytes, int] = {}
    for pattern in patterns:
        for run in set(pattern.runs):
            shared[run] = shared.get(run, 0) + 1
    chosen = []
    for pattern in patterns:
        runs = [r for r in pattern.runs if len(r) >= min_length and b"\n" not in r]
        if not runs or pattern.error:
            chosen.append(pattern)
            continue
        literal = max(runs, key=lambda run: (shared[run] == 1, len(run)))
        others = tuple(run for run in dict.fromkeys(pattern.runs) if run != literal)
        chosen.append(replace(pattern, literal=literal, runs=others))
    return chosen


class LiteralIndex:
    """Finds the lines of a block that contain any of some literals, and which ones they hold.

    One RE2 search for their alternation jumps from one such line to the next; an RE2 set then
    names every literal on that line (they can overlap: `val_loss=` holds `loss=`).
    """

    def __init__(self, literals: Sequence[bytes], *, ignore_case: bool = False) -> None:
        options = re2_options()
        options.case_sensitive = not ignore_case
        escaped = [re2.escape(literal) for literal in literals]
        self._search = re2._re2.RE2(b"|".join(escaped), options).Match
        members = re2._re2.Set(UNANCHORED, options)
        for pattern in escaped:
            members.Add(pattern)
        members.Compile()
        self._members = members.Match

    def lines(self, data: bytes) -> Iterator[tuple[bytes, list[int]]]:
        """(line, indexes of the literals it holds) for each line of `data` holding any."""
        if b"\n" not in data:  # one line: the set alone answers
            hits = self._members(data)
            if hits:
                yield data, hits
            return
        search, members, end, pos = self._search, self._members, len(data), 0
        while pos <= end:
            hit = search(UNANCHORED, data, pos, end)[0][0]
            if hit < 0:
                return
            start = max(data.rfind(b"\n", pos, hit) + 1, pos)
            stop = data.find(b"\n", hit, end)
            if stop < 0:
                stop = end
            line = data[start:stop]
            yield line, members(line)
            pos = stop + 1
