"""Functional: the model ``pycnn.Model(inputs, outputs)`` makes — its graph (graph.py) and
its config in Keras 3's format:

    {"name": "functional_1", "trainable": true,
     "layers": [{"module": "pycnn.layers", "class_name": "Dense", "config": {...},
                 "registered_name": null, "name": "dense_1",
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                              "config": {"shape": [null, 32],
                                                         "dtype": "float32",
                                                         "keras_history": ["input_layer_1",
                                                                           0, 0]}}],
                                    "kwargs": {}}]}, ...],
     "input_layers": [["input_layer_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}

A node index counts only the layer's calls that belong to this model, as Keras'.
``from_config`` makes every layer, then replays the calls in order (a shared layer's
later call may wait for layers listed after it).
"""
from . import graph
from .model import Model

__all__ = ["Functional"]


class Functional(Model):
    """A model made from ``Model(inputs, outputs)``: see pycnn.models.Model."""

    _pycnn_native = True

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, name=name, trainable=trainable,
                         **kwargs)

    def _node_indices(self):
        """{id(node): its index among the layer's calls that are in this model}."""
        mine = {id(n) for n in self._graph.map.nodes}
        out = {}
        for op in self._graph.layers:
            k = 0
            for node in op.__dict__.get("_inbound_nodes", ()):
                if id(node) in mine:
                    out[id(node)] = k
                    k += 1
        return out

    def get_config(self):
        from .serialization import serialize_layer
        index = self._node_indices()

        def history(t):
            return [t.node.operation.name, index[id(t.node)], t.tensor_index]

        def arg(value):
            if isinstance(value, graph.KerasTensor):
                return {"class_name": "__keras_tensor__",
                        "config": {"shape": list(value.shape), "dtype": value.dtype,
                                   "keras_history": history(value)}}
            if isinstance(value, (list, tuple)):
                return [arg(v) for v in value]
            if isinstance(value, dict):
                return {k: arg(v) for k, v in value.items()}
            return value

        layers = []
        mine = {id(n) for n in self._graph.map.nodes}
        for op in self._graph.layers:
            entry = serialize_layer(op)
            entry["name"] = op.name
            entry["inbound_nodes"] = [
                {"args": arg(list(node.arguments[0])), "kwargs": arg(node.arguments[1])}
                for node in op.__dict__.get("_inbound_nodes", ())
                if id(node) in mine and not node.is_input]
            layers.append(entry)
        g = self._graph

        def ends(struct):
            leaves = [history(t) for t in graph.flatten(struct)]
            return graph.pack_like(struct, leaves) if not isinstance(struct, graph.KerasTensor) \
                else leaves[0]
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": ends(g.inputs_struct), "output_layers": ends(g.outputs_struct)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model with fresh weights, the graph that get_config() described."""
        from .serialization import deserialize_layer
        entries = config.get("layers")
        if not isinstance(entries, list):
            raise ValueError("Functional.from_config: the config has no 'layers' list")
        made, pending = {}, []
        for entry in entries:
            layer = deserialize_layer(entry, custom_objects)
            name = entry.get("name", layer.name)
            made[name] = layer
            for node in entry.get("inbound_nodes") or []:
                pending.append((name, node))
        tensors = {}                     # (layer name, node index, tensor index) -> KT
        for name, layer in made.items():
            if type(layer).__name__ == "InputLayer":
                tensors[(name, 0, 0)] = layer.output
        calls = {name: 0 for name in made}
        while pending:
            progress, waiting, blocked = False, [], set()
            for name, node in pending:
                args = _rebuild(node.get("args", []), tensors)
                kwargs = _rebuild(node.get("kwargs", {}), tensors)
                if args is _MISSING or kwargs is _MISSING or name in blocked:
                    waiting.append((name, node))       # a layer's calls stay in order
                    blocked.add(name)
                    continue
                out = made[name](*args, **kwargs)
                for i, t in enumerate(graph.flatten(out)):
                    tensors[(name, calls[name], i)] = t
                calls[name] += 1
                progress = True
            if not progress:
                raise ValueError(f"Functional.from_config: the calls of layers "
                                 f"{sorted({n for n, _ in waiting})} wait for tensors that no "
                                 f"layer makes (a broken or cyclic config)")
            pending = waiting

        def ends(spec):
            if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
                key = (spec[0], int(spec[1]), int(spec[2]))
                if key not in tensors:
                    raise ValueError(f"Functional.from_config: no tensor {list(key)}")
                return tensors[key]
            if isinstance(spec, dict):
                return {k: ends(v) for k, v in spec.items()}
            return [ends(s) for s in spec]
        return cls(ends(config["input_layers"]), ends(config["output_layers"]),
                   name=config.get("name"), trainable=config.get("trainable", True))


_MISSING = object()


def _rebuild(spec, tensors):
    """A node's args/kwargs with the tensors they name, or _MISSING when one is not made yet."""
    if isinstance(spec, dict) and spec.get("class_name") == "__keras_tensor__":
        h = spec["config"]["keras_history"]
        return tensors.get((h[0], int(h[1]), int(h[2])), _MISSING)
    if isinstance(spec, list):
        out = [_rebuild(s, tensors) for s in spec]
        return _MISSING if any(v is _MISSING for v in out) else out
    if isinstance(spec, dict):
        out = {k: _rebuild(v, tensors) for k, v in spec.items()}
        return _MISSING if any(v is _MISSING for v in out.values()) else out
    return spec
