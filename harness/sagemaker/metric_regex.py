"""Static analysis of a MetricDefinition regex: does it compile, how many groups, is it safe?

SageMaker takes a metric's value from the first capture group of its regex and does not document
its regex engine, so a pattern that backtracks exponentially (a quantified group that itself
contains an unbounded quantifier, such as `(\\d+)+`) may hang or be cut off there. The same
analysis serves the static lint (SPEC-SEMANTICS) and the log extractor.
"""

from __future__ import annotations

import re
import re._constants as sre_constants  # the stdlib parser gives a structural view of a pattern
import re._parser as sre_parse
from dataclasses import dataclass
from typing import Any

import regex


@dataclass(frozen=True)
class MetricRegexAnalysis:
    """What the lint knows about one pattern; `compile_error` set means nothing else is."""

    compile_error: str | None
    capture_groups: int
    nested_quantifier: str | None
    """The offending fragment when the pattern can backtrack exponentially, else None."""


def analyse_metric_regex(pattern: str) -> MetricRegexAnalysis:
    try:
        compiled = regex.compile(pattern)
    except regex.error as exc:
        return MetricRegexAnalysis(str(exc), 0, None)
    return MetricRegexAnalysis(None, compiled.groups, _find_nested_quantifier(pattern))


_UNBOUNDED = sre_constants.MAXREPEAT
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)


def _find_nested_quantifier(pattern: str) -> str | None:
    try:
        tree = sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        # `\p{..}` and other `regex`-only syntax: fall back to a textual look at the pattern.
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
