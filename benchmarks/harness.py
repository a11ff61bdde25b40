"""Timing, thread control and machine facts for the benchmark suite.

Implementations of one row are timed *interleaved* (rep 1 of each, rep 2 of each, ...),
so slow drifts of a shared machine hit every column alike; each rep times a block of
calls long enough to dwarf the clock, and the row reports the median over reps.
"""
import contextlib
import os
import platform
import resource
import statistics
import time


def _threadpool_limits(n):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                 # numbers still come, threads just are not pinned
        return contextlib.nullcontext()
    return threadpool_limits(limits=n)


@contextlib.contextmanager
def threads(n, torch=None, pycnn=None):
    """Run the block with n threads in NumPy's BLAS, PyTorch and pycnn alike (pycnn's own
    pool is set directly, and threadpoolctl limits it too when it sees it)."""
    previous_torch = torch.get_num_threads() if torch is not None else None
    previous_pycnn = None
    if pycnn is not None and hasattr(pycnn, "set_num_threads"):
        previous_pycnn = pycnn.get_num_threads()
        pycnn.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with _threadpool_limits(n):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous_torch)
        if previous_pycnn is not None:
            pycnn.set_num_threads(previous_pycnn)


# After a multi-threaded call, OpenBLAS's idle workers keep polling for more work for
# about 0.1 s (its THREAD_TIMEOUT; 0.25 s leaves a margin) and PyTorch's OpenMP workers for a while too: a block
# timed right after another library's would share the cores with them.
SETTLE_S = 0.25


def measure(impls, reps=7, warmup=2, min_block=0.05, max_block_calls=10000, settle=0.0):
    """Median seconds per call of each callable in ``impls`` (name -> fn).

    Each fn is warmed up, then the number of calls per block is chosen so one block
    takes about ``min_block`` seconds; then ``reps`` rounds run every fn's block in turn,
    each block after ``settle`` seconds of sleep (SETTLE_S with several threads, so that
    no library's idle threads spin into the next one's block).
    Returns {name: {"median": s, "cpu_median": s, "reps": [s, ...], "calls": k}}: wall
    clock, and this process's CPU time per call, which a busy machine inflates less
    (at one thread; with more, spinning worker threads count too).
    """
    calls = {}
    for name, fn in impls.items():
        for _ in range(warmup):
            fn()
        t0 = time.perf_counter()
        fn()
        once = max(time.perf_counter() - t0, 1e-7)
        calls[name] = int(min(max_block_calls, max(1, round(min_block / once))))
    samples = {name: [] for name in impls}
    cpu = {name: [] for name in impls}
    for _ in range(reps):
        for name, fn in impls.items():
            k = calls[name]
            if settle:
                time.sleep(settle)
                fn()                    # this library's own threads awake again
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(k):
                fn()
            samples[name].append((time.perf_counter() - t0) / k)
            cpu[name].append((time.process_time() - c0) / k)
    return {name: {"median": statistics.median(s), "cpu_median": statistics.median(cpu[name]),
                   "reps": s, "calls": calls[name]}
            for name, s in samples.items()}


def peak_rss_mib():
    """This process's peak resident set size so far, in MiB.

    Linux's VmHWM belongs to this program's own address space; getrusage's ru_maxrss
    would also carry the peak of the process that forked us (it survives exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib():
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load_average():
    try:
        return os.getloadavg()
    except OSError:
        return None


def machine_info():
    """The facts a reader needs to judge the numbers: CPU, cores, versions, BLAS."""
    import numpy
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "load_average": _load_average(),
        "openblas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_parallel"] = torch.__config__.parallel_info().splitlines()[:3]
    except ImportError:
        info["torch"] = None
    try:
        import pycnn             # its threadpoolctl controller registers on import
        info["pycnn_threads"] = {"default": pycnn.get_num_threads(),
                                 "env": {k: os.environ.get(k) for k in ("PYCNN_NUM_THREADS",
                                                                        "OMP_NUM_THREADS")}}
    except (ImportError, AttributeError):
        info["pycnn_threads"] = None
    try:
        from threadpoolctl import threadpool_info
        pools = threadpool_info()
        info["blas"] = [
            {k: lib.get(k) for k in ("internal_api", "version", "architecture",
                                     "threading_layer", "num_threads", "filepath")}
            for lib in pools if lib.get("user_api") != "pycnn"]
        info["threadpoolctl_sees_pycnn"] = any(lib.get("user_api") == "pycnn" for lib in pools)
    except ImportError:
        info["blas"] = []
    return info
