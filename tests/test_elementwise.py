"""Element-wise maps: the lecture's examples, NumPy agreement, gradients, errors."""
import numpy as np
import pytest

import pycnn
from helpers import check_op
import reference as ref

BINARY = [
    (lambda a, b: a + b, np.add),
    (lambda a, b: a - b, np.subtract),
    (lambda a, b: a * b, np.multiply),
    (lambda a, b: a / b, np.divide),
    (pycnn.maximum, np.maximum),
    (pycnn.minimum, np.minimum),
]
BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)),
                    ((5, 1), (1, 6))]


def test_lecture_elementwise_sum():
    a = pycnn.tensor([[1, 2], [3, 4]])
    b = pycnn.tensor([[2, 0], [6, 6]])
    np.testing.assert_array_equal((a + b).numpy(), [[3, 2], [9, 10]])


def test_lecture_sigmoid_table():
    s = pycnn.sigmoid(pycnn.tensor([[0, 1], [2, 3]]))
    np.testing.assert_array_equal(np.round(s.numpy(), 4), np.float32([[0.5, 0.7311],
                                                                     [0.8808, 0.9526]]))


@pytest.mark.parametrize("fn,npfn", BINARY)
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES)
def test_binary_ops(fn, npfn, shapes, rng):
    xs = [rng.uniform(-2, 2, s) for s in shapes]
    if npfn is np.divide:
        xs[1] = np.sign(xs[1]) * (np.abs(xs[1]) + 0.5)      # away from 0
    check_op(fn, npfn, shapes, inputs=xs)


def test_pow_both_sides(rng):
    check_op(lambda a, b: a ** b, np.power, [(3, 4), (4,)], positive=True, rng=rng)
    check_op(lambda a: a ** 3, lambda a: a ** 3, [(3, 4)], rng=rng)
    check_op(lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(3, 4)], rng=rng)


UNARY = [
    (pycnn.negative, np.negative, False),
    (lambda x: -x, np.negative, False),
    (pycnn.abs, np.abs, False),
    (pycnn.exp, np.exp, False),
    (pycnn.log, np.log, True),
    (pycnn.sqrt, np.sqrt, True),
    (pycnn.square, np.square, False),
    (pycnn.sigmoid, ref.sigmoid, False),
    (pycnn.tanh, np.tanh, False),
    (pycnn.relu, ref.relu, False),
]


@pytest.mark.parametrize("fn,npfn,positive", UNARY)
def test_unary_ops(fn, npfn, positive, rng):
    check_op(fn, npfn, [(4, 5)], positive=positive, rng=rng)


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                                lambda a, b: a / b])
def test_reflected_forms_with_scalars_and_arrays(op):
    t = pycnn.tensor([1.0, 2.0, 4.0])
    arr = np.array([2.0, 4.0, 8.0], dtype=np.float32)
    for left, right in ((t, 2.0), (2.0, t), (t, arr), (arr, t)):
        out = op(left, right)
        assert isinstance(out, pycnn.Tensor)
        expected = op(np.asarray(left, dtype=np.float32) if left is t else left,
                      np.asarray(right, dtype=np.float32) if right is t else right)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_python_scalar_keeps_dtype_and_float64_promotes():
    t = pycnn.tensor([1.0, 2.0])
    assert (t * 2.5).dtype == np.float32
    d = pycnn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    s = pycnn.tensor([3.0, 4.0], requires_grad=True)
    out = d * s
    assert out.dtype == np.float64
    out.backward(np.ones(2))
    assert s.grad.dtype == np.float32
    np.testing.assert_allclose(s.grad.numpy(), [1.0, 2.0])


def test_sigmoid_is_stable_at_large_inputs():
    with np.errstate(all="raise"):
        s = pycnn.sigmoid(pycnn.tensor([-1000.0, 1000.0])).numpy()
    assert s[0] == 0.0 and s[1] == 1.0


def test_nan_and_inf_propagate_like_numpy():
    x = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    np.testing.assert_array_equal((pycnn.tensor(x) + 1).numpy(), x + 1)
    np.testing.assert_array_equal(pycnn.maximum(pycnn.tensor(x), 0.0).numpy(),
                                  np.maximum(x, 0.0))


def test_float32_agrees_with_numpy_on_random_inputs(rng):
    a = rng.standard_normal((64, 32)).astype(np.float32)
    b = rng.standard_normal((32,)).astype(np.float32)
    got = pycnn.tanh(pycnn.tensor(a) * pycnn.tensor(b) + 1.0).numpy()
    np.testing.assert_allclose(got, np.tanh(a * b + 1.0), rtol=1e-5, atol=1e-6)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4, 5\) cannot broadcast"):
        pycnn.tensor(np.ones((2, 3))) + pycnn.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"mul: shapes \(3,\) and \(4,\)"):
        pycnn.tensor([1, 2, 3]) * [1, 2, 3, 4]


def test_non_numeric_operand_raises_type_error():
    with pytest.raises(TypeError, match="add"):
        pycnn.tensor([1.0]) + "abc"
    with pytest.raises(TypeError, match="None"):
        pycnn.relu(None)
