"""Pictures of what the lecture computes: the graph of tensors and matplotlib plots.

``draw_graph(e)`` walks the graph that produced ``e`` (each Tensor's ``.op`` and
``.parents``) and returns a ``Graph``: it shows as SVG in Jupyter, laid out and drawn by
pycnn itself (``pycnn.layout``; Graphviz is not needed — ``engine="graphviz"`` uses it
when installed), as an indented text tree in a terminal (its ``str``/``repr``), and
``.source`` is its Graphviz DOT text. Every node carries its value and gradient (keep
every node's gradient with ``backward(retain_grads=True)`` or ``pycnn.keep_grads()``);
``gradcheck=`` colours the leaves by the relative error of their gradient against
finite differences. Plot helpers draw activation curves with their derivatives taken
by pycnn's autograd, image and feature-map grids, learned filters and bounding boxes;
learning curves are ``History.plot()``. matplotlib is imported only when a plot is asked.
"""
import shutil as _shutil
import subprocess as _subprocess

import numpy as _np

from . import _core
from .autograd import walk as _walk
from .display import fmt as _fmt
from .layout import Box as _Box, layered as _layered

__all__ = [
    "Graph", "draw_graph", "plot_activation", "plot_activations", "image_grid",
    "feature_maps", "filter_grid", "draw_boxes", "backward_stepper", "backward_step_graph",
    "relative_error", "activations", "filters", "saliency", "grad_cam", "confusion_matrix",
    "mistakes",
]

SMALL = 4          # a tensor with at most this many numbers shows them; larger ones a norm
COLORS = {"parameter": "#cfe2f3", "constant": "#eeeeee", "op": "#fff2cc"}
# cs231n's reading of a gradient check's relative error
ERROR_BANDS = [(1e-7, "#a8dba8", "fine"), (1e-4, "#e6f0a3", "fine at a kink"),
               (1e-2, "#ffd591", "suspicious"), (_np.inf, "#f4a6a6", "wrong")]


# ---- the graph of tensors -----------------------------------------------------------

def _numbers(a):
    """``[1, 2.5]`` for a small array, ``‖·‖ = 3.162 (mean 0.5)`` for a large one."""
    a = _np.asarray(a)
    if a.size <= SMALL:
        if a.ndim == 0:
            return _fmt(a)
        return "[" + ", ".join(_fmt(v) for v in a.reshape(-1)) + "]"
    return f"‖·‖ = {_fmt(_np.linalg.norm(a.reshape(-1)))} (mean {_fmt(a.mean())})"


def relative_error(analytic, numeric):
    """cs231n's max_i |a_i − n_i| / max(|a_i|, |n_i|) (0 where both are 0)."""
    a, n = _np.asarray(analytic, _np.float64), _np.asarray(numeric, _np.float64)
    scale = _np.maximum(_np.abs(a), _np.abs(n))
    err = _np.where(scale > 0, _np.abs(a - n) / _np.where(scale > 0, scale, 1), 0.0)
    return float(err.max()) if err.size else 0.0


def _band(error):
    return next((color, word) for limit, color, word in ERROR_BANDS if error < limit)


class GraphNode:
    """One tensor of the graph: ``key`` (its place in the walk), label, op and numbers."""

    def __init__(self, key, tensor, show_values, show_grads, grad=None, tensor_grad=True):
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
        if grad is None and tensor_grad and tensor.grad is not None:
            grad = tensor.grad.numpy()
        self.grad = (None if grad is None else _numbers(grad)) if show_grads else None
        self.show_grads = show_grads
        self.error = None                  # gradcheck's relative error, when checked

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
        if self.error is not None:
            out.append(f"gradcheck {self.error:.1e} ({_band(self.error)[1]})")
        return out

    def fill(self):
        if self.error is not None:
            return _band(self.error)[0]
        return COLORS.get(self.kind, COLORS["op"])


class Graph:
    """The graph of tensors behind one result: nodes, edges, SVG, DOT text or a text tree.

    ``nodes`` lists the tensors root first (``GraphNode``: label, op, shape, value,
    grad); ``edges`` holds ``(parent_key, child_key)`` pairs, one per use of a parent,
    so an input used twice by one op appears twice. ``svg()`` is pycnn's own drawing
    (Jupyter shows it), ``save(path)`` writes it (``.svg`` or, through matplotlib,
    ``.png``), ``pipe(format)`` asks Graphviz instead.
    """

    def __init__(self, root, show_values=True, show_grads=True, grads=None, highlight=(),
                 marked=(), engine="pycnn", grads_only=False):
        if engine not in ("pycnn", "graphviz"):
            raise ValueError(f"draw_graph: engine must be 'pycnn' or 'graphviz', got "
                             f"{engine!r}")
        self.engine = engine
        tensors, parents = _walk(root)
        grads = grads or {}
        self.nodes = [GraphNode(k, t, show_values, show_grads, grads.get(id(t)),
                                tensor_grad=not grads_only) for k, t in enumerate(tensors)]
        self.edges = [(p, node.key) for node in self.nodes for p in parents[node.key]]
        self._parents = dict(enumerate(parents))
        self.highlight = {k for k, t in enumerate(tensors) if any(t is h for h in highlight)}
        self.marked = {k for k, t in enumerate(tensors) if any(t is m for m in marked)}
        self._ids = {id(t): k for k, t in enumerate(tensors)}
        for node in self.nodes:                        # the walk is done: hold no tensors
            node.tensor = None

    # pycnn's own picture ----------------------------------------------------------------
    def layout(self):
        """Boxes and arrows laid out by ``pycnn.layout`` (the result on top)."""
        boxes = []
        for n in self.nodes:
            stroke, width = "#555555", 1.0
            if n.key in self.highlight:
                stroke, width = "#d62728", 3.0
            elif n.key in self.marked:
                stroke, width = "#2ca02c", 2.5
            boxes.append(_Box(n.key, n.lines(), fill=n.fill(), stroke=stroke,
                             stroke_width=width, title=n.label))
        return _layered(boxes, self.edges, direction="up")

    def svg(self):
        """The picture as SVG text, drawn by pycnn (no Graphviz)."""
        return self.layout().svg()

    def save(self, path, dpi=100):
        """Write the picture: ``.svg`` as pycnn draws it, ``.png`` etc. via matplotlib."""
        self.layout().save(path, dpi=dpi)

    # DOT ----------------------------------------------------------------------------
    @property
    def source(self):
        """Graphviz DOT text: one box per tensor, arrows from parents to children."""
        out = ["digraph pycnn {", '  rankdir="BT";',
               '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];']
        for n in self.nodes:
            label = "\\n".join(_dot_escape(line) for line in n.lines())
            out.append(f'  n{n.key} [label="{label}", fillcolor="{n.fill()}"];')
        for parent, child in self.edges:
            out.append(f"  n{parent} -> n{child};")
        out.append("}")
        return "\n".join(out) + "\n"

    def pipe(self, format="svg"):
        """The picture as bytes, drawn by Graphviz (the ``graphviz`` package or ``dot``).

        Raises RuntimeError when neither is installed (``svg()`` needs neither).
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
                               "graph.svg() is pycnn's own drawing, str(graph) the text tree")
        done = _subprocess.run([dot, f"-T{format}"], input=self.source.encode(),
                              capture_output=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"draw_graph: dot failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def _repr_svg_(self):
        """SVG for Jupyter: pycnn's own, or Graphviz's with ``engine="graphviz"`` (falling
        back to pycnn's when Graphviz is missing)."""
        if self.engine == "graphviz":
            try:
                return self.pipe("svg").decode()
            except (RuntimeError, OSError, _subprocess.SubprocessError):
                pass
        return self.svg()
    def _repr_html_(self):
        """The SVG inline (JupyterLab shows an SVG output as an image; inline, its text
        can be selected and searched)."""
        return f"<div class='pycnn-graph'>{self._repr_svg_()}</div>"

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


def draw_graph(tensor, show_values=True, show_grads=True, gradcheck=None, engine="pycnn",
               eps=1e-6):
    """The graph of tensors that produced ``tensor``.

    Args:
        tensor: a pycnn Tensor (usually a loss).
        show_values: write each tensor's numbers (a norm and mean beyond 4 numbers).
        show_grads: write each tensor's ``.grad`` after ``backward()`` (``—`` when
            there is none: call ``backward(retain_grads=True)``, or backward inside
            ``with pycnn.keep_grads():``, to keep every node's gradient).
        gradcheck: a function of no arguments that recomputes ``tensor`` from the same
            leaves (``lambda: loss(w, x)``). Each leaf that requires grad is then
            checked against central finite differences (step ``eps``, float64 leaves)
            and coloured by the relative error: green below 1e-7 (fine), yellow below
            1e-4 (fine at a kink), orange below 1e-2 (suspicious), red above (wrong).
            The analytic gradient is autograd's, taken here without touching ``.grad``.
        engine: ``"pycnn"`` (pycnn's own layout and SVG) or ``"graphviz"`` (the
            ``dot`` program when installed, else pycnn's).

    Returns:
        a ``Graph``: ``.nodes``, ``.edges``, ``.svg()``, ``.save(path)``, ``.source``
        (DOT); SVG in Jupyter, its text tree in a terminal.

    Example:
        >>> a = pycnn.tensor([1., 2.], requires_grad=True, name="a")
        >>> e = (a * a).sum(); e.backward(retain_grads=True)
        >>> pycnn.viz.draw_graph(e).save("graph.svg")
    """
    if not isinstance(tensor, _core.Tensor):
        raise TypeError(f"draw_graph: expected a pycnn Tensor, got {type(tensor).__name__}")
    graph = Graph(tensor, show_values=show_values, show_grads=show_grads, engine=engine)
    if gradcheck is not None:
        errors = _leaf_errors(tensor, gradcheck, eps)
        for node in graph.nodes:
            node.error = errors.get(node.key)
    return graph


def _leaf_errors(E, fn, eps):
    """{walk key: relative error} for every leaf of E's graph that requires grad."""
    from .explain.backward import _sweep
    if not callable(fn):
        raise TypeError(f"draw_graph: gradcheck must be a function recomputing the result "
                        f"(lambda: ...), got {type(fn).__name__}")
    if E.size != 1:
        raise ValueError(f"draw_graph: gradcheck needs a scalar result, this one has shape "
                         f"{tuple(E.shape)}")
    _, grads, _, _ = _sweep(E)
    tensors, _ = _walk(E)
    errors = {}
    from .autograd import no_grad
    for key, t in enumerate(tensors):
        if t.op is not None or not t.requires_grad:
            continue
        if t.dtype != _np.float64:
            raise TypeError(f"draw_graph: gradcheck needs float64 leaves ({t.name or f't{key}'}"
                            f" is {t.dtype}): finite differences in float32 are too coarse")
        flat = t.numpy().reshape(-1)                 # the leaf's own memory, nudged in place
        numeric = _np.empty(flat.size)
        with no_grad():
            for j in range(flat.size):
                old = flat[j]
                flat[j] = old + eps
                plus = float(_np.asarray(fn()).reshape(-1)[0])
                flat[j] = old - eps
                minus = float(_np.asarray(fn()).reshape(-1)[0])
                flat[j] = old
                numeric[j] = (plus - minus) / (2 * eps)
        errors[key] = relative_error(grads[id(t)].reshape(-1), numeric)
    return errors


def backward_stepper(E, grad=None):
    """Step through ``E``'s backward one node at a time (ipywidgets): a slider (and a
    play button) over the reverse topological order; the graph shows each tensor's
    gradient as far as the sweep has got, the current node outlined red and the parents
    it adds to green, and the step's numbers below it.

    Without a kernel, ``backward_steps(E)`` (``pycnn.explain.backward``) gives the same
    steps and ``backward_step_graph(E, steps, i)`` the graph of step ``i``.
    """
    import ipywidgets as widgets
    from .explain.backward import backward_steps
    steps = backward_steps(E, grad)
    picture, words = widgets.HTML(), widgets.HTML()
    slider = widgets.IntSlider(value=0, min=0, max=len(steps) - 1, description="step")
    play = widgets.Play(value=0, min=0, max=len(steps) - 1, interval=1200)
    widgets.jslink((play, "value"), (slider, "value"))

    def show(change=None):
        i = slider.value
        picture.value = backward_step_graph(E, steps, i).svg()
        words.value = "<pre>" + "\n".join(_html_escape(line) for line in steps[i].text()) + \
            "</pre>"
    slider.observe(show, names="value")
    show()
    box = widgets.VBox([widgets.HBox([play, slider]), picture, words])
    box.steps = steps
    return box


def backward_step_graph(E, steps, i):
    """The graph after step ``i`` of the sweep: gradients so far, node ``i`` outlined."""
    grads = {}
    for s in steps[:i + 1]:
        grads[id(s.tensor)] = s.grad
        for p, _, _, total in s.contributions:
            grads[id(p)] = total
    parents = [p for p, _, _, _ in steps[i].contributions]
    return Graph(E, grads=grads, highlight=[steps[i].tensor], marked=parents, grads_only=True)


def _html_escape(s):
    import html
    return html.escape(s)


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
        if labels is not None:               # above the box, or inside it at the top edge
            inside = y0 - 0.5 < 0.06 * h
            ax.text(x0, y0 if inside else y0 - 1, str(labels[k]), color=color, fontsize=9,
                    va="top" if inside else "bottom", clip_on=True,
                    bbox=dict(facecolor="black", alpha=0.4, pad=1, lw=0) if inside else None)
    ax.axis("off")
    return ax


# ---- any model, opened up (the numbers come from pycnn.inside) -------------------------

def _image(x):
    x = _np.asarray(x)
    if x.ndim == 4:
        x = x[0]
    return x[..., 0] if x.ndim == 3 and x.shape[-1] == 1 else x


def activations(model, x, max_channels=8, cmap="viridis", size=1.1):
    """Every layer's output for one image: feature maps as rows of channels, vector
    outputs (Dense, softmax) as bars. Returns the Figure; ``fig.outputs`` holds the
    arrays by layer name (``pycnn.inside.layer_outputs``)."""
    from .inside import layer_outputs
    plt = _pyplot()
    outputs = layer_outputs(model, _np.asarray(x)[:1] if _np.asarray(x).ndim == 4 else x)
    names = list(outputs)
    ncols = max_channels + 1
    fig, axes = plt.subplots(len(names) + 1, ncols, squeeze=False,
                             figsize=(size * ncols, size * (len(names) + 1) + 0.2))
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(_image(x), cmap="gray")
    axes[0, 0].set_title("input", fontsize=8)
    for row, name in enumerate(names, start=1):
        out = outputs[name][0]
        axes[row, 0].text(0, 0.5, f"{name}\n{tuple(out.shape)}", fontsize=7, va="center")
        if out.ndim == 3:
            for c in range(min(max_channels, out.shape[-1])):
                axes[row, c + 1].imshow(out[..., c], cmap=cmap)
                if row == 1 or c == 0:
                    axes[row, c + 1].set_title(f"ch {c}", fontsize=7)
        else:
            flat = out.reshape(-1)
            bar = fig.add_subplot(axes.shape[0], 1, row + 1)
            bar.bar(_np.arange(flat.size), flat, color="tab:blue", width=0.8)
            bar.set_xlim(-0.5, flat.size - 0.5)
            bar.set_yticks([])
            bar.set_xticks([] if flat.size > 20 else _np.arange(flat.size))
            bar.tick_params(labelsize=6)
            pos = bar.get_position()
            left = axes[row, 1].get_position().x0
            bar.set_position([left, pos.y0, pos.x1 - left, pos.height])
    fig.outputs = outputs
    return fig


def filters(layer, input_channel=0, ncols=8):
    """A convolution's learned kernels (one panel per filter, input channel
    ``input_channel``; RGB when the layer reads 3 channels and ``input_channel="rgb"``).
    Conv2D; Conv2DTranspose (its kernel (kh, kw, filters, C_in) read as C_in → filters);
    DepthwiseConv2D and SeparableConv2D (the depthwise kernels: one per input channel
    and multiplier, each reading its own channel, so ``input_channel`` is not used)."""
    weights = layer.get_weights() if hasattr(layer, "get_weights") else []
    kind = type(layer).__name__
    if kind not in ("Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D") \
            or not weights:
        raise ValueError(f"filters: {getattr(layer, 'name', layer)!r} is not a built "
                         f"convolution (Conv2D, Conv2DTranspose, DepthwiseConv2D, "
                         f"SeparableConv2D): its kernels are what is drawn")
    kernel = _np.asarray(weights[0])
    if kind == "Conv2DTranspose":
        kernel = _np.swapaxes(kernel, 2, 3)             # (kh, kw, C_in, filters)
    elif kind in ("DepthwiseConv2D", "SeparableConv2D"):
        kh, kw, c, m = kernel.shape                     # channel c's m kernels
        kernel = kernel.reshape(kh, kw, 1, c * m)
        input_channel = 0 if input_channel != "rgb" else input_channel
    if input_channel == "rgb":
        if kernel.shape[2] != 3:
            raise ValueError(f"filters: rgb needs 3 input channels, {layer.name} has "
                             f"{kernel.shape[2]}")
        k = _np.moveaxis(kernel, -1, 0)
        lo, hi = k.min(), k.max()
        fig = image_grid((k - lo) / (hi - lo or 1), ncols=ncols,
                         titles=[f"filter {i}" for i in range(k.shape[0])])
    else:
        fig = filter_grid(kernel, input_channel=input_channel, ncols=ncols)
    what = ("depthwise kernels, each on its own channel" if kind in
            ("DepthwiseConv2D", "SeparableConv2D") else f"kernels, input channel {input_channel}")
    fig.suptitle(f"{layer.name}: {kernel.shape[0]}×{kernel.shape[1]} {what}", fontsize=9)
    fig.tight_layout()
    return fig


def saliency(model, x, class_index=None):
    """The image and |∂ score/∂x| (Simonyan et al. 2014) side by side, and overlaid.
    Returns the Figure; ``fig.map`` is the saliency map, ``fig.class_index`` the class."""
    from .inside import saliency_map
    plt = _pyplot()
    sal, c = saliency_map(model, x, class_index)
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
    img = _image(x)
    axes[0].imshow(img, cmap="gray")
    axes[0].set_title("input", fontsize=9)
    axes[1].imshow(sal, cmap="hot")
    axes[1].set_title(f"|∂ score_{c} / ∂x|", fontsize=9)
    axes[2].imshow(img, cmap="gray")
    axes[2].imshow(sal, cmap="hot", alpha=0.6)
    axes[2].set_title("overlaid", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    fig.map, fig.class_index = sal, c
    return fig


def grad_cam(model, x, layer, class_index=None, alpha=0.5):
    """Grad-CAM of ``layer`` for ``class_index`` (default: the predicted class), upsampled
    and overlaid on the image. Returns the Figure; ``fig.map`` is the (H, W) heat map,
    ``fig.coarse`` the layer-sized one, ``fig.class_index`` the class."""
    from .inside import _layer, grad_cam_map
    plt = _pyplot()
    heat, coarse, c = grad_cam_map(model, x, layer, class_index)
    name = _layer(model, layer).name
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
    img = _image(x)
    axes[0].imshow(img, cmap="gray")
    axes[0].set_title("input", fontsize=9)
    axes[1].imshow(coarse, cmap="jet", vmin=0, vmax=1)
    axes[1].set_title(f"Grad-CAM at {name} {coarse.shape}", fontsize=9)
    axes[2].imshow(img, cmap="gray")
    axes[2].imshow(heat, cmap="jet", alpha=alpha, vmin=0, vmax=1)
    axes[2].set_title(f"class {c}, overlaid", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    fig.map, fig.coarse, fig.class_index = heat, coarse, c
    return fig


def confusion_matrix(y_true, y_pred, class_names=None, normalize=False, cmap="Blues"):
    """``metrics.confusion_matrix`` drawn: true classes down, predictions across (labels,
    one-hot or probability rows: the arg-max is the class), each
    cell's count written in it (row fractions with ``normalize=True``). Returns the
    Figure; ``fig.counts`` is the matrix."""
    from .metrics import confusion_matrix as counts_of
    plt = _pyplot()
    t, p = (_np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in (y_true, y_pred))
    t = t.argmax(axis=-1) if t.ndim == 2 and t.shape[1] > 1 else t.reshape(-1)
    p = p.argmax(axis=-1) if p.ndim == 2 and p.shape[1] > 1 else p.reshape(-1)
    n = len(class_names) if class_names else int(max(t.max(initial=0), p.max(initial=0))) + 1
    counts = counts_of(t.astype(_np.int64), p.astype(_np.int64), n)
    shown = counts / _np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    n = counts.shape[0]
    names = class_names or [str(i) for i in range(n)]
    fig, ax = plt.subplots(figsize=(1.0 + 0.45 * n, 0.8 + 0.45 * n))
    ax.imshow(shown, cmap=cmap)
    top = shown.max() or 1
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}" if normalize else str(int(counts[i, j]))
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > top / 2 else "black")
    ax.set_xticks(range(n), names, fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = _np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"accuracy {accuracy:.1%} ({int(_np.trace(counts))} of {int(counts.sum())})",
                 fontsize=9)
    fig.tight_layout()
    fig.counts = counts
    return fig


def mistakes(model, x, y, n=8, class_names=None, ncols=8):
    """The ``n`` most confident wrong predictions, each titled "true → predicted (p)".
    Returns the Figure; ``fig.indices`` are their positions in x."""
    from .inside import most_confident_mistakes
    idx, true, pred, prob = most_confident_mistakes(model, x, y, n)
    name = (lambda k: class_names[k]) if class_names else str
    if idx.size == 0:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(3, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
    else:
        fig = image_grid(_np.asarray(x)[idx], ncols=ncols,
                         titles=[f"{name(t)} → {name(p)} ({q:.0%})"
                                 for t, p, q in zip(true, pred, prob)])
    fig.indices = idx
    return fig
