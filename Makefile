# pycnn — every set-up step is here; a fresh machine needs only Python >= 3.10,
# a C compiler and the package registries.
#   make demo    build pycnn and run the lecture's demo (the main job; installs only what
#                the demo imports)
#   make test    build everything and run the test suite (adds torch, Keras, the test tools)
#   make bench   benchmarks against PyTorch and a plain-NumPy reference -> BENCHMARKS.md
#   make bench-quick  the shape sweep's quick subset, printed
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Two stamps: `make demo` installs the package with only what the demo imports (NumPy,
# matplotlib, scikit-learn: no torch); `make test` adds the test tools, Keras, ONNX and torch
# to the same venv. Either order works; a changed pyproject.toml redoes both.
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
FUZZ_STAMP := $(VENV)/.installed-fuzz
SOURCES := $(shell find csrc -name '*.c' -o -name '*.h' -o -name '*.def')
# torch is an oracle, the benchmark peer and pycnn.interop's engine (Keras runs its tests
# on it): exactly this CPU build (a plain `torch` pulls a multi-GB CUDA build).
TORCH  ?= torch==2.13.0

.PHONY: demo test bench bench-quick fuzz sanitize valgrind race build clean browser-deps

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "setuptools>=77" wheel "numpy>=2.0"
	$(PIP) install --quiet --no-build-isolation -e ".[demo]"
	touch $(STAMP)

# what the tests need besides: the extras' requirements, without building pycnn again
$(TEST_STAMP): $(STAMP)
	$(PIP) install --quiet "$(TORCH)"
	$(PIP) install --quiet $$($(PY) tools/extras.py test interop bench browser)
	touch $(TEST_STAMP)

$(FUZZ_STAMP): $(TEST_STAMP)
	$(PIP) install --quiet $$($(PY) tools/extras.py fuzz)
	touch $(FUZZ_STAMP)

# The extension is rebuilt whenever a C source or header changes.
pycnn/.built: $(STAMP) $(SOURCES)
	$(PY) setup.py --quiet build_ext --inplace
	touch pycnn/.built

build: pycnn/.built

demo: build
	$(PY) -m pycnn.demo

# tests/test_browser.py drives Debian's Chromium through chromium-driver (installed when
# missing; it fails with the reason where they cannot be installed)
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

test: build $(TEST_STAMP) browser-deps
	$(PY) -m pytest -q

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this machine for old OpenBLAS
# builds; they slow a current NumPy, so the benchmark (only) runs without them and
# records the BLAS kernel threadpoolctl sees. BENCH_ARGS passes options through
# (e.g. BENCH_ARGS="--only conv --no-train"; see python -m benchmarks --help).
bench: build $(TEST_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m benchmarks $(BENCH_ARGS)

# The shape sweep's quick subset (benchmarks/sweep.py), printed; BENCHMARKS.md untouched
bench-quick: build $(TEST_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m benchmarks.sweep --quick --reps 3 $(BENCH_ARGS)

clean:
	rm -rf build $(VENV) pycnn/*.so pycnn/.built *.egg-info

# ---- robustness -------------------------------------------------------------------------
#   make sanitize   the test suite against an ASan+UBSan build (LeakSanitizer on pycnn's
#                   own allocations), in its own tree under build/sanitize
#   make valgrind   a subset of the suite under memcheck (PYTHONMALLOC=malloc)
#   make fuzz       the differential and file fuzz tests with >= 500 examples per property,
#                   then the coverage-guided atheris fuzzer for FUZZ_SECONDS (tools/fuzz_atheris.py)
#   make race       the kernels' thread pool under ThreadSanitizer (tools/parallel_stress.c)
# tools/memcheck.py explains the set-up; both exit non-zero on any finding.
VALGRIND_TESTS ?= tests/test_tensor.py tests/test_autograd.py tests/test_bad_inputs.py

sanitize: $(TEST_STAMP)
	@test -f "$$(gcc -print-file-name=libasan.so)" || \
	    (apt-get update -qq && apt-get install -y -qq gcc)
	$(PY) tools/memcheck.py sanitize

valgrind: $(TEST_STAMP)
	@command -v valgrind >/dev/null || (apt-get update -qq && apt-get install -y -qq valgrind)
	$(PY) tools/memcheck.py valgrind $(wildcard $(VALGRIND_TESTS)) -k "not deep_chain"

FUZZ_SECONDS ?= 120
fuzz: build $(FUZZ_STAMP)
	HYPOTHESIS_PROFILE=fuzz PYCNN_FLIP_FILES=2000 $(PY) -m pytest -q -p no:cacheprovider \
	    tests/test_fuzz.py tests/test_interrupt_and_persistence.py -k "not ctrl_c"
	mkdir -p build/fuzz_corpus
	cd build && $(abspath $(PY)) $(CURDIR)/tools/fuzz_atheris.py \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 fuzz_corpus

race:
	mkdir -p build
	gcc -O1 -g -std=c11 -pthread -fsanitize=thread -Icsrc tools/parallel_stress.c \
	    csrc/kernels/parallel.c -o build/parallel_stress
	TSAN_OPTIONS="die_after_fork=0 halt_on_error=1 exitcode=66" build/parallel_stress
