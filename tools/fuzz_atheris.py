"""Coverage-guided fuzzing (atheris, libFuzzer's engine for Python) of what reads other
people's bytes: load_model on .pycnn and .keras files, and pycnn.tensor / pycnn.Tensor on
arrays made from arbitrary buffers. `make fuzz` runs it for a fixed budget:

    python tools/fuzz_atheris.py -max_total_time=60 build/fuzz_corpus

The first byte of an input picks the target; the rest is, by target:
    0  a .pycnn file's bytes            1  a .keras file's bytes
    2  an array buffer (tests/fuzz_targets.tensor_from_bytes decodes dtype, shape, strides)
    3  a structured edit of a valid .pycnn manifest: path, action and JSON value
       chosen by atheris' FuzzedDataProvider (so the fuzzer explores the manifest's grammar,
       not only its bytes)
The contract of each target is in tests/fuzz_targets.py: anything but a loaded model or the
one exception it allows is a finding, and atheris stops on it, writing the input to
crash-<hash>. The corpus folder starts from valid files of every kind.
"""
import json
import os
import sys
import tempfile

import atheris

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

with atheris.instrument_imports(include=["pycnn", "fuzz_targets"]):
    import fuzz_targets

os.environ.setdefault("KERAS_BACKEND", "torch")
WORK = tempfile.mkdtemp(prefix="pycnn-atheris-")
SEEDS = fuzz_targets.seed_files(WORK)
with open(SEEDS[".pycnn"], "rb") as _f:
    SEED_PYCNN = _f.read()
import zipfile  # noqa: E402

with zipfile.ZipFile(SEEDS[".pycnn"]) as _z:
    MANIFEST = json.loads(_z.read("pycnn.json"))
PATHS = fuzz_targets.json_paths(MANIFEST)


def _json_value(fdp, depth=0):
    kind = fdp.ConsumeIntInRange(0, 7 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeIntInRange(-2 ** 40, 2 ** 40)
    if kind == 3:
        return fdp.ConsumeRegularFloat()
    if kind == 4:
        return fdp.ConsumeUnicodeNoSurrogates(8)
    if kind == 5:
        return fdp.PickValueInList(["Dense", "Conv2D", "inspect", "__class__", "float32",
                                    "object", "weights/0000.npy", "adam", "same", 2 ** 63])
    if kind == 6:
        return [_json_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    return {fdp.ConsumeUnicodeNoSurrogates(4): _json_value(fdp, depth + 1)
            for _ in range(fdp.ConsumeIntInRange(0, 3))}


def _write(data, ext):
    path = os.path.join(WORK, f"input{ext}")
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_one_input(data):
    if not data:
        return
    target, rest = data[0] % 4, data[1:]
    if target == 0:
        fuzz_targets.load_file(_write(rest, ".pycnn"))
    elif target == 1:
        fuzz_targets.load_file(_write(rest, ".keras"))
    elif target == 2:
        fuzz_targets.tensor_from_bytes(rest)
    else:
        fdp = atheris.FuzzedDataProvider(rest)
        manifest = MANIFEST
        for _ in range(fdp.ConsumeIntInRange(1, 3)):
            paths = fuzz_targets.json_paths(manifest)
            path = paths[fdp.ConsumeIntInRange(0, len(paths) - 1)]
            action = ["set", "delete", "nest"][fdp.ConsumeIntInRange(0, 2)] if path else "set"
            new = fdp.ConsumeIntInRange(1, 300) if action == "nest" else _json_value(fdp)
            manifest = fuzz_targets.json_edit(manifest, path, action, new)
        dst = os.path.join(WORK, "edited.pycnn")
        fuzz_targets.rewrite_zip(SEEDS[".pycnn"], dst,
                                 {"pycnn.json": json.dumps(manifest).encode()})
        fuzz_targets.load_file(dst)


def _seed_corpus(folder):
    os.makedirs(folder, exist_ok=True)
    if os.listdir(folder):
        return
    seeds = {"pycnn": b"\x00" + SEED_PYCNN, "tensor": b"\x02" + bytes(range(64)),
             "edit": b"\x03" + bytes(32)}
    with open(SEEDS[".keras"], "rb") as f:
        seeds["keras"] = b"\x01" + f.read()
    for name, blob in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    for folder in corpus[:1]:
        _seed_corpus(folder)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
