"""Model files from someone else: every number in them is checked before it sizes an
allocation, names resolve only through registries, and every damaged or hostile file raises
ValueError naming the file and the entry — with the peak memory of the attempt bounded by
twice what the manifest declares (measured in a child process: the kernel's peak-RSS counter
that resource.getrusage reads, reset before the loads)."""
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from pycnn import saving
from pycnn.layers import Dense
from pycnn.models import Sequential, load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model():
    """~2.1 MB of float32 weights: the manifest's declared size the bounds are relative to."""
    model = Sequential([Dense(512, activation="relu", input_shape=(1024,)), Dense(10)])
    model.compile("adam", "mse")
    return model


def _declared(path):
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("pycnn.json"))
    return sum(int(np.prod(e["shape"])) * np.dtype(e["dtype"]).itemsize
               for e in manifest["weights"])


def _rewrite(src, dst, replace=None, manifest=None, compress=None):
    """A copy of the zip src with some entries' bytes replaced (name -> bytes, or a
    function writing into the open entry) and/or the manifest edited (dict -> dict)."""
    replace = dict(replace or {})
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "pycnn.json" and manifest is not None:
                data = manifest(json.loads(data))
                data = data if isinstance(data, bytes) else json.dumps(data).encode()
            item = replace.get(info.filename, data)
            method = (compress or {}).get(info.filename, zipfile.ZIP_STORED)
            if callable(item):
                with out.open(zipfile.ZipInfo(info.filename), "w") as f:
                    item(f)
            else:
                out.writestr(zipfile.ZipInfo(info.filename), item, compress_type=method)
    return dst


def _npy_header(shape, descr="<f4"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": tuple(shape)})
    return buf.getvalue()


def _padded(data, megabytes):
    """Writes data and then megabytes of zeros (deflated: ~1 KB per MB in the file)."""
    def write(f):
        f.write(data)
        zeros = bytes(1 << 20)
        for _ in range(megabytes):
            f.write(zeros)
    return write


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    good = str(d / "good.pycnn")
    model = _model()
    model.train_on_batch(np.zeros((2, 1024), np.float32), np.zeros((2, 10), np.float32))
    model.save(good)
    with zipfile.ZipFile(good) as z:
        w0 = z.read("weights/0000.npy")
    body = w0[len(_npy_header((1024, 512))):]
    huge = str(d / "huge_header.pycnn")           # header: 100000 x 100000 float32 = 37 GiB
    _rewrite(good, huge, {"weights/0000.npy": _npy_header((100000, 100000)) + body})
    huge_both = str(d / "huge_manifest_and_header.pycnn")   # both agree, the data are short
    _rewrite(good, huge_both, {"weights/0000.npy": _npy_header((100000, 100000)) + body},
             manifest=lambda m: {**m, "weights": [{**m["weights"][0], "shape": [100000, 100000]}]
                                 + m["weights"][1:]})
    padded = str(d / "padded.pycnn")               # 300 MB of zeros after the weight's data
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(padded, "w") as out:
        for info in z.infolist():
            data = z.read(info.filename)
            target = zipfile.ZipInfo(info.filename)
            if info.filename == "weights/0000.npy":
                target.compress_type = zipfile.ZIP_DEFLATED
                with out.open(target, "w") as f:
                    _padded(data, 300)(f)
            else:
                out.writestr(target, data)
    inspect_layer = str(d / "inspect_layer.pycnn")
    _rewrite(good, inspect_layer, manifest=lambda m: _set_layer_class(m, "inspect"))
    dunder = str(d / "dunder_layer.pycnn")
    _rewrite(good, dunder, manifest=lambda m: _set_layer_class(m, "__class__"))
    inspect_loss = str(d / "inspect_loss.pycnn")
    _rewrite(good, inspect_loss, manifest=lambda m: {**m, "compile_config": {
        **m["compile_config"], "loss": {"class_name": "inspect", "config": {}}}})
    os_optimizer = str(d / "os_optimizer.pycnn")
    _rewrite(good, os_optimizer, manifest=lambda m: {**m, "compile_config": {
        **m["compile_config"], "optimizer": {"class_name": "os", "config": {}}}})
    os_model = str(d / "os_model.pycnn")
    _rewrite(good, os_model, manifest=lambda m: {**m, "model_config": {
        **m["model_config"], "class_name": "os"}})
    deep = str(d / "deep.pycnn")                   # 100,000 nested lists
    _rewrite(good, deep, manifest=lambda m: b'{"format": "pycnn.model", "format_version": 1, '
             b'"x": ' + b"[" * 100000 + b"]" * 100000 + b"}")
    deep_ok_json = str(d / "deep_500.pycnn")       # parses, but nests past the limit
    _rewrite(good, deep_ok_json, manifest=lambda m: {**m, "x": json.loads("[" * 500 + "]" * 500)})
    big_manifest = str(d / "big_manifest.pycnn")   # 80 MB of JSON whitespace, deflated
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(big_manifest, "w") as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "pycnn.json":
                target = zipfile.ZipInfo("pycnn.json")
                target.compress_type = zipfile.ZIP_DEFLATED
                with out.open(target, "w") as f:
                    _padded(b" ", 80)(f)
                    f.write(data)
            else:
                out.writestr(zipfile.ZipInfo(info.filename), data)
    object_dtype = str(d / "object_header.pycnn")
    _rewrite(good, object_dtype, {"weights/0000.npy": _npy_header((1024, 512), "|O") + body})
    object_manifest = str(d / "object_manifest.pycnn")
    _rewrite(good, object_manifest, manifest=lambda m: {**m, "weights": [
        {**m["weights"][0], "dtype": "object"}] + m["weights"][1:]})
    short = str(d / "short.pycnn")                 # the data end early
    _rewrite(good, short, {"weights/0000.npy": w0[:len(w0) // 2]})
    bad_shape = str(d / "bad_shape.pycnn")
    _rewrite(good, bad_shape, manifest=lambda m: {**m, "weights": [
        {**m["weights"][0], "shape": [-1, 512]}] + m["weights"][1:]})
    bad_slot = str(d / "bad_slot.pycnn")
    _rewrite(good, bad_slot, manifest=lambda m: {**m, "optimizer_slots": [
        {**m["optimizer_slots"][0], "weight": 99}]})
    bad_units = str(d / "bad_units.pycnn")
    _rewrite(good, bad_units, manifest=lambda m: _set_layer_config(m, units="many"))
    huge_units = str(d / "huge_units.pycnn")       # Dense(10**9) would allocate 4 TB at build
    _rewrite(good, huge_units, manifest=lambda m: _set_layer_config(m, units=10 ** 9))
    return {"good": good, "declared": _declared(good), "cases": {
        # file: (entry the message must name, what it must say)
        huge: ("weights/0000.npy", "header says float32 \\(100000, 100000\\)"),
        huge_both: ("weights/0000.npy", "manifest says \\(100000, 100000\\), the architecture"),
        padded: ("weights/0000.npy", "314572800 trailing bytes"),
        inspect_layer: ("pycnn.json", "unknown layer class 'inspect'"),
        dunder: ("pycnn.json", "unknown layer class '__class__'"),
        inspect_loss: ("pycnn.json", "unknown loss 'inspect'"),
        os_optimizer: ("pycnn.json", "unknown optimizer class 'os'"),
        os_model: ("pycnn.json", "unknown model class 'os'"),
        deep: ("pycnn.json", "nests deeper than 64 levels"),
        deep_ok_json: ("pycnn.json", "nests deeper than 64 levels"),
        big_manifest: ("pycnn.json", "more than the 67108864 allowed"),
        object_dtype: ("weights/0000.npy", "header says object"),
        object_manifest: ("weights/0000.npy", "dtype 'object' is not one of"),
        short: ("weights/0000.npy", "short"),
        bad_shape: ("weights/0000.npy", "shape \\[-1, 512\\] is not a list"),
        bad_slot: ("pycnn.json", "optimizer_slots\\[0\\] names weight 99"),
        bad_units: ("pycnn.json", "layers\\[0\\] \\(Dense\\) cannot be built"),
        huge_units: ("pycnn.json", "layers\\[0\\] \\(Dense\\) would need 4100000000000 bytes"),
    }}


def _set_layer_class(manifest, name):
    manifest["model_config"]["config"]["layers"][0]["class_name"] = name
    return manifest


def _set_layer_config(manifest, **config):
    manifest["model_config"]["config"]["layers"][0]["config"].update(config)
    return manifest


def test_the_good_file_loads(files):
    model = load_model(files["good"])
    assert [w.shape for w in model.get_weights()] == [(1024, 512), (512,), (512, 10), (10,)]


def test_every_hostile_file_raises_value_error_naming_file_and_entry(files):
    for path, (entry, says) in files["cases"].items():
        with pytest.raises(ValueError) as info:
            load_model(path)
        message = str(info.value)
        assert path in message and entry in message, message
        assert __import__("re").search(says, message), (os.path.basename(path), message)


CHILD = r"""
import json, resource, sys, zipfile, io, json
import numpy as np
import pycnn
from pycnn.models import load_model
paths, declared = json.loads(sys.argv[1]), int(sys.argv[2])
def peak():
    # the peak RSS of this process's memory: getrusage's ru_maxrss is max(this, the parent's
    # RSS inherited at exec and exited threads'), so the live counter is read (VmHWM, in kB)
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    assert hwm <= resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return hwm * 1024
# warm up every code path a load takes (imports, zipfile, json) on a file that is refused
try:
    load_model(paths[0])
except ValueError:
    pass
def reset_peak():                   # Linux: the peak RSS starts again from the current RSS
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return peak()
out = {}
for p in paths:
    base = reset_peak()
    try:
        load_model(p)
        out[p] = "loaded"
    except ValueError:
        out[p] = peak() - base
base = reset_peak()
ones = np.ones(declared // 8, np.float64)         # the control: the measurement does see memory
out["control"] = peak() - base
print(json.dumps(out))
"""


def test_hostile_files_never_allocate_what_they_declare(files):
    """Peak RSS growth over all the hostile loads stays below 2x the manifest's declared
    size (here ~2.1 MB; the files declare up to 37 GiB, 300 MB and 80 MB)."""
    paths = list(files["cases"])
    result = subprocess.run([sys.executable, "-c", CHILD, json.dumps(paths),
                             str(files["declared"])], capture_output=True, text=True,
                            timeout=300, cwd=ROOT,
                            # every block >= 64 KiB its own mapping, returned when freed: the
                            # peak RSS then sees each large allocation (no reuse of freed heap)
                            env={**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"})
    assert result.returncode == 0, result.stderr
    growth = json.loads(result.stdout)
    declared = files["declared"]
    print(f"declared {declared} B; peak RSS growth per case: "
          + ", ".join(f"{os.path.basename(p)} {g}" for p, g in growth.items()))
    assert growth["control"] >= 0.9 * declared, "getrusage should see a declared-size array"
    for p in paths:
        assert growth[p] != "loaded", p
        assert growth[p] < 2 * declared, (os.path.basename(p), growth[p], declared)


def test_registry_resolves_only_pycnn_classes_and_custom_objects():
    from pycnn import layers, losses
    assert saving._resolve_class("layer", "Dense") is layers.Dense
    assert saving._resolve_class("loss", "MeanSquaredError") is losses.MeanSquaredError
    for kind, name in (("layer", "inspect"), ("layer", "Layer"), ("layer", "__init__"),
                       ("loss", "np"), ("optimizer", "Optimizer"), ("model", "np"),
                       ("layer", ["Dense"]), ("metric", "get")):
        with pytest.raises(ValueError, match="unknown"):
            saving._resolve_class(kind, name)

    class Mine(layers.Dense):
        pass
    assert saving._resolve_class("layer", "Mine", {"Mine": Mine}) is Mine
