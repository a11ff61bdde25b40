"""float32 exp, tanh and sigmoid use vmath.h's vectorizable versions: within 2 ulp of
the correctly rounded value over the whole float range, with IEEE edge cases intact."""
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
