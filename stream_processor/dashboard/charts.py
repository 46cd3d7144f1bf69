"""Dashboard charts: query results into inline SVG, drawn in Python (no script, no library at view time).

Input: series of (x, y) points or labelled values. Output: an ``<svg>`` element as text, with a
``<title>`` on every point and bar so hovering shows the exact value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Final

PALETTE: Final = ("#2563eb", "#f97316", "#10b981", "#e11d48", "#8b5cf6", "#0891b2", "#ca8a04", "#64748b")
WIDTH: Final = 560
HEIGHT: Final = 230
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 56, 16, 12, 28


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times 10^k at or above ``value`` (1 for nothing to show)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = step * 10.0**exponent
        if candidate >= value:
            return candidate
    return 10.0 ** (exponent + 1)


def format_number(value: float) -> str:
    """Compact labels: 0.25, 12.5, 950, 3010, 12.3k, 3.4M."""
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.3g}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    if magnitude >= 100 or magnitude == int(magnitude):
        return str(round(value))
    return f"{value:.3g}"


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch of a naive UTC datetime (what DuckDB returns for timestamps)."""
    return moment.replace(tzinfo=UTC).timestamp()


def _empty(message: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(message)}">'
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="empty">{escape(message)}</text></svg>'
    )


def line_chart(series: Mapping[str, Sequence[tuple[datetime, float]]], *, unit: str = "") -> str:
    """A time-series chart, one line per named series, in ``PALETTE`` order."""
    points = [p for values in series.values() for p in values]
    if not points:
        return _empty("no data in this window")
    xs = [_epoch(p[0]) for p in points]
    x_min, x_max = min(xs), max(xs)
    if x_max == x_min:
        x_min, x_max = x_min - 60, x_max + 60
    y_max = nice_ceiling(max(p[1] for p in points))
    plot_w = WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM

    def sx(x: datetime) -> float:
        return _MARGIN_LEFT + (_epoch(x) - x_min) / (x_max - x_min) * plot_w

    def sy(y: float) -> float:
        return _MARGIN_TOP + plot_h - y / y_max * plot_h

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">']
    for i in range(5):
        value = y_max * i / 4
        y = sy(value)
        parts.append(f'<line class="grid" x1="{_MARGIN_LEFT}" x2="{WIDTH - _MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{_MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{format_number(value)}{escape(unit)}</text>"
        )
    for i in range(5):
        t = x_min + (x_max - x_min) * i / 4
        label = datetime.fromtimestamp(t, tz=UTC).strftime("%H:%M")
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text class="tick" x="{_MARGIN_LEFT + plot_w * i / 4:.1f}" y="{HEIGHT - 8}" '
            f'text-anchor="{anchor}">{label}</text>'
        )
    for index, (name, values) in enumerate(series.items()):
        color = PALETTE[index % len(PALETTE)]
        ordered = sorted(values)
        path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(ordered))
        parts.append(f'<path class="line" d="{path}" stroke="{color}"><title>{escape(name)}</title></path>')
        radius = 3 if len(ordered) <= 30 else 0
        for x, y in ordered if radius else ():
            parts.append(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{radius}" fill="{color}">'
                f"<title>{escape(name)} {x:%H:%M}: {format_number(y)}{escape(unit)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts) + legend(list(series))


def legend(names: Sequence[str]) -> str:
    """Colour keys for the series names, in ``PALETTE`` order."""
    items = "".join(
        f'<span class="key"><i style="background:{PALETTE[i % len(PALETTE)]}"></i>{escape(name)}</span>'
        for i, name in enumerate(names)
    )
    return f'<div class="legend">{items}</div>'


def bar_chart(bars: Sequence[tuple[str, float]], *, unit: str = "", color: str = PALETTE[0]) -> str:
    """Horizontal bars, one per (label, value), in the given order."""
    if not bars:
        return _empty("no data in this window")
    row, label_w, value_w = 26, 190, 70
    height = _MARGIN_TOP + row * len(bars) + 4
    top = nice_ceiling(max(v for _, v in bars))
    plot_w = WIDTH - label_w - value_w
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img">']
    for i, (label, value) in enumerate(bars):
        y = _MARGIN_TOP + i * row
        short = label if len(label) <= 30 else label[:29] + "…"
        width = max(value / top * plot_w, 1.0)
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row - 8}" rx="3" fill="{color}">'
            f"<title>{escape(label)}: {format_number(value)}{escape(unit)}</title></rect>"
            f'<text class="value" x="{label_w + width + 6:.1f}" y="{y + 15}">'
            f"{format_number(value)}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["PALETTE", "bar_chart", "format_number", "legend", "line_chart", "nice_ceiling"]
