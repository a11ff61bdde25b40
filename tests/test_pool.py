"""MaxPooling2D, AveragePooling2D, UpSampling2D and the functional pools."""
import json

import numpy as np
import pytest

import pycnn
from pycnn.layers import AveragePooling2D, MaxPooling2D, UpSampling2D
from tests import reference as R

POOLS = {"max": (pycnn.max_pool2d, MaxPooling2D), "avg": (pycnn.avg_pool2d, AveragePooling2D)}

# (H, W, C, pool, strides, padding)
CASES = [
    (4, 4, 2, (2, 2), None, "valid"),
    (5, 5, 2, (2, 2), None, "same"),
    (5, 6, 3, (3, 3), (2, 2), "same"),
    (7, 5, 1, (3, 2), (2, 1), "valid"),
    (5, 5, 2, (2, 2), (1, 1), "same"),
    (3, 4, 2, (4, 4), (3, 3), "same"),     # window wider than the image: padding on both sides
]


@pytest.fixture(autouse=True)
def fresh_session():
    pycnn.clear_session()


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("h,w,c,pool,strides,padding", CASES)
def test_pool_gradcheck_and_reference(mode, h, w, c, pool, strides, padding, rng):
    fn = POOLS[mode][0]
    x = rng.standard_normal((2, h, w, c))
    f = lambda x: fn(x, pool, strides, padding)  # noqa: E731
    np.testing.assert_allclose(f(x).numpy(), R.pool2d(x, pool, strides, padding, mode),
                               atol=1e-12)
    assert pycnn.gradcheck(f, [x])


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_layers_against_reference_on_random_shapes(mode, rng):
    layer_type = POOLS[mode][1]
    for trial in range(30):
        h, w = rng.integers(1, 13, size=2)
        ph, pw = rng.integers(1, 5, size=2)
        strides = tuple(rng.integers(1, 4, size=2)) if trial % 3 else None
        padding = "same" if (trial % 2 or ph > h or pw > w) else "valid"
        x = rng.standard_normal((rng.integers(1, 4), h, w, rng.integers(1, 5))).astype(np.float32)
        layer = layer_type((ph, pw), strides, padding)
        y = layer(x)
        assert y.dtype == np.float32
        assert y.shape[1:] == layer.compute_output_shape((None,) + x.shape[1:])[1:]
        np.testing.assert_allclose(y.numpy(), R.pool2d(x.astype(float), (ph, pw), strides,
                                                       padding, mode), atol=1e-6, rtol=1e-6)


def test_max_pool_gradient_goes_to_the_first_maximal_element():
    x = pycnn.tensor(np.array([[1.0, 3.0], [3.0, 2.0]]).reshape(1, 2, 2, 1), requires_grad=True)
    y = pycnn.max_pool2d(x, 2)
    assert y.item() == 3.0
    y.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(x.grad.numpy().reshape(2, 2), [[0, 1], [0, 0]])
    x = pycnn.tensor(np.full((1, 2, 2, 2), 7.0), requires_grad=True)     # all tied
    pycnn.max_pool2d(x, 2).backward(np.ones((1, 1, 1, 2)))
    np.testing.assert_array_equal(x.grad.numpy()[0, :, :, 0], [[1, 0], [0, 0]])


def test_avg_pool_same_counts_only_real_pixels():
    x = np.ones((1, 3, 3, 1))
    np.testing.assert_array_equal(pycnn.avg_pool2d(x, 2, padding="same").numpy(),
                                  np.ones((1, 2, 2, 1)))


def test_max_pool_nan_wins_like_numpy():
    x = np.array([1.0, np.nan, 5.0, 2.0]).reshape(1, 2, 2, 1)
    assert np.isnan(pycnn.max_pool2d(x, 2).item())


def test_pool_layer_api_and_config(rng):
    layer = MaxPooling2D(input_shape=(28, 28, 32))
    assert layer.name == "max_pooling2d_1" and layer.count_params() == 0
    assert layer.compute_output_shape((None, 26, 26, 32)) == (None, 13, 13, 32)
    assert AveragePooling2D(3, padding="same").compute_output_shape((None, 7, 8, 2)) == \
        (None, 3, 3, 2)
    assert MaxPooling2D((2, 3), strides=1).compute_output_shape((None, None, 8, 2)) == \
        (None, None, 6, 2)
    config = MaxPooling2D((3, 2), strides=(1, 2), padding="same").get_config()
    json.dumps(config)
    assert config["pool_size"] == (3, 2) and config["strides"] == (1, 2)
    assert config["padding"] == "same"
    assert MaxPooling2D.from_config(config).get_config() == config
    assert AveragePooling2D().get_config()["strides"] == (2, 2)      # defaults to pool_size
    pycnn.clear_session()
    assert AveragePooling2D().name == "average_pooling2d_1"
    assert UpSampling2D().name == "up_sampling2d_1"
    x = pycnn.tensor(rng.standard_normal((1, 4, 4, 1)), requires_grad=True)
    assert MaxPooling2D()(x).op == "max_pool2d" and AveragePooling2D()(x).op == "avg_pool2d"


def test_pool_bad_inputs():
    with pytest.raises(ValueError, match=r"max_pool2d: pool 3x3 is larger than the 2x2 input"):
        pycnn.max_pool2d(np.zeros((1, 2, 2, 1)), 3)
    with pytest.raises(ValueError, match=r"avg_pool2d: expected a 4-D input"):
        pycnn.avg_pool2d(np.zeros((2, 2, 1)), 2)
    with pytest.raises(ValueError, match=r"MaxPooling2D: pool_size must be positive integers"):
        MaxPooling2D(0)
    with pytest.raises(ValueError, match=r"AveragePooling2D: strides must be positive integers"):
        AveragePooling2D(2, strides=(1, -1))
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        MaxPooling2D(padding="causal")
    layer = MaxPooling2D(4, name="p")
    with pytest.raises(ValueError, match=r"p: pool 4x4 is larger than the 3x5 input"):
        layer(np.zeros((1, 3, 5, 2)))
    with pytest.raises(ValueError, match=r"p: expected an input shape \(batch, height, width"):
        layer.compute_output_shape((None, 4, 4))


# ---- UpSampling2D ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, (2, 3), (1, 2)])
def test_upsampling_nearest_and_gradcheck(size, rng):
    pair = (size, size) if isinstance(size, int) else size
    x = rng.standard_normal((2, 3, 2, 2))
    layer = UpSampling2D(size)
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), R.upsampling2d(x, pair))
    assert layer.compute_output_shape((None, 3, 2, 2)) == (None, 3 * pair[0], 2 * pair[1], 2)
    assert pycnn.gradcheck(lambda x: UpSampling2D(size)(x), [x])


def test_upsampling_config_and_errors():
    config = UpSampling2D(3).get_config()
    assert config["size"] == (3, 3) and config["interpolation"] == "nearest"
    assert UpSampling2D.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="interpolation must be 'nearest' or 'bilinear'"):
        UpSampling2D(interpolation="bicubic")       # bilinear: tests/test_augment.py
    with pytest.raises(ValueError, match="UpSampling2D: size must be positive integers"):
        UpSampling2D(0)
    with pytest.raises(ValueError, match=r"up_sampling2d_\d+: expected a 4-D input"):
        UpSampling2D()(np.zeros((2, 3)))
