"""The callbacks that write training logs to files (exported by pycnn.callbacks):

- ``CSVLogger``: one row per epoch, Keras' columns and format.
- ``TensorBoard``: real TensorBoard event files (written by tensorboardX, the
  TensorFlow-free writer: ``pip install pycnn[tensorboard]``), laid out as Keras writes
  them — ``log_dir/train`` and ``log_dir/validation``, scalars ``epoch_<name>`` (and
  ``batch_<name>`` with ``update_freq``), weight histograms ``<layer>/<weight>/histogram``,
  weight images, the model's config for TensorBoard's graph tab — so
  ``tensorboard --logdir logs`` shows a pycnn run as it shows a Keras one.
"""
import collections as _collections
import csv as _csv
import json as _json
import os as _os
import time as _time
import warnings as _warnings

import numpy as _np

from .callbacks import Callback as _Callback

__all__ = ["CSVLogger", "TensorBoard"]


class CSVLogger(_Callback):
    """Streams the epoch logs to a CSV file: a header ``epoch,<sorted keys>`` (with the
    ``val_`` columns added when the first epoch has none, as Keras), then one row per
    epoch, flushed at once.

    Args: filename, separator=',', append=False (append to an existing file, without a
    second header).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = _os.fspath(filename)
        self.append = bool(append)
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if _os.path.exists(self.filename):
                with open(self.filename, "r", encoding="utf-8") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.writer = None
        self.keys = None

    @staticmethod
    def _cell(value):
        if isinstance(value, str):
            return value
        if isinstance(value, _collections.abc.Iterable) and not (
                isinstance(value, _np.ndarray) and value.ndim == 0):
            return f'"[{", ".join(map(str, value))}]"'
        return value

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.csv_file is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            dialect = type("CustomDialect", (_csv.excel,), {"delimiter": self.sep})
            self.writer = _csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                          dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, self._cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("TensorBoard: writing event files needs tensorboardX: pip install "
                          "'pycnn[tensorboard]' (or pip install tensorboardX)") from None
    return SummaryWriter


class TensorBoard(_Callback):
    """Writes TensorBoard event files, as Keras' TensorBoard callback lays them out.

    - every epoch: ``epoch_<name>`` scalars of the training logs (and ``epoch_learning_rate``,
      ``epoch_steps_per_second`` with write_steps_per_second) under ``log_dir/train``, and
      of the validation logs (without their ``val_`` prefix) under ``log_dir/validation``;
    - ``update_freq='batch'`` or an integer N: also ``batch_<name>`` every N batches, at the
      global batch count (from 1);
    - ``histogram_freq`` N > 0: a histogram of every weight every N epochs (tag
      ``<layer>/<weight>/histogram``), and with ``write_images`` the kernels as images;
    - ``write_graph``: the model's config as TensorBoard's Keras graph (Graphs tab).

    Args: log_dir='logs', histogram_freq=0, write_graph=True, write_images=False,
    write_steps_per_second=False, update_freq='epoch', profile_batch=0 (profiling: not
    available, as on Keras' torch backend), embeddings_freq=0 (pycnn has no Embedding
    layer), embeddings_metadata=None.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        if profile_batch:
            raise ValueError(f"TensorBoard: profiling is not available in pycnn (as on Keras' "
                             f"torch backend); got profile_batch={profile_batch} (must be 0)")
        if embeddings_freq:
            raise ValueError(f"TensorBoard: pycnn has no Embedding layer to project; got "
                             f"embeddings_freq={embeddings_freq} (must be 0)")
        if update_freq != "epoch" and update_freq != "batch" and not (
                isinstance(update_freq, int) and not isinstance(update_freq, bool)
                and update_freq >= 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or an integer "
                             f">= 1, got {update_freq!r}")
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) \
                or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an integer >= 0, got "
                             f"{histogram_freq!r}")
        _summary_writer()                       # fail now, not after the first epoch
        self.log_dir = _os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._global_train_batch = 0

    # ---- writers ------------------------------------------------------------------
    def _writer(self, which):
        if which not in self._writers:
            folder = _os.path.join(self.log_dir, "train" if which == "train" else "validation")
            self._writers[which] = _summary_writer()(logdir=folder)
        return self._writers[which]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        super().set_model(model)
        self._close_writers()
        self._graph_written = False

    # ---- hooks --------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph and not self._graph_written:
            self._write_model_config()
            self._graph_written = True

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = _time.perf_counter()
        self._epoch_start_iterations = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = _time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            seconds = _time.perf_counter() - self._batch_start
            writer.add_scalar("batch_steps_per_second", 1.0 / max(seconds, 1e-12),
                              self._global_train_batch)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), self._global_train_batch)

    def on_test_end(self, logs=None):
        """After an evaluation inside fit: ``evaluation_<name>_vs_iterations``, as Keras."""
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value),
                              int(optimizer.iterations))

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    # ---- what is written ------------------------------------------------------------
    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        return int(getattr(optimizer, "iterations", 0) or 0)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            seconds = _time.perf_counter() - self._epoch_start
            train["steps_per_second"] = ((self._iterations() - self._epoch_start_iterations)
                                         / max(seconds, 1e-12))
        for which, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", float(value), epoch)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = getattr(weight, "name", None) or f"{layer.name}/weight"
                values = _np.asarray(weight)
                writer.add_histogram(f"{name.replace(':', '_')}/histogram", values, epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.add_images(f"{name.replace(':', '_')}/image", image, epoch,
                                          dataformats="NHWC")

    def _write_model_config(self):
        """The model's config as Keras' ``graph_keras_model`` summary (tag 'keras', step 0):
        TensorBoard's Graphs tab draws Sequential and functional models from it."""
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
        from tensorboardX.proto.types_pb2 import DT_STRING
        model = self.model
        try:
            text = (model.to_json() if hasattr(model, "to_json") else
                    _json.dumps({"class_name": type(model).__name__,
                                 "config": model.get_config()}))
        except Exception as e:          # a model whose config cannot be written: say so
            _warnings.warn(f"TensorBoard: the model's config could not be written for the "
                          f"graph ({e}); skipping it", RuntimeWarning, stacklevel=2)
            return
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name="graph_keras_model", content=b"1"))
        tensor = TensorProto(dtype=DT_STRING, string_val=[text.encode("utf-8")],
                             tensor_shape=TensorShapeProto())
        summary = Summary(value=[Summary.Value(tag="keras", metadata=metadata, tensor=tensor)])
        # into the train writer's own event file: TensorBoard follows one file per run
        self._writer("train").file_writer.add_summary(summary, global_step=0)


def _weight_image(w):
    """A weight as Keras' TensorBoard draws it: (N, H, W, 1) float in [0, 1] (min-max
    scaled), or None for a weight it does not draw."""
    w = _np.squeeze(w)
    if w.ndim == 1:                                  # bias: one row
        w = w.reshape(1, w.shape[0], 1, 1)
    elif w.ndim == 2:                                # Dense kernel: the long side across
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:                                # conv kernel (kh, kw, c): c images
        w = _np.transpose(w, (2, 0, 1))[..., None]
    else:
        return None
    lo, hi = float(w.min()), float(w.max())
    return ((w - lo) / (hi - lo if hi > lo else 1.0)).astype(_np.float32)
