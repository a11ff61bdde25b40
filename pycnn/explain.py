"""``explain(t)``: the formula that produced a tensor, with its actual numbers substituted.

    >>> p = pycnn.tensor([[0.3, 0.6, 0.1]]); y = pycnn.tensor([[0., 1., 0.]])
    >>> print(pycnn.losses.categorical_crossentropy(y, p).explain())
    categorical cross-entropy: E = −Σ_k y_k · ln p_k
    E = −(0·ln 0.3 + 1·ln 0.6 + 0·ln 0.1) = 0.5108

The result is an ``Explanation``: LaTeX in Jupyter (``_repr_latex_``), text in a
terminal (``str``). Each op the lecture teaches has an explainer here, registered by
its op name (``Tensor.op``); it reads the numbers from the tensor and its
``.parents`` — a loss node's parents are ``(y_pred, y_true)``. Every explainer writes
its lines through a ``Notation`` so the LaTeX and the text are one piece of code.

Batches show their first few rows, then how the rows combine (mean or sum); the last
number on the last line is always the tensor's own value, computed by pycnn in C.
"""
import numpy as _np

from . import _core
from .display import fmt as _fmt, fmt_latex as _fmt_latex, matrix_latex as _matrix_latex

__all__ = ["explain", "Explanation", "EXPLAINERS"]

ROWS = 3           # rows of a batch written out in full
ELEMENTS = 4       # elements of an element-wise result written out


class Explanation:
    """Lines of a derivation: ``.latex`` for Jupyter, ``.text`` for a terminal, ``.value``."""

    def __init__(self, latex_lines, text_lines, value):
        self.latex_lines = list(latex_lines)
        self.text_lines = list(text_lines)
        self.value = value

    @property
    def latex(self):
        return r"\begin{aligned}" + r" \\ ".join(f"& {line}" for line in self.latex_lines) + \
            r"\end{aligned}"

    @property
    def text(self):
        return "\n".join(self.text_lines)

    def _repr_latex_(self):
        return f"$${self.latex}$$"

    def __str__(self):
        return self.text

    def __repr__(self):
        return self.text


class Notation:
    """How one explainer's symbols are written: LaTeX (``tex=True``) or plain text."""

    def __init__(self, tex):
        self.tex = tex
        self.minus = "-" if tex else "−"
        self.dot = r" \cdot " if tex else "·"
        self.times = r" \times " if tex else " × "
        self.approx = r" \approx " if tex else " ≈ "
        self.sigma = r"\sigma" if tex else "σ"

    def num(self, x):
        """A number; negative ones in parentheses are the caller's business (``neg``)."""
        return _fmt_latex(x) if self.tex else _fmt(x).replace("-", "−")

    def neg(self, x):
        """A number as an operand: ``(−1)`` when negative."""
        s = self.num(x)
        return f"({s})" if float(x) < 0 else s

    def text(self, s):
        """Words; in LaTeX an underscore leaves text mode (``log_softmax``)."""
        return (r"\text{" + s.replace("_", r"}\_\text{") + "}") if self.tex else s

    def ln(self, x):
        return rf"\ln {self.neg(x)}" if self.tex else f"ln {self.neg(x)}"

    def exp(self, x):
        return f"e^{{{self.num(x)}}}" if self.tex else f"e^{self.neg(x)}"

    def frac(self, a, b):
        return rf"\frac{{{a}}}{{{b}}}" if self.tex else f"{_group(a)} / {_group(b)}"

    def over(self, k):
        """The factor 1/k: ``\\frac{1}{k}`` or ``(1/k)``."""
        return rf"\frac{{1}}{{{k}}}" if self.tex else f"(1/{k})"

    def sq(self, a):
        return f"({a})^2" if self.tex else f"({a})²"

    def sub(self, name, index):
        return f"{name}_{{{index}}}" if self.tex else f"{name}_{index}"

    def sum(self, index, body):
        return rf"\sum_{{{index}}} {body}" if self.tex else f"Σ_{index} {body}"

    def vector(self, a):
        a = _np.asarray(a)
        if self.tex:
            return _matrix_latex(a)
        return "[" + ", ".join(self.num(v) for v in a.reshape(-1)) + "]"

    def paren(self, s):
        return rf"\left({s}\right)" if self.tex else f"({s})"


def _group(s):
    return f"({s})" if " " in s and not s.startswith("(") else s


def _join(terms, sep, n, limit=8):
    """terms joined by sep; beyond limit the first ones, an ellipsis and the last."""
    terms = list(terms)
    if len(terms) > limit:
        dots = (r"\cdots" if "+" in sep else r"\ldots") if n.tex else "…"
        terms = terms[:limit - 2] + [dots, terms[-1]]
    return sep.join(terms)


def _lines(explainer, t):
    """(LaTeX lines, text lines). Numbers that do not fit an explainer's formula (an empty
    batch, a shape it does not know) get the generic description instead of an error:
    explaining must never be what breaks a student's session."""
    with _np.errstate(all="ignore"):
        try:
            return (explainer(t, Notation(True)), explainer(t, Notation(False)))
        except (ValueError, IndexError, ZeroDivisionError) as error:
            if explainer is _explain_other:
                raise
            lines = _lines(_explain_other, t)
            note = f"({t.op}'s own derivation does not apply here: {error})"
            return (lines[0] + [Notation(True).text(note)], lines[1] + [note])


def explain(t, *args, **kwargs):
    """The formula that produced ``t``, with its numbers, as an ``Explanation``.

    Works on any Tensor: the ops of the lecture (losses, softmax, activations,
    element-wise arithmetic) get their own derivation; any other op is described by
    its inputs and output; a leaf says it is one.

    pycnn records an op only when an input requires grad, so a result computed from
    plain numbers has nothing to explain. ``explain(fn, *args, **kwargs)`` takes care
    of that: it calls ``fn`` with every list and float array (and every Tensor) among
    the positional arguments made a leaf that requires grad, then explains the result —
    ``pycnn.explain(pycnn.losses.categorical_crossentropy, [[0, 1, 0]], [[.3, .6, .1]])``.
    Integer arrays (class labels) and everything else pass unchanged; a function that
    returns a tuple has its first element explained.
    """
    if callable(t) and not isinstance(t, _core.Tensor):
        t = t(*(_recording_leaf(a) for a in args), **kwargs)
        if isinstance(t, tuple) and t and isinstance(t[0], _core.Tensor):
            t = t[0]                           # e.g. yolo_loss(..., return_parts=True)
    elif args or kwargs:
        raise TypeError("explain: extra arguments are only taken with a function to call")
    if not isinstance(t, _core.Tensor):
        raise TypeError(f"explain: expected a pycnn Tensor, got {type(t).__name__}")
    explainer = EXPLAINERS.get(t.op, _explain_other) if t.op is not None else _explain_leaf
    latex, text = _lines(explainer, t)
    value = t.item() if t.size == 1 else t.numpy().copy()
    return Explanation(latex, text, value)


def _recording_leaf(a):
    """A leaf that requires grad for lists, float arrays and Tensors; a unchanged else."""
    if isinstance(a, _core.Tensor):
        leaf = a.detach()
    elif isinstance(a, list) or (isinstance(a, _np.ndarray) and a.dtype.kind == "f"):
        leaf = _core.tensor(a)
    else:
        return a
    leaf.requires_grad = True
    return leaf


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _values(t):
    return _np.asarray(t.numpy(), dtype=_np.float64)


# ---- leaves and ops without their own explainer ------------------------------------

def _explain_leaf(t, n):
    name = t.name or "this tensor"
    if t.requires_grad:
        return [n.text(f"{name} is a leaf of the graph (a weight or input that requires "
                       f"grad), shape {_shape(t.shape)}: no op computed it")]
    return [n.text(f"{name} (shape {_shape(t.shape)}) has no recorded op: it is a constant, "
                   f"or was computed from tensors that do not require grad (or under "
                   f"no_grad), and pycnn records the graph only for those that do;"),
            n.text("to explain a result, compute it from an input made with "
                   "requires_grad=True")]


def _explain_other(t, n):
    parents = ", ".join(_shape(p.shape) for p in t.parents)
    line = n.text(f"{t.op}: inputs of shape {parents} give shape {_shape(t.shape)}")
    if t.size <= ELEMENTS:
        return [line, f"= {n.vector(_values(t)) if t.ndim else n.num(t.item())}"]
    return [line]


# ---- element-wise ops: each element's formula with its numbers ----------------------

def _elementwise(formula, general):
    """An explainer for y = f(x, ...) element by element, broadcasting as NumPy does.

    formula(n, *numbers) writes f at one element; general(n) the formula with symbols.
    """
    def explainer(t, n):
        operands = [_np.broadcast_to(_values(p), t.shape).reshape(-1) for p in t.parents]
        y = _values(t).reshape(-1)
        where = f" (broadcast to {_shape(t.shape)})" if len(operands) > 1 else ""
        lines = [n.text(f"{t.op}, element by element{where}: ") + general(n)]
        for i in range(min(ELEMENTS, y.size)):
            lines.append(f"{formula(n, *(x[i] for x in operands))} = {n.num(y[i])}")
        if y.size > ELEMENTS:
            lines.append(n.text(f"… and {y.size - ELEMENTS} more elements"))
        return lines
    return explainer


def _binary(at):
    """z = x ∘ y written by at(n, x_text, y_text), for symbols and numbers alike."""
    return _elementwise(lambda n, x, y: at(n, n.neg(x), n.neg(y)),
                        lambda n: "z = " + at(n, "x", "y"))


def _infix(tex, text):
    return lambda n, x, y: f"{x} {tex if n.tex else text} {y}"


def _call(name):
    fn = lambda n: rf"\{name}" if n.tex else name                      # noqa: E731
    return _elementwise(lambda n, x, y: f"{fn(n)}({n.num(x)}, {n.num(y)})",
                        lambda n: f"z = {fn(n)}(x, y)")


def _sigmoid_at(n, x):
    return f"{n.sigma}({n.num(x)}) = " + n.frac("1", f"1 + {n.exp(-x)}")


def _tanh_at(n, x):
    return (r"\tanh" if n.tex else "tanh") + f"({n.num(x)}) = " + \
        n.frac(f"{n.exp(x)} {n.minus} {n.exp(-x)}", f"{n.exp(x)} + {n.exp(-x)}")


EXPLAINERS = {
    "add": _binary(_infix("+", "+")),
    "sub": _binary(_infix("-", "−")),
    "mul": _binary(_infix(r"\cdot", "·")),
    "div": _binary(_infix("/", "/")),
    "pow": _binary(lambda n, x, y: f"{x}^{{{y}}}" if n.tex else f"{x}^{y}"),
    "maximum": _call("max"),
    "minimum": _call("min"),
    "neg": _elementwise(lambda n, x: f"{n.minus}{n.neg(x)}", lambda n: f"y = {n.minus}x"),
    "abs": _elementwise(lambda n, x: f"|{n.num(x)}|", lambda n: "y = |x|"),
    "exp": _elementwise(lambda n, x: n.exp(x), lambda n: "y = e^x"),
    "log": _elementwise(lambda n, x: n.ln(x), lambda n: r"y = \ln x" if n.tex else "y = ln x"),
    "sqrt": _elementwise(lambda n, x: rf"\sqrt{{{n.num(x)}}}" if n.tex else f"√{n.neg(x)}",
                   lambda n: r"y = \sqrt{x}" if n.tex else "y = √x"),
    "square": _elementwise(lambda n, x: f"{n.neg(x)}^2" if n.tex else f"{n.neg(x)}²",
                     lambda n: "y = x^2" if n.tex else "y = x²"),
    "sigmoid": _elementwise(_sigmoid_at,
                      lambda n: f"{n.sigma}(x) = " + n.frac("1", f"1 + e^{{{n.minus}x}}"
                                                            if n.tex else f"1 + e^(−x)")),
    "tanh": _elementwise(_tanh_at,
                   lambda n: (r"\tanh" if n.tex else "tanh") + "(x) = " +
                   n.frac(f"e^x {n.minus} e^{{-x}}" if n.tex else "e^x − e^(−x)",
                          "e^x + e^{-x}" if n.tex else "e^x + e^(−x)")),
    "relu": _elementwise(lambda n, x: (r"\max" if n.tex else "max") + f"(0, {n.num(x)})",
                   lambda n: "y = " + (r"\max" if n.tex else "max") + "(0, x)"),
}


# ---- activations with a parameter: α and β are read back from the numbers ----------

def _slope(x, y, fn):
    """The α with y = α · fn(x) on the elements where x ≤ 0 (None when there are none)."""
    mask = (x < 0) & (fn(x) != 0)
    return float(_np.median(y[mask] / fn(x[mask]))) if mask.any() else None


def _piecewise(negative, general):
    """leaky_relu / elu: y = x for x > 0, else α·negative(x); α inferred from the data."""
    def explainer(t, n):
        x = _values(t.parents[0]).reshape(-1)
        y = _values(t).reshape(-1)
        fn = {"leaky_relu": lambda v: v, "elu": _np.expm1}[t.op]
        alpha = _slope(x, y, fn)
        a = n.num(alpha) if alpha is not None else (r"\alpha" if n.tex else "α")
        lines = [n.text(f"{t.op}, element by element: ") + general(n)]
        if alpha is not None:
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


EXPLAINERS.update({
    "leaky_relu": _piecewise(lambda n, x: n.neg(x), lambda n: _cases(n, "x")),
    "elu": _piecewise(lambda n, x: n.paren(f"{n.exp(x)} {n.minus} 1"),
                      lambda n: _cases(n, n.paren(f"e^x {n.minus} 1"))),
    "swish": _elementwise(_swish_at, lambda n: f"y = x{n.dot}{n.sigma}(" + (
        r"\beta" if n.tex else "β") + f"{n.dot}x)"),
})


# ---- along one axis: softmax, log_softmax, naive normalisation, maxout --------------

def _rows(t, reference):
    """(z, y) as rows along the op's axis, found as the axis whose reference matches."""
    z, y = _values(t.parents[0]), _values(t)
    for axis in [-1] + list(range(z.ndim - 1)):
        with _np.errstate(all="ignore"):
            ref = reference(z, axis)
        if ref.shape == y.shape and _np.allclose(ref, y, rtol=1e-4, atol=1e-6, equal_nan=True):
            break
    else:
        axis = -1
    z, y = _np.moveaxis(_np.atleast_1d(z), axis, -1), _np.moveaxis(_np.atleast_1d(y), axis, -1)
    return z.reshape(-1, z.shape[-1]), y.reshape(-1, y.shape[-1]), axis


def _which_row(n, rows, axis):
    if rows == 1:
        return []
    return [n.text(f"the first of {rows} vectors along axis {axis} (each is treated alike):")]


def _softmax_reference(z, axis):
    e = _np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _shift_text(n, m):
    """Large logits: the formula is computed with m = max z subtracted (same result)."""
    return (n.text("large logits: computed as ") +
            (rf"\frac{{e^{{z_k - m}}}}{{\sum_j e^{{z_j - m}}}},\ m = \max_j z_j = {n.num(m)}"
             if n.tex else f"e^(z_k − m) / Σ_j e^(z_j − m), m = max_j z_j = {n.num(m)}") +
            n.text(" (e^1000 would overflow in floating point; the ratio is unchanged)"))


def _explain_softmax(t, n):
    z, p, axis = _rows(t, _softmax_reference)
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
    z, y, axis = _rows(t, lambda z, a: _np.log(_softmax_reference(z, a)))
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
    z, p, axis = _rows(t, lambda z, a: z / z.sum(axis=a, keepdims=True))
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
    axis = next((a for a in range(-1, -x.ndim - 1, -1) if x.shape[a] != y.shape[a]), -1)
    pieces = x.shape[axis] // y.shape[axis]
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


# ---- losses: one line per sample (its formula with its numbers), then the reduction --
#
# A loss node's parents are (y_pred, y_true); its value is the per-sample vector
# ('none'), or their mean or sum. Which reduction it was is read from the numbers.

EPSILON = 1e-7      # Keras' clip of probabilities: [ε, 1 − ε]


def _loss_rows(t, rows_are_samples=False):
    """(y_pred, y_true) as float64 rows: one row per sample (the first axis) for the
    squared errors, else one row per vector along the last axis."""
    pred, true = (_values(p) for p in t.parents)
    pred = _np.atleast_1d(pred)
    width = int(_np.prod(pred.shape[1:])) if rows_are_samples else pred.shape[-1]
    return pred.reshape(-1, width), true.reshape(pred.size // width, -1)


def _reduce(t, n, per, counted=None):
    """The line combining per-sample losses E_i into the tensor's value."""
    value = _values(t)
    counted = per if counted is None else counted
    if value.shape != () and value.size == per.size:
        return [n.text(f"reduction 'none': one loss per sample, shape {_shape(value.shape)}")]
    v = float(value)
    terms = _join((n.num(e) for e in counted), " + ", n, limit=5)
    m = counted.size
    if m == 1:
        return []
    if _np.isclose(v, counted.mean(), rtol=1e-4, atol=1e-7):
        return [f"E = {n.over('N')} {n.sum('i', 'E_i' if not n.tex else 'E_{i}')} = "
                f"{n.frac(terms, str(m))} = {n.num(v)}" +
                (n.text(f"  (N = {m})") if n.tex else f"   (N = {m})")]
    if _np.isclose(v, counted.sum(), rtol=1e-4, atol=1e-7):
        return [f"E = {n.sum('i', 'E_i' if not n.tex else 'E_{i}')} = {terms} = {n.num(v)}"]
    return [f"E = {n.num(v)}"]


def _sample_lines(n, t, per, write, rows):
    """E_i = (formula with numbers) = value for the first ROWS samples; write(i) gives
    the formula, or None for a sample that does not count."""
    lines = []
    for i in range(min(ROWS, rows)):
        name = "E" if rows == 1 else n.sub("E", i + 1)
        formula = write(i)
        # one sample: its loss is the tensor itself, so the line ends with pycnn's number
        value = float(t.numpy().reshape(-1)[0]) if rows == 1 and t.size == 1 else per[i]
        if formula is None:                       # an ignored label: no loss at all
            lines.append(f"{name}" + n.text(": label ignored, not counted"))
        else:
            lines.append(f"{name} = {formula} = {n.num(value)}")
    if rows > ROWS:
        lines.append(n.text(f"… and {rows - ROWS} more samples"))
    return lines


def _softmax_rows(z):
    e = _np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _from_logits_line(n, kind, z, p):
    """The probabilities a from-logits loss works with, shown for the first sample."""
    fn = (r"\mathrm{softmax}" if n.tex else "softmax") if kind == "softmax" else n.sigma
    return [n.text("from logits: ") + f"p = {fn}(z) = {fn}({n.vector(z)}) = {n.vector(p)}"]


def _crossentropy_terms(n, y, p, known=None):
    """−(y_1·ln p_1 + …): every term for a few classes, the y_k ≠ 0 ones for many."""
    ks = [k for k in range(y.size) if known is None or known[k]]
    if len(ks) > 6:
        ks = [k for k in ks if y[k] != 0]
    return f"{n.minus}" + n.paren(" + ".join(f"{n.num(y[k])}{n.dot}{n.ln(p[k])}" for k in ks))


def _explain_categorical(t, n):
    pred, true = _loss_rows(t)
    logits = t.op.endswith("from_logits")
    p = _softmax_rows(pred) if logits else pred / pred.sum(axis=-1, keepdims=True)
    q = _np.clip(p, EPSILON, 1 - EPSILON)
    per = -(true * _np.log(q)).sum(axis=-1)
    lines = [n.text("categorical cross-entropy: ") + "E = " + n.minus +
             n.sum("k", f"{n.sub('y', 'k')}{n.dot}" + (r"\ln p_k" if n.tex else "ln p_k"))]
    if logits:
        lines += _from_logits_line(n, "softmax", pred[0], p[0])
    elif not _np.allclose(pred.sum(axis=-1), 1, atol=1e-6):
        lines.append(n.text("the rows of y_pred do not sum to 1: p is divided by its sum "
                            "first, as Keras does"))
    lines += _sample_lines(n, t, per, lambda i: _crossentropy_terms(n, true[i], q[i]), len(per))
    return lines + _reduce(t, n, per)


def _explain_sparse(t, n):
    pred, labels = _loss_rows(t)
    labels = labels.reshape(-1)
    logits = t.op.endswith("from_logits")
    p = _softmax_rows(pred) if logits else pred / pred.sum(axis=-1, keepdims=True)
    valid = (labels >= 0) & (labels < pred.shape[-1]) & (labels == _np.floor(labels))
    rows = _np.arange(len(labels))
    q = _np.clip(p[rows, _np.where(valid, labels, 0).astype(int)], EPSILON, 1 - EPSILON)
    per = _np.where(valid, -_np.log(q), 0.0)
    lines = [n.text("sparse categorical cross-entropy, label j: ") +
             f"E = {n.minus}" + (r"\ln p_j" if n.tex else "ln p_j")]
    if logits:
        lines += _from_logits_line(n, "softmax", pred[0], p[0])

    def write(i):
        if not valid[i]:
            return None
        p_y = (rf"p(\text{{class }} {int(labels[i])})" if n.tex
               else f"p(class {int(labels[i])})")
        return f"{n.minus}" + (r"\ln " if n.tex else "ln ") + f"{p_y} = {n.minus}{n.ln(q[i])}"
    lines += _sample_lines(n, t, per, write, len(per))
    if not valid.all():
        ignored = int((~valid).sum())
        verb = "labels do" if ignored > 1 else "label does"
        lines.append(n.text(f"{ignored} ignored {verb} not count"))
    return lines + _reduce(t, n, per, counted=per[valid])


def _binary_terms(n, y, p, known):
    """[−y ln p − (1 − y) ln(1 − p)] for each known label k."""
    out = []
    for k in _np.flatnonzero(known):
        out.append(f"{n.minus}{n.num(y[k])}{n.dot}{n.ln(p[k])} {n.minus} "
                   f"(1 {n.minus} {n.num(y[k])}){n.dot}" +
                   (r"\ln" if n.tex else "ln") + n.paren(f"1 {n.minus} {n.num(p[k])}"))
    return out


def _explain_binary(t, n, multilabel=False):
    pred, true = _loss_rows(t)
    logits = t.op.endswith("from_logits")
    p = 1 / (1 + _np.exp(-pred)) if logits else pred
    q = _np.clip(p, EPSILON, 1 - EPSILON)
    known = ~_np.isnan(true)
    y = _np.where(known, true, 0.0)
    each = _np.where(known, -(y * _np.log(q) + (1 - y) * _np.log(1 - q)), 0.0)
    width = pred.shape[-1]
    per = each.sum(axis=-1) if multilabel else each.mean(axis=-1)
    formula = (f"{n.minus}y{n.dot}" + (r"\ln p" if n.tex else "ln p") +
               f" {n.minus} (1 {n.minus} y){n.dot}" + (r"\ln(1 - p)" if n.tex else "ln(1 − p)"))
    if multilabel:
        lines = [n.text("multi-label cross-entropy: ") + "E = " + n.sum("k", "[" + formula
                 .replace("y", "y_k").replace("p", "p_k") + "]") +
                 n.text(", unknown labels (?) left out")]
    else:
        lines = [n.text("binary cross-entropy: ") + "E = " + formula +
                 (n.text(f", averaged over the {width} outputs") if width > 1 else "")]
    if logits:
        lines += _from_logits_line(n, "sigmoid", pred[0], p[0])
    if multilabel:
        labels = ", ".join("?" if not k else n.num(v) for v, k in zip(true[0], known[0]))
        lines.append(f"y = [{labels}]" + (n.text("  (? contributes nothing)")
                                          if not known[0].all() else ""))

    def write(i):
        terms = " + ".join(n.paren(s) if len(_binary_terms(n, y[i], q[i], known[i])) > 1
                           else s for s in _binary_terms(n, y[i], q[i], known[i]))
        if not multilabel and width > 1:
            return n.over(width) + n.paren(terms)
        return terms or n.text("no known label") + " 0"
    lines += _sample_lines(n, t, per, write, len(per))
    return lines + _reduce(t, n, per)


def _explain_squared(t, n):
    pred, true = _loss_rows(t, rows_are_samples=True)
    mean = t.op == "mean_squared_error"
    width = pred.shape[-1]
    per = ((true - pred) ** 2).mean(axis=-1) if mean else 0.5 * ((true - pred) ** 2).sum(axis=-1)
    half = r"\tfrac{1}{2}" if n.tex else "½"
    s_hat = r"\hat{s}" if n.tex else "ŝ"
    diff = f"({n.sub('s', 'j')} {n.minus} {n.sub(s_hat, 'j')})"
    if mean:
        lines = [n.text("mean squared error (Keras): ") + "E = " + n.over("K") + " " +
                 n.sum("j", n.sq(f"{n.sub('y', 'j')} {n.minus} " +
                                 n.sub(r"\hat{y}" if n.tex else "ŷ", "j"))) +
                 n.text(f", K = {width} outputs")]
    else:
        lines = [n.text("squared error (lecture): ") + "E = " + n.sum("j", f"{half}{diff}^2"
                                                                      if n.tex else f"½{diff}²")]

    def write(i):
        terms = _join((n.sq(f"{n.num(a)} {n.minus} {n.neg(b)}")
                        for a, b in zip(true[i], pred[i])), " + ", n, limit=5)
        return (n.over(width) + n.paren(terms)) if mean else f"{half}" + \
            (rf"\left[{terms}\right]" if n.tex else f"[{terms}]")
    lines += _sample_lines(n, t, per, write, len(per))
    return lines + _reduce(t, n, per)


def _explain_yolo(t, n):
    """The five terms of YOLO v1's loss, recomputed with pycnn's own yolo_loss."""
    from . import losses
    pred, true = (p.numpy() for p in t.parents)
    S, C = pred.shape[1], true.shape[-1] - 5
    B = (pred.shape[-1] - C) // 5
    names = [("coord_xy", r"\lambda_{coord} \sum 1^{obj}_{ij} [(x - \hat x)^2 + (y - \hat y)^2]",
              "λ_coord Σ 1obj_ij [(x − x̂)² + (y − ŷ)²]"),
             ("coord_wh", r"\lambda_{coord} \sum 1^{obj}_{ij} [(\sqrt{w} - \sqrt{\hat w})^2 + "
              r"(\sqrt{h} - \sqrt{\hat h})^2]",
              "λ_coord Σ 1obj_ij [(√w − √ŵ)² + (√h − √ĥ)²]"),
             ("obj", r"\sum 1^{obj}_{ij} (C_i - \hat C_i)^2", "Σ 1obj_ij (C_i − Ĉ_i)²"),
             ("noobj", r"\lambda_{noobj} \sum 1^{noobj}_{ij} (C_i - \hat C_i)^2",
              "λ_noobj Σ 1noobj_ij (C_i − Ĉ_i)²"),
             ("cls", r"\sum_i 1^{obj}_i \sum_c (p_i(c) - \hat p_i(c))^2",
              "Σ_i 1obj_i Σ_c (p_i(c) − p̂_i(c))²")]
    value = float(t.numpy().sum())
    with _core_no_grad():
        total, parts = losses.yolo_loss(true, pred, S=S, B=B, C=C, return_parts=True)
        weighted = _np.isclose(float(total), value, rtol=1e-4, atol=1e-6)
        if not weighted:          # other λ: show the unweighted sums, λ as symbols
            total, parts = losses.yolo_loss(true, pred, S=S, B=B, C=C, lambda_coord=1.0,
                                            lambda_noobj=1.0, return_parts=True)
    lines = [n.text(f"YOLO v1 loss, S = {S}, B = {B}, C = {C}, averaged over "
                    f"{pred.shape[0]} image{'s' if pred.shape[0] != 1 else ''}" +
                    ("" if weighted else ", λ as given (the sums below are unweighted)") + ":")]
    for key, tex, text in names:
        label = tex if n.tex else text
        if not weighted:
            for weight in (r"\lambda_{coord} ", r"\lambda_{noobj} ", "λ_coord ", "λ_noobj "):
                label = label.replace(weight, "")
        lines.append(f"{label} = {n.num(float(parts[key]))}")
    if weighted:
        lines.append("E = " + " + ".join(n.num(float(parts[k])) for k, _, _ in names) +
                     f" = {n.num(value)}")
    else:
        lam = {"coord_xy": "λ_coord·", "coord_wh": "λ_coord·", "noobj": "λ_noobj·"}
        if n.tex:
            lam = {k: v.replace("λ_coord·", r"\lambda_{coord} \cdot ").replace(
                "λ_noobj·", r"\lambda_{noobj} \cdot ") for k, v in lam.items()}
        lines.append("E = " + " + ".join(lam.get(k, "") + n.num(float(parts[k]))
                                         for k, _, _ in names) + f" = {n.num(value)}")
    return lines


def _core_no_grad():
    from .autograd import no_grad
    return no_grad()


EXPLAINERS.update({
    "categorical_crossentropy": _explain_categorical,
    "categorical_crossentropy_from_logits": _explain_categorical,
    "sparse_categorical_crossentropy": _explain_sparse,
    "sparse_categorical_crossentropy_from_logits": _explain_sparse,
    "binary_crossentropy": _explain_binary,
    "binary_crossentropy_from_logits": _explain_binary,
    "multilabel_crossentropy": lambda t, n: _explain_binary(t, n, multilabel=True),
    "multilabel_crossentropy_from_logits": lambda t, n: _explain_binary(t, n, multilabel=True),
    "squared_error": _explain_squared,
    "mean_squared_error": _explain_squared,
    "yolo_loss": _explain_yolo,
})


# ---- reductions and the matrix product ----------------------------------------------

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


EXPLAINERS.update({
    "sum": _reduction("sum"),
    "mean": _reduction("mean"),
    "max": _reduction("max"),
    "matmul": _explain_matmul,
})


# ---- the Dense layer: y = f(x W + b), the activation recognised from the numbers ----

_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: _np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + _np.exp(-z)),
    "tanh": _np.tanh,
    "softmax": _softmax_rows,
}


def _activation_candidates(y):
    """The activations to try, most telling first: exact zeros and no negative value
    point to a ReLU (a linear map would rarely give either)."""
    names = list(_ACTIVATIONS)
    if (y >= 0).all() and (y == 0).any():
        names.remove("relu")
        names.insert(0, "relu")
    return [(k, _ACTIVATIONS[k]) for k in names]


def _explain_dense(t, n):
    x, w = (_values(p) for p in t.parents[:2])
    b = _values(t.parents[2]) if len(t.parents) > 2 else _np.zeros(w.shape[1])
    y = _values(t)
    if x.ndim != 2 or w.ndim != 2 or y.shape != (x.shape[0], w.shape[1]):
        return _explain_other(t, n)
    z = x @ w + b
    with _np.errstate(all="ignore"):
        name = next((k for k, f in _activation_candidates(y)
                     if _np.allclose(f(z), y, rtol=1e-4, atol=1e-5)), None)
    if name == "linear":
        f = ""                                     # no activation: no parentheses either
    else:
        f = (r"\mathrm{" + name + "}" if n.tex else name) if name else "f"

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


EXPLAINERS["dense"] = _explain_dense


# ---- convolution and pooling: one output value and the window it reads ------------
#
# Strides and padding are not stored on the tensor; the geometry that reproduces the
# output's size and value is found by trying the few that fit (Keras' 'same' puts the
# odd extra row/column of padding at the bottom/right, so the top/left pad is ⌊total/2⌋).

def _geometries(n_in, n_out, k):
    """(stride, pad_before, padding name) along one axis that give n_out from n_in."""
    out = []
    for s in range(1, max(k, 1) + 3):
        if n_in >= k and (n_in - k) // s + 1 == n_out:
            out.append((s, 0, "valid"))
        if -(-n_in // s) == n_out:
            out.append((s, max((n_out - 1) * s + k - n_in, 0) // 2, "same"))
    return out


def _window(x, i, j, kh, kw, geometry, fill=0.0):
    """x[n=0] around output (i, j): (kh, kw, C), ``fill`` where padding lies."""
    (sh, ph, _), (sw, pw, _) = geometry
    rows, cols = i * sh - ph + _np.arange(kh), j * sw - pw + _np.arange(kw)
    inside = ((rows >= 0) & (rows < x.shape[1]))[:, None] & ((cols >= 0) & (cols < x.shape[2]))
    window = _np.full((kh, kw, x.shape[3]), fill)
    window[inside] = x[0][_np.clip(rows, 0, x.shape[1] - 1)[:, None],
                          _np.clip(cols, 0, x.shape[2] - 1)[None, :]][inside]
    return window


def _find_geometry(x, y, kh, kw, value_at, fill=0.0):
    """The (row, column) geometry whose value_at(window) matches y, channel 0, at the
    corners and the centre of the output (one position alone can be ambiguous)."""
    last_i, last_j = y.shape[1] - 1, y.shape[2] - 1
    i, j = y.shape[1] // 2, y.shape[2] // 2
    probes = [(i, j), (0, 0), (last_i, last_j), (0, last_j), (last_i, 0)]
    for gh in _geometries(x.shape[1], y.shape[1], kh):
        for gw in _geometries(x.shape[2], y.shape[2], kw):
            if gh[2] == gw[2] and all(
                    _np.isclose(value_at(_window(x, a, c, kh, kw, (gh, gw), fill)), y[0, a, c, 0],
                                rtol=1e-4, atol=1e-5) for a, c in probes):
                return (gh, gw), i, j
    return None, i, j


def _explain_conv2d(t, n):
    x, k = (_values(p) for p in t.parents[:2])
    b = _values(t.parents[2]) if len(t.parents) > 2 else _np.zeros(k.shape[3])
    y = _values(t)
    kh, kw, cin, cout = k.shape
    found = None
    for name, f in _activation_candidates(y):
        if name == "softmax":
            continue
        geometry, i, j = _find_geometry(x, y, kh, kw,
                                        lambda w, f=f: f(b[0] + (w * k[:, :, :, 0]).sum()))
        if geometry:
            found = (name, f, geometry)
            break
    if found is None:
        return _explain_other(t, n)
    name, f, ((sh, _, padding), (sw, _, _)) = found
    window = _window(x, i, j, kh, kw, found[2])
    z = b[0] + (window * k[:, :, :, 0]).sum()
    fn = "" if name == "linear" else (r"\mathrm{" + name + "}" if n.tex else name)
    sub = (lambda s: f"_{{{s}}}") if n.tex else (lambda s: f"[{s}]")
    lines = [n.text(f"convolution (cross-correlation), kernel {kh}×{kw}, {cin} → {cout} "
                    f"channels, stride ({sh}, {sw}), padding '{padding}':"),
             f"y{sub('i,j,o')} = " + (fn + "(" if fn else "") + f"b{sub('o')} + " +
             n.sum("u,v,c", f"x{sub('is+u, js+v, c')}" + (" " if n.tex else "·") +
                                     f"K{sub('u,v,c,o')}") + (")" if fn else "")]
    lines.append(n.text(f"image 1, output ({i}, {j}), channel 0 — "
                        f"{kh * kw * cin} products with the window it reads:"))
    terms = [f"{n.neg(w)}{n.dot}{n.neg(kv)}" for w, kv in
             zip(window.reshape(-1), k[:, :, :, 0].reshape(-1))]
    value = f"{n.num(b[0])} + {_join(terms, ' + ', n, limit=10)}"
    if fn:
        value = f"{fn}({value}) = {fn}({n.num(z)})"
    lines.append(f"y{sub(f'{i},{j},0')} = {value} = {n.num(y[0, i, j, 0])}")
    return lines


def _explain_pool(t, n):
    x, y = _values(t.parents[0]), _values(t)
    # padding takes no part in a pool (Keras): NaN marks it, nanmax/nanmean skip it
    reduce = _np.nanmax if t.op == "max_pool2d" else _np.nanmean
    for p in range(1, x.shape[1] + 1):
        for q in (p, *range(1, x.shape[2] + 1)):
            geometry, i, j = _find_geometry(x, y, p, q, lambda w: reduce(w[:, :, 0]), _np.nan)
            if geometry:
                break
        else:
            continue
        break
    else:
        return _explain_other(t, n)
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
    fh, fw = y.shape[1] // x.shape[1], y.shape[2] // x.shape[2]
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
    "max_pool2d": _explain_pool,
    "avg_pool2d": _explain_pool,
    "upsampling2d": _explain_upsampling,
})
