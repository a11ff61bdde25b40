"""Trainer: compile / fit / evaluate / predict / train_on_batch, the one training loop of
every model (a mixin of pycnn.models.Model, as Keras 3's Trainer).

One training step (``_train_batch``): the batch goes through the model (each layer a C
op recording one graph node), the loss of each output (a C op) times its weight plus
``model.losses`` (add_loss, regularizers) gives one scalar, ``loss.backward()`` walks the
graph in C, and the optimizer's C kernel updates every trainable weight in place. The
loops here are over batches, outputs and layers only.

Data: ``x`` is an array, a list of arrays (in ``model.inputs`` order) or a dict by input
name; ``y`` the same for the outputs (dict keys: ``model.output_names``). Losses and
metrics are given once (every output) or per output as a list or dict; ``loss_weights``
likewise. The logs are Keras': ``loss``, and with several outputs ``<output>_loss`` and
``<output>_<metric>``.
"""
import numpy as _np

from .. import _core, callbacks as callbacks_module, metrics as metrics_module, optimizers
from .. import training
from ..autograd import no_grad as _no_grad
from ..progbar import Progbar as _Progbar
from . import graph

__all__ = ["Trainer"]

# ---- the shuffling generator --------------------------------------------------------
# fit shuffles with NumPy; pycnn.set_seed(n) reseeds it (with the C generator of the
# initializers and dropout masks), so a seeded run is reproducible end to end.
_shuffle_rng = [_np.random.default_rng()]


def _seed_shuffle(seed):
    _shuffle_rng[0] = _np.random.default_rng(seed)


class Trainer:
    """The training half of Model: the model provides __call__, weights, losses,
    output_names / input_names and (graph models) __dict__['_graph']."""

    # ---- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None):
        """The optimizer (name or Optimizer), the loss (a name, Loss, callable (y_true,
        y_pred) -> scalar Tensor; or one per output as a list or dict), the metrics
        ('accuracy', functions; per output as a list of lists or a dict) and
        loss_weights (per output, list or dict)."""
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self.loss_weights = loss_weights
        self.__dict__["_loss_fns"] = loss
        self.__dict__["_metric_ids"] = [] if metrics is None else metrics
        self._compiled_outputs = None       # resolved per output on the first batch
        for one in (loss.values() if isinstance(loss, dict) else
                    loss if isinstance(loss, (list, tuple)) else [loss]):
            self._one_loss(one)             # fail now on an unknown name
        self.compiled = True
        if not isinstance(loss, (list, dict)) and not isinstance(metrics, dict) and \
                not (isinstance(metrics, list) and metrics and
                     isinstance(metrics[0], (list, tuple))):
            for m in self._metric_list(metrics):   # fail now on an unknown name
                metrics_module.get(m, _loss_name(self._one_loss(loss)))

    @staticmethod
    def _metric_list(metrics):
        if metrics is None:
            return []
        if isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            return [metrics]
        return list(metrics)

    @staticmethod
    def _one_loss(loss):
        if loss is None or (callable(loss) and not isinstance(loss, type)):
            return loss
        from .. import losses
        return losses.get(loss)

    @property
    def _loss_fn(self):
        """The loss function of a single-output model (None when not compiled)."""
        loss = self.__dict__.get("_loss_fns")
        if isinstance(loss, (list, dict)):
            outs = self._outputs_spec(len(loss))
            return outs[0].loss_fn if len(outs) == 1 else None
        return self._one_loss(loss)

    @property
    def loss_name(self):
        """The Keras name of the loss ('categorical_crossentropy'), or None."""
        return _loss_name(self._loss_fn) or (self.loss if isinstance(self.loss, str) else None)

    @property
    def metrics_names(self):
        """['loss', 'accuracy', ...]: the keys of the logs, in order."""
        if self._compiled_outputs is None:
            return ["loss"] + [metrics_module.get(m, self.loss_name).name
                               for m in self._metric_list(self.__dict__["_metric_ids"])]
        return list(_RunningLogs(self).keys())

    def _check_compiled(self, who):
        if not self.compiled:
            raise RuntimeError(f"{who}: you must compile your model before training/testing. "
                               f"Use `model.compile(optimizer, loss)`.")

    def _outputs_spec(self, n):
        """Per output: its name, loss function, weight and metric identifiers."""
        if self._compiled_outputs is not None and len(self._compiled_outputs) == n:
            return self._compiled_outputs
        names = self.output_names or ([f"output_{i + 1}" for i in range(n)] if n > 1
                                      else ["output"])
        loss, weights = self.__dict__["_loss_fns"], self.loss_weights
        metrics = self.__dict__["_metric_ids"]
        specs = []
        for i, name in enumerate(names[:n]):
            specs.append(_OutputSpec(name, self._one_loss(_per_output(loss, i, name, "loss")),
                                     _per_output(weights, i, name, "loss_weights", 1.0),
                                     self._metric_list(_per_output(metrics, i, name, "metrics",
                                                                   [], nested=True)),
                                     self._output_layer(i)))
        self._compiled_outputs = specs
        return specs

    # ---- data ---------------------------------------------------------------------------------
    def _dtype(self):
        """The dtype of the weights (float32 when there are none), found once per graph."""
        g = self.__dict__.get("_graph")
        if g is not None and g.dtype is not None:
            return g.dtype
        weights = self.weights
        dtype = _np.dtype(weights[0].dtype) if weights else _np.dtype(_np.float32)
        if g is not None:
            g.dtype = dtype
        return dtype

    def _data_list(self, data, names, who, what):
        """data (an array, a list, a dict by name) as a list of arrays in `names` order."""
        if isinstance(data, dict):
            if names is None or any(k not in data for k in names):
                raise ValueError(f"{who}: {what} is a dict with keys {list(data)} but the "
                                 f"model's {what == 'x' and 'inputs' or 'outputs'} are "
                                 f"{names}")
            return [data[k] for k in names]
        if isinstance(data, (list, tuple)) and names is not None and len(names) > 1:
            if len(data) != len(names):
                raise ValueError(f"{who}: the model has {len(names)} "
                                 f"{what == 'x' and 'inputs' or 'outputs'} ({names}) but "
                                 f"{what} has {len(data)} arrays")
            return list(data)
        return [data]

    def _as_x(self, x, who):
        if x is None:
            raise ValueError(f"{who}: x is None; pass the input data")
        g = self.__dict__.get("_graph")
        xs = self._data_list(x, self.input_names if g is not None else None, who, "x")
        out = []
        for a in xs:
            a = _np.asarray(a)
            if a.dtype.kind not in "fiub":
                raise TypeError(f"{who}: x must be numbers, got dtype {a.dtype}")
            if a.ndim == 0:
                raise ValueError(f"{who}: x must have a batch dimension, got a scalar")
            out.append(a)
        if len({len(a) for a in out}) > 1:
            raise ValueError(f"{who}: the input arrays have different numbers of samples "
                             f"{[len(a) for a in out]}")
        self._ensure_built(out)
        dtype = self._dtype()
        return [a if a.dtype == dtype or a.dtype.kind not in "fiub" else a.astype(dtype)
                for a in out]

    def _ensure_built(self, xs):
        if not self.built and self.__dict__.get("_graph") is None and len(xs) == 1:
            self.build((None,) + tuple(_np.shape(xs[0])[1:]))

    def _as_xy(self, x, y, who):
        xs = self._as_x(x, who)
        if y is None:
            raise ValueError(f"{who}: y is None; pass the targets")
        g = self.__dict__.get("_graph")
        names = self.output_names if g is not None and len(g.outputs) > 1 else None
        ys = []
        for a in self._data_list(y, names, who, "y"):
            a = _np.asarray(a)
            if a.dtype.kind == "f" and a.dtype != xs[0].dtype:
                a = a.astype(xs[0].dtype)
            if len(a) != len(xs[0]):
                raise ValueError(f"{who}: x has {len(xs[0])} samples but y has {len(a)}")
            ys.append(a)
        return xs, ys

    def _model_inputs(self, xs):
        """A flat list of arrays as what call() takes (one array, a list, a dict)."""
        g = self.__dict__.get("_graph")
        if g is not None and isinstance(g.inputs_struct, dict):
            return dict(zip(self.input_names, xs))
        return xs[0] if len(xs) == 1 else list(xs)

    def _forward(self, xs, training):
        """Model outputs for the arrays xs, as a flat list of Tensors."""
        out = self(xs[0] if len(xs) == 1 else self._model_inputs(xs), training=training)
        return [out] if isinstance(out, _core.Tensor) else graph.flatten(out)

    # ---- one step ------------------------------------------------------------------------------
    def _output_layer(self, i):
        g = self.__dict__.get("_graph")
        return g.outputs[i].node.operation if g is not None else None

    def _compute_loss(self, y_true, y_pred):
        """The loss Tensor of a single-output model (see _total_loss)."""
        return self._total_loss([y_true], [y_pred], with_layer_losses=False)[0]


    def _total_loss(self, ys, preds, with_layer_losses=True):
        """(total, [loss of each output]): Σ weight_i · loss_i(y_i, ŷ_i) + model.losses.
        When an output is a softmax and its loss a cross-entropy on probabilities, Keras
        computes it from the softmax's input (the logits) with the fused, stable op;
        so does this, when the loss offers from_logits."""
        total, parts = None, []
        for spec, y, y_pred in zip(self._outputs_spec(len(preds)), ys, preds):
            if spec.loss_fn is None:            # compiled without a loss for this output
                continue
            fused = None
            if spec.layer is not None:
                fused = training.fused_from_logits(spec.loss_fn, spec.loss_name, spec.layer,
                                                   y_pred)
            loss = fused(y) if fused is not None else spec.loss_fn(y, y_pred)
            parts.append(loss)
            term = loss if spec.weight == 1.0 else loss * spec.weight
            total = term if total is None else total + term
        if with_layer_losses:
            for extra in self.losses:
                total = extra if total is None else total + extra
        if total is None:
            raise RuntimeError(f"{self.name}: the model was compiled without a loss and adds "
                               f"none (add_loss, regularizers); use "
                               f"`model.compile(optimizer, loss=...)`")
        return total, parts

    def _train_batch(self, xs, ys):
        trainable = self.trainable_weights
        for w in trainable:
            w.grad = None
        preds = self._forward(xs, training=True)
        loss, parts = self._total_loss(ys, preds)
        if loss.requires_grad:                  # else no weight reaches the loss: no step
            loss.backward()
            self.optimizer.apply_gradients([(w.grad, w) for w in trainable
                                            if w.grad is not None])
        for w in trainable:
            w.grad = None
        return _batch_values(loss, parts, preds)

    def _test_batch(self, xs, ys):
        with _no_grad():
            preds = self._forward(xs, training=False)
            loss, parts = self._total_loss(ys, preds)
        return _batch_values(loss, parts, preds)

    # ---- fit -----------------------------------------------------------------------------------
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
        xs, ys = self._as_xy(x, y, "fit")
        (xs, ys), val = _split_validation(xs, ys, validation_split, validation_data)
        if validation_data is not None:
            val = self._as_xy(val[0], val[1], "fit (validation_data)")
        if val is not None:
            self._test_batch(_take(val[0], slice(0, 2)), _take(val[1], slice(0, 2)))
            # bad targets fail now, not after a whole epoch of training
        n = len(xs[0])
        if n == 0:
            raise ValueError("fit: no training samples (after the validation split)")
        steps = -(-n // batch_size)
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
                    logs = self._train_epoch(xs, ys, batch_size, shuffle, cbs, interrupt, where)
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

    def _train_epoch(self, xs, ys, batch_size, shuffle, cbs, interrupt, where):
        """One pass over (xs, ys) in mini-batches; returns the epoch's logs (running means
        of the loss and metrics, each sample weighing the same). A pending Ctrl-C is
        honoured between batches, never inside one."""
        n = len(xs[0])
        order = _shuffle_rng[0].permutation(n) if shuffle else _np.arange(n)
        running = _RunningLogs(self)
        for step, idx in enumerate(training.batches(n, batch_size, order)):
            cbs.on_train_batch_begin(step)
            by = _take(ys, idx)
            loss, parts, preds = self._train_batch(_take(xs, idx), by)
            where["batches_done"] = step + 1
            logs = running.update(loss, parts, by, preds)
            cbs.on_train_batch_end(step, logs)
            if interrupt.pending:
                raise KeyboardInterrupt
        return logs

    # ---- evaluate / predict ----------------------------------------------------------------
    def _evaluate_arrays(self, xs, ys, batch_size, progbar=None):
        """{'loss': ..., metric: ...} over (xs, ys) in batches, each sample weighing the
        same; progbar (optional) shows the running values batch by batch."""
        running = _RunningLogs(self)
        n = len(xs[0])
        for step, idx in enumerate(training.batches(n, batch_size, _np.arange(n))):
            by = _take(ys, idx)
            loss, parts, preds = self._test_batch(_take(xs, idx), by)
            logs = running.update(loss, parts, by, preds)
            if progbar is not None:
                progbar.update(step + 1, logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, return_dict=False):
        """The loss (and metrics) on (x, y), without training: a float when there are no
        metrics, else [loss, *metrics] (or a dict with return_dict=True), as Keras."""
        self._check_compiled("evaluate")
        batch_size = training.check_batch_size(batch_size, "evaluate")
        xs, ys = self._as_xy(x, y, "evaluate")
        if len(xs[0]) == 0:
            raise ValueError("evaluate: no samples")
        bar = _Progbar(-(-len(xs[0]) // batch_size), verbose=verbose) if verbose else None
        logs = self._evaluate_arrays(xs, ys, batch_size, bar)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _pack_outputs(self, arrays):
        g = self.__dict__.get("_graph")
        if g is not None and not g.single_output:
            return graph.pack_like(g.outputs_struct, arrays)
        return arrays[0] if len(arrays) == 1 or g is not None else arrays

    def predict(self, x, batch_size=None, verbose=0):
        """The model's outputs for x, batch by batch: one NumPy array (a list or dict of
        them for several outputs)."""
        batch_size = training.check_batch_size(batch_size, "predict")
        xs = self._as_x(x, "predict")
        n = len(xs[0])
        bar = _Progbar(-(-n // batch_size), verbose=verbose) if verbose else None
        chunks = []
        with _no_grad():
            for step, idx in enumerate(training.batches(n, batch_size, _np.arange(n))):
                chunks.append([_np.asarray(p) for p in self._forward(_take(xs, idx), False)])
                if bar is not None:
                    bar.update(step + 1)
        if not chunks:
            with _no_grad():
                probe = [_np.asarray(p) for p in self._forward(_take(xs, slice(0, 0)), False)] \
                    if n == 0 and self.built else None
            return self._pack_outputs(probe) if probe is not None else \
                _np.zeros((0,), self._dtype())
        return self._pack_outputs([_np.concatenate(parts) for parts in zip(*chunks)])

    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on this batch; returns its loss (and metrics)."""
        self._check_compiled("train_on_batch")
        xs, ys = self._as_xy(x, y, "train_on_batch")
        loss, parts, preds = self._train_batch(xs, ys)
        return _batch_result(self, loss, parts, ys, preds, return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        """The loss (and metrics) of this batch, without training."""
        self._check_compiled("test_on_batch")
        xs, ys = self._as_xy(x, y, "test_on_batch")
        loss, parts, preds = self._test_batch(xs, ys)
        return _batch_result(self, loss, parts, ys, preds, return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as a NumPy array (a list or dict for several)."""
        xs = self._as_x(x, "predict_on_batch")
        with _no_grad():
            return self._pack_outputs([_np.asarray(p) for p in self._forward(xs, False)])


def _loss_name(fn):
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) else None


def _batch_values(loss, parts, preds):
    """(loss, [each output's loss] when there are several outputs, [outputs as arrays])"""
    return float(loss.item()), [float(p.item()) for p in parts] if len(preds) > 1 else [], \
        [_np.asarray(p) for p in preds]


class _OutputSpec:
    """What compile says about one output, and the layer that makes it (None: subclassed)."""
    __slots__ = ("name", "loss_fn", "loss_name", "weight", "metric_ids", "layer")

    def __init__(self, name, loss_fn, weight, metric_ids, layer):
        self.name, self.loss_fn, self.weight, self.metric_ids = name, loss_fn, float(weight), \
            metric_ids
        self.loss_name, self.layer = _loss_name(loss_fn), layer


def _per_output(value, i, name, what, default=None, nested=False):
    """The entry of a per-output argument for output i (named `name`)."""
    if value is None:
        return default
    if isinstance(value, dict):
        return value.get(name, default)
    if not value and isinstance(value, (list, tuple)):
        return default if nested else value
    if isinstance(value, (list, tuple)) and (not nested or isinstance(
            value[0], (list, tuple, dict)) or value[0] is None):
        if what == "metrics" and not nested:
            return value
        if i >= len(value):
            raise ValueError(f"compile: {what} has {len(value)} entries but the model has "
                             f"more outputs")
        return value[i]
    return value


def _take(arrays, idx):
    return [a[idx] for a in arrays]


def _split_validation(xs, ys, validation_split, validation_data):
    """((xs_train, ys_train), (x_val, y_val) or None), lists of arrays."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("fit: validation_data must be a tuple (x_val, y_val)")
        return (xs, ys), tuple(validation_data)
    (_, _), val = training.split_validation(_np.arange(len(xs[0])), _np.arange(len(xs[0])),
                                            validation_split, None)
    if val is None:
        return (xs, ys), None
    cut = int(val[0][0])
    head, tail = slice(0, cut), slice(cut, None)
    return (_take(xs, head), _take(ys, head)), (_take(xs, tail), _take(ys, tail))


class _RunningLogs:
    """The logs of one pass over batches: the loss averaged over samples (each batch
    weighs its size), with several outputs each output's loss, and each metric's running
    value (Keras' keys: loss, <output>_loss, <output>_<metric>)."""

    def __init__(self, model):
        self.model = model
        self.loss = metrics_module.Mean("loss")
        self.parts = None
        self.metrics = None

    def keys(self):
        specs = self.model._compiled_outputs or []
        keys = ["loss"]
        if len(specs) > 1:
            keys += [f"{s.name}_loss" for s in specs if s.loss_fn is not None]
        for s in specs:
            for m in s.metric_ids:
                name = metrics_module.get(m, _loss_name(s.loss_fn)).name
                keys.append(f"{s.name}_{name}" if len(specs) > 1 else name)
        return keys

    def update(self, loss, parts, ys, preds):
        n = len(ys[0])
        self.loss.update_state(loss, sample_weight=n)
        specs = self.model._outputs_spec(len(preds))
        if self.metrics is None:
            self.parts = [metrics_module.Mean(f"{s.name}_loss") for s in specs
                          if s.loss_fn is not None] if len(specs) > 1 else []
            self.metrics = []                   # (log key, Metric, output index)
            for i, (s, y, p) in enumerate(zip(specs, ys, preds)):
                for ident in s.metric_ids:
                    m = metrics_module.get(ident, _loss_name(s.loss_fn), _np.shape(y),
                                           _np.shape(p))
                    m.reset_state()         # a Metric instance given to compile is reused
                    self.metrics.append((f"{s.name}_{m.name}" if len(specs) > 1 else m.name,
                                         m, i))
        for mean, value in zip(self.parts, parts):
            mean.update_state(value, sample_weight=n)
        logs = {"loss": self.loss.result()}
        logs.update({m.name: m.result() for m in self.parts})
        for key, metric, i in self.metrics:
            metric.update_state(ys[i], preds[i])
            logs[key] = metric.result()
        return logs


def _batch_result(model, loss, parts, ys, preds, return_dict):
    logs = _RunningLogs(model).update(loss, parts, ys, preds)
    if return_dict:
        return logs
    return loss if len(logs) == 1 else list(logs.values())
