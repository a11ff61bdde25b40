"""Renders the results of one run as BENCHMARKS.md (tables, targets, machine, notes)."""
import pathlib

from . import sweep

COLUMNS = [("pycnn", "pycnn"), ("torch", "PyTorch NCHW"), ("torch_cl", "PyTorch ch.-last"),
           ("numpy_ref", "NumPy ref")]


def _ms(t):
    return "—" if t is None else (f"{t * 1e3:.3f}" if t < 0.01 else f"{t * 1e3:.1f}")


def _ratio(a, b):
    if a is None or b is None:
        return "—"
    return f"{a / b:.2f}" if a / b >= 0.1 else f"{a / b:.3f}"


def _best_torch(times):
    ts = [times[k] for k in ("torch", "torch_cl") if k in times]
    return min(ts) if ts else None


def _status(ok):
    return "met" if ok else "**missed**"


def _machine(results):
    m = results["machine"]
    lines = ["| | |", "|---|---|",
             f"| CPU | {m['cpu']} |", f"| cores | {m['cores']} |",
             f"| OS | {m['platform']} |", f"| Python | {m['python']} |",
             f"| NumPy | {m['numpy']} |", f"| PyTorch | {m.get('torch')} |"]
    for lib in m.get("blas", []):
        lines.append(f"| BLAS ({lib['internal_api']}) | {lib['version']}, kernel "
                     f"{lib['architecture']}, {lib['threading_layer']} threads — "
                     f"`{pathlib.Path(lib['filepath'] or '').name}` |")
    pt = m.get("pycnn_threads")
    if pt:
        env = ", ".join(f"{k}={v}" for k, v in pt["env"].items() if v) or "neither set"
        seen = "; threadpoolctl sees it" if m.get("threadpoolctl_sees_pycnn") else ""
        lines.append(f"| pycnn's own threads | pthreads pool (im2col, col2im, Winograd "
                     f"transforms, direct convolution, pooling, bias and activation passes), "
                     f"set to each row's thread count; default here {pt['default']} "
                     f"(PYCNN_NUM_THREADS / OMP_NUM_THREADS: {env}){seen} |")
    env = ", ".join(f"{k}={v}" for k, v in m["openblas_env"].items() if v) or "both unset"
    lines.append(f"| OPENBLAS_CORETYPE / L2_SIZE | {env} |")
    la, le = m.get("load_average"), results.get("load_average_end")
    if la:
        lines.append(f"| load average (1/5/15 min) at start | {la[0]:.2f} / {la[1]:.2f} / "
                     f"{la[2]:.2f} |")
    if le:
        lines.append(f"| load average at end | {le[0]:.2f} / {le[1]:.2f} / {le[2]:.2f} |")
    lines.append(f"| run | {results['started']} → {results.get('finished', '?')} |")
    return lines


def _layer_table(rows_by_n):
    out = ["| row | threads | " + " | ".join(label + " (ms)" for _, label in COLUMNS)
           + " | pycnn / PyTorch | pycnn / NumPy ref | pycnn / PyTorch, CPU time² |",
           "|---|---|" + "---:|" * (len(COLUMNS) + 3)]
    keys = list(next(iter(rows_by_n.values())).keys())
    for key in keys:
        for n, rows in rows_by_n.items():
            r = rows.get(key)
            if r is None:
                continue
            t = r["times"]
            pc = t.get("pycnn")
            cells = [_ms(t.get(k)) for k, _ in COLUMNS]
            if pc is None and "pycnn" in r["missing"]:
                cells[0] = "n/a¹"
            c = r.get("cpu_times", {})
            cpu = _ratio(c.get("pycnn"), _best_torch(c)) if n == 1 else "—"
            out.append(f"| {r['title']} | {n} | " + " | ".join(cells)
                       + f" | {_ratio(pc, _best_torch(t))} | {_ratio(pc, t.get('numpy_ref'))} "
                       f"| {cpu} |")
    return out


def _gemm_table(rows_by_n):
    out = ["| forward | threads | pycnn GFLOP/s | NumPy matmul GFLOP/s | pycnn / NumPy "
           "(target ≥ 0.90) | PyTorch GFLOP/s | pycnn / NumPy, CPU time² |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for key in next(iter(rows_by_n.values())):
        for n, rows in rows_by_n.items():
            r = rows.get(key)
            if r is None:
                continue
            t, f = r["times"], r["flops"]
            g = {k: (f / v / 1e9 if v else None) for k, v in t.items()}
            pc = g.get("pycnn")
            frac = "—" if pc is None else f"{pc / g['numpy_matmul']:.2f}"
            c = r.get("cpu_times", {})
            cpu = (f"{c['numpy_matmul'] / c['pycnn']:.2f}" if n == 1 and c.get("pycnn")
                   and c.get("numpy_matmul") else "—")
            out.append(f"| {r['title']} | {n} | {'n/a¹' if pc is None else f'{pc:.1f}'} | "
                       f"{g['numpy_matmul']:.1f} | {frac} | {g['torch']:.1f} | {cpu} |")
    return out


def _train_table(training, threads):
    out = ["| model | threads | pycnn s/epoch | PyTorch s/epoch | NumPy ref s/epoch | "
           "pycnn / PyTorch | NumPy ref / pycnn (speed-up) | peak RSS MiB pycnn / PyTorch / "
           "NumPy ref | pycnn RSS / PyTorch RSS | pycnn / PyTorch, CPU time² |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for model, title in (("mlp", "MLP 784-512-512-10, batch 128, 10,000 samples"),
                         ("cnn", "CNN conv32-pool-conv64-pool-dense10, batch 64, 2,000 images")):
        for n in threads:
            r = {fw: training.get(f"{model}/{fw}/{n}", {}) for fw in ("pycnn", "torch",
                                                                      "numpy_ref")}
            t = {fw: v.get("epoch_s") for fw, v in r.items()}
            rss = {fw: v.get("peak_rss_mib") for fw, v in r.items()}
            if not any(t.values()):
                continue
            speed = "—" if not (t["pycnn"] and t["numpy_ref"]) else \
                f"{t['numpy_ref'] / t['pycnn']:.1f}×"
            rss_s = " / ".join("—" if v is None else f"{v:.0f}" for v in rss.values())
            pc = "n/a¹" if t["pycnn"] is None else f"{t['pycnn']:.3f}"
            c = {fw: v.get("epoch_cpu_s") for fw, v in r.items()}
            cpu = _ratio(c["pycnn"], c["torch"]) if n == 1 else "—"
            out.append(f"| {title} | {n} | {pc} | {_fmt_s(t['torch'])} | "
                       f"{_fmt_s(t['numpy_ref'])} | {_ratio(t['pycnn'], t['torch'])} | {speed} "
                       f"| {rss_s} | {_ratio(rss['pycnn'], rss['torch'])} | {cpu} |")
    return out


def _fmt_s(v):
    return "—" if v is None else f"{v:.3f}"


def _targets(results):
    """One line per target and thread count: met / missed / not measured."""
    lines = []
    ip, tr, threads = results["in_process"], results["training"], results["threads"]
    for n in threads:
        layers = ip[n]["layers"]
        worst = [(r["title"], r["times"]["pycnn"] / _best_torch(r["times"]))
                 for r in layers.values() if r["times"].get("pycnn") and _best_torch(r["times"])
                 and r.get("title") and "per-op" not in r["title"]]
        cpu = {r["title"]: r["cpu_times"]["pycnn"] / _best_torch(r["cpu_times"])
               for r in layers.values() if n == 1 and r.get("cpu_times", {}).get("pycnn")
               and _best_torch(r["cpu_times"])}
        missed = [f"{t} ({v:.2f}" + (f"; CPU time {cpu[t]:.2f})" if t in cpu else ")")
                  for t, v in worst if v > 1.0]
        missing = [r["title"] for r in layers.values() if "pycnn" in r["missing"]]
        per_op = next((r for k, r in layers.items() if k == "per_op"), None)
        if per_op and per_op["times"].get("pycnn"):
            v = per_op["times"]["pycnn"] / per_op["times"]["torch"]
            lines.append(f"- {n} thread(s) — per-op overhead ≤ 0.5× PyTorch: {v:.2f} → "
                         f"{_status(v <= 0.5)}")
        lines.append(f"- {n} thread(s) — every layer row ≤ 1.0× PyTorch: "
                     + ("met" if worst and not missed else
                        ("not measured" if not worst else "**missed** on " + "; ".join(missed)))
                     + (f" (not landed: {len(missing)} rows)" if missing else ""))
        for model in ("mlp", "cnn"):
            pc = tr.get(f"{model}/pycnn/{n}", {})
            to = tr.get(f"{model}/torch/{n}", {})
            nr = tr.get(f"{model}/numpy_ref/{n}", {})
            if pc.get("epoch_s") and to.get("epoch_s"):
                v = pc["epoch_s"] / to["epoch_s"]
                c = (f" (CPU time {pc['epoch_cpu_s'] / to['epoch_cpu_s']:.2f})"
                     if n == 1 and pc.get("epoch_cpu_s") and to.get("epoch_cpu_s") else "")
                lines.append(f"- {n} thread(s) — {model.upper()} epoch ≤ 1.0× PyTorch: "
                             f"{v:.2f}{c} → {_status(v <= 1.0)}")
                v = pc["peak_rss_mib"] / to["peak_rss_mib"]
                lines.append(f"- {n} thread(s) — {model.upper()} peak RSS ≤ PyTorch's: "
                             f"{pc['peak_rss_mib']:.0f} vs {to['peak_rss_mib']:.0f} MiB → "
                             f"{_status(v <= 1.0)}")
            if model == "cnn" and pc.get("epoch_s") and nr.get("epoch_s"):
                v = nr["epoch_s"] / pc["epoch_s"]
                c = (f" (CPU time {nr['epoch_cpu_s'] / pc['epoch_cpu_s']:.1f}×)"
                     if n == 1 and pc.get("epoch_cpu_s") and nr.get("epoch_cpu_s") else "")
                lines.append(f"- {n} thread(s) — CNN epoch ≥ 10× faster than the NumPy "
                             f"reference: {v:.1f}×{c} → {_status(v >= 10)}")
        gemm = ip[n]["gemm"]
        fr = [(r["title"], r["times"]["numpy_matmul"] / r["times"]["pycnn"])
              for r in gemm.values() if r["times"].get("pycnn")]
        if fr:
            low = [f"{t} ({v:.2f})" for t, v in fr if v < 0.9]
            lines.append(f"- {n} thread(s) — GEMM ≥ 90 % of NumPy's matmul: "
                         + ("met" if not low else "**missed** on " + "; ".join(low)))
    return lines


def render(results, notes_path=None):
    ip = results["in_process"]
    threads = results["threads"]
    layer_rows = {n: ip[n]["layers"] for n in threads}
    gemm_rows = {n: ip[n]["gemm"] for n in threads}
    lines = ["# pycnn benchmarks", "",
             "Generated by `make bench` (`python -m benchmarks`); do not edit the tables by "
             "hand — the notes at the end come from `benchmarks/NOTES.md`.", "",
             f"Medians of {results['reps']} interleaved repetitions after warm-up (in-process "
             f"rows) and of {results['train_reps']} epochs after a 3-step warm-up (training, "
             "each run in its own process). Same thread count for NumPy's BLAS (threadpoolctl), "
             "PyTorch (`torch.set_num_threads`) and pycnn. Ratios below 1 favour pycnn.", ""]
    if results.get("load_note"):
        lines += [f"**Load:** {results['load_note']}", ""]
    la, cores = results["machine"].get("load_average"), results["machine"].get("cores") or 1
    # the start only: by the end the load average holds the suite's own 2-thread runs
    if la and la[0] > 0.5 * cores:
        lines += [f"**Taken with other load on the machine** (load average {la[0]:.1f} at the "
                  f"start on {cores} cores): wall-clock times are inflated and noisy; the "
                  "CPU-time ratios at 1 thread are the steadier comparison.", ""]
    lines += ["## Machine", ""] + _machine(results) + [""]
    lines += ["## Targets", ""] + _targets(results) + [""]
    lines += ["## Per-op overhead and layers (forward + backward)", "",
              "pycnn / PyTorch is against the faster of PyTorch's two layouts. The NumPy "
              "reference is the classic course code (NCHW, im2col by fancy indexing, col2im by "
              "`np.add.at`); in the per-op row it runs the forward chain only (NumPy has no "
              "autograd). ² The same ratio from this process's CPU time instead of the wall "
              "clock: less inflated by other jobs on the machine, so a cross-check of the "
              "1-thread ratios (at 2 threads, threads that spin while waiting count too, so it "
              "is not shown).", ""] + _layer_table(layer_rows) + [""]
    lines += ["## GEMM efficiency (forward only)", "",
              "pycnn's layer forward (bias included; Conv2D includes its im2col) in GFLOP/s, "
              "against NumPy's own float32 `a @ b` on the GEMM shape of the same layer "
              "((N, 784)·(784, 512); (N·H·W, 9·C)·(9·C, F)).", ""] + _gemm_table(gemm_rows) + [""]
    if results["training"]:
        lines += ["## One training epoch (own process each)", "",
                  "pycnn `Sequential.fit(..., epochs=1, shuffle=True)`; PyTorch the same model "
                  "and SGD loop (NCHW, `CrossEntropyLoss`, `loss.item()` every step); the NumPy "
                  "reference the course code. Peak RSS includes the interpreter, imports and "
                  "the data.", ""] + _train_table(results["training"], threads) + [""]
    if results.get("sweep"):
        lines += sweep.render(results["sweep"])
    if any("pycnn" in r["missing"] for rows in layer_rows.values() for r in rows.values()):
        lines += ["¹ the pycnn feature for this row had not landed when this was run.", ""]
    if notes_path is not None and pathlib.Path(notes_path).exists():
        lines += [pathlib.Path(notes_path).read_text().rstrip(), ""]
    return "\n".join(lines)
