"""What the file and buffer fuzzers drive, shared by the hypothesis tests (tests/test_fuzz.py)
and the coverage-guided atheris fuzzer (tools/fuzz_atheris.py).

Each target takes bytes (or an already-built file) and either returns normally or raises the
one exception its contract allows; anything else propagates, and the fuzzer reports it:

- load_file(path): load_model returns a model that predicts, or raises ValueError naming the
  file. Never another exception, never an allocation larger than the file declares.
- tensor_from_bytes(data): an array of any number dtype, byte order, shape and striding made
  from the buffer; pycnn.tensor / pycnn.Tensor either hold exactly its values (as float32 or
  float64) or raise TypeError / ValueError.
"""
import io
import json
import os
import zipfile

import numpy as np

import pycnn
from pycnn.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from pycnn.models import Sequential, load_model


def seed_model():
    """The small CNN every file seed is saved from (compiled, trained one step)."""
    pycnn.set_seed(0)
    model = Sequential([Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)), MaxPooling2D(),
                        Flatten(), Dropout(0.1), Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.train_on_batch(np.zeros((2, 6, 6, 1), np.float32), np.eye(3, dtype=np.float32)[:2])
    return model


def seed_files(folder):
    """The valid files mutations start from: {'.pycnn': path, '.keras': path}."""
    model = seed_model()
    paths = {}
    for ext in (".pycnn", ".keras"):
        paths[ext] = os.path.join(folder, f"seed{ext}")
        model.save(paths[ext])
    return paths


def load_file(path):
    """load_model(path) loads a working model or raises ValueError naming the file."""
    try:
        model = load_model(path)
    except ValueError as e:
        if os.fspath(path) not in str(e):
            raise AssertionError(f"the error does not name the file: {e}") from e
        return "raised"
    shape = (2,) + tuple(model.input_shape[1:])
    model.predict(np.zeros(shape, np.float32), verbose=0)
    return "loaded"


# ---- structure-aware mutations: the JSON tree, the .npy headers, the zip entries ----------

def json_paths(value, prefix=()):
    """Every path (tuple of keys / indices) into a parsed JSON value, the root included."""
    out, stack = [], [(value, prefix)]
    while stack:
        item, path = stack.pop()
        out.append(path)
        if isinstance(item, dict):
            stack.extend((v, path + (k,)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(item))
    return sorted(out, key=lambda p: [str(k) for k in p])


def json_edit(value, path, action, new=None):
    """A copy of value with the node at path replaced by new ('set'), removed ('delete'),
    or wrapped in `new` levels of lists ('nest')."""
    value = json.loads(json.dumps(value))
    if not path:
        return new if action == "set" else value
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "nest":
        node = parent[key]
        for _ in range(int(new)):
            node = [node]
        parent[key] = node
    else:
        parent[key] = new
    return value


def npy_header(shape, descr, fortran=False, version=(1, 0)):
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": bool(fortran), "shape": tuple(shape)}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, header)
    else:
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue()


def rewrite_zip(src, dst, entries=None, drop=(), extra=(), compress=()):
    """A copy of the zip src with entries {name: bytes} replaced, names in drop left out,
    (name, bytes) pairs in extra appended, and names in compress deflated."""
    entries = dict(entries or {})
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
        for info in z.infolist():
            if info.filename in drop:
                continue
            data = entries.get(info.filename, z.read(info.filename))
            method = zipfile.ZIP_DEFLATED if info.filename in compress else zipfile.ZIP_STORED
            out.writestr(zipfile.ZipInfo(info.filename), data, compress_type=method)
        for name, data in extra:
            out.writestr(zipfile.ZipInfo(name), data)
    return dst


# ---- buffers -> tensors -------------------------------------------------------------------

BUFFER_DTYPES = ["<f4", ">f4", "<f8", ">f8", "<f2", "<i1", "<u1", "<i2", ">i2", "<i4", ">u4",
                 "<i8", "<u8", "|b1", "<c8", "<c16", "|S2", "<U1", "<m8[s]", "<M8[D]"]


def tensor_from_bytes(data):
    """pycnn.tensor / pycnn.Tensor on an array whose dtype, shape, striding and byte order
    the first bytes choose and whose values are the rest."""
    if len(data) < 4:
        return "short"
    dtype = np.dtype(BUFFER_DTYPES[data[0] % len(BUFFER_DTYPES)])
    ndim = data[1] % 5
    layout = data[2]
    body = data[4:]
    n = len(body) // dtype.itemsize
    dims, rest = [], n
    for i in range(ndim):
        d = (data[3] >> (2 * i) & 3) + (1 if i else 0)
        d = min(d, rest) if rest else 0
        dims.append(d)
        rest = rest // d if d else 0
    count = int(np.prod(dims)) if dims else min(n, 1)
    array = np.frombuffer(body[:count * dtype.itemsize], dtype=dtype, count=count)
    array = array.reshape(dims) if dims else (array.reshape(()) if count else array)
    if layout & 1 and array.ndim:
        array = array[::-1]
    if layout & 2 and array.ndim > 1:
        array = array.T
    if layout & 4 and array.ndim and array.shape[-1] > 1:
        array = array[..., ::2]
    if layout & 8:
        array = array.copy()                    # writeable, owned
    for make in (pycnn.tensor, pycnn.Tensor):
        try:
            t = make(array)
        except (TypeError, ValueError):
            continue
        got = np.asarray(t)
        if got.shape != array.shape or got.dtype not in (np.float32, np.float64):
            raise AssertionError(f"{make.__name__}: {array.dtype} {array.shape} became "
                                 f"{got.dtype} {got.shape}")
        want = array.astype(got.dtype)
        if not np.array_equal(got, want, equal_nan=True):
            raise AssertionError(f"{make.__name__}: the values of {array.dtype} {array.shape} "
                                 f"changed")
        if got.size:
            float(pycnn.sum(t).numpy())          # the tensor is usable in an op
    return "ok"
