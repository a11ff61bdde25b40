"""pycnn.initializers against keras.initializers: names, configs, serialization, the laws
the draws follow, seeds, and use inside layers."""
import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn
from pycnn import initializers as I
from pycnn.layers import Dense

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")

CLASSES = ["Constant", "Zeros", "Ones", "Identity", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform",
           "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal"]
ARGS = {"Constant": {"value": 0.25}, "RandomNormal": {"mean": 1.0, "stddev": 0.3, "seed": 4},
        "RandomUniform": {"minval": -2.0, "maxval": 1.0}, "Identity": {"gain": 2.0},
        "TruncatedNormal": {"stddev": 0.2, "seed": 1}, "Orthogonal": {"gain": 0.5, "seed": 2},
        "VarianceScaling": {"scale": 3.0, "mode": "fan_out", "distribution": "uniform"},
        "HeNormal": {"seed": 9}}


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch", reason="PyTorch is optional")
    return pytest.importorskip("keras", reason="Keras 3 is optional: pip install pycnn[interop]")


@pytest.mark.parametrize("name", CLASSES)
def test_config_and_serialization_are_keras(keras, name):
    ours = getattr(I, name)(**ARGS.get(name, {}))
    theirs = getattr(keras.initializers, name)(**ARGS.get(name, {}))
    if name == "Identity":      # Keras drops gain from the config (it reloads as gain=1.0)
        assert theirs.get_config() == {} and ours.get_config() == {"gain": 2.0}
        assert I.deserialize(keras.initializers.serialize(theirs)).gain == 1.0
        return
    assert ours.get_config() == theirs.get_config()
    assert I.serialize(ours) == keras.initializers.serialize(theirs)
    back = I.deserialize(keras.initializers.serialize(theirs))
    assert type(back) is type(ours) and back.get_config() == ours.get_config()
    assert keras.initializers.deserialize(I.serialize(ours)).get_config() == ours.get_config()


def test_every_keras_name_resolves_to_the_same_class(keras):
    names = [n for n in dir(keras.initializers) if not n.startswith("_") and
             n not in ("get", "serialize", "deserialize", "Initializer") and
             "STFT" not in n and n != "stft"]
    for name in names:
        assert getattr(I, name) is type(I.get(name)), name
        if name.lower() == "constant":
            continue            # Keras' get('constant') fails: Constant.from_config({})
        theirs = keras.initializers.get(name)
        assert type(I.get(name)).__name__ == type(theirs).__name__, name
    assert I.get(None) is None
    assert isinstance(I.get(I.HeUniform), I.HeUniform)


def test_seed_generator_seed_serializes_as_keras(keras):
    ours = I.RandomNormal(seed=pycnn.random.SeedGenerator(3, name="seed_generator"))
    theirs = keras.initializers.RandomNormal(seed=keras.random.SeedGenerator(3, name="seed_generator"))
    assert I.serialize(ours) == keras.initializers.serialize(theirs)
    back = I.deserialize(I.serialize(ours))
    np.testing.assert_array_equal(back((3, 2)), I.RandomNormal(
        seed=pycnn.random.SeedGenerator(3))((3, 2)))


FAN = (64, 32)           # fan_in 64, fan_out 32 for a Dense kernel
CONV = (3, 3, 8, 16)     # fan_in 72, fan_out 144


@pytest.mark.parametrize("name, shape, std", [
    ("RandomNormal", FAN, 0.05), ("TruncatedNormal", FAN, 0.05 * 0.8796256),
    ("RandomUniform", FAN, 0.1 / np.sqrt(12)), ("GlorotUniform", FAN, np.sqrt(2 / 96)),
    ("GlorotNormal", FAN, np.sqrt(2 / 96)), ("HeUniform", CONV, np.sqrt(2 / 72)),
    ("HeNormal", CONV, np.sqrt(2 / 72)), ("LecunUniform", CONV, np.sqrt(1 / 72)),
    ("LecunNormal", FAN, np.sqrt(1 / 64)),
])
@pytest.mark.parametrize("seeded", [False, True])
def test_draws_have_the_keras_variance(keras, name, shape, std, seeded):
    """60 draws (a SeedGenerator, or pycnn's generator when unseeded) vs the formula, and
    Keras' own draw vs the same formula."""
    ours = getattr(I, name)(seed=pycnn.random.SeedGenerator(5) if seeded else None)
    values = np.stack([ours(shape) for _ in range(60)])
    theirs = keras.ops.convert_to_numpy(getattr(keras.initializers, name)(seed=1)(shape))
    assert values.dtype == np.float32
    assert abs(values.std() - std) < 0.03 * std
    assert abs(theirs.std() - std) < 0.15 * std        # Keras' own, fewer values
    assert abs(values.mean()) < 0.05 * std
    if name == "RandomUniform":
        assert values.min() >= -0.05 and values.max() < 0.05
    if "Normal" in name and name != "RandomNormal":
        assert np.abs(values).max() <= 2 * std / 0.8796256 + 1e-6


def test_variance_scaling_modes_and_distributions():
    for mode, fan in (("fan_in", 72), ("fan_out", 144), ("fan_avg", 108)):
        for dist in ("uniform", "truncated_normal", "untruncated_normal"):
            init = I.VarianceScaling(2.0, mode, dist, seed=pycnn.random.SeedGenerator(3))
            w = np.stack([init(CONV) for _ in range(40)])
            assert abs(w.std() - np.sqrt(2.0 / fan)) < 0.03 * np.sqrt(2.0 / fan), (mode, dist)
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_seeds_repeat_generators_advance_and_set_seed_reproduces():
    a = I.RandomNormal(seed=3)
    np.testing.assert_array_equal(a((4, 4)), a((4, 4)))
    g = I.GlorotUniform(seed=pycnn.random.SeedGenerator(1))
    assert not np.array_equal(g((4, 4)), g((4, 4)))
    for cls in (I.RandomNormal, I.GlorotUniform, I.LecunNormal, I.Orthogonal):
        pycnn.set_seed(8)
        first = cls()((5, 3))
        pycnn.set_seed(8)
        np.testing.assert_array_equal(cls()((5, 3)), first)
        assert not np.array_equal(cls()((5, 3)), first)
    pycnn.set_seed(3)                       # unseeded Glorot / He: the C stream, unchanged
    a = I.get("HeNormal")((4, 5))
    pycnn.set_seed(3)
    np.testing.assert_array_equal(a, pycnn._core.initialize("he_normal", (4, 5)))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 3, 2, 5)])
def test_orthogonal_is_orthogonal(keras, shape):
    q = I.Orthogonal(gain=1.5, seed=1)(shape, dtype="float64").reshape(-1, shape[-1])
    small = min(q.shape)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, 2.25 * np.eye(small), atol=1e-12)
    k = keras.ops.convert_to_numpy(keras.initializers.Orthogonal(gain=1.5, seed=1)(shape))
    assert k.shape == shape


def test_constants_match_keras(keras):
    for name in ("Zeros", "Ones", "Constant", "Identity"):
        shape = (3, 4)
        ours = getattr(I, name)(**ARGS.get(name, {}))(shape)
        theirs = getattr(keras.initializers, name)(**ARGS.get(name, {}))(shape)
        np.testing.assert_array_equal(ours, keras.ops.convert_to_numpy(theirs))
        assert ours.dtype == np.float32
    assert I.Ones()((2,), dtype="float64").dtype == np.float64


def test_array_and_callable_identifiers():
    values = np.arange(6.0).reshape(2, 3)
    init = I.get(values)
    np.testing.assert_array_equal(init((2, 3)), values)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), asked for shape \(3, 2\)"):
        init((3, 2))

    def fn(shape, dtype=None):
        return np.full(shape, 7.0, dtype)
    assert I.get(fn) is fn


def test_new_initializers_work_inside_layers():
    pycnn.set_seed(2)
    layer = Dense(16, kernel_initializer=I.Orthogonal(seed=1),
                  bias_initializer=I.RandomUniform(0.5, 0.6, seed=2))
    layer.build((None, 16))
    k = layer.kernel.numpy()
    np.testing.assert_allclose(k.T @ k, np.eye(16), atol=1e-5)
    assert (layer.bias.numpy() >= 0.5).all() and (layer.bias.numpy() < 0.6).all()
    assert layer.get_config()["kernel_initializer"] == {
        "class_name": "Orthogonal", "config": {"gain": 1.0, "seed": 1}}


@pytest.mark.parametrize("call, msg", [
    (lambda: I.get("lecun"), "unknown initializer 'lecun'"),
    (lambda: I.get(42), "could not interpret"),
    (lambda: I.deserialize({"class_name": "Nope"}), "unknown initializer 'Nope'"),
    (lambda: I.VarianceScaling(scale=0), "positive"),
    (lambda: I.VarianceScaling(mode="fan"), "invalid mode"),
    (lambda: I.VarianceScaling(distribution="cauchy"), "invalid distribution"),
    (lambda: I.RandomNormal(seed="a"), "seed should be"),
    (lambda: I.Orthogonal()((3,)), "at least two-dimensional"),
    (lambda: I.Identity()((2, 2, 2)), "2-D matrices"),
    (lambda: I.Ones()((2,), dtype="int32"), "float32 or float64"),
])
def test_bad_input_raises_clearly(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
