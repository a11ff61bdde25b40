"""When one machine is not enough: a pycnn CNN trained by PyTorch DistributedDataParallel.

    python examples/distributed_train.py                   # 2 processes, 10 epochs on the digits
    python examples/distributed_train.py --steps 10 --json result.json

pycnn does not grow a distributed engine; it hands the model to one that scales, for real,
here on this machine:

1. pycnn builds the CNN and `pycnn.interop.to_torch` converts it, weights and all (the module
   takes the same NHWC images).
2. torch.multiprocessing starts `--world-size` processes. They meet through a TCPStore that this
   process opens on 127.0.0.1 at a port the OS picks (free by construction), and form a `gloo`
   process group; DistributedDataParallel all-reduces (averages) the gradients every step.
3. Each rank trains on its own shard of the digits (DistributedSampler); the loss printed is the
   mean over all ranks.
4. At the end every rank's weights are gathered and compared: DDP keeps them identical.
5. The weights come back with `pycnn.interop.load_torch_state`, and pycnn evaluates them itself;
   its test accuracy must equal PyTorch's on the same images.

On a real cluster only step 2 changes: `torchrun --nnodes … --nproc-per-node …` starts the ranks
and sets MASTER_ADDR/MASTER_PORT; the model, the sampler and DDP stay as they are here.
"""
import argparse
import datetime
import gc
import json
import os
import socket
import tempfile
import time

import numpy as np

# the installed pycnn (pip install pycnn[interop], or the editable install `make test` makes):
# never the source tree, whose pycnn/ has no built extension after a plain `pip install .`
import pycnn
from pycnn import interop
from pycnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
from pycnn.models import Sequential


def load_digits():
    """The 8×8 digits as (N, 8, 8, 1) float32 in [0, 1] (channels last) and int64 labels."""
    (x_train, y_train), (x_test, y_test) = pycnn.datasets.digits.load_data()
    return (np.asarray(x_train, np.float32)[..., None], np.asarray(y_train, np.int64),
            np.asarray(x_test, np.float32)[..., None], np.asarray(y_test, np.int64))


def build_model(seed=0):
    """The small CNN of the lecture's kind, built (so it has weights) by pycnn."""
    pycnn.set_seed(seed)
    return Sequential([
        Conv2D(16, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
        MaxPooling2D(2),
        Conv2D(32, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(10, activation="softmax"),
    ], name="digits_cnn")


def _loopback_interface():
    names = [name for _, name in socket.if_nameindex() if name.startswith("lo")]
    return names[0] if names else None


def _train(rank, world_size, module, data, args):
    """The usual training loop, with DDP around the module and a DistributedSampler."""
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    dataset = TensorDataset(*(torch.from_numpy(a) for a in data))
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    # DDP broadcasts rank 0's weights, then averages the gradients during backward
    model = DistributedDataParallel(module)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    losses, seen, start = [], 0, time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle per epoch, still disjoint shards
        for x, y in loader:
            p = model(x)  # softmax probabilities, clipped like Keras' cross-entropy
            loss = F.nll_loss(torch.log(p.clamp(1e-7, 1 - 1e-7)), y)
            optimizer.zero_grad()
            loss.backward()  # DDP all-reduces the gradients here
            optimizer.step()
            mean_loss = loss.detach().clone()
            dist.all_reduce(mean_loss)
            losses.append(mean_loss.item() / world_size)
            seen += len(y)
            if rank == 0 and (len(losses) % args.log_every == 0 or len(losses) == 1):
                print(f"epoch {epoch + 1} step {len(losses)}: loss {losses[-1]:.4f}", flush=True)
            if len(losses) == args.steps:
                return losses, seen, time.perf_counter() - start
    return losses, seen, time.perf_counter() - start


def _worker(rank, world_size, port, module, data, args, out_dir):
    """One rank: join the group, train its shard, compare weights, report (rank 0)."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)  # the ranks share this machine's cores
    torch.manual_seed(args.seed)
    timeout = datetime.timedelta(seconds=args.timeout)
    store = dist.TCPStore("127.0.0.1", port, is_master=False, timeout=timeout)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world_size,
                            timeout=timeout)
    try:
        losses, seen, seconds = _train(rank, world_size, module, data, args)
        gc.collect()  # DDP (holding the process group) is gone before the group is destroyed
        # every rank's weights, gathered and compared with rank 0's
        flat = torch.cat([p.detach().reshape(-1) for p in module.parameters()])
        gathered = [torch.empty_like(flat) for _ in range(world_size)]
        dist.all_gather(gathered, flat)
        samples = torch.tensor([seen])
        dist.all_reduce(samples)
        if rank == 0:
            spread = max((g - gathered[0]).abs().max().item() for g in gathered)
            state = {k: v.detach().numpy() for k, v in module.state_dict().items()}
            _save_npz(os.path.join(out_dir, "state.npz"), state)
            report = {"world_size": world_size, "steps": len(losses), "losses": losses,
                      "samples_per_rank_step": args.batch_size,
                      "samples_seen": int(samples.item()),
                      "rank_weight_max_abs_diff": spread, "train_seconds": seconds}
            with open(os.path.join(out_dir, "report.json"), "w") as f:
                json.dump(report, f)
        dist.barrier()  # all ranks finish together: none tears down while another still works
    finally:
        dist.destroy_process_group()


def _save_npz(path, arrays):
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def train_distributed(model, x_train, y_train, args):
    """Train `model` (pycnn) with DDP on `args.world_size` processes; returns the ranks' report
    and the trained state_dict as NumPy arrays."""
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp

    module = interop.to_torch(model)
    if "GLOO_SOCKET_IFNAME" not in os.environ and _loopback_interface():
        os.environ["GLOO_SOCKET_IFNAME"] = _loopback_interface()  # keep gloo on 127.0.0.1
    # The rendezvous store lives here; port 0 lets the OS choose a free port (no race).
    store = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False,
                          timeout=datetime.timedelta(seconds=args.timeout))
    with tempfile.TemporaryDirectory() as out_dir:
        mp.spawn(_worker, nprocs=args.world_size, join=True,
                 args=(args.world_size, store.port, module, (x_train, y_train), args, out_dir))
        with open(os.path.join(out_dir, "report.json")) as f:
            report = json.load(f)
        with np.load(os.path.join(out_dir, "state.npz"), allow_pickle=False) as npz:
            state = {k: torch.from_numpy(npz[k].copy()) for k in npz.files}
    report["port"] = store.port
    return report, state


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world-size", type=int, default=2, help="processes (ranks)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--steps", type=int, default=-1, help="stop after this many steps (-1: all)")
    ap.add_argument("--batch-size", type=int, default=32, help="per rank")
    ap.add_argument("--learning-rate", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds for the rendezvous")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    return ap.parse_args(argv)


def main(argv=None):
    import torch

    args = parse_args(argv)
    x_train, y_train, x_test, y_test = load_digits()
    model = build_model(args.seed)
    report, state = train_distributed(model, x_train, y_train, args)

    interop.load_torch_state(model, state)  # the trained weights, back in pycnn
    pycnn_accuracy = float(np.mean(np.argmax(model.predict(x_test), axis=-1) == y_test))
    module = interop.to_torch(model).eval()
    module.load_state_dict(state)
    with torch.no_grad():
        torch_accuracy = float(np.mean(
            module(torch.from_numpy(x_test)).argmax(-1).numpy() == y_test))

    losses = report["losses"]
    k = max(1, min(5, len(losses) // 4))
    report.update(first_loss=float(np.mean(losses[:k])), last_loss=float(np.mean(losses[-k:])),
                  pycnn_test_accuracy=pycnn_accuracy, torch_test_accuracy=torch_accuracy,
                  test_samples=len(y_test))
    print(f"{report['world_size']} ranks over gloo on 127.0.0.1:{report['port']}, "
          f"{report['steps']} steps, {report['samples_seen']} samples in "
          f"{report['train_seconds']:.1f}s")
    print(f"loss {report['first_loss']:.4f} -> {report['last_loss']:.4f} "
          f"(mean of the first and last {k} steps)")
    print(f"largest weight difference between ranks: {report['rank_weight_max_abs_diff']:g}")
    print(f"test accuracy on {len(y_test)} digits: pycnn {pycnn_accuracy:.4f}, "
          f"PyTorch {torch_accuracy:.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == "__main__":
    main()
