"""check_op: one helper that every op's tests go through (tinygrad's helper_test_op).

For an op `fn` (taking pycnn Tensors) and its plain-NumPy twin `ref`:
  * float32 and float64 forward agree with the reference on random inputs;
  * float64 central-difference gradcheck passes.
"""
import contextlib
import queue
import time
import warnings

import numpy as np
import pytest

import pycnn


# A test module of layers checked against Keras 3: `pytestmark = KERAS_LAYER_MARKS` gives each
# test a fresh naming session (the fresh_session fixture) and silences Keras 3.15 on torch
# calling np.array(tensor) without copy=.
KERAS_LAYER_MARKS = [pytest.mark.usefixtures("fresh_session"),
                     pytest.mark.filterwarnings(
                         "ignore:__array__ implementation doesn.t accept a copy keyword:"
                         "DeprecationWarning")]


def random_inputs(shapes, rng, low=-2.0, high=2.0, positive=False):
    xs = []
    for shape in shapes:
        x = rng.uniform(0.5 if positive else low, high, size=shape)
        xs.append(x)
    return xs


def check_op(fn, ref, shapes, rng=None, positive=False, grad=True, atol32=1e-5, rtol32=1e-4,
             inputs=None):
    rng = rng if rng is not None else np.random.default_rng(0)
    xs = inputs if inputs is not None else random_inputs(shapes, rng, positive=positive)
    expected = ref(*xs)
    for dtype, atol, rtol in ((np.float32, atol32, rtol32), (np.float64, 1e-12, 1e-10)):
        ts = [pycnn.tensor(np.asarray(x, dtype=dtype)) for x in xs]
        got = fn(*ts)
        assert isinstance(got, pycnn.Tensor)
        assert got.dtype == dtype
        np.testing.assert_allclose(got.numpy(), expected, atol=atol, rtol=rtol)
    if grad:
        assert pycnn.gradcheck(fn, [np.asarray(x, dtype=np.float64) for x in xs])


@contextlib.contextmanager
def switched(setter, value):
    """Within the block, the private switch `setter` (which returns its previous value,
    as pycnn._core._set_conv_algorithm and _gemm_backend do) is set to value."""
    previous = setter(value)
    try:
        yield
    finally:
        setter(previous)


def assert_round_trips(model, x, tmp_path, atol=1e-5, torch=None, saving=True, opsets=(None,)):
    """The model's predictions on x survive every way out of pycnn and back:
      * pycnn's own file (saving=True): save_model/load_model, bit-identical;
      * Keras 3: to_keras agrees within atol, from_keras of that is bit-identical to pycnn;
      * PyTorch (when the `torch` module is given): to_torch in eval mode agrees within atol;
      * ONNX (skipped without onnx/onnxruntime): to_onnx at each opset agrees within atol.
    Returns (pycnn's prediction, the Keras model, the model read back from it)."""
    import pytest
    from pycnn.interop import from_keras, to_keras, to_onnx, to_torch
    from pycnn.saving import load_model, save_model
    want = model.predict(x, verbose=0)
    if saving:
        save_model(model, tmp_path / "round.pycnn")
        np.testing.assert_array_equal(load_model(tmp_path / "round.pycnn").predict(x, verbose=0),
                                      want)
    k = to_keras(model)
    assert np.abs(np.asarray(k.predict(x, verbose=0)) - want).max() < atol
    back = from_keras(k)
    np.testing.assert_array_equal(back.predict(x, verbose=0), want)
    if torch is not None:
        with torch.no_grad():
            got = to_torch(model).eval()(torch.from_numpy(x)).numpy()
        assert np.abs(got - want).max() < atol
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    for opset in opsets:
        path = tmp_path / f"round{opset or ''}.onnx"
        if opset is None:
            to_onnx(model, path)
        else:
            to_onnx(model, path, opset=opset)
        got = ort.InferenceSession(str(path)).run(None, {"input": x})[0]
        assert np.abs(got - want).max() < atol
    return want, k, back


def same_weights(ours, theirs, rng, input_shape):
    """Builds a pycnn layer and its Keras twin on input_shape and gives both the same random
    weights, after asserting that their weights have the same shapes."""
    ours.build(input_shape)
    theirs.build(input_shape)
    assert [tuple(w.shape) for w in theirs.get_weights()] == \
        [tuple(w.shape) for w in ours.get_weights()]
    weights = [rng.standard_normal(w.shape) for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return weights


def keras_output(keras, layer, x):
    """A Keras layer's output on x as NumPy (its "inconsistencies across backends" notes
    silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.ops.convert_to_numpy(layer(x))


def _in_slices(get_msg, most=1.0):
    """`get_msg` of a kernel channel, waiting at most `most` seconds per poll of its socket.

    Now and then the wake-up for a message on a channel's ZeroMQ socket is missed (the
    kernel and nbclient both idle; seen with ipykernel 6.31 and 7.4, pyzmq 27). pyzmq's
    asyncio poll then sleeps out its whole timeout before its final poll finds the message
    and nbclient goes on as if nothing happened: CI measured "08_convolution.ipynb took
    306 s (limit 300 s)" for a notebook of 5 s, because nbclient waits for a cell's reply
    in one poll as long as the cell's timeout. Polling in slices bounds each missed
    wake-up to `most` seconds; a message that never comes still times out as before.
    """
    async def get_msg_in_slices(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = most if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=min(most, left))
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
    return get_msg_in_slices


def notebook_client(nb, **kwargs):
    """An nbclient.NotebookClient (same arguments) whose kernel channels poll in slices."""
    import nbclient

    class Client(nbclient.NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            for channel in (kc.shell_channel, kc.iopub_channel):
                channel.get_msg = _in_slices(channel.get_msg)
            return kc

    return Client(nb, **kwargs)
