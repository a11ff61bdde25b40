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


# ---- softmax and the activations with a parameter ---------------------------------

def test_softmax_shows_the_lecture_numbers():
    z = pycnn.tensor([1.0, -1.0, 2.0], requires_grad=True)
    lines = pycnn.softmax(z).explain().text.splitlines()
    e = np.exp([1.0, -1.0, 2.0])
    assert lines[0] == "softmax: p_k = e^z_k / (Σ_j e^z_j)"
    assert lines[2] == f"Σ_j e^z_j = e^1 + e^(−1) + e^2 = {fmt(e.sum())}"
    assert lines[4] == f"p_2 = e^(−1) / {fmt(e.sum())} = {fmt(e[1] / e.sum())}"
    assert lines[-1] == "Σ_k p_k = 1, every p_k > 0"
    latex = pycnn.softmax(z).explain().latex
    assert r"p_{2} = \frac{e^{-1}}{10.48} = 0.03512" in latex


def test_softmax_of_large_logits_shows_the_shift_and_a_batch_its_first_row():
    z = pycnn.tensor([[1000.0, 999.0, 990.0], [1.0, 2.0, 3.0]], requires_grad=True)
    text = pycnn.softmax(z).explain().text
    assert "the first of 2 vectors along axis -1" in text
    assert "m = max_j z_j = 1000" in text
    assert "Σ_j e^(z_j − m) = e^0 + e^(−1) + e^(−10) = 1.368" in text
    cols = pycnn.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]], requires_grad=True)
    text = pycnn.softmax(cols, axis=0).explain().text
    assert "along axis 0" in text and "z = [1, 3, 0]" in text


def test_log_softmax_naive_normalize_and_maxout():
    z = pycnn.tensor([1.0, -1.0, 2.0], requires_grad=True)
    lse = np.log(np.exp([1.0, -1.0, 2.0]).sum())
    assert f"ln p_2 = −1 − {fmt(lse)} = {fmt(-1 - lse).replace('-', '−')}" in \
        pycnn.log_softmax(z).explain().text
    naive = pycnn.naive_normalize(z).explain().text.splitlines()
    assert naive[2:6] == ["Σ_j z_j = 1 + (−1) + 2 = 2", "p_1 = 1 / 2 = 0.5",
                          "p_2 = −1 / 2 = −0.5", "p_3 = 2 / 2 = 1"]
    assert "not a probability: −0.5" in naive[-1]
    x = pycnn.tensor([[1.0, 5.0, -2.0, 3.0]], requires_grad=True)
    assert pycnn.maxout(x, 2).explain().text.splitlines()[1:] == \
        ["y_1 = max(1, 5) = 5", "y_2 = max(−2, 3) = 3"]


def test_leaky_relu_elu_and_swish_read_their_parameter_back():
    z = pycnn.tensor([1.0, -1.0], requires_grad=True)
    leaky = pycnn.leaky_relu(z, alpha=0.2).explain().text.splitlines()
    assert leaky == ["leaky_relu, element by element: y = x if x > 0, else α·x,  α = 0.2",
                     "1 > 0 ⇒ 1", "0.2·(−1) = −0.2"]
    assert "0.5·(e^(−1) − 1) = −0.3161" in pycnn.elu(z, alpha=0.5).explain().text
    beta = pycnn.tensor(2.0, requires_grad=True)
    assert "(−1)·σ(2·(−1)) = −0.1192" in pycnn.swish(z, beta=beta).explain().text


# ---- losses --------------------------------------------------------------------------

def test_categorical_crossentropy_is_the_lecture_line():
    p = pycnn.tensor([[0.3, 0.6, 0.1]], requires_grad=True)
    e = pycnn.losses.categorical_crossentropy([[0.0, 1.0, 0.0]], p).explain()
    assert e.text.splitlines()[-1] == "E = −(0·ln 0.3 + 1·ln 0.6 + 0·ln 0.1) = 0.5108"
    assert r"E = -\left(0 \cdot \ln 0.3 + 1 \cdot \ln 0.6 + 0 \cdot \ln 0.1\right) = 0.5108" \
        in e.latex
    assert e.value == pytest.approx(-np.log(0.6), rel=1e-6)
    via_function = pycnn.explain(pycnn.losses.categorical_crossentropy, [[0, 1, 0]],
                                 [[0.3, 0.6, 0.1]])
    assert via_function.text == e.text


def test_batches_show_each_sample_then_the_reduction():
    P = [[0.3, 0.6, 0.1], [0.7, 0.2, 0.1]]
    Y = np.eye(3)[[1, 0]]
    cce = pycnn.losses.categorical_crossentropy
    mean = pycnn.explain(cce, Y, P).text.splitlines()
    assert mean[1:] == ["E_1 = −(0·ln 0.3 + 1·ln 0.6 + 0·ln 0.1) = 0.5108",
                        "E_2 = −(1·ln 0.7 + 0·ln 0.2 + 0·ln 0.1) = 0.3567",
                        "E = (1/N) Σ_i E_i = (0.5108 + 0.3567) / 2 = 0.4338   (N = 2)"]
    assert pycnn.explain(cce, Y, P, reduction="sum").text.endswith(
        "E = Σ_i E_i = 0.5108 + 0.3567 = 0.8675")
    assert pycnn.explain(cce, Y, P, reduction="none").text.endswith(
        "reduction 'none': one loss per sample, shape (2,)")
    many = pycnn.explain(cce, np.eye(3)[[1, 0, 2, 1, 1]], [[0.3, 0.6, 0.1]] * 5).text
    assert "… and 2 more samples" in many


def test_from_logits_shows_the_probabilities_first():
    e = pycnn.explain(pycnn.losses.categorical_crossentropy, [[0, 1, 0]], [[1.0, -1.0, 2.0]],
                      from_logits=True).text.splitlines()
    assert e[1] == "from logits: p = softmax(z) = softmax([1, −1, 2]) = [0.2595, 0.03512, 0.7054]"
    assert e[2] == "E = −(0·ln 0.2595 + 1·ln 0.03512 + 0·ln 0.7054) = 3.349"
    b = pycnn.explain(pycnn.losses.binary_crossentropy, [[1.0]], [[0.0]], from_logits=True).text
    assert "p = σ(z) = σ([0]) = [0.5]" in b and b.endswith("= 0.6931")


def test_sparse_labels_and_ignored_pixels():
    P = [[0.3, 0.6, 0.1], [0.7, 0.2, 0.1], [0.2, 0.2, 0.6]]
    lines = pycnn.explain(pycnn.losses.sparse_categorical_crossentropy, np.array([1, -1, 2]),
                          P, ignore_index=-1).text.splitlines()
    assert lines[1:] == ["E_1 = −ln p(class 1) = −ln 0.6 = 0.5108",
                         "E_2: label ignored, not counted",
                         "E_3 = −ln p(class 2) = −ln 0.6 = 0.5108",
                         "1 ignored label does not count",
                         "E = (1/N) Σ_i E_i = (0.5108 + 0.5108) / 2 = 0.5108   (N = 2)"]


def test_binary_and_multilabel_with_the_question_mark():
    b = pycnn.explain(pycnn.losses.binary_crossentropy, [[1.0]], [[0.7]]).text
    assert b.splitlines()[-1] == "E = −1·ln 0.7 − (1 − 1)·ln(1 − 0.7) = 0.3567"
    m = pycnn.explain(pycnn.losses.multilabel_crossentropy, [[1.0, 1.0, np.nan, 0.0]],
                      [[0.9, 0.6, 0.5, 0.2]]).text.splitlines()
    assert m[1] == "y = [1, 1, ?, 0]  (? contributes nothing)"
    expected = -np.log(0.9) - np.log(0.6) - np.log(0.8)
    assert m[2] == ("E = (−1·ln 0.9 − (1 − 1)·ln(1 − 0.9)) + (−1·ln 0.6 − (1 − 1)·ln(1 − 0.6))"
                    f" + (−0·ln 0.2 − (1 − 0)·ln(1 − 0.2)) = {fmt(expected)}")
    assert "0.5" not in m[2]                    # the unknown label's p is left out


def test_squared_errors_lecture_and_keras():
    s, s_hat = [[0.5, 0.4], [0.2, 0.1]], [[0.52, 0.37], [0.2, 0.2]]
    se = pycnn.explain(pycnn.losses.squared_error, s, s_hat).text.splitlines()
    assert se[0] == "squared error (lecture): E = Σ_j ½(s_j − ŝ_j)²"
    assert se[1] == f"E_1 = ½[(0.5 − 0.52)² + (0.4 − 0.37)²] = {fmt(0.5 * (0.02**2 + 0.03**2))}"
    mse = pycnn.explain(pycnn.losses.mean_squared_error, s[:1], s_hat[:1]).text.splitlines()
    assert mse[1] == f"E = (1/2)((0.5 − 0.52)² + (0.4 − 0.37)²) = {fmt((0.02**2 + 0.03**2) / 2)}"


def test_yolo_shows_its_five_terms():
    rng = np.random.default_rng(0)
    S, B, C = 2, 2, 3
    truth = np.zeros((1, S, S, 5 + C))
    truth[0, 0, 1] = [0.5, 0.5, 0.4, 0.3, 1, 0, 1, 0]
    pred = rng.uniform(0.1, 0.9, (1, S, S, 5 * B + C))
    total, parts = pycnn.losses.yolo_loss(truth, pred, S=S, B=B, C=C, return_parts=True)
    lines = pycnn.explain(pycnn.losses.yolo_loss, truth, pred, S=S, B=B, C=C).text.splitlines()
    assert lines[0] == "YOLO v1 loss, S = 2, B = 2, C = 3, averaged over 1 image:"
    assert lines[4] == f"λ_noobj Σ 1noobj_ij (C_i − Ĉ_i)² = {fmt(float(parts['noobj']))}"
    assert lines[-1] == ("E = " + " + ".join(fmt(float(parts[k])) for k in
                                             ("coord_xy", "coord_wh", "obj", "noobj", "cls"))
                         + f" = {fmt(float(total))}")
    other = pycnn.explain(pycnn.losses.yolo_loss, truth, pred, S=S, B=B, C=C,
                          lambda_noobj=2.0).text
    assert "unweighted" in other and "λ_noobj·" in other


def test_every_op_of_the_lecture_has_an_explainer():
    lecture_ops = ["softmax", "log_softmax", "naive_normalize", "maxout", "leaky_relu", "elu",
                   "swish", "squared_error", "mean_squared_error", "categorical_crossentropy",
                   "categorical_crossentropy_from_logits", "sparse_categorical_crossentropy",
                   "sparse_categorical_crossentropy_from_logits", "binary_crossentropy",
                   "binary_crossentropy_from_logits", "multilabel_crossentropy",
                   "multilabel_crossentropy_from_logits", "yolo_loss"]
    assert set(lecture_ops) <= set(EXPLAINERS)


def test_reductions_and_the_matrix_product():
    x = pycnn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.sum().explain().text.splitlines() == ["sum of 4 numbers: Σ_i x_i",
                                                   "1 + 2 + 3 + 4 = 10"]
    assert x.mean().explain().text.splitlines()[1] == "(1/4)(1 + 2 + 3 + 4) = 2.5"
    assert x.max().explain().text.splitlines()[1] == "max(1, 2, 3, 4) = 4"
    long = pycnn.tensor(np.arange(20.0), requires_grad=True).sum().explain().text
    assert long.splitlines()[1] == "0 + 1 + 2 + 3 + 4 + 5 + … + 19 = 190"
    assert "give shape (2,)" in x.sum(axis=0).explain().text
    lines = (x @ pycnn.tensor([[5.0, 6.0], [7.0, 8.0]])).explain().text.splitlines()
    assert lines == ["matrix product (2×2) · (2×2): C_ij = Σ_k A_ik B_kj",
                     "C_11 = 1·5 + 2·7 = 19", "C_12 = 1·6 + 2·8 = 22",
                     "C_21 = 3·5 + 4·7 = 43", "C_22 = 3·6 + 4·8 = 50"]


def test_dense_layer_recognises_its_activation():
    from pycnn.layers import Dense
    x = pycnn.tensor([[1.0, 2.0]], dtype="float64")
    for activation, f in [("relu", "relu"), ("tanh", "tanh"), (None, "")]:
        layer = Dense(2, activation=activation)
        layer.build((None, 2))
        layer.set_weights([np.array([[0.5, -1.0], [0.25, 0.5]]), np.array([0.1, -0.2])])
        lines = layer(x).explain().text.splitlines()
        z = 1 * 0.5 + 2 * 0.25 + 0.1
        head = f"{f}(" if f else ""
        tail = f") = {f}({fmt(z)})" if f else ""
        expected_y = {"relu": max(z, 0), "tanh": np.tanh(z), "": z}[f]
        assert lines[1] == f"y_1 = {head}1·0.5 + 2·0.25 + 0.1{tail} = {fmt(expected_y)}"


def test_convolution_pooling_and_upsampling_show_one_window():
    from pycnn.layers import UpSampling2D
    x = pycnn.tensor(np.arange(16.0).reshape(1, 4, 4, 1), dtype="float64", requires_grad=True)
    sobel = pycnn.filters.sobel_x().astype(np.float64)[:, :, None, None]
    lines = pycnn.conv2d(x, sobel, bias=np.array([0.5])).explain().text.splitlines()
    assert lines[0] == ("convolution (cross-correlation), kernel 3×3, 1 → 1 channels, "
                        "stride (1, 1), padding 'valid':")
    # output (1, 1) reads rows 1..3, columns 1..3: 5 6 7 / 9 10 11 / 13 14 15
    assert lines[3] == ("y[1,1,0] = 0.5 + 5·1 + 6·0 + 7·(−1) + 9·2 + 10·0 + 11·(−2) + 13·1 + "
                        "14·0 + 15·(−1) = −7.5")
    same = pycnn.conv2d(x, np.ones((3, 3, 1, 1)), strides=2, padding="same").explain().text
    assert "stride (2, 2), padding 'same'" in same
    relu = pycnn.relu(pycnn.conv2d(x - 8.0, np.ones((1, 1, 1, 1))))
    assert relu.op == "relu"                       # a separate op: explained as relu
    pool = pycnn.max_pool2d(x, 2).explain().text.splitlines()
    assert pool[1] == "image 1, output (1, 1), channel 0: max(10, 11, 14, 15) = 15"
    pool = pycnn.max_pool2d(x, 2, strides=1).explain().text
    assert "window 2×2, stride (1, 1)" in pool
    avg = pycnn.avg_pool2d(x, 2, strides=1, padding="same").explain().text.splitlines()
    assert avg[1] == "image 1, output (2, 2), channel 0: mean(10, 11, 14, 15) = 12.5"
    corner = pycnn.avg_pool2d(x, 2, strides=1, padding="same")
    assert corner.numpy()[0, 3, 3, 0] == 15              # padding takes no part
    up = UpSampling2D(2)(x).explain().text.splitlines()
    assert up[1] == "image 1, channel 0: x[3, 3] = 15 → y[6:8, 6:8] = [15, 15, 15, 15]"


def test_odd_inputs_fall_back_instead_of_failing():
    empty = pycnn.losses.categorical_crossentropy(np.zeros((0, 3)),
                                                  pycnn.tensor(np.zeros((0, 3)),
                                                               requires_grad=True))
    text = explain(empty).text
    assert text.startswith("categorical_crossentropy: inputs of shape (0, 3), (0, 3)")
    zero_rows = pycnn.explain(pycnn.losses.categorical_crossentropy, [[0.0, 1.0]], [[0.0, 0.0]])
    assert zero_rows.text.splitlines()[-1].startswith("E = ")
    total = pycnn.explain(pycnn.losses.yolo_loss, np.zeros((1, 1, 1, 6)),
                          np.full((1, 1, 1, 11), 0.5), S=1, B=2, C=1, return_parts=True)
    assert total.text.startswith("YOLO v1 loss, S = 1, B = 2, C = 1")
