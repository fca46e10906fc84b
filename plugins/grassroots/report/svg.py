"""Static SVG charts, drawn in Python: no JavaScript, no web fonts, nothing to fetch.

Every function returns one ``<svg class="chart">`` element as a string (well-formed XML, so a test
can parse it). Marks carry ``class="mark"`` and ``data-key`` (the row they draw), and a ``<title>``
child, which browsers show as a tooltip. The functions only place and scale values they are given:
they never derive a metric (no means, no sums). Reference lines are drawn where the caller says,
from values the caller took from a mart.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

FONT = (
    "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif"
)
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
GRID = "#e5e5e5"

# One fixed colour per peer group (mart_scorecard.scoring_peer_group, see labels.peer_group_name),
# the same in every chart whichever groups a chart happens to show: blues for urban communities,
# greens for rural villages (darker = larger), purple/orange for townships, and the fallback groups
# (a whole class or level, when a group has too few scored units) in colours of their own.
PEER_GROUP_COLOURS = {
    "village/urban_small": "#6baed6",
    "village/urban_medium": "#2171b5",
    "village/urban_large": "#08306b",
    "village/urban_unknown": "#9ecae1",
    "village/rural_small": "#74c476",
    "village/rural_medium": "#238b45",
    "village/rural_large": "#00441b",
    "village/rural_unknown": "#a1d99b",
    "village/unclassified_all": "#969696",
    "village/urban": "#17becf",
    "village/rural": "#bcbd22",
    "village/unclassified": "#7f7f7f",
    "village": "#8c564b",
    "township/urban_all": "#9467bd",
    "township/rural_all": "#ff7f0e",
    "township/unclassified_all": "#c49c94",
    "township/urban": "#e377c2",
    "township/rural": "#d62728",
    "township/unclassified": "#bdbdbd",
    "township": "#525252",
}
AXIS = "#555"


def peer_group_colour(code: str) -> str:
    """The peer group's fixed colour; a code not in the table gets one from its own text (stable
    across charts and runs, never from the order in which groups appear)."""
    if code in PEER_GROUP_COLOURS:
        return PEER_GROUP_COLOURS[code]
    cls, _, band = code.partition("_")
    if "/" not in code and band and band != "all" and f"village/{code}" in PEER_GROUP_COLOURS:
        return PEER_GROUP_COLOURS[f"village/{code}"]  # dim_unit.peer_group: only villages are banded
    for level in ("township", "village"):
        if f"{level}/{code}" in PEER_GROUP_COLOURS and (level == "village") == (band != "all"):
            return PEER_GROUP_COLOURS[f"{level}/{code}"]
    return PALETTE[zlib.crc32(code.encode()) % len(PALETTE)]


def _f(v: float) -> str:
    """Compact coordinate."""
    return f"{v:.1f}".rstrip("0").rstrip(".") if math.isfinite(v) else "0"


def _finite(v) -> bool:
    return v is not None and isinstance(v, int | float) and math.isfinite(v)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (the axis is extended to the outer ticks)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t < hi + step * 0.999:
        ticks.append(round(t, 12))
        t += step
    return ticks


def fmt_tick(v: float, pct: bool = False) -> str:
    if pct:
        return f"{round(v * 100, 6):g}%"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:g}"


@dataclass
class Scale:
    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, v: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (v - self.d0) * (self.r1 - self.r0) / (self.d1 - self.d0)


def _svg_open(chart_id: str, width: int, height: int, title: str) -> list[str]:
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id={quoteattr("chart-" + chart_id)} '
            f'data-chart={quoteattr(chart_id)} viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label={quoteattr(title)} '
            f'font-family="{escape(FONT)}" font-size="12">'
        ),
        f"<title>{escape(title)}</title>",
    ]


def _text(x: float, y: float, s: str, *, anchor: str = "middle", size: int = 12, extra: str = "") -> str:
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" fill="{AXIS}"{extra}>'
        f"{escape(s)}</text>"
    )


def _axes(
    out: list[str],
    xs: Scale | None,
    ys: Scale,
    xticks: Sequence[float] | None,
    yticks: Sequence[float],
    *,
    left: float,
    right: float,
    top: float,
    bottom: float,
    xlabel: str = "",
    ylabel: str = "",
    xpct: bool = False,
    ypct: bool = False,
) -> None:
    out.append('<g class="axes">')
    for t in yticks:
        y = ys(t)
        out.append(f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(y)}" y2="{_f(y)}" stroke="{GRID}"/>')
        out.append(_text(left - 6, y + 4, fmt_tick(t, ypct), anchor="end", size=11))
    if xs is not None and xticks is not None:
        for t in xticks:
            x = xs(t)
            out.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top)}" y2="{_f(bottom)}" stroke="{GRID}"/>')
            out.append(_text(x, bottom + 16, fmt_tick(t, xpct), size=11))
    out.append(
        f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(bottom)}" y2="{_f(bottom)}" stroke="{AXIS}"/>'
    )
    out.append(f'<line x1="{_f(left)}" x2="{_f(left)}" y1="{_f(top)}" y2="{_f(bottom)}" stroke="{AXIS}"/>')
    if xlabel:
        out.append(_text((left + right) / 2, bottom + 36, xlabel, size=12))
    if ylabel:
        cy = (top + bottom) / 2
        out.append(
            _text(
                0, 0, ylabel, size=12, extra=f' transform="translate({_f(left - 48)},{_f(cy)}) rotate(-90)"'
            )
        )
    out.append("</g>")


def _legend(out: list[str], items: Sequence[tuple[str, str, str]], x: float, y: float) -> None:
    """items: (label, colour, shape) with shape 'dot', 'ring', 'bar' or 'line'."""
    out.append('<g class="legend">')
    for i, (label, colour, shape) in enumerate(items):
        yy = y + i * 18
        if shape == "ring":
            out.append(
                f'<circle cx="{_f(x + 6)}" cy="{_f(yy)}" r="5" fill="white" stroke="{colour}" '
                'stroke-width="2"/>'
            )
        elif shape == "bar":
            out.append(f'<rect x="{_f(x)}" y="{_f(yy - 6)}" width="12" height="12" fill="{colour}"/>')
        elif shape == "line":
            out.append(
                f'<line x1="{_f(x)}" x2="{_f(x + 14)}" y1="{_f(yy)}" y2="{_f(yy)}" stroke="{colour}" '
                'stroke-width="2" stroke-dasharray="5 3"/>'
            )
        else:
            out.append(f'<circle cx="{_f(x + 6)}" cy="{_f(yy)}" r="5" fill="{colour}"/>')
        out.append(_text(x + 18, yy + 4, label, anchor="start", size=11))
    out.append("</g>")


def empty_chart(chart_id: str, title: str, message: str, width: int = 640, height: int = 80) -> str:
    out = _svg_open(chart_id, width, height, title)
    out.append(_text(width / 2, height / 2, message, size=13))
    out.append("</svg>")
    return "\n".join(out)


@dataclass
class Series:
    """One set of points or bars: ``field`` is the row key to plot, ``shape`` 'dot' or 'ring'."""

    field: str
    label: str
    colour: str
    shape: str = "dot"


@dataclass
class RefLine:
    """A reference line at a value taken from a mart (``axis`` 'x' or 'y')."""

    axis: str
    value: float
    label: str


def scatter(
    chart_id: str,
    rows: Sequence[dict],
    *,
    x: str | Sequence[Series],
    y: str,
    key: str,
    label: str,
    title: str,
    xlabel: str,
    ylabel: str,
    diagonal: bool = False,
    pct: bool = False,
    ref_lines: Sequence[RefLine] = (),
    corner: tuple[str, str] | None = None,
    pair_lines: bool = False,
    width: int = 640,
    height: int = 440,
) -> str:
    """Points of ``rows``; ``x`` one field or several series (e.g. resident and registered share
    against the same staff share). ``diagonal`` draws y = x (fair allocation). ``corner`` =
    (which, label) shades the quadrant beyond both reference lines, 'top-left' or similar."""
    series = [Series(x, "", PALETTE[0])] if isinstance(x, str) else list(x)
    n_legend = len([s for s in series if s.label]) + (1 if diagonal else 0)
    height += 18 * n_legend
    left, right, top, bottom = 64, width - 20, 20, height - 50 - 18 * n_legend
    pts = [(r, s) for s in series for r in rows if _finite(r.get(s.field)) and _finite(r.get(y))]
    if not pts:
        return empty_chart(chart_id, title, "无数据 No data", width)
    xvals = [r[s.field] for r, s in pts] + [rl.value for rl in ref_lines if rl.axis == "x"]
    yvals = [r[y] for r, _ in pts] + [rl.value for rl in ref_lines if rl.axis == "y"]
    lo_x, hi_x = min(0.0, min(xvals)), max(xvals)
    lo_y, hi_y = min(0.0, min(yvals)), max(yvals)
    if diagonal:
        lo_x = lo_y = min(lo_x, lo_y)
        hi_x = hi_y = max(hi_x, hi_y)
    xt, yt = nice_ticks(lo_x, hi_x), nice_ticks(lo_y, hi_y)
    xs = Scale(xt[0], xt[-1], left, right)
    ys = Scale(yt[0], yt[-1], bottom, top)
    out = _svg_open(chart_id, width, height, title)
    refs = {rl.axis: rl for rl in ref_lines}
    if corner and "x" in refs and "y" in refs:
        which, corner_label = corner
        cx, cy = xs(refs["x"].value), ys(refs["y"].value)
        x0, x1 = (left, cx) if "left" in which else (cx, right)
        y0, y1 = (top, cy) if "top" in which else (cy, bottom)
        out.append(
            f'<rect class="corner" x="{_f(x0)}" y="{_f(y0)}" width="{_f(x1 - x0)}" height="{_f(y1 - y0)}" '
            'fill="#fdecea"/>'
        )
        out.append(
            _text(
                x0 + 6 if "left" in which else x1 - 6,
                y0 + 16 if "top" in which else y1 - 8,
                corner_label,
                anchor="start" if "left" in which else "end",
                size=12,
                extra=' font-weight="bold" fill-opacity="0.9"',
            )
        )
    _axes(
        out,
        xs,
        ys,
        xt,
        yt,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        xlabel=xlabel,
        ylabel=ylabel,
        xpct=pct,
        ypct=pct,
    )
    if diagonal:
        d0, d1 = xt[0], xt[-1]
        out.append(
            f'<line class="diagonal" x1="{_f(xs(d0))}" y1="{_f(ys(d0))}" x2="{_f(xs(d1))}" y2="{_f(ys(d1))}" '
            'stroke="#999" stroke-dasharray="6 4"/>'
        )
    for rl in ref_lines:
        if rl.axis == "x":
            xx = xs(rl.value)
            out.append(
                f'<line class="ref" x1="{_f(xx)}" x2="{_f(xx)}" y1="{_f(top)}" y2="{_f(bottom)}" '
                'stroke="#888" stroke-dasharray="4 3"/>'
            )
            out.append(_text(xx + 4, bottom - 6, rl.label, anchor="start", size=10))
        else:
            yy = ys(rl.value)
            out.append(
                f'<line class="ref" x1="{_f(left)}" x2="{_f(right)}" y1="{_f(yy)}" y2="{_f(yy)}" '
                'stroke="#888" stroke-dasharray="4 3"/>'
            )
            out.append(_text(right - 4, yy - 4, rl.label, anchor="end", size=10))
    if pair_lines and len(series) > 1:
        out.append('<g class="pairs">')
        for r in rows:
            ends = [
                (xs(r[s.field]), ys(r[y])) for s in series if _finite(r.get(s.field)) and _finite(r.get(y))
            ]
            if len(ends) > 1:
                d = " ".join(f"{'M' if i == 0 else 'L'}{_f(a)},{_f(b)}" for i, (a, b) in enumerate(ends))
                out.append(f'<path d="{d}" stroke="#bbb" stroke-width="1" fill="none"/>')
        out.append("</g>")
    out.append('<g class="marks">')
    for r, s in pts:
        px, py = xs(r[s.field]), ys(r[y])
        fill = "white" if s.shape == "ring" else s.colour
        tip = (
            f"{r.get(label) or r.get(key)} ({r.get(key)}): "
            f"{s.label or s.field} {r[s.field]:.4g}, {ylabel} {r[y]:.4g}"
        )
        out.append(
            f'<circle class="mark" data-key={quoteattr(str(r.get(key)))} data-series={quoteattr(s.field)} '
            f'cx="{_f(px)}" cy="{_f(py)}" r="4.5" fill="{fill}" fill-opacity="0.85" stroke="{s.colour}" '
            f'stroke-width="1.5"><title>{escape(tip)}</title></circle>'
        )
    out.append("</g>")
    legend = [(s.label, s.colour, s.shape) for s in series if s.label]
    if diagonal:
        legend.append(("对角线 = 按常住人口均衡 / diagonal = proportional", "#999", "line"))
    if legend:
        _legend(out, legend, left, bottom + 58)
    out.append("</svg>")
    return "\n".join(out)


def hbars(
    chart_id: str,
    rows: Sequence[dict],
    *,
    value: str,
    key: str,
    label: str,
    title: str,
    xlabel: str,
    pct: bool = False,
    pos_colour: str = "#2ca02c",
    neg_colour: str = "#d62728",
    width: int = 640,
    bar_height: int = 16,
    label_width: int = 170,
) -> str:
    """Horizontal bars in the order given (diverging around 0 when there are negative values)."""
    rows = [r for r in rows if _finite(r.get(value))]
    if not rows:
        return empty_chart(chart_id, title, "无数据 No data", width)
    top, left, right = 10, label_width + 44, width - 60
    bottom = top + len(rows) * (bar_height + 4)
    height = bottom + 50
    vals = [r[value] for r in rows]
    ticks = nice_ticks(min(0.0, min(vals)), max(0.0, max(vals)))
    xs = Scale(ticks[0], ticks[-1], left, right)
    out = _svg_open(chart_id, width, height, title)
    out.append('<g class="axes">')
    for t in ticks:
        xx = xs(t)
        out.append(f'<line x1="{_f(xx)}" x2="{_f(xx)}" y1="{top}" y2="{_f(bottom)}" stroke="{GRID}"/>')
        out.append(_text(xx, bottom + 16, fmt_tick(t, pct), size=11))
    out.append(_text((left + right) / 2, bottom + 36, xlabel))
    out.append("</g>")
    out.append('<g class="marks">')
    x0 = xs(0.0)
    for i, r in enumerate(rows):
        yy = top + i * (bar_height + 4)
        v = r[value]
        xa, xb = sorted((x0, xs(v)))
        colour = pos_colour if v >= 0 else neg_colour
        name = str(r.get(label) or r.get(key))
        out.append(_text(left - 6, yy + bar_height - 4, name[:16], anchor="end", size=11))
        shown = f"{v * 100:.1f}%" if pct else f"{v:.3g}"
        out.append(
            f'<rect class="mark" data-key={quoteattr(str(r.get(key)))} x="{_f(xa)}" y="{_f(yy)}" '
            f'width="{_f(max(xb - xa, 1))}" height="{bar_height}" fill="{colour}">'
            f"<title>{escape(name)} ({escape(str(r.get(key)))}): {escape(shown)}</title></rect>"
        )
        tx = xb + 4 if v >= 0 else xa - 4
        out.append(_text(tx, yy + bar_height - 4, shown, anchor="start" if v >= 0 else "end", size=10))
    out.append(f'<line x1="{_f(x0)}" x2="{_f(x0)}" y1="{top}" y2="{_f(bottom)}" stroke="{AXIS}"/>')
    out.append("</g></svg>")
    return "\n".join(out)


def grouped_bars(
    chart_id: str,
    rows: Sequence[dict],
    *,
    key: str,
    label: str,
    series: Sequence[Series],
    title: str,
    ylabel: str,
    width: int = 640,
    height: int = 300,
) -> str:
    """Vertical bars, one group per row, one bar per series (e.g. D_resident beside D_registered)."""
    cells = [(r, s) for r in rows for s in series if _finite(r.get(s.field))]
    if not cells:
        return empty_chart(chart_id, title, "无数据 No data", width)
    left, right, top, bottom = 64, width - 180, 20, height - 50
    ticks = nice_ticks(0.0, max(r[s.field] for r, s in cells))
    ys = Scale(ticks[0], ticks[-1], bottom, top)
    out = _svg_open(chart_id, width, height, title)
    _axes(out, None, ys, None, ticks, left=left, right=right, top=top, bottom=bottom, ylabel=ylabel)
    group_w = (right - left) / max(len(rows), 1)
    bar_w = min(40.0, group_w * 0.8 / len(series))
    out.append('<g class="marks">')
    for i, r in enumerate(rows):
        gx = left + i * group_w + (group_w - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            v = r.get(s.field)
            if not _finite(v):
                continue
            bx = gx + j * bar_w
            out.append(
                f'<rect class="mark" data-key={quoteattr(str(r.get(key)))} data-series={quoteattr(s.field)} '
                f'x="{_f(bx)}" y="{_f(ys(v))}" width="{_f(bar_w - 2)}" height="{_f(max(ys(0) - ys(v), 1))}" '
                f'fill="{s.colour}"><title>{escape(str(r.get(label)))}: {escape(s.label)} {v:.3f}</title>'
                "</rect>"
            )
            out.append(_text(bx + bar_w / 2 - 1, ys(v) - 3, f"{v:.3f}", size=10))
        out.append(
            _text(left + (i + 0.5) * group_w, bottom + 16, str(r.get(label) or r.get(key))[:14], size=11)
        )
    out.append("</g>")
    _legend(out, [(s.label, s.colour, "bar") for s in series], right + 12, top + 10)
    out.append("</svg>")
    return "\n".join(out)


def dot_rows(
    chart_id: str,
    rows: Sequence[dict],
    *,
    key: str,
    label: str,
    series: Sequence[Series],
    title: str,
    xlabel: str,
    group: str | None = None,
    group_label: str | None = None,
    pct: bool = True,
    width: int = 680,
    row_height: int = 16,
    label_width: int = 190,
) -> str:
    """One row per input row (in order) with a dot per series on a shared axis; rows of the same
    ``group`` are kept together under a heading (e.g. the units of a township)."""
    if not rows or not any(_finite(r.get(s.field)) for r in rows for s in series):
        return empty_chart(chart_id, title, "无数据 No data", width)
    left, right, top = label_width, width - 20, 26 + 18 * len(series)
    vals = [r[s.field] for r in rows for s in series if _finite(r.get(s.field))]
    ticks = (
        [0, 0.25, 0.5, 0.75, 1.0]
        if pct and min(vals) >= 0 and max(vals) <= 1
        else nice_ticks(min(0.0, min(vals)), max(vals))
    )
    xs = Scale(ticks[0], ticks[-1], left, right)
    lines: list[tuple[str, dict | str]] = []
    prev = object()
    for r in rows:
        if group and r.get(group) != prev:
            prev = r.get(group)
            lines.append(("group", str(r.get(group_label or group) or r.get(group))))
        lines.append(("row", r))
    bottom = top + len(lines) * row_height + 4
    height = bottom + 44
    out = _svg_open(chart_id, width, height, title)
    _legend(out, [(s.label, s.colour, s.shape) for s in series], left, 12)
    out.append('<g class="axes">')
    for t in ticks:
        xx = xs(t)
        out.append(f'<line x1="{_f(xx)}" x2="{_f(xx)}" y1="{top}" y2="{_f(bottom)}" stroke="{GRID}"/>')
        out.append(_text(xx, bottom + 16, fmt_tick(t, pct), size=11))
    out.append(_text((left + right) / 2, bottom + 36, xlabel))
    out.append("</g>")
    out.append('<g class="marks">')
    for i, (kind, item) in enumerate(lines):
        yy = top + i * row_height + row_height / 2
        if kind == "group":
            out.append(_text(8, yy + 4, str(item), anchor="start", size=12, extra=' font-weight="bold"'))
            continue
        r = item  # type: ignore[assignment]
        name = str(r.get(label) or r.get(key))
        out.append(_text(left - 6, yy + 4, name[:16], anchor="end", size=11))
        out.append(f'<line x1="{left}" x2="{right}" y1="{_f(yy)}" y2="{_f(yy)}" stroke="#f3f3f3"/>')
        for s in series:
            v = r.get(s.field)
            if not _finite(v):
                continue
            fill = "white" if s.shape == "ring" else s.colour
            out.append(
                f'<circle class="mark" data-key={quoteattr(str(r.get(key)))} '
                f'data-series={quoteattr(s.field)} cx="{_f(xs(v))}" cy="{_f(yy)}" r="4.5" fill="{fill}" '
                f'stroke="{s.colour}" stroke-width="1.5">'
                f"<title>{escape(name)}: {escape(s.label)} {fmt_tick(v, pct) if pct else f'{v:.3g}'}</title>"
                "</circle>"
            )
    out.append("</g></svg>")
    return "\n".join(out)


def lines(
    chart_id: str,
    rows: Sequence[dict],
    *,
    x: str,
    y: str,
    series_key: str,
    series_label: str,
    title: str,
    ylabel: str,
    width: int = 640,
    height: int = 300,
    highlight: str | None = None,
) -> str:
    """One line per ``series_key`` over the ordered categories of ``x`` (e.g. months)."""
    rows = [r for r in rows if _finite(r.get(y))]
    if not rows:
        return empty_chart(chart_id, title, "无数据 No data", width)
    cats = sorted({str(r[x]) for r in rows})
    names: dict[str, str] = {}
    for r in rows:
        names.setdefault(str(r[series_key]), str(r.get(series_label) or r[series_key]))
    legend_w = 170 if len(names) > 1 else 0
    left, right, top, bottom = 64, width - 20 - legend_w, 20, height - 50
    ticks = nice_ticks(min(0.0, min(r[y] for r in rows)), max(r[y] for r in rows))
    ys = Scale(ticks[0], ticks[-1], bottom, top)
    pad = (right - left) / (2 * len(cats))
    xs = Scale(0, max(len(cats) - 1, 1), left + pad, right - pad)
    out = _svg_open(chart_id, width, height, title)
    _axes(out, None, ys, None, ticks, left=left, right=right, top=top, bottom=bottom, ylabel=ylabel)
    for i, c in enumerate(cats):
        out.append(_text(xs(i), bottom + 16, c, size=11))
    out.append('<g class="marks">')
    legend = []
    for n, (sk, name) in enumerate(names.items()):
        colour = PALETTE[n % len(PALETTE)]
        pts = sorted((cats.index(str(r[x])), r) for r in rows if str(r[series_key]) == sk)
        if len(pts) > 1:
            d = " ".join(
                f"{'M' if j == 0 else 'L'}{_f(xs(i))},{_f(ys(r[y]))}" for j, (i, r) in enumerate(pts)
            )
            width_px = 3 if highlight == sk else 1.8
            out.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width_px}"/>')
        for i, r in pts:
            out.append(
                f'<circle class="mark" data-key={quoteattr(sk + "|" + str(r[x]))} cx="{_f(xs(i))}" '
                f'cy="{_f(ys(r[y]))}" r="3.5" fill="{colour}"><title>{escape(name)} {escape(str(r[x]))}: '
                f"{r[y]:.4g}</title></circle>"
            )
        legend.append((name[:14], colour, "dot"))
    out.append("</g>")
    if legend_w:
        _legend(out, legend[:16], right + 16, top + 6)
    out.append("</svg>")
    return "\n".join(out)


def strips(
    chart_id: str,
    rows: Sequence[dict],
    *,
    group: str,
    value: str,
    key: str,
    label: str,
    title: str,
    xlabel: str,
    lo: float = 0.0,
    hi: float = 100.0,
    width: int = 680,
    row_height: int = 34,
    label_width: int = 150,
    group_name: Callable[[str], str] = str,
    group_colour: Callable[[str], str] | None = None,
) -> str:
    """A strip per group (e.g. peer group) with a tick per row at its value (e.g. composite score).

    ``group_name`` gives a group's display name ("中文 English" is written on two lines);
    ``group_colour`` its fixed colour (default: the palette in order of appearance)."""
    rows = [r for r in rows if _finite(r.get(value))]
    if not rows:
        return empty_chart(chart_id, title, "无数据 No data", width)
    groups = list(dict.fromkeys(str(r[group]) for r in rows))
    left, right, top = label_width, width - 20, 10
    bottom = top + len(groups) * row_height
    height = bottom + 50
    ticks = nice_ticks(lo, hi)
    xs = Scale(ticks[0], ticks[-1], left, right)
    out = _svg_open(chart_id, width, height, title)
    out.append('<g class="axes">')
    for t in ticks:
        xx = xs(t)
        out.append(f'<line x1="{_f(xx)}" x2="{_f(xx)}" y1="{top}" y2="{_f(bottom)}" stroke="{GRID}"/>')
        out.append(_text(xx, bottom + 16, fmt_tick(t), size=11))
    out.append(_text((left + right) / 2, bottom + 36, xlabel))
    out.append("</g>")
    out.append('<g class="marks">')
    for gi, g in enumerate(groups):
        yy = top + gi * row_height
        colour = group_colour(g) if group_colour else PALETTE[gi % len(PALETTE)]
        name = group_name(g)
        zh, _, en = name.partition(" ")
        out.append(f'<g class="group" data-group={quoteattr(g)} data-colour="{colour}">')
        out.append(f'<rect x="4" y="{_f(yy + 8)}" width="8" height="{row_height - 16}" fill="{colour}"/>')
        if en:
            out.append(_text(left - 8, yy + row_height / 2 - 2, zh, anchor="end", size=11))
            out.append(_text(left - 8, yy + row_height / 2 + 11, en, anchor="end", size=9))
        else:
            out.append(_text(left - 8, yy + row_height / 2 + 4, name, anchor="end", size=11))
        for r in rows:
            if str(r[group]) != g:
                continue
            xx = xs(r[value])
            out.append(
                f'<rect class="mark" data-key={quoteattr(str(r.get(key)))} data-group={quoteattr(g)} '
                f'x="{_f(xx - 1.5)}" y="{_f(yy + 5)}" '
                f'width="3" height="{row_height - 10}" fill="{colour}" fill-opacity="0.6">'
                f"<title>{escape(str(r.get(label) or r.get(key)))}: {r[value]:.1f} "
                f"({escape(name)})</title></rect>"
            )
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out)
