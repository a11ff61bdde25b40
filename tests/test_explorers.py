"""pycnn.explorers: each explorer's numbers by hand, its text, its figure, its widget."""
import math

import matplotlib
import numpy as np
import pytest

from pycnn import explorers
from pycnn.display import fmt

matplotlib.use("Agg")


def _widget_roundtrip(explorer, name, value):
    """Move one control of the live widget and return the text the widget then shows."""
    box = explorer.widget()
    box.controls[name].value = value
    return box.children[2].value


def test_categorical_cross_entropy_is_minus_ln_p():
    e = explorers.cross_entropy(p=0.6)
    assert e.numbers["E"] == pytest.approx(-math.log(0.6))
    # pycnn rescales p (Keras): ∂E/∂p_1 = −1/p_1 + Σ y / Σ p = −1/0.6 + 1
    assert e.numbers["dE_dp"] == pytest.approx(-1 / 0.6 + 1)
    assert f"−ln 0.6 = {fmt(-math.log(0.6))}" in e.text
    shown = _widget_roundtrip(e, "p", 0.25)
    assert f"−ln 0.25 = {fmt(-math.log(0.25))}" in shown
    assert e.figure() is not None


def test_binary_cross_entropy_and_its_gradient():
    e = explorers.cross_entropy(p=0.3, kind="binary", y=0)
    assert e.numbers["E"] == pytest.approx(-math.log(0.7))
    assert e.numbers["dE_dp"] == pytest.approx(0.3 / (0.3 * 0.7))
    e.update(y=1)
    assert e.numbers["E"] == pytest.approx(-math.log(0.3))
    assert "−ln 0.3" in str(e)


def test_values_are_checked():
    with pytest.raises(ValueError, match=r"p must lie in \[0.01, 0.99\]"):
        explorers.cross_entropy(p=1.5)
    with pytest.raises(ValueError, match="kind must be one of"):
        explorers.cross_entropy(kind="hinge")
    with pytest.raises(TypeError, match="unknown value 'q'"):
        explorers.cross_entropy().update(q=1)
    assert "<pre class='pycnn-explorer-text'>" in explorers.cross_entropy()._repr_html_()


def test_multilabel_unknown_labels_add_nothing():
    e = explorers.multilabel()
    # cat y=1 p=.8, dog y=0 p=.3, car ?, tree y=0 p=.1
    want = -math.log(0.8) - math.log(0.7) - math.log(0.9)
    assert e.numbers["E"] == pytest.approx(want)
    assert e.numbers["grad"][2] == 0.0 and "car: y = ?" in e.text
    e.update(y_car=1)
    assert e.numbers["E"] == pytest.approx(want - math.log(0.6))
    shown = _widget_roundtrip(explorers.multilabel(), "y_dog", "?")
    assert "dog: y = ?" in shown


def test_yolo_iou_responsibility_and_the_five_terms():
    e = explorers.yolo()
    assert e.numbers["iou"] == pytest.approx([0.6, 0.2])      # 0.12 / 0.2 and 0.04 / 0.2
    assert e.numbers["responsible"] == 0
    parts = e.numbers["parts"]
    assert parts["coord_xy"] == pytest.approx(5 * (0.05 ** 2 + 0.05 ** 2))
    assert parts["obj"] == pytest.approx((0.7 - 1) ** 2)
    assert parts["noobj"] == pytest.approx(0.5 * 0.3 ** 2)
    assert parts["cls"] == pytest.approx(2 * 0.2 ** 2)
    assert e.numbers["total"] == pytest.approx(sum(parts.values()))
    e.update(x=0.9, y=0.1, w=0.1, h=0.1)                       # box 1 moves off the truth
    assert e.numbers["responsible"] == 1 and "box 2 is responsible" in e.text
    assert e.figure() is not None


def test_activation_explorer_values_and_derivatives():
    e = explorers.activations("leaky_relu", x=-1.0, alpha=0.2)
    assert e.numbers == pytest.approx({"y": -0.2, "dy": 0.2})
    e.update(function="elu", alpha=1.0)
    assert e.numbers["y"] == pytest.approx(math.exp(-1) - 1)
    assert e.numbers["dy"] == pytest.approx(math.exp(-1))
    e.update(function="swish", beta=2.0, x=0.5)
    s = 1 / (1 + math.exp(-1.0))
    assert e.numbers["dy"] == pytest.approx(s + 1.0 * s * (1 - s), rel=1e-5)
    assert "β = 2" in e.text


def test_convolution_size_formula_and_the_window():
    e = explorers.convolution(stride=2, padding=1, dilation=2, row=3, col=4)
    assert e.numbers["out"] == (24 + 2 - 2 * 2 - 1) // 2 + 1 == 11
    assert "⌊(24 + 2·1 − 2·(3 − 1) − 1)/2⌋ + 1 = 11" in e.text
    img = np.pad(explorers.digit(0), 1)
    rows, cols = 3 * 2 + 2 * np.arange(3), 4 * 2 + 2 * np.arange(3)
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    assert e.numbers["value"] == pytest.approx(float((img[np.ix_(rows, cols)] * sobel).sum()))
    e.update(preset="box blur")                             # a preset fills the kernel
    assert e.values["k11"] == pytest.approx(1 / 9)
    e.update(k11=2.0)                                       # an edited kernel is custom
    assert e.values["preset"] == "custom"
    box = e.widget()
    box.controls["preset"].value = "sobel_y"                # in the widget too
    assert box.controls["k01"].value == 2.0 and "y[" in box.children[2].value
    assert explorers.convolution(padding=0, dilation=3, stride=1).numbers["out"] == 24 - 6


def test_the_sobel_kernel_is_learned():
    learner = explorers.learn_sobel(150)
    np.testing.assert_allclose(learner.kernel, learner.target_kernel, atol=0.05)
    assert learner.losses[-1] < 1e-3 * learner.losses[0]
    assert "learning Sobel-x: step 150" in repr(learner)
    assert learner.figure() is not None
