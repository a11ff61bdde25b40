"""The Layer protocol's per-call overhead and the graph walk's, on tiny inputs where the
arithmetic costs nothing (issue 14's bound: a 10-layer functional model within 10 % of
the same Sequential).

    python -m benchmarks.protocol            # this checkout
    PYTHONPATH=/path/to/other/checkout python -m benchmarks.protocol   # another build

Rows (µs per call: the fastest of 15 blocks of calls, since the machine is shared and
other jobs only ever slow a block down):
  dense_call        Dense(4)(x), x (1, 4), forward only (no_grad): the C __call__
  python_layer      a Python Layer subclass (x * alpha) through the same __call__
  seq_predict       10-layer Sequential of Dense(8): predict_on_batch on (2, 8)
  fun_predict       the same 10 layers as Model(inputs, outputs)
  seq_train         train_on_batch (sgd, mse) of the Sequential
  fun_train         train_on_batch of the functional model
Rows a build lacks (no pycnn.Input before issue 14) print "-".
"""
import time

import numpy as np


def _best_us(fn, calls=200, blocks=15):
    fn()
    times = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) / calls * 1e6)
    return min(times)


def _ten_dense(pycnn, functional):
    from pycnn.layers import Dense
    if functional:
        x = pycnn.Input((8,))
        y = x
        for _ in range(10):
            y = Dense(8, activation="relu")(y)
        model = pycnn.Model(x, y)
    else:
        from pycnn.models import Sequential
        model = Sequential([Dense(8, activation="relu", input_shape=(8,))] +
                           [Dense(8, activation="relu") for _ in range(9)])
    model.compile("sgd", "mse")
    return model


def rows(pycnn):
    from pycnn.layers import Dense, Layer
    x = np.ones((1, 4), np.float32)
    dense = Dense(4)
    dense(x)

    class Scale(Layer):
        def build(self, input_shape):
            self.alpha = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.alpha

        def compute_output_shape(self, input_shape):     # the old protocol needed it
            return input_shape
    scale = Scale()
    scale(x)
    xt = pycnn.tensor(x)
    out = {}
    with pycnn.no_grad():
        out["dense_call"] = _best_us(lambda: dense(xt))
        out["python_layer"] = _best_us(lambda: scale(xt))
    xb, yb = np.ones((2, 8), np.float32), np.zeros((2, 8), np.float32)
    for kind, functional in (("seq", False), ("fun", True)):
        if functional and not hasattr(pycnn, "Input"):
            out[f"{kind}_predict"] = out[f"{kind}_train"] = None
            continue
        model = _ten_dense(pycnn, functional)
        out[f"{kind}_predict"] = _best_us(lambda: model.predict_on_batch(xb), calls=50)
        out[f"{kind}_train"] = _best_us(lambda: model.train_on_batch(xb, yb), calls=50)
    return out


def main():
    import pycnn
    print(f"pycnn from {pycnn.__file__}")
    for key, value in rows(pycnn).items():
        print(f"  {key:<14} {'-' if value is None else f'{value:8.1f} µs'}")


if __name__ == "__main__":
    main()
