"""Activations beyond the core maps: leaky_relu, elu, swish (trainable β), softmax,
log_softmax, naive_normalize, maxout, and resolving activations by name."""
import os

import numpy as np
import pytest

import pycnn
import reference as ref
from helpers import check_op


def away_from_zero(rng, shape, gap=0.1):
    """Random values with |x| >= gap: finite differences never straddle a kink."""
    x = rng.uniform(-2, 2, shape)
    return np.sign(x) * (np.abs(x) + gap)


# ---- forward vs NumPy and float64 gradcheck -----------------------------------------

@pytest.mark.parametrize("alpha", [None, 0.3])
def test_leaky_relu(alpha, rng):
    kw = {} if alpha is None else {"alpha": alpha}
    check_op(lambda x: pycnn.leaky_relu(x, **kw), lambda x: ref.leaky_relu(x, **kw), None,
             inputs=[away_from_zero(rng, (4, 5))])


@pytest.mark.parametrize("alpha", [None, 0.5])
def test_elu(alpha, rng):
    kw = {} if alpha is None else {"alpha": alpha}
    check_op(lambda x: pycnn.elu(x, **kw), lambda x: ref.elu(x, **kw), None,
             inputs=[away_from_zero(rng, (4, 5))])


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_swish_with_fixed_beta(beta, rng):
    check_op(lambda x: pycnn.swish(x, beta), lambda x: ref.swish(x, beta), [(4, 5)], rng=rng)


@pytest.mark.parametrize("beta_shape", [(), (1,)])
def test_swish_with_trainable_beta(beta_shape, rng):
    x = rng.standard_normal((3, 4))
    beta = np.full(beta_shape, 1.3)
    assert pycnn.gradcheck(pycnn.swish, [x, beta])
    b = pycnn.tensor(beta, requires_grad=True)
    y = pycnn.swish(pycnn.tensor(x), b)
    assert y.op == "swish" and y.parents[1] is b
    y.backward(np.ones(x.shape))
    s = ref.sigmoid(1.3 * x)
    np.testing.assert_allclose(b.grad.numpy(), np.full(beta_shape, np.sum(x * x * s * (1 - s))))


def test_swish_beta_float64_promotes_float32_input():
    y = pycnn.swish(pycnn.tensor([1.0, -2.0]), pycnn.tensor(np.array(2.0)))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), ref.swish(np.array([1.0, -2.0]), 2.0))


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0),
                                        ((2, 3, 4), 1), ((2, 3, 4), -3)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_along_any_axis(name, shape, axis, rng):
    check_op(lambda z: getattr(pycnn, name)(z, axis=axis),
             lambda z: getattr(ref, name)(z, axis=axis), [shape], rng=rng)


@pytest.mark.parametrize("axis", [-1, 0])
def test_naive_normalize(axis, rng):
    check_op(lambda z: pycnn.naive_normalize(z, axis=axis),
             lambda z: ref.naive_normalize(z, axis=axis), [(3, 4)], positive=True, rng=rng)


@pytest.mark.parametrize("shape,pieces,axis", [((3, 6), 3, -1), ((2, 4, 3), 2, 1),
                                               ((2, 2, 2, 8), 4, -1), ((5,), 5, 0)])
def test_maxout(shape, pieces, axis, rng):
    x = rng.permutation(np.arange(np.prod(shape), dtype=float)).reshape(shape) / 7.0  # no ties
    check_op(lambda t: pycnn.maxout(t, pieces, axis=axis),
             lambda t: ref.maxout(t, pieces, axis=axis), None, inputs=[x])


# ---- the lecture's numbers and the properties it states ----------------------------

def test_naive_normalize_lecture_example():
    np.testing.assert_array_equal(pycnn.naive_normalize(pycnn.tensor([1, -1, 2])).numpy(),
                                  np.float32([0.5, -0.5, 1.0]))


def test_softmax_is_a_distribution_that_keeps_order(rng):
    z = rng.standard_normal((50, 10)) * 3
    p = pycnn.softmax(pycnn.tensor(z)).numpy()
    assert np.all((p > 0) & (p < 1))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(np.argsort(p, axis=-1), np.argsort(z, axis=-1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_stable_at_1000(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, 1000.0]], dtype=dtype)
    with np.errstate(all="raise"):
        p = pycnn.softmax(pycnn.tensor(z)).numpy()
        lp = pycnn.log_softmax(pycnn.tensor(z)).numpy()
    np.testing.assert_array_equal(p[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_array_equal(lp[0], [0.0, -2000.0, -1000.0])
    np.testing.assert_allclose(lp[1], [-np.log(3)] * 3, rtol=1e-6)
    t = pycnn.tensor(z, requires_grad=True)
    pycnn.log_softmax(t).backward(np.ones(z.shape, dtype=dtype))
    assert np.all(np.isfinite(t.grad.numpy()))


def test_maxout_groups_consecutive_features():
    x = pycnn.tensor([[1.0, 5.0, 2.0, 7.0, 3.0, 0.0]], requires_grad=True)
    y = pycnn.maxout(x, 3)
    np.testing.assert_array_equal(y.numpy(), [[5.0, 7.0]])
    y.backward(np.array([[10.0, 20.0]], dtype=np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 10, 0, 20, 0, 0]])


def test_maxout_tie_goes_to_first_piece():
    x = pycnn.tensor([[2.0, 2.0]], requires_grad=True)
    pycnn.maxout(x, 2).backward(np.ones((1, 1), dtype=np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0]])


def test_kink_slopes_documented():
    x = pycnn.tensor([0.0], requires_grad=True)
    pycnn.relu(x).backward(np.ones(1, dtype=np.float32))
    assert x.grad.numpy()[0] == 0.0                     # relu: 0 at 0
    x.grad = None
    pycnn.leaky_relu(x).backward(np.ones(1, dtype=np.float32))
    assert x.grad.numpy()[0] == np.float32(0.1)         # α at 0, as PyTorch
    x.grad = None
    pycnn.elu(x, alpha=2.0).backward(np.ones(1, dtype=np.float32))
    assert x.grad.numpy()[0] == 2.0


def test_leaky_relu_default_is_the_lectures_point_one():
    np.testing.assert_allclose(pycnn.leaky_relu(pycnn.tensor([-10.0])).numpy(), [-1.0])


def test_ops_record_their_names():
    x = pycnn.tensor([[1.0, 2.0]], requires_grad=True)
    for fn, name in ((pycnn.leaky_relu, "leaky_relu"), (pycnn.elu, "elu"),
                     (pycnn.swish, "swish"), (pycnn.softmax, "softmax"),
                     (pycnn.log_softmax, "log_softmax"),
                     (pycnn.naive_normalize, "naive_normalize")):
        y = fn(x)
        assert y.op == name and y.parents[0] is x
    assert pycnn.maxout(x, 2).op == "maxout"


# ---- bad input ------------------------------------------------------------------------

def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"maxout: pieces must be a positive divisor of the 5 "
                                         r"features along axis -1, got pieces=2"):
        pycnn.maxout(pycnn.tensor(np.ones((2, 5))), 2)
    with pytest.raises(ValueError, match="maxout.*pieces=0"):
        pycnn.maxout(pycnn.tensor(np.ones((2, 4))), 0)
    with pytest.raises(ValueError, match="softmax: axis 2 is out of range for a tensor of 2 "
                                         "dimensions"):
        pycnn.softmax(pycnn.tensor(np.ones((2, 3))), axis=2)
    with pytest.raises(ValueError, match="log_softmax: axis -1 is out of range.*0 dimensions"):
        pycnn.log_softmax(pycnn.tensor(np.float32(1.0)))
    with pytest.raises(ValueError, match=r"swish: beta must hold one value, got shape \(2,\)"):
        pycnn.swish(pycnn.tensor([1.0, 2.0]), pycnn.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="leaky_relu"):
        pycnn.leaky_relu("abc")
    with pytest.raises(TypeError):
        pycnn.elu(pycnn.tensor([1.0]), alpha="big")


# ---- pycnn.activations.get / serialize ------------------------------------------------

@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "log_softmax",
                                  "leaky_relu", "elu", "swish", "linear"])
def test_get_resolves_keras_names(name, rng):
    fn = pycnn.activations.get(name)
    assert fn.__name__ == name
    assert pycnn.activations.serialize(fn) == name
    z = rng.standard_normal((2, 3)).astype(np.float32)
    out = fn(pycnn.tensor(z))
    assert isinstance(out, pycnn.Tensor)
    expected = {"linear": lambda v: v, "tanh": np.tanh}.get(name) or getattr(ref, name)
    np.testing.assert_allclose(out.numpy(), expected(z), rtol=1e-5, atol=1e-6)


def test_get_none_callable_and_core_functions():
    act = pycnn.activations
    assert act.get(None) is act.linear and act.serialize(None) == "linear"
    assert act.get("relu") is pycnn.relu and act.get("softmax") is pycnn.softmax
    assert act.get("silu") is pycnn.swish

    def mine(x):
        return x * 2

    assert act.get(mine) is mine and act.serialize(mine) == "mine"
    t = pycnn.tensor([1.0])
    assert act.linear(t) is t
    assert isinstance(act.linear(np.ones(2)), pycnn.Tensor)


def test_get_rejects_unknown_names_and_types():
    with pytest.raises(ValueError, match="unknown activation 'rellu'; known: .*relu"):
        pycnn.activations.get("rellu")
    with pytest.raises(TypeError, match="got int"):
        pycnn.activations.get(3)
    import functools
    with pytest.raises(ValueError, match="cannot name"):
        pycnn.activations.serialize(functools.partial(pycnn.leaky_relu, alpha=0.2))


def test_empty_axes_give_empty_results():
    for fn in (pycnn.softmax, pycnn.log_softmax, pycnn.naive_normalize):
        assert fn(pycnn.tensor(np.ones((3, 0)))).shape == (3, 0)
    assert pycnn.maxout(pycnn.tensor(np.ones((2, 0))), 2).shape == (2, 0)


def test_agrees_with_pytorch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = away_from_zero(rng, (3, 6))
    cases = [
        (lambda t: pycnn.leaky_relu(t, 0.1), lambda t: F.leaky_relu(t, 0.1)),
        (lambda t: pycnn.elu(t, 0.7), lambda t: F.elu(t, 0.7)),
        (pycnn.swish, F.silu),
        (lambda t: pycnn.softmax(t, axis=0), lambda t: F.softmax(t, dim=0)),
        (pycnn.log_softmax, lambda t: F.log_softmax(t, dim=-1)),
        (pycnn.softplus, F.softplus),
        (pycnn.gelu, F.gelu),                   # torch's default: approximate='none'
    ]
    seed = rng.standard_normal(x.shape)
    for ours, theirs in cases:
        t, tt = pycnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        a, b = ours(t), theirs(tt)
        a.backward(seed)
        b.backward(torch.tensor(seed))
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")
def test_softplus_and_gelu_match_keras_defaults(rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = np.concatenate([rng.standard_normal(20) * 4, [-30.0, -5.0, 0.0, 5.0, 30.0]])
    x = x.astype(np.float32)
    for name in ("softplus", "gelu"):       # keras.activations.gelu: approximate=False
        theirs = keras.ops.convert_to_numpy(keras.activations.get(name)(x))
        ours = pycnn.activations.get(name)(pycnn.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-6)
    layer = pycnn.layers.Dense(3, activation="gelu")
    assert layer.get_config()["activation"] == "gelu"


def test_an_axis_beyond_int_range_is_out_of_range_not_an_overflow():
    # the axis used to be parsed as a C int: 2**40 raised a bare OverflowError
    with pytest.raises(ValueError, match=r"softmax: axis 1099511627776 is out of range for a "
                                         r"tensor of 2 dimensions"):
        pycnn.softmax(pycnn.tensor(np.ones((2, 3))), axis=2**40)
    with pytest.raises(ValueError, match=r"maxout: axis -1099511627776 is out of range"):
        pycnn.maxout(pycnn.tensor(np.ones((2, 4))), 2, axis=-2**40)


@pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")
@pytest.mark.parametrize("name, torch_name", [
    ("softsign", "softsign"), ("hard_sigmoid", None), ("relu6", "relu6"), ("selu", "selu"),
    ("exponential", "exp"), ("silu", "silu"), ("linear", None)])
def test_keras_activation_names_match_keras_and_torch(rng, name, torch_name):
    """Each name Keras users type: the same values as keras.activations.get(name) and the
    torch function, the same gradient as torch's, and usable as Dense/Conv2D(activation=)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    x = np.concatenate([rng.standard_normal(30) * 4, [-7.0, -3.5, -1e-3, 1e-3, 2.9, 6.5, 9.0]])
    ours = pycnn.activations.get(name)
    theirs = keras.ops.convert_to_numpy(keras.activations.get(name)(x))
    np.testing.assert_allclose(ours(pycnn.tensor(x)).numpy(), theirs, rtol=1e-12, atol=1e-15)
    if torch_name is not None:
        t, tt = pycnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        seed = rng.standard_normal(x.shape)
        ours(t).backward(seed)
        fn = getattr(torch.nn.functional, torch_name, None) or getattr(torch, torch_name)
        fn(tt).backward(torch.tensor(seed))
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-15)
    assert pycnn.gradcheck(lambda v: ours(v), [x[np.abs(np.abs(x) - 3) > 0.01][:12]])
    for layer in (pycnn.layers.Dense(3, activation=name),
                  pycnn.layers.Conv2D(2, 1, activation=name)):
        assert layer.get_config()["activation"] == name
        y = layer(np.ones((1, 2, 2, 3)) if isinstance(layer, pycnn.layers.Conv2D)
                  else np.ones((2, 3)))
        assert y.shape[-1] in (2, 3)


def test_hard_sigmoid_is_keras_3s_not_keras_2s():
    y = pycnn.hard_sigmoid(pycnn.tensor([-3.0, -1.5, 0.0, 2.5, 3.0])).numpy()
    np.testing.assert_allclose(y, [0.0, 0.25, 0.5, 2.5 / 6 + 0.5, 1.0])


@pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")
def test_new_activation_names_convert_to_keras_torch_and_onnx(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    torch = pytest.importorskip("torch")
    pytest.importorskip("keras")
    from pycnn import interop
    pycnn.clear_session()
    pycnn.set_seed(3)
    model = pycnn.models.Sequential(
        [pycnn.layers.Dense(6, activation=a, input_shape=(5,) if i == 0 else None)
         for i, a in enumerate(("softsign", "hard_sigmoid", "relu6", "selu"))])
    x = (np.random.default_rng(4).standard_normal((7, 5)) * 4).astype(np.float32)
    want = model.predict(x, verbose=0)
    kmodel = interop.to_keras(model)
    assert np.max(np.abs(kmodel.predict(x, verbose=0) - want)) <= 1e-5
    assert [l.get_config()["activation"] for l in interop.from_keras(kmodel).layers] == \
        ["softsign", "hard_sigmoid", "relu6", "selu"]
    with torch.no_grad():
        got = interop.to_torch(model)(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(got - want)) <= 1e-5
    ort = pytest.importorskip("onnxruntime")
    interop.to_onnx(model, tmp_path / "a.onnx", opset=17)
    got = ort.InferenceSession(str(tmp_path / "a.onnx")).run(None, {"input": x})[0]
    assert np.max(np.abs(got - want)) <= 1e-5


# ---- element-wise activations split over the thread pool ------------------------------

@pytest.mark.parametrize("name", ["gelu", "softplus", "selu", "relu6", "hard_sigmoid", "silu",
                                  "elu", "leaky_relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_are_bit_identical_at_any_thread_count(name, dtype, rng):
    """arrays far above the pool's block size (32768) and of an odd length: the blocks must
    cover every element once, and each element comes out the same for 1, 2 and 3 threads"""
    x = (rng.standard_normal(200003) * 4).astype(dtype)
    x[::1001] = [0.0, 6.0, -3.0, 3.0] * 50       # the kinks of relu6 and hard_sigmoid
    seed = rng.standard_normal(x.shape).astype(dtype)
    act = pycnn.activations.get(name)
    before = pycnn.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            pycnn.set_num_threads(threads)
            t = pycnn.tensor(x, requires_grad=True)
            y = act(t)
            y.backward(seed)
            results.append((y.numpy(), t.grad.numpy()))
    finally:
        pycnn.set_num_threads(before)
    for y, g in results[1:]:
        np.testing.assert_array_equal(y, results[0][0])
        np.testing.assert_array_equal(g, results[0][1])
    # and the split did not skip or repeat a block: the same as the one-block small calls
    small = np.concatenate([act(pycnn.tensor(x[i:i + 1000])).numpy()
                            for i in range(0, x.size, 1000)])
    np.testing.assert_array_equal(results[0][0], small)


@pytest.mark.parametrize("name, lo, hi", [("relu6", 0.0, 6.0), ("hard_sigmoid", -3.0, 3.0)])
def test_clipped_slopes_are_zero_outside_and_at_the_kinks(name, lo, hi):
    lo, hi = np.float32(lo), np.float32(hi)
    x = np.array([lo - 1, lo, np.nextafter(lo, hi), 0.5 * (lo + hi), np.nextafter(hi, lo), hi,
                  hi + 1, np.nan], np.float32)
    t = pycnn.tensor(x, requires_grad=True)
    pycnn.activations.get(name)(t).backward(np.full(x.shape, 6.0, np.float32))
    slope = 6.0 if name == "relu6" else 1.0
    np.testing.assert_array_equal(t.grad.numpy(), [0, 0, slope, slope, slope, 0, 0, 0])
