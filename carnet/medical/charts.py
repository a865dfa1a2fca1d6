"""Server-rendered SVG charts (no script): a measure over time with its target band, and a
child's values over the reference percentile curves.

Accessible as a picture: role="img", labelled by its <title> and <desc>; pages put the same data
in a table below. Colours are presentation attributes (no inline style, so the CSP stays strict).
"""

import datetime as dt
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 720, 340
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 20, 48
BLUE, GREY, GREEN = "#000091", "#666666", "#18753c"


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]
    colour: str = BLUE
    dashed: bool = False
    markers: bool = True
    labels: list[str] = field(default_factory=list)  # one per point, for the hover title


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / max(count, 1)
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        if raw <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def chart(*, chart_id: str, title: str, desc: str, y_label: str, series: list[Series],
          band: tuple[float | None, float | None] | None = None, x_ticks: list[tuple[float, str]],
          x_range: tuple[float, float]) -> str:
    ys = [y for s in series for _x, y in s.points]
    ys += [b for b in (band or ()) if b is not None]
    low, high = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    step = _nice_step(high - low)
    low = (low // step) * step
    x0, x1 = x_range
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (y - low) / (high - low) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="carnet-chart" role="img" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" aria-labelledby="{chart_id}-title {chart_id}-desc">',
           f'<title id="{chart_id}-title">{escape(title)}</title>',
           f'<desc id="{chart_id}-desc">{escape(desc)}</desc>']
    if band and (band[0] is not None or band[1] is not None):
        b_low = band[0] if band[0] is not None else low
        b_high = band[1] if band[1] is not None else high
        top_y, bottom_y = py(min(b_high, high)), py(max(b_low, low))
        out.append(f'<rect x="{LEFT}" y="{top_y:.1f}" width="{plot_w}" height="{max(bottom_y - top_y, 1):.1f}" '
                   f'fill="{GREEN}" fill-opacity="0.15" stroke="{GREEN}" stroke-dasharray="4 3"/>')
    y = low
    while y <= high + step / 2:
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#dddddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{py(y) + 4:.1f}" text-anchor="end" font-size="12" fill="#3a3a3a">'
                   f'{_fmt(round(y, 2))}</text>')
        y += step
    for index, (x, label) in enumerate(x_ticks):
        # The first and last labels hug the plot's edges so that they are never cut by the frame.
        anchor = "start" if index == 0 else "end" if index == len(x_ticks) - 1 else "middle"
        out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#eeeeee"/>')
        out.append(f'<text x="{px(x):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}" font-size="12" '
                   f'fill="#3a3a3a">{escape(label)}</text>')
    out.append(f'<text x="16" y="{TOP + plot_h / 2:.0f}" font-size="12" fill="#3a3a3a" text-anchor="middle" '
               f'transform="rotate(-90 16 {TOP + plot_h / 2:.0f})">{escape(y_label)}</text>')
    out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#3a3a3a"/>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#3a3a3a"/>')
    for s in series:
        if len(s.points) > 1:
            path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s.points)
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            out.append(f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>')
        if s.markers:
            for i, (x, y) in enumerate(s.points):
                label = s.labels[i] if i < len(s.labels) else _fmt(y)
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{s.colour}">'
                           f'<title>{escape(label)}</title></circle>')
        elif s.points:
            x, y = s.points[-1]
            out.append(f'<text x="{px(x) + 2:.1f}" y="{py(y) - 4:.1f}" font-size="11" fill="{s.colour}">'
                       f'{escape(s.name)}</text>')
    out.append("</svg>")
    return "".join(out)


def time_ticks(start: dt.datetime, end: dt.datetime, count: int = 5) -> list[tuple[float, str]]:
    span = (end - start).total_seconds() or 86400
    fmt = "%d/%m/%Y" if span > 86400 * 2 else "%d/%m %H:%M"
    return [(start.timestamp() + span * i / (count - 1), (start + dt.timedelta(seconds=span * i / (count - 1)))
             .strftime(fmt)) for i in range(count)]
