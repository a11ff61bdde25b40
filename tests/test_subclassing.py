"""Subclassed models: class M(pycnn.Model) with __init__ and call(inputs, training=None);
attribute tracking, freezing, the training flag, saving, and the same network built
functionally giving identical predictions and gradients."""
import numpy as np
import pytest

import pycnn
from pycnn import layers
from pycnn.datasets import digits
from pycnn.layers import Dense, Dropout
from pycnn.models import load_model

pytestmark = pytest.mark.usefixtures("fresh_session")


class ResidualMLP(pycnn.Model):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.inp = Dense(units, activation="relu")
        self.block = [Dense(units, activation="relu"), Dense(units)]
        self.drop = Dropout(0.5)
        self.head = {"out": Dense(10, activation="softmax")}

    def call(self, x, training=None):
        h = self.inp(x)
        r = self.block[1](self.block[0](h))
        y = self.drop(layers.add([h, r]))       # training reaches Dropout from the context
        return self.head["out"](y)


def functional_twin(units=32):
    x = pycnn.Input((64,))
    h = Dense(units, activation="relu")(x)
    r = Dense(units)(Dense(units, activation="relu")(h))
    y = Dropout(0.5)(layers.add([h, r]))
    return pycnn.Model(x, Dense(10, activation="softmax")(y))


@pytest.fixture(scope="module")
def digit_data():
    (x, y), _ = digits.load_data(seed=0)
    return x.reshape(len(x), 64).astype(np.float32), y


def test_attributes_are_tracked_in_order_and_weights_appear_once():
    model = ResidualMLP()
    model(np.zeros((2, 64), np.float32))
    assert [l.name for l in model.layers] == ["dense_1", "dense_2", "dense_3", "dropout_1",
                                              "dense_4"]
    assert len(model.weights) == 8 and model.count_params() == (64 * 32 + 32) + 2 * (
        32 * 32 + 32) + 32 * 10 + 10
    assert model.built


def test_freezing_shows_in_weights_summary_and_fit(digit_data):
    x, y = digit_data
    model = ResidualMLP()
    model(x[:2])
    model.inp.trainable = False
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2
    frozen = model.inp.get_weights()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x[:64], y[:64], epochs=1, verbose=0)
    for a, b in zip(frozen, model.inp.get_weights()):
        np.testing.assert_array_equal(a, b)
    lines = []
    model.summary(print_fn=lines.append, line_length=88)
    assert any(line.startswith(" Non-trainable params: 2,080") for line in lines)
    assert any(line.startswith(" Trainable params: 2,442") for line in lines)


def test_training_flag_reaches_dropout(digit_data):
    x, _ = digit_data
    model = ResidualMLP()
    a = model(x[:4]).numpy()
    np.testing.assert_array_equal(a, model(x[:4], training=False).numpy())
    assert not np.allclose(a, model(x[:4], training=True).numpy())
    np.testing.assert_array_equal(model.predict(x[:4]), a)


def test_functional_and_subclassed_give_identical_predictions_and_gradients(digit_data):
    x, y = digit_data
    sub, fun = ResidualMLP(), functional_twin()
    sub(x[:2])
    assert [w.shape for w in sub.weights] == [w.shape for w in fun.weights]
    sub.set_weights(fun.get_weights())
    np.testing.assert_array_equal(sub.predict(x[:50]), fun.predict(x[:50]))
    grads = []
    for model in (sub, fun):
        for w in model.trainable_weights:
            w.grad = None
        loss = pycnn.losses.sparse_categorical_crossentropy(y[:50], model(x[:50]))
        loss.backward()
        grads.append([w.grad.numpy() for w in model.trainable_weights])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_subclassed_model_trains_saves_and_loads(digit_data, tmp_path):
    x, y = digit_data
    pycnn.set_seed(3)
    model = ResidualMLP(units=24)
    model.compile(pycnn.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.85
    model.save(tmp_path / "sub.pycnn")
    with pytest.raises(ValueError, match="unknown model class 'ResidualMLP'"):
        load_model(tmp_path / "sub.pycnn")
    loaded = load_model(tmp_path / "sub.pycnn", custom_objects={"ResidualMLP": ResidualMLP})
    assert isinstance(loaded, ResidualMLP) and loaded.block[0].units == 24
    np.testing.assert_array_equal(loaded.predict(x[:20]), model.predict(x[:20]))
    with pycnn.saving.custom_object_scope({"ResidualMLP": ResidualMLP}):
        again = pycnn.models.model_from_json(model.to_json())
    assert again.get_config() == model.get_config() and again.count_params() == \
        model.count_params()


def test_registered_class_resolves_by_its_registered_name(tmp_path):
    @pycnn.saving.register_keras_serializable(package="tests")
    class Tiny(pycnn.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = Dense(2)

        def call(self, x):
            return self.d(x)
    try:
        assert Tiny._registered_name == "tests>Tiny"
        assert pycnn.saving.get_custom_objects()["tests>Tiny"] is Tiny
        model = Tiny()
        data = np.ones((3, 4), np.float32)
        model(data)
        model.save(tmp_path / "t.pycnn")
        loaded = load_model(tmp_path / "t.pycnn")
        np.testing.assert_array_equal(loaded.predict(data), model.predict(data))
    finally:
        del pycnn.saving.get_custom_objects()["tests>Tiny"]


def test_subclass_without_call_and_build_by_shape():
    class NoCall(pycnn.Model):
        pass
    with pytest.raises(NotImplementedError, match="must define"):
        NoCall()(np.zeros((1, 2)))
    model = ResidualMLP()
    model.build((None, 64))
    assert len(model.weights) == 8 and model.count_params() > 0
