"""pycnn — the anatomy and arithmetic of convolutional neural networks.

Taught in Jupyter, computed in C: every formula of the lecture is a C kernel with
its backward, reached through a Keras-like Python floor.

    >>> import pycnn
    >>> a = pycnn.tensor([[1, 2], [3, 4]], requires_grad=True)
    >>> (a * a).sum().backward()
"""
from ._core import (
    Tensor,
    abs,
    add,
    divide,
    exp,
    log,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    relu,
    sigmoid,
    sqrt,
    square,
    subtract,
    tanh,
    tensor,
)
from .autograd import GradcheckError, enable_grad, gradcheck, is_grad_enabled, no_grad

__version__ = "0.1.0"

# ---- core: reductions, structure, matrix products (issue 2) ----
from ._core import concat, flatten, matmul, max, mean, reshape, stack, sum, transpose

concatenate = concat        # the Keras / NumPy spelling
# ---- activations and losses (issue 3) ----
from ._core import elu, leaky_relu, log_softmax, maxout, naive_normalize, softmax, swish
from . import activations, losses
# ---- layers (issue 4) ----
from ._core import avg_pool2d, clear_session, conv2d, dropout, max_pool2d, set_seed
from . import layers
# ---- teaching tools (issue 6) ----
from . import display, viz
from .explain import explain  # noqa: E402  (pycnn.explain(t) ≡ t.explain())
from .viz import draw_graph

# ---- models, optimizers, datasets, callbacks (issue 5) ----
from . import callbacks, datasets, metrics, models, optimizers, utils

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
from . import arithmetic, filters, initializers  # noqa: E402  (issue 4)
# ---- threads: pycnn's own thread pool (issue 7) ----
from ._core import get_num_threads, set_num_threads  # noqa: E402
from . import _threadpool  # noqa: E402

_threadpool.register()      # threadpoolctl, when installed, sees and limits the pool
from . import ops  # noqa: E402  (issue 14: keras.ops over pycnn tensors)
from . import random  # noqa: E402  (issue 14: keras.random, seeded by pycnn.set_seed)
from . import regularizers  # noqa: E402  (issue 14: L1, L2, L1L2 weight penalties)
# ---- the Keras namespace: `import pycnn as keras` (issue 14) ----
from . import saving  # noqa: E402
from .models import Sequential  # noqa: E402
