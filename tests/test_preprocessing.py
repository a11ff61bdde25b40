"""Rescaling (py/preprocessing.c): NumPy twin, gradcheck, Keras 3 and torch, config, saving,
interop and the errors."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
from pycnn.layers import Conv2D, Flatten, Rescaling
from pycnn.models import Sequential

from helpers import check_op

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
    from pycnn.interop import from_keras, to_keras, to_onnx, to_torch
    from pycnn.saving import load_model, save_model
    pycnn.set_seed(0)
    model = Sequential([Rescaling(1 / 127.5, offset=-1.0, input_shape=(5, 5, 3)), Conv2D(2, 3),
                        Rescaling([2.0, 0.5]), Flatten()])
    config = model.layers[0].get_config()
    assert config["scale"] == 1 / 127.5 and config["offset"] == -1.0
    assert Rescaling.from_config(config).get_config() == config
    x = np.random.default_rng(1).uniform(0, 255, (3, 5, 5, 3)).astype(np.float32)
    want = model.predict(x, verbose=0)
    save_model(model, tmp_path / "r.pycnn")
    np.testing.assert_array_equal(load_model(tmp_path / "r.pycnn").predict(x, verbose=0), want)
    k = to_keras(model)
    assert np.abs(keras.ops.convert_to_numpy(k(x)) - want).max() < 1e-4
    np.testing.assert_array_equal(from_keras(k).predict(x, verbose=0), want)
    assert np.abs(to_torch(model)(torch.from_numpy(x)).detach().numpy() - want).max() < 1e-4
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    to_onnx(model, tmp_path / "r.onnx")
    got = ort.InferenceSession(str(tmp_path / "r.onnx")).run(None, {"input": x})[0]
    assert np.abs(got - want).max() < 1e-4


def test_rescaling_errors():
    with pytest.raises(TypeError, match="Rescaling: scale must be a number"):
        Rescaling("half")
    with pytest.raises(TypeError, match="Rescaling: offset must be a number"):
        Rescaling(1.0, offset={"a": 1})
    with pytest.raises(ValueError, match="cannot broadcast|broadcast"):
        Rescaling([1.0, 2.0])(np.zeros((2, 3), np.float32))
