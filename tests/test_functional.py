"""The functional API and the graph of layers (pycnn/models/graph.py, functional.py,
model.py): Input, Model(inputs, outputs), several inputs and outputs, shared layers,
nested models, feature extraction, training and saving, bad graphs."""
import json

import numpy as np
import pytest

import pycnn
from pycnn import layers
from pycnn.datasets import digits
from pycnn.layers import Dense
from pycnn.models import Sequential, clone_model, load_model, model_from_json


pytestmark = pytest.mark.usefixtures("fresh_session")


@pytest.fixture(scope="module")
def digit_data():
    (x, y), _ = digits.load_data(seed=0)
    return x.reshape(len(x), 64).astype(np.float32), y


def two_in_two_out():
    a = pycnn.Input((64,), name="pixels")
    b = pycnn.Input((4,), name="extra")
    h = Dense(32, activation="relu", name="hidden")(a)
    joined = layers.concatenate([h, b], name="joined")
    digit = Dense(10, activation="softmax", name="digit")(joined)
    big = Dense(1, activation="sigmoid", name="big")(joined)
    return pycnn.Model([a, b], [digit, big], name="two")


def residual_mlp(units=32):
    x = pycnn.Input((64,))
    h = Dense(units, activation="relu")(x)
    r = Dense(units, activation="relu")(h)
    r = Dense(units)(r)
    y = layers.add([h, r])
    return pycnn.Model(x, Dense(10, activation="softmax")(y))


def test_input_is_symbolic_with_batch_none():
    x = pycnn.Input((28, 28, 1), name="img")
    assert isinstance(x, pycnn.models.KerasTensor)
    assert x.shape == (None, 28, 28, 1) and x.dtype == "float32" and x.ndim == 4
    assert pycnn.Input((3,), batch_size=8).shape == (8, 3)
    assert pycnn.Input((3,), dtype="float64").dtype == "float64"
    history = x._keras_history
    assert type(history.operation).__name__ == "InputLayer" and history.operation.name == "img"
    assert (history.node_index, history.tensor_index) == (0, 0)
    with pytest.raises(TypeError, match="no truth value"):
        bool(x)


def test_graph_structure_nodes_and_layer_input_output():
    model = two_in_two_out()
    names = [layer.name for layer in model.layers]
    assert names == ["pixels", "hidden", "extra", "joined", "digit", "big"]
    assert [n.operation.name for n in model._nodes][-2:] == ["digit", "big"]
    hidden = model.get_layer("hidden")
    assert hidden.input is model.inputs[0] and hidden.output.shape == (None, 32)
    assert model.get_layer(index=3).name == "joined"
    assert model.get_layer("joined").output.shape == (None, 36)
    assert model.output_names == ["digit", "big"] and model.input_names == ["pixels", "extra"]
    node = model.get_layer("joined").inbound_nodes[0]
    assert [p.operation.name for p in node.parent_nodes] == ["hidden", "extra"]
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")


def test_multi_input_multi_output_fit_evaluate_predict_save(digit_data, tmp_path):
    x, y = digit_data
    extra = np.random.default_rng(0).standard_normal((len(x), 4)).astype(np.float32)
    big = (y >= 5).astype(np.float32).reshape(-1, 1)
    pycnn.set_seed(0)
    model = two_in_two_out()
    model.compile(pycnn.optimizers.Adam(learning_rate=0.01),
                  loss={"digit": "sparse_categorical_crossentropy",
                                "big": "binary_crossentropy"},
                  loss_weights={"digit": 1.0, "big": 0.5},
                  metrics={"digit": ["accuracy"], "big": ["accuracy"]})
    history = model.fit({"pixels": x, "extra": extra}, {"digit": y, "big": big}, epochs=3,
                        batch_size=32, verbose=0, validation_split=0.2)
    keys = set(history.history)
    assert {"loss", "digit_loss", "big_loss", "digit_accuracy", "big_accuracy",
            "val_loss", "val_digit_accuracy"} <= keys
    assert history.history["digit_accuracy"][-1] > 0.8
    logs = model.evaluate([x, extra], [y, big], verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["digit_loss"] + 0.5 * logs["big_loss"],
                               rtol=1e-5)
    assert len(model.train_on_batch([x[:8], extra[:8]], [y[:8], big[:8]])) == 5
    digit, p_big = model.predict([x[:7], extra[:7]])
    assert digit.shape == (7, 10) and p_big.shape == (7, 1)
    out = model.predict_on_batch([x[:3], extra[:3]])
    # float32 through BLAS with 3 rows instead of 7: OpenBLAS may take another kernel
    # (seen: 2e-6 relative on AVX-512), so equal to float32 rounding, not bit for bit
    np.testing.assert_allclose(out[0], digit[:3], rtol=1e-5, atol=1e-9)
    model.save(tmp_path / "two.pycnn")
    loaded = load_model(tmp_path / "two.pycnn")
    for a, b in zip(loaded.predict([x[:7], extra[:7]]), (digit, p_big)):
        np.testing.assert_array_equal(a, b)
    assert loaded.loss_weights == {"digit": 1.0, "big": 0.5}
    loaded.fit([x[:64], extra[:64]], [y[:64], big[:64]], epochs=1, verbose=0)


def test_losses_as_a_list_and_one_loss_for_every_output(digit_data):
    x, y = digit_data
    a = pycnn.Input((64,))
    h = Dense(16, activation="relu")(a)
    model = pycnn.Model(a, [Dense(10)(h), Dense(10)(h)])
    model.compile("sgd", loss="mse")
    target = np.eye(10, dtype=np.float32)[y[:32]]
    total = model.test_on_batch(x[:32], [target, target])
    assert len(total) == 3 and total[0] == pytest.approx(total[1] + total[2], rel=1e-6)
    model.compile("sgd", loss=["mse", "mse"], loss_weights=[2.0, 0.0])
    total = model.test_on_batch(x[:32], [target, target])
    assert total[0] == pytest.approx(2.0 * total[1], rel=1e-6)


def test_residual_block_trains_on_digits(digit_data):
    x, y = digit_data
    pycnn.set_seed(1)
    model = residual_mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_shared_layer_shares_weights_and_gets_both_gradients():
    shared = Dense(3, name="shared")
    a, b = pycnn.Input((4,)), pycnn.Input((4,))
    model = pycnn.Model([a, b], layers.add([shared(a), shared(b)]))
    assert len(model.weights) == 2 and len(shared.inbound_nodes) == 2
    xa, xb = np.ones((2, 4)), np.full((2, 4), 2.0)
    y = model([pycnn.tensor(xa, dtype="float32"), pycnn.tensor(xb, dtype="float32")])
    pycnn.sum(y).backward()
    np.testing.assert_allclose(shared.kernel.grad.numpy(), np.full((4, 3), 6.0))


def test_nested_models_and_feature_extraction():
    inner = Sequential([Dense(8, activation="relu", input_shape=(5,)), Dense(4)], name="inner")
    x = pycnn.Input((5,))
    model = pycnn.Model(x, Dense(2)(inner(x)))
    assert [l.name for l in model.layers] == ["input_layer_2", "inner", "dense_3"]
    assert model.count_params() == inner.count_params() + 4 * 2 + 2
    data = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(model.predict(data),
                               model.layers[2](inner.predict(data)).numpy(), rtol=1e-6)
    # feature extraction: every layer's output of a functional model
    base = residual_mlp()
    extractor = pycnn.Model(base.inputs, [l.output for l in base.layers])
    features = extractor.predict(np.zeros((2, 64), np.float32))
    assert [f.shape for f in features] == [(2, 64), (2, 32), (2, 32), (2, 32), (2, 32), (2, 10)]
    # ... and of a Sequential
    seq = Sequential([pycnn.Input((5,)), Dense(3), Dense(2)])
    feats = pycnn.Model(seq.inputs, [l.output for l in seq.layers]).predict(data)
    assert [f.shape for f in feats] == [(3, 3), (3, 2)]
    np.testing.assert_allclose(feats[1], seq.predict(data), rtol=1e-6)


def test_dict_inputs_and_outputs():
    a, b = pycnn.Input((2,), name="a"), pycnn.Input((2,), name="b")
    model = pycnn.Model({"a": a, "b": b}, {"sum": layers.add([a, b]), "prod": a * b})
    out = model({"a": np.ones((1, 2), np.float32), "b": np.full((1, 2), 3.0, np.float32)})
    assert set(out) == {"sum", "prod"}
    np.testing.assert_array_equal(out["sum"].numpy(), [[4.0, 4.0]])
    np.testing.assert_array_equal(out["prod"].numpy(), [[3.0, 3.0]])
    pred = model.predict({"a": np.ones((3, 2)), "b": np.ones((3, 2))})
    assert set(pred) == {"sum", "prod"} and pred["sum"].shape == (3, 2)


def test_config_json_clone_round_trip():
    model = two_in_two_out()
    config = model.get_config()
    json.dumps(config)
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == [["pixels", 0, 0], ["extra", 0, 0]]
    joined = next(e for e in config["layers"] if e["name"] == "joined")
    assert [a["config"]["keras_history"] for a in joined["inbound_nodes"][0]["args"][0]] == \
        [["hidden", 0, 0], ["extra", 0, 0]]
    again = model_from_json(model.to_json())
    assert again.get_config() == config
    clone = clone_model(model)
    assert clone.get_config() == config and clone.weights[0] is not model.weights[0]
    clone.set_weights(model.get_weights())
    data = [np.ones((2, 64), np.float32), np.ones((2, 4), np.float32)]
    for a, b in zip(clone.predict(data), model.predict(data)):
        np.testing.assert_array_equal(a, b)


def test_shared_layer_config_round_trip():
    shared = Dense(3, name="shared")
    a, b = pycnn.Input((4,), name="a"), pycnn.Input((4,), name="b")
    model = pycnn.Model([a, b], layers.concatenate([shared(b), shared(a)]))
    clone = clone_model(model)
    assert len(clone.get_layer("shared").inbound_nodes) == 2
    assert clone.get_config() == model.get_config()


# ---- bad graphs: ValueError naming layers and shapes, when the model is built ---------------

def test_shape_mismatch_at_a_merge_names_layers_and_shapes():
    x = pycnn.Input((8,))
    a, b = Dense(4, name="left")(x), Dense(5, name="right")(x)
    with pytest.raises(ValueError, match=r"layer 'add_1' \(Add\) called on left \(None, 4\), "
                                         r"right \(None, 5\).*same shape"):
        layers.Add()([a, b])
    with pytest.raises(ValueError, match=r"concatenate_1.*\(None, 2, 4\), \(None, 3, 5\)"):
        layers.concatenate([pycnn.Input((2, 4)), pycnn.Input((3, 5))])


def test_layer_called_on_incompatible_input():
    dense = Dense(3, name="d")
    dense(pycnn.Input((4,)))
    with pytest.raises(ValueError, match=r"'d' \(Dense\) called on input_layer_2 \(None, 5\)"):
        dense(pycnn.Input((5,)))
    with pytest.raises(ValueError, match=r"conv.*\(None, 8\)"):
        layers.Conv2D(2, 3, name="conv")(pycnn.Input((8,)))


def test_disconnected_graph():
    a, b = pycnn.Input((3,), name="a"), pycnn.Input((3,), name="b")
    y = layers.add([Dense(3, name="da")(a), Dense(3, name="db")(b)], name="both")
    with pytest.raises(ValueError, match=r"Graph disconnected.*tensor b \(None, 3\).*'db'.*"
                                         r"inputs \(a \(None, 3\)\)"):
        pycnn.Model(a, y)


def test_duplicate_names():
    x = pycnn.Input((3,))
    y = Dense(3, name="same")(Dense(3, name="same")(x))
    with pytest.raises(ValueError, match="name 'same' is used by two layers"):
        pycnn.Model(x, y)


def test_cycle_a_model_containing_itself():
    x = pycnn.Input((3,))
    model = pycnn.Model(x, Dense(3)(x))
    y = model(x)
    with pytest.raises(ValueError, match="cannot contain itself"):
        model._set_graph(x, y)


def test_cycle_in_nodes_is_detected():
    from pycnn.models.graph import Node, map_graph
    x = pycnn.Input((3,))
    d = Dense(3, name="loop")
    y = d(x)
    node = y.node
    node.input_tensors.append(y)              # y now feeds the node that makes it
    with pytest.raises(ValueError, match=r"keras_tensor_\d+ \(None, 3\) from layer 'loop' is "
                                         r"part of a cycle"):
        map_graph([x], [y])
    assert Node                              # the structure is public


def test_model_inputs_must_come_from_input():
    x = pycnn.Input((3,))
    h = Dense(3)(x)
    with pytest.raises(ValueError, match="must come from pycnn.Input"):
        pycnn.Model(h, Dense(2)(h))
    with pytest.raises(TypeError, match="symbolic tensors"):
        pycnn.Model(x, np.zeros(3))


def test_training_given_at_a_call_is_kept_in_the_node_and_its_config():
    x = pycnn.Input((200,))
    model = pycnn.Model(x, layers.Dropout(0.5)(x, training=True))
    data = np.ones((4, 200), np.float32)
    assert (model.predict(data) == 0).any()               # dropout even in predict
    entry = model.get_config()["layers"][1]
    assert entry["inbound_nodes"][0]["kwargs"] == {"training": True}
    assert (clone_model(model).predict(data) == 0).any()


def test_a_subclass_may_build_its_graph_in_init():
    class Wrapped(pycnn.Model):
        def __init__(self, **kwargs):
            x = pycnn.Input((4,))
            super().__init__(x, Dense(2)(x), **kwargs)
    model = Wrapped()
    assert model.predict(np.ones((3, 4))).shape == (3, 2) and len(model.weights) == 2


def test_validation_split_keeps_the_arrays_shapes_and_from_config(digit_data):
    x, y = digit_data
    model = residual_mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:100], y[:100], epochs=1, batch_size=50, verbose=0,
                        validation_split=0.2)
    expected = model.evaluate(x[80:100], y[80:100], verbose=0)
    np.testing.assert_allclose([history.history["val_loss"][0],
                                history.history["val_accuracy"][0]], expected, rtol=1e-6)
    again = pycnn.Model.from_config(model.get_config())        # Keras' spelling
    assert type(again).__name__ == "Functional" and again.count_params() == model.count_params()
    assert model.input_shape == (None, 64) and model.output_shape == (None, 10)
    assert two_in_two_out().output_shape == [(None, 10), (None, 1)]


def test_jupyter_repr_of_graph_models():
    html = residual_mlp()._repr_html_()
    assert html.startswith("<pre") and "Connected to" in html and "add_1 (Add)" in html
