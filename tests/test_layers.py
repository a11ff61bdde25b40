"""Layers: the common Layer API, Dense, Maxout, Dropout, Flatten, initializers, seeds."""
import json

import numpy as np
import pytest

import pycnn
from pycnn.layers import Dense, Dropout, Flatten, Layer, Maxout


@pytest.fixture(autouse=True)
def fresh_session():
    pycnn.clear_session()
    pycnn.set_seed(0)
    yield
    pycnn.clear_session()


# ---- names, build, counts ----------------------------------------------------------------


def test_names_count_per_type_from_one_and_clear_session_restarts():
    assert [Dense(2).name, Dense(2).name, Dropout(0.1).name, Dense(2).name] == \
        ["dense_1", "dense_2", "dropout_1", "dense_3"]
    assert Dense(2, name="out").name == "out"
    assert Maxout(2).name == "maxout_1"
    assert Flatten().name == "flatten_1"
    pycnn.clear_session()
    assert Dense(2).name == "dense_1"


def test_lecture_parameter_counts():
    layers = [Dense(512, activation="relu", input_shape=(784,)), Dense(512, activation="relu"),
              Dense(10, activation="softmax" if _has_activations() else None)]
    shape = (None, 784)
    counts = []
    for layer in layers:
        assert layer.count_params() == 0
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
        counts.append(layer.count_params())
    assert counts == [401920, 262656, 5130]
    assert shape == (None, 10)
    assert [w.name for w in layers[0].weights] == ["dense_1/kernel", "dense_1/bias"]
    assert layers[0].kernel.shape == (784, 512) and layers[0].bias.shape == (512,)
    assert all(w.requires_grad for w in layers[0].weights)
    assert layers[0].input_shape == (784,) and layers[1].input_shape is None


def _has_activations():
    try:
        from pycnn import activations
        return hasattr(activations, "get")
    except ImportError:
        return False


def test_call_builds_on_first_input_in_its_dtype():
    layer = Dense(3)
    assert not layer.built and layer.weights == []
    y = layer(np.zeros((2, 5)))
    assert layer.built and y.shape == (2, 3) and y.dtype == np.float64
    assert layer.kernel.dtype == np.float64
    y32 = layer(np.zeros((2, 5), np.float32))      # cast to the layer's dtype, like Keras
    assert y32.dtype == np.float64
    assert Dense(3)(np.zeros((2, 5), np.float32)).dtype == np.float32
    assert Dense(3, dtype="float64")(np.zeros((2, 5), np.float32)).dtype == np.float64


# ---- Dense ---------------------------------------------------------------------------------

ACTS = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}


@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_forward_matches_numpy(act, dtype, rng):
    x = rng.standard_normal((7, 5)).astype(dtype)
    layer = Dense(4, activation=act)
    y = layer(x)
    w, b = layer.get_weights()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.numpy(), ACTS[act](x @ w + b), atol=tol, rtol=tol)
    assert y.op == "dense" or not y.requires_grad


@pytest.mark.parametrize("act", list(ACTS) + [None])
def test_dense_gradcheck_input_kernel_bias(act, rng):
    layer = Dense(4, activation=act)
    x = rng.standard_normal((3, 5))
    layer(x)
    assert pycnn.gradcheck(lambda x, k, b: layer(x), [x, layer.kernel, layer.bias])


def test_dense_is_one_node_with_fused_activation(rng):
    layer = Dense(4, activation="relu")
    x = pycnn.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    y = layer(x)
    assert y.op == "dense"
    assert y.parents == (x, layer.kernel, layer.bias)


def test_dense_on_3d_input_and_without_bias(rng):
    layer = Dense(2, use_bias=False, activation="tanh")
    x = rng.standard_normal((2, 3, 4))
    y = layer(x)
    assert y.shape == (2, 3, 2) and len(layer.weights) == 1 and layer.bias is None
    np.testing.assert_allclose(y.numpy(), np.tanh(x @ layer.kernel.numpy()), atol=1e-12)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 2)
    assert pycnn.gradcheck(lambda x, k: layer(x), [x, layer.kernel])


def test_dense_gradient_accumulates_over_two_uses(rng):
    layer = Dense(3, activation="sigmoid")
    x = rng.standard_normal((4, 2))
    layer(x)
    assert pycnn.gradcheck(lambda x, k, b: layer(x) * layer(x * 2.0), [x, layer.kernel, layer.bias])


def test_dense_other_activation_applied_after_the_node(rng):
    if not _has_activations():
        pytest.skip("pycnn.activations (issue 3) not merged yet")
    layer = Dense(3, activation="softmax")
    x = rng.standard_normal((4, 5))
    y = layer(x).numpy()
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-12)
    assert layer.get_config()["activation"] == "softmax"
    assert pycnn.gradcheck(lambda x, k, b: layer(x), [x, layer.kernel, layer.bias])


def test_dense_bad_inputs_name_the_layer_and_numbers():
    with pytest.raises(ValueError, match=r"Dense: units must be a positive integer, got 0"):
        Dense(0)
    with pytest.raises(ValueError, match=r"Dense: units must be a positive integer, got -3"):
        Dense(-3)
    with pytest.raises(ValueError, match="unknown kernel_initializer 'glorot'"):
        Dense(3, kernel_initializer="glorot")
    with pytest.raises((ValueError, TypeError), match="activation"):
        Dense(3, activation="no_such_activation")
    layer = Dense(3, name="d")
    layer(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"d: input of shape \(2, 5\), expected \(batch, \.\.\., 4\)"):
        layer(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="d: input of shape"):
        layer(np.zeros(4))
    with pytest.raises(ValueError, match="last dimension of the input must be known"):
        Dense(3).build((None, None))


# ---- Maxout ------------------------------------------------------------------------------


def test_maxout_forward_gradcheck_and_count(rng):
    layer = Maxout(3, pieces=4)
    x = rng.standard_normal((5, 6))
    y = layer(x)
    w, b = layer.get_weights()
    assert w.shape == (6, 12) and b.shape == (12,)
    assert layer.count_params() == (6 + 1) * 3 * 4
    z = (x @ w + b).reshape(5, 3, 4)
    np.testing.assert_allclose(y.numpy(), z.max(axis=-1), atol=1e-12)
    assert layer.compute_output_shape((None, 6)) == (None, 3)
    assert pycnn.gradcheck(lambda x, k, b: layer(x), [x, layer.kernel, layer.bias])
    assert layer.get_config()["pieces"] == 4 and "activation" not in layer.get_config()
    with pytest.raises(ValueError, match="Maxout: pieces must be a positive integer, got 0"):
        Maxout(3, pieces=0)


def test_maxout_gradient_goes_to_first_maximal_piece():
    layer = Maxout(1, pieces=3, kernel_initializer="zeros")
    x = pycnn.tensor(np.ones((1, 2)))
    layer(x)
    y = layer(x)
    y.backward(np.ones((1, 1)))
    # all three pieces tie at 0: only piece 0 receives the gradient
    np.testing.assert_array_equal(layer.kernel.grad.numpy(), [[1, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(layer.bias.grad.numpy(), [1, 0, 0])


# ---- Dropout -----------------------------------------------------------------------------


def test_dropout_is_identity_unless_training(rng):
    x = pycnn.tensor(rng.standard_normal((4, 5)))
    layer = Dropout(0.5)
    assert layer(x) is x and layer(x, training=False) is x
    assert Dropout(0.0)(x, training=True) is x


def test_dropout_scales_survivors_and_drops_about_rate(rng):
    x = np.ones((200, 500), np.float32)
    y = Dropout(0.25)(x, training=True).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.02


def test_dropout_seeds_reproduce_masks(rng):
    x = np.ones((8, 9))
    a = Dropout(0.5, seed=3)(x, training=True).numpy()
    b = Dropout(0.5, seed=3)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    layer = Dropout(0.5, seed=3)
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.array_equal(first, second)        # one stream: masks differ per call
    pycnn.set_seed(11)
    c = Dropout(0.5)(x, training=True).numpy()
    pycnn.set_seed(11)
    np.testing.assert_array_equal(c, Dropout(0.5)(x, training=True).numpy())
    np.testing.assert_array_equal(pycnn.dropout(x, 0.5, seed=5).numpy(),
                                  pycnn.dropout(x, 0.5, seed=5).numpy())


def test_dropout_gradcheck_with_fixed_seed(rng):
    x = rng.standard_normal((3, 4))
    assert pycnn.gradcheck(lambda x: Dropout(0.4, seed=7)(x, training=True), [x])
    assert pycnn.gradcheck(lambda x: pycnn.dropout(x, 0.4, training=True, seed=2), [x])
    t = pycnn.tensor(x, requires_grad=True)
    y = pycnn.dropout(t, 0.5, seed=1)
    y.backward(np.ones_like(x))
    np.testing.assert_array_equal(t.grad.numpy(), y.numpy() / x)


def test_dropout_bad_rates():
    for rate in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"Dropout: rate must be in \[0, 1\)"):
            Dropout(rate)
    with pytest.raises(ValueError, match=r"dropout: rate must be in \[0, 1\)"):
        pycnn.dropout(np.ones(3), 1.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        Dropout(0.5, seed="x")


# ---- Flatten -------------------------------------------------------------------------------


def test_flatten_per_sample_in_c_order(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    y = Flatten()(x)
    np.testing.assert_array_equal(y.numpy(), x.reshape(2, 60))
    assert Flatten().compute_output_shape((None, 3, 4, 5)) == (None, 60)
    assert Flatten().compute_output_shape((None, None, 4)) == (None, None)
    assert pycnn.gradcheck(lambda x: Flatten()(x) * 2.0, [x])


# ---- weights API ---------------------------------------------------------------------------


def test_get_set_weights_round_trip_and_checks(rng):
    a, b = Dense(3), Dense(3)
    a.build((None, 4))
    b.build((None, 4))
    b.set_weights(a.get_weights())
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    kernel = b.kernel
    b.set_weights([np.ones((4, 3)), np.zeros(3)])
    assert b.kernel is kernel and np.all(kernel.numpy() == 1)   # values copied in place
    got = b.get_weights()
    got[0][...] = 5
    assert np.all(b.kernel.numpy() == 1)                         # get_weights copies
    with pytest.raises(ValueError, match=r"dense_2: set_weights expected 2 arrays with shapes "
                                         r"\[\(4, 3\), \(3,\)\], got 1"):
        b.set_weights([np.ones((4, 3))])
    with pytest.raises(ValueError, match=r"weight 0 \(dense_2/kernel\) has shape \(4, 3\) but "
                                         r"the given array has shape \(3, 4\)"):
        b.set_weights([np.ones((3, 4)), np.zeros(3)])
    assert np.all(b.kernel.numpy() == 1)                         # nothing half-written


def test_trainable_false_freezes(rng):
    layer = Dense(2)
    layer.build((None, 3))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not layer.kernel.requires_grad
    x = pycnn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    layer(x).backward(np.ones((2, 2)))
    assert layer.kernel.grad is None and x.grad is not None
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and layer.kernel.requires_grad
    assert Dense(2, trainable=False).get_config()["trainable"] is False


@pytest.mark.parametrize("make", [
    lambda: Dense(4, activation="tanh", use_bias=False, kernel_initializer="he_normal",
                  input_shape=(3,), name="d"),
    lambda: Maxout(2, pieces=3, bias_initializer="ones"),
    lambda: Dropout(0.3, seed=4),
    lambda: Flatten(),
])
def test_config_round_trip_is_json_safe(make):
    layer = make()
    config = layer.get_config()
    json.dumps(config)
    again = type(layer).from_config(config)
    assert again.get_config() == config


def test_dense_config_has_keras_keys():
    config = Dense(5, activation="relu", input_shape=(784,)).get_config()
    assert config == {"name": "dense_1", "trainable": True, "dtype": "float32",
                      "input_shape": (784,), "units": 5, "activation": "relu",
                      "use_bias": True, "kernel_initializer": "glorot_uniform",
                      "bias_initializer": "zeros", "kernel_regularizer": None,
                      "bias_regularizer": None, "activity_regularizer": None}


# ---- initializers and the seed -------------------------------------------------------------


def test_set_seed_reproduces_initial_weights():
    pycnn.set_seed(42)
    a = Dense(8)
    a.build((None, 6))
    pycnn.set_seed(42)
    b = Dense(8)
    b.build((None, 6))
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())
    c = Dense(8)
    c.build((None, 6))
    assert not np.array_equal(a.kernel.numpy(), c.kernel.numpy())


@pytest.mark.parametrize("name,shape,check", [
    ("glorot_uniform", (300, 200), lambda w: np.abs(w).max() <= np.sqrt(6 / 500)
     and abs(w.std() - np.sqrt(2 / 500)) < 0.003),
    ("he_uniform", (300, 200), lambda w: np.abs(w).max() <= np.sqrt(6 / 300)
     and abs(w.std() - np.sqrt(2 / 300)) < 0.003),
    ("he_normal", (3, 3, 20, 64), lambda w: np.abs(w).max() <= 2 * np.sqrt(2 / 180) / 0.8796256610342398
     and abs(w.std() - np.sqrt(2 / 180)) < 0.004),
    ("glorot_normal", (3, 3, 20, 64), lambda w: abs(w.std() - np.sqrt(2 / (180 + 576))) < 0.002
     and np.abs(w).max() <= 2 * np.sqrt(2 / 756) / 0.8796256610342398),
    ("zeros", (3, 4), lambda w: np.all(w == 0)),
    ("ones", (3, 4), lambda w: np.all(w == 1)),
    ({"class_name": "Constant", "config": {"value": 0.5}}, (3, 4), lambda w: np.all(w == 0.5)),
    ("HeNormal", (50, 50), lambda w: abs(w.std() - np.sqrt(2 / 50)) < 0.01),
])
def test_initializer_formulas(name, shape, check):
    w = pycnn._core.initialize(name, shape, dtype="float64")
    assert w.shape == shape and w.dtype == np.float64
    assert check(w)


def test_callable_initializer_and_errors():
    layer = Dense(2, kernel_initializer=lambda shape, dtype: np.full(shape, 3.0, dtype))
    layer.build((None, 4))
    assert np.all(layer.kernel.numpy() == 3)
    bad = Dense(2, kernel_initializer=lambda shape, dtype: np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"returned shape \(1, 1\), expected \(4, 2\)"):
        bad.build((None, 4))
    with pytest.raises(TypeError, match="set_seed: the seed must be an int"):
        pycnn.set_seed(1.5)


# ---- subclassing ---------------------------------------------------------------------------


class Scale(Layer):
    """A Python layer: y = x · s, one weight per feature."""

    def build(self, input_shape):
        self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="s")

    def call(self, x):
        return x * self.s

    def compute_output_shape(self, input_shape):
        return input_shape


class Noisy(Layer):
    def call(self, x, training=False):
        return x + 1.0 if training else x


def test_python_subclass_builds_names_and_trains(rng):
    layer = Scale()
    assert layer.name == "scale_1"
    x = rng.standard_normal((2, 3))
    y = layer(x)
    assert layer.built and [w.name for w in layer.weights] == ["scale_1/s"]
    np.testing.assert_allclose(y.numpy(), x)
    assert layer.count_params() == 3
    assert pycnn.gradcheck(lambda x, s: layer(x), [x, layer.s])
    assert Noisy()(np.zeros(2), training=True).numpy().tolist() == [1.0, 1.0]
    with pytest.raises(NotImplementedError, match="must define"):
        Layer()(np.zeros(2))


# ---- Reshape, Activation, LeakyReLU, ELU, Softmax --------------------------------------------

from pycnn.layers import ELU, Activation, LeakyReLU, Reshape, Softmax  # noqa: E402


@pytest.mark.parametrize("make,ref", [
    (lambda: Activation("relu"), lambda x: np.maximum(x, 0)),
    (lambda: Activation("tanh"), np.tanh),
    (lambda: Activation(pycnn.sigmoid), lambda x: 1 / (1 + np.exp(-x))),
    (lambda: Activation("softmax"), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    (lambda: LeakyReLU(), lambda x: np.where(x > 0, x, 0.1 * x)),
    (lambda: LeakyReLU(0.3), lambda x: np.where(x > 0, x, 0.3 * x)),
    (lambda: LeakyReLU(negative_slope=0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (lambda: ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    (lambda: ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (lambda: Softmax(axis=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
])
def test_activation_layers_forward_gradcheck_config(make, ref, rng):
    layer = make()
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(layer(x).numpy(), ref(x), atol=1e-12)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 4)
    assert layer.count_params() == 0
    assert pycnn.gradcheck(lambda x: layer(x), [x])
    config = layer.get_config()
    json.dumps(config)
    assert type(layer).from_config(config).get_config() == config


def test_activation_layer_configs_use_keras_keys():
    assert Activation("relu").get_config()["activation"] == "relu"
    assert Activation(pycnn.tanh).get_config()["activation"] == "tanh"
    assert LeakyReLU().get_config()["alpha"] == 0.1
    assert ELU().get_config()["alpha"] == 1.0
    assert Softmax().get_config()["axis"] == -1
    assert LeakyReLU().name == "leaky_re_lu_2"      # the second one of this test
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        Activation("nope")
    with pytest.raises(ValueError, match="LeakyReLU: alpha must be a finite number"):
        LeakyReLU(float("nan"))
    with pytest.raises(TypeError, match="Softmax: axis must be an int"):
        Softmax(axis=1.5)


def test_reshape_layer(rng):
    x = rng.standard_normal((2, 3, 4))
    layer = Reshape((4, 3))
    np.testing.assert_array_equal(layer(x).numpy(), x.reshape(2, 4, 3))
    assert Reshape((-1, 2))(x).shape == (2, 6, 2)
    assert Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert Reshape((-1, 2)).compute_output_shape((None, None, 4)) == (None, None, 2)
    assert Reshape((12,))(np.zeros((0, 3, 4))).shape == (0, 12)
    assert pycnn.gradcheck(lambda x: Reshape((2, 6))(x) * 3.0, [x])
    assert Reshape((-1, 2)).get_config()["target_shape"] == (-1, 2)
    with pytest.raises(ValueError, match=r"reshape_\d+: cannot reshape an input of shape "
                                         r"\(2, 3, 4\) \(12 values per sample\) to target_shape "
                                         r"\(5, -1\)"):
        Reshape((5, -1))(x)
    with pytest.raises(ValueError, match="at most one -1"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match="positive ints"):
        Reshape((0, 3))
    with pytest.raises(TypeError, match="target_shape must be a tuple"):
        Reshape(12)


def test_initializer_objects_work_in_layers_and_configs():
    from pycnn import initializers
    layer = Dense(3, kernel_initializer=initializers.Constant(0.5), bias_initializer="ones")
    layer.build((None, 2))
    assert np.all(layer.kernel.numpy() == 0.5) and np.all(layer.bias.numpy() == 1)
    config = layer.get_config()
    assert config["kernel_initializer"] == {"class_name": "Constant", "config": {"value": 0.5}}
    json.dumps(config)
    again = Dense.from_config(config)
    again.build((None, 2))
    assert np.all(again.kernel.numpy() == 0.5)
    pycnn.set_seed(3)
    a = initializers.get("HeNormal")((4, 5))
    pycnn.set_seed(3)
    np.testing.assert_array_equal(a, pycnn._core.initialize("he_normal", (4, 5)))
    assert repr(initializers.get({"class_name": "Constant", "config": {"value": 2}})) == \
        "Constant(value=2.0)"
    with pytest.raises(ValueError, match="unknown initializer 'lecun'"):
        initializers.get("lecun")


def test_copying_a_layer_says_how_instead_of_losing_its_fields():
    import copy
    import pickle
    with pytest.raises(TypeError, match="from_config"):
        copy.deepcopy(Dense(3))
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Dropout(0.5))


def test_empty_batches_flow_forward_and_backward():
    from pycnn.layers import AveragePooling2D, Conv2D, MaxPooling2D, UpSampling2D
    cases = [(Dense(3), (0, 4)), (Conv2D(2, 3), (0, 5, 5, 1)), (MaxPooling2D(), (0, 4, 4, 2)),
             (AveragePooling2D(), (0, 4, 4, 2)), (UpSampling2D(), (0, 2, 2, 1)),
             (Flatten(), (0, 3, 2)), (Dropout(0.5), (0, 3)), (Reshape((2, 3)), (0, 6))]
    for layer, shape in cases:
        x = pycnn.tensor(np.zeros(shape, np.float32), requires_grad=True)
        y = layer(x, training=True)
        assert y.shape[0] == 0
        y.backward(np.zeros(y.shape, np.float32))
        assert x.grad.shape == shape


def test_inputs_without_pixels_or_features_raise():
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 0, 5, 1\) has no pixels"):
        pycnn.conv2d(np.zeros((1, 0, 5, 1)), np.zeros((3, 3, 1, 2)))
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 4-D input .* got shape "
                                         r"\(1, 4, 4, 0\)"):
        pycnn.max_pool2d(np.zeros((1, 4, 4, 0)), 2)
    with pytest.raises(ValueError, match=r"dense_\d+: the last dimension of the input must be "
                                         r"known and positive, got input shape \(2, 0\)"):
        Dense(3)(np.zeros((2, 0)))


def test_subclass_that_skips_init_gets_an_error_not_a_crash():
    from pycnn.layers import Conv2D, MaxPooling2D, UpSampling2D

    def lazy(cls):
        return type("Lazy" + cls.__name__, (cls,), {"__init__": lambda self: None})()
    for cls, x in [(Dense, np.zeros((2, 3))), (Conv2D, np.zeros((1, 5, 5, 1))),
                   (MaxPooling2D, np.zeros((1, 4, 4, 1))), (UpSampling2D, np.zeros((1, 2, 2, 1))),
                   (Dropout, np.zeros((2, 3))), (Softmax, np.zeros((2, 3))),
                   (Reshape, np.zeros((2, 3)))]:
        layer = lazy(cls)
        with pytest.raises(RuntimeError, match=r"super\(\)\.__init__"):
            layer(x, training=True)
        with pytest.raises(RuntimeError, match=r"super\(\)\.__init__"):
            layer.call(x, training=True)
    for cls in (Dense, Conv2D):
        with pytest.raises(RuntimeError, match="was not initialised"):
            lazy(cls).get_config()
    with pytest.raises(RuntimeError, match="was not initialised"):
        lazy(MaxPooling2D).compute_output_shape((None, 4, 4, 1))


class Add2(Layer):
    """Two inputs: build gets the list of their shapes, as in Keras."""

    def build(self, input_shape):
        self.shapes = input_shape

    def call(self, inputs):
        a, b = inputs
        return a + b


def test_python_layer_with_several_inputs():
    a, b = pycnn.tensor(np.ones((2, 3))), pycnn.tensor(np.full((2, 3), 2.0))
    layer = Add2()
    assert layer([a, b]).numpy().tolist() == [[3.0] * 3] * 2
    assert layer.shapes == [(2, 3), (2, 3)]
