"""Callbacks (History, EarlyStopping, ModelCheckpoint, LambdaCallback) and the progress
bar, in a terminal, a pipe and a Jupyter kernel."""
import io
import re
import os

import numpy as np
import pytest

import pycnn
from pycnn.callbacks import (Callback, EarlyStopping, History, LambdaCallback,
                             ModelCheckpoint)
from pycnn.datasets import digits
from pycnn.layers import Dense
from pycnn.models import Sequential, load_model
from pycnn.progbar import Progbar

from helpers import notebook_client


@pytest.fixture(scope="module")
def data():
    (x, y), _ = digits.load_data(seed=0)
    return x[:120].reshape(120, 64), y[:120]


def model_for(data):
    model = Sequential([Dense(16, activation="relu", input_shape=(64,)),
                        Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def scripted(key, values):
    """A callback that puts values[epoch] into the epoch's logs under key (so the
    callbacks after it see a value we chose)."""
    return LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update({key: values[epoch]}))


def recorder(model, store):
    return LambdaCallback(on_epoch_end=lambda epoch, logs: store.append(model.get_weights()))


def test_lambda_callback_hooks_and_order(data):
    x, y = data
    model = model_for(data)
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_batch_begin=lambda batch, logs: calls.append(f"batch_begin {batch}"),
        on_batch_end=lambda batch, logs: calls.append(f"batch_end {batch} {sorted(logs)}"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("train_end"))
    model.fit(x, y, batch_size=60, epochs=2, verbose=0, callbacks=[cb])
    assert calls == ["train_begin",
                     "epoch_begin 0", "batch_begin 0", "batch_end 0 ['accuracy', 'loss']",
                     "batch_begin 1", "batch_end 1 ['accuracy', 'loss']",
                     "epoch_end 0 ['accuracy', 'loss']",
                     "epoch_begin 1", "batch_begin 0", "batch_end 0 ['accuracy', 'loss']",
                     "batch_begin 1", "batch_end 1 ['accuracy', 'loss']",
                     "epoch_end 1 ['accuracy', 'loss']", "train_end"]
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="expected Callback instances, got builtin_function_or_method"):
        model.fit(x, y, verbose=0, callbacks=[print])


def test_callback_sees_model_and_params(data):
    x, y = data
    model = model_for(data)
    seen = {}

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            seen.update(model=self.model, params=dict(self.params))
    model.fit(x, y, batch_size=50, epochs=3, verbose=0, callbacks=[Spy()])
    assert seen["model"] is model
    assert seen["params"] == {"epochs": 3, "steps": 3, "verbose": 0, "batch_size": 50}


def test_history_records_each_epoch_and_plots(data):
    import matplotlib
    matplotlib.use("Agg")
    x, y = data
    model = model_for(data)
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25)
    assert isinstance(history, History) and history.epoch == [0, 1, 2]
    assert {k: len(v) for k, v in history.history.items()} == {
        "loss": 3, "accuracy": 3, "val_loss": 3, "val_accuracy": 3}
    axes = history.plot()
    fig = axes[0].figure
    assert list(fig.axes) == list(axes)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["loss", "val_loss"]
    np.testing.assert_allclose(fig.axes[1].get_lines()[1].get_ydata(),
                               history.history["val_accuracy"])
    with pytest.raises(ValueError, match="no metric 'auc'"):
        history.plot(["auc"])
    with pytest.raises(ValueError, match="nothing recorded yet"):
        History().plot()


def test_early_stopping_patience_and_restore(data):
    x, y = data
    model = model_for(data)
    weights = []
    stop = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    scores = [1.0, 0.5, 0.6, 0.7, 0.4, 0.3]
    history = model.fit(x, y, epochs=6, verbose=0,
                        callbacks=[scripted("score", scores), recorder(model, weights), stop])
    # best at epoch 1; epochs 2 and 3 do not improve: patience 2 is used up at epoch 3
    assert history.epoch == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best == 0.5 and stop.best_epoch == 1
    for a, b in zip(weights[1], model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.stop_training
    # no early stop, but the best weights still come back at the end (Keras 3)
    weights.clear()
    keep_best = EarlyStopping(monitor="score", patience=10, restore_best_weights=True)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[scripted("score", [0.3, 0.1, 0.2]),
                                                     recorder(model, weights), keep_best])
    assert keep_best.stopped_epoch == 0
    for a, b in zip(weights[1], model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_modes_and_min_delta(data):
    x, y = data
    model = model_for(data)
    stop = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.05)
    history = model.fit(x, y, epochs=5, verbose=0,
                        callbacks=[scripted("val_accuracy", [0.5, 0.53, 0.6, 0.61, 0.9]), stop])
    # 'acc' in the name: maximised; +0.03 is below min_delta, so epoch 1 already stops
    assert history.epoch == [0, 1] and stop.best == 0.5
    model = model_for(data)
    without_restore = EarlyStopping(monitor="loss", patience=0)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[scripted("loss", [1, 2, 3]),
                                                     without_restore])
    assert without_restore.stopped_epoch == 1
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        EarlyStopping(mode="up")
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[EarlyStopping()])


def test_model_checkpoint_every_epoch_and_best_only(data, tmp_path):
    x, y = data
    model = model_for(data)
    weights = []
    every = ModelCheckpoint(str(tmp_path / "all-{epoch:02d}-{score:.1f}.pycnn"),
                            monitor="score")
    best = ModelCheckpoint(tmp_path / "best.pycnn", monitor="score", save_best_only=True)
    model.fit(x, y, epochs=4, verbose=0,
              callbacks=[scripted("score", [0.9, 0.4, 0.7, 0.5]), recorder(model, weights),
                         every, best])
    assert sorted(os.listdir(tmp_path)) == ["all-01-0.9.pycnn", "all-02-0.4.pycnn",
                                            "all-03-0.7.pycnn", "all-04-0.5.pycnn",
                                            "best.pycnn"]
    restored = load_model(tmp_path / "best.pycnn")
    for a, b in zip(weights[1], restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert best.best == 0.4
    weights_only = ModelCheckpoint(tmp_path / "w.pycnn", monitor="loss", save_weights_only=True)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[weights_only])
    clone = model_for(data)
    clone.load_weights(tmp_path / "w.pycnn")
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(KeyError, match="names 'acc', which is not in the logs"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[ModelCheckpoint(str(tmp_path / "{acc}.pycnn"))])

# ---- the progress bar -------------------------------------------------------------------


def test_progbar_in_a_terminal_redraws_in_place():
    out = io.StringIO()
    bar = Progbar(10, file=out, display="terminal", interval=0)
    bar.update(5, {"loss": 0.5})
    bar.update(10, {"loss": 0.25, "accuracy": 0.9})
    text = out.getvalue()
    first, final = text.split("\r")[1:]
    assert first.startswith(" 5/10 [" + "=" * 14 + ">" + "." * 15 + "] - ETA: ")
    assert first.rstrip().endswith("- loss: 0.5000")
    assert re.fullmatch(r"10/10 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: 0.2500 - "
                        r"accuracy: 0.9000\n", final), final
    assert bar.finalized


def test_progbar_to_a_pipe_writes_only_the_final_line():
    out = io.StringIO()
    bar = Progbar(3, file=out)                  # StringIO is no tty: 'final' mode
    for step in (1, 2, 3):
        bar.update(step, {"loss": 1e-4})
    assert out.getvalue().count("\n") == 1
    assert out.getvalue().startswith("3/3 [==============================] - ")
    assert out.getvalue().endswith(" - loss: 1.0000e-04\n")
    with pytest.raises(ValueError, match="display must be"):
        Progbar(3, display="html")


def test_progress_bar_updates_in_place_in_jupyter(data, tmp_path):
    """A real kernel: the bar is one display output, updated, whose final text is the
    last line; nothing of it goes to the stream."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = (f"import sys; sys.path.insert(0, {root!r})\n"
            "import numpy as np, pycnn\n"
            "from pycnn.models import Sequential\nfrom pycnn.layers import Dense\n"
            "pycnn.set_seed(0)\n"
            "m = Sequential([Dense(10, activation='softmax', input_shape=(4,))])\n"
            "m.compile('sgd', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
            "h = m.fit(np.ones((64, 4)), np.zeros(64), batch_size=8, epochs=2)\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    notebook_client(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    bars = [o for o in outputs if o.output_type == "display_data"]
    assert streams == "Epoch 1/2\nEpoch 2/2\n"
    assert len(bars) == 2, "one updating display per epoch"
    for bar in bars:
        text = bar.data["text/plain"]
        assert text.startswith("8/8 [==============================] - ")
        assert re.search(r" - loss: \d+\.\d{4} - accuracy: \S+$", text), text


def test_verbose_2_line_only_at_the_end():
    out = io.StringIO()
    bar = Progbar(4, verbose=2, file=out)
    bar.update(2, {"loss": 0.5})
    assert out.getvalue() == ""
    bar.update(4, {"loss": 0.25})
    assert re.fullmatch(r"4/4 - \d+s - \d+(us|ms|s)/step - loss: 0.2500\n",
                        out.getvalue()), out.getvalue()
