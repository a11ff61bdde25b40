"""The backward pass with its numbers: the lecture's chain rule for one tensor θ,

    Backward(θ) = ∂E/∂θ = Σ over the children c of θ of ∂E/∂c · ∂c/∂θ

written out for every child: which op made c, the local derivative ∂c/∂θ (its formula
and, for an element-wise op, its numbers), ∂E/∂c, their product, and the sum.

    >>> w = pycnn.tensor([1., 2.], requires_grad=True, name="w")
    >>> E = (w * w + w).sum()
    >>> print(pycnn.explain_backward(E, wrt=w))

Every number comes from pycnn's own backward functions in C: ``t._vjp(g)`` runs the one
node that made ``t`` on ``g = ∂E/∂t`` and returns its contribution to each parent
without touching any ``.grad``; ``backward_steps(E)`` sweeps the graph in reverse
topological order with it, exactly as the engine does, and keeps every step. So the
explanation needs the graph (before ``backward``, or after ``backward(retain_grads=True)``
or one inside ``with pycnn.keep_grads():``, which keep it) but no ``.grad`` at all.

``RULES`` holds, for every op of ``csrc/autograd/ops.def``, how its local derivative is
written; the tests check that no op is missing. An element-wise op with no rule written
here gets one from its ops.def row (its docstring).
"""
import numpy as _np

from .. import _core
from ..autograd import topological_order as _topological_order, walk as _walk
from .render import Explanation as _Explanation, Notation as _Notation, _shape

__all__ = ["explain_backward", "explain_grad", "backward_steps", "BackwardStep", "RULES"]

SHOWN = 4          # numbers of a vector written out; longer ones show these and a norm


# ---- how each op's local derivative is written ------------------------------------
#
# A rule is (kind, writer). kind "elementwise": c and the parent have one number each
# for each other, ∂c/∂θ is a number per element and writer(n, i, names) gives its
# formula; kind "vjp": ∂c/∂θ is a matrix (a Jacobian), and writer gives the product
# Σ ∂E/∂c · ∂c/∂θ it amounts to, with g standing for ∂E/∂c. names are the parents'
# labels (t3, w, ...) so the formula reads in the student's own names.

def _ew(f):
    return ("elementwise", f)


def _vjp(f):
    return ("vjp", f)


def _by_index(*writers):
    """A rule whose formula depends on which parent θ is (a in a·b, b in a·b)."""
    return lambda n, i, p: writers[min(i, len(writers) - 1)](n, p)


def _conv(to_input, to_kernel):
    """A convolution's rule: to_input(names) and to_kernel(names) say in words what the input
    and the kernel receive; the bias receives Σ over images and positions of g ⊙ f'(z)."""
    return _by_index(lambda n, p: n.text(to_input(p)), lambda n, p: n.text(to_kernel(p)),
                     lambda n, p: n.text("Σ over images and positions of g ⊙ f'(z)"))


def _g(n):
    return r"g" if n.tex else "g"


def _had(n):
    return r" \odot " if n.tex else " ⊙ "


def _T(n, s):
    return f"{s}^\\top" if n.tex else f"{s}ᵀ"


_ELEMENTWISE = {
    "astype": lambda n, i, p: "1",
    "add": lambda n, i, p: "1",
    "sub": lambda n, i, p: "1" if i == 0 else f"{n.minus}1",
    "mul": lambda n, i, p: p[1 - i] if len(p) > 1 else p[0],
    "div": _by_index(lambda n, p: n.frac("1", p[1]),
                     lambda n, p: n.minus + n.frac(p[0], f"{p[1]}^2" if n.tex else f"{p[1]}²")),
    "pow": _by_index(lambda n, p: f"{p[1]}{n.dot}{p[0]}^{{{p[1]} - 1}}" if n.tex
                     else f"{p[1]}·{p[0]}^({p[1]} − 1)",
                     lambda n, p: f"{p[0]}^{{{p[1]}}}" + r" \ln " + p[0] if n.tex
                     else f"{p[0]}^{p[1]}·ln {p[0]}"),
    "maximum": lambda n, i, p: n.text(f"1 where {p[i]} is the larger, else 0"),
    "minimum": lambda n, i, p: n.text(f"1 where {p[i]} is the smaller, else 0"),
    "neg": lambda n, i, p: f"{n.minus}1",
    "abs": lambda n, i, p: rf"\operatorname{{sign}}({p[0]})" if n.tex else f"sign({p[0]})",
    "exp": lambda n, i, p: f"e^{{{p[0]}}}" if n.tex else f"e^{p[0]}",
    "log": lambda n, i, p: n.frac("1", p[0]),
    "sqrt": lambda n, i, p: n.frac("1", rf"2\sqrt{{{p[0]}}}" if n.tex else f"2√{p[0]}"),
    "square": lambda n, i, p: f"2{p[0]}" if n.tex else f"2·{p[0]}",
    "sigmoid": lambda n, i, p: (rf"\sigma({p[0]})(1 - \sigma({p[0]}))" if n.tex
                                else f"σ({p[0]})·(1 − σ({p[0]}))"),
    "tanh": lambda n, i, p: (rf"1 - \tanh^2({p[0]})" if n.tex else f"1 − tanh²({p[0]})"),
    "relu": lambda n, i, p: (rf"[{p[0]} > 0]" if n.tex else f"[{p[0]} > 0]"),
    "softplus": lambda n, i, p: (rf"\sigma({p[0]})" if n.tex else f"σ({p[0]})"),
    "gelu": lambda n, i, p: (rf"\Phi({p[0]}) + {p[0]}\,\varphi({p[0]})" if n.tex
                             else f"Φ({p[0]}) + {p[0]}·φ({p[0]})"),
    "softsign": lambda n, i, p: n.frac("1", f"(1 + |{p[0]}|)^2" if n.tex else f"(1 + |{p[0]}|)²"),
    "hard_sigmoid": lambda n, i, p: n.text(f"1/6 where −3 < {p[0]} < 3, else 0"),
    "relu6": lambda n, i, p: n.text(f"1 where 0 < {p[0]} < 6, else 0"),
    "selu": lambda n, i, p: n.text(f"λ where {p[0]} > 0, else λ·α·e^{p[0]}"),
    "leaky_relu": lambda n, i, p: n.text(f"1 where {p[0]} > 0, else α"),
    "elu": lambda n, i, p: n.text(f"1 where {p[0]} > 0, else α·e^{p[0]}"),
    "swish": _by_index(lambda n, p: (rf"\sigma(\beta {p[0]}) + \beta {p[0]}\,\sigma(\beta {p[0]})"
                                     rf"(1 - \sigma(\beta {p[0]}))" if n.tex else
                                     f"σ(β{p[0]}) + β{p[0]}·σ(β{p[0]})·(1 − σ(β{p[0]}))"),
                       lambda n, p: (rf"{p[0]}^2\,\sigma(\beta {p[0]})(1 - \sigma(\beta {p[0]}))"
                                     if n.tex else f"{p[0]}²·σ(β{p[0]})·(1 − σ(β{p[0]}))")),
    "dropout": lambda n, i, p: n.text("mask / (1 − rate): 0 where dropped, 1/(1 − rate) kept"),
}


def _words(text):
    """A rule written in words around g (∂E/∂c): LaTeX keeps g as a symbol."""
    return lambda n, i, p: n.text(text.format(*p, g="g"))


_VJP = {
    "sum": _words("g copied back to every number {0} summed"),
    "mean": _words("g / (how many numbers of {0} each mean averages), copied back to each"),
    "max": _words("g at the maximum of {0} (shared between ties), 0 elsewhere"),
    "reshape": _words("g reshaped back to {0}'s shape"),
    "flatten": _words("g reshaped back to {0}'s shape"),
    "transpose": _words("g with the axes permuted back"),
    "concat": _words("the slice of g where this input sits"),
    "stack": _words("the slice of g where this input sits"),
    "getitem": _words("g put back at the elements that were read (added where read twice), "
                      "0 elsewhere"),
    "matmul": _by_index(lambda n, p: f"{_g(n)}{n.dot}{_T(n, p[1])}",
                        lambda n, p: f"{_T(n, p[0])}{n.dot}{_g(n)}"),
    "softmax": lambda n, i, p: (r"p \odot \left(g - \textstyle\sum_k g_k p_k\right)" if n.tex
                                else "p ⊙ (g − Σ_k g_k p_k), p = softmax(" + p[0] + ")"),
    "log_softmax": lambda n, i, p: (r"g - \mathrm{softmax}(" + p[0] + r")\textstyle\sum_k g_k"
                                    if n.tex else f"g − softmax({p[0]})·Σ_k g_k"),
    "naive_normalize": lambda n, i, p: (r"\left(g - \textstyle\sum_k g_k y_k\right) / "
                                        r"\textstyle\sum_k x_k" if n.tex else
                                        "(g − Σ_k g_k y_k) / Σ_k x_k"),
    "maxout": _words("g routed to the largest unit of each group of {0}, 0 to the others"),
    "dense": _by_index(lambda n, p: f"(g{_had(n)}f'(z)){n.dot}{_T(n, p[1])}",
                       lambda n, p: f"{_T(n, p[0])}{n.dot}(g{_had(n)}f'(z))",
                       lambda n, p: n.sum("n", f"g{_had(n)}f'(z)")),
    "conv2d": _conv(
        lambda p: f"g ⊙ f'(z) carried back through the kernel {p[1]} (the transposed "
                  "convolution): each input pixel collects g·K from every window it fell in",
        lambda p: f"Σ over images and positions of the window of {p[0]} times g ⊙ f'(z) at "
                  "that position"),
    "depthwise_conv2d": _conv(
        lambda p: f"g ⊙ f'(z) carried back through the kernel {p[1]}, channel by channel: "
                  "each input pixel of channel c collects g·K of channels c·M … c·M + M − 1 "
                  "from every window it fell in",
        lambda p: f"Σ over images and positions of channel c of the window of {p[0]} times "
                  "g ⊙ f'(z) of channel c·M + m at that position"),
    "conv2d_transpose": _conv(
        lambda p: f"g ⊙ f'(z) gathered through the kernel {p[1]} (an ordinary convolution "
                  "of g): each input pixel sums the window of g it was spread over",
        lambda p: f"Σ over images and positions of {p[0]} times the window of g ⊙ f'(z) it "
                  "was spread over"),
    "batch_norm": _by_index(
        lambda n, p: n.text("(γ/σ)·(g − mean(g) − x̂·mean(g·x̂)) over the batch and positions, "
                            "x̂ = (x − μ)/σ (normalised by the batch's own statistics)"),
        lambda n, p: n.sum("n,i,j", f"g{_had(n)}" + (r"\hat{x}" if n.tex else "x̂")),
        lambda n, p: n.sum("n,i,j", "g")),
    "layer_norm": _by_index(
        lambda n, p: n.text("(γ/σ)·(g − mean(g) − x̂·mean(g·x̂)) over each example's "
                            "normalised axes, x̂ = (x − μ)/σ"),
        lambda n, p: n.sum("n", f"g{_had(n)}" + (r"\hat{x}" if n.tex else "x̂")),
        lambda n, p: n.sum("n", "g")),
    "global_avg_pool2d": _words("g / (H·W) copied back to every position of its channel"),
    "global_max_pool2d": _words("g at the maximum of each channel of {0}, 0 elsewhere"),
    "pad2d": _words("g with the padding cut away"),
    "affine_transform": _words("g carried back along the same transform: each output pixel's "
                               "g shared among the input pixels it interpolated"),
    "resize_bilinear": _words("g of each output pixel shared among the four input pixels it "
                              "interpolated, by the same weights"),
    "contrast": _words("factor·(g − mean(g)) + mean(g) per image and channel: "
                       "y = (x − mean)·factor + mean"),
    "max_pool2d": _words("g routed to the maximum of each window, 0 to the others"),
    "avg_pool2d": _words("g of each window spread evenly over the cells it averaged"),
    "upsampling2d": _words("g summed over each block that copied one pixel"),
}

# A loss node's value is one number per sample (row); g is ∂E/∂(that row's loss). The
# formulas are those of csrc/kernels/loss_impl.h, q = p / Σ_j p_j (Keras rescales).
_LOSS_PRED = {
    "squared_error": lambda n: f"(ŷ − y){n.dot}g   (per = ½ Σ_k (ŷ_k − y_k)²)",
    "mean_squared_error": lambda n: f"(2/K)(ŷ − y){n.dot}g",
    "categorical_crossentropy": lambda n: f"(−y_k/q_k + Σ_j y_j) / Σ_j p_j{n.dot}g "
                                          "(0 where q is clipped)",
    "categorical_crossentropy_from_logits": lambda n: f"(softmax(z)·Σ_j y_j − y){n.dot}g",
    "binary_crossentropy": lambda n: f"(1/K)(p − y) / (p(1 − p)){n.dot}g",
    "binary_crossentropy_from_logits": lambda n: f"(1/K)(σ(z) − y){n.dot}g",
    "multilabel_crossentropy": lambda n: f"(p − y) / (p(1 − p)){n.dot}g (0 where y is ?)",
    "multilabel_crossentropy_from_logits": lambda n: f"(σ(z) − y){n.dot}g (0 where y is ?)",
    "sparse_categorical_crossentropy": lambda n: f"(1 − [k = label]/q_label) / Σ_j p_j{n.dot}g",
    "sparse_categorical_crossentropy_from_logits": lambda n: f"(softmax(z) − onehot(label))"
                                                             f"{n.dot}g",
    "yolo_loss": lambda n: "the derivative of the five terms (x, y; √w, √h; confidence of "
                           "the responsible box; λ_noobj confidence elsewhere; classes) "
                           "times g",
}


def _loss_rule(formula):
    def writer(n, i, p):
        if i == 0:
            return n.text(formula(_Notation(False))) if n.tex else formula(n)
        return n.text("the loss row differentiated with respect to the target")
    return writer


def _from_ops_def(row):
    """The rule of an element-wise op written nowhere above, from its ops.def row: its
    docstring says what it computes; the numbers still come from its C backward."""
    doc = getattr(_core, row["function"]).__doc__.split("\n\n", 1)[-1].strip()
    args = ", ".join("ab"[:row["arity"]]) if row["arity"] == 2 else "x"

    def writer(n, i, p):
        return n.text(f"∂/∂{p[i]} of {row['function']}({args}) = {doc}")
    return writer


RULES = {op: _ew(f) for op, f in _ELEMENTWISE.items()}
RULES.update({op: _vjp(f) for op, f in _VJP.items()})
RULES.update({op: _vjp(_loss_rule(f)) for op, f in _LOSS_PRED.items()})
RULES.update({row["name"]: _ew(_from_ops_def(row)) for row in _core.op_registry()
              if row["family"] == "elementwise" and row["name"] not in RULES})


# ---- the sweep: every node's ∂E/∂t and its contribution to each parent --------------

class BackwardStep:
    """One node of the backward sweep, in the order the engine visits them.

    ``tensor`` (its ``label`` and ``op``), ``grad`` — its complete ∂E/∂t (every child
    has already added its share) — and ``contributions``: ``(parent, label, share,
    total)`` for each distinct parent that requires grad, ``share`` being
    ∂E/∂t · ∂t/∂parent and ``total`` that parent's gradient so far, this share included.
    """

    def __init__(self, index, tensor, label, grad, contributions):
        self.index = index
        self.tensor = tensor
        self.label = label
        self.op = tensor.op
        self.grad = grad
        self.contributions = contributions

    def text(self, notation=None):
        n = notation or _Notation(False)
        head = (f"step {self.index + 1}: {self.label} = {self.op}" if self.op
                else f"step {self.index + 1}: {self.label} (a leaf)")
        lines = [n.text(head + ", its gradient complete: ") +
                 f"{_d(n, self.label)} = {_vec(n, self.grad)}"]
        for _, label, share, total in self.contributions:
            lines.append(n.text(f"  adds to {label}: ") + f"{_vec(n, share)}" +
                         n.text(f"  → {label}'s gradient so far ") + _vec(n, total))
        if not self.contributions and self.op is None:
            lines.append(n.text("  a leaf: this is its .grad"))
        return lines

    def __repr__(self):
        return "\n".join(self.text())


def _labels(root):
    """Labels as draw_graph writes them: the tensor's name, else t<k> in walk order."""
    tensors, _ = _walk(root)
    return {id(t): (t.name or f"t{k}") for k, t in enumerate(tensors)}


def _seed(E, grad):
    if grad is None:
        if E.size != 1:
            raise ValueError(f"explain_backward: E has shape {_shape(E.shape)}; pass grad= "
                             f"(∂E/∂E of that shape) or explain a scalar loss")
        return _np.ones(E.shape, dtype=E.dtype)
    g = _np.asarray(grad, dtype=E.dtype)
    if g.shape != tuple(E.shape):
        raise ValueError(f"explain_backward: grad has shape {g.shape} but E has shape "
                         f"{tuple(E.shape)}")
    return g


def _sweep(E, grad=None):
    """(steps, grads by id, shares by (child id, parent id), labels by id)."""
    if not isinstance(E, _core.Tensor):
        raise TypeError(f"explain_backward: expected a pycnn Tensor, got {type(E).__name__}")
    if not E.requires_grad:
        raise RuntimeError("explain_backward: E does not require grad and has no graph (was "
                           "it computed under no_grad, or from inputs without "
                           "requires_grad=True?)")
    labels = _labels(E)
    order = _topological_order(E)
    grads = {id(E): _seed(E, grad)}
    shares, steps = {}, []
    for t in reversed(order):
        g = grads.get(id(t))
        if g is None:
            g = _np.zeros(t.shape, dtype=t.dtype)      # no path to E carries a gradient
            grads[id(t)] = g
        contributions = []
        if t.op is not None:
            parts = t._vjp(g)
            seen = set()
            for p, share in zip(t.parents, parts):
                if share is None or not p.requires_grad or id(p) in seen:
                    continue                          # a parent used twice: one total share
                seen.add(id(p))
                share = _np.array(share)
                shares[(id(t), id(p))] = share
                grads[id(p)] = grads[id(p)] + share if id(p) in grads else share.copy()
                contributions.append((p, labels[id(p)], share, grads[id(p)].copy()))
        steps.append(BackwardStep(len(steps), t, labels[id(t)], g, contributions))
    return steps, grads, shares, labels


def backward_steps(E, grad=None):
    """The backward sweep one node at a time: a list of ``BackwardStep`` in reverse
    topological order (E first), each with its complete ∂E/∂t and what it adds to each
    parent — what ``E.backward()`` does, kept. ``viz.backward_stepper(E)`` walks it."""
    return _sweep(E, grad)[0]


# ---- writing the chain rule --------------------------------------------------------

def _d(n, label, of="E"):
    return rf"\frac{{\partial {of}}}{{\partial {_sym(n, label)}}}" if n.tex else f"∂{of}/∂{label}"


def _sym(n, label):
    return label.replace("_", r"\_") if n.tex else label


def _vec(n, a):
    """A tensor's numbers: all of them up to SHOWN, else the first ones and a norm."""
    a = _np.asarray(a, dtype=_np.float64)
    if a.ndim == 0 or a.size == 1:
        return n.num(a.reshape(-1)[0]) if a.size else "[]"
    flat = a.reshape(-1)
    if a.size <= SHOWN:
        inner = ", ".join(n.num(v) for v in flat)
        return rf"\left[{inner}\right]" if n.tex else f"[{inner}]"
    head = ", ".join(n.num(v) for v in flat[:SHOWN - 1])
    norm = n.num(_np.linalg.norm(flat))
    if n.tex:
        return rf"\left[{head}, \ldots\right]_{{{_shape(a.shape)}}}\ (\lVert\cdot\rVert = {norm})"
    return f"[{head}, …] {_shape(a.shape)} (‖·‖ = {norm})"


def _products(n, g, local, share):
    """g·local element by element, written out when short, then the result."""
    g, local = _np.asarray(g, _np.float64), _np.asarray(local, _np.float64)
    if g.size <= SHOWN and g.shape == local.shape and g.size > 1:
        terms = ", ".join(f"{n.neg(a)}{n.dot}{n.neg(b)}" for a, b in
                          zip(g.reshape(-1), local.reshape(-1)))
        return (rf"\left[{terms}\right]" if n.tex else f"[{terms}]") + f" = {_vec(n, share)}"
    if g.size == 1 and local.size == 1:
        return f"{n.neg(g.reshape(-1)[0])}{n.dot}{n.neg(local.reshape(-1)[0])} = {_vec(n, share)}"
    return _vec(n, share)


# Rules that read the node's arguments (Tensor.op_args): which statistics batch
# normalisation used, whether pad2d padded or cropped.
_BY_ARGS = {
    "batch_norm": lambda a: None if a["training"] else _vjp(_by_index(
        lambda n, p: n.text("(γ/σ)·g: the moving statistics μ, σ are constants here"),
        lambda n, p: n.sum("n,i,j", f"g{_had(n)}" + (r"\hat{x}" if n.tex else "x̂")),
        lambda n, p: n.sum("n,i,j", "g"))),
    "pad2d": lambda a: None if "padding" in a else _vjp(_words(
        "g put back inside the cropped border, 0 on the border")),
}


def _child_lines(n, k, child, theta, labels, g, share):
    kind, writer = ((child.op in _BY_ARGS and _BY_ARGS[child.op](child.op_args)) or
                    RULES.get(child.op, ("vjp", lambda n, i, p: n.text(
                        f"the backward of {child.op}"))))
    names = [_sym(n, labels.get(id(p), "?")) for p in child.parents]
    i = next(j for j, p in enumerate(child.parents) if p is theta)
    c = _sym(n, labels[id(child)])
    th = _sym(n, labels[id(theta)])
    args = ", ".join(names)
    partial = (rf"\frac{{\partial {c}}}{{\partial {th}}}" if n.tex else f"∂{c}/∂{th}")
    lines = [n.text(f"child {k}: ") + f"{c} = " +
             (rf"\mathrm{{{child.op}}}".replace("_", r"\_") if n.tex else child.op) +
             f"({args})"]
    uses = [j for j, p in enumerate(child.parents) if p is theta]
    if kind == "elementwise":
        local = _local_derivative(child, i)
        formula = " + ".join(writer(n, j, names) for j in uses)   # x·x: ∂/∂x = x + x
        lines.append(f"{partial} = {formula}" + (f" = {_vec(n, local)}" if local is not None
                                                 else ""))
        lines.append(f"{_d(n, labels[id(child)])} = {_vec(n, g)}")
        product = f"{_d(n, labels[id(child)])}{n.dot}{partial}"
        if local is not None:
            lines.append(n.text("product, element by element: ") +
                         f"{product} = {_products(n, g, local, share)}")
        else:
            lines.append(n.text(f"product, summed over the axes {th} was broadcast along: ")
                         + f"{product} = {_vec(n, share)}")
    else:
        formula = " + ".join(writer(n, j, names) for j in uses)
        lines.append(f"{_d(n, labels[id(child)])} = g = {_vec(n, g)}")
        lines.append(n.text("its share, ") + rf"\sum {_d(n, labels[id(child)])}{n.dot}{partial}"
                     if n.tex else f"its share, Σ ∂E/∂{labels[id(child)]} · {partial}")
        lines[-1] += f" = {formula} = {_vec(n, share)}"
    return lines


def _local_derivative(child, i):
    """∂c/∂θ element by element for an element-wise op whose output has θ's shape: the
    op's own backward on a gradient of ones (None when θ was broadcast)."""
    theta = child.parents[i]
    if tuple(theta.shape) != tuple(child.shape):
        return None
    return _np.asarray(child._vjp(_np.ones(child.shape, dtype=child.dtype))[i])


def _explanation(E, theta, grad=None):
    steps, grads, shares, labels = _sweep(E, grad)
    if not isinstance(theta, _core.Tensor):
        raise TypeError(f"explain_backward: wrt must be a pycnn Tensor, got "
                        f"{type(theta).__name__}")
    if id(theta) not in labels:
        raise ValueError("explain_backward: wrt is not in the graph that computed E")
    if not theta.requires_grad:
        raise ValueError(f"explain_backward: {labels[id(theta)]} does not require grad, so "
                         f"backward gives it no gradient")
    order = {id(t): k for k, t in enumerate(_walk(E)[0])}
    children = sorted((s.tensor for s in steps if (id(s.tensor), id(theta)) in shares),
                      key=lambda c: -order[id(c)])        # the one nearest the inputs first
    total = grads.get(id(theta), _np.zeros(theta.shape))
    out = []
    for n in (_Notation(True), _Notation(False)):
        th = labels[id(theta)]
        over = (r"c \in \mathrm{children}(" + _sym(n, th) + ")" if n.tex
                else f"{{c ∈ children({th})}}")
        size = f" {_shape(theta.shape)}" if theta.ndim else ""
        lines = [n.text(f"chain rule for {th}{size}: ") + f"{_d(n, th)} = " +
                 n.sum(over, f"{_d(n, 'c')}{n.dot}" +
                       (rf"\frac{{\partial c}}{{\partial {_sym(n, th)}}}" if n.tex
                        else f"∂c/∂{th}"))]
        if theta is E:
            lines.append(n.text(f"{th} is E itself: ") + f"{_d(n, th)} = {_vec(n, total)}")
        elif not children:
            lines.append(n.text(f"{th} has no child on a path to E: its gradient is 0"))
        for k, child in enumerate(children, 1):
            lines += _child_lines(n, k, child, theta, labels, grads[id(child)],
                                  shares[(id(child), id(theta))])
        if children:
            parts = [_vec(n, shares[(id(c), id(theta))]) for c in children]
            tail = f" = {_vec(n, total)}" if len(parts) > 1 else ""
            lines.append(n.text("sum over the children: ") +
                         f"{_d(n, th)} = " + " + ".join(parts) + tail)
        out.append(lines)
    value = total.reshape(()).item() if total.size == 1 and theta.ndim == 0 else total.copy()
    return _Explanation(out[0], out[1], value)


def explain_backward(E, wrt, grad=None):
    """The chain rule for ``wrt`` (θ) with its numbers: for each child c of θ, the op
    that made c, ∂c/∂θ (formula, and numbers for element-wise ops), ∂E/∂c, their
    product, and the sum of the products — which is ``θ.grad`` after ``E.backward()``.

    Returns an ``Explanation`` (LaTeX in Jupyter, text in a terminal); its ``.value`` is
    ∂E/∂θ. Needs the graph: call it before ``E.backward()``, or after
    ``E.backward(retain_grads=True)`` (or a backward inside ``with pycnn.keep_grads():``).
    ``grad`` seeds ∂E/∂E for a non-scalar E, as ``backward(grad)`` does.
    """
    return _explanation(E, wrt, grad)


def explain_grad(t, E=None):
    """``t.explain_grad()``: ``explain_backward(E, wrt=t)`` for the E of the last backward
    that kept its gradients (``retain_grads=True`` or ``keep_grads()``), or the E given."""
    if E is None:
        E = _core._last_kept_root()
        if E is None:
            raise RuntimeError("explain_grad: no backward kept its gradients yet; call "
                               "E.backward(retain_grads=True) (or backward inside `with "
                               "pycnn.keep_grads():`), or pycnn.explain_backward(E, wrt=t)")
    return _explanation(E, t)
