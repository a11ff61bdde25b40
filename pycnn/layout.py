"""pycnn's own graph layout: boxes of text in layers, drawn as SVG or with matplotlib.

One engine for the graph of tensors (``viz.draw_graph``) and the graph of layers
(``utils.plot_model``), so neither needs Graphviz or pydot:

1. layers — every box sits one layer past the furthest of its sources (longest path), so
   every arrow points the same way; an arrow that skips layers gets invisible waypoints,
   one per skipped layer, so it is routed around the boxes in between;
2. order — within a layer, boxes are sorted by the mean position of their neighbours in
   the layer before and after (the barycentre heuristic, swept down and up a few times),
   which removes most crossings;
3. x — each box is pulled towards the mean x of its neighbours, keeping the order and a
   gap, and every layer is centred;
4. drawing — rounded boxes, one line of monospaced text each (so widths are known without
   a font engine), arrows as smooth curves through their waypoints.

    >>> lay = layered([Box(0, ["a"]), Box(1, ["b"])], [(0, 1)])
    >>> svg = lay.svg()
"""
import html as _html

import numpy as _np

__all__ = ["Box", "Layout", "layered"]

FONT = 11                   # px; monospaced
CHAR = 0.64 * FONT            # 0.6 em, plus what matplotlib's hinting adds at 11 px
LINE = 1.35 * FONT
PAD_X, PAD_Y = 8, 6         # inside a box
GAP_X, GAP_Y = 24, 36       # between boxes and between layers
MARGIN = 12
FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"


class Box:
    """A box of text: ``key`` names it in the edges; ``lines`` are written one per row,
    the first in bold; ``fill``/``stroke`` are CSS colours; ``width`` 3 marks it."""

    def __init__(self, key, lines, fill="#fff2cc", stroke="#555555", stroke_width=1.0,
                 title=None):
        self.key = key
        self.lines = [str(s) for s in lines]
        self.fill = fill
        self.stroke = stroke
        self.stroke_width = stroke_width
        self.title = title                         # SVG tooltip
        self.w = 2 * PAD_X + CHAR * max((len(s) for s in self.lines), default=1)
        self.h = 2 * PAD_Y + LINE * max(len(self.lines), 1)
        self.x = self.y = 0.0                      # centre, set by the layout


class Layout:
    """Boxes with their centres, and the arrows as lists of points (tail to head)."""

    def __init__(self, boxes, edges, paths, width, height):
        self.boxes = boxes
        self.edges = edges
        self.paths = paths
        self.width = width
        self.height = height

    def svg(self):
        """The picture as an SVG document (a string)."""
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" '
               f'height="{self.height:.0f}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
               f'font-family="{FONT_FAMILY}" font-size="{FONT}">',
               '<defs><marker id="pycnn-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
               'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
               '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>',
               f'<rect width="100%" height="100%" fill="white"/>']
        for path in self.paths:
            out.append(f'<path d="{_curve(path)}" fill="none" stroke="#555555" '
                       f'stroke-width="1.2" marker-end="url(#pycnn-arrow)"/>')
        for b in self.boxes:
            x0, y0 = b.x - b.w / 2, b.y - b.h / 2
            tip = f"<title>{_html.escape(b.title)}</title>" if b.title else ""
            out.append(f'<g class="pycnn-node" data-key="{_html.escape(str(b.key))}">{tip}'
                       f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" '
                       f'rx="6" fill="{b.fill}" stroke="{b.stroke}" '
                       f'stroke-width="{b.stroke_width}"/>')
            for i, line in enumerate(b.lines):
                weight = ' font-weight="bold"' if i == 0 else ""
                ty = y0 + PAD_Y + LINE * (i + 0.75)
                out.append(f'<text x="{x0 + PAD_X:.1f}" y="{ty:.1f}"{weight} '
                           f'xml:space="preserve">{_html.escape(line)}</text>')
            out.append("</g>")
        out.append("</svg>")
        return "\n".join(out)

    def figure(self, dpi=100):
        """The same picture as a matplotlib Figure (for PNG, PDF, or SVG by matplotlib)."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
        from matplotlib.path import Path
        fig = plt.figure(figsize=(self.width / dpi, self.height / dpi), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, self.width)
        ax.set_ylim(self.height, 0)                 # SVG's y axis points down
        ax.axis("off")
        points_per_px = 72 / dpi
        for path in self.paths:
            vertices, codes = _curve_points(path)
            ax.add_patch(FancyArrowPatch(path=Path(vertices, codes), arrowstyle="-|>",
                                         mutation_scale=10, color="#555555", lw=1.2,
                                         shrinkA=0, shrinkB=0))
        for b in self.boxes:
            ax.add_patch(FancyBboxPatch((b.x - b.w / 2, b.y - b.h / 2), b.w, b.h,
                                        boxstyle="round,pad=0,rounding_size=6",
                                        facecolor=b.fill, edgecolor=b.stroke,
                                        lw=b.stroke_width))
            for i, line in enumerate(b.lines):
                ax.text(b.x - b.w / 2 + PAD_X, b.y - b.h / 2 + PAD_Y + LINE * (i + 0.5), line,
                        va="center", ha="left", family="monospace",
                        fontsize=FONT * points_per_px, weight="bold" if i == 0 else "normal")
        return fig

    def save(self, path, dpi=100):
        """Write ``.svg`` (pycnn's own SVG) or any format matplotlib writes (``.png``...)."""
        path = str(path)
        if path.lower().endswith(".svg"):
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.svg())
            return
        import matplotlib.pyplot as plt
        fig = self.figure(dpi=dpi)
        try:
            fig.savefig(path, dpi=dpi)
        finally:
            plt.close(fig)


def _curve(points):
    """SVG path data through the points: straight for two, else smooth cubic pieces."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M {x0:.1f} {y0:.1f}"]
    for (ax_, ay), (bx, by) in zip(points[:-1], rest):
        my = (ay + by) / 2
        d.append(f"C {ax_:.1f} {my:.1f} {bx:.1f} {my:.1f} {bx:.1f} {by:.1f}")
    return " ".join(d)


def _curve_points(points):
    from matplotlib.path import Path
    vertices, codes = [points[0]], [Path.MOVETO]
    for (ax_, ay), (bx, by) in zip(points[:-1], points[1:]):
        my = (ay + by) / 2
        vertices += [(ax_, my), (bx, my), (bx, by)]
        codes += [Path.CURVE4] * 3
    return vertices, codes


def _layers(keys, edges):
    """Longest-path layer of each key (sources 0). Raises ValueError on a cycle."""
    succ = {k: [] for k in keys}
    indeg = {k: 0 for k in keys}
    for a, b in edges:
        succ[a].append(b)
        indeg[b] += 1
    layer = {k: 0 for k in keys}
    ready = [k for k in keys if indeg[k] == 0]
    seen = 0
    while ready:                                   # Kahn's order: iterative
        k = ready.pop()
        seen += 1
        for s in succ[k]:
            layer[s] = max(layer[s], layer[k] + 1)
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if seen != len(keys):
        raise ValueError("layout: the graph has a cycle")
    return layer


def layered(boxes, edges, direction="down", sweeps=4):
    """Lay ``boxes`` out in layers along the ``edges`` ``(tail_key, head_key)``.

    ``direction="down"``: tails above heads (a model, input on top); ``"up"``: tails
    below heads (a graph of tensors, the loss on top as in the lecture). Edges may repeat
    (an input used twice). Returns a ``Layout``.
    """
    by_key = {b.key: b for b in boxes}
    keys = [b.key for b in boxes]
    unique = list(dict.fromkeys((a, b) for a, b in edges if a != b))
    layer = _layers(keys, unique)
    # waypoints: an edge spanning several layers passes through one dummy per layer
    chains, dummy = [], 0
    nodes_in = {}
    for k in keys:
        nodes_in.setdefault(layer[k], []).append(("box", k))
    for a, b in unique:
        chain = [("box", a)]
        for lv in range(layer[a] + 1, layer[b]):
            d = ("dummy", dummy)
            dummy += 1
            nodes_in.setdefault(lv, []).append(d)
            layer[d] = lv
            chain.append(d)
        chain.append(("box", b))
        chains.append(chain)
    up, down = {}, {}
    for chain in chains:
        for u, v in zip(chain[:-1], chain[1:]):
            down.setdefault(u, []).append(v)
            up.setdefault(v, []).append(u)
    n_layers = max(nodes_in) + 1 if nodes_in else 0
    rows = [nodes_in.get(i, []) for i in range(n_layers)]
    # order: barycentre sweeps
    for _ in range(sweeps):
        for i in range(1, n_layers):
            rows[i] = _by_barycentre(rows[i], rows[i - 1], up)
        for i in range(n_layers - 2, -1, -1):
            rows[i] = _by_barycentre(rows[i], rows[i + 1], down)

    def width(node):
        return by_key[node[1]].w if node[0] == "box" else 2.0

    def height(node):
        return by_key[node[1]].h if node[0] == "box" else 0.0
    # x: place left to right, then pull towards neighbours a few times
    x = {}
    for row in rows:
        pos = 0.0
        for node in row:
            x[node] = pos + width(node) / 2
            pos += width(node) + GAP_X
    for sweep in range(8):
        neighbours = up if sweep % 2 == 0 else down
        for row in (rows if sweep % 2 == 0 else rows[::-1]):
            wanted = [_np.mean([x[m] for m in neighbours[node]]) if neighbours.get(node)
                      else x[node] for node in row]
            _place(row, wanted, x, width)
    left = min((x[n] - width(n) / 2 for row in rows for n in row), default=0.0)
    right = max((x[n] + width(n) / 2 for row in rows for n in row), default=0.0)
    # y: one band per layer, as tall as its tallest box
    heights = [max((height(n) for n in row), default=0.0) for row in rows]
    top, ys = MARGIN, []
    for h in heights:
        ys.append(top + h / 2)
        top += h + GAP_Y
    total_h = top - GAP_Y + MARGIN if rows else 2 * MARGIN
    if direction == "up":
        ys = [total_h - y for y in ys]
    elif direction != "down":
        raise ValueError(f"layout: direction must be 'down' or 'up', got {direction!r}")
    for i, row in enumerate(rows):
        for node in row:
            if node[0] == "box":
                b = by_key[node[1]]
                b.x, b.y = x[node] - left + MARGIN, ys[i]
    paths = []
    sign = 1 if direction == "down" else -1
    for chain in chains:
        tail, head = by_key[chain[0][1]], by_key[chain[-1][1]]
        pts = [(tail.x, tail.y + sign * tail.h / 2)]
        pts += [(x[d] - left + MARGIN, ys[layer[d]]) for d in chain[1:-1]]
        pts.append((head.x, head.y - sign * head.h / 2))
        paths.append(pts)
    width_px = right - left + 2 * MARGIN if rows else 2 * MARGIN
    return Layout(boxes, unique, paths, width_px, total_h)


def _by_barycentre(row, fixed, neighbours):
    index = {n: i for i, n in enumerate(fixed)}
    current = {n: i for i, n in enumerate(row)}

    def key(node):
        ns = [index[m] for m in neighbours.get(node, []) if m in index]
        return (_np.mean(ns) if ns else current[node], current[node])
    return sorted(row, key=key)


def _place(row, wanted, x, width):
    """x as near ``wanted`` as the order and the gaps allow (left pass, then right)."""
    pos = list(wanted)
    for i in range(1, len(row)):
        least = pos[i - 1] + (width(row[i - 1]) + width(row[i])) / 2 + GAP_X
        pos[i] = max(pos[i], least)
    shift = (sum(wanted) - sum(pos)) / len(row) if row else 0.0     # keep the row centred
    for i, node in enumerate(row):
        x[node] = pos[i] + shift
