"""Indexing: t[i], slices, Ellipsis, None, negative steps, integer arrays, masks."""
import numpy as np
import pytest

import pycnn
from helpers import check_op

BASIC_KEYS = [1, -1, (0, 2), (1, -1, 0), slice(1, 3), (slice(None), slice(2, 5)),
              (Ellipsis, 0), (Ellipsis, slice(None, None, -1)), (slice(None, None, -2), 1),
              None, (None, 1, None), (slice(None), None, slice(1, None, 2)),
              (0, Ellipsis, None), (slice(5, 1, -2), Ellipsis), (slice(7, 9),)]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_indexing_matches_numpy_and_gradcheck(key):
    check_op(lambda x: x[key], lambda x: x[key], [(4, 6, 3)])


ADVANCED_KEYS = [[0, 0, 2], np.array([3, 1, 3, 3]), (slice(None), [2, 0, 2]),
                 ([0, 1, 1], [5, 5, 0]), (np.array([[0, 1], [3, 3]]), Ellipsis, 1),
                 (1, [0, 0], slice(None)), []]


@pytest.mark.parametrize("key", ADVANCED_KEYS, ids=repr)
def test_advanced_indexing_matches_numpy_and_gradcheck(key):
    check_op(lambda x: x[key], lambda x: x[key], [(4, 6, 3)])


def test_boolean_mask_indexing(rng):
    x = rng.standard_normal((4, 5))
    mask = x > 0
    check_op(lambda t: t[mask], lambda a: a[mask], [(4, 5)], inputs=[x])
    check_op(lambda t: t[mask[:, 0]], lambda a: a[mask[:, 0]], [(4, 5)], inputs=[x])
    check_op(lambda t: t[:, [True, False, True, False, True]],
             lambda a: a[:, [True, False, True, False, True]], [(4, 5)], inputs=[x])


def test_repeated_indices_accumulate_gradient():
    x = pycnn.tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1])
    y = pycnn.tensor(np.zeros((2, 2)), requires_grad=True)
    y[[1, 1], [0, 0]].backward(np.array([2.0, 5.0]))
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 0], [7, 0]])


def test_index_key_is_copied_and_scalars_become_0d():
    x = pycnn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    idx = np.array([0, 1])
    y = x[idx]
    idx[:] = 1                                           # changing the key later changes nothing
    y.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    s = x[1, 2]
    assert isinstance(s, pycnn.Tensor) and s.shape == () and s.item() == 5.0
    assert x[pycnn.tensor([1]).numpy().astype(int)].shape == (1, 3)


def test_index_views_share_memory_only_when_contiguous():
    x = pycnn.tensor(np.arange(12.0).reshape(3, 4))
    assert np.shares_memory(x[1].numpy(), x.numpy())
    col = x[:, 1]
    assert not np.shares_memory(col.numpy(), x.numpy()) and col.numpy().flags.c_contiguous
    assert x[::-1].numpy().flags.c_contiguous


def test_len_and_iteration():
    x = pycnn.tensor([[1, 2], [3, 4], [5, 6]], requires_grad=True)
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and rows[2].numpy().tolist() == [5, 6]
    sum(r.sum() for r in rows).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 2)))
    with pytest.raises(TypeError, match="0-d"):
        len(pycnn.tensor(1.0))


@pytest.mark.parametrize("key,exc,msg", [(5, IndexError, r"shape \(4, 6\): index 5 is out of bounds for axis 0"),
                                         ((0, 0, 0), IndexError, r"shape \(4, 6\): too many indices"),
                                         (1.5, IndexError, r"shape \(4, 6\): only integers"),
                                         ([0, 9], IndexError, r"shape \(4, 6\)"),
                                         ((Ellipsis, Ellipsis), IndexError, r"shape \(4, 6\)"),
                                         ("a", IndexError, r"shape \(4, 6\)")])
def test_bad_indices_raise_clearly(key, exc, msg):
    with pytest.raises(exc, match="getitem: index .*" + msg):
        pycnn.tensor(np.ones((4, 6)))[key]


def test_tensor_does_not_support_item_assignment():
    with pytest.raises(TypeError):
        pycnn.tensor([1.0, 2.0])[0] = 3.0


# ---- properties on random shapes and keys (hypothesis) ---------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402


@st.composite
def array_and_key(draw, advanced):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10, width=32)))
    key = draw(hnp.integer_array_indices(shape) if advanced
               else hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return x, key


def check_index(x, key):
    t = pycnn.tensor(x, requires_grad=True)
    y = t[key]
    want = x[key]
    np.testing.assert_array_equal(y.numpy(), want)
    assert y.numpy().flags.c_contiguous
    g = np.arange(1.0, want.size + 1).reshape(np.shape(want))
    y.backward(g)
    expected = np.zeros_like(x)
    np.add.at(expected, key, g)                 # the reference: repeated indices add
    np.testing.assert_array_equal(t.grad.numpy(), expected)


@settings(max_examples=80, deadline=None)
@given(array_and_key(advanced=False))
def test_basic_indexing_on_random_shapes(xk):
    check_index(*xk)


@settings(max_examples=40, deadline=None)
@given(array_and_key(advanced=True))
def test_integer_array_indexing_on_random_shapes(xk):
    check_index(*xk)
