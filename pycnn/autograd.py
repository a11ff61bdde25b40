"""The graph of tensors from Python: recording switches and the gradient check.

Forward(θ) = f(Parents(θ)) runs as each op is called; Backward(θ) = Σ over the
children c of θ of ∂E/∂c · ∂c/∂θ runs in C when ``t.backward()`` is called.
"""
import contextlib as _contextlib
import functools as _functools

import numpy as _np

from . import _core

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "keep_grads", "gradcheck",
           "numerical_grad", "GradcheckError", "walk", "topological_order"]

is_grad_enabled = _core.is_grad_enabled


class _Switch(_contextlib.ContextDecorator):
    """Sets one per-thread switch of the C core (``_set`` returns the previous value) to
    ``_VALUE`` for the block, and puts the previous value back after it."""

    def __enter__(self):
        self._previous = self._set(self._VALUE)
        return self

    def __exit__(self, *exc):
        self._set(self._previous)
        return False


class no_grad(_Switch):
    """``with pycnn.no_grad():`` — ops record no graph (per thread), as in PyTorch.

    Also usable as a decorator.
    """

    _set, _VALUE = staticmethod(_core._set_grad_enabled), False


class enable_grad(no_grad):
    """``with pycnn.enable_grad():`` — record again inside a ``no_grad`` block."""

    _VALUE = True


class keep_grads(_Switch):
    """``with pycnn.keep_grads():`` — every ``backward()`` in the block keeps every node's
    ``.grad`` (not only the leaves') and the graph, as ``backward(retain_grads=True)``
    does: what ``draw_graph`` shows on every node and ``explain_backward`` reads. Per
    thread; outside the block backward stays memory-lean (intermediate gradients are
    freed as soon as they are spent, PyTorch's convention).
    """

    _set, _VALUE = staticmethod(_core._set_keep_grads), True


def walk(root):
    """The tensors of the graph behind ``root``, root first (depth-first, parents in
    order), and for each its parents' positions in that list: ``(tensors, parents)``.

    Iterative, so a chain of any length is fine. ``draw_graph`` and ``explain_backward``
    number the tensors the same way (``t0`` is the root).
    """
    tensors, keys, stack = [], {}, [root]
    while stack:
        t = stack.pop()
        if id(t) in keys:
            continue
        keys[id(t)] = len(tensors)
        tensors.append(t)
        stack.extend(reversed(t.parents))
    return tensors, [[keys[id(p)] for p in t.parents] for t in tensors]


def topological_order(root):
    """The tensors ``backward`` visits — those that require grad — parents before
    children, ``root`` last (the engine's order; reversed, it is the backward sweep)."""
    order, done, stack = [], set(), [(root, 0)]
    on_stack = {id(root)}
    while stack:
        t, i = stack[-1]
        parents = t.parents
        if i < len(parents):
            stack[-1] = (t, i + 1)
            p = parents[i]
            if p.requires_grad and id(p) not in done and id(p) not in on_stack:
                on_stack.add(id(p))
                stack.append((p, 0))
            continue
        stack.pop()
        done.add(id(t))
        order.append(t)
    return order


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree; the message says where and by how much."""


def _as_float64_leaf(x, i):
    t = x if isinstance(x, _core.Tensor) else _core.tensor(_np.asarray(x, dtype=_np.float64))
    if t.dtype != _np.float64:
        raise TypeError(f"gradcheck: input {i} is {t.dtype}; finite differences need float64 "
                        f"(pass pycnn.tensor(x, dtype='float64'))")
    if not t.is_leaf:
        t = t.detach()
    t.requires_grad = True
    return t


def numerical_grad(energy, x, eps=1e-6):
    """∂E/∂x by central differences, (E(x + eps) − E(x − eps)) / (2 eps) per element: each
    element of the float64 array ``x`` is nudged in place (and put back) and ``energy()``,
    a float that reads x, is called twice. Returns an array of x's shape."""
    flat = x.reshape(-1)
    if flat.size and not _np.shares_memory(flat, x):
        raise ValueError("numerical_grad: x must be contiguous, to be nudged in place")
    numeric = _np.empty(flat.shape)
    for j in range(flat.size):      # one nudge per element: each calls the C ops
        old = flat[j]
        flat[j] = old + eps
        plus = energy()
        flat[j] = old - eps
        minus = energy()
        flat[j] = old
        numeric[j] = (plus - minus) / (2 * eps)
    return numeric.reshape(x.shape)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Compare autograd's gradients with central finite differences, in float64.

    ``fn(*inputs)`` may return a tensor of any shape: the check projects it on a
    fixed random direction r, E = Σ r · fn(x), so one backward gives ∂E/∂x for all
    inputs, and each element of each input is nudged by ±eps to get
    (E(x + eps) − E(x − eps)) / (2 eps).

    Returns True, or raises GradcheckError naming the input, the element, the
    analytic and numeric values and their relative error.
    """
    if isinstance(inputs, (_core.Tensor, _np.ndarray)):
        inputs = (inputs,)
    leaves = [_as_float64_leaf(x, i) for i, x in enumerate(inputs)]
    out = fn(*leaves)
    if not isinstance(out, _core.Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    r = _np.random.default_rng(seed).standard_normal(out.shape)
    for t in leaves:
        t.grad = None
    out.backward(r)
    analytic = [_np.zeros(t.shape) if t.grad is None else t.grad.numpy().copy() for t in leaves]

    def energy():
        with no_grad():
            return float(_np.sum(r * fn(*leaves).numpy()))

    for i, t in enumerate(leaves):
        x = t.numpy()                   # the tensor's own memory: nudged in place
        numeric = numerical_grad(energy, x, eps).reshape(-1)
        got = analytic[i].reshape(-1)
        bad = _np.abs(got - numeric) > atol + rtol * _np.abs(numeric)
        if bad.any():
            j = int(_np.argmax(_np.abs(got - numeric) * bad))
            index = _np.unravel_index(j, x.shape) if x.ndim else ()
            rel = abs(got[j] - numeric[j]) / max(abs(numeric[j]), 1e-300)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}), element {tuple(int(k) for k in index)}: "
                f"analytic {got[j]:.8g} vs numeric {numeric[j]:.8g} "
                f"(relative error {rel:.3g}; {int(bad.sum())} of {bad.size} elements disagree)")
    for t in leaves:
        t.grad = None
    return True


