"""Differential fuzzing: pycnn's C ops against plain-NumPy references on random shapes
and values (hypothesis). Forward values AND gradients are compared, in float32 and
float64, including empty shapes, broadcasting, 0-d tensors and extreme values.

`make test` runs a few dozen examples per property (profile pycnn-ci); `make fuzz`
(HYPOTHESIS_PROFILE=fuzz) runs >= 500 per property.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pycnn

settings.register_profile("pycnn-ci", max_examples=30, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("pycnn-fuzz", max_examples=500, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
FUZZ = settings.get_profile("pycnn-fuzz" if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
                            else "pycnn-ci")

DTYPES = st.sampled_from([np.float32, np.float64])
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def values(dtype, shape, lo=-4.0, hi=4.0):
    lo, hi = float(np.float32(lo)), float(np.float32(hi))       # bounds exact in float32
    return hnp.arrays(dtype, shape, elements=st.floats(lo, hi, width=32, allow_subnormal=False))


def unbroadcast(g, shape):
    """Sum g over the axes along which an operand of `shape` was broadcast."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def close(got, want, dtype, scale=1.0):
    tol = TOL[dtype]
    np.testing.assert_allclose(got, want, rtol=tol["rtol"] * 10 * scale,
                               atol=tol["atol"] * 10 * scale * max(1.0, float(np.max(
                                   np.abs(want), initial=0.0))))


# ---- element-wise: binary ops with broadcasting -----------------------------------------

# op: (pycnn fn, forward, d/da, d/db, domain of b away from 0 / a positive)
BINARY = {
    "add": (pycnn.add, np.add, lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b)),
    "sub": (pycnn.subtract, np.subtract, lambda a, b: np.ones_like(a * b),
            lambda a, b: -np.ones_like(a * b)),
    "mul": (pycnn.multiply, np.multiply, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "div": (pycnn.divide, np.divide, lambda a, b: 1 / b + 0 * a, lambda a, b: -a / b ** 2),
    "pow": (pycnn.power, np.power, lambda a, b: b * a ** (b - 1), lambda a, b: a ** b * np.log(a)),
    "maximum": (pycnn.maximum, np.maximum, lambda a, b: (a >= b) * 1.0,
                lambda a, b: (a < b) * 1.0),
    "minimum": (pycnn.minimum, np.minimum, lambda a, b: (a <= b) * 1.0,
                lambda a, b: (a > b) * 1.0),
}


@FUZZ
@given(op=st.sampled_from(sorted(BINARY)), dtype=DTYPES,
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0,
                                                max_side=4),
       data=st.data())
def test_binary_ops_match_numpy(op, dtype, shapes, data):
    fn, fwd, da_ref, db_ref = BINARY[op]
    sa, sb = shapes.input_shapes
    lo = 0.25 if op == "pow" else -4.0
    a = data.draw(values(dtype, sa, lo, 3.0 if op == "pow" else 4.0), label="a")
    b = data.draw(values(dtype, sb, -3.0 if op == "pow" else -4.0, 3.0 if op == "pow" else 4.0),
                  label="b")
    if op == "div":
        b = np.where(np.abs(b) < 0.25, np.asarray(0.25, dtype), b).astype(dtype)
    ta, tb = pycnn.tensor(a, requires_grad=True), pycnn.tensor(b, requires_grad=True)
    y = fn(ta, tb)
    want = fwd(a.astype(np.float64), b.astype(np.float64))
    assert y.shape == want.shape == shapes.result_shape and y.dtype == dtype
    close(y.numpy(), want, dtype, scale=50 if op == "pow" else 1)
    dy = data.draw(values(dtype, want.shape), label="dy")
    y.backward(dy)
    a64, b64, dy64 = a.astype(np.float64), b.astype(np.float64), dy.astype(np.float64)
    grad_a = unbroadcast(dy64 * da_ref(a64, b64), sa)
    grad_b = unbroadcast(dy64 * db_ref(a64, b64), sb)
    assert ta.grad.shape == sa and tb.grad.shape == sb
    assert ta.grad.dtype == dtype and tb.grad.dtype == dtype
    scale = 50 if op == "pow" else 1
    close(ta.grad.numpy(), grad_a, dtype, scale * max(1, max(sa + sb + (1,))))
    close(tb.grad.numpy(), grad_b, dtype, scale * max(1, max(sa + sb + (1,))))


@FUZZ
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       data=st.data())
def test_mixed_dtypes_promote_and_gradients_keep_dtype(shapes, data):
    sa, sb = shapes.input_shapes
    a = data.draw(values(np.float32, sa), label="a")
    b = data.draw(values(np.float64, sb), label="b")
    ta, tb = pycnn.tensor(a, requires_grad=True), pycnn.tensor(b, requires_grad=True)
    y = ta * tb
    assert y.dtype == np.float64
    close(y.numpy(), a.astype(np.float64) * b, np.float64)
    y.backward(np.ones(y.shape))
    assert ta.grad.dtype == np.float32 and tb.grad.dtype == np.float64
    close(ta.grad.numpy(), unbroadcast(np.broadcast_to(b, y.shape).astype(np.float64), sa),
          np.float32)


@FUZZ
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=5),
       data=st.data(), dtype=DTYPES)
def test_python_numbers_and_arrays_mix_with_tensors(shapes, data, dtype):
    sa, _ = shapes.input_shapes
    a = data.draw(values(dtype, sa), label="a")
    k = data.draw(st.floats(-3, 3), label="k")
    t = pycnn.tensor(a)
    for got, want in (((t + k).numpy(), a + dtype(k)), ((k - t).numpy(), dtype(k) - a),
                      ((t * k).numpy(), a * dtype(k)), ((-t).numpy(), -a)):
        assert got.dtype == dtype
        close(got, want.astype(np.float64), dtype)


# ---- element-wise: unary maps ------------------------------------------------------------

def _sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


# name: (fn, forward, derivative, domain)
UNARY = {
    "negative": (pycnn.negative, np.negative, lambda x: -np.ones_like(x), (-50, 50)),
    "abs": (pycnn.abs, np.abs, np.sign, (-50, 50)),
    "exp": (pycnn.exp, np.exp, np.exp, (-30, 30)),
    "log": (pycnn.log, np.log, lambda x: 1 / x, (1e-3, 1e3)),
    "sqrt": (pycnn.sqrt, np.sqrt, lambda x: 0.5 / np.sqrt(x), (1e-3, 1e3)),
    "square": (pycnn.square, np.square, lambda x: 2 * x, (-50, 50)),
    "sigmoid": (pycnn.sigmoid, _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)), (-200, 200)),
    "tanh": (pycnn.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2, (-30, 30)),
    "relu": (pycnn.relu, lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0, (-50, 50)),
}


@FUZZ
@given(op=st.sampled_from(sorted(UNARY)), dtype=DTYPES,
       shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5), data=st.data())
def test_unary_ops_match_numpy(op, dtype, shape, data):
    fn, fwd, deriv, (lo, hi) = UNARY[op]
    x = data.draw(values(dtype, shape, lo, hi), label="x")
    t = pycnn.tensor(x, requires_grad=True)
    y = fn(t)
    x64 = x.astype(np.float64)
    assert y.shape == x.shape and y.dtype == dtype
    close(y.numpy(), fwd(x64), dtype)
    dy = data.draw(values(dtype, shape), label="dy")
    y.backward(dy)
    close(t.grad.numpy(), dy.astype(np.float64) * deriv(x64), dtype, scale=10)


@FUZZ
@given(op=st.sampled_from(sorted(UNARY)), dtype=DTYPES,
       special=st.lists(st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30]),
                        min_size=1, max_size=8))
def test_unary_ops_on_special_values_agree_with_numpy(op, dtype, special):
    fn, fwd, _, _ = UNARY[op]
    x = np.asarray(special, dtype)
    with np.errstate(all="ignore"):
        want = fwd(x).astype(dtype)
    got = fn(pycnn.tensor(x)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-6)


@FUZZ
@given(op=st.sampled_from(sorted(BINARY)), dtype=DTYPES,
       pairs=st.lists(st.tuples(*[st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.5,
                                                    1e30, -1e30])] * 2), min_size=1, max_size=8))
def test_binary_ops_on_special_values_agree_with_numpy(op, dtype, pairs):
    fn, fwd, _, _ = BINARY[op]
    a, b = (np.asarray(v, dtype) for v in zip(*pairs))
    with np.errstate(all="ignore"):
        want = fwd(a, b)
    got = fn(pycnn.tensor(a), pycnn.tensor(b)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-6)


# ---- graphs --------------------------------------------------------------------------------

@FUZZ
@given(steps=st.lists(st.sampled_from(["exp_tanh", "mul_self", "add_const", "sigmoid", "square",
                                       "div_const", "relu"]), min_size=1, max_size=12),
       x=hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-2, 2)))
def test_random_chains_gradient_matches_finite_differences(steps, x):
    def f(t):
        for s in steps:
            if s == "exp_tanh":
                t = pycnn.exp(pycnn.tanh(t))
            elif s == "mul_self":
                t = t * pycnn.tanh(t)
            elif s == "add_const":
                t = t + 0.3
            elif s == "sigmoid":
                t = pycnn.sigmoid(t)
            elif s == "square":
                t = pycnn.square(pycnn.tanh(t))
            elif s == "div_const":
                t = t / 1.7
            else:
                t = pycnn.relu(t) + 0.1 * t
        return t
    assume(np.all(np.abs(x) > 1e-3))    # keep relu's kink away from the nudges
    assert pycnn.gradcheck(f, [x], atol=1e-6, rtol=1e-4)


# ---- convolution, pooling, dense ------------------------------------------------------------

def _same_pads(n, k, s):
    o = (n - 1) // s + 1
    p = max((o - 1) * s + k - n, 0)
    return o, p // 2, p - p // 2


def _geometry(h, w, kh, kw, s, padding):
    if padding == "valid":
        return (h - kh) // s + 1, (w - kw) // s + 1, (0, 0), (0, 0)
    oh, t, b = _same_pads(h, kh, s)
    ow, l, r = _same_pads(w, kw, s)
    return oh, ow, (t, b), (l, r)


def conv_reference(x, k, b, dy, s, padding):
    """y, dx, dk, db of cross-correlation, NHWC, Keras' 'same' padding (zeros)."""
    n, h, w, c = x.shape
    kh, kw, _, f = k.shape
    oh, ow, ph, pw = _geometry(h, w, kh, kw, s, padding)
    xp = np.pad(x, ((0, 0), ph, pw, (0, 0)))
    y = np.zeros((n, oh, ow, f)) + b
    dxp = np.zeros_like(xp)
    dk = np.zeros_like(k)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s, :]
            y += patch @ k[i, j]
            dk[i, j] = np.einsum("nhwc,nhwf->cf", patch, dy)
            dxp[:, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s, :] += dy @ k[i, j].T
    dx = dxp[:, ph[0]:ph[0] + h, pw[0]:pw[0] + w, :]
    return y, dx, dk, dy.sum(axis=(0, 1, 2))


@FUZZ
@given(n=st.integers(0, 3), h=st.integers(1, 7), w=st.integers(1, 7), c=st.integers(1, 3),
       f=st.integers(1, 3), kh=st.integers(1, 4), kw=st.integers(1, 4), s=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), dtype=DTYPES, data=st.data())
def test_conv2d_matches_numpy(n, h, w, c, f, kh, kw, s, padding, dtype, data):
    assume(padding == "same" or (kh <= h and kw <= w))
    x = data.draw(values(dtype, (n, h, w, c)), label="x")
    k = data.draw(values(dtype, (kh, kw, c, f)), label="k")
    b = data.draw(values(dtype, (f,)), label="b")
    tx, tk, tb = (pycnn.tensor(a, requires_grad=True) for a in (x, k, b))
    y = pycnn.conv2d(tx, tk, tb, strides=s, padding=padding)
    dy = data.draw(values(dtype, y.shape), label="dy")
    want, dx, dk, db = conv_reference(*(a.astype(np.float64) for a in (x, k, b, dy)), s, padding)
    assert y.shape == want.shape and y.dtype == dtype
    scale = 10 * kh * kw * c
    close(y.numpy(), want, dtype, scale)
    y.backward(dy)
    close(tx.grad.numpy(), dx, dtype, scale)
    close(tk.grad.numpy(), dk, dtype, scale * max(n, 1) * h * w)
    close(tb.grad.numpy(), db, dtype, scale * max(n, 1) * h * w)


def pool_reference(x, dy, p, s, padding, kind):
    """y and dx of max/avg pooling; 'same' windows average over their valid cells (Keras),
    a max window sends its gradient to its first maximum."""
    n, h, w, c = x.shape
    oh, ow, ph, pw = _geometry(h, w, p, p, s, padding)
    y = np.empty((n, oh, ow, c))
    dx = np.zeros_like(x)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = max(i * s - ph[0], 0), max(j * s - pw[0], 0)
            r1, c1 = min(i * s - ph[0] + p, h), min(j * s - pw[0] + p, w)
            win = x[:, r0:r1, c0:c1, :]
            if kind == "avg":
                y[:, i, j] = win.mean(axis=(1, 2))
                dx[:, r0:r1, c0:c1, :] += dy[:, i:i + 1, j:j + 1, :] / ((r1 - r0) * (c1 - c0))
                continue
            y[:, i, j] = win.max(axis=(1, 2))
            flat = win.reshape(n, (r1 - r0) * (c1 - c0), c).argmax(axis=1)      # first max
            rr, cc = np.unravel_index(flat, win.shape[1:3])
            for a in range(n):
                for ch in range(c):
                    dx[a, r0 + rr[a, ch], c0 + cc[a, ch], ch] += dy[a, i, j, ch]
    return y, dx


@FUZZ
@given(n=st.integers(0, 3), h=st.integers(1, 7), w=st.integers(1, 7), c=st.integers(1, 3),
       p=st.integers(1, 4), s=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]),
       kind=st.sampled_from(["max", "avg"]), dtype=DTYPES, data=st.data())
def test_pooling_matches_numpy(n, h, w, c, p, s, padding, kind, dtype, data):
    assume(padding == "same" or (p <= h and p <= w))
    x = data.draw(values(dtype, (n, h, w, c)), label="x")
    tx = pycnn.tensor(x, requires_grad=True)
    fn = pycnn.max_pool2d if kind == "max" else pycnn.avg_pool2d
    y = fn(tx, p, strides=s, padding=padding)
    dy = data.draw(values(dtype, y.shape), label="dy")
    want, dx = pool_reference(x.astype(np.float64), dy.astype(np.float64), p, s, padding, kind)
    assert y.shape == want.shape and y.dtype == dtype
    close(y.numpy(), want, dtype)
    y.backward(dy)
    close(tx.grad.numpy(), dx, dtype, scale=p * p)


@FUZZ
@given(batch=st.integers(0, 4), n_in=st.integers(1, 6), units=st.integers(1, 5),
       act=st.sampled_from([None, "relu", "sigmoid", "tanh"]), dtype=DTYPES, data=st.data())
def test_dense_layer_matches_numpy(batch, n_in, units, act, dtype, data):
    from pycnn import layers as L
    layer = L.Dense(units, activation=act, dtype=np.dtype(dtype).name)
    x = data.draw(values(dtype, (batch, n_in)), label="x")
    layer.build((None, n_in))
    k = data.draw(values(dtype, (n_in, units)), label="k")
    b = data.draw(values(dtype, (units,)), label="b")
    layer.set_weights([k, b])
    z = x.astype(np.float64) @ k.astype(np.float64) + b
    want = {None: z, "relu": np.maximum(z, 0), "sigmoid": _sigmoid(z), "tanh": np.tanh(z)}[act]
    y = layer(pycnn.tensor(x))
    assert y.shape == (batch, units)
    close(y.numpy(), want, dtype, scale=10 * n_in)


# ---- files and buffers from someone else: structure-aware mutations ----------------------
# Not byte flips (tests/test_interrupt_and_persistence.py has those, and the zip's CRC catches
# most): each example edits the STRUCTURE of a valid file — a node of the manifest's JSON tree
# set to any JSON value, deleted or nested deep; a weight's .npy header rewritten with any
# shape, dtype, order and version and its data cut or padded; zip entries dropped, added,
# deflated. The contract (tests/fuzz_targets.py): a working model, or ValueError naming the
# file. `make fuzz` also runs the coverage-guided atheris fuzzer on the same targets.
import json as _json          # noqa: E402
import zipfile as _zipfile    # noqa: E402

import fuzz_targets           # noqa: E402

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70)
    | st.sampled_from([0, 1, -1, 2, 3, 10 ** 9, 2 ** 63])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["Dense", "Conv2D", "Sequential", "inspect", "__class__", "os", "relu",
                       "same", "float32", "object", "weights/0000.npy", "", "adam", "m"])
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return fuzz_targets.seed_files(str(tmp_path_factory.mktemp("fuzz_seeds")))


def _manifest_name(ext):
    return "pycnn.json" if ext == ".pycnn" else "config.json"


@FUZZ
@given(ext=st.sampled_from([".pycnn", ".keras"]), data=st.data())
def test_mutated_manifests_load_or_raise_value_error(seeds, tmp_path_factory, ext, data):
    src = seeds[ext]
    entry = _manifest_name(ext)
    with _zipfile.ZipFile(src) as z:
        manifest = _json.loads(z.read(entry))
    paths = fuzz_targets.json_paths(manifest)
    edits = data.draw(st.integers(1, 3), label="edits")
    for _ in range(edits):
        paths = fuzz_targets.json_paths(manifest)
        path = data.draw(st.sampled_from(paths), label="path")
        action = data.draw(st.sampled_from(["set", "set", "delete", "nest"]) if path
                           else st.just("set"), label="action")
        new = data.draw(st.integers(1, 200) if action == "nest" else JSON_VALUES, label="new")
        manifest = fuzz_targets.json_edit(manifest, path, action, new)
    text = _json.dumps(manifest, allow_nan=True).encode()
    dst = str(tmp_path_factory.mktemp("m") / f"mutated{ext}")
    fuzz_targets.rewrite_zip(src, dst, {entry: text})
    fuzz_targets.load_file(dst)


DESCRS = st.sampled_from(["<f4", "<f8", ">f4", "<f2", "<i8", "|u1", "|b1", "|O", "<c16", "|V8",
                          "|S3", "<U2", [("a", "<f4")], "<M8[s]"])


@FUZZ
@given(data=st.data())
def test_mutated_npy_headers_and_zip_entries_load_or_raise_value_error(seeds, tmp_path_factory,
                                                                       data):
    src = seeds[".pycnn"]
    with _zipfile.ZipFile(src) as z:
        names = [n for n in z.namelist() if n.endswith(".npy")]
        target = data.draw(st.sampled_from(names), label="entry")
        original = z.read(target)
    body = original[len(original) - np.lib.format.read_array(
        __import__("io").BytesIO(original)).nbytes:]
    shape = data.draw(st.one_of(
        st.just(np.lib.format.read_array(__import__("io").BytesIO(original)).shape),
        st.lists(st.integers(0, 2 ** 40), max_size=4).map(tuple),
        st.lists(st.integers(0, 6), max_size=4).map(tuple)), label="shape")
    header = fuzz_targets.npy_header(shape, data.draw(DESCRS, label="descr"),
                                     data.draw(st.booleans(), label="fortran"),
                                     data.draw(st.sampled_from([(1, 0), (2, 0)]), label="v"))
    cut = data.draw(st.integers(-len(body), 64), label="cut")
    payload = header + (body[:len(body) + cut] if cut < 0 else body + bytes(cut))
    drop = data.draw(st.lists(st.sampled_from(names), max_size=1), label="drop")
    extra = data.draw(st.lists(st.tuples(st.sampled_from(["pycnn.json", "weights/9999.npy",
                                                          target]),
                                         st.binary(max_size=64)), max_size=1), label="extra")
    compress = data.draw(st.lists(st.sampled_from(names + ["pycnn.json"]), max_size=2),
                         label="deflate")
    dst = str(tmp_path_factory.mktemp("h") / "mutated.pycnn")
    fuzz_targets.rewrite_zip(src, dst, {target: payload}, drop=drop, extra=extra,
                             compress=compress)
    fuzz_targets.load_file(dst)


@FUZZ
@given(data=st.binary(min_size=0, max_size=256))
def test_tensors_from_arbitrary_buffers_hold_their_values_or_raise(data):
    fuzz_targets.tensor_from_bytes(data)
