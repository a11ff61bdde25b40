"""Model: a Layer that trains. compile / fit / evaluate / predict / save, written once for
every kind of model:

- functional: ``Model(inputs, outputs)`` — a graph of layers (graph.py) walked in order;
- ``Sequential`` (sequential.py) — the same graph with one path;
- subclassed: ``class M(Model)`` with ``__init__`` creating layers and ``call(inputs,
  training=None)`` using them; layers and weights assigned as attributes are tracked.

A Model is a Layer (it nests in other models) and a Trainer (trainer.py: compile, fit,
evaluate, predict — the one training loop). Graph models keep their graph in
``_Graph`` below: ``inputs``/``outputs`` as given, their flat lists, the GraphMap
(``map.nodes`` in execution order, ``map.operations`` = ``model.layers``) and the runner.
"""
import numpy as _np

from .. import _core
from ..layers.base import Layer as _Layer
from ..layers.input_layer import InputLayer as _InputLayer
from . import graph
from .trainer import Trainer, _seed_shuffle  # noqa: F401  (pycnn.set_seed reseeds fit)

__all__ = ["Model"]

class _Graph:
    """The layer graph of a functional model (or a Sequential): inputs and outputs as
    given (structures of KerasTensors), their flat lists, the GraphMap and its runner."""

    def __init__(self, inputs, outputs):
        self.inputs_struct = inputs
        self.outputs_struct = outputs
        self.inputs = graph.flatten(inputs)
        self.outputs = graph.flatten(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, graph.KerasTensor):
                raise TypeError(f"Model: inputs and outputs must be symbolic tensors (from "
                                f"pycnn.Input and layers called on them), got "
                                f"{type(t).__name__}")
        for t in self.inputs:
            if not t.node.is_input:
                raise ValueError(f"Model: input {t.name} {t.shape} is made by layer "
                                 f"{t.node.operation.name!r}; model inputs must come from "
                                 f"pycnn.Input")
        self.map = graph.map_graph(self.inputs, self.outputs)
        self.runner = graph.GraphRunner(self.inputs, self.outputs, self.map.nodes)
        self.weighted_layers = [op for op in self.map.operations
                                if not isinstance(op, _InputLayer)]
        self.dtype = None                   # of the weights, found on first use
        # the fast path of fit: when every layer is one of pycnn's own (its weights are
        # its C lists, it has no sublayers), weights and losses are read from them directly
        self.leaves = self.weighted_layers if all(
            type(op) in _leaf_types() for op in self.weighted_layers) else None
        self.single_output = isinstance(outputs, graph.KerasTensor)
        self.input_names = _end_names(inputs, self.inputs)
        self.output_names = _end_names(outputs, self.outputs)

    @property
    def layers(self):
        return list(self.map.operations)


_LEAF_TYPES = []


def _leaf_types():
    """pycnn's layer classes that never hold sublayers (C layers, merges, op layers)."""
    if not _LEAF_TYPES:
        from ..layers import core, merging
        _LEAF_TYPES.append(frozenset(
            [getattr(core, n) for n in core.__all__] + [_InputLayer, merging.TensorOp] +
            [getattr(merging, n) for n in merging.__all__ if n[0].isupper()]))
    return _LEAF_TYPES[0]


_c_trainable = _core.Layer.trainable_weights.__get__


def _end_names(struct, tensors):
    if isinstance(struct, dict):
        return list(struct)
    return [t.node.operation.name for t in tensors]


class Model(Trainer, _Layer):
    """Model(inputs, outputs, name=None) — a functional model; or subclass it.

        >>> inputs = pycnn.Input((64,))
        >>> h = pycnn.layers.Dense(32, activation="relu")(inputs)
        >>> outputs = pycnn.layers.Dense(10, activation="softmax")(h)
        >>> model = pycnn.Model(inputs, outputs)

        >>> class MLP(pycnn.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = pycnn.layers.Dense(32, activation="relu")
        ...         self.out = pycnn.layers.Dense(10, activation="softmax")
        ...     def call(self, x, training=None):
        ...         return self.out(self.hidden(x))
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional
            cls = Functional
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if args else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        super().__init__(name=kwargs.pop("name", None), trainable=kwargs.pop("trainable", True),
                         dtype=kwargs.pop("dtype", None))
        if kwargs:
            raise TypeError(f"Model: unexpected keyword argument(s) {sorted(kwargs)}")
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.__dict__["_loss_fns"] = None
        self.__dict__["_metric_ids"] = []
        self.__dict__["_graph"] = None
        self.__dict__["_compiled_outputs"] = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model: give both inputs and outputs, e.g. "
                                 "Model(inputs=x, outputs=y)")
            self._set_graph(inputs, outputs)

    def _set_graph(self, inputs, outputs):
        g = _Graph(inputs, outputs)
        if any(self is op or (isinstance(op, Model) and self in op._flatten_layers())
               for op in g.layers):
            raise ValueError(f"{self.name}: a model cannot contain itself (a cycle)")
        self.__dict__["_graph"] = g
        self.__dict__["_compiled_outputs"] = None      # their layers may have changed
        self.built = True

    # ---- the graph ------------------------------------------------------------------------
    @property
    def inputs(self):
        g = self.__dict__.get("_graph")
        return list(g.inputs) if g is not None else None

    @property
    def outputs(self):
        g = self.__dict__.get("_graph")
        return list(g.outputs) if g is not None else None

    @property
    def input(self):
        g = self.__dict__.get("_graph")
        return g.inputs_struct if g is not None else _Layer.input.fget(self)

    @property
    def output(self):
        g = self.__dict__.get("_graph")
        return g.outputs_struct if g is not None else _Layer.output.fget(self)

    @property
    def input_shape(self):
        """The inputs' shapes (batch first): one tuple, or a list for several."""
        g = self.__dict__.get("_graph")
        if g is None:
            return _core.Layer.input_shape.__get__(self)
        shapes = [t.shape for t in g.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """The outputs' shapes (batch first): one tuple, or a list for several."""
        g = self.__dict__.get("_graph")
        if g is None:
            return _Layer.output_shape.fget(self)
        shapes = [t.shape for t in g.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def _nodes(self):
        """The graph's nodes in execution (topological) order (graph.py); [] when none."""
        g = self.__dict__.get("_graph")
        return list(g.map.nodes) if g is not None else []

    @property
    def operations(self):
        """Every layer of the graph in Keras' order, InputLayers included."""
        g = self.__dict__.get("_graph")
        return g.layers if g is not None else self._layers

    @property
    def layers(self):
        return self.operations

    @property
    def trainable_weights(self):
        """The weights fit updates: none when the model is frozen."""
        g = self.__dict__.get("_graph")
        if g is None or g.leaves is None:
            return _Layer.trainable_weights.fget(self)
        if not self.trainable:
            return []
        return [w for layer in g.leaves for w in _c_trainable(layer)]

    @property
    def losses(self):
        """add_loss / activity losses of the last call and every regularizer's penalty."""
        g = self.__dict__.get("_graph")
        if g is None or g.leaves is None:
            return _Layer.losses.fget(self)
        out, generation = [], None
        for layer in g.leaves:
            d = layer.__dict__
            if d.get("_losses"):
                generation = generation or _core.Layer._call_state()[0]
                out.extend(layer._own_losses(generation))
        for layer in g.leaves:
            d = layer.__dict__
            if d.get("kernel_regularizer") is not None or d.get("bias_regularizer") is not None \
                    or d.get("_regularized"):
                out.extend(layer._regularization_losses())
        return out

    def _parts(self):
        g = self.__dict__.get("_graph")
        if g is not None:
            return g.weighted_layers, []
        return self._tracked()

    @property
    def output_names(self):
        """Names of the outputs: the dict keys, else the layers that make them."""
        g = self.__dict__.get("_graph")
        return None if g is None else list(g.output_names)

    @property
    def input_names(self):
        """Names of the inputs: the dict keys, else their InputLayers' names."""
        g = self.__dict__.get("_graph")
        return None if g is None else list(g.input_names)

    def get_layer(self, name=None, index=None):
        """The layer of that name, or at that index of ``layers``."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model of "
                                 f"{len(layers)} layers")
            return layers[index]
        if isinstance(name, int):
            return self.get_layer(index=name)
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r} (layers: "
                         f"{', '.join(l.name for l in layers)})")

    # ---- the forward pass ------------------------------------------------------------------
    def call(self, inputs, training=None):
        """A functional model runs its graph; a subclass defines its own call."""
        g = self.__dict__.get("_graph")
        if g is None:
            raise NotImplementedError(f"{self.name}: a Model subclass must define "
                                      f"call(self, inputs, training=None)")
        chain = g.runner.chain
        if chain is not None and type(inputs) is _core.Tensor:     # one path, one input
            for layer in chain:
                inputs = layer(inputs, training=training)
            return inputs
        outputs = g.runner(self._flatten_inputs(inputs, "call"), training=training)
        return outputs[0] if g.single_output else graph.pack_like(g.outputs_struct, outputs)

    def _flatten_inputs(self, inputs, who):
        """The inputs as a flat list in model.inputs order (from one array, a list, a
        dict by input name)."""
        g = self.__dict__.get("_graph")
        n = len(g.inputs)
        if n == 1 and isinstance(inputs, (_core.Tensor, _np.ndarray)):
            return [inputs]
        if isinstance(inputs, dict):
            names = self.input_names
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(f"{who}: the model's inputs are {names}; missing "
                                 f"{missing} in the dict given (keys {list(inputs)})")
            return [inputs[k] for k in names]
        if isinstance(inputs, (list, tuple)) and n > 1 or \
                (isinstance(inputs, (list, tuple)) and len(inputs) == 1 and n == 1 and
                 (_core.Tensor is type(inputs[0]) or isinstance(inputs[0], _np.ndarray))):
            if len(inputs) != n:
                raise ValueError(f"{who}: the model has {n} inputs "
                                 f"({', '.join(f'{t.name} {t.shape}' for t in g.inputs)}) "
                                 f"but {len(inputs)} were given")
            return list(inputs)
        if n != 1:
            raise ValueError(f"{who}: the model has {n} inputs; pass a list or a dict of "
                             f"{n} arrays")
        return [inputs]

    def build(self, input_shape=None):
        """A subclassed model builds its layers by running call on zeros of
        ``input_shape`` (batch first; None becomes 1), as Keras builds it symbolically."""
        if self.built or input_shape is None:
            self.built = True
            return
        self.__dict__["_build_input_shape"] = input_shape
        self.built = True
        if _core.Layer._call_state()[1] == 0:       # not inside a call: run one now
            graph.probe_output_shape(self, input_shape)

    def set_weights(self, weights):
        """Sets all weights from a list shaped like get_weights()."""
        weights = list(weights)
        n = len(self.weights)
        if len(weights) != n:
            raise ValueError(f"set_weights: the model {self.name!r} has {n} weight arrays but "
                             f"{len(weights)} were given")
        _Layer.set_weights(self, weights)

    def count_params(self):
        if not self.built:
            raise ValueError(f"{self.name}: the model is not built yet; give the first layer "
                             f"an input_shape or call build()/fit() first")
        return _Layer.count_params(self)

    # ---- description and persistence --------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, show_arithmetic=False,
                expand_nested=False, show_trainable=False, show_flops=False, show_memory=False):
        """Prints the table of layers: Keras 2's for a Sequential (the lecture's), Keras 3's
        with a "Connected to" column for a functional model. ``show_flops`` and
        ``show_memory`` add each layer's multiply-adds and activation memory per example,
        with their arithmetic (pycnn.cost), to either table: any model, traced on one
        example."""
        from ..summary import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_arithmetic=show_arithmetic, expand_nested=expand_nested,
                      show_trainable=show_trainable, show_flops=show_flops,
                      show_memory=show_memory)

    # ---- seeing inside (pycnn.doctor, pycnn.cost) ----------------------------------
    def diagnose(self, x, y, **kwargs):
        """The training doctor's checks on a sample (``pycnn.doctor.diagnose``)."""
        from ..doctor import diagnose
        return diagnose(self, x, y, **kwargs)

    def profile(self, x, **kwargs):
        """Forward and backward time per layer against the GEMM peak (``pycnn.cost``)."""
        from ..cost import profile
        return profile(self, x, **kwargs)

    def _repr_html_(self):
        from ..summary import summary_html
        return summary_html(self)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, {len(self.layers)} layers>"

    def get_config(self):
        """A subclassed model's config: its constructor's arguments (captured when they
        are JSON-safe) — define get_config() otherwise. Functional models write their
        graph (functional.py)."""
        return _Layer.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config (layers, input_layers, output_layers) makes a functional
        model, as Keras' Model.from_config; any other is a subclass's constructor keywords."""
        if "layers" in config and "input_layers" in config and "output_layers" in config:
            from .functional import Functional
            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    def to_json(self, **kwargs):
        """The architecture as a JSON string ({'class_name', 'config', ...})."""
        from .serialization import model_to_json
        return model_to_json(self, **kwargs)

    def save(self, filepath, include_optimizer=True):
        """Writes architecture, compile settings, weights (and optimizer slots) to ONE
        file, atomically: see pycnn.saving.save_model."""
        from ..saving import save_model
        save_model(self, filepath, include_optimizer=include_optimizer)

    def save_weights(self, filepath):
        """Writes the weights only (atomically); load them with load_weights."""
        from ..saving import save_weights
        save_weights(self, filepath)

    def load_weights(self, filepath):
        """Reads weights written by save_weights or save into this (same-shaped) model."""
        from ..saving import load_weights
        load_weights(self, filepath)
