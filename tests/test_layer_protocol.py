"""The Layer protocol (pycnn/layers/base.py, csrc/py/layer_call.c): build once, weights
tracked once, add_weight, add_loss / losses, regularizers, the training flag, configs."""
import numpy as np
import pytest

import pycnn
from pycnn.layers import Dense, Dropout, Layer
from pycnn.models import Sequential, load_model


pytestmark = pytest.mark.usefixtures("fresh_session")


class Scale(Layer):
    """The issue's custom layer: y = x · alpha, one weight per feature, no
    compute_output_shape (it is inferred)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.build_calls = 0

    def build(self, input_shape):
        self.build_calls += 1
        self.alpha = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                     name="alpha")

    def call(self, x):
        return x * self.alpha


def test_custom_layer_lifecycle_regression(tmp_path):
    """build runs once; weights appear once; summary counts 64; built is set; save/load
    round-trips with custom_objects (the issue's bug report)."""
    scale = Scale()
    model = Sequential([Dense(64, input_shape=(8,)), scale])
    model.add(Dense(3))
    assert scale.build_calls == 1 and scale.built
    assert [(w.name, tuple(w.shape)) for w in scale.weights] == [("scale_1/alpha", (64,))]
    lines = []
    model.summary(print_fn=lines.append)
    row = next(line for line in lines if line.startswith("scale_1 (Scale)"))
    assert row.split()[-1] == "64" and "(None, 64)" in row
    assert model.count_params() == 8 * 64 + 64 + 64 + 64 * 3 + 3
    x = np.random.default_rng(0).standard_normal((10, 8)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((10, 3)).astype(np.float32)
    model.compile("sgd", "mse")
    before = scale.get_weights()[0].copy()
    model.fit(x, y, epochs=1, batch_size=5, verbose=0)
    assert scale.build_calls == 1
    assert not np.array_equal(before, scale.get_weights()[0])    # the one copy trains
    model.save(tmp_path / "m.pycnn")
    with pytest.raises(ValueError, match="unknown layer class 'Scale'"):
        load_model(tmp_path / "m.pycnn")
    loaded = load_model(tmp_path / "m.pycnn", custom_objects={"Scale": Scale})
    assert len(loaded.weights) == len(model.weights) == 5
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_build_by_hand_sets_built_and_is_not_repeated():
    layer = Scale()
    layer.build((None, 4))
    assert layer.built and layer.build_calls == 1
    layer(np.ones((2, 4), np.float32))
    assert layer.build_calls == 1 and len(layer.weights) == 1
    assert layer.compute_output_shape((None, 4)) == (None, 4)       # inferred by the probe


@pytest.mark.parametrize("make, shape", [
    (Scale, (None, 4)),
    (lambda: pycnn.layers.Conv1D(4, 3), (None, 11, 3)),
    (lambda: pycnn.layers.DepthwiseConv2D(3), (None, 7, 7, 3)),
    (lambda: pycnn.layers.SeparableConv2D(4, 3), (None, 7, 7, 3)),
    (lambda: pycnn.layers.Conv2D(4, 3), (None, 7, 7, 3)),
])
def test_a_second_build_by_hand_adds_no_weights(make, shape):
    layer = make()
    layer.build(shape)
    first = [w.name for w in layer.weights]
    layer.build(shape)
    assert [w.name for w in layer.weights] == first


def test_add_weight_keras_signature_and_names():
    class W(Layer):
        def build(self, input_shape):
            self.a = self.add_weight(shape=(2, 3), initializer="zeros", name="a")
            self.b = self.add_weight((3,), "ones", trainable=False, name="b")
            self.c = self.add_weight(name="c")           # Keras' default: a scalar
    layer = W()
    layer.build((None, 2))
    assert [w.name for w in layer.trainable_weights] == ["w_1/a", "w_1/c"]
    assert [w.name for w in layer.non_trainable_weights] == ["w_1/b"]
    assert layer.c.shape == () and layer.count_params() == 6 + 3 + 1
    np.testing.assert_array_equal(layer.b.numpy(), np.ones(3))


def test_add_loss_and_losses_are_those_of_the_last_call():
    class Penalized(Layer):
        def call(self, x):
            self.add_loss(pycnn.sum(x * x))
            return x
    layer = Penalized()
    layer(np.ones((2, 2)))
    assert [float(v.item()) for v in layer.losses] == [4.0]
    layer(np.full((1, 2), 3.0))
    assert [float(v.item()) for v in layer.losses] == [18.0]     # cleared by the new call


def test_regularizers_enter_losses_and_the_training_loss():
    def l2(w):
        return 0.5 * pycnn.sum(w * w)
    dense = Dense(3, kernel_regularizer=l2, bias_regularizer=l2, activity_regularizer=l2)
    x = np.random.default_rng(0).standard_normal((4, 5))
    y = dense(x)
    k, b = dense.kernel.numpy(), dense.bias.numpy()
    values = sorted(float(v.item()) for v in dense.losses)
    expected = sorted([0.5 * (y.numpy() ** 2).sum(), 0.5 * (k ** 2).sum(), 0.5 * (b ** 2).sum()])
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    # the training loss is the compiled loss plus model.losses
    model = Sequential([Dense(2, input_shape=(5,), kernel_regularizer=l2)])
    model.compile("sgd", "mse")
    t = np.zeros((4, 2))
    plain = float(pycnn.losses.mean_squared_error(t, model(x)).item())
    penalty = 0.5 * float((model.layers[0].kernel.numpy() ** 2).sum())
    assert model.train_on_batch(x, t) == pytest.approx(plain + penalty, rel=1e-5)


def test_training_flag_reaches_inner_layers_from_the_call_context():
    class Block(Layer):
        def __init__(self):
            super().__init__()
            self.drop = Dropout(0.5)

        def call(self, x):                     # no training argument: inherited
            return self.drop(x)
    block = Block()
    x = np.ones((200, 50), np.float32)
    assert np.array_equal(block(x).numpy(), x)
    assert not np.array_equal(block(x, training=True).numpy(), x)
    assert np.array_equal(block(x, training=False).numpy(), x)


def test_sublayers_and_attribute_weights_are_tracked_once():
    class Pair(Layer):
        def __init__(self):
            super().__init__()
            self.first = Dense(3)
            self.more = [Dense(2), {"x": Dense(1)}]
            self.shared = self.first

        def call(self, x):
            return self.more[1]["x"](self.more[0](self.shared(self.first(x))))
    pair = Pair()
    pair(np.ones((1, 3)))
    assert [w.name for w in pair.weights] == ["dense_1/kernel", "dense_1/bias", "dense_2/kernel",
                                              "dense_2/bias", "dense_3/kernel", "dense_3/bias"]
    pair.trainable = False
    assert pair.trainable_weights == [] and len(pair.non_trainable_weights) == 6
    assert not pair.first.trainable and not pair.more[1]["x"].trainable


def test_auto_config_and_from_config():
    class Gain(Layer):
        def __init__(self, gain=2.0, **kwargs):
            super().__init__(**kwargs)
            self.gain = gain

        def call(self, x):
            return x * self.gain
    g = Gain(3.0, name="g")
    config = g.get_config()
    assert config["gain"] == 3.0 and config["name"] == "g"
    h = Gain.from_config(config)
    assert h.gain == 3.0 and h.name == "g"

    class Bad(Layer):
        def __init__(self, fn, **kwargs):
            super().__init__(**kwargs)
            self.fn = fn
    with pytest.raises(NotImplementedError, match="not JSON-serializable; define get_config"):
        Bad(lambda v: v).get_config()


def test_symbolic_inputs_build_once_with_unknown_batch():
    scale = Scale()
    x = pycnn.Input((5,))
    y = scale(x)
    assert scale.build_calls == 1 and y.shape == (None, 5)
    y2 = scale(pycnn.Input((5,)))                 # a second call shares the weights
    assert scale.build_calls == 1 and len(scale.weights) == 1 and y2.shape == (None, 5)
    assert scale.output is y and len(scale.inbound_nodes) == 2


def test_add_weight_takes_initializer_objects_and_callables():
    class L(Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],),
                                     initializer=pycnn.initializers.Constant(0.5))
            self.v = self.add_weight((2,), initializer=lambda shape, dtype: np.full(shape, 3.0,
                                                                                   dtype))
    layer = L()
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.w.numpy(), [0.5] * 3)
    np.testing.assert_array_equal(layer.v.numpy(), [3.0, 3.0])
    with pytest.raises(ValueError, match="constraint"):
        layer.add_weight((1,), constraint=lambda w: w)


def test_guide_losses_reset_per_outer_call_and_fit_with_only_added_losses():
    """Keras' 'making new layers' guide: layer.losses holds the last call's; compile()
    without a loss trains on the added losses alone."""
    class ActivityRegularization(Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * pycnn.mean(inputs))
            return inputs

    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularization(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)
    layer = Outer()
    assert len(layer.losses) == 0
    layer(np.zeros((1, 1)))
    assert len(layer.losses) == 1
    layer(np.zeros((1, 1)))
    assert len(layer.losses) == 1
    inputs = pycnn.Input((3,))
    model = pycnn.Model(inputs, Dense(3)(ActivityRegularization()(inputs)))
    x, y = np.random.default_rng(0).random((2, 3)), np.random.default_rng(1).random((2, 3))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, verbose=0)
    model.compile(optimizer="adam")
    logs = model.fit(x, y, verbose=0).history
    expected = 1e-2 * float(x.mean())
    assert logs["loss"][0] == pytest.approx(expected, rel=1e-5)
    bare = pycnn.Model(inputs, Dense(2)(inputs))
    bare.compile("sgd")
    with pytest.raises(RuntimeError, match="compiled without a loss and adds none"):
        bare.fit(x, y[:, :2], verbose=0)
