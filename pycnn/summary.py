"""model.summary(): for a Sequential, Keras 2's table (the lecture's), optionally with the
arithmetic behind each count, and the same table as HTML for Jupyter; for functional and
subclassed models, Keras 3's table (box drawing, a "Connected to" column when the graph
is not a chain, memory sizes), laid out as Keras 3 lays it out (``graph_summary_lines``).

    Model: "sequential_1"
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    dense_1 (Dense)              (None, 512)               401920
    _________________________________________________________________
    ...
    =================================================================
    Total params: 669,706
    Trainable params: 669,706
    Non-trainable params: 0
    _________________________________________________________________

Rows are laid out exactly as Keras 2 does (``print_row``: each field cut at its column's
end, one space kept before the next), trailing spaces included.
"""
import html as _html

import numpy as _np

__all__ = ["print_summary", "summary_lines", "graph_summary_lines", "summary_html",
           "layer_arithmetic"]

HEADER = ["Layer (type)", "Output Shape", "Param #"]
ARITHMETIC_HEADER = "Arithmetic"


def layer_arithmetic(layer, input_shape):
    """The formula behind a layer's parameter count, or '' when there is none to show.

    Dense:  (inputs + 1) · units           (784 + 1) · 512 = 401920
    Conv2D: (kh·kw·c_in + 1) · filters     (3·3·1 + 1) · 32 = 320
    BatchNormalization: 4 · C (γ, β and the moving mean and variance, 2 · C non-trainable)
    (without a bias the "+ 1" goes).
    """
    count = int(layer.count_params())
    if count == 0:
        return ""
    from . import arithmetic
    config = layer.get_config()
    kind = type(layer).__name__
    c_in = input_shape[-1] if input_shape else None
    if kind == "Dense" and c_in is not None:
        if config.get("use_bias", True):
            value = arithmetic.dense_params(int(c_in), int(config["units"]))
            if int(value) == count:
                return value.formula
        return f"{c_in} · {config['units']} = {count}"
    if kind == "Conv2D" and c_in is not None and int(config.get("groups", 1) or 1) > 1:
        kh, kw = config["kernel_size"]
        per = int(c_in) // int(config["groups"])
        bias = " + 1" if config.get("use_bias", True) else ""
        return (f"({kh}·{kw}·{per}{bias}) · {config['filters']} = {count} "
                f"({config['groups']} groups of {per} channels)")
    if kind in ("Conv2D", "Conv2DTranspose") and c_in is not None:
        kh, kw = config["kernel_size"]
        if config.get("use_bias", True):
            value = arithmetic.conv2d_params(int(kh), int(kw), int(c_in), int(config["filters"]))
            if int(value) == count:
                return value.formula
        return f"{kh}·{kw}·{c_in} · {config['filters']} = {count}"
    if kind == "DepthwiseConv2D" and c_in is not None:
        kh, kw = config["kernel_size"]
        m = int(config.get("depth_multiplier", 1))
        bias = 1 if config.get("use_bias", True) else 0
        text = f"({kh}·{kw} + 1)" if bias else f"{kh}·{kw}"
        return f"{text} · {c_in}·{m} = {count}"
    if kind == "SeparableConv2D" and c_in is not None:
        kh, kw = config["kernel_size"]
        m, f = int(config.get("depth_multiplier", 1)), int(config["filters"])
        bias = f" + {f}" if config.get("use_bias", True) else ""
        return f"{kh}·{kw}·{c_in}·{m} + {c_in}·{m}·{f}{bias} = {count}"
    if kind == "Conv1D" and c_in is not None:
        k = config["kernel_size"]
        k = k[0] if isinstance(k, (tuple, list)) else k
        groups = int(config.get("groups", 1) or 1)
        per = int(c_in) // groups
        if config.get("use_bias", True):
            return f"({k}·{per} + 1) · {config['filters']} = {count}"
        return f"{k}·{per} · {config['filters']} = {count}"
    if kind == "BatchNormalization" and input_shape:
        c = input_shape[int(config["axis"])]
        per = 2 + bool(config.get("scale", True)) + bool(config.get("center", True))
        return f"{per} · {c} = {count} (2 · {c} non-trainable)"
    return ""


def _rows(model, with_arithmetic):
    """(name (type), output shape, param count[, arithmetic]) per layer."""
    shapes = [model.input_shape] + list(model._output_shapes)
    rows = []
    for i, layer in enumerate(model.layers):
        row = (f"{layer.name} ({type(layer).__name__})", str(shapes[i + 1]),
               int(layer.count_params()))
        rows.append(row + (layer_arithmetic(layer, shapes[i]),) if with_arithmetic else row)
    return rows


def _param_counts(model):
    trainable = sum(int(_np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(_np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, non_trainable


def _print_row(fields, positions):
    """Keras 2's print_row: field i is cut to end at positions[i], padded with spaces;
    the character before the next field is always a space."""
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += str(field)
        line = line[:positions[i]]
        line += " " * (positions[i] - len(line))
    return line


def _check_built(model):
    if not model.built:
        raise ValueError(f"{model.name}: this model has not yet been built. Build the model "
                         f"first by calling build() or fit() with some data, or specify an "
                         f"input_shape in the first layer for automatic build.")


def summary_lines(model, line_length=None, positions=None, show_arithmetic=False,
                  show_flops=False, show_memory=False):
    """The summary as a list of lines (what print_summary prints). ``show_flops`` and
    ``show_memory`` add each layer's multiply-adds and activation memory per example,
    with their arithmetic (``pycnn.cost``), and their totals."""
    _check_built(model)
    rows = _rows(model, show_arithmetic)
    header = list(HEADER)
    if show_arithmetic:
        header.append(ARITHMETIC_HEADER)
        widest = max([len(ARITHMETIC_HEADER)] + [len(r[3]) for r in rows])
        line_length = line_length or 65 + widest + 2
        positions = positions or [29, 55, 65, line_length]
    else:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    totals = []
    if show_flops or show_memory:
        from .cost import cost_columns
        extra_header, extra, totals = cost_columns(model, model.layers, show_flops,
                                                   show_memory)
        for k, name in enumerate(extra_header):
            widest = max([len(name)] + [len(fields[k]) for fields in extra]) + 2
            positions = list(positions) + [positions[-1] + widest]
        header += extra_header
        rows = [tuple(row) + tuple(fields) for row, fields in zip(rows, extra)]
        line_length = positions[-1]
    if len(positions) != len(header):
        raise ValueError(f"summary: positions must give {len(header)} column ends, got "
                         f"{len(positions)}")
    lines = [f'Model: "{model.name}"', "_" * line_length, _print_row(header, positions),
             "=" * line_length]
    for i, row in enumerate(rows):
        lines.append(_print_row(row, positions))
        lines.append(("=" if i == len(rows) - 1 else "_") * line_length)
    if not rows:
        lines.append("=" * line_length)
    trainable, non_trainable = _param_counts(model)
    lines += [f"Total params: {trainable + non_trainable:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {non_trainable:,}"] + totals + ["_" * line_length]
    return lines


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  show_arithmetic=False, expand_nested=False, show_trainable=False,
                  show_flops=False, show_memory=False):
    """Prints the summary, one line per call of print_fn (default: print)."""
    from .models import Sequential
    print_fn = print if print_fn is None else print_fn
    if isinstance(model, Sequential) and not expand_nested and not show_trainable:
        lines = summary_lines(model, line_length, positions, show_arithmetic, show_flops,
                              show_memory)
    else:
        lines = graph_summary_lines(model, line_length, positions, expand_nested,
                                    show_trainable, show_flops, show_memory)
    for line in lines:
        print_fn(line)


# ---- Keras 3's table -----------------------------------------------------------------------

def _sequential_like(model):
    """Keras 3 drops "Connected to" for chains: one node per depth, one input each."""
    nodes = model._nodes
    if not nodes:
        return True
    by_depth = model.__dict__["_graph"].map.nodes_by_depth
    for group in by_depth.values():
        if len(group) > 1 or (len(group) == 1 and len(group[0].input_tensors) > 1):
            return False
    mine = {id(n) for n in nodes}
    for layer in model.layers:
        if sum(id(n) in mine for n in layer.__dict__.get("_inbound_nodes", ())) > 1:
            return False
    return True


def _shape_text(layer, nodes):
    own = [n for n in layer.__dict__.get("_inbound_nodes", ()) if nodes is None or id(n) in nodes]
    if not own:
        own = layer.__dict__.get("_inbound_nodes", ())
    if not own:             # built by a call on data (a subclassed model): Keras' rule
        shape = layer.__dict__.get("_build_input_shape")
        if shape is None or not getattr(type(layer), "_keras_build_config", True):
            return "?"
        try:
            out = layer.compute_output_shape(shape)
        except (NotImplementedError, ValueError, TypeError):
            return "?"
        return f"({', '.join(str(d) for d in out)})" if isinstance(out, tuple) else "?"
    shapes = [f"({', '.join(str(d) for d in t.shape)})" for t in own[-1].output_tensors]
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _connections(layer, nodes):
    parts = []
    for node in layer.__dict__.get("_inbound_nodes", ()):
        if nodes is not None and id(node) not in nodes:
            continue
        for t in node.input_tensors:
            h = t._keras_history
            parts.append(f"{h.operation.name}[{h.node_index}][{h.tensor_index}]")
    return ", ".join(parts) or "-"


def _memory(count_bytes):
    for unit in ["B", "KB", "MB", "GB", "TB", "PB"]:
        if count_bytes / 1024 < 1:
            return f"{count_bytes:.2f} {unit}"
        count_bytes /= 1024
    return f"{count_bytes:.2f} PB"


def _weights_bytes(weights):
    unique = {id(w): w for w in weights}.values()
    return sum(int(_np.prod(w.shape)) * _np.dtype(w.dtype).itemsize for w in unique)


def _wrap(text, width):
    """rich's wrapping of a cell: words greedily, a word longer than the width alone on
    its line and cut with an ellipsis."""
    body = text.lstrip(" ")
    lines, line = [], text[:len(text) - len(body)]       # a nested row's indent stays
    for word in body.split(" "):
        candidate = line + word if not line.strip() else line + " " + word
        if len(candidate) <= width:
            line = candidate
            continue
        if line.strip():
            lines.append(line)
        line = word
    lines.append(line)
    return [ln if len(ln) <= width else ln[:width - 1] + "…" for ln in lines]


def _reduce_evenly(excess, widths):
    """rich's ratio_reduce with equal ratios: what a fixed-width table loses per column."""
    out, remaining, ratio_left = [], excess, len(widths)
    for w in widths:
        cut = min(w, round(remaining / ratio_left))
        out.append(w - cut)
        remaining -= cut
        ratio_left -= 1
    return out


def _table_lines(header, align, rows, col_widths, line_length):
    cells = [w + 2 for w in col_widths]                 # one space of padding each side
    room = line_length - (len(cells) + 1)
    if sum(cells) > room:
        cells = _reduce_evenly(sum(cells) - room, cells)
    inner = [c - 2 for c in cells]

    def render(fields, heavy):
        wrapped = [_wrap(str(f), w) for f, w in zip(fields, inner)]
        height = max(len(c) for c in wrapped)
        out = []
        bar = "┃" if heavy else "│"
        for i in range(height):
            parts = []
            for c, w, a in zip(wrapped, inner, align):
                text = c[i] if i < len(c) else ""
                parts.append(" " + (text.rjust(w) if a == "right" else
                                    text.center(w) if a == "center" else text.ljust(w)) + " ")
            out.append(bar + bar.join(parts) + bar)
        return out

    def rule(left, mid, right, fill):
        return left + mid.join(fill * c for c in cells) + right
    lines = [rule("┏", "┳", "┓", "━")] + render(header, True) + [rule("┡", "╇", "┩", "━")]
    for i, row in enumerate(rows):
        if i:
            lines.append(rule("├", "┼", "┤", "─"))
        lines += render(row, False)
    lines.append(rule("└", "┴", "┘", "─"))
    return lines


def graph_summary_lines(model, line_length=None, positions=None, expand_nested=False,
                        show_trainable=False, show_flops=False, show_memory=False):
    """Keras 3's summary of a functional or subclassed model, as a list of lines;
    ``show_flops`` / ``show_memory`` add pycnn's columns of multiply-adds and activation
    memory per example (``pycnn.cost``), after Keras' columns (beyond ``line_length``, so
    that the formulas are not cut), and their totals."""
    import shutil
    g = model.__dict__.get("_graph")
    chain = g is None or _sequential_like(model)
    layers = model.layers if g is not None else model._layers
    nodes = {id(n) for n in model._nodes} if g is not None else None
    if chain:
        default, positions = 88, positions or [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    if show_trainable:
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header, align = header + ["Trainable"], align + ["center"]
    line_length = line_length or min(default, shutil.get_terminal_size().columns - 4)
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("summary: insufficient line_length to print the summary")
        widths.append(width)
        current += width

    def fields(layer, prefix, level_nodes):
        built = getattr(layer, "built", True)
        params = f"{int(layer.count_params()):,}" if built else "0 (unbuilt)"
        row = [f"{prefix}{layer.name} ({type(layer).__name__})", _shape_text(layer, level_nodes),
               params]
        if not chain:
            row.append(_connections(layer, level_nodes))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    rows, placed = [], []

    def add(layer, level, level_nodes):
        rows.append(fields(layer, "   " * level + "└ " if level else "", level_nodes))
        placed.append((layer, level))
        inner = getattr(layer, "layers", None)
        if expand_nested and inner and hasattr(layer, "_nodes"):
            sub = {id(n) for n in layer._nodes} or None
            for sublayer in inner:
                add(sublayer, level + 1, sub)
    for layer in layers:
        add(layer, 0, nodes)
    totals = []
    if show_flops or show_memory:
        from .cost import cost_columns
        extra_header, extra, totals = cost_columns(model, [p[0] for p in placed], show_flops,
                                                   show_memory, [p[1] for p in placed])
        for k, name in enumerate(extra_header):
            width = max([len(name)] + [len(f[k]) for f in extra]) + 4
            widths.append(width)
            line_length += width
        header, align = header + extra_header, align + ["right"] * len(extra_header)
        rows = [row + f for row, f in zip(rows, extra)]
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    t_count = sum(int(_np.prod(w.shape)) for w in trainable)
    n_count = sum(int(_np.prod(w.shape)) for w in non_trainable)
    t_bytes, n_bytes = _weights_bytes(trainable), _weights_bytes(non_trainable)
    return ([f'Model: "{model.name}"'] + _table_lines(header, align, rows, widths, line_length)
            + [f" Total params: {t_count + n_count:,} ({_memory(t_bytes + n_bytes)})",
               f" Trainable params: {t_count:,} ({_memory(t_bytes)})",
               f" Non-trainable params: {n_count:,} ({_memory(n_bytes)})"]
            + [" " + t for t in totals])


def summary_html(model):
    """The summary as an HTML table (Sequential._repr_html_), with the arithmetic; for
    other models Keras 3's table in a <pre> block."""
    from .models import Sequential
    if not isinstance(model, Sequential):
        return ("<pre style='font-family:monospace'>" +
                _html.escape("\n".join(graph_summary_lines(model, line_length=108))) + "</pre>")
    if not model.built:
        return (f"<p><b>{_html.escape(model.name)}</b>: {len(model.layers)} layers, not built "
                f"yet (no input shape)</p>")
    rows = _rows(model, with_arithmetic=True)
    trainable, non_trainable = _param_counts(model)
    head = "".join(f"<th style='text-align:left'>{_html.escape(h)}</th>"
                   for h in HEADER + [ARITHMETIC_HEADER])
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:{a}'>{_html.escape(str(v))}</td>"
                         for v, a in zip(row, ("left", "left", "right", "left"))) + "</tr>"
        for row in rows)
    return (f"<div><b>Model: \"{_html.escape(model.name)}\"</b>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>Total params: {trainable + non_trainable:,}<br>"
            f"Trainable params: {trainable:,}<br>"
            f"Non-trainable params: {non_trainable:,}</p></div>")
