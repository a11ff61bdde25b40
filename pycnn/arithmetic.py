"""The arithmetic of CNNs, with the formulas shown: output sizes, parameter counts, and why
convolutions need so few weights.

Every count is an ``int`` (it compares and computes like one) whose ``repr`` — and
``.formula`` — shows how it was obtained, with the numbers::

    >>> conv_output_size(28, 3)
    ⌊(28 + 2·0 − 3)/1⌋ + 1 = 26
    >>> dense_params(784, 512)
    (784 + 1) · 512 = 401920
    >>> conv2d_params(3, 3, 1, 32)
    (3·3·1 + 1) · 32 = 320
    >>> conv2d_params(3, 3, 1, 32) + dense_params(784, 512)
    402240
"""
import operator as _operator

import numpy as _np

__all__ = ["Count", "conv_output_size", "same_padding", "dense_params", "conv2d_params",
           "compare_dense_conv", "DenseConvComparison", "receptive_field", "ReceptiveField",
           "param_arithmetic", "ParamArithmetic"]


class Count(int):
    """An int that remembers its formula: ``repr`` shows it, ``str`` and arithmetic are
    plain int (``Count + 1`` is an ``int``)."""

    def __new__(cls, value, formula):
        self = super().__new__(cls, value)
        self.formula = formula
        return self

    def __repr__(self):
        return self.formula

    __str__ = int.__repr__

    def _repr_latex_(self):
        text = (self.formula.replace("⌊", r"\left\lfloor ").replace("⌋", r"\right\rfloor ")
                .replace("⌈", r"\left\lceil ").replace("⌉", r"\right\rceil ")
                .replace("·", r" \cdot ").replace("−", "-"))
        return f"${text}$"


def _positive(value, what):
    try:
        value = _operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, got {value!r}") from None
    if value < 1:
        raise ValueError(f"{what} must be positive, got {value}")
    return value


def same_padding(n, kernel, stride=1):
    """Keras' 'same' padding along one axis: (before, after), the odd extra one after
    (bottom/right), so that the output has ⌈n/s⌉ entries."""
    n, kernel, stride = (_positive(v, w) for v, w in ((n, "n"), (kernel, "kernel"),
                                                     (stride, "stride")))
    out = -(-n // stride)
    total = max((out - 1) * stride + kernel - n, 0)
    return total // 2, total - total // 2


def conv_output_size(n, kernel, stride=1, padding="valid"):
    """Output length of a convolution or pooling along one axis: ⌊(n + 2p − k)/s⌋ + 1.

    Args:
        n: input length (height or width). kernel: window length k. stride: s.
        padding: 'valid' (p = 0), 'same' (Keras: output ⌈n/s⌉, the odd extra padding
            after), or an int p padded on both sides.
    Returns:
        A :class:`Count` whose repr shows the formula with the numbers.
    """
    n, kernel, stride = (_positive(v, w) for v, w in ((n, "n"), (kernel, "kernel"),
                                                     (stride, "stride")))
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        before, after = (0, 0) if padding.lower() == "valid" else same_padding(n, kernel, stride)
    else:
        try:
            before = after = _operator.index(padding)
        except TypeError:
            raise ValueError(f"padding must be 'valid', 'same' or an int, got {padding!r}") \
                from None
        if before < 0:
            raise ValueError(f"padding must be non-negative, got {before}")
    if n + before + after < kernel:
        raise ValueError(f"kernel {kernel} is larger than the padded input {n} + "
                         f"{before + after}")
    out = (n + before + after - kernel) // stride + 1
    pad = f"2·{before}" if before == after else f"{before} + {after}"
    return Count(out, f"⌊({n} + {pad} − {kernel})/{stride}⌋ + 1 = {out}")


def dense_params(n_in, n_out, use_bias=True):
    """Weights of a Dense layer: (n_in + 1)·n_out — one weight per input per unit, plus a
    bias per unit."""
    n_in, n_out = _positive(n_in, "n_in"), _positive(n_out, "n_out")
    if use_bias:
        return Count((n_in + 1) * n_out, f"({n_in} + 1) · {n_out} = {(n_in + 1) * n_out}")
    return Count(n_in * n_out, f"{n_in} · {n_out} = {n_in * n_out}")


def conv2d_params(kh, kw, c_in, filters, use_bias=True):
    """Weights of a Conv2D layer: (kh·kw·c_in + 1)·filters — one kernel per filter, shared
    by every output position, plus a bias per filter."""
    kh, kw = _positive(kh, "kh"), _positive(kw, "kw")
    c_in, filters = _positive(c_in, "c_in"), _positive(filters, "filters")
    k = kh * kw * c_in
    if use_bias:
        return Count((k + 1) * filters, f"({kh}·{kw}·{c_in} + 1) · {filters} = "
                                        f"{(k + 1) * filters}")
    return Count(k * filters, f"{kh}·{kw}·{c_in} · {filters} = {k * filters}")


class DenseConvComparison:
    """What :func:`compare_dense_conv` found; ``repr`` prints it as a small table."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self):
        h, w, c = self.input_shape
        oh, ow, f = self.output_shape
        rows = [
            ("", "Conv2D", "Dense (same input → same output)"),
            ("weights", repr(self.conv_params), repr(self.dense_params)),
            ("inputs per output value", repr(self.conv_inputs_per_output),
             repr(self.dense_inputs_per_output)),
            ("uses of each weight", repr(self.conv_weight_uses), "1"),
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"input {h}×{w}×{c} → output {oh}×{ow}×{f}"]
        lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip()
                  for r in rows]
        lines.append(f"the Dense layer needs {self.ratio:,.0f}× more weights")
        return "\n".join(lines)


def compare_dense_conv(input_shape=(28, 28, 1), filters=32, kernel_size=3, strides=1,
                       padding="valid"):
    """Parameter sharing and sparse connections, in numbers.

    A Conv2D layer maps an (H, W, C) image to (OH, OW, filters) with (kh·kw·C + 1)·filters
    weights; a Dense layer producing the same output from the same input would need
    (H·W·C + 1)·(OH·OW·filters). Each conv output depends on kh·kw·C inputs (its receptive
    field), each Dense output on all H·W·C; each conv weight is reused at OH·OW positions.

    Returns:
        A :class:`DenseConvComparison` with ``input_shape``, ``output_shape``,
        ``conv_params``, ``dense_params``, ``conv_inputs_per_output``,
        ``dense_inputs_per_output``, ``conv_weight_uses`` (Counts) and ``ratio``.
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    h, w, c = (_positive(v, "input_shape entries") for v in input_shape)
    kh, kw = (kernel_size, kernel_size) if not isinstance(kernel_size, (tuple, list)) \
        else kernel_size
    sh, sw = (strides, strides) if not isinstance(strides, (tuple, list)) else strides
    oh, ow = conv_output_size(h, kh, sh, padding), conv_output_size(w, kw, sw, padding)
    conv = conv2d_params(kh, kw, c, filters)
    n_out = oh * ow * filters
    dense = dense_params(h * w * c, n_out)
    return DenseConvComparison(
        input_shape=(h, w, c), output_shape=(int(oh), int(ow), filters),
        conv_params=conv, dense_params=dense,
        conv_inputs_per_output=Count(kh * kw * c, f"{kh}·{kw}·{c} = {kh * kw * c}"),
        dense_inputs_per_output=Count(h * w * c, f"{h}·{w}·{c} = {h * w * c}"),
        conv_weight_uses=Count(oh * ow, f"{int(oh)}·{int(ow)} = {oh * ow}"),
        ratio=dense / conv)


# ---- the receptive field ---------------------------------------------------------------
#
# Along one axis, for layer l with kernel k (dilated: k' = d·(k − 1) + 1), stride s and
# padding p before the first pixel, from its input's field r, jump j and start:
#     r_l = r_{l−1} + (k' − 1)·j_{l−1}         size: input pixels one output unit sees
#     j_l = j_{l−1}·s                          stride: input pixels between neighbours
#     start_l = start_{l−1} + ((k' − 1)/2 − p)·j_{l−1}   centre of the first unit's field
# (pixel centres at 0, 1, ..., H − 1). Layers that map a pixel to itself (activations,
# dropout, normalisation) change nothing; Flatten and Dense see the whole input.

_SPATIAL = {"Conv2D": ("kernel_size", "strides"), "MaxPooling2D": ("pool_size", "strides"),
            "AveragePooling2D": ("pool_size", "strides"),
            "DepthwiseConv2D": ("kernel_size", "strides"),
            "SeparableConv2D": ("kernel_size", "strides")}
_WHOLE = {"Flatten", "Dense", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Reshape"}


def _pair(v):
    return tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v), int(v))


class ReceptiveField:
    """What :func:`receptive_field` found: ``rows`` (one per layer: name, class, kernel,
    stride, size, jump, start — each an (along height, along width) pair), and for the
    last one ``size``, ``stride``, ``offset``; ``effective(x)`` measures the field by
    backpropagation and ``plot(x)`` draws both."""

    def __init__(self, model, layer, rows, whole):
        self.model, self.layer, self.rows, self.whole = model, layer, rows, whole
        last = rows[-1] if rows else None
        self.size = last["size"] if last else (1, 1)
        self.stride = last["jump"] if last else (1, 1)
        self.offset = last["start"] if last else (0.0, 0.0)

    def __repr__(self):
        def both(v):
            return fmt_pair(v)
        lines = [f"receptive field up to {self.layer.name}:  r_l = r_(l−1) + (k − 1)·j_(l−1),"
                 f"  j_l = j_(l−1)·s"]
        w = max([len("layer")] + [len(f"{r['name']} ({r['kind']})") for r in self.rows])
        lines.append(f"{'layer':<{w}} {'k':>5} {'s':>5} {'r (size)':>22} {'j (stride)':>12} "
                     f"{'start':>7}")
        for row in self.rows:
            name = f"{row['name']} ({row['kind']})"
            if row.get("formula"):
                lines.append(f"{name:<{w}} {both(row['kernel']):>5} {both(row['strides']):>5} "
                             f"{row['formula']:>22} {both(row['jump']):>12} "
                             f"{both(row['start']):>7}")
            else:
                lines.append(f"{name:<{w}} {'':>5} {'':>5} {both(row['size']):>22} "
                             f"{both(row['jump']):>12} {both(row['start']):>7}")
        if self.whole:
            lines.append(f"{self.whole} and after: every output sees the whole input")
        return "\n".join(lines)

    def effective(self, x=None, samples=4, seed=0):
        """The effective receptive field (Luo et al. 2016): |∂ unit / ∂x| of the
        ``layer``'s output unit at the centre (summed over its channels), averaged over
        ``x`` (a batch) or ``samples`` standard-normal inputs. Returns an (H, W) map that
        sums to 1."""
        from . import _core
        from .inside import _forward, _layer
        layer = _layer(self.model, self.layer)
        if x is None:
            shape = tuple(self.model.input_shape[1:])
            x = _np.random.default_rng(seed).standard_normal((samples,) + shape)
        x = _np.asarray(x)
        total = _np.zeros(x.shape[1:3])
        for i in range(x.shape[0]):
            (out,), _, t = _forward(self.model, x[i:i + 1], [layer], requires_grad=True)
            if out.ndim != 4:
                raise ValueError(f"effective receptive field: {layer.name} has no spatial "
                                 f"output (shape {tuple(out.shape)})")
            mask = _np.zeros(out.shape, dtype=out.dtype)
            mask[0, out.shape[1] // 2, out.shape[2] // 2, :] = 1
            (out * _core.tensor(mask)).sum().backward()
            total += _np.abs(t.grad.numpy()[0]).sum(axis=-1)
        return total / total.sum() if total.sum() > 0 else total

    def centre_unit(self):
        """(row, column) in input pixels of the centre unit's field centre."""
        shape = self._output_hw()
        return tuple(self.offset[a] + (shape[a] // 2) * self.stride[a] for a in (0, 1))

    def _output_hw(self):
        shapes = _input_shapes(self.model)
        layer = self.layer
        return tuple(_output_shape_of(self.model, layer, shapes)[1:3])

    def plot(self, x=None, image=None):
        """The image with the theoretical field of the centre unit (a square of side
        ``size``) and the effective field measured on ``x`` (a heat map)."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
        erf = self.effective(x)
        fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
        background = image if image is not None else (_np.asarray(x)[0] if x is not None
                                                      else _np.zeros(erf.shape))
        background = _np.asarray(background)
        if background.ndim == 3 and background.shape[-1] == 1:
            background = background[..., 0]
        cy, cx = self.centre_unit()
        for ax, title in zip(axes, ("theoretical", "effective (backprop)")):
            ax.imshow(background, cmap="gray")
            ax.axis("off")
            ax.set_title(f"{title}: " + (f"{fmt_pair(self.size)} px" if ax is axes[0] else
                                          f"95% within {self.effective_size(erf)} px"),
                         fontsize=9)
            ax.add_patch(Rectangle((cx - self.size[1] / 2, cy - self.size[0] / 2),
                                   self.size[1], self.size[0], fill=False, lw=2,
                                   edgecolor="tab:red"))
        axes[1].imshow(erf, cmap="magma", alpha=0.75)
        fig.suptitle(f"receptive field of one unit of {self.layer.name}", fontsize=10)
        fig.tight_layout()
        return fig

    def effective_size(self, erf, mass=0.95):
        """Side of the smallest square around the centre unit's field centre that holds
        ``mass`` of the effective field ``erf``."""
        erf = _np.asarray(erf)
        cy, cx = self.centre_unit()
        total = erf.sum()
        rows, cols = _np.arange(erf.shape[0])[:, None], _np.arange(erf.shape[1])[None, :]
        for side in range(1, max(erf.shape) + 1):
            inside = (_np.abs(rows - cy) < side / 2 + 1e-9) & (_np.abs(cols - cx) < side / 2 + 1e-9)
            if erf[inside].sum() >= mass * total:
                return side
        return max(erf.shape)


def fmt_pair(v):
    """(3, 3) → '3', (3, 5) → '3×5'; halves as .5."""
    def one(a):
        return str(int(a)) if float(a) == int(a) else f"{a:g}"
    return one(v[0]) if v[0] == v[1] else f"{one(v[0])}×{one(v[1])}"


def _input_shapes(model):
    """{id(layer): its input shape (batch first)} for every layer."""
    nodes = getattr(model, "_nodes", None)
    if nodes:
        return {id(n.operation): n.input_shapes[0] for n in nodes if n.input_shapes}
    shapes = [model.input_shape] + list(model._output_shapes)
    return {id(layer): shapes[i] for i, layer in enumerate(model.layers)}


def _output_shape_of(model, layer, shapes):
    nodes = getattr(model, "_nodes", None)
    if nodes:
        return next(n.output_shape for n in nodes if n.operation is layer)
    i = list(model.layers).index(layer)
    return list(model._output_shapes)[i]


def receptive_field(model, layer=None):
    """The theoretical receptive field of ``layer`` (a name, index or layer; default the
    last spatial one) of a built model: per layer its kernel k, stride s, field size r,
    jump j and the centre of its first unit's field, each with its formula.

    Returns a :class:`ReceptiveField`; ``.size`` is the last row's r (three 3×3
    convolutions: 7), ``.effective(x)`` measures the field by backpropagating from one
    output unit, ``.plot(x)`` draws both on the image.
    """
    from .inside import _layer, model_layers
    if not getattr(model, "built", True):
        raise ValueError(f"receptive_field: {model.name} is not built yet")
    layers = model_layers(model)
    shapes = _input_shapes(model)
    if layer is None:
        spatial = [l for l in layers if type(l).__name__ in _SPATIAL]
        if not spatial:
            raise ValueError(f"receptive_field: {model.name} has no convolution or pooling")
        layer = spatial[-1]
    layer = _layer(model, layer)
    r, j, start = (1, 1), (1, 1), (0.0, 0.0)
    rows, whole = [], None
    for l in layers:
        kind = type(l).__name__
        if kind in _WHOLE:
            whole = whole or f"{l.name} ({kind})"
            if l is layer:
                break
            continue
        if whole:
            continue
        if kind in _SPATIAL:
            config = l.get_config()
            k, s = _pair(config[_SPATIAL[kind][0]]), _pair(config[_SPATIAL[kind][1]] or
                                                           config[_SPATIAL[kind][0]])
            d = _pair(config.get("dilation_rate", 1))
            n = shapes[id(l)][1:3]
            pad = []
            for a in (0, 1):
                keff = d[a] * (k[a] - 1) + 1
                if str(config.get("padding", "valid")).lower() == "same":
                    pad.append(same_padding(int(n[a]), keff, s[a])[0])
                else:
                    pad.append(0)
            keff = tuple(d[a] * (k[a] - 1) + 1 for a in (0, 1))
            new_r = tuple(r[a] + (keff[a] - 1) * j[a] for a in (0, 1))
            formula = (f"{fmt_pair(r)} + ({fmt_pair(keff)} − 1)·{fmt_pair(j)} = "
                       f"{fmt_pair(new_r)}")
            start = tuple(start[a] + ((keff[a] - 1) / 2 - pad[a]) * j[a] for a in (0, 1))
            r, j = new_r, tuple(j[a] * s[a] for a in (0, 1))
            rows.append({"name": l.name, "kind": kind, "kernel": keff, "strides": s,
                         "size": r, "jump": j, "start": start, "formula": formula})
        elif kind == "UpSampling2D":
            size = _pair(l.get_config().get("size", 2))
            j = tuple(j[a] / size[a] for a in (0, 1))
            rows.append({"name": l.name, "kind": kind, "size": r, "jump": j, "start": start})
        else:
            rows.append({"name": l.name, "kind": kind, "size": r, "jump": j, "start": start})
        if l is layer:
            break
    return ReceptiveField(model, layer, rows, whole)


# ---- the parameter count of a whole model, layer by layer ------------------------------

class ParamArithmetic:
    """What :func:`param_arithmetic` found: ``rows`` of dicts (``name``, ``kind``,
    ``input_shape``, ``params``, ``trainable``, ``non_trainable``, ``formula``) for every
    layer with weights, and the totals; ``repr`` prints them as a table."""

    def __init__(self, model_name, rows):
        self.model_name, self.rows = model_name, rows
        self.trainable = sum(r["trainable"] for r in rows)
        self.non_trainable = sum(r["non_trainable"] for r in rows)
        self.total = self.trainable + self.non_trainable

    def __repr__(self):
        head = ("layer (type)", "input shape", "params", "arithmetic")
        table = [head] + [(f"{r['name']} ({r['kind']})", str(r["input_shape"]),
                           f"{r['params']:,}", r["formula"]) for r in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(4)]
        lines = [f'parameters of "{self.model_name}", layer by layer']
        for k, row in enumerate(table):
            lines.append("  ".join(cell.rjust(widths[i]) if i == 2 else cell.ljust(widths[i])
                                   for i, cell in enumerate(row)).rstrip())
            if k == 0:
                lines.append("-" * len(lines[-1]))
        lines.append(f"total {self.total:,} = {self.trainable:,} trainable + "
                     f"{self.non_trainable:,} non-trainable")
        return "\n".join(lines)


def param_arithmetic(model):
    """Every layer's parameter count with the formula behind it, for any built model
    (Sequential or functional): (k·k·C_in + 1)·C_out for a convolution, (n_in + 1)·n_out
    for Dense, 4·C for BatchNormalization of which 2·C (the moving mean and variance) are
    not trained. The formulas are the ones ``summary(show_arithmetic=True)`` prints.

    Raises ValueError when the model is not built (its layers have no input shapes yet).
    """
    from .summary import layer_arithmetic
    if not getattr(model, "built", False):
        raise ValueError(f"param_arithmetic: model {model.name!r} is not built; give its "
                         f"first layer an input shape or call it on data first")
    rows = []
    for layer in model.layers:
        if not layer.weights:
            continue
        source = layer.input
        shape = tuple(source.shape) if hasattr(source, "shape") else \
            tuple(tuple(s.shape) for s in source)
        trainable = sum(int(_np.prod(w.shape)) for w in layer.trainable_weights)
        non_trainable = sum(int(_np.prod(w.shape)) for w in layer.non_trainable_weights)
        rows.append({"name": layer.name, "kind": type(layer).__name__, "input_shape": shape,
                     "params": trainable + non_trainable, "trainable": trainable,
                     "non_trainable": non_trainable,
                     "formula": layer_arithmetic(layer, shape) or
                     f"{trainable + non_trainable:,}"})
    return ParamArithmetic(model.name, rows)
