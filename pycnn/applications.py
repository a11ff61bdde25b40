"""The classic CNN architectures, small enough to train on MNIST in seconds.

Each builder returns an untrained model, named and laid out as Keras' ``keras.applications``
lays out its ImageNet-sized namesakes (``input_shape``, ``classes``,
``classifier_activation``; Keras' layer names such as ``conv2_block1_0_conv`` for a
projection shortcut), so the summary reads like the paper's table:

- :func:`LeNet5` — LeCun et al. 1998: two 5×5 convolutions with subsampling, three dense
  layers (61,706 weights on a 28×28 image).
- :func:`VGG` — Simonyan & Zisserman 2014: blocks of 3×3 convolutions, each block ended by a
  2×2 max pool that halves the resolution while the next block doubles the filters.
- :func:`ResNet` — He et al. 2015: basic residual blocks ``relu(F(x) + shortcut(x))`` with
  BatchNormalization, the shortcut the identity where the shapes agree and a strided 1×1
  convolution (a *projection*) exactly where they change; global average pooling.
- :func:`MobileNet` — Howard et al. 2017: depthwise-separable convolutions (a 3×3
  DepthwiseConv2D per channel, then a 1×1 Conv2D mixing channels), each followed by
  BatchNormalization and ReLU6.
- :func:`UNet` — Ronneberger et al. 2015: an encoder of convolutions and pools, a decoder of
  Conv2DTranspose up-samplings, each Concatenated with the encoder's map of the same size
  (the skip connections), and a 1×1 convolution giving each pixel its class scores.

A convolution followed by BatchNormalization has no bias (``use_bias=False``): BN subtracts
the batch mean, which removes any constant the convolution adds, and its β is the bias.
BatchNormalization's ``momentum`` defaults to 0.9 here (``bn_momentum``), not Keras' 0.99:
these nets train for a few hundred steps, and the moving mean and variance that inference
uses keep 0.99^300 ≈ 5 % of their initial 0 and 1 after 300 steps, 0.9^300 nothing.
"""
from . import layers as _layers
from .models import Input as _Input
from .models import Model as _Model
from .models import Sequential as _Sequential

__all__ = ["LeNet5", "VGG", "ResNet", "MobileNet", "UNet"]


def _check_input_shape(input_shape, op):
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if shape is None or len(shape) != 3 or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(f"{op}: input_shape must be (height, width, channels) of positive "
                         f"ints, got {input_shape!r}")
    return shape


def _check_positive(value, what, op):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{op}: {what} must be a positive int, got {value!r}")
    return value


def _check_filters(filters, op):
    if not isinstance(filters, (tuple, list)) or not filters:
        raise ValueError(f"{op}: filters must be a non-empty tuple of ints, got {filters!r}")
    return tuple(_check_positive(f, "every entry of filters", op) for f in filters)


def _head(x, classes, classifier_activation, op):
    """Global average pooling and the classifier (Keras' include_top=True, pooling='avg')."""
    _check_positive(classes, "classes", op)
    x = _layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return _layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def LeNet5(input_shape=(28, 28, 1), classes=10, activation="tanh", pooling="average",
           classifier_activation="softmax", name="lenet5"):
    """LeNet-5: C1 conv 5×5×6 ('same', so a 28×28 image plays LeCun's padded 32×32), S2
    2×2 pool, C3 conv 5×5×16, S4 2×2 pool, C5 dense 120, F6 dense 84, the classifier.

    ``activation='tanh'`` and ``pooling='average'`` are the paper's (its subsampling had a
    trainable scale, dropped here as everywhere since); ``'relu'``/``'max'`` are the modern
    choices. On (28, 28, 1): 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 weights.
    """
    op = "LeNet5"
    if pooling not in ("average", "max"):
        raise ValueError(f"{op}: pooling must be 'average' or 'max', got {pooling!r}")
    _check_positive(classes, "classes", op)
    pool = _layers.AveragePooling2D if pooling == "average" else _layers.MaxPooling2D
    return _Sequential([
        _Input(_check_input_shape(input_shape, op)),
        _layers.Conv2D(6, 5, padding="same", activation=activation, name="c1"),
        pool(2, name="s2"),
        _layers.Conv2D(16, 5, activation=activation, name="c3"),
        pool(2, name="s4"),
        _layers.Flatten(name="flatten"),
        _layers.Dense(120, activation=activation, name="c5"),
        _layers.Dense(84, activation=activation, name="f6"),
        _layers.Dense(classes, activation=classifier_activation, name="predictions"),
    ], name=name)


def VGG(input_shape=(28, 28, 1), classes=10, filters=(16, 32), convs_per_block=2,
        dense_units=64, dropout=0.0, classifier_activation="softmax", name="vgg"):
    """A small VGG: for each entry f of ``filters`` a block of ``convs_per_block`` 3×3
    'same' convolutions with f filters and ReLU, then a 2×2 max pool; Flatten, a dense
    layer of ``dense_units`` (Dropout ``dropout`` before and after it when > 0), the
    classifier. Layer names as Keras' VGG16: ``block1_conv1`` ... ``block1_pool``, ``fc1``.
    """
    op = "VGG"
    filters = _check_filters(filters, op)
    _check_positive(convs_per_block, "convs_per_block", op)
    _check_positive(dense_units, "dense_units", op)
    _check_positive(classes, "classes", op)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{op}: dropout must be in [0, 1), got {dropout!r}")
    model = _Sequential([_Input(_check_input_shape(input_shape, op))], name=name)
    for b, f in enumerate(filters, start=1):
        for c in range(1, convs_per_block + 1):
            model.add(_layers.Conv2D(f, 3, padding="same", activation="relu",
                                     name=f"block{b}_conv{c}"))
        model.add(_layers.MaxPooling2D(2, name=f"block{b}_pool"))
    model.add(_layers.Flatten(name="flatten"))
    if dropout:
        model.add(_layers.Dropout(dropout, name="drop1"))
    model.add(_layers.Dense(dense_units, activation="relu", name="fc1"))
    if dropout:
        model.add(_layers.Dropout(dropout, name="drop2"))
    model.add(_layers.Dense(classes, activation=classifier_activation, name="predictions"))
    return model


def _check_momentum(momentum, op):
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) \
            or not 0.0 <= momentum < 1.0:
        raise ValueError(f"{op}: bn_momentum must be a number in [0, 1), got {momentum!r}")
    return float(momentum)


def _conv_bn(x, filters, kernel_size, strides, bn_momentum, prefix):
    """conv [+ BN]: the unit every block below is made of. ``bn_momentum`` None means no
    BatchNormalization; with it the convolution has no bias."""
    x = _layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                       use_bias=bn_momentum is None, name=prefix + "_conv")(x)
    if bn_momentum is not None:
        x = _layers.BatchNormalization(momentum=bn_momentum, name=prefix + "_bn")(x)
    return x


def _basic_block(x, filters, strides, bn_momentum, name):
    """relu(F(x) + shortcut(x)), F = conv3×3(strides)-BN-relu-conv3×3-BN. The shortcut is
    the identity when F keeps the shape, else the projection conv1×1(strides)-BN."""
    in_channels = x.shape[-1]
    if strides != 1 or in_channels != filters:
        shortcut = _conv_bn(x, filters, 1, strides, bn_momentum, name + "_0")
    else:
        shortcut = x
    y = _conv_bn(x, filters, 3, strides, bn_momentum, name + "_1")
    y = _layers.Activation("relu", name=name + "_1_relu")(y)
    y = _conv_bn(y, filters, 3, 1, bn_momentum, name + "_2")
    y = _layers.Add(name=name + "_add")([shortcut, y])
    return _layers.Activation("relu", name=name + "_out")(y)


def ResNet(input_shape=(28, 28, 1), classes=10, filters=(16, 32, 64), blocks=(1, 1, 1),
           stem_strides=1, stem_pooling=False, batch_normalization=True, bn_momentum=0.9,
           classifier_activation="softmax", name="resnet"):
    """A ResNet of basic blocks (He et al. 2015, the CIFAR variant), functional.

    Stem: conv 3×3 with ``filters[0]`` filters and ``stem_strides`` (-BN) -relu, then with
    ``stem_pooling=True`` a 2×2 max pool (``pool1_pool``; ImageNet ResNets pool 3×3 with
    stride 2 after a 7×7 conv of stride 2: the stem shrinks the image before any block). Stage s
    (Keras' ``conv{s+2}``) holds ``blocks[s]`` basic blocks with ``filters[s]`` filters; its
    first block has stride 2 (stride 1 in the first stage), so the resolution halves as the
    filters double. A block's shortcut is the identity where its input and output shapes
    agree and a projection (conv 1×1, stride 2, -BN: ``conv{s+2}_block{b}_0_conv``) exactly
    where they change. Then global average pooling and the classifier.

    ``batch_normalization=False`` builds the same net without any BatchNormalization (its
    convolutions then have biases), for comparing learning curves.
    """
    op = "ResNet"
    filters = _check_filters(filters, op)
    if not isinstance(blocks, (tuple, list)) or len(blocks) != len(filters):
        raise ValueError(f"{op}: blocks must give a number of blocks for each of the "
                         f"{len(filters)} stages of filters={filters}, got {blocks!r}")
    blocks = tuple(_check_positive(b, "every entry of blocks", op) for b in blocks)
    _check_positive(stem_strides, "stem_strides", op)
    bn = _check_momentum(bn_momentum, op) if batch_normalization else None
    inputs = _Input(_check_input_shape(input_shape, op), name="input")
    x = _conv_bn(inputs, filters[0], 3, stem_strides, bn, "conv1")
    x = _layers.Activation("relu", name="conv1_relu")(x)
    if stem_pooling:
        x = _layers.MaxPooling2D(2, name="pool1_pool")(x)
    for s, (f, n) in enumerate(zip(filters, blocks)):
        for b in range(1, n + 1):
            strides = 2 if (b == 1 and s > 0) else 1
            x = _basic_block(x, f, strides, bn, f"conv{s + 2}_block{b}")
    return _Model(inputs, _head(x, classes, classifier_activation, op), name=name)


def MobileNet(input_shape=(28, 28, 1), classes=10, filters=(32, 64, 128), strides=(1, 2, 2),
              stem_filters=16, stem_strides=1, bn_momentum=0.9,
              classifier_activation="softmax", name="mobilenet"):
    """A MobileNet (v1) of depthwise-separable blocks, Keras' layout.

    Stem: conv 3×3 with ``stem_filters`` filters and ``stem_strides`` -BN-ReLU6. Block i:
    DepthwiseConv2D 3×3 with ``strides[i]`` (one 3×3 filter per channel, no bias) -BN-ReLU6,
    then a pointwise Conv2D 1×1 to ``filters[i]`` channels (no bias) -BN-ReLU6. A full 3×3
    convolution C_in → C_out costs 9·C_in·C_out weights, the separable pair
    9·C_in + C_in·C_out. Then global average pooling and the classifier.
    """
    op = "MobileNet"
    filters = _check_filters(filters, op)
    if not isinstance(strides, (tuple, list)) or len(strides) != len(filters) \
            or any(s not in (1, 2) for s in strides):
        raise ValueError(f"{op}: strides must give 1 or 2 for each of the {len(filters)} "
                         f"blocks of filters={filters}, got {strides!r}")
    _check_positive(stem_filters, "stem_filters", op)
    _check_positive(stem_strides, "stem_strides", op)
    _check_positive(classes, "classes", op)
    momentum = _check_momentum(bn_momentum, op)
    model = _Sequential([
        _Input(_check_input_shape(input_shape, op)),
        _layers.Conv2D(stem_filters, 3, strides=stem_strides, padding="same", use_bias=False,
                       name="conv1"),
        _layers.BatchNormalization(momentum=momentum, name="conv1_bn"),
        _layers.Activation("relu6", name="conv1_relu"),
    ], name=name)
    for i, (f, s) in enumerate(zip(filters, strides), start=1):
        model.add(_layers.DepthwiseConv2D(3, strides=s, padding="same", use_bias=False,
                                          name=f"conv_dw_{i}"))
        model.add(_layers.BatchNormalization(momentum=momentum, name=f"conv_dw_{i}_bn"))
        model.add(_layers.Activation("relu6", name=f"conv_dw_{i}_relu"))
        model.add(_layers.Conv2D(f, 1, padding="same", use_bias=False, name=f"conv_pw_{i}"))
        model.add(_layers.BatchNormalization(momentum=momentum, name=f"conv_pw_{i}_bn"))
        model.add(_layers.Activation("relu6", name=f"conv_pw_{i}_relu"))
    model.add(_layers.GlobalAveragePooling2D(name="global_average_pooling2d"))
    model.add(_layers.Dense(classes, activation=classifier_activation, name="predictions"))
    return model


def UNet(input_shape=(28, 28, 1), classes=2, filters=(16, 32), bottleneck_filters=64,
         batch_normalization=False, bn_momentum=0.9, classifier_activation="softmax",
         name="unet"):
    """A tiny U-Net (Ronneberger et al. 2015), functional, 'same' padding throughout.

    Encoder level i: two 3×3 convolutions with ``filters[i]`` filters and ReLU
    (``enc{i}_1_conv``, ``enc{i}_2_conv``), kept for the skip connection, then a 2×2 max pool. Bottleneck: two
    3×3 convolutions with ``bottleneck_filters``. Decoder, deepest level first: a
    Conv2DTranspose 2×2 with stride 2 doubles the resolution (``dec{i}_up``), Concatenate
    joins it with the encoder's map of the same size (``dec{i}_concat``), two 3×3
    convolutions. A 1×1 convolution gives each pixel its ``classes`` scores.
    Height and width must be divisible by 2 ** len(filters).
    """
    op = "UNet"
    filters = _check_filters(filters, op)
    _check_positive(bottleneck_filters, "bottleneck_filters", op)
    _check_positive(classes, "classes", op)
    shape = _check_input_shape(input_shape, op)
    factor = 2 ** len(filters)
    if shape[0] % factor or shape[1] % factor:
        raise ValueError(f"{op}: height and width must be divisible by 2**{len(filters)} = "
                         f"{factor} (one halving per encoder level), got {shape[:2]}")
    bn = _check_momentum(bn_momentum, op) if batch_normalization else None

    def double_conv(x, f, prefix):
        for c in (1, 2):
            x = _conv_bn(x, f, 3, 1, bn, f"{prefix}_{c}")
            x = _layers.Activation("relu", name=f"{prefix}_{c}_relu")(x)
        return x

    inputs = _Input(shape, name="input")
    x, skips = inputs, []
    for i, f in enumerate(filters, start=1):
        x = double_conv(x, f, f"enc{i}")
        skips.append(x)
        x = _layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
    x = double_conv(x, bottleneck_filters, "bottleneck")
    for i in range(len(filters), 0, -1):
        f = filters[i - 1]
        x = _layers.Conv2DTranspose(f, 2, strides=2, name=f"dec{i}_up")(x)
        x = _layers.Concatenate(name=f"dec{i}_concat")([x, skips[i - 1]])
        x = double_conv(x, f, f"dec{i}")
    outputs = _layers.Conv2D(classes, 1, activation=classifier_activation,
                             name="predictions")(x)
    return _Model(inputs, outputs, name=name)
