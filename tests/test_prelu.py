"""PReLU (pycnn/layers/prelu.py) and its op prelu (ops.def, kernels/elementwise): against
the NumPy twin, finite differences, Keras 3's PReLU and torch.nn.PReLU on the same weights,
and through every conversion (pycnn file, Keras both ways, .keras files, torch and back,
ONNX)."""
import numpy as np
import pytest

import pycnn
from pycnn.layers import Conv2D, Dense, Flatten, PReLU
from pycnn.models import Sequential

import reference
from helpers import assert_round_trips, check_op

pytestmark = [pytest.mark.usefixtures("fresh_session"),
              pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
                  "ignore:__array__ implementation doesn.t accept a copy keyword:"
                  "DeprecationWarning")]


def slopes(shape, seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 1.5, shape)


@pytest.mark.parametrize("alpha_shape", [(4, 5, 3), (1, 1, 3), (1, 5, 1), (1,)])
def test_op_matches_reference_and_gradcheck_on_both_sides_of_zero(alpha_shape):
    # x in [-2, 2): both branches; alpha broadcast as PReLU's shared axes make it
    check_op(pycnn.prelu, reference.prelu, [(2, 4, 5, 3), alpha_shape])


@pytest.mark.parametrize("shared_axes, alpha_shape", [(None, (4, 5, 3)), ([1, 2], (1, 1, 3)),
                                                      (2, (4, 1, 3)), ((1, 2, 3), (1, 1, 1))])
def test_layer_weight_shape_forward_and_gradcheck(shared_axes, alpha_shape):
    layer = PReLU(shared_axes=shared_axes, dtype="float64")
    x = np.random.default_rng(1).uniform(-2, 2, (2, 4, 5, 3))
    layer.build(x.shape)
    assert layer.alpha.shape == alpha_shape and layer.count_params() == np.prod(alpha_shape)
    np.testing.assert_array_equal(layer.alpha.numpy(), np.zeros(alpha_shape))   # Keras' zeros
    layer.set_weights([slopes(alpha_shape)])
    np.testing.assert_allclose(layer(x).numpy(), reference.prelu(x, layer.alpha.numpy()),
                               rtol=1e-15)
    assert pycnn.gradcheck(lambda x, a: pycnn.prelu(x, a), [x, slopes(alpha_shape)])
    y = layer(pycnn.tensor(x, requires_grad=True))
    y.backward(np.ones(y.shape))
    assert layer.alpha.grad.shape == alpha_shape     # summed over the shared axes


def test_matches_keras_and_torch_forward_and_backward(keras, torch):
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, (3, 4, 5, 6)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    alpha = slopes((1, 1, 6), 3).astype(np.float32)
    layer = PReLU(shared_axes=[1, 2])
    layer.build(x.shape)
    layer.set_weights([alpha])
    px = pycnn.tensor(x, requires_grad=True)
    y = layer(px)
    y.backward(dy)
    k = keras.layers.PReLU(shared_axes=[1, 2])
    k.build(x.shape)
    k.set_weights([alpha])
    assert np.abs(keras.ops.convert_to_numpy(k(x)) - y.numpy()).max() < 1e-6
    t = torch.nn.PReLU(num_parameters=6)             # torch's channels are axis 1: NCHW
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(alpha.reshape(6)))
    tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_()
    ty = t(tx)
    ty.backward(torch.from_numpy(dy.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy().transpose(0, 2, 3, 1), atol=1e-6)
    np.testing.assert_allclose(px.grad.numpy(), tx.grad.numpy().transpose(0, 2, 3, 1),
                               atol=1e-6)
    np.testing.assert_allclose(layer.alpha.grad.numpy().reshape(6), t.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-5)


def prelu_model():
    model = Sequential([Conv2D(4, 3, input_shape=(6, 6, 2)), PReLU(shared_axes=[1, 2]),
                        Flatten(), Dense(5), PReLU(alpha_initializer="ones")])
    for layer in (model.layers[1], model.layers[4]):
        layer.set_weights([slopes(layer.alpha.shape, 4).astype(np.float32)])
    return model


def test_config_summary_training_and_regularizer(keras):
    model = prelu_model()
    config = model.layers[1].get_config()
    k = keras.layers.PReLU(shared_axes=[1, 2]).get_config()
    assert {key: config[key] for key in k if key not in ("name", "dtype")} == \
        {key: v for key, v in k.items() if key not in ("name", "dtype")}
    assert PReLU.from_config(config).get_config() == config
    assert model.layers[1].count_params() == 4 and model.layers[4].count_params() == 5
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(5).standard_normal((8, 6, 6, 2)).astype(np.float32)
    before = model.layers[1].alpha.numpy().copy()
    model.fit(x, np.ones((8, 5), np.float32), epochs=2, verbose=0)
    assert not np.array_equal(model.layers[1].alpha.numpy(), before)   # α learns
    reg = PReLU(alpha_regularizer=pycnn.regularizers.L2(0.5))
    reg(np.ones((2, 3), np.float32))
    reg.set_weights([np.array([1.0, 2.0, 3.0], np.float32)])
    assert np.isclose(sum(float(l.numpy()) for l in reg.losses), 0.5 * 14)


def test_interop_round_trips(tmp_path, keras, torch):
    model = prelu_model()
    x = np.random.default_rng(6).standard_normal((3, 6, 6, 2)).astype(np.float32)
    _, k, back = assert_round_trips(model, x, tmp_path, torch=torch)
    assert [type(l).__name__ for l in k.layers] == ["Conv2D", "PReLU", "Flatten", "Dense",
                                                    "PReLU"]
    assert [l.get_config() for l in back.layers] == [l.get_config() for l in model.layers]


def test_keras_files_and_torch_weights_come_back(tmp_path, keras, torch):
    from pycnn.interop import load_torch_state, to_torch
    from pycnn.saving import load_model
    model = prelu_model()
    x = np.random.default_rng(7).standard_normal((3, 6, 6, 2)).astype(np.float32)
    want = model.predict(x, verbose=0)
    model.save(tmp_path / "p.keras")
    kmodel = keras.saving.load_model(tmp_path / "p.keras")
    assert np.abs(np.asarray(kmodel.predict(x, verbose=0)) - want).max() < 1e-5
    kmodel.save(tmp_path / "k.keras")
    np.testing.assert_array_equal(load_model(tmp_path / "k.keras").predict(x, verbose=0), want)
    t = to_torch(model)
    with torch.no_grad():
        t.state_dict()[f"{model.layers[1].name}.weight"].mul_(2.0)
    load_torch_state(model, t)
    with torch.no_grad():
        got = t(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), got, atol=1e-5)


def test_functional_model_converts(tmp_path, keras, torch):
    from pycnn.interop import from_keras, to_keras
    inputs = pycnn.Input((5,))
    h = PReLU(name="act")(Dense(4)(inputs))
    model = pycnn.Model(inputs, pycnn.layers.add([h, Dense(4)(inputs)]))
    model.layers[2].set_weights([slopes((4,), 8).astype(np.float32)])
    x = np.random.default_rng(8).standard_normal((3, 5)).astype(np.float32)
    want = model.predict(x, verbose=0)
    k = to_keras(model)
    assert np.abs(np.asarray(k.predict(x, verbose=0)) - want).max() < 1e-5
    np.testing.assert_array_equal(from_keras(k).predict(x, verbose=0), want)


@pytest.mark.parametrize("make, exc, match", [
    (lambda: PReLU(shared_axes=[0]), ValueError, r"shared_axes must be ints >= 1"),
    (lambda: PReLU(shared_axes=["h"]), ValueError, r"shared_axes must be ints >= 1"),
    (lambda: PReLU(alpha_constraint="non_neg"), ValueError, r"alpha_constraint"),
    (lambda: PReLU(alpha_initializer="nonsense"), ValueError, r"nonsense"),
    (lambda: PReLU(shared_axes=[3], name="p")(np.zeros((2, 4), np.float32)), ValueError,
     r"p: PReLU: shared axis 3 is not an axis of inputs of shape \(2, 4\)"),
    (lambda: pycnn.prelu(np.zeros((2, 3)), np.zeros(4)), ValueError, r"prelu.*broadcast"),
    (lambda: pycnn.prelu("x", 1.0), TypeError, r"prelu"),
])
def test_bad_arguments_and_inputs_raise_naming_the_problem(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
