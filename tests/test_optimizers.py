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


def assert_matches_twin(rng, dtype, opt, twin, state, slots=None):
    """opt, run STEPS steps on fresh weights, leaves each weight (in its own dtype) where the
    float64 NumPy twin takes it: twin(w, g, t, *state) -> (w, *state), state(w) its start.
    slots {name: k}: opt's slot `name` equals the twin's state[k] at the end.
    Returns (the weights reached, the weights at the start)."""
    weights = make_weights(rng, dtype)
    start = [w.numpy().astype(np.float64) for w in weights]
    grads = gradient_sequence(rng, dtype)
    got = run(opt, weights, grads)
    for i, w in enumerate(start):
        s = state(w)
        for t, step in enumerate(grads, start=1):
            w, *s = twin(w, step[i].astype(np.float64), t, *s)
        np.testing.assert_allclose(got[i], w, **TOL[dtype])
        assert got[i].dtype == dtype
        for name, k in (slots or {}).items():
            np.testing.assert_allclose(opt.get_slots(weights[i])[name], s[k], **TOL[dtype])
    return got, start


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_keras_formula(rng, dtype, momentum, nesterov):
    assert_matches_twin(rng, dtype, optimizers.SGD(0.05, momentum=momentum, nesterov=nesterov),
                        lambda w, g, t, m: ref.sgd_step(w, g, m, 0.05, momentum, nesterov),
                        lambda w: [np.zeros_like(w)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_keras_formula(rng, dtype, amsgrad):
    opt = optimizers.Adam(learning_rate=0.01, amsgrad=amsgrad)
    assert_matches_twin(rng, dtype, opt,
                        lambda w, g, t, m, v, vhat: ref.adam_step(w, g, m, v, t, 0.01, vhat=vhat),
                        lambda w: [np.zeros_like(w), np.zeros_like(w),
                                   np.zeros_like(w) if amsgrad else None], slots={"m": 0})
    assert opt.iterations == STEPS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.0, True),
                                               (0.5, True)])
def test_rmsprop_matches_keras_formula(rng, dtype, momentum, centered):
    assert_matches_twin(rng, dtype, optimizers.RMSprop(0.01, momentum=momentum, centered=centered),
                        lambda w, g, t, v, m, mg: ref.rmsprop_step(
                            w, g, v, 0.01, momentum=momentum, m=m, centered=centered, mg=mg),
                        lambda w: [np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)])


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
                      ("RMSprop", optimizers.RMSprop), ("adamw", optimizers.AdamW),
                      ("Nadam", optimizers.Nadam), ("adagrad", optimizers.Adagrad),
                      ("Adadelta", optimizers.Adadelta), ("lion", optimizers.Lion)]:
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
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        optimizers.get("adamax")
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


# ---- Nadam, Adagrad, Adadelta, Lion against their NumPy twins -------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nadam_matches_keras_formula(rng, dtype):
    assert_matches_twin(rng, dtype, optimizers.Nadam(learning_rate=0.01),
                        lambda w, g, t, m, v, u: ref.nadam_step(w, g, m, v, t, u, 0.01),
                        lambda w: [np.zeros_like(w), np.zeros_like(w), 1.0], slots={"v": 1})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adagrad_matches_keras_formula(rng, dtype):
    assert_matches_twin(rng, dtype, optimizers.Adagrad(0.05, initial_accumulator_value=0.2),
                        lambda w, g, t, acc: ref.adagrad_step(w, g, acc, 0.05),
                        lambda w: [np.full_like(w, 0.2)], slots={"accumulator": 0})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adadelta_matches_keras_formula(rng, dtype):
    assert_matches_twin(rng, dtype, optimizers.Adadelta(1.0, rho=0.9),
                        lambda w, g, t, ag, ad: ref.adadelta_step(w, g, ag, ad, 1.0, rho=0.9),
                        lambda w: [np.zeros_like(w), np.zeros_like(w)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lion_matches_keras_formula(rng, dtype):
    got, start = assert_matches_twin(rng, dtype, optimizers.Lion(0.01),
                                     lambda w, g, t, m: ref.lion_step(w, g, m, 0.01),
                                     lambda w: [np.zeros_like(w)])
    # every coordinate moved by a multiple of lr: the step is a sign
    moved = (got[0] - start[0]) / 0.01
    np.testing.assert_allclose(moved, np.round(moved), atol=1e-3)


def test_lion_sign_of_zero_is_zero():
    w = pycnn.tensor(np.ones(3), requires_grad=True)
    optimizers.Lion(0.1).apply_gradients([(np.array([0.0, 1.0, -1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [1.0, 0.9, 1.1])


# ---- what every optimizer does around its formula: clip, decay, moving average ---------

# name -> (constructor kwargs, slots initialised, reference step(w, g, state, lr, t) -> w)
def _ref_sgd(w, g, st, lr, t):
    w, st["m"] = ref.sgd_step(w, g, st["m"], lr, 0.9, True)
    return w


def _ref_adam(w, g, st, lr, t):
    w, st["m"], st["v"], _ = ref.adam_step(w, g, st["m"], st["v"], t, lr)
    return w


def _ref_rmsprop(w, g, st, lr, t):
    w, st["v"], st["m"], st["mg"] = ref.rmsprop_step(w, g, st["v"], lr, momentum=0.5,
                                                      m=st["m"], centered=True, mg=st["mg"])
    return w


def _ref_nadam(w, g, st, lr, t):
    w, st["m"], st["v"], st["u"] = ref.nadam_step(w, g, st["m"], st["v"], t, st["u"], lr)
    return w


def _ref_adagrad(w, g, st, lr, t):
    w, st["acc"] = ref.adagrad_step(w, g, st["acc"], lr)
    return w


def _ref_adadelta(w, g, st, lr, t):
    w, st["ag"], st["ad"] = ref.adadelta_step(w, g, st["ag"], st["ad"], lr)
    return w


def _ref_lion(w, g, st, lr, t):
    w, st["m"] = ref.lion_step(w, g, st["m"], lr)
    return w


REFERENCE = {
    "SGD": (dict(momentum=0.9, nesterov=True), _ref_sgd),
    "Adam": ({}, _ref_adam),
    "AdamW": ({}, _ref_adam),
    "Nadam": ({}, _ref_nadam),
    "RMSprop": (dict(momentum=0.5, centered=True), _ref_rmsprop),
    "Adagrad": ({}, _ref_adagrad),
    "Adadelta": ({}, _ref_adadelta),
    "Lion": ({}, _ref_lion),
}
COMMON = [dict(weight_decay=0.1, clipnorm=0.8),
          dict(weight_decay=0.05, clipvalue=0.3, use_ema=True, ema_momentum=0.8),
          dict(global_clipnorm=1.1, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=2)]


def _reference_run(name, common, start, grads, lr):
    """Keras' base_optimizer order in float64: clip, decay, the formula, the average."""
    _, step = REFERENCE[name]
    states = [{"m": np.zeros_like(w), "v": np.zeros_like(w), "mg": np.zeros_like(w),
               "acc": np.full_like(w, 0.1), "ag": np.zeros_like(w), "ad": np.zeros_like(w),
               "u": 1.0} for w in start]
    ws = [w.copy() for w in start]
    averages = [np.zeros_like(w) for w in start]
    decay = common.get("weight_decay", 0.004 if name == "AdamW" else None)
    for t, step_grads in enumerate(grads, start=1):
        clipped = ref.clip_gradients([g.astype(np.float64) for g in step_grads],
                                     common.get("clipnorm"), common.get("clipvalue"),
                                     common.get("global_clipnorm"))
        for i, g in enumerate(clipped):
            if decay is not None:
                ws[i] = ws[i] * (1 - decay * lr)
            ws[i] = step(ws[i], g, states[i], lr, t)
            if common.get("use_ema"):
                mu = common["ema_momentum"] if t > 1 else 0.0
                averages[i] = mu * averages[i] + (1 - mu) * ws[i]
        every = common.get("ema_overwrite_frequency")
        if every and t % every == 0:
            ws = [a.copy() for a in averages]
    return ws, averages


@pytest.mark.parametrize("name", list(REFERENCE))
@pytest.mark.parametrize("case", range(len(COMMON)))
def test_clipping_decay_and_moving_average_match_the_reference(rng, name, case):
    kwargs, _ = REFERENCE[name]
    common = COMMON[case]
    weights = make_weights(rng, np.float64)
    start = [w.numpy().copy() for w in weights]
    grads = gradient_sequence(rng, np.float64)
    opt = getattr(optimizers, name)(0.05, **kwargs, **common)
    got = run(opt, weights, grads)
    want, averages = _reference_run(name, common, start, grads, 0.05)
    for i in range(len(SHAPES)):
        np.testing.assert_allclose(got[i], want[i], rtol=1e-12, atol=1e-13)
        if common.get("use_ema"):
            np.testing.assert_allclose(opt.get_slots(weights[i])["average"], averages[i],
                                       rtol=1e-12, atol=1e-13)
    opt.finalize_variable_values(weights)
    if common.get("use_ema"):
        np.testing.assert_array_equal(weights[0].numpy(), opt.get_slots(weights[0])["average"])


def test_weight_decay_exclusions_by_weight_and_by_name():
    a = pycnn.tensor(np.ones(2), requires_grad=True)
    b = pycnn.tensor(np.ones(2), requires_grad=True)
    b.name = "dense_1/bias"
    c = pycnn.tensor(np.ones(2), requires_grad=True)
    opt = optimizers.SGD(0.5, weight_decay=0.1)
    opt.exclude_from_weight_decay(var_list=[a], var_names=["bias"])
    opt.apply_gradients([(np.zeros(2), a), (np.zeros(2), b), (np.zeros(2), c)])
    np.testing.assert_allclose(a.numpy(), 1.0)
    np.testing.assert_allclose(b.numpy(), 1.0)
    np.testing.assert_allclose(c.numpy(), 1.0 - 0.1 * 0.5)


def test_moving_average_of_a_weight_without_gradient_still_moves():
    """Keras averages every weight it knows on every step."""
    a = pycnn.tensor(np.zeros(2), requires_grad=True)
    b = pycnn.tensor(np.ones(2), requires_grad=True)
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    opt.apply_gradients([(np.ones(2), a), (np.ones(2), b)])     # a = -1, b = 0
    b_avg = opt.get_slots(b)["average"]
    np.testing.assert_allclose(b_avg, 0.0)
    b.numpy()[...] = 4.0                                        # moved by someone else
    opt.apply_gradients([(np.ones(2), a), (None, b)])
    np.testing.assert_allclose(b_avg, 0.5 * 0.0 + 0.5 * 4.0)
    np.testing.assert_allclose(opt.get_slots(a)["average"], 0.5 * -1.0 + 0.5 * -2.0)


def test_nan_gradient_poisons_the_clipped_step_as_in_keras():
    for kwargs in (dict(clipnorm=1.0), dict(global_clipnorm=1.0)):
        u = pycnn.tensor(np.zeros(2), requires_grad=True)
        v = pycnn.tensor(np.zeros(2), requires_grad=True)
        optimizers.SGD(0.1, **kwargs).apply_gradients(
            [(np.array([np.nan, 1.0]), u), (np.array([1.0, 1.0]), v)])
        assert np.isnan(u.numpy()).all()
        assert np.isnan(v.numpy()).all() == ("global_clipnorm" in kwargs)


def test_common_arguments_are_checked():
    with pytest.raises(ValueError, match="at most one of clipnorm, clipvalue, global_clipnorm"):
        optimizers.Lion(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="Nadam: weight_decay must be >= 0, got -0.1"):
        optimizers.Nadam(weight_decay=-0.1)
    with pytest.raises(ValueError, match="ema_momentum must be in \\[0, 1\\], got 1.5"):
        optimizers.Adagrad(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency must be an integer >= 1"):
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=0)
    with pytest.raises(ValueError, match="AdamW: weight_decay must be a float, got None"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="Lion: beta_1 must be in \\(0, 1\\]"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="Adadelta: rho must be in \\[0, 1\\)"):
        optimizers.Adadelta(rho=1.0)
    with pytest.raises(TypeError, match="Adagrad: epsilon must be a number, got 'x'"):
        optimizers.Adagrad(epsilon="x")


def test_new_kernel_bindings_check_buffers():
    w = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="nadam_step: step t must be >= 1, got 0"):
        _core.nadam_step(w, w, w.copy(), w.copy(), 0.1, 0.9, 0.999, 1e-7, 0, 1.0)
    with pytest.raises(ValueError, match="adagrad_step: the accumulator slot has shape \\(3,\\)"):
        _core.adagrad_step(w, w, np.zeros(3, np.float32), 0.1, 1e-7)
    with pytest.raises(TypeError, match="adadelta_step: the accumulated_delta_var slot is "
                                        "dtype\\('float64'\\)"):
        _core.adadelta_step(w, w, w.copy(), np.zeros((2, 2)), 0.1, 0.95, 1e-7)
    with pytest.raises(ValueError, match="lion_step: clipvalue must be >= 0 \\(0: no "
                                         "clipping\\), got -1.0"):
        _core.lion_step(w, w, w.copy(), 0.1, 0.9, 0.99, clipvalue=-1.0)
    with pytest.raises(ValueError, match="sgd_step: ema_momentum must be in \\[0, 1\\], got 2.0"):
        _core.sgd_step(w, w, None, 0.1, 0.0, False, ema=w.copy(), ema_momentum=2.0)
    with pytest.raises(ValueError, match="adam_step: the moving-average slot ema has shape"):
        _core.adam_step(w, w, w.copy(), w.copy(), None, 0.1, 0.9, 0.999, 1e-7, 1,
                        ema=np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="rmsprop_step: decay must be finite, got nan"):
        _core.rmsprop_step(w, w, w.copy(), None, None, 0.1, 0.9, 0.0, 1e-7, decay=np.nan)
    with pytest.raises(ValueError, match="grad_scale must be >= 0"):
        _core.sgd_step(w, w, None, 0.1, 0.0, False, grad_scale=-1.0)
    with pytest.raises(TypeError, match=r"ema_step\(\) takes no keyword arguments"):
        _core.ema_step(w, w.copy(), 0.5, ema=None)
    with pytest.raises(ValueError, match="ema_step: the moving-average slot ema has shape"):
        _core.ema_step(w, np.zeros(3, np.float32), 0.5)
    with pytest.raises(TypeError, match="takes at most"):
        _core.adam_step(w, w, w.copy(), w.copy(), None, 0.1, 0.9, 0.999, 1e-7, 1, 1.0)


# ---- learning rate: numbers, schedules, callables --------------------------------------


def test_schedule_as_learning_rate_is_read_before_each_step():
    lr = optimizers.schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5, 0.25])
    w = pycnn.tensor(np.zeros(1), requires_grad=True)
    opt = optimizers.SGD(lr)
    steps = []
    for _ in range(4):
        steps.append(opt.learning_rate)
        opt.apply_gradients([(np.ones(1), w)])
    assert steps == [1.0, 1.0, 0.5, 0.25]           # at iterations 0, 1, 2, 3
    np.testing.assert_allclose(w.numpy(), [-2.75])
    with pytest.raises(TypeError, match="created with a LearningRateSchedule .* not settable"):
        opt.learning_rate = 0.1
    opt.learning_rate = optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** 0.4)
    plain = optimizers.Adam(lambda: 0.02)
    assert plain.learning_rate == 0.02
    with pytest.raises(TypeError, match="plain callable .* cannot be saved"):
        optimizers.serialize(plain)


def test_schedule_survives_config_and_saving(tmp_path):
    from pycnn.layers import Dense
    from pycnn.models import Sequential
    schedule = optimizers.schedules.CosineDecay(0.0, 20, alpha=0.1, warmup_target=0.05,
                                                warmup_steps=5)
    opt = optimizers.Nadam(schedule, weight_decay=0.01, use_ema=True, clipnorm=1.0)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again._learning_rate) is optimizers.schedules.CosineDecay
    assert again.get_config() == opt.get_config()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 3)).astype(np.float32), rng.integers(0, 2, 32)
    pycnn.set_seed(0)
    model = Sequential([Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(opt, "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    model.save(tmp_path / "m.pycnn")
    restored = pycnn.models.load_model(tmp_path / "m.pycnn")
    assert restored.optimizer.get_config() == model.optimizer.get_config()
    assert sorted(restored.optimizer.get_slots(restored.weights[0])) == ["average", "m", "v"]
    # one more identical step: Nadam's momentum product is rebuilt from the step count
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    restored.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ---- the strongest check: Keras 3's own optimizers (torch backend), same weights and
# gradients, several steps, float32; weights, every slot and the moving averages ------

# our slot name -> the Keras attribute holding that slot per variable
KERAS_SLOTS = {
    "SGD": {"momentum": "momentums"},
    "Adam": {"m": "_momentums", "v": "_velocities"},
    "AdamW": {"m": "_momentums", "v": "_velocities"},
    "Nadam": {"m": "_momentums", "v": "_velocities"},
    "RMSprop": {"velocity": "_velocities", "momentum": "_momentums",
                "average_gradient": "_average_gradients"},
    "Adagrad": {"accumulator": "_accumulators"},
    "Adadelta": {"accumulated_grad": "_accumulated_grads",
                 "accumulated_delta_var": "_accumulated_delta_vars"},
    "Lion": {"momentum": "_momentums"},
}
KERAS_ARGS = {"SGD": dict(momentum=0.9, nesterov=True), "RMSprop": dict(momentum=0.5,
                                                                        centered=True),
              "Adadelta": dict(rho=0.9)}
KERAS_COMMON = [dict(), dict(weight_decay=0.1, clipnorm=0.8),
                dict(weight_decay=0.05, clipvalue=0.3, use_ema=True, ema_momentum=0.8),
                dict(global_clipnorm=1.1, use_ema=True, ema_momentum=0.9,
                     ema_overwrite_frequency=3)]
KERAS_STEPS = 6
KERAS_DIFFS = {}            # (optimizer, case) -> max abs difference (weights and state)


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch")
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def keras_run(keras, ours, theirs, starts, grads):
    """Both optimizers on the same weights and gradients; the largest difference of the
    weights, each slot and each moving average (Keras' arrays to numpy)."""
    ws = [pycnn.tensor(s.copy(), requires_grad=True) for s in starts]
    kvs = [keras.Variable(s.copy()) for s in starts]
    for step in grads:
        ours.apply_gradients(zip(step, ws))
        theirs.apply_gradients([(keras.ops.convert_to_tensor(g), v) for g, v in zip(step, kvs)])
    numpy = keras.ops.convert_to_numpy
    diff = max(float(np.max(np.abs(w.numpy() - numpy(v)))) for w, v in zip(ws, kvs))
    for i, w in enumerate(ws):
        slots = ours.get_slots(w)
        for name, attr in KERAS_SLOTS[type(ours).__name__].items():
            if name in slots:
                diff = max(diff, float(np.max(np.abs(slots[name] - numpy(getattr(theirs,
                                                                                 attr)[i])))))
        if ours.use_ema:
            average = numpy(theirs._model_variables_moving_average[i])
            diff = max(diff, float(np.max(np.abs(slots["average"] - average))))
    return diff


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", range(len(KERAS_COMMON)))
@pytest.mark.parametrize("name", list(KERAS_SLOTS))
def test_same_numbers_as_keras(keras, name, case):
    rng = np.random.default_rng(hash((name, case)) % 2 ** 32)
    lr = 0.1 if name == "Adadelta" else 0.02
    common = KERAS_COMMON[case]
    kwargs = {**KERAS_ARGS.get(name, {}), **common}
    ours = getattr(optimizers, name)(lr, **kwargs)
    theirs = getattr(keras.optimizers, name)(lr, **kwargs)
    starts = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES]
             for _ in range(KERAS_STEPS)]
    diff = keras_run(keras, ours, theirs, starts, grads)
    KERAS_DIFFS[name, case] = diff
    assert diff < 2e-6, f"{name} {common}: max abs difference {diff:.2e} from Keras"


SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[2, 5], values=[0.1, 0.05, 0.01])),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.7)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.7,
                              staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=8, alpha=0.2)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=6, alpha=0.1,
                         warmup_target=0.2, warmup_steps=4)),
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in
                                                         enumerate(SCHEDULES)])
def test_schedules_match_keras(keras, name, kwargs):
    ours = getattr(optimizers.schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    steps = np.arange(0, 16)
    want = np.array([float(keras.ops.convert_to_numpy(theirs(int(s)))) for s in steps])
    got = ours(steps)
    assert got.shape == steps.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    assert [ours(int(s)) for s in steps] == list(got)          # scalars: plain floats
    # the optimizer reads the schedule before each step, as Keras
    rng = np.random.default_rng(5)
    start = [rng.standard_normal((4, 3)).astype(np.float32)]
    grads = [[rng.standard_normal((4, 3)).astype(np.float32)] for _ in range(10)]
    diff = keras_run(keras, optimizers.Adam(ours, weight_decay=0.1),
                     keras.optimizers.Adam(theirs, weight_decay=0.1), start, grads)
    KERAS_DIFFS["Adam+" + name, str(kwargs)] = diff
    assert diff < 1e-5        # lr up to 0.1 for 10 steps: weights move by ~1, float32
    again = optimizers.schedules.deserialize(optimizers.schedules.serialize(ours))
    assert again == ours and again(7) == ours(7)


def test_schedules_check_their_arguments():
    S = optimizers.schedules
    with pytest.raises(ValueError, match="ExponentialDecay: decay_steps must be > 0, got 0"):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="boundaries should be 1 less than the length of values"):
        S.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="strictly increasing"):
        S.PiecewiseConstantDecay([2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="CosineDecay: alpha must be a number, got 'a'"):
        S.CosineDecay(0.1, 10, alpha="a")
    with pytest.raises(ValueError, match="unknown schedule 'Nope'"):
        S.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="steps must be finite"):
        S.InverseTimeDecay(0.1, 1, 0.5)(np.inf)
