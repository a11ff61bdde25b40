"""Big array buffers are recycled across steps (core/bufpool.c), never while in use."""
import gc

import numpy as np

import pycnn
from pycnn import _core

BIG = 64 * 1024          # float32 elements: 256 KiB, above the pool's 64 KiB floor


def test_a_freed_buffer_is_reused_for_the_next_array_of_its_size():
    gc.collect()                # earlier tests' cyclic garbage would return buffers below
    _core._buffer_pool_clear()
    x = pycnn.tensor(np.ones(BIG, np.float32))
    y = pycnn.exp(x)
    address = y.numpy().ctypes.data
    del y
    gc.collect()
    assert _core._buffer_pool()["buffers"] == 1
    z = pycnn.exp(x)
    assert z.numpy().ctypes.data == address
    assert _core._buffer_pool()["buffers"] == 0
    np.testing.assert_allclose(z.numpy(), np.e, rtol=1e-6)


def test_a_view_keeps_the_buffer_out_of_the_pool():
    x = pycnn.tensor(np.arange(BIG, dtype=np.float32))
    view = (x * 2.0).numpy()[::2]          # the result Tensor is dropped, its data lives on
    for _ in range(3):
        pycnn.exp(x * 0.0)                  # same size: would reuse a wrongly freed buffer
    np.testing.assert_array_equal(view, np.arange(0, BIG, 2, dtype=np.float32) * 2)


def test_recycled_gradient_buffers_start_at_zero():
    for _ in range(3):                      # each backward reuses the last one's buffers
        x = pycnn.tensor(np.full(BIG, 3.0, np.float32), requires_grad=True)
        y = x * x
        y.backward(np.ones(BIG, np.float32))
        np.testing.assert_array_equal(x.grad.numpy(), 6.0)


def test_small_arrays_are_not_pooled():
    _core._buffer_pool_clear()
    for _ in range(3):
        pycnn.exp(pycnn.tensor(np.ones(100, np.float32)))
    assert _core._buffer_pool()["buffers"] == 0


def test_the_pool_is_bounded_and_can_be_emptied():
    info = _core._buffer_pool()
    for k in range(100):                    # 100 distinct sizes, all freed at once
        pycnn.exp(pycnn.tensor(np.ones(BIG + 16 * k, np.float32)))
    info = _core._buffer_pool()
    assert info["buffers"] <= 64 and info["bytes"] <= info["max_bytes"]
    _core._buffer_pool_clear()
    assert _core._buffer_pool()["buffers"] == 0 and _core._buffer_pool()["bytes"] == 0
