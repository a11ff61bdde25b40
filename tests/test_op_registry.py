"""Every op of the registry (_core.op_registry(), generated from ops.def) is tested: a
float64 gradient check, its plain-NumPy twin (tests/reference.py) and a bad input that
raises a clear exception naming it. An op added to ops.def without these fails here.

Element-wise ops need no line in this file: their case comes from the registry (the
pycnn function it names) and reference.ELEMENTWISE. Every other op has a row in CASES."""
import collections

import numpy as np
import pytest

import pycnn
import pycnn.losses as L
import reference as ref
from test_losses import numpy_yolo, yolo_batch

REGISTRY = pycnn._core.op_registry()

# fn(*tensors) -> Tensor recording the op; ref(*arrays) -> the same numbers in NumPy;
# inputs(rng) -> the float64 arrays; bad() must raise exc with a message matching match.
Case = collections.namedtuple("Case", "fn ref inputs bad exc match")


def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def probs(rng, shape=(4, 5)):
    p = rng.uniform(0.1, 1.0, shape)
    return p / p.sum(axis=-1, keepdims=True)


def onehot(rng, shape=(4, 5)):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]


def bits(rng, shape=(4, 5)):
    return rng.integers(0, 2, shape).astype(np.float64)


def row_loss(fn, reffn, truth, positive):
    y = truth(np.random.default_rng(1))
    inputs = (lambda rng: [probs(rng)]) if positive else normal((4, 5))
    return Case(lambda p: fn(y, p), lambda p: reffn(y, p), inputs,
                lambda: fn(np.ones((3, 5)), np.ones((4, 5))), ValueError,
                r"y_true shape \(3, 5\) does not match y_pred shape \(4, 5\)")


def fixed_layer(layer, shape):
    """A float64 layer built on shape, with weights drawn from a fixed generator."""
    layer.build(shape)
    rng = np.random.default_rng(5)
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in layer.get_weights()])
    return layer


def training(layer):
    return lambda x: layer(x, training=True)


LABELS = np.array([0, 3, 1, 4])
BN = fixed_layer(pycnn.layers.BatchNormalization(dtype="float64"), (None, 3, 4))
LN = fixed_layer(pycnn.layers.LayerNormalization(dtype="float64"), (None, 3, 4))
BN_W, LN_W = BN.get_weights(), LN.get_weights()
ZOOM = [1.3, 0, (5 - 1) / 2 * -0.3, 0, 1.3, (4 - 1) / 2 * -0.3]   # RandomZoom((0.3, 0.3))
YOLO_TRUE, YOLO_PRED = yolo_batch(np.random.default_rng(2), S=2, B=2, C=3)
W_DENSE, B_DENSE = np.random.default_rng(3).standard_normal((3, 4)), np.arange(4) / 4
DENSE = pycnn.layers.Dense(4, activation="tanh", dtype="float64")
DENSE.build((None, 3))
DENSE.kernel.numpy()[...], DENSE.bias.numpy()[...] = W_DENSE, B_DENSE

CASES = {
    # values and steps that float32 holds exactly, so the round trip loses nothing
    "astype": Case(lambda x: x.astype("float32").astype("float64"),
                   lambda x: x.astype(np.float32).astype(np.float64),
                   lambda rng: [rng.integers(-64, 64, (3, 4)) / 16.0],
                   lambda: pycnn.tensor([1.0]).astype("int8"), TypeError, r"astype: dtype"),
    "sum": Case(lambda x: x.sum(axis=1), lambda x: x.sum(axis=1), normal((3, 4)),
                lambda: pycnn.tensor(np.ones((2, 3))).sum(axis=2), np.exceptions.AxisError,
                r"sum"),
    "mean": Case(lambda x: x.mean(axis=0), lambda x: x.mean(axis=0), normal((3, 4)),
                 lambda: pycnn.mean(np.ones((2, 3)), axis=(0, 0)), ValueError,
                 r"mean: axis 0 appears twice"),
    "max": Case(lambda x: x.max(axis=-1), lambda x: x.max(axis=-1), normal((3, 4)),
                lambda: pycnn.max(np.ones((0, 3)), axis=0), ValueError, r"max: .*no elements"),
    "reshape": Case(lambda x: x.reshape(4, 3), lambda x: x.reshape(4, 3), normal((3, 4)),
                    lambda: pycnn.tensor(np.ones((2, 3))).reshape(4, 2), ValueError,
                    r"reshape"),
    "flatten": Case(pycnn.flatten, lambda x: x.reshape(-1), normal((2, 3, 2)),
                    lambda: pycnn.flatten("abc"), TypeError, r"flatten"),
    "transpose": Case(lambda x: x.transpose(1, 0, 2), lambda x: x.transpose(1, 0, 2),
                      normal((2, 3, 4)),
                      lambda: pycnn.tensor(np.ones((2, 3))).transpose(0, 0), ValueError,
                      r"transpose: axis 0 appears twice"),
    "concat": Case(lambda a, b: pycnn.concat([a, b], axis=1),
                   lambda a, b: np.concatenate([a, b], axis=1), normal((2, 3), (2, 1)),
                   lambda: pycnn.concat([]), ValueError, r"concat: needs at least one"),
    "stack": Case(lambda a, b: pycnn.stack([a, b], axis=-1),
                  lambda a, b: np.stack([a, b], axis=-1), normal((2, 3), (2, 3)),
                  lambda: pycnn.stack(pycnn.tensor([1.0])), TypeError, r"stack: expected a list"),
    "getitem": Case(lambda x: x[1:, [0, 2, 2]], lambda x: x[1:, [0, 2, 2]], normal((3, 4)),
                    lambda: pycnn.tensor(np.ones((2, 3)))[5], IndexError,
                    r"getitem: index 5 is invalid for a tensor of shape \(2, 3\)"),
    "matmul": Case(lambda a, b: a @ b, np.matmul, normal((2, 3, 4), (4, 2)),
                   lambda: pycnn.matmul(np.ones((2, 3)), np.ones((2, 3))), ValueError,
                   r"matmul"),
    "leaky_relu": Case(lambda x: pycnn.leaky_relu(x, alpha=0.2),
                       lambda x: ref.leaky_relu(x, 0.2), normal((3, 4)),
                       lambda: pycnn.leaky_relu(np.ones(2), alpha="a"), TypeError,
                       r"leaky_relu: alpha must be a number"),
    "elu": Case(pycnn.elu, ref.elu, normal((3, 4)),
                lambda: pycnn.elu("abc"), TypeError, r"elu"),
    "swish": Case(pycnn.swish, ref.swish, normal((3, 4), ()),
                  lambda: pycnn.swish(np.ones(2), np.ones(2)), ValueError,
                  r"swish: beta must hold one value"),
    "softmax": Case(pycnn.softmax, ref.softmax, normal((3, 4)),
                    lambda: pycnn.softmax(np.ones((2, 3)), axis=2), ValueError,
                    r"softmax: axis 2 is out of range"),
    "log_softmax": Case(pycnn.log_softmax, ref.log_softmax, normal((3, 4)),
                        lambda: pycnn.log_softmax(np.ones(3), axis="a"), TypeError,
                        r"log_softmax: axis must be an int"),
    "naive_normalize": Case(pycnn.naive_normalize, ref.naive_normalize,
                            lambda rng: [rng.uniform(0.5, 2.0, (3, 4))],
                            lambda: pycnn.naive_normalize(None), TypeError, r"naive_normalize"),
    "maxout": Case(lambda x: pycnn.maxout(x, 2), lambda x: ref.maxout(x, 2), normal((3, 6)),
                   lambda: pycnn.maxout(np.ones((2, 5)), 2), ValueError,
                   r"maxout: pieces must be a positive divisor of the 5 features"),
    "squared_error": row_loss(L.squared_error, ref.squared_error, probs, False),
    "mean_squared_error": row_loss(L.mean_squared_error, ref.mean_squared_error, probs, False),
    "categorical_crossentropy": row_loss(L.categorical_crossentropy,
                                         ref.categorical_crossentropy, onehot, True),
    "categorical_crossentropy_from_logits": row_loss(
        lambda y, p: L.categorical_crossentropy(y, p, from_logits=True),
        lambda y, p: ref.categorical_crossentropy(y, p, from_logits=True), onehot, False),
    "binary_crossentropy": row_loss(L.binary_crossentropy, ref.binary_crossentropy, bits,
                                    True),
    "binary_crossentropy_from_logits": row_loss(
        lambda y, p: L.binary_crossentropy(y, p, from_logits=True),
        lambda y, p: ref.binary_crossentropy(y, p, from_logits=True), bits, False),
    "multilabel_crossentropy": row_loss(L.multilabel_crossentropy,
                                        ref.multilabel_crossentropy, bits, True),
    "multilabel_crossentropy_from_logits": row_loss(
        lambda y, p: L.multilabel_crossentropy(y, p, from_logits=True),
        lambda y, p: ref.multilabel_crossentropy(y, p, from_logits=True), bits, False),
    "sparse_categorical_crossentropy": Case(
        lambda p: L.sparse_categorical_crossentropy(LABELS, p),
        lambda p: ref.sparse_categorical_crossentropy(LABELS, p), lambda rng: [probs(rng)],
        lambda: L.sparse_categorical_crossentropy([0, 7], np.ones((2, 5)) / 5), ValueError,
        r"label 7 at y_true index \(1,\) is not a class index in \[0, 5\)"),
    "sparse_categorical_crossentropy_from_logits": Case(
        lambda p: L.sparse_categorical_crossentropy(LABELS, p, from_logits=True),
        lambda p: ref.sparse_categorical_crossentropy(LABELS, p, from_logits=True),
        normal((4, 5)),
        lambda: L.sparse_categorical_crossentropy([0], np.ones((2, 5)), from_logits=True),
        ValueError, r"the labels need y_pred's shape without its last axis"),
    "yolo_loss": Case(lambda p: L.yolo_loss(YOLO_TRUE, p, S=2, B=2, C=3),
                      lambda p: numpy_yolo(YOLO_TRUE, p, 2, 2, 3).sum() / len(p),
                      lambda rng: [YOLO_PRED.astype(np.float64)],
                      lambda: L.yolo_loss(YOLO_TRUE, YOLO_PRED, S=3, B=2, C=3), ValueError,
                      r"yolo_loss: .*S=3, B=2, C=3"),
    "dense": Case(DENSE, lambda x: np.tanh(x @ W_DENSE + B_DENSE), normal((5, 3)),
                  lambda: DENSE(np.ones((2, 4))), ValueError, r"input of shape \(2, 4\)"),
    "dropout": Case(lambda x: pycnn.dropout(x, 0.25, seed=4),
                    lambda x: x * (pycnn.dropout(np.ones_like(x), 0.25, seed=4).numpy()),
                    normal((6, 7)), lambda: pycnn.dropout(np.ones(3), 1.5), ValueError,
                    r"dropout: rate must be in \[0, 1\)"),
    "conv2d": Case(lambda x, w, b: pycnn.conv2d(x, w, b, strides=2, padding="same"),
                   lambda x, w, b: ref.conv2d(x, w, b, strides=(2, 2), padding="same"),
                   normal((2, 5, 5, 2), (3, 3, 2, 3), (3,)),
                   lambda: pycnn.conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 1, 2))),
                   ValueError, r"conv2d: input has 2 channels but kernel expects 1"),
    "conv2d_transpose": Case(
        lambda x, w, b: pycnn.conv2d_transpose(x, w, b, strides=2, padding="same",
                                               output_padding=1),
        lambda x, w, b: ref.conv2d_transpose(x, w, b, strides=(2, 2), padding="same",
                                             output_padding=(1, 1)),
        normal((2, 3, 4, 2), (3, 3, 3, 2), (3,)),
        lambda: pycnn.conv2d_transpose(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 1))),
        ValueError, r"conv2d_transpose: expected .* same channels"),
    "depthwise_conv2d": Case(
        lambda x, w, b: pycnn.depthwise_conv2d(x, w, b, strides=2, padding="same"),
        lambda x, w, b: ref.depthwise_conv2d(x, w, b, strides=(2, 2), padding="same"),
        normal((2, 5, 5, 3), (3, 3, 3, 2), (6,)),
        lambda: pycnn.depthwise_conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 3, 1))),
        ValueError, r"depthwise_conv2d: input has 2 channels but kernel expects 3"),
    "max_pool2d": Case(lambda x: pycnn.max_pool2d(x, 2),
                       lambda x: ref.pool2d(x, (2, 2), mode="max"), normal((2, 4, 4, 3)),
                       lambda: pycnn.max_pool2d(np.ones((1, 2, 2, 1)), 3), ValueError,
                       r"max_pool2d: pool 3x3 is larger than the 2x2 input"),
    "avg_pool2d": Case(lambda x: pycnn.avg_pool2d(x, 2, strides=1, padding="same"),
                       lambda x: ref.pool2d(x, (2, 2), (1, 1), "same", mode="avg"),
                       normal((2, 4, 4, 3)), lambda: pycnn.avg_pool2d(np.ones((4, 4)), 2),
                       ValueError, r"avg_pool2d: expected a 4-D input"),
    "batch_norm": Case(training(BN),
                       lambda x: ref.batch_norm(x, BN_W[0], BN_W[1], epsilon=1e-3),
                       normal((5, 3, 4)), lambda: BN(np.ones((2, 3, 5))), ValueError,
                       r"batch_normalization"),
    "layer_norm": Case(LN, lambda x: ref.layer_norm(x, LN_W[0], LN_W[1], epsilon=1e-3),
                       normal((5, 3, 4)), lambda: LN(np.ones((2, 3, 5))), ValueError,
                       r"layer_normalization"),
    "global_avg_pool2d": Case(pycnn.layers.GlobalAveragePooling2D(),
                              lambda x: ref.global_pool2d(x, "avg"), normal((2, 3, 4, 2)),
                              lambda: pycnn.layers.GlobalAveragePooling2D()(np.ones((2, 3))),
                              ValueError, r"4-D"),
    "global_max_pool2d": Case(pycnn.layers.GlobalMaxPooling2D(keepdims=True),
                              lambda x: ref.global_pool2d(x, "max", keepdims=True),
                              normal((2, 3, 4, 2)),
                              lambda: pycnn.layers.GlobalMaxPooling2D(data_format="x"),
                              ValueError, r"data_format"),
    "pad2d": Case(pycnn.layers.ZeroPadding2D(((1, 0), (2, 1))),
                  lambda x: ref.zero_padding2d(x, ((1, 0), (2, 1))), normal((2, 3, 4, 2)),
                  lambda: pycnn.layers.Cropping2D(((2, 2), (0, 0)))(np.ones((1, 3, 4, 1))),
                  ValueError, r"cropping2d"),
    "affine_transform": Case(
        training(pycnn.layers.RandomZoom((0.3, 0.3), dtype="float64")),
        lambda x: ref.affine_transform(x, np.array([ZOOM] * len(x)), "bilinear", "reflect"),
        lambda rng: [rng.uniform(0, 1, (2, 4, 5, 2))],
        lambda: pycnn.layers.RandomZoom(0.3, fill_mode="mirror"), ValueError, r"fill_mode"),
    "resize_bilinear": Case(training(pycnn.layers.RandomCrop(8, 10, dtype="float64")),
                            lambda x: ref.resize_bilinear(x, 8, 10),
                            lambda rng: [rng.uniform(0, 1, (2, 4, 5, 2))],
                            lambda: pycnn.layers.RandomCrop(0, 3), ValueError, r"RandomCrop"),
    "contrast": Case(training(pycnn.layers.RandomContrast(0.0, value_range=(0.2, 0.8),
                                                          dtype="float64")),
                     lambda x: ref.contrast(x, np.ones(len(x)), 0.2, 0.8),
                     lambda rng: [rng.uniform(0, 1, (2, 4, 5, 2))],
                     lambda: pycnn.layers.RandomContrast(1.5), ValueError, r"RandomContrast"),
    "upsampling2d": Case(pycnn.layers.UpSampling2D((2, 3)),
                         lambda x: ref.upsampling2d(x, (2, 3)), normal((2, 2, 3, 2)),
                         lambda: pycnn.layers.UpSampling2D()(np.ones((2, 3))), ValueError,
                         r"expected a 4-D input"),
}


GRADCHECK = {"astype": {"eps": 2.0 ** -10}}     # a step float32 holds exactly


def elementwise_case(op):
    fn = getattr(pycnn, op["function"])
    twin = ref.ELEMENTWISE.get(op["name"])
    low = 0.5 if op["name"] in ref.POSITIVE else -2.0
    shapes = [(3, 4), (4,)][:op["arity"]]
    bad_args = ["abc"] + [1.0] * (op["arity"] - 1)
    return Case(fn, twin, lambda rng: [rng.uniform(low, 2.0, s) for s in shapes],
                lambda: fn(*bad_args), TypeError, op["name"])


def recorded_ops(t):
    seen, stack = set(), [t]
    while stack:
        t = stack.pop()
        if t.op is not None and t.op not in seen:
            seen.add(t.op)
            stack.extend(t.parents)
    return seen


def case_of(op):
    return elementwise_case(op) if op["family"] == "elementwise" else CASES.get(op["name"])


@pytest.mark.parametrize("op", REGISTRY, ids=[op["name"] for op in REGISTRY])
def test_op_has_gradcheck_reference_and_bad_input(op, rng):
    case = case_of(op)
    assert case is not None, f"op {op['name']!r} of ops.def has no case in test_op_registry.py"
    assert case.ref is not None, f"op {op['name']!r} has no NumPy twin in tests/reference.py"
    xs = case.inputs(rng)
    out = case.fn(*[pycnn.tensor(x, requires_grad=True) for x in xs])
    assert op["name"] in recorded_ops(out), f"{op['name']}: the case does not record it"
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), case.ref(*xs), rtol=1e-9, atol=1e-12)
    assert pycnn.gradcheck(case.fn, xs, **GRADCHECK.get(op["name"], {}))
    seed = rng.standard_normal(out.shape)       # the root's gradient is the caller's array
    before = seed.copy()                        # itself (not copied): it is only read
    out.backward(seed)
    np.testing.assert_array_equal(seed, before, err_msg=f"{op['name']}: backward wrote "
                                                        f"into the seed")
    with pytest.raises(case.exc, match=case.match):
        case.bad()


def test_registry_rows_are_complete():
    names = [op["name"] for op in REGISTRY]
    assert names == list(pycnn._core.op_names())
    for op in REGISTRY:
        assert op["family"] and op["differentiable_inputs"], op
        assert op["arity"] == -1 or op["arity"] >= 1, op
        if op["family"] == "elementwise":
            assert op["kernel"] and op["function"] and op["arity"] in (1, 2), op
    assert not set(CASES) - set(names), "CASES names ops the registry does not have"


def test_activation_rows_resolve_by_name():
    for op in REGISTRY:
        if op["activation"]:
            assert pycnn.activations.get(op["function"]) is getattr(pycnn, op["function"])


def test_op_args_name_what_the_op_was_called_with():
    x = pycnn.tensor(np.ones((1, 6, 6, 2)), requires_grad=True)
    assert x.op_args == {}
    assert pycnn.conv2d(x, np.ones((3, 3, 2, 4)), strides=(2, 1), padding="same").op_args == {
        "strides": (2, 1), "padding": "same", "dilation_rate": (1, 1), "groups": 1,
        "activation": "linear"}
    assert pycnn.depthwise_conv2d(x, np.ones((3, 3, 2, 2)), padding="same").op_args == {
        "strides": (1, 1), "padding": "same", "dilation_rate": (1, 1), "activation": "linear"}
    assert pycnn.layers.Conv2D(3, 3, activation="relu")(x).op_args["activation"] == "relu"
    assert pycnn.avg_pool2d(x, 3, strides=2).op_args == {
        "pool_size": (3, 3), "strides": (2, 2), "padding": "valid"}
    assert pycnn.layers.UpSampling2D((2, 3))(x).op_args == {"size": (2, 3)}
    assert pycnn.leaky_relu(x, 0.25).op_args == {"alpha": 0.25}
    assert pycnn.softmax(x, axis=-2).op_args == {"axis": -2}
    assert pycnn.maxout(x, 2, axis=1).op_args == {"pieces": 2, "axis": 1}
    assert x.sum(axis=(1, 2), keepdims=True).op_args == {"axis": (1, 2), "keepdims": True}
    assert pycnn.concat([x, x], axis=3).op_args == {"axis": 3}
    assert pycnn.dropout(x, 0.5, seed=1).op_args == {"rate": 0.5}
    dense = pycnn.layers.Dense(2, activation="sigmoid")
    assert dense(pycnn.tensor(np.ones((2, 3)), requires_grad=True)).op_args == {
        "activation": "sigmoid"}
    p = pycnn.tensor(np.full((2, 3), 1 / 3), requires_grad=True)
    assert L.sparse_categorical_crossentropy([0, 2], p, ignore_index=2,
                                             reduction="sum").op_args == {
        "reduction": "sum", "ignore_index": 2}
    assert L.categorical_crossentropy(np.eye(3)[:2], p).op_args == {"reduction": "mean"}
    args = pycnn.leaky_relu(x).op_args
    args["alpha"] = 5.0                       # a new dict each time: the node is untouched
    assert pycnn.leaky_relu(x).op_args == {"alpha": 0.1}
    with pytest.raises(AttributeError):
        x.op_args = {}


def test_op_args_of_normalisation_spatial_and_augmentation_ops():
    L = pycnn.layers
    x = pycnn.tensor(np.random.default_rng(0).random((2, 6, 6, 3)), requires_grad=True)
    assert L.BatchNormalization(momentum=0.9, epsilon=0.01)(x, training=True).op_args == {
        "axis": 3, "epsilon": 0.01, "momentum": 0.9, "training": True}
    assert L.BatchNormalization(axis=1)(x).op_args["training"] is False
    assert L.LayerNormalization(epsilon=0.1)(x).op_args == {"axis": (3,), "epsilon": 0.1}
    assert L.LayerNormalization(axis=[1, 2, 3])(x).op_args["axis"] == (1, 2, 3)
    assert L.GlobalAveragePooling2D()(x).op_args == {"keepdims": False}
    assert L.GlobalMaxPooling2D(keepdims=True)(x).op_args == {"keepdims": True}
    assert L.ZeroPadding2D(((1, 0), (2, 3)))(x).op_args == {"padding": ((1, 0), (2, 3))}
    assert L.Cropping2D(((1, 0), (2, 1)))(x).op_args == {"cropping": ((1, 0), (2, 1))}
    assert L.UpSampling2D(2, interpolation="bilinear")(x).op_args == {"height": 12, "width": 12}
    assert L.RandomContrast(0.5, value_range=(0, 1), seed=1)(x, training=True).op_args == {
        "value_range": (0.0, 1.0)}
    assert L.RandomRotation(0.2, fill_mode="constant", fill_value=0.5, interpolation="nearest",
                            seed=1)(x, training=True).op_args == {
        "interpolation": "nearest", "fill_mode": "constant", "fill_value": 0.5}
