"""Conv2DTranspose and pycnn.conv2d_transpose (py/conv2d_transpose.c,
autograd/ops_conv_transpose.c): the NumPy twin, float64 gradchecks, Keras 3's output size and
weight layout, and PyTorch / Keras 3 (torch backend) as oracles on the same weights."""
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
from pycnn import interop
import reference as ref
from helpers import check_op, keras_output, same_weights
from pycnn.layers import Conv2DTranspose

# (kernel, strides, padding, output_padding): stride 1/2/3, 'valid'/'same', with and
# without output_padding, kernels smaller than, equal to and larger than the stride
GEOMETRIES = [((3, 3), (1, 1), "valid", None), ((3, 3), (1, 1), "same", None),
              ((3, 3), (2, 2), "same", None), ((3, 2), (2, 2), "valid", None),
              ((2, 2), (2, 2), "same", None), ((4, 3), (2, 1), "same", (1, 0)),
              ((1, 1), (3, 2), "valid", (2, 1)), ((3, 3), (2, 2), "same", (1, 1)),
              ((2, 4), (3, 2), "same", (0, 1)), ((5, 5), (2, 2), "valid", (1, 1))]
IDS = [f"k{k[0]}x{k[1]}-s{s[0]}x{s[1]}-{p}-op{o}" for k, s, p, o in GEOMETRIES]


@pytest.mark.parametrize("kernel, strides, padding, op", GEOMETRIES, ids=IDS)
def test_forward_matches_reference_and_gradcheck(kernel, strides, padding, op):
    check_op(lambda x, w, b: pycnn.conv2d_transpose(x, w, b, strides, padding, op),
             lambda x, w, b: ref.conv2d_transpose(x, w, b, strides, padding, op),
             [(2, 4, 3, 3), kernel + (2, 3), (2,)])


def test_without_bias_and_with_a_fused_activation_gradcheck():
    layer = Conv2DTranspose(3, 3, strides=2, padding="same", activation="tanh", use_bias=False,
                            dtype="float64")
    layer.build((None, 3, 4, 2))
    w = layer.get_weights()[0]
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 2))
    np.testing.assert_allclose(layer(x).numpy(), np.tanh(ref.conv2d_transpose(x, w, None, (2, 2),
                                                                            "same")), atol=1e-12)
    assert pycnn.gradcheck(lambda t: layer(t), [x])
    assert pycnn.gradcheck(lambda k: pycnn.conv2d_transpose(x, k, strides=2), [w])


def test_gradients_accumulate_when_the_input_feeds_twice():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 3, 3, 2)), rng.standard_normal((2, 2, 3, 2))
    assert pycnn.gradcheck(lambda t: pycnn.conv2d_transpose(t, w, strides=2)
                           + pycnn.conv2d_transpose(t * 2.0, w, strides=2), [x])


@pytest.mark.parametrize("kernel, strides, padding, op", GEOMETRIES, ids=IDS)
def test_layer_matches_keras_on_the_same_weights(keras, kernel, strides, padding, op):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 4, 3))
    ours = Conv2DTranspose(4, kernel, strides=strides, padding=padding, output_padding=op,
                           activation="relu", dtype="float64")
    theirs = keras.layers.Conv2DTranspose(4, kernel, strides=strides, padding=padding,
                                          output_padding=op, activation="relu", dtype="float64")
    same_weights(ours, theirs, rng, (None, 5, 4, 3))
    expected = keras_output(keras, theirs, x)
    got = ours(x).numpy()
    assert got.shape == expected.shape
    assert ours.compute_output_shape((None, 5, 4, 3)) == \
        tuple(theirs.compute_output_shape((None, 5, 4, 3)))
    assert np.max(np.abs(got - expected)) <= 1e-12
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("kernel, strides, padding, op", GEOMETRIES, ids=IDS)
def test_matches_torch_conv_transpose2d(torch, kernel, strides, padding, op):
    """torch's conv_transpose2d gives the full (H − 1)·s + k output (plus its one-sided
    output_padding); Keras' output is a window of it, shifted by pycnn's top/left padding."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 5, 4, 3)), rng.standard_normal(kernel + (2, 3))
    y = pycnn.conv2d_transpose(x, w, strides=strides, padding=padding, output_padding=op).numpy()
    full = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x.transpose(0, 3, 1, 2)), torch.from_numpy(w.transpose(3, 2, 0, 1)),
        stride=strides).numpy().transpose(0, 2, 3, 1)
    (oh, top), (ow, left) = (ref._transpose_axis(n, k, s, padding, o) for n, k, s, o in
                             zip((5, 4), kernel, strides, op or (None, None)))
    expected = np.zeros((2, oh, ow, 2))
    part = full[:, top:top + oh, left:left + ow]
    expected[:, :part.shape[1], :part.shape[2]] = part
    assert np.max(np.abs(y - expected)) <= 1e-12


def test_config_round_trip_and_keras_keys(keras):
    layer = Conv2DTranspose(6, (3, 2), strides=2, padding="same", output_padding=1,
                            activation="relu", use_bias=False, name="up")
    config = layer.get_config()
    assert config["output_padding"] == (1, 1) and config["kernel_size"] == (3, 2)
    twin = Conv2DTranspose.from_config(config)
    assert twin.get_config() == config
    kconfig = keras.layers.Conv2DTranspose(6, (3, 2), strides=2, padding="same",
                                           output_padding=1, activation="relu",
                                           use_bias=False, name="up").get_config()
    for key in ("filters", "kernel_size", "strides", "padding", "output_padding",
                "data_format", "dilation_rate", "activation", "use_bias"):
        assert tuple(np.atleast_1d(config[key])) == tuple(np.atleast_1d(kconfig[key])), key
    assert Conv2DTranspose(2, 3).get_config()["output_padding"] is None


def test_summary_counts_params_like_keras(keras):
    model = pycnn.models.Sequential([Conv2DTranspose(8, 3, strides=2, padding="same",
                                                     input_shape=(7, 7, 4))])
    assert model.count_params() == (3 * 3 * 4 + 1) * 8
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(None, 14, 14, 8)" in line and "296" in line for line in lines)
    kmodel = keras.Sequential([keras.Input((7, 7, 4)),
                               keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same")])
    assert kmodel.count_params() == model.count_params()


@pytest.mark.parametrize("call, exc, match", [
    (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=2), ValueError,
     r"Conv2DTranspose: output_padding .* strictly less than strides \(2, 2\); got 2"),
    (lambda: Conv2DTranspose(2, 3, output_padding=(0, -1)), ValueError,
     r"output_padding .* at least 0"),
    (lambda: Conv2DTranspose(2, 3, dilation_rate=2), ValueError, r"dilation_rate 2"),
    (lambda: Conv2DTranspose(0, 3), ValueError, r"filters"),
    (lambda: pycnn.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 1))), ValueError,
     r"conv2d_transpose: .* input \(1, 3, 3, 2\) and kernel \(3, 3, 4, 1\)"),
    (lambda: pycnn.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 2)),
                                    np.ones(3)), ValueError, r"bias of shape \(3,\), expected \(4,\)"),
    (lambda: pycnn.conv2d_transpose(np.ones((3, 3, 2)), np.ones((3, 3, 4, 2))), ValueError,
     r"conv2d_transpose: expected"),
    (lambda: pycnn.conv2d_transpose(np.ones((1, 1, 1, 1)), np.ones((2, 2, 1, 1)), padding="same",
                                    output_padding=0), ValueError, r"output would be 0x0"),
    (lambda: Conv2DTranspose(2, 3)(np.ones((1, 4, 4))), ValueError, r"conv2d_transpose|input"),
])
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_op_args_name_its_arguments():
    y = pycnn.conv2d_transpose(pycnn.tensor(np.ones((1, 3, 3, 2)), requires_grad=True),
                               np.ones((3, 3, 4, 2)), strides=2, padding="same",
                               output_padding=(1, 0))
    assert y.op_args == {"strides": (2, 2), "padding": "same", "output_padding": (1, 0),
                         "activation": "linear"}


def up_net():
    """Every Conv2DTranspose geometry kind in one model: valid with the default
    output_padding past the full output, 'same' cropping at the top, an explicit
    output_padding, a linear one without bias."""
    pycnn.clear_session()
    pycnn.set_seed(3)
    model = pycnn.models.Sequential([
        Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu",
                        input_shape=(5, 4, 3)),
        Conv2DTranspose(3, (1, 2), strides=(3, 2), padding="valid", activation="tanh"),
        Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=1, use_bias=False),
        pycnn.layers.Flatten(),
    ], name="up_net")
    rng = np.random.default_rng(9)   # biases too, so the zero-extended borders show them
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def test_interop_keras_round_trip(keras):
    model = up_net()
    x = np.random.default_rng(6).standard_normal((3, 5, 4, 3)).astype(np.float32)
    kmodel = interop.to_keras(model)
    assert [type(l).__name__ for l in kmodel.layers][:3] == ["Conv2DTranspose"] * 3
    assert kmodel.count_params() == model.count_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.max(np.abs(kmodel.predict(x, verbose=0) - model.predict(x, verbose=0))) <= 1e-5
    back = interop.from_keras(kmodel)
    for a, b in zip(model.layers, back.layers):
        assert a.get_config() == b.get_config()
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            assert np.array_equal(wa, wb)


def test_interop_torch_and_back(torch):
    model = up_net()
    x = np.random.default_rng(7).standard_normal((3, 5, 4, 3)).astype(np.float32)
    module = interop.to_torch(model).eval()
    with torch.no_grad():
        got = module(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(got - model.predict(x, verbose=0))) <= 1e-5
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.05 * torch.randn_like(p))
        got = module(torch.from_numpy(x)).numpy()
    interop.load_torch_state(model, module)
    assert np.max(np.abs(got - model.predict(x, verbose=0))) <= 1e-5


def test_interop_onnx(tmp_path):
    pytest.importorskip("onnx", reason="onnx is optional: pip install pycnn[interop]")
    ort = pytest.importorskip("onnxruntime", reason="optional: pip install pycnn[interop]")
    model, path = up_net(), tmp_path / "up.onnx"
    interop.to_onnx(model, path, opset=17)
    session = ort.InferenceSession(str(path))
    x = np.random.default_rng(8).standard_normal((2, 5, 4, 3)).astype(np.float32)
    got = session.run(None, {"input": x})[0]
    assert np.max(np.abs(got - model.predict(x, verbose=0))) <= 1e-5


def test_keras_file_round_trip(tmp_path, keras):
    """A .keras file Keras 3 itself loads, and pycnn reads back, output_padding included."""
    model = up_net()
    x = np.random.default_rng(10).standard_normal((2, 5, 4, 3)).astype(np.float32)
    model.save(tmp_path / "up.keras")
    back = pycnn.models.load_model(tmp_path / "up.keras")
    assert [l.get_config() for l in back.layers] == [l.get_config() for l in model.layers]
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = keras.saving.load_model(tmp_path / "up.keras")
        assert np.max(np.abs(theirs.predict(x, verbose=0) - model.predict(x, verbose=0))) <= 1e-5
