"""What every explainer writes with: the ``Explanation`` it returns, the ``Notation`` that
writes one line as LaTeX or as text, number and list helpers, and the two explanations
any tensor has (a leaf; an op without its own explainer).
"""
import numpy as _np

from ..display import fmt as _fmt, fmt_latex as _fmt_latex, matrix_latex as _matrix_latex

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
