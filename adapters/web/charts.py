"""Charts (图表) as small hand-written SVG, rendered on the server: no plotting library,
nothing fetched by the browser, Chinese text drawn by the reader's own fonts (Noto CJK
on the test machine).

Three kinds, each a pure function of plain data returning one ``<svg>`` element (inline
in the page, sized by its ``viewBox`` so it shrinks to a phone's width):

* :func:`line_chart` — a branch's monthly score over the year (支部月度得分走势);
* :func:`rank_chart` — every branch's rank across quarters (季度名次变化), rank 1 on top;
* :func:`bar_chart` — deductions by category (扣分来源).

Every number drawn may carry a link (its explanation page): a point, a rank label or a
bar is then an SVG ``<a>``. Only presentation attributes are used (no ``style``), so the
pages' Content-Security-Policy needs no ``unsafe-inline``.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
PALETTE = ("#c0392b", "#2471a3", "#229954", "#d68910", "#7d3c98", "#17a589", "#ba4a00", "#2e4053",
           "#cb4335", "#1abc9c", "#884ea0", "#5d6d7e", "#a04000", "#196f3d", "#1f618d", "#b7950b")
Number = Decimal | int | float


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-label={quoteattr(title)} font-family={quoteattr(FONT)} font-size="12">'
            f"<title>{escape(title)}</title>"
            f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14" font-weight="bold" '
            f'fill="#222">{escape(title)}</text>' + "".join(body) + "</svg>")


def _linked(href: str | None, inner: str) -> str:
    return f"<a href={quoteattr(href)}>{inner}</a>" if href else inner


def _fmt(value: Number) -> str:
    return f"{Decimal(str(value)):.2f}"


def line_chart(title: str, labels: Sequence[str], values: Sequence[Number | None],
               links: Sequence[str | None] | None = None, reference: Number | None = None,
               reference_label: str = "") -> str:
    """One series over ``labels`` (a gap where a value is None); each point labelled with
    its value and linked to ``links[i]``. ``reference``: a dashed horizontal line (e.g. 100)."""
    width, height, left, right, top, bottom = 640, 300, 44, 16, 34, 40
    known = [Decimal(str(v)) for v in values if v is not None]
    ref = None if reference is None else Decimal(str(reference))
    span = known + ([ref] if ref is not None else [])
    low_v = math.floor(min(span) if span else 90) - 1
    high_v = math.ceil(max(span) if span else 100) + 1
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 10**9) if (high_v - low_v) / s <= 8)
    low, high = Decimal(low_v // step * step), Decimal(-(-high_v // step) * step)
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + plot_w * (i + 0.5) / n

    def y(v: Decimal) -> float:
        return top + plot_h * float((high - v) / (high - low))

    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fbfbfb" stroke="#ddd"/>']
    for k in range(int((high - low) / step) + 1):
        v = low + step * k
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>'
                    f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#666">{v:.0f}</text>')
    if ref is not None:
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(ref):.1f}" y2="{y(ref):.1f}" stroke="#999" '
                    f'stroke-dasharray="4 3"/><text x="{width - right - 2}" y="{y(ref) - 4:.1f}" text-anchor="end" '
                    f'fill="#777">{escape(reference_label)}</text>')
    for i, label in enumerate(labels):
        body.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#444">'
                    f"{escape(label)}</text>")
    run: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if len(run) > 1:
                body.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{PALETTE[1]}" stroke-width="2"/>')
            run = []
            continue
        run.append(f"{x(i):.1f},{y(Decimal(str(v))):.1f}")
    if len(run) > 1:
        body.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{PALETTE[1]}" stroke-width="2"/>')
    for i, v in enumerate(values):
        if v is None:
            continue
        d = Decimal(str(v))
        point = (f'<circle cx="{x(i):.1f}" cy="{y(d):.1f}" r="4" fill="{PALETTE[1]}"/>'
                 f'<text x="{x(i):.1f}" y="{y(d) - 8:.1f}" text-anchor="middle" fill="#222" font-size="11">'
                 f"{_fmt(d)}</text>")
        body.append(_linked(links[i] if links else None, point))
    return _svg(width, height, title, body)


def _text_width(text: str) -> float:
    """Rough width at font-size 12: CJK characters are square, Latin about half."""
    return sum(12 if ord(ch) > 0x2E80 else 7 for ch in text)


def rank_chart(title: str, columns: Sequence[str], ranks: dict[str, Sequence[int | None]],
               links: dict[str, Sequence[str | None]] | None = None, highlight: str | None = None) -> str:
    """A bump chart: one line per branch through its rank in each column (rank 1 on top);
    ``highlight`` drawn thicker. A rank of None (not ranked that quarter) breaks the line.
    Branches tied at a rank are spread a little around it, and their labels at the last
    column stand side by side, so none hides another."""
    worst = max([r for rs in ranks.values() for r in rs if r is not None] or [1])
    ordered = sorted(ranks)
    n = max(len(columns), 1)
    last_label: dict[str, tuple[int, int]] = {}  # branch → (column, rank) of its last point
    for branch in ordered:
        known = [(i, r) for i, r in enumerate(ranks[branch]) if r is not None]
        if known:
            last_label[branch] = known[-1]
    groups: dict[tuple[int, int], list[str]] = {}
    for branch, spot in last_label.items():
        groups.setdefault(spot, []).append(branch)
    offsets: dict[str, float] = {}  # label x offset within its tie group
    widest = 0.0
    for members in groups.values():
        run = 0.0
        for branch in members:
            offsets[branch] = run
            run += _text_width(branch) + 8
        widest = max(widest, run)
    width, left, top, bottom = 640, 40, 34, 34
    right = max(60, int(widest) + 16)
    row_h = 26
    height = top + bottom + row_h * max(worst - 1, 1)
    plot_w = width - left - right

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    tied: dict[tuple[int, int], list[str]] = {}
    for branch in ordered:
        for i, r in enumerate(ranks[branch]):
            if r is not None:
                tied.setdefault((i, r), []).append(branch)

    def y(i: int, rank: int, branch: str) -> float:
        group = tied[(i, rank)]
        spread = min(5.0, row_h * 0.6 / max(len(group), 1))
        return top + row_h * (rank - 1) + spread * (group.index(branch) - (len(group) - 1) / 2)

    body = []
    for r in range(1, worst + 1):
        body.append(f'<text x="{left - 10}" y="{top + row_h * (r - 1) + 4:.1f}" text-anchor="end" fill="#888">{r}</text>')
    for i, col in enumerate(columns):
        body.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top - 6}" y2="{height - bottom + 6}" stroke="#eee"/>'
                    f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" fill="#444">{escape(col)}</text>')
    for k, branch in enumerate(ordered):
        color = PALETTE[k % len(PALETTE)]
        thick = 4 if branch == highlight else 2
        points = [(i, r) for i, r in enumerate(ranks[branch]) if r is not None]
        segment: list[str] = []
        for j, (i, r) in enumerate(points):
            segment.append(f"{x(i):.1f},{y(i, r, branch):.1f}")
            if j == len(points) - 1 or points[j + 1][0] != i + 1:
                if len(segment) > 1:
                    body.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{color}" '
                                f'stroke-width="{thick}" stroke-opacity="0.85"/>')
                segment = []
        for i, r in points:
            href = links[branch][i] if links and branch in links else None
            body.append(_linked(href, f'<circle cx="{x(i):.1f}" cy="{y(i, r, branch):.1f}" r="{thick + 1}" '
                                      f'fill="{color}"><title>{escape(branch)} {escape(columns[i])} 第{r}名</title>'
                                      "</circle>"))
        if branch in last_label:
            i, r = last_label[branch]
            body.append(f'<text x="{x(i) + 10 + offsets[branch]:.1f}" y="{top + row_h * (r - 1) + 4:.1f}" '
                        f'fill="{color}" font-weight="{"bold" if branch == highlight else "normal"}">'
                        f"{escape(branch)}</text>")
    return _svg(width, height, title, body)


def bar_chart(title: str, items: Sequence[tuple[str, Number, str | None]], unit: str = "分") -> str:
    """Horizontal bars of magnitudes (deductions drawn as their absolute value), each with
    its label, value and link. Nothing to draw: a one-line note."""
    width, left, right, top = 640, 130, 70, 34
    row_h = 26
    height = top + row_h * max(len(items), 1) + 10
    largest = max([abs(Decimal(str(v))) for _, v, _ in items] or [Decimal(1)]) or Decimal(1)
    plot_w = width - left - right
    body = []
    if not items:
        body.append(f'<text x="{width / 2:.0f}" y="{top + 16}" text-anchor="middle" fill="#666">（无扣分）</text>')
    for k, (label, value, href) in enumerate(items):
        v = Decimal(str(value))
        w = plot_w * float(abs(v) / largest)
        y0 = top + row_h * k
        bar = (f'<rect x="{left}" y="{y0 + 4}" width="{max(w, 1):.1f}" height="{row_h - 8}" fill="{PALETTE[0]}" '
               f'fill-opacity="0.8"/><text x="{left + w + 6:.1f}" y="{y0 + row_h / 2 + 4:.1f}" fill="#222">'
               f"{_fmt(v)} {escape(unit)}</text>")
        body.append(f'<text x="{left - 8}" y="{y0 + row_h / 2 + 4:.1f}" text-anchor="end" fill="#333">'
                    f"{escape(label)}</text>" + _linked(href, bar))
    return _svg(width, height, title, body)
