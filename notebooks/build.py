"""Build the lecture's notebooks from their sources in ``notebooks/src/``.

Each source is a plain Python file in the "percent" format: ``# %%`` starts a code
cell, ``# %% [markdown]`` a prose cell whose lines are written as ``# text``. The
sources run as scripts (``python notebooks/src/03_graph_of_tensors.py``), diff well,
and this script turns them into ``.ipynb`` files stored without outputs:

    python notebooks/build.py            # rebuild every notebook
    python notebooks/build.py 03 05      # only those whose name starts so
    python notebooks/build.py --check    # exit 1 if a notebook is not its source's build
"""
import pathlib
import sys

import nbformat

HERE = pathlib.Path(__file__).resolve().parent
SOURCES = HERE / "src"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def cells_of(text):
    """The cells of a percent-format source: a list of ``("code"|"markdown", text)``."""
    cells, kind, lines = [], None, []

    def flush():
        body = "\n".join(lines).strip("\n")
        if kind is not None and body:
            cells.append((kind, body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            if line and not line.startswith("#"):
                raise ValueError(f"markdown line does not start with '#': {line!r}")
            lines.append(line[2:] if line.startswith("# ") else line[1:])
        elif kind == "code":
            lines.append(line)
    flush()
    return cells


def build(source):
    """The notebook (an nbformat node, no outputs) of one source file."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, body) in enumerate(cells_of(source.read_text(encoding="utf-8"))):
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(body)
        cell["id"] = f"{source.stem[:2]}-{i:02d}"      # stable ids: rebuilds diff cleanly
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def target(source):
    return HERE / (source.stem + ".ipynb")


def main(argv):
    check = "--check" in argv
    prefixes = [a for a in argv if not a.startswith("--")]
    stale = []
    for source in sorted(SOURCES.glob("[0-9][0-9]_*.py")):
        if prefixes and not any(source.stem.startswith(p) for p in prefixes):
            continue
        text = nbformat.writes(build(source)) + "\n"
        if check:
            if not target(source).exists() or target(source).read_text(encoding="utf-8") != text:
                stale.append(target(source).name)
            continue
        tmp = target(source).with_suffix(".ipynb.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target(source))                      # atomic: never half a notebook
        print(f"wrote {target(source).relative_to(HERE.parent)}")
    if stale:
        print("out of date (run python notebooks/build.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
