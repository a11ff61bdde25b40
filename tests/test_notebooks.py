"""Every notebook of the lecture runs top to bottom, as a student would run it.

Each is executed by nbclient in a fresh kernel of THIS interpreter (a kernelspec
written to a temporary JUPYTER_PATH points at sys.executable, so the kernel sees the
same pycnn and packages as pytest), with matplotlib's Agg backend and a time limit.
The stored notebooks carry no outputs and are exactly what `notebooks/build.py`
makes of their sources in `notebooks/src/`.
"""
import datetime
import json
import os
import pathlib
import sys
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

import pycnn  # noqa: E402
from helpers import notebook_client  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# Seconds a notebook may take, start to finish (each runs in 2-12 s on an idle 2-core
# machine): room for load, and still a catch for a runaway notebook.
LIMIT = 300
# 10_architectures trains seven networks (the best one for 16 epochs on the 8,000 bundled
# MNIST images: 98.8-99.0 % test accuracy): 70-120 s on an idle machine
LIMITS = {"10_architectures": 420}
KERNEL = "pycnn-test-python"


def test_each_source_has_its_notebook():
    sources = sorted(p.stem for p in (NOTEBOOKS / "src").glob("[0-9][0-9]_*.py"))
    assert sources == [p.stem for p in PATHS]
    assert set(LIMITS) <= set(sources), "a time limit for a notebook that does not exist"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_is_stored_clean_and_built_from_its_source(path):
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import build
    finally:
        sys.path.remove(str(NOTEBOOKS))
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "stored with outputs"
    expected = nbformat.writes(build.build(NOTEBOOKS / "src" / (path.stem + ".py"))) + "\n"
    assert path.read_text(encoding="utf-8") == expected, \
        f"{path.name} differs from its source: run python notebooks/build.py"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """JUPYTER_PATH with a kernelspec for this interpreter; pycnn importable; Agg plots;
    a fresh IPython profile."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"],
        "display_name": "pycnn tests", "language": "python"}))
    package_root = str(pathlib.Path(pycnn.__file__).resolve().parent.parent)
    saved = dict(os.environ)
    os.environ["JUPYTER_PATH"] = str(home)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [package_root] + [p for p in [saved.get("PYTHONPATH")] if p])
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["IPYTHONDIR"] = str(home / "ipython")   # no user profile or startup files
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    yield
    os.environ.clear()
    os.environ.update(saved)


def _slowest_cells(nb, n=3):
    """'cell 4: 2.1 s, ...': the cells that took longest, by nbclient's own timestamps."""
    took = []
    for index, cell in enumerate(nb.cells):
        stamps = cell.get("metadata", {}).get("execution", {})
        if "iopub.status.busy" in stamps and "shell.execute_reply" in stamps:
            start, end = (datetime.datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                          for k in ("iopub.status.busy", "shell.execute_reply"))
            took.append(((end - start).total_seconds(), index))
    return ", ".join(f"cell {i}: {t:.1f} s" for t, i in sorted(took, reverse=True)[:n])


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_top_to_bottom(path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    limit = LIMITS.get(path.stem, LIMIT)
    client = notebook_client(nb, timeout=limit, kernel_name=KERNEL,
                             resources={"metadata": {"path": str(NOTEBOOKS)}})
    start = time.perf_counter()
    client.execute()                 # raises CellExecutionError naming the failing cell
    elapsed = time.perf_counter() - start
    assert elapsed < limit, \
        f"{path.name} took {elapsed:.0f} s (limit {limit} s); slowest {_slowest_cells(nb)}"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    print(f"{path.name}: {elapsed:.1f} s ({_slowest_cells(nb)})")


def test_kernel_is_this_interpreter_with_this_pycnn(kernel_env):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, pycnn, matplotlib; print(sys.executable); print(pycnn.__file__); "
        "print(matplotlib.get_backend().lower())"))
    notebook_client(nb, timeout=60, kernel_name=KERNEL).execute()
    printed = nb.cells[0].outputs[0]["text"].split()
    assert printed == [sys.executable, pycnn.__file__, "agg"]
