"""Reductions: sum, mean, max over axes — values, gradients, edge cases, bad axes."""
import numpy as np
import pytest

import pycnn
from helpers import check_op
from reference import max_grad

AXES = [None, 0, 1, -1, (0, 2), (2, 0), (1, 2), (0, 1, 2), ()]


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy_and_gradcheck(name, axis, keepdims):
    ref = getattr(np, name)
    check_op(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
             lambda x: ref(x, axis=axis, keepdims=keepdims), [(2, 3, 4)])


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize("shape,axis", [((), None), ((5,), 0), ((1, 4), 0), ((4, 1), 1),
                                        ((3, 1, 2), (0, 1)), ((2, 3, 1, 2), 3)])
def test_reductions_on_small_and_unit_axes(name, shape, axis):
    ref = getattr(np, name)
    check_op(lambda x: getattr(pycnn, name)(x, axis=axis),
             lambda x: ref(x, axis=axis), [shape])


def test_lecture_style_values():
    a = pycnn.tensor([[1, 2, 3], [4, 5, 6]])
    assert a.sum().item() == 21
    np.testing.assert_array_equal(a.sum(axis=0).numpy(), [5, 7, 9])
    np.testing.assert_array_equal(a.mean(axis=1).numpy(), [2, 5])
    np.testing.assert_array_equal(a.max(axis=1, keepdims=True).numpy(), [[3], [6]])
    assert a.max(0).shape == (3,) and a.sum((0, 1)).shape == ()
    assert pycnn.sum([[1, 2], [3, 4]], 1).numpy().tolist() == [3, 7]
    assert a.sum().op is None                            # no grad asked: no graph
    assert pycnn.tensor([1.0], requires_grad=True).mean().op == "mean"


def test_float32_agrees_with_numpy_on_large_random_input(rng):
    x = rng.standard_normal((40, 30, 50)).astype(np.float32)   # > GIL threshold
    t = pycnn.tensor(x)
    for axis in [None, 0, 1, 2, (0, 2), (1, 2)]:
        np.testing.assert_allclose(t.sum(axis).numpy(), x.sum(axis, dtype=np.float64),
                                   rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(t.mean(axis).numpy(), x.mean(axis, dtype=np.float64),
                                   rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(t.max(axis).numpy(), x.max(axis))
    assert t.sum().dtype == np.float32


def test_large_backward_matches_reference(rng):
    x = rng.standard_normal((40, 30, 50))
    for name in ("sum", "mean", "max"):
        for axis in [None, 1, (0, 2)]:
            t = pycnn.tensor(x, requires_grad=True)
            getattr(t, name)(axis).sum().backward()
            n = x.size if axis is None else x.size // np.sum(x, axis=axis).size
            want = {"sum": np.ones_like(x), "mean": np.full_like(x, 1.0 / n),
                    "max": max_grad(x, axis)}[name]
            np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-12)


def test_max_gradient_goes_to_the_first_maximal_element():
    x = pycnn.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 0, 0])
    y = pycnn.tensor([[3.0, 3.0], [1.0, 1.0], [0.0, 5.0]], requires_grad=True)
    y.max(axis=1).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(y.grad.numpy(), [[1, 0], [2, 0], [0, 3]])
    z = pycnn.tensor([[2.0, 1.0], [2.0, 2.0]], requires_grad=True)
    z.max(axis=0).backward(np.ones(2))                   # first in C order down each column
    np.testing.assert_array_equal(z.grad.numpy(), [[1, 0], [0, 1]])
    np.testing.assert_array_equal(max_grad(np.array([[2.0, 1.0], [2.0, 2.0]]), 0),
                                  [[1, 0], [0, 1]])


def test_nan_propagates_like_numpy():
    x = np.array([[1.0, np.nan, 2.0], [3.0, 4.0, 5.0]])
    t = pycnn.tensor(x)
    np.testing.assert_array_equal(t.max(axis=1).numpy(), np.max(x, axis=1))
    assert np.isnan(t.sum().item()) and np.isnan(t.mean().item())


def test_empty_reductions():
    e = pycnn.tensor(np.zeros((0, 3)), requires_grad=True)
    np.testing.assert_array_equal(e.sum(axis=0).numpy(), np.zeros(3))
    assert np.all(np.isnan(e.mean(axis=0).numpy()))
    assert e.max(axis=1).shape == (0,)                   # nothing to reduce into
    e.sum(axis=0).backward(np.ones(3))
    assert e.grad.shape == (0, 3)
    with pytest.raises(ValueError, match=r"max: .*axis=0.*shape \(0, 3\)"):
        e.max(axis=0)
    with pytest.raises(ValueError, match=r"max: .*shape \(0, 3\)"):
        e.max()


def test_gradient_accumulates_into_an_existing_grad():
    x = pycnn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.sum(axis=0) + x.mean(axis=1) + x.max(axis=None)   # three children of x
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [[1.5, 1.5], [1.5, 3.5]])  # 1 + 1/2 + 2·[max]


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_bad_axes_raise_clearly(name):
    t = pycnn.tensor(np.ones((2, 3)))
    fn = getattr(t, name)
    with pytest.raises(np.exceptions.AxisError, match=rf"{name}: axis 2 .*shape \(2, 3\)"):
        fn(axis=2)
    with pytest.raises(IndexError, match=rf"{name}: axis -3 .*shape \(2, 3\)"):
        fn(axis=-3)                                      # AxisError is an IndexError too
    with pytest.raises(ValueError, match=rf"{name}: axis 1 appears twice .*\(1, -1\).*\(2, 3\)"):
        fn(axis=(1, -1))
    with pytest.raises(TypeError, match=rf"{name}: axis must be .* got str"):
        fn(axis="0")
    with pytest.raises(TypeError, match=rf"{name}: axis must be .* got float"):
        fn(axis=(0, 1.0))
    with pytest.raises(np.exceptions.AxisError, match=rf"{name}: axis 0 .*shape \(\)"):
        getattr(pycnn, name)(pycnn.tensor(1.0), axis=0)


# ---- properties on random shapes and axes (hypothesis) --------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402


@st.composite
def array_and_axes(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-100, 100, width=32)))
    axes = draw(st.none() | st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda a: a % max(len(shape), 1)).map(tuple)
                if shape else st.none())
    return x, axes


@settings(max_examples=60, deadline=None)
@given(array_and_axes(), st.booleans(), st.sampled_from(["sum", "mean", "max"]))
def test_reductions_agree_with_numpy_on_random_shapes(xa, keepdims, name):
    x, axis = xa
    t = pycnn.tensor(x, requires_grad=True)
    y = getattr(t, name)(axis=axis, keepdims=keepdims)
    want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    y.backward(np.ones(y.shape))
    if name == "max":
        expected = max_grad(x, axis)
    else:
        scale = 1.0 if name == "sum" else want.size / max(x.size, 1)
        expected = np.full(x.shape, scale)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12)
