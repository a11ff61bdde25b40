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
import pycnn.optimizers

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
survives("tensor_matrix_subclass", lambda: T(np.asmatrix(np.ones((1, 2)))) * 2)
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

# ---- reductions, structure, indexing, matmul -------------------------------------------

for red in ("sum", "mean", "max"):
    f = getattr(pycnn, red)
    bad(f"{red}_axis_out_of_range", IndexError, rf"{red}: axis 5 is out of range for 2 axes",
        lambda f=f: f(grad_leaf(), axis=5))
    bad(f"{red}_axis_negative_out_of_range", IndexError, rf"{red}: axis -3 is out of range",
        lambda f=f: f(grad_leaf(), axis=-3))
    bad(f"{red}_axis_twice", ValueError, rf"{red}: axis 0 appears twice",
        lambda f=f: f(grad_leaf(), axis=(0, 0)))
    bad(f"{red}_axis_str", TypeError, rf"{red}: axis must be None, an int or a tuple of ints, "
        r"got str", lambda f=f: f(grad_leaf(), axis="0"))
    bad(f"{red}_axis_float", TypeError, rf"{red}: axis must be", lambda f=f: f(grad_leaf(), axis=1.0))
    bad(f"{red}_axis_huge", (OverflowError, IndexError), r".", lambda f=f: f(grad_leaf(), axis=2**70))
    bad(f"{red}_none", TypeError, rf"{red}: .*None", lambda f=f: f(None))
    bad(f"{red}_str", TypeError, rf"{red}: .*dtype", lambda f=f: f("abc"))
    survives(f"{red}_empty_inner_axis", lambda f=f: f(grad_leaf((0, 3)), axis=1))
    for key, value in NASTY_FLOATS.items():
        survives(f"{red}_{key}_backward",
                 lambda f=f, v=value: f(T(v, requires_grad=True)).backward())
bad("max_of_empty", ValueError, r"max: the reduced axes \(axis=None\) of shape \(0, 3\) hold no "
    r"elements", lambda: pycnn.max(grad_leaf((0, 3))))
bad("max_of_empty_axis", ValueError, r"max: .*\(axis=0\) of shape \(0, 3\)",
    lambda: pycnn.max(grad_leaf((0, 3)), axis=0))
survives("mean_of_empty", lambda: pycnn.mean(grad_leaf((0, 3))).backward())
survives("sum_of_empty_backward", lambda: pycnn.sum(grad_leaf((0, 3))).backward())

bad("reshape_wrong_size", ValueError, r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 "
    r"elements\) into shape \(4, 2\)", lambda: grad_leaf().reshape(4, 2))
bad("reshape_two_unknown", ValueError, r"only one size may be -1", lambda: grad_leaf().reshape(-1, -1))
bad("reshape_negative", ValueError, r"sizes must be >= 0", lambda: grad_leaf().reshape(-2, 3))
bad("reshape_zero", ValueError, r"\(0, 6\).*number of elements differs",
    lambda: grad_leaf().reshape(0, 6))
bad("reshape_overflowing_product", ValueError, r"reshape: .*4611686018427387904",
    lambda: grad_leaf().reshape(2 ** 62, 2 ** 62))
bad("reshape_overflowing_product_of_empty", ValueError, r"reshape",
    lambda: pycnn.reshape(T(np.zeros(0)), (2 ** 62, 2 ** 62, 0)))
bad("reshape_overflowing_with_unknown", ValueError, r"reshape",
    lambda: grad_leaf().reshape(-1, 2 ** 62, 4))
bad("reshape_too_big_int", (OverflowError, ValueError), r".", lambda: grad_leaf().reshape(2 ** 70))
bad("reshape_str", TypeError, r"reshape: shape must be an int or a tuple of ints, got str",
    lambda: grad_leaf().reshape("6"))
bad("reshape_none", TypeError, r"reshape: shape must be", lambda: grad_leaf().reshape(None))
bad("reshape_float", TypeError, r"reshape: sizes must be ints, got float",
    lambda: grad_leaf().reshape(2.0, 3))
bad("reshape_40_axes", ValueError, r"reshape: .*too many axes",
    lambda: T(np.zeros(1)).reshape(*(1,) * 40))
bad("reshape_unknown_of_empty", ValueError, r"-1 cannot be inferred",
    lambda: T(np.zeros((0, 3))).reshape(-1, 0))
bad("transpose_repeated_axis", ValueError, r"transpose: axis 0 appears twice",
    lambda: grad_leaf().transpose(0, 0))
bad("transpose_axis_out_of_range", IndexError, r"transpose: axis 5 is out of range",
    lambda: grad_leaf().transpose(0, 5))
bad("transpose_too_few_axes", ValueError, r"transpose: axes \(0,\) do not match the 2 axes",
    lambda: grad_leaf().transpose(0))
bad("transpose_str", TypeError, r"transpose: axes must be ints, got str",
    lambda: grad_leaf().transpose("a", "b"))
survives("flatten_0d", lambda: pycnn.flatten(T(1.0, requires_grad=True)).backward(np.ones(1)))
bad("flatten_none", TypeError, r"flatten: .*None", lambda: pycnn.flatten(None))

for join in ("concat", "stack"):
    f = getattr(pycnn, join)
    bad(f"{join}_nothing", ValueError, rf"{join}: needs at least one tensor, got none",
        lambda f=f: f([]))
    bad(f"{join}_shape_mismatch", ValueError, rf"{join}: tensor 1 has shape \(2, 4\) but tensor 0 "
        r"has shape \(2, 3\)", lambda f=f: f([grad_leaf((2, 3)), grad_leaf((2, 4))]))
    bad(f"{join}_rank_mismatch", ValueError, rf"{join}: tensor 1 has shape \(2,\)",
        lambda f=f: f([grad_leaf((2, 3)), grad_leaf((2,))]))
    bad(f"{join}_axis_out_of_range", IndexError, rf"{join}: axis 4 is out of range",
        lambda f=f: f([grad_leaf(), grad_leaf()], axis=4))
    bad(f"{join}_one_tensor_not_list", TypeError, rf"{join}: expected a list or tuple of tensors",
        lambda f=f: f(grad_leaf()))
    bad(f"{join}_none", TypeError, rf"{join}: expected a list or tuple", lambda f=f: f(None))
    bad(f"{join}_strings", TypeError, rf"{join}: .*dtype", lambda f=f: f(["a", "b"]))
    bad(f"{join}_ragged_member", ValueError, rf"{join}: ", lambda f=f: f([RAGGED, RAGGED]))
    survives(f"{join}_mixed_dtypes_backward", lambda f=f: f(
        [grad_leaf(dtype="float32"), grad_leaf(dtype="float64")]).backward(
        np.ones((4, 3) if f is pycnn.concat else (2, 2, 3))))
    survives(f"{join}_empty_members", lambda f=f: f([grad_leaf((0, 3)), grad_leaf((0, 3))]))
bad("concat_0d", ValueError, r"concat: 0-d tensors cannot be concatenated",
    lambda: pycnn.concat([T(1.0), T(2.0)]))
bad("stack_33_axes", ValueError, r"stack: the result would have 33 axes, at most 32",
    lambda: pycnn.stack([T(np.zeros((1,) * 32))] * 2))

bad("index_out_of_range", IndexError, r"getitem: index 5 is invalid for a tensor of shape \(2, 3\)",
    lambda: grad_leaf()[5])
bad("index_str", IndexError, r"getitem: index 'a' is invalid", lambda: grad_leaf()["a"])
bad("index_float", IndexError, r"getitem: index 1.5 is invalid", lambda: grad_leaf()[1.5])
bad("index_list_out_of_range", IndexError, r"getitem: index \[0, 7\] is invalid",
    lambda: grad_leaf()[[0, 7]])
bad("index_bool_wrong_length", IndexError, r"getitem: .*boolean index did not match",
    lambda: grad_leaf()[np.array([True])])
bad("index_two_ellipses", IndexError, r"getitem: .*single ellipsis", lambda: grad_leaf()[..., ...])
bad("index_too_many", IndexError, r"getitem: .*too many indices", lambda: grad_leaf()[0, 0, 0])
bad("index_assignment", TypeError, r"does not support item assignment",
    lambda: grad_leaf().__setitem__(0, 1.0) if hasattr(pycnn.Tensor, "__setitem__")
    else _assign_item(grad_leaf()))
survives("index_repeated_backward", lambda: grad_leaf()[[0, 0, 1]].backward(np.ones((3, 3))))
survives("index_empty_slice_backward", lambda: grad_leaf()[5:].backward(np.zeros((0, 3))))
survives("index_negative_step_backward", lambda: grad_leaf()[::-1, ::-2].backward(np.ones((2, 2))))

bad("matmul_inner_mismatch", ValueError, r"matmul: shapes \(2, 3\) and \(2, 3\) do not align: 3 "
    r"\(last axis of the first\) != 2", lambda: grad_leaf((2, 3)) @ grad_leaf((2, 3)))
bad("matmul_0d", ValueError, r"matmul: shapes \(\) and \(\) cannot be multiplied",
    lambda: T(1.0) @ T(2.0))
bad("matmul_batch_mismatch", ValueError, r"matmul: shapes \(2, 2, 3\) and \(3, 3, 4\) have batch "
    r"axes that cannot broadcast", lambda: grad_leaf((2, 2, 3)) @ grad_leaf((3, 3, 4)))
bad("matmul_str", TypeError, r"matmul: .*dtype", lambda: grad_leaf() @ "a")
bad("matmul_none", TypeError, r"matmul: .*None", lambda: pycnn.matmul(grad_leaf(), None))
bad("matmul_one_arg", TypeError, r"matmul", lambda: pycnn.matmul(grad_leaf()))
survives("matmul_empty_rows_backward",
         lambda: (grad_leaf((0, 3)) @ grad_leaf((3, 4))).backward(np.zeros((0, 4))))
survives("matmul_empty_inner_backward",
         lambda: (grad_leaf((2, 0)) @ grad_leaf((0, 4))).backward(np.ones((2, 4))))
survives("matmul_vectors_backward", lambda: (grad_leaf((3,)) @ grad_leaf((3,))).backward())
survives("matmul_mixed_dtypes_backward", lambda: (grad_leaf((2, 3)) @ grad_leaf(
    (3, 2), dtype="float64")).backward(np.ones((2, 2))))
survives("matmul_nan_backward", lambda: (T(np.full((2, 3), np.nan), requires_grad=True)
                                         @ grad_leaf((3, 2))).backward(np.ones((2, 2))))

# ---- activations ---------------------------------------------------------------------------

for act in ("softmax", "log_softmax", "naive_normalize"):
    f = getattr(pycnn, act)
    bad(f"{act}_axis_out_of_range", (IndexError, ValueError), rf"{act}: axis 2 is out of range",
        lambda f=f: f(grad_leaf(), axis=2))
    bad(f"{act}_axis_str", TypeError, rf"{act}: axis must be an int, got 'x'",
        lambda f=f: f(grad_leaf(), axis="x"))
    bad(f"{act}_0d", (ValueError, IndexError), rf"{act}", lambda f=f: f(T(1.0)))
    bad(f"{act}_none", TypeError, rf"{act}: .*None", lambda f=f: f(None))
    survives(f"{act}_empty_backward", lambda f=f: f(grad_leaf((0, 3))).backward(np.zeros((0, 3))))
    survives(f"{act}_empty_axis_backward",
             lambda f=f: f(grad_leaf((3, 0))).backward(np.zeros((3, 0))))
    for key, value in NASTY_FLOATS.items():
        survives(f"{act}_{key}_backward",
                 lambda f=f, v=value: f(T(v, requires_grad=True)).backward(np.ones(v.shape)))
for act in ("leaky_relu", "elu", "swish"):
    f = getattr(pycnn, act)
    bad(f"{act}_str", TypeError, rf"{act}: .*dtype", lambda f=f: f("abc"))
    bad(f"{act}_alpha_str", TypeError,
        rf"{act}: (alpha must be a number, got 'x'|cannot make a tensor from data of dtype)",
        lambda f=f: f(grad_leaf(), "x"))
    survives(f"{act}_empty_backward", lambda f=f: f(grad_leaf((0, 2))).backward(np.zeros((0, 2))))
    for key, value in NASTY_FLOATS.items():
        survives(f"{act}_{key}_backward",
                 lambda f=f, v=value: f(T(v, requires_grad=True)).backward(np.ones(v.shape)))
bad("swish_beta_tensor_of_many", ValueError, r"swish: .*beta",
    lambda: pycnn.swish(grad_leaf(), grad_leaf((2,))))
bad("maxout_pieces_do_not_divide", ValueError, r"maxout: .*3.*2|maxout: .*2.*3",
    lambda: pycnn.maxout(grad_leaf((2, 3)), 2))
bad("maxout_zero_pieces", ValueError, r"maxout: .*pieces", lambda: pycnn.maxout(grad_leaf((2, 4)), 0))
bad("maxout_negative_pieces", ValueError, r"maxout: .*pieces",
    lambda: pycnn.maxout(grad_leaf((2, 4)), -2))
bad("maxout_axis_out_of_range", (IndexError, ValueError), r"maxout: axis 3 is out of range",
    lambda: pycnn.maxout(grad_leaf((2, 4)), 2, axis=3))
bad("maxout_huge_pieces", (ValueError, OverflowError), r"maxout|pieces",
    lambda: pycnn.maxout(grad_leaf((2, 4)), 2 ** 62))
bad("activations_get_unknown", ValueError, r"relux|unknown", lambda: pycnn.activations.get("relux"))
bad("activations_get_number", (TypeError, ValueError), r".", lambda: pycnn.activations.get(3))

# ---- losses --------------------------------------------------------------------------------

LOSSES = ["squared_error", "mean_squared_error", "categorical_crossentropy",
          "binary_crossentropy", "multilabel_crossentropy"]
PROBS = np.array([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]], np.float32)
ONEHOT = np.array([[0, 0, 1], [0, 1, 0]], np.float32)

for name in LOSSES:
    f = getattr(pycnn.losses, name)
    bad(f"loss_{name}_shape_mismatch", ValueError, r"\(2, 3\).*\(2, 4\)|\(2, 4\).*\(2, 3\)",
        lambda f=f: f(np.zeros((2, 4)), T(PROBS, requires_grad=True)))
    bad(f"loss_{name}_batch_mismatch", ValueError, r"\(3, 3\).*\(2, 3\)|\(2, 3\).*\(3, 3\)",
        lambda f=f: f(np.zeros((3, 3)), T(PROBS, requires_grad=True)))
    bad(f"loss_{name}_none", TypeError, r"None", lambda f=f: f(None, T(PROBS)))
    bad(f"loss_{name}_str", TypeError, r"dtype", lambda f=f: f(ONEHOT, "abc"))
    bad(f"loss_{name}_reduction", ValueError, r"reduction.*'average'|'average'.*reduction",
        lambda f=f: f(ONEHOT, T(PROBS), reduction="average"))
    survives(f"loss_{name}_empty_batch", lambda f=f: f(np.zeros((0, 3)), T(np.zeros(
        (0, 3), np.float32), requires_grad=True)).backward())
    survives(f"loss_{name}_nan", lambda f=f: f(ONEHOT, T(np.full((2, 3), np.nan, np.float32),
                                                          requires_grad=True)).backward())
    survives(f"loss_{name}_probabilities_at_0_and_1", lambda f=f: f(ONEHOT, T(
        ONEHOT[::-1].copy(), requires_grad=True)).backward())
bad("loss_sparse_label_out_of_range", (ValueError, IndexError), r"3|label|class",
    lambda: pycnn.losses.sparse_categorical_crossentropy(np.array([0, 3]), T(PROBS)))
bad("loss_sparse_label_negative", (ValueError, IndexError), r"-1|label|class",
    lambda: pycnn.losses.sparse_categorical_crossentropy(np.array([0, -1]), T(PROBS)))
bad("loss_sparse_label_fraction", (ValueError, TypeError), r"0.5|integer|label",
    lambda: pycnn.losses.sparse_categorical_crossentropy(np.array([0, 0.5]), T(PROBS)))
bad("loss_sparse_label_nan", (ValueError, TypeError), r"nan|integer|label",
    lambda: pycnn.losses.sparse_categorical_crossentropy(np.array([0, np.nan]), T(PROBS)))
bad("loss_sparse_label_huge", (ValueError, IndexError, OverflowError), r".",
    lambda: pycnn.losses.sparse_categorical_crossentropy(np.array([0, 2 ** 62]), T(PROBS)))
bad("loss_sparse_batch_mismatch", ValueError, r"3.*2|2.*3",
    lambda: pycnn.losses.sparse_categorical_crossentropy(np.array([0, 1, 2]), T(PROBS)))
bad("loss_sparse_str_labels", TypeError, r"dtype|label",
    lambda: pycnn.losses.sparse_categorical_crossentropy(np.array(["a", "b"]), T(PROBS)))
survives("loss_sparse_ignore_all", lambda: pycnn.losses.sparse_categorical_crossentropy(
    np.array([1, 1]), T(PROBS, requires_grad=True), ignore_index=1).backward())
bad("loss_get_unknown", ValueError, r"mean_squared_eror", lambda: pycnn.losses.get("mean_squared_eror"))
bad("loss_get_number", (TypeError, ValueError), r".", lambda: pycnn.losses.get(3))
bad("loss_yolo_wrong_last_axis", ValueError, r"yolo",
    lambda: pycnn.losses.yolo_loss(np.zeros((1, 7, 7, 30)), T(np.zeros((1, 7, 7, 29)))))
bad("loss_yolo_zero_grid", ValueError, r"yolo|S",
    lambda: pycnn.losses.yolo_loss(np.zeros((1, 0, 0, 30)), T(np.zeros((1, 0, 0, 30))), S=0))
bad("loss_yolo_negative_boxes", ValueError, r"yolo|B",
    lambda: pycnn.losses.yolo_loss(np.zeros((1, 7, 7, 30)), T(np.zeros((1, 7, 7, 30))), B=-1))
survives("loss_yolo_nan", lambda: pycnn.losses.yolo_loss(
    np.zeros((1, 7, 7, 30)), T(np.full((1, 7, 7, 30), np.nan), requires_grad=True)).backward())

# ---- layers --------------------------------------------------------------------------------

L = pycnn.layers
bad("dense_zero_units", ValueError, r"Dense: units must be .*0|units.*0",
    lambda: L.Dense(0))
bad("dense_negative_units", ValueError, r"units.*-3", lambda: L.Dense(-3))
bad("dense_units_str", (TypeError, ValueError), r"Dense: units must be a positive integer, got '10'",
    lambda: L.Dense("10"))
bad("dense_units_float", (TypeError, ValueError), r"Dense: units .* got 2.5", lambda: L.Dense(2.5))
bad("dense_units_huge", (ValueError, OverflowError, MemoryError), r".",
    lambda: L.Dense(2 ** 62)(np.ones((1, 4))))
bad("dense_units_huge_times_input", (ValueError, OverflowError, MemoryError), r".",
    lambda: L.Dense(2 ** 40)(np.ones((1, 2 ** 24), np.float32)[:, :2 ** 24]))
bad("dense_unknown_activation", ValueError, r"relux", lambda: L.Dense(3, activation="relux"))
bad("dense_unknown_initializer", ValueError, r"glorot_unifrm",
    lambda: L.Dense(3, kernel_initializer="glorot_unifrm"))
# found by tools/fuzz_atheris.py: a config dict without class_name read a NULL pointer
bad("dense_initializer_dict_without_class_name", ValueError, r"bias_initializer \{'~': None\}",
    lambda: L.Dense(3, bias_initializer={"~": None}))
bad("conv2d_initializer_dict_without_class_name", ValueError, r"kernel_initializer",
    lambda: L.Conv2D(3, 2, kernel_initializer={"config": {"value": 1.0}}))
bad("dense_input_features_mismatch", ValueError, r"dense.*4.*5|dense.*5.*4",
    lambda: _built(L.Dense(3), (2, 4))(np.ones((2, 5))))
bad("dense_0d_input", ValueError, r"dense|Dense", lambda: L.Dense(3)(T(1.0)))
bad("dense_str_input", TypeError, r"dtype", lambda: L.Dense(3)("abc"))
bad("dense_none_input", TypeError, r"None", lambda: L.Dense(3)(None))
bad("dense_set_weights_wrong_shape", ValueError, r"\(4, 3\).*\(3, 4\)|\(3, 4\).*\(4, 3\)",
    lambda: _built(L.Dense(3), (2, 4)).set_weights([np.ones((3, 4)), np.ones(3)]))
bad("dense_set_weights_wrong_count", ValueError, r"2.*1|1.*2",
    lambda: _built(L.Dense(3), (2, 4)).set_weights([np.ones((4, 3))]))
bad("dense_set_weights_str", (TypeError, ValueError), r".",
    lambda: _built(L.Dense(3), (2, 4)).set_weights(["a", "b"]))
bad("dense_build_bad_shape", (ValueError, TypeError), r".", lambda: L.Dense(3).build((None,)))
bad("dense_build_zero_features", ValueError, r"0", lambda: L.Dense(3).build((None, 0)))
bad("dense_from_config_garbage", (TypeError, ValueError, KeyError), r".",
    lambda: L.Dense.from_config({"units": "x"}))
survives("dense_empty_batch_backward", lambda: _sum(L.Dense(3)(grad_leaf((0, 4)))).backward())
survives("dense_nan_input_backward", lambda: _sum(L.Dense(3, activation="relu")(
    T(np.full((2, 4), np.nan), requires_grad=True))).backward())
survives("dense_float64_after_float32", lambda: _twice_dtypes(L.Dense(3)))
bad("dropout_rate_1", ValueError, r"rate", lambda: L.Dropout(1.0))
bad("dropout_rate_negative", ValueError, r"rate", lambda: L.Dropout(-0.1))
bad("dropout_rate_nan", ValueError, r"rate", lambda: L.Dropout(float("nan")))
bad("dropout_rate_str", TypeError, r"Dropout: rate must be a number, got 'half'",
    lambda: L.Dropout("half"))
bad("dropout_fn_rate_2", ValueError, r"rate", lambda: pycnn.dropout(grad_leaf(), 2.0))
survives("dropout_empty_backward", lambda: _sum(pycnn.dropout(grad_leaf((0, 3)), 0.5, True)).backward())
bad("maxout_layer_zero_units", ValueError, r"units", lambda: L.Maxout(0))
bad("maxout_layer_zero_pieces", ValueError, r"pieces", lambda: L.Maxout(3, pieces=0))
bad("flatten_layer_0d", ValueError, r"flatten|Flatten", lambda: L.Flatten()(T(1.0)))
survives("flatten_layer_empty_batch", lambda: L.Flatten()(np.zeros((0, 2, 3))))
bad("layer_call_training_str", (TypeError, ValueError), r".",
    lambda: L.Dropout(0.5)(grad_leaf(), training="yes please") and _raise_type())
bad("set_seed_str", TypeError, r".", lambda: pycnn.set_seed("x"))
survives("set_seed_negative", lambda: pycnn.set_seed(-1))
survives("set_seed_huge", lambda: pycnn.set_seed(2 ** 80))

# ---- convolution, pooling, image layers --------------------------------------------------

IMG = np.ones((1, 5, 5, 1), np.float32)
BIG = 2 ** 63 - 1
bad("conv_kernel_larger_than_input", ValueError, r"kernel 7x7 is larger than the 5x5 input",
    lambda: L.Conv2D(2, 7)(IMG))
survives("conv_kernel_larger_than_input_same", lambda: L.Conv2D(2, 7, padding="same")(IMG))
bad("conv_channels_mismatch", ValueError, r"3 channels but kernel expects 1",
    lambda: _built(L.Conv2D(2, 3), (1, 5, 5, 1))(np.ones((1, 5, 5, 3))))
bad("conv_rank_3_input", ValueError,
    r"expected an input shape \(batch, height, width, channels\), got \(5, 5, 1\)",
    lambda: L.Conv2D(2, 3)(np.ones((5, 5, 1))))
bad("conv_zero_filters", ValueError, r"filters", lambda: L.Conv2D(0, 3))
bad("conv_negative_kernel", ValueError, r"kernel_size must be positive integers, got -3",
    lambda: L.Conv2D(2, -3))
bad("conv_zero_stride", ValueError, r"strides must be positive integers, got 0",
    lambda: L.Conv2D(2, 3, strides=0))
bad("conv_negative_stride", ValueError, r"strides .* got -1", lambda: L.Conv2D(2, 3, strides=-1))
bad("conv_unknown_padding", ValueError, r"padding must be 'valid' or 'same', got 'full'",
    lambda: L.Conv2D(2, 3, padding="full"))
bad("conv_kernel_3_sizes", ValueError, r"kernel_size must be an int or a pair",
    lambda: L.Conv2D(2, (3, 3, 3)))
bad("conv_kernel_str", (TypeError, ValueError), r"kernel_size", lambda: L.Conv2D(2, "3"))
bad("conv_huge_kernel", (ValueError, MemoryError), r".", lambda: L.Conv2D(2, 2 ** 40)(IMG))
bad("conv_huge_filters", (ValueError, MemoryError), r".", lambda: L.Conv2D(2 ** 40, 3)(IMG))
survives("conv_huge_stride_same", lambda: _expect_shape(
    L.Conv2D(2, 3, strides=BIG, padding="same")(IMG), (1, 1, 1, 2)))
survives("conv_huge_stride_output_shape", lambda: _expect_shape(
    L.Conv2D(2, 3, strides=BIG, padding="same").compute_output_shape((None, 5, 5, 1)),
    (None, 1, 1, 2)))
survives("conv_empty_batch_backward", lambda: pycnn.sum(L.Conv2D(2, 3)(
    T(np.ones((0, 5, 5, 1)), requires_grad=True))).backward())
survives("conv_nan_backward", lambda: pycnn.sum(L.Conv2D(2, 3, activation="relu")(
    T(np.full((1, 5, 5, 1), np.nan), requires_grad=True))).backward())
bad("conv_fn_kernel_2d", ValueError, r"conv2d: expected a 4-D kernel", lambda: pycnn.conv2d(
    IMG, np.ones((3, 3))))
bad("conv_fn_bias_shape", ValueError, r"conv2d: bias of shape \(3,\), expected \(4,\)",
    lambda: pycnn.conv2d(IMG, np.ones((3, 3, 1, 4)), bias=np.ones(3)))
bad("conv_fn_zero_rows_kernel", ValueError, r"conv2d: kernel of shape \(0, 3, 1, 4\) has no rows",
    lambda: pycnn.conv2d(IMG, np.ones((0, 3, 1, 4))))
bad("conv_fn_zero_filters_kernel", ValueError, r"has no rows, columns or filters",
    lambda: pycnn.conv2d(IMG, np.ones((3, 3, 1, 0))))
bad("conv_fn_no_pixels", ValueError, r"conv2d: input of shape \(1, 0, 5, 1\) has no pixels",
    lambda: pycnn.conv2d(np.ones((1, 0, 5, 1)), np.ones((1, 1, 1, 4))))
bad("conv_fn_str_kernel", TypeError, r"dtype", lambda: pycnn.conv2d(IMG, "k"))
for _pool in ("MaxPooling2D", "AveragePooling2D"):
    P = getattr(L, _pool)
    bad(f"{_pool}_larger_than_input", ValueError, r"pool 7x7 is larger than the 5x5 input",
        lambda P=P: P(7)(IMG))
    bad(f"{_pool}_zero", ValueError, r"pool_size must be positive integers, got 0",
        lambda P=P: P(0))
    bad(f"{_pool}_negative_stride", ValueError, r"strides must be positive integers, got -2",
        lambda P=P: P(2, strides=-2))
    bad(f"{_pool}_rank_2", ValueError, r"4-D input", lambda P=P: P(2)(np.ones((3, 3))))
    survives(f"{_pool}_huge_pool_same", lambda P=P: _expect_shape(
        P(BIG, padding="same")(IMG), (1, 1, 1, 1)))
    survives(f"{_pool}_huge_stride_same", lambda P=P: _expect_shape(
        P(2, strides=BIG, padding="same")(IMG), (1, 1, 1, 1)))
    survives(f"{_pool}_huge_pool_same_backward", lambda P=P: pycnn.sum(P(2 ** 62, padding="same")(
        T(IMG, requires_grad=True))).backward())
    survives(f"{_pool}_empty_batch_backward", lambda P=P: pycnn.sum(P(2)(
        T(np.ones((0, 4, 4, 1)), requires_grad=True))).backward())
    survives(f"{_pool}_nan_backward", lambda P=P: pycnn.sum(P(2)(
        T(np.full((1, 4, 4, 1), np.nan), requires_grad=True))).backward())
bad("max_pool_fn_rank", ValueError, r"max_pool2d: expected a 4-D input",
    lambda: pycnn.max_pool2d(np.ones((3, 3)), 2))
bad("upsampling_zero", ValueError, r"size must be positive integers, got 0",
    lambda: L.UpSampling2D(0))
bad("upsampling_overflow", ValueError, r"upsampling a 3x3 input by 9223372036854775807x1 gives "
    r"more rows", lambda: L.UpSampling2D((BIG, 1))(np.ones((1, 3, 3, 1))))
bad("upsampling_overflow_output_shape", ValueError, r"upsampling .* gives more rows",
    lambda: L.UpSampling2D((BIG, 1)).compute_output_shape((None, 3, 3, 1)))
bad("upsampling_too_big", (ValueError, MemoryError), r".",
    lambda: L.UpSampling2D(2 ** 40)(np.ones((1, 3, 3, 1))))
bad("reshape_layer_wrong_size", ValueError, r"cannot reshape an input of shape \(2, 3\)",
    lambda: L.Reshape((4,))(np.ones((2, 3))))
bad("reshape_layer_two_unknown", ValueError, r"at most one -1", lambda: L.Reshape((-1, -1)))
bad("reshape_layer_huge", ValueError, r"reshape", lambda: L.Reshape((2 ** 62, 2 ** 62))(
    np.ones((2, 0))))
bad("activation_layer_unknown", ValueError, r"unknown activation 'relux'",
    lambda: L.Activation("relux"))
bad("softmax_layer_axis", (ValueError, IndexError), r"softmax: axis 5 is out of range",
    lambda: L.Softmax(axis=5)(np.ones((2, 3))))
bad("leaky_relu_layer_alpha_str", TypeError, r"LeakyReLU: alpha must be a number",
    lambda: L.LeakyReLU("a"))
bad("elu_alpha_nan", ValueError, r"ELU: alpha must be a finite number, got nan",
    lambda: L.ELU(float("nan")))

# ---- Sequential ---------------------------------------------------------------------------

from pycnn.models import Sequential, load_model  # noqa: E402

XS = np.random.default_rng(0).random((10, 3)).astype(np.float32)
YS = np.arange(10) % 2


def _model(compiled=True):
    model = Sequential([L.Dense(4, activation="relu", input_shape=(3,)),
                        L.Dense(2, activation="softmax")])
    if compiled:
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model


for _m in ("fit", "evaluate", "train_on_batch", "test_on_batch"):
    bad(f"model_{_m}_before_compile", RuntimeError, rf"{_m}: you must compile your model",
        lambda m=_m: getattr(_model(False), m)(XS, YS, **({"verbose": 0} if m in (
            "fit", "evaluate") else {})))
bad("model_fit_xy_lengths", ValueError, r"fit: x has 10 samples but y has 7",
    lambda: _model().fit(XS, YS[:7], verbose=0))
bad("model_fit_empty", ValueError, r"fit: no training samples",
    lambda: _model().fit(XS[:0], YS[:0], verbose=0))
bad("model_fit_label_out_of_range", ValueError, r"label [56] .* not a class index in \[0, 2\)",
    lambda: _model().fit(XS, YS + 5, verbose=0))
bad("model_fit_wrong_features", ValueError, r"input of shape \(10, 5\), expected \(batch, \.\.\., 3\)",
    lambda: _model().fit(np.ones((10, 5)), YS, verbose=0))
bad("model_fit_str", TypeError, r"fit: x must be numbers", lambda: _model().fit("abc", YS, verbose=0))
bad("model_fit_y_none", ValueError, r"fit: y is None", lambda: _model().fit(XS, None, verbose=0))
bad("model_fit_batch_zero", ValueError, r"batch_size must be a positive int, got 0",
    lambda: _model().fit(XS, YS, batch_size=0, verbose=0))
bad("model_fit_validation_split_2", ValueError, r"validation_split must be in \[0, 1\), got 2.0",
    lambda: _model().fit(XS, YS, validation_split=2.0, verbose=0))
bad("model_fit_ragged", ValueError, r"inhomogeneous|ragged",
    lambda: _model().fit([[1, 2, 3], [1, 2]], [0, 1], verbose=0))
survives("model_fit_nan_gives_nan_loss", lambda: _assert_nan_loss(_model().fit(
    np.full_like(XS, np.nan), YS, verbose=0)))
survives("model_fit_zero_epochs", lambda: _model().fit(XS, YS, epochs=0, verbose=0))
bad("model_compile_unknown_loss", ValueError, r"unknown loss 'crossentropyy'",
    lambda: _model(False).compile(optimizer="sgd", loss="crossentropyy"))
bad("model_compile_unknown_optimizer", ValueError, r"unknown optimizer 'sgdd'",
    lambda: _model(False).compile(optimizer="sgdd", loss="mse"))
bad("model_compile_unknown_metric", ValueError, r"unknown metric 'acc_uracy'",
    lambda: _model(False).compile(optimizer="sgd", loss="mse", metrics=["acc_uracy"]))
bad("model_predict_wrong_features", ValueError, r"input of shape \(2, 7\)",
    lambda: _model().predict(np.ones((2, 7)), verbose=0))
survives("model_predict_empty", lambda: _model().predict(np.ones((0, 3)), verbose=0))
bad("model_add_str", TypeError, r"Sequential.add: expected a layer .* got str",
    lambda: Sequential().add("dense"))
bad("model_pop_empty", IndexError, r"Sequential.pop: the model has no layers",
    lambda: Sequential().pop())
bad("model_get_layer_missing", ValueError, r"no layer named 'nope'",
    lambda: _model().get_layer("nope"))
bad("model_get_layer_index", ValueError, r"index 7 is out of range",
    lambda: _model().get_layer(index=7))
bad("model_summary_unbuilt", ValueError, r"has not yet been built",
    lambda: Sequential([L.Dense(3)]).summary())
bad("model_set_weights_count", ValueError, r"has 4 weight arrays but 1 were given",
    lambda: _model().set_weights([np.ones(3)]))
bad("model_save_missing_folder", FileNotFoundError, r"the folder '/nonexistent/dir' does not exist",
    lambda: _model().save("/nonexistent/dir/model.pycnn"))
bad("model_load_missing_file", FileNotFoundError, r"nope.pycnn",
    lambda: load_model("/nonexistent/nope.pycnn"))
bad("model_load_directory", ValueError, r"'/' has none of the extensions pycnn reads and writes",
    lambda: load_model("/"))
bad("model_load_directory_named_pycnn", ValueError, r"\.pycnn: not a pycnn model file",
    lambda: load_model(__import__("tempfile").mkdtemp(suffix=".pycnn")))

def _expect_shape(got, shape):
    got = tuple(got.shape) if hasattr(got, "shape") else tuple(got)
    if got != shape:
        raise AssertionError(f"shape {got}, expected {shape}")


def _assert_nan_loss(history):
    if not np.isnan(history.history["loss"][-1]):
        raise AssertionError(f"NaN inputs gave the loss {history.history['loss']}")


# ---- teaching tools, datasets, callbacks ---------------------------------------------------

import pycnn.callbacks  # noqa: E402
import pycnn.datasets  # noqa: E402

bad("explain_none", TypeError, r"explain: expected a pycnn Tensor, got NoneType",
    lambda: pycnn.explain(None))
bad("explain_str", TypeError, r"explain: expected a pycnn Tensor, got str",
    lambda: pycnn.explain("abc"))
bad("draw_graph_none", TypeError, r"draw_graph: expected a pycnn Tensor, got NoneType",
    lambda: pycnn.draw_graph(None))
survives("explain_leaf", lambda: pycnn.explain(T([1.0])))
survives("explain_empty", lambda: pycnn.explain(grad_leaf((0, 3)) * 2))
survives("draw_graph_nan", lambda: pycnn.draw_graph(T([np.nan], requires_grad=True) * 2))
survives("draw_graph_deep", lambda: pycnn.draw_graph(_deep(3000)))
for _key, _value in (("empty", np.zeros((0, 3))), ("nan_inf", [np.nan, np.inf, -np.inf]),
                     ("0d", 1.0), ("big", np.ones((500, 500))), ("5d", np.ones((2,) * 5))):
    survives(f"latex_{_key}", lambda v=_value: T(v)._repr_latex_())
    survives(f"repr_{_key}", lambda v=_value: repr(T(v)))
bad("mnist_missing_files", FileNotFoundError, r"mnist.load_data: no MNIST files found",
    lambda: pycnn.datasets.mnist.load_data(path="/nonexistent"))
bad("shapes_negative_count", ValueError, r"must be >= 0, got -5",
    lambda: pycnn.datasets.shapes.load_data(n_train=-5))
survives("shapes_zero_count", lambda: pycnn.datasets.shapes.load_data(n_train=0, n_test=0))
bad("shapes_zero_grid", ValueError, r"grid_size 0",
    lambda: pycnn.datasets.shapes.load_data(n_train=4, n_test=1, grid_size=0))
bad("digits_split_2", ValueError, r"test_split|2", lambda: pycnn.datasets.digits.load_data(
    test_split=2.0))
bad("early_stopping_mode", ValueError, r"EarlyStopping: mode must be 'auto', 'min' or 'max', "
    r"got 'sideways'", lambda: pycnn.callbacks.EarlyStopping(mode="sideways"))
bad("conv_output_size_negative", ValueError, r"must be positive, got -5",
    lambda: pycnn.arithmetic.conv_output_size(-5, 3))


def _deep(n):
    y = grad_leaf((1,))
    for _ in range(n):
        y = y * 1.0
    return y


# ---- optimizers ----------------------------------------------------------------------------

O = pycnn.optimizers
bad("optimizer_get_unknown", ValueError, r"adamm", lambda: O.get("adamm"))
bad("optimizer_get_number", (TypeError, ValueError), r".", lambda: O.get(3))
bad("optimizer_negative_lr", ValueError, r"learning_rate", lambda: O.SGD(-0.1))
bad("optimizer_lr_str", TypeError, r"Adam: learning_rate must be a number, got 'fast'",
    lambda: O.Adam("fast"))
bad("optimizer_momentum_list", TypeError, r"SGD: momentum must be a number, got list",
    lambda: O.SGD(momentum=[0.9]))
bad("maxout_pieces_str", TypeError, r"maxout: pieces must be an int, got 'two'",
    lambda: pycnn.maxout(grad_leaf(), "two"))
bad("optimizer_momentum_out_of_range", ValueError, r"momentum", lambda: O.SGD(0.1, momentum=1.5))
bad("optimizer_unknown_kwarg", TypeError, r"decay_rat", lambda: O.SGD(0.1, decay_rat=0.1))
bad("optimizer_grad_shape_mismatch", ValueError, r"\(3,\).*\(2, 3\)|\(2, 3\).*\(3,\)",
    lambda: O.SGD(0.1).apply_gradients([(np.ones(3), grad_leaf())]))
survives("optimizer_var_ndarray", lambda: O.SGD(0.1).apply_gradients([(np.ones(3), np.ones(3))]))
for _opt in ("SGD", "Adam", "RMSprop"):
    _step = {"SGD": "sgd_step", "Adam": "adam_step", "RMSprop": "rmsprop_step"}[_opt]
    for _key, _make, _exc, _msg in (
            ("int", lambda: np.ones(3, int), TypeError, r"must be float32 or float64.*int64"),
            ("float16", lambda: np.ones(3, np.float16), TypeError, r"float32 or float64"),
            ("strided", lambda: np.ones(6)[::2], ValueError, r"C-contiguous, aligned, writeable"),
            ("transposed", lambda: np.ones((3, 4)).T, ValueError, r"C-contiguous"),
            ("readonly", lambda: np.broadcast_to(np.ones(1), (3,)), ValueError, r"writeable"),
            ("list", lambda: [1.0, 2.0, 3.0], TypeError, r"a Tensor or a NumPy array, got list")):
        bad(f"optimizer_{_opt}_var_{_key}", _exc, _step + ": the weight .*" + _msg,
            lambda o=_opt, m=_make: _apply(getattr(O, o)(), m()))
bad("optimizer_grad_str", (TypeError, ValueError), r"dtype|gradient of shape \(\)",
    lambda: O.Adam().apply_gradients(
    [("abc", grad_leaf())]))
survives("optimizer_nan_gradient", lambda: O.Adam().apply_gradients(
    [(np.full((2, 3), np.nan), grad_leaf())]))
survives("optimizer_empty_weight", lambda: O.RMSprop().apply_gradients(
    [(np.zeros((0, 3)), grad_leaf((0, 3)))]))


def _apply(opt, w):
    return opt.apply_gradients([(np.ones(np.shape(w)), w)])


def _assign_item(t):
    t[0] = 1.0


def _built(layer, shape):
    layer(np.ones(shape))
    return layer


def _sum(t):
    return pycnn.sum(t)


def _twice_dtypes(layer):
    layer(np.ones((2, 4), np.float32))
    return layer(np.ones((2, 4), np.float64))


def _raise_type():
    raise TypeError("the call returned")


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
