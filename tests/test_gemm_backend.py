"""The kernels' matrix products on NumPy's own CBLAS, called without the GIL
(kernels/gemm.h): found at import, checked against np.matmul on every way the batched
products are cut (whole, blocks of rows or of columns, blocks of the inner dimension
summed in order, too wide to cut), and the same at every thread count."""
import numpy as np
import pytest

import pycnn
from pycnn import _core
from tests.helpers import switched


def gemm_backend(name):
    return switched(_core._gemm_backend, name)


def winograd():
    return switched(_core._set_conv_algorithm, "winograd")


def numpy_blas_name():
    config = np.show_config(mode="dicts")
    return config["Build Dependencies"]["blas"]["name"]


def test_numpy_wheels_blas_is_found_and_used():
    if numpy_blas_name() != "scipy-openblas":
        # another NumPy build: whatever was found must have passed the import check
        assert _core._gemm_backend() == ("cblas" if _core._cblas_library() else "matmul")
        return
    path, symbol = _core._cblas_library()
    assert "scipy_openblas" in path
    assert symbol == "scipy_cblas_sgemm64_"
    assert _core._gemm_backend() == "cblas"


def test_gemm_backend_switches_and_rejects_bad_names():
    with gemm_backend("matmul"):
        assert _core._gemm_backend() == "matmul"
        assert _core._gemm_backend(None) == "matmul"
    with pytest.raises(ValueError, match="'cblas' or 'matmul'"):
        _core._gemm_backend("mkl")
    with pytest.raises(TypeError, match="int"):
        _core._gemm_backend(3)
    with pytest.raises(TypeError, match="at most one"):
        _core._gemm_backend("cblas", "matmul")


def products(x, k, b, seed, backend):
    """y, dx, dkernel, dbias of a Winograd convolution on one GEMM backend"""
    with gemm_backend(backend), winograd():
        xt, kt, bt = (pycnn.tensor(a, requires_grad=True) for a in (x, k, b))
        y = pycnn.conv2d(xt, kt, bt, padding="same")
        y.backward(seed)
        return [np.asarray(t) for t in (y, xt.grad, kt.grad, bt.grad)]


# (N, H, W, C, F): how the 16 products per chunk of images are cut. The forward is
# (tiles × C)·(C × F), dx's (tiles × F)·(F × C), the kernel's (C × tiles)·(tiles × F)
# summed over chunks.
CUTS = [
    (2, 6, 6, 8, 8),            # every product whole
    (13, 14, 14, 32, 64),       # 3 chunks of images; rows cut, the kernel's k cut
    (1, 22, 22, 160, 160),      # too wide to cut either way: one product at a time
]


@pytest.mark.skipif(_core._cblas_library() is None,
                    reason="this NumPy's BLAS has no CBLAS entry points pycnn can find")
@pytest.mark.parametrize("n,h,w,c,f", CUTS)
def test_cblas_matches_np_matmul_float64(n, h, w, c, f, rng):
    x, k, b = (rng.standard_normal(s) for s in ((n, h, w, c), (3, 3, c, f), (f,)))
    seed = rng.standard_normal((n, h, w, f))
    direct = products(x, k, b, seed, "cblas")
    matmul = products(x, k, b, seed, "matmul")
    for a, r, name in zip(direct, matmul, ("y", "dx", "dkernel", "dbias")):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12 * np.abs(r).max(),
                                   err_msg=name)


@pytest.mark.skipif(_core._cblas_library() is None,
                    reason="this NumPy's BLAS has no CBLAS entry points pycnn can find")
@pytest.mark.parametrize("n,h,w,c,f", CUTS[1:])
def test_cblas_products_do_not_depend_on_thread_count(n, h, w, c, f, rng):
    x, k, b = (rng.standard_normal(s).astype(np.float32)
               for s in ((n, h, w, c), (3, 3, c, f), (f,)))
    seed = rng.standard_normal((n, h, w, f)).astype(np.float32)
    before = pycnn.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            pycnn.set_num_threads(threads)
            results.append(products(x, k, b, seed, "cblas"))
    finally:
        pycnn.set_num_threads(before)
    for other in results[1:]:
        for a, r in zip(other, results[0]):
            assert np.array_equal(a, r)
    exact = products(*(a.astype(np.float64) for a in (x, k, b, seed)), "matmul")
    for a, r, name in zip(results[0], exact, ("y", "dx", "dkernel", "dbias")):
        assert np.abs(a - r).max() <= 1e-5 * np.abs(r).max(), name


@pytest.mark.skipif(_core._cblas_library() is None,
                    reason="this NumPy's BLAS has no CBLAS entry points pycnn can find")
@pytest.mark.parametrize("batch,d_in,units", [
    (64, 3136, 10),     # the lecture CNN's head: k cut (forward), rows (dW), columns (dx)
    (32, 784, 512),     # too big to cut: the BLAS threads it
    (3, 5, 4),          # tiny
])
def test_dense_on_cblas_matches_np_matmul_float64(batch, d_in, units, rng):
    x = rng.standard_normal((batch, d_in))
    seed = rng.standard_normal((batch, units))
    layer = pycnn.layers.Dense(units, activation="tanh", dtype="float64")
    layer.build((None, d_in))
    layer.set_weights([rng.standard_normal((d_in, units)) * 0.05,
                       rng.standard_normal(units)])
    out = {}
    for backend in ("cblas", "matmul"):
        with gemm_backend(backend):
            xt = pycnn.tensor(x, requires_grad=True)
            layer(xt).backward(seed)
            out[backend] = [np.asarray(a) for a in (layer(xt), xt.grad, layer.kernel.grad,
                                                    layer.bias.grad)]
            layer.kernel.grad = layer.bias.grad = None
    for a, r, name in zip(out["cblas"], out["matmul"], ("y", "dx", "dkernel", "dbias")):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12 * np.abs(r).max(),
                                   err_msg=name)
