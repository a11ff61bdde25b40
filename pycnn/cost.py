"""What each layer costs: multiply-adds and activation memory with their arithmetic
(``model.summary(show_flops=True, show_memory=True)``), and measured time per layer
against the machine's GEMM peak (``model.profile(x)``), for every kind of model:
Sequential, functional (several inputs and outputs, branches, shared layers, nested
models) and subclassed.

    Dense:   inputs · units multiply-adds per example          784·512 = 401,408
    Conv2D:  OH·OW·filters · (KH·KW·C_in) per example          26·26·32 · (3·3·1) = 194,688
    memory:  the layer's output, per example                   512 · 4 B = 2 KiB

The convention: a multiply-add is one multiplication (its product accumulated or not);
additions, comparisons, copies and the transcendental functions (exp, tanh) are not
counted, and each layer's formula says what it does instead, so a 0 is a 0 and not a
layer we know nothing about:

- Conv2D with groups: each filter reads C_in/groups channels; Conv1D: L·filters · (K·C_in).
- Conv2DTranspose: every input value meets the whole kernel, H·W·C_in · (KH·KW·filters);
  DepthwiseConv2D: OH·OW·C_in·multiplier · (KH·KW); SeparableConv2D: depthwise + pointwise.
- BatchNormalization at inference folds into a·x + b per value: 1 per value;
  LayerNormalization: (x − μ)², ·1/σ, γ·x̂ + β: 3 per value; Normalization, Rescaling: 1.
- Multiply: (k − 1) per value for k inputs; Average: one ·1/k per value; Add, Subtract,
  Maximum, Minimum, Concatenate, pooling (AveragePooling: one ·1/(k·k) per output),
  reshaping, padding, cropping, nearest UpSampling, dropout and augmentation (identity at
  inference), activations: their formula says which.
- A nested model: the sum of its layers'. A shared layer: the sum of its calls'.
- A layer with no formula (your own Layer subclass, a TensorOp) shows "?" and the totals
  name it; they never count it as 0. Every layer class gives its own, as pycnn's do
  (beside the layer, pycnn/layers/): a method ``_macs(self, input_shapes, output_shapes)``
  (shapes without the batch axis) returning ``(count, "formula")``, a ``Count``, or None;
  ``free(why)``, ``per_value(what)`` and ``from_weights(count)`` below make the common ones.

The costs come from tracing one forward pass of a single example (zeros of the input
shape): every layer call, nested ones included, with its input and output shapes. A
subclassed model is traced the same way, so its summary has them too.
"""
import math as _math
import time as _time

import numpy as _np

from .arithmetic import Count as _Count

__all__ = ["layer_macs", "free", "per_value", "from_weights", "activation_memory", "gemm_peak", "profile",
           "Profile", "trace_calls", "Call", "cost_columns"]


def _shape(shape):
    return tuple(int(d) for d in shape if d is not None)


def _shapes(struct):
    """A shape, or a list of shapes, as a list of shapes."""
    if struct and isinstance(struct, (tuple, list)) and all(
            isinstance(s, (tuple, list)) for s in struct):
        return [tuple(s) for s in struct]
    return [tuple(struct)] if struct is not None else []


def _dots(shape):
    return "·".join(str(d) for d in shape) or "1"


def _n(shape):
    return int(_np.prod(shape, dtype=_np.int64)) if shape else 1


def _count(total, formula):
    return _Count(int(total), f"{formula} = {int(total):,}")


def _zero(why):
    return _Count(0, f"0 ({why})")


def free(why):
    """A layer class's ``_macs`` for a layer that multiplies nothing: 0 with the reason
    ('a reshape', 'comparisons', 'identity at inference', ...)."""
    def _macs(layer, ins, outs):
        return _zero(why)
    return _macs


def per_value(what, times=1, needs_output=False):
    """A layer class's ``_macs`` for ``times`` multiply-adds per output value, ``what``
    saying which ('x·scale + offset'); with ``needs_output``, None when the output shape
    has no axes."""
    def _macs(layer, ins, outs):
        y = outs[0] if outs else ()
        if needs_output and not y:
            return None
        lead = f"{times} · " if times != 1 else ""
        return _count(times * _n(y), f"{lead}{_dots(y)} ({what})")
    return _macs


def from_weights(count=None, needs=1):
    """A layer class's ``_macs`` from ``count(layer, weight shapes, input shapes, output
    shapes)``; None until the layer has ``needs`` weights (it is not built). A decorator,
    also as ``@from_weights(needs=2)``."""
    if count is None:
        return lambda fn: from_weights(fn, needs)

    def _macs(layer, ins, outs):
        shapes = [tuple(w.shape) for w in layer.weights]
        return count(layer, shapes, ins, outs) if len(shapes) >= needs else None
    return _macs


def layer_macs(layer, input_shape, output_shape, children=None):
    """Multiply-adds of one example through ``layer`` (a ``Count`` with its formula), or
    None when pycnn has no formula for it. ``input_shape``/``output_shape``: a shape or a
    list of shapes (the batch axis None or left out); ``children``: for a nested model,
    the Counts of the calls it made. The formula is the layer class's own ``_macs``
    (every pycnn layer carries one; ``free`` and ``per_value`` make the common ones)."""
    ins, outs = [_shape(s) for s in _shapes(input_shape)], [_shape(s)
                                                            for s in _shapes(output_shape)]
    hook = getattr(type(layer), "_macs", None)
    if hook is not None:                    # the layer's class knows its own count
        found = hook(layer, ins, outs)
        if found is None or isinstance(found, _Count):
            return found
        total, formula = found
        return _count(total, formula)
    if children is not None:
        known = [c for c in children if c is not None]
        if len(known) < len(children):
            return None
        total = sum(int(c) for c in known)
        return _Count(total, f"Σ of its {len(known)} layer calls = {total:,}")
    return None


def activation_memory(output_shape, dtype="float32"):
    """Bytes of one example's output of a layer (a ``Count`` with its formula); a list
    of shapes (several outputs) adds them."""
    item = _np.dtype(dtype).itemsize
    shapes = [_shape(s) for s in _shapes(output_shape)]
    size = sum(_n(s) for s in shapes)
    dims = " + ".join(_dots(s) for s in shapes)
    return _Count(size * item, f"{dims} · {item} B = {_bytes(size * item)}"
                  if len(shapes) < 2 else f"({dims}) · {item} B = {_bytes(size * item)}")


def _bytes(n):
    for unit, size in (("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:,} B"


def _dtype(layer):
    weights = getattr(layer, "weights", [])
    return weights[0].dtype if weights else _np.float32


# ---- tracing: every layer call of one forward pass -----------------------------------------

class Call:
    """One layer call seen by :func:`trace_calls`: ``layer``, ``depth`` (0 for the
    model's own layers, 1 inside a nested model, ...), ``parent`` (index of the call it
    happened in, or None), ``input_shapes`` / ``output_shapes`` (batch axis None),
    ``args`` (the call's arguments with each tensor replaced by a NumPy copy, when
    values are kept), ``input_ids`` / ``output_ids`` (which tensors went in and out)."""

    def __init__(self, layer, depth, parent):
        self.layer, self.depth, self.parent = layer, depth, parent
        self.input_shapes, self.output_shapes, self.args = [], [], None
        self.input_ids, self.output_ids, self.kwargs = [], [], {}
        self.outputs = []

    def __repr__(self):
        return (f"<Call {self.layer.name} depth {self.depth}: {self.input_shapes} -> "
                f"{self.output_shapes}>")


def _leaves(struct):
    from . import _core
    if isinstance(struct, _core.Tensor):
        return [struct]
    if isinstance(struct, dict):
        return [t for v in struct.values() for t in _leaves(v)]
    if isinstance(struct, (list, tuple)):
        return [t for v in struct for t in _leaves(v)]
    return []


def _map(struct, fn):
    from . import _core
    if isinstance(struct, _core.Tensor):
        return fn(struct)
    if isinstance(struct, dict):
        return {k: _map(v, fn) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return type(struct)(_map(v, fn) for v in struct)
    return struct


def _all_layers(model):
    """Every sublayer of ``model``, nested ones too, each once."""
    seen, out = set(), []

    def walk(layer):
        for sub in getattr(layer, "layers", None) or []:
            if id(sub) not in seen and sub is not model:
                seen.add(id(sub))
                out.append(sub)
                walk(sub)
    walk(model)
    return out


_TRACING = {}


def _tracing_class(cls):
    """A subclass of ``cls`` whose __call__ reports to the active trace."""
    if cls in _TRACING:
        return _TRACING[cls]

    def __call__(self, *args, **kwargs):
        trace = _ACTIVE[-1] if _ACTIVE else None
        if trace is None:
            return cls.__call__(self, *args, **kwargs)
        return trace.call(cls, self, args, kwargs)
    sub = type(cls.__name__, (cls,), {"__call__": __call__, "__module__": cls.__module__,
                                      "__qualname__": cls.__qualname__})
    _TRACING[cls] = sub
    return sub


_ACTIVE = []


class _Trace:
    def __init__(self, keep_values, keep_outputs=False):
        self.calls, self.stack, self.keep, self.output = [], [], keep_values, None
        self.keep_outputs = keep_outputs
        self.alive = []                       # the tensors seen, so their ids stay unique

    def call(self, cls, layer, args, kwargs):
        c = Call(layer, len(self.stack), self.stack[-1] if self.stack else None)
        ins = _leaves((args, kwargs))
        c.input_shapes = [(None,) + tuple(t.shape)[1:] for t in ins]
        c.input_ids = [id(t) for t in ins]
        if self.keep:
            c.args = _map(args, lambda t: _np.array(t.numpy()))
            c.kwargs = {k: v for k, v in kwargs.items() if k != "training"}
            c.kwargs = _map(c.kwargs, lambda t: _np.array(t.numpy()))
        self.calls.append(c)
        self.stack.append(len(self.calls) - 1)
        start = _time.perf_counter()
        try:
            out = cls.__call__(layer, *args, **kwargs)
        finally:
            self.stack.pop()
        c.seconds = _time.perf_counter() - start
        outs = _leaves(out)
        c.output_shapes = [(None,) + tuple(t.shape)[1:] for t in outs]
        c.output_ids = [id(t) for t in outs]
        if self.keep_outputs:
            c.outputs = outs
        self.alive += ins + outs
        return out


def _probe_inputs(model):
    """Zeros of one example of each model input (the shapes must be known)."""
    g = model.__dict__.get("_graph")
    if g is not None:
        shapes = [tuple(t.shape) for t in g.inputs]
    else:
        shape = model.__dict__.get("_build_input_shape") or getattr(model, "input_shape", None)
        shapes = _shapes(shape)
    if not shapes:
        raise ValueError(f"{model.name}: the input shape is unknown; build the model (or "
                         f"call it on data) first")
    for s in shapes:
        if any(d is None for d in s[1:]):
            raise ValueError(f"{model.name}: the input shape {s} has unknown sizes, so the "
                             f"costs per layer depend on the input; use model.profile(x) "
                             f"with real data")
    dtype = _dtype(model)
    xs = [_np.zeros((1,) + tuple(int(d) for d in s[1:]), dtype) for s in shapes]
    return xs


def trace_calls(model, x=None, keep_values=False, training=False, grad=False,
                keep_outputs=False):
    """Every layer call of one forward pass of ``model`` on ``x`` (default: one example
    of zeros; or a list of Tensors, used as they are), nested models' calls included,
    in the order they ran: a list of :class:`Call`. The model is left as it was (losses
    added during the pass are dropped). With ``grad`` the pass records its graph and
    each call keeps its output Tensors (``call.outputs``), to backpropagate from
    (``keep_outputs`` keeps them without the graph)."""
    import contextlib
    from . import _core
    from .autograd import no_grad
    if isinstance(x, list) and x and all(isinstance(a, _core.Tensor) for a in x):
        xs = x
    elif x is None:
        xs = _probe_inputs(model)
    elif isinstance(x, list) and x and all(isinstance(a, _np.ndarray) for a in x):
        xs = x                                      # already the list of input arrays
    else:
        xs = model._as_x(x, "trace") if hasattr(model, "_as_x") else [_np.asarray(x)]
    layers = _all_layers(model)
    originals = [type(layer) for layer in layers]
    trace = _Trace(keep_values, keep_outputs=grad or keep_outputs)
    token = _core.Layer._enter_call(False)
    swapped = []
    try:
        for layer, cls in zip(layers, originals):
            try:
                layer.__class__ = _tracing_class(cls)
            except TypeError:            # a C type used directly: its calls go unseen
                continue
            swapped.append((layer, cls))
        _ACTIVE.append(trace)
        with (contextlib.nullcontext() if grad else no_grad()):
            arg = model._model_inputs(xs) if hasattr(model, "_model_inputs") else (
                xs[0] if len(xs) == 1 else xs)
            trace.output = model(arg, training=training)
    finally:
        if _ACTIVE and _ACTIVE[-1] is trace:
            _ACTIVE.pop()
        for layer, cls in swapped:
            layer.__class__ = cls
        _core.Layer._exit_call(token)
        _core.Layer._exit_call(_core.Layer._enter_call(None))
    calls = _Calls(trace.calls)
    calls.output = trace.output
    return calls


class _Calls(list):
    """trace_calls' list of calls; ``output`` is what the model returned."""
    output = None


def call_costs(calls):
    """Per call: (multiply-adds Count or None, activation memory Count); a nested
    model's are the sums of the calls made inside it."""
    macs, memory = [None] * len(calls), [None] * len(calls)
    for i in reversed(range(len(calls))):          # children before their parents
        c = calls[i]
        children = [k for k in range(i + 1, len(calls)) if calls[k].parent == i]
        macs[i] = layer_macs(c.layer, c.input_shapes, c.output_shapes,
                             [macs[k] for k in children] if children else None)
        if children:                                # a nested model keeps its layers'
            total = sum(int(memory[k]) for k in children)
            memory[i] = _Count(total, f"Σ of its {len(children)} layer outputs = "
                                      f"{_bytes(total)}")
        else:
            memory[i] = activation_memory(c.output_shapes, _dtype(c.layer))
    return macs, memory


def _combine(counts, what):
    """Several calls of one layer: their sum, each shown."""
    if len(counts) == 1:
        return counts[0]
    total = sum(int(c) for c in counts)
    parts = " + ".join(f"{int(c):,}" for c in counts)
    return _Count(total, f"{len(counts)} calls: {parts} = "
                         f"{_bytes(total) if what == 'memory' else f'{total:,}'}")


def cost_columns(model, layers, show_flops, show_memory, levels=None):
    """The extra header names and, per layer of ``layers`` (the summary's rows; a nested
    row's ``levels`` entry is its depth), the extra fields; and the totals lines."""
    calls = trace_calls(model)
    macs, memory = call_costs(calls)
    levels = levels or [0] * len(layers)
    header, per_layer = [], []
    macs_total, memory_total, unknown = 0, 0, []
    for layer, level in zip(layers, levels):
        mine = [i for i, c in enumerate(calls) if c.layer is layer and c.depth == level]
        fields = []
        if show_flops:
            if type(layer).__name__ == "InputLayer":
                m = _zero("the input")
            elif not mine:
                m = _zero("not called")
            elif any(macs[i] is None for i in mine):
                m = None
            else:
                m = _combine([macs[i] for i in mine], "macs")
            if m is None:
                fields.append(f"? (no formula for {type(layer).__name__})")
                if level == 0:
                    unknown.append(f"{layer.name} ({type(layer).__name__})")
            else:
                fields.append(repr(m) if int(m) or "(" in m.formula else "0")
                macs_total += int(m) if level == 0 else 0
        if show_memory:
            if type(layer).__name__ == "InputLayer":
                out = getattr(layer, "output", None)
                mem = activation_memory(out.shape, _dtype(model)) if out is not None \
                    else _zero("the input")
            elif not mine:
                mem = _zero("not called")
            else:
                mem = _combine([memory[i] for i in mine], "memory")
            memory_total += int(mem) if level == 0 else 0
            fields.append(repr(mem))
        per_layer.append(fields)
    totals = []
    if show_flops:
        header.append("Mult-adds")
        line = f"Total mult-adds per example: {macs_total:,}"
        if unknown:
            line += f" (not counted, no formula: {', '.join(unknown)})"
        totals.append(line)
    if show_memory:
        header.append("Activation memory")
        short = f"{_bytes(memory_total)}; " if memory_total >= 1024 else ""
        totals.append(f"Activation memory per example: {memory_total:,} B "
                      f"({short}training keeps them for backward)")
    return header, per_layer, totals


# ---- measured: time per layer against the GEMM peak -------------------------------------

def gemm_peak(n=512, repeats=20, dtype=_np.float32):
    """GFLOP/s of this machine's matrix product (pycnn.matmul, n×n by n×n), the best of
    ``repeats`` runs: 2·n³ floating-point operations each."""
    from . import _core
    a = _core.tensor(_np.random.default_rng(0).standard_normal((n, n)).astype(dtype))
    b = _core.tensor(_np.random.default_rng(1).standard_normal((n, n)).astype(dtype))
    _core.matmul(a, b)                              # warm the pool and the caches
    best = _math.inf
    for _ in range(repeats):
        start = _time.perf_counter()
        _core.matmul(a, b)
        best = min(best, _time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


class Profile:
    """``rows``: per layer name, kind, forward and backward seconds, mult-adds, the
    GFLOP/s reached and its share of ``peak`` (GFLOP/s of the machine's GEMM)."""

    def __init__(self, rows, peak, batch):
        self.rows, self.peak, self.batch = rows, peak, batch

    def __repr__(self):
        w = max([len("Layer (type)")] + [len(f"{r['name']} ({r['kind']})") for r in self.rows])
        lines = [f"profile of one batch of {self.batch}; GEMM peak {self.peak:.1f} GFLOP/s "
                 f"(pycnn.matmul 512×512, best of 20)",
                 f"{'Layer (type)':<{w}} {'forward ms':>10} {'backward ms':>11} "
                 f"{'mult-adds':>13} {'GFLOP/s':>8} {'of peak':>8}"]
        for r in self.rows:
            rate = f"{r['gflops']:.2f}" if r["macs"] else "—"
            share = f"{r['of_peak']:.0%}" if r["macs"] else "—"
            macs = f"{r['macs']:,}" if r.get("known", True) else "?"
            lines.append(f"{r['name'] + ' (' + r['kind'] + ')':<{w}} "
                         f"{r['forward'] * 1e3:>10.3f} {r['backward'] * 1e3:>11.3f} "
                         f"{macs:>13} {rate:>8} {share:>8}")
        fw = sum(r["forward"] for r in self.rows) * 1e3
        bw = sum(r["backward"] for r in self.rows) * 1e3
        lines.append(f"{'total':<{w}} {fw:>10.3f} {bw:>11.3f}")
        return "\n".join(lines)


def _leaf_args(struct):
    """The recorded arguments with each array made a fresh leaf Tensor that requires grad."""
    from . import _core
    if isinstance(struct, _np.ndarray):
        t = _core.tensor(struct)
        t.requires_grad = True
        return t
    if isinstance(struct, dict):
        return {k: _leaf_args(v) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return type(struct)(_leaf_args(v) for v in struct)
    return struct


def _scalar(out):
    """Σ of every output: a scalar whose backward seeds each output with ones."""
    outs = _leaves(out)
    total = outs[0].sum()
    for o in outs[1:]:
        total = total + o.sum()
    return total


def profile(model, x, repeats=3, peak=None):
    """Forward and backward time of every layer call on the batch ``x`` (each the best
    of ``repeats``), with the GFLOP/s each reaches: 2 · mult-adds · batch · (1 forward,
    2 backward: the input's and the weights' gradients) per second, against ``peak``
    (measured by ``gemm_peak()`` when not given). The calls are the model's own (a
    nested model is one row), found by tracing one forward pass, so any model works:
    Sequential, functional (branches, several inputs, shared layers: a row per call)
    and subclassed. Each call runs again on copies of its inputs made leaves, so its
    backward is timed alone."""
    x = model._as_x(x, "profile") if hasattr(model, "_as_x") else [_np.asarray(x)]
    peak = gemm_peak() if peak is None else float(peak)
    saved = model.get_weights()         # training-mode calls move BatchNorm's statistics
    try:
        calls = trace_calls(model, x, keep_values=True, training=True)
        return _profile_calls(calls, peak, len(x[0]), repeats)
    finally:
        model.set_weights(saved)


def _profile_calls(calls, peak, batch, repeats):
    macs, _ = call_costs(calls)
    rows, seen = [], {}
    for c, m in zip(calls, macs):
        if c.depth != 0:
            continue
        layer = c.layer
        seen[id(layer)] = seen.get(id(layer), 0) + 1
        name = layer.name if seen[id(layer)] == 1 else f"{layer.name} (call {seen[id(layer)]})"
        forward, backward = _math.inf, _math.inf
        for _ in range(repeats):
            args, kwargs = _leaf_args(c.args), _leaf_args(c.kwargs)
            start = _time.perf_counter()
            out = layer(*args, training=True, **kwargs)
            forward = min(forward, _time.perf_counter() - start)
            for w in getattr(layer, "trainable_weights", []):
                w.grad = None
            loss = _scalar(out)
            start = _time.perf_counter()
            if loss.requires_grad:
                loss.backward()
            backward = min(backward, _time.perf_counter() - start)
        for w in getattr(layer, "trainable_weights", []):
            w.grad = None
        per_example = int(m) if m is not None else 0
        macs_batch = per_example * batch
        seconds = forward + backward
        gflops = 2 * macs_batch * 3 / seconds / 1e9 if macs_batch else 0.0
        rows.append({"name": name, "kind": type(layer).__name__, "forward": forward,
                     "backward": backward, "macs": macs_batch, "known": m is not None,
                     "gflops": gflops, "of_peak": gflops / peak if peak else 0.0})
    return Profile(rows, peak, batch)
