"""Runs the whole suite and writes BENCHMARKS.md.

    python -m benchmarks [--threads 1 2] [--reps 7] [--train-reps 5] [--quick]
                         [--only SUBSTRING] [--no-train] [--no-sweep] [--out BENCHMARKS.md]
                         [--json FILE]

In-process rows (per-op overhead, layers, GEMM efficiency) time pycnn, PyTorch and
the NumPy reference side by side in this process, with the same thread count for
each; each training run is a subprocess of its own (benchmarks/train.py) so that its
peak RSS is separable. Then the shape sweep (benchmarks/sweep.py), its own section.
"""
import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

from . import canon, harness, report, rows, sweep

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _measure_rows(row_list, reps, only, threads):
    results = {}
    for row in row_list:
        if only and only not in row.key:
            continue
        timed = {k: v for k, v in row.impls.items() if callable(v)}
        res = harness.measure(timed, reps=reps,
                              settle=harness.SETTLE_S if threads > 1 else 0.0)
        results[row.key] = {
            "title": row.title, "flops": row.flops,
            "times": {k: res[k]["median"] for k in timed},
            "cpu_times": {k: res[k]["cpu_median"] for k in timed},
            "missing": {k: v for k, v in row.impls.items() if not callable(v)},
        }
        print(f"  {row.title}: " + ", ".join(f"{k} {v['median'] * 1e3:.3f} ms"
                                             for k, v in res.items()), flush=True)
    return results


def run_in_process(thread_counts, reps, quick, only):
    import torch
    import pycnn
    out = {}
    for n in thread_counts:
        print(f"[{n} thread(s)] in-process rows", flush=True)
        rng = np.random.default_rng(0)
        with harness.threads(n, torch=torch, pycnn=pycnn):
            layer_rows = (rows.layer_rows(pycnn, torch, rng, quick)
                          + canon.canon_rows(pycnn, torch, rng, quick))
            out[n] = {"layers": _measure_rows(layer_rows, reps, only, n),
                      "gemm": _measure_rows(rows.gemm_rows(pycnn, torch, rng, quick), reps,
                                            only, n)}
    return out


def run_training(thread_counts, reps, models=("mlp", "cnn"),
                 frameworks=("pycnn", "torch", "numpy_ref")):
    out = {}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for n in thread_counts:
        env["PYCNN_NUM_THREADS"] = str(n)      # train.py also sets it, as for the others
        for model in models:
            for fw in frameworks:
                print(f"[{n} thread(s)] training {model} with {fw}", flush=True)
                proc = subprocess.run(
                    [sys.executable, "-m", "benchmarks.train", fw, model, str(n), str(reps)],
                    cwd=ROOT, env=env, capture_output=True, text=True)
                key = f"{model}/{fw}/{n}"
                if proc.returncode != 0:
                    last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
                    out[key] = {"error": last[:300]}
                    print(f"  failed: {last[:300]}", flush=True)
                    continue
                out[key] = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"  {out[key]['epoch_s']:.3f} s/epoch, peak RSS "
                      f"{out[key]['peak_rss_mib']:.0f} MiB", flush=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--reps", type=int, default=7, help="repetitions of in-process rows (>= 5)")
    p.add_argument("--train-reps", type=int, default=5, help="epochs timed per training run")
    p.add_argument("--quick", action="store_true", help="small batches only (smoke test)")
    p.add_argument("--only", default="", help="run only rows whose key contains this")
    p.add_argument("--no-train", action="store_true", help="skip the training subprocesses")
    p.add_argument("--no-sweep", action="store_true", help="skip the shape sweep")
    p.add_argument("--load-note", default=os.environ.get("PYCNN_BENCH_LOAD_NOTE", ""),
                   help="a sentence about other load on the machine, printed in the report")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument("--json", default="", help="also write the raw results here")
    args = p.parse_args(argv)

    started = datetime.datetime.now(datetime.timezone.utc)
    machine = harness.machine_info()
    results = {"machine": machine, "started": started.isoformat(timespec="seconds"),
               "threads": args.threads, "reps": args.reps, "train_reps": args.train_reps,
               "load_note": args.load_note}
    results["in_process"] = run_in_process(args.threads, args.reps, args.quick, args.only)
    results["training"] = {} if args.no_train else run_training(args.threads, args.train_reps)
    results["sweep"] = None if args.no_sweep else sweep.run(args.threads, max(args.reps - 2, 3),
                                                            args.quick, args.only)
    results["load_average_end"] = harness.machine_info()["load_average"]
    results["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
    text = report.render(results, notes_path=ROOT / "benchmarks" / "NOTES.md")
    tmp = pathlib.Path(args.out + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return results


if __name__ == "__main__":
    main()
