"""float32 exp, tanh, sigmoid, expm1 (selu, elu), log1p (softplus) and the normal CDF
(gelu) use vmath.h's vectorizable versions: checked in ulps against float64 math over the
whole float range, with IEEE edge cases intact."""
import numpy as np
import pytest

import pycnn


def all_floats(step=997):
    """Every step-th float32 bit pattern, NaNs dropped: about 4.3 million values."""
    bits = np.arange(0, 2**32, step, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    return x[~np.isnan(x)]


def ulp_error(got, exact):
    """|got - exact| in units of the float32 spacing at the rounded exact value"""
    r = exact.astype(np.float32)
    spacing = np.spacing(np.abs(r)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


@pytest.mark.parametrize("op, ref", [(pycnn.exp, np.exp), (pycnn.tanh, np.tanh)])
def test_within_two_ulp_everywhere(op, ref):
    x = all_floats()
    with np.errstate(over="ignore", under="ignore"):
        exact = ref(x.astype(np.float64))
    got = op(pycnn.tensor(x)).numpy()
    with np.errstate(over="ignore"):
        finite = np.isfinite(exact.astype(np.float32))
    assert ulp_error(got[finite], exact[finite]).max() <= 2.0
    np.testing.assert_array_equal(got[~finite], np.where(exact[~finite] > 0, np.inf, 0))


def test_exp_edges():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 88.72, 88.73, -87.3, -100.0, -103.9,
                  -104.0, -1e30, 1e30], np.float32)
    got = pycnn.exp(pycnn.tensor(x)).numpy()
    with np.errstate(over="ignore", under="ignore"):
        want = np.exp(x.astype(np.float64)).astype(np.float32)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:5], [np.inf, 0.0, 1.0, 1.0])
    assert got[5] == want[5] and got[6] == np.inf
    assert got[8] > 0 and got[9] > 0             # denormal results, not flushed to 0
    assert ulp_error(got[7:10], np.exp(x[7:10].astype(np.float64))).max() <= 2.0
    np.testing.assert_array_equal(got[10:], [0.0, 0.0, np.inf])


def test_tanh_and_sigmoid_edges():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 30.0, 20.0, -20.0],
                 np.float32)
    t = pycnn.tanh(pycnn.tensor(x)).numpy()
    assert np.isnan(t[0])
    np.testing.assert_array_equal(t[1:], np.tanh(x[1:]))
    assert np.signbit(t[4])
    s = pycnn.sigmoid(pycnn.tensor(x)).numpy()
    assert np.isnan(s[0])
    np.testing.assert_array_equal(s[1:5], [1.0, 0.0, 0.5, 0.5])


def test_sigmoid_float32_matches_float64():
    x = np.linspace(-90, 90, 100001, dtype=np.float32)
    got = pycnn.sigmoid(pycnn.tensor(x)).numpy()
    exact = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    assert ulp_error(got, exact).max() <= 3.0


# ---- expm1 (selu, elu), log1p (softplus), Φ and e^(−x²/2) (gelu) ---------------------

SELU_L, SELU_A = 1.0507009873554805, 1.6732632423543772


def gelu64(x):
    from math import erfc
    return x * 0.5 * np.vectorize(erfc)(-x / np.sqrt(2.0))


def phi_pdf64(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


# (pycnn op, float64 reference, ulp bound documented in vmath.h for the helper it uses)
FORWARD = {
    "softplus": (pycnn.softplus, lambda x: np.logaddexp(0.0, x), 3.0),
    "selu": (pycnn.selu, lambda x: np.where(x > 0, SELU_L * x, SELU_L * SELU_A * np.expm1(x)),
             3.0),
    "elu": (pycnn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), 2.0),
    "gelu": (pycnn.gelu, gelu64, 16.0),
}


def normal_results(exact):
    """where the float32 result is a normal, finite float (denormals carry an absolute,
    not a relative, error)"""
    with np.errstate(over="ignore"):
        r = np.abs(exact.astype(np.float32))
    return np.isfinite(r) & (r >= np.finfo(np.float32).tiny)


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_forward_within_documented_ulps_everywhere(name):
    op, ref, bound = FORWARD[name]
    x = all_floats(step=997 if name != "gelu" else 4099)
    with np.errstate(all="ignore"):
        exact = ref(x.astype(np.float64))
    got = op(pycnn.tensor(x)).numpy()
    keep = normal_results(exact)
    assert ulp_error(got[keep], exact[keep]).max() <= bound
    # the rest (overflow to ±inf, underflow, exact 0): within one denormal step or equal
    with np.errstate(all="ignore"):
        rest = exact[~keep].astype(np.float32)
    assert np.all((got[~keep] == rest) | (np.abs(got[~keep] - exact[~keep]) <= 2e-45 * 4))


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_forward_ieee_edges(name):
    op, ref, _ = FORWARD[name]
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 1e30, -1e30], np.float32)
    got = op(pycnn.tensor(x)).numpy()
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64)).astype(np.float32)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:5], want[1:5])       # ±inf and ±0 exactly
    assert np.signbit(got[4]) == np.signbit(want[4])
    with np.errstate(all="ignore"):
        exact = ref(x[5:].astype(np.float64))
    finite = np.isfinite(want[5:])
    assert ulp_error(got[5:][finite], exact[finite]).max() <= FORWARD[name][2]
    np.testing.assert_array_equal(got[5:][~finite], want[5:][~finite])


def test_gelu_far_negative_tail_keeps_its_bits():
    """x Φ(x) is a normal float down to x ≈ −13.2 although Φ(x) alone is denormal there;
    below, it underflows to (−)0 smoothly instead of turning NaN"""
    x = np.linspace(-13.1, -5.0, 4001, dtype=np.float32)
    got = pycnn.gelu(pycnn.tensor(x)).numpy()
    assert ulp_error(got, gelu64(x.astype(np.float64))).max() <= FORWARD["gelu"][2]
    far = pycnn.gelu(pycnn.tensor(np.array([-14.5, -20.0, -1e4], np.float32))).numpy()
    np.testing.assert_array_equal(far, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("name, dref", [
    ("gelu", lambda x: 0.5 * np.vectorize(__import__("math").erfc)(-x / np.sqrt(2)) + x * phi_pdf64(x)),
    ("softplus", lambda x: 1.0 / (1.0 + np.exp(-x))),
    ("selu", lambda x: np.where(x > 0, SELU_L, SELU_L * SELU_A * np.exp(x))),
])
def test_backward_float32_matches_float64(name, dref):
    """the float32 gradient through the vectorized helpers against float64 math, from the
    tails to the middle; near gelu's zero (x ≈ −0.75) Φ + xφ cancels, so the absolute error
    is bounded by float32's eps, the spacing at the scale of the slope, 1"""
    x = np.concatenate([np.linspace(-30, 30, 60001), [-1e4, 1e4]]).astype(np.float32)
    t = pycnn.tensor(x, requires_grad=True)
    FORWARD[name][0](t).backward(np.ones_like(x))
    want = dref(x.astype(np.float64))
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=4e-6, atol=np.finfo(np.float32).eps)
