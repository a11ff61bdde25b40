"""Sequential: a list of layers, run as a graph with one path (the same graph and walk as a
functional model: graph.py).

    >>> from pycnn.models import Sequential
    >>> from pycnn.layers import Dense, Dropout
    >>> model = Sequential()
    >>> model.add(Dense(512, activation='relu', input_shape=(784,)))
    >>> model.add(Dropout(0.2))
    >>> model.add(Dense(10, activation='softmax'))
    >>> model.summary()
    >>> model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])
    >>> history = model.fit(x_train, y_train, batch_size=128, epochs=20, validation_split=0.1)

The input shape comes from ``pycnn.Input(shape)`` as the first entry, from the first
layer's ``input_shape``, from ``build((None, ...))`` or from the first call, fit, evaluate
or predict. Once it is known, every ``add``/``pop`` rebuilds the graph: an InputLayer
(not among ``layers``, as in Keras) followed by each layer called on the previous output.
"""
from .. import _core
from ..layers.base import Layer as _Layer
from ..layers.input_layer import InputLayer as _InputLayer
from . import graph
from .model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers: ``y = layers[-1](...layers[1](layers[0](x)))``.

    Args:
        layers: optional list of layers (the first may be ``pycnn.Input(shape)``).
        name: the model's name (default ``sequential_1``, ``sequential_2``, ...).
    """

    _pycnn_native = True

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.__dict__["_seq"] = []
        self.__dict__["_input_layer"] = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._rebuild()

    # ---- the stack ---------------------------------------------------------------------
    @property
    def layers(self):
        return list(self.__dict__["_seq"])

    def _parts(self):
        return list(self.__dict__["_seq"]), []

    def add(self, layer, rebuild=True):
        """Appends a layer (or sets the input, for ``pycnn.Input(shape)`` / an InputLayer);
        rebuilds the graph when the input shape is known."""
        if isinstance(layer, graph.KerasTensor) and layer.node is not None and \
                isinstance(layer.node.operation, _InputLayer):
            layer = layer.node.operation
        if isinstance(layer, _InputLayer):
            if self.__dict__["_seq"] or self.__dict__["_input_layer"] is not None:
                raise ValueError(f"Sequential.add: an InputLayer can only come first "
                                 f"(model {self.name!r} already has "
                                 f"{'layers' if self._seq else 'an input'})")
            self.__dict__["_input_layer"] = layer
            if rebuild:
                self._rebuild()
            return
        if not isinstance(layer, _Layer):
            raise TypeError(f"Sequential.add: expected a layer (e.g. pycnn.layers.Dense), got "
                            f"{type(layer).__name__}")
        if any(other.name == layer.name for other in self._seq):
            raise ValueError(f"Sequential.add: the model already has a layer named "
                             f"{layer.name!r}; layer names must be unique in a model")
        if not self._seq and self.__dict__["_input_layer"] is None:
            given = getattr(layer, "input_shape", None) if not isinstance(layer, Model) else None
            if isinstance(given, tuple):
                self.__dict__["_input_layer"] = _InputLayer(shape=given, dtype=_given_dtype(layer))
        self._seq.append(layer)
        if rebuild:
            self._rebuild()

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._seq:
            raise IndexError("Sequential.pop: the model has no layers")
        layer = self._seq.pop()
        if rebuild:
            self._rebuild()
        return layer

    @property
    def _seq(self):
        return self.__dict__["_seq"]

    def _rebuild(self):
        """The graph: the InputLayer, then each layer called on the previous output."""
        old = self.__dict__.get("_graph")
        if old is not None:
            _forget(old)
        self.__dict__["_graph"] = None
        self.built = False
        source = self.__dict__["_input_layer"]
        if source is None:
            return
        x = source.output
        for layer in self._seq:
            x = layer(x)
        self._set_graph(source.output, x)

    def build(self, input_shape=None):
        """Builds every layer for input_shape (batch dim included: (None, 784))."""
        if input_shape is None:
            if self.__dict__["_input_layer"] is None:
                raise ValueError("Sequential.build: the input shape is unknown; give the first "
                                 "layer an input_shape, or call build((None, ...))")
        else:
            shape = tuple(None if d is None else int(d) for d in input_shape)
            if shape and _core.Layer._call_state()[1] > 0:
                shape = (None,) + shape[1:]     # built by a first call: any batch size
            current = self.__dict__["_input_layer"]
            if current is None or current.batch_shape != shape:
                self.__dict__["_input_layer"] = _InputLayer(batch_shape=shape)
        self._rebuild()

    # ---- shapes --------------------------------------------------------------------------
    @property
    def input_shape(self):
        source = self.__dict__["_input_layer"]
        return source.batch_shape if source is not None else None

    @property
    def _output_shapes(self):
        g = self.__dict__.get("_graph")
        if g is None:
            return []
        return [node.output_shape for node in g.map.nodes if not node.is_input]

    @property
    def output_shape(self):
        if not self.built or not self._output_shapes:
            raise AttributeError(f"{self.name}: the model is not built yet, so it has no "
                                 f"output shape")
        return self._output_shapes[-1]

    def get_layer(self, name=None, index=None):
        """The layer of that name, or at that index (of ``layers``: no InputLayer)."""
        return Model.get_layer(self, name, index)

    def __repr__(self):
        return f"<Sequential name={self.name!r}, {len(self._seq)} layers>"

    # ---- config ----------------------------------------------------------------------------
    def get_config(self):
        from .serialization import serialize_layer
        config = {"name": self.name, "trainable": self.trainable,
                  "layers": [serialize_layer(layer) for layer in self._seq]}
        if self.input_shape is not None:
            config["build_input_shape"] = list(self.input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model with the layers that get_config() described (fresh weights)."""
        from .serialization import deserialize_layer
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config.get("layers", []):
            model.add(deserialize_layer(entry, custom_objects), rebuild=False)
        shape = config.get("build_input_shape")
        if shape is not None and model.__dict__["_input_layer"] is None:
            model.__dict__["_input_layer"] = _InputLayer(batch_shape=tuple(shape))
        model._rebuild()
        return model


def _given_dtype(layer):
    config = layer.get_config() if hasattr(layer, "get_config") else {}
    return config.get("dtype") if config.get("dtype") in ("float64",) else None


def _forget(old):
    """Drops the nodes of a replaced graph from its layers, so layer.output is the new one."""
    for node in old.map.nodes:
        if node.is_input:
            continue
        nodes = node.operation.__dict__.get("_inbound_nodes", [])
        if node in nodes:
            nodes.remove(node)
        for t in node.input_tensors:
            if t.node is not None:
                outs = t.node.operation.__dict__.get("_outbound_nodes", [])
                if node in outs:
                    outs.remove(node)
