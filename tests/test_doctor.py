"""The training doctor: a planted dead network, a planted wrong initial loss, NaN, and a
healthy network that passes; the model is left as it was."""
import math

import numpy as np
import pytest

import pycnn
from pycnn import layers as L


@pytest.fixture(scope="module")
def digits():
    (x, y), _ = pycnn.datasets.digits.load_data()
    return x.reshape(len(x), -1).astype("float32")[:200], y[:200]


def mlp(optimizer="adam", seed=0):
    pycnn.set_seed(seed)
    m = pycnn.models.Sequential([L.Dense(32, activation="relu", input_shape=(64,)),
                                 L.Dense(10, activation="softmax")])
    m.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_a_healthy_network_passes_every_check(digits):
    x, y = digits
    m = mlp()
    d = m.diagnose(x, y)
    assert d.problems == [], repr(d)
    first = d["initial loss"]
    assert abs(first.value - math.log(10)) < 0.6 and "ln(10) = 2.303" in first.message
    assert d["overfit 20 examples"].message.startswith("100% training accuracy on 20 examples")
    assert 1e-4 < d["update/weight ratio"].value < 1e-2
    assert repr(d).startswith("training doctor: every check passed")
    assert "<table class='pycnn-doctor'>" in d._repr_html_()


def test_a_planted_dead_network_is_found(digits):
    x, y = digits
    m = mlp()
    kernel, bias = m.layers[0].get_weights()
    m.layers[0].set_weights([kernel, bias - 100.0])        # every ReLU below 0, always
    d = m.diagnose(x, y)
    dead = d["dead ReLUs"]
    assert dead.status == "problem" and dead.value == 1.0
    assert "32 of 32 ReLU units (100%) output 0 for all 64 examples" in dead.message
    assert d["gradient norms"].status == "problem"
    assert "no gradient at all reaches dense_" in d["gradient norms"].message
    assert d["overfit 20 examples"].status == "problem"


def test_a_planted_wrong_initial_loss_is_found(digits):
    x, y = digits
    m = mlp()
    kernel, bias = m.layers[1].get_weights()
    m.layers[1].set_weights([kernel * 30.0, bias])          # confidently wrong at the start
    d = m.diagnose(x, y, overfit=False)
    first = d["initial loss"]
    assert first.status == "problem" and first.value > 3 * math.log(10)
    assert f"{first.value:.4g}, but an untrained 10-class network should give ln(10) = " \
           f"2.303" in first.message


def test_the_model_is_left_as_it_was(digits):
    x, y = digits
    m = mlp()
    m.fit(x, y, epochs=1, verbose=0)                      # the optimizer has state
    weights = m.get_weights()
    state = m.optimizer.get_state(m.trainable_weights)
    m.diagnose(x, y)
    for a, b in zip(weights, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    after = m.optimizer.get_state(m.trainable_weights)
    assert after["iterations"] == state["iterations"]
    for s0, s1 in zip(state["slots"], after["slots"]):
        for k in s0:
            np.testing.assert_array_equal(s0[k], s1[k])


def test_nan_weights_and_saturation_are_reported(digits):
    x, y = digits
    pycnn.set_seed(0)
    m = pycnn.models.Sequential([L.Dense(16, activation="tanh", input_shape=(64,)),
                                 L.Dense(10, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy")
    kernel, bias = m.layers[0].get_weights()
    m.layers[0].set_weights([kernel * 50.0, bias])           # tanh pinned at ±1
    sat = m.diagnose(x, y, overfit=False)["saturation"]
    assert sat.status == "problem" and sat.value > 0.3 and "within 0.01 of ±1" in sat.message
    kernel[0, 0] = np.nan
    m.layers[0].set_weights([kernel, bias])
    d = m.diagnose(x, y, overfit=False)
    assert any("dense_" in f.message and f.status == "problem" for f in d["NaN/Inf"])


def test_doctor_callback_watches_fit(digits):
    x, y = digits
    m = mlp("sgd")
    kernel, bias = m.layers[1].get_weights()
    m.layers[1].set_weights([kernel * 30.0, bias])
    lines = []
    doctor = pycnn.callbacks.Doctor(print_fn=lines.append)
    m.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[doctor])
    checks = {f.check: f for f in doctor.findings}
    assert checks["initial loss"].status == "problem" and lines[0].startswith("doctor: ✗")
    assert "update/weight ratio" in checks
    # a loss that becomes NaN stops training at once, with the reason
    m2 = mlp("sgd")
    xn = x.copy()
    xn[40] = np.nan
    doctor = pycnn.callbacks.Doctor(print_fn=lambda s: None)
    history = m2.fit(xn, y, epochs=3, batch_size=32, shuffle=False, verbose=0,
                     callbacks=[doctor])
    nan = [f for f in doctor.findings if f.check == "NaN/Inf"]
    assert len(nan) == 1 and "at batch 2: training stops" in nan[0].message
    assert len(history.epoch) == 1
    sample = pycnn.callbacks.Doctor(x[:32], y[:32], print_fn=lambda s: None)
    mlp().fit(x, y, epochs=1, verbose=0, callbacks=[sample])
    assert {"dead ReLUs", "gradient norms"} <= {f.check for f in sample.findings}
    with pytest.raises(ValueError, match="both x and y"):
        pycnn.callbacks.Doctor(x)


def two_output_model(seed=0):
    """Digits in, two outputs: the class (softmax, 10) and 'is it odd?' (sigmoid), over a
    shared trunk with a second input branch."""
    pycnn.set_seed(seed)
    pixels, extra = pycnn.Input((64,), name="pixels"), pycnn.Input((3,), name="extra")
    trunk = L.Dense(32, activation="relu", name="trunk")(pixels)
    side = L.Dense(8, activation="relu", name="side")(extra)
    h = L.Concatenate(name="join")([trunk, side])
    digit = L.Dense(10, activation="softmax", name="digit")(h)
    odd = L.Dense(1, activation="sigmoid", name="odd")(h)
    m = pycnn.Model([pixels, extra], [digit, odd])
    m.compile("adam", {"digit": "sparse_categorical_crossentropy",
                       "odd": "binary_crossentropy"})
    return m


def _two_output_data(digits):
    x, y = digits
    extra = np.random.default_rng(1).standard_normal((len(x), 3)).astype("float32")
    return [x, extra], [y, (y % 2).astype("float32").reshape(-1, 1)]


def test_a_healthy_two_output_model_passes(digits):
    xs, ys = _two_output_data(digits)
    d = two_output_model().diagnose(xs, ys)
    assert d.problems == [], repr(d)
    first = d["initial loss"]
    assert [f.message.split(":")[0] for f in first] == ["output 'digit'", "output 'odd'"]
    assert "ln(10) = 2.303" in first[0].message and "ln 2 = 0.6931" in first[1].message


def test_the_doctor_names_the_output_and_the_number_of_a_planted_fault(digits):
    xs, ys = _two_output_data(digits)
    m = two_output_model()
    kernel, bias = m.get_layer("odd").get_weights()
    m.get_layer("odd").set_weights([kernel, bias + 8.0])     # 'odd' sure of "yes" at start
    kernel, bias = m.get_layer("side").get_weights()
    m.get_layer("side").set_weights([kernel, bias - 100.0])  # the side branch dead
    weights = m.get_weights()
    d = m.diagnose(xs, ys, overfit=False)
    digit, odd = d["initial loss"]
    assert digit.status == "ok"
    assert odd.status == "problem" and odd.message.startswith("output 'odd': ")
    assert odd.value > 3.0 and f"{odd.value:.4g}" in odd.message
    assert "should give ln 2 = 0.6931" in odd.message
    dead = [f for f in d["dead ReLUs"] if f.status == "problem"]
    assert len(dead) == 1 and dead[0].message.startswith("side: 8 of 8 ReLU units (100%)")
    assert dead[0].value == 1.0
    for a, b in zip(weights, m.get_weights()):                # left as it was
        np.testing.assert_array_equal(a, b)


def test_overfitting_names_the_output_that_cannot_fit(digits):
    xs, ys = _two_output_data(digits)
    d = two_output_model().diagnose(xs, ys, overfit_steps=150)
    assert d["overfit 20 examples"].status == "ok", repr(d)
    m = two_output_model()
    m.get_layer("digit").trainable = False                    # this output cannot learn
    m.compile("adam", {"digit": "sparse_categorical_crossentropy",
                       "odd": "binary_crossentropy"})
    d = m.diagnose(xs, ys, overfit_steps=40)
    f = d["overfit 20 examples"]
    assert f.status == "problem" and "output 'digit' accuracy" in f.message
    assert f"accuracy {f.value:.0%}" in f.message


def test_the_doctor_callback_checks_each_output_at_the_first_batch(digits):
    xs, ys = _two_output_data(digits)
    m = two_output_model()
    kernel, bias = m.get_layer("digit").get_weights()
    m.get_layer("digit").set_weights([kernel * 40.0, bias])
    said = []
    doctor = pycnn.callbacks.Doctor(print_fn=said.append)
    m.fit(xs, ys, epochs=1, batch_size=32, verbose=0, callbacks=[doctor])
    initial = [f for f in doctor.findings if f.check == "initial loss"]
    assert len(initial) == 1 and initial[0].status == "problem"
    assert initial[0].message.startswith("output 'digit': first batch ")
