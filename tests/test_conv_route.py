"""conv2d's route choice (autograd/ops_conv_route.c, bound as _core._conv_route): over
every shape of the benchmark sweep the chosen route supports the geometry, a forced
route applies only where it can, the automatic choice is exactly the route it names,
and every route agrees with the plain-NumPy reference on a sample of the grid."""
import itertools

import numpy as np
import pytest

import pycnn
from benchmarks import sweep
from pycnn import _core
from tests import reference as R
from tests.helpers import switched

ROUTES = ("im2col", "direct", "winograd")


def algorithm(name):
    return switched(_core._set_conv_algorithm, name)


def supports(route, c, k, stride, dilation):
    """What each route computes, written out independently of the C code"""
    if route == "im2col":
        return True
    if route == "direct":
        return k * k * c <= 160 and dilation == 1
    return k == 3 and stride == 1 and dilation == 1


def route_of(case, f=None):
    return _core._conv_route((case.n, case.hw, case.hw, case.c),
                             (case.k, case.k, case.c, case.f if f is None else f),
                             case.stride, case.padding, case.dilation)


# the sweep's own rows, and a denser grid around them (small and odd sizes, every kernel,
# stride, dilation and padding, channel and filter counts across the thresholds)
DENSE = [sweep.ConvCase(n, hw, c, f, k, s, d, p)
         for n, hw, c, f, k, s, d, p in itertools.product(
             (1, 64), (1, 2, 5, 7, 28, 224), (1, 2, 3, 4, 8, 9, 32, 256), (1, 8, 64, 4096),
             (1, 3, 5, 7), (1, 2), (1, 2), ("same", "valid"))
         if not (s > 1 and d > 1) and (p == "same" or (k - 1) * d + 1 <= hw)]
GRID = sweep.conv_grid() + sweep.conv_grid(quick=True) + DENSE


def test_chosen_route_supports_every_geometry_of_the_grid():
    for case in GRID:
        route, costs = route_of(case)
        assert route in ROUTES, case
        assert supports(route, case.c, case.k, case.stride, case.dilation), (case, route)
        for r in ROUTES:                # the model prices exactly the routes that apply
            assert (costs[r] is not None) == supports(r, case.c, case.k, case.stride,
                                                      case.dilation), (case, r)
            assert costs[r] is None or costs[r] > 0
        # the cheapest route that the automatic choice may take
        assert costs[route] <= costs["im2col"], case


@pytest.mark.parametrize("forced", ROUTES)
def test_a_forced_route_applies_only_where_it_can(forced):
    with algorithm(forced):
        for case in GRID[:400]:
            route, _ = route_of(case)
            want = forced if supports(forced, case.c, case.k, case.stride,
                                      case.dilation) else "im2col"
            assert route == want, (case, forced)


def test_the_model_keeps_the_measured_choices():
    """The boundaries measured before the model (benchmarks/NOTES.md)"""
    c = sweep.ConvCase
    assert route_of(c(32, 28, 1, 32))[0] == "direct"        # the lecture CNN's conv 1
    assert route_of(c(32, 28, 1, 6, 5))[0] == "im2col"          # 6 filters: no vector block
    assert route_of(c(32, 28, 3, 16))[0] == "im2col"            # 16 likewise (12× slower)
    assert route_of(c(32, 14, 32, 64))[0] == "winograd"         # the lecture CNN's conv 2
    assert route_of(c(32, 28, 8, 32))[0] == "winograd"          # wins from 8 channels
    assert route_of(c(32, 28, 4, 32))[0] != "winograd"          # ties at 4
    assert route_of(c(32, 28, 32, 64, k=1))[0] == "im2col"      # x is the patch matrix
    assert route_of(c(8, 224, 3, 64, k=7, stride=2))[0] == "direct"   # the stem, K = 147
    assert route_of(c(32, 28, 16, 32, stride=2))[0] == "im2col"       # K = 144, 16 channels
    assert route_of(c(32, 28, 32, 32, dilation=2))[0] == "im2col"
    assert route_of(c(64, 28, 3, 4096, k=7))[0] == "im2col"     # 370 MB of partial sums


# a sample of the grid at small sizes: the auto route is bit for bit the forced route it
# names, and every route that applies matches the reference, forward and gradients
SAMPLE = [sweep.ConvCase(2, hw, c, f, k, s, d, p) for hw, c, f, k, s, d, p in [
    (7, 1, 8, 3, 1, 1, "same"), (6, 3, 5, 3, 2, 1, "same"), (9, 1, 4, 5, 1, 1, "valid"),
    (8, 2, 3, 3, 1, 2, "same"), (7, 8, 9, 3, 1, 1, "same"), (6, 9, 8, 3, 1, 1, "valid"),
    (9, 3, 4, 7, 2, 1, "same"), (5, 4, 6, 1, 2, 1, "valid"), (5, 32, 2, 1, 1, 1, "same"),
    (10, 4, 5, 5, 1, 2, "valid"), (7, 1, 33, 3, 1, 1, "same"), (9, 3, 32, 7, 2, 1, "same"),
    (11, 2, 40, 5, 2, 1, "valid"), (6, 16, 32, 3, 2, 1, "same")]]


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: c.key)
def test_every_route_agrees_with_the_reference(case, rng):
    x = rng.standard_normal((case.n, case.hw, case.hw, case.c))
    k = rng.standard_normal((case.k, case.k, case.c, case.f))
    b = rng.standard_normal(case.f)
    strides, dil = (case.stride,) * 2, (case.dilation,) * 2
    y_ref = R.conv2d(x, k, b, strides, case.padding, dil)
    seed = rng.standard_normal(y_ref.shape)
    outs = {}
    for algo in ("auto",) + ROUTES:
        with algorithm(algo):
            route = route_of(case)[0]
            if algo != "auto" and route != algo:
                continue                # not supported: the forced route falls back
            xt, kt, bt = (pycnn.tensor(a, requires_grad=True) for a in (x, k, b))
            y = pycnn.conv2d(xt, kt, bt, strides=strides, padding=case.padding,
                             dilation_rate=dil)
            y.backward(seed)
            outs[algo] = [np.asarray(t) for t in (y, xt.grad, kt.grad, bt.grad)]
        if algo == "auto":
            auto_route = route
    assert "im2col" in outs and auto_route in outs
    if case.c <= 3 and case.f % 32 == 0 and case.dilation == 1:     # whole vector blocks
        assert auto_route == "direct"
    # bit for bit; with an input gradient the automatic direct route takes dz first, then
    # the kernel gradient direct but dx (dz·Wmᵀ and col2im) and the bias gradient as
    # im2col does (faster for dx than the direct kernel's sums)
    for i, name in enumerate(("y", "dx", "dkernel", "dbias")):
        twin = "im2col" if auto_route == "direct" and name in ("dx", "dbias") else auto_route
        np.testing.assert_array_equal(outs["auto"][i], outs[twin][i], err_msg=name)
    for algo, got in outs.items():
        np.testing.assert_allclose(got[0], y_ref, rtol=1e-11, atol=1e-11, err_msg=algo)
        for g, r, name in zip(got[1:], outs["im2col"][1:], ("dx", "dkernel", "dbias")):
            np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-10, err_msg=f"{algo} {name}")


def test_conv_route_rejects_bad_geometry():
    with pytest.raises(ValueError, match="4 sizes"):
        _core._conv_route((1, 5, 5), (3, 3, 1, 2))
    with pytest.raises(ValueError, match="positive"):
        _core._conv_route((1, 5, 5, 0), (3, 3, 0, 2))
    with pytest.raises(ValueError, match="3 channels but kernel expects 2"):
        _core._conv_route((1, 5, 5, 3), (3, 3, 2, 2))
    with pytest.raises(ValueError, match="spans more than the 2x2 input"):
        _core._conv_route((1, 2, 2, 1), (3, 3, 1, 2))
    with pytest.raises(TypeError):
        _core._conv_route((1, 5, 5, "a"), (3, 3, 1, 2))


# ---- the direct route over long patches (the 7×7 stem: K = 147 ≤ PC_CONV_DIRECT_MAX_K) ----

def test_long_patch_direct_gradcheck(rng):
    x = rng.standard_normal((2, 9, 8, 3))
    k, b = rng.standard_normal((7, 7, 3, 32)) * 0.1, rng.standard_normal(32)
    assert _core._conv_route(x.shape, k.shape, 2, "same")[0] == "direct"
    for algo in ("direct", "auto"):     # auto: dx by GEMM and col2im
        with algorithm(algo):
            assert pycnn.gradcheck(lambda x, k, b: pycnn.conv2d(x, k, b, strides=2,
                                                                padding="same"), [x, k, b])


def test_long_patch_direct_is_thread_count_independent(rng):
    x = rng.standard_normal((70, 12, 12, 3)).astype(np.float32)
    k = rng.standard_normal((7, 7, 3, 64)).astype(np.float32)
    seed = rng.standard_normal((70, 6, 6, 64)).astype(np.float32)
    assert _core._conv_route(x.shape, k.shape, 2, "same")[0] == "direct"
    runs, before = [], pycnn.get_num_threads()
    try:
        for threads in (1, 2, 3):
            pycnn.set_num_threads(threads)
            kt = pycnn.tensor(k, requires_grad=True)
            y = pycnn.conv2d(x, kt, strides=2, padding="same")    # the stem: no dx
            y.backward(seed)
            runs.append((y.numpy(), kt.grad.numpy()))
    finally:
        pycnn.set_num_threads(before)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)
    y_ref = R.conv2d(x.astype(np.float64), k.astype(np.float64), None, (2, 2), "same")
    np.testing.assert_allclose(runs[0][0], y_ref, rtol=1e-4, atol=1e-4)
