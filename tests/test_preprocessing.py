"""Rescaling (py/preprocessing.c): NumPy twin, gradcheck, Keras 3 and torch, config, saving,
interop and the errors."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
from pycnn.layers import Conv2D, Flatten, Rescaling
from pycnn.models import Sequential

from helpers import assert_round_trips, check_op

pytestmark = pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")


@pytest.mark.parametrize("scale, offset", [(1 / 255, 0.0), (2.0, -1.0), ([1.0, -2.0, 0.5],
                                                                        [0.0, 1.0, 3.0])])
def test_rescaling_forward_gradcheck_and_keras(scale, offset, keras):
    layer = Rescaling(scale, offset=offset)
    ref = lambda x: x * np.asarray(scale) + np.asarray(offset)
    check_op(lambda x: Rescaling(scale, offset=offset)(x), ref, [(2, 4, 3)])
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 3)).astype(np.float32)
    k = keras.layers.Rescaling(scale, offset=offset)
    assert np.abs(np.asarray(layer(x)) - keras.ops.convert_to_numpy(k(x))).max() < 1e-5


def test_rescaling_config_saving_and_interop(tmp_path, keras, torch):
    pycnn.set_seed(0)
    model = Sequential([Rescaling(1 / 127.5, offset=-1.0, input_shape=(5, 5, 3)), Conv2D(2, 3),
                        Rescaling([2.0, 0.5]), Flatten()])
    config = model.layers[0].get_config()
    assert config["scale"] == 1 / 127.5 and config["offset"] == -1.0
    assert Rescaling.from_config(config).get_config() == config
    x = np.random.default_rng(1).uniform(0, 255, (3, 5, 5, 3)).astype(np.float32)
    assert_round_trips(model, x, tmp_path, atol=1e-4, torch=torch)


def test_rescaling_errors():
    with pytest.raises(TypeError, match="Rescaling: scale must be a number"):
        Rescaling("half")
    with pytest.raises(TypeError, match="Rescaling: offset must be a number"):
        Rescaling(1.0, offset={"a": 1})
    with pytest.raises(ValueError, match="cannot broadcast|broadcast"):
        Rescaling([1.0, 2.0])(np.zeros((2, 3), np.float32))


# ---- Normalization -------------------------------------------------------------------------

from pycnn.layers import Dense, Normalization  # noqa: E402


def test_normalization_adapt_matches_numpy_and_keras(keras):
    x = np.random.default_rng(0).normal(3, 2, (50, 4, 3)).astype(np.float32)
    for axis in (-1, 1):
        layer = Normalization(axis=axis)
        layer.adapt(x)
        others = tuple(d for d in range(3) if d != axis % 3)
        mean, var = x.astype(np.float64).mean(axis=others), x.astype(np.float64).var(axis=others)
        np.testing.assert_allclose(layer.get_weights()[0], mean, rtol=1e-6)
        np.testing.assert_allclose(layer.get_weights()[1], var, rtol=1e-6)
        k = keras.layers.Normalization(axis=axis)
        k.adapt(x)
        for a, b in zip(layer.get_weights()[:2], k.get_weights()[:2]):
            assert np.abs(a - b).max() < 1e-5
        assert np.abs(layer(x).numpy() - keras.ops.convert_to_numpy(k(x))).max() < 1e-5
        shape = [1, 1, 1]
        shape[axis] = -1
        np.testing.assert_allclose(layer(x).numpy(), (x - mean.reshape(shape)) /
                                   np.sqrt(var).reshape(shape), atol=1e-5)
    batches = Normalization()
    batches.adapt([x[:20], x[20:35], x[35:]])            # Keras' running combination
    whole = Normalization()
    whole.adapt(x)
    np.testing.assert_allclose(batches.get_weights()[0], whole.get_weights()[0], rtol=1e-6)
    np.testing.assert_allclose(batches.get_weights()[1], whole.get_weights()[1], rtol=1e-5)
    assert batches.get_weights()[2] == 200 and len(batches.non_trainable_weights) == 3
    assert batches.trainable_weights == []


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_given_statistics_gradcheck_and_keras(invert, keras):
    x = np.random.default_rng(1).normal(size=(4, 5, 3))
    kwargs = dict(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.0], invert=invert)
    sd = np.maximum(np.sqrt([4.0, 1.0, 0.0]), 1e-7)
    want = np.array([1.0, 2.0, 3.0]) + x * sd if invert else (x - [1.0, 2.0, 3.0]) / sd
    got = Normalization(dtype="float64", **kwargs)(x).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    k = keras.ops.convert_to_numpy(keras.layers.Normalization(**kwargs)(x.astype(np.float32)))
    assert np.abs(Normalization(**kwargs)(x.astype(np.float32)).numpy() - k).max() < 1e-6 * \
        max(1.0, np.abs(k).max())
    kwargs["variance"] = [4.0, 1.0, 0.25]       # sd 1e-7 above: finite differences drown
    assert pycnn.gradcheck(lambda x: Normalization(dtype="float64", **kwargs)(x), [x])
    np.testing.assert_allclose(Normalization(mean=2.0, variance=9.0)(x).numpy(), (x - 2) / 3,
                               rtol=1e-5)


def test_normalization_config_saving_and_interop(tmp_path, keras, torch):
    x = np.random.default_rng(2).normal(5, 3, (6, 4, 4, 2)).astype(np.float32)
    norm = Normalization(input_shape=(4, 4, 2))
    norm.adapt(x)
    model = Sequential([norm, Conv2D(2, 3), Flatten(), Dense(3),
                        Normalization(mean=[1.0, 0.0, -1.0], variance=[1.0, 4.0, 9.0],
                                      invert=True)])
    config = model.layers[-1].get_config()
    assert config["axis"] == (-1,) and config["invert"] is True
    assert Normalization.from_config(config).get_config() == config
    assert_round_trips(model, x, tmp_path, atol=1e-4, torch=torch)


def test_normalization_errors():
    with pytest.raises(ValueError, match="give both mean and variance"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="one feature axis"):
        Normalization(axis=(1, 2))
    with pytest.raises(ValueError, match="nothing to learn"):
        Normalization(mean=0.0, variance=1.0).adapt(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="call\\(\\) before build"):
        Normalization(name="n").call(np.zeros((2, 3)))
    layer = Normalization(name="n2")
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"n2: input of shape \(2, 5\) has 5 features"):
        layer(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="n2: adapt\\(\\) got a batch of shape"):
        layer.adapt(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="mean .* does not fit the 3 features"):
        Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0])(np.zeros((2, 3), np.float32))
