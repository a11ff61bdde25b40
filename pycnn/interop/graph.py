"""Functional models in interop: the graph walk every converter shares.

A functional pycnn model (``pycnn.Model(inputs, outputs)``) converts node by node, in the
execution order of ``model._nodes``:

- ``graph_plan(model, target)`` checks every node before anything is built: each layer is
  planned as the chain converters plan it (plan._plan, on the shape its node receives), the
  merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate) are kept as
  they are, a nested pycnn model becomes a step of its own (Keras) and anything else raises
  ConversionError naming the layer.
- A shared layer (one layer called at several nodes) is one Keras layer called again, one
  torch module run again, one set of ONNX initializers read by every call.
- ``to_keras_graph`` / ``from_keras_graph``: keras.Input + the mapped layers called in node
  order, weights copied, and back from a Keras 3 functional model.
"""
from types import SimpleNamespace as _SimpleNamespace

from .plan import ConversionError, _plan

__all__ = ["MERGE_KINDS", "is_functional", "graph_plan", "weighted_specs", "to_keras_graph",
           "from_keras_graph", "to_onnx_graph"]

MERGE_KINDS = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")


def is_functional(model):
    """Whether `model` is a pycnn functional model (Model(inputs, outputs), not Sequential)."""
    from ..models.functional import Functional
    return isinstance(model, Functional)


class Step:
    """One node to convert: its layer, kind, spec (None for merges and nested models), the
    ids of its input and output tensors, and which call of the layer it is (0 = first)."""

    __slots__ = ("layer", "kind", "spec", "inputs", "outputs", "call")

    def __init__(self, **fields):
        for key, value in fields.items():
            setattr(self, key, value)


def _merge_kind(layer):
    from ..layers import merging
    kind = type(layer).__name__
    return kind if kind in MERGE_KINDS and getattr(merging, kind) is type(layer) else None


def graph_plan(model, target):
    """The Steps of a functional model, every node checked against `target` first."""
    from ..models.model import Model
    steps, calls = [], {}
    for node in model._nodes:
        if node.is_input:
            continue
        layer = node.operation
        where = f"layer '{layer.name}' ({type(layer).__name__}) to {target}"
        args, kwargs = node.arguments
        if kwargs:
            raise ConversionError(f"cannot convert {where}: it is called with keyword "
                                  f"arguments {sorted(kwargs)}")
        kind, spec = _merge_kind(layer), None
        if kind is not None:
            if len(args) != 1 or not isinstance(args[0], (list, tuple)):
                raise ConversionError(f"cannot convert {where}: a merge layer converts when "
                                      "called on one list of tensors")
        elif isinstance(layer, Model) and layer.__dict__.get("_graph") is not None:
            if target != "Keras":
                raise ConversionError(f"cannot convert {where}: a nested model converts to "
                                      "Keras only; build the outer model from the inner one's "
                                      "layers instead")
            kind = "Model"
        else:
            if len(node.input_tensors) != 1 or len(node.output_tensors) != 1:
                raise ConversionError(f"cannot convert {where}: it takes "
                                      f"{len(node.input_tensors)} inputs and gives "
                                      f"{len(node.output_tensors)} outputs")
            one = _SimpleNamespace(layers=[layer], name=getattr(model, "name", None))
            spec = _plan(one, target, node.input_tensors[0].shape[1:])[0]
            kind = spec.kind
        k = calls.get(id(layer), 0)
        calls[id(layer)] = k + 1
        steps.append(Step(layer=layer, kind=kind, spec=spec,
                          inputs=[id(t) for t in node.input_tensors],
                          outputs=[id(t) for t in node.output_tensors], call=k))
    return steps


def weighted_specs(model, target):
    """The plan of each distinct layer (its first call): what load_torch_state walks."""
    if not is_functional(model):
        return _plan(model, target)
    return [s.spec for s in graph_plan(model, target) if s.call == 0 and s.spec is not None]


def _keras_merge(keras, layer, kind):
    extra = {"axis": int(layer.axis)} if kind == "Concatenate" else {}
    return getattr(keras.layers, kind)(name=layer.name, **extra)


def to_keras_graph(keras, model, make_layer, convert_model):
    """A keras.Model with the graph of the pycnn functional `model`.

    make_layer(spec) makes the Keras layer of a planned layer; convert_model(model) converts a
    nested model."""
    from ..models.graph import flatten, pack_like
    steps = graph_plan(model, "Keras")
    tensors = {}
    for t in model.inputs:
        tensors[id(t)] = keras.Input(shape=t.shape[1:], dtype=t.dtype,
                                     name=t.node.operation.name)
    made, weighted = {}, []
    for step in steps:
        klayer = made.get(id(step.layer))
        if klayer is None:
            if step.kind in MERGE_KINDS:
                klayer = _keras_merge(keras, step.layer, step.kind)
            elif step.kind == "Model":
                klayer = convert_model(step.layer)
            else:
                klayer = make_layer(step.spec)
                if step.spec.weights:
                    weighted.append((klayer, step.spec.weights))
            made[id(step.layer)] = klayer
        xs = [tensors[i] for i in step.inputs]
        out = klayer(xs if step.kind in MERGE_KINDS else xs[0])
        for key, value in zip(step.outputs, flatten(out)):
            tensors[key] = value
    kmodel = keras.Model(pack_like(model.input, [tensors[id(t)] for t in model.inputs]),
                         pack_like(model.output, [tensors[id(t)] for t in model.outputs]),
                         name=model.name)
    for klayer, weights in weighted:
        klayer.set_weights(weights)
    return kmodel


def _keras_nodes(kmodel):
    """The Keras functional model's nodes, deepest first (its execution order)."""
    by_depth = kmodel._nodes_by_depth
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


def from_keras_graph(keras, kmodel, layer_pieces, convert_model):
    """A pycnn functional Model with the graph, layers and weights of a Keras functional model.

    layer_pieces(klayer) gives the pycnn (class name, config) pairs of one Keras layer (checked
    for every layer before any pycnn layer is made); convert_model converts a nested model."""
    import pycnn
    from .. import layers as pycnn_layers
    from ..models.graph import flatten, pack_like
    nodes = [n for n in _keras_nodes(kmodel)
             if not isinstance(n.operation, keras.layers.InputLayer)]
    pieces = {}
    for node in nodes:
        op = node.operation
        kind = type(op).__name__
        if id(op) in pieces:
            continue
        if kind in MERGE_KINDS and getattr(keras.layers, kind) is type(op):
            pieces[id(op)] = "merge"
        elif isinstance(op, keras.Model):
            pieces[id(op)] = "model"
        else:
            pieces[id(op)] = layer_pieces(op)
        given = sorted(k for k, v in node.arguments.kwargs.items() if v is not None)
        if given:   # a nested model's node records mask=None
            raise ConversionError(f"cannot convert Keras layer '{op.name}' ({kind}) to pycnn: "
                                  f"it is called with keyword arguments {given}")
    tensors = {}
    for t in kmodel.inputs:
        il = t._keras_history.operation
        tensors[id(t)] = pycnn.Input(shape=tuple(t.shape[1:]), dtype=t.dtype, name=il.name)
    made, weighted = {}, []
    for node in nodes:
        op = node.operation
        xs = [tensors[id(t)] for t in node.input_tensors]
        piece = pieces[id(op)]
        if piece == "merge":
            fn = made.get(id(op))
            if fn is None:
                extra = {"axis": int(op.axis)} if type(op).__name__ == "Concatenate" else {}
                fn = made[id(op)] = getattr(pycnn_layers, type(op).__name__)(name=op.name,
                                                                            **extra)
            out = fn(xs)
        else:
            chain = made.get(id(op))
            if chain is None:
                if piece == "model":
                    chain = [convert_model(op)]
                else:
                    chain = [getattr(pycnn_layers, kind).from_config(dict(config))
                             for kind, config in piece]
                    if op.get_weights():
                        weighted.append((chain[0], op.get_weights()))
                made[id(op)] = chain
            if len(xs) != 1:
                raise ConversionError(f"cannot convert Keras layer '{op.name}' "
                                      f"({type(op).__name__}) to pycnn: it takes {len(xs)} "
                                      "inputs")
            out = xs[0]
            for layer in chain:
                out = layer(out)
        for key, value in zip([id(t) for t in node.output_tensors], flatten(out)):
            tensors[key] = value
    model = pycnn.Model(pack_like(kmodel._inputs_struct, [tensors[id(t)] for t in kmodel.inputs]),
                        pack_like(kmodel._outputs_struct,
                                  [tensors[id(t)] for t in kmodel.outputs]),
                        name=kmodel.name)
    for layer, weights in weighted:
        layer.set_weights(weights)
    return model


# ------------------------------------------------------------------ ONNX
_ONNX_FOLD = {"Add": "Add", "Average": "Add", "Multiply": "Mul", "Maximum": "Max",
              "Minimum": "Min"}


def _onnx_merge(g, step, xs, name):
    """The merge of `xs` ((tensor, layout, rank) triples) into g's running tensor. Inputs all
    NCHW stay NCHW (Concatenate's axis moved with them); otherwise each goes to NHWC."""
    import numpy as _np
    rank = xs[0][2]
    g.rank = rank
    keep_nchw = rank == 4 and all(layout == "NCHW" for _, layout, _ in xs)
    names = []
    for i, (x, layout, r) in enumerate(xs):
        g.x, g.layout, g.rank = x, layout, r
        names.append(x if keep_nchw else g.to("NHWC", f"{name}/in{i}"))
    g.layout = "NCHW" if keep_nchw else "NHWC"
    if step.kind == "Concatenate":
        axis = int(step.layer.axis) % rank
        if keep_nchw:
            axis = [0, 3, 1, 2].index(axis)
        return g.node("Concat", names, name, axis=axis)
    if step.kind == "Subtract":
        return g.node("Sub", names, name)
    op, y = _ONNX_FOLD[step.kind], names[0]
    for i, x in enumerate(names[1:], 1):
        y = g.node(op, [y, x], f"{name}/{i}")
    if step.kind == "Average":
        y = g.node("Mul", [y, g.const(f"{name}/inverse_count",
                                      _np.array(1.0 / len(names), _np.float32))], name)
    return y


def to_onnx_graph(model, opset, input_name, output_name):
    """(nodes, initializers, inputs, outputs) of the ONNX graph of a functional model: the
    nodes in pycnn's execution order, each tensor carrying its own layout (NHWC or NCHW) so
    that consecutive convolutions share transposes; every model output is NHWC again."""
    from .onnx import _OnnxGraph, _onnx_layer
    from onnx import TensorProto, helper, numpy_helper
    steps = graph_plan(model, "ONNX")
    single_in, single_out = len(model.inputs) == 1, len(model.outputs) == 1
    in_names = [input_name] if single_in else list(model.input_names)
    out_names = [output_name] if single_out else _unique(model.output_names)
    g = _OnnxGraph(helper, numpy_helper, None, model.inputs[0].shape[1:])
    seen_consts, const = set(), g.const
    alias = [None]

    def shared_const(name, array):
        """A later call of a shared layer reads the initializers of its first call."""
        if alias[0] is not None and name.startswith(alias[0][0] + "/"):
            name = alias[0][1] + name[len(alias[0][0]):]
        if name in seen_consts:
            return name
        seen_consts.add(name)
        return const(name, array)
    g.const = shared_const
    tensors = {id(t): (n, "NHWC", len(t.shape)) for t, n in zip(model.inputs, in_names)}
    for step in steps:
        name = step.layer.name if step.call == 0 else f"{step.layer.name}/call_{step.call}"
        alias[0] = None if step.call == 0 else (name, step.layer.name)
        xs = [tensors[i] for i in step.inputs]
        if step.kind in MERGE_KINDS:
            _onnx_merge(g, step, xs, name)
        else:
            g.x, g.layout, g.rank = xs[0]
            if step.call:
                spec = step.spec
                step.spec = type(spec)(**{k: getattr(spec, k) for k in spec.__slots__})
                step.spec.name = name
            _onnx_layer(g, step.spec, int(opset))
        tensors[step.outputs[0]] = (g.x, g.layout, g.rank)
    outputs = []
    for t, out in zip(model.outputs, out_names):
        g.x, g.layout, g.rank = tensors[id(t)]
        g.to("NHWC", f"{out}/output")
        g.nodes.append(helper.make_node("Identity", [g.x], [out], name=out))
        outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT,
                                                     ["batch", *_dims(t.shape[1:])]))
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", *_dims(t.shape[1:])])
              for t, n in zip(model.inputs, in_names)]
    return g.nodes, g.initializers, inputs, outputs


def _dims(shape):
    return [d if d is not None else f"d{i}" for i, d in enumerate(shape, 1)]


def _unique(names):
    out = []
    for n in names:
        k, m = 1, n
        while m in out:
            k += 1
            m = f"{n}_{k}"
        out.append(m)
    return out
