"""pycnn — the anatomy and arithmetic of convolutional neural networks.

Taught in Jupyter, computed in C: every formula of the lecture is a C kernel with
its backward, reached through a Keras-like Python floor.

    >>> import pycnn
    >>> a = pycnn.tensor([[1, 2], [3, 4]], requires_grad=True)
    >>> (a * a).sum().backward()
"""
from ._core import Tensor, from_dlpack, tensor
from . import _core

# every element-wise op of ops.def (pycnn.add ... pycnn.relu, pycnn.softplus, pycnn.gelu),
# by the name the op registry gives it: a new row needs no import line here
globals().update({op["function"]: getattr(_core, op["function"])
                  for op in _core.op_registry() if op["family"] == "elementwise"})
from .autograd import (GradcheckError, enable_grad, gradcheck, is_grad_enabled, keep_grads,
                       no_grad)

__version__ = "0.1.0"

# reductions, structure and matrix products
from ._core import concat, flatten, matmul, max, mean, reshape, stack, sum, transpose

concatenate = concat        # the Keras / NumPy spelling
# activations and losses
from ._core import elu, leaky_relu, log_softmax, maxout, naive_normalize, softmax, swish
from . import activations, losses
# layers and their functional forms (set_seed and clear_session are wrapped at the end)
from ._core import avg_pool2d, clear_session, conv2d, conv2d_transpose, depthwise_conv2d, dropout, max_pool2d, set_seed
from . import layers
# teaching tools: LaTeX display, formulas with their numbers, graph drawing
from . import display, viz
from .explain import explain  # noqa: E402  (pycnn.explain(t) ≡ t.explain())
from .explain.backward import explain_backward
from .explain.backward import explain_grad as _explain_grad
from .viz import draw_graph

from .layers import base as _layer_base  # noqa: E402

# The Python functions the C floor calls back (csrc/py/hooks.c): handed in here, once
# the modules that define them are imported, instead of C importing them.
_core._register_hooks(
    activations_get=activations.get,
    activations_serialize=activations.serialize,
    call_accepts_training=_layer_base._call_accepts_training,
    tensor_latex=display.tensor_latex,
    explain=explain,
    explain_grad=_explain_grad,
)

# models, optimizers, datasets, callbacks, metrics
from . import callbacks, datasets, metrics, models, optimizers, utils
# the graph of layers: symbolic inputs, functional / Sequential / subclassed models
from .models import Input, Model, Sequential
_core._register_hooks(keras_tensor=models.graph.KerasTensor,
                      symbolic_call=models.graph.symbolic_call,
                      activity_loss=_layer_base._activity_loss)
# output sizes and parameter counts with their formulas, Sobel kernels, initializers by name
from . import arithmetic, filters, initializers
# pycnn's own thread pool
from ._core import get_num_threads, set_num_threads
from . import _threadpool

_threadpool.register()      # threadpoolctl, when installed, sees and limits the pool
# the Keras namespace, so `import pycnn as keras` runs Keras 3 code: keras.ops, keras.random,
# keras.regularizers, keras.saving and keras.Sequential
from . import ops, random, regularizers, saving
from .models import Sequential

_core_set_seed, _core_clear_session = set_seed, clear_session


def set_seed(seed):
    """set_seed(n): seed the generator of weight initializers and dropout masks (C) and
    the one fit shuffles with, so a whole training run is reproducible."""
    _core_set_seed(seed)
    models._seed_shuffle(seed)


def clear_session():
    """clear_session(): restart automatic layer and model names (dense_1, sequential_1)."""
    _core_clear_session()
    models._reset_names()
