"""Saving and loading models: one file, no pickle, never half-written.

The file is a zip archive (readable by ``np.load(path, allow_pickle=False)`` too):

    pycnn.json            {"format": "pycnn.model" | "pycnn.weights", "format_version": 1,
                           "model_config": {"class_name": "Sequential", "config": ...},
                           "compile_config": {...} | null,
                           "weights": [{"name", "shape", "dtype", "file"}, ...],
                           "optimizer_slots": [{"weight": i, "slot", "file"}, ...]}
    weights/0000.npy ...  one .npy per weight, in model.get_weights() order
    optimizer/....npy     the optimizer's slot arrays (Adam's m and v, ...)

Loading never runs code: JSON for the architecture, ``.npy`` arrays read with
``allow_pickle=False``. Writing goes to a temporary file in the same folder, which is
flushed, fsync'ed and then renamed over the target (``os.replace``, atomic on POSIX and
Windows): a crash mid-save leaves the previous file as it was. A truncated, corrupted
or foreign file raises ValueError saying so.
"""
import io
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "atomic_write"]

MANIFEST = "pycnn.json"
FORMAT_VERSION = 1
MODEL_FORMAT = "pycnn.model"
WEIGHTS_FORMAT = "pycnn.weights"


# ---- writing -----------------------------------------------------------------------------

def _file_mode(path):
    """The mode the saved file gets: the old file's, else what open() would give."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:                     # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, write):
    """Calls write(binary_file) on a temporary file beside path, then renames it over
    path. On any exception (or Ctrl-C) the temporary file is removed and path is left
    untouched."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder!r} does not exist")
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def _write_array(archive, name, array):
    buffer = io.BytesIO()
    # np.require keeps a 0-d array 0-d (np.ascontiguousarray would make it (1,))
    np.lib.format.write_array(buffer, np.require(array, requirements="C"), allow_pickle=False)
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
    try:
        loss = losses.serialize(model._loss_fn)
    except ValueError:              # your own function: stored by name (custom_objects)
        loss = model.loss_name
    metrics = []
    for m in model._metric_ids:
        metrics.append(m if isinstance(m, str) else getattr(m, "name", None)
                       or getattr(m, "__name__", None))
    return {"optimizer": optimizers.serialize(model.optimizer), "loss": loss,
            "metrics": metrics}


def _write_archive(f, manifest, arrays):
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        for entry, array in arrays:
            _write_array(archive, entry, array)


def save_model(model, filepath, include_optimizer=True):
    """Writes the model to one file, atomically (see the module docstring)."""
    if not model.built:
        raise ValueError(f"save: the model {model.name!r} is not built yet, so it has no "
                         f"weights to save; call build() or fit() first")
    entries, arrays = _weight_entries(model)
    files = [(e["file"], a) for e, a in zip(entries, arrays)]
    manifest = {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION,
                "model_config": {"class_name": type(model).__name__,
                                 "config": model.get_config()},
                "compile_config": _compile_config(model), "weights": entries,
                "optimizer_slots": [], "optimizer_iterations": 0}
    if include_optimizer and model.compiled and model.optimizer is not None:
        manifest["optimizer_iterations"] = int(model.optimizer.iterations)
        for i, w in enumerate(model.weights):
            for slot, array in sorted(model.optimizer.get_slots(w).items()):
                name = f"optimizer/{i:04d}_{slot}.npy"
                manifest["optimizer_slots"].append({"weight": i, "slot": slot, "file": name})
                files.append((name, array))
    atomic_write(filepath, lambda f: _write_archive(f, manifest, files))


def save_weights(model, filepath):
    """Writes the weights only, atomically; layer names and shapes go into the manifest."""
    if not model.built:
        raise ValueError(f"save_weights: the model {model.name!r} is not built yet, so it "
                         f"has no weights; call build() or fit() first")
    entries, arrays = _weight_entries(model)
    manifest = {"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION,
                "layers": [layer.name for layer in model.layers], "weights": entries}
    atomic_write(filepath, lambda f: _write_archive(
        f, manifest, [(e["file"], a) for e, a in zip(entries, arrays)]))


# ---- reading -----------------------------------------------------------------------------

class _Archive:
    """A pycnn file opened for reading; every failure becomes a ValueError naming it."""

    def __init__(self, filepath):
        self.path = os.fspath(filepath)
        try:
            self.zip = zipfile.ZipFile(self.path, "r")
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as e:
            # NotImplementedError: a damaged header names a zip version zipfile lacks
            raise ValueError(f"{self.path}: not a pycnn model file, or truncated ({e})") \
                from None
        try:
            self.manifest = json.loads(self.read_bytes(MANIFEST).decode("utf-8"))
        except KeyError:
            self.zip.close()
            raise ValueError(f"{self.path}: a zip archive but not a pycnn file (no "
                             f"{MANIFEST}; saved by another program?)") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            self.zip.close()
            raise ValueError(f"{self.path}: corrupted pycnn file (unreadable {MANIFEST}: "
                             f"{e})") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") not in (
                MODEL_FORMAT, WEIGHTS_FORMAT):
            self.zip.close()
            raise ValueError(f"{self.path}: {MANIFEST} does not describe a pycnn model or "
                             f"weights file")
        version = self.manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            self.zip.close()
            raise ValueError(f"{self.path}: format version {version!r} is newer than this "
                             f"pycnn reads ({FORMAT_VERSION}); upgrade pycnn")

    def read_bytes(self, name):
        try:
            return self.zip.read(name)
        except KeyError:
            raise
        # CRC, truncation; a damaged header can name a compression method zipfile lacks
        # (NotImplementedError) or corrupt a deflate stream (zlib.error)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
                zlib.error) as e:
            raise ValueError(f"{self.path}: corrupted pycnn file ({name}: {e})") from None

    def read_array(self, name, shape=None, dtype=None):
        try:
            data = self.read_bytes(name)
        except KeyError:
            raise ValueError(f"{self.path}: corrupted pycnn file (missing {name})") from None
        try:
            array = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise ValueError(f"{self.path}: corrupted pycnn file ({name}: {e})") from None
        if shape is not None and (list(array.shape) != list(shape) or str(array.dtype) != dtype):
            raise ValueError(f"{self.path}: corrupted pycnn file ({name} holds {array.dtype} "
                             f"{array.shape}, the manifest says {dtype} {tuple(shape)})")
        return array

    def weights(self):
        entries = self.manifest.get("weights")
        if not isinstance(entries, list):
            raise ValueError(f"{self.path}: corrupted pycnn file (no weight list)")
        try:
            return [self.read_array(e["file"], e["shape"], e["dtype"]) for e in entries]
        except (KeyError, TypeError):
            raise ValueError(f"{self.path}: corrupted pycnn file (bad weight entry)") from None

    def close(self):
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _compile_from_config(model, config, custom_objects):
    from . import optimizers
    loss = config.get("loss")
    if isinstance(loss, dict):
        from . import losses
        loss_cls = (custom_objects or {}).get(loss.get("class_name")) \
            or getattr(losses, str(loss.get("class_name")), None)
        if loss_cls is None:
            raise ValueError(f"load_model: unknown loss class {loss.get('class_name')!r}; "
                             f"pass it in custom_objects, or load with compile=False")
        loss = loss_cls(**loss.get("config", {}))
    elif isinstance(loss, str) and loss in (custom_objects or {}):
        loss = custom_objects[loss]
    metrics = [(custom_objects or {}).get(m, m) for m in config.get("metrics", [])]
    model.compile(optimizer=optimizers.deserialize(config["optimizer"]), loss=loss,
                  metrics=metrics)


def _restore_optimizer(model, archive):
    slots = archive.manifest.get("optimizer_slots") or []
    if not slots:
        return
    state = [{} for _ in model.weights]
    for entry in slots:
        state[entry["weight"]][entry["slot"]] = archive.read_array(entry["file"])
    model.optimizer.set_state(model.weights, {
        "iterations": archive.manifest.get("optimizer_iterations", 0), "slots": state})


def load_model(filepath, custom_objects=None, compile=True):
    """The model save_model wrote: same architecture, weights, compile settings and
    optimizer state. custom_objects maps class names to your own layer / loss classes."""
    from .models import Sequential
    with _Archive(filepath) as archive:
        manifest = archive.manifest
        if manifest["format"] != MODEL_FORMAT:
            raise ValueError(f"{archive.path}: holds weights only (save_weights); build the "
                             f"model and call model.load_weights() instead")
        model_config = manifest.get("model_config") or {}
        if model_config.get("class_name") != "Sequential":
            raise ValueError(f"{archive.path}: unknown model class "
                             f"{model_config.get('class_name')!r}")
        weights = archive.weights()
        model = Sequential.from_config(model_config.get("config", {}),
                                       custom_objects=custom_objects)
        if weights and not model.built:
            raise ValueError(f"{archive.path}: the saved architecture has no input shape, "
                             f"so its weights cannot be placed")
        model.set_weights(weights)
        if compile and manifest.get("compile_config"):
            _compile_from_config(model, manifest["compile_config"], custom_objects)
            _restore_optimizer(model, archive)
    return model


def load_weights(model, filepath):
    """Reads weights (from save_weights or save) into model, checking counts and shapes."""
    with _Archive(filepath) as archive:
        weights = archive.weights()
    if not model.built:
        raise ValueError(f"load_weights: build the model {model.name!r} first (give the "
                         f"first layer an input_shape, or call build())")
    expected = [tuple(np.shape(w)) for w in model.weights]
    got = [tuple(w.shape) for w in weights]
    if expected != got:
        raise ValueError(f"load_weights: {archive.path} holds {len(got)} weights of shapes "
                         f"{got}, but the model {model.name!r} has {len(expected)} of shapes "
                         f"{expected}")
    model.set_weights(weights)
