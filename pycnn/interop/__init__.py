"""Graduation: a pycnn model moves to Keras 3, PyTorch and ONNX — and trained weights come back.

pycnn grows no distributed engine of its own; it hands the model, weights and all, to the
engines that already scale, and takes the trained weights back for inspection in the notebook:

    to_keras(model)                  -> keras.Sequential: same layers, names, configs, weights
    from_keras(keras_model)          -> pycnn Sequential
    to_torch(model)                  -> torch.nn.Sequential taking the same NHWC input
    load_torch_state(model, module)  copies a torch module's (or state_dict's) weights back
    to_onnx(model, path, opset=17)   an ONNX file: named input/output, dynamic batch dimension

Functional models (``pycnn.Model(inputs, outputs)``) convert node by node (graph.py): a
functional keras.Model and back, a torch module whose forward walks the nodes (forward(*inputs)),
an ONNX graph with one input/output per model input/output; several inputs and outputs, the
merge layers and shared layers (one Keras layer / torch module / set of initializers) included;
a nested model converts to Keras only.

Layouts. pycnn keeps Keras' (channels_last; Dense kernel (in, units); Conv2D kernel
(kh, kw, c_in, filters)), so Keras is a plain copy. Torch and ONNX convolve in NCHW with kernels
(filters, c_in, kh, kw): the converted models transpose the kernels once and permute the
activations around each convolution and pooling, so Flatten still sees channels-last order and
the first Dense after it needs no reordering.

'same' padding. Keras (like TensorFlow) pads ⌊p/2⌋ at the top/left and the odd extra row/column
at the bottom/right, p = max((⌈n/s⌉ − 1)·s + k − n, 0). torch's symmetric `padding=` cannot say
that, so torch and ONNX get explicit asymmetric pads; 'same' pooling pads with −∞ (max) or
leaves the padding out of the average, as Keras does.

`import pycnn` never imports keras, torch or onnx: each converter imports its library when called
and, when it is missing, raises ImportError naming the pip command. A layer without a counterpart
in the target (Maxout in Keras, a custom activation, a subclassed layer) raises ConversionError
naming the layer and the target before anything is built or written.
"""
from .keras import from_keras, to_keras
from .onnx import to_onnx
# same_padding and to_nchw_kernel, the layout helpers, are public too
from .plan import ConversionError, same_padding, to_nchw_kernel  # noqa: F401
from .torch import load_torch_state, to_torch

__all__ = ["ConversionError", "to_keras", "from_keras", "to_torch", "load_torch_state", "to_onnx",
           "same_padding", "to_nchw_kernel"]
