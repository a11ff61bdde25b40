"""Threads: kernels release the GIL, so two Python threads really run C at once; and
pycnn's own thread pool (kernels/parallel.c) under the kernels.

Each thread builds its own graphs over shared read-only inputs; results must equal
the single-threaded ones bit for bit (the element-wise kernels are deterministic), and
`no_grad` in one thread must not switch recording off in the other. The pool's kernels
give the same bits at any thread count, survive fork(), and obey threadpoolctl.
"""
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pycnn
from pycnn.layers import AveragePooling2D, Conv2D, Dense, MaxPooling2D

N = 40_000          # above PC_GIL_THRESHOLD: the kernels run without the GIL


def _work(x_np, w_np, seed):
    x = pycnn.tensor(x_np)
    w = pycnn.tensor(w_np * (1 + seed), requires_grad=True)
    y = pycnn.tanh(x * w + 0.5) * pycnn.sigmoid(w) - pycnn.exp(-pycnn.square(x)) / (1.0 + seed)
    y.backward(np.ones(y.shape, np.float32))
    return y.numpy().copy(), w.grad.numpy().copy()


def _run_in_threads(fns):
    results, errors = [None] * len(fns), []
    start = threading.Barrier(len(fns))

    def runner(i):
        try:
            start.wait()
            results[i] = fns[i]()
        except BaseException as e:     # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    assert not errors, errors
    return results


def test_two_threads_compute_the_same_as_one():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N).astype(np.float32)
    w = rng.standard_normal(N).astype(np.float32)
    expected = [_work(x, w, s) for s in (0, 1)]
    for _ in range(5):
        got = _run_in_threads([lambda s=s: [_work(x, w, s) for _ in range(10)] for s in (0, 1)])
        for s in (0, 1):
            for y, g in got[s]:
                np.testing.assert_array_equal(y, expected[s][0])
                np.testing.assert_array_equal(g, expected[s][1])


def test_no_grad_is_per_thread():
    inside = threading.Event()
    release = threading.Event()
    seen = []

    def quiet():
        with pycnn.no_grad():
            inside.set()
            release.wait(30)
            seen.append(pycnn.is_grad_enabled())

    t = threading.Thread(target=quiet)
    t.start()
    assert inside.wait(30)
    y = pycnn.tensor([1.0], requires_grad=True) * 2     # this thread still records
    release.set()
    t.join(30)
    assert y.requires_grad and y.op == "mul"
    assert seen == [False]


def test_resetting_grads_while_another_thread_backpropagates_does_not_crash():
    """Thread A backpropagates into w (kernels without the GIL) while thread B keeps
    assigning w.grad = None: the buffers A writes into stay alive until A's node is done."""
    rng = np.random.default_rng(0)
    w = pycnn.tensor(rng.standard_normal(N).astype(np.float32), requires_grad=True)
    x = rng.standard_normal(N).astype(np.float32)
    stop = threading.Event()

    def backprop():
        for _ in range(40):
            y = pycnn.tanh(x * w) * w + pycnn.exp(-pycnn.square(w))
            y.backward(np.ones(N, np.float32))
        stop.set()

    def reset():
        while not stop.is_set():
            w.grad = None

    _run_in_threads([backprop, reset])
    y = pycnn.tanh(x * w) * w
    w.grad = None
    y.backward(np.ones(N, np.float32))
    t = np.tanh(x * w.numpy())
    np.testing.assert_allclose(w.grad.numpy(), (1 - t ** 2) * x * w.numpy() + t, rtol=1e-5,
                               atol=1e-6)


# ---- pycnn's own thread pool (kernels/parallel.c): set/get, defaults, fork, determinism ----

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def restore_threads():
    before = pycnn.get_num_threads()
    yield
    pycnn.set_num_threads(before)


def test_set_and_get_num_threads(restore_threads):
    for n in (1, 3, 2):
        pycnn.set_num_threads(n)
        assert pycnn.get_num_threads() == n
    pycnn.set_num_threads(np.int64(4))          # any integer type, as torch
    assert pycnn.get_num_threads() == 4


@pytest.mark.parametrize("bad,error,words", [
    (0, ValueError, "between 1 and 256, got 0"),
    (-2, ValueError, "got -2"),
    (257, ValueError, "got 257"),
    (10**30, ValueError, "between 1 and 256"),
    (1.5, TypeError, "must be an int, got float"),
    ("2", TypeError, "got str"),
    (True, TypeError, "got bool"),
    (None, TypeError, "got NoneType"),
])
def test_set_num_threads_rejects_bad_values(bad, error, words, restore_threads):
    before = pycnn.get_num_threads()
    with pytest.raises(error, match="set_num_threads: .*" + words):
        pycnn.set_num_threads(bad)
    assert pycnn.get_num_threads() == before


def _threads_in_subprocess(env_update):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYCNN_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(env_update)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", "import pycnn; print(pycnn.get_num_threads())"],
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    return int(out.stdout.split()[-1])


def test_default_thread_count_comes_from_the_environment():
    cpus = len(os.sched_getaffinity(0))
    assert _threads_in_subprocess({"PYCNN_NUM_THREADS": "3", "OMP_NUM_THREADS": "5"}) == 3
    # PYCNN_NUM_THREADS that is not a positive integer is ignored; OMP's list form counts
    # its first (outermost) level
    assert _threads_in_subprocess({"PYCNN_NUM_THREADS": "many", "OMP_NUM_THREADS": "5,2"}) == 5
    assert _threads_in_subprocess({"PYCNN_NUM_THREADS": "0"}) == cpus
    assert _threads_in_subprocess({}) == cpus


def _conv_step(x, threads):
    """Conv2D with bias and relu, forward + backward, at a size the pool splits."""
    pycnn.set_num_threads(threads)
    pycnn.set_seed(0)
    layer = Conv2D(32, 3, padding="same", activation="relu")
    xt = pycnn.tensor(x, requires_grad=True)
    y = layer(xt)
    y.backward(np.cos(np.arange(y.numpy().size, dtype=x.dtype)).reshape(y.shape))
    return [y.numpy().copy(), xt.grad.numpy().copy()] + [w.grad.numpy().copy()
                                                          for w in layer.weights]


def _pool_step(layer, x, threads):
    pycnn.set_num_threads(threads)
    xt = pycnn.tensor(x, requires_grad=True)
    y = layer(xt)
    y.backward(np.sin(np.arange(y.numpy().size, dtype=x.dtype)).reshape(y.shape))
    (layer(xt) * 2.0).backward(np.ones(y.shape, x.dtype))   # into a gradient that exists
    return [y.numpy().copy(), xt.grad.numpy().copy()]


def _dense_step(x, threads):
    pycnn.set_num_threads(threads)
    pycnn.set_seed(0)
    layer = Dense(64, activation="relu")
    xt = pycnn.tensor(x, requires_grad=True)
    y = layer(xt)
    y.backward(np.cos(np.arange(y.numpy().size, dtype=x.dtype)).reshape(y.shape))
    return [y.numpy().copy(), xt.grad.numpy().copy()] + [w.grad.numpy().copy()
                                                          for w in layer.weights]


def _assert_bit_identical(step):
    one = step(1)
    for threads in (2, 3):
        for a, b in zip(one, step(threads)):
            np.testing.assert_array_equal(a, b)


@pytest.fixture
def conv_algorithm():
    previous = pycnn._core._set_conv_algorithm("auto")
    yield pycnn._core._set_conv_algorithm
    pycnn._core._set_conv_algorithm(previous)


@pytest.mark.parametrize("algorithm,channels,dtype", [
    ("im2col", 8, np.float32), ("im2col", 8, np.float64),
    ("winograd", 8, np.float32), ("direct", 3, np.float32),
])
def test_conv_is_bit_identical_at_any_thread_count(algorithm, channels, dtype, conv_algorithm,
                                                   restore_threads):
    conv_algorithm(algorithm)
    x = np.random.default_rng(0).standard_normal((4, 32, 32, channels)).astype(dtype)
    _assert_bit_identical(lambda t: _conv_step(x, t))


@pytest.mark.parametrize("layer", [
    MaxPooling2D(2),                                 # rows own disjoint bands of dx
    MaxPooling2D(3, strides=1, padding="same"),      # windows overlap: split by images
    MaxPooling2D(2, strides=3),                      # gaps between windows stay zero
    AveragePooling2D(3, strides=2, padding="same"),
], ids=["max2", "max3s1", "max2s3", "avg3s2"])
def test_pooling_is_bit_identical_at_any_thread_count(layer, restore_threads):
    x = np.random.default_rng(1).standard_normal((6, 29, 31, 16)).astype(np.float32)
    _assert_bit_identical(lambda t: _pool_step(layer, x, t))


def test_dense_relu_is_bit_identical_at_any_thread_count(restore_threads):
    x = np.random.default_rng(2).standard_normal((2048, 100)).astype(np.float32)
    _assert_bit_identical(lambda t: _dense_step(x, t))


def _max_pool_grad_reference(x, k, s, dy):
    """dx of a 'valid' max pool: each window's gradient to its first maximal element."""
    n, h, w, c = x.shape
    dx = np.zeros_like(x)
    for i in range(dy.shape[1]):
        for j in range(dy.shape[2]):
            win = x[:, i * s:i * s + k, j * s:j * s + k, :].reshape(n, k * k, c)
            first = win.argmax(axis=1)                               # (n, c)
            r, q = first // k, first % k
            nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
            dx[nn, i * s + r, j * s + q, cc] += dy[:, i, j, :]
    return dx


@pytest.mark.parametrize("k,s", [(2, 2), (2, 3), (3, 2), (3, 3)])
def test_max_pool_gradient_written_without_zero_fill_is_right(k, s, restore_threads):
    """A fresh gradient is written element by element (no zero-fill first): pixels no
    window covers (odd sizes, strides beyond the window) must still read 0, even in a
    recycled buffer that held other numbers."""
    pycnn.set_num_threads(2)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 29, 27, 16)).astype(np.float32)    # > 64 KiB: recycled
    for _ in range(3):
        garbage = pycnn.tensor(rng.standard_normal(x.shape).astype(np.float32) * 1e6)
        del garbage                                                  # a dirty buffer waits
        xt = pycnn.tensor(x, requires_grad=True)
        y = pycnn.max_pool2d(xt, k, s)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(dy)
        np.testing.assert_array_equal(xt.grad.numpy(), _max_pool_grad_reference(x, k, s, dy))


def test_threads_from_two_python_threads_share_the_pool(restore_threads):
    """Two Python threads run pooled kernels at once: one owns the pool, the other runs
    inline; both get the single-threaded results."""
    pycnn.set_num_threads(2)
    x = np.random.default_rng(4).standard_normal((4, 32, 32, 8)).astype(np.float32)
    expected = _conv_step(x, 1)
    pycnn.set_num_threads(2)
    layer = MaxPooling2D(2)
    pool_expected = _pool_step(layer, x, 1)

    def conv():
        return [_conv_step(x, 2) for _ in range(4)]

    def pool():
        return [_pool_step(layer, x, 2) for _ in range(8)]

    got = _run_in_threads([conv, pool])
    for result, want in [(r, expected) for r in got[0]] + [(r, pool_expected) for r in got[1]]:
        for a, b in zip(result, want):
            np.testing.assert_array_equal(a, b)


def test_a_forked_child_recreates_the_pool(restore_threads):
    """The parent's workers do not exist in a fork child: the child must start its own
    (or run inline) instead of waiting for them forever."""
    pycnn.set_num_threads(2)
    x = np.random.default_rng(5).standard_normal((4, 32, 32, 8)).astype(np.float32)
    expected = _conv_step(x, 2)             # the parent's workers are running now
    pid = os.fork()
    if pid == 0:                            # child: no pytest from here on
        code = 1
        try:
            got = _conv_step(x, 2)
            code = 0 if all(np.array_equal(a, b) for a, b in zip(got, expected)) else 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hangs in a pooled kernel")
        time.sleep(0.02)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    np.testing.assert_array_equal(_conv_step(x, 2)[1], expected[1])   # parent still fine


def test_threadpoolctl_sees_and_limits_pycnn(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    pycnn.set_num_threads(2)
    info = [lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "pycnn"]
    assert len(info) == 1 and info[0]["num_threads"] == 2
    assert info[0]["version"] == pycnn.__version__
    with threadpoolctl.threadpool_limits(1):
        assert pycnn.get_num_threads() == 1
    assert pycnn.get_num_threads() == 2
    with threadpoolctl.threadpool_limits(limits=1, user_api="pycnn"):
        assert pycnn.get_num_threads() == 1
    assert pycnn.get_num_threads() == 2


def test_pycnn_imports_without_threadpoolctl():
    code = ("import sys; sys.modules['threadpoolctl'] = None\n"
            "import pycnn; pycnn.set_num_threads(1); print(pycnn.get_num_threads())")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT,
                                                                    os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "1"
