"""Inline SVG charts for report.html: no scripts, fonts or images, sized for a four-across grid
on a laptop screen (the SVG scales to its grid cell).

The y axis has three ticks (bottom, middle, top) labelled with three significant digits
(`tick_label`), more only where three would repeat a label; the plot starts right of the
widest label, so none is clipped. A metric's axis spans its values with a 10 % margin, but
never crosses zero for values all on one side of it (a loss of 0.033 is not drawn above -0.06).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.report.model import RunRecord
from harness.report.text import html_text as escape

Series = Sequence[tuple[float, float]]

_AXIS = "#c7cbd1"
_GRID = "#eceef1"
_LABEL = "#6b7280"
COLOURS = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2")


def number(value: float, digits: int = 4) -> str:
    """A short, stable rendering of a measured value: `digits` significant digits, no exponent
    for everyday magnitudes."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:
        text = f"{value:.{digits}g}"
        return f"{value:.0f}" if "e" in text else text
    return f"{value:.3g}"


_SUFFIXES = ((1e12, 1e12, "T"), (1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k"))
"""(from, scale, suffix): `12.3k` from ten thousand on, `8190` below."""
_TICK_FONT_PX = 10
_TICK_GAP = 6
"""Between a tick label's right end and the plot."""


def tick_label(value: float, digits: int = 3) -> str:
    """`value` in `digits` significant digits, short: `0.0633`, `412`, `8190`, `12.3k`,
    `7.65M`, `3.1e-5` (a suffix from ten thousand on, an exponent below 0.0001)."""
    rounded = float(f"{value:.{digits}g}")
    if rounded == 0:
        return "0"
    for start, scale, suffix in _SUFFIXES:
        if abs(rounded) >= start:
            return f"{rounded / scale:.{digits}g}{suffix}"
    text = f"{rounded:.{digits}g}"
    if "e" in text:
        if abs(rounded) >= 1:  # 1230 to 3 digits is 1.23e+03
            return f"{rounded:.0f}"
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text


def _label_width(text: str) -> float:
    """How wide `text` is at the tick font size, at most, in the sans-serif fonts a browser
    may fall back to (DejaVu Sans has the widest digits: 0.64 em)."""
    em = {".": 0.33, "-": 0.37, "M": 0.87, "G": 0.78, "+": 0.84, "e": 0.62, "k": 0.58}
    return sum(em.get(c, 0.64) for c in text) * _TICK_FONT_PX


def _ticks(y0: float, y1: float) -> list[tuple[float, str]]:
    """The bottom, middle and top of the axis with their labels: three significant digits, or
    as few more as tell them apart."""
    values = [y0 + (y1 - y0) * fraction for fraction in (0.0, 0.5, 1.0)]
    for digits in range(3, 8):
        labels = [tick_label(v, digits) for v in values]
        if len(set(labels)) == len(labels):
            break
    return list(zip(values, labels, strict=True))


def line_chart(
    title: str,
    series: Series,
    unit: str = "",
    width: int = 264,
    height: int = 140,
    *,
    zero_based: bool = True,
) -> str:
    """A card with an inline SVG line chart of (x seconds, y) points and the last value;
    empty when there are fewer than two points. `zero_based`: the y axis starts at 0 (memory,
    CPU time); else it spans the values (a metric's curve, such as accuracy near 0.8)."""
    return lines_chart(title, [("", series)], unit, width, height, zero_based=zero_based)


def lines_chart(
    title: str,
    lines: Sequence[tuple[str, Series]],
    unit: str = "",
    width: int = 264,
    height: int = 140,
    *,
    zero_based: bool = True,
) -> str:
    """`line_chart` of several named series on one pair of axes (one per host), each in its
    own colour with its last value in a legend; series with fewer than two points are left
    out, and with none left the chart is empty."""
    drawn = [(name, list(series)) for name, series in lines if len(series) >= 2]
    if not drawn:
        return ""
    xs = [x for _, series in drawn for x, _ in series]
    ys = [y for _, series in drawn for _, y in series]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if zero_based:
        y0 = min(0.0, y0)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        pad = abs(y0) * 0.1 or 1.0
        y0, y1 = (y0, y0 + pad) if zero_based else (y0 - pad, y1 + pad)
    elif not zero_based:
        margin = (y1 - y0) * 0.1
        y0, y1 = y0 - margin, y1 + margin
    if not zero_based:  # the margin stays on the values' side of zero
        low, high = min(ys), max(ys)
        if low >= 0:
            y0 = max(y0, 0.0)
        elif high <= 0:
            y1 = min(y1, 0.0)
    ticks = _ticks(y0, y1)
    widest = max(_label_width(label) for _, label in ticks)
    left, right, top, bottom = max(40, math.ceil(widest) + _TICK_GAP + 2), 8, 10, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return base - (y - y0) / (y1 - y0) * plot_h

    parts = []
    for position, (value, label) in enumerate(ticks):
        y = sy(value)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{_AXIS if position == 0 else _GRID}"/>'
            f'<text x="{left - _TICK_GAP}" y="{y + 3.5:.1f}" font-size="{_TICK_FONT_PX}" '
            f'fill="{_LABEL}" text-anchor="end">{escape(label)}</text>'
        )
    legend = []
    for index, (name, series) in enumerate(drawn):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in series)
        if len(drawn) == 1:
            area = f"{sx(series[0][0]):.1f},{base} {points} {sx(series[-1][0]):.1f},{base}"
            parts.append(f'<polygon fill="{colour}" fill-opacity="0.08" points="{area}"/>')
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-linejoin="round" points="{points}"/>'
        )
        if len(series) <= 40:
            dots = "".join(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.2"/>' for x, y in series
            )
            parts.append(f'<g fill="{colour}">{dots}</g>')
        last = f"{number(series[-1][1])}{unit}"
        legend.append(
            f'<span class="last" style="color:{colour}" title="last value">'
            f"{escape(name + ' ' if name else '')}{escape(last)}</span>"
        )
    parts.append(
        f'<text x="{left}" y="{height - 6}" font-size="10" fill="{_LABEL}">'
        f"{escape(number(x0, 3))} s</text>"
        f'<text x="{width - right}" y="{height - 6}" font-size="10" fill="{_LABEL}" '
        f'text-anchor="end">{escape(number(x1, 3))} s</text>'
    )
    caption = f"<span>{escape(title)}</span>"
    if len(drawn) == 1:
        caption += legend[0]
        legend = []
    return (
        f'<figure class="chart"><figcaption>{caption}</figcaption>'
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">{"".join(parts)}</svg>'
        + (f'<div class="legend">{"".join(legend)}</div>' if legend else "")
        + "</figure>"
    )


def _usage(samples: list[Any], key: str, scale: float) -> list[tuple[float, float]]:
    return [
        (s["t"], s[key] / scale)
        for s in samples
        if isinstance(s, dict)
        and isinstance(s.get("t"), int | float)
        and isinstance(s.get(key), int | float)
    ]


def run_charts(run: RunRecord) -> str:
    """Each metric's curve (a line per host), then memory and CPU time over time."""
    training = run.training or {}
    charts = []
    for name, detail in (training.get("metrics_detail") or {}).items():
        by_host: dict[str, list[tuple[float, float]]] = {}
        for p in detail.get("points") or []:
            if isinstance(p, dict) and "t" in p and "value" in p:
                by_host.setdefault(str(p.get("host") or ""), []).append((p["t"], p["value"]))
        if by_host:
            start = min(points[0][0] for points in by_host.values())
            lines = [
                (host if len(by_host) > 1 else "", [(t - start, v) for t, v in points])
                for host, points in by_host.items()
            ]
            charts.append(lines_chart(f"{name}", lines, zero_based=False))
    samples = {
        str(h.get("host")): (h.get("usage") or {}).get("samples") or []
        for h in training.get("hosts") or []
        if isinstance(h, dict)
    }
    for title, key, scale, unit in (
        ("memory", "memory_bytes", 2**20, " MiB"),
        ("CPU time", "cpu_seconds", 1, " s"),
    ):
        if len(samples) == 1:
            host, rows = next(iter(samples.items()))
            charts.append(line_chart(f"{host} {title}", _usage(rows, key, scale), unit))
        elif samples:
            lines = [(host, _usage(rows, key, scale)) for host, rows in samples.items()]
            charts.append(lines_chart(title, lines, unit))
    shown = "".join(c for c in charts if c)
    return f"<div class='charts'>{shown}</div>" if shown else ""
