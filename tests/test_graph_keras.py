"""Keras 3 as the oracle of the graph of layers: the same functional models (a residual
block, a two-input two-output model) with the same weights give the same outputs; the
summaries have the same layout, counts and connections; the configs the same keys."""
import json
import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn

pytestmark = [pytest.mark.usefixtures("fresh_session"), pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """rich (Keras' summary) crops its lines at the terminal's width: make it wide."""
    monkeypatch.setenv("COLUMNS", "240")


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch", reason="PyTorch is optional: pip install torch==2.13.0")
    return pytest.importorskip("keras", reason="Keras 3 is optional: pip install pycnn[interop]")


def residual_block(lib):
    """Conv → Conv → Add(skip) → pool → Dense, by the same names in both libraries."""
    L = lib.layers
    x = lib.Input((8, 8, 3), name="image")
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="stem")(x)
    r = L.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(h)
    r = L.Conv2D(4, 3, padding="same", name="conv_b")(r)
    y = L.Add(name="skip")([h, r])
    y = L.Activation("relu", name="relu")(y)
    y = L.MaxPooling2D(2, name="pool")(y)
    y = L.Flatten(name="flat")(y)
    return lib.Model(x, L.Dense(10, activation="softmax", name="probs")(y), name="resnet")


def two_in_two_out(lib):
    L = lib.layers
    a = lib.Input((6,), name="a")
    b = lib.Input((3,), name="b")
    h = L.Dense(5, activation="tanh", name="ha")(a)
    j = L.Concatenate(name="join")([h, b])
    m = L.Multiply(name="gate")([L.Dense(8, name="p")(j), L.Dense(8, activation="sigmoid",
                                                                   name="q")(j)])
    out1 = L.Dense(4, name="out1")(m)
    out2 = L.Subtract(name="out2")([L.Dense(3, name="r")(j), b])
    return lib.Model([a, b], [out1, out2], name="two")


def copy_weights(pmodel, kmodel):
    for layer in pmodel.layers:
        if layer.weights:
            kmodel.get_layer(layer.name).set_weights(layer.get_weights())


@pytest.mark.parametrize("make,shapes", [(residual_block, [(5, 8, 8, 3)]),
                                          (two_in_two_out, [(5, 6), (5, 3)])],
                         ids=["residual", "two_in_two_out"])
def test_same_outputs_counts_and_config_keys_as_keras(keras, make, shapes):
    pmodel, kmodel = make(pycnn), make(keras)
    copy_weights(pmodel, kmodel)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    p = pmodel.predict(xs if len(xs) > 1 else xs[0])
    k = kmodel.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    for a, b in zip(p if isinstance(p, list) else [p], k if isinstance(k, list) else [k]):
        assert np.max(np.abs(a - np.asarray(b))) < 1e-5
    assert [l.name for l in pmodel.layers] == [l.name for l in kmodel.layers]
    assert pmodel.count_params() == kmodel.count_params()
    for pl in pmodel.layers:
        kl = kmodel.get_layer(pl.name)
        assert pl.count_params() == kl.count_params(), pl.name
        assert tuple(pl.output.shape) == tuple(kl.output.shape), pl.name
    pc, kc = (json.loads(json.dumps(c)) for c in (pmodel.get_config(), kmodel.get_config()))
    assert set(pc) == set(kc)
    assert pc["input_layers"] == kc["input_layers"] and pc["output_layers"] == kc["output_layers"]
    for pe, ke in zip(pc["layers"], kc["layers"]):
        assert set(pe) == set(ke), pe["name"]
        assert pe["inbound_nodes"] == ke["inbound_nodes"], pe["name"]


@pytest.mark.parametrize("make", [residual_block, two_in_two_out])
@pytest.mark.parametrize("line_length", [108, 76])
def test_summary_layout_is_keras_3s(keras, make, line_length):
    pmodel, kmodel = make(pycnn), make(keras)
    lines, out = [], []
    pmodel.summary(print_fn=lines.append, line_length=line_length)
    kmodel.summary(print_fn=lambda s, line_break=None: out.append(s),
                   line_length=line_length)
    assert "\n".join(lines) == out[0].rstrip("\n")


def test_summary_of_a_chain_and_of_nested_and_frozen_models(keras):
    def build(lib):
        L = lib.layers
        inner = lib.Sequential([lib.Input((4,)), L.Dense(3, name="i1"), L.Dense(2, name="i2")],
                               name="inner")
        x = lib.Input((4,), name="x")
        y = L.Dense(5, name="d")(inner(x))
        model = lib.Model(x, y, name="outer")
        model.get_layer("inner").trainable = False
        return model
    pmodel, kmodel = build(pycnn), build(keras)
    lines, out = [], []
    pmodel.summary(print_fn=lines.append, line_length=88)
    kmodel.summary(print_fn=lambda s, line_break=None: out.append(s), line_length=88)
    assert "\n".join(lines) == out[0].rstrip("\n")
    assert any("Non-trainable params: 23" in line for line in lines)
    lines, out = [], []
    pmodel.summary(print_fn=lines.append, line_length=88, expand_nested=True,
                   show_trainable=True)
    kmodel.summary(print_fn=lambda s, line_break=None: out.append(s), line_length=88,
                   expand_nested=True, show_trainable=True)
    assert "\n".join(lines) == out[0].rstrip("\n")


def test_residual_block_trains_on_digits_and_matches_keras_after_a_step(keras):
    from pycnn.datasets import digits
    (x, y), _ = digits.load_data(seed=0)
    x = x.reshape(-1, 8, 8, 1)[:256].astype(np.float32)
    y = y[:256]

    def build(lib):
        L = lib.layers
        i = lib.Input((8, 8, 1), name="img")
        h = L.Conv2D(8, 3, padding="same", activation="relu", name="c0")(i)
        r = L.Conv2D(8, 3, padding="same", name="c1")(h)
        z = L.Flatten(name="f")(L.MaxPooling2D(2, name="p")(L.Add(name="s")([h, r])))
        return lib.Model(i, L.Dense(10, activation="softmax", name="o")(z))
    pmodel, kmodel = build(pycnn), build(keras)
    copy_weights(pmodel, kmodel)
    pmodel.compile(pycnn.optimizers.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    kmodel.compile(keras.optimizers.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    p_loss = pmodel.train_on_batch(x[:64], y[:64])
    k_loss = kmodel.train_on_batch(x[:64], y[:64])
    assert p_loss == pytest.approx(float(k_loss), rel=1e-5)
    for pl in pmodel.layers:
        for a, b in zip(pl.get_weights(), kmodel.get_layer(pl.name).get_weights()):
            assert np.max(np.abs(a - b)) < 1e-5, pl.name
    history = pmodel.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_summary_of_a_subclassed_model_is_keras_3s(keras):
    def build(lib):
        L = lib.layers

        class M(lib.Model):
            def __init__(self):
                super().__init__(name="m")
                self.a = L.Dense(4, name="a")
                self.b = L.Dense(2, name="b")
                self.d = L.Dropout(0.1, name="d")

            def call(self, x):
                return self.b(self.d(self.a(x)))
        model = M()
        model(np.zeros((3, 5), np.float32))
        return model
    lines, out = [], []
    build(pycnn).summary(print_fn=lines.append, line_length=88)
    build(keras).summary(print_fn=lambda s, line_break=None: out.append(s), line_length=88)
    assert "\n".join(lines) == out[0].rstrip("\n")
