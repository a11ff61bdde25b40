"""Pictures of what the lecture computes: the graph of tensors and matplotlib plots.

``draw_graph(e)`` walks the graph that produced ``e`` (each Tensor's ``.op`` and
``.parents``) and returns a ``Graph``: its ``.source`` is Graphviz DOT text, it shows
as SVG in Jupyter when the ``dot`` program is installed, and as an indented text tree
(its ``str``/``repr``) otherwise. Plot helpers draw activation curves with their
derivatives taken by pycnn's autograd, image and feature-map grids, learned filters
and bounding boxes; learning curves are ``History.plot()``. matplotlib is imported
only when a plot is asked.
"""
import shutil as _shutil
import subprocess as _subprocess

import numpy as _np

from . import _core
from .display import fmt as _fmt

__all__ = [
    "Graph", "draw_graph", "plot_activation", "plot_activations", "image_grid",
    "feature_maps", "filter_grid", "draw_boxes",
]

SMALL = 4          # a tensor with at most this many numbers shows them; larger ones a norm


# ---- the graph of tensors -----------------------------------------------------------

def _numbers(a):
    """``[1, 2.5]`` for a small array, ``‖·‖ = 3.162 (mean 0.5)`` for a large one."""
    a = _np.asarray(a)
    if a.size <= SMALL:
        if a.ndim == 0:
            return _fmt(a)
        return "[" + ", ".join(_fmt(v) for v in a.reshape(-1)) + "]"
    return f"‖·‖ = {_fmt(_np.linalg.norm(a.reshape(-1)))} (mean {_fmt(a.mean())})"


class GraphNode:
    """One tensor of the graph: ``key`` (its place in the walk), label, op and numbers."""

    def __init__(self, key, tensor, show_values, show_grads):
        self.key = key
        self.tensor = tensor
        self.op = tensor.op
        self.shape = tuple(tensor.shape)
        self.label = tensor.name or f"t{key}"
        if self.op is None:
            self.kind = "parameter" if tensor.requires_grad else "constant"
        else:
            self.kind = self.op
        self.value = _numbers(tensor.numpy()) if show_values else None
        grad = tensor.grad
        self.grad = (None if grad is None else _numbers(grad.numpy())) if show_grads else None
        self.show_grads = show_grads

    def lines(self):
        """The facts shown for this node: name and op, shape, value, gradient."""
        shape = "(" + ", ".join(str(n) for n in self.shape)
        shape += ",)" if len(self.shape) == 1 else ")"
        out = [f"{self.label} = {self.kind}" if self.op else f"{self.label} ({self.kind})",
               f"shape {shape}"]
        if self.value is not None:
            out.append(f"value {self.value}")
        if self.show_grads:
            out.append(f"grad {self.grad if self.grad is not None else '—'}")
        return out


class Graph:
    """The graph of tensors behind one result: nodes, edges, DOT text, SVG or a text tree.

    ``nodes`` lists the tensors root first (``GraphNode``: label, op, shape, value,
    grad); ``edges`` holds ``(parent_key, child_key)`` pairs, one per use of a parent,
    so an input used twice by one op appears twice.
    """

    def __init__(self, root, show_values=True, show_grads=True):
        self.nodes = []
        self.edges = []
        keys = {}
        stack = [root]
        while stack:                                   # iterative: deep graphs are fine
            t = stack.pop()
            if id(t) in keys:
                continue
            keys[id(t)] = len(self.nodes)
            self.nodes.append(GraphNode(len(self.nodes), t, show_values, show_grads))
            stack.extend(reversed(t.parents))
        for node in self.nodes:
            for p in node.tensor.parents:
                self.edges.append((keys[id(p)], node.key))
        self._parents = {n.key: [keys[id(p)] for p in n.tensor.parents] for n in self.nodes}
        for node in self.nodes:                        # the walk is done: hold no tensors
            node.tensor = None

    # DOT ----------------------------------------------------------------------------
    @property
    def source(self):
        """Graphviz DOT text: one box per tensor, arrows from parents to children."""
        out = ["digraph pycnn {", '  rankdir="BT";',
               '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];']
        colors = {"parameter": "#cfe2f3", "constant": "#eeeeee"}
        for n in self.nodes:
            label = "\\n".join(_dot_escape(line) for line in n.lines())
            color = colors.get(n.kind, "#fff2cc")
            out.append(f'  n{n.key} [label="{label}", fillcolor="{color}"];')
        for parent, child in self.edges:
            out.append(f"  n{parent} -> n{child};")
        out.append("}")
        return "\n".join(out) + "\n"

    def pipe(self, format="svg"):
        """The picture as bytes, drawn by Graphviz (the ``graphviz`` package or ``dot``).

        Raises RuntimeError when neither is installed.
        """
        try:
            import graphviz                            # optional: used only if present
        except ImportError:
            graphviz = None
        if graphviz is not None:
            try:
                return graphviz.Source(self.source).pipe(format=format)
            except graphviz.ExecutableNotFound:
                pass
        dot = _shutil.which("dot")
        if dot is None:
            raise RuntimeError("draw_graph: Graphviz's `dot` program is not installed; "
                               "str(graph) is the text tree, graph.source the DOT text")
        done = _subprocess.run([dot, f"-T{format}"], input=self.source.encode(),
                               capture_output=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"draw_graph: dot failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def _repr_svg_(self):
        """SVG for Jupyter when Graphviz is installed; None lets Jupyter show the text."""
        try:
            return self.pipe("svg").decode()
        except (RuntimeError, OSError, _subprocess.SubprocessError):
            return None

    # text tree ------------------------------------------------------------------------
    def text(self):
        """An indented tree from the result down to the leaves.

        A tensor reached a second time (it has two children) is not expanded again but
        marked ``(shown above)``.
        """
        out, seen = [], set()
        stack = [(0, "", "")]                         # (key, prefix, connector)
        while stack:
            key, prefix, connector = stack.pop()
            node = self.nodes[key]
            facts = "  ".join(node.lines())
            if key in seen:
                out.append(f"{prefix}{connector}{node.label} (shown above)")
                continue
            seen.add(key)
            out.append(f"{prefix}{connector}{facts}")
            if not connector:
                child_prefix = prefix
            else:
                child_prefix = prefix + ("    " if connector.startswith("└") else "│   ")
            parents = self._parents[key]
            for i in reversed(range(len(parents))):
                last = i == len(parents) - 1
                stack.append((parents[i], child_prefix, "└── " if last else "├── "))
        return "\n".join(out)

    def __str__(self):
        return self.text()

    def __repr__(self):
        return self.text()


def _dot_escape(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def draw_graph(tensor, show_values=True, show_grads=True):
    """The graph of tensors that produced ``tensor``.

    Args:
        tensor: a pycnn Tensor (usually a loss).
        show_values: write each tensor's numbers (a norm and mean beyond 4 numbers).
        show_grads: write each tensor's ``.grad`` after ``backward()`` (``—`` when
            there is none; call ``t.retain_grad()`` before backward to keep an
            intermediate tensor's gradient).

    Returns:
        a ``Graph``: ``.source`` (DOT), ``.nodes``, ``.edges``; SVG in Jupyter when
        Graphviz is installed, otherwise its text tree.

    Example:
        >>> a = pycnn.tensor([1., 2.], requires_grad=True, name="a")
        >>> e = (a * a).sum(); e.backward()
        >>> print(pycnn.viz.draw_graph(e))
    """
    if not isinstance(tensor, _core.Tensor):
        raise TypeError(f"draw_graph: expected a pycnn Tensor, got {type(tensor).__name__}")
    return Graph(tensor, show_values=show_values, show_grads=show_grads)


# ---- plots --------------------------------------------------------------------------

def _pyplot():
    from ._optional import require                # imported on first plot only
    return require("matplotlib.pyplot", "pycnn.viz's plots")


def activation_curve(fn, x):
    """``(y, dy/dx)`` of an element-wise ``fn`` at the points ``x``, both by pycnn.

    The derivative is autograd's: ``y.backward(ones)`` leaves dy_i/dx_i in ``x.grad``
    because y_i depends on x_i only.
    """
    xt = _core.tensor(_np.asarray(x, dtype=_np.float64), requires_grad=True)
    y = fn(xt)
    if not isinstance(y, _core.Tensor) or y.shape != xt.shape:
        raise ValueError(f"activation_curve: fn must map a tensor of shape {xt.shape} to one "
                         f"of the same shape, got {getattr(y, 'shape', type(y).__name__)}")
    y.backward(_np.ones(xt.shape))
    grad = _np.zeros(xt.shape) if xt.grad is None else xt.grad.numpy()
    return y.numpy().copy(), grad.copy()


def plot_activation(fn, x=None, ax=None, label=None, derivative=True):
    """Plot ``fn`` and (dashed) its derivative computed by pycnn's autograd.

    Returns the matplotlib Axes.
    """
    plt = _pyplot()
    x = _np.linspace(-5, 5, 401) if x is None else _np.asarray(x, dtype=_np.float64)
    y, dy = activation_curve(fn, x)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    label = label or getattr(fn, "__name__", "f")
    line, = ax.plot(x, y, label=label)
    if derivative:
        ax.plot(x, dy, "--", color=line.get_color(), label=f"{label}'")
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.legend(fontsize=8)
    return ax


def plot_activations(fns, x=None, ncols=4, derivative=True):
    """One panel per activation: ``fns`` is a dict ``{title: fn}`` or a list of functions.

    Returns the matplotlib Figure.
    """
    plt = _pyplot()
    items = list(fns.items()) if isinstance(fns, dict) else [
        (getattr(f, "__name__", f"f{i}"), f) for i, f in enumerate(fns)]
    nrows = -(-len(items) // ncols)
    fig, axes = plt.subplots(nrows, min(ncols, len(items)), figsize=(3.2 * min(ncols, len(items)),
                                                                     2.6 * nrows), squeeze=False)
    for ax, (title, fn) in zip(axes.flat, items):
        plot_activation(fn, x, ax=ax, label=title, derivative=derivative)
        ax.set_title(title)
    for ax in list(axes.flat)[len(items):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def image_grid(images, titles=None, ncols=8, cmap="gray", size=1.4, vmin=None, vmax=None):
    """Show images side by side: ``(N, H, W)``, ``(N, H, W, 1)`` or ``(N, H, W, 3)``.

    Returns the matplotlib Figure.
    """
    plt = _pyplot()
    images = _np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (3, 4)):
        raise ValueError(f"image_grid: expected (N, H, W), (N, H, W, 1) or (N, H, W, 3) images, "
                         f"got shape {images.shape}")
    n = images.shape[0]
    if titles is not None and len(titles) != n:
        raise ValueError(f"image_grid: {n} images but {len(titles)} titles")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * nrows),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    fig.tight_layout()
    return fig


def feature_maps(maps, ncols=8, cmap="viridis", titles=None, size=1.4, symmetric=False):
    """The channels of a feature map ``(H, W, C)`` or ``(1, H, W, C)`` as a grid.

    ``symmetric=True`` puts every channel on one colour scale centred on 0 (for signed
    responses such as edge filters' with ``cmap="RdBu_r"``); otherwise each channel is
    scaled to its own range.
    """
    maps = _np.asarray(maps)
    if maps.ndim == 4:
        if maps.shape[0] != 1:
            raise ValueError(f"feature_maps: pass one example, got a batch of {maps.shape[0]}")
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"feature_maps: expected (H, W, C) or (1, H, W, C), got {maps.shape}")
    titles = titles if titles is not None else [f"channel {c}" for c in range(maps.shape[-1])]
    bound = (float(_np.abs(maps).max()) or 1.0) if symmetric else None
    return image_grid(_np.moveaxis(maps, -1, 0), titles=titles, ncols=ncols, cmap=cmap, size=size,
                      vmin=-bound if symmetric else None, vmax=bound)


def filter_grid(kernel, input_channel=0, ncols=8, cmap="RdBu_r", size=1.2):
    """Learned Conv2D filters ``(KH, KW, C_in, filters)`` (Keras layout) as a grid.

    Each filter's slice for ``input_channel`` is shown on a symmetric colour scale, so
    positive weights are red and negative blue in every panel.
    """
    kernel = _np.asarray(kernel)
    if kernel.ndim != 4:
        raise ValueError(f"filter_grid: expected a (KH, KW, C_in, filters) kernel, "
                         f"got {kernel.shape}")
    maps = _np.moveaxis(kernel[:, :, input_channel, :], -1, 0)
    bound = float(_np.abs(maps).max()) or 1.0
    return image_grid(maps, titles=[f"filter {i}" for i in range(maps.shape[0])], ncols=ncols,
                      cmap=cmap, size=size, vmin=-bound, vmax=bound)


def draw_boxes(image, boxes, labels=None, ax=None, box_format="cxcywh", normalized=True,
               colors=None, cmap="gray"):
    """Draw bounding boxes on an image; returns the Axes.

    Args:
        image: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``.
        boxes: ``(K, 4)``; ``box_format`` ``"cxcywh"`` (centre x, centre y, width,
            height — YOLO's) or ``"xyxy"`` (corners).
        normalized: coordinates are fractions of the image width/height (YOLO's).
        labels: optional K strings written at each box's corner.
    """
    plt = _pyplot()
    from ._optional import require
    Rectangle = require("matplotlib.patches", "pycnn.viz.draw_boxes").Rectangle
    image = _np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    boxes = _np.asarray(boxes, dtype=_np.float64).reshape(-1, 4)
    if box_format not in ("cxcywh", "xyxy"):
        raise ValueError(f"draw_boxes: box_format must be 'cxcywh' or 'xyxy', got {box_format!r}")
    if labels is not None and len(labels) != len(boxes):
        raise ValueError(f"draw_boxes: {len(boxes)} boxes but {len(labels)} labels")
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(image, cmap=cmap)
    h, w = image.shape[:2]
    scale = _np.array([w, h, w, h]) if normalized else _np.ones(4)
    colors = colors or ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple"]
    for k, box in enumerate(boxes * scale):
        if box_format == "cxcywh":
            x0, y0, bw, bh = box[0] - box[2] / 2, box[1] - box[3] / 2, box[2], box[3]
        else:
            x0, y0, bw, bh = box[0], box[1], box[2] - box[0], box[3] - box[1]
        color = colors[k % len(colors)]
        # pixel centres sit at integer coordinates in imshow: edges are at -0.5
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), bw, bh, fill=False, lw=2, edgecolor=color))
        if labels is not None:
            ax.text(x0 - 0.5, y0 - 1, str(labels[k]), color=color, fontsize=8,
                    va="bottom")
    ax.axis("off")
    return ax
