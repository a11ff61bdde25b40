"""pycnn's benchmark suite: pycnn against PyTorch and a plain-NumPy reference.

Run it with ``make bench`` (or ``python -m benchmarks``); it writes BENCHMARKS.md.
"""
