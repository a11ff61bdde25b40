"""The float unary maps and swish exist three times (unary_impl.h): the baseline build and,
on x86-64 Linux, AVX2 + FMA and AVX-512 builds that the CPU picks at run time.
PYCNN_UNARY_ISA=base|avx2 asks for a narrower one, so each build is run here in a child
process and checked against float64 math: forward and gradient, a fresh gradient buffer
(overwritten) against an accumulated one, and the same bits at 1 and 2 threads (block
boundaries then fall at other elements). A build the CPU lacks falls back to a narrower
one, which is then checked twice."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

SELU_L, SELU_A = 1.0507009873554805, 1.6732632423543772

CHILD = r"""
import sys
import numpy as np
import pycnn
out = sys.argv[1]
x = np.concatenate([np.linspace(-30, 30, 120001), [-1e4, 1e4, 0.0]]).astype(np.float32)
res = {"x": x}
names = ["gelu", "softplus", "selu", "relu6", "sigmoid", "tanh", "exp", "softsign",
         "hard_sigmoid", "relu", "swish"]
for threads in (1, 2):
    pycnn.set_num_threads(threads)
    for name in names:
        f = getattr(pycnn, name)
        t = pycnn.tensor(x, requires_grad=True)
        y = f(t)
        y.backward(np.ones_like(x))
        res[f"{name}_y_{threads}"] = y.numpy().copy()
        res[f"{name}_g_{threads}"] = t.grad.numpy().copy()
        t2 = pycnn.tensor(x, requires_grad=True)        # x feeds two ops: the second adds
        (f(t2) + f(t2)).backward(np.ones_like(x))
        res[f"{name}_g2_{threads}"] = t2.grad.numpy().copy()
np.savez(out, **res)
"""


def _run(isa, tmp_path):
    out = tmp_path / f"{isa}.npz"
    env = dict(os.environ, PYCNN_UNARY_ISA=isa)
    subprocess.run([sys.executable, "-c", CHILD, str(out)], check=True, env=env, timeout=240,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return dict(np.load(out))


def _refs(x):
    erfc = np.vectorize(math.erfc)
    pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    with np.errstate(all="ignore"):
        sig = 1.0 / (1.0 + np.exp(-x))
        return {
            "gelu": (x * 0.5 * erfc(-x / np.sqrt(2)), 0.5 * erfc(-x / np.sqrt(2)) + x * pdf),
            "softplus": (np.logaddexp(0.0, x), sig),
            "selu": (np.where(x > 0, SELU_L * x, SELU_L * SELU_A * np.expm1(x)),
                     np.where(x > 0, SELU_L, SELU_L * SELU_A * np.exp(x))),
            "sigmoid": (sig, sig * (1 - sig)),
            "tanh": (np.tanh(x), 1 - np.tanh(x) ** 2),
            "swish": (x * sig, sig + x * sig * (1 - sig)),
            "softsign": (x / (1 + np.abs(x)), 1 / (1 + np.abs(x)) ** 2),
        }


@pytest.mark.parametrize("isa", ["base", "avx2", "avx512"])
def test_each_build_matches_float64_and_is_thread_count_independent(isa, tmp_path):
    r = _run(isa, tmp_path)
    x = r["x"].astype(np.float64)
    finite = np.abs(x) < 1e3
    for name, (y_ref, g_ref) in _refs(x).items():
        y, g = r[f"{name}_y_1"].astype(np.float64), r[f"{name}_g_1"].astype(np.float64)
        np.testing.assert_allclose(y[finite], y_ref[finite], rtol=4e-6, atol=1e-37,
                                   err_msg=f"{isa} {name} forward")
        np.testing.assert_allclose(g[finite], g_ref[finite], rtol=4e-6,
                                   atol=np.finfo(np.float32).eps, err_msg=f"{isa} {name} grad")
    for key in [k for k in r if k.endswith("_1")]:
        np.testing.assert_array_equal(r[key], r[key[:-1] + "2"], err_msg=f"{isa} {key} 1 vs 2 threads")
    for name in ["gelu", "softplus", "selu", "relu6", "sigmoid", "tanh", "exp", "softsign",
                 "hard_sigmoid", "relu", "swish"]:
        g, g2 = r[f"{name}_g_1"], r[f"{name}_g2_1"]
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(g2, g + g, err_msg=f"{isa} {name} accumulated")
    relu6 = r["relu6_y_1"]
    np.testing.assert_array_equal(relu6, np.clip(r["x"], 0, 6))
    np.testing.assert_array_equal(r["relu6_g_1"], ((r["x"] > 0) & (r["x"] < 6)).astype(np.float32))
