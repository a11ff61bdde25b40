"""Merge layers (pycnn/layers/merging.py): forward against NumPy, float64 gradchecks,
the functional forms, symbolic shapes and bad inputs."""
import numpy as np
import pytest

import pycnn
from pycnn import layers

pytestmark = pytest.mark.usefixtures("fresh_session")

MERGES = [
    (layers.Add, layers.add, lambda xs: sum(xs)),
    (layers.Subtract, layers.subtract, lambda xs: xs[0] - xs[1]),
    (layers.Multiply, layers.multiply, lambda xs: np.prod(xs, axis=0)),
    (layers.Average, layers.average, lambda xs: sum(xs) / len(xs)),
    (layers.Maximum, layers.maximum, lambda xs: np.max(xs, axis=0)),
    (layers.Minimum, layers.minimum, lambda xs: np.min(xs, axis=0)),
    (layers.Concatenate, layers.concatenate, lambda xs: np.concatenate(xs, axis=-1)),
]


@pytest.mark.parametrize("cls,fn,ref", MERGES, ids=[m[0].__name__ for m in MERGES])
def test_merge_forward_gradcheck_and_functional_form(cls, fn, ref, rng):
    n = 2 if cls is layers.Subtract else 3
    xs = [rng.standard_normal((2, 3, 4)) for _ in range(n)]     # distinct: no max/min ties
    layer = cls()
    for dtype in (np.float32, np.float64):
        got = layer([pycnn.tensor(x.astype(dtype)) for x in xs])
        assert got.dtype == dtype
        np.testing.assert_allclose(got.numpy(), ref(xs), rtol=1e-6 if dtype == np.float32
                                   else 1e-12)
    assert pycnn.gradcheck(lambda *ts: layer(list(ts)), xs)
    symbolic = fn([pycnn.Input((3, 4)) for _ in range(n)])
    expected = ref([np.zeros((1, 3, 4))] * n).shape[1:]
    assert symbolic.shape == (None,) + expected
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


def test_concatenate_axis_and_unknown_sizes(rng):
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    layer = layers.Concatenate(axis=1)
    np.testing.assert_allclose(layer([a, b]).numpy(), np.concatenate([a, b], axis=1))
    assert pycnn.gradcheck(lambda x, y: layer([x, y]), [a, b])
    y = layers.concatenate([pycnn.Input((None, 4)), pycnn.Input((5, 4))], axis=1)
    assert y.shape == (None, None, 4)
    assert layers.Concatenate(axis=1).compute_output_shape([(None, 3, 4), (None, 5, 4)]) == \
        (None, 8, 4)


def test_merge_bad_inputs():
    with pytest.raises(ValueError, match="takes a list of inputs"):
        layers.Add()(pycnn.Input((3,)))
    with pytest.raises(ValueError, match="at least 2 inputs, got 1"):
        layers.Add()([pycnn.Input((3,))])
    with pytest.raises(ValueError, match="exactly 2 inputs, got 3"):
        layers.Subtract()([pycnn.Input((3,))] * 3)
    with pytest.raises(ValueError, match=r"same shape, got shapes \(2, 3\), \(2, 4\)"):
        layers.Multiply()([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="axis must be an int"):
        layers.Concatenate(axis=1.5)
    with pytest.raises(ValueError, match="axis 3 is out of range for inputs of rank 2"):
        layers.Concatenate(axis=3)([pycnn.Input((3,)), pycnn.Input((3,))])


def test_symbolic_arithmetic_records_op_layers(rng):
    x = pycnn.Input((3,))
    y = 2.0 * x - x / 4.0 + 1.0
    model = pycnn.Model(x, y)
    data = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(data), 2 * data - data / 4 + 1, rtol=1e-6)
    assert {type(l).__name__ for l in model.layers} == {"InputLayer", "TensorOp"}
    clone = pycnn.models.clone_model(model)
    np.testing.assert_allclose(clone.predict(data), model.predict(data))
