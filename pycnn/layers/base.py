"""The Layer protocol, written once for C layer types and Python subclasses alike.

``pycnn._core.Layer`` (csrc/py/layer*.c) holds what every call needs fast: the name, the
weight lists, ``built``, and ``__call__`` (convert, build once, resolve ``training``, run
``call``). This class, the base of every public layer (the C types are wrapped as
``class Dense(_core.Dense, Layer)``), adds what Keras users expect around it:

- ``build`` of a subclass sets ``built = True`` when it returns (Keras' build wrapper),
  so a layer built by hand is never built twice;
- ``add_weight(shape, initializer, dtype, trainable, regularizer, name)`` with Keras'
  names; weights and layers assigned as attributes (also inside lists, tuples and
  dicts) are tracked: ``weights``, ``trainable_weights``, ``non_trainable_weights``,
  ``count_params``, ``get_weights``/``set_weights`` include those of sublayers;
  ``trainable = False`` freezes the layer and all its sublayers;
- ``add_loss`` and ``losses`` (the losses of the last outermost call, with every
  weight regularizer's penalty); ``activity_regularizer``;
- ``get_config`` (the constructor's arguments, captured automatically for Python
  subclasses when they are JSON-safe) and ``from_config``;
- ``compute_output_shape`` inferred by running the layer on a tiny zero probe, so a
  layer made of pycnn ops never has to write one;
- the graph: ``input``, ``output``, ``input_shape``/``output_shape`` once the layer has
  been called on symbolic tensors (``pycnn.Input``); see pycnn/models/graph.py.
"""
import functools as _functools
import inspect as _inspect
import json as _json

import numpy as _np

from .. import _core

__all__ = ["Layer"]

# attributes of the protocol itself: never scanned for sublayers or weights
_UNTRACKED = frozenset({
    "_inbound_nodes", "_outbound_nodes",                    # the graph (models/graph.py)
    "_losses", "_losses_gen", "_regularized", "activity_regularizer", "_auto_config",
    "_build_input_shape",                                   # this module
    "_graph", "_seq", "_input_layer", "_loss_fns", "_metric_ids", "_compiled_outputs",
    "optimizer", "history", "loss", "loss_weights"})        # models


_c_weights = _core.Layer.weights.__get__
_TRACKABLE = (_core.Layer, _core.Tensor, list, tuple, dict)


def _call_accepts_training(call):
    """Whether a Python ``call`` method takes ``training=`` (Keras inspects it the same way)."""
    try:
        params = _inspect.signature(call).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)


def _activity_loss(call):
    """The C __call__'s hook, call = (layer, outputs): activity_regularizer(output) for
    each output, as a loss."""
    layer, outputs = call
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    for y in outputs:
        if isinstance(y, _core.Tensor):
            layer.add_loss(layer.activity_regularizer(y))


def _is_json_safe(value):
    try:
        _json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def get_regularizer(identifier, who):
    """None, a callable(weight) -> scalar Tensor (a pycnn.regularizers object or any
    function), or a Keras name/config resolved by pycnn.regularizers.get."""
    if identifier is None or (callable(identifier) and not isinstance(identifier, (str, dict))):
        return identifier
    try:
        from .. import regularizers
    except ImportError:
        regularizers = None
    if regularizers is None or not hasattr(regularizers, "get"):
        raise ValueError(f"{who}: regularizer {identifier!r} is not a callable(weight) and "
                         f"pycnn.regularizers is not available to resolve it")
    return regularizers.get(identifier)


def serialize_regularizer(reg):
    """JSON-safe form of a regularizer (Keras' {'class_name', 'config'}), or None."""
    if reg is None:
        return None
    if hasattr(reg, "get_config"):
        return {"class_name": type(reg).__name__, "config": reg.get_config()}
    name = getattr(reg, "__name__", None)
    if name is None or name == "<lambda>":
        raise ValueError(f"cannot serialize the regularizer {reg!r}: give it get_config() "
                         f"or use a pycnn.regularizers object")
    return name


def _wrap_build(build):
    @_functools.wraps(build)
    def build_wrapper(self, *args, **kwargs):
        if _core.Layer.built.__get__(self):       # built already: weights exist, as in C
            return None
        result = build(self, *args, **kwargs)
        _core.Layer.built.__set__(self, True)
        return result
    build_wrapper._pycnn_build_wrapper = True
    return build_wrapper


def _wrap_init(init):
    """Records the constructor's arguments (Keras' auto config) on the outermost call."""
    signature = _inspect.signature(init)

    @_functools.wraps(init)
    def init_wrapper(self, *args, **kwargs):
        if "_auto_config" not in self.__dict__:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                bound = None
            if bound is not None:
                config = {}
                for name, value in list(bound.arguments.items())[1:]:
                    kind = signature.parameters[name].kind
                    if kind is _inspect.Parameter.VAR_KEYWORD:
                        config.update(value)
                    elif kind is not _inspect.Parameter.VAR_POSITIONAL:
                        config[name] = value
                self.__dict__["_auto_config"] = config
        init(self, *args, **kwargs)
    init_wrapper._pycnn_init_wrapper = True
    return init_wrapper


class Layer(_core.Layer):
    """Layer(*, trainable=True, name=None, dtype=None, input_shape=None,
    activity_regularizer=None)

    Base of every layer, as in Keras 3: ``layer(x, training=None)`` builds the weights
    on the first call (``build(input_shape)`` exactly once, then ``built = True``) and
    returns ``call(x)``. Subclass it and define ``build`` (creating weights with
    ``add_weight``) and ``call``; ``compute_output_shape`` is inferred.

        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.alpha = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, x):
        ...         return x * self.alpha
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_pycnn_build_wrapper", False):
            cls.build = _wrap_build(build)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_pycnn_init_wrapper", False) \
                and not getattr(cls, "_pycnn_native", False):
            cls.__init__ = _wrap_init(init)

    def __init__(self, *, trainable=True, name=None, dtype=None, input_shape=None,
                 activity_regularizer=None, **kwargs):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        kwargs.pop("autocast", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{', '.join(sorted(kwargs))}")
        if input_shape is None and batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        _core.Layer.__init__(self, input_shape=input_shape, name=name, trainable=trainable,
                             dtype=dtype)
        self.activity_regularizer = get_regularizer(activity_regularizer,
                                                    type(self).__name__)

    # ---- tracking ------------------------------------------------------------------------
    def _tracked(self):
        """(sublayers, attribute weights) assigned as attributes, in assignment order."""
        stack = [v for k, v in self.__dict__.items()
                 if isinstance(v, _TRACKABLE) and k not in _UNTRACKED]
        if not stack:
            return [], []
        stack.reverse()
        layers, tensors, seen = [], [], set()
        while stack:
            value = stack.pop()
            if id(value) in seen:
                continue
            if isinstance(value, _core.Layer):
                seen.add(id(value))
                if value is not self:
                    layers.append(value)
            elif isinstance(value, _core.Tensor):
                seen.add(id(value))
                if value.requires_grad or getattr(value, "name", None):
                    tensors.append(value)
            elif isinstance(value, (list, tuple)):
                seen.add(id(value))
                stack.extend(reversed(value))
            elif isinstance(value, dict):
                seen.add(id(value))
                stack.extend(reversed(list(value.values())))
        return layers, tensors

    def _parts(self):
        """(direct sublayers, attribute weights); models read their graph instead."""
        return self._tracked()

    @property
    def _layers(self):
        """The direct sublayers (Keras' layer._layers)."""
        return self._parts()[0]

    def _flatten_layers(self, include_self=True):
        """This layer and every sublayer, depth first, each once."""
        out, seen, stack = [], set(), [self] if include_self else list(reversed(self._layers))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            if isinstance(layer, Layer):
                stack.extend(reversed(layer._layers))
        return out

    # ---- weights -------------------------------------------------------------------------
    @property
    def weights(self):
        """Every weight: this layer's own (trainable first), then its sublayers'."""
        own = _c_weights(self)
        layers, tensors = self._parts()
        if not layers and not tensors:          # a C layer: its own lists, as they are
            return own
        weights, seen = [], set()
        for w in own + tensors:
            if id(w) not in seen:
                seen.add(id(w))
                weights.append(w)
        for layer in layers:
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    weights.append(w)
        return weights

    @property
    def trainable_weights(self):
        """The weights an optimizer updates ([] when the layer is frozen)."""
        if not self.trainable:
            return []
        return [w for w in self.weights if w.requires_grad]

    @property
    def non_trainable_weights(self):
        """The weights an optimizer leaves alone (all of them when frozen)."""
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.requires_grad]

    @property
    def trainable(self):
        """False freezes the layer and every sublayer: no gradient, counted non-trainable."""
        return _core.Layer.trainable.__get__(self)

    @trainable.setter
    def trainable(self, value):
        _core.Layer.trainable.__set__(self, value)
        for layer in self._layers:
            layer.trainable = value
        for w in self._parts()[1]:
            w.requires_grad = bool(value)

    def count_params(self):
        """The number of weights (own and sublayers')."""
        return sum(int(_np.prod(w.shape)) for w in self.weights)

    def get_weights(self):
        """Copies of every weight as NumPy arrays, in ``weights`` order."""
        return [_np.array(w, copy=True) for w in self.weights]

    def set_weights(self, weights):
        """Loads arrays into every weight (same count and shapes; checked before any write)."""
        layers, tensors = self._parts()
        if not layers and not tensors:
            return _core.Layer.set_weights(self, weights)
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise ValueError(f"{self.name}: set_weights expected {len(mine)} arrays with shapes "
                             f"{[tuple(w.shape) for w in mine]}, got {len(weights)}")
        arrays = []
        for i, (w, value) in enumerate(zip(mine, weights)):
            a = _np.asarray(value, dtype=w.dtype)
            if a.shape != tuple(w.shape):
                raise ValueError(f"{self.name}: set_weights: weight {i} ({w.name}) has shape "
                                 f"{tuple(w.shape)} but the given array has shape {a.shape}")
            arrays.append(a)
        for w, a in zip(mine, arrays):
            _np.copyto(_np.asarray(w), a)

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation=None,
                   name=None):
        """A new weight Tensor '<layer>/<name>' of ``shape`` (default: a scalar), filled by
        ``initializer`` (a Keras name such as 'glorot_uniform', 'zeros', 'he_normal', a
        config dict, or a callable(shape, dtype)); ``regularizer(weight)`` enters
        ``losses``. ``constraint`` is not supported (ValueError)."""
        if constraint is not None:
            raise ValueError(f"{self.name}: add_weight(constraint=...) is not supported")
        shape = () if shape is None else tuple(shape)
        if initializer is None:
            initializer = "glorot_uniform" if _np.issubdtype(_np.dtype(dtype or "float32"),
                                                            _np.floating) else "zeros"
        initializer = _resolve_initializer(initializer)
        w = _core.Layer.add_weight(self, shape, initializer, dtype, bool(trainable), name)
        if regularizer is not None:
            reg = get_regularizer(regularizer, self.name)
            self.__dict__.setdefault("_regularized", []).append((w, reg))
        return w

    # ---- losses --------------------------------------------------------------------------
    def add_loss(self, loss):
        """Adds a scalar loss Tensor (or several) computed in ``call``; it enters the
        training loss and ``losses`` until the next outermost call."""
        generation = _core.Layer._call_state()[0]
        if self.__dict__.get("_losses_gen") != generation:
            self.__dict__["_losses"] = []
            self.__dict__["_losses_gen"] = generation
        for item in (loss if isinstance(loss, (list, tuple)) else [loss]):
            if not isinstance(item, _core.Tensor):
                item = _core.tensor(item)
            self.__dict__["_losses"].append(item)

    def _own_losses(self, generation):
        d = self.__dict__
        return d["_losses"] if d.get("_losses") and d.get("_losses_gen") == generation else ()

    def _regularization_losses(self):
        if not self.trainable:
            return []
        return [reg(w) for w, reg in self.__dict__.get("_regularized", ()) if w.requires_grad]

    @property
    def losses(self):
        """The losses of the last call (add_loss, activity regularizers) of this layer and
        its sublayers, then every weight regularizer's penalty (computed now)."""
        layers = self._flatten_layers()
        generation = _core.Layer._call_state()[0]
        losses = [loss for layer in layers for loss in layer._own_losses(generation)]
        return losses + [loss for layer in layers for loss in layer._regularization_losses()]

    # ---- config --------------------------------------------------------------------------
    def get_config(self):
        """The constructor's arguments as a JSON-safe dict (Keras keys)."""
        config = _core.Layer.get_config(self)
        auto = self.__dict__.get("_auto_config")
        if auto:
            extra = {k: v for k, v in auto.items() if k not in config}
            bad = [k for k, v in extra.items() if not _is_json_safe(v)]
            if bad:
                raise NotImplementedError(
                    f"{self.name}: {type(self).__name__}.__init__ got argument(s) "
                    f"{', '.join(bad)} that are not JSON-serializable; define get_config() "
                    f"(and from_config()) to save this layer")
            config.update(extra)
        if getattr(self, "activity_regularizer", None) is not None:
            config["activity_regularizer"] = serialize_regularizer(self.activity_regularizer)
        return config

    # ---- shapes and the graph ----------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """The output shape for inputs of ``input_shape`` (batch first), found by running
        the layer on a tiny zero probe (pycnn/models/graph.py)."""
        from ..models import graph
        return graph.probe_output_shape(self, input_shape)

    def _node_attr(self, attr, what):
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(f"{self.name}: the layer has never been called on symbolic "
                                 f"inputs (pycnn.Input), so it has no {what}")
        return getattr(nodes[0], attr)

    @property
    def input(self):
        """The symbolic input of the layer's first call in a graph (KerasTensor or list)."""
        return self._node_attr("input", "input")

    @property
    def output(self):
        """The symbolic output of the layer's first call in a graph."""
        return self._node_attr("output", "output")

    @property
    def output_shape(self):
        return self._node_attr("output_shape", "output shape")

    @property
    def inbound_nodes(self):
        return list(self.__dict__.get("_inbound_nodes", ()))


def _resolve_initializer(initializer):
    """Names and configs the C floor knows pass as they are; others go through
    pycnn.initializers.get (Keras' names) to a callable(shape, dtype)."""
    if isinstance(initializer, (str, dict)):
        try:
            _core.initialize(initializer, (1,), "float32")
            return initializer
        except ValueError:
            from .. import initializers
            return initializers.get(initializer)
    return initializer
