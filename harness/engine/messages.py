"""Docker SDK errors as one short line for the harness's own error messages."""

from __future__ import annotations


def short_message(exc: Exception) -> str:
    """The daemon's explanation (or the exception's text), first line only."""
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc)
    return text.splitlines()[0] if text else type(exc).__name__
