"""Dropout(noise_shape=) and SpatialDropout2D (py/layers_misc.c, autograd/ops_layers.c):
the broadcast masks, gradchecks, configs and interop."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
from pycnn.layers import Conv2D, Dropout, Flatten, SpatialDropout2D
from pycnn.models import Sequential

from helpers import assert_round_trips

pytestmark = [pytest.mark.usefixtures("fresh_session"),
              pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
                  "ignore:__array__ implementation doesn.t accept a copy keyword:"
                  "DeprecationWarning")]


@pytest.mark.parametrize("make", [lambda: Dropout(0.4, noise_shape=(None, 1, 1, None), seed=3),
                                  lambda: SpatialDropout2D(0.4, seed=3)])
def test_whole_channels_are_dropped_and_survivors_scaled(make):
    x = np.random.default_rng(0).uniform(1, 2, (50, 3, 4, 8))
    y = make()(x, training=True).numpy()
    kept = y != 0
    assert (kept == kept[:, :1, :1, :]).all()                # one draw per (image, channel)
    np.testing.assert_allclose(y[kept], x[kept] / 0.6)
    assert 0.3 < 1 - kept[:, 0, 0, :].mean() < 0.5
    np.testing.assert_array_equal(make()(x).numpy(), x)       # identity at inference


def test_noise_shape_with_sizes_and_ones():
    x = np.ones((4, 6, 5))
    y = Dropout(0.5, noise_shape=(4, 1, 5), seed=1)(x, training=True).numpy()
    assert (y == y[:, :1, :]).all() and set(np.unique(y)) <= {0.0, 2.0}


@pytest.mark.parametrize("make", [lambda: Dropout(0.3, noise_shape=(None, 1, None), seed=5,
                                                  dtype="float64"),
                                  lambda: SpatialDropout2D(0.3, seed=5, dtype="float64")])
def test_gradcheck(make):
    x = np.random.default_rng(1).normal(size=(3, 2, 3, 4))
    config = make().get_config()
    if "noise_shape" in config:
        x = x.reshape(3, 6, 4)
    assert pycnn.gradcheck(lambda x: type(make()).from_config(config)(x, training=True), [x])


def test_configs_and_interop(tmp_path, keras, torch):
    from pycnn.interop import to_torch
    d = Dropout(0.2, noise_shape=(None, 1, 1, None), seed=4)
    assert d.get_config()["noise_shape"] == (None, 1, 1, None)
    assert Dropout.from_config(d.get_config()).get_config() == d.get_config()
    assert Dropout(0.2).get_config()["noise_shape"] is None
    s = SpatialDropout2D(0.3, seed=2)
    assert SpatialDropout2D.from_config(s.get_config()).get_config() == s.get_config()
    model = Sequential([Conv2D(4, 3, input_shape=(6, 6, 2)), SpatialDropout2D(0.5),
                        Dropout(0.5, noise_shape=(None, 1, 1, None)), Flatten()])
    x = np.random.default_rng(2).normal(size=(3, 6, 6, 2)).astype(np.float32)
    torch.manual_seed(0)
    y = to_torch(model)[1].train()(torch.ones(20, 3, 3, 4)).numpy()
    assert (y == y[:, :1, :1, :]).all() and set(np.unique(y)) <= {0.0, 2.0}
    _, k, back = assert_round_trips(model, x, tmp_path, torch=torch, saving=False)
    assert [type(l).__name__ for l in k.layers] == ["Conv2D", "SpatialDropout2D", "Dropout",
                                                    "Flatten"]
    assert tuple(k.layers[2].get_config()["noise_shape"]) == (None, 1, 1, None)
    assert back.layers[2].get_config()["noise_shape"] == (None, 1, 1, None)


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"drop: noise_shape \(2, 3\) does not broadcast to "
                                         r"the input's shape \(4, 3\)"):
        Dropout(0.5, noise_shape=(2, 3), name="drop")(np.ones((4, 3)), training=True)
    with pytest.raises(ValueError, match=r"sd: expected a 4-D input .* got shape \(4, 3\)"):
        SpatialDropout2D(0.5, name="sd")(np.ones((4, 3)), training=True)
    with pytest.raises(ValueError, match="rate must be in"):
        SpatialDropout2D(1.0)
    with pytest.raises(ValueError, match="channels_last"):
        SpatialDropout2D(0.1, data_format="channels_first")
    with pytest.raises(ValueError, match="noise_shape .* has a zero dimension"):
        Dropout(0.1, noise_shape=(None, 0))
