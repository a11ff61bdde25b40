"""pycnn.random: Keras' signatures, the three seed modes, the distributions, gradients."""
import inspect
import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn
from pycnn import random as prandom

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")

DRAWS = {
    "normal": lambda seed: prandom.normal((4, 5), seed=seed),
    "uniform": lambda seed: prandom.uniform((4, 5), seed=seed),
    "truncated_normal": lambda seed: prandom.truncated_normal((4, 5), seed=seed),
    "randint": lambda seed: prandom.randint((4, 5), 0, 100, seed=seed),
    "dropout": lambda seed: prandom.dropout(np.ones((4, 5), np.float32), 0.5, seed=seed),
    "shuffle": lambda seed: prandom.shuffle(np.arange(20.0), seed=seed),
    "categorical": lambda seed: prandom.categorical(np.zeros((4, 5)), 6, seed=seed),
}


def _np(x):
    return x.numpy() if isinstance(x, pycnn.Tensor) else np.asarray(x)


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch", reason="PyTorch is optional")
    return pytest.importorskip("keras", reason="Keras 3 is optional: pip install pycnn[interop]")


@pytest.mark.parametrize("name", list(DRAWS) + ["SeedGenerator"])
def test_signature_is_keras(keras, name):
    ours = inspect.signature(getattr(prandom, name))
    theirs = inspect.signature(getattr(keras.random, name))
    assert [(p.name, p.default) for p in ours.parameters.values()] == \
        [(p.name, p.default) for p in theirs.parameters.values()]


@pytest.mark.parametrize("name", DRAWS)
def test_int_seed_repeats_and_seed_generator_advances(name):
    draw = DRAWS[name]
    np.testing.assert_array_equal(_np(draw(7)), _np(draw(7)))
    assert not np.array_equal(_np(draw(7)), _np(draw(8)))
    g = prandom.SeedGenerator(11)
    first, second = _np(draw(g)), _np(draw(g))
    assert not np.array_equal(first, second)
    h = prandom.SeedGenerator(11)
    np.testing.assert_array_equal(_np(draw(h)), first)
    np.testing.assert_array_equal(_np(draw(h)), second)
    np.testing.assert_array_equal(h.state, [11, 2])


@pytest.mark.parametrize("name", DRAWS)
def test_pycnn_set_seed_reproduces_unseeded_draws(name):
    draw = DRAWS[name]
    pycnn.set_seed(123)
    a, b = _np(draw(None)), _np(draw(None))
    pycnn.set_seed(123)
    np.testing.assert_array_equal(_np(draw(None)), a)
    np.testing.assert_array_equal(_np(draw(None)), b)
    assert not np.array_equal(a, b)
    pycnn.set_seed(123)
    g = prandom.SeedGenerator()
    pycnn.set_seed(123)
    assert prandom.SeedGenerator().state[0] == g.state[0]


def test_distributions_have_their_moments():
    n = (200, 500)
    x = prandom.normal(n, mean=2.0, stddev=3.0, seed=1).numpy()
    assert x.dtype == np.float32 and x.shape == n
    assert abs(x.mean() - 2.0) < 0.05 and abs(x.std() - 3.0) < 0.05
    u = prandom.uniform(n, minval=-1.0, maxval=3.0, dtype="float64", seed=2).numpy()
    assert u.dtype == np.float64 and u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.02 and abs(u.var() - 16 / 12) < 0.02
    t = prandom.truncated_normal(n, mean=1.0, stddev=0.5, seed=3).numpy()
    assert np.abs(t - 1.0).max() <= 1.0 + 1e-6
    assert abs(t.std() - 0.5 * 0.8796256) < 0.005          # σ of N(0, 1) cut at ±2
    r = prandom.randint(n, -3, 4, seed=4)
    assert r.dtype == np.int32 and set(np.unique(r)) == set(range(-3, 4))
    c = prandom.categorical(np.log([[0.1, 0.6, 0.3]]), 100000, seed=5)
    np.testing.assert_allclose(np.bincount(c[0], minlength=3) / 1e5, [0.1, 0.6, 0.3],
                               atol=0.01)


def test_keras_agrees_on_the_distributions(keras):
    """Not the same numbers (different generators), the same laws."""
    n = (400, 500)
    for ours, theirs in ((prandom.truncated_normal(n, stddev=2.0, seed=1),
                          keras.random.truncated_normal(n, stddev=2.0, seed=1)),
                         (prandom.uniform(n, 1.0, 2.0, seed=1),
                          keras.random.uniform(n, 1.0, 2.0, seed=1))):
        a, b = _np(ours), keras.ops.convert_to_numpy(theirs)
        assert a.dtype == b.dtype
        assert abs(a.std() - b.std()) < 0.01 and abs(a.mean() - b.mean()) < 0.01
        assert abs(a.max() - b.max()) < 0.01 and abs(a.min() - b.min()) < 0.01


def test_dropout_scales_keeps_and_backpropagates():
    x = pycnn.tensor(np.ones((100, 100)), requires_grad=True)
    y = prandom.dropout(x, 0.25, seed=3)
    values = y.numpy()
    assert set(np.unique(values)) == {0.0, 1 / 0.75}
    assert abs((values == 0).mean() - 0.25) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)    # d(x·m)/dx = m
    assert pycnn.gradcheck(lambda t: prandom.dropout(t, 0.5, seed=9),
                           [np.random.default_rng(0).standard_normal((3, 4))])
    shared = prandom.dropout(np.ones((4, 3, 5)), 0.5, noise_shape=(None, 1, 5), seed=1).numpy()
    assert shared.dtype == np.float64
    assert (shared == shared[:, :1, :]).all()


def test_shuffle_permutes_along_axis_and_routes_gradients():
    x = np.arange(12.0).reshape(3, 4)
    s = prandom.shuffle(x, axis=1, seed=2)
    assert sorted(map(tuple, s.T)) == sorted(map(tuple, x.T))
    t = pycnn.tensor(x, requires_grad=True)
    out = prandom.shuffle(t, axis=0, seed=4)
    (out * pycnn.tensor(np.arange(3.0)[:, None] * np.ones((1, 4)))).sum().backward()
    rows = [int(r[0]) // 4 for r in out.numpy()]           # where each output row came from
    np.testing.assert_array_equal(t.grad.numpy()[rows, 0], np.arange(3.0))


@pytest.mark.parametrize("call, msg", [
    (lambda: prandom.normal((2,), dtype="int32"), "floating point"),
    (lambda: prandom.randint((2,), 0, 5, dtype="float32"), "integer dtype"),
    (lambda: prandom.randint((2,), 5, 5), "must exceed"),
    (lambda: prandom.uniform((2, -1)), "non-negative"),
    (lambda: prandom.normal((2,), seed="x"), "seed must be"),
    (lambda: prandom.normal((2,), seed=-1), "non-negative"),
    (lambda: prandom.dropout(np.ones(3), 1.0), r"rate must be in \[0, 1\)"),
    (lambda: prandom.dropout(np.ones((2, 3)), 0.5, noise_shape=(3, 3)), "does not broadcast"),
    (lambda: prandom.shuffle(np.ones(3), axis=1), "out of range"),
    (lambda: prandom.categorical(np.ones(3), 2), "2-D"),
    (lambda: prandom.SeedGenerator(1.5), "integer"),
])
def test_bad_arguments_raise_clearly(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
