"""Optimizer steps (kernels/optim.c, py/optim.c, pycnn/optimizers.py) against NumPy twins
of Keras' formulas, and against Keras itself when it is installed."""
import numpy as np
import pytest

import pycnn
from pycnn import _core, optimizers

import reference as ref

SHAPES = [(3, 4), (5,)]
STEPS = 5
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def make_weights(rng, dtype):
    return [pycnn.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
            for s in SHAPES]


def gradient_sequence(rng, dtype):
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]


def run(opt, weights, grads):
    buffers = [w.numpy() for w in weights]              # the weights' own memory
    for step in grads:
        opt.apply_gradients(zip(step, weights))
    for w, b in zip(weights, buffers):
        assert np.shares_memory(w.numpy(), b), "the step must update the weight in place"
    return [w.numpy().copy() for w in weights]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_keras_formula(rng, dtype, momentum, nesterov):
    weights = make_weights(rng, dtype)
    start = [w.numpy().astype(np.float64) for w in weights]
    grads = gradient_sequence(rng, dtype)
    got = run(optimizers.SGD(0.05, momentum=momentum, nesterov=nesterov), weights, grads)
    for i, w in enumerate(start):
        m = np.zeros_like(w)
        for step in grads:
            w, m = ref.sgd_step(w, step[i].astype(np.float64), m, 0.05, momentum, nesterov)
        np.testing.assert_allclose(got[i], w, **TOL[dtype])
        assert got[i].dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_keras_formula(rng, dtype, amsgrad):
    weights = make_weights(rng, dtype)
    start = [w.numpy().astype(np.float64) for w in weights]
    grads = gradient_sequence(rng, dtype)
    opt = optimizers.Adam(learning_rate=0.01, amsgrad=amsgrad)
    got = run(opt, weights, grads)
    assert opt.iterations == STEPS
    for i, w in enumerate(start):
        m, v = np.zeros_like(w), np.zeros_like(w)
        vhat = np.zeros_like(w) if amsgrad else None
        for t, step in enumerate(grads, start=1):
            w, m, v, vhat = ref.adam_step(w, step[i].astype(np.float64), m, v, t, 0.01,
                                          vhat=vhat)
        np.testing.assert_allclose(got[i], w, **TOL[dtype])
        np.testing.assert_allclose(opt.get_slots(weights[i])["m"], m, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.0, True),
                                               (0.5, True)])
def test_rmsprop_matches_keras_formula(rng, dtype, momentum, centered):
    weights = make_weights(rng, dtype)
    start = [w.numpy().astype(np.float64) for w in weights]
    grads = gradient_sequence(rng, dtype)
    got = run(optimizers.RMSprop(0.01, momentum=momentum, centered=centered), weights, grads)
    for i, w in enumerate(start):
        v, m, mg = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
        for step in grads:
            w, v, m, mg = ref.rmsprop_step(w, step[i].astype(np.float64), v, 0.01,
                                           momentum=momentum, m=m, centered=centered, mg=mg)
        np.testing.assert_allclose(got[i], w, **TOL[dtype])


def test_slots_are_allocated_once(rng):
    (w,) = [pycnn.tensor(rng.standard_normal((4, 2)), requires_grad=True)]
    opt = optimizers.Adam()
    opt.apply_gradients([(np.ones((4, 2)), w)])
    m = opt.get_slots(w)["m"]
    opt.apply_gradients([(np.ones((4, 2)), w)])
    assert opt.get_slots(w)["m"] is m
    assert sorted(opt.get_slots(w)) == ["m", "v"]
    assert optimizers.SGD().get_slots(w) == {}
    sgd = optimizers.SGD()
    sgd.apply_gradients([(np.ones((4, 2)), w)])
    assert sgd.get_slots(w) == {}, "plain SGD needs no slot"


def test_step_uses_grad_and_skips_missing_gradients():
    a = pycnn.tensor([1.0, 2.0], requires_grad=True)
    b = pycnn.tensor([3.0], requires_grad=True)
    (a * a).backward(np.ones(2))       # d(a²)/da = 2a = [2, 4]
    optimizers.SGD(0.5).step([a, b])
    np.testing.assert_allclose(a.numpy(), [0.0, 0.0])
    np.testing.assert_allclose(b.numpy(), [3.0])


def test_clipping():
    w = pycnn.tensor(np.zeros(2), requires_grad=True)
    optimizers.SGD(1.0, clipvalue=0.5).apply_gradients([(np.array([3.0, -0.1]), w)])
    np.testing.assert_allclose(w.numpy(), [-0.5, 0.1])
    w = pycnn.tensor(np.zeros(2), requires_grad=True)
    optimizers.SGD(1.0, clipnorm=1.0).apply_gradients([(np.array([3.0, 4.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-0.6, -0.8])
    u = pycnn.tensor(np.zeros(1), requires_grad=True)
    v = pycnn.tensor(np.zeros(1), requires_grad=True)
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients(
        [(np.array([3.0]), u), (np.array([4.0]), v)])
    np.testing.assert_allclose([u.item(), v.item()], [-0.6, -0.8])


def test_get_config_and_get():
    for name, cls in [("sgd", optimizers.SGD), ("Adam", optimizers.Adam),
                      ("RMSprop", optimizers.RMSprop)]:
        opt = optimizers.get(name)
        assert type(opt) is cls
        again = optimizers.deserialize(optimizers.serialize(opt))
        assert type(again) is cls and again.get_config() == opt.get_config()
    assert optimizers.get("rmsprop").get_config()["rho"] == 0.9
    assert optimizers.Adam().get_config()["epsilon"] == 1e-7
    sgd = optimizers.SGD(0.1, momentum=0.9, nesterov=True)
    assert optimizers.get(sgd) is sgd
    assert sgd.get_config()["nesterov"] is True
    assert repr(sgd).startswith("SGD(learning_rate=0.1")
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        optimizers.get("adamw")
    with pytest.raises(TypeError, match="expected a name"):
        optimizers.get(3)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="learning_rate must be > 0, got -1"):
        optimizers.SGD(-1)
    with pytest.raises(ValueError, match="momentum must be in \\[0, 1\\), got 1.5"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="beta_2"):
        optimizers.Adam(beta_2=1.0)
    w = pycnn.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match="gradient of shape \\(3,\\) for a weight of shape"):
        optimizers.Adam().apply_gradients([(np.zeros(3), w)])


def test_kernel_bindings_check_buffers():
    w = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="sgd_step: the gradient has shape \\(3,\\)"):
        _core.sgd_step(w, np.zeros(3), None, 0.1, 0.0, False)
    with pytest.raises(TypeError, match="the momentum slot is dtype\\('float64'\\)"):
        _core.sgd_step(w, np.zeros((2, 2)), np.zeros((2, 2)), 0.1, 0.9, False)
    with pytest.raises(ValueError, match="momentum 0.9 needs a momentum slot"):
        _core.sgd_step(w, np.zeros((2, 2)), None, 0.1, 0.9, False)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.sgd_step(np.zeros((4, 4), np.float32)[:, ::2], np.zeros((4, 2)), None, 0.1, 0.0,
                       False)
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.sgd_step(np.zeros(2, np.int64), np.zeros(2), None, 0.1, 0.0, False)
    with pytest.raises(TypeError, match="must be a Tensor or a NumPy array"):
        _core.adam_step([1.0], [1.0], None, None, None, 0.1, 0.9, 0.999, 1e-7, 1)
    with pytest.raises(ValueError, match="step t must be >= 1, got 0"):
        _core.adam_step(w, w, w.copy(), w.copy(), None, 0.1, 0.9, 0.999, 1e-7, 0)
    with pytest.raises(ValueError, match="velocity slot v has shape \\(4,\\)"):
        _core.rmsprop_step(w, w, np.zeros(4, np.float32), None, None, 0.1, 0.9, 0.0, 1e-7)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_same_numbers_as_keras(rng):
    """The strongest check: Keras' own optimizers, a few steps, float32."""
    pytest.importorskip("torch")
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    cases = [(optimizers.SGD(0.1, momentum=0.9, nesterov=True),
              keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True)),
             (optimizers.Adam(0.01), keras.optimizers.Adam(0.01)),
             (optimizers.RMSprop(0.01), keras.optimizers.RMSprop(0.01))]
    for ours, theirs in cases:
        start = rng.standard_normal((3, 2)).astype(np.float32)
        w = pycnn.tensor(start.copy(), requires_grad=True)
        kv = keras.Variable(start.copy())
        for _ in range(4):
            g = rng.standard_normal((3, 2)).astype(np.float32)
            ours.apply_gradients([(g, w)])
            theirs.apply_gradients([(keras.ops.convert_to_tensor(g), kv)])
        np.testing.assert_allclose(w.numpy(), keras.ops.convert_to_numpy(kv), rtol=1e-5,
                                   atol=1e-6, err_msg=type(ours).__name__)
