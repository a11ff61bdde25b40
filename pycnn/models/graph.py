"""The graph of layers: symbolic tensors, nodes, and the walk that every model runs.

The data structure (Keras 3's, by the same names), read by Functional and Sequential
models, ``summary``, saving, ``plot_model`` and interop:

``KerasTensor``   a symbolic tensor: ``shape`` (batch first, ``None`` where unknown),
                  ``dtype`` ('float32'), ``name``; no data. ``_keras_history`` is
                  ``KerasHistory(operation, node_index, tensor_index)``: the layer that made
                  it, which of that layer's calls (``layer._inbound_nodes[node_index]``),
                  which of that call's outputs. ``t.node`` is that Node itself.
``Node``          one call of one layer on symbolic tensors: ``operation`` (the layer),
                  ``arguments`` = (call_args, call_kwargs) with KerasTensors as leaves,
                  ``input_tensors`` / ``output_tensors`` (flat lists), ``outputs`` (the
                  call's return structure), ``parent_nodes``, ``is_input``; ``input`` /
                  ``output`` as the layer's ``input`` / ``output`` report them. Created by
                  the call; appended to ``layer._inbound_nodes`` and to the producing
                  layers' ``_outbound_nodes``.
``map_graph(inputs, outputs)``  the part of the graph between them, checked (disconnected
                  inputs, cycles, duplicate names -> ValueError naming layers and shapes):
                  ``GraphMap(nodes, nodes_by_depth, operations)``; ``nodes`` is in
                  execution (topological) order, ``operations`` are the distinct layers in
                  Keras' order (deepest first, then by traversal), InputLayers included.
``GraphRunner``   the walk: feeds real Tensors through ``nodes`` in order; a Functional
                  model and a Sequential (a graph with one path) both run it.

Calling a layer on KerasTensors goes through the C ``__call__`` to ``symbolic_call``
here (registered once at import): it builds the layer exactly once for the symbolic
shapes, infers the output (the layer's own ``compute_output_shape`` when it defines one,
otherwise the layer's computation run on a tiny zero probe: batch 1, unknown sizes
replaced by small ones, twice when some are unknown), and records a Node.
"""
import collections as _collections

import numpy as _np

from .. import _core
from ..autograd import no_grad as _no_grad

__all__ = ["KerasTensor", "KerasHistory", "Node", "Input", "is_keras_tensor", "map_graph",
           "GraphMap", "GraphRunner", "symbolic_call", "probe_output_shape", "flatten",
           "pack_like"]

KerasHistory = _collections.namedtuple("KerasHistory", ["operation", "node_index",
                                                       "tensor_index"])

_tensor_count = [0]


def _tensor_name():
    _tensor_count[0] += 1
    return f"keras_tensor_{_tensor_count[0]}"


class KerasTensor:
    """A symbolic tensor: a shape (batch first, None where unknown) and a dtype, no data.
    ``pycnn.Input(shape)`` makes one; calling a layer on it records the graph."""

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = str(_np.dtype(dtype))
        self.name = name if name is not None else _tensor_name()
        self.node = None            # the Node whose output this is
        self.tensor_index = 0

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def _keras_history(self):
        op = self.node.operation if self.node is not None else None
        index = op._inbound_nodes.index(self.node) if op is not None else None
        return KerasHistory(op, index, self.tensor_index)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __len__(self):
        if not self.shape or self.shape[0] is None:
            raise TypeError(f"{self.name}: a symbolic tensor of shape {self.shape} has no "
                            f"known length")
        return self.shape[0]

    def __bool__(self):
        raise TypeError(f"{self.name}: a symbolic tensor has no truth value (it holds no "
                        f"data); use it in a layer, not in an `if`")

    __hash__ = object.__hash__

    # Arithmetic records an op layer, as Keras 3's KerasTensor does (ops.add, ...)
    def _op(self, op, other, reverse=False):
        from ..layers.merging import TensorOp
        return TensorOp(op)(*((other, self) if reverse else (self, other)))

    def __neg__(self):
        return self._op("multiply", -1.0)


def _arithmetic(dunder, op, reverse):
    def method(self, other):
        return self._op(op, other, reverse)
    method.__name__ = method.__qualname__ = f"__{'r' if reverse else ''}{dunder}__"
    return method


for _dunder, _op_name in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                          ("truediv", "divide"), ("matmul", "matmul")):
    setattr(KerasTensor, f"__{_dunder}__", _arithmetic(_dunder, _op_name, False))
    setattr(KerasTensor, f"__r{_dunder}__", _arithmetic(_dunder, _op_name, True))


def is_keras_tensor(x):
    return isinstance(x, KerasTensor)


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, sparse=None,
          tensor=None):
    """A symbolic input: ``pycnn.Input((28, 28, 1))`` has shape (None, 28, 28, 1).

    Args:
        shape: the shape of one sample (no batch dimension); None for unknown sizes.
        batch_size: a fixed batch size (default None: any).
        dtype: 'float32' (default) or 'float64'.
        name: the name of its InputLayer (default input_layer_1, ...).
        batch_shape: the whole shape, batch first, instead of shape and batch_size.
    """
    from ..layers.input_layer import InputLayer
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_shape=batch_shape, sparse=sparse, input_tensor=tensor)
    return layer.output


# ---- nested structures ------------------------------------------------------------------

def flatten(struct):
    """The leaves of nested lists, tuples and dicts (dict values in insertion order)."""
    out, stack = [], [struct]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        else:
            out.append(item)
    return out


def pack_like(struct, leaves):
    """The structure of `struct` with its leaves replaced, in order, by `leaves`."""
    it = iter(leaves)

    def rebuild(item):
        if isinstance(item, (list, tuple)):
            return type(item)(rebuild(v) for v in item)
        if isinstance(item, dict):
            return {k: rebuild(v) for k, v in item.items()}
        return next(it)
    return rebuild(struct)


def _map_keras_tensors(struct, fn):
    leaves = flatten(struct)
    return pack_like(struct, [fn(x) if isinstance(x, KerasTensor) else x for x in leaves])


# ---- nodes --------------------------------------------------------------------------------

class Node:
    """One call of ``operation`` (a layer) on symbolic tensors (see the module docstring)."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.arguments = (tuple(call_args), dict(call_kwargs or {}))
        self.input_tensors = [x for x in flatten(self.arguments) if isinstance(x, KerasTensor)]
        self.outputs = outputs
        self.output_tensors = [x for x in flatten(outputs) if isinstance(x, KerasTensor)]
        for i, t in enumerate(self.output_tensors):
            t.node, t.tensor_index = self, i
        operation.__dict__.setdefault("_inbound_nodes", []).append(self)
        for t in self.input_tensors:
            if t.node is not None:
                t.node.operation.__dict__.setdefault("_outbound_nodes", []).append(self)

    @property
    def is_input(self):
        return not self.input_tensors

    @property
    def parent_nodes(self):
        return [t.node for t in self.input_tensors if t.node is not None]

    @property
    def input(self):
        """The first call argument (a KerasTensor, or the list/dict given)."""
        args = self.arguments[0]
        return args[0] if args else None

    @property
    def output(self):
        return self.outputs

    @property
    def input_shapes(self):
        return [t.shape for t in self.input_tensors]

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.output_tensors]
        return shapes[0] if len(shapes) == 1 else shapes

    def __repr__(self):
        return (f"<Node {self.operation.name}: {[t.name for t in self.input_tensors]} -> "
                f"{[t.name for t in self.output_tensors]}>")


# ---- calling a layer on symbolic tensors ------------------------------------------------------

def _shapes_of(struct):
    """The structure with each KerasTensor replaced by its shape (what build receives)."""
    return _map_keras_tensors(struct, lambda t: t.shape)


def _describe_inputs(layer, tensors):
    parts = []
    for t in tensors:
        src = t.node.operation.name if t.node is not None else "?"
        parts.append(f"{src} {t.shape}")
    return f"layer {layer.name!r} ({type(layer).__name__}) called on " + ", ".join(parts)


def symbolic_call(call):
    """layer(*args, **kwargs) with KerasTensors among the inputs, call = (layer, args,
    kwargs): builds the layer once, infers its outputs and records the Node. The C
    __call__ comes here (the hook pycnn/__init__.py registers)."""
    layer, args, kwargs = call
    kwargs = dict(kwargs or {})
    if kwargs.get("training", 0) is None:
        del kwargs["training"]
    if not args:
        args = (kwargs.pop("inputs"),)
    tensors = [x for x in flatten((args, kwargs)) if isinstance(x, KerasTensor)]
    try:
        if not layer.built:
            layer._adopt_dtype(next((t.dtype for t in tensors
                                     if t.dtype in ("float32", "float64")), None))
            shapes = _shapes_of(args[0])
            layer.build(shapes)
            layer.built = True
            if any(isinstance(x, KerasTensor) for x in flatten(args[0])):
                layer.__dict__["_build_input_shape"] = shapes
        outputs = _infer_outputs(layer, args, kwargs)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{_describe_inputs(layer, tensors)}: {e}") from None
    Node(layer, args, kwargs, outputs)
    return outputs


def _own_compute_output_shape(layer):
    """Whether the layer's class defines compute_output_shape itself (C layers do)."""
    from ..layers.base import Layer
    from .model import Model
    if isinstance(layer, Model):
        return False
    method = getattr(type(layer), "compute_output_shape", None)
    return method is not None and method is not Layer.compute_output_shape and \
        method is not _core.Layer.compute_output_shape


def _infer_outputs(layer, args, kwargs):
    if _own_compute_output_shape(layer) and len(args) == 1 and not kwargs:
        shape = layer.compute_output_shape(_shapes_of(args[0]))
        return _shapes_to_tensors(shape, layer.dtype)
    return _probe_outputs(layer, args, kwargs)


def _is_shape(x):
    return isinstance(x, (tuple, list)) and all(d is None or isinstance(d, (int, _np.integer))
                                                for d in x)


def _shapes_to_tensors(shape, dtype):
    if _is_shape(shape):
        return KerasTensor(shape, dtype)
    if isinstance(shape, dict):
        return {k: _shapes_to_tensors(v, dtype) for k, v in shape.items()}
    return [_shapes_to_tensors(s, dtype) for s in shape]


_PROBE_SIZES = (32, 48)     # unknown non-batch sizes: multiples of 16 (pools, strides)


def _probe_value(t, batch, size):
    shape = tuple(batch if (d is None and i == 0) else size if d is None else d
                  for i, d in enumerate(t.shape))
    dtype = t.dtype if t.dtype in ("float32", "float64") else "float32"
    return _core.tensor(_np.zeros(shape, dtype))


def _run_probe(layer, args, kwargs, batch, size):
    probe_args = _map_keras_tensors(args, lambda t: _probe_value(t, batch, size))
    probe_kwargs = _map_keras_tensors(kwargs, lambda t: _probe_value(t, batch, size))
    probe_kwargs.setdefault("training", False)
    token = _core.Layer._enter_call(False)      # its add_loss calls stay out of .losses
    try:
        with _no_grad():
            return layer(*probe_args, **probe_kwargs)
    finally:
        _core.Layer._exit_call(token)
        _core.Layer._exit_call(_core.Layer._enter_call(None))   # a fresh generation


def _probe_outputs(layer, args, kwargs):
    """The outputs as KerasTensors, from running the layer on zeros of the input shapes."""
    tensors = [x for x in flatten((args, kwargs)) if isinstance(x, KerasTensor)]
    batch_unknown = all(t.ndim and t.shape[0] is None for t in tensors)
    other_unknown = any(d is None for t in tensors for d in t.shape[1:])
    first = _run_probe(layer, args, kwargs, 1, _PROBE_SIZES[0])
    second = _run_probe(layer, args, kwargs, 2, _PROBE_SIZES[1]) if other_unknown else None
    leaves = flatten(first)
    others = flatten(second) if second is not None else [None] * len(leaves)
    out = []
    for y, y2 in zip(leaves, others):
        if not isinstance(y, _core.Tensor):
            raise TypeError(f"call() returned {type(y).__name__}, expected Tensors")
        shape = list(y.shape)
        if y2 is not None:
            shape = [a if a == b else None for a, b in zip(shape, y2.shape)]
        elif batch_unknown and shape and shape[0] == 1:
            shape[0] = None
        out.append(KerasTensor(shape, y.dtype))
    return pack_like(first, out)


def probe_output_shape(layer, input_shape):
    """compute_output_shape for layers that define none: the probe on symbolic inputs
    of `input_shape` (a shape, or a list of shapes)."""
    struct = (KerasTensor(input_shape) if _is_shape(input_shape)
              else _shapes_to_tensors(input_shape, "float32"))
    if not layer.built:
        layer.build(input_shape)
        layer.built = True
    out = _probe_outputs(layer, (struct,), {})
    return _map_keras_tensors(out, lambda t: t.shape)


# ---- the part of the graph between inputs and outputs -----------------------------------------

GraphMap = _collections.namedtuple("GraphMap", ["nodes", "nodes_by_depth", "operations"])


def _build_map(inputs, outputs):
    """Nodes from the outputs back to the inputs, each after the nodes it depends on
    (Keras' _build_map, iterative); a node met again while in progress is a cycle."""
    input_ids = {id(t) for t in inputs}
    finished, in_progress, order, op_index = set(), set(), [], {}
    for output in outputs:
        stack = [(output, None)]
        while stack:
            tensor, node = stack.pop()
            if node is not None:                    # all parents done: finish the node
                in_progress.discard(id(node))
                finished.add(id(node))
                order.append(node)
                continue
            node = tensor.node
            if node is None or id(node) in finished:
                continue
            if id(node) in in_progress:
                raise ValueError(f"Tensor {tensor.name} {tensor.shape} from layer "
                                 f"{node.operation.name!r} is part of a cycle")
            op_index.setdefault(id(node.operation), len(op_index))
            in_progress.add(id(node))
            stack.append((tensor, node))
            if not node.is_input and id(tensor) not in input_ids:
                stack.extend((t, None) for t in reversed(node.input_tensors))
    return order, op_index


def map_graph(inputs, outputs):
    """GraphMap of the graph from `inputs` to `outputs` (flat lists of KerasTensors)."""
    nodes, op_index = _build_map(inputs, outputs)
    node_depth, op_depth = {}, {}
    for node in reversed(nodes):
        depth = max(node_depth.setdefault(id(node), 0), op_depth.get(id(node.operation), 0))
        op_depth[id(node.operation)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        op = t.node.operation
        if id(op) not in op_depth:
            op_depth[id(op)] = 0
            op_index.setdefault(id(op), len(op_index))
            node_depth[id(t.node)] = 0
            nodes.append(t.node)
    by_depth = _collections.defaultdict(list)
    for node in nodes:
        by_depth[node_depth[id(node)]].append(node)
    ops_by_depth = _collections.defaultdict(list)
    ops = {}
    for node in nodes:
        ops[id(node.operation)] = node.operation
    for key, depth in op_depth.items():
        ops_by_depth[depth].append(ops[key])
    depths = sorted(by_depth, reverse=True)
    operations = []
    for depth in sorted(ops_by_depth, reverse=True):
        operations.extend(sorted(ops_by_depth[depth], key=lambda op: op_index[id(op)]))
    ordered = [node for depth in depths for node in by_depth[depth]]
    _check_connected(inputs, ordered)
    _check_names(operations)
    return GraphMap(ordered, {d: by_depth[d] for d in depths}, operations)


def _check_connected(inputs, nodes):
    computable = {id(t) for t in inputs}
    done = []
    for node in nodes:
        for t in node.input_tensors:
            if id(t) not in computable:
                raise ValueError(
                    f"Graph disconnected: cannot obtain the value of tensor {t.name} "
                    f"{t.shape} (made by layer {t.node.operation.name!r}) needed by layer "
                    f"{node.operation.name!r}; it does not depend on the model's inputs "
                    f"({', '.join(f'{i.name} {i.shape}' for i in inputs)}). Layers reached "
                    f"without issue: {[n.operation.name for n in done]}")
        if node.is_input and not any(id(t) in computable for t in node.output_tensors):
            continue
        computable.update(id(t) for t in node.output_tensors)
        done.append(node)


def _check_names(operations):
    seen = {}
    for op in operations:
        if op.name in seen and seen[op.name] is not op:
            raise ValueError(f"The name {op.name!r} is used by two layers of the model "
                             f"({type(seen[op.name]).__name__} and {type(op).__name__}); all "
                             f"layer names must be unique in a model")
        seen[op.name] = op


# ---- running the graph on real tensors ---------------------------------------------------

class _Step:
    """One node to run: its layer, where its inputs come from and its outputs go."""
    __slots__ = ("layer", "arguments", "in_ids", "out_ids", "simple", "training")

    def __init__(self, node):
        self.layer = node.operation
        self.arguments = node.arguments
        self.in_ids = [id(t) for t in node.input_tensors]
        self.out_ids = [id(t) for t in node.output_tensors]
        args, kwargs = node.arguments
        self.training = kwargs.get("training")
        self.simple = (len(args) == 1 and isinstance(args[0], KerasTensor)
                       and not kwargs and len(self.out_ids) == 1
                       and isinstance(node.outputs, KerasTensor))


class GraphRunner:
    """Feeds Tensors through the nodes between `inputs` and `outputs`, in order."""

    def __init__(self, inputs, outputs, nodes):
        self.input_ids = [id(t) for t in inputs]
        self.output_ids = [id(t) for t in outputs]
        self.steps = [_Step(node) for node in nodes if not node.is_input]
        self.chain = self._chain()

    def _chain(self):
        """The layers in order when the graph is one path (a Sequential's), else None."""
        if len(self.input_ids) != 1 or len(self.output_ids) != 1:
            return None
        current = self.input_ids[0]
        for step in self.steps:
            if not step.simple or step.training is not None or step.in_ids[0] != current:
                return None
            current = step.out_ids[0]
        return [step.layer for step in self.steps] if current == self.output_ids[0] else None

    def __call__(self, inputs, training=None):
        if self.chain is not None:              # one path: a loop over the layers
            x = inputs[0]
            for layer in self.chain:
                x = layer(x, training=training)
            return [x]
        values = dict(zip(self.input_ids, inputs))
        for step in self.steps:
            flag = training if step.training is None else step.training
            if step.simple:
                values[step.out_ids[0]] = step.layer(values[step.in_ids[0]], training=flag)
                continue
            args, kwargs = _map_keras_tensors(step.arguments, lambda t: values[id(t)])
            kwargs = dict(kwargs, training=flag)
            out = step.layer(*args, **kwargs)
            for key, value in zip(step.out_ids, flatten(out)):
                values[key] = value
        return [values[key] for key in self.output_ids]
