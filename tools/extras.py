"""Prints the requirements of pyproject.toml's extras, one per line, for the Makefile:

    pip install $(python tools/extras.py test interop)

so `make test` adds what the tests need to a venv that `make demo` set up, without building
pycnn again (pyproject.toml stays the one list)."""
import os
import sys

try:
    import tomllib
except ModuleNotFoundError:             # Python 3.10: pip carries the same parser
    from pip._vendor import tomli as tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
    extras = tomllib.load(f)["project"]["optional-dependencies"]
unknown = [name for name in sys.argv[1:] if name not in extras]
if unknown:
    sys.exit(f"tools/extras.py: no extra {', '.join(unknown)} in pyproject.toml "
             f"(there are {', '.join(sorted(extras))})")
seen = []
for name in sys.argv[1:]:
    seen += [r for r in extras[name] if r not in seen]
print("\n".join(seen))
