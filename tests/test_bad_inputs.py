"""Bad input never crashes the interpreter: a clear Python exception, or a sane result.

Every case runs in a child process (tests/crashguard.py): a segfault or a hang fails
THAT case by name and the rest still run. A case either
  * `bad(name, exc, match, fn)`: must raise `exc` with a message matching `match`
    (the message names the op and the numbers), or
  * `survives(name, fn)`: must not crash; it may return (NaN propagates like NumPy)
    or raise anything but SystemError (which means C returned NULL without an error).
"""
import math
import os

import numpy as np
import pytest

import pycnn

import crashguard

CASES = {}
EXPECT = {}


def bad(name, exc, match, fn):
    assert name not in CASES, name
    CASES[name], EXPECT[name] = fn, (exc, match)


def survives(name, fn):
    assert name not in CASES, name
    CASES[name], EXPECT[name] = fn, None


def T(x, **kw):
    return pycnn.tensor(x, **kw)


def grad_leaf(shape=(2, 3), dtype="float32"):
    return pycnn.tensor(np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) / 7 + 0.5,
                        requires_grad=True)


NOT_NUMBERS = {
    "none": None, "str": "abc", "bytes": b"abc", "dict": {"a": 1}, "object": object(),
    "complex": np.array([1 + 2j]), "strings": np.array(["a", "b"]),
    "datetime": np.array(["2020-01-01"], dtype="datetime64[D]"),
    "list_with_none": [1.0, None], "list_with_str": [1.0, "x"],
    "structured": np.zeros(2, dtype=[("a", "f4"), ("b", "f4")]),
}
RAGGED = [[1.0, 2.0], [3.0]]
NASTY_FLOATS = {"nan": np.array([np.nan, 1.0], np.float32),
                "inf": np.array([np.inf, -np.inf, 0.0], np.float32),
                "huge": np.array([3e38, -3e38], np.float32),
                "tiny": np.array([1e-45, -0.0], np.float32)}

# ---- the Tensor constructor -------------------------------------------------------------

for key, value in NOT_NUMBERS.items():
    bad(f"tensor_{key}", TypeError, r"tensor: .*(None|dtype)", lambda v=value: T(v))
bad("tensor_ragged", ValueError, r"tensor: .*(ragged|inhomogeneous)", lambda: T(RAGGED))
bad("tensor_ragged_deep", ValueError, r"tensor: ", lambda: T([[[1.0]], [[1.0, 2.0]]]))
bad("tensor_int_dtype", TypeError, r"tensor: dtype must be float32 or float64, got.*int32",
    lambda: T([1, 2], dtype="int32"))
bad("tensor_unknown_dtype", TypeError, r"not understood|dtype", lambda: T([1], dtype="flot"))
bad("tensor_name_not_str", TypeError, r"tensor: name must be a str, got int",
    lambda: T([1.0], name=5))
bad("tensor_too_many_dims", ValueError, r"tensor: (data has )?40 dimensions, at most 32",
    lambda: T(np.zeros((1,) * 40)))
bad("tensor_huge_python_int", (TypeError, OverflowError), r".", lambda: T([10 ** 400]))
bad("tensor_no_args", TypeError, r"data", lambda: pycnn.Tensor())
bad("tensor_extra_args", TypeError, r"at most|argument", lambda: T([1.0], None, False, "n", 3))
survives("tensor_empty", lambda: T(np.zeros((0, 3))))
survives("tensor_empty_list", lambda: T([]))
survives("tensor_scalar", lambda: T(3.0))
survives("tensor_bool", lambda: T([True, False]))
survives("tensor_float16", lambda: T(np.ones(3, np.float16)))
survives("tensor_longdouble", lambda: T(np.ones(3, np.longdouble)))
survives("tensor_readonly", lambda: T(np.broadcast_to(np.ones(3), (4, 3))))
survives("tensor_noncontiguous", lambda: T(np.ones((4, 6))[::2, ::3]))
survives("tensor_matrix_subclass", lambda: T(np.matrix([[1.0, 2.0]])) * 2)
for key, value in NASTY_FLOATS.items():
    survives(f"tensor_{key}", lambda v=value: T(v))

# ---- element-wise ops -------------------------------------------------------------------

BINARY = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum"]
UNARY = ["negative", "abs", "exp", "log", "sqrt", "square", "sigmoid", "tanh", "relu"]

for op in BINARY:
    f = getattr(pycnn, op)
    opname = {"subtract": "sub", "multiply": "mul", "divide": "div", "power": "pow"}.get(op, op)
    bad(f"{op}_no_broadcast", ValueError,
        rf"{opname}: shapes \(2, 3\) and \(4,\) cannot broadcast",
        lambda f=f: f(grad_leaf((2, 3)), np.ones(4)))
    bad(f"{op}_no_broadcast_rank", ValueError, rf"{opname}: shapes \(2, 3, 4\) and \(2, 1\)",
        lambda f=f: f(np.ones((2, 3, 4)), np.ones((2, 1))))
    bad(f"{op}_one_arg", TypeError, rf"{op}\(\) takes 2 arguments \(1 given\)",
        lambda f=f: f(np.ones(2)))
    bad(f"{op}_three_args", TypeError, rf"{op}\(\) takes 2 arguments \(3 given\)",
        lambda f=f: f(1.0, 2.0, 3.0))
    bad(f"{op}_ragged", ValueError, rf"{opname}: ", lambda f=f: f(RAGGED, 1.0))
    bad(f"{op}_too_many_dims", ValueError, rf"{opname}: (data has )?40 dimensions, at most 32",
        lambda f=f: f(np.zeros((1,) * 40), 1.0))
    for key, value in NOT_NUMBERS.items():
        bad(f"{op}_{key}", TypeError, rf"{opname}: .*(None|dtype)",
            lambda f=f, v=value: f(grad_leaf(), v))
    survives(f"{op}_empty", lambda f=f: f(np.zeros((0, 3)), np.ones(3)))
    survives(f"{op}_empty_backward", lambda f=f: f(grad_leaf((0, 3)), np.ones(3)).backward(
        np.zeros((0, 3))))
    for key, value in NASTY_FLOATS.items():
        survives(f"{op}_{key}_backward",
                 lambda f=f, v=value: f(T(v, requires_grad=True), T(v[::-1].copy())).backward(
                     np.ones(v.shape)))
    survives(f"{op}_mixed_dtypes_backward", lambda f=f: f(
        grad_leaf(dtype="float32"), grad_leaf(dtype="float64")).backward(np.ones((2, 3))))
    survives(f"{op}_scalar_and_empty", lambda f=f: f(T(2.0, requires_grad=True),
                                                     np.zeros((0,))).backward(np.zeros(0)))

for op in UNARY:
    f = getattr(pycnn, op)
    opname = {"negative": "neg"}.get(op, op)
    for key, value in NOT_NUMBERS.items():
        bad(f"{op}_{key}", TypeError, rf"{opname}: .*(None|dtype)", lambda f=f, v=value: f(v))
    bad(f"{op}_ragged", ValueError, rf"{opname}: ", lambda f=f: f(RAGGED))
    bad(f"{op}_no_args", TypeError, r"argument", lambda f=f: f())
    survives(f"{op}_empty", lambda f=f: f(np.zeros((3, 0, 2))))
    survives(f"{op}_empty_backward", lambda f=f: f(grad_leaf((0, 4))).backward(np.zeros((0, 4))))
    for key, value in NASTY_FLOATS.items():
        survives(f"{op}_{key}_backward",
                 lambda f=f, v=value: f(T(v, requires_grad=True)).backward(np.ones(v.shape)))

bad("operator_add_str", TypeError, r"add: .*dtype", lambda: grad_leaf() + "abc")
bad("operator_radd_none", TypeError, r"add: .*None", lambda: None + grad_leaf())
bad("operator_pow_modulus", TypeError, r"pow: a modulus is not supported",
    lambda: pow(grad_leaf(), 2, 3))
bad("operator_matrix_mismatch_numpy_left", ValueError, r"mul: shapes",
    lambda: np.ones((4, 5)) * grad_leaf())

# ---- Tensor attributes and methods ------------------------------------------------------

bad("backward_without_requires_grad", RuntimeError, r"backward: this tensor does not require grad",
    lambda: T([1.0]).backward())
bad("backward_under_no_grad", RuntimeError, r"does not require grad",
    lambda: _under_no_grad(lambda: (grad_leaf((1,)) * 2).backward()))
bad("backward_non_scalar_no_grad", RuntimeError,
    r"backward: grad can be omitted only for a tensor with one element; .*\(2, 3\)",
    lambda: (grad_leaf() * 2).backward())
bad("backward_empty_no_grad", RuntimeError, r"one element; .*\(0,\)",
    lambda: (grad_leaf((0,)) * 2).backward())
bad("backward_grad_wrong_shape", ValueError,
    r"backward: grad has shape \(3, 2\) but the tensor has shape \(2, 3\)",
    lambda: (grad_leaf() * 2).backward(np.ones((3, 2))))
bad("backward_grad_str", TypeError, r"backward: .*dtype", lambda: (grad_leaf() * 2).backward("x"))
bad("backward_grad_ragged", ValueError, r"backward: ", lambda: (grad_leaf() * 2).backward(RAGGED))
bad("backward_twice", RuntimeError, r"already freed.*retain_graph=True",
    lambda: _twice(lambda: pycnn.exp(grad_leaf((1,)))))
bad("backward_twice_binary_chain", RuntimeError, r"graph through '(mul|exp)' was already freed",
    lambda: _twice(lambda: pycnn.exp(grad_leaf((1,))) * 3.0))
survives("backward_grad_nan", lambda: (grad_leaf() * 2).backward(np.full((2, 3), np.nan)))
survives("backward_retain_twice", lambda: _twice(lambda: pycnn.exp(grad_leaf((1,))), True))
survives("backward_deep_chain", lambda: _chain(20000))
survives("drop_deep_chain_without_backward", lambda: _chain(200000, backward=False))
bad("set_grad_wrong_shape", ValueError, r"grad: shape \(3,\) does not match the tensor's shape "
    r"\(2, 3\)", lambda: setattr(grad_leaf(), "grad", np.ones(3)))
bad("set_grad_str", TypeError, r"grad: .*dtype", lambda: setattr(grad_leaf(), "grad", "abc"))
bad("set_requires_grad_non_leaf", RuntimeError, r"requires_grad can only be set on a leaf",
    lambda: setattr(grad_leaf() * 2, "requires_grad", False))
bad("del_requires_grad", AttributeError, r"requires_grad cannot be deleted",
    lambda: delattr(grad_leaf(), "requires_grad"))
bad("set_shape", AttributeError, r"shape|not writable", lambda: setattr(grad_leaf(), "shape", (6,)))
bad("set_name_int", TypeError, r"name must be a str or None",
    lambda: setattr(grad_leaf(), "name", 3))
bad("item_of_many", ValueError, r"item: only a tensor with one element .*has 6",
    lambda: grad_leaf().item())
bad("item_of_empty", ValueError, r"has 0", lambda: grad_leaf((0,)).item())
bad("float_of_many", ValueError, r"one element", lambda: float(grad_leaf()))
bad("bool_of_many", ValueError, r"truth value of a tensor with more than one element",
    lambda: bool(grad_leaf()))
bad("astype_int", TypeError, r"astype: dtype must be float32 or float64, got.*int64",
    lambda: grad_leaf().astype("int64"))
bad("astype_none", TypeError, r"astype: dtype must be float32 or float64, got None",
    lambda: grad_leaf().astype(None))
bad("astype_garbage", TypeError, r".", lambda: grad_leaf().astype(object()))
survives("array_dtype_str", lambda: grad_leaf().__array__("U8"))
survives("astype_backward", lambda: grad_leaf().astype("float64").backward(np.ones((2, 3))))
survives("repr_of_empty_and_nan", lambda: repr(T(np.zeros((0, 3)))) + repr(T([np.nan])))
survives("repr_of_big", lambda: repr(T(np.ones((200, 200)))))


def _numpy_view_reshaped_then_backward():
    a = np.ones((4, 1), np.float32)
    t = T(a, requires_grad=True)
    y = t + T(np.ones((1, 4), np.float32))
    a.shape = (2, 2)                    # the caller's array object may change shape...
    t.numpy().shape = (1, 4)            # ...and so may any array handed out
    y.backward(np.ones((4, 4)))
    assert t.shape == (4, 1) and t.grad.shape == (4, 1)
    np.testing.assert_array_equal(t.grad.numpy(), np.full((4, 1), 4.0))


def _numpy_view_dtype_changed_then_backward():
    a = np.ones(4, np.float64)
    t = T(a, requires_grad=True)
    y = pycnn.exp(t)
    a.dtype = np.float32                # same bytes, now 8 float32
    np.asarray(t).dtype = np.float32
    y.backward(np.ones(4))
    assert t.dtype == np.float64 and t.grad.shape == (4,)


survives("numpy_view_reshaped_then_backward", _numpy_view_reshaped_then_backward)
survives("numpy_view_dtype_changed_then_backward", _numpy_view_dtype_changed_then_backward)

# ---- gradcheck and no_grad --------------------------------------------------------------

bad("gradcheck_returns_array", TypeError, r"gradcheck: fn must return a Tensor, got ndarray",
    lambda: pycnn.gradcheck(lambda x: np.ones(2), [np.ones(2)]))
bad("gradcheck_float32_input", TypeError, r"gradcheck: input 0 is float32",
    lambda: pycnn.gradcheck(pycnn.exp, [T([1.0])]))
bad("gradcheck_wrong_gradient", pycnn.GradcheckError, r"gradcheck: input 0 .* analytic",
    lambda: pycnn.gradcheck(lambda x: x * T(np.ones(2)).detach() + x.detach() * x.detach(),
                            [np.ones(2)]))
bad("gradcheck_ragged", ValueError, r".", lambda: pycnn.gradcheck(pycnn.exp, [RAGGED]))


def _under_no_grad(fn):
    with pycnn.no_grad():
        return fn()


def _twice(make, retain=False):
    y = make()
    y.backward(np.ones(y.shape), retain_graph=retain)
    y.backward(np.ones(y.shape))


def _chain(n, backward=True):
    x = pycnn.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    if backward:
        y.backward()
        assert math.isclose(x.grad.item(), 1.0)


# ---- the checks -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def outcomes():
    return crashguard.run_cases(os.path.abspath(__file__), CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, outcomes):
    got = outcomes[name]
    assert got["status"] not in ("crash", "hang"), f"{name}: {got}"
    if got["status"] == "raised":
        assert "SystemError" not in got["mro"], f"{name}: C returned NULL without an error: {got}"
    expect = EXPECT[name]
    if expect is None:
        if got["status"] == "raised":
            assert got["type"] not in ("AssertionError",), f"{name}: {got['message']}"
        return
    exc, match = expect
    excs = exc if isinstance(exc, tuple) else (exc,)
    assert got["status"] == "raised", f"{name}: expected {exc}, but it returned"
    assert any(e.__name__ in got["mro"] for e in excs), f"{name}: raised {got['type']}: " \
                                                         f"{got['message']}"
    assert __import__("re").search(match, got["message"]), \
        f"{name}: message {got['message']!r} does not match {match!r}"


@pytest.mark.skipif(crashguard.INPROCESS, reason="in-process mode (sanitizer runs) runs cases "
                    "inside the instrumented process, where a segfault ends the run")
def test_a_crash_is_reported_as_that_case(tmp_path):
    """The guard itself: a segfaulting case fails by name and later cases still run."""
    cases = tmp_path / "cases.py"
    cases.write_text(
        "import ctypes, time\n"
        "CASES = {'fine': lambda: 1, 'segv': lambda: ctypes.string_at(0),\n"
        "         'raises': lambda: int('x'), 'after': lambda: 2,\n"
        "         'hangs': lambda: time.sleep(60), 'last': lambda: 3}\n")
    got = crashguard.run_cases(str(cases), ["fine", "segv", "raises", "after", "hangs", "last"],
                               timeout=3.0)
    assert got["fine"] == {"status": "ok"} and got["after"] == {"status": "ok"}
    assert got["segv"]["status"] == "crash" and got["segv"]["signal"] == "SIGSEGV"
    assert got["raises"]["type"] == "ValueError"
    assert got["hangs"]["status"] == "hang" and got["last"] == {"status": "ok"}
