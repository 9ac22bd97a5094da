""" "Did you mean ...?" for misspelt keys, enum values and names."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """A hint naming the closest choices to `word`, or None when nothing is close."""
    folded = {choice.lower(): choice for choice in choices}
    if word.lower() in folded and folded[word.lower()] != word:
        return f"did you mean {folded[word.lower()]!r}? (names are case-sensitive)"
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return None
