"""The shape sweep of issue 17: Conv2D over the space a CNN course uses, whole training
steps, and predict throughput, each against PyTorch CPU (NCHW and channels_last, the
faster counts) and against NumPy's own sgemm throughput measured in the same run.

    python -m benchmarks.sweep [--quick] [--threads 1 2] [--reps 5] [--only SUBSTRING]
                               [--out FILE] [--json FILE]

`make bench` runs the whole sweep as one section of BENCHMARKS.md; `make bench-quick`
runs the quick subset and prints the section (it does not touch BENCHMARKS.md).

How the Conv2D rows were chosen (not the full cross product, which would be ~10^4
rows): one base layer, 3×3 'same' 32→32 on (32, 28, 28, 32), varied along one axis
at a time — kernel 1/3/5/7, stride 2, dilation 2, 'valid', channels 1…256, image
7…224 (batch shrunk so the work stays near the base's), batch 1…256 — plus the
layers of real networks the course meets (LeNet's 5×5 on 1 channel, the VGG/ResNet
3×3 stages at 56/112, the 7×7 stride-2 stem on 224×224×3, the 1×1 projections) and
the rows issue 17 names. Every row is timed in three modes:
  fwd       inference (no graph: pycnn.no_grad / torch.no_grad)
  train     forward + backward with the input gradient (a layer inside a network)
  train_nodx forward + backward without it (a network's first layer)
FLOPs are the direct convolution's 2·N·OH·OW·KH·KW·C·F per pass (forward 1 pass,
train 3, train_nodx 2), as cuDNN and oneDNN count them, whatever the route.

The base layer's rows over batch and image size also give a table of time per GFLOP
(cost against the work).

Timing: the columns of a row run interleaved (benchmarks/harness.py), and each
reports the *fastest* of its blocks: on a shared machine the minimum is the figure
least inflated by other jobs (the load average is printed beside the table).
"""
import argparse
import dataclasses
import json
import math
import os
import pathlib
import statistics
import time

import numpy as np

from . import harness, rows

MODES = {"fwd": 1, "train": 3, "train_nodx": 2}     # passes of the direct-conv FLOP count


@dataclasses.dataclass(frozen=True)
class ConvCase:
    n: int
    hw: int
    c: int
    f: int
    k: int = 3
    stride: int = 1
    dilation: int = 1
    padding: str = "same"
    why: str = ""

    @property
    def key(self):
        return (f"conv_{self.n}_{self.hw}x{self.hw}x{self.c}_{self.f}_k{self.k}s{self.stride}"
                f"d{self.dilation}_{self.padding}")

    @property
    def title(self):
        extra = "".join([f" s{self.stride}" if self.stride > 1 else "",
                         f" d{self.dilation}" if self.dilation > 1 else ""])
        return (f"({self.n},{self.hw},{self.hw},{self.c})→{self.f} {self.k}×{self.k}{extra} "
                f"{self.padding}")

    def out_hw(self):
        span = (self.k - 1) * self.dilation + 1
        if self.padding == "same":
            return -(-self.hw // self.stride)
        return (self.hw - span) // self.stride + 1

    def pad_total(self):
        """Keras' 'same' padding P along one axis (0 for 'valid')"""
        if self.padding != "same":
            return 0
        span = (self.k - 1) * self.dilation + 1
        return max((self.out_hw() - 1) * self.stride + span - self.hw, 0)

    def flops(self, mode):
        o = self.out_hw()
        return 2.0 * self.n * o * o * self.k * self.k * self.c * self.f * MODES[mode]


_BASE = dict(n=32, hw=28, c=32, f=32)


def conv_grid(quick=False):
    """The Conv2D rows, in report order (see the module docstring for the choice)."""
    if quick:
        return [ConvCase(8, 28, 1, 32, why="lecture CNN's first conv"),
                ConvCase(8, 28, 32, 32, why="base"),
                ConvCase(8, 28, 32, 32, stride=2, why="stride 2"),
                ConvCase(8, 28, 32, 32, dilation=2, why="dilation 2"),
                ConvCase(8, 28, 32, 32, k=5, padding="valid", why="5×5 valid"),
                ConvCase(8, 28, 32, 64, k=1, why="1×1"),
                ConvCase(2, 112, 3, 64, k=7, stride=2, why="7×7 stem, small image")]
    rows = [ConvCase(**_BASE, why="base")]
    rows += [ConvCase(**_BASE, k=k, why="kernel") for k in (1, 5, 7)]
    rows += [ConvCase(**_BASE, stride=2, why="stride"),
             ConvCase(**_BASE, dilation=2, why="dilation"),
             ConvCase(**_BASE, padding="valid", why="padding"),
             ConvCase(**_BASE, k=5, padding="valid", why="padding")]
    rows += [ConvCase(32, 28, c, c, why="channels") for c in (1, 8, 64, 128)]
    rows += [ConvCase(8, 28, 256, 256, why="channels")]
    rows += [ConvCase(256, 7, 32, 32, why="image"), ConvCase(8, 56, 32, 32, why="image"),
             ConvCase(2, 112, 32, 32, why="image (issue 17)"),
             ConvCase(1, 224, 32, 32, why="image")]
    rows += [ConvCase(b, 28, 32, 32, why="batch") for b in (1, 8, 128, 256)]
    rows += [ConvCase(32, 28, 1, 32, why="lecture CNN conv 1"),
             ConvCase(32, 28, 1, 6, k=5, why="LeNet-5 conv 1"),
             ConvCase(32, 14, 6, 16, k=5, padding="valid", why="LeNet-5 conv 2"),
             ConvCase(32, 32, 3, 64, why="VGG block 1, conv 1"),
             ConvCase(32, 56, 32, 32, why="issue 17: 3×3 same at 56"),
             ConvCase(8, 112, 32, 32, why="issue 17: 3×3 same at 112"),
             ConvCase(32, 56, 32, 64, stride=2, why="issue 17: 3×3 stride 2"),
             ConvCase(8, 224, 3, 64, k=7, stride=2, why="issue 17: 7×7 stride-2 stem"),
             ConvCase(32, 28, 64, 128, k=1, stride=2, why="ResNet 1×1 projection"),
             ConvCase(32, 14, 128, 128, why="ResNet stage 3"),
             ConvCase(32, 7, 256, 256, why="ResNet stage 4")]
    return rows


# ---- the columns of one Conv2D row ------------------------------------------------------


def _torch_padding(case):
    """Symmetric padding of the same output size as Keras' 'same' (the odd extra row at
    the start instead of the end: the same work, as a PyTorch user writes it)"""
    return (case.pad_total() + 1) // 2


def conv_columns(pycnn, torch, case, mode, rng):
    """name -> callable for one Conv2D row: pycnn, torch (NCHW), torch_cl; the three
    compute the same convolution with the same weights (x, kernel, bias)."""
    x = rng.standard_normal((case.n, case.hw, case.hw, case.c)).astype(np.float32)
    layer = pycnn.layers.Conv2D(case.f, case.k, strides=case.stride, padding=case.padding,
                                dilation_rate=case.dilation)
    layer.build((None, case.hw, case.hw, case.c))
    o = case.out_hw()
    seed = rng.standard_normal((case.n, o, o, case.f)).astype(np.float32)
    kernel = np.asarray(layer.kernel.numpy() if hasattr(layer.kernel, "numpy")
                        else layer.kernel)
    cols = {"pycnn": _pycnn_conv(pycnn, layer, x, seed, mode)}
    for name, fmt in (("torch", torch.contiguous_format), ("torch_cl", torch.channels_last)):
        conv = torch.nn.Conv2d(case.c, case.f, case.k, stride=case.stride,
                               padding=_torch_padding(case), dilation=case.dilation)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
            conv.bias.zero_()
        conv = conv.to(memory_format=fmt)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(memory_format=fmt)
        st = torch.from_numpy(np.ascontiguousarray(seed.transpose(0, 3, 1, 2))).to(
            memory_format=fmt)
        cols[name] = _torch_conv(torch, conv, xt, st, mode)
    return cols


def _pycnn_conv(pycnn, layer, x_np, seed, mode):
    if mode != "fwd":
        return rows._pycnn_step(pycnn, layer, x_np, seed, input_grad=(mode == "train"))
    xt = pycnn.tensor(x_np)

    def forward():
        with pycnn.no_grad():
            return layer(xt)
    return forward


def _torch_conv(torch, conv, x_t, seed_t, mode):
    if mode != "fwd":
        return rows._torch_step(torch, conv, x_t, seed_t, input_grad=(mode == "train"))

    def forward():
        with torch.no_grad():
            return conv(x_t)
    return forward


# ---- whole networks: training steps and predict ----------------------------------------


@dataclasses.dataclass(frozen=True)
class NetCase:
    name: str
    label: str
    input_shape: tuple          # (H, W, C)
    batch: int

    @property
    def title(self):
        h, w, c = self.input_shape
        return f"{self.label} ({h}×{w}×{c}, batch {self.batch})"


NETS = {
    "lenet5": NetCase("lenet5", "LeNet-5", (28, 28, 1), 64),
    "vgg": NetCase("vgg", "VGG block net 64-64-pool-128-128-pool",
                   (32, 32, 3), 64),
    "resnet": NetCase("resnet", "ResNet basic blocks with BatchNorm, 16-32",
                      (32, 32, 3), 64),
}


def pycnn_net(pycnn, name, input_shape):
    """The three networks in pycnn (Keras API); the same architecture as torch_net."""
    L = pycnn.layers
    if name == "lenet5":
        return pycnn.models.Sequential([
            L.Conv2D(6, 5, padding="same", activation="relu", input_shape=input_shape),
            L.AveragePooling2D(2), L.Conv2D(16, 5, activation="relu"), L.AveragePooling2D(2),
            L.Flatten(), L.Dense(120, activation="relu"), L.Dense(84, activation="relu"),
            L.Dense(10)])
    if name == "vgg":
        return pycnn.models.Sequential([
            L.Conv2D(64, 3, padding="same", activation="relu", input_shape=input_shape),
            L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
            L.Conv2D(128, 3, padding="same", activation="relu"),
            L.Conv2D(128, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
            L.Flatten(), L.Dense(10)])
    inp = L.Input(shape=input_shape)
    h = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(16, 3, padding="same",
                                                            use_bias=False)(inp)))
    for filters, stride in ((16, 1), (32, 2)):
        r = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(h)
        r = L.Activation("relu")(L.BatchNormalization()(r))
        r = L.BatchNormalization()(L.Conv2D(filters, 3, padding="same", use_bias=False)(r))
        if stride > 1:
            h = L.BatchNormalization()(L.Conv2D(filters, 1, strides=stride, use_bias=False)(h))
        h = L.Activation("relu")(L.Add()([h, r]))
    out = L.Dense(10)(L.GlobalAveragePooling2D()(h))
    return pycnn.models.Model(inp, out)


def torch_net(torch, name, input_shape):
    nn = torch.nn
    c = input_shape[2]
    if name == "lenet5":
        return nn.Sequential(nn.Conv2d(c, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                             nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84),
                             nn.ReLU(), nn.Linear(84, 10))
    if name == "vgg":
        return nn.Sequential(nn.Conv2d(c, 64, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(128 * (input_shape[0] // 4) * (input_shape[1] // 4), 10))

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.proj = None if stride == 1 else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            r = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
            return torch.relu((x if self.proj is None else self.proj(x)) + r)

    return nn.Sequential(nn.Conv2d(c, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                         nn.ReLU(), Block(16, 16, 1), Block(16, 32, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def net_columns(pycnn, torch, net, kind, rng, predict_images=256):
    """kind 'step': one training step (Adam, softmax cross-entropy on logits, the loss
    read back); kind 'predict': predict() over predict_images images in batches of
    net.batch. name -> callable."""
    n = net.batch if kind == "step" else predict_images
    x = rng.random((n,) + net.input_shape, dtype=np.float32)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    model = pycnn_net(pycnn, net.name, net.input_shape)
    model.compile(optimizer=pycnn.optimizers.Adam(learning_rate=1e-3),
                  loss=pycnn.losses.SparseCategoricalCrossentropy(from_logits=True))
    if kind == "step":
        cols = {"pycnn": lambda: model.train_on_batch(x, y)}
    else:
        cols = {"pycnn": lambda: model.predict(x, batch_size=net.batch, verbose=0)}
    for name, fmt in (("torch", torch.contiguous_format), ("torch_cl", torch.channels_last)):
        tnet = torch_net(torch, net.name, net.input_shape).to(memory_format=fmt)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(
            memory_format=fmt)
        cols[name] = _torch_net_fn(torch, tnet, xt, torch.from_numpy(y), kind, net.batch)
    return cols


def _torch_net_fn(torch, tnet, xt, yt, kind, batch):
    if kind == "predict":
        tnet.eval()

        def predict():
            with torch.no_grad():
                return [tnet(xt[i:i + batch]) for i in range(0, len(xt), batch)]
        return predict
    opt = torch.optim.Adam(tnet.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(tnet(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()
    return step


# ---- running ----------------------------------------------------------------------------


def sgemm_gflops(reps=5, size=1024):
    """NumPy's float32 matmul throughput on a square product: this machine's practical
    peak at the current thread count (the fastest of reps)."""
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    b = a.T.copy()
    res = harness.measure({"sgemm": lambda: a @ b}, reps=reps, warmup=1, min_block=0.05)
    return 2.0 * size ** 3 / min(res["sgemm"]["reps"]) / 1e9


def all_rows(quick=False):
    """(key, title, builder kind, case, mode) for every row, in report order"""
    out = []
    for case in conv_grid(quick):
        for mode in MODES:
            out.append((f"{case.key}/{mode}", case.title, "conv", case, mode))
    nets = ("lenet5", "resnet") if quick else tuple(NETS)
    for name in nets:
        net = NETS[name]
        if quick:
            net = dataclasses.replace(net, batch=16)
        out.append((f"{name}/step", net.title, "net", net, "step"))
    for name in (("lenet5",) if quick else ("lenet5", "vgg")):
        net = NETS[name] if not quick else dataclasses.replace(NETS[name], batch=16)
        out.append((f"{name}/predict", net.title, "net", net, "predict"))
    return out


def build_columns(pycnn, torch, kind, case, mode, rng, predict_images=256):
    if kind == "conv":
        return conv_columns(pycnn, torch, case, mode, rng)
    return net_columns(pycnn, torch, case, mode, rng, predict_images)


def row_flops(kind, case, mode):
    return case.flops(mode) if kind == "conv" else 0.0


def run(thread_counts=(1, 2), reps=5, quick=False, only="", log=print):
    import pycnn
    import torch
    out = {"threads": list(thread_counts), "reps": reps, "quick": quick, "by_threads": {},
           "load_start": _load(), "started": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                          time.gmtime())}
    predict_images = 64 if quick else 256
    for n in thread_counts:
        with harness.threads(n, torch=torch, pycnn=pycnn):
            peak = sgemm_gflops()
            log(f"[{n} thread(s)] NumPy sgemm {peak:.1f} GFLOP/s, load {_load()}")
            rows = {}
            for key, title, kind, case, mode in all_rows(quick):
                if only and only not in key:
                    continue
                rng = np.random.default_rng(0)
                cols = build_columns(pycnn, torch, kind, case, mode, rng, predict_images)
                res = harness.measure(cols, reps=reps, warmup=1, min_block=0.02,
                                      settle=harness.SETTLE_S if n > 1 else 0.0)
                rows[key] = {"title": title, "kind": kind, "mode": mode,
                             "flops": row_flops(kind, case, mode),
                             "images": (predict_images if mode == "predict" else 0),
                             "times": {k: min(v["reps"]) for k, v in res.items()},
                             "medians": {k: v["median"] for k, v in res.items()},
                             "load": _load(),
                             "case": dataclasses.asdict(case) if kind == "conv" else None}
                log(f"  {key}: " + ", ".join(f"{k} {min(v['reps']) * 1e3:.3f} ms"
                                             for k, v in res.items()))
            out["by_threads"][n] = {"sgemm_gflops": peak, "rows": rows}
    out["load_end"] = _load()
    return out


def _load():
    la = os.getloadavg() if hasattr(os, "getloadavg") else None
    return None if la is None else round(la[0], 2)


# ---- the report section -----------------------------------------------------------------


def _best_torch(t):
    ts = [t[k] for k in ("torch", "torch_cl") if t.get(k)]
    return min(ts) if ts else None


def summary(results):
    """{threads: (geometric mean of pycnn / PyTorch, worst rows [(ratio, key)])}"""
    out = {}
    for n, block in results["by_threads"].items():
        ratios = [(r["times"]["pycnn"] / _best_torch(r["times"]), key)
                  for key, r in block["rows"].items()
                  if r["times"].get("pycnn") and _best_torch(r["times"])]
        if not ratios:
            continue
        gmean = math.exp(statistics.fmean(math.log(v) for v, _ in ratios))
        out[n] = (gmean, sorted(ratios, reverse=True)[:8])
    return out


def render(results):
    """The sweep's section of BENCHMARKS.md, as a list of lines"""
    lines = ["## Shape sweep (issue 17)", "",
             "`python -m benchmarks.sweep` (rows chosen as its docstring says: one base layer "
             "varied one axis at a time, plus real networks' layers). Each time is the fastest "
             "of "
             f"{results['reps']} interleaved blocks; pycnn / PyTorch is against the faster of "
             "PyTorch's NCHW and channels_last. GFLOP/s count the direct convolution "
             "(2·N·OH·OW·KH·KW·C·F per pass; forward 1 pass, train 3, train_nodx 2); "
             "'of sgemm' divides it by NumPy's float32 1024³ matmul measured in the same run "
             "at the same thread count. Load: the 1-minute load average when the row ran "
             f"(start {results.get('load_start')}, end {results.get('load_end')}).", ""]
    for n, (gmean, worst) in summary(results).items():
        lines.append(f"- {n} thread(s): geometric mean pycnn / PyTorch {gmean:.2f} over "
                     f"{len(results['by_threads'][n]['rows'])} rows; worst: "
                     + ", ".join(f"{k} {v:.2f}" for v, k in worst[:5]))
    lines += ["", "| row | mode | threads | pycnn ms | PyTorch NCHW ms | PyTorch ch.-last ms | "
              "pycnn / PyTorch | pycnn GFLOP/s | of sgemm | load |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    keys = []
    for block in results["by_threads"].values():
        keys += [k for k in block["rows"] if k not in keys]
    for key in keys:
        for n, block in results["by_threads"].items():
            r = block["rows"].get(key)
            if r is None:
                continue
            t = r["times"]
            pc, best = t.get("pycnn"), _best_torch(t)
            ratio = f"{pc / best:.2f}" if pc and best else "—"
            if r["flops"] and pc:
                g = r["flops"] / pc / 1e9
                gf, frac = f"{g:.1f}", f"{g / block['sgemm_gflops']:.2f}"
            elif r["images"] and pc:
                gf, frac = f"{r['images'] / pc:.0f} img/s", "—"
            else:
                gf, frac = "—", "—"
            ms = [("—" if t.get(k) is None else f"{t[k] * 1e3:.3f}")
                  for k in ("pycnn", "torch", "torch_cl")]
            lines.append(f"| {r['title']} | {r['mode']} | {n} | " + " | ".join(ms)
                         + f" | {ratio} | {gf} | {frac} | {r['load']} |")
    lines += ["", "NumPy sgemm GFLOP/s in this run: " + ", ".join(
        f"{b['sgemm_gflops']:.1f} at {n} thread(s)" for n, b in results["by_threads"].items()),
        ""]
    return lines + _scaling(results)


def _scaling(results):
    """Time per unit of work of the base layer (3×3 'same' 32→32) against batch and image
    size: flat columns mean cost linear in the work"""
    out = ["### Cost against the work: 3×3 'same' 32→32 over batch and image size", "",
           "ms per direct-convolution GFLOP (flat down a column = cost linear in the work; "
           "a step shows where the working set leaves a cache).", "",
           "| batch | image | mode | threads | pycnn ms/GFLOP | PyTorch ms/GFLOP |",
           "|---:|---:|---|---|---:|---:|"]
    rows = []
    for n, block in results["by_threads"].items():
        for r in block["rows"].values():
            c = r.get("case")
            if c and (c["c"], c["f"], c["k"], c["stride"], c["dilation"], c["padding"]) == \
                    (32, 32, 3, 1, 1, "same") and r["times"].get("pycnn"):
                rows.append((r["mode"], c["hw"], c["n"], n, r))
    for mode, hw, batch, n, r in sorted(rows, key=lambda t: (t[0], t[3], t[1], t[2])):
        gflop = r["flops"] / 1e9
        best = _best_torch(r["times"])
        out.append(f"| {batch} | {hw}×{hw} | {mode} | {n} | {r['times']['pycnn'] * 1e3 / gflop:.2f} "
                   f"| {'—' if best is None else f'{best * 1e3 / gflop:.2f}'} |")
    return out + [""] if rows else []


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.sweep",
                                description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="the quick subset (make bench-quick)")
    p.add_argument("--only", default="", help="run only rows whose key contains this")
    p.add_argument("--out", default="", help="write the section here (default: print it)")
    p.add_argument("--json", default="", help="also write the raw results here")
    args = p.parse_args(argv)
    results = run(args.threads, args.reps, args.quick, args.only)
    text = "\n".join(render(results))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
    if args.out:
        pathlib.Path(args.out).write_text(text)
    else:
        print(text)
    return results


if __name__ == "__main__":
    main()
