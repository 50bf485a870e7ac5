"""Small charts drawn on the server as inline SVG: no JavaScript, nothing loaded from elsewhere.

Each chart is an ``<svg role="img">`` named by its ``<title>``, with a ``<desc>`` listing every
value, so a screen reader reads the figures the picture shows. Each bar or point carries its own
``<title>`` (a tooltip on hover). Colours come from classes styled by
``portal/static/portal/admin_dashboard.css``, with plain fills as a fallback.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

Number = int | float | Decimal

WIDTH = 360
HEIGHT = 160
TOP = 32
BOTTOM = 20
SIDE = 4


def _n(coordinate: float) -> str:
    """A coordinate to one decimal place."""
    return f"{coordinate:.1f}"


def _slot(count: int) -> float:
    """The width given to each value."""
    return (WIDTH - 2 * SIDE) / max(count, 1)


def _plot(values: Sequence[Number]) -> tuple[float, float, float, int]:
    """Slot width, plot height, the value at the top of the plot and where it first is."""
    peak = max(values, default=0)
    first_peak = list(values).index(peak) if peak else -1
    return _slot(len(values)), HEIGHT - TOP - BOTTOM, float(peak) or 1.0, first_peak


def _frame(title: str, points: list[str], body: SafeString, labels: Sequence[str]) -> SafeString:
    """The ``<svg>`` around ``body``: title (also shown), description, axis labels, baseline."""
    slot = _slot(len(labels))
    axis = format_html_join(
        "",
        '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>',
        ((_n(SIDE + slot * (i + 0.5)), HEIGHT - 5, label) for i, label in enumerate(labels)),
    )
    return format_html(
        '<svg class="dash-chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'preserveAspectRatio="xMinYMin meet"><title>{}</title><desc>{}</desc>'
        '<text class="chart-title" x="{s}" y="12">{}</text>{}'
        '<line class="chart-axis" x1="{s}" y1="{base}" x2="{right}" y2="{base}" stroke="#999"/>'
        "{}</svg>",
        title,
        "; ".join(points),
        title,
        body,
        axis,
        w=WIDTH,
        h=HEIGHT,
        s=SIDE,
        right=WIDTH - SIDE,
        base=HEIGHT - BOTTOM,
    )


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    formatter: Callable[[Number], str] = str,
) -> SafeString:
    """A bar per value, labelled below; the (first) tallest bar shows its value above it."""
    slot, height, peak, first_peak = _plot(values)
    bars = []
    for i, value in enumerate(values):
        bar_height = height * max(float(value), 0) / peak
        x = SIDE + slot * i + slot * 0.15
        y = TOP + height - bar_height
        bars.append(
            format_html(
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" '
                'fill="#417690"><title>{}: {}</title></rect>',
                _n(x),
                _n(y),
                _n(slot * 0.7),
                _n(bar_height),
                labels[i],
                formatter(value),
            )
        )
        if i == first_peak:
            bars.append(_value_label(SIDE + slot * (i + 0.5), y - 3, formatter(value)))
    points = [f"{label}: {formatter(value)}" for label, value in zip(labels, values, strict=True)]
    return _frame(title, points, SafeString("".join(bars)), labels)


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    formatter: Callable[[Number], str] = str,
) -> SafeString:
    """A line through the values with a dot at each; the (first) highest shows its value."""
    slot, height, peak, first_peak = _plot(values)
    coordinates = [
        (SIDE + slot * (i + 0.5), TOP + height - height * max(float(value), 0) / peak)
        for i, value in enumerate(values)
    ]
    line = format_html(
        '<polyline class="chart-line" fill="none" stroke="#417690" stroke-width="2" points="{}"/>',
        " ".join(f"{_n(x)},{_n(y)}" for x, y in coordinates),
    )
    dots = []
    for i, ((x, y), label, value) in enumerate(zip(coordinates, labels, values, strict=True)):
        dots.append(
            format_html(
                '<circle class="chart-dot" cx="{}" cy="{}" r="3" fill="#417690">'
                "<title>{}: {}</title></circle>",
                _n(x),
                _n(y),
                label,
                formatter(value),
            )
        )
        if i == first_peak:
            dots.append(_value_label(x, y - 6, formatter(value)))
    points = [f"{label}: {formatter(value)}" for label, value in zip(labels, values, strict=True)]
    return _frame(title, points, SafeString(line + "".join(dots)), labels)


def _value_label(x: float, y: float, text: str) -> SafeString:
    """``text`` above a bar or dot, kept inside the picture near its edges."""
    anchor = "end" if x > WIDTH * 0.8 else "start" if x < WIDTH * 0.2 else "middle"
    return format_html(
        '<text class="chart-value" x="{}" y="{}" text-anchor="{}">{}</text>',
        _n(x),
        _n(max(y, TOP - 6)),
        anchor,
        text,
    )
