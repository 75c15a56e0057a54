"""Draw the Grafana dashboard's layout to an SVG, for the docs.

    python tools/render_dashboard.py          # writes docs/images/dashboard.svg
    python tools/render_dashboard.py --check  # exit 1 if the committed SVG is stale

This is a layout rendering, not a Grafana screenshot: panels sit where their
`gridPos` puts them, with their title, type, units and legend, but every line
and number is sample data made up from the panel's title. Plain Python only
(no Grafana, no plotting library), and only integer and IEEE arithmetic (no
math.sin): the same JSON renders to the same bytes on every machine, so a
test can compare the committed picture with a fresh rendering.
"""

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["DASHBOARD", "OUTPUT", "main", "render", "samples"]

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "charts" / "alertsync" / "dashboards" / "alertsync.json"
OUTPUT = ROOT / "docs" / "images" / "dashboard.svg"

WIDTH = 1200
MARGIN = 12
COLUMNS = 24
# Grafana's grid: 24 columns, rows of 30 px.
ROW_PX = 30
GAP = 6
HEADER = 58
FOOTER = 30
POINTS = 48
STACKED_SERIES = 3

FONT = "Inter, Helvetica, Arial, sans-serif"
BACKGROUND = "#111217"
PANEL = "#181b1f"
BORDER = "#2c3235"
TEXT = "#ccccdc"
MUTED = "#8e8e9e"
GRID = "#24272d"
GREEN, RED = "#73bf69", "#f2495c"
# Grafana's classic palette, in its order.
PALETTE = ("#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9", "#705da0")


def samples(seed: str, count: int = POINTS) -> list[int]:
    """A deterministic random walk in 0..1000, seeded by text (xorshift64 on a hash)."""
    state = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") or 1
    value = 200 + state % 600
    out = []
    for _ in range(count):
        state ^= (state << 13) & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 7
        state ^= (state << 17) & 0xFFFFFFFFFFFFFFFF
        value = min(1000, max(0, value + state % 161 - 80))
        out.append(value)
    return out


def render(dashboard: Mapping[str, Any]) -> str:
    panels: Sequence[Mapping[str, Any]] = dashboard["panels"]
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    height = HEADER + bottom * ROW_PX + FOOTER
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="{FONT}">',
        f"<title>{escape(str(dashboard['title']))} dashboard: layout with sample data</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="{BACKGROUND}"/>',
        *_header(dashboard),
    ]
    for panel in panels:
        parts.extend(_panel(panel, str(dashboard["uid"])))
    note = (
        f"Layout of {DASHBOARD.relative_to(ROOT)} drawn by tools/render_dashboard.py: "
        "positions, titles, units and legends are the dashboard's; lines and numbers are "
        "sample data. Not a Grafana screenshot."
    )
    parts.append(_text(MARGIN, height - 11, note, 11, MUTED))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _header(dashboard: Mapping[str, Any]) -> Iterator[str]:
    yield _text(MARGIN, 26, f"{dashboard['title']}", 18, TEXT, weight="600")
    tags = "  ".join(f"#{tag}" for tag in dashboard.get("tags", ()))
    yield _text(MARGIN + 110, 26, tags, 11, MUTED)
    x = MARGIN
    for var in dashboard.get("templating", {}).get("list", ()):
        label = str(var.get("label") or var["name"])
        shown = "Prometheus" if var["type"] == "datasource" else "All"
        width = 12 + 7 * (len(label) + len(shown)) + 16
        yield _rect(x, 36, width, 18, "#22252b", BORDER)
        yield _text(x + 6, 49, label, 11, MUTED)
        yield _text(x + 12 + 7 * len(label), 49, shown, 11, TEXT)
        x += width + 8
    span = {"now-6h": "Last 6 hours"}.get(dashboard.get("time", {}).get("from", ""), "")
    refresh = f"refresh {dashboard.get('refresh', 'off')}"
    right = "  \u00b7  ".join(("sample data, not a screenshot", span, refresh))
    yield _text(WIDTH - MARGIN, 26, right, 11, MUTED, anchor="end")


def _box(panel: Mapping[str, Any]) -> tuple[float, float, float, float]:
    grid = panel["gridPos"]
    column = (WIDTH - 2 * MARGIN) / COLUMNS
    x = MARGIN + grid["x"] * column
    y = HEADER + grid["y"] * ROW_PX
    return x, y, grid["w"] * column - GAP, grid["h"] * ROW_PX - GAP


def _panel(panel: Mapping[str, Any], uid: str) -> Iterator[str]:
    x, y, w, h = _box(panel)
    kind = str(panel["type"])
    title = str(panel.get("title", ""))
    if kind == "row":
        yield _text(x + 2, y + 17, f"\u25be {title}", 14, TEXT, weight="600")
        yield _hline(x, x + w, y + h, BORDER)
        return
    yield _rect(x, y, w, h, PANEL, BORDER)
    yield _text(x + 8, y + 18, title, 13, TEXT, weight="500")
    yield _text(x + w - 8, y + 18, kind, 10, MUTED, anchor="end")
    seed = f"{uid}/{panel.get('id')}/{title}"
    if kind == "stat":
        yield from _stat(panel, seed, x, y, w, h)
    else:
        yield from _timeseries(panel, seed, x, y, w, h)


def _stat(
    panel: Mapping[str, Any], seed: str, x: float, y: float, w: float, h: float
) -> Iterator[str]:
    series = samples(seed)
    value = series[-1] // 25
    steps = panel["fieldConfig"]["defaults"].get("thresholds", {}).get("steps", ())
    color = GREEN
    for step in steps:
        if step.get("value") is not None and value >= step["value"]:
            color = RED if step["color"] == "red" else GREEN
    yield from _area(series, x + 1, y + h * 0.55, w - 2, h * 0.45 - 1, color, opacity="0.15")
    yield _text(x + w / 2, y + h * 0.62, str(value), 30, color, anchor="middle", weight="600")


def _timeseries(
    panel: Mapping[str, Any], seed: str, x: float, y: float, w: float, h: float
) -> Iterator[str]:
    defaults = panel["fieldConfig"]["defaults"]
    custom = defaults.get("custom", {})
    bars = custom.get("drawStyle") == "bars"
    stacked = custom.get("stacking", {}).get("mode", "none") != "none"
    legends = [str(t.get("legendFormat") or t["refId"]) for t in panel.get("targets", ())]
    legend_rows = _legend_rows(legends, w - 16)
    plot_x, plot_y = x + 40, y + 28
    plot_w, plot_h = w - 50, h - 36 - 16 * len(legend_rows)
    for i in range(4):
        yield _hline(plot_x, plot_x + plot_w, plot_y + plot_h * i / 3, GRID)
    yield _text(x + 8, plot_y + 4, str(defaults.get("unit", "")), 9, MUTED)
    # A stacked panel sums by labels, so each of its queries draws several
    # series (e.g. one per platform); an unstacked one draws one per query.
    per_query = STACKED_SERIES if stacked else 1
    series = [
        (index, f"{seed}/{legend}/{n}")
        for index, legend in enumerate(legends)
        for n in range(per_query)
    ]
    floor = [0] * POINTS
    for number, (index, name) in enumerate(series):
        color = PALETTE[(index * per_query + number % per_query) % len(PALETTE)]
        # Stacked series each take a share of the height; others overlap.
        raw = [v // (len(series) if stacked else 1) for v in samples(name)]
        if bars:
            # Sparse, as drift is: most intervals have none.
            raw = [v if v % 7 == 0 else 0 for v in raw]
        top = [b + v for b, v in zip(floor, raw, strict=True)] if stacked else raw
        if bars:
            yield from _bars(floor, top, plot_x, plot_y, plot_w, plot_h, color)
        elif stacked:
            yield _band(floor, top, plot_x, plot_y, plot_w, plot_h, color)
        else:
            yield _line(top, plot_x, plot_y, plot_w, plot_h, color)
        if stacked:
            floor = top
    ly = y + h - 10 - 16 * (len(legend_rows) - 1)
    for row in legend_rows:
        lx = x + 10
        for index, legend in row:
            swatch = PALETTE[index * (STACKED_SERIES if stacked else 1) % len(PALETTE)]
            yield _rect(lx, ly - 8, 10, 4, swatch, None)
            yield _text(lx + 14, ly - 2, legend, 10, MUTED)
            lx += 14 + _text_width(legend, 10) + 14
        ly += 16


def _legend_rows(legends: Sequence[str], width: float) -> list[list[tuple[int, str]]]:
    rows: list[list[tuple[int, str]]] = [[]]
    used = 0.0
    for index, legend in enumerate(legends):
        need = 14 + _text_width(legend, 10) + 14
        if rows[-1] and used + need > width:
            rows.append([])
            used = 0.0
        rows[-1].append((index, legend))
        used += need
    return rows


def _scale(values: Sequence[int], x: float, y: float, w: float, h: float) -> list[str]:
    step = w / (len(values) - 1)
    return [f"{_n(x + i * step)},{_n(y + h - h * v / 1000)}" for i, v in enumerate(values)]


def _line(values: Sequence[int], x: float, y: float, w: float, h: float, color: str) -> str:
    points = " ".join(_scale(values, x, y, w, h))
    return f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.5"/>'


def _area(
    values: Sequence[int], x: float, y: float, w: float, h: float, color: str, opacity: str
) -> Iterator[str]:
    points = " ".join(
        [f"{_n(x)},{_n(y + h)}", *_scale(values, x, y, w, h), f"{_n(x + w)},{_n(y + h)}"]
    )
    yield f'<polygon points="{points}" fill="{color}" fill-opacity="{opacity}"/>'
    yield _line(values, x, y, w, h, color)


def _band(
    floor: Sequence[int], top: Sequence[int], x: float, y: float, w: float, h: float, color: str
) -> str:
    """The area between two stacked series, outlined on top."""
    upper = _scale(top, x, y, w, h)
    lower = _scale(floor, x, y, w, h)
    points = " ".join([*upper, *reversed(lower)])
    return f'<polygon points="{points}" fill="{color}" fill-opacity="0.3"/>\n' + _line(
        top, x, y, w, h, color
    )


def _bars(
    floor: Sequence[int],
    top: Sequence[int],
    x: float,
    y: float,
    w: float,
    h: float,
    color: str,
) -> Iterator[str]:
    slot = w / len(top)
    for i, (low, high) in enumerate(zip(floor, top, strict=True)):
        if high == low:
            continue
        y0, y1 = y + h - h * high / 1000, y + h - h * low / 1000
        yield _rect(x + i * slot + 1, y0, slot - 2, y1 - y0, color, None, opacity="0.8")


def _hline(x1: float, x2: float, y: float, color: str) -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y)}" x2="{_n(x2)}" y2="{_n(y)}" stroke="{color}"/>'


def _rect(
    x: float,
    y: float,
    w: float,
    h: float,
    fill: str,
    stroke: str | None,
    opacity: str | None = None,
) -> str:
    extra = f' stroke="{stroke}"' if stroke else ""
    if opacity:
        extra += f' fill-opacity="{opacity}"'
    rx = ' rx="3"' if stroke else ""
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"{rx} fill="{fill}"{extra}/>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    size: int,
    color: str,
    *,
    anchor: str = "start",
    weight: str = "400",
) -> str:
    attrs = f'x="{_n(x)}" y="{_n(y)}" font-size="{size}" fill="{color}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if weight != "400":
        attrs += f' font-weight="{weight}"'
    return f"<text {attrs}>{escape(text)}</text>"


def _text_width(text: str, size: int) -> float:
    # An estimate for a proportional sans-serif; only used to lay legends out.
    return len(text) * size * 0.56


def _n(value: float) -> str:
    """A coordinate with one decimal, without a trailing .0: stable, short output."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the SVG is not current")
    args = parser.parse_args(argv)
    svg = render(json.loads(DASHBOARD.read_text()))
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != svg:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run python tools/render_dashboard.py")
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(svg)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
