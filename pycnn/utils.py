"""Small helpers Keras users expect under ``keras.utils`` (``to_categorical``, ``normalize``,
``set_random_seed``), and ``yolo_decode``."""
import random as _python_random

import numpy as _np

from . import _core
from . import ops as _ops

__all__ = ["to_categorical", "normalize", "set_random_seed", "yolo_decode", "plot_model",
           "model_graph"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class indices → one-hot rows: ``to_categorical([1, 0], 3)`` is [[0, 1, 0], [1, 0, 0]].

    Args:
        y: integer class indices, any shape; a trailing axis of 1 is dropped (Keras).
        num_classes: the number of classes (default: max(y) + 1).
    Returns:
        An array of shape y.shape + (num_classes,).
    """
    y = _np.asarray(y)
    if y.size and (y.dtype.kind not in "iub" and not _np.all(y == _np.round(y))):
        raise ValueError("to_categorical: y must hold integer class indices")
    y = y.astype(_np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"to_categorical: class indices must be in [0, {num_classes}), got "
                         f"values from {int(y.min())} to {int(y.max())}")
    return _np.eye(num_classes, dtype=dtype)[y]


# ---- plot_model: the graph of layers, laid out by pycnn (no pydot, no Graphviz) -------

def _shape_text(shape):
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def model_graph(model):
    """The layers of ``model`` as ``(boxes, edges)``: each box ``(key, name, class name,
    input shape, output shape)`` and each edge ``(from_key, to_key)``.

    A graph model (functional, or any model whose ``_nodes`` lists its calls) gives one
    box per layer and an edge per connection, branches and merges included; a plain
    Sequential gives its input and its chain of layers.
    """
    nodes = list(getattr(model, "_nodes", None) or [])
    if nodes:
        keys, boxes, edges = {}, [], []
        for node in nodes:                         # execution order: parents come first
            op = node.operation
            if id(op) not in keys:
                keys[id(op)] = len(boxes)
                shapes = node.input_shapes
                boxes.append((len(boxes), op.name, type(op).__name__,
                              shapes[0] if len(shapes) == 1 else list(shapes) or None,
                              node.output_shape))
            for parent in node.parent_nodes:
                edge = (keys[id(parent.operation)], keys[id(op)])
                if edge not in edges:
                    edges.append(edge)
        return boxes, edges
    if not getattr(model, "built", False):
        raise ValueError(f"plot_model: {model.name} is not built yet; build it (an input "
                         f"shape, build(), or a first fit/predict) so its shapes are known")
    shapes = [model.input_shape] + list(model._output_shapes)
    boxes = [(0, "input", "InputLayer", shapes[0], shapes[0])]
    boxes += [(i + 1, layer.name, type(layer).__name__, shapes[i], shapes[i + 1])
              for i, layer in enumerate(model.layers)]
    return boxes, [(i, i + 1) for i in range(len(boxes) - 1)]


class ModelPlot:
    """What ``plot_model`` returns: SVG in Jupyter (``_repr_svg_``), ``svg()``,
    ``save(path)``, and ``layout`` (the boxes and arrows)."""

    def __init__(self, layout):
        self.layout = layout

    def svg(self):
        return self.layout.svg()

    def _repr_svg_(self):
        return self.svg()

    def _repr_html_(self):
        return f"<div class='pycnn-graph'>{self.svg()}</div>"

    def save(self, path, dpi=100):
        self.layout.save(path, dpi=dpi)


def plot_model(model, to_file=None, show_shapes=True, show_layer_names=True, dpi=100,
               rankdir="TB", **kwargs):
    """Draw the graph of layers, input on top (Keras' ``plot_model``), with pycnn's own
    layout (``pycnn.layout``): no pydot, no Graphviz.

    Args:
        model: a Sequential, functional or subclassed model (built).
        to_file: ``None`` (just return the picture), or a path: ``.svg`` is written as
            pycnn draws it, ``.png`` (and any format matplotlib writes) through matplotlib.
        show_shapes: write each layer's input and output shapes.
        show_layer_names: write each layer's name before its class.
        dpi: resolution of a PNG.
        rankdir: ``"TB"`` (top to bottom, Keras' default) or ``"BT"``.
        **kwargs: Keras' other options (``show_dtype``, ``expand_nested``,
            ``show_layer_activations``, ...) are accepted and ignored.

    Returns:
        a ``ModelPlot``: it shows as SVG in Jupyter.
    """
    from .layout import Box, layered
    if rankdir not in ("TB", "BT"):
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'BT', got {rankdir!r}")
    entries, edges = model_graph(model)
    boxes = []
    for key, name, kind, shape_in, shape_out in entries:
        lines = [f"{name} ({kind})" if show_layer_names else kind]
        if show_shapes:
            if kind != "InputLayer" and shape_in is not None:
                lines.append(f"input:  {_shape_text(shape_in)}")
            lines.append(f"output: {_shape_text(shape_out)}")
        fill = "#cfe2f3" if kind == "InputLayer" else "#fff2cc"
        boxes.append(Box(key, lines, fill=fill, title=name))
    picture = ModelPlot(layered(boxes, edges, direction="down" if rankdir == "TB" else "up"))
    if to_file is not None:
        picture.save(to_file, dpi=dpi)
    return picture


def yolo_decode(y_pred, S=7, B=2, C=20, score_threshold=0.0, box_format="xyxy"):
    """The boxes a YOLO v1 grid predicts: per image, every cell's B boxes with their
    class and score, in image fractions (multiply by the image size for pixels).

    Cell (row, col) box j holds (x, y, w, h, confidence): its centre is
    ((col + x) / S, (row + y) / S), its size (w, h) clamped at 0 (as ``yolo_loss`` reads
    them). The cell's C class probabilities p give each box its class argmax p and its
    score confidence · max p — YOLO v1's class-specific confidence
    Pr(class | object) · Pr(object) · IoU. Boxes scoring at most ``score_threshold`` are
    dropped; follow with ``pycnn.metrics.batched_non_max_suppression`` per image.

    Args:
        y_pred: (N, S, S, B·5 + C) network outputs.
        box_format: ``"xyxy"`` (x1, y1, x2, y2) or ``"cxcywh"``.

    Returns:
        ``(boxes, scores, classes)``: three lists with one array per image, (m, 4)
        float32, (m,) float32 and (m,) int64, best score first — the per-image lists
        ``pycnn.metrics.mean_average_precision`` takes.
    """
    p = _np.asarray(y_pred)
    S, B, C = int(S), int(B), int(C)
    if p.ndim != 4 or p.shape[1:] != (S, S, B * 5 + C):
        raise ValueError(f"yolo_decode: y_pred must have shape (N, {S}, {S}, {B * 5 + C}) for "
                         f"S={S}, B={B}, C={C}, got {p.shape}")
    if box_format not in ("xyxy", "cxcywh"):
        raise ValueError(f"yolo_decode: box_format must be 'xyxy' or 'cxcywh', got "
                         f"{box_format!r}")
    n = len(p)
    cells = p[..., :B * 5].reshape(n, S, S, B, 5).astype(_np.float64)
    probs = p[..., B * 5:].astype(_np.float64)
    row, col = _np.meshgrid(_np.arange(S), _np.arange(S), indexing="ij")
    cx = (col[None, :, :, None] + cells[..., 0]) / S
    cy = (row[None, :, :, None] + cells[..., 1]) / S
    w, h = _np.maximum(cells[..., 2], 0), _np.maximum(cells[..., 3], 0)
    classes = _np.broadcast_to(_np.argmax(probs, axis=-1)[..., None], cx.shape) if C else \
        _np.zeros(cx.shape, _np.int64)
    scores = cells[..., 4] * (_np.max(probs, axis=-1)[..., None] if C else 1.0)
    if box_format == "xyxy":
        boxes = _np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)
    else:
        boxes = _np.stack([cx, cy, w, h], axis=-1)
    boxes, scores, classes = boxes.reshape(n, -1, 4), scores.reshape(n, -1), \
        classes.reshape(n, -1)
    out_boxes, out_scores, out_classes = [], [], []
    for i in range(n):                      # per image: its kept boxes, best first
        keep = _np.nonzero(scores[i] > score_threshold)[0]
        keep = keep[_np.argsort(-scores[i, keep], kind="stable")]
        out_boxes.append(boxes[i, keep].astype(_np.float32))
        out_scores.append(scores[i, keep].astype(_np.float32))
        out_classes.append(classes[i, keep].astype(_np.int64))
    return out_boxes, out_scores, out_classes


def normalize(x, axis=-1, order=2):
    """x divided by its ``order``-norm along ``axis``, as Keras' ``utils.normalize``.

    A NumPy array (or list) gives a NumPy array; a norm of 0 is taken as 1, so zero vectors
    stay zero. A pycnn Tensor gives a differentiable Tensor, x / max(‖x‖, 1e-7) (Keras'
    ``ops.normalize``, order >= 1).
    """
    if isinstance(x, _core.Tensor):
        return _ops.normalize(x, axis=axis, order=order)
    x = _np.asarray(x)
    norm = _np.atleast_1d(_np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / _np.expand_dims(norm, axis if axis is not None else -1)


def set_random_seed(seed):
    """Seed every generator a pycnn run draws from: Python's ``random``, NumPy's global one,
    and pycnn's own (weights, dropout masks, ``fit``'s shuffling, ``pycnn.random``), as
    Keras' ``utils.set_random_seed`` does for its backends."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed: seed must be an int, got {seed!r}")
    from . import set_seed          # the package's set_seed also seeds fit's shuffling
    _python_random.seed(seed)
    _np.random.seed(seed % 2 ** 32)
    set_seed(seed)
