"""Sequential: a list of layers and a loop over them, with Keras' compile / fit /
evaluate / predict / save.

    >>> from pycnn.models import Sequential
    >>> from pycnn.layers import Dense, Dropout
    >>> model = Sequential()
    >>> model.add(Dense(512, activation='relu', input_shape=(784,)))
    >>> model.add(Dropout(0.2))
    >>> model.add(Dense(10, activation='softmax'))
    >>> model.summary()
    >>> model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])
    >>> history = model.fit(x_train, y_train, batch_size=128, epochs=20, validation_split=0.1)

One training step: the batch goes through every layer (each a C op recording one graph
node), the loss (a C op) records its node, ``loss.backward()`` walks the graph in C,
and the optimizer's C kernel updates every weight buffer in place. The loops here are
over batches and layers only.
"""
import numpy as np

from . import callbacks as callbacks_module, metrics as metrics_module, optimizers, training
from .autograd import no_grad
from .progbar import Progbar

__all__ = ["Sequential", "load_model"]

_model_counts = {}


def _auto_name(base):
    """'sequential_1', 'sequential_2', ... counted per session like the layers' names."""
    _model_counts[base] = _model_counts.get(base, 0) + 1
    return f"{base}_{_model_counts[base]}"


def _reset_names():
    _model_counts.clear()


# ---- the shuffling generator --------------------------------------------------------
# fit shuffles with NumPy; pycnn.set_seed(n) reseeds it (with the C generator of the
# initializers and dropout masks), so a seeded run is reproducible end to end.
_shuffle_rng = np.random.default_rng()


def _seed_shuffle(seed):
    global _shuffle_rng
    _shuffle_rng = np.random.default_rng(seed)

class Sequential:
    """A linear stack of layers: ``y = layers[-1](...layers[1](layers[0](x)))``.

    Args:
        layers: optional list of layers, added in order.
        name: the model's name (default ``sequential_1``, ``sequential_2``, ...).

    The input shape comes from the first layer's ``input_shape`` or from the first
    call, fit, evaluate or predict.
    """

    def __init__(self, layers=None, name=None):
        self.name = _auto_name("sequential") if name is None else str(name)
        self._layers = []
        self._build_input_shape = None      # with the batch dim: (None, 784)
        self._output_shapes = []
        self.built = False
        self.optimizer = None
        self.loss = None
        self._loss_fn = None
        self._metric_ids = []
        self.compiled = False
        self.stop_training = False
        self.history = None
        for layer in layers or []:
            self.add(layer)

    # ---- the stack ---------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        """Appends a layer; builds it at once when the input shape is known."""
        if not (callable(layer) and hasattr(layer, "count_params")
                and hasattr(layer, "get_config")):
            raise TypeError(f"Sequential.add: expected a layer (e.g. pycnn.layers.Dense), got "
                            f"{type(layer).__name__}")
        if any(other.name == layer.name for other in self._layers):
            raise ValueError(f"Sequential.add: the model already has a layer named "
                             f"{layer.name!r}; layer names must be unique in a model")
        if not self._layers and self._build_input_shape is None:
            given = getattr(layer, "input_shape", None)
            if given is not None:
                self._build_input_shape = (None,) + tuple(given)
        self._layers.append(layer)
        if self._build_input_shape is not None:
            self.build(self._build_input_shape)

    def pop(self):
        """Removes and returns the last layer."""
        if not self._layers:
            raise IndexError("Sequential.pop: the model has no layers")
        layer = self._layers.pop()
        if self.built:
            self._output_shapes.pop()
        return layer

    def build(self, input_shape=None):
        """Builds every layer for input_shape (batch dim included: (None, 784)) and
        records each layer's output shape."""
        if input_shape is None:
            input_shape = self._build_input_shape
        if input_shape is None:
            raise ValueError("Sequential.build: the input shape is unknown; give the first "
                             "layer an input_shape, or call build((None, ...))")
        shape = tuple(None if d is None else int(d) for d in input_shape)
        self._build_input_shape = shape
        self._output_shapes = []
        for layer in self._layers:
            if not layer.built:
                layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))
            self._output_shapes.append(shape)
        self.built = True

    def _ensure_built(self, x):
        if not self.built or len(self._output_shapes) != len(self._layers):
            self.build((None,) + tuple(np.shape(x)[1:]))

    @property
    def input_shape(self):
        return self._build_input_shape

    @property
    def output_shape(self):
        if not self.built or not self._output_shapes:
            raise AttributeError(f"{self.name}: the model is not built yet, so it has no "
                                 f"output shape")
        return self._output_shapes[-1]

    def get_layer(self, name=None, index=None):
        """The layer of that name, or at that index."""
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model of "
                                 f"{len(self._layers)} layers")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r} (layers: "
                         f"{', '.join(l.name for l in self._layers)})")

    def __call__(self, x, training=False):
        """The forward pass: each layer in turn. Returns a Tensor."""
        self._ensure_built(x)
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    # ---- weights -------------------------------------------------------------------
    @property
    def weights(self):
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    def get_weights(self):
        """Every layer's weights as NumPy arrays, in Keras' order."""
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Sets all weights from a list shaped like get_weights()."""
        weights = list(weights)
        counts = [len(layer.weights) for layer in self._layers]
        if len(weights) != sum(counts):
            raise ValueError(f"set_weights: the model {self.name!r} has {sum(counts)} weight "
                             f"arrays but {len(weights)} were given")
        start = 0
        for layer, count in zip(self._layers, counts):
            if count:
                layer.set_weights(weights[start:start + count])
            start += count

    def count_params(self):
        if not self.built:
            raise ValueError(f"{self.name}: the model is not built yet; give the first layer "
                             f"an input_shape or call build()/fit() first")
        return sum(int(layer.count_params()) for layer in self._layers)

    # ---- description -------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, show_arithmetic=False):
        """Prints Keras 2's table (Layer (type) | Output Shape | Param #) and the totals;
        ``show_arithmetic=True`` adds the formula behind each count."""
        from .summary import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_arithmetic=show_arithmetic)

    def _repr_html_(self):
        from .summary import summary_html
        return summary_html(self)

    def __repr__(self):
        return f"<Sequential name={self.name!r}, {len(self._layers)} layers>"

    def get_config(self):
        config = {"name": self.name,
                  "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                             for layer in self._layers]}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model with the layers that get_config() described (fresh weights)."""
        from .saving import _resolve_class
        model = cls(name=config.get("name"))
        for entry in config.get("layers", []):
            layer_cls = _resolve_class("layer", entry.get("class_name"), custom_objects,
                                       "Sequential.from_config")
            model.add(layer_cls.from_config(entry.get("config", {})))
        if config.get("build_input_shape") is not None and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model

    # ---- compile -------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Chooses the optimizer (name or Optimizer), the loss (name, Loss or callable
        (y_true, y_pred) -> scalar Tensor) and the metrics reported (names like
        'accuracy', or functions)."""
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        if loss is None or (callable(loss) and not isinstance(loss, type)):
            self._loss_fn = loss        # a function or a Loss instance: used as it is
        else:
            from . import losses
            self._loss_fn = losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        self._metric_ids = list(metrics)
        for m in self._metric_ids:      # fail now on an unknown name, not after an epoch
            metrics_module.get(m, self.loss_name)
        self.compiled = True

    @property
    def loss_name(self):
        """The Keras name of the loss ('categorical_crossentropy'), or None."""
        for candidate in (self._loss_fn, self.loss):
            name = getattr(candidate, "name", None) or getattr(candidate, "__name__", None)
            if isinstance(name, str):
                return name
        return self.loss if isinstance(self.loss, str) else None

    @property
    def metrics_names(self):
        """['loss', 'accuracy', ...]: the keys of the logs, in order."""
        return ["loss"] + [metrics_module.get(m, self.loss_name).name for m in self._metric_ids]

    def _check_compiled(self, who):
        if not self.compiled:
            raise RuntimeError(f"{who}: you must compile your model before training/testing. "
                               f"Use `model.compile(optimizer, loss)`.")
        if self._loss_fn is None:
            raise RuntimeError(f"{who}: the model was compiled without a loss; use "
                               f"`model.compile(optimizer, loss=...)`")

    def _new_metrics(self, y_true, y_pred):
        """Metric objects with empty state; 'accuracy' resolved from the loss and shapes."""
        metrics = [metrics_module.get(m, self.loss_name, np.shape(y_true), np.shape(y_pred))
                   for m in self._metric_ids]
        for m in metrics:
            m.reset_state()             # a Metric instance given to compile is reused
        return metrics

    # ---- data --------------------------------------------------------------------------
    def _dtype(self):
        weights = self.weights
        return np.dtype(weights[0].dtype) if weights else np.dtype(np.float32)

    def _as_x(self, x, who):
        if x is None:
            raise ValueError(f"{who}: x is None; pass the input data")
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"{who}: x must be numbers, got dtype {x.dtype}")
        if x.ndim == 0:
            raise ValueError(f"{who}: x must have a batch dimension, got a scalar")
        self._ensure_built(x)
        dtype = self._dtype()
        return x if x.dtype == dtype else x.astype(dtype)

    def _as_xy(self, x, y, who):
        x = self._as_x(x, who)
        if y is None:
            raise ValueError(f"{who}: y is None; pass the targets")
        y = np.asarray(y)
        if y.dtype.kind == "f" and y.dtype != x.dtype:
            y = y.astype(x.dtype)
        if len(y) != len(x):
            raise ValueError(f"{who}: x has {len(x)} samples but y has {len(y)}")
        return x, y

    # ---- one step ----------------------------------------------------------------------
    def _compute_loss(self, y_true, y_pred):
        """The loss Tensor. When the output is a softmax and the loss a cross-entropy on
        probabilities, Keras computes it from the softmax's input (the logits) with the
        fused, stable op; so does this, when the loss offers from_logits."""
        fused = training.fused_from_logits(self._loss_fn, self.loss_name, self._layers[-1], y_pred)
        if fused is not None:
            return fused(y_true)
        return self._loss_fn(y_true, y_pred)

    def _train_batch(self, x, y):
        trainable = self.trainable_weights
        for w in trainable:
            w.grad = None
        y_pred = self(x, training=True)
        loss = self._compute_loss(y, y_pred)
        loss.backward()
        self.optimizer.apply_gradients([(w.grad, w) for w in trainable])
        for w in trainable:
            w.grad = None
        return float(loss.item()), np.asarray(y_pred)

    def _test_batch(self, x, y):
        with no_grad():
            y_pred = self(x, training=False)
            loss = self._compute_loss(y, y_pred)
        return float(loss.item()), np.asarray(y_pred)

    # ---- fit -----------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
            validation_batch_size=None):
        """Trains for ``epochs - initial_epoch`` epochs of mini-batches; returns a History.

        - verbose: 1 = progress bar, 2 = one line per epoch, 0 = silent.
        - validation_split: the fraction of (x, y) taken from the END (before shuffling,
          as Keras) to validate on; validation_data=(x_val, y_val) instead.
        - shuffle: reshuffle the training samples every epoch (pycnn.set_seed fixes it).
        - callbacks: Callback objects (EarlyStopping, ModelCheckpoint, ...).
        - Ctrl-C (KeyboardInterrupt), also when raised by a callback, stops training
          after the current batch; the weights are those after that batch, and the
          returned History holds the epochs that finished.
        """
        self._check_compiled("fit")
        batch_size = training.check_batch_size(batch_size, "fit")
        x, y = self._as_xy(x, y, "fit")
        (x, y), val = training.split_validation(x, y, validation_split, validation_data)
        if val is not None:
            val = self._as_xy(val[0], val[1], "fit (validation_data)")
            self._test_batch(val[0][:2], val[1][:2])    # bad targets fail now, not after
                                                        # a whole epoch of training
        if len(x) == 0:
            raise ValueError("fit: no training samples (after the validation split)")
        steps = -(-len(x) // batch_size)
        history = callbacks_module.History()
        cbs = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        cbs = callbacks_module.CallbackList(
            cbs + [history] + list(callbacks or []), model=self, epochs=epochs, steps=steps,
            verbose=verbose, batch_size=batch_size)
        self.history = history
        self.stop_training = False
        cbs.on_train_begin()
        where = {"epoch": initial_epoch, "batches_done": 0}
        try:
            with training.DeferredInterrupt() as interrupt:
                for epoch in range(initial_epoch, epochs):
                    where.update(epoch=epoch, batches_done=0)
                    cbs.on_epoch_begin(epoch)
                    logs = self._train_epoch(x, y, batch_size, shuffle, cbs, interrupt, where)
                    where["batches_done"] = None            # the epoch's batches are done
                    if val is not None:
                        val_logs = self._evaluate_arrays(val[0], val[1],
                                                         validation_batch_size or batch_size)
                        logs.update({"val_" + k: v for k, v in val_logs.items()})
                    cbs.on_epoch_end(epoch, logs)
                    if interrupt.pending:
                        raise KeyboardInterrupt
                    if self.stop_training:
                        break
        except KeyboardInterrupt:
            if verbose:
                done = where["batches_done"]
                at = (f"after batch {done}/{steps} of" if done is not None
                      else "at the end of")
                print(f"\nInterrupted {at} epoch {where['epoch'] + 1}/{epochs}: training "
                      f"stopped; the weights are those after the last finished batch; the "
                      f"history holds {len(history.epoch)} finished epoch(s).")
        cbs.on_train_end()
        return history

    def _train_epoch(self, x, y, batch_size, shuffle, cbs, interrupt, where):
        """One pass over (x, y) in mini-batches; returns the epoch's logs (running means
        of the loss and metrics, each sample weighing the same). A pending Ctrl-C is
        honoured between batches, never inside one."""
        order = _shuffle_rng.permutation(len(x)) if shuffle else np.arange(len(x))
        running = _RunningLogs(self)
        for step, idx in enumerate(training.batches(len(x), batch_size, order)):
            cbs.on_train_batch_begin(step)
            loss, y_pred = self._train_batch(x[idx], y[idx])
            where["batches_done"] = step + 1
            logs = running.update(loss, y[idx], y_pred)
            cbs.on_train_batch_end(step, logs)
            if interrupt.pending:
                raise KeyboardInterrupt
        return logs

    # ---- evaluate / predict ----------------------------------------------------------
    def _evaluate_arrays(self, x, y, batch_size, progbar=None):
        """{'loss': ..., metric: ...} over (x, y) in batches, each sample weighing the
        same; progbar (optional) shows the running values batch by batch."""
        running = _RunningLogs(self)
        for step, idx in enumerate(training.batches(len(x), batch_size, np.arange(len(x)))):
            loss, y_pred = self._test_batch(x[idx], y[idx])
            logs = running.update(loss, y[idx], y_pred)
            if progbar is not None:
                progbar.update(step + 1, logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, return_dict=False):
        """The loss (and metrics) on (x, y), without training: a float when there are no
        metrics, else [loss, *metrics] (or a dict with return_dict=True), as Keras."""
        self._check_compiled("evaluate")
        batch_size = training.check_batch_size(batch_size, "evaluate")
        x, y = self._as_xy(x, y, "evaluate")
        if len(x) == 0:
            raise ValueError("evaluate: no samples")
        bar = Progbar(-(-len(x) // batch_size), verbose=verbose) if verbose else None
        logs = self._evaluate_arrays(x, y, batch_size, bar)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0):
        """The model's outputs for x, batch by batch, as one NumPy array."""
        batch_size = training.check_batch_size(batch_size, "predict")
        x = self._as_x(x, "predict")
        bar = Progbar(-(-len(x) // batch_size), verbose=verbose) if verbose else None
        outputs = []
        with no_grad():
            for step, idx in enumerate(training.batches(len(x), batch_size, np.arange(len(x)))):
                outputs.append(np.asarray(self(x[idx], training=False)))
                if bar is not None:
                    bar.update(step + 1)
        if not outputs:
            return np.zeros((0,) + tuple(d for d in self.output_shape[1:]), self._dtype())
        return np.concatenate(outputs)

    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on this batch; returns its loss (and metrics)."""
        self._check_compiled("train_on_batch")
        x, y = self._as_xy(x, y, "train_on_batch")
        loss, y_pred = self._train_batch(x, y)
        return _batch_result(self, loss, y, y_pred, return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        """The loss (and metrics) of this batch, without training."""
        self._check_compiled("test_on_batch")
        x, y = self._as_xy(x, y, "test_on_batch")
        loss, y_pred = self._test_batch(x, y)
        return _batch_result(self, loss, y, y_pred, return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as a NumPy array."""
        x = self._as_x(x, "predict_on_batch")
        with no_grad():
            return np.asarray(self(x, training=False))

    # ---- persistence -------------------------------------------------------------------
    def save(self, filepath, include_optimizer=True):
        """Writes architecture, compile settings, weights (and optimizer slots) to ONE
        file, atomically: see pycnn.saving.save_model."""
        from .saving import save_model
        save_model(self, filepath, include_optimizer=include_optimizer)

    def save_weights(self, filepath):
        """Writes the weights only (atomically); load them with load_weights."""
        from .saving import save_weights
        save_weights(self, filepath)

    def load_weights(self, filepath):
        """Reads weights written by save_weights or save into this (same-shaped) model."""
        from .saving import load_weights
        load_weights(self, filepath)


class _RunningLogs:
    """The logs of one pass over batches: the loss averaged over samples (each batch
    weighs its size) and each metric's running value."""

    def __init__(self, model):
        self.model = model
        self.loss = metrics_module.Mean("loss")
        self.metrics = None

    def update(self, loss, y, y_pred):
        self.loss.update_state(loss, sample_weight=len(y))
        if self.metrics is None:
            self.metrics = self.model._new_metrics(y, y_pred)
        for m in self.metrics:
            m.update_state(y, y_pred)
        return {"loss": self.loss.result(), **{m.name: m.result() for m in self.metrics}}


def _batch_result(model, loss, y, y_pred, return_dict):
    logs = _RunningLogs(model).update(loss, y, y_pred)
    if return_dict:
        return logs
    return loss if len(logs) == 1 else list(logs.values())


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model that ``model.save(filepath)`` wrote, or a Keras ``.keras`` / ``.h5`` file
    (see pycnn.saving.load_model)."""
    from .saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)

