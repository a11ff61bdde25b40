"""DepthwiseConv2D, SeparableConv2D and pycnn.depthwise_conv2d (py/conv2d.c,
autograd/ops_conv_depthwise.c, kernels/conv_depthwise.h): the NumPy twins, float64 gradchecks,
results independent of the thread count, and PyTorch (conv2d with groups = C) and Keras 3
(torch backend) as oracles on the same weights, for outputs and summaries."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
import reference as ref
from helpers import check_op, keras_output, same_weights
from pycnn.layers import DepthwiseConv2D, SeparableConv2D

# (kernel, strides, padding, dilation, depth_multiplier)
GEOMETRIES = [((3, 3), (1, 1), "same", (1, 1), 1), ((3, 3), (2, 2), "same", (1, 1), 1),
              ((3, 3), (1, 1), "valid", (1, 1), 2), ((2, 3), (2, 1), "valid", (1, 1), 3),
              ((3, 3), (1, 1), "same", (2, 2), 1), ((3, 2), (1, 1), "valid", (2, 1), 2),
              ((5, 5), (2, 2), "same", (1, 1), 1), ((1, 1), (1, 1), "valid", (1, 1), 2)]
IDS = [f"k{k[0]}x{k[1]}-s{s[0]}x{s[1]}-{p}-d{d[0]}x{d[1]}-m{m}" for k, s, p, d, m in GEOMETRIES]


@pytest.mark.parametrize("kernel, strides, padding, dilation, m", GEOMETRIES, ids=IDS)
def test_forward_matches_reference_and_gradcheck(kernel, strides, padding, dilation, m):
    check_op(lambda x, w, b: pycnn.depthwise_conv2d(x, w, b, strides, padding, dilation),
             lambda x, w, b: ref.depthwise_conv2d(x, w, b, strides, padding, dilation),
             [(2, 6, 5, 3), kernel + (3, m), (3 * m,)])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softmax"])
def test_fused_activation_and_no_bias_gradcheck(activation):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 5, 5, 4)), rng.standard_normal((3, 3, 4, 2))
    fn = pycnn.activations.get(activation)
    got = pycnn.depthwise_conv2d(x, w, padding="same", activation=activation).numpy()
    np.testing.assert_allclose(got, fn(pycnn.tensor(ref.depthwise_conv2d(x, w, None, (1, 1),
                                                                         "same"))).numpy(),
                               atol=1e-12)
    assert pycnn.gradcheck(lambda t, k: pycnn.depthwise_conv2d(t, k, padding="same",
                                                               activation=activation), [x, w])


def test_gradients_accumulate_when_the_input_feeds_twice():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((3, 3, 2, 1))
    assert pycnn.gradcheck(lambda t: pycnn.depthwise_conv2d(t, w, padding="same")
                           + pycnn.depthwise_conv2d(t * 2.0, w, strides=2, padding="same")
                           .reshape((1, 2, 2, 2)).sum(), [x])


def _run(x, w, b, threads):
    previous = pycnn.get_num_threads()
    pycnn.set_num_threads(threads)
    try:
        xt, wt, bt = (pycnn.tensor(a, requires_grad=True) for a in (x, w, b))
        y = pycnn.depthwise_conv2d(xt, wt, bt, padding="same", activation="relu")
        (y * y).sum().backward()
        return y.numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()
    finally:
        pycnn.set_num_threads(previous)


# M = 2 runs the plain route; M = 1 over 37 channels the fast one (two register blocks
# and a tail), dx split over input rows
@pytest.mark.parametrize("c, m", [(16, 2), (37, 1)])
def test_bit_identical_for_any_thread_count(c, m):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((37, 11, 12, c)).astype(np.float32)
    w = rng.standard_normal((3, 3, c, m)).astype(np.float32)
    b = rng.standard_normal(c * m).astype(np.float32)
    one = _run(x, w, b, 1)
    for threads in (2, 3, 4):
        for a, r in zip(one, _run(x, w, b, threads)):
            assert np.array_equal(a, r)


# One filter per channel (M = 1) over 19 channels: the fast route's 16-channel register
# block and a 3-channel tail (kernels/conv_depthwise_impl.h); the 9×9 window (81 taps) is
# past the fast route's 64 taps and runs the plain one
FAST_GEOMETRIES = [((3, 3), (1, 1), "same", (1, 1)), ((3, 3), (2, 2), "same", (1, 1)),
                   ((3, 2), (2, 1), "valid", (1, 2)), ((5, 5), (1, 1), "same", (2, 2)),
                   ((9, 9), (1, 1), "same", (1, 1))]


@pytest.mark.parametrize("kernel, strides, padding, dilation", FAST_GEOMETRIES,
                         ids=[f"k{k[0]}x{k[1]}-s{s[0]}x{s[1]}-{p}-d{d[0]}x{d[1]}"
                              for k, s, p, d in FAST_GEOMETRIES])
def test_one_filter_per_channel_with_a_channel_tail(kernel, strides, padding, dilation):
    check_op(lambda x, w, b: pycnn.depthwise_conv2d(x, w, b, strides, padding, dilation),
             lambda x, w, b: ref.depthwise_conv2d(x, w, b, strides, padding, dilation),
             [(1, 7, 6, 19), kernel + (19, 1), (19,)])


@pytest.mark.parametrize("kernel, strides, padding, dilation, m", GEOMETRIES, ids=IDS)
def test_matches_torch_conv2d_with_groups_equal_channels(torch, kernel, strides, padding,
                                                         dilation, m):
    """Keras' depthwise kernel (kh, kw, C, M) is torch's (C·M, 1, kh, kw) with groups=C,
    output channel c·M + m in both; 'same' is torch's padding on the input Keras pads."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal(kernel + (3, m))
    b = rng.standard_normal(3 * m)
    y = pycnn.depthwise_conv2d(x, w, b, strides, padding, dilation).numpy()
    xp = x
    if padding == "same":
        pads = []
        for n, k, s, d in zip(x.shape[1:3], kernel, strides, dilation):
            total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(xp.transpose(0, 3, 1, 2)),
        torch.from_numpy(w.reshape(kernel + (1, 3 * m)).transpose(3, 2, 0, 1)),
        torch.from_numpy(b), stride=strides, dilation=dilation, groups=3).numpy()
    assert np.max(np.abs(y - expected.transpose(0, 2, 3, 1))) <= 1e-12


@pytest.mark.parametrize("kernel, strides, padding, dilation, m", GEOMETRIES, ids=IDS)
def test_depthwise_layer_matches_keras(keras, kernel, strides, padding, dilation, m):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 6, 3))
    kwargs = dict(strides=strides, padding=padding, depth_multiplier=m, dilation_rate=dilation,
                  activation="relu", dtype="float64")
    ours, theirs = DepthwiseConv2D(kernel, **kwargs), keras.layers.DepthwiseConv2D(kernel,
                                                                                   **kwargs)
    same_weights(ours, theirs, rng, (None, 7, 6, 3))
    expected = keras_output(keras, theirs, x)
    got = ours(x).numpy()
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-12
    assert ours.compute_output_shape((None, 7, 6, 3)) == \
        tuple(theirs.compute_output_shape((None, 7, 6, 3)))
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("kernel, strides, padding, dilation, m", GEOMETRIES[:5], ids=IDS[:5])
def test_separable_layer_matches_keras_and_reference(keras, kernel, strides, padding,
                                                     dilation, m):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 7, 6, 3))
    kwargs = dict(strides=strides, padding=padding, depth_multiplier=m, dilation_rate=dilation,
                  activation="tanh", dtype="float64")
    ours, theirs = SeparableConv2D(5, kernel, **kwargs), keras.layers.SeparableConv2D(
        5, kernel, **kwargs)
    same_weights(ours, theirs, rng, (None, 7, 6, 3))
    expected = keras_output(keras, theirs, x)
    got = ours(x).numpy()
    dk, pk, b = ours.get_weights()
    np.testing.assert_allclose(got, np.tanh(ref.separable_conv2d(x, dk, pk, b, strides, padding,
                                                                 dilation)), atol=1e-12)
    assert np.max(np.abs(got - expected)) <= 1e-12
    assert ours.count_params() == theirs.count_params()
    assert pycnn.gradcheck(lambda t: ours(t), [x[:1]])


def test_separable_gradcheck_through_every_weight():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 5, 5, 2))
    dk, pk, b = (rng.standard_normal(s) for s in ((3, 3, 2, 2), (1, 1, 4, 3), (3,)))
    assert pycnn.gradcheck(
        lambda t, d, p, c: pycnn.conv2d(pycnn.depthwise_conv2d(t, d, None, 2, "same"), p, c,
                                        activation="sigmoid"), [x, dk, pk, b])


def test_summaries_and_configs_match_keras(keras):
    model = pycnn.models.Sequential([
        pycnn.Input((28, 28, 8)), DepthwiseConv2D(3, strides=2, padding="same"),
        SeparableConv2D(16, 3, padding="same", depth_multiplier=2, use_bias=False),
        DepthwiseConv2D((3, 1), depth_multiplier=3, use_bias=False)])
    kmodel = keras.Sequential([
        keras.Input((28, 28, 8)), keras.layers.DepthwiseConv2D(3, strides=2, padding="same"),
        keras.layers.SeparableConv2D(16, 3, padding="same", depth_multiplier=2,
                                     use_bias=False),
        keras.layers.DepthwiseConv2D((3, 1), depth_multiplier=3, use_bias=False)])
    assert model.count_params() == kmodel.count_params() == 80 + (144 + 256) + 144
    assert [layer.count_params() for layer in model.layers] == \
        [layer.count_params() for layer in kmodel.layers]
    assert [tuple(layer.output.shape) for layer in model.layers] == \
        [tuple(layer.output.shape) for layer in kmodel.layers]
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(None, 14, 14, 8)" in line and "80" in line for line in lines)
    for ours, theirs in zip(model.layers, kmodel.layers):
        config, kconfig = ours.get_config(), theirs.get_config()
        assert set(kconfig) - {"dtype"} <= set(config)
        for key in kconfig.keys() - {"name", "dtype", "depthwise_initializer",
                                     "pointwise_initializer", "bias_initializer"}:
            value = kconfig[key]
            assert (tuple(value) if isinstance(value, (list, tuple)) else value) == \
                config[key], key
        twin = type(ours).from_config(config)
        assert twin.get_config() == config
    assert model.layers[0].name.startswith("depthwise_conv2d")
    assert model.layers[1].name.startswith("separable_conv2d")
    assert model.layers[0].depthwise_kernel is model.layers[0].kernel


def test_trains_and_saves(tmp_path):
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((16, 8, 8, 3)).astype("float32"), rng.integers(0, 2, 16)
    model = pycnn.models.Sequential([
        pycnn.Input((8, 8, 3)), DepthwiseConv2D(3, padding="same", activation="relu"),
        SeparableConv2D(4, 3, strides=2, activation="relu"),
        pycnn.layers.Flatten(), pycnn.layers.Dense(2)])
    model.compile("adam", pycnn.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    reg = DepthwiseConv2D(3, depthwise_regularizer=pycnn.regularizers.L2(0.5),
                          bias_regularizer=pycnn.regularizers.L1(0.25), dtype="float64")
    reg(x[:1].astype("float64"))
    k, b = reg.get_weights()
    b = np.arange(3.0) - 1
    reg.set_weights([k, b])
    np.testing.assert_allclose(sum(float(loss.numpy()) for loss in reg.losses),
                               0.5 * (k ** 2).sum() + 0.25 * np.abs(b).sum())
    path = str(tmp_path / "m.keras")
    model.save(path)
    back = pycnn.models.load_model(path)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: DepthwiseConv2D(3, depth_multiplier=0), ValueError,
     r"DepthwiseConv2D: .*depth_multiplier.*Received depth_multiplier=0"),
    (lambda: DepthwiseConv2D(0), ValueError, r"DepthwiseConv2D: .*kernel_size"),
    (lambda: DepthwiseConv2D(3, padding="causal"), ValueError,
     r"DepthwiseConv2D: the `padding` argument .* Received padding='causal'"),
    (lambda: DepthwiseConv2D(3, strides=2, dilation_rate=2), ValueError,
     r"DepthwiseConv2D: `strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (lambda: DepthwiseConv2D(3, depthwise_constraint="non_neg"), ValueError,
     r"DepthwiseConv2D: depthwise_constraint not supported"),
    (lambda: DepthwiseConv2D(3, data_format="channels_first"), ValueError, r"channels_last"),
    (lambda: DepthwiseConv2D(3)(np.ones((1, 4, 4))), ValueError,
     r"depthwise_conv2d_\d+: expected an input of rank 4"),
    (lambda: SeparableConv2D(0, 3), ValueError, r"SeparableConv2D: .*filters=0"),
    (lambda: SeparableConv2D(4, 5)(np.ones((1, 4, 4, 2))), ValueError,
     r"kernel 5x5 is larger than the 4x4 input"),
    (lambda: pycnn.depthwise_conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 3, 1))), ValueError,
     r"depthwise_conv2d: input has 2 channels but kernel expects 3"),
    (lambda: pycnn.depthwise_conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 2)), np.ones(2)),
     ValueError, r"depthwise_conv2d: bias of shape \(2,\), expected \(4,\) \(one per output "
                 r"channel\)"),
    (lambda: pycnn.depthwise_conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2))), ValueError,
     r"depthwise_conv2d: expected a 4-D depthwise kernel"),
    (lambda: pycnn.depthwise_conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 0))), ValueError,
     r"depthwise_conv2d: kernel of shape \(3, 3, 2, 0\) has no .* depth multiplier"),
    (lambda: pycnn.depthwise_conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 1)),
                                    activation="nope"), ValueError, r"nope"),
    (lambda: pycnn.depthwise_conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 1)), groups=2),
     TypeError, r"groups"),
])
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_summary_arithmetic_shows_each_kernel():
    from pycnn.summary import layer_arithmetic
    cases = [(pycnn.layers.Conv2D(16, 3, groups=4), (None, 8, 8, 8), "(3·3·8/4 + 1) · 16 = 304"),
             (DepthwiseConv2D(3, depth_multiplier=2), (None, 8, 8, 8), "(3·3 + 1) · 8·2 = 160"),
             (DepthwiseConv2D(3, use_bias=False), (None, 8, 8, 8), "3·3 · 8 = 72"),
             (SeparableConv2D(5, 3, use_bias=False), (None, 8, 8, 8),
              "3·3·8 + 8 · 5 = 112"),
             (pycnn.layers.Conv1D(6, 3, groups=2), (None, 10, 4), "(3·4/2 + 1) · 6 = 42")]
    for layer, shape, expected in cases:
        layer.build(shape)
        assert layer_arithmetic(layer, shape) == expected
        assert expected.endswith(f"= {layer.count_params()}")
