"""ReduceLROnPlateau and LearningRateScheduler (pycnn/_lr_callbacks.py): the same epoch logs
drive pycnn's callback and Keras 3's; the learning rate, the counters and the logs must
follow the same path. Then both inside a real fit."""
import os
import types

import numpy as np
import pytest

import pycnn
from pycnn import optimizers
from pycnn.callbacks import LambdaCallback, LearningRateScheduler, ReduceLROnPlateau
from pycnn.layers import Dense
from pycnn.models import Sequential

os.environ.setdefault("KERAS_BACKEND", "torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # Keras on torch


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch")
    return pytest.importorskip("keras")


def drive(callback, model, values, monitor="val_loss"):
    """Runs the epoch hooks over the monitored values; per epoch (lr after, logs)."""
    callback.set_model(model)
    callback.on_train_begin()
    path = []
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        logs = {"loss": 1.0, monitor: value}
        callback.on_epoch_end(epoch, logs)
        path.append((float(np.asarray(model.optimizer.learning_rate)), dict(logs)))
    return path


PLATEAU = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.80001, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7,
           0.7, 0.7, 0.7, 0.7, 0.7]


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(factor=0.5, patience=2),
    dict(factor=0.5, patience=1, cooldown=2, min_lr=0.02),
    dict(factor=0.2, patience=2, min_delta=0.05),
    dict(monitor="val_accuracy", mode="max", factor=0.5, patience=2),
    dict(monitor="val_accuracy", factor=0.5, patience=1, cooldown=1),   # 'auto': max
])
def test_reduce_lr_on_plateau_follows_keras(keras, kwargs):
    monitor = kwargs.get("monitor", "val_loss")
    values = PLATEAU if monitor == "val_loss" else [1.0 - v for v in PLATEAU]
    ours = drive(ReduceLROnPlateau(**kwargs), types.SimpleNamespace(
        optimizer=optimizers.SGD(0.1)), values, monitor)
    keras_kwargs = dict(kwargs)
    if monitor == "val_accuracy":
        keras_kwargs["mode"] = "max"        # Keras' 'auto' asks the compiled metrics
    theirs = drive(keras.callbacks.ReduceLROnPlateau(**keras_kwargs), types.SimpleNamespace(
        optimizer=keras.optimizers.SGD(0.1)), values, monitor)
    np.testing.assert_allclose([lr for lr, _ in ours], [lr for lr, _ in theirs], rtol=1e-6)
    for (_, a), (_, b) in zip(ours, theirs):
        assert a.keys() == b.keys()
        assert a["learning_rate"] == pytest.approx(b["learning_rate"], rel=1e-6)
    assert len({lr for lr, _ in ours}) > 1 or kwargs == {}, "the case should reduce"


def test_reduce_lr_on_plateau_arguments_and_missing_monitor():
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        ReduceLROnPlateau(mode="up")
    cb = ReduceLROnPlateau(monitor="val_nope")
    cb.set_model(types.SimpleNamespace(optimizer=optimizers.Adam()))
    with pytest.warns(RuntimeWarning, match="'val_nope', which is not in the logs"):
        cb.on_epoch_end(0, {"loss": 1.0})
    cb.set_model(types.SimpleNamespace(optimizer=None))
    with pytest.raises(ValueError, match="no optimizer with a learning_rate"):
        cb.on_epoch_end(0, {"val_nope": 1.0})


def schedule_two_args(epoch, lr):
    return lr if epoch < 2 else lr * 0.5


def schedule_one_arg(epoch):
    return 0.1 / (1 + epoch)


@pytest.mark.parametrize("schedule", [schedule_two_args, schedule_one_arg])
def test_learning_rate_scheduler_follows_keras(keras, schedule):
    ours = drive(LearningRateScheduler(schedule), types.SimpleNamespace(
        optimizer=optimizers.Adam(0.1)), [1.0] * 6)
    theirs = drive(keras.callbacks.LearningRateScheduler(schedule), types.SimpleNamespace(
        optimizer=keras.optimizers.Adam(0.1)), [1.0] * 6)
    np.testing.assert_allclose([lr for lr, _ in ours], [lr for lr, _ in theirs], rtol=1e-6)
    np.testing.assert_allclose([logs["learning_rate"] for _, logs in ours],
                               [logs["learning_rate"] for _, logs in theirs], rtol=1e-6)


def test_learning_rate_scheduler_checks_the_schedule():
    model = types.SimpleNamespace(optimizer=optimizers.SGD(0.1))
    cb = LearningRateScheduler(lambda epoch, lr: 1)
    cb.set_model(model)
    with pytest.raises(ValueError, match="should be a float, got 1 at epoch 0"):
        cb.on_epoch_begin(0)
    with pytest.raises(TypeError, match="schedule must be a function"):
        LearningRateScheduler(0.1)
    fixed = types.SimpleNamespace(optimizer=optimizers.SGD(
        optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)))
    cb = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    cb.set_model(fixed)
    with pytest.raises(TypeError, match="not settable"):
        cb.on_epoch_begin(0)


def test_both_inside_fit_change_the_steps_taken(capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    pycnn.set_seed(0)
    model = Sequential([Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    seen = []
    model.fit(x, y, batch_size=64, epochs=4, verbose=0, callbacks=[
        LearningRateScheduler(lambda epoch: 0.5 * 0.1 ** epoch, verbose=1),
        LambdaCallback(on_epoch_end=lambda e, logs: seen.append(logs["learning_rate"]))])
    np.testing.assert_allclose(seen, [0.5, 0.05, 0.005, 0.0005])
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.05" in capsys.readouterr().out
    # ReduceLROnPlateau on a loss that cannot improve (lr 0 after the first epoch)
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    lrs = []
    model.fit(x, y, batch_size=64, epochs=5, verbose=0, callbacks=[
        ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0, verbose=1),
        LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(logs["learning_rate"]))])
    assert lrs == [0.1, 0.1, 0.05, 0.025, 0.0125]
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05." in capsys.readouterr().out
