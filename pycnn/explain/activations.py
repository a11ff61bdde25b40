"""Explainers of the activations and softmax (ops.def: activations and softmax).

leaky_relu's and elu's α, the axis of softmax, log_softmax and naive normalisation, and
maxout's pieces and axis come from the tensor's ``op_args``; swish's β is its second
parent.
"""
import numpy as _np

from .elementwise import _elementwise
from .render import ELEMENTS, _join, _values


# ---- activations with a parameter: α from op_args, β the second parent ---------------

def _piecewise(negative, general):
    """leaky_relu / elu: y = x for x > 0, else α·negative(x)."""
    def explainer(t, n):
        x = _values(t.parents[0]).reshape(-1)
        y = _values(t).reshape(-1)
        a = n.num(t.op_args["alpha"])
        lines = [n.text(f"{t.op}, element by element: ") + general(n)]
        lines[0] += (r",\quad \alpha = " if n.tex else ",  α = ") + a
        for i in range(min(ELEMENTS, y.size)):
            if x[i] > 0:
                lines.append(f"{n.num(x[i])} > 0 " + (r"\Rightarrow " if n.tex else "⇒ ")
                             + n.num(y[i]))
            else:
                lines.append(f"{a}{n.dot}{negative(n, x[i])} = {n.num(y[i])}")
        if y.size > ELEMENTS:
            lines.append(n.text(f"… and {y.size - ELEMENTS} more elements"))
        return lines
    return explainer


def _cases(n, negative):
    if n.tex:
        return rf"y = \begin{{cases}} x & x > 0 \\ \alpha\,{negative} & x \le 0 \end{{cases}}"
    return f"y = x if x > 0, else α·{negative}"


def _swish_at(n, x, beta):
    return f"{n.neg(x)}{n.dot}{n.sigma}({n.neg(beta)}{n.dot}{n.neg(x)})"


EXPLAINERS = {
    "leaky_relu": _piecewise(lambda n, x: n.neg(x), lambda n: _cases(n, "x")),
    "elu": _piecewise(lambda n, x: n.paren(f"{n.exp(x)} {n.minus} 1"),
                      lambda n: _cases(n, n.paren(f"e^x {n.minus} 1"))),
    "swish": _elementwise(_swish_at, lambda n: f"y = x{n.dot}{n.sigma}(" + (
        r"\beta" if n.tex else "β") + f"{n.dot}x)"),
}


# ---- along one axis: softmax, log_softmax, naive normalisation, maxout --------------

def _rows(t):
    """(z, y) as rows along the op's axis (op_args)."""
    z, y, axis = _values(t.parents[0]), _values(t), t.op_args["axis"]
    z, y = _np.moveaxis(_np.atleast_1d(z), axis, -1), _np.moveaxis(_np.atleast_1d(y), axis, -1)
    return z.reshape(-1, z.shape[-1]), y.reshape(-1, y.shape[-1]), axis


def _which_row(n, rows, axis):
    if rows == 1:
        return []
    return [n.text(f"the first of {rows} vectors along axis {axis} (each is treated alike):")]


def _softmax_reference(z, axis=-1):
    e = _np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _shift_text(n, m):
    """Large logits: the formula is computed with m = max z subtracted (same result)."""
    return (n.text("large logits: computed as ") +
            (rf"\frac{{e^{{z_k - m}}}}{{\sum_j e^{{z_j - m}}}},\ m = \max_j z_j = {n.num(m)}"
             if n.tex else f"e^(z_k − m) / Σ_j e^(z_j − m), m = max_j z_j = {n.num(m)}") +
            n.text(" (") + n.exp(m) +
            n.text(" would overflow in floating point; the ratio is unchanged)"))


def _explain_softmax(t, n):
    z, p, axis = _rows(t)
    z0, p0 = z[0], p[0]
    m = float(z0.max()) if _np.abs(z0).max() > 50 else 0.0
    e = _np.exp(z0 - m)
    zk = lambda v: n.exp(v - m)                                       # noqa: E731
    lines = [n.text("softmax: ") + n.sub("p", "k") + " = " +
             n.frac("e^{z_k}" if n.tex else "e^z_k", n.sum("j", "e^{z_j}" if n.tex else "e^z_j"))]
    lines += _which_row(n, z.shape[0], axis)
    if m:
        lines.append(_shift_text(n, m))
    lines.append(f"z = {n.vector(z0)}")
    total = n.sum("j", ("e^{z_j - m}" if m else "e^{z_j}") if n.tex else
                  ("e^(z_j − m)" if m else "e^z_j"))
    lines.append(f"{total} = {_join((zk(v) for v in z0), ' + ', n, limit=6)} = {n.num(e.sum())}")
    for k in range(min(ELEMENTS, z0.size)):
        lines.append(f"{n.sub('p', k + 1)} = {n.frac(zk(z0[k]), n.num(e.sum()))} = "
                     f"{n.num(p0[k])}")
    if z0.size > ELEMENTS:
        lines.append(n.text(f"… and {z0.size - ELEMENTS} more"))
    lines.append(f"{n.sum('k', n.sub('p', 'k'))} = {n.num(p0.sum())}" +
                 ((r",\ \text{every } p_k > 0" if n.tex else ", every p_k > 0")
                  if (p0 > 0).all() else ""))
    return lines


def _explain_log_softmax(t, n):
    z, y, axis = _rows(t)
    z0, y0 = z[0], y[0]
    lse = float(_np.log(_np.exp(z0 - z0.max()).sum()) + z0.max())
    ln = r"\ln" if n.tex else "ln"
    lines = [n.text("log_softmax: ") + f"{ln} {n.sub('p', 'k')} = {n.sub('z', 'k')} {n.minus} "
             f"{ln} " + n.sum("j", "e^{z_j}" if n.tex else "e^z_j")]
    lines += _which_row(n, z.shape[0], axis)
    lines.append(f"z = {n.vector(z0)}")
    lines.append(f"{ln} " + n.sum("j", "e^{z_j}" if n.tex else "e^z_j") +
                 f" = {ln} {n.paren(_join((n.exp(v) for v in z0), ' + ', n, limit=6))}"
                 f" = {n.num(lse)}")
    for k in range(min(ELEMENTS, z0.size)):
        lines.append(f"{ln} {n.sub('p', k + 1)} = {n.num(z0[k])} {n.minus} {n.num(lse)} = "
                     f"{n.num(y0[k])}")
    if z0.size > ELEMENTS:
        lines.append(n.text(f"… and {z0.size - ELEMENTS} more"))
    return lines


def _explain_naive_normalize(t, n):
    z, p, axis = _rows(t)
    z0, p0 = z[0], p[0]
    lines = [n.text("naive normalisation: ") + n.sub("p", "k") + " = " +
             n.frac(n.sub("z", "k"), n.sum("j", n.sub("z", "j")))]
    lines += _which_row(n, z.shape[0], axis)
    lines.append(f"z = {n.vector(z0)}")
    lines.append(f"{n.sum('j', n.sub('z', 'j'))} = "
                 f"{_join((n.neg(v) for v in z0), ' + ', n, limit=6)} = {n.num(z0.sum())}")
    for k in range(min(ELEMENTS, z0.size)):
        lines.append(f"{n.sub('p', k + 1)} = {n.frac(n.num(z0[k]), n.num(z0.sum()))} = "
                     f"{n.num(p0[k])}")
    bad = [n.num(v) for v in p0 if v < 0 or v > 1 or not _np.isfinite(v)]
    if bad:
        lines.append(n.text("not a probability: " + ", ".join(bad) +
                            " lies outside [0, 1] — softmax exponentiates first"))
    return lines


def _explain_maxout(t, n):
    x, y = _values(t.parents[0]), _values(t)
    axis, pieces = t.op_args["axis"], t.op_args["pieces"]
    x0 = _np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])[0]
    y0 = _np.moveaxis(y, axis, -1).reshape(-1, y.shape[axis])[0]
    mx = r"\max" if n.tex else "max"
    lines = [n.text(f"maxout, {pieces} pieces per unit: ") + f"{n.sub('y', 'j')} = {mx} " +
             n.text("of the j-th group of consecutive inputs")]
    for j in range(min(ELEMENTS, y0.size)):
        group = ", ".join(n.num(v) for v in x0[j * pieces:(j + 1) * pieces])
        lines.append(f"{n.sub('y', j + 1)} = {mx}({group}) = {n.num(y0[j])}")
    if y0.size > ELEMENTS:
        lines.append(n.text(f"… and {y0.size - ELEMENTS} more"))
    return lines


EXPLAINERS.update({
    "softmax": _explain_softmax,
    "log_softmax": _explain_log_softmax,
    "naive_normalize": _explain_naive_normalize,
    "maxout": _explain_maxout,
})
