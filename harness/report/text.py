"""Text the harness did not write (a container's failure file, log lines, Docker's messages)
made safe for the reports that embed it.

Check messages carry such text verbatim: TRAIN-FAILURE-REASON quotes /opt/ml/output/failure,
TRAIN-METRICS the log lines that nearly matched. A program with colored logging writes ANSI
escape sequences (noise everywhere but a terminal), and a control character such as NUL or
ESC makes junit.xml invalid XML: XML 1.0 allows only tab, newline, carriage return and the
characters from U+0020 on, less the surrogates and U+FFFE/U+FFFF.
"""

from __future__ import annotations

import html
import re

_ANSI = re.compile(
    r"""
      \x1b\[[0-?]*[\ -/]*[@-~]              # CSI: colors, cursor moves, erase line
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)   # OSC: window title, hyperlinks (BEL or ST ends it)
    | \x1b[@-Z\\-_]                         # the other two-character escapes
    """,
    re.VERBOSE,
)
# Illegal in XML 1.0, plus DEL and the C1 controls (legal but "discouraged" there, illegal
# unescaped in XML 1.1, and as invisible as the rest).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def plain_text(text: str) -> str:
    """`text` without ANSI escape sequences, with line ends as `\\n` (a parser turns a `\\r\\n`
    in element text into `\\n` anyway), and every other control character as U+FFFD, which
    shows that something was there."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(REPLACEMENT, text)


def markdown_inline(text: str) -> str:
    """`text` as one line of Markdown that cannot end a list item or a table cell early:
    plain, line breaks shown as ⏎, tabs as spaces, `|` escaped (GitHub and GitLab render `\\|`
    as `|`, in a table cell and elsewhere)."""
    text = plain_text(text).replace("\n", " ⏎ ").replace("\t", " ")
    return text.replace("\\|", "|").replace("|", "\\|")  # escaped once, even if it was


def html_text(text: str) -> str:
    """`text` escaped for HTML (quotes too: it also goes into attributes), made plain first:
    report.html embeds container output verbatim."""
    return html.escape(plain_text(text))
