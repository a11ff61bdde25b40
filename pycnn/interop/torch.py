"""PyTorch: ``to_torch`` builds the modules of ``torch_modules`` from the plan, and
``load_torch_state`` copies trained weights back. torch itself is imported when called."""
import importlib as _importlib
from collections import OrderedDict as _OrderedDict

import numpy as _np

from .graph import MERGE_KINDS, graph_plan, is_functional, weighted_specs
from .plan import (AUGMENTATION_KINDS, KERNEL_KINDS, _PIP, _from_nchw_kernel, _plan, _require,
                   kernel_kind, torch_state_keys)


# The registry pycnn.interop.plan reads: the pycnn layer classes torch_modules._module
# builds (a layer class carrying _torch_module converts too), and why the augmentation
# layers are refused.
KINDS = frozenset((
    "Dense", "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "MaxPooling2D", "AveragePooling2D", "Dropout", "SpatialDropout2D", "Flatten", "Reshape",
    "Activation", "LeakyReLU", "ELU", "Softmax", "UpSampling2D", "BatchNormalization",
    "LayerNormalization", "Normalization", "Rescaling", "GlobalAveragePooling2D",
    "GlobalMaxPooling2D", "ZeroPadding2D", "Cropping2D", "Maxout"))
REFUSED = {kind: f"torch.nn has no {kind} (it would train without the augmentation); convert "
                 "the model without its augmentation layers, e.g. Sequential(model.layers[k:])"
           for kind in AUGMENTATION_KINDS}


def _import_torch():
    _require("torch", "this converter", f"{_PIP} torch==2.13.0")
    return _importlib.import_module("pycnn.interop.torch_modules")


def to_torch(model, input_shape=None):
    """A `torch.nn.Sequential` computing what `model` computes, on the same NHWC input; for a
    functional model a `torch_graph.Graph` (an nn.ModuleDict of the layers whose forward walks
    the nodes; forward(*inputs) in model.inputs order).

    Its children carry the pycnn layer names (`dense_1.weight`, `conv2d_1.bias`, ...), kernels in
    torch's layout. Convolutions and pools permute to NCHW views and back inside, so Flatten keeps
    channels-last order; 'same' padding is explicit and asymmetric like Keras'. Dropout drops only
    in `module.train()` mode. Trained weights go back with `load_torch_state(model, module)`.
    """
    torch_modules = _import_torch()
    if is_functional(model):
        return _to_torch_graph(model, torch_modules)
    plan = _plan(model, "PyTorch", input_shape)
    return torch_modules.Sequential(_OrderedDict((s.name, torch_modules.build(s)) for s in plan),
                                   input_shape=plan[0].in_shape)


def _to_torch_graph(model, torch_modules):
    """A torch_graph.Graph walking the nodes of a functional model; a shared layer is one
    module."""
    torch_graph = _importlib.import_module("pycnn.interop.torch_graph")
    steps = graph_plan(model, "PyTorch")
    modules, walk = _OrderedDict(), []
    for step in steps:
        name = step.layer.name
        if step.call == 0:
            if step.kind in MERGE_KINDS:
                modules[name] = torch_graph.Merge(step.kind, getattr(step.layer, "axis", -1))
            else:
                modules[name] = torch_modules.build(step.spec)
        walk.append((name, step.kind in MERGE_KINDS, step.inputs, step.outputs[0]))
    return torch_graph.Graph(modules, walk, [id(t) for t in model.inputs],
                             [id(t) for t in model.outputs], [t.shape for t in model.inputs])


def load_torch_state(model, module):
    """Copy weights from a torch module made by `to_torch` (or its DDP wrapper, or a state_dict)
    back into the pycnn `model`, in place; returns `model`.

    Every tensor is found and shape-checked before the first one is copied, so a mismatch leaves
    the model unchanged.
    """
    _import_torch()
    state = module.state_dict() if hasattr(module, "state_dict") else dict(module)
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}
    updates = []
    for spec in weighted_specs(model, "PyTorch"):
        if spec.kind == "Normalization":    # adapted statistics: buffers torch never trains
            continue
        arrays = []
        for suffix, current in zip(torch_state_keys(spec), spec.weights):
            key = f"{spec.name}.{suffix}"
            if key not in state:
                raise ValueError(f"load_torch_state: no tensor '{key}' for layer '{spec.name}' "
                                 f"({spec.kind}); the module has {sorted(state)}")
            value = state[key]
            value = _np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
            if suffix.endswith("weight") and spec.kind in KERNEL_KINDS:
                value = _from_nchw_kernel(kernel_kind(spec.kind, suffix), value, current.shape)
            if value.shape != current.shape:
                raise ValueError(f"load_torch_state: '{key}' has shape {value.shape} in pycnn's "
                                 f"layout but layer '{spec.name}' expects {current.shape}")
            arrays.append(_np.ascontiguousarray(value, dtype=current.dtype))
        if arrays:
            updates.append((spec.layer, arrays))
    for layer, arrays in updates:
        layer.set_weights(arrays)
    return model
