"""model.save / load_model / save_weights / load_weights: one file, no pickle, atomic,
and clear errors on truncated, corrupted or foreign files."""
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import pycnn
from pycnn import saving
from pycnn.datasets import digits
from pycnn.layers import Dense, Dropout
from pycnn.models import Sequential, load_model


@pytest.fixture(scope="module")
def data():
    (x, y), _ = digits.load_data(seed=0)
    return x[:96].reshape(96, 64), y[:96]


def trained(data, optimizer="adam"):
    x, y = data
    model = Sequential([Dense(16, activation="relu", input_shape=(64,)), Dropout(0.1),
                        Dense(10, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return model


def test_round_trip_gives_identical_predictions_and_training(data, tmp_path):
    x, y = data
    model = trained(data)
    path = tmp_path / "model.pycnn"
    model.save(path)
    restored = load_model(path)
    assert restored.get_config() == model.get_config()
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))
    assert restored.loss == "sparse_categorical_crossentropy"
    assert restored.metrics_names == ["loss", "accuracy"]
    assert restored.optimizer.get_config() == model.optimizer.get_config()
    assert restored.optimizer.iterations == model.optimizer.iterations == 6
    # the optimizer state came along: one more identical step gives identical weights
    for m in (model, restored):
        pycnn.set_seed(5)                       # the same dropout mask for both
        m.train_on_batch(x[:32], y[:32])
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loss_objects_and_uncompiled_models_round_trip(data, tmp_path):
    x, _ = data
    model = trained(data, optimizer=pycnn.optimizers.SGD(0.05, momentum=0.9))
    model.compile(model.optimizer, pycnn.losses.SparseCategoricalCrossentropy(ignore_index=3))
    model.save(tmp_path / "a.pycnn")
    restored = load_model(tmp_path / "a.pycnn")
    assert isinstance(restored.loss, pycnn.losses.SparseCategoricalCrossentropy)
    assert restored.loss.get_config()["ignore_index"] == 3
    assert restored.optimizer.get_config()["momentum"] == 0.9
    bare = Sequential([Dense(3, input_shape=(2,))])
    bare.save(tmp_path / "b.pycnn")
    again = load_model(tmp_path / "b.pycnn")
    assert not again.compiled
    np.testing.assert_array_equal(again.get_weights()[0], bare.get_weights()[0])
    assert not load_model(tmp_path / "a.pycnn", compile=False).compiled


def test_custom_loss_needs_custom_objects(data, tmp_path):
    x, y = data

    def my_loss(y_true, y_pred):
        return pycnn.losses.sparse_categorical_crossentropy(y_true, y_pred)
    model = trained(data)
    model.compile("sgd", my_loss)
    model.save(tmp_path / "c.pycnn")
    with pytest.raises(ValueError, match="unknown loss 'my_loss'"):
        load_model(tmp_path / "c.pycnn")
    restored = load_model(tmp_path / "c.pycnn", custom_objects={"my_loss": my_loss})
    assert restored.loss is my_loss


def test_file_is_a_zip_of_npy_arrays_without_pickle(data, tmp_path):
    model = trained(data)
    model.save(tmp_path / "m.pycnn")
    with zipfile.ZipFile(tmp_path / "m.pycnn") as z:
        names = z.namelist()
    assert names[0] == "pycnn.json"
    assert [n for n in names if n.startswith("weights/")] == [
        "weights/0000.npy", "weights/0001.npy", "weights/0002.npy", "weights/0003.npy"]
    assert sum(n.startswith("optimizer/") for n in names) == 8       # Adam's m and v
    with np.load(tmp_path / "m.pycnn", allow_pickle=False) as f:
        np.testing.assert_array_equal(f["weights/0000"], model.get_weights()[0])


def test_save_and_load_weights(data, tmp_path):
    x, _ = data
    model = trained(data)
    model.save_weights(tmp_path / "w.pycnn")
    other = Sequential([Dense(16, activation="relu", input_shape=(64,)), Dropout(0.1),
                        Dense(10, activation="softmax")])
    other.load_weights(tmp_path / "w.pycnn")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    model.save(tmp_path / "full.pycnn")             # a full model file holds weights too
    other.load_weights(tmp_path / "full.pycnn")
    wrong = Sequential([Dense(8, input_shape=(64,)), Dense(10)])
    with pytest.raises(ValueError, match="holds 4 weights of shapes \\[\\(64, 16\\)"):
        wrong.load_weights(tmp_path / "w.pycnn")
    with pytest.raises(ValueError, match="holds weights only"):
        load_model(tmp_path / "w.pycnn")
    with pytest.raises(ValueError, match="not built yet"):
        Sequential([Dense(3)]).save(tmp_path / "x.pycnn")

# ---- nothing saved is lost ----------------------------------------------------------------


@pytest.fixture
def saved(data, tmp_path):
    """A trained model, the path it was saved to, and that file's bytes."""
    model = trained(data)
    path = tmp_path / "model.pycnn"
    model.save(path)
    return model, path, path.read_bytes()


def test_failed_save_leaves_the_old_file_intact(data, saved, tmp_path, monkeypatch):
    model, path, before = saved
    calls = []

    def fail_midway(archive, name, array):
        calls.append(name)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(archive, name, array)
    real_write = saving._write_array
    monkeypatch.setattr(saving, "_write_array", fail_midway)
    model.train_on_batch(*[a[:32] for a in data])
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.pycnn"], "the temporary file is removed"
    load_model(path)


def test_crash_mid_save_leaves_the_old_file_intact(saved, tmp_path):
    """A real crash: the process dies (os._exit) halfway through writing."""
    _, path, before = saved
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = f"""
import os, sys
sys.path.insert(0, {root!r})
from pycnn import saving
from pycnn.models import load_model
model = load_model({str(path)!r})
real, count = saving._write_array, [0]
def dying(archive, name, array):
    count[0] += 1
    if count[0] == 3:
        os._exit(17)              # no cleanup, no exception handlers: a crash
    real(archive, name, array)
saving._write_array = dying
model.save({str(path)!r})
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert result.returncode == 17, result.stderr.decode()
    assert path.read_bytes() == before
    leftovers = [n for n in os.listdir(tmp_path) if n != "model.pycnn"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.pycnn.")
    load_model(path)


def refused(path, name, text, match):
    """A zip holding only `name` (with `text`) at path: load_model raises ValueError(match)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, text)
    with pytest.raises(ValueError, match=match):
        load_model(path)


def test_truncated_corrupted_and_foreign_files_raise(saved, tmp_path):
    _, path, good = saved
    bad = tmp_path / "bad.pycnn"
    for cut in (len(good) // 2, 100, 0):
        bad.write_bytes(good[:cut])
        with pytest.raises(ValueError, match="not a pycnn model file, or truncated"):
            load_model(bad)
    # flip bytes inside the first weight's data: the zip's CRC catches it
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("weights/0000.npy")
    offset = info.header_offset + 30 + len(info.filename) + 200
    corrupted = bytearray(good)
    corrupted[offset:offset + 4] = bytes(b ^ 0xFF for b in corrupted[offset:offset + 4])
    bad.write_bytes(bytes(corrupted))
    with pytest.raises(ValueError, match="corrupted pycnn file \\(weights/0000.npy"):
        load_model(bad)
    refused(bad, "hello.txt", "not a model", "a zip archive but not a pycnn file")
    with open(tmp_path / "arrays.pycnn", "wb") as f:
        np.savez(f, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a pycnn file"):
        load_model(tmp_path / "arrays.pycnn")
    with pytest.raises(ValueError, match="none of the extensions pycnn reads and writes: "
                                         "\\.pycnn, \\.keras, \\.h5"):
        load_model(tmp_path / "arrays.npz")
    refused(bad, "pycnn.json", "{broken", "unreadable pycnn.json")
    refused(bad, "pycnn.json", '{"format": "pycnn.model", "format_version": 99}',
            "format version 99 is newer")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.pycnn")


def test_save_into_missing_folder_raises(data, tmp_path):
    model = trained(data)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.save(tmp_path / "no" / "such" / "m.pycnn")
