"""PReLU, the parametric ReLU (He et al. 2015): y = x where x > 0, else α·x, α learned.

    >>> layer = PReLU(shared_axes=[1, 2])          # one slope per channel of (N, H, W, C)
    >>> y = layer(np.full((2, 4, 4, 3), -1.0, np.float32))
    >>> layer.alpha.shape                          # alpha_initializer='zeros': y = 0 here
    (1, 1, 3)

Keras' layer (names, defaults, weight shape, config); one C node, ``pycnn.prelu(x, α)``
(ops.def), whose backward gives both x and α their gradients (α's summed over the shared
axes by the broadcasting backward). The gradient at x = 0 is α, as PyTorch's and ONNX's
PRelu; Keras composes relu(x) − α·relu(−x), whose gradient there is 0.

This file is the whole layer on the Python side: it also says how the layer converts
(pycnn.interop.plan.layer_hook finds the methods below), what it costs and its
receptive-field rule (pycnn/layers/core.py lists these class attributes), and
pycnn.layers exports what ``__all__`` names.
"""
import numpy as _np

from .. import _core
from .. import initializers as _initializers
from ..cost import per_value as _per_value
from .base import Layer, get_regularizer as _get_regularizer, \
    serialize_regularizer as _serialize_regularizer

__all__ = ["PReLU"]


class PReLU(Layer):
    """PReLU(alpha_initializer='zeros', alpha_regularizer=None, alpha_constraint=None,
    shared_axes=None, **kwargs)

    y = x where x > 0, else α ⊙ x. α has the input's shape without the batch axis, with 1
    along each of ``shared_axes`` (counted with the batch axis: [1, 2] shares one slope per
    channel over height and width, as a convolution's channels).

    Args:
        alpha_initializer: α's initializer (a name, config or callable); zeros by default.
        alpha_regularizer: a regularizer of α, whose penalty enters ``losses``.
        alpha_constraint: not supported (None only).
        shared_axes: an int or a list of ints >= 1.
    Input/Output shape: any shape with a batch axis; the output has the input's.
    """

    _pycnn_native = True                # get_config below says the arguments
    _macs = _per_value("α·x where x < 0")
    _field_rule = "pointwise"
    _needs_build = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise ValueError(f"{self.name}: PReLU(alpha_constraint=...) is not supported")
        self.alpha_initializer = _initializers.get(alpha_initializer)
        self.alpha_regularizer = _get_regularizer(alpha_regularizer, "PReLU")
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        if shared_axes is not None:
            if not all(isinstance(a, (int, _np.integer)) and not isinstance(a, bool) and a >= 1
                       for a in shared_axes):
                raise ValueError(f"{self.name}: PReLU: shared_axes must be ints >= 1 (axis 0 "
                                 f"is the batch), got shared_axes={shared_axes!r}")
            shared_axes = [int(a) for a in shared_axes]
        self.shared_axes = shared_axes

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f"{self.name}: PReLU: shared axis {axis} is not an axis of "
                                 f"inputs of shape {tuple(input_shape)}")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"{self.name}: PReLU needs every unshared axis of its input "
                             f"known, got input shape {tuple(input_shape)}")
        self.alpha = self.add_weight(shape=shape, initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, name="alpha")

    def call(self, x):
        return _core.prelu(x, self.alpha)

    def get_config(self):
        config = super().get_config()
        config.update(alpha_initializer=_initializers.serialize(self.alpha_initializer),
                      alpha_regularizer=_serialize_regularizer(self.alpha_regularizer),
                      alpha_constraint=None, shared_axes=self.shared_axes)
        return config

    # ---- conversions: Keras' PReLU, a torch module, ONNX's PRelu ---------------------------
    @staticmethod
    def _keras_config(config):
        """Keras' arguments: the same names and meanings."""
        return {k: config.get(k) for k in ("alpha_initializer", "alpha_regularizer",
                                           "alpha_constraint", "shared_axes")}

    @staticmethod
    def _from_keras_config(config, where):
        if config.get("alpha_constraint") is not None:
            from ..interop import ConversionError
            raise ConversionError(f"cannot convert {where}: pycnn has no alpha_constraint")
        shared = config.get("shared_axes")
        return {"alpha_initializer": config.get("alpha_initializer", "zeros"),
                "alpha_regularizer": config.get("alpha_regularizer"),
                "shared_axes": None if shared is None else list(shared)}

    @staticmethod
    def _torch_module(spec):
        """torch.nn.PReLU's formula on channels-last input with α of any broadcast shape
        (torch.nn.PReLU itself takes one slope or one per axis-1 channel only)."""
        import torch

        class PReLU(torch.nn.Module):
            def __init__(self, shape):
                super().__init__()
                self.weight = torch.nn.Parameter(torch.zeros(shape))

            def forward(self, x):
                return torch.where(x > 0, x, self.weight * x)

        return PReLU(spec.weights[0].shape)

    @staticmethod
    def _onnx_nodes(g, spec, weights, opset):
        """ONNX's PRelu(x, slope), the slope broadcast against channels-last x."""
        g.to("NHWC", spec.name)
        g.node("PRelu", [g.x, g.const(f"{spec.name}/alpha", weights[0])], spec.name)
