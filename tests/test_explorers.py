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
