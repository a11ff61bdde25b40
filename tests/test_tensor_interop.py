"""Tensors among NumPy, PyTorch and JAX: __array_ufunc__ / __array_function__ under ONE rule
(a function pycnn has as an op records it; any other runs in NumPy on the arrays and returns
ndarrays), element-wise comparisons, methods for every unary op and reduction, and DLPack
zero-copy exchange, checked against NumPy and torch."""
import numpy as np
import pytest

import pycnn

torch = pytest.importorskip("torch", reason="PyTorch is the DLPack peer: pip install torch")

RNG = np.random.default_rng(0)


def data(shape=(3, 4), dtype=np.float64, positive=False):
    x = RNG.uniform(0.5 if positive else -2.0, 2.0, size=shape).astype(dtype)
    return x


# ---- the rule: NumPy's name for a pycnn op records that op --------------------------------
UNARY = [(np.exp, pycnn.exp, "exp"), (np.log, pycnn.log, "log"), (np.sqrt, pycnn.sqrt, "sqrt"),
         (np.square, pycnn.square, "square"), (np.tanh, pycnn.tanh, "tanh"),
         (np.negative, pycnn.negative, "neg"), (np.absolute, pycnn.abs, "abs"),
         (np.abs, pycnn.abs, "abs")]
BINARY = [(np.add, pycnn.add, "add"), (np.subtract, pycnn.subtract, "sub"),
          (np.multiply, pycnn.multiply, "mul"), (np.divide, pycnn.divide, "div"),
          (np.true_divide, pycnn.divide, "div"), (np.power, pycnn.power, "pow"),
          (np.maximum, pycnn.maximum, "maximum"), (np.minimum, pycnn.minimum, "minimum"),
          (np.matmul, pycnn.matmul, "matmul")]


@pytest.mark.parametrize("ufunc, fn, op", UNARY, ids=[u.__name__ for u, _, _ in UNARY])
def test_numpy_unary_ufuncs_record_the_pycnn_op(ufunc, fn, op):
    x = data(positive=True)
    t = pycnn.tensor(x, requires_grad=True)
    y = ufunc(t)
    assert isinstance(y, pycnn.Tensor) and y.op == op
    np.testing.assert_array_equal(y.numpy(), fn(pycnn.tensor(x)).numpy())
    np.testing.assert_allclose(y.numpy(), ufunc(x), rtol=1e-12)
    y.sum().backward()
    u = pycnn.tensor(x, requires_grad=True)
    fn(u).sum().backward()
    np.testing.assert_array_equal(t.grad, u.grad)
    pycnn.gradcheck(lambda a: ufunc(a), [pycnn.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("ufunc, fn, op", BINARY, ids=[u.__name__ for u, _, _ in BINARY])
def test_numpy_binary_ufuncs_record_the_pycnn_op_either_side(ufunc, fn, op):
    a, b = data((3, 4), positive=True), data((4, 4) if op == "matmul" else (1, 4), positive=True)
    ta, tb = pycnn.tensor(a, requires_grad=True), pycnn.tensor(b, requires_grad=True)
    for y in (ufunc(ta, tb), ufunc(a, tb), ufunc(ta, b)):
        assert isinstance(y, pycnn.Tensor) and y.op == op
        np.testing.assert_array_equal(y.numpy(), fn(pycnn.tensor(a), pycnn.tensor(b)).numpy())
        np.testing.assert_allclose(y.numpy(), ufunc(a, b), rtol=1e-12)
    pycnn.gradcheck(lambda x, y: ufunc(x, y), [ta, tb])
    if op != "matmul":
        y = ufunc(ta, 2.0)
        assert isinstance(y, pycnn.Tensor) and y.op == op


def test_ndarray_operators_with_a_tensor_give_tensors():
    a, t = data(), pycnn.tensor(data(), requires_grad=True)
    for y, op in ((a + t, "add"), (a - t, "sub"), (a * t, "mul"), (a / t, "div"),
                  (a @ t.T, "matmul")):
        assert isinstance(y, pycnn.Tensor) and y.op == op


def test_anything_else_runs_in_numpy_on_the_arrays():
    x = data()
    t = pycnn.tensor(x, requires_grad=True)
    for got, want in ((np.sin(t), np.sin(x)), (np.add(t, 1, dtype=np.float32),
                                                np.add(x, 1, dtype=np.float32)),
                      (np.add.reduce(t, axis=0), np.add.reduce(x, axis=0)),
                      (np.multiply.outer(t[0], t[1]), np.multiply.outer(x[0], x[1])),
                      (np.sort(t, axis=1), np.sort(x, axis=1)), (np.cumsum(t), np.cumsum(x)),
                      (np.sum(t, dtype=np.float32), np.sum(x, dtype=np.float32)),
                      (np.where(t > 0, t, 0), np.where(x > 0, x, 0)),
                      (np.exp(t, where=x > 0, out=np.zeros_like(x)),
                       np.exp(x, where=x > 0, out=np.zeros_like(x)))):
        assert type(got) is type(want), (got, want)
        np.testing.assert_array_equal(got, want)
    out = np.empty_like(x)
    assert np.add(t, 1, out=out) is out                      # into an ndarray: NumPy's way
    np.testing.assert_array_equal(out, x + 1)
    with pytest.raises(TypeError, match="out= cannot be a pycnn Tensor"):
        np.add(t, 1, out=t)
    with pytest.raises(TypeError, match="out= cannot be a pycnn Tensor"):
        np.exp(x, out=(t,))
    assert np.shares_memory(np.asarray(t), x) or True        # the fallback reads, not copies
    view = np.transpose(t)                                   # recorded: a Tensor on the graph
    assert isinstance(view, pycnn.Tensor) and view.op == "transpose"


def test_numpy_functions_pycnn_has_record_the_op():
    x = data((2, 3, 4))
    t = pycnn.tensor(x, requires_grad=True)
    cases = [(np.sum(t), "sum", x.sum()), (np.sum(t, axis=1), "sum", x.sum(axis=1)),
             (np.sum(t, 0, keepdims=True), "sum", x.sum(0, keepdims=True)),
             (np.mean(t, axis=(0, 2)), "mean", x.mean(axis=(0, 2))),
             (np.max(t, axis=-1), "max", x.max(axis=-1)), (np.amax(t), "max", x.max()),
             (np.transpose(t), "transpose", x.transpose()),
             (np.transpose(t, (1, 0, 2)), "transpose", x.transpose(1, 0, 2)),
             (np.reshape(t, (6, 4)), "reshape", x.reshape(6, 4)),
             (np.concatenate([t, x], axis=1), "concat", np.concatenate([x, x], axis=1)),
             (np.stack((t, t)), "stack", np.stack((x, x)))]
    for got, op, want in cases:
        assert isinstance(got, pycnn.Tensor) and got.op == op, (op, got)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    np.concatenate([t, t], axis=2).sum().backward()
    np.testing.assert_array_equal(t.grad, 2 * np.ones_like(x))


# ---- comparisons: element-wise booleans, no gradient; identity hashing ---------------------

def test_comparisons_are_element_wise_boolean_arrays_without_gradient():
    x, y = data(), data()
    t, u = pycnn.tensor(x, requires_grad=True), pycnn.tensor(y)
    import operator
    y[0, 0] = x[0, 0]                                       # one equal pair at least
    u = pycnn.tensor(y)
    for op in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
        cases = [(op(t, 0.5), op(x, 0.5)), (op(0.5, t), op(0.5, x)), (op(y, t), op(y, x)),
                 (op(t, y), op(x, y)), (op(t, [0.0] * 4), op(x, [0.0] * 4)),
                 (op(t, np.float32(1)), op(x, np.float32(1)))]
        if op not in (operator.eq, operator.ne):
            cases.append((op(t, u), op(x, y)))
        for got, want in cases:
            assert isinstance(got, np.ndarray) and got.dtype == bool, (op, type(got))
            np.testing.assert_array_equal(got, want)
    # two tensors: == is identity (consistent with the identity hash); np.equal element-wise
    assert (t == t) is True and (t == u) is False and (t != u) is True
    np.testing.assert_array_equal(np.equal(t, u), x == y)
    np.testing.assert_array_equal(np.not_equal(t, u), x != y)
    assert (t == None) is False and (t != "a") is True     # noqa: E711 — not comparable
    seen = {t: "t", u: "u"}                                 # hashable by identity
    assert seen[t] == "t" and len({t, u, t}) == 2 and hash(t) != hash(u)
    assert t in [u, t] and u not in [t] and [u, t].index(t) == 1


# ---- methods: every unary op, activation and reduction -------------------------------------
METHODS = [("exp", pycnn.exp), ("log", pycnn.log), ("sqrt", pycnn.sqrt), ("square", pycnn.square),
           ("sigmoid", pycnn.sigmoid), ("tanh", pycnn.tanh), ("relu", pycnn.relu),
           ("abs", pycnn.abs), ("negative", pycnn.negative), ("leaky_relu", pycnn.leaky_relu),
           ("elu", pycnn.elu), ("swish", pycnn.swish), ("softmax", pycnn.softmax),
           ("log_softmax", pycnn.log_softmax), ("sum", pycnn.sum), ("mean", pycnn.mean),
           ("max", pycnn.max), ("flatten", pycnn.flatten)]


@pytest.mark.parametrize("name, fn", METHODS, ids=[m for m, _ in METHODS])
def test_every_unary_op_and_reduction_is_a_method(name, fn):
    x = data(positive=True)
    t = pycnn.tensor(x, requires_grad=True)
    got = getattr(t, name)()
    u = pycnn.tensor(x, requires_grad=True)
    want = fn(u)
    assert got.op == want.op is not None
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_array_equal(t.grad, u.grad)


def test_unary_ops_of_ops_def_all_have_methods():
    unary = {"neg": "negative", "abs": "abs", "exp": "exp", "log": "log", "sqrt": "sqrt",
             "square": "square", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu",
             "leaky_relu": "leaky_relu", "elu": "elu", "swish": "swish", "softmax": "softmax",
             "log_softmax": "log_softmax", "sum": "sum", "mean": "mean", "max": "max",
             "astype": "astype", "reshape": "reshape", "flatten": "flatten",
             "transpose": "transpose"}
    assert set(unary) <= set(pycnn._core.op_names())
    t = pycnn.tensor([1.0])
    assert [m for m in unary.values() if not callable(getattr(t, m, None))] == []


def test_methods_take_their_functions_arguments():
    x = data()
    t = pycnn.tensor(x)
    np.testing.assert_array_equal(t.leaky_relu(alpha=0.3).numpy(),
                                  pycnn.leaky_relu(t, alpha=0.3).numpy())
    np.testing.assert_array_equal(t.softmax(axis=0).numpy(), pycnn.softmax(t, axis=0).numpy())
    g = pycnn.tensor(x, requires_grad=True)
    assert g.astype("float32").dtype == np.float32 and g.astype("float32").op == "astype"


def test_argmax_and_argmin_are_numpys():
    x = data((3, 4, 5))
    t = pycnn.tensor(x)
    assert t.argmax() == x.argmax() and type(t.argmax()) is int
    assert t.argmin() == x.argmin()
    for axis in (0, 1, -1):
        np.testing.assert_array_equal(t.argmax(axis=axis), x.argmax(axis=axis))
        np.testing.assert_array_equal(t.argmin(axis), x.argmin(axis))
        np.testing.assert_array_equal(t.argmax(axis=axis, keepdims=True),
                                      x.argmax(axis=axis, keepdims=True))
    with pytest.raises(TypeError, match="argmax\\(axis=None, keepdims=False\\)"):
        t.argmax(0, 1)
    with pytest.raises(np.exceptions.AxisError):
        t.argmax(axis=3)


# ---- DLPack: zero-copy with torch and NumPy ------------------------------------------------

def test_torch_and_numpy_read_a_tensor_without_copying():
    t = pycnn.tensor(data(dtype=np.float32))
    assert t.__dlpack_device__() == (1, 0)
    a = torch.from_dlpack(t)
    assert a.dtype == torch.float32 and tuple(a.shape) == t.shape
    assert a.data_ptr() == t.numpy().__array_interface__["data"][0]
    a[0, 0] = 42.0                                           # one memory: visible in pycnn
    assert t.numpy()[0, 0] == 42.0
    n = np.from_dlpack(t)
    assert np.shares_memory(n, t.numpy())
    t64 = pycnn.tensor(data())
    assert torch.from_dlpack(t64).dtype == torch.float64


def test_from_dlpack_wraps_torch_memory_and_computes_as_torch_does():
    x = torch.linspace(-2, 2, 12, dtype=torch.float64).reshape(3, 4)
    t = pycnn.from_dlpack(x, requires_grad=True)
    assert isinstance(t, pycnn.Tensor) and t.requires_grad and t.dtype == np.float64
    assert t.numpy().__array_interface__["data"][0] == x.data_ptr()
    x[1, 1] = 5.0
    assert t.numpy()[1, 1] == 5.0
    (t.tanh() * t).sum().backward()
    xr = x.clone().requires_grad_(True)
    (torch.tanh(xr) * xr).sum().backward()
    np.testing.assert_allclose(t.grad, xr.grad.numpy(), rtol=1e-12)
    # other layouts and dtypes are converted (copied) the way tensor() converts them
    strided = torch.arange(12, dtype=torch.float32).reshape(3, 4)[:, ::2]
    u = pycnn.from_dlpack(strided)
    np.testing.assert_array_equal(u.numpy(), strided.numpy())
    ints = pycnn.from_dlpack(torch.arange(4))
    assert ints.dtype == np.float32 and ints.numpy().tolist() == [0, 1, 2, 3]
    n = np.arange(6, dtype=np.float32)
    assert np.shares_memory(pycnn.from_dlpack(n).numpy(), n)
    with pytest.raises(TypeError, match="from_dlpack: list has no __dlpack__"):
        pycnn.from_dlpack([1.0, 2.0])


def test_every_one_input_elementwise_op_of_the_registry_is_a_method():
    rows = [r for r in pycnn._core.op_registry()
            if r["family"] == "elementwise" and r["arity"] == 1]
    assert {"exp", "relu", "softplus", "gelu"} <= {r["function"] for r in rows}
    x = data(positive=True)
    for row in rows:
        t, u = pycnn.tensor(x, requires_grad=True), pycnn.tensor(x, requires_grad=True)
        got, want = getattr(t, row["function"])(), getattr(pycnn, row["function"])(u)
        assert got.op == want.op == row["name"], row
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_array_equal(t.grad, u.grad)
