"""Explainers of the layers (ops.def: layers): Dense, Conv2D, the pools, UpSampling2D.

A layer's activation, strides, padding and window come from its tensor's ``op_args``
(the node's named arguments).
"""
import numpy as _np

from .render import ELEMENTS, _explain_other, _join, _values

# ---- the Dense layer: y = f(x W + b) -----------------------------------------------

_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: _np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + _np.exp(-z)),
    "tanh": _np.tanh,
}


def _explain_dense(t, n):
    x, w = (_values(p) for p in t.parents[:2])
    b = _values(t.parents[2]) if len(t.parents) > 2 else _np.zeros(w.shape[1])
    y = _values(t)
    if x.ndim != 2 or w.ndim != 2 or y.shape != (x.shape[0], w.shape[1]):
        return _explain_other(t, n)
    z = x @ w + b
    name = t.op_args["activation"]
    if name == "linear":
        f = ""                                     # no activation: no parentheses either
    else:
        f = r"\mathrm{" + name + "}" if n.tex else name

    def apply(body):
        return f + n.paren(body) if f else body
    lines = [n.text(f"dense layer, {x.shape[1]} inputs → {w.shape[1]} units: ") +
             f"{n.sub('y', 'j')} = " + apply(n.sum("k", n.sub("x", "k") + " " + n.sub("W", "kj"))
                                              + " + " + n.sub("b", "j"))]
    if x.shape[0] > 1:
        lines.append(n.text(f"the first of {x.shape[0]} samples (each is treated alike):"))
    for j in range(min(ELEMENTS, w.shape[1])):
        terms = [f"{n.neg(x[0, k])}{n.dot}{n.neg(w[k, j])}" for k in range(x.shape[1])]
        line = f"{n.sub('y', j + 1)} = " + apply(_join(terms + [n.neg(b[j])], " + ", n, limit=6))
        if f:
            line += f" = {f}({n.num(z[0, j])})"
        lines.append(f"{line} = {n.num(y[0, j])}")
    if w.shape[1] > ELEMENTS:
        lines.append(n.text(f"… and {w.shape[1] - ELEMENTS} more units"))
    return lines


EXPLAINERS = {"dense": _explain_dense}


# ---- convolution and pooling: one output value and the window it reads ------------
#
# Keras' 'same' puts the odd extra row/column of padding at the bottom/right, so the
# top/left pad is ⌊total/2⌋.

def _geometry(t, kh, kw):
    """((stride, pad_before, padding) for rows, the same for columns) from op_args."""
    x, y = _values(t.parents[0]), _values(t)
    (sh, sw), padding = t.op_args["strides"], t.op_args["padding"]

    def axis(n_in, n_out, k, s):
        pad = max((n_out - 1) * s + k - n_in, 0) // 2 if padding == "same" else 0
        return s, pad, padding
    return axis(x.shape[1], y.shape[1], kh, sh), axis(x.shape[2], y.shape[2], kw, sw)


def _window(x, i, j, kh, kw, geometry, fill=0.0):
    """x[n=0] around output (i, j): (kh, kw, C), ``fill`` where padding lies."""
    (sh, ph, _), (sw, pw, _) = geometry
    rows, cols = i * sh - ph + _np.arange(kh), j * sw - pw + _np.arange(kw)
    inside = ((rows >= 0) & (rows < x.shape[1]))[:, None] & ((cols >= 0) & (cols < x.shape[2]))
    window = _np.full((kh, kw, x.shape[3]), fill)
    window[inside] = x[0][_np.clip(rows, 0, x.shape[1] - 1)[:, None],
                          _np.clip(cols, 0, x.shape[2] - 1)[None, :]][inside]
    return window


def _explain_conv2d(t, n):
    x, k = (_values(p) for p in t.parents[:2])
    b = _values(t.parents[2]) if len(t.parents) > 2 else _np.zeros(k.shape[3])
    y = _values(t)
    kh, kw, cin, cout = k.shape
    name = t.op_args["activation"]
    groups = t.op_args.get("groups", 1)
    geometry = _geometry(t, kh, kw)
    (sh, _, padding), (sw, _, _) = geometry
    i, j = y.shape[1] // 2, y.shape[2] // 2
    window = _window(x, i, j, kh, kw, geometry)[:, :, :cin]   # output 0 sees group 0
    z = b[0] + (window * k[:, :, :, 0]).sum()
    fn = "" if name == "linear" else (r"\mathrm{" + name + "}" if n.tex else name)
    sub = (lambda s: f"_{{{s}}}") if n.tex else (lambda s: f"[{s}]")
    grouped = (f" in {groups} groups (filter group g sees channel group g: {cin} "
               f"channels each)" if groups > 1 else "")
    lines = [n.text(f"convolution (cross-correlation), kernel {kh}×{kw}, "
                    f"{cin * groups} → {cout} channels{grouped}, stride ({sh}, {sw}), "
                    f"padding '{padding}':"),
             f"y{sub('i,j,o')} = " + (fn + "(" if fn else "") + f"b{sub('o')} + " +
             n.sum("u,v,c", f"x{sub('is+u, js+v, c')}" + (" " if n.tex else "·") +
                                     f"K{sub('u,v,c,o')}") + (")" if fn else "")]
    lines.append(n.text(f"image 1, output ({i}, {j}), channel 0 — "
                        f"{kh * kw * cin} products with the window it reads:"))
    lines.append(_products(n, sub, fn, b[0], window, k[:, :, :, 0], z, y[0, i, j, 0], i, j))
    return lines


def _products(n, sub, fn, bias, window, kernel, z, y, i, j):
    """Output (i, j) of channel 0 written out: the bias plus the products of the window
    with the kernel, through the activation fn (z before it) when there is one, = y."""
    terms = [f"{n.neg(w)}{n.dot}{n.neg(kv)}" for w, kv in
             zip(window.reshape(-1), kernel.reshape(-1))]
    value = f"{n.num(bias)} + {_join(terms, ' + ', n, limit=10)}"
    if fn:
        value = f"{fn}({value}) = {fn}({n.num(z)})"
    return f"y{sub(f'{i},{j},0')} = {value} = {n.num(y)}"


def _explain_depthwise(t, n):
    x, k = (_values(p) for p in t.parents[:2])
    kh, kw, cin, m = k.shape
    b = _values(t.parents[2]) if len(t.parents) > 2 else _np.zeros(cin * m)
    y = _values(t)
    name = t.op_args["activation"]
    geometry = _geometry(t, kh, kw)
    (sh, _, padding), (sw, _, _) = geometry
    i, j = y.shape[1] // 2, y.shape[2] // 2
    window = _window(x, i, j, kh, kw, geometry)[:, :, 0]
    z = b[0] + (window * k[:, :, 0, 0]).sum()
    fn = "" if name == "linear" else (r"\mathrm{" + name + "}" if n.tex else name)
    sub = (lambda s: f"_{{{s}}}") if n.tex else (lambda s: f"[{s}]")
    lines = [n.text(f"depthwise convolution, kernel {kh}×{kw}, each of the {cin} channels "
                    f"with its own {m} filter(s) → {cin * m} channels (channel c·{m} + m), "
                    f"stride ({sh}, {sw}), padding '{padding}':"),
             f"y{sub(f'i,j,c·{m}+m')} = " + (fn + "(" if fn else "") + f"b{sub(f'c·{m}+m')} + "
             + n.sum("u,v", f"x{sub('is+u, js+v, c')}" + (" " if n.tex else "·") +
                     f"K{sub('u,v,c,m')}") + (")" if fn else "")]
    lines.append(n.text(f"image 1, output ({i}, {j}), channel 0 — {kh * kw} products with "
                        f"channel 0 of the window it reads:"))
    lines.append(_products(n, sub, fn, b[0], window, k[:, :, 0, 0], z, y[0, i, j, 0], i, j))
    return lines


def _explain_pool(t, n):
    x, y = _values(t.parents[0]), _values(t)
    # padding takes no part in a pool (Keras): NaN marks it, nanmax/nanmean skip it
    p, q = t.op_args["pool_size"]
    geometry = _geometry(t, p, q)
    i, j = y.shape[1] // 2, y.shape[2] // 2
    window = _window(x, i, j, p, q, geometry, _np.nan)[:, :, 0]
    window = window[~_np.isnan(window)]
    (sh, _, padding), (sw, _, _) = geometry
    kind = "max" if t.op == "max_pool2d" else "average"
    fn = (r"\max" if n.tex else "max") if kind == "max" else (r"\mathrm{mean}" if n.tex
                                                               else "mean")
    return [n.text(f"{kind} pooling, window {p}×{q}, stride ({sh}, {sw}), padding '{padding}': "
                   f"each output is the {kind} of its window, channel by channel"),
            n.text(f"image 1, output ({i}, {j}), channel 0: ") +
            f"{fn}({_join((n.num(v) for v in window.reshape(-1)), ', ', n, limit=10)}) = "
            f"{n.num(y[0, i, j, 0])}"]


def _explain_upsampling(t, n):
    x, y = _values(t.parents[0]), _values(t)
    fh, fw = t.op_args["size"]
    i, j = _np.unravel_index(_np.argmax(_np.abs(x[0, :, :, 0])), x.shape[1:3])
    block = y[0, i * fh:(i + 1) * fh, j * fw:(j + 1) * fw, 0]
    where = f"_{{{i},{j}}}" if n.tex else f"[{i}, {j}]"
    return [n.text(f"up-sampling by ({fh}, {fw}), nearest neighbour: each value is copied "
                   f"into a {fh}×{fw} block"),
            n.text("image 1, channel 0: ") + f"x{where} = {n.num(x[0, i, j, 0])} " +
            (r"\to " if n.tex else "→ ") +
            n.text(f"y[{i * fh}:{(i + 1) * fh}, {j * fw}:{(j + 1) * fw}] = ") + n.vector(block)]


EXPLAINERS.update({
    "conv2d": _explain_conv2d,
    "depthwise_conv2d": _explain_depthwise,
    "max_pool2d": _explain_pool,
    "avg_pool2d": _explain_pool,
    "upsampling2d": _explain_upsampling,
})
