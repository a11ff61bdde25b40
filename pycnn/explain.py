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
import numpy as np

from . import _core
from .display import fmt, fmt_latex, matrix_latex

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
        return fmt_latex(x) if self.tex else fmt(x).replace("-", "−")

    def neg(self, x):
        """A number as an operand: ``(−1)`` when negative."""
        s = self.num(x)
        return f"({s})" if float(x) < 0 else s

    def text(self, s):
        return rf"\text{{{s}}}" if self.tex else s

    def ln(self, x):
        return rf"\ln {self.neg(x)}" if self.tex else f"ln {self.neg(x)}"

    def exp(self, x):
        return f"e^{{{self.num(x)}}}" if self.tex else f"e^{self.neg(x)}"

    def frac(self, a, b):
        return rf"\frac{{{a}}}{{{b}}}" if self.tex else f"{_group(a)} / {_group(b)}"

    def sq(self, a):
        return f"({a})^2" if self.tex else f"({a})²"

    def sub(self, name, index):
        return f"{name}_{{{index}}}" if self.tex else f"{name}_{index}"

    def sum(self, index, body):
        return rf"\sum_{{{index}}} {body}" if self.tex else f"Σ_{index} {body}"

    def vector(self, a):
        a = np.asarray(a)
        if self.tex:
            return matrix_latex(a)
        return "[" + ", ".join(self.num(v) for v in a.reshape(-1)) + "]"

    def paren(self, s):
        return rf"\left({s}\right)" if self.tex else f"({s})"


def _group(s):
    return f"({s})" if any(c in s for c in " +−-") and not s.startswith("(") else s


def _lines(explainer, t):
    return (explainer(t, Notation(True)), explainer(t, Notation(False)))


def explain(t):
    """The formula that produced ``t``, with its numbers, as an ``Explanation``.

    Works on any Tensor: the ops of the lecture (losses, softmax, activations,
    element-wise arithmetic) get their own derivation; any other op is described by
    its inputs and output; a leaf says it is one.
    """
    if not isinstance(t, _core.Tensor):
        raise TypeError(f"explain: expected a pycnn Tensor, got {type(t).__name__}")
    explainer = EXPLAINERS.get(t.op, _explain_other) if t.op is not None else _explain_leaf
    latex, text = _lines(explainer, t)
    value = t.item() if t.size == 1 else t.numpy().copy()
    return Explanation(latex, text, value)


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _values(t):
    return np.asarray(t.numpy(), dtype=np.float64)


# ---- leaves and ops without their own explainer ------------------------------------

def _explain_leaf(t, n):
    name = t.name or "this tensor"
    kind = "a weight or input that requires grad" if t.requires_grad else "a constant"
    return [n.text(f"{name} is a leaf of the graph ({kind}), shape {_shape(t.shape)}: "
                   f"no op computed it")]


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
        operands = [np.broadcast_to(_values(p), t.shape).reshape(-1) for p in t.parents]
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
