"""model.summary(): Keras 2's table, optionally with the arithmetic behind each count,
and the same table as HTML for Jupyter.

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
import html

import numpy as np

__all__ = ["print_summary", "summary_lines", "summary_html", "layer_arithmetic"]

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
    if kind in ("Conv2D", "Conv2DTranspose") and c_in is not None:
        kh, kw = config["kernel_size"]
        if config.get("use_bias", True):
            value = arithmetic.conv2d_params(int(kh), int(kw), int(c_in), int(config["filters"]))
            if int(value) == count:
                return value.formula
        return f"{kh}·{kw}·{c_in} · {config['filters']} = {count}"
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
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
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


def summary_lines(model, line_length=None, positions=None, show_arithmetic=False):
    """The summary as a list of lines (what print_summary prints)."""
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
              f"Non-trainable params: {non_trainable:,}",
              "_" * line_length]
    return lines


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  show_arithmetic=False):
    """Prints the summary, one line per call of print_fn (default: print)."""
    print_fn = print if print_fn is None else print_fn
    for line in summary_lines(model, line_length, positions, show_arithmetic):
        print_fn(line)


def summary_html(model):
    """The summary as an HTML table (Sequential._repr_html_), with the arithmetic."""
    if not model.built:
        return (f"<p><b>{html.escape(model.name)}</b>: {len(model.layers)} layers, not built "
                f"yet (no input shape)</p>")
    rows = _rows(model, with_arithmetic=True)
    trainable, non_trainable = _param_counts(model)
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>"
                   for h in HEADER + [ARITHMETIC_HEADER])
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:{a}'>{html.escape(str(v))}</td>"
                         for v, a in zip(row, ("left", "left", "right", "left"))) + "</tr>"
        for row in rows)
    return (f"<div><b>Model: \"{html.escape(model.name)}\"</b>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>Total params: {trainable + non_trainable:,}<br>"
            f"Trainable params: {trainable:,}<br>"
            f"Non-trainable params: {non_trainable:,}</p></div>")
