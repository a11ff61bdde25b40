"""Jupyter display of tensors: small ones as LaTeX matrices, as on the lecture's slides.

    >>> import pycnn
    >>> pycnn.tensor([[1, 2], [3, 4]])          # in Jupyter: a 2 × 2 bmatrix

A scalar is a number, a vector is a one-row matrix, a matrix is a ``bmatrix``. The
layout is Keras' channels_last, so a small H×W×C image shows as its C matrices
``x[:, :, c]`` and an N×H×W×C batch as ``x[n, :, :, c]``. Anything with more than
``max_elements`` numbers is summarised: a matrix keeps its corners with
``\\cdots``/``\\vdots``/``\\ddots``; other ranks show shape, dtype and statistics.

Numbers are written with up to 4 significant digits (``fmt``); integers without a
decimal point, so the lecture's examples read exactly as on the slides.
"""
import math as _math

import numpy as _np

__all__ = ["tensor_latex", "matrix_latex", "fmt", "fmt_latex", "summary_text"]

MAX_ELEMENTS = 64          # a tensor with more numbers than this is summarised
EDGE = 3                   # rows/columns kept at each edge of a summarised matrix


def fmt(x, digits=4):
    """One number as text: ``1``, ``-0.5``, ``0.5108``, ``1.234e+05``, ``inf``, ``nan``."""
    x = float(x)
    if _math.isnan(x):
        return "nan"
    if _math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.{digits}g}"


def fmt_latex(x, digits=4):
    """``fmt`` for LaTeX: ``1.2 \\times 10^{5}``, ``\\infty``, ``\\text{nan}``."""
    s = fmt(x, digits)
    if s in ("inf", "-inf"):
        return s.replace("inf", r"\infty")
    if s == "nan":
        return r"\text{nan}"
    if "e" in s:
        mantissa, exponent = s.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return s


def _elided(n, edge=EDGE):
    """Indices kept along an axis of length n, with None where the ellipsis goes."""
    if n <= 2 * edge + 1:
        return list(range(n))
    return list(range(edge)) + [None] + list(range(n - edge, n))


def matrix_latex(a, digits=4, env="bmatrix", max_rows=2 * EDGE + 1, max_cols=2 * EDGE + 1):
    """A 0-, 1- or 2-D array as a LaTeX matrix (a vector is one row), large ones elided."""
    a = _np.asarray(a)
    if a.ndim == 0:
        return fmt_latex(a, digits)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"matrix_latex: expected at most 2 dimensions, got shape {a.shape}")
    rows = _elided(a.shape[0]) if a.shape[0] > max_rows else list(range(a.shape[0]))
    cols = _elided(a.shape[1]) if a.shape[1] > max_cols else list(range(a.shape[1]))
    lines = []
    for i in rows:
        if i is None:
            cells = [r"\ddots" if j is None else r"\vdots" for j in cols]
        else:
            cells = [r"\cdots" if j is None else fmt_latex(a[i, j], digits) for j in cols]
        lines.append(" & ".join(cells))
    return rf"\begin{{{env}}} " + r" \\ ".join(lines) + rf" \end{{{env}}}"


def summary_text(a):
    """``shape (28, 28), float32: min 0, max 1, mean 0.1307, std 0.3081`` (finite values)."""
    a = _np.asarray(a)
    shape = "(" + ", ".join(str(n) for n in a.shape) + ("," if a.ndim == 1 else "") + ")"
    head = f"shape {shape}, {a.dtype}"
    finite = a[_np.isfinite(a)]
    if finite.size == 0:
        return head + ": no finite values"
    stats = (f"min {fmt(finite.min())}, max {fmt(finite.max())}, "
             f"mean {fmt(finite.mean())}, std {fmt(finite.std())}")
    if finite.size < a.size:
        stats += f", {a.size - finite.size} non-finite"
    return f"{head}: {stats}"


def _shape_latex(shape):
    return r" \times ".join(str(n) for n in shape) if shape else "1"


def _head(t):
    name = getattr(t, "name", None)
    return rf"\mathrm{{{_escape(name)}}} = " if name else ""


def _escape(s):
    return "".join("\\" + c if c in "_#%&$" else c for c in str(s))


def tensor_latex(t, max_elements=MAX_ELEMENTS, digits=4):
    """LaTeX (with ``$$`` delimiters) for a Tensor or array: what Jupyter shows.

    Up to ``max_elements`` numbers are written out; 2-D tensors beyond that show their
    corners; larger tensors of other ranks show shape, dtype and statistics.
    """
    a = _np.asarray(t)
    head = _head(t)
    dims = rf"\quad {{\scriptstyle {_shape_latex(a.shape)}}}" if a.ndim >= 1 else ""
    if a.ndim <= 2:
        limit = max(a.shape, default=1) if a.size <= max_elements else 2 * EDGE + 1
        return f"$${head}{matrix_latex(a, digits, max_rows=limit, max_cols=limit)}{dims}$$"
    if a.size <= max_elements:                 # small (N,) H, W, C: one matrix per channel
        parts = []
        for index in _np.ndindex(*a.shape[:-3], a.shape[-1]):
            *lead, c = index
            label = ", ".join([str(i) for i in lead] + [":", ":", str(c)])
            plane = a[(*lead, slice(None), slice(None), c)]
            parts.append(rf"[{label}] = {matrix_latex(plane, digits)}")
        return f"$${head}" + r" \quad ".join(parts) + f"{dims}$$"
    return f"$${head}" + rf"\text{{{summary_text(a)}}}$$"
