"""pycnn.ops against keras.ops (torch backend) on the same inputs, and float64 gradchecks."""
import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn
from pycnn import ops

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning",
    "ignore:The use of `x.T` on tensors:UserWarning")   # keras.ops.transpose on torch


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch", reason="PyTorch is optional")
    return pytest.importorskip("keras", reason="Keras 3 is optional: pip install pycnn[interop]")


RNG = np.random.default_rng(7)
A = RNG.standard_normal((2, 3, 4))
B = RNG.standard_normal((2, 4, 3))
M = RNG.standard_normal((3, 4))
V = RNG.standard_normal((4,))
P = RNG.uniform(0.5, 2.0, (3, 4))       # positive: sqrt, log, power bases
Q = RNG.uniform(-1.5, 1.5, (3, 4))
S1 = RNG.standard_normal((3, 1, 4))
IDX = np.array([[0, 2], [1, 1]])
LAB = np.array([0, 2, 1, 3])

# (id, call(ops, *inputs), inputs, differentiable)
CASES = [
    ("ones", lambda o: o.ones((2, 3)), [], False),
    ("ones_f64", lambda o: o.ones((2,), dtype="float64"), [], False),
    ("zeros", lambda o: o.zeros((3,)), [], False),
    ("full", lambda o: o.full((2, 2), 1.5), [], False),
    ("ones_like", lambda o, x: o.ones_like(x), [M], False),
    ("zeros_like", lambda o, x: o.zeros_like(x), [M], False),
    ("full_like", lambda o, x: o.full_like(x, 3.0), [M], False),
    ("arange_int", lambda o: o.arange(5), [], False),
    ("arange_float", lambda o: o.arange(0.0, 2.0, 0.5), [], False),
    ("arange_start_stop", lambda o: o.arange(2, 9, 3), [], False),
    ("eye", lambda o: o.eye(3, 4, k=1), [], False),
    ("identity", lambda o: o.identity(3), [], False),
    ("cast_int", lambda o, x: o.cast(x * 3, "int32"), [M], False),
    ("cast_f32", lambda o, x: o.cast(x, "float32"), [M], False),
    ("reshape", lambda o, x: o.reshape(x, (4, -1)), [A], True),
    ("expand_dims", lambda o, x: o.expand_dims(x, 1), [M], True),
    ("expand_dims_neg", lambda o, x: o.expand_dims(x, -1), [M], True),
    ("squeeze", lambda o, x: o.squeeze(x), [S1], True),
    ("squeeze_axis", lambda o, x: o.squeeze(x, axis=1), [S1], True),
    ("transpose", lambda o, x: o.transpose(x), [A], True),
    ("transpose_axes", lambda o, x: o.transpose(x, (1, 0, 2)), [A], True),
    ("swapaxes", lambda o, x: o.swapaxes(x, 0, 2), [A], True),
    ("moveaxis", lambda o, x: o.moveaxis(x, 0, -1), [A], True),
    ("concatenate", lambda o, x, y: o.concatenate([x, y], axis=0), [M, Q], True),
    ("concatenate_axis1", lambda o, x, y: o.concatenate([x, y], axis=1), [M, P], True),
    ("stack", lambda o, x, y: o.stack([x, y]), [M, Q], True),
    ("stack_axis", lambda o, x, y: o.stack([x, y], axis=-1), [M, Q], True),
    ("broadcast_to", lambda o, x: o.broadcast_to(x, (3, 4)), [V], True),
    ("tile", lambda o, x: o.tile(x, (2, 1, 3)), [M], True),
    ("repeat", lambda o, x: o.repeat(x, 2, axis=1), [M], True),
    ("repeat_flat", lambda o, x: o.repeat(x, 3), [M], True),
    ("take", lambda o, x: o.take(x, IDX, axis=1), [M], True),
    ("take_flat", lambda o, x: o.take(x, IDX), [M], True),
    ("flip", lambda o, x: o.flip(x, axis=1), [A], True),
    ("sum", lambda o, x: o.sum(x), [A], True),
    ("sum_axis", lambda o, x: o.sum(x, axis=1), [A], True),
    ("sum_axes_keep", lambda o, x: o.sum(x, axis=(0, 2), keepdims=True), [A], True),
    ("mean", lambda o, x: o.mean(x), [A], True),
    ("mean_axis", lambda o, x: o.mean(x, axis=-1, keepdims=True), [A], True),
    ("max", lambda o, x: o.max(x), [A], True),
    ("max_axis", lambda o, x: o.max(x, axis=1), [A], True),
    ("max_initial", lambda o, x: o.max(x, axis=0, initial=0.3), [M], True),
    ("min", lambda o, x: o.min(x, axis=0), [A], True),
    ("min_keep", lambda o, x: o.min(x, axis=-1, keepdims=True), [A], True),
    ("var", lambda o, x: o.var(x, axis=1), [A], True),
    ("std", lambda o, x: o.std(x), [A], True),
    ("logsumexp", lambda o, x: o.logsumexp(x, axis=-1), [A], True),
    ("logsumexp_all", lambda o, x: o.logsumexp(x), [M], True),
    ("argmax", lambda o, x: o.argmax(x, axis=-1), [A], False),
    ("argmax_flat", lambda o, x: o.argmax(x), [A], False),
    ("argmin", lambda o, x: o.argmin(x, axis=0, keepdims=True), [A], False),
    ("argsort", lambda o, x: o.argsort(x), [M], False),
    ("one_hot", lambda o: o.one_hot(LAB, 4), [], False),
    ("one_hot_axis0", lambda o: o.one_hot(IDX, 3, axis=0), [], False),
    ("one_hot_negative", lambda o: o.one_hot(np.array([1, -1]), 3), [], False),
    ("square", lambda o, x: o.square(x), [Q], True),
    ("sqrt", lambda o, x: o.sqrt(x), [P], True),
    ("exp", lambda o, x: o.exp(x), [Q], True),
    ("log", lambda o, x: o.log(x), [P], True),
    ("abs", lambda o, x: o.abs(x), [Q], True),
    ("absolute", lambda o, x: o.absolute(x), [Q], True),
    ("negative", lambda o, x: o.negative(x), [Q], True),
    ("reciprocal", lambda o, x: o.reciprocal(x), [P], True),
    ("sign", lambda o, x: o.sign(x), [Q], False),
    ("relu", lambda o, x: o.relu(x), [Q], True),
    ("relu6", lambda o, x: o.relu6(x * 5), [Q], True),
    ("sigmoid", lambda o, x: o.sigmoid(x), [Q], True),
    ("tanh", lambda o, x: o.tanh(x), [Q], True),
    ("softplus", lambda o, x: o.softplus(x * 30), [Q], True),
    ("silu", lambda o, x: o.silu(x), [Q], True),
    ("swish", lambda o, x: o.swish(x), [Q], True),
    ("elu", lambda o, x: o.elu(x, alpha=0.7), [Q], True),
    ("leaky_relu", lambda o, x: o.leaky_relu(x), [Q], True),
    ("leaky_relu_slope", lambda o, x: o.leaky_relu(x, negative_slope=0.05), [Q], True),
    ("gelu", lambda o, x: o.gelu(x), [Q], True),
    ("softmax", lambda o, x: o.softmax(x), [A], True),
    ("softmax_axis", lambda o, x: o.softmax(x, axis=1), [A], True),
    ("log_softmax", lambda o, x: o.log_softmax(x), [A], True),
    ("add", lambda o, x, y: o.add(x, y), [M, V], True),
    ("add_scalar", lambda o, x: o.add(x, 2.0), [M], True),
    ("subtract", lambda o, x, y: o.subtract(x, y), [M, Q], True),
    ("multiply", lambda o, x, y: o.multiply(x, y), [M, V], True),
    ("divide", lambda o, x, y: o.divide(x, y), [Q, P], True),
    ("true_divide", lambda o, x, y: o.true_divide(x, y), [Q, P], True),
    ("power", lambda o, x, y: o.power(x, y), [P, Q], True),
    ("power_scalar", lambda o, x: o.power(x, 3.0), [Q], True),
    ("maximum", lambda o, x, y: o.maximum(x, y), [M, Q], True),
    ("minimum", lambda o, x, y: o.minimum(x, y), [M, Q], True),
    ("clip", lambda o, x: o.clip(x, -0.5, 0.7), [Q], True),
    ("where", lambda o, x, y: o.where(o.greater(x, 0), x, y), [M, Q], True),
    ("where_broadcast", lambda o, x, y: o.where(o.greater(x, 0), x, y), [M, V], True),
    ("matmul", lambda o, x, y: o.matmul(x, y), [A, B], True),
    ("matmul_2d", lambda o, x, y: o.matmul(x, y), [M, B[0]], True),
    ("matmul_vec", lambda o, x, y: o.matmul(x, y), [M, V], True),
    ("dot_2d", lambda o, x, y: o.dot(x, y), [M, B[1]], True),
    ("dot_vec", lambda o, x, y: o.dot(x, y), [V, V], True),
    ("dot_scalar", lambda o, x: o.dot(x, 2.5), [M], True),
    ("equal", lambda o, x, y: o.equal(x, y), [M, np.where(Q > 0, M, Q)], False),
    ("not_equal", lambda o, x, y: o.not_equal(x, y), [M, np.where(Q > 0, M, Q)], False),
    ("greater", lambda o, x, y: o.greater(x, y), [M, Q], False),
    ("greater_equal", lambda o, x, y: o.greater_equal(x, y), [M, Q], False),
    ("less", lambda o, x, y: o.less(x, y), [M, Q], False),
    ("less_equal", lambda o, x, y: o.less_equal(x, y), [M, Q], False),
    ("logical_and", lambda o, x, y: o.logical_and(o.greater(x, 0), o.greater(y, 0)),
     [M, Q], False),
    ("logical_or", lambda o, x, y: o.logical_or(o.greater(x, 0), o.greater(y, 0)),
     [M, Q], False),
    ("logical_not", lambda o, x: o.logical_not(o.greater(x, 0)), [M], False),
    ("isfinite", lambda o: o.isfinite(np.array([1.0, np.inf, np.nan])), [], False),
    ("isnan", lambda o: o.isnan(np.array([1.0, np.inf, np.nan])), [], False),
    ("all", lambda o, x: o.all(o.greater(x, -1.0), axis=1), [Q], False),
    ("any", lambda o, x: o.any(o.greater(x, 1.0)), [Q], False),
    ("count_nonzero", lambda o, x: o.count_nonzero(o.greater(x, 0), axis=0), [Q], False),
    ("normalize", lambda o, x: o.normalize(x), [M], True),
    ("normalize_l1_axis0", lambda o, x: o.normalize(x, axis=0, order=1), [M], True),
    ("normalize_l3", lambda o, x: o.normalize(x, order=3), [M], True),
    ("norm", lambda o, x: o.norm(x), [A], True),
    ("norm_axis", lambda o, x: o.norm(x, axis=-1, keepdims=True), [A], True),
    ("norm_l1", lambda o, x: o.norm(x, ord=1, axis=0), [M], True),
    ("norm_inf", lambda o, x: o.norm(x, ord=np.inf, axis=1), [M], True),
    ("norm_p3", lambda o, x: o.norm(x, ord=3, axis=1), [M], True),
    ("norm_ord0", lambda o, x: o.norm(o.relu(x), ord=0, axis=1), [M], False),
    ("norm_neg_inf", lambda o, x: o.norm(x, ord=-np.inf, axis=0, keepdims=True), [M], True),
    ("norm_fro", lambda o, x: o.norm(x, ord="fro", axis=(1, 2)), [A], True),
    ("norm_matrix_1", lambda o, x: o.norm(x, ord=1, axis=(0, 1)), [M], True),
    ("norm_matrix_inf", lambda o, x: o.norm(x, ord=np.inf, axis=(1, 2)), [A], True),
    ("norm_matrix_neg1", lambda o, x: o.norm(x, ord=-1), [M], True),
    ("average", lambda o, x: o.average(x, axis=1), [M], True),
    ("average_weights", lambda o, x, w: o.average(x, axis=1, weights=w), [M, P[0]], True),
    ("linspace", lambda o: o.linspace(0.0, 1.0, 7), [], False),
    ("linspace_open", lambda o: o.linspace(2.0, 3.0, 4, endpoint=False), [], False),
    ("cumsum", lambda o, x: o.cumsum(x, axis=1), [A], True),
    ("cumsum_flat", lambda o, x: o.cumsum(x), [M], True),
    ("sort", lambda o, x: o.sort(x), [A], True),
    ("sort_axis0", lambda o, x: o.sort(x, axis=0), [M], True),
    ("top_k_values", lambda o, x: o.top_k(x, 2)[0], [A], True),
    ("top_k_indices", lambda o, x: o.top_k(x, 3)[1], [M], False),
    ("hard_sigmoid", lambda o, x: o.hard_sigmoid(x * 3), [Q], True),
    ("log_sigmoid", lambda o, x: o.log_sigmoid(x * 20), [Q], True),
    ("floor", lambda o, x: o.floor(x * 3), [Q], False),
    ("ceil", lambda o, x: o.ceil(x * 3), [Q], False),
    ("round", lambda o, x: o.round(x * 3), [Q], False),
    ("round_decimals", lambda o, x: o.round(x, 1), [Q], False),
    ("binary_crossentropy", lambda o, t, p: o.binary_crossentropy(t, p),
     [(Q > 0).astype(float), (P - 0.4) / 1.7], True),
    ("binary_crossentropy_logits", lambda o, t, p: o.binary_crossentropy(t, p, True),
     [(Q > 0).astype(float), Q], True),
    ("categorical_crossentropy", lambda o, t, p: o.categorical_crossentropy(t, p),
     [np.eye(4)[[0, 3, 1]], P], True),
    ("categorical_crossentropy_logits_axis0",
     lambda o, t, p: o.categorical_crossentropy(t, p, from_logits=True, axis=0),
     [np.eye(3)[[0, 2, 1, 1]].T, Q], True),
    ("sparse_categorical_crossentropy",
     lambda o, t, p: o.sparse_categorical_crossentropy(t, p), [np.array([0, 3, 1]), P], True),
    ("sparse_categorical_crossentropy_logits",
     lambda o, t, p: o.sparse_categorical_crossentropy(t, p, from_logits=True),
     [np.array([2, 0, 1]), Q], True),
]
IDS = [c[0] for c in CASES]


def _numpy(keras, x):
    return keras.ops.convert_to_numpy(x) if not isinstance(x, np.ndarray) else x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_op_matches_keras(keras, case, dtype):
    name, call, inputs, _ = case
    inputs = [x.astype(dtype) for x in inputs]
    got = call(ops, *inputs)
    want = _numpy(keras, call(keras.ops, *[keras.ops.convert_to_tensor(x) for x in inputs]))
    got_np = ops.convert_to_numpy(got)
    assert got_np.shape == want.shape, name
    if name == "top_k_indices":           # Keras-torch gives int64, TF int32: both ints
        assert got_np.dtype.kind == want.dtype.kind == "i"
    elif dtype == "float64" and inputs and want.dtype == np.float32 and name != "cast_f32":
        assert got_np.dtype == np.float64, name   # pycnn keeps float64 (Keras-torch may not)
    else:
        assert got_np.dtype == want.dtype, f"{name}: {got_np.dtype} vs Keras' {want.dtype}"
    # 1e-6 for float64 too: Keras' torch backend reduces some float64 means in float32
    np.testing.assert_allclose(got_np, want, rtol=1e-5, atol=1e-6)
    if got_np.dtype.kind == "f":
        assert isinstance(got, pycnn.Tensor)


@pytest.mark.parametrize("case", [c for c in CASES if c[3]], ids=[c[0] for c in CASES if c[3]])
def test_differentiable_op_gradcheck(case):
    name, call, inputs, _ = case
    # copies: gradcheck nudges each input's memory, and two inputs may be one array
    inputs = [np.array(x, np.float64) for x in inputs]
    if "crossentropy" in name:              # the target is data, not a variable
        target = inputs.pop(0)
        assert pycnn.gradcheck(lambda p: call(ops, target, p), inputs)
    else:
        assert pycnn.gradcheck(lambda *xs: call(ops, *xs), inputs)


def test_dot_of_nd_tensors_is_numpys_dot():
    """Keras documents np.dot's rule (sum over x1's last axis and x2's second-to-last);
    its torch backend calls torch.matmul instead, so NumPy is the oracle here."""
    got = ops.dot(A, B)
    np.testing.assert_allclose(got.numpy(), np.dot(A, B), rtol=1e-12)
    assert got.shape == (2, 3, 2, 3)
    assert pycnn.gradcheck(ops.dot, [A, B])


def test_average_with_full_weights_is_numpys():
    """Keras-torch divides by the weights summed over the last axis only when axis is None
    (a vector, not np.average's scalar); NumPy is the oracle here."""
    got = ops.average(M, weights=P)
    np.testing.assert_allclose(got.numpy(), np.average(M, weights=P), rtol=1e-12)
    assert pycnn.gradcheck(lambda x, w: ops.average(x, weights=w), [M.copy(), P.copy()])
    np.testing.assert_allclose(ops.average(M, axis=0, weights=P[:, 0]).numpy(),
                               np.average(M, axis=0, weights=P[:, 0]), rtol=1e-12)


def test_where_does_not_leak_the_branch_not_taken():
    x = pycnn.tensor(np.array([1.0, np.inf, -2.0]), requires_grad=True)
    y = pycnn.tensor(np.array([np.nan, 5.0, 7.0]), requires_grad=True)
    out = ops.where(np.array([True, False, True]), x, y)
    np.testing.assert_array_equal(out.numpy(), [1.0, 5.0, -2.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 1.0, 0.0])


def test_where_without_branches_gives_the_indices(keras):
    cond = M > 0
    got = ops.where(cond)
    want = keras.ops.where(keras.ops.convert_to_tensor(cond))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, keras.ops.convert_to_numpy(w))


def test_conversions_and_metadata_match_keras(keras):
    for data in ([1.0, 2.0], [1, 2], np.arange(3), np.ones(2), np.ones(2, np.float32), 3.0,
                 [True, False]):
        got = ops.convert_to_numpy(ops.convert_to_tensor(data))
        want = keras.ops.convert_to_numpy(keras.ops.convert_to_tensor(data))
        assert got.dtype == want.dtype, (data, got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want)
    x = ops.convert_to_tensor(A)
    assert ops.shape(x) == tuple(keras.ops.shape(keras.ops.convert_to_tensor(A)))
    assert ops.ndim(x) == 3 and ops.size(x) == A.size and ops.dtype(x) == "float64"
    assert ops.convert_to_tensor(x) is x
    assert ops.convert_to_tensor(x, dtype="float32").dtype == np.float32


def test_split_matches_keras(keras):
    for arg in (2, [1, 3]):
        got = ops.split(ops.convert_to_tensor(M), arg, axis=1)
        want = keras.ops.split(keras.ops.convert_to_tensor(M), arg, axis=1)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), keras.ops.convert_to_numpy(w))
    assert pycnn.gradcheck(lambda x: ops.split(x, [1, 3], axis=1)[1], [M])


def test_convert_to_numpy_copies_and_stop_gradient_cuts():
    x = pycnn.tensor(np.ones(3), requires_grad=True)
    a = ops.convert_to_numpy(x)
    a[0] = 5.0
    assert x.numpy()[0] == 1.0
    y = ops.multiply(ops.stop_gradient(x), x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))


def test_cast_between_floats_is_differentiable():
    x = pycnn.tensor(V, requires_grad=True)
    y = ops.cast(x, "float32")
    assert y.dtype == np.float32
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(4, 3.0))


def test_ops_compose_into_a_keras_style_loss():
    y_true, y_pred = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
    assert pycnn.gradcheck(lambda p: ops.mean(ops.square(ops.subtract(y_true, p)), axis=-1),
                           [y_pred])


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: ops.squeeze(np.ones((2, 3)), axis=0), ValueError, "has length 2"),
    (lambda: ops.expand_dims(np.ones(2), 3), ValueError, "out of range"),
    (lambda: ops.broadcast_to(np.ones(3), (2, 4)), ValueError, "cannot broadcast"),
    (lambda: ops.one_hot([0, 5], 3), ValueError, "out of range for num_classes=3"),
    (lambda: ops.take(np.ones(3), [0.5]), TypeError, "integers"),
    (lambda: ops.split(np.ones(5), 2), ValueError, "equal sections"),
    (lambda: ops.where(np.ones(2, bool), np.ones(2)), ValueError, "both"),
    (lambda: ops.dot(np.ones((2, 3)), np.ones((2, 4, 5))), ValueError, "do not fit"),
    (lambda: ops.cast(np.ones(2), "complex_thing"), ValueError, "unknown dtype"),
    (lambda: ops.gelu(np.ones(2), approximate=False), ValueError, "erf"),
    (lambda: ops.norm(np.ones((2, 2)), ord=2, axis=(0, 1)), ValueError, "singular value"),
    (lambda: ops.norm(np.ones((2, 2, 2)), ord=1), ValueError, "1-D or 2-D"),
    (lambda: ops.norm(np.ones(3), ord="fro", axis=0), ValueError, "matrix norm"),
    (lambda: ops.normalize(np.ones(3), order=0.5), ValueError, ">= 1"),
    (lambda: ops.average(np.ones((2, 3)), axis=1, weights=np.ones(2)), ValueError,
     "2 weights for axis 1 of length 3"),
    (lambda: ops.average(np.ones((2, 3)), weights=np.ones(3)), ValueError, "do not fit"),
    (lambda: ops.top_k(np.ones((2, 3)), 4), ValueError, r"k=4 must be in \[1, 3\]"),
    (lambda: ops.sparse_categorical_crossentropy([0, 5], np.full((2, 3), 0.3)), ValueError,
     "not a class index"),
])
def test_bad_input_raises_clearly(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_every_public_name_is_in_keras_ops(keras):
    missing = [n for n in ops.__all__ if not hasattr(keras.ops, n)]
    assert missing == []
