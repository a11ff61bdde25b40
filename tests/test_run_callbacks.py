"""TerminateOnNaN (pycnn/_run_callbacks.py): Keras' rule and message, alone and in fit."""
import types

import numpy as np
import pytest

import pycnn
from pycnn.callbacks import TerminateOnNaN
from pycnn.layers import Dense
from pycnn.models import Sequential


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float32("nan")])
def test_terminate_on_nan_stops_at_the_first_bad_loss(capsys, bad):
    model = types.SimpleNamespace(stop_training=False)
    cb = TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"loss": 1.5})
    cb.on_train_batch_end(1, {})                    # no loss: nothing to judge
    assert model.stop_training is False
    cb.on_train_batch_end(2, {"loss": bad})
    assert model.stop_training is True
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 3"):
        TerminateOnNaN(raise_error=True).on_train_batch_end(3, {"loss": bad})


def test_terminate_on_nan_inside_fit():
    x = np.ones((8, 2), np.float32)
    y = np.full((8, 1), np.nan, np.float32)               # a NaN target: a NaN loss
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    history = model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[TerminateOnNaN()])
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])
    with pytest.raises(RuntimeError, match="at batch 0"):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0,
                  callbacks=[TerminateOnNaN(raise_error=True)])
