"""Keras 3's backend-neutral ops (``keras.ops``) over pycnn tensors.

``import pycnn as keras`` then ``keras.ops.mean(keras.ops.square(x - y))`` runs as in Keras:
same names, arguments and defaults (``axis=None``, ``keepdims=False``, ``axis=-1`` for
softmax ...). Each op is composed from pycnn's C ops, so it is differentiable exactly where
Keras' is and records its nodes in pycnn's graph (``clip`` is ``minimum(maximum(x, lo), hi)``,
``where`` gathers from both branches with an integer index, ``var`` is the mean of the
squared deviation); no op loops over elements in Python.

pycnn tensors hold float32 or float64 only. Results that Keras gives as integer or boolean
tensors (``argmax``, ``equal``, ``cast(x, 'int32')``, ``arange(5)``, ``convert_to_tensor`` of
integer data ...) are NumPy arrays of that dtype here; every pycnn op accepts them. They carry
no gradient, as in Keras. Float inputs that are not Tensors (NumPy arrays, lists, numbers)
become Tensors: float64 arrays stay float64, everything else is float32 (``floatx``).

The ops live in Keras' modules: ``pycnn.ops.numpy`` (creation, shapes, reductions,
arithmetic, comparisons), ``pycnn.ops.nn`` (activations, softmax, normalize, one_hot,
per-sample cross-entropies), ``pycnn.ops.math`` (logsumexp, top_k), ``pycnn.ops.linalg``
(norm) and ``pycnn.ops.core`` (conversion); all of them are reachable here as well.

    >>> import pycnn
    >>> from pycnn import ops
    >>> x = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ops.convert_to_numpy(ops.mean(ops.square(x), axis=-1))
    array([ 2.5, 12.5], dtype=float32)
"""
from . import core, linalg, math, nn, numpy
from .core import *  # noqa: F401,F403  (each module's __all__)
from .linalg import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .numpy import *  # noqa: F401,F403

__all__ = core.__all__ + numpy.__all__ + nn.__all__ + math.__all__ + linalg.__all__
