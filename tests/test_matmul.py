"""The matrix product: a @ b and pycnn.matmul, 2-D, batched with broadcasting, 1-D."""
import numpy as np
import pytest

import pycnn
from helpers import check_op

SHAPES = [((2, 3), (3, 4)), ((1, 5), (5, 1)), ((4, 3), (3,)), ((3,), (3, 2)), ((3,), (3,)),
          ((2, 3, 4), (4, 5)),            # batch shares b: folded into one product
          ((3, 4), (2, 4, 5)),            # a shared by the batch
          ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((1, 2, 3), (4, 1, 3, 2)),
          ((2, 2, 3), (3,)), ((3,), (2, 3, 2)), ((1, 3, 4), (4, 2)), ((2, 0, 3), (3, 2)),
          ((2, 3), (3, 0)), ((2, 0), (0, 3))]


@pytest.mark.parametrize("sa,sb", SHAPES, ids=str)
def test_matmul_matches_numpy_and_gradcheck(sa, sb):
    check_op(lambda a, b: a @ b, np.matmul, [sa, sb])
    check_op(pycnn.matmul, np.matmul, [sa, sb], grad=False)


def test_float32_agrees_with_numpy_on_random_input(rng):
    a = rng.standard_normal((64, 128)).astype(np.float32)
    b = rng.standard_normal((128, 48)).astype(np.float32)
    y = pycnn.tensor(a) @ pycnn.tensor(b)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)
    c = rng.standard_normal((5, 1, 16, 32)).astype(np.float32)
    d = rng.standard_normal((3, 32, 8)).astype(np.float32)
    np.testing.assert_allclose(pycnn.matmul(c, d).numpy(), np.matmul(c, d), rtol=1e-4, atol=1e-4)


def test_backward_formulas_and_accumulation(rng):
    a = rng.standard_normal((2, 3, 4))
    b = rng.standard_normal((4, 5))
    dy = rng.standard_normal((2, 3, 5))
    ta, tb = pycnn.tensor(a, requires_grad=True), pycnn.tensor(b, requires_grad=True)
    (ta @ tb).backward(dy)
    np.testing.assert_allclose(ta.grad.numpy(), dy @ b.T, rtol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), np.einsum("bmk,bmn->kn", a, dy), rtol=1e-12)
    (ta @ tb).backward(dy)                                # grads accumulate across calls
    np.testing.assert_allclose(tb.grad.numpy(), 2 * np.einsum("bmk,bmn->kn", a, dy), rtol=1e-12)


def test_broadcast_batch_gradients_are_summed(rng):
    a = rng.standard_normal((1, 3, 4))
    b = rng.standard_normal((2, 4, 5))
    ta, tb = pycnn.tensor(a, requires_grad=True), pycnn.tensor(b, requires_grad=True)
    dy = rng.standard_normal((2, 3, 5))
    (ta @ tb).backward(dy)
    np.testing.assert_allclose(ta.grad.numpy(), (dy @ b.transpose(0, 2, 1)).sum(0, keepdims=True),
                               rtol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), a.transpose(0, 2, 1) @ dy, rtol=1e-12)


def test_same_tensor_on_both_sides(rng):
    assert pycnn.gradcheck(lambda x: x @ x, [rng.standard_normal((3, 3))])
    assert pycnn.gradcheck(lambda x: x @ x.T, [rng.standard_normal((2, 3))])
    assert pycnn.gradcheck(lambda x: (x @ x.transpose(0, 2, 1)).sum(axis=0),
                           [rng.standard_normal((2, 3, 4))])


def test_numpy_arrays_and_lists_on_either_side():
    t = pycnn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    left = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32) @ t
    assert isinstance(left, pycnn.Tensor) and left.op == "matmul"
    np.testing.assert_array_equal(left.numpy(), t.numpy())
    right = t @ [[1, 0], [0, 1]]                          # a list takes t's dtype
    assert right.dtype == np.float32
    np.testing.assert_array_equal(right.numpy(), t.numpy())
    mixed = np.eye(2) @ t                                  # float64 array: promotes like NumPy
    assert mixed.dtype == np.float64
    mixed.sum().backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_array_equal(t.grad.numpy(), [[1, 1], [1, 1]])
    assert pycnn.matmul([[1, 2]], [[3], [4]]).item() == 11.0


@pytest.mark.parametrize("sa,sb,msg", [
    ((2, 3), (4, 5), r"shapes \(2, 3\) and \(4, 5\) do not align: 3 .* != 4"),
    ((3,), (4,), r"shapes \(3,\) and \(4,\) do not align: 3 .* != 4 \(only axis"),
    ((2, 3, 4), (3, 4, 5), r"shapes \(2, 3, 4\) and \(3, 4, 5\) have batch axes that cannot broadcast"),
    ((), (3,), r"shapes \(\) and \(3,\) cannot be multiplied: a 0-d operand"),
])
def test_bad_shapes_raise_clearly(sa, sb, msg):
    with pytest.raises(ValueError, match="matmul: " + msg):
        pycnn.tensor(np.ones(sa)) @ pycnn.tensor(np.ones(sb))
    with pytest.raises(ValueError, match="matmul: " + msg):
        pycnn.matmul(np.ones(sa), np.ones(sb))


def test_bad_operands():
    with pytest.raises(TypeError, match="matmul: cannot make a tensor"):
        pycnn.tensor([[1.0]]) @ np.array([["a"]])
    with pytest.raises(TypeError, match=r"matmul\(\) takes 2 arguments"):
        pycnn.matmul(np.ones((2, 2)))


def test_diamond_and_three_children(rng):
    def diamond(x, w):
        h = x @ w
        return pycnn.tanh(h) @ w.T + h @ w.T

    def three_children(w):                              # w feeds two products and a sum
        return (w @ w.T) * w.sum() + w.T @ w[:, :1]

    assert pycnn.gradcheck(diamond, [rng.standard_normal((2, 3)), rng.standard_normal((3, 3))])
    assert pycnn.gradcheck(three_children, [rng.standard_normal((3, 3))])


# ---- properties on random broadcastable shapes (hypothesis) -------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=3, max_side=4))
def test_matmul_agrees_with_numpy_on_random_shapes(shapes):
    sa, sb = shapes.input_shapes
    rng = np.random.default_rng(len(sa) * 10 + len(sb))
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = pycnn.tensor(a, requires_grad=True), pycnn.tensor(b, requires_grad=True)
    y = ta @ tb
    want = a @ b
    assert y.shape == want.shape == shapes.result_shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(want.shape)
    y.backward(g)
    # the reference gradient, from NumPy with 1-D operands promoted and batches summed
    a2 = a[None] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.expand_dims(g, tuple(i for i, c in ((-2, a.ndim == 1), (-1, b.ndim == 1)) if c))
    ga, gb = g2 @ np.swapaxes(b2, -1, -2), np.swapaxes(a2, -1, -2) @ g2

    def sum_to(x, shape):
        x = x.sum(axis=tuple(range(x.ndim - len(shape))))
        return x.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)

    np.testing.assert_allclose(ta.grad.numpy(), sum_to(ga, a2.shape).reshape(sa), atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), sum_to(gb, b2.shape).reshape(sb), atol=1e-12)
