"""pycnn.explain: formulas with the actual numbers substituted, as LaTeX and as text."""
import numpy as np
import pytest

import pycnn
from pycnn.display import fmt
from pycnn.explain import EXPLAINERS, Explanation, explain


def test_method_and_function_agree_and_render_both_ways():
    x = pycnn.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = pycnn.sigmoid(x)
    e = y.explain()
    assert isinstance(e, Explanation)
    assert str(e) == str(explain(y)) == repr(e) == e.text
    assert e.text.splitlines() == [
        "sigmoid, element by element: σ(x) = 1 / (1 + e^(−x))",
        "σ(0.5) = 1 / (1 + e^(−0.5)) = 0.6225",
        "σ(−1) = 1 / (1 + e^1) = 0.2689",
        "σ(2) = 1 / (1 + e^(−2)) = 0.8808",
    ]
    latex = e._repr_latex_()
    assert latex.startswith(r"$$\begin{aligned}") and latex.endswith(r"\end{aligned}$$")
    assert r"\sigma(-1) = \frac{1}{1 + e^{1}} = 0.2689" in latex
    np.testing.assert_array_equal(e.value, y.numpy())


@pytest.mark.parametrize("make, line", [
    (lambda x: x * 2, "(−1) · 2 = −2"),
    (lambda x: x - 3, "(−1) − 3 = −4"),
    (lambda x: x / 4, "(−1) / 4 = −0.25"),
    (lambda x: x ** 2, "(−1)^2 = 1"),
    (lambda x: pycnn.relu(x), "max(0, −1) = 0"),
    (lambda x: pycnn.tanh(x), "tanh(−1) = (e^(−1) − e^1) / (e^(−1) + e^1) = −0.7616"),
    (lambda x: pycnn.exp(x), "e^(−1) = 0.3679"),
    (lambda x: pycnn.log(x * x), "ln 1 = 0"),
    (lambda x: pycnn.maximum(x, 0.5), "max(−1, 0.5) = 0.5"),
    (lambda x: -x, "−(−1) = 1"),
])
def test_elementwise_ops_show_each_element(make, line):
    x = pycnn.tensor([0.5, -1.0, 2.0], dtype="float64", requires_grad=True)
    assert line in explain(make(x)).text.splitlines()


def test_long_results_are_cut_and_leaves_say_so():
    x = pycnn.tensor(np.arange(10.0), requires_grad=True, name="x")
    text = explain(pycnn.relu(x)).text
    assert len(text.splitlines()) == 6 and text.endswith("… and 6 more elements")
    assert explain(x).text == ("x is a leaf of the graph (a weight or input that requires "
                               "grad), shape (10,): no op computed it")
    assert "a constant" in explain(pycnn.tensor(1.0)).text
    with pytest.raises(TypeError, match="expected a pycnn Tensor"):
        explain([1, 2])


def test_every_core_op_has_an_explainer():
    x = pycnn.tensor([1.0], requires_grad=True)
    results = [x + x, x - x, x * x, x / x, x ** x, pycnn.maximum(x, x), pycnn.minimum(x, x),
               -x, abs(x), pycnn.exp(x), pycnn.log(x), pycnn.sqrt(x), pycnn.square(x),
               pycnn.sigmoid(x), pycnn.tanh(x), pycnn.relu(x)]
    assert {r.op for r in results} <= set(EXPLAINERS)
    for r in results:
        assert explain(r).text.splitlines()[-1].endswith("= " + fmt(r.item()).replace("-", "−"))


def test_explain_calls_a_function_with_recording_inputs():
    plain = pycnn.sigmoid(pycnn.tensor([0.5, 2.0]))          # nothing recorded
    assert plain.op is None
    assert "has no recorded op" in explain(plain).text
    assert "requires_grad=True" in explain(plain).text
    e = explain(pycnn.sigmoid, [0.5, 2.0])
    assert e.text.splitlines()[1] == "σ(0.5) = 1 / (1 + e^(−0.5)) = 0.6225"
    x = pycnn.tensor([1.0, -1.0])
    assert "0.1·(−1)" not in explain(pycnn.relu, x).text and x.requires_grad is False
    assert explain(lambda a, k: a * k, np.array([2.0]), 3).text.endswith("2 · 3 = 6")
    with pytest.raises(TypeError, match="only taken with a function"):
        explain(pycnn.relu(pycnn.tensor([1.0], requires_grad=True)), 2)
