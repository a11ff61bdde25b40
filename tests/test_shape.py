"""Structural ops: reshape, flatten, transpose/.T, concat and stack."""
import numpy as np
import pytest

import pycnn
from helpers import check_op

# ---- the lecture ---------------------------------------------------------------------


def test_lecture_flatten():
    y = pycnn.flatten(pycnn.tensor([[1, 2], [3, 4]]))
    assert y.shape == (4,)
    np.testing.assert_array_equal(y.numpy(), [1, 2, 3, 4])


def test_lecture_concatenations():
    a = pycnn.tensor([[1, 2, 3], [4, 5, 6]])
    b = pycnn.tensor([[7, 8, 9], [10, 11, 12]])
    side = pycnn.concat([a, b], axis=1)
    np.testing.assert_array_equal(side.numpy(), [[1, 2, 3, 7, 8, 9], [4, 5, 6, 10, 11, 12]])
    assert side.shape == (2, 6)
    stacked = pycnn.concat([a, b], axis=0)
    np.testing.assert_array_equal(stacked.numpy(), [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
    assert stacked.shape == (4, 3)
    assert pycnn.concatenate is pycnn.concat


# ---- reshape, flatten ----------------------------------------------------------------


@pytest.mark.parametrize("shape,new", [((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)), ((2, 3, 4), (4, -1, 2)),
                                       ((6,), (1, 6, 1)), ((), (1, 1)), ((1, 1), ()),
                                       ((0, 3), (3, -1))])
def test_reshape_matches_numpy_and_gradcheck(shape, new):
    check_op(lambda x: x.reshape(new), lambda x: np.reshape(x, new), [shape])
    check_op(lambda x: pycnn.reshape(x, new), lambda x: np.reshape(x, new), [shape])


def test_reshape_spellings_and_memory():
    t = pycnn.tensor(np.arange(6.0))
    assert t.reshape(2, 3).shape == (2, 3)
    assert t.reshape((3, 2)).shape == (3, 2)
    assert t.reshape([1, -1]).shape == (1, 6)
    assert t.reshape(np.int64(6)).shape == (6,)
    assert np.shares_memory(t.reshape(3, 2).numpy(), t.numpy())     # contiguous: a view
    assert t.reshape(2, 3).numpy().flags.c_contiguous
    assert t.flatten().shape == (6,)


def test_flatten_gradcheck_and_op_name(rng):
    check_op(pycnn.flatten, lambda x: x.reshape(-1), [(2, 3, 2)])
    y = pycnn.flatten(pycnn.tensor(np.ones((2, 2)), requires_grad=True))
    assert y.op == "flatten"


@pytest.mark.parametrize("new,msg", [((4,), r"shape \(2, 3\) \(6 elements\) into shape \(4,\)"),
                                     ((-1, -1), "only one size may be -1"),
                                     ((4, -1), "-1 cannot be inferred"),
                                     ((-2, -3), r"sizes must be >= 0")])
def test_reshape_bad_shapes(new, msg):
    with pytest.raises(ValueError, match=r"reshape: .*" + msg):
        pycnn.tensor(np.ones((2, 3))).reshape(new)


def test_reshape_bad_types():
    with pytest.raises(TypeError, match="reshape: sizes must be ints, got float"):
        pycnn.tensor(np.ones(4)).reshape(2.0, 2)
    with pytest.raises(TypeError, match="reshape: shape must be an int or a tuple"):
        pycnn.reshape(np.ones(4), "4")
    with pytest.raises(ValueError, match="reshape: .*too many axes"):
        pycnn.tensor(np.ones(1)).reshape((1,) * 33)


# ---- transpose -----------------------------------------------------------------------


@pytest.mark.parametrize("shape,axes", [((2, 3), None), ((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)),
                                        ((2, 3, 4), (0, 2, 1)), ((2, 3, 4), (-1, 0, -2)),
                                        ((2, 1, 3, 2), (3, 1, 0, 2)), ((5,), None), ((), None)])
def test_transpose_matches_numpy_and_gradcheck(shape, axes):
    check_op(lambda x: x.transpose(axes), lambda x: np.transpose(x, axes), [shape])
    check_op(lambda x: pycnn.transpose(x, axes), lambda x: np.transpose(x, axes), [shape])


def test_transpose_spellings():
    x = np.arange(24.0).reshape(2, 3, 4)
    t = pycnn.tensor(x)
    np.testing.assert_array_equal(t.T.numpy(), x.T)
    np.testing.assert_array_equal(t.transpose().numpy(), x.transpose())
    np.testing.assert_array_equal(t.transpose(1, 2, 0).numpy(), x.transpose(1, 2, 0))
    np.testing.assert_array_equal(t.transpose([1, 2, 0]).numpy(), x.transpose(1, 2, 0))
    assert t.T.numpy().flags.c_contiguous


def test_transpose_large_float32(rng):
    x = rng.standard_normal((30, 40, 20)).astype(np.float32)      # above the GIL threshold
    t = pycnn.tensor(x, requires_grad=True)
    y = t.transpose(2, 0, 1)
    np.testing.assert_array_equal(y.numpy(), x.transpose(2, 0, 1))
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    np.testing.assert_array_equal(t.grad.numpy(), g.transpose(1, 2, 0))


@pytest.mark.parametrize("axes,exc,msg", [((0,), ValueError, r"axes \(0,\) do not match the 2 axes of shape \(2, 3\)"),
                                          ((0, 0), ValueError, r"axis 0 appears twice"),
                                          ((0, 2), np.exceptions.AxisError, r"axis 2 is out of range .*shape \(2, 3\)"),
                                          ((0, "1"), TypeError, r"axes must be ints, got str")])
def test_transpose_bad_axes(axes, exc, msg):
    with pytest.raises(exc, match="transpose: " + msg):
        pycnn.tensor(np.ones((2, 3))).transpose(axes)


# ---- concat, stack -------------------------------------------------------------------


@pytest.mark.parametrize("shapes,axis", [([(2, 3), (2, 3)], 0), ([(2, 3), (2, 1), (2, 4)], 1),
                                         ([(2, 3, 4), (2, 1, 4)], -2), ([(3,), (2,), (1,)], 0),
                                         ([(1, 2, 2), (3, 2, 2)], 0), ([(2, 0), (2, 3)], 1)])
def test_concat_matches_numpy_and_gradcheck(shapes, axis):
    check_op(lambda *xs: pycnn.concat(xs, axis=axis), lambda *xs: np.concatenate(xs, axis=axis),
             shapes)


@pytest.mark.parametrize("shapes,axis", [([(2, 3), (2, 3)], 0), ([(2, 3)] * 3, 1), ([(2, 3)] * 2, 2),
                                         ([(2, 3)] * 2, -1), ([(4,)] * 3, 0), ([()] * 3, 0)])
def test_stack_matches_numpy_and_gradcheck(shapes, axis):
    check_op(lambda *xs: pycnn.stack(xs, axis=axis), lambda *xs: np.stack(xs, axis=axis), shapes)


def test_concat_promotes_and_takes_arrays_and_lists():
    y = pycnn.concat([pycnn.tensor([1.0]), np.array([2.0]), [3]])
    assert y.dtype == np.float64                       # a float64 array is among them
    np.testing.assert_array_equal(y.numpy(), [1, 2, 3])
    a = pycnn.tensor([1.0, 2.0], requires_grad=True)
    b = pycnn.tensor(np.array([3.0]), requires_grad=True)
    z = pycnn.concat((a, b, a))                          # a used twice: gradients add up
    z.backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(a.grad.numpy(), [5, 7])
    assert a.grad.dtype == np.float32
    np.testing.assert_array_equal(b.grad.numpy(), [3])


def test_concat_and_stack_bad_input():
    a, b = pycnn.tensor(np.ones((2, 3))), pycnn.tensor(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"concat: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\)"):
        pycnn.concat([a, b], axis=0)
    with pytest.raises(ValueError, match=r"concat: tensor 1 has shape \(3,\) but tensor 0 has shape \(2, 3\)"):
        pycnn.concat([a, np.ones(3)])
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\)"):
        pycnn.stack([a, b])
    with pytest.raises(np.exceptions.AxisError, match=r"concat: axis 2 .*shape \(2, 3\)"):
        pycnn.concat([a, a], axis=2)
    with pytest.raises(np.exceptions.AxisError, match=r"stack: axis 3 .*shape \(2, 3\)"):
        pycnn.stack([a, a], axis=3)
    with pytest.raises(ValueError, match="concat: needs at least one tensor"):
        pycnn.concat([])
    with pytest.raises(ValueError, match=r"concat: 0-d tensors cannot be concatenated"):
        pycnn.concat([pycnn.tensor(1.0), pycnn.tensor(2.0)])
    with pytest.raises(TypeError, match="stack: expected a list or tuple of tensors, got one"):
        pycnn.stack(a)
    with pytest.raises(TypeError, match="concat: expected a list or tuple of tensors"):
        pycnn.concat(3)
    with pytest.raises(TypeError, match="concat: cannot make a tensor"):
        pycnn.concat([a, "x"])


# ---- graphs through structural ops ---------------------------------------------------


def test_diamond_and_three_children_through_structural_ops(rng):
    def diamond(x):
        a = x.reshape(3, 4)
        return pycnn.concat([a[:, :2], a.T[1:3].T], axis=0) * a[1:, :2].sum()

    def three_children(x):                          # x feeds transpose, getitem and stack
        return pycnn.stack([x.T.T, x[::-1], x * 2.0], axis=1).sum(axis=(1, 2))

    assert pycnn.gradcheck(diamond, [rng.standard_normal((2, 6))])
    assert pycnn.gradcheck(three_children, [rng.standard_normal((4, 3))])


def test_reshape_to_a_shape_whose_size_overflows_is_a_clear_error():
    # the product of the sizes used to overflow (undefined behaviour in C) and wrap to 0
    with pytest.raises(ValueError, match=r"reshape: .*\(0 elements\).*number of elements"):
        pycnn.reshape(pycnn.tensor(np.ones(0)), (2**62, 4))
    with pytest.raises(ValueError, match=r"reshape: .*number of elements"):
        pycnn.tensor(np.ones(0)).reshape(2**62, 4, 0)
