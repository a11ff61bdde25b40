"""check_op: one helper that every op's tests go through (tinygrad's helper_test_op).

For an op `fn` (taking pycnn Tensors) and its plain-NumPy twin `ref`:
  * float32 and float64 forward agree with the reference on random inputs;
  * float64 central-difference gradcheck passes.
"""
import contextlib

import numpy as np

import pycnn


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
