"""report.html as a browser draws it: headless Chromium renders the sample report of
tests/unit/report/sample_report.py (a failing run) and a passing variant of it.

- `--dump-dom`: the DOM Chromium built has the verdict banner, the matrix, every check ID, the
  SVG charts and the collapsed log excerpts, nested as the renderer meant (no tag left open).
- `--screenshot` at 1280 x 2200 (a laptop screen, scrolled): a valid PNG, not blank, whose
  banner is the verdict's colour (pass #1f7a3f, fail #b42318) and whose page margins are the
  page background. The PNG is decoded here with zlib and struct (no imaging library).

Chromium is the Debian package `chromium` (`.ci/run` and `scripts/setup-host.sh` install it);
`HARNESS_CHROMIUM` names another binary. Without one these tests skip, unless `--require-docker`
(on by default under CI=true) makes that a failure, as it does for a missing Docker daemon.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.checks.results import CheckStatus
from harness.cli import main
from harness.errors import ExitCode
from harness.report.html import render_html
from harness.report.model import RunReport
from tests.unit.report.sample_report import SAMPLE_LOG_EXCERPTS, SAMPLE_REPORT

from .test_run import published

__all__ = ["published"]  # the session fixture, shared with test_run

WIDTH, HEIGHT = 1280, 2200
PASS_GREEN = (0x1F, 0x7A, 0x3F)
FAIL_RED = (0xB4, 0x23, 0x18)
BACKGROUND = (0xF4, 0xF5, 0xF7)
CHROMIUM_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest) -> str:
    named = os.environ.get("HARNESS_CHROMIUM")
    found = named or next(
        (path for name in ("chromium", "chromium-browser") if (path := shutil.which(name))), None
    )
    if not found:
        reason = "no headless Chromium (apt-get install chromium, or set HARNESS_CHROMIUM)"
        if request.config.getoption("--require-docker"):
            pytest.fail(f"--require-docker: {reason}")
        pytest.skip(reason)
    return found


def _run_chromium(binary: str, work: Path, *args: str) -> bytes:
    """Run headless Chromium in its own session and profile under `work`; its stdout."""
    command = [
        binary,
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--force-color-profile=srgb",
        f"--user-data-dir={work / 'profile'}",
        *args,
    ]
    env = {**os.environ, "HOME": str(work), "XDG_CONFIG_HOME": str(work / "config")}
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=work,
        start_new_session=True,  # its helper processes go with it on a timeout
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=CHROMIUM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"chromium did not finish within {CHROMIUM_TIMEOUT_S} s: {command}")
    if process.returncode != 0:
        tail = stderr.decode(errors="replace")[-2000:]
        pytest.fail(f"chromium exited {process.returncode}: {command}\n{tail}")
    return stdout


def _page(report: RunReport, work: Path, name: str, excerpts: dict[str, str]) -> str:
    path = work / name
    path.write_text(render_html(report, excerpts), encoding="utf-8")
    return path.as_uri()


def _screenshot(binary: str, work: Path, url: str) -> bytes:
    target = work / "screenshot.png"
    _run_chromium(binary, work, f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={target}", url)
    assert target.is_file(), "chromium wrote no screenshot"
    return target.read_bytes()


# --- a PNG decoder: 8-bit RGB or RGBA, not interlaced (what Chromium writes) ------------------


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        at = x * self.channels
        r, g, b = self.rows[y][at : at + 3]
        return (r, g, b)


def _unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> None:
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = prev[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + best) & 0xFF
        else:
            raise AssertionError(f"PNG filter type {kind} does not exist")


def decode_png(data: bytes) -> Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, header, compressed = 8, b"", []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in the {kind!r} chunk"
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), f"unexpected PNG: depth {depth}, interlace {interlace}"
    channels = {2: 3, 6: 4}.get(colour)
    assert channels is not None, f"unexpected PNG colour type {colour}"
    raw = zlib.decompress(b"".join(compressed))
    stride = width * channels
    assert len(raw) == height * (stride + 1), "PNG data does not fill the image"
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], line, prev, channels)
        prev = bytes(line)
        rows.append(prev)
    return Image(width, height, channels, rows)


def _close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 3) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _check_screenshot(png: bytes, verdict_colour: tuple[int, int, int]) -> None:
    image = decode_png(png)
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    grid = Counter(image.pixel(x, y) for y in range(0, HEIGHT, 11) for x in range(0, WIDTH, 7))
    assert len(grid) > 50, f"the page looks blank: {len(grid)} colours"
    commonest, share = grid.most_common(1)[0]
    assert share < 0.8 * sum(grid.values()), f"the page is mostly one colour, {commonest}"
    # The banner: 24 px below the top, inside the centred 1200 px column, about 120 px high.
    banner = Counter(image.pixel(x, y) for y in range(30, 140, 3) for x in range(110, 1170, 9))
    colour, count = banner.most_common(1)[0]
    assert _close(colour, verdict_colour), f"banner is {colour}, want {verdict_colour}"
    assert count > 0.6 * sum(banner.values()), "the banner is not mostly the verdict colour"
    for x, y in ((8, 80), (WIDTH - 8, 80), (8, 1500)):  # the margins either side of the column
        assert _close(image.pixel(x, y), BACKGROUND), (x, y, image.pixel(x, y))


# --- the DOM Chromium built ----------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return "".join([*self.text, *(child.all_text() for child in self.children)])

    def walk(self) -> list[Node]:
        return [self, *(n for child in self.children for n in child.walk())]

    def ancestors(self) -> list[Node]:
        node, found = self.parent, []
        while node is not None:
            found.append(node)
            node = node.parent
        return found


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.text.append(data)


def parse_dom(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def _find(root: Node, tag: str, cls: str | None = None) -> list[Node]:
    return [n for n in root.walk() if n.tag == tag and (cls is None or cls in n.classes)]


# --- the tests -----------------------------------------------------------------------------


def test_chromium_builds_the_intended_dom(chromium: str, tmp_path: Path) -> None:
    url = _page(SAMPLE_REPORT, tmp_path, "report.html", SAMPLE_LOG_EXCERPTS)
    dom = parse_dom(_run_chromium(chromium, tmp_path, "--dump-dom", url).decode("utf-8"))

    banners = _find(dom, "div", "banner")
    assert len(banners) == 1
    assert "fail" in banners[0].classes
    assert _find(banners[0], "h1")[0].all_text() == "FAIL"
    assert "29 passed · 4 failed · 17 skipped · 4 errors" in banners[0].all_text()

    (matrix,) = _find(dom, "table", "matrix")
    rows = _find(matrix, "tr")
    assert len(rows) == 1 + 5  # the header, run-wide checks, four profile x instance type rows
    assert [c.all_text() for c in _find(rows[0], "th")][-5:] == [
        "SPEC",
        "IMAGE",
        "TRAIN",
        "SERVE",
        "TRANSFORM",
    ]

    check_details = [d for d in _find(dom, "details") if "log" not in d.classes]
    assert len(check_details) == len(SAMPLE_REPORT.checks)
    shown = [_find(d, "span", "cid")[0].all_text() for d in check_details]
    assert shown == [c.id for c in SAMPLE_REPORT.checks]
    for details in _find(dom, "details"):  # no details ended up inside another: nothing open
        assert not any(a.tag == "details" for a in details.ancestors())
        assert details.children[0].tag == "summary"

    charts = _find(dom, "svg")
    assert len(charts) >= 8
    for svg in charts:
        assert svg.attrs.get("role") == "img"
        assert svg.attrs.get("aria-label")
        assert _find(svg, "polyline")

    logs = _find(dom, "details", "log")
    assert len(logs) == len(SAMPLE_LOG_EXCERPTS)
    algo2 = next(d for d in logs if "algo-2 training log" in d.all_text())
    assert "open" in algo2.attrs
    (pre,) = _find(algo2, "pre")
    assert pre.all_text().endswith("is not numeric: 'n/a' <script>")  # escaped, shown as text
    assert not _find(dom, "script")


@pytest.mark.parametrize(
    ("verdict", "colour"), [("fail", FAIL_RED), ("pass", PASS_GREEN)], ids=["fail", "pass"]
)
def test_screenshot_shows_the_verdict_colour(
    chromium: str, tmp_path: Path, verdict: str, colour: tuple[int, int, int]
) -> None:
    report = SAMPLE_REPORT
    if verdict == "pass":
        kept = (CheckStatus.PASS, CheckStatus.SKIP)
        report = replace(
            SAMPLE_REPORT, checks=tuple(c for c in report.checks if c.status in kept), errors=()
        )
    assert report.verdict == verdict
    png = _screenshot(
        chromium, tmp_path, _page(report, tmp_path, "report.html", SAMPLE_LOG_EXCERPTS)
    )
    _check_screenshot(png, colour)


@pytest.mark.docker
def test_the_report_of_a_real_run_of_the_reference_algorithm(
    chromium: str, published: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `make demo` shows: the page of a real run, as Chromium builds and draws it."""
    out = tmp_path / "report"
    plan = published("reference")
    code = main(["run", str(plan), "--out", str(out), "--profile", "smoke"])
    capsys.readouterr()
    assert code == ExitCode.OK
    report = json.loads((out / "report.json").read_text())
    url = (out / "report.html").as_uri()

    dom = parse_dom(_run_chromium(chromium, tmp_path, "--dump-dom", url).decode("utf-8"))
    (banner,) = _find(dom, "div", "banner")
    assert "pass" in banner.classes
    (matrix,) = _find(dom, "table", "matrix")
    assert len(_find(matrix, "tr")) == 1 + 1 + len(report["runs"])  # header, run-wide, runs
    check_details = [d for d in _find(dom, "details") if "log" not in d.classes]
    assert [_find(d, "span", "cid")[0].all_text() for d in check_details] == [
        c["id"] for c in report["checks"]
    ]
    assert len(_find(dom, "svg")) >= 2 * len(report["runs"])  # metrics and usage per run
    logs = [d.all_text() for d in _find(dom, "details", "log")]
    for run in report["runs"]:
        for host in run["training"]["hosts"]:
            assert any(host["log"] in text for text in logs), host["log"]
    assert not _find(dom, "script")

    _check_screenshot(_screenshot(chromium, tmp_path, url), PASS_GREEN)
