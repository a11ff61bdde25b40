"""Sequential: the lecture's summary, compile/fit/evaluate/predict, Ctrl-C, configs."""
import os
import re
import signal

import numpy as np
import pytest

import pycnn
from pycnn.callbacks import LambdaCallback
from pycnn.datasets import digits
from pycnn.demo import digits_cnn
from pycnn.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from pycnn.models import Sequential
from pycnn.utils import to_categorical

LECTURE_SUMMARY = """\
Model: "sequential_1"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
dense_1 (Dense)              (None, 512)               401920    
_________________________________________________________________
dropout_1 (Dropout)          (None, 512)               0         
_________________________________________________________________
dense_2 (Dense)              (None, 512)               262656    
_________________________________________________________________
dropout_2 (Dropout)          (None, 512)               0         
_________________________________________________________________
dense_3 (Dense)              (None, 10)                5130      
=================================================================
Total params: 669,706
Trainable params: 669,706
Non-trainable params: 0
_________________________________________________________________"""


def lecture_model():
    """The lecture's code, unchanged but for its imports."""
    num_classes = 10
    model = Sequential()
    model.add(Dense(512, activation='relu', input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation='relu'))
    model.add(Dropout(0.2))
    model.add(Dense(num_classes, activation='softmax'))
    return model


@pytest.fixture(scope="module")
def digit_data():
    (x, y), (xt, yt) = digits.load_data(seed=0)
    return (x.reshape(len(x), 64), y), (xt.reshape(len(xt), 64), yt)


def small_mlp(hidden=32, activation="softmax"):
    return Sequential([Dense(hidden, activation="relu", input_shape=(64,)),
                       Dense(10, activation=activation)])

# ---- summary --------------------------------------------------------------------------


def test_lecture_summary_exactly(fresh_session, capsys):
    model = lecture_model()
    model.summary()
    assert capsys.readouterr().out == LECTURE_SUMMARY + "\n"
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == LECTURE_SUMMARY
    assert model.count_params() == 669706


def test_summary_of_unbuilt_model_raises(fresh_session):
    model = Sequential([Dense(4)])
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    with pytest.raises(ValueError, match="not built yet"):
        model.count_params()
    model.build((None, 3))
    assert model.count_params() == 16
    assert model.output_shape == (None, 4)


def test_summary_positions_and_line_length(fresh_session):
    model = lecture_model()
    lines = []
    model.summary(line_length=80, print_fn=lines.append)
    assert lines[1] == "_" * 80
    assert lines[4].startswith("dense_1 (Dense)") and len(lines[4]) == 80
    assert lines[4].index("(None, 512)") == 36          # int(0.45 · 80)


def test_summary_with_arithmetic(fresh_session):
    lines = []
    lecture_model().summary(print_fn=lines.append, show_arithmetic=True)
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Arithmetic"]
    assert lines[4].startswith("dense_1 (Dense)              (None, 512)               401920"
                               "    (784 + 1) · 512 = 401920")
    assert lines[6].rstrip() == "dropout_1 (Dropout)          (None, 512)               0"
    assert "(512 + 1) · 512 = 262656" in lines[8]
    assert "(512 + 1) · 10 = 5130" in lines[12]
    assert lines[-4:-1] == ["Total params: 669,706", "Trainable params: 669,706",
                            "Non-trainable params: 0"]
    assert len({len(line) for line in lines[1:14]}) == 1, "every row as wide as the rules"
    cnn = Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
                      MaxPooling2D((2, 2)), Flatten(), Dense(10, use_bias=False)])
    lines = []
    cnn.summary(print_fn=lines.append, show_arithmetic=True)
    assert lines[4].startswith("conv2d_1 (Conv2D)            (None, 26, 26, 32)        320"
                               "       (3·3·1 + 1) · 32 = 320")
    assert lines[6].startswith("max_pooling2d_1 (MaxPooling2 (None, 13, 13, 32)        0 ")
    assert "5408 · 10 = 54080" in lines[10]


def test_jupyter_html_table(fresh_session):
    html = lecture_model()._repr_html_()
    assert html.count("<tr>") == 6                      # header + 5 layers
    assert "<td style='text-align:left'>dense_1 (Dense)</td>" in html
    assert "(784 + 1) · 512 = 401920" in html
    assert "Total params: 669,706" in html
    assert "not built yet" in Sequential([Dense(3)])._repr_html_()

# ---- the stack -------------------------------------------------------------------------


def test_add_pop_get_layer_and_names(fresh_session):
    model = Sequential(name="mine")
    assert model.name == "mine" and model.layers == []
    assert Sequential().name == "sequential_1"
    dense = Dense(8, input_shape=(3,))
    model.add(dense)
    model.add(Dense(2))
    assert model.built and model.output_shape == (None, 2)
    assert model.get_layer("dense_1") is dense and model.get_layer(index=-1).name == "dense_2"
    assert model.pop().name == "dense_2"
    assert model.output_shape == (None, 8)
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")
    with pytest.raises(TypeError, match="expected a layer .* got int"):
        model.add(3)
    with pytest.raises(ValueError, match="already has a layer named 'dense_1'"):
        model.add(dense)
    with pytest.raises(IndexError):
        Sequential().pop()


def test_input_shape_from_first_call(fresh_session, rng):
    model = Sequential([Dense(5, activation="relu"), Dense(2)])
    assert not model.built
    out = model.predict(rng.standard_normal((7, 3)))
    assert out.shape == (7, 2) and out.dtype == np.float32
    assert model.input_shape == (None, 3)
    assert [w.shape for w in model.get_weights()] == [(3, 5), (5,), (5, 2), (2,)]


def test_weights_and_config_round_trip(fresh_session, rng):
    model = small_mlp()
    x = rng.standard_normal((4, 64)).astype(np.float32)
    clone = Sequential.from_config(model.get_config())
    assert [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))
    with pytest.raises(ValueError, match="has 4 weight arrays but 3 were given"):
        clone.set_weights(model.get_weights()[:3])
    with pytest.raises(ValueError, match="unknown layer class 'Nope'"):
        Sequential.from_config({"layers": [{"class_name": "Nope", "config": {}}]})

# ---- compile / fit / evaluate / predict -------------------------------------------------


def test_fit_before_compile_raises(fresh_session, digit_data):
    (x, y), _ = digit_data
    with pytest.raises(RuntimeError, match="must compile your model before training"):
        small_mlp().fit(x, y)
    with pytest.raises(RuntimeError, match="must compile"):
        small_mlp().evaluate(x, y)


def test_fit_reaches_the_target_on_the_digits(fresh_session, digit_data):
    """The demo's MLP: ≥ 95 % test accuracy, the loss going down."""
    (x, y), (xt, yt) = digit_data
    pycnn.set_seed(7)
    model = Sequential([Dense(256, activation="relu", input_shape=(64,)), Dropout(0.2),
                        Dense(10, activation="softmax")])
    model.compile(optimizer=pycnn.optimizers.Adam(0.002), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, to_categorical(y), epochs=40, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    assert losses[-1] < losses[len(losses) // 2] < losses[0]
    loss, accuracy = model.evaluate(xt, to_categorical(yt), verbose=0)
    assert accuracy >= 0.95
    assert model.evaluate(xt, to_categorical(yt), verbose=0, return_dict=True) == {
        "loss": loss, "accuracy": accuracy}


def test_cnn_reaches_the_target_on_the_digits(fresh_session):
    """The demo's CNN (Conv2D → MaxPooling2D → Conv2D → MaxPooling2D → Flatten → Dense):
    ≥ 97 % test accuracy."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    (x, y), (xt, yt) = digits.load_data(seed=0)
    pycnn.set_seed(7)
    model = digits_cnn()
    assert model.output_shape == (None, 10)
    assert [s for s in model._output_shapes] == [(None, 8, 8, 32), (None, 4, 4, 32),
                                                 (None, 4, 4, 64), (None, 2, 2, 64),
                                                 (None, 256), (None, 10)]
    model.compile(optimizer=pycnn.optimizers.Adam(0.003),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with threadpoolctl.threadpool_limits(1, user_api="blas"):     # small matrices
        history = model.fit(x[..., None], y, epochs=30, verbose=0)
        loss, accuracy = model.evaluate(xt[..., None], yt, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    assert accuracy >= 0.97


def test_seeded_fits_are_identical(fresh_session, digit_data):
    (x, y), _ = digit_data

    def run():
        pycnn.set_seed(3)
        model = Sequential([Dense(16, activation="relu", input_shape=(64,)), Dropout(0.3),
                            Dense(10, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model.fit(x[:200], y[:200], epochs=2, verbose=0).history, model.get_weights()
    (h1, w1), (h2, w2) = run(), run()
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_history_validation_and_initial_epoch(fresh_session, digit_data):
    (x, y), (xt, yt) = digit_data
    model = small_mlp()
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    history = model.fit(x[:300], y[:300], batch_size=64, epochs=4, initial_epoch=1,
                        validation_data=(xt[:50], yt[:50]), verbose=0)
    assert history is model.history
    assert history.epoch == [1, 2, 3]
    assert list(history.history) == ["loss", "sparse_categorical_accuracy", "val_loss",
                                     "val_sparse_categorical_accuracy"]
    assert model.metrics_names == ["loss", "sparse_categorical_accuracy"]
    # the last validation value is what evaluate says about the same data
    val = model.evaluate(xt[:50], yt[:50], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][-1], val[0], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_sparse_categorical_accuracy"][-1], val[1])


def test_validation_split_takes_the_last_samples(fresh_session, digit_data):
    (x, y), _ = digit_data
    model = small_mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    seen = []
    model.fit(x[:100], y[:100], batch_size=100, epochs=1, validation_split=0.2, verbose=0,
              callbacks=[LambdaCallback(on_batch_begin=lambda b, logs: seen.append(b))])
    val_loss = model.evaluate(x[80:100], y[80:100], verbose=0)
    assert model.history.history["val_loss"] == [pytest.approx(val_loss, rel=1e-6)]
    assert seen == [0], "80 training samples in one batch of 100"
    with pytest.raises(ValueError, match="validation_split must be in \\[0, 1\\), got 1.5"):
        model.fit(x, y, validation_split=1.5)
    with pytest.raises(ValueError, match="x has 100 samples but y has 99"):
        model.fit(x[:100], y[:99])
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        model.fit(x, y, batch_size=0)
    before = model.get_weights()
    with pytest.raises(ValueError, match="y_true shape \\(2, 10\\) does not"):
        model.fit(x[:100], y[:100], validation_data=(x[:5], to_categorical(y[:5], 10)))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_accuracy_follows_the_loss(fresh_session, digit_data):
    (x, y), _ = digit_data
    model = small_mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = model.train_on_batch(x[:64], y[:64], return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    y_pred = model.predict(x[:64])
    assert model.test_on_batch(x[:64], y[:64])[1] == pytest.approx(
        np.mean(np.argmax(y_pred, 1) == y[:64]))
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    assert model.test_on_batch(x[:64], to_categorical(y[:64], 10))[1] == pytest.approx(
        np.mean(np.argmax(y_pred, 1) == y[:64]))


def test_evaluate_predict_and_batch_methods_shapes(fresh_session, digit_data):
    (x, y), _ = digit_data
    model = small_mlp()
    model.compile("rmsprop", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x[:70], y[:70], batch_size=32, verbose=0), float)
    assert model.predict(x[:70], batch_size=32).shape == (70, 10)
    assert model.predict(x[:0]).shape == (0, 10)
    assert model.predict_on_batch(x[:5]).shape == (5, 10)
    before = model.get_weights()
    loss = model.train_on_batch(x[:32], y[:32])
    assert isinstance(loss, float)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    after = model.get_weights()
    model.test_on_batch(x[:32], y[:32])
    model.predict(x[:32])
    for a, b in zip(after, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_softmax_output_uses_the_fused_logits_loss(fresh_session, rng):
    model = small_mlp()
    model.compile("sgd", "categorical_crossentropy")
    x = rng.standard_normal((6, 64)).astype(np.float32)
    y = to_categorical(rng.integers(0, 10, 6), 10)
    y_pred = model(x, training=True)
    loss = model._compute_loss(y, y_pred)
    assert loss.op == "categorical_crossentropy_from_logits"
    plain = pycnn.losses.categorical_crossentropy(y, y_pred)
    assert loss.item() == pytest.approx(plain.item(), rel=1e-5)
    # not a softmax output, or a loss on logits already: left as it is
    model2 = small_mlp(activation="sigmoid")
    model2.compile("sgd", pycnn.losses.BinaryCrossentropy())
    assert model2._compute_loss(np.ones((6, 10)), model2(x, training=True)).op \
        == "binary_crossentropy"
    model.compile("sgd", pycnn.losses.SparseCategoricalCrossentropy(ignore_index=3))
    loss = model._compute_loss(np.arange(6), model(x, training=True))
    assert loss.op == "sparse_categorical_crossentropy_from_logits"


def test_fit_output_verbose_1_and_2(fresh_session, digit_data, capsys):
    (x, y), _ = digit_data
    model = small_mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:100], y[:100], batch_size=10, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("Epoch 1/2\n")
    assert re.search(r"^10/10 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - "
                     r"accuracy: \d\.\d{4}$", out, re.M), out
    model.fit(x[:100], y[:100], batch_size=10, epochs=1, verbose=2, validation_split=0.2)
    out = capsys.readouterr().out
    assert re.search(r"^8/8 - \d+s - \d+(us|ms|s)/step - loss: \d\.\d{4} - accuracy: "
                     r"\d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$",
                     out, re.M), out
    model.evaluate(x[:100], y[:100], batch_size=25, verbose=1)
    assert re.fullmatch(r"4/4 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - "
                        r"accuracy: \d\.\d{4}\n", capsys.readouterr().out)
    model.fit(x[:100], y[:100], epochs=1, verbose=0)
    model.evaluate(x[:10], y[:10], verbose=0)
    assert capsys.readouterr().out == ""

# ---- Ctrl-C -----------------------------------------------------------------------------


def interrupting_fit(model, x, y, at_epoch, at_batch, interrupt):
    """Fit 5 epochs of 4 batches; at (at_epoch, at_batch) `interrupt` is called after
    the batch's step. Returns (history, the weights right after that batch)."""
    state = {"epoch": None, "weights": None}

    def on_batch_end(batch, logs):
        if state["epoch"] == at_epoch and batch == at_batch:
            state["weights"] = model.get_weights()
            interrupt()
    cb = LambdaCallback(on_epoch_begin=lambda epoch, logs: state.update(epoch=epoch),
                        on_train_batch_end=on_batch_end)
    history = model.fit(x, y, batch_size=25, epochs=5, verbose=0, callbacks=[cb])
    return history, state["weights"]


def compiled_mlp():
    model = small_mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_keyboard_interrupt_from_a_callback_stops_after_the_batch(fresh_session, digit_data):
    (x, y), _ = digit_data
    model = compiled_mlp()

    def ctrl_c():
        raise KeyboardInterrupt
    history, weights = interrupting_fit(model, x[:100], y[:100], 2, 1, ctrl_c)
    assert history.epoch == [0, 1], "two finished epochs"
    assert len(history.history["loss"]) == 2
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 2 * 4 + 2


def test_sigint_finishes_the_batch_then_stops(fresh_session, digit_data, capsys):
    (x, y), _ = digit_data
    model = compiled_mlp()
    history, weights = interrupting_fit(model, x[:100], y[:100], 1, 2,
                                        lambda: os.kill(os.getpid(), signal.SIGINT))
    assert history.epoch == [0]
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 4 + 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, \
        "fit restores the previous SIGINT handler"


def test_interrupt_message_with_verbose(fresh_session, digit_data, capsys):
    (x, y), _ = digit_data
    model = compiled_mlp()

    def stop(batch, logs):
        if batch == 1:
            raise KeyboardInterrupt
    model.fit(x[:100], y[:100], batch_size=25, epochs=3, verbose=1,
              callbacks=[LambdaCallback(on_train_batch_end=stop)])
    out = capsys.readouterr().out
    assert "Interrupted after batch 2/4 of epoch 1/3" in out
    assert "holds 0 finished epoch(s)" in out
    model.fit(x[:100], y[:100], batch_size=25, epochs=3, verbose=1,
              callbacks=[LambdaCallback(on_batch_begin=stop)])
    assert "Interrupted after batch 1/4 of epoch 1/3" in capsys.readouterr().out


def test_to_categorical():
    np.testing.assert_array_equal(to_categorical([1, 0, 2]), np.eye(3)[[1, 0, 2]])
    assert to_categorical([[1], [3]], 5).shape == (2, 5)
    assert to_categorical(np.zeros((2, 3), int), 4).shape == (2, 3, 4)
    assert to_categorical([1], 2).dtype == np.float32
    with pytest.raises(ValueError, match="class indices must be in \\[0, 3\\), got values "
                                         "from 0 to 3"):
        to_categorical([0, 3], 3)
    with pytest.raises(ValueError, match="integer class indices"):
        to_categorical([0.5])


# ---- Sequential on the graph of layers ----------------------------------------------------

def test_sequential_with_input_first_is_a_graph_with_one_path(fresh_session):
    model = Sequential([pycnn.Input((28, 28, 1)), Conv2D(4, 3, activation="relu"),
                        MaxPooling2D(2), Flatten(), Dense(10, activation="softmax")])
    assert model.built and model.input_shape == (None, 28, 28, 1)
    assert [l.name for l in model.layers] == ["conv2d_1", "max_pooling2d_1", "flatten_1",
                                              "dense_1"]          # no InputLayer, as Keras
    assert model._output_shapes == [(None, 26, 26, 4), (None, 13, 13, 4), (None, 676),
                                    (None, 10)]
    assert [n.operation.name for n in model._nodes] == ["input_layer_1", "conv2d_1",
                                                        "max_pooling2d_1", "flatten_1",
                                                        "dense_1"]
    assert model.inputs[0].shape == (None, 28, 28, 1) and model.outputs[0].shape == (None, 10)
    assert model.layers[1].input is model.layers[0].output
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[3] == "=" * 65 and lines[4].startswith("conv2d_1 (Conv2D)            (None, 26, ")


def test_sequential_builds_on_first_call_and_rebuilds_on_add_and_pop(fresh_session):
    model = Sequential([Dense(4), Dense(2)])
    assert not model.built and model.inputs is None
    y = model(np.ones((3, 5), np.float32))
    assert y.shape == (3, 2) and model.built and model.input_shape == (None, 5)
    first = model.layers[0]
    model.add(Dense(7))
    assert model.output_shape == (None, 7) and len(first.inbound_nodes) == 1
    assert model.predict(np.ones((2, 5))).shape == (2, 7)
    popped = model.pop()
    assert popped.name == "dense_3" and model.output_shape == (None, 2)
    assert model.layers[-1].output is model.outputs[0]
    with pytest.raises(ValueError, match="InputLayer can only come first"):
        model.add(pycnn.layers.InputLayer(shape=(5,)))


def test_sequential_config_with_an_input_round_trips(fresh_session):
    model = Sequential([pycnn.Input((6,)), Dense(3)])
    config = model.get_config()
    assert config["build_input_shape"] == [None, 6]
    clone = Sequential.from_config(config)
    assert clone.built and clone.input_shape == (None, 6) and clone.count_params() == 21
