"""pycnn.regularizers against keras.regularizers (torch backend): values and gradients on the
same arrays, defaults, configs, names; float64 gradchecks."""
import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn
from pycnn import regularizers as R

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")

W = np.random.default_rng(3).standard_normal((5, 4))
CASES = [("L1", {}), ("L1", {"l1": 0.3}), ("L2", {}), ("L2", {"l2": 1.5}), ("L1L2", {}),
         ("L1L2", {"l1": 0.2, "l2": 0.7}), ("L1L2", {"l2": 0.1}),
         ("OrthogonalRegularizer", {}), ("OrthogonalRegularizer", {"factor": 0.5,
                                                                   "mode": "columns"})]
IDS = [f"{n}-{a}" for n, a in CASES]


def assert_same_config(ours, theirs):
    """Equal, floats to float32's precision (Keras keeps some factors as float32 tensors)."""
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        if isinstance(value, dict):
            assert_same_config(value, theirs[key])
        elif isinstance(value, float):
            assert value == pytest.approx(theirs[key], rel=1e-7), key
        else:
            assert value == theirs[key], key


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch", reason="PyTorch is optional")
    return pytest.importorskip("keras", reason="Keras 3 is optional: pip install pycnn[interop]")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is optional")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_value_and_gradient_match_keras(keras, torch, name, kwargs, dtype):
    w = W.astype(dtype)
    ours = getattr(R, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    t = pycnn.tensor(w, requires_grad=True)
    value = ours(t)
    assert value.shape == () and value.dtype == np.dtype(dtype)
    kw = torch.tensor(w, requires_grad=True)
    kvalue = theirs(kw)
    # Keras keeps L1's and OrthogonalRegularizer's factor as a float32 tensor (0.01 becomes
    # 0.0099999998), so in float64 those two agree to float32's precision only
    rounded = name in ("L1", "OrthogonalRegularizer")
    tol = 1e-6 if dtype == "float32" or rounded else 1e-12
    np.testing.assert_allclose(value.item(), kvalue.detach().item(), rtol=tol * 10)
    if kvalue.requires_grad:
        value.backward()
        kvalue.backward()
        np.testing.assert_allclose(t.grad.numpy(), kw.grad.numpy(), rtol=tol * 10, atol=tol)
    else:                       # L1L2() with both factors 0: a constant 0 in both
        assert value.item() == 0.0 and value.parents == ()
    assert_same_config(ours.get_config(), theirs.get_config())


@pytest.mark.parametrize("name, kwargs", CASES[:4] + CASES[5:], ids=IDS[:4] + IDS[5:])
def test_gradcheck(name, kwargs):
    assert pycnn.gradcheck(getattr(R, name)(**kwargs), [W.copy()])


def test_keras_defaults_and_aliases(keras):
    assert R.L2().l2 == 0.01 and R.L1().l1 == 0.01
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert (R.l1, R.l2, R.l1_l2, R.orthogonal_regularizer) == (R.L1, R.L2, R.L1L2,
                                                               R.OrthogonalRegularizer)
    for name in ("l1", "l2", "L1", "L2", "L1L2", "l1l2", "OrthogonalRegularizer",
                 "orthogonal_regularizer"):
        assert type(R.get(name)).__name__ == type(keras.regularizers.get(name)).__name__
        assert_same_config(R.get(name).get_config(), keras.regularizers.get(name).get_config())
    assert isinstance(R.get("l1_l2"), R.L1L2)
    assert R.get(None) is None
    assert isinstance(R.get(R.L2), R.L2)
    fn = lambda w: pycnn.sum(w)  # noqa: E731
    assert R.get(fn) is fn


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_serialization_round_trips_with_keras(keras, name, kwargs):
    ours = getattr(R, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    assert_same_config(R.serialize(ours), keras.regularizers.serialize(theirs))
    back = R.deserialize(keras.regularizers.serialize(theirs))
    assert type(back) is type(ours)
    assert_same_config(back.get_config(), ours.get_config())
    assert R.get(R.serialize(ours)).get_config() == ours.get_config()
    assert repr(ours).startswith(name + "(")


def test_zero_weights_give_zero_and_a_finite_gradient():
    for reg in (R.L1(), R.L2(), R.L1L2(0.1, 0.1), R.OrthogonalRegularizer()):
        t = pycnn.tensor(np.zeros((3, 3)), requires_grad=True)
        value = reg(t)
        value.backward()
        assert value.item() == 0.0
        assert np.isfinite(t.grad.numpy()).all()
    assert R.Regularizer()(W).item() == 0.0


def test_penalty_adds_into_a_training_loss():
    t = pycnn.tensor(W, requires_grad=True)
    loss = pycnn.add(pycnn.mean(pycnn.square(t)), R.L2(0.5)(t))
    loss.backward()
    np.testing.assert_allclose(t.grad.numpy(), 2 * W / W.size + W, rtol=1e-12)


@pytest.mark.parametrize("call, msg", [
    (lambda: R.L2(-1.0), "non-negative float"),
    (lambda: R.L1("0.1"), "non-negative float"),
    (lambda: R.L1L2(l1=float("nan")), "non-negative float"),
    (lambda: R.OrthogonalRegularizer(mode="diagonal"), "'rows' or 'columns'"),
    (lambda: R.OrthogonalRegularizer()(np.ones((2, 2, 2))), "rank 2"),
    (lambda: R.get("l3"), "unknown regularizer 'l3'"),
    (lambda: R.get(3), "could not interpret"),
    (lambda: R.Regularizer().get_config(), "get_config"),
])
def test_bad_input_raises_clearly(call, msg):
    with pytest.raises((ValueError, NotImplementedError), match=msg):
        call()
