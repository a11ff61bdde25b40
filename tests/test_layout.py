"""The four floors stay apart: kernels never see Python or NumPy."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_kernels_are_pure_c():
    offenders = []
    for path in sorted((ROOT / "csrc" / "kernels").rglob("*")):
        if path.suffix in {".c", ".h"}:
            text = path.read_text()
            if re.search(r'#\s*include\s*[<"](Python\.h|numpy/)', text):
                offenders.append(path.name)
    assert offenders == []


def test_only_numpy_api_header_includes_numpy():
    includers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "csrc").rglob("*.[ch]")
                 if re.search(r'#\s*include\s*[<"]numpy/', p.read_text())]
    assert includers == ["csrc/core/numpy_api.h"]


def test_every_op_has_a_name():
    from pycnn import _core
    names = _core.op_names()
    assert len(names) == len(set(names)), "duplicate op names in ops.def"
    assert all(names)
