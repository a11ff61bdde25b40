"""Conv2D and pycnn.conv2d: against the plain-NumPy reference, gradchecks, counts, errors."""
import json

import numpy as np
import pytest

import pycnn
from pycnn.layers import Conv2D
from tests import reference as R


@pytest.fixture(autouse=True)
def fresh_session():
    pycnn.clear_session()
    pycnn.set_seed(0)


# (H, W, C, KH, KW, F, strides, padding) — small, for gradchecks
GRAD_CASES = [
    (5, 5, 1, 3, 3, 2, (1, 1), "valid"),
    (5, 6, 2, 3, 3, 2, (1, 1), "same"),
    (6, 5, 3, 3, 3, 2, (2, 2), "valid"),
    (5, 6, 2, 3, 3, 2, (2, 2), "same"),
    (5, 6, 2, 3, 2, 3, (1, 2), "same"),      # non-square kernel, unequal strides
    (6, 4, 2, 2, 3, 2, (2, 1), "valid"),
    (4, 4, 3, 1, 1, 2, (1, 1), "valid"),     # pointwise: x itself is the patch matrix
    (4, 5, 2, 4, 4, 1, (3, 2), "same"),      # even kernel: extra padding bottom/right
]


@pytest.mark.parametrize("h,w,c,kh,kw,f,strides,padding", GRAD_CASES)
def test_conv2d_gradcheck_input_kernel_bias(h, w, c, kh, kw, f, strides, padding, rng):
    x = rng.standard_normal((2, h, w, c))
    k = rng.standard_normal((kh, kw, c, f))
    b = rng.standard_normal(f)
    fn = lambda x, k, b: pycnn.conv2d(x, k, b, strides=strides, padding=padding)  # noqa: E731
    np.testing.assert_allclose(fn(x, k, b).numpy(), R.conv2d(x, k, b, strides, padding),
                               atol=1e-12)
    assert pycnn.gradcheck(fn, [x, k, b])


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "linear"])
def test_conv2d_layer_fused_activation_gradcheck(act, rng):
    layer = Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation=act)
    x = rng.standard_normal((2, 5, 4, 2))
    layer(x)
    assert pycnn.gradcheck(lambda x, k, b: layer(x), [x, layer.kernel, layer.bias])


def test_conv2d_against_reference_on_random_shapes(rng):
    for trial in range(25):
        h, w = rng.integers(1, 12, size=2)
        kh, kw = rng.integers(1, 5, size=2)
        sh, sw = rng.integers(1, 4, size=2)
        c, f, n = rng.integers(1, 5), rng.integers(1, 6), rng.integers(1, 4)
        padding = "same" if (trial % 2 or kh > h or kw > w) else "valid"
        x = rng.standard_normal((n, h, w, c)).astype(np.float32)
        k = rng.standard_normal((kh, kw, c, f)).astype(np.float32)
        b = rng.standard_normal(f).astype(np.float32)
        y = pycnn.conv2d(x, k, b, strides=(sh, sw), padding=padding)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), R.conv2d(x.astype(float), k, b, (sh, sw), padding),
                                   atol=1e-4, rtol=1e-4)


def test_conv2d_large_batch_runs_in_chunks_and_matches(rng):
    # 40 images of 30×30×8 with a 5×5 kernel: the patch matrix spans several chunks. The
    # batch's gradients must equal those of each image alone (one chunk each): dx image by
    # image, dkernel and dbias summed over the images.
    x = rng.standard_normal((40, 30, 30, 8))
    k = rng.standard_normal((5, 5, 8, 3))
    b = rng.standard_normal(3)
    g = rng.standard_normal((40, 30, 30, 3))

    def grads(xs, gs):
        xt, kt, bt = (pycnn.tensor(a, requires_grad=True) for a in (xs, k, b))
        y = pycnn.conv2d(xt, kt, bt, padding="same")
        y.backward(gs)
        return y.numpy(), xt.grad.numpy(), kt.grad.numpy(), bt.grad.numpy()

    y, dx, dk, db = grads(x, g)
    np.testing.assert_allclose(y, R.conv2d(x, k, b, (1, 1), "same"), atol=1e-10)
    alone = [grads(x[i:i + 1], g[i:i + 1]) for i in range(len(x))]
    np.testing.assert_allclose(dx, np.concatenate([a[1] for a in alone]), atol=1e-10)
    np.testing.assert_allclose(dk, sum(a[2] for a in alone), atol=1e-8)
    np.testing.assert_allclose(db, sum(a[3] for a in alone), atol=1e-9)


def test_conv2d_weight_gradients_accumulate_across_calls(rng):
    layer = Conv2D(2, 3)
    x = rng.standard_normal((2, 5, 5, 1))
    layer(x)
    assert pycnn.gradcheck(lambda x, k, b: layer(x) + layer(x * 0.5), [x, layer.kernel, layer.bias])


def test_lecture_count_and_shapes():
    layer = Conv2D(32, 3, input_shape=(28, 28, 1))
    assert layer.compute_output_shape((None, 28, 28, 1)) == (None, 26, 26, 32)
    layer.build((None, 28, 28, 1))
    assert layer.count_params() == 320
    assert layer.kernel.shape == (3, 3, 1, 32) and layer.bias.shape == (32,)
    assert [w.name for w in layer.weights] == ["conv2d_1/kernel", "conv2d_1/bias"]
    assert Conv2D(8, 3, padding="same").compute_output_shape((None, 28, 28, 1)) == (None, 28, 28, 8)
    assert Conv2D(8, (4, 3), strides=(2, 3), padding="same").compute_output_shape(
        (None, 7, 10, 2)) == (None, 4, 4, 8)
    assert Conv2D(8, 3, strides=2).compute_output_shape((None, None, 9, 2)) == (None, None, 4, 8)


def test_conv2d_layer_matches_reference_and_keras_config(rng):
    layer = Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu")
    x = rng.standard_normal((3, 7, 6, 2)).astype(np.float32)
    y = layer(x)
    k, b = layer.get_weights()
    assert k.shape == (3, 2, 2, 4)
    np.testing.assert_allclose(y.numpy(), np.maximum(R.conv2d(x, k, b, (2, 1), "same"), 0),
                               atol=1e-5)
    config = layer.get_config()
    json.dumps(config)
    assert config["kernel_size"] == (3, 2) and config["strides"] == (2, 1)
    assert config["padding"] == "same" and config["activation"] == "relu"
    assert config["filters"] == 4
    assert Conv2D.from_config(config).get_config() == config


def test_conv2d_bad_inputs_raise_clear_errors(rng):
    with pytest.raises(ValueError, match="conv2d: input has 3 channels but kernel expects 1"):
        pycnn.conv2d(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 1, 2)))
    with pytest.raises(ValueError, match=r"conv2d: kernel 5x5 is larger than the 3x4 input"):
        pycnn.conv2d(np.zeros((1, 3, 4, 1)), np.zeros((5, 5, 1, 2)))
    with pytest.raises(ValueError, match="conv2d: expected a 4-D input"):
        pycnn.conv2d(np.zeros((5, 5, 1)), np.zeros((3, 3, 1, 2)))
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(3,\), expected \(2,\)"):
        pycnn.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"conv2d: strides must be positive integers, got \(0, 1\)"):
        pycnn.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 2)), strides=(0, 1))
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same', got 'full'"):
        pycnn.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 2)), padding="full")
    with pytest.raises(ValueError, match="Conv2D: filters must be a positive integer, got 0"):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match=r"Conv2D: kernel_size must be positive integers, got -1"):
        Conv2D(4, -1)
    with pytest.raises(ValueError, match="Conv2D: strides must be positive integers"):
        Conv2D(4, 3, strides=0)
    with pytest.raises(ValueError, match="data_format must be 'channels_last'"):
        Conv2D(4, 3, data_format="channels_first")
    layer = Conv2D(2, 3, name="c")
    layer(np.zeros((1, 5, 5, 1)))
    with pytest.raises(ValueError, match="c: input has 2 channels but kernel expects 1"):
        layer(np.zeros((1, 5, 5, 2)))
    with pytest.raises(ValueError, match=r"c: kernel 3x3 is larger than the 2x5 input"):
        layer(np.zeros((1, 2, 5, 1)))
    with pytest.raises(ValueError, match=r"conv2d_\d+: expected an input shape \(batch, height, width"):
        Conv2D(2, 3).build((None, 5, 5))


def test_functional_conv2d_promotes_and_differentiates(rng):
    x = pycnn.tensor(rng.standard_normal((1, 4, 4, 1)).astype(np.float32), requires_grad=True)
    k = rng.standard_normal((2, 2, 1, 1))
    y = pycnn.conv2d(x, k)
    assert y.dtype == np.float64
    y.backward(np.ones(y.shape))
    assert x.grad.dtype == np.float32 and x.grad.shape == (1, 4, 4, 1)
