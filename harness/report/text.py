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


_MARKDOWN = re.compile(
    r"""
      [\\`*\[\]<|~&$]             # escapes, code, emphasis, links and images, HTML and
                                  # autolinks, table cells, strikethrough, entities, math
    | (?<![^\W_])_ | _(?![^\W_])  # `_` unless between two letters or digits (inert there)
    | (?<=@)(?=[A-Za-z0-9])       # @mention, user@host: a zero-width joiner goes in between
    | (?<=\#)(?=[0-9])            # #123, owner/repo#123: likewise
    """,
    re.VERBOSE,
)
_LINE_START = re.compile(r"[-+=#>]|[0-9]{1,9}(?=[.)])")
"""What makes a block of a line it starts (list item, heading, quote, setext underline,
ordered list): escaped only there."""
ZERO_WIDTH_JOINER = "\u200d"


def _escape_markdown(match: re.Match[str]) -> str:
    return "\\" + match.group() if match.group() else ZERO_WIDTH_JOINER


def markdown_inline(text: str) -> str:
    """`text` as inert Markdown on one line: GitHub (and any CommonMark renderer) shows the
    plain text and nothing else, in a list item, a table cell or mid-line.

    Quoted container text must not act on the page it lands on: `<!--` would hide the rest of
    a job summary, `![](URL)` fetch an image, `[x](URL)` make a link, `@team` notify people,
    `#12` put a reference into issue 12. So, after `plain_text`, line breaks are shown as ⏎
    and tabs as spaces, the text is trimmed (five spaces after `- ` make a code block), and
    a backslash goes before (GFM's escapes, which work for every ASCII punctuation character):

    - always: ``\\ ` * [ ] < | ~ & $`` (escapes, code, emphasis, links and images, raw HTML
      and autolinks, table cells, strikethrough, entities, GitHub's math);
    - `_` unless between two letters or digits, where it cannot emphasise (`train_loss`);
    - at the start only, where they would start a block: `- + = # >` and the `.` or `)` of
      `12.` (the text never starts a line elsewhere, being one line);
    - `!`, `#` and `>` elsewhere have no meaning once `[` and `<` are escaped, and stay as
      they are, so the raw file reads as the text.

    GitHub finds @mentions and #123 issue references in the HTML *after* Markdown, so a
    backslash cannot stop them (`\\@team` still pings); a zero-width joiner (U+200D) after the
    `@` or `#` does, invisibly: the only trace is in text copied out of the page. (A code span
    would stop them too, but would make every message monospace and still need its own
    escaping for backticks and `|`.) Bare URLs stay as GitHub autolinks them: the link shows
    exactly where it goes, and nothing is fetched.
    """
    text = plain_text(text).replace("\n", " ⏎ ").replace("\t", " ").strip()
    start = _LINE_START.match(text)
    escaped = _MARKDOWN.sub(_escape_markdown, text)
    if start:  # `escaped` starts with the same characters: none of them is escaped
        at = start.end() if start.group()[0].isdigit() else 0
        escaped = f"{escaped[:at]}\\{escaped[at:]}"
    return escaped


def markdown_code(text: str) -> str:
    """`text` as one Markdown code span, which nothing ends early and nothing inside acts:
    the fence is one backtick longer than the longest run of them in `text` (not for table
    cells, where `|` would still end the cell)."""
    text = plain_text(text).replace("\n", " ").replace("\t", " ")
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""  # CommonMark strips one each side
    return f"{fence}{pad}{text}{pad}{fence}"


def html_text(text: str) -> str:
    """`text` escaped for HTML (quotes too: it also goes into attributes), made plain first:
    report.html embeds container output verbatim."""
    return html.escape(plain_text(text))
