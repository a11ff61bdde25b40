"""Conv2D(dilation_rate=...): im2col/col2im take every D-th pixel (kernels/conv_impl.h); the
direct and Winograd routes are skipped by the route choice, for every shape and every forced
algorithm. NumPy twin (a kernel spread with zeros), float64 gradchecks, Keras 3 and torch on
the same weights, interop."""
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
import reference as ref
from helpers import check_op, keras_output, same_weights, switched
from pycnn import interop
from pycnn.layers import Conv2D

ALGORITHMS = ["auto", "im2col", "winograd", "direct"]
# (x shape, kernel, dilation, padding): 3×3 stride-1 windows Winograd would take, short
# patches the direct route would take, both undilated axes and one-axis dilation
CASES = [((2, 9, 8, 8), (3, 3, 8, 8), (2, 2), "same"), ((2, 7, 9, 1), (3, 3, 1, 4), (2, 3), "valid"),
         ((1, 6, 7, 2), (2, 3, 2, 3), (1, 2), "same"), ((2, 8, 6, 3), (3, 1, 3, 2), (3, 1), "valid"),
         ((1, 5, 5, 2), (1, 1, 2, 3), (4, 4), "same")]
IDS = [f"d{d[0]}x{d[1]}-k{k[0]}x{k[1]}-{p}" for _, k, d, p in CASES]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("shape, kernel, dilation, padding", CASES, ids=IDS)
def test_every_route_choice_computes_the_dilated_convolution(algorithm, shape, kernel, dilation,
                                                             padding):
    with switched(pycnn._core._set_conv_algorithm, algorithm):
        check_op(lambda x, w, b: pycnn.conv2d(x, w, b, padding=padding, dilation_rate=dilation),
                 lambda x, w, b: ref.conv2d(x, w, b, padding=padding, dilation_rate=dilation),
                 [shape, kernel, kernel[-1:]])


def test_dilated_layer_with_activation_gradcheck():
    layer = Conv2D(3, 3, dilation_rate=2, padding="same", activation="tanh", dtype="float64")
    layer.build((None, 7, 6, 2))
    x = np.random.default_rng(1).standard_normal((2, 7, 6, 2))
    assert pycnn.gradcheck(lambda t: layer(t), [x])
    w, b = layer.get_weights()
    assert pycnn.gradcheck(lambda k: pycnn.conv2d(x, k, b, dilation_rate=(2, 1)), [w])
    assert layer.compute_output_shape((None, 7, 6, 2)) == (None, 7, 6, 3)
    assert Conv2D(3, 3, dilation_rate=2).compute_output_shape((None, 7, 6, 2)) == (None, 3, 2, 3)


@pytest.mark.parametrize("shape, kernel, dilation, padding", CASES, ids=IDS)
def test_matches_keras_and_torch(shape, kernel, dilation, padding):
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    ours = Conv2D(kernel[-1], kernel[:2], padding=padding, dilation_rate=dilation,
                  activation="relu", dtype="float64")
    theirs = keras.layers.Conv2D(kernel[-1], kernel[:2], padding=padding, dilation_rate=dilation,
                                 activation="relu", dtype="float64")
    weights = same_weights(ours, theirs, rng, (None,) + shape[1:])
    got = ours(x).numpy()
    expected = keras_output(keras, theirs, x)
    assert got.shape == expected.shape and np.max(np.abs(got - expected)) <= 1e-12
    if padding == "valid":              # torch's own padding is symmetric: 'valid' only
        t = torch.nn.functional.conv2d(torch.from_numpy(x.transpose(0, 3, 1, 2)),
                                       torch.from_numpy(weights[0].transpose(3, 2, 0, 1)),
                                       torch.from_numpy(weights[1]), dilation=dilation)
        assert np.max(np.abs(np.maximum(t.numpy().transpose(0, 2, 3, 1), 0) - got)) <= 1e-12


def test_config_and_op_args_and_errors():
    layer = Conv2D(2, 3, dilation_rate=(2, 3))
    assert layer.get_config()["dilation_rate"] == (2, 3)
    assert Conv2D.from_config(layer.get_config()).get_config() == layer.get_config()
    x = pycnn.tensor(np.ones((1, 9, 9, 1)), requires_grad=True)
    assert pycnn.conv2d(x, np.ones((3, 3, 1, 1)), dilation_rate=2).op_args["dilation_rate"] == (2, 2)
    with pytest.raises(ValueError, match=r"Conv2D: `strides > 1` not supported in conjunction "
                                         r"with `dilation_rate > 1`"):
        Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"dilation_rate"):
        Conv2D(2, 3, dilation_rate=0)
    with pytest.raises(ValueError, match=r"conv2d: kernel 3x3 dilated by \(3, 3\) spans 7x7 "
                                         r"pixels, more than the 5x5 input"):
        pycnn.conv2d(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1)), dilation_rate=3)


def dilated_net():
    pycnn.clear_session()
    pycnn.set_seed(4)
    return pycnn.models.Sequential([
        Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu", input_shape=(9, 8, 2)),
        Conv2D(3, (2, 3), dilation_rate=(3, 1), activation="tanh"),
        pycnn.layers.Flatten()], name="dilated")


def test_interop_keras_torch_onnx(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("keras")
    model = dilated_net()
    x = np.random.default_rng(5).standard_normal((3, 9, 8, 2)).astype(np.float32)
    want = model.predict(x, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kmodel = interop.to_keras(model)
        assert np.max(np.abs(kmodel.predict(x, verbose=0) - want)) <= 1e-5
    back = interop.from_keras(kmodel)
    assert [l.get_config() for l in back.layers] == [l.get_config() for l in model.layers]
    with torch.no_grad():
        got = interop.to_torch(model).eval()(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(got - want)) <= 1e-5
    ort = pytest.importorskip("onnxruntime")
    interop.to_onnx(model, tmp_path / "d.onnx", opset=17)
    got = ort.InferenceSession(str(tmp_path / "d.onnx")).run(None, {"input": x})[0]
    assert np.max(np.abs(got - want)) <= 1e-5
    model.save(tmp_path / "d.keras")
    again = pycnn.models.load_model(tmp_path / "d.keras")
    assert [l.get_config()["dilation_rate"] for l in again.layers[:2]] == [(2, 2), (3, 1)]
    np.testing.assert_array_equal(again.predict(x, verbose=0), want)
