"""Explainers of the reductions and the matrix product (ops.def: core reductions,
structure, matrix products): every term written out.
"""
import numpy as _np

from .render import ELEMENTS, _explain_other, _join, _values

def _reduction(symbol):
    """sum / mean / max: every term written out when the result is one number."""
    def explainer(t, n):
        x = _values(t.parents[0]).reshape(-1)
        y = _values(t).reshape(-1)
        if y.size != 1:
            return _explain_other(t, n)
        terms = [n.num(v) if symbol == "max" else n.neg(v) for v in x]
        if symbol == "max":
            mx = r"\max" if n.tex else "max"
            body = f"{mx}({_join(terms, ', ', n)})"
        elif symbol == "mean":
            body = n.over(x.size) + n.paren(_join(terms, " + ", n))
        else:
            body = _join(terms, " + ", n)
        name = {"sum": n.sum("i", "x_i" if not n.tex else "x_{i}"),
                "mean": n.over("n") + " " + n.sum("i", "x_i" if not n.tex else "x_{i}"),
                "max": (r"\max_i x_i" if n.tex else "max_i x_i")}[symbol]
        return [n.text(f"{t.op} of {x.size} numbers: ") + name,
                f"{body} = {n.num(y[0])}"]
    return explainer


def _explain_matmul(t, n):
    a, b = (_values(p) for p in t.parents)
    c = _values(t)
    if a.ndim != 2 or b.ndim != 2:
        return _explain_other(t, n)
    (m, k), (_, p) = a.shape, b.shape
    lines = [n.text(f"matrix product ({m}×{k}) · ({k}×{p}): ")
             + n.sub("C", "ij") + " = " + n.sum("k", n.sub("A", "ik") + " " +
                                                n.sub("B", "kj"))]
    shown = 0
    for i, j in _np.ndindex(*c.shape):
        if shown == ELEMENTS:
            lines.append(n.text(f"… and {c.size - ELEMENTS} more elements"))
            break
        terms = [f"{n.neg(a[i, k])}{n.dot}{n.neg(b[k, j])}" for k in range(a.shape[1])]
        lines.append(f"{n.sub('C', f'{i + 1}{j + 1}' if max(c.shape) < 10 else f'{i + 1},{j + 1}')}"
                     f" = {_join(terms, ' + ', n, limit=6)} = {n.num(c[i, j])}")
        shown += 1
    return lines


EXPLAINERS = {
    "sum": _reduction("sum"),
    "mean": _reduction("mean"),
    "max": _reduction("max"),
    "matmul": _explain_matmul,
}
