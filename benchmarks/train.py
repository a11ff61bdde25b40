"""One training benchmark in its own process, so its peak RSS is its own.

    python -m benchmarks.train {pycnn,torch,numpy_ref} {mlp,cnn} THREADS REPS

Prints one JSON line: seconds per epoch (each rep one full epoch, after a short
warm-up), the process's peak RSS and its RSS before the model was built (imports and
data only). Only the framework being measured is imported.

The models (synthetic MNIST-shaped data; timing does not depend on the values):
  mlp  784-512(relu)-512(relu)-10, batch 128, 10,000 samples
  cnn  conv 3×3×32 same relu → maxpool 2 → conv 3×3×64 same relu → maxpool 2 → dense 10,
       batch 64, 2,000 images of 28×28×1
Both: softmax cross-entropy on logits, SGD lr 0.01, shuffled every epoch, the loss read
back every step (as Keras' progress bar and a PyTorch loop's running loss do).
"""
import json
import sys
import time

import numpy as np

from . import harness

SPECS = {"mlp": {"n": 10_000, "batch": 128}, "cnn": {"n": 2_000, "batch": 64}}
LR = 0.01


def make_data(model, seed=0):
    rng = np.random.default_rng(seed)
    n = SPECS[model]["n"]
    shape = (n, 784) if model == "mlp" else (n, 28, 28, 1)
    x = rng.random(shape, dtype=np.float32)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    return x, y


# ---- pycnn ---------------------------------------------------------------------------


def pycnn_model(pycnn, model):
    L = pycnn.layers
    if model == "mlp":
        layers = [L.Dense(512, activation="relu", input_shape=(784,)),
                  L.Dense(512, activation="relu"),
                  L.Dense(10)]
    else:
        layers = [L.Conv2D(32, 3, padding="same", activation="relu", input_shape=(28, 28, 1)),
                  L.MaxPooling2D(2),
                  L.Conv2D(64, 3, padding="same", activation="relu"),
                  L.MaxPooling2D(2),
                  L.Flatten(),
                  L.Dense(10)]
    net = pycnn.models.Sequential(layers)
    net.compile(optimizer=pycnn.optimizers.SGD(learning_rate=LR),
                loss=pycnn.losses.SparseCategoricalCrossentropy(from_logits=True))
    return net


def run_pycnn(model, x, y):
    import pycnn
    net = pycnn_model(pycnn, model)
    batch = SPECS[model]["batch"]

    def epoch(part):
        net.fit(x[part], y[part], batch_size=batch, epochs=1, verbose=0, shuffle=True)
    return epoch


# ---- PyTorch -------------------------------------------------------------------------


def torch_model(torch, model):
    nn = torch.nn
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, 10))


def run_torch(model, x, y):
    import torch
    net = torch_model(torch, model)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = SPECS[model]["batch"]
    if model == "cnn":                  # PyTorch's own layout, as a PyTorch user writes it
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(part):
        xs, ys = x_t[part], y_t[part]
        order = torch.randperm(len(xs))
        running = 0.0
        for start in range(0, len(xs), batch):
            idx = order[start:start + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
            running += loss.item()
        return running
    return epoch


# ---- the NumPy reference ---------------------------------------------------------------


def run_numpy_ref(model, x, y):
    from . import numpy_ref as ref
    net = ref.MLP() if model == "mlp" else ref.CNN()
    batch = SPECS[model]["batch"]
    rng = np.random.default_rng(1)
    if model == "cnn":                  # the course code is NCHW
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def epoch(part):
        ref.sgd_epoch(net, x[part], y[part], batch, LR, rng)
    return epoch


RUNNERS = {"pycnn": run_pycnn, "torch": run_torch, "numpy_ref": run_numpy_ref}


def main(argv):
    framework, model, n_threads, reps = argv[0], argv[1], int(argv[2]), int(argv[3])
    x, y = make_data(model)
    torch_mod = pycnn_mod = None
    if framework == "torch":
        import torch as torch_mod
    elif framework == "pycnn":
        import pycnn as pycnn_mod
    rss_before = harness.current_rss_mib()
    with harness.threads(n_threads, torch=torch_mod, pycnn=pycnn_mod):
        epoch = RUNNERS[framework](model, x, y)
        epoch(slice(0, 3 * SPECS[model]["batch"]))         # warm-up: three steps
        times, cpu = [], []
        own_threads = pycnn_mod.get_num_threads() if pycnn_mod is not None else None
        for _ in range(reps):
            c0, t0 = time.process_time(), time.perf_counter()
            epoch(slice(None))
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    print(json.dumps({"framework": framework, "model": model, "threads": n_threads,
                      "epoch_s": sorted(times)[len(times) // 2], "reps": times,
                      "epoch_cpu_s": sorted(cpu)[len(cpu) // 2],
                      "peak_rss_mib": harness.peak_rss_mib(), "rss_before_mib": rss_before,
                      "pycnn_threads": own_threads}))


if __name__ == "__main__":
    main(sys.argv[1:])
