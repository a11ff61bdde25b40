"""No leaks: resident memory stays flat over thousands of graphs and training steps.

Each measurement runs in a fresh interpreter (what other tests allocated does not
blur it): warm up, read RSS from /proc/self/statm, repeat the work many times, read
RSS again. Growth must stay under 5 MB. Live Tensor objects are counted too: a leaked
reference keeps a Tensor alive long before it shows in RSS.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

LIMIT_MB = 5.0

PRELUDE = textwrap.dedent("""
    import gc, json, os, sys
    import numpy as np
    import pycnn

    PAGE = os.sysconf("SC_PAGE_SIZE")

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE / 2**20

    def live_tensors():
        gc.collect()
        return sum(isinstance(o, pycnn.Tensor) for o in gc.get_objects())

    def measure(step, warmup, n):
        for i in range(warmup):
            step(i)
        gc.collect()
        before, t_before = rss_mb(), live_tensors()
        for i in range(n):
            step(i)
        gc.collect()
        print(json.dumps({"growth_mb": rss_mb() - before,
                          "tensor_growth": live_tensors() - t_before, "rss_mb": rss_mb()}))
""")


def run(body):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(body)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_flat(name, body):
    """Runs body in a fresh interpreter; its RSS grew less than LIMIT_MB and no Tensor outlived it."""
    got = run(body)
    print(f"{name}: RSS growth {got['growth_mb']:.3f} MB, live tensors {got['tensor_growth']:+d}")
    assert got["growth_mb"] < LIMIT_MB
    assert got["tensor_growth"] <= 0


def test_20000_small_graphs_forward_backward_do_not_grow_rss():
    assert_flat("graphs", """
        rng = np.random.default_rng(0)
        w = pycnn.tensor(rng.standard_normal((8, 8)), requires_grad=True)
        b = pycnn.tensor(rng.standard_normal(8), requires_grad=True)
        x = rng.standard_normal((4, 8)).astype(np.float32)

        def step(i):
            h = pycnn.tanh(pycnn.tensor(x) @ w)
            y = pycnn.sigmoid(h + b) * pycnn.exp(-pycnn.square(h)) - pycnn.relu(h) / 3.0
            pycnn.mean(pycnn.sum(y * y, axis=1)).backward()
            if i % 100 == 0:
                w.grad = None
                b.grad = None
        measure(step, 2000, 20000)
    """)


def test_error_paths_do_not_leak():
    """Every raised error unwinds its references (the bad-input paths, 20,000 times)."""
    assert_flat("errors", """
        t = pycnn.tensor(np.ones((2, 3)), requires_grad=True)
        bad = [lambda: t + np.ones(4), lambda: pycnn.exp("x"), lambda: pycnn.tensor([[1], [1, 2]]),
               lambda: (t * 2).backward(np.ones(3)), lambda: t.astype("int8"),
               lambda: setattr(t, "grad", np.ones(5)), lambda: pycnn.tensor(np.zeros((1,) * 40)),
               lambda: (t * 2).backward()]

        def once_freed():
            y = pycnn.exp(t) * 2
            y.backward(np.ones((2, 3)))
            y.backward(np.ones((2, 3)))
        bad.append(once_freed)

        def step(i):
            try:
                bad[i % len(bad)]()
            except (TypeError, ValueError, RuntimeError):
                pass
            else:
                raise AssertionError(i)
        measure(step, 2000, 20000)
    """)


def test_graphs_dropped_without_backward_are_freed():
    assert_flat("dropped", """
        x = pycnn.tensor(np.ones(256), requires_grad=True)

        def step(i):
            y = x
            for _ in range(50):
                y = pycnn.tanh(y) * 1.01 + 0.1
            keep = y.detach()
        measure(step, 200, 2000)
    """)


def test_5000_train_on_batch_steps_do_not_grow_rss():
    assert_flat("train_on_batch", """
        from pycnn import layers as L
        from pycnn.models import Sequential
        pycnn.set_seed(0)
        model = Sequential([L.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                            L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.25),
                            L.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        rng = np.random.default_rng(0)
        x = rng.random((16, 8, 8, 1), dtype=np.float32)
        y = rng.integers(0, 10, 16)

        def step(i):
            model.train_on_batch(x, y)
            if i % 50 == 0:
                model.predict_on_batch(x)
        measure(step, 500, 5000)
    """)
