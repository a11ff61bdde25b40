"""BatchNormalization (kernels/norm.c, autograd/ops_norm.c, py/norm.c): both modes against
the NumPy twin, float64 gradchecks, Keras 3 and torch.nn.BatchNorm2d on the same weights,
the moving statistics under fit, config/save round trips and the errors."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
from pycnn.layers import BatchNormalization, Conv2D, Dense, Flatten
from pycnn.models import Sequential

import reference
from helpers import assert_round_trips

pytestmark = [pytest.mark.usefixtures("fresh_session"),
              pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
                  "ignore:__array__ implementation doesn.t accept a copy keyword:"
                  "DeprecationWarning")]


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def random_bn(rng, shape, axis=-1, dtype="float32", **kwargs):
    """A built layer whose four weights are random (moving variance positive)."""
    layer = BatchNormalization(axis=axis, dtype=dtype, **kwargs)
    layer.build((None,) + tuple(shape[1:]))
    c = shape[axis]
    values = [rng.normal(1, 0.3, c), rng.normal(0, 0.5, c), rng.normal(0.5, 1, c),
              rng.uniform(0.5, 3, c)]
    if not layer.get_config()["scale"]:
        values.pop(0)
    if not layer.get_config()["center"]:
        values.pop(1 if layer.get_config()["scale"] else 0)
    layer.set_weights([v.astype(dtype) for v in values])
    return layer


# ---- forward against the NumPy twin ------------------------------------------------------


@pytest.mark.parametrize("axis, shape", [(-1, (6, 5, 4, 3)), (3, (4, 2, 3, 5)), (1, (5, 4, 3)),
                                         (-1, (7, 9)), (1, (3, 4, 2, 2))])
@pytest.mark.parametrize("dtype, atol", [("float32", 2e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False),
                                           (False, False)])
def test_forward_both_modes_match_reference(rng, axis, shape, dtype, atol, center, scale):
    layer = random_bn(rng, shape, axis, dtype, center=center, scale=scale)
    x = rng.normal(2, 3, shape).astype(dtype)
    w = layer.get_weights()
    gamma = w.pop(0) if scale else None
    beta = w.pop(0) if center else None
    mm, mv = w
    y = layer(x, training=False)
    assert y.dtype == dtype
    np.testing.assert_allclose(np.asarray(y), reference.batch_norm(x, gamma, beta, axis, 1e-3,
                                                                   mm, mv), atol=atol)
    y = layer(x, training=True)
    np.testing.assert_allclose(np.asarray(y), reference.batch_norm(x, gamma, beta, axis),
                               atol=atol)
    new_mm, new_mv = reference.batch_norm_moving(mm, mv, x, axis)
    np.testing.assert_allclose(layer.moving_mean.numpy(), new_mm, atol=atol, rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), new_mv, atol=atol, rtol=1e-6)


def test_inference_leaves_moving_statistics_alone(rng):
    layer = random_bn(rng, (4, 3))
    before = layer.get_weights()
    layer(rng.normal(size=(4, 3)))
    layer(rng.normal(size=(4, 3)), training=False)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_momentum_and_epsilon_are_used(rng):
    x = rng.normal(1, 2, (10, 4))
    layer = BatchNormalization(momentum=0.5, epsilon=0.1, dtype="float64")
    y = layer(x, training=True)
    np.testing.assert_allclose(y.numpy(), reference.batch_norm(x, np.ones(4), np.zeros(4),
                                                               epsilon=0.1), atol=1e-12)
    mm, mv = reference.batch_norm_moving(np.zeros(4), np.ones(4), x, momentum=0.5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mm, atol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.numpy(), mv, atol=1e-12)


def test_constant_channel_and_batch_of_one_are_finite():
    layer = BatchNormalization(dtype="float64")
    y = layer(np.full((1, 3), 5.0), training=True)        # variance 0: (x − μ) = 0 exactly
    np.testing.assert_array_equal(y.numpy(), np.zeros((1, 3)))


def test_results_do_not_depend_on_the_thread_count(rng):
    x = rng.normal(size=(64, 16, 16, 8)).astype(np.float32)    # several reduction chunks
    dy = rng.normal(size=x.shape).astype(np.float32)
    results = []
    previous = pycnn.get_num_threads()
    try:
        for threads in (1, 2):
            pycnn.set_num_threads(threads)
            layer = random_bn(np.random.default_rng(0), x.shape)
            t = pycnn.tensor(x, requires_grad=True)
            y = layer(t, training=True)
            y.backward(dy)
            results.append([y.numpy(), t.grad.numpy(), layer.gamma.grad.numpy(),
                            layer.beta.grad.numpy()] + layer.get_weights())
    finally:
        pycnn.set_num_threads(previous)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ---- gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize("axis, shape", [(-1, (4, 3, 2, 3)), (1, (3, 4, 3)), (-1, (5, 2))])
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_input_gamma_beta(rng, axis, shape, training):
    layer = random_bn(rng, shape, axis, "float64")
    x = rng.normal(1, 2, shape)
    assert pycnn.gradcheck(lambda x, g, b: layer(x, training=training),
                           [x, layer.gamma, layer.beta])


def test_gradcheck_without_scale_and_center(rng):
    layer = random_bn(rng, (4, 3), -1, "float64", scale=False)
    assert pycnn.gradcheck(lambda x, b: layer(x, training=True), [rng.normal(size=(4, 3)),
                                                                 layer.beta])
    layer = random_bn(rng, (4, 3), -1, "float64", center=False, scale=False)
    assert pycnn.gradcheck(lambda x: layer(x, training=True), [rng.normal(size=(4, 3))])


def test_gradients_accumulate_over_two_uses(rng):
    layer = random_bn(rng, (5, 3), -1, "float64")
    x = rng.normal(size=(5, 3))
    assert pycnn.gradcheck(lambda x, g, b: layer(x, training=True) * layer(x * 2.0,
                                                                            training=True),
                           [x, layer.gamma, layer.beta])


def test_frozen_layer_runs_in_inference_mode(rng):
    layer = random_bn(rng, (6, 3), -1, "float64")
    layer.trainable = False
    before = layer.get_weights()
    x = rng.normal(size=(6, 3))
    y = layer(x, training=True)
    gamma, beta, mm, mv = before
    np.testing.assert_allclose(y.numpy(), reference.batch_norm(x, gamma, beta, mean=mm, var=mv),
                               atol=1e-12)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


# ---- the oracles: Keras 3 and torch on the same weights ------------------------------------


def test_matches_keras_in_both_modes(rng, keras):
    shape = (8, 5, 6, 4)
    layer = random_bn(rng, shape, momentum=0.9, epsilon=1e-2)
    k = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-2)
    k.build(shape)
    k.set_weights(layer.get_weights())
    x = rng.normal(2, 3, shape).astype(np.float32)
    for training in (False, True, False):
        got = np.asarray(layer(x, training=training))
        want = keras.ops.convert_to_numpy(k(x, training=training))
        assert np.abs(got - want).max() < 2e-5
    for a, b in zip(layer.get_weights(), k.get_weights()):
        assert np.abs(a - b).max() < 1e-6
    assert [w.name.split("/")[-1] for w in layer.weights] == [w.path.split("/")[-1]
                                                             for w in k.weights]


def test_matches_torch_batchnorm2d_forward_backward_and_running_stats(rng, torch):
    """torch momentum = 1 − Keras momentum; torch's running_var takes the UNBIASED batch
    variance (n/(n−1) · Keras'), while both normalise with the biased one."""
    shape = (6, 5, 7, 3)
    n = shape[0] * shape[1] * shape[2]
    layer = random_bn(rng, shape, momentum=0.9, epsilon=1e-5)
    gamma, beta, mm, mv = layer.get_weights()
    t = torch.nn.BatchNorm2d(3, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        for p, v in zip((t.weight, t.bias, t.running_mean, t.running_var), (gamma, beta, mm, mv)):
            p.copy_(torch.from_numpy(v))
    x = rng.normal(1, 2, shape).astype(np.float32)
    dy = rng.normal(size=shape).astype(np.float32)
    px = pycnn.tensor(x, requires_grad=True)
    y = layer(px, training=True)
    y.backward(dy)
    tx = torch.from_numpy(x).permute(0, 3, 1, 2).requires_grad_()
    ty = t.train()(tx)
    ty.backward(torch.from_numpy(dy).permute(0, 3, 1, 2))
    assert np.abs(y.numpy() - ty.detach().permute(0, 2, 3, 1).numpy()).max() < 2e-5
    assert np.abs(px.grad.numpy() - tx.grad.permute(0, 2, 3, 1).numpy()).max() < 2e-5
    assert np.abs(layer.gamma.grad.numpy() - t.weight.grad.numpy()).max() < 1e-4
    assert np.abs(layer.beta.grad.numpy() - t.bias.grad.numpy()).max() < 1e-4
    assert np.abs(layer.moving_mean.numpy() - t.running_mean.numpy()).max() < 1e-6
    batch_var = x.reshape(-1, 3).astype(np.float64).var(axis=0)
    torch_var = mv * 0.9 + batch_var * n / (n - 1) * 0.1
    np.testing.assert_allclose(t.running_var.numpy(), torch_var, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), mv * 0.9 + batch_var * 0.1,
                               rtol=1e-5)
    # inference: the same moving statistics give the same output
    with torch.no_grad():
        t.running_var.copy_(torch.from_numpy(layer.moving_variance.numpy()))
        ty = t.eval()(tx).permute(0, 2, 3, 1).numpy()
    assert np.abs(np.asarray(layer(x)) - ty).max() < 2e-5


# ---- in a model: fit, summary, config, saving -------------------------------------------


def small_cnn():
    return Sequential([Conv2D(4, 3, input_shape=(6, 6, 2)), BatchNormalization(),
                       Flatten(), Dense(3), BatchNormalization(momentum=0.5)])


def test_summary_counts_non_trainable_params():
    model = small_cnn()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # conv 3·3·2·4 + 4 = 76, BN 4·4 = 16, dense 64·3 + 3 = 195, BN 4·3 = 12
    assert "Total params: 299" in text
    assert "Trainable params: 285" in text
    assert "Non-trainable params: 14" in text         # 2·4 + 2·3
    lines = []
    model.summary(print_fn=lines.append, show_arithmetic=True)
    assert any("4 · 4 = 16" in line and "2 · 4 non-trainable" in line for line in lines)


def test_fit_updates_moving_statistics_and_optimizer_leaves_them(rng):
    model = small_cnn()
    model.compile(optimizer="sgd", loss="mse")
    bn = model.layers[1]
    x = rng.normal(3, 2, (16, 6, 6, 2)).astype(np.float32)
    y = rng.normal(size=(16, 3)).astype(np.float32)
    assert bn.moving_mean not in model.trainable_weights
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.abs(bn.moving_mean.numpy()).max() > 0           # moved toward the batches
    assert not np.allclose(bn.moving_variance.numpy(), 1.0)
    before = [w.copy() for w in model.get_weights()]
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_config_round_trip(rng):
    layer = BatchNormalization(axis=1, momentum=0.8, epsilon=1e-4, center=False,
                               gamma_initializer="glorot_uniform", name="bn")
    config = layer.get_config()
    assert config["axis"] == 1 and config["momentum"] == 0.8 and config["epsilon"] == 1e-4
    assert config["center"] is False and config["scale"] is True
    assert config["gamma_initializer"] == "glorot_uniform"
    again = BatchNormalization.from_config(config)
    assert again.get_config() == config


def test_save_and_load_round_trip(rng, tmp_path):
    from pycnn.saving import load_model, save_model
    model = small_cnn()
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(8, 6, 6, 2)).astype(np.float32)
    model.fit(x, rng.normal(size=(8, 3)).astype(np.float32), epochs=1, verbose=0)
    save_model(model, tmp_path / "m.pycnn")
    loaded = load_model(tmp_path / "m.pycnn")
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert [w.name for w in loaded.layers[1].weights][-1].endswith("/moving_variance")


# ---- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    ({"momentum": 1.5}, "momentum must be in"),
    ({"momentum": "high"}, "momentum must be a number"),
    ({"epsilon": 0}, "epsilon must be a positive"),
    ({"axis": "last"}, "axis must be an int"),
    ({"gamma_regularizer": "l2"}, "gamma_regularizer='l2' is not supported"),
    ({"renorm": True}, "renorm=True is not supported"),
    ({"beta_initializer": "bogus"}, "beta_initializer"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        BatchNormalization(**kwargs)


def test_bad_inputs_name_the_layer_and_numbers():
    layer = BatchNormalization(name="bn")
    layer(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="bn: expected an input with a batch axis"):
        layer(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="bn: input of shape .* is empty"):
        layer(np.zeros((0, 3), np.float32), training=True)
    with pytest.raises(ValueError, match="bn: masks are not supported"):
        layer(np.zeros((2, 3), np.float32)).shape and layer.call(np.zeros((2, 3)), mask=1)
    with pytest.raises(ValueError, match=r"bn2: axis 4 is out of range for inputs of shape"):
        BatchNormalization(axis=4, name="bn2").build((None, 3, 3, 2))
    with pytest.raises(ValueError, match="the size of axis -1 must be known"):
        BatchNormalization().build((None, None))
    with pytest.raises(RuntimeError, match="call\\(\\) before build"):
        BatchNormalization(name="bn3").call(np.zeros((2, 3)))


# ---- interop: Keras 3, PyTorch, ONNX -------------------------------------------------------


def bn_model(rng):
    """Conv → BN (channels) → Flatten → Dense → BN(scale=False) → BN(axis=1 of a 2-D input)."""
    model = Sequential([Conv2D(4, 3, input_shape=(6, 6, 2)), BatchNormalization(momentum=0.9),
                        Flatten(), Dense(5), BatchNormalization(scale=False, epsilon=1e-2),
                        BatchNormalization(axis=1, center=False)])
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            w = layer.get_weights()
            layer.set_weights([rng.normal(1 if i == len(w) - 1 else 0, 0.3, v.shape).__abs__()
                               .astype(np.float32) if i == len(w) - 1 else
                               rng.normal(0, 0.5, v.shape).astype(np.float32)
                               for i, v in enumerate(w)])
    return model


def test_to_keras_and_back(rng, keras):
    from pycnn.interop import from_keras, to_keras
    model = bn_model(rng)
    x = rng.normal(1, 2, (8, 6, 6, 2)).astype(np.float32)
    k = to_keras(model)
    assert np.abs(keras.ops.convert_to_numpy(k(x, training=False)) -
                  model.predict(x, verbose=0)).max() < 1e-5
    got = np.asarray(model(x, training=True))
    want = keras.ops.convert_to_numpy(k(x, training=True))
    assert np.abs(got - want).max() < 1e-4
    for a, b in zip(model.get_weights(), k.get_weights()):   # moving statistics moved alike
        assert np.abs(a - b).max() < 1e-5
    back = from_keras(k)
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in model.layers]
    assert back.layers[4].get_config()["scale"] is False
    assert back.layers[5].get_config()["axis"] == 1
    assert np.abs(back.predict(x, verbose=0) - model.predict(x, verbose=0)).max() < 1e-5


def test_from_keras_refuses_renorm(keras):
    from pycnn.interop import ConversionError, from_keras
    k = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(renorm=True)])
    with pytest.raises(ConversionError, match="batch_normalization.*renorm=True"):
        from_keras(k)


def test_to_torch_eval_train_and_back(rng, torch):
    from pycnn.interop import load_torch_state, to_torch
    model = bn_model(rng)
    x = rng.normal(1, 2, (8, 6, 6, 2)).astype(np.float32)
    t = to_torch(model)
    assert np.abs(t.eval()(torch.from_numpy(x)).detach().numpy() -
                  model.predict(x, verbose=0)).max() < 1e-5
    got = np.asarray(model(x, training=True))          # moves pycnn's moving statistics
    want = t.train()(torch.from_numpy(x)).detach().numpy()
    assert np.abs(got - want).max() < 1e-4
    state = t.state_dict()
    bn = model.layers[1]
    assert np.abs(state[f"{bn.name}.running_mean"].numpy() - bn.moving_mean.numpy()).max() < 1e-6
    assert np.abs(state[f"{bn.name}.running_var"].numpy() - bn.moving_variance.numpy()).max() < 1e-6
    with torch.no_grad():
        state[f"{bn.name}.running_var"].mul_(2.0)
    load_torch_state(model, t)
    np.testing.assert_allclose(bn.moving_variance.numpy(), state[f"{bn.name}.running_var"].numpy())
    assert f"{model.layers[4].name}.weight" not in state      # scale=False: no γ


def test_to_onnx_matches(rng, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from pycnn.interop import to_onnx
    model = bn_model(rng)
    to_onnx(model, tmp_path / "bn.onnx")
    x = rng.normal(1, 2, (3, 6, 6, 2)).astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "bn.onnx"))
    got = session.run(None, {"input": x})[0]
    assert np.abs(got - model.predict(x, verbose=0)).max() < 1e-5


# ---- LayerNormalization ----------------------------------------------------------------------

from pycnn.layers import LayerNormalization  # noqa: E402


def random_ln(rng, shape, axis=-1, dtype="float32", **kwargs):
    layer = LayerNormalization(axis=axis, dtype=dtype, **kwargs)
    layer.build((None,) + tuple(shape[1:]))
    layer.set_weights([rng.normal(1, 0.5, w.shape).astype(dtype) for w in layer.weights])
    return layer


LN_CASES = [(-1, (6, 5)), (-1, (3, 4, 5, 3)), ([2, 3], (3, 4, 5, 3)), ([1, 2, 3], (2, 3, 4, 2)),
            ([-2, -1], (4, 3, 5))]


@pytest.mark.parametrize("axis, shape", LN_CASES)
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False),
                                           (False, False)])
def test_layer_norm_forward_matches_reference(rng, axis, shape, center, scale):
    axes = axis if isinstance(axis, list) else [axis]
    for dtype, atol in (("float32", 2e-5), ("float64", 1e-12)):
        layer = random_ln(rng, shape, axis, dtype, center=center, scale=scale)
        w = layer.get_weights()
        gamma = w.pop(0) if scale else None
        beta = w.pop(0) if center else None
        x = rng.normal(1, 2, shape).astype(dtype)
        for training in (False, True):          # the same in both modes
            y = layer(x, training=training)
            assert y.dtype == dtype
            np.testing.assert_allclose(y.numpy(), reference.layer_norm(x, gamma, beta, axes),
                                       atol=atol)


@pytest.mark.parametrize("axis, shape", LN_CASES)
def test_layer_norm_gradcheck(rng, axis, shape):
    layer = random_ln(rng, shape, axis, "float64")
    x = rng.normal(size=(2,) + shape[1:])
    assert pycnn.gradcheck(lambda x, g, b: layer(x) * layer(x * 3.0), [x, layer.gamma,
                                                                      layer.beta])
    layer = random_ln(rng, shape, axis, "float64", scale=False)
    assert pycnn.gradcheck(lambda x, b: layer(x), [x, layer.beta])


def _layer_norm_grads(x, gamma, dy, epsilon=1e-3):
    """dx, dγ, dβ of y = γ·x̂ + β over the last axis, in float64 (the textbook formulas)"""
    x, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
    inv = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + epsilon)
    xhat = (x - x.mean(axis=-1, keepdims=True)) * inv
    g = dy * gamma
    dx = inv * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1,
                                                                          keepdims=True))
    rows = tuple(range(x.ndim - 1))
    return dx, (dy * xhat).sum(axis=rows), dy.sum(axis=rows)


@pytest.mark.parametrize("wanted", ["all", "x", "weights"])
def test_layer_norm_backward_many_rows(rng, wanted):
    # 3·67 = 201 rows: several blocks of rows for the column sums, groups of rows cut short
    shape = (3, 67, 24)
    layer = random_ln(rng, shape, trainable=wanted != "x")
    x = rng.normal(1, 2, shape).astype(np.float32)
    dy = rng.normal(size=shape).astype(np.float32)
    px = pycnn.tensor(x, requires_grad=wanted != "weights")
    layer(px).backward(dy)
    dx, dgamma, dbeta = _layer_norm_grads(x, layer.gamma.numpy().astype(np.float64), dy)
    if wanted != "weights":
        np.testing.assert_allclose(px.grad.numpy(), dx, atol=2e-5)
    else:
        assert px.grad is None
    if wanted != "x":
        np.testing.assert_allclose(layer.gamma.grad.numpy(), dgamma, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(layer.beta.grad.numpy(), dbeta, rtol=1e-5, atol=1e-4)
    else:
        assert layer.gamma.grad is None and layer.beta.grad is None


def test_layer_norm_matches_keras_and_torch(rng, keras, torch):
    shape = (5, 4, 6, 3)
    for axis in (-1, [2, 3], [1, 2, 3]):
        layer = random_ln(rng, shape, axis, epsilon=1e-5)
        k = keras.layers.LayerNormalization(axis=axis, epsilon=1e-5)
        k.build(shape)
        k.set_weights(layer.get_weights())
        x = rng.normal(1, 2, shape).astype(np.float32)
        px = pycnn.tensor(x, requires_grad=True)
        y = layer(px)
        assert np.abs(y.numpy() - keras.ops.convert_to_numpy(k(x))).max() < 2e-5
        norm_shape = layer.gamma.shape
        t = torch.nn.LayerNorm(norm_shape, eps=1e-5)
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(layer.gamma.numpy()))
            t.bias.copy_(torch.from_numpy(layer.beta.numpy()))
        tx = torch.from_numpy(x).requires_grad_()
        ty = t(tx)
        dy = rng.normal(size=shape).astype(np.float32)
        y.backward(dy)
        ty.backward(torch.from_numpy(dy))
        assert np.abs(y.numpy() - ty.detach().numpy()).max() < 2e-5
        assert np.abs(px.grad.numpy() - tx.grad.numpy()).max() < 2e-5
        assert np.abs(layer.gamma.grad.numpy() - t.weight.grad.numpy()).max() < 1e-4
        assert np.abs(layer.beta.grad.numpy() - t.bias.grad.numpy()).max() < 1e-4


def test_layer_norm_config_summary_saving_and_interop(rng, tmp_path, keras, torch):
    model = Sequential([Conv2D(3, 3, input_shape=(5, 5, 2)), LayerNormalization(axis=[1, 2, 3]),
                        Flatten(), Dense(4), LayerNormalization(center=False)])
    for layer in (model.layers[1], model.layers[4]):
        layer.set_weights([rng.normal(1, 0.5, w.shape).astype(np.float32)
                           for w in layer.weights])
    config = model.layers[1].get_config()
    assert config["axis"] == [1, 2, 3] and config["epsilon"] == 1e-3
    assert LayerNormalization.from_config(config).get_config() == config
    lines = []
    model.summary(print_fn=lines.append)
    assert "Non-trainable params: 0" in "\n".join(lines)
    assert model.layers[1].count_params() == 2 * 3 * 3 * 3
    assert_round_trips(model, rng.normal(size=(4, 5, 5, 2)).astype(np.float32), tmp_path,
                       torch=torch)
    from pycnn.interop import ConversionError, to_onnx
    with pytest.raises(ConversionError, match="LayerNormalization.*opset 16"):
        to_onnx(model, tmp_path / "old.onnx", opset=16)
    assert not (tmp_path / "old.onnx").exists()


@pytest.mark.parametrize("cls, counted", [(BatchNormalization, "features"),
                                           (LayerNormalization, "values")])
def test_a_built_norm_layer_names_another_width(cls, counted):
    layer = cls(name="norm")
    layer(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=rf"norm: input of shape \(2, 4\) has 4 {counted} "
                                         r"along axis -1, but the layer was built for 3"):
        layer(np.zeros((2, 4), np.float32))


def test_layer_norm_errors():
    with pytest.raises(ValueError, match="ln: axis \\[1\\]: pycnn normalises over the trailing"):
        LayerNormalization(axis=[1], name="ln").build((None, 3, 4))
    with pytest.raises(ValueError, match="rms_scaling=True is not supported"):
        LayerNormalization(rms_scaling=True)
    with pytest.raises(TypeError, match="axis must be an int or a non-empty list"):
        LayerNormalization(axis=[])
    with pytest.raises(ValueError, match="epsilon must be a positive"):
        LayerNormalization(epsilon=-1)
    with pytest.raises(ValueError, match="axis 5 does not name distinct non-batch axes"):
        LayerNormalization(axis=5).build((None, 3))


# ---- the vectorised kernels' routes: vector widths, tails, blocks and chunks ----------------


def batch_norm_backward_twin(x, dy, gamma, axis, epsilon=1e-3):
    """NumPy twin of the training-mode backward: (dx, dγ, dβ) in float64."""
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    axes = tuple(d for d in range(x.ndim) if d != axis % x.ndim)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    mean = x.mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + epsilon)
    xh = (x - mean) * inv
    dx = gamma.reshape(shape) * inv * (dy - dy.mean(axis=axes, keepdims=True)
                                       - xh * (dy * xh).mean(axis=axes, keepdims=True))
    return dx, (dy * xh).sum(axis=axes), dy.sum(axis=axes)


def layer_norm_backward_twin(x, dy, gamma, epsilon=1e-3):
    """NumPy twin of LayerNormalization(axis=-1)'s backward: (dx, dγ, dβ) in float64."""
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    inv = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + epsilon)
    xh = (x - x.mean(axis=-1, keepdims=True)) * inv
    g = dy * gamma
    dx = inv * (g - g.mean(axis=-1, keepdims=True) - xh * (g * xh).mean(axis=-1, keepdims=True))
    rows = tuple(range(x.ndim - 1))
    return dx, (dy * xh).sum(axis=rows), dy.sum(axis=rows)


# channels-last C below, at and past the vector widths (4 doubles, 8 floats a column
# group) with tails; enough rows for several 64-row blocks and 32768-value chunks; and
# axis=1 runs of B values with tails
BN_ROUTES = [(-1, (300, 1)), (-1, (300, 3)), (-1, (130, 8)), (-1, (70, 19)),
             (-1, (40, 30, 37)), (1, (5, 13, 11)), (1, (3, 4, 2, 9)), (1, (6, 1, 35))]


@pytest.mark.parametrize("axis, shape", BN_ROUTES)
@pytest.mark.parametrize("dtype, tol", [("float32", 1e-4), ("float64", 1e-10)])
def test_batch_norm_routes_match_the_twins(rng, axis, shape, dtype, tol):
    layer = random_bn(rng, shape, axis, dtype)
    gamma = layer.gamma.numpy().astype(np.float64)
    beta = layer.beta.numpy().astype(np.float64)
    x = rng.normal(2, 3, shape).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    t = pycnn.tensor(x, requires_grad=True)
    y = layer(t, training=True)
    y.backward(dy)
    np.testing.assert_allclose(y.numpy(), reference.batch_norm(x.astype(np.float64), gamma,
                                                               beta, axis), atol=tol * 10)
    dx, dgamma, dbeta = batch_norm_backward_twin(x, dy, gamma, axis)
    scale = np.abs(dx).max()
    np.testing.assert_allclose(t.grad.numpy(), dx, atol=tol * scale)
    np.testing.assert_allclose(layer.gamma.grad.numpy(), dgamma, rtol=tol, atol=tol * x.size)
    np.testing.assert_allclose(layer.beta.grad.numpy(), dbeta, rtol=tol, atol=tol * x.size)
    # a second backward into the same .grad adds (the first wrote a fresh buffer)
    layer(t, training=True).backward(dy)
    np.testing.assert_allclose(t.grad.numpy(), 2 * dx, atol=2 * tol * scale)


@pytest.mark.parametrize("shape", [(300, 1), (70, 19), (9, 5, 7, 35), (40, 30, 37), (3, 2, 128),
                                   (4, 6)])
@pytest.mark.parametrize("dtype, tol", [("float32", 1e-4), ("float64", 1e-10)])
def test_layer_norm_routes_match_the_twins(rng, shape, dtype, tol):
    layer = random_ln(rng, shape, -1, dtype)
    gamma = layer.gamma.numpy().astype(np.float64)
    x = rng.normal(2, 3, shape).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    t = pycnn.tensor(x, requires_grad=True)
    y = layer(t)
    y.backward(dy)
    np.testing.assert_allclose(y.numpy(), reference.layer_norm(x.astype(np.float64), gamma,
                                                               layer.beta.numpy()), atol=tol * 10)
    dx, dgamma, dbeta = layer_norm_backward_twin(x, dy, gamma)
    scale = np.abs(dx).max()
    np.testing.assert_allclose(t.grad.numpy(), dx, atol=tol * scale)
    np.testing.assert_allclose(layer.gamma.grad.numpy(), dgamma, rtol=tol, atol=tol * x.size)
    np.testing.assert_allclose(layer.beta.grad.numpy(), dbeta, rtol=tol, atol=tol * x.size)
    layer(t).backward(dy)
    np.testing.assert_allclose(t.grad.numpy(), 2 * dx, atol=2 * tol * scale)


def test_inference_input_gradient_is_the_scale_also_for_one_long_channel(rng):
    """C = 1 maps the whole array as one run: dx = γ/√(var + ε) · dy."""
    layer = random_bn(rng, (1000, 1), -1, "float64")
    x = rng.normal(size=(1000, 1))
    dy = rng.normal(size=(1000, 1))
    t = pycnn.tensor(x, requires_grad=True)
    layer(t, training=False).backward(dy)
    gamma, _, _, mv = layer.get_weights()
    np.testing.assert_allclose(t.grad.numpy(), gamma / np.sqrt(mv + 1e-3) * dy, rtol=1e-12)


def test_a_nan_stays_in_its_channel_and_row(rng):
    x = rng.normal(size=(100, 21)).astype(np.float32)
    x[37, 5] = np.nan
    y = random_bn(rng, x.shape)(x, training=True).numpy()
    assert np.isnan(y[:, 5]).all()
    assert np.isfinite(np.delete(y, 5, axis=1)).all()
    y = random_ln(rng, x.shape)(x).numpy()
    assert np.isnan(y[37]).all()
    assert np.isfinite(np.delete(y, 37, axis=0)).all()


@pytest.mark.parametrize("make, shape", [
    (lambda rng, s: random_ln(rng, s), (40, 30, 37)),              # several chunks of rows
    (lambda rng, s: random_bn(rng, s, 1), (20, 13, 7, 19)),         # axis=1: runs of B values
    (lambda rng, s: random_bn(rng, s), (50000, 1))])                 # C = 1: one long run
def test_layer_norm_and_other_routes_do_not_depend_on_the_thread_count(make, shape):
    rng = np.random.default_rng(5)
    x = rng.normal(1, 2, shape).astype(np.float32)
    dy = rng.normal(size=shape).astype(np.float32)
    results = []
    previous = pycnn.get_num_threads()
    try:
        for threads in (1, 2):
            pycnn.set_num_threads(threads)
            layer = make(np.random.default_rng(0), shape)
            t = pycnn.tensor(x, requires_grad=True)
            y = layer(t, training=True)
            y.backward(dy)
            results.append([y.numpy(), t.grad.numpy()] + [w.grad.numpy() for w in
                                                          (layer.gamma, layer.beta)])
    finally:
        pycnn.set_num_threads(previous)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_input_gradient_written_over_a_recycled_buffer_is_right(rng):
    """dx comes uninitialised from the buffer pool and is written, not added to."""
    x = rng.normal(size=(64, 9, 9, 24)).astype(np.float32)         # > 64 KiB: pooled
    dy = rng.normal(size=x.shape).astype(np.float32)
    grads = []
    for layer in (random_bn(rng, x.shape), random_ln(rng, x.shape)):
        for garbage in (False, True):
            if garbage:                     # leave big buffers full of junk in the pool
                junk = [pycnn.tensor(np.full(x.shape, 1e30, np.float32)) * 2.0
                        for _ in range(4)]
                del junk
            t = pycnn.tensor(x, requires_grad=True)
            layer(t, training=True).backward(dy)
            grads.append(t.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[2], grads[3])
    assert np.isfinite(grads[0]).all() and np.isfinite(grads[2]).all()


@pytest.mark.parametrize("dtype, atol", [("float32", 1e-3), ("float64", 1e-9)])
def test_moments_merged_over_chunks_do_not_cancel(rng, dtype, atol):
    """The variance comes from each chunk's squares about its own mean, merged: a mean
    of 1000 over a unit spread (three chunks, the last one short) loses nothing."""
    layer = BatchNormalization(dtype=dtype, momentum=0.0)
    x = (1000 + rng.normal(size=(40000, 2))).astype(dtype)
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y, reference.batch_norm(x, axis=-1), atol=atol)
    np.testing.assert_allclose(layer.moving_variance.numpy(), x.astype(np.float64).var(axis=0),
                               rtol=atol)
    np.testing.assert_allclose(layer.moving_mean.numpy(), x.astype(np.float64).mean(axis=0),
                               rtol=1e-7)
