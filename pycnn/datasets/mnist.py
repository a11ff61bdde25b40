"""MNIST, offline: the full set from files you have, else the 10,000 images pycnn ships.

Looks, in order, in ``path`` (a folder, or the ``mnist.npz`` file itself), else in
``$PYCNN_DATA``, else in ``~/.pycnn/datasets`` — each folder and its ``mnist/`` subfolder —
for either the four IDX files of Yann LeCun's page, gzipped or not::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

or Keras' ``mnist.npz`` (arrays x_train, y_train, x_test, y_test; read without pickle).
Found: Keras' split, 60,000 training and 10,000 test images.

Not found (and no ``path`` given): the official 10,000-image MNIST *test* set that ships
inside pycnn (``pycnn/datasets/data/mnist/``, unmodified, CC BY-SA 3.0: see NOTICE), split
8,000 / 2,000 by a fixed rule — image i of the file is a test image when i % 5 == 4, a
training image otherwise (every digit keeps about its share in both parts; both halves of
the file, the cleaner first 5,000 and the harder last 5,000, feed both parts). A warning
says so, once per process. Nothing is ever downloaded.

    >>> (x_train, y_train), (x_test, y_test) = pycnn.datasets.mnist.load_data()
    >>> x_train.shape, x_train.dtype        # ((8000, 28, 28), dtype('uint8')) bundled
"""
import functools as _functools
import gzip as _gzip
import os as _os
import warnings as _warnings
import zipfile as _zipfile

import numpy as _np

__all__ = ["load_data", "load_bundled", "read_idx", "search_dirs", "IDX_FILES", "BUNDLED_DIR",
           "BUNDLED_TEST_EVERY", "BundledMNISTWarning"]

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
NPZ_FILE = "mnist.npz"
BUNDLED_DIR = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "data", "mnist")
BUNDLED_TEST_EVERY = 5          # image i of the bundled file is a test image iff i % 5 == 4


class BundledMNISTWarning(UserWarning):
    """load_data() returned the bundled 8,000 / 2,000 split, not the full MNIST."""

# IDX type byte -> big-endian NumPy dtype (the format's whole list)
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":                  # gzip magic, whatever the file is called
        try:
            raw = _gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: corrupted or truncated gzip data ({e})") from None
    return raw


def read_idx(path):
    """The array stored in one IDX file (gzipped or not).

    Header: two zero bytes, a type byte (0x08 = uint8 ...), the number of dimensions,
    then each dimension as a big-endian int32; the data follow, big-endian, row-major.
    """
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (magic bytes {raw[:4].hex() or 'missing'}; "
                         f"expected 0000 then a type byte 08..0e and the dimension count)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes for {ndim} "
                         f"dimensions)")
    shape = tuple(int(d) for d in _np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = _np.dtype(_IDX_TYPES[raw[2]])
    expected = int(_np.prod(shape, dtype=_np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX shape {shape} needs {expected} data bytes but the file "
                         f"holds {len(raw) - header} (truncated or not MNIST)")
    data = _np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))     # native order, own memory


def search_dirs(path=None):
    """The folders load_data looks in, in order."""
    if path is not None:
        bases = [_os.fspath(path)]
    else:
        bases = [p for p in (_os.environ.get("PYCNN_DATA"),
                             _os.path.join(_os.path.expanduser("~"), ".pycnn", "datasets")) if p]
    dirs = []
    for base in bases:
        dirs += [base, _os.path.join(base, "mnist")]
    return dirs


def _find(folder, name):
    for candidate in (name, name + ".gz"):
        full = _os.path.join(folder, candidate)
        if _os.path.isfile(full):
            return full
    return None


def _load_npz(path):
    try:
        f = _np.load(path, allow_pickle=False)
        if not isinstance(f, _np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with f:
            arrays = {k: f[k] for k in IDX_FILES if k in f.files}
            held = f.files
    except (OSError, EOFError, ValueError, _zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: cannot read as mnist.npz ({e})") from None
    missing = [k for k in IDX_FILES if k not in arrays]
    if missing:
        raise ValueError(f"{path}: not Keras' mnist.npz (missing arrays {', '.join(missing)}; "
                         f"it holds {', '.join(held)})")
    return arrays


def _check(arrays, where):
    for part in ("train", "test"):
        x, y = arrays["x_" + part], arrays["y_" + part]
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(f"{where}: {part} images {x.shape} and labels {y.shape} do not "
                             f"pair up (expected (n, 28, 28) and (n,))")
    return ((arrays["x_train"].astype(_np.uint8, copy=False),
             arrays["y_train"].astype(_np.uint8, copy=False)),
            (arrays["x_test"].astype(_np.uint8, copy=False),
             arrays["y_test"].astype(_np.uint8, copy=False)))


@_functools.lru_cache(maxsize=1)
def _bundled_arrays():
    """The bundled 10,000 images and labels, read once, read-only."""
    images = read_idx(_os.path.join(BUNDLED_DIR, IDX_FILES["x_test"] + ".gz"))
    labels = read_idx(_os.path.join(BUNDLED_DIR, IDX_FILES["y_test"] + ".gz"))
    if images.shape != (10000, 28, 28) or labels.shape != (10000,):
        raise ValueError(f"mnist: the bundled files in {BUNDLED_DIR} hold images {images.shape} "
                         f"and labels {labels.shape}, not the 10,000 MNIST test images "
                         f"(a damaged installation?)")
    for a in (images, labels):
        a.setflags(write=False)
    return images, labels


def load_bundled():
    """The MNIST test set that ships with pycnn, split 8,000 / 2,000:
    ``(x_train, y_train), (x_test, y_test)``, uint8, images (n, 28, 28).

    The split is fixed (no seed): image i of the file goes to the test part when
    ``i % BUNDLED_TEST_EVERY == BUNDLED_TEST_EVERY - 1`` (i % 5 == 4), to the training
    part otherwise; both keep the file's order.
    """
    images, labels = _bundled_arrays()
    test = _np.arange(len(labels)) % BUNDLED_TEST_EVERY == BUNDLED_TEST_EVERY - 1
    return (images[~test], labels[~test]), (images[test], labels[test])


_told_bundled = False


def _full_files(dirs):
    """The full set from the first folder that holds it, else None."""
    for folder in dirs:
        found = {key: _find(folder, name) for key, name in IDX_FILES.items()}
        if all(found.values()):
            return _check({key: read_idx(p) for key, p in found.items()}, folder)
        npz = _os.path.join(folder, NPZ_FILE)
        if _os.path.isfile(npz):
            return _check(_load_npz(npz), npz)
    return None


def load_data(path=None):
    """MNIST as ``(x_train, y_train), (x_test, y_test)``: images uint8 (n, 28, 28),
    labels uint8 (n,) — like ``keras.datasets.mnist.load_data()``, from local files only.

    With the full files found (see the module docstring): 60,000 / 10,000, Keras' split.
    Otherwise the bundled 10,000 test images split 8,000 / 2,000 (``load_bundled``), with a
    ``BundledMNISTWarning`` the first time. With ``path`` given, only ``path`` is searched
    and missing files raise FileNotFoundError naming the files expected.
    """
    global _told_bundled
    if path is not None and _os.path.isfile(path):
        if not _os.fspath(path).endswith(".npz"):
            raise ValueError(f"mnist.load_data: {path} is a file but not an .npz; pass the "
                             f"folder holding the IDX files instead")
        return _check(_load_npz(path), path)
    dirs = search_dirs(path)
    full = _full_files(dirs)
    if full is not None:
        return full
    if path is None:
        if not _told_bundled:
            _told_bundled = True
            _warnings.warn(
                "mnist.load_data: the full MNIST files are not in "
                f"{' or '.join(dirs) or '$PYCNN_DATA or ~/.pycnn/datasets'}; returning the "
                "10,000 MNIST test images bundled with pycnn, split 8,000 train / 2,000 test "
                "(image i is a test image when i % 5 == 4). For Keras' 60,000 / 10,000 split "
                "put the four IDX files or mnist.npz there.", BundledMNISTWarning, stacklevel=2)
        return load_bundled()
    names = ", ".join(f"{n}[.gz]" for n in IDX_FILES.values())
    raise FileNotFoundError(
        "mnist.load_data: no MNIST files found; pycnn never downloads. Put the four IDX files "
        f"({names}) or Keras' {NPZ_FILE} into one of: {', '.join(dirs)} "
        "(or set $PYCNN_DATA, or pass path=; without path= the bundled 10,000 images are "
        "used). They are published at https://yann.lecun.com/exdb/mnist/ and as "
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz")
