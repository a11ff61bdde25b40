"""Any model opened up: layer outputs, filters, saliency, Grad-CAM, receptive field,
the confusion matrix and the gallery of mistakes."""
import matplotlib
import numpy as np
import pytest

import pycnn
from pycnn import inside, viz
from pycnn import layers as L

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def trained():
    """A small CNN trained a few epochs on the 8×8 digits (about a second)."""
    pycnn.set_seed(0)
    (x, y), (xt, yt) = pycnn.datasets.digits.load_data()
    x, xt = x[..., None].astype("float32"), xt[..., None].astype("float32")
    model = pycnn.models.Sequential([
        L.Conv2D(8, 3, activation="relu", padding="same", input_shape=(8, 8, 1)),
        L.MaxPooling2D(2), L.Conv2D(16, 3, activation="relu", padding="same"),
        L.Flatten(), L.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    return model, xt, yt


def _twin_forward(model, x):
    """Plain NumPy forward of the fixture's architecture, every intermediate kept."""
    w = [l.get_weights() for l in model.layers]

    def conv(a, k, b):
        pad = np.pad(a, ((1, 1), (1, 1), (0, 0)))
        out = np.zeros(a.shape[:2] + (k.shape[3],))
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                out[i, j] = np.tensordot(pad[i:i + 3, j:j + 3], k, axes=3) + b
        return out
    h1 = np.maximum(conv(x[0].astype(np.float64), *w[0]), 0)
    h2 = h1.reshape(4, 2, 4, 2, -1).max(axis=(1, 3))
    h3 = np.maximum(conv(h2, *w[2]), 0)
    z = h3.reshape(-1) @ w[4][0] + w[4][1]
    return [h1, h2, h3, h3.reshape(-1), np.exp(z - z.max()) / np.exp(z - z.max()).sum()]


def test_layer_outputs_are_each_layers_forward(trained):
    model, x, _ = trained
    outputs = inside.layer_outputs(model, x[0])
    assert list(outputs) == [l.name for l in model.layers]
    for got, want in zip(outputs.values(), _twin_forward(model, x[:1])):
        np.testing.assert_allclose(got[0], want, rtol=1e-4, atol=1e-5)
    fig = viz.activations(model, x[:1])
    assert set(fig.outputs) == set(outputs)


def test_saliency_is_the_input_gradient_of_the_class_score(trained):
    model, x, _ = trained
    # a background of exact zeros makes max-pool ties (equal ReLU(bias) values), kinks
    # where finite differences and any gradient disagree: a little noise removes them
    x = x[:1] + np.random.default_rng(1).uniform(0, 0.01, x[:1].shape).astype(x.dtype)
    sal, c = inside.saliency_map(model, x)
    assert c == int(np.argmax(model.predict(x)[0])) and sal.shape == (8, 8)
    # finite differences of the class probability, in float64 NumPy
    base, eps, numeric = x.astype(np.float64), 1e-6, np.zeros((8, 8))
    for i in range(8):
        for j in range(8):
            up, down = base.copy(), base.copy()
            up[0, i, j, 0] += eps
            down[0, i, j, 0] -= eps
            numeric[i, j] = (_twin_forward(model, up)[-1][c] -
                             _twin_forward(model, down)[-1][c]) / (2 * eps)
    np.testing.assert_allclose(sal, np.abs(numeric), rtol=2e-2, atol=2e-4)
    fig = viz.saliency(model, x[0], class_index=3)
    assert fig.class_index == 3
    with pytest.raises(ValueError, match="class_index 12"):
        inside.saliency_map(model, x[:1], 12)


def test_grad_cam_weights_the_feature_maps_by_their_mean_gradient(trained):
    model, x, _ = trained
    conv = model.layers[2]
    heat, coarse, c = inside.grad_cam_map(model, x[:1], conv.name)
    assert heat.shape == (8, 8) and coarse.shape == (4, 4)
    assert 0 <= heat.min() and heat.max() <= 1 + 1e-12 and coarse.max() == pytest.approx(1)
    # by hand: A = conv output, dscore/dA through Flatten → Dense → softmax
    h = _twin_forward(model, x[:1])
    A, p = h[2], h[-1]
    W = model.layers[4].get_weights()[0]
    dz = p[c] * ((np.arange(10) == c) - p)                  # ∂p_c/∂z_k = p_c([k = c] − p_k)
    dA = (W @ dz).reshape(A.shape)                          # A is after the ReLU
    cam = np.maximum((A * dA.mean(axis=(0, 1))).sum(axis=-1), 0)
    np.testing.assert_allclose(coarse, cam / cam.max(), rtol=1e-3, atol=1e-4)
    fig = viz.grad_cam(model, x[0], conv)
    assert fig.map.shape == (8, 8)
    with pytest.raises(ValueError, match="feature maps"):
        inside.grad_cam_map(model, x[:1], model.layers[4])


def test_receptive_field_of_three_3x3_convolutions_is_7():
    model = pycnn.models.Sequential([L.Conv2D(2, 3, input_shape=(16, 16, 1)), L.Conv2D(2, 3),
                                     L.Conv2D(2, 3), L.MaxPooling2D(2), L.Conv2D(2, 3),
                                     L.Flatten(), L.Dense(2)])
    rf = pycnn.arithmetic.receptive_field(model, model.layers[2])
    assert rf.size == (7, 7) and rf.stride == (1, 1) and rf.offset == (3.0, 3.0)
    assert "5 + (3 − 1)·1 = 7" in repr(rf)
    last = pycnn.arithmetic.receptive_field(model)        # the last spatial layer
    assert last.size == (12, 12) and last.stride == (2, 2)   # 7 + 1·1 = 8; 8 + 2·2 = 12
    whole = repr(pycnn.arithmetic.receptive_field(model, -1))
    assert whole.endswith("(Flatten) and after: every output sees the whole input")
    erf = rf.effective(samples=2)
    assert erf.shape == (16, 16) and erf.sum() == pytest.approx(1)
    cy, cx = rf.centre_unit()                                 # output 10×10: unit (5, 5)
    assert (cy, cx) == (8.0, 8.0)                             # 3 + 5·1
    rows, cols = np.nonzero(erf)                              # the gradient reaches only
    assert rows.min() == 5 and rows.max() == 11               # the 7×7 theoretical field
    assert cols.min() == 5 and cols.max() == 11
    assert rf.effective_size(erf) <= 7
    rf.plot()


def test_confusion_matrix_drawn_from_labels_or_probabilities():
    from sklearn.metrics import confusion_matrix as sk
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    probs = np.eye(4)[p] * 0.7 + 0.075
    fig = viz.confusion_matrix(np.eye(4)[t], probs, class_names=list("abcd"))
    np.testing.assert_array_equal(fig.counts, sk(t, p))
    assert fig.axes[0].get_title() == f"accuracy {np.mean(t == p):.1%} " \
                                      f"({int(np.sum(t == p))} of 50)"
    np.testing.assert_array_equal(viz.confusion_matrix(t, p).counts, sk(t, p))


def test_mistakes_are_the_most_confident_wrong_predictions(trained):
    model, x, y = trained
    idx, true, pred, prob = inside.most_confident_mistakes(model, x, y, n=5)
    probs = model.predict(x)
    wrong = np.flatnonzero(probs.argmax(1) != y)
    assert set(idx) <= set(wrong) and len(idx) == min(5, len(wrong))
    assert (true != pred).all() and np.all(np.diff(prob) <= 0)
    assert prob[0] == probs[wrong].max(axis=1).max()
    fig = viz.mistakes(model, x, y, n=5)
    np.testing.assert_array_equal(fig.indices, idx)


def test_filters_draws_a_conv_layers_kernels(trained):
    model, _, _ = trained
    fig = viz.filters(model.layers[0])
    assert len([a for a in fig.axes if a.images]) == 8
    with pytest.raises(ValueError, match="not a built convolution"):
        viz.filters(model.layers[4])
    dw = L.DepthwiseConv2D(3, depth_multiplier=2)
    dw.build((None, 8, 8, 3))
    fig = viz.filters(dw)
    panels = [a for a in fig.axes if a.images]
    assert len(panels) == 6 and "depthwise kernels" in fig._suptitle.get_text()
    k = dw.get_weights()[0]
    np.testing.assert_array_equal(panels[3].images[0].get_array(), k[:, :, 1, 1])  # c 1, m 1
    up = L.Conv2DTranspose(5, 3)
    up.build((None, 8, 8, 2))
    fig = viz.filters(up, input_channel=1)
    panels = [a for a in fig.axes if a.images]
    assert len(panels) == 5
    np.testing.assert_array_equal(panels[4].images[0].get_array(),
                                  up.get_weights()[0][:, :, 4, 1])


def test_any_model_opened_up_subclassed_with_a_skip_and_functional_with_a_shared_layer():
    class Net(pycnn.Model):
        def __init__(self):
            super().__init__()
            self.a = L.Conv2D(3, 3, padding="same", activation="relu")
            self.b = L.Conv2D(3, 3, padding="same")
            self.add, self.pool = L.Add(), L.GlobalAveragePooling2D()
            self.out = L.Dense(4, activation="softmax")

        def call(self, x):
            h = self.a(x)
            return self.out(self.pool(self.add([h, self.b(h)])))
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 1)).astype("float32")
    net = Net()
    net(x)
    outs = inside.layer_outputs(net, x)
    h = net.a(x).numpy()
    np.testing.assert_allclose(outs[net.add.name], h + net.b(h).numpy(), rtol=1e-6)
    heat, coarse, c = inside.grad_cam_map(net, x[:1], net.add)
    assert heat.shape == (8, 8) and coarse.max() == pytest.approx(1.0)
    sal, _ = inside.saliency_map(net, x[:1])
    assert sal.shape == (8, 8) and sal.max() > 0
    shared = L.Dense(5, activation="tanh", name="shared")
    i = pycnn.Input((5,))
    model = pycnn.Model(i, L.Dense(3, activation="softmax", name="head")(shared(shared(i))))
    v = np.random.default_rng(1).standard_normal((4, 5)).astype("float32")
    outs = inside.layer_outputs(model, v)
    once = shared(v).numpy()
    np.testing.assert_allclose(outs["shared"], shared(once).numpy(), rtol=1e-6)  # last call
