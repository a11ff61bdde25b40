"""Run the test suite against an instrumented build of pycnn._core.

    python tools/memcheck.py sanitize [pytest args...]   # ASan + UBSan + LeakSanitizer
    python tools/memcheck.py valgrind [pytest args...]   # memcheck, PYTHONMALLOC=malloc

Each mode copies the sources to its own tree under build/ (the in-place build the
test suite uses is never touched), builds the extension there and runs pytest in it.

Python is not built with the sanitizers, so libasan is preloaded and PYTHONMALLOC=malloc
routes every Python allocation through it. CPython and NumPy keep memory alive at exit
by design, so a leak or memcheck error counts only when its stack passes through
pycnn's own extension (_core*.so): that is the "suppression for CPython/NumPy".
Exit status 0 means clean; the reports worth reading are printed.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = {"build", ".venv", ".git", ".hypothesis", ".pytest_cache", "__pycache__",
        "demo_output", ".ipynb_checkpoints"}
# Tests that measure time or RSS, or run notebooks, say nothing under instrumentation.
DESELECT = ["--ignore=tests/test_memory.py", "--ignore=tests/test_notebooks.py",
            "--ignore=tests/test_browser.py",     # kernels and a browser in subprocesses
            # builds a release wheel (with this run's sanitizer flags, so "stripped" fails)
            # and imports it in a fresh venv with another NumPy: not the build under test
            "--ignore=tests/test_packaging.py"]
OURS = re.compile(r"pycnn/_core\.cpython|\bcsrc/")


def stage(name):
    """A copy of the source tree in build/<name>/tree (no compiled objects)."""
    tree = os.path.join(ROOT, "build", name, "tree")
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(ROOT, tree, ignore=lambda d, names: [
        n for n in names if n in SKIP or n.endswith((".so", ".o", ".built"))])
    return tree


# Heavy optional oracles of the interop tests (Keras, ONNX Runtime) are made
# unimportable under the instruments, so the tests that compare against them skip;
# they say nothing about pycnn's memory and take minutes to load instrumented.
ORACLES = ("keras", "onnxruntime", "tensorflow", "jax")


def shadow_oracles(name):
    shadow = os.path.join(ROOT, "build", name, "shadow")
    shutil.rmtree(shadow, ignore_errors=True)
    for mod in ORACLES:
        os.makedirs(os.path.join(shadow, mod), exist_ok=True)
        with open(os.path.join(shadow, mod, "__init__.py"), "w") as f:
            f.write(f"raise ModuleNotFoundError('{mod} is not loaded under tools/memcheck.py')\n")
    return shadow


def build(tree, env):
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tree,
                   env=env, check=True, stdout=subprocess.DEVNULL)


def gcc_runtime(lib):
    for cc in ("gcc", "cc"):
        try:
            path = subprocess.run([cc, f"-print-file-name={lib}"], capture_output=True,
                                  text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if os.path.isabs(path) and os.path.exists(path):
            return os.path.realpath(path)
    sys.exit(f"memcheck: {lib} not found (apt-get install gcc, or libasan8)")


def pytest_cmd(args):
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *DESELECT, *args]


def ours(block):
    return OURS.search(block) is not None


def sanitize(args):
    tree = stage("sanitize")
    env = dict(os.environ, PYCNN_SANITIZE="1")
    build(tree, env)
    logs = os.path.join(ROOT, "build", "sanitize", "logs")
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    env.update(
        # libstdc++ too, or C++ extensions (matplotlib's ft2font) die in ASan's
        # __cxa_throw interceptor before they can throw
        LD_PRELOAD=gcc_runtime("libasan.so") + " " + gcc_runtime("libstdc++.so"),
        PYTHONMALLOC="malloc",
        # leaks are judged below (exitcode=0 at exit); memory errors stop the process
        ASAN_OPTIONS=f"detect_leaks=1:halt_on_error=1:log_path={logs}/asan:"
                     "allocator_may_return_null=1:detect_stack_use_after_return=0:"
                     "fast_unwind_on_malloc=0:malloc_context_size=10",
        LSAN_OPTIONS="exitcode=0:max_leaks=0:report_objects=0",
        UBSAN_OPTIONS=f"print_stacktrace=1:halt_on_error=1:log_path={logs}/ubsan",
        PYTHONPATH=shadow_oracles("sanitize"),
        PYCNN_BAD_INPUTS_INPROCESS="1",     # bad-input cases run inside the sanitized process
        HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"),
    )
    run = subprocess.run(pytest_cmd(args), cwd=tree, env=env)
    errors, leaks, foreign = [], [], 0
    for path in sorted(glob.glob(os.path.join(logs, "*"))):
        text = open(path, errors="replace").read()
        for block in re.split(r"\n(?==+\n==\d+==ERROR|(?:Direct|Indirect) leak of )", text):
            if "leak of" in block.split("\n", 1)[0]:
                if ours(block):
                    leaks.append(block)
                else:
                    foreign += 1
            elif "ERROR: AddressSanitizer" in block or "runtime error:" in block:
                errors.append(block)
    for block in errors + leaks:
        print(block.strip()[:6000], "\n", file=sys.stderr)
    print(f"sanitize: pytest exit {run.returncode}; {len(errors)} ASan/UBSan errors; "
          f"{len(leaks)} leaks through pycnn._core; {foreign} leak records of CPython/NumPy "
          f"alone ignored (logs: {logs})")
    return 1 if run.returncode or errors or leaks else 0


def valgrind(args):
    if shutil.which("valgrind") is None:
        sys.exit("memcheck: valgrind not found (apt-get install valgrind)")
    tree = stage("valgrind")
    build(tree, dict(os.environ, CFLAGS="-g"))
    xml = os.path.join(ROOT, "build", "valgrind", "memcheck.xml")
    env = dict(os.environ, PYTHONMALLOC="malloc", PYCNN_BAD_INPUTS_INPROCESS="1",
               PYTHONPATH=shadow_oracles("valgrind"),
               HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    cmd = ["valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite",
           "--errors-for-leak-kinds=definite", "--num-callers=40", "--xml=yes",
           f"--xml-file={xml}", *pytest_cmd(args)]
    run = subprocess.run(cmd, cwd=tree, env=env)
    bad, foreign = [], 0
    for err in ET.parse(xml).getroot().iter("error"):
        frames = [(f.findtext("obj") or "") + " " + (f.findtext("fn") or "") + " "
                  + (f.findtext("file") or "") + ":" + (f.findtext("line") or "")
                  for f in err.iter("frame")]
        if any(OURS.search(f) for f in frames):
            what = err.findtext("kind") + ": " + (err.findtext("what") or
                                                  err.findtext("xwhat/text") or "")
            bad.append(what + "\n    " + "\n    ".join(frames[:14]))
        else:
            foreign += 1
    for b in bad:
        print(b, "\n", file=sys.stderr)
    print(f"valgrind: pytest exit {run.returncode}; {len(bad)} memcheck errors/leaks through "
          f"pycnn._core; {foreign} records of CPython/NumPy alone ignored (log: {xml})")
    return 1 if run.returncode or bad else 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("sanitize", "valgrind"):
        sys.exit(__doc__)
    sys.exit({"sanitize": sanitize, "valgrind": valgrind}[sys.argv[1]](sys.argv[2:]))
