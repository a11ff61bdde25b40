"""The convolutions Keras 3 has besides Conv2D and Conv2DTranspose, with its names,
arguments, defaults, weight layouts and configs; each call is C ops (csrc/py/conv2d.c):

- ``DepthwiseConv2D``: every input channel convolved with its own ``depth_multiplier``
  filters, output channel ``c·depth_multiplier + m`` (Keras' and TensorFlow's order); the
  ``depthwise_conv2d`` node (kernels/conv_depthwise.h, a direct kernel over the channels);
- ``SeparableConv2D``: that depthwise convolution, then a 1×1 ``conv2d`` over its
  channels, the bias and the activation once at the end (as Keras);
- ``Conv1D``: over (batch, steps, channels), the ``conv2d`` node on one-row images
  (a ``reshape`` view before and after), padding 'valid', 'same' or 'causal', groups.

Constraints are not supported (a ``*_constraint`` other than None is a ValueError).
"""
from .. import _core
from .. import activations as _activations
from ..cost import from_weights as _from_weights
from .base import Layer, get_regularizer, serialize_regularizer

__all__ = ["Conv1D", "DepthwiseConv2D", "SeparableConv2D"]


def _tuple(value, rank, arg, who):
    """Keras' standardize_tuple: an int or `rank` positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: the `{arg}` argument must be a tuple of {rank} integers. "
                         f"Received {arg}={value!r}") from None
    if len(value) != rank or any(v <= 0 for v in value):
        raise ValueError(f"{who}: the `{arg}` argument must be a tuple of {rank} positive "
                         f"integers. Received {arg}={value!r}")
    return value


def _padding(padding, who, allowed):
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(f"{who}: the `padding` argument must be one of "
                         f"{', '.join(repr(a) for a in allowed)}. Received padding={padding!r}")
    return value


def _positive(value, arg, who):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{who}: invalid value for argument `{arg}`. Expected a strictly "
                         f"positive value. Received {arg}={value!r}.")
    return value


def _no_constraints(who, **constraints):
    bad = sorted(k for k, v in constraints.items() if v is not None)
    if bad:
        raise ValueError(f"{who}: {', '.join(bad)} not supported (pycnn has no weight "
                         f"constraints)")


def _check_channels_last(data_format, who):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{who}: only data_format='channels_last' is supported, got "
                         f"{data_format!r}")


def _channels(input_shape, rank, who, name):
    shape = tuple(input_shape)
    if len(shape) != rank + 2:
        raise ValueError(f"{name}: expected an input of rank {rank + 2} "
                         f"(batch, {'steps' if rank == 1 else 'height, width'}, channels), "
                         f"got input shape {shape}")
    if shape[-1] is None:
        raise ValueError(f"{name}: the number of input channels must be known, got input "
                         f"shape {shape}")
    return int(shape[-1])


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, groups=1,
           activation=None):
    """Conv1D's op: x (N, steps, C) Tensor, kernel (k, C/groups, F) Tensor → (N, out, F), as
    the conv2d node over (N, 1, steps, C) with kernel (1, k, C/groups, F) (reshape views,
    whose gradients reshape back)."""
    n, steps, c = x.shape
    y = _core.conv2d(x.reshape((n, 1, steps, c)), kernel.reshape((1,) + tuple(kernel.shape)),
                     bias, (1, strides), padding, (1, dilation_rate), activation, groups)
    return y.reshape((y.shape[0], y.shape[2], y.shape[3]))


class _Conv(Layer):
    """What the three layers share: activation, bias, strides/padding/dilation checks."""

    _pycnn_native = True

    def _common(self, rank, kernel_size, strides, padding, data_format, dilation_rate,
                activation, use_bias, allowed_padding):
        who = type(self).__name__
        self.rank = rank
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size", who)
        self.strides = _tuple(strides, rank, "strides", who)
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate", who)
        self.padding = _padding(padding, who, allowed_padding)
        _check_channels_last(data_format, who)
        self.data_format = "channels_last"
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:      # Keras' rule, words
            raise ValueError(f"{who}: `strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)

    def _weight_args(self, **weights):
        """weights: name -> (initializer, regularizer, constraint) of each weight of the
        class's _weight_names, kept as <name>_initializer, <name>_regularizer."""
        who = type(self).__name__
        _no_constraints(who, **{f"{w}_constraint": c for w, (_, _, c) in weights.items()})
        for w, (initializer, regularizer, _) in weights.items():
            setattr(self, f"{w}_initializer", initializer)
            setattr(self, f"{w}_regularizer", get_regularizer(regularizer, who))

    def _config(self, *keys):
        """The config: the base, the attributes `keys`, the activation and bias, then per
        weight its initializer and regularizer, the activity regularizer, no constraints."""
        config = _core.Layer.get_config(self)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize_regularizer(self.activity_regularizer)
        config.update({k: getattr(self, k) for k in keys})
        config.update(activation=_activations.serialize(self.activation), use_bias=self.use_bias)
        names = self._weight_names
        config.update({f"{w}_initializer": _core._initializer_config(
            getattr(self, f"{w}_initializer")) for w in names})
        config.update({f"{w}_regularizer": serialize_regularizer(
            getattr(self, f"{w}_regularizer")) for w in names})
        config["activity_regularizer"] = serialize_regularizer(self.activity_regularizer)
        config.update({f"{w}_constraint": None for w in names})
        return config

    # ---- what the rest of pycnn asks of a layer (pycnn/layers/core.py says which) --------
    _needs_build = True

    @staticmethod
    def _activation_of(config):
        return config.get("activation"), None

    @staticmethod
    def _keras_config(config):
        """Keras' arguments: the config's own keys (Keras' names), the activation last."""
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()
               if k not in ("name", "trainable", "dtype", "input_shape", "activation")}
        out["activation"] = config.get("activation")
        return out


class DepthwiseConv2D(_Conv):
    """DepthwiseConv2D(kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1,
    data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
    depthwise_initializer='glorot_uniform', bias_initializer='zeros',
    depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None, ...)

    Each input channel c convolved with its own M = depth_multiplier filters:
    y[n, i, j, c·M + m] = b[c·M + m] + Σ_{kh, kw} x[n, i·sh − pt + kh·dh, j·sw − pl + kw·dw, c]
    · kernel[kh, kw, c, m]. Input (batch, H, W, C) → (batch, OH, OW, C·M); kernel
    (kh, kw, C, M) (Keras 3 names it ``kernel``; ``depthwise_kernel`` is the same Tensor),
    (kh·kw + 1)·C·M parameters. One node with the bias and relu/sigmoid/tanh fused.

        >>> DepthwiseConv2D(3, padding='same').build((None, 28, 28, 32))  # 320 params
    """

    _weight_names = ("depthwise", "bias")
    _field_rule = "kernel"

    @_from_weights
    def _macs(self, shapes, ins, outs):
        """OH·OW·C_in·M · (KH·KW): one kh×kw filter per output channel."""
        kh, kw, c_in, mult = shapes[0]
        oh, ow = outs[0][:2]
        return oh * ow * c_in * mult * kh * kw, f"{oh}·{ow}·{c_in * mult} · ({kh}·{kw})"

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = type(self).__name__
        self._common(2, kernel_size, strides, padding, data_format, dilation_rate, activation,
                     use_bias, ("valid", "same"))
        self.depth_multiplier = _positive(depth_multiplier, "depth_multiplier", who)
        self._weight_args(
            depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))

    def build(self, input_shape):
        c = _channels(input_shape, 2, type(self).__name__, self.name)
        self.kernel = self.add_weight(self.kernel_size + (c, self.depth_multiplier),
                                      self.depthwise_initializer, name="kernel",
                                      regularizer=self.depthwise_regularizer)
        self.bias = self.add_weight((c * self.depth_multiplier,), self.bias_initializer,
                                    name="bias", regularizer=self.bias_regularizer) \
            if self.use_bias else None

    @property
    def depthwise_kernel(self):
        """The kernel (kh, kw, C, depth_multiplier) — Keras 2's name for it."""
        return self.__dict__.get("kernel")

    def call(self, inputs):
        return _core.depthwise_conv2d(inputs, self.kernel, self.bias, self.strides,
                                      self.padding, self.dilation_rate, self.activation)

    def get_config(self):
        return self._config("depth_multiplier", "kernel_size", "strides", "padding",
                            "data_format", "dilation_rate")


class SeparableConv2D(_Conv):
    """SeparableConv2D(filters, kernel_size, strides=(1, 1), padding='valid',
    data_format=None, dilation_rate=(1, 1), depth_multiplier=1, activation=None,
    use_bias=True, depthwise_initializer='glorot_uniform',
    pointwise_initializer='glorot_uniform', bias_initializer='zeros',
    depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
    activity_regularizer=None, ...)

    A depthwise convolution (depthwise_kernel (kh, kw, C, M)) without bias, then a 1×1
    convolution of its C·M channels (pointwise_kernel (1, 1, C·M, filters)), the bias
    (filters,) and the activation once at the end, as Keras: kh·kw·C·M + C·M·filters +
    filters parameters. Two nodes: depthwise_conv2d, then conv2d (bias and activation fused).

        >>> SeparableConv2D(64, 3, padding='same').build((None, 14, 14, 32))  # 2400 params
    """

    _weight_names = ("depthwise", "pointwise", "bias")
    _field_rule = "kernel"

    @_from_weights(needs=2)
    def _macs(self, shapes, ins, outs):
        """depthwise OH·OW·C_in·M·(KH·KW) + pointwise OH·OW·filters·C_in·M."""
        (kh, kw, c_in, mult), filters = shapes[0], shapes[1][-1]
        oh, ow = outs[0][:2]
        dw, pw = oh * ow * c_in * mult * kh * kw, oh * ow * filters * c_in * mult
        return dw + pw, (f"{oh}·{ow}·{c_in * mult}·({kh}·{kw}) + "
                         f"{oh}·{ow}·{filters}·{c_in * mult}")

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = type(self).__name__
        self._common(2, kernel_size, strides, padding, data_format, dilation_rate, activation,
                     use_bias, ("valid", "same"))
        self.filters = _positive(filters, "filters", who)
        self.depth_multiplier = _positive(depth_multiplier, "depth_multiplier", who)
        self._weight_args(
            depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            pointwise=(pointwise_initializer, pointwise_regularizer, pointwise_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))

    def build(self, input_shape):
        c = _channels(input_shape, 2, type(self).__name__, self.name)
        m = self.depth_multiplier
        self.depthwise_kernel = self.add_weight(self.kernel_size + (c, m),
                                                self.depthwise_initializer,
                                                name="depthwise_kernel",
                                                regularizer=self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight((1, 1, c * m, self.filters),
                                                self.pointwise_initializer,
                                                name="pointwise_kernel",
                                                regularizer=self.pointwise_regularizer)
        self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer) \
            if self.use_bias else None

    def call(self, inputs):
        z = _core.depthwise_conv2d(inputs, self.depthwise_kernel, None, self.strides,
                                   self.padding, self.dilation_rate)
        return _core.conv2d(z, self.pointwise_kernel, self.bias, activation=self.activation)

    def get_config(self):
        return self._config("depth_multiplier", "filters", "kernel_size", "strides", "padding",
                            "data_format", "dilation_rate")


class Conv1D(_Conv):
    """Conv1D(filters, kernel_size, strides=1, padding='valid', data_format=None,
    dilation_rate=1, groups=1, activation=None, use_bias=True,
    kernel_initializer='glorot_uniform', bias_initializer='zeros', kernel_regularizer=None,
    bias_regularizer=None, activity_regularizer=None, ...)

    y[n, t, f] = b[f] + Σ_{k, c} x[n, t·s − p + k·d, c] · kernel[k, c, f] over (batch, steps,
    C) → (batch, out_steps, filters); kernel (k, C/groups, filters), (k·C/groups + 1)·filters
    parameters. padding 'valid', 'same' (Keras' split) or 'causal' ((k − 1)·d zeros before
    the first step only: y[t] sees x[≤ t]). The conv2d node over one-row images.

        >>> Conv1D(16, 5, padding='causal').build((None, 100, 8))  # 656 params
    """

    _weight_names = ("kernel", "bias")
    @_from_weights
    def _macs(self, shapes, ins, outs):
        """L·filters · (K·C_in/groups)."""
        k, c_in, filters = shapes[0]
        n = outs[0][0]
        return n * filters * k * c_in, f"{n}·{filters} · ({k}·{c_in})"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = type(self).__name__
        self._common(1, kernel_size, strides, padding, data_format, dilation_rate, activation,
                     use_bias, ("valid", "same", "causal"))
        self.filters = _positive(filters, "filters", who)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{who}: the number of groups must be a positive integer. "
                             f"Received: groups={groups!r}.")
        if self.filters % groups != 0:
            raise ValueError(f"{who}: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={groups}, "
                             f"filters={self.filters}.")
        self.groups = groups
        self._weight_args(kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
                          bias=(bias_initializer, bias_regularizer, bias_constraint))

    def build(self, input_shape):
        c = _channels(input_shape, 1, type(self).__name__, self.name)
        if c % self.groups != 0:
            raise ValueError(f"{self.name}: the number of input channels must be evenly "
                             f"divisible by the number of groups. Received "
                             f"groups={self.groups}, but the input has {c} channels (full "
                             f"input shape is {tuple(input_shape)})")
        self.kernel = self.add_weight(self.kernel_size + (c // self.groups, self.filters),
                                      self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer) \
            if self.use_bias else None

    def call(self, inputs):
        if len(inputs.shape) != 3:
            raise ValueError(f"{self.name}: expected an input of rank 3 (batch, steps, "
                             f"channels), got shape {tuple(inputs.shape)}")
        return conv1d(inputs, self.kernel, self.bias, self.strides[0], self.padding,
                      self.dilation_rate[0], self.groups, self.activation)

    def get_config(self):
        return self._config("filters", "kernel_size", "strides", "padding", "data_format",
                            "dilation_rate", "groups")
