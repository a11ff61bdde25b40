"""CSVLogger and TensorBoard (pycnn/_log_callbacks.py). CSVLogger: the file Keras 3's
CSVLogger writes from the same logs, byte for byte. TensorBoard: a real fit writes event
files that TensorBoard's own reader (tensorboard.backend.event_processing) loads, with
Keras' layout: train/ and validation/, epoch_* and batch_* scalars, weight histograms and
images, the model config for the graph tab."""
import json
import os
import types

import numpy as np
import pytest

import pycnn
from pycnn import optimizers
from pycnn.callbacks import CSVLogger, TensorBoard
from pycnn.layers import Conv2D, Dense, Flatten
from pycnn.models import Sequential

os.environ.setdefault("KERAS_BACKEND", "torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # Keras on torch


def drive(callback, epochs_logs):
    callback.set_model(types.SimpleNamespace(optimizer=None, stop_training=False))
    callback.on_train_begin()
    for epoch, logs in enumerate(epochs_logs):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, dict(logs))
    callback.on_train_end()


LOGS = [{"loss": 0.5, "accuracy": 0.75}, {"loss": 0.25, "accuracy": np.float64(0.875)},
        {"loss": float("nan"), "accuracy": 1.0, "extra": "text"}]


@pytest.mark.parametrize("logs,separator", [
    (LOGS, ","),
    ([{**d, "val_loss": d["loss"] * 2} for d in LOGS], ";"),
])
def test_csv_logger_writes_what_keras_writes(tmp_path, logs, separator):
    keras = pytest.importorskip("keras")
    drive(CSVLogger(tmp_path / "ours.csv", separator=separator), logs)
    drive(keras.callbacks.CSVLogger(str(tmp_path / "keras.csv"), separator=separator), logs)
    ours = (tmp_path / "ours.csv").read_text()
    assert ours == (tmp_path / "keras.csv").read_text()
    assert ours.splitlines()[0].startswith(f"epoch{separator}accuracy")


def test_csv_logger_appends_without_a_second_header(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), LOGS[:2])
    drive(CSVLogger(path, append=True), LOGS[:1])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("epoch,") and lines[3].startswith("0,")
    assert lines[0].endswith("val_loss")            # val_ columns added, as Keras
    assert lines[1] == "0,0.75,0.5,NA,NA"


@pytest.fixture(scope="module")
def event_accumulator():
    pytest.importorskip("tensorboardX")
    return pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def load(event_accumulator, folder):
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0,
        event_accumulator.IMAGES: 0, event_accumulator.TENSORS: 0})
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


@pytest.fixture
def trained(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 6, 6, 1)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    pycnn.set_seed(0)
    model = Sequential([Conv2D(2, (3, 3), activation="relu", input_shape=(6, 6, 1)),
                        Flatten(), Dense(3, activation="softmax")])
    model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    board = TensorBoard(tmp_path / "logs", histogram_freq=1, write_images=True,
                        update_freq=2, write_steps_per_second=True)
    history = model.fit(x, y, batch_size=10, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[board])
    return model, history, tmp_path / "logs"


def test_tensorboard_epoch_scalars_are_read_back_by_tensorboard(event_accumulator, trained):
    model, history, logs = trained
    assert sorted(os.listdir(logs)) == ["train", "validation"]
    train, val = load(event_accumulator, logs / "train"), load(event_accumulator,
                                                                logs / "validation")
    for name in ("loss", "accuracy"):
        got = scalars(train, f"epoch_{name}")
        assert [s for s, _ in got] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in got], history.history[name], rtol=1e-6)
        got = scalars(val, f"epoch_{name}")          # validation without the val_ prefix
        np.testing.assert_allclose([v for _, v in got], history.history["val_" + name],
                                   rtol=1e-6)
    assert [v for _, v in scalars(train, "epoch_learning_rate")] == pytest.approx([0.01] * 3)
    assert all(v > 0 for _, v in scalars(train, "epoch_steps_per_second"))
    # update_freq=2: batch scalars every second global batch (3 batches of 10 per epoch)
    assert [s for s, _ in scalars(train, "batch_loss")] == [2, 4, 6, 8]
    assert "batch_steps_per_second" in train.Tags()["scalars"]


def test_tensorboard_histograms_images_and_graph(event_accumulator, trained):
    model, _, logs = trained
    train = load(event_accumulator, logs / "train")
    tags = train.Tags()
    names = [w.name for layer in model.layers for w in layer.weights]
    assert sorted(tags["histograms"]) == sorted(f"{n}/histogram" for n in names)
    kernel = model.layers[2].weights[0]
    histo = train.Histograms(f"{kernel.name}/histogram")
    assert [h.step for h in histo] == [0, 1, 2]
    last = histo[-1].histogram_value
    assert last.num == kernel.size
    np.testing.assert_allclose([last.min, last.max], [kernel.numpy().min(),
                                                      kernel.numpy().max()], rtol=1e-6)
    conv_images = train.Images(f"{model.layers[0].weights[0].name}/image")
    # the 2 filters of the 3×3×1 kernel, one 3×3 image each, side by side in one grid
    assert [(i.step, i.width, i.height) for i in conv_images] == [(0, 6, 3), (1, 6, 3),
                                                                  (2, 6, 3)]
    assert f"{model.layers[2].weights[1].name}/image" in tags["images"]      # the bias row
    graph = train.Tensors("keras")                                      # the Graphs tab
    config = json.loads(graph[0].tensor_proto.string_val[0].decode())
    assert config["class_name"] == "Sequential"
    metadata = train.SummaryMetadata("keras")
    assert metadata.plugin_data.plugin_name == "graph_keras_model"


def test_tensorboard_arguments(tmp_path):
    pytest.importorskip("tensorboardX")
    with pytest.raises(ValueError, match="profiling is not available"):
        TensorBoard(tmp_path, profile_batch=2)
    with pytest.raises(ValueError, match="update_freq must be 'epoch', 'batch' or an integer"):
        TensorBoard(tmp_path, update_freq="step")
    with pytest.raises(ValueError, match="no Embedding layer"):
        TensorBoard(tmp_path, embeddings_freq=1)
    assert TensorBoard(tmp_path, update_freq="batch").update_freq == 1
