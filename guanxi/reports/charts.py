"""Server-rendered SVG charts (decision 0008-charts): no CDN, no JavaScript, no npm.

Every function returns markup safe to put in a template: an ``<svg role="img">`` with a
``<title>`` naming the chart and one ``<title>`` per mark (shown on hover and read by
screen readers). The charts scale with their container (``viewBox`` + ``width:100%``) so
they stay readable on a phone; pages always print the same numbers in a table next to
the chart, which is what assistive technology and exports rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import cos, pi, sin

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe–Ito), cycled for series and slices.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000"]

Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]


def _f(value: Number) -> float:
    return float(value or 0)


def _fmt(value: Number) -> str:
    v = _f(value)
    return f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:,.2f}"


def _svg(title: str, width: int, height: int, body: str) -> SafeString:
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" style="width:100%;height:auto;max-height:{height}px"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _legend(names: Sequence[str], y: int) -> str:
    out = []
    for i, name in enumerate(names):
        x = 10 + i * 120
        out.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{_colour(i)}"/>'
            f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(name[:14])}</text>'
        )
    return "".join(out)


def bar(title: str, labels: Sequence[str], values: Sequence[Number]) -> SafeString:
    """Horizontal bars: long Chinese labels stay readable on narrow screens."""
    return stacked_bar(title, labels, [Series(title, values)], legend=False)


def stacked_bar(
    title: str, labels: Sequence[str], series: Sequence[Series], *, legend: bool = True
) -> SafeString:
    """Horizontal bars, one row per label, the series stacked left to right."""
    row_h, label_w, width = 26, 120, 480
    totals = [sum(_f(s.values[i]) for s in series) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    legend_h = 22 if legend and len(series) > 1 else 0
    height = max(row_h * len(labels), row_h) + legend_h + 4
    parts = []
    for i, label in enumerate(labels):
        y = legend_h + i * row_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" font-size="12" text-anchor="end">'
            f"{escape(str(label)[:12])}</text>"
        )
        x = float(label_w)
        for j, s in enumerate(series):
            w = _f(s.values[i]) / top * (width - label_w - 60)
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                    f'fill="{_colour(j)}"><title>{escape(str(label))} · {escape(s.name)}: '
                    f"{_fmt(s.values[i])}</title></rect>"
                )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 17}" font-size="11">{_fmt(totals[i])}</text>')
    if legend_h:
        parts.append(_legend([s.name for s in series], 4))
    return _svg(title, width, height, "".join(parts))


def line(title: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """One polyline per series over the labels (e.g. months), with the points marked."""
    width, height, left, bottom, top_pad = 480, 220, 50, 30, 28
    top = max((_f(v) for s in series for v in s.values), default=0) or 1
    n = max(len(labels), 1)
    step = (width - left - 10) / max(n - 1, 1)
    plot_h = height - bottom - top_pad
    parts = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" '
        'stroke="#999"/>',
        f'<text x="{left - 4}" y="{top_pad + 4}" font-size="10" text-anchor="end">'
        f"{_fmt(top)}</text>",
        f'<text x="{left - 4}" y="{height - bottom}" font-size="10" text-anchor="end">0</text>',
    ]
    every = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{height - 10}" font-size="10" '
                f'text-anchor="middle">{escape(str(label))}</text>'
            )
    for j, s in enumerate(series):
        pts = [
            (left + i * step, height - bottom - _f(v) / top * plot_h)
            for i, v in enumerate(s.values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{_colour(j)}" stroke-width="2"/>'
        )
        for (x, y), label, v in zip(pts, labels, s.values, strict=False):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{_colour(j)}"><title>'
                f"{escape(s.name)} {escape(str(label))}: {_fmt(v)}</title></circle>"
            )
    parts.append(_legend([s.name for s in series], 4))
    return _svg(title, width, height, "".join(parts))


def funnel(title: str, labels: Sequence[str], values: Sequence[Number]) -> SafeString:
    """Centred bars narrowing with the counts; each band names its stage and count."""
    width, row_h = 480, 34
    top = max((_f(v) for v in values), default=0) or 1
    parts = []
    for i, (label, v) in enumerate(zip(labels, values, strict=False)):
        w = max(_f(v) / top * (width - 20), 2)
        x = (width - w) / 2
        y = i * row_h
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row_h - 4}" rx="3" '
            f'fill="{_colour(0)}" fill-opacity="{1 - i * 0.08 if i < 8 else 0.36:.2f}">'
            f"<title>{escape(str(label))}: {_fmt(v)}</title></rect>"
            f'<text x="{width / 2}" y="{y + 22}" font-size="12" text-anchor="middle" '
            f'fill="#fff" stroke="#000" stroke-width="0.3">{escape(str(label)[:16])} · '
            f"{_fmt(v)}</text>"
        )
    return _svg(title, width, max(row_h * len(labels), row_h), "".join(parts))


def donut(title: str, labels: Sequence[str], values: Sequence[Number]) -> SafeString:
    """Slices of a ring with a legend carrying each share in per cent."""
    total = sum(_f(v) for v in values)
    cx, cy, r, inner = 90, 90, 80, 48
    legend_rows = len(labels)
    height = max(180, 18 * legend_rows + 10)
    parts = []
    angle = -pi / 2
    for i, (label, v) in enumerate(zip(labels, values, strict=False)):
        share = _f(v) / total if total else 0
        if share <= 0:
            continue
        if share >= 0.9999:
            parts.append(
                f'<circle cx="{cx}" cy="{cy}" r="{(r + inner) / 2}" fill="none" '
                f'stroke="{_colour(i)}" stroke-width="{r - inner}"><title>{escape(str(label))}: '
                f"{_fmt(v)} (100%)</title></circle>"
            )
            break
        end = angle + share * 2 * pi
        large = 1 if share > 0.5 else 0
        x1, y1, x2, y2 = (
            cx + r * cos(angle),
            cy + r * sin(angle),
            cx + r * cos(end),
            cy + r * sin(end),
        )
        x3, y3 = cx + inner * cos(end), cy + inner * sin(end)
        x4, y4 = cx + inner * cos(angle), cy + inner * sin(angle)
        parts.append(
            f'<path d="M{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f} '
            f'L{x3:.2f},{y3:.2f} A{inner},{inner} 0 {large} 0 {x4:.2f},{y4:.2f} Z" '
            f'fill="{_colour(i)}"><title>{escape(str(label))}: {_fmt(v)} '
            f"({share * 100:.1f}%)</title></path>"
        )
        angle = end
    for i, (label, v) in enumerate(zip(labels, values, strict=False)):
        share = _f(v) / total * 100 if total else 0
        y = 10 + i * 18
        parts.append(
            f'<rect x="190" y="{y}" width="10" height="10" fill="{_colour(i)}"/>'
            f'<text x="205" y="{y + 9}" font-size="11">{escape(str(label)[:16])} '
            f"{_fmt(v)} ({share:.1f}%)</text>"
        )
    return _svg(title, 400, height, "".join(parts))


def heat_map(
    title: str, rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[Number]]
) -> SafeString:
    """A grid of cells shaded by value (e.g. cohort × month), each cell labelled."""
    cell_w, cell_h, label_w, head_h = 44, 24, 80, 20
    top = max((_f(v) for row in values for v in row), default=0) or 1
    width = label_w + cell_w * max(len(columns), 1)
    height = head_h + cell_h * max(len(rows), 1)
    parts = []
    for j, col in enumerate(columns):
        parts.append(
            f'<text x="{label_w + j * cell_w + cell_w / 2}" y="14" font-size="10" '
            f'text-anchor="middle">{escape(str(col))}</text>'
        )
    for i, row in enumerate(rows):
        y = head_h + i * cell_h
        parts.append(
            f'<text x="{label_w - 4}" y="{y + 16}" font-size="11" text-anchor="end">'
            f"{escape(str(row))}</text>"
        )
        for j, v in enumerate(values[i]):
            share = _f(v) / top
            parts.append(
                f'<rect x="{label_w + j * cell_w}" y="{y}" width="{cell_w - 1}" '
                f'height="{cell_h - 1}" fill="{_colour(0)}" fill-opacity="{0.08 + share * 0.92:.2f}">'
                f"<title>{escape(str(row))} · {escape(str(columns[j]))}: {_fmt(v)}</title></rect>"
                f'<text x="{label_w + j * cell_w + cell_w / 2}" y="{y + 16}" font-size="10" '
                f'text-anchor="middle" fill="{"#fff" if share > 0.5 else "#000"}">{_fmt(v)}</text>'
            )
    return _svg(title, width, height, "".join(parts))
