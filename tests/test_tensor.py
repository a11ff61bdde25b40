"""The Tensor: construction, memory sharing, dtypes, attributes, repr, bad input."""
import numpy as np
import pytest

import pycnn


def test_lists_and_integers_become_float32():
    assert pycnn.tensor([[1, 2], [3, 4]]).dtype == np.float32
    assert pycnn.tensor([1.5, 2.5]).dtype == np.float32
    assert pycnn.tensor(np.arange(4)).dtype == np.float32
    assert pycnn.tensor(3.0).shape == ()


def test_float64_is_kept_and_dtype_argument_wins():
    assert pycnn.tensor(np.ones(3)).dtype == np.float64
    assert pycnn.tensor([1, 2], dtype="float64").dtype == np.float64
    assert pycnn.tensor(np.ones(3), dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        pycnn.tensor([1, 2], dtype="int32")


def test_contiguous_float_array_is_wrapped_without_copy():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = pycnn.tensor(a)
    assert np.shares_memory(np.asarray(t), a)
    assert np.shares_memory(t.numpy(), np.asarray(t))
    a[0, 0] = 42
    assert t.numpy()[0, 0] == 42


def test_read_only_and_non_contiguous_arrays_are_copied():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    a.setflags(write=False)
    t = pycnn.tensor(a)
    assert not np.shares_memory(t.numpy(), a)
    b = np.arange(12, dtype=np.float64).reshape(3, 4)[:, ::2]
    t2 = pycnn.tensor(b)
    np.testing.assert_array_equal(t2.numpy(), b)
    assert t2.numpy().flags.c_contiguous


def test_attributes():
    t = pycnn.tensor(np.zeros((2, 3, 4)), requires_grad=True, name="x")
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.size == 24
    assert t.dtype == np.float64 and t.requires_grad and t.name == "x"
    assert t.grad is None and t.op is None and t.parents == ()
    t.name = "y"
    assert t.name == "y"


def test_grad_assignment_checks_shape():
    t = pycnn.tensor([1.0, 2.0], requires_grad=True)
    t.grad = np.array([0.5, 0.5])
    assert isinstance(t.grad, pycnn.Tensor) and t.grad.dtype == np.float32
    with pytest.raises(ValueError, match=r"grad: shape \(3,\) does not match"):
        t.grad = np.ones(3)
    t.grad = None
    assert t.grad is None


def test_repr_looks_like_numpy_plus_the_op():
    t = pycnn.tensor([[1, 2], [3, 4]])
    assert repr(t) == "tensor([[1., 2.],\n        [3., 4.]])"
    y = pycnn.tensor([1.0], requires_grad=True) + 1.0
    assert repr(y) == "tensor([2.], op=add)"
    assert "dtype=float64" in repr(pycnn.tensor(np.ones(1)))
    assert "requires_grad=True" in repr(pycnn.tensor([1.0], requires_grad=True))


def test_item_and_float():
    assert pycnn.tensor([2.5]).item() == 2.5
    assert float(pycnn.tensor(3.0)) == 3.0
    with pytest.raises(ValueError, match="one element"):
        pycnn.tensor([1.0, 2.0]).item()


@pytest.mark.parametrize("bad,exc", [("abc", TypeError), (None, TypeError),
                                     ([[1, 2], [3]], ValueError), ({"a": 1}, TypeError),
                                     (np.array(["x"]), TypeError), (1 + 2j, TypeError)])
def test_bad_data_raises_clearly(bad, exc):
    with pytest.raises(exc):
        pycnn.tensor(bad)


def test_astype_is_differentiable():
    x = pycnn.tensor([1.0, 2.0], requires_grad=True)
    y = x.astype("float64") * 3.0
    assert y.dtype == np.float64
    y.backward(np.ones(2))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_more_dimensions_than_the_kernels_hold_raise():
    # NumPy 2 allows 64 axes; the C iterators hold 32. This used to overflow a stack buffer.
    with pytest.raises(ValueError, match="40 dimensions, at most 32"):
        pycnn.tensor(np.zeros((1,) * 40))
    with pytest.raises(ValueError, match="add: data has 40 dimensions"):
        pycnn.tensor([1.0]) + np.zeros((1,) * 40)


def test_array_protocol_copies_only_when_asked_or_needed():
    t = pycnn.tensor([1.0, 2.0])
    assert np.shares_memory(np.asarray(t, dtype=np.float32), t.numpy())
    assert not np.shares_memory(np.array(t, copy=True), t.numpy())
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(t, dtype=np.float64, copy=False)
