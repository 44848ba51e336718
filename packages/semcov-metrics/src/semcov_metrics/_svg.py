"""A matplotlib figure as an inline SVG fragment: vector only, text kept as text, no XML prolog,
and element ids made unique per figure so that several figures can share one HTML page."""

from __future__ import annotations

import io
import re
from typing import Any

__all__ = ["SVG_STYLE", "figure_svg", "prefix_ids"]

#: matplotlib settings of every report figure: text stays text (small, selectable, printable in
#: the page's font), ids are reproducible, sizes readable on paper.
SVG_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "semcov",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "legend.fontsize": 8.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "figure.dpi": 72.0,
    "path.simplify": True,
}

_ID = re.compile(r'\bid="([^"]+)"')


def prefix_ids(svg: str, prefix: str) -> str:
    """Prefix every ``id`` of ``svg`` and every reference to it (``#id``) with ``prefix-``.

    Example:
        >>> prefix_ids('<clipPath id="p1"/><g clip-path="url(#p1)"/><use xlink:href="#p1"/>', "f2")
        '<clipPath id="f2-p1"/><g clip-path="url(#f2-p1)"/><use xlink:href="#f2-p1"/>'
    """
    ids = sorted(set(_ID.findall(svg)), key=len, reverse=True)
    if not ids:
        return svg
    pattern = re.compile(r'(id="|#)(' + "|".join(map(re.escape, ids)) + r')(?=["\)])')
    return pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)


def figure_svg(figure: Any, prefix: str, label: str) -> str:
    """``figure`` as an ``<svg>`` element: ids prefixed, no prolog, no date, sized by CSS.

    Args:
        figure: a matplotlib ``Figure``.
        prefix: unique per page (``fig3``); every id of the figure starts with it.
        label: the accessible name of the figure (``aria-label``).
    """
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.DOTALL)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="figure" ', 1)
    return prefix_ids(svg, prefix)
