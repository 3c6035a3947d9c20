"""Bar charts drawn on the server: SVG for the oversight page, the same chart drawn with fpdf2
for the monthly report's PDF. No chart library and no CDN: a chart is a few rectangles and
labels, and the numbers are written on the bars so that a printed page needs no colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

#: colours of the series (confirmed, dismissed, open; or a single series)
PALETTE = ("#2e7d32", "#9e9e9e", "#1565c0", "#c62828")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    colour: str


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one row per category, the series stacked left to right."""

    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str = ""
    percent: bool = False  # values are shares (0-1), shown as percentages
    marker: float | None = None  # a vertical line (e.g. the confirmation floor)

    @property
    def maximum(self) -> float:
        totals = [sum(s.values[i] for s in self.series) for i in range(len(self.categories))]
        top = max([*totals, self.marker or 0.0, 0.0])
        return top or 1.0

    def label(self, value: float) -> str:
        if self.percent:
            return f"{value * 100:.0f}%"
        return f"{value:g}"

    def svg(self, width: int = 640) -> str:
        label_w, row_h, top, legend_h = 150, 22, 28, 20
        plot_w = width - label_w - 60
        height = top + row_h * len(self.categories) + legend_h + 10
        scale = plot_w / self.maximum
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                 f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(self.title)}" '
                 'font-family="sans-serif" font-size="12">',
                 f'<text x="0" y="16" font-weight="bold">{escape(self.title)}</text>']
        for row, category in enumerate(self.categories):
            y = top + row * row_h
            parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
                         f'{escape(category)}</text>')
            x = float(label_w)
            for series in self.series:
                value = series.values[row]
                w = value * scale
                if w > 0:
                    parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="16" '
                                 f'fill="{series.colour}"><title>{escape(series.name)} '
                                 f'{escape(self.label(value))}</title></rect>')
                    if w >= 22:
                        parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 15}" fill="#fff" '
                                     f'text-anchor="middle">{escape(self.label(value))}</text>')
                x += w
            total = sum(s.values[row] for s in self.series)
            if len(self.series) > 1 or x - label_w < 22:
                parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{escape(self.label(total))}'
                             '</text>')
        if self.marker is not None:
            mx = label_w + self.marker * scale
            bottom = top + row_h * len(self.categories)
            parts.append(f'<line x1="{mx:.1f}" y1="{top}" x2="{mx:.1f}" y2="{bottom}" '
                         'stroke="#c62828" stroke-dasharray="4 3"/>')
        y = top + row_h * len(self.categories) + 14
        x = float(label_w)
        for series in self.series:
            parts.append(f'<rect x="{x:.1f}" y="{y - 10}" width="10" height="10" '
                         f'fill="{series.colour}"/><text x="{x + 14:.1f}" y="{y}">'
                         f'{escape(series.name)}</text>')
            x += 28 + 13 * len(series.name)
        parts.append("</svg>")
        return "".join(parts)

    def draw(self, pdf: Any, family: str, x: float, y: float, width: float) -> float:
        """Draw on an fpdf2 page at (x, y) mm, `width` mm wide; the height used (mm)."""
        label_w, row_h, top, legend_h = 40.0, 6.0, 8.0, 7.0
        plot_w = width - label_w - 14
        scale = plot_w / self.maximum
        pdf.set_font(family, "B", 10)
        pdf.set_xy(x, y)
        pdf.cell(width, 6, self.title)
        pdf.set_font(family, "", 8)
        for row, category in enumerate(self.categories):
            ry = y + top + row * row_h
            pdf.set_xy(x, ry)
            pdf.cell(label_w - 2, row_h - 1, category, align="R")
            bx = x + label_w
            for series in self.series:
                value = series.values[row]
                w = value * scale
                if w > 0:
                    pdf.set_fill_color(*_rgb(series.colour))
                    pdf.rect(bx, ry + 0.5, w, row_h - 2, style="F")
                    if w >= 8:
                        pdf.set_text_color(255)
                        pdf.set_xy(bx, ry)
                        pdf.cell(w, row_h - 1, self.label(value), align="C")
                        pdf.set_text_color(0)
                bx += w
            total = sum(s.values[row] for s in self.series)
            if len(self.series) > 1 or bx - x - label_w < 8:
                pdf.set_xy(bx + 1, ry)
                pdf.cell(12, row_h - 1, self.label(total))
        bottom = y + top + row_h * len(self.categories)
        if self.marker is not None:
            mx = x + label_w + self.marker * scale
            pdf.set_draw_color(198, 40, 40)
            pdf.set_dash_pattern(dash=1.2, gap=0.8)
            pdf.line(mx, y + top, mx, bottom)
            pdf.set_dash_pattern()
            pdf.set_draw_color(0)
        lx = x + label_w
        for series in self.series:
            pdf.set_fill_color(*_rgb(series.colour))
            pdf.rect(lx, bottom + 2, 3, 3, style="F")
            pdf.set_xy(lx + 4, bottom + 1)
            pdf.cell(30, 5, series.name)
            lx += 8 + 4 * len(series.name)
        return top + row_h * len(self.categories) + legend_h


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def outcome_chart(title: str, rows: list[tuple[str, int, int, int]]) -> BarChart:
    """Leads per category: confirmed, dismissed and open, stacked."""
    return BarChart(title, tuple(r[0] for r in rows), (
        Series("已确认", tuple(float(r[1]) for r in rows), PALETTE[0]),
        Series("已排除", tuple(float(r[2]) for r in rows), PALETTE[1]),
        Series("未决", tuple(float(r[3]) for r in rows), PALETTE[2])), unit="条")


def single_chart(title: str, rows: list[tuple[str, float]], *, percent: bool = False,
                 marker: float | None = None, name: str = "") -> BarChart:
    return BarChart(title, tuple(r[0] for r in rows),
                    (Series(name or title, tuple(float(r[1]) for r in rows), PALETTE[2]),),
                    percent=percent, marker=marker)
