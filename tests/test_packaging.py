"""What a pip user gets: `python -m build --sdist` makes an sdist that builds a working wheel,
and the wheel installed into a fresh venv holding nothing but NumPy imports, trains, saves and
loads — and names the extra to install for what it lacks. Offline: the wheel is built with
--no-build-isolation against this venv's setuptools and NumPy."""
import glob
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(args, cwd, env=None, timeout=300):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=env)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("build", reason="pip install build (in the [test] extra)")
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out),
          ROOT], cwd=ROOT)
    sdist, = glob.glob(str(out / "pycnn-*.tar.gz"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
          "--no-index", "--no-cache-dir", "--quiet", "-w", str(out), sdist], cwd=str(out))
    path, = glob.glob(str(out / "pycnn-*.whl"))
    return path


def test_the_sdist_carries_sources_licence_and_notice(wheel):
    import tarfile
    sdist, = glob.glob(os.path.join(os.path.dirname(wheel), "pycnn-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"LICENSE", "NOTICE", "README.md", "setup.py", "pyproject.toml",
            "csrc/autograd/ops.def"} <= names
    sources = {os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "csrc", "**",
                                                                        "*.[ch]"),
                                                           recursive=True)}
    assert sources <= names, sorted(sources - names)


def test_the_wheel_is_stripped_and_carries_its_licence(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        so_name = next(n for n in names if n.startswith("pycnn/_core") and n.endswith(".so"))
        so = z.read(so_name)
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert any(n.endswith("licenses/NOTICE") for n in names)
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Programming Language :: C" in metadata
    assert "Provides-Extra: notebook" in metadata and "Provides-Extra: interop" in metadata
    assert "Requires-Dist: numpy" in metadata
    core = [line for line in metadata.splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert core == ["Requires-Dist: numpy>=1.26"], core
    # -g0 and -s: no debug sections, no symbol table (ELF section names from the header)
    sections = _elf_section_names(so)
    assert ".text" in sections
    assert not [s for s in sections if s.startswith(".debug") or s == ".symtab"], sections
    print(f"wheel {os.path.getsize(wheel)} bytes, extension {len(so)} bytes")


def _elf_section_names(data):
    """Section names of a 64-bit little-endian ELF file."""
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1
    shoff = int.from_bytes(data[0x28:0x30], "little")
    shentsize = int.from_bytes(data[0x3A:0x3C], "little")
    shnum = int.from_bytes(data[0x3C:0x3E], "little")
    shstrndx = int.from_bytes(data[0x3E:0x40], "little")
    headers = [data[shoff + i * shentsize: shoff + (i + 1) * shentsize] for i in range(shnum)]
    strtab = headers[shstrndx]
    str_off = int.from_bytes(strtab[0x18:0x20], "little")
    names = []
    for h in headers:
        start = str_off + int.from_bytes(h[0:4], "little")
        names.append(data[start:data.index(b"\0", start)].decode())
    return names


CHECK = r"""
import importlib.util, os, sys, tempfile
import numpy as np
import pycnn
from pycnn.layers import Dense
from pycnn.models import Sequential, load_model
assert os.path.dirname(pycnn.__file__).startswith(sys.prefix), pycnn.__file__
for name in ("matplotlib", "sklearn", "h5py", "keras", "torch", "ipywidgets"):
    assert importlib.util.find_spec(name) is None, name
t = pycnn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
(t * t).sum().backward()
assert np.array_equal(t.grad, [[2.0, 4.0], [6.0, 8.0]])
pycnn.set_seed(0)
model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
x = np.random.default_rng(0).random((32, 4), dtype=np.float32)
history = model.fit(x, np.arange(32) % 3, epochs=2, verbose=0)
path = os.path.join(tempfile.mkdtemp(), "m.pycnn")
model.save(path)
assert np.array_equal(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))
def says(fn, text):
    try:
        fn()
    except ImportError as e:
        assert text in str(e), str(e)
    else:
        raise AssertionError(f"{fn} did not raise")
says(history.plot, "History.plot needs matplotlib, which is not installed: "
                   "pip install pycnn[notebook]")
from pycnn.datasets import digits
says(digits.load_data, "pip install pycnn[notebook]")
says(lambda: model.save(path[:-6] + ".keras"), "needs h5py, which is not installed: "
                                               "pip install pycnn[hdf5]")
from pycnn import interop
says(lambda: interop.to_keras(model), "pip install pycnn[interop]")
print("ok")
"""


def test_the_wheel_works_in_a_fresh_venv_with_only_numpy(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=str(tmp_path))
    python = str(venv / "bin" / "python")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
          "--no-index", wheel], cwd=str(tmp_path))
    # NumPy, and only NumPy, from this venv (offline: nothing is downloaded)
    only_numpy = tmp_path / "numpy_only"
    only_numpy.mkdir()
    here = os.path.dirname(os.path.dirname(np.__file__))
    for name in os.listdir(here):
        if name == "numpy" or name.startswith(("numpy-", "numpy.libs")):
            os.symlink(os.path.join(here, name), only_numpy / name)
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                cwd=str(tmp_path)).strip()
    with open(os.path.join(site, "numpy_only.pth"), "w") as f:
        f.write(str(only_numpy) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "KERAS"))}
    out = _run([python, "-c", textwrap.dedent(CHECK)], cwd=str(tmp_path), env=env)
    assert out.strip().endswith("ok")
    assert sysconfig.get_paths()["purelib"] != site
