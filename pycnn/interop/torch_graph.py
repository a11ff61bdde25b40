"""torch.nn modules for functional models in `pycnn.interop.to_torch` (this file imports torch).

``Graph`` is an nn.ModuleDict of the converted layers, keyed by the pycnn layer names (so its
state_dict reads ``dense_1.weight`` as a chain's does), and a forward that walks the nodes in
pycnn's execution order. A shared layer is one module run at each of its nodes. Every module
takes and returns channels-last tensors (torch_modules), so merges need no layout change:
Concatenate joins along the pycnn axis itself.
"""
import torch as _torch
from torch import nn as _nn

__all__ = ["Merge", "Graph"]


class Merge(_nn.Module):
    """A pycnn merge layer: Add, Subtract, Multiply, Average, Maximum, Minimum or Concatenate,
    folded left to right as pycnn computes it."""

    def __init__(self, kind, axis=-1):
        super().__init__()
        self.kind, self.axis = kind, int(axis)

    def forward(self, xs):
        if self.kind == "Concatenate":
            return _torch.cat(list(xs), dim=self.axis)
        if self.kind == "Subtract":
            return xs[0] - xs[1]
        op = {"Add": _torch.add, "Average": _torch.add, "Multiply": _torch.mul,
              "Maximum": _torch.maximum, "Minimum": _torch.minimum}[self.kind]
        y = xs[0]
        for x in xs[1:]:
            y = op(y, x)
        return y * (1.0 / len(xs)) if self.kind == "Average" else y

    def extra_repr(self):
        return self.kind + (f", axis={self.axis}" if self.kind == "Concatenate" else "")


class Graph(_nn.ModuleDict):
    """The converted functional model. forward(*inputs) takes the inputs in model.inputs order
    (channels-last, as pycnn's) and returns one tensor, or a tuple in model.outputs order.

    steps: (module name, whether it merges a list, input keys, output key) in node order;
    input_keys / output_keys name the model's input and output tensors."""

    def __init__(self, modules, steps, input_keys, output_keys, input_shapes):
        super().__init__(modules)
        self.steps = [(name, bool(merge), tuple(ins), out) for name, merge, ins, out in steps]
        self.input_keys, self.output_keys = tuple(input_keys), tuple(output_keys)
        self.input_shapes = [tuple(s) for s in input_shapes]

    def forward(self, *inputs):
        if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
            inputs = tuple(inputs[0])
        if len(inputs) != len(self.input_keys):
            raise ValueError(f"this model takes {len(self.input_keys)} inputs of shapes "
                             f"{self.input_shapes} (batch first), got {len(inputs)}")
        values = dict(zip(self.input_keys, inputs))
        for name, merge, ins, out in self.steps:
            xs = [values[k] for k in ins]
            values[out] = self[name](xs if merge else xs[0])
        outs = tuple(values[k] for k in self.output_keys)
        return outs[0] if len(outs) == 1 else outs
