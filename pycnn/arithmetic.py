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

__all__ = ["Count", "conv_output_size", "same_padding", "dense_params", "conv2d_params",
           "compare_dense_conv", "DenseConvComparison"]


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
