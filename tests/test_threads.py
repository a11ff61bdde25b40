"""Threads: kernels release the GIL, so two Python threads really run C at once.

Each thread builds its own graphs over shared read-only inputs; results must equal
the single-threaded ones bit for bit (the element-wise kernels are deterministic), and
`no_grad` in one thread must not switch recording off in the other.
"""
import threading

import numpy as np

import pycnn

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
