"""What each layer costs: multiply-adds and activation memory with their arithmetic
(``model.summary(show_flops=True, show_memory=True)``), and measured time per layer
against the machine's GEMM peak (``model.profile(x)``).

    Dense:   inputs · units multiply-adds per example          784·512 = 401,408
    Conv2D:  OH·OW·filters · (KH·KW·C_in) per example          26·26·32 · (3·3·1) = 194,688
    memory:  the layer's output, per example                   512 · 4 B = 2,048 B

Bias additions, activations and pooling are not multiply-adds and count 0 (as in the
usual "MACs" tables); their memory is counted like every output's.
"""
import math as _math
import time as _time

import numpy as _np

from .arithmetic import Count as _Count

__all__ = ["layer_macs", "activation_memory", "gemm_peak", "profile", "Profile"]


def _shape(shape):
    return tuple(int(d) for d in shape if d is not None)


def layer_macs(layer, input_shape, output_shape):
    """Multiply-adds of one example through ``layer`` (a ``Count`` with its formula)."""
    kind = type(layer).__name__
    weights = layer.get_weights() if hasattr(layer, "get_weights") else []
    if kind == "Dense" and weights:
        n_in, units = weights[0].shape
        rows = int(_np.prod(_shape(input_shape)[:-1], dtype=_np.int64)) if len(
            _shape(input_shape)) > 1 else 1
        lead = f"{rows} · " if rows > 1 else ""
        return _Count(rows * n_in * units, f"{lead}{n_in}·{units} = {rows * n_in * units:,}")
    if kind == "Conv2D" and weights:
        kh, kw, c_in, filters = weights[0].shape
        oh, ow = _shape(output_shape)[:2]
        total = oh * ow * filters * kh * kw * c_in
        return _Count(total, f"{oh}·{ow}·{filters} · ({kh}·{kw}·{c_in}) = {total:,}")
    return _Count(0, "0")


def activation_memory(output_shape, dtype="float32"):
    """Bytes of one example's output of a layer (a ``Count`` with its formula)."""
    size = int(_np.prod(_shape(output_shape), dtype=_np.int64))
    item = _np.dtype(dtype).itemsize
    dims = "·".join(str(d) for d in _shape(output_shape))
    return _Count(size * item, f"{dims} · {item} B = {_bytes(size * item)}")


def _bytes(n):
    for unit, size in (("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:,} B"


def _dtype(layer):
    weights = getattr(layer, "weights", [])
    return weights[0].dtype if weights else _np.float32


def layer_io_shapes(model):
    """{id(layer): (input shape, output shape)}: from the graph's nodes (a layer's first
    call) for a graph model, else along a Sequential's chain."""
    nodes = getattr(model, "_nodes", None)
    if nodes:
        out = {}
        for n in nodes:
            shapes = n.input_shapes
            out.setdefault(id(n.operation), (shapes[0] if len(shapes) == 1 else
                                             (shapes or [n.output_shape])[0], n.output_shape))
        return out
    shapes = [model.input_shape] + list(model._output_shapes)
    return {id(layer): (shapes[i], shapes[i + 1]) for i, layer in enumerate(model.layers)}


def cost_columns(model, layers, show_flops, show_memory):
    """The extra header names and, per layer of ``layers`` (the summary's rows), the extra
    fields; and the totals lines."""
    header, per_layer = [], []
    macs_total, memory_total = 0, 0
    io = layer_io_shapes(model)
    for layer in layers:
        fields = []
        shape_in, shape_out = io[id(layer)]
        if show_flops:
            m = layer_macs(layer, shape_in, shape_out)
            macs_total += int(m)
            fields.append(repr(m) if int(m) else "0")
        if show_memory:
            mem = activation_memory(shape_out, _dtype(layer))
            memory_total += int(mem)
            fields.append(repr(mem))
        per_layer.append(fields)
    totals = []
    if show_flops:
        header.append("Mult-adds")
        totals.append(f"Total mult-adds per example: {macs_total:,}")
    if show_memory:
        header.append("Activation memory")
        totals.append(f"Activation memory per example: {memory_total:,} B "
                      f"({_bytes(memory_total)}; training keeps them for backward)")
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
            lines.append(f"{r['name'] + ' (' + r['kind'] + ')':<{w}} "
                         f"{r['forward'] * 1e3:>10.3f} {r['backward'] * 1e3:>11.3f} "
                         f"{r['macs']:>13,} {rate:>8} {share:>8}")
        fw = sum(r["forward"] for r in self.rows) * 1e3
        bw = sum(r["backward"] for r in self.rows) * 1e3
        lines.append(f"{'total':<{w}} {fw:>10.3f} {bw:>11.3f}")
        return "\n".join(lines)


def profile(model, x, repeats=3, peak=None):
    """Forward and backward time of every layer on the batch ``x`` (each the best of
    ``repeats``), with the GFLOP/s each reaches: 2 · mult-adds · batch · (1 forward,
    2 backward: the input's and the weights' gradients) per second, against ``peak``
    (measured by ``gemm_peak()`` when not given). Each layer runs on a copy of its
    input made a leaf, so its backward is timed alone."""
    from . import _core
    from .inside import model_layers
    x = model._as_x(x, "profile")[0] if hasattr(model, "_as_x") else _np.asarray(x)
    peak = gemm_peak() if peak is None else float(peak)
    layers = model_layers(model)
    shapes = [tuple(x.shape)]
    inputs, rows = [], []
    h = _np.asarray(x)
    for layer in layers:                           # forward, layer by layer
        best, out = _math.inf, None
        for _ in range(repeats):
            leaf = _core.tensor(h)
            leaf.requires_grad = True
            start = _time.perf_counter()
            out = layer(leaf, training=True)
            best = min(best, _time.perf_counter() - start)
        inputs.append(h)
        h = _np.array(out.numpy())
        shapes.append(tuple(out.shape))
        rows.append({"name": layer.name, "kind": type(layer).__name__, "forward": best})
    for i, layer in enumerate(layers):             # backward, layer by layer
        best = _math.inf
        seed = _np.ones(shapes[i + 1], dtype=inputs[i].dtype)
        for _ in range(repeats):
            leaf = _core.tensor(inputs[i])
            leaf.requires_grad = True
            out = layer(leaf, training=True)
            for w in getattr(layer, "trainable_weights", []):
                w.grad = None
            start = _time.perf_counter()
            out.backward(seed)
            best = min(best, _time.perf_counter() - start)
        for w in getattr(layer, "trainable_weights", []):
            w.grad = None
        macs = int(layer_macs(layer, (None,) + shapes[i][1:], (None,) + shapes[i + 1][1:]))
        macs_batch = macs * shapes[i][0]
        seconds = rows[i]["forward"] + best
        gflops = 2 * macs_batch * 3 / seconds / 1e9 if macs else 0.0
        rows[i].update(backward=best, macs=macs_batch, gflops=gflops,
                       of_peak=gflops / peak if peak else 0.0)
    return Profile(rows, peak, shapes[0][0])
