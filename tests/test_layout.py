"""The floors stay apart and call strictly downward: py -> autograd -> core -> kernels.

csrc/kernels is pure C (no Python, no NumPy), csrc/core the array floor (the one NumPy
include), csrc/autograd the graph (every recorder and backward), csrc/py the binding
floor (parsing, checks, exceptions; it records nothing itself)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"
INCLUDE = re.compile(r'#\s*include\s*([<"])([^>"]+)[>"]')

# The C library, POSIX threads and the x86 intrinsics: all the kernels may include
# besides their own headers.
C_HEADERS = {
    "assert.h", "float.h", "immintrin.h", "limits.h", "math.h", "pthread.h", "sched.h",
    "signal.h", "stdatomic.h", "stdbool.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h",
    "string.h", "time.h", "unistd.h",
}

# Run-time imports of pycnn's own Python modules from C. Empty: the callables C needs
# are handed in by pycnn/__init__.py (_core._register_hooks, csrc/py/hooks.c).
PYCNN_IMPORTS_FROM_C = []


def sources(floor):
    return sorted(p for p in (CSRC / floor).rglob("*")
                  if p.suffix in {".c", ".h", ".def"})


def includes(path):
    return INCLUDE.findall(path.read_text())


def offenders(floor, bad):
    return [f"{p.relative_to(CSRC)}: {name}" for p in sources(floor)
            for kind, name in includes(p) if bad(kind, name)]


def test_kernels_are_pure_c():
    own = {p.name for p in sources("kernels")}

    def foreign(kind, name):
        if kind == "<":
            return name not in C_HEADERS
        return name not in own and name.removeprefix("kernels/") not in own
    assert offenders("kernels", foreign) == []


def test_core_includes_only_core_and_kernels():
    assert offenders("core", lambda kind, name: kind == '"' and
                     not name.startswith(("core/", "kernels/"))) == []


def test_autograd_includes_nothing_from_py():
    assert offenders("autograd", lambda kind, name: kind == '"' and
                     not name.startswith(("autograd/", "core/", "kernels/"))) == []


def test_only_numpy_api_header_includes_numpy():
    includers = [p.relative_to(ROOT).as_posix() for p in CSRC.rglob("*.[ch]")
                 if re.search(r'#\s*include\s*[<"]numpy/', p.read_text())]
    assert includers == ["csrc/core/numpy_api.h"]


def test_no_op_is_recorded_from_the_binding_floor():
    recorders = [p.name for p in sources("py") if re.search(r"\bpc_record\s*\(", p.read_text())]
    assert recorders == []


def test_c_imports_of_pycnn_modules():
    found = []
    for path in CSRC.rglob("*.c"):
        for module in re.findall(r'PyImport_ImportModule\s*\(\s*"([^"]+)"', path.read_text()):
            if module.split(".")[0] == "pycnn":
                found.append(f"{path.relative_to(CSRC)}: {module}")
    assert sorted(found) == sorted(PYCNN_IMPORTS_FROM_C)


def test_every_op_has_a_name():
    from pycnn import _core
    names = _core.op_names()
    assert len(names) == len(set(names)), "duplicate op names in ops.def"
    assert all(names)


def test_c_functions_and_types_have_text_signatures():
    """Shift-Tab in Jupyter shows the arguments: every public C function and type of
    pycnn._core carries a text signature (docstring 'name(args)\\n--\\n\\n...')."""
    import inspect

    import pycnn
    from pycnn import _core
    missing = []
    for name in dir(_core):
        obj = getattr(_core, name)
        if name.startswith("_") or not callable(obj):
            continue
        try:
            inspect.signature(obj)
        except ValueError:
            missing.append(name)
    assert missing == []
    assert str(inspect.signature(pycnn.layers.Dense)).startswith(
        "(units, activation=None, use_bias=True, kernel_initializer='glorot_uniform'")
    assert str(inspect.signature(pycnn.softplus)) == "(x)"
    assert str(inspect.signature(pycnn.leaky_relu)) == "(x, alpha=0.1)"
