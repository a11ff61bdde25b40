"""``explain(t)``: the formula that produced a tensor, with its actual numbers substituted.

    >>> p = pycnn.tensor([[0.3, 0.6, 0.1]]); y = pycnn.tensor([[0., 1., 0.]])
    >>> print(pycnn.losses.categorical_crossentropy(y, p).explain())
    categorical cross-entropy: E = −Σ_k y_k · ln p_k
    E = −(0·ln 0.3 + 1·ln 0.6 + 0·ln 0.1) = 0.5108

The result is an ``Explanation``: LaTeX in Jupyter (``_repr_latex_``), text in a
terminal (``str``). Each op the lecture teaches has an explainer, registered by its op
name (``Tensor.op``) in ``EXPLAINERS``; it reads the numbers from the tensor and its
``.parents`` — a loss node's parents are ``(y_pred, y_true)``. Every explainer writes
its lines through a ``Notation`` (``render``) so the LaTeX and the text are one piece
of code. The explainers live in one module per section of ``csrc/autograd/ops.def``:
``elementwise``, ``reductions``, ``activations``, ``losses``, ``layers``.

Batches show their first few rows, then how the rows combine (mean or sum); the last
number on the last line is always the tensor's own value, computed by pycnn in C.
"""
import numpy as _np

from .. import _core
from . import activations, elementwise, layers, losses, reductions
from .render import Explanation, Notation as _Notation, _explain_leaf, _explain_other

__all__ = ["explain", "Explanation", "EXPLAINERS"]

# op name (Tensor.op) -> explainer(t, notation) returning the lines
EXPLAINERS = {**elementwise.EXPLAINERS, **activations.EXPLAINERS, **losses.EXPLAINERS,
              **reductions.EXPLAINERS, **layers.EXPLAINERS}


def _lines(explainer, t):
    """(LaTeX lines, text lines). Numbers that do not fit an explainer's formula (an empty
    batch, a shape it does not know) get the generic description instead of an error:
    explaining must never be what breaks a student's session."""
    with _np.errstate(all="ignore"):
        try:
            return (explainer(t, _Notation(True)), explainer(t, _Notation(False)))
        except (ValueError, IndexError, ZeroDivisionError) as error:
            if explainer is _explain_other:
                raise
            lines = _lines(_explain_other, t)
            note = f"({t.op}'s own derivation does not apply here: {error})"
            return (lines[0] + [_Notation(True).text(note)], lines[1] + [note])


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
