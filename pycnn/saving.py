"""Saving and loading models: one file, no pickle, never half-written.

The file is a zip archive (readable by ``np.load(path, allow_pickle=False)`` too):

    pycnn.json            {"format": "pycnn.model" | "pycnn.weights", "format_version": 1,
                           "model_config": {"class_name": "Sequential", "config": ...},
                           "compile_config": {...} | null,
                           "weights": [{"name", "shape", "dtype", "file"}, ...],
                           "optimizer_slots": [{"weight": i, "slot", "file", "shape",
                                                "dtype"}, ...]}
    weights/0000.npy ...  one .npy per weight, in model.get_weights() order
    optimizer/....npy     the optimizer's slot arrays (Adam's m and v, ...)

Loading never runs code and never trusts the file: JSON for the architecture (size- and
depth-limited), class names resolved only through registries (``_resolve_class``), and each
``.npy`` header checked against the manifest and the entry's size before its array is
allocated (see "reading" below). Writing goes to a temporary file in the same folder, which is
flushed, fsync'ed and then renamed over the target (``os.replace``, atomic on POSIX and
Windows): a crash mid-save leaves the previous file as it was. A truncated, corrupted
or foreign file raises ValueError saying so.
"""
import io as _io
import json as _json
import os as _os
import tempfile as _tempfile
import zipfile as _zipfile
import zlib as _zlib

import numpy as _np

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "atomic_write"]

MANIFEST = "pycnn.json"
FORMAT_VERSION = 1
MODEL_FORMAT = "pycnn.model"
WEIGHTS_FORMAT = "pycnn.weights"


# ---- writing -----------------------------------------------------------------------------

def _file_mode(path):
    """The mode the saved file gets: the old file's, else what open() would give."""
    try:
        return _os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = _os.umask(0)
        _os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder):
    try:
        fd = _os.open(folder, _os.O_RDONLY)
    except OSError:                     # e.g. Windows: directories cannot be opened
        return
    try:
        _os.fsync(fd)
    except OSError:
        pass
    finally:
        _os.close(fd)


def atomic_write(path, write):
    """Calls write(binary_file) on a temporary file beside path, then renames it over
    path. On any exception (or Ctrl-C) the temporary file is removed and path is left
    untouched."""
    path = _os.fspath(path)
    folder = _os.path.dirname(_os.path.abspath(path))
    if not _os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder!r} does not exist")
    mode = _file_mode(path)
    fd, tmp = _tempfile.mkstemp(prefix="." + _os.path.basename(path) + ".", suffix=".tmp",
                                dir=folder)
    try:
        with _os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            _os.fsync(f.fileno())
        _os.chmod(tmp, mode)
        _os.replace(tmp, path)
    except BaseException:
        try:
            _os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def _write_array(archive, name, array):
    buffer = _io.BytesIO()
    # _np.require keeps a 0-d array 0-d (np.ascontiguousarray would make it (1,))
    _np.lib.format.write_array(buffer, _np.require(array, requirements="C"), allow_pickle=False)
    archive.writestr(name, buffer.getvalue())


def _weight_entries(model):
    weights = model.weights
    arrays = model.get_weights()
    entries = [{"name": getattr(w, "name", None) or f"weight_{i}", "shape": list(a.shape),
                "dtype": str(a.dtype), "file": f"weights/{i:04d}.npy"}
               for i, (w, a) in enumerate(zip(weights, arrays))]
    return entries, arrays


def _compile_config(model):
    if not model.compiled:
        return None
    from . import optimizers
    from . import losses

    def one_loss(loss):
        fn = model._one_loss(loss)
        try:
            return losses.serialize(fn)
        except ValueError:          # your own function: stored by name (custom_objects)
            return getattr(fn, "__name__", None) or getattr(fn, "name", None)

    loss = model.loss
    if isinstance(loss, (list, tuple)):
        loss = [one_loss(v) for v in loss]
    elif isinstance(loss, dict):
        loss = {k: one_loss(v) for k, v in loss.items()}
    else:
        loss = one_loss(loss)

    def metric(m):
        return m if isinstance(m, str) else getattr(m, "name", None) or \
            getattr(m, "__name__", None)
    metrics = model._metric_ids
    if isinstance(metrics, dict):
        metrics = {k: [metric(x) for x in v] if isinstance(v, (list, tuple)) else metric(v)
                   for k, v in metrics.items()}
    else:
        metrics = [[metric(x) for x in m] if isinstance(m, (list, tuple)) else metric(m)
                   for m in model._metric_list(metrics)]
    config = {"optimizer": optimizers.serialize(model.optimizer), "loss": loss,
              "metrics": metrics}
    if getattr(model, "loss_weights", None) is not None:
        config["loss_weights"] = model.loss_weights
    return config


def _write_archive(f, manifest, arrays):
    with _zipfile.ZipFile(f, "w", compression=_zipfile.ZIP_STORED) as archive:
        archive.writestr(MANIFEST, _json.dumps(manifest, indent=1))
        for entry, array in arrays:
            _write_array(archive, entry, array)


# ---- which format: the file's extension ---------------------------------------------------
EXTENSION = ".pycnn"
MODEL_EXTENSIONS = (".pycnn", ".keras", ".h5")
WEIGHTS_EXTENSIONS = (".pycnn", ".weights.h5", ".h5")


def _format(filepath, what, known):
    """'pycnn', 'keras', 'weights.h5' or 'h5' from the path's extension, else ValueError."""
    name = _os.fspath(filepath).lower()
    for ext in sorted(known, key=len, reverse=True):
        if name.endswith(ext):
            return ext[1:]
    raise ValueError(f"{what}: {_os.fspath(filepath)!r} has none of the extensions pycnn "
                     f"reads and writes: {', '.join(known)} (pycnn's own format, Keras 3, "
                     f"Keras' HDF5)")


def _model_config(model):
    """{'class_name', 'config', 'registered_name', 'build_config'}: the same entry a layer
    gets in a model config (pycnn.models.serialization.serialize_layer)."""
    from .models.serialization import serialize_layer
    return serialize_layer(model)


def save_model(model, filepath, include_optimizer=True):
    """Writes the model to one file, atomically, in the format its extension names:
    ``.pycnn`` (pycnn's own, see the module docstring), ``.keras`` (Keras 3) or ``.h5``
    (Keras' legacy HDF5); see pycnn.keras_format for the Keras ones."""
    kind = _format(filepath, "save", MODEL_EXTENSIONS)
    if kind != "pycnn" and not model.built:
        raise ValueError(f"save: the model {model.name!r} is not built yet, so it has no "
                         f"weights to save; call build() or fit() first")
    if kind == "keras":
        from .keras_format import save_keras
        return save_keras(model, filepath)
    if kind == "h5":
        from .keras_format import save_h5
        return save_h5(model, filepath)
    if not model.built:
        raise ValueError(f"save: the model {model.name!r} is not built yet, so it has no "
                         f"weights to save; call build() or fit() first")
    entries, arrays = _weight_entries(model)
    files = [(e["file"], a) for e, a in zip(entries, arrays)]
    manifest = {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION,
                "model_config": _model_config(model),
                "compile_config": _compile_config(model), "weights": entries,
                "optimizer_slots": [], "optimizer_iterations": 0}
    if include_optimizer and model.compiled and model.optimizer is not None:
        manifest["optimizer_iterations"] = int(model.optimizer.iterations)
        for i, w in enumerate(model.weights):
            for slot, array in sorted(model.optimizer.get_slots(w).items()):
                name = f"optimizer/{i:04d}_{slot}.npy"
                manifest["optimizer_slots"].append({"weight": i, "slot": slot, "file": name,
                                                     "shape": list(_np.shape(array)),
                                                     "dtype": str(_np.asarray(array).dtype)})
                files.append((name, array))
    atomic_write(filepath, lambda f: _write_archive(f, manifest, files))


def save_weights(model, filepath):
    """Writes the weights only, atomically: ``.pycnn`` (layer names and shapes go into the
    manifest), ``.weights.h5`` (Keras 3's) or ``.h5`` (Keras' legacy weights file)."""
    kind = _format(filepath, "save_weights", WEIGHTS_EXTENSIONS)
    if kind != "pycnn":
        if not model.built:
            raise ValueError(f"save_weights: the model {model.name!r} is not built yet, so it "
                             f"has no weights; call build() or fit() first")
        from .keras_format import save_h5, save_weights_h5
        return save_weights_h5(model, filepath) if kind == "weights.h5" else \
            save_h5(model, filepath, weights_only=True)
    if not model.built:
        raise ValueError(f"save_weights: the model {model.name!r} is not built yet, so it "
                         f"has no weights; call build() or fit() first")
    entries, arrays = _weight_entries(model)
    manifest = {"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION,
                "layers": [layer.name for layer in model.layers], "weights": entries}
    atomic_write(filepath, lambda f: _write_archive(
        f, manifest, [(e["file"], a) for e, a in zip(entries, arrays)]))


# ---- reading: nothing in the file is trusted ---------------------------------------------
# A file from someone else is data. Every number in it is checked before it sizes an
# allocation: the manifest is read with a size limit and a nesting limit; each weight's .npy
# header is parsed from the entry's first bytes and must agree with the manifest (dtype, shape)
# and with the zip's size of the entry (header + data, not a byte more or less) before the
# array is allocated; the whole file may unpack to no more than the manifest declares.

MAX_MANIFEST_BYTES = 64 << 20       # a manifest is JSON text: a few KB for any real model
MAX_MANIFEST_DEPTH = 64             # a functional model's config nests ~10 levels
MAX_NPY_HEADER = 10000              # np.load's own default limit for an .npy header
_READ_CHUNK = 1 << 20
# the dtypes a weight or an optimizer slot can have: numbers only (no object, no structured)
ARRAY_DTYPES = frozenset(["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                          "uint32", "uint64", "float16", "float32", "float64"])


def _nesting_depth(value):
    """How deeply lists and dicts nest in a parsed JSON value (iterative: any depth)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in item)
    return deepest


def parse_json(data, path, name, max_depth=MAX_MANIFEST_DEPTH, what="pycnn file"):
    """JSON text from a file entry; ValueError naming the file and the entry if it is not
    UTF-8 JSON or nests deeper than max_depth (json.loads itself would raise
    RecursionError ~1,000 levels down)."""
    try:
        value = _json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, _json.JSONDecodeError) as e:
        raise ValueError(f"{path}: corrupted {what} (unreadable {name}: {e})") from None
    except RecursionError:
        raise ValueError(f"{path}: corrupted {what} ({name} nests deeper than "
                         f"{max_depth} levels)") from None
    if _nesting_depth(value) > max_depth:
        raise ValueError(f"{path}: corrupted {what} ({name} nests deeper than {max_depth} "
                         f"levels)")
    return value


def declared_nbytes(shape, dtype, path, name, what="pycnn file"):
    """The bytes an array of this manifest (shape, dtype) holds; ValueError naming the file
    and the entry unless shape is a list of non-negative ints and dtype a number type."""
    if not isinstance(dtype, str) or dtype not in ARRAY_DTYPES:
        raise ValueError(f"{path}: corrupted {what} ({name}: the manifest's dtype {dtype!r} is "
                         f"not one of {', '.join(sorted(ARRAY_DTYPES))})")
    if (not isinstance(shape, (list, tuple)) or len(shape) > 32
            or not all(type(d) is int and d >= 0 for d in shape)):
        raise ValueError(f"{path}: corrupted {what} ({name}: the manifest's shape {shape!r} is "
                         f"not a list of at most 32 non-negative integers)")
    n = _np.dtype(dtype).itemsize
    for d in shape:
        n *= d
    return n


class _Archive:
    """A zip file opened for reading; every failure becomes a ValueError naming the file
    and the entry. ``budget`` bounds the uncompressed bytes all reads together may take."""

    def __init__(self, filepath, what="pycnn file"):
        self.path = _os.fspath(filepath)
        self.what = what
        self.budget = MAX_MANIFEST_BYTES
        try:
            self.zip = _zipfile.ZipFile(self.path, "r")
        except FileNotFoundError:
            raise
        except (_zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as e:
            # NotImplementedError: a damaged header names a zip version zipfile lacks
            raise ValueError(f"{self.path}: not a {what[:-5]} model file, or truncated "
                             f"({e})") from None

    def open_manifest(self):
        """Reads pycnn.json and checks it describes a pycnn file of a version we read."""
        try:
            data = self.read_bytes(MANIFEST, MAX_MANIFEST_BYTES)
        except KeyError:
            self.close()
            raise ValueError(f"{self.path}: a zip archive but not a pycnn file (no "
                             f"{MANIFEST}; saved by another program?)") from None
        try:
            self.manifest = parse_json(data, self.path, MANIFEST)
        except ValueError:
            self.close()
            raise
        if not isinstance(self.manifest, dict) or self.manifest.get("format") not in (
                MODEL_FORMAT, WEIGHTS_FORMAT):
            self.close()
            raise ValueError(f"{self.path}: {MANIFEST} does not describe a pycnn model or "
                             f"weights file")
        version = self.manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            self.close()
            raise ValueError(f"{self.path}: format version {version!r} is newer than this "
                             f"pycnn reads ({FORMAT_VERSION}); upgrade pycnn")
        return self

    def info(self, name):
        try:
            return self.zip.getinfo(name)
        except KeyError:
            raise ValueError(f"{self.path}: corrupted {self.what} (missing {name})") from None

    def _charge(self, name, nbytes):
        """Counts nbytes against the budget; ValueError once the file unpacks to more."""
        self.budget -= nbytes
        if self.budget < 0:
            raise ValueError(f"{self.path}: corrupted {self.what} ({name}: the entries unpack to "
                             f"more bytes than the manifest declares)")

    def _failed(self, name, e):
        # CRC, truncation; a damaged header can name a compression method zipfile lacks
        # (NotImplementedError) or corrupt a deflate stream (zlib.error)
        return ValueError(f"{self.path}: corrupted {self.what} ({name}: {e})")

    def read_bytes(self, name, limit):
        """The entry's bytes, at most limit of them (KeyError if there is no such entry)."""
        info = self.zip.getinfo(name)
        if info.file_size > limit:
            raise ValueError(f"{self.path}: corrupted {self.what} ({name} unpacks to "
                             f"{info.file_size} bytes, more than the {limit} allowed)")
        self._charge(name, info.file_size)
        try:
            with self.zip.open(info) as f:
                data = f.read(limit + 1)
        except (_zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
                _zlib.error) as e:
            raise self._failed(name, e) from None
        if len(data) != info.file_size:
            raise ValueError(f"{self.path}: corrupted {self.what} ({name} holds {len(data)} bytes, "
                             f"its zip header says {info.file_size})")
        return data

    def read_array(self, name, shape, dtype):
        """The .npy entry `name`, which the manifest says is `dtype` of `shape`.

        Its header is read first and must say the same; the entry must be exactly the
        header plus that many bytes of data. Only then is the array allocated (the size the
        manifest declared) and filled in chunks, so a hostile header or a padded entry costs
        nothing."""
        nbytes = declared_nbytes(shape, dtype, self.path, name, self.what)
        info = self.info(name)
        try:
            with self.zip.open(info) as f:
                version = _np.lib.format.read_magic(f)
                if version == (1, 0):
                    header = _np.lib.format.read_array_header_1_0(f, MAX_NPY_HEADER)
                elif version == (2, 0):
                    header = _np.lib.format.read_array_header_2_0(f, MAX_NPY_HEADER)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
                shape_h, fortran, dtype_h = header
                if dtype_h.hasobject or str(dtype_h) != dtype or list(shape_h) != list(shape):
                    raise ValueError(f"its header says {dtype_h} {tuple(shape_h)}, the manifest "
                                     f"says {dtype} {tuple(shape)}")
                start = f.tell()
                if info.file_size != start + nbytes:
                    extra = info.file_size - start - nbytes
                    raise ValueError(f"{extra} trailing bytes after the data" if extra > 0 else
                                     f"the data are {-extra} bytes short of the {nbytes} its "
                                     f"header declares")
                self._charge(name, info.file_size)
                array = _np.empty(shape_h, dtype=dtype_h, order="F" if fortran else "C")
                view = memoryview(array.reshape(-1, order="A").view(_np.uint8))
                done = 0
                while done < nbytes:
                    chunk = f.read(min(_READ_CHUNK, nbytes - done))
                    if not chunk:
                        raise ValueError(f"the data end after {done} of {nbytes} bytes")
                    view[done:done + len(chunk)] = chunk
                    done += len(chunk)
                if f.read(1):
                    raise ValueError("trailing bytes after the data")
        except (_zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
                _zlib.error, SyntaxError, TypeError) as e:
            raise self._failed(name, e) from None
        return _np.require(array, requirements="C")    # 0-d stays 0-d

    def declare(self):
        """Sets the budget to what the manifest declares: its weights' and optimizer slots'
        bytes, one .npy header each, and the manifest itself."""
        total = self.zip.getinfo(MANIFEST).file_size
        for entry in self.weight_entries() + self.slot_entries():
            total += declared_nbytes(entry["shape"], entry["dtype"], self.path, entry["file"],
                                     self.what) + MAX_NPY_HEADER
        self.budget = total
        return self

    def _entries(self, key, fields):
        entries = self.manifest.get(key)
        if entries is None and key == "optimizer_slots":
            return []
        if not isinstance(entries, list):
            raise ValueError(f"{self.path}: corrupted {self.what} ({MANIFEST}: no {key} list)")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or any(
                    field not in entry for field in fields):
                raise ValueError(f"{self.path}: corrupted {self.what} ({MANIFEST}: {key}[{i}] "
                                 f"is not an entry with {', '.join(('file',) + fields)})")
        return entries

    def weight_entries(self):
        return self._entries("weights", ("shape", "dtype"))

    def slot_entries(self):
        """Optimizer slots; files before slots had shapes take their weight's."""
        weights = self.weight_entries()
        slots = []
        for i, entry in enumerate(self._entries("optimizer_slots", ("weight", "slot"))):
            w = entry["weight"]
            if type(w) is not int or not 0 <= w < len(weights) or not isinstance(
                    entry["slot"], str):
                raise ValueError(f"{self.path}: corrupted {self.what} ({MANIFEST}: "
                                 f"optimizer_slots[{i}] names weight {w!r} of "
                                 f"{len(weights)})")
            slots.append({"shape": weights[w]["shape"], "dtype": weights[w]["dtype"], **entry})
        return slots

    def weights(self):
        return [self.read_array(e["file"], e["shape"], e["dtype"])
                for e in self.weight_entries()]

    def close(self):
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _open(filepath):
    """A pycnn file, its manifest read and checked, its budget set."""
    archive = _Archive(filepath).open_manifest()
    try:
        return archive.declare()
    except BaseException:
        archive.close()
        raise


# ---- class names -> classes: registries only, never getattr on a module ----------------
# A name in a file picks a class from these tables (pycnn's own layers, losses, optimizers,
# metrics, models), from the ones registered in _REGISTERED, or from the caller's
# custom_objects, nothing else: "inspect" or "__class__" is an unknown name, not a lookup.
# pycnn has no layer that runs code stored in a file (no Lambda), so Keras' safe_mode has
# nothing to refuse here beyond what the registry already does.
_REGISTERED = {}                    # name -> class or function, by kind: {"layer": {...}}


def _builtins(kind):
    if kind == "layer":
        from . import layers
        found = {name: getattr(layers, name, None) for name in layers.__all__}
        return {name: cls for name, cls in found.items()
                if isinstance(cls, type) and issubclass(cls, layers.Layer)
                and cls is not layers.Layer}
    if kind == "loss":
        from . import losses
        return {**losses._FUNCTIONS, **losses._CLASSES}
    if kind == "optimizer":
        from . import optimizers
        return {cls.__name__: cls for cls in optimizers._BY_NAME.values()}
    if kind == "metric":
        from . import metrics
        return dict(metrics._FUNCTIONS)
    if kind == "model":
        from . import models
        return {name: getattr(models, name) for name in models.__all__
                if isinstance(getattr(models, name), type)
                and issubclass(getattr(models, name), models.Model)}
    raise ValueError(f"_resolve_class: unknown kind {kind!r}")


def _resolve_class(kind, name, custom_objects=None, where="load_model", registered_name=None):
    """The class (or function) a file names for a `kind` ('layer', 'loss', 'optimizer',
    'metric', 'model'): from custom_objects, the registered ones, or pycnn's own.

    Raises:
        ValueError: any other name, naming the known ones.
    """
    from .models.serialization import get_registered_object
    custom = custom_objects or {}
    if isinstance(name, str):
        if name in custom:
            return custom[name]
        if kind in ("layer", "model"):      # scopes and @register_pycnn_serializable
            found = get_registered_object(name, None, registered_name)
            if found is not None:
                return found
        for table in (_REGISTERED.get(kind, {}), _builtins(kind)):
            if name in table:
                return table[name]
    known = sorted(_builtins(kind)) + sorted(_REGISTERED.get(kind, {}))
    shown = name if isinstance(name, str) else type(name).__name__
    noun = kind if kind in ("loss", "metric") else f"{kind} class"     # those may be functions
    raise ValueError(f"{where}: unknown {noun} {shown!r} (known: {', '.join(known)}); "
                     f"pass your own in custom_objects={{{shown!r}: ...}}")


def _resolve_name(kind, name, custom_objects, where):
    """A loss or metric named in a file: the caller's or a registered object, or the name
    itself when it is one of pycnn's (compile resolves it and keeps the name)."""
    found = _resolve_class(kind, name, custom_objects, where)
    if name in (custom_objects or {}) or name in _REGISTERED.get(kind, {}):
        return found
    return name


def _loss_arg(loss, custom_objects, where):
    """One loss of a compile_config, resolved: a name, or (class, config) to build."""
    if isinstance(loss, dict):
        loss_cls = _resolve_class("loss", loss.get("class_name"), custom_objects, where)
        if not isinstance(loss.get("config") or {}, dict):
            raise ValueError(f"{where}: the loss config is not a dict")
        return (loss_cls, loss.get("config") or {})
    if isinstance(loss, str):
        return _resolve_name("loss", loss, custom_objects, where)
    if loss is not None:
        raise ValueError(f"{where}: the loss is {type(loss).__name__}, not a name or a config")
    return None


def _metric_arg(m, custom_objects, where):
    if isinstance(m, list):
        return [_metric_arg(x, custom_objects, where) for x in m]
    return m if m in ("accuracy", "acc") else _resolve_name("metric", m, custom_objects, where)


def _compile_args(config, custom_objects, where):
    """The compile() arguments a compile_config describes, every name resolved and checked
    (nothing is built yet, so a bad config costs nothing). Losses, metrics and
    loss_weights may be given per output, as lists or dicts."""
    if not isinstance(config, dict):
        raise ValueError(f"{where}: compile_config is not a dict")
    loss = config.get("loss")
    if isinstance(loss, list):
        loss = [_loss_arg(v, custom_objects, where) for v in loss]
    elif isinstance(loss, dict) and "class_name" not in loss:
        loss = {k: _loss_arg(v, custom_objects, where) for k, v in loss.items()}
    else:
        loss = _loss_arg(loss, custom_objects, where)
    metrics = config.get("metrics") or []
    if isinstance(metrics, dict):
        metrics = {k: _metric_arg(v, custom_objects, where) for k, v in metrics.items()}
    elif isinstance(metrics, list):
        metrics = [_metric_arg(m, custom_objects, where) for m in metrics]
    else:
        raise ValueError(f"{where}: metrics is not a list or a dict")
    weights = config.get("loss_weights")
    if weights is not None and not isinstance(weights, (list, dict, int, float)):
        raise ValueError(f"{where}: loss_weights is not a list, a dict or a number")
    optimizer = config.get("optimizer")
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("config", {}), dict):
        raise ValueError(f"{where}: the optimizer is not a config dict")
    _resolve_class("optimizer", optimizer.get("class_name"), custom_objects, where)
    return optimizer, loss, metrics, weights


def _compile_from_args(model, args):
    from . import optimizers
    optimizer, loss, metrics, weights = args

    def build(one):
        return one[0].from_config(one[1]) if isinstance(one, tuple) else one
    if isinstance(loss, list):
        loss = [build(v) for v in loss]
    elif isinstance(loss, dict):
        loss = {k: build(v) for k, v in loss.items()}
    else:
        loss = build(loss)
    model.compile(optimizer=optimizers.deserialize(optimizer), loss=loss, metrics=metrics,
                  loss_weights=weights)


def _restore_optimizer(model, archive):
    slots = archive.slot_entries()
    if not slots:
        return
    state = [{} for _ in model.weights]
    for entry in slots:
        if entry["weight"] >= len(state):
            raise ValueError(f"{archive.path}: corrupted {archive.what} ({entry['file']}: "
                             f"a slot of weight {entry['weight']}, the model has {len(state)})")
        state[entry["weight"]][entry["slot"]] = archive.read_array(
            entry["file"], entry["shape"], entry["dtype"])
    iterations = archive.manifest.get("optimizer_iterations", 0)
    if type(iterations) is not int or iterations < 0:
        raise ValueError(f"{archive.path}: corrupted {archive.what} ({MANIFEST}: "
                         f"optimizer_iterations {iterations!r})")
    model.optimizer.set_state(model.weights, {"iterations": iterations, "slots": state})


# what a hostile config can make a constructor raise; each becomes a ValueError naming the file
_CONFIG_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model save_model wrote: same architecture, weights, compile settings and
    optimizer state. custom_objects maps class names to your own layer / loss classes.

    Nothing in the file is trusted (see "reading" above): names and configs are checked
    first, then the model is built, its weight shapes compared with the manifest's, and only
    then are the arrays read. Every damaged or hostile file raises ValueError naming the file
    and the entry. safe_mode is Keras' argument: pycnn's files hold no code, so there is
    nothing it would let through."""
    kind = _format(filepath, "load_model", MODEL_EXTENSIONS)
    if kind != "pycnn":
        from . import keras_format
        load = keras_format.load_keras if kind == "keras" else keras_format.load_h5
        return load(filepath, custom_objects=custom_objects, compile=compile,
                    safe_mode=safe_mode)
    from .models.serialization import deserialize_layer
    with _open(filepath) as archive:
        manifest = archive.manifest
        where = f"{archive.path}: {MANIFEST}"
        if manifest["format"] != MODEL_FORMAT:
            raise ValueError(f"{archive.path}: holds weights only (save_weights); build the "
                             f"model and call model.load_weights() instead")
        model_config = manifest.get("model_config")
        if not isinstance(model_config, dict) or not isinstance(
                model_config.get("config", {}), dict):
            raise ValueError(f"{where}: model_config is not a dict with a config dict")
        _resolve_class("model", model_config.get("class_name"), custom_objects, where,
                       model_config.get("registered_name"))
        compile_args = None
        if compile and manifest.get("compile_config"):
            compile_args = _compile_args(manifest["compile_config"], custom_objects, where)
        _check_architecture_size(archive, model_config, custom_objects, where)
        try:
            model = deserialize_layer(model_config, custom_objects=custom_objects)
        except _CONFIG_ERRORS as e:
            raise ValueError(f"{where}: model_config cannot be built ({type(e).__name__}: "
                             f"{e})") from e
        entries = archive.weight_entries()
        if entries and not model.built:
            raise ValueError(f"{archive.path}: the saved architecture has no input shape, "
                             f"so its weights cannot be placed")
        _check_weight_shapes(archive, model, entries)
        model.set_weights(archive.weights())
        if compile_args is not None:
            try:
                _compile_from_args(model, compile_args)
                _restore_optimizer(model, archive)
            except _CONFIG_ERRORS as e:
                if isinstance(e, ValueError) and archive.path in str(e):
                    raise
                raise ValueError(f"{where}: compile_config cannot be restored "
                                 f"({type(e).__name__}: {e})") from e
    return model


def _weight_elements(kind, config, shape):
    """How many weight elements one of pycnn's weighted layers will allocate at build for an
    input of `shape` (batch dim included), from its config alone; 0 for the others."""
    bias = 1 if config.get("use_bias", True) else 0
    if kind == "Dense":
        return (int(shape[-1]) + bias) * int(config["units"])
    if kind in ("Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"):
        taps = int(_np.prod(config["kernel_size"]))    # an int (Conv1D's k) or a tuple
        c_in, m = int(shape[-1]), int(config.get("depth_multiplier", 1))
        if kind == "DepthwiseConv2D":
            return (taps + bias) * c_in * m
        if kind == "SeparableConv2D":
            return taps * c_in * m + (c_in * m + bias) * int(config["filters"])
        return (taps * c_in // int(config.get("groups", 1)) + bias) * int(config["filters"])
    return 0


def _check_architecture_size(archive, model_config, custom_objects, where):
    """Refuses a Sequential config whose Dense / Conv2D layers would allocate more weights
    than the manifest declares, before any layer is built (a hostile 'units': 10**9)."""
    config = model_config.get("config", {})
    if model_config.get("class_name") != "Sequential" or not isinstance(
            config.get("layers"), list):
        return
    layers = config["layers"]
    shape = config.get("build_input_shape")
    if layers and isinstance(layers[0], dict) and isinstance(layers[0].get("config"), dict):
        first = layers[0]["config"].get("input_shape")      # wins, as in Sequential.add
        shape = shape if first is None else [None, *first] if isinstance(
            first, (list, tuple)) else first
    if not isinstance(shape, (list, tuple)):
        return                          # from_config builds nothing, or reports the shape
    declared = sum(declared_nbytes(e["shape"], e["dtype"], archive.path, e["file"], archive.what)
                   for e in archive.weight_entries())
    needed = 0
    shape = tuple(shape)
    for i, entry in enumerate(layers):
        if not isinstance(entry, dict) or not isinstance(entry.get("config", {}), dict):
            return                      # from_config reports it
        kind, c = entry.get("class_name"), entry.get("config", {})
        cls = _resolve_class("layer", kind, custom_objects, where)
        try:
            itemsize = _np.dtype(c.get("dtype", "float32")).itemsize
            needed += _weight_elements(kind, c, shape) * itemsize
            shape = tuple(cls.from_config(c).compute_output_shape(shape))
        except _CONFIG_ERRORS + (MemoryError,) as e:
            raise ValueError(f"{where}: layers[{i}] ({kind}) cannot be built "
                             f"({type(e).__name__}: {e})") from e
        if needed > declared:
            raise ValueError(f"{where}: layers[{i}] ({kind}) would need {needed} bytes of "
                             f"weights by then, the manifest declares {declared}")


def _check_weight_shapes(archive, model, entries):
    """The manifest's weights against the model's, before any array is read."""
    expected = [tuple(_np.shape(w)) for w in model.weights]
    for i, (entry, shape) in enumerate(zip(entries, expected)):
        if tuple(entry["shape"]) != shape:
            raise ValueError(f"{archive.path}: corrupted {archive.what} ({entry['file']}: the "
                             f"manifest says {tuple(entry['shape'])}, the architecture's weight "
                             f"{i} is {shape})")
    if len(entries) != len(expected):
        raise ValueError(f"{archive.path}: corrupted {archive.what} ({MANIFEST}: "
                         f"{len(entries)} weights, the architecture has {len(expected)})")


def load_weights(model, filepath):
    """Reads weights (from save_weights or save) into model, checking counts and shapes:
    ``.pycnn``, or Keras' ``.weights.h5`` / legacy ``.h5``."""
    kind = _format(filepath, "load_weights", WEIGHTS_EXTENSIONS)
    if kind != "pycnn":
        from .keras_format import load_weights_h5
        return load_weights_h5(model, filepath)
    if not model.built:
        raise ValueError(f"load_weights: build the model {model.name!r} first (give the "
                         f"first layer an input_shape, or call build())")
    with _open(filepath) as archive:
        expected = [tuple(_np.shape(w)) for w in model.weights]
        got = [tuple(e["shape"]) for e in archive.weight_entries()]
        if expected != got:
            raise ValueError(f"load_weights: {archive.path} holds {len(got)} weights of shapes "
                             f"{got}, but the model {model.name!r} has {len(expected)} of "
                             f"shapes {expected}")
        weights = archive.weights()
    model.set_weights(weights)


# The registry through which saved configs name classes (pycnn/models/serialization.py)
from .models.serialization import (custom_object_scope, get_custom_objects,  # noqa: E402
                                   get_registered_name, get_registered_object,
                                   register_keras_serializable, register_pycnn_serializable)

__all__ += ["register_pycnn_serializable", "register_keras_serializable", "get_custom_objects",
            "custom_object_scope", "get_registered_name", "get_registered_object"]
