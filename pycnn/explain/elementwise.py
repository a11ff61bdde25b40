"""Explainers of the element-wise ops (ops.def: core casts and element-wise maps): each
element's formula with its numbers, broadcasting as NumPy does.
"""
import numpy as _np

from .render import ELEMENTS, _shape, _values

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
