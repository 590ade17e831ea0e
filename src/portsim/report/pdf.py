"""The risk committee report of a run as a PDF: one A4 landscape page per section of
:mod:`portsim.report.sections` (tables as matplotlib tables, the figures of the HTML report).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from portsim.report.plotting import tex_safe
from portsim.report.run import RunData
from portsim.report.sections import sections, title
from portsim.report.tables import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["render_pdf"]

_A4_LANDSCAPE = (11.69, 8.27)
_LEFT, _WIDTH = 0.04, 0.92


def _pdf_header(fig: Figure, title: str, sub: str = "") -> float:
    """Write the page title; return the top of the free area (figure fraction)."""
    fig.text(_LEFT, 0.955, tex_safe(title), fontsize=17, weight="bold", color="#1f4e79",
             va="top")
    if sub:
        fig.text(_LEFT, 0.915, tex_safe(sub), fontsize=10, color="#555555", va="top")
        return 0.88
    return 0.9


def _pdf_paragraphs(fig: Figure, texts: Sequence[str], top: float, width: int = 160) -> float:
    import textwrap

    y = top
    for t in texts:
        lines = textwrap.wrap(t, width)
        fig.text(_LEFT, y, tex_safe("\n".join(lines)), fontsize=9, va="top", color="#333333",
                 linespacing=1.4)
        y -= 0.022 * len(lines) + 0.014
    return y


def _table_height(t: Table, fontsize: float, caption: str) -> float:
    """Figure-fraction height of a matplotlib table (rows sized by the font) and caption."""
    row = fontsize * 1.9 / 72 / _A4_LANDSCAPE[1]
    return (len(t.rows) + 1) * row + (0.035 if caption else 0.0)


def _pdf_table(fig: Figure, rect: tuple[float, float, float, float], t: Table,
               caption: str, fontsize: float) -> None:
    ax = fig.add_axes(rect)
    ax.axis("off")
    if caption:
        ax.set_title(tex_safe(caption), fontsize=10, loc="left", pad=4)
    cells = [[tex_safe(_pdf_cell(c, t.pdf_chars.get(k, 80))) for k, c in enumerate(row)]
             for row in t.rows] or [[""] * len(t.header)]
    from matplotlib.transforms import Bbox

    tab = ax.table(cellText=cells, colLabels=[tex_safe(h) for h in t.header],
                   bbox=Bbox.from_bounds(0.0, 0.0, 1.0, 1.0), cellLoc="left", colLoc="left")
    tab.auto_set_font_size(False)
    tab.set_fontsize(fontsize)
    tab.auto_set_column_width(list(range(len(t.header))))
    for (r, c), cell in tab.get_celld().items():
        cell.set_edgecolor("#dddddd")
        cell.set_linewidth(0.5)
        if r == 0:
            cell.set_facecolor("#eef3f8")
            cell.get_text().set_fontweight("bold")
        if c in t.numeric:
            cell.get_text().set_horizontalalignment("right")
            cell._loc = "right"  # type: ignore[attr-defined]  # no public setter for it


def _pdf_cell(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pdf_tables(fig: Figure, tables: Sequence[tuple[str, Table]], top: float, *,
                columns: int = 1, fontsize: float = 8.0) -> float:
    """Tables stacked in ``columns`` columns (each to the shorter column) below ``top``;
    returns the lowest bottom edge."""
    if not tables:
        return top
    cols = [top] * min(columns, len(tables))
    w = _WIDTH / len(cols)
    for cap, t in tables:
        c = int(np.argmax(cols))
        h = _table_height(t, fontsize, cap)
        y = cols[c] - h
        _pdf_table(fig, (_LEFT + c * w, y, w - 0.03, h - (0.035 if cap else 0.0)), t, cap,
                   fontsize)
        cols[c] = y - 0.03
    return min(cols)


def _pdf_figures(fig: Figure, figures: Sequence[tuple[str, Callable[[Axes], Axes]]],
                 top: float) -> None:
    """Figures below ``top``: one wide, two side by side, or one large and two stacked.

    They are laid out by constrained layout in a subfigure, so long tick labels (customer
    names) fit; the header and tables above are placed by hand on the page.
    """
    fig.set_layout_engine("constrained")
    sub = np.asarray(fig.subfigures(2, 1, height_ratios=[1.0 - top, top])).ravel()[1]
    n = len(figures)
    if n == 3:
        axd = sub.subplot_mosaic([["0", "1"], ["0", "2"]], width_ratios=[1.25, 1.0])
        axes = [axd["0"], axd["1"], axd["2"]]
    else:
        axes = list(np.atleast_1d(sub.subplots(1, max(n, 1))))
    for (_, draw), ax in zip(figures, axes, strict=False):
        draw(ax)


def _pdf_pages(run: RunData) -> list[Figure]:
    """The PDF's pages as figures: a section per page; a section with several tables and
    figures gets a page of tables and one of figures."""
    from matplotlib.figure import Figure

    head, sub = title(run)
    pages: list[Figure] = []
    for i, s in enumerate(sections(run)):
        fig = Figure(figsize=_A4_LANDSCAPE)
        pages.append(fig)
        top = _pdf_header(fig, head if i == 0 else s.title, sub if i == 0 else "")
        if i == 0:
            fig.text(_LEFT, top, tex_safe(s.title), fontsize=13, weight="bold",
                     color="#1f4e79", va="top")
            top -= 0.045
        top = _pdf_paragraphs(fig, s.text, top)
        if not s.figures:
            _pdf_tables(fig, s.tables, top, fontsize=8.5)
            continue
        if len(s.tables) > 1:
            _pdf_tables(fig, s.tables, top, columns=2, fontsize=6.5)
            fig = Figure(figsize=_A4_LANDSCAPE)
            pages.append(fig)
            top = _pdf_header(fig, f"{s.title} (continued)")
        elif s.tables:
            top = _pdf_tables(fig, s.tables, top, fontsize=7.5)
        _pdf_figures(fig, s.figures, top)
    return pages


def render_pdf(run: RunData) -> bytes:
    """The report as PDF bytes: one A4 landscape page per section (tables as matplotlib
    tables, the same figures as the HTML report)."""
    from matplotlib.backends.backend_pdf import PdfPages

    head, _ = title(run)
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": head, "Creator": "portsim"}) as pdf:
        for fig in _pdf_pages(run):
            pdf.savefig(fig)
    return buf.getvalue()

