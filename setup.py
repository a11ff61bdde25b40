"""Builds pycnn._core: every .c file under csrc/, against the NumPy C API."""
import glob
import os

import numpy
from setuptools import Extension, setup

SOURCES = sorted(glob.glob(os.path.join("csrc", "**", "*.c"), recursive=True))
HEADERS = sorted(glob.glob(os.path.join("csrc", "**", "*.h"), recursive=True)
                 + glob.glob(os.path.join("csrc", "**", "*.def"), recursive=True))

# No kernel reads errno or the floating-point exception flags; without these two,
# GCC keeps sqrt() a scalar call and will not turn float selects into SIMD blends.
# -pthread: the kernels' thread pool (csrc/kernels/parallel.c).
# Release builds carry no debug information (-g0) and are stripped at link (-s): the
# extension is code only. PYCNN_DEBUG=1 builds with -g (and keeps the symbols) for gdb.
DEBUG = bool(os.environ.get("PYCNN_DEBUG"))
CFLAGS = ["-O3", "-g" if DEBUG else "-g0", "-std=c11", "-pthread", "-fno-math-errno",
          "-fno-trapping-math", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
LDFLAGS = ["-pthread"] + ([] if DEBUG else ["-s"])
if os.environ.get("PYCNN_SANITIZE"):
    CFLAGS = ["-O1", "-g", "-std=c11", "-pthread", "-fno-math-errno", "-fno-trapping-math",
              "-Wall", "-Wextra", "-Wno-missing-field-initializers",
              "-fsanitize=address,undefined", "-fno-omit-frame-pointer"]

setup(
    # compile the C files on every core (build_ext -j), for pip and make build alike
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
    ext_modules=[
        Extension(
            "pycnn._core",
            sources=SOURCES,
            depends=HEADERS,
            include_dirs=[numpy.get_include(), "csrc"],
            extra_compile_args=CFLAGS,
            extra_link_args=(["-pthread", "-fsanitize=address,undefined"]
                             if os.environ.get("PYCNN_SANITIZE") else LDFLAGS),
            libraries=["m", "dl"],      # dl: core/blas.c finds NumPy's BLAS
        )
    ],
)
