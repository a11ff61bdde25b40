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
#
# On a graph (branches, merges, shared layers, nested models) the same rule runs along
# every path: each tensor carries, per axis, the interval [lo, hi] of input pixels its
# first unit sees and its jump j (unit q sees [lo + q·j, hi + q·j]). A merge's unit sees
# the union of what its inputs' units see; the convention is the smallest interval that
# holds them (exact when they overlap, as in residual and Inception blocks). Where the
# paths disagree on the jump the union's size depends on the position (the first unit's
# is shown) and where they disagree on the offset the fields are not centred alike: the
# result says so in ``notes``. Transposed convolutions and upsampling give a field that
# depends on the position modulo the stride; the interval shown holds every unit's.
#
# Each layer class says which rule it follows, in its ``_field_rule`` (pycnn's beside
# the layer, in pycnn/layers/): "pointwise" (each output pixel from the same input pixel;
# an output that is not an image sees the whole input), "whole" (every output sees the
# whole input), "merge", or the window of "kernel" (a
# convolution or pooling: kernel_size or pool_size, strides, dilation_rate, padding),
# "transpose" (Conv2DTranspose's), "upsample", "pad" or "crop". Without one, a layer that
# keeps the size is assumed pointwise and the result's notes say so.

from fractions import Fraction as _Fraction


def _pair(v):
    return tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _num(v):
    v = _Fraction(v)
    return int(v) if v.denominator == 1 else float(v)


class _Field:
    """Per axis (height, width): lo, hi (the first unit's field, pixel centres, both
    included) and the jump j, as Fractions."""
    __slots__ = ("lo", "hi", "j")

    def __init__(self, lo, hi, j):
        self.lo, self.hi, self.j = tuple(lo), tuple(hi), tuple(j)

    @classmethod
    def pixel(cls):
        return cls((_Fraction(0),) * 2, (_Fraction(0),) * 2, (_Fraction(1),) * 2)

    @property
    def size(self):
        return tuple(_num(self.hi[a] - self.lo[a] + 1) for a in (0, 1))

    @property
    def start(self):
        return tuple(float((self.lo[a] + self.hi[a]) / 2) for a in (0, 1))

    @property
    def jump(self):
        return tuple(_num(v) for v in self.j)


def _window(field, spans, out_jump_ratio, period):
    """The field after a layer whose output unit q (0 ≤ q < period, per axis) reads the
    input units spans[a](q) = (first, last); out_jump_ratio[a] = j_out / j_in."""
    lo, hi, j = [], [], []
    for a in (0, 1):
        jo = field.j[a] * out_jump_ratio[a]
        los, his = [], []
        for q in range(period[a]):
            first, last = spans[a](q)
            los.append(field.lo[a] + first * field.j[a] - q * jo)
            his.append(field.hi[a] + last * field.j[a] - q * jo)
        lo.append(min(los))
        hi.append(max(his))
        j.append(jo)
    return _Field(lo, hi, j)


def _config(layer):
    return layer.get_config() if hasattr(layer, "get_config") else {}


def _kernel_window(config, in_shape, out_shape):
    """A convolution's or pooling's window: k' = d·(k − 1) + 1, stride s, 'same' padding."""
    k = _pair(config.get("kernel_size") or config["pool_size"])
    s = _pair(config.get("strides") or k)
    d = _pair(config.get("dilation_rate", 1))
    keff = tuple(d[a] * (k[a] - 1) + 1 for a in (0, 1))
    same = str(config.get("padding", "valid")).lower() == "same"
    pad = tuple(same_padding(int(in_shape[1 + a]), keff[a], s[a])[0] if same else 0
                for a in (0, 1))
    spans = [lambda q, a=a: (q * s[a] - pad[a], q * s[a] - pad[a] + keff[a] - 1)
             for a in (0, 1)]
    return keff, s, pad, spans, s, (1, 1)


def _transpose_window(config, in_shape, out_shape):
    k, s = _pair(config["kernel_size"]), _pair(config["strides"])
    d = _pair(config.get("dilation_rate", 1))
    keff = tuple(d[a] * (k[a] - 1) + 1 for a in (0, 1))
    crop = []
    for a in (0, 1):
        full = (int(in_shape[1 + a]) - 1) * s[a] + keff[a]
        total = max(full - int(out_shape[1 + a]), 0)
        crop.append(total // 2 if str(config.get("padding")).lower() == "same" else 0)
    spans = [lambda q, a=a: (-((-(q + crop[a] - keff[a] + 1)) // s[a]),
                             (q + crop[a]) // s[a]) for a in (0, 1)]
    return (keff, tuple(_Fraction(1, v) for v in s), tuple(crop), spans,
            tuple(_Fraction(1, v) for v in s), s)


def _upsample_window(config, in_shape, out_shape):
    u = _pair(config.get("size", 2))
    if str(config.get("interpolation", "nearest")) == "nearest":
        spans = [lambda q, a=a: (q // u[a], q // u[a]) for a in (0, 1)]
    else:                                   # bilinear, half-pixel centres
        def spans_for(a):
            def span(q):
                first = int(_np.floor((q + 0.5) / u[a] - 0.5))
                return first, first + 1
            return span
        spans = [spans_for(0), spans_for(1)]
    ratio = tuple(_Fraction(1, v) for v in u)
    return (1, 1), ratio, (0, 0), spans, ratio, u


def _border_window(key, sign):
    """A border layer's window: config[key] pixels added (sign −1: the field moves back) or
    cut (sign 1) before the first pixel of each axis."""
    def window(config, in_shape, out_shape):
        before = tuple(int(v[0]) if isinstance(v, (tuple, list)) else int(v)
                       for v in config[key])
        shift = tuple(sign * b for b in before)
        spans = [lambda q, a=a: (q + shift[a], q + shift[a]) for a in (0, 1)]
        return (1, 1), (1, 1), tuple(-v for v in shift), spans, (1, 1), (1, 1)
    return window


# the window rules a layer class names in its _field_rule
_WINDOWS = {"kernel": _kernel_window, "transpose": _transpose_window,
            "upsample": _upsample_window, "pad": _border_window("padding", -1),
            "crop": _border_window("cropping", 1)}


def _layer_rule(layer, in_shape, out_shape):
    """(kind of rule, details) for one call: 'window' with (kernel, strides, pad, spans,
    ratio, period), 'pointwise', 'whole', 'merge', or 'unknown' with a note."""
    kind = type(layer).__name__
    own = getattr(type(layer), "_field_rule", None)     # the layer class says which
    spatial_in = in_shape is not None and len(in_shape) == 4
    spatial_out = out_shape is not None and len(out_shape) == 4
    if own in ("whole", "merge"):
        return own, None
    if not spatial_out:
        return "whole", None
    if own == "pointwise":
        return own, None
    if own in _WINDOWS:
        if not spatial_in:
            return "whole", None
        return "window", _WINDOWS[own](_config(layer), in_shape, out_shape)
    if not spatial_in:
        return "whole", None
    if tuple(in_shape[1:3]) == tuple(out_shape[1:3]):
        return "unknown", (f"no receptive-field rule for {layer.name} ({kind}): assumed to "
                           f"map each pixel to itself (its output keeps the input's size)")
    return "unknown-whole", (f"no receptive-field rule for {layer.name} ({kind}), which "
                             f"changes the size {tuple(in_shape[1:3])} → "
                             f"{tuple(out_shape[1:3])}: the field after it is unknown")


class ReceptiveField:
    """What :func:`receptive_field` found: ``rows`` (one per layer call on the paths
    that reach ``layer``: name, class, kernel, stride, size, jump, start — each an
    (along height, along width) pair), and for ``layer`` itself ``size``, ``stride``,
    ``offset``; ``notes`` says where the paths disagree or a rule is assumed;
    ``effective(x)`` measures the field by backpropagation and ``plot(x)`` draws both."""

    def __init__(self, model, layer, rows, whole, notes=(), field=None, output_shape=None,
                 call_index=None):
        self.model, self.layer, self.rows, self.whole = model, layer, rows, whole
        self.notes = list(notes)
        self._field, self._output_shape, self._call = field, output_shape, call_index
        if field is not None:
            self.size, self.stride, self.offset = field.size, field.jump, field.start
        else:
            last = rows[-1] if rows else None
            self.size = last["size"] if last else (1, 1)
            self.stride = last["jump"] if last else (1, 1)
            self.offset = last["start"] if last else (0.0, 0.0)

    @property
    def bounds(self):
        """((top, bottom), (left, right)): the pixels (centres, both included) the first
        output unit sees; unit (q_h, q_w) sees them shifted by q·stride."""
        f = self._field
        return tuple((float(f.lo[a]), float(f.hi[a])) for a in (0, 1))

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
                lines.append(f"{name:<{w}} {both(row.get('kernel', ('', ''))):>5} "
                             f"{both(row.get('strides', ('', ''))):>5} "
                             f"{row['formula']:>22} {both(row['jump']):>12} "
                             f"{both(row['start']):>7}")
            else:
                lines.append(f"{name:<{w}} {'':>5} {'':>5} {both(row['size']):>22} "
                             f"{both(row['jump']):>12} {both(row['start']):>7}")
        lines += [f"note: {n}" for n in self.notes]
        if self.whole:
            lines.append(f"{self.whole} and after: every output sees the whole input")
        return "\n".join(lines)

    def effective(self, x=None, samples=4, seed=0, input_index=0):
        """The effective receptive field (Luo et al. 2016): |∂ unit / ∂x| of the
        ``layer``'s output unit at the centre (summed over its channels), averaged over
        ``x`` (a batch) or ``samples`` standard-normal inputs. Works on any model (the
        gradient flows back along every path); for a model with several inputs, the
        field on input ``input_index``. Returns an (H, W) map that sums to 1."""
        from . import _core
        from .cost import trace_calls, _probe_inputs
        probe = _probe_inputs(self.model)
        if x is None:
            rng = _np.random.default_rng(seed)
            xs = [rng.standard_normal((samples,) + p.shape[1:]) for p in probe]
        else:
            xs = [_np.asarray(a) for a in (x if isinstance(x, (list, tuple)) else [x])]
        dtype = probe[0].dtype
        # one pass over the whole batch: in inference no sample sees another, so row i of
        # the input gradient is sample i's own |∂ unit_i / ∂x_i|
        leaves = []
        for a in xs:
            t = _core.tensor(_np.asarray(a, dtype=dtype))
            t.requires_grad = True
            leaves.append(t)
        calls = trace_calls(self.model, leaves, grad=True)
        out = calls[self._call].outputs[0]
        if out.ndim != 4:
            raise ValueError(f"effective receptive field: {self.layer.name} has no "
                             f"spatial output (shape {tuple(out.shape)})")
        mask = _np.zeros(out.shape, dtype=out.dtype)
        mask[:, out.shape[1] // 2, out.shape[2] // 2, :] = 1
        (out * _core.tensor(mask)).sum().backward()
        g = leaves[input_index].grad
        total = _np.zeros(xs[input_index].shape[1:3]) if g is None else \
            _np.abs(g.numpy()).sum(axis=(0, -1))
        return total / total.sum() if total.sum() > 0 else total

    def centre_unit(self):
        """(row, column) in input pixels of the centre unit's field centre."""
        shape = self._output_hw()
        return tuple(self.offset[a] + (shape[a] // 2) * self.stride[a] for a in (0, 1))

    def centre_bounds(self):
        """((top, bottom), (left, right)): the theoretical field of the centre unit."""
        shape = self._output_hw()
        return tuple(tuple(b + (shape[a] // 2) * float(self._field.j[a])
                           for b in self.bounds[a]) for a in (0, 1))

    def _output_hw(self):
        return tuple(self._output_shape[1:3])

    def plot(self, x=None, image=None):
        """The image with the theoretical field of the centre unit (a square of side
        ``size``; dashed and cut at the image's edges when it reaches past them) and the
        effective field measured on ``x`` (a heat map)."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
        erf = self.effective(x)
        fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
        first = x[0] if isinstance(x, (list, tuple)) else x
        background = image if image is not None else (_np.asarray(first)[0] if x is not None
                                                      else _np.zeros(erf.shape))
        background = _np.asarray(background)
        if background.ndim == 3 and background.shape[-1] == 1:
            background = background[..., 0]
        (top, bottom), (left, right) = self.centre_bounds()
        H, W = erf.shape
        # the field may reach past the image (padding): drawn cut at its edges
        box = (max(top, 0), min(bottom, H - 1), max(left, 0), min(right, W - 1))
        past = box != (top, bottom, left, right)
        for ax, title in zip(axes, ("theoretical", "effective (backprop)")):
            ax.imshow(background, cmap="gray")
            ax.axis("off")
            ax.set_title(f"{title}: " + ((f"{fmt_pair(self.size)} px" +
                                          (", past the image" if past else ""))
                                         if ax is axes[0] else
                                          f"95% within {self.effective_size(erf)} px"),
                         fontsize=9)
            ax.add_patch(Rectangle((box[2] - 0.5, box[0] - 0.5), box[3] - box[2] + 1,
                                   box[1] - box[0] + 1, fill=False,
                                   lw=2, edgecolor="tab:red", ls="--" if past else "-"))
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
        if a == "":
            return ""
        return str(int(a)) if float(a) == int(a) else f"{float(a):g}"
    return one(v[0]) if v[0] == v[1] else f"{one(v[0])}×{one(v[1])}"


def _call_names(calls):
    """A row name per call: nested calls prefixed by their model ('inner/conv'), a
    shared layer's later calls numbered."""
    names, seen = [], {}
    for c in calls:
        prefix = ""
        p = c.parent
        while p is not None:
            prefix = calls[p].layer.name + "/" + prefix
            p = calls[p].parent
        key = (c.parent, id(c.layer))
        seen[key] = seen.get(key, 0) + 1
        name = prefix + c.layer.name
        names.append(name if seen[key] == 1 else f"{name} (call {seen[key]})")
    return names


def receptive_field(model, layer=None):
    """The theoretical receptive field of ``layer`` (a name, index or layer; default the
    last spatial one) of a built model — Sequential, functional (branches, merges,
    shared layers, nested models) or subclassed: per layer call on the paths that reach
    it, its kernel k, stride s, field size r, jump j and the centre of its first unit's
    field, each with its formula. A merge's field is the union of its inputs' (the
    smallest interval holding them); ``notes`` says where paths disagree.

    Returns a :class:`ReceptiveField`; ``.size`` is the layer's r (three 3×3
    convolutions: 7), ``.effective(x)`` measures the field by backpropagating from one
    output unit, ``.plot(x)`` draws both on the image. A shared layer's field is that of
    its last call.
    """
    from .cost import trace_calls, _probe_inputs
    from .inside import _layer
    if not getattr(model, "built", True):
        raise ValueError(f"receptive_field: {model.name} is not built yet")
    from . import _core
    inputs = [_core.tensor(p) for p in _probe_inputs(model)]
    input_ids = {id(t) for t in inputs}
    calls = trace_calls(model, inputs)
    leaf = [i for i in range(len(calls))
            if not any(c.parent == i for c in calls[i + 1:])]
    if layer is None:
        spatial = [calls[i].layer for i in leaf
                   if getattr(type(calls[i].layer), "_field_rule", None) == "kernel"]
        if not spatial:
            raise ValueError(f"receptive_field: {model.name} has no convolution or pooling")
        layer = spatial[-1]
    elif isinstance(layer, (str, int)):
        layer = _layer(model, layer)        # a name, or an index into model.layers
    # a layer object may also be one inside a nested model: any layer the pass calls
    mine = [i for i, c in enumerate(calls) if c.layer is layer]
    if not mine:
        raise ValueError(f"{getattr(layer, 'name', layer)!r} is not a layer of {model.name}"
                         f" (no call of it in a forward pass)")
    target = mine[-1]
    names = _call_names(calls)
    fields, made_by, notes = {}, {}, []       # tensor id → _Field or None (whole)
    rows_of, whole_at = {}, {}
    previous = None
    for i in leaf:
        c = calls[i]
        kind = type(c.layer).__name__
        ins = []
        for tid, shape in zip(c.input_ids, c.input_shapes):
            if tid in fields:
                ins.append((tid, fields[tid], shape))
            elif tid in input_ids or previous is None:  # a model input: a pixel sees itself
                ins.append((tid, _Field.pixel(), shape))
            else:
                notes.append(f"an input of {names[i]} comes from an operation outside the "
                             f"layers: assumed to be {names[previous]}'s output")
                ins.append((tid, fields[calls[previous].output_ids[0]], shape))
                made_by[tid] = previous
        in_shape = ins[0][2] if ins else None
        out_shape = c.output_shapes[0] if c.output_shapes else None
        rule, detail = _layer_rule(c.layer, in_shape, out_shape)
        row = {"name": names[i], "kind": kind}
        parents = [made_by.get(tid) for tid, _, _ in ins]
        whole = next((whole_at[p] for p in parents if p is not None and p in whole_at), None)
        if whole is None and any(f is None for _, f, _ in ins):
            whole = f"{names[i]} ({kind})"
        if whole is not None or rule in ("whole", "unknown-whole"):
            out = None
            whole = whole or f"{names[i]} ({kind})"
            if rule == "unknown-whole":
                notes.append(detail)
            whole_at[i] = whole
        elif rule == "merge":
            out = _union(names[i], [f for _, f, _ in ins], notes)
            row.update(formula=_union_formula([f for _, f, _ in ins], out))
        elif rule == "window":
            keff, s, pad, spans, ratio, period = detail
            f = ins[0][1]
            out = _window(f, spans, ratio, period)
            row.update(kernel=keff, strides=tuple(_num(v) for v in s),
                       formula=f"{fmt_pair(f.size)} + ({fmt_pair(keff)} − 1)·"
                               f"{fmt_pair(f.jump)} = {fmt_pair(out.size)}"
                       if all(p == 1 for p in period) else
                       f"{fmt_pair(f.size)} → {fmt_pair(out.size)} (every unit's)")
            if any(p > 1 for p in period):
                notes.append(f"{names[i]} ({kind}): the field depends on the unit's "
                             f"position modulo {fmt_pair(period)}; the interval shown holds "
                             f"every unit's")
        else:
            out = ins[0][1] if ins else _Field.pixel()
            if rule == "unknown":
                notes.append(detail)
        for tid in c.output_ids:
            fields[tid] = out
            made_by[tid] = i
        if out is not None:
            row.update(size=out.size, jump=out.jump, start=out.start)
        rows_of[i] = (row, [p for p in parents if p is not None])
        previous = i
    # the target: a leaf call, or a nested model whose output some leaf made
    tid = calls[target].output_ids[0]
    end = made_by.get(tid)
    wanted, stack = set(), [end] if end is not None else []
    while stack:
        k = stack.pop()
        if k in wanted:
            continue
        wanted.add(k)
        stack += rows_of[k][1]
    rows = [rows_of[k][0] for k in sorted(wanted) if "size" in rows_of[k][0]]
    whole = whole_at.get(end)
    field = fields.get(tid)
    kept = [n for n in dict.fromkeys(notes)
            if any(rows_of[k][0]["name"] in n for k in wanted)]
    return ReceptiveField(model, layer, rows, whole, kept, field,
                          calls[target].output_shapes[0], target)


def _union(name, ins, notes):
    lo = tuple(min(f.lo[a] for f in ins) for a in (0, 1))
    hi = tuple(max(f.hi[a] for f in ins) for a in (0, 1))
    jumps = {f.j for f in ins}
    if len(jumps) > 1:
        notes.append(f"{name}: its inputs' paths disagree on the jump "
                     f"({' vs '.join(fmt_pair(tuple(_num(v) for v in j)) for j in jumps)}): "
                     f"the union's size depends on the position; the first unit's is shown")
    starts = {f.start for f in ins}
    if len(starts) > 1:
        notes.append(f"{name}: its inputs' fields are not centred alike (starts "
                     f"{' vs '.join(fmt_pair(s) for s in sorted(starts))}): the union is the "
                     f"interval that holds them")
    for a in (0, 1):
        ordered = sorted(ins, key=lambda f: f.lo[a])
        reach = ordered[0].hi[a]
        for f in ordered[1:]:
            if f.lo[a] > reach + 1:
                notes.append(f"{name}: its inputs' fields do not overlap: the union has a "
                             f"gap the interval shown covers")
                break
            reach = max(reach, f.hi[a])
    return _Field(lo, hi, ins[0].j)


def _union_formula(ins, out):
    return f"∪({', '.join(fmt_pair(f.size) for f in ins)}) = {fmt_pair(out.size)}"


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
