"""The risk committee report of a run as one self-contained HTML page.

:func:`render_html` returns the HTML text: the sections of :mod:`portsim.report.sections`,
figures embedded as base64 PNG, styles inline, and a Content-Security-Policy that forbids any
network access and any script. The PDF is :func:`portsim.report.pdf.render_pdf`; the run is
read by :func:`portsim.workflow.folders.read_run`. Writing the file is the command line's job
(``portsim report``).

Customer names are untrusted text: every string is escaped for HTML, and ``$`` is escaped for
matplotlib's mathtext. Figures are drawn on :class:`matplotlib.figure.Figure` objects, never
through pyplot, so the report needs no display and does not touch the backend of a notebook it
is called from.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from portsim.report.run import RunData
from portsim.report.sections import Section, sections, title
from portsim.report.tables import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["page", "render_html"]

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a;
       margin: 0 auto; max-width: 1220px; padding: 24px 28px 48px; line-height: 1.4; }
h1 { font-size: 26px; margin: 0 0 4px; color: #1f4e79; }
h2 { font-size: 20px; margin: 34px 0 8px; color: #1f4e79; border-bottom: 2px solid #1f4e79;
     padding-bottom: 3px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.sub { color: #555; margin: 0 0 14px; }
p.note { color: #444; font-size: 14px; max-width: 1000px; }
nav a { margin-right: 14px; color: #1f4e79; font-size: 14px; }
table { border-collapse: collapse; font-size: 13.5px; margin: 6px 0 12px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left;
         vertical-align: top; }
th { background: #eef3f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.figs { display: flex; flex-wrap: wrap; gap: 14px; }
figure { margin: 0; flex: 1 1 560px; max-width: 600px; }
figure img { width: 100%; height: auto; border: 1px solid #e3e3e3; }
figcaption { font-size: 12.5px; color: #555; }
"""


def _esc(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _html_table(t: Table) -> str:
    def cls(i: int) -> str:
        return ' class="num"' if i in t.numeric else ""

    head = "".join(f"<th{cls(i)}>{_esc(h)}</th>" for i, h in enumerate(t.header))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{_esc(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in t.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _new_figure(width: float = 6.4, height: float = 4.2) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _png(draw: Callable[[Axes], Axes], dpi: int = 110) -> str:
    fig, ax = _new_figure()
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_html(run: RunData) -> str:
    """The report as one self-contained HTML page (figures as base64 PNG, no scripts)."""
    head, sub = title(run)
    return page(head, sub, sections(run))


def page(head: str, sub: str, secs: Sequence[Section]) -> str:
    """Sections as one self-contained HTML page titled ``head`` over ``sub``."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(head)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(head)}</h1>",
        f'<p class="sub">{_esc(sub)}</p>',
        "<nav>" + "".join(f'<a href="#{s.key}">{_esc(s.title)}</a>' for s in secs)
        + "</nav>",
    ]
    for s in secs:
        parts.append(f'<section id="{s.key}"><h2>{_esc(s.title)}</h2>')
        parts += [f'<p class="note">{_esc(t)}</p>' for t in s.text]
        for caption, t in s.tables:
            if caption:
                parts.append(f"<h3>{_esc(caption)}</h3>")
            parts.append(_html_table(t))
        if s.figures:
            parts.append('<div class="figs">')
            for caption, draw in s.figures:
                parts.append(f'<figure><img alt="{_esc(caption)}" '
                             f'src="data:image/png;base64,{_png(draw)}">'
                             f"<figcaption>{_esc(caption)}</figcaption></figure>")
            parts.append("</div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

