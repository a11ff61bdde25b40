"""Conv2D(groups=), DepthwiseConv2D, SeparableConv2D and Conv1D through every converter and
file format: Keras 3 (to_keras / from_keras, and .keras / .h5 files both ways), PyTorch
(to_torch: nn.Conv2d(groups=), nn.Conv1d; load_torch_state back) and ONNX (Conv with its group
attribute, run by onnxruntime) — predictions compared with pycnn's on the same weights."""
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
from pycnn import interop
from pycnn.layers import (Conv1D, Conv2D, DepthwiseConv2D, Flatten, GlobalAveragePooling2D,
                          Dense, SeparableConv2D)
from pycnn.models import Sequential, load_model

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ATOL = 2e-5


@pytest.fixture(scope="module")
def ort():
    pytest.importorskip("onnx", reason="onnx is optional: pip install pycnn[interop]")
    return pytest.importorskip("onnxruntime", reason="optional: pip install pycnn[interop]")


def mobilenet():
    """A MobileNet block stack on 28×28×1 with a non-zero bias everywhere."""
    pycnn.clear_session()
    pycnn.set_seed(5)
    model = Sequential([
        Conv2D(8, 3, strides=2, padding="same", activation="relu", input_shape=(28, 28, 1)),
        DepthwiseConv2D(3, padding="same", activation="relu"),
        Conv2D(16, 1, activation="relu"),
        DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu6"),
        Conv2D(16, 1, groups=4, activation="relu"),
        SeparableConv2D(12, 3, padding="same", depth_multiplier=2, activation="relu"),
        SeparableConv2D(8, (3, 2), strides=2, use_bias=False),
        Conv2D(8, 3, padding="same", groups=2, dilation_rate=2),
        GlobalAveragePooling2D(), Dense(10)], name="mobilenet")
    _perturb_biases(model)
    return model


def conv1d_net():
    pycnn.clear_session()
    pycnn.set_seed(6)
    model = Sequential([
        Conv1D(8, 3, padding="causal", activation="relu", input_shape=(20, 4)),
        Conv1D(8, 3, padding="causal", dilation_rate=2, groups=4, activation="tanh"),
        Conv1D(6, 4, strides=2, padding="same"), Conv1D(4, 2),
        Flatten(), Dense(3)], name="conv1d_net")
    _perturb_biases(model)
    return model


def _perturb_biases(model):
    for layer in model.layers:
        weights = layer.get_weights()
        if weights and getattr(layer, "use_bias", False):
            weights[-1] = np.linspace(-0.5, 0.5, weights[-1].size).astype(np.float32)
            layer.set_weights(weights)


MODELS = {"mobilenet": (mobilenet, (28, 28, 1)), "conv1d": (conv1d_net, (20, 4))}


def _x(shape, n=4):
    return np.random.default_rng(0).standard_normal((n,) + shape).astype(np.float32)


def _predict(model, x):
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0))


@pytest.mark.parametrize("which", MODELS)
def test_keras_round_trip(keras, which):
    make, shape = MODELS[which]
    model, x = make(), _x(shape)
    kmodel = interop.to_keras(model)
    assert [type(l).__name__ for l in kmodel.layers] == [type(l).__name__ for l in model.layers]
    assert kmodel.count_params() == model.count_params()
    assert [tuple(l.output.shape) for l in kmodel.layers] == \
        [tuple(l.output.shape) for l in model.layers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(kmodel.predict(x, verbose=0))
    assert np.max(np.abs(expected - _predict(model, x))) <= ATOL
    back = interop.from_keras(kmodel)
    assert [l.get_config() for l in back.layers] == [l.get_config() for l in model.layers]
    for a, b in zip(back.get_weights(), model.get_weights()):
        assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(_predict(back, x), _predict(model, x))


@pytest.mark.parametrize("which", MODELS)
def test_torch_round_trip(torch, which):
    make, shape = MODELS[which]
    model, x = make(), _x(shape)
    module = interop.to_torch(model).eval()
    convs = [m for m in module.modules() if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d))]
    assert convs and all(m.groups >= 1 for m in convs)
    if which == "mobilenet":
        assert [m.groups for m in convs] == [1, 8, 1, 16, 4, 2]
    with torch.no_grad():
        got = module(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(got - _predict(model, x))) <= ATOL
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.05 * torch.randn_like(p))
        got = module(torch.from_numpy(x)).numpy()
    interop.load_torch_state(model, module)
    assert np.max(np.abs(got - _predict(model, x))) <= ATOL


@pytest.mark.parametrize("which", MODELS)
def test_onnx_export_runs_in_onnxruntime(ort, tmp_path, which):
    make, shape = MODELS[which]
    model, x = make(), _x(shape)
    proto = interop.to_onnx(model, tmp_path / f"{which}.onnx")
    groups = [a.i for n in proto.graph.node if n.op_type == "Conv" for a in n.attribute
              if a.name == "group"]
    if which == "mobilenet":       # the 1×1 of each SeparableConv2D has no group attribute
        assert groups == [1, 8, 1, 16, 4, 16, 12, 2]
    got = ort.InferenceSession(str(tmp_path / f"{which}.onnx")).run(None, {"input": x})[0]
    assert np.max(np.abs(got - _predict(model, x))) <= ATOL


@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("which", MODELS)
def test_keras_files_both_ways(keras, tmp_path, which, ext):
    make, shape = MODELS[which]
    model, x = make(), _x(shape)
    model.save(tmp_path / f"p{ext}")
    kmodel = keras.saving.load_model(tmp_path / f"p{ext}")
    assert [type(l).__name__ for l in kmodel.layers] == [type(l).__name__ for l in model.layers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(kmodel.predict(x, verbose=0))
    assert np.max(np.abs(expected - _predict(model, x))) <= ATOL
    for kw, w in zip(kmodel.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    kmodel.save(tmp_path / f"k{ext}")
    back = load_model(tmp_path / f"k{ext}")
    np.testing.assert_array_equal(_predict(back, x), _predict(model, x))
    assert [l.get_config() for l in back.layers] == [l.get_config() for l in model.layers]


def test_a_keras_built_model_loads(keras, tmp_path):
    L = keras.layers
    kmodel = keras.Sequential([
        keras.Input((12, 12, 4)), L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
        L.SeparableConv2D(6, 3, padding="same", activation="tanh"),
        L.Conv2D(6, 3, groups=3, padding="same"), L.Reshape((100, 6)),
        L.Conv1D(4, 3, padding="causal", groups=2), L.Flatten(), L.Dense(2)])
    x = np.random.default_rng(1).random((3, 12, 12, 4), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(kmodel.predict(x, verbose=0))
    np.testing.assert_allclose(_predict(interop.from_keras(kmodel), x), expected, atol=ATOL)
    kmodel.save(tmp_path / "k.keras")
    np.testing.assert_allclose(_predict(load_model(tmp_path / "k.keras"), x), expected,
                               atol=ATOL)


def test_keras_regularizers_pycnn_does_not_carry_are_refused(keras):
    kmodel = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.DepthwiseConv2D(
        3, depthwise_regularizer=keras.regularizers.L2(0.1))])
    with pytest.raises(interop.ConversionError, match=r"depthwise_regularizer"):
        interop.from_keras(kmodel)
