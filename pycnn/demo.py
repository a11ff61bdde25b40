"""The lecture in one run: ``python -m pycnn.demo`` (``make demo``).

1. tensors and the graph of tensors, with a gradient computed in C;
2. the lecture's MLP and its ``model.summary()`` with the arithmetic of every count,
   trained on real MNIST (the 10,000 official test images that ship with pycnn, split
   8,000 / 2,000 — or Keras' 60,000 / 10,000 when the full files are in $PYCNN_DATA);
3. an MLP and a small CNN (Conv2D → MaxPooling2D → Conv2D → MaxPooling2D → Flatten →
   Dense) trained on the 8×8 handwritten digits, with Keras' progress bars (the test
   set is the validation data, as in Keras' MNIST examples);
4. the test accuracies, the learning curves and the Sobel feature maps of a digit, saved
   as PNG files in the output folder (``demo_output/`` unless ``--output`` says else).

Everything is seeded (``pycnn.set_seed``), so two runs print the same numbers.
"""
import argparse as _argparse
import contextlib as _contextlib
import os as _os
import sys as _sys
import time as _time

import numpy as _np

import pycnn
from pycnn import filters
from pycnn.datasets import digits, mnist
from pycnn.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from pycnn.models import Sequential
from pycnn.utils import to_categorical

MNIST_TARGET, MLP_TARGET, CNN_TARGET = 0.95, 0.95, 0.97
SEED = 7


def section(title):
    print(f"\n{'─' * 72}\n{title}\n{'─' * 72}")


def show_tensors():
    section("1. Tensors and the graph of tensors (every op and its backward in C)")
    a = pycnn.tensor([[1, 2], [3, 4]], requires_grad=True)
    b = pycnn.tensor([[2, 0], [6, 6]])
    c = a + b
    e = (c * a).sum()
    e.backward()
    print(f"a = {a.tolist()},  b = {b.tolist()}")
    print(f"c = a + b            = {c.tolist()}   (op: {c.op})")
    print(f"e = Σ c·a            = {e.item():g}")
    print(f"∂e/∂a = c + a        = {a.grad.tolist()}   "
          f"(a feeds two ops: Backward(a) = Σ over its children)")


def lecture_mlp(epochs):
    section("2. The lecture's MLP for MNIST (784 → 512 → 512 → 10) and its arithmetic, "
            "trained on real MNIST")
    model = Sequential()
    model.add(Dense(512, activation="relu", input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation="softmax"))
    model.summary(show_arithmetic=True)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    print(f"\nMNIST: {len(x_train):,} training and {len(x_test):,} test images of 28×28 pixels"
          + (" (the official test set bundled with pycnn, split 8,000 / 2,000)"
             if len(x_train) == 8000 else ""))
    x_train = x_train.reshape(len(x_train), 784).astype(_np.float32) / _np.float32(255)
    x_test = x_test.reshape(len(x_test), 784).astype(_np.float32) / _np.float32(255)
    model.compile(optimizer=pycnn.optimizers.RMSprop(), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, to_categorical(y_train, 10), batch_size=128, epochs=epochs,
                        validation_data=(x_test, to_categorical(y_test, 10)))
    loss, accuracy = model.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    return history, accuracy


def load_digits():
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2, seed=0)
    return (x_train[..., None], y_train), (x_test[..., None], y_test)


def train_mlp(data, epochs):
    section("3. An MLP on the 8×8 digits (64 → 256 → 10), categorical cross-entropy")
    (x_train, y_train), (x_test, y_test) = data
    x_train, x_test = x_train.reshape(len(x_train), 64), x_test.reshape(len(x_test), 64)
    model = Sequential([Dense(256, activation="relu", input_shape=(64,)), Dropout(0.2),
                        Dense(10, activation="softmax")])
    model.summary()
    model.compile(optimizer=pycnn.optimizers.Adam(learning_rate=0.002),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, to_categorical(y_train, 10), batch_size=32, epochs=epochs,
                        validation_data=(x_test, to_categorical(y_test, 10)))
    loss, accuracy = model.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    return model, history, accuracy


def digits_cnn():
    """The demo's CNN for the 8×8 digits, untrained."""
    return Sequential([
        Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 1)),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), padding="same", activation="relu"),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(10, activation="softmax"),
    ])


def train_cnn(data, epochs):
    section("4. A CNN on the digits: Conv2D → MaxPooling2D → Conv2D → MaxPooling2D → "
            "Flatten → Dense")
    (x_train, y_train), (x_test, y_test) = data
    model = digits_cnn()
    model.summary(show_arithmetic=True)
    model.compile(optimizer=pycnn.optimizers.Adam(learning_rate=0.003),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs,
                        validation_data=(x_test, y_test))
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return model, history, accuracy


def upsample(image, factor):
    """Bilinear upsampling of a 2-D image by matrices: U · image · Uᵀ."""
    n = image.shape[0]
    positions = (_np.arange(n * factor) + 0.5) / factor - 0.5
    lower = _np.clip(_np.floor(positions).astype(int), 0, n - 1)
    upper = _np.clip(lower + 1, 0, n - 1)
    weight = _np.clip(positions - lower, 0.0, 1.0)
    u = _np.zeros((n * factor, n))
    u[_np.arange(n * factor), lower] += 1.0 - weight
    u[_np.arange(n * factor), upper] += weight
    return (u @ image @ u.T).astype(_np.float32)


def save_figures(out, histories, digit):
    from ._optional import require
    require("matplotlib", "the demo's figures").use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for name, (history, title) in histories.items():
        fig = history.plot()[0].figure
        fig.suptitle(title, y=1.02)
        paths.append(_os.path.join(out, f"learning_curves_{name}.png"))
        fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
        plt.close(fig)

    image = upsample(digit, 4)                              # 32×32, smoother edges
    kernel = filters.to_kernel(filters.sobel_x(), filters.sobel_y())        # (3, 3, 1, 2)
    maps = pycnn.conv2d(image[None, :, :, None], kernel, padding="same").numpy()[0]
    gx, gy = maps[..., 0], maps[..., 1]
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
    panels = [(image, "the digit (upsampled 4×)", "gray"),
              (gx, "Sobel x: vertical edges (red: brighter left)", "RdBu_r"),
              (gy, "Sobel y: horizontal edges (red: brighter above)", "RdBu_r"),
              (_np.hypot(gx, gy), "edge strength √(gx² + gy²)", "magma")]
    for ax, (data, title, cmap) in zip(axes, panels):
        limit = _np.abs(data).max() or 1.0
        ax.imshow(data, cmap=cmap, vmin=-limit if cmap == "RdBu_r" else None,
                  vmax=limit if cmap == "RdBu_r" else None)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    paths.append(_os.path.join(out, "sobel_feature_maps.png"))
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)
    return paths


def main(argv=None):
    parser = _argparse.ArgumentParser(prog="python -m pycnn.demo", description=__doc__,
                                      formatter_class=_argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="demo_output",
                        help="folder for the PNG files (default: demo_output)")
    parser.add_argument("--mnist-epochs", type=int, default=6,
                        help="epochs of the lecture's MLP on MNIST (default: 6)")
    parser.add_argument("--mlp-epochs", type=int, default=40)
    parser.add_argument("--cnn-epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=SEED,
                        help=f"seed of weights, dropout and shuffling (default: {SEED})")
    args = parser.parse_args(argv)
    start = _time.time()
    pycnn.clear_session()               # names from dense_1, as in the lecture
    pycnn.set_seed(args.seed)
    with _one_blas_thread():
        status = run(args, start)
    return status


def _one_blas_thread():
    """The digits' matrices are small: a multi-threaded BLAS spends more time waking
    its threads than multiplying (10× slower on a busy 2-core machine), so the demo
    runs NumPy's BLAS on one thread when threadpoolctl is there to say so."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return _contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run(args, start):
    show_tensors()
    mnist_history, mnist_accuracy = lecture_mlp(args.mnist_epochs)
    data = load_digits()
    print(f"\nDigits: {len(data[0][0])} training and {len(data[1][0])} test images of 8×8 "
          f"pixels (scikit-learn's copy of the UCI set)")
    _, mlp_history, mlp_accuracy = train_mlp(data, args.mlp_epochs)
    _, cnn_history, cnn_accuracy = train_cnn(data, args.cnn_epochs)

    _os.makedirs(args.output, exist_ok=True)
    histories = {"mnist_mlp": (mnist_history, "The lecture's MLP on MNIST"),
                 "mlp": (mlp_history, "MLP on the 8×8 digits"),
                 "cnn": (cnn_history, "CNN on the 8×8 digits")}
    paths = save_figures(args.output, histories, data[1][0][0, :, :, 0])
    elapsed = _time.time() - start

    section("Results")
    results = (("Lecture MLP on MNIST", mnist_accuracy, MNIST_TARGET),
               ("MLP", mlp_accuracy, MLP_TARGET), ("CNN", cnn_accuracy, CNN_TARGET))
    for name, accuracy, target in results:
        verdict = "target met" if accuracy >= target else "BELOW TARGET"
        print(f"{name} test accuracy: {accuracy:.2%}   (target ≥ {target:.0%}: {verdict})")
    print(f"Whole demo: {elapsed:.1f} s")
    print(f"Figures in {_os.path.abspath(args.output)}/:")
    for path in paths:
        print(f"  {_os.path.basename(path)}")
    return 0 if all(accuracy >= target for _, accuracy, target in results) else 1


if __name__ == "__main__":
    _sys.exit(main())
