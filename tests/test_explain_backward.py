"""The backward pass shown: keep_grads / retain_grads, explain_backward, the step-through."""
import numpy as np
import pytest

import pycnn
from pycnn import _core
from pycnn.explain.backward import RULES, backward_steps, explain_backward

RNG = np.random.default_rng(7)


def leaf(shape, low=0.2, high=0.9, name=None):
    return pycnn.tensor(RNG.uniform(low, high, shape), dtype="float64", requires_grad=True,
                        name=name)


def _dense():
    from pycnn.layers import Dense
    x = leaf((2, 3), -1, 1)
    layer = Dense(2, activation="tanh", dtype="float64")
    layer.build((None, 3))
    layer.kernel.requires_grad = True
    return layer(x).sum(), [x, layer.kernel, layer.bias]


def _conv():
    x, k, b = leaf((1, 5, 5, 2), -1, 1), leaf((3, 3, 2, 2), -1, 1), leaf((2,), -1, 1)
    return pycnn.relu(pycnn.conv2d(x, k, bias=b)).sum(), [x, k, b]


def _loss(fn, pred_shape=(2, 3), truth=None, **kw):
    def build():
        p = leaf(pred_shape, 0.1, 0.9)
        y = truth if truth is not None else np.eye(pred_shape[-1])[[0, 2]]
        return fn(y, p, **kw).sum(), [p]
    return build


def _yolo():
    S, B, C = 2, 2, 2
    truth = np.zeros((1, S, S, 5 + C))
    truth[0, 0, 1] = [0.5, 0.5, 0.4, 0.3, 1, 1, 0]
    pred = leaf((1, S, S, 5 * B + C), 0.1, 0.9)
    return pycnn.losses.yolo_loss(truth, pred, S=S, B=B, C=C), [pred]


def _two(op):
    def build():
        a, b = leaf((2, 3)), leaf((2, 3), 1.0, 2.0)
        return op(a, b).sum(), [a, b]
    return build


def _one(op, low=0.2, high=0.9):
    def build():
        a = leaf((2, 3), low, high)
        return op(a).sum(), [a]
    return build


def _layer(make):
    """A layer (in training mode: the augmentations act then) on a (1, 6, 6, 2) leaf."""
    def build():
        x = leaf((1, 6, 6, 2))
        w = pycnn.tensor(RNG.uniform(0.5, 1.5, make()(x, training=True).shape),
                         dtype="float64")
        return make()(x, training=True) * w, [x]
    return build


def _with_parent(build):
    """The graph, with the first op's input (a crop, not a leaf) among the θ explained."""
    out, thetas = build()
    return out, thetas + [out.parents[0].parents[0]]


def _norm(cls):
    x = leaf((3, 4, 4, 2))
    layer = cls(dtype="float64")
    layer.build(x.shape)
    w = pycnn.tensor(RNG.uniform(0.5, 1.5, (3, 4, 4, 2)), dtype="float64")
    return layer(x, training=True) * w, [x] + list(layer.trainable_weights)


L_ = pycnn.layers
L = pycnn.losses
BUILDERS = {
    "astype": _one(lambda a: a.astype("float32").astype("float64")),
    "add": _two(lambda a, b: a + b), "sub": _two(lambda a, b: a - b),
    "mul": _two(lambda a, b: a * b), "div": _two(lambda a, b: a / b),
    "pow": _two(lambda a, b: a ** b), "maximum": _two(pycnn.maximum),
    "minimum": _two(pycnn.minimum), "neg": _one(lambda a: -a),
    "abs": _one(abs, -1, 1), "exp": _one(pycnn.exp), "log": _one(pycnn.log),
    "sqrt": _one(pycnn.sqrt), "square": _one(pycnn.square), "sigmoid": _one(pycnn.sigmoid),
    "tanh": _one(pycnn.tanh), "relu": _one(pycnn.relu, -1, 1),
    "softplus": _one(pycnn.softplus), "gelu": _one(pycnn.gelu, -1, 1),
    "softsign": _one(pycnn.softsign, -1, 1), "hard_sigmoid": _one(pycnn.hard_sigmoid, -1, 1),
    "relu6": _one(pycnn.relu6, -1, 1), "selu": _one(pycnn.selu, -1, 1),
    "depthwise_conv2d": lambda: (lambda x, k, b: (
        pycnn.relu(pycnn.depthwise_conv2d(x, k, b, strides=2, padding="same")).sum(),
        [x, k, b]))(leaf((1, 4, 4, 2), -1, 1), leaf((3, 3, 2, 2), -1, 1), leaf((4,), -1, 1)),
    "conv2d_transpose": lambda: (lambda x, k, b: (
        pycnn.relu(pycnn.conv2d_transpose(x, k, b, strides=2, padding="same")).sum(),
        [x, k, b]))(leaf((1, 3, 3, 2), -1, 1), leaf((3, 3, 2, 2), -1, 1), leaf((2,), -1, 1)),
    "sum": _one(lambda a: a.sum(axis=0) * 2), "mean": _one(lambda a: a.mean(axis=1) * 2),
    "max": _one(lambda a: a.max(axis=1) * 2),
    "reshape": _one(lambda a: a.reshape(3, 2) * pycnn.tensor(np.arange(6.0).reshape(3, 2))),
    "flatten": _one(lambda a: pycnn.flatten(a) * pycnn.tensor(np.arange(6.0))),
    "transpose": _one(lambda a: a.transpose() @ pycnn.tensor(np.ones((2, 2)))),
    "concat": _two(lambda a, b: pycnn.concat([a, b], axis=1) ** 2),
    "stack": _two(lambda a, b: pycnn.stack([a, b]) ** 2),
    "getitem": _one(lambda a: a[:, 1:] ** 2),
    "matmul": lambda: (lambda a, b: ((a @ b) ** 2, [a, b]))(leaf((2, 3)), leaf((3, 2))),
    "leaky_relu": _one(lambda a: pycnn.leaky_relu(a) ** 2, -1, 1),
    "elu": _one(lambda a: pycnn.elu(a) ** 2, -1, 1),
    "swish": lambda: (lambda a, b: ((pycnn.swish(a, beta=b)) ** 2, [a, b]))(
        leaf((2, 3), -1, 1), leaf((1,), 0.5, 1.5)),
    "softmax": _one(lambda a: pycnn.softmax(a) * pycnn.tensor(np.arange(6.0).reshape(2, 3))),
    "log_softmax": _one(lambda a: pycnn.log_softmax(a) * pycnn.tensor(np.eye(3)[:2])),
    "naive_normalize": _one(lambda a: pycnn.naive_normalize(a) ** 2),
    "maxout": lambda: (lambda a: (pycnn.maxout(a, 2) ** 2, [a]))(leaf((2, 4))),
    "squared_error": _loss(L.squared_error), "mean_squared_error": _loss(L.mean_squared_error),
    "categorical_crossentropy": _loss(L.categorical_crossentropy),
    "categorical_crossentropy_from_logits": _loss(L.categorical_crossentropy,
                                                  from_logits=True),
    "binary_crossentropy": _loss(L.binary_crossentropy),
    "binary_crossentropy_from_logits": _loss(L.binary_crossentropy, from_logits=True),
    "multilabel_crossentropy": _loss(L.multilabel_crossentropy),
    "multilabel_crossentropy_from_logits": _loss(L.multilabel_crossentropy, from_logits=True),
    "sparse_categorical_crossentropy": _loss(L.sparse_categorical_crossentropy,
                                             truth=np.array([0, 2])),
    "sparse_categorical_crossentropy_from_logits": _loss(L.sparse_categorical_crossentropy,
                                                         truth=np.array([0, 2]),
                                                         from_logits=True),
    "yolo_loss": _yolo,
    "dense": _dense,
    "dropout": _one(lambda a: pycnn.dropout(a, 0.5, training=True, seed=3) ** 2),
    "conv2d": _conv,
    "max_pool2d": lambda: (lambda x: (pycnn.max_pool2d(x, 2) ** 2, [x]))(leaf((1, 4, 4, 2))),
    "avg_pool2d": lambda: (lambda x: (pycnn.avg_pool2d(x, 2) ** 2, [x]))(leaf((1, 4, 4, 2))),
    "batch_norm": lambda: _norm(L_.BatchNormalization),
    "layer_norm": lambda: _norm(L_.LayerNormalization),
    "global_avg_pool2d": _layer(lambda: L_.GlobalAveragePooling2D()),
    "global_max_pool2d": _layer(lambda: L_.GlobalMaxPooling2D()),
    "pad2d": _layer(lambda: L_.ZeroPadding2D(1)),
    "affine_transform": _layer(lambda: L_.RandomRotation(0.2, seed=1)),
    "resize_bilinear": lambda: _with_parent(_layer(lambda: L_.RandomCrop(8, 8, seed=1))),
    "contrast": _layer(lambda: L_.RandomContrast(0.5, seed=1)),
    "upsampling2d": lambda: (lambda x: (pycnn.layers.UpSampling2D(2)(x) ** 2, [x]))(
        leaf((1, 2, 2, 1))),
}

# An element-wise op of ops.def with no graph above gets the plain one (its inputs in
# [0.2, 0.9] and [1, 2]: both branches of a kink at 0 are the layer tests' business).
BUILDERS.update({row["name"]: (_one if row["arity"] == 1 else _two)(getattr(pycnn,
                                                                            row["function"]))
                 for row in _core.op_registry()
                 if row["family"] == "elementwise" and row["name"] not in BUILDERS})


def _reduce(out):
    return out if out.size == 1 else out.sum()


@pytest.mark.parametrize("op", _core.op_names())
def test_every_op_explains_its_backward_and_the_numbers_are_autograds(op):
    assert op in RULES, f"ops.def has '{op}' but explain/backward.py has no rule for it"
    assert op in BUILDERS, f"ops.def has '{op}': add a graph using it to BUILDERS"
    out, thetas = BUILDERS[op]()
    E = _reduce(out)
    assert any(s.op == op for s in backward_steps(E)), f"the graph has no '{op}' node"
    explanations = [explain_backward(E, wrt=t) for t in thetas]
    E.backward(retain_grads=True)
    for t, e in zip(thetas, explanations):
        np.testing.assert_allclose(e.value, t.grad.numpy(), rtol=1e-12, atol=1e-12)
        assert e.text.splitlines()[0].startswith("chain rule for ")
        assert e.text.splitlines()[-1].startswith("sum over the children: ∂E/∂")
        assert e._repr_latex_().startswith(r"$$\begin{aligned}")
    child_lines = [ln for e in explanations for ln in e.text.splitlines() if f"= {op}(" in ln]
    assert child_lines, f"no explanation names the '{op}' child"


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_and_pad2d_rules_follow_the_op_args(training):
    x = leaf((3, 4, 4, 2))
    layer = L_.BatchNormalization(dtype="float64")
    w = pycnn.tensor(RNG.uniform(0.5, 1.5, (3, 4, 4, 2)), dtype="float64")
    E = (layer(x, training=training) * w).sum()
    e = explain_backward(E, wrt=x)
    E.backward()
    np.testing.assert_allclose(e.value, x.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert ("batch's own statistics" in e.text) is training
    assert ("moving statistics μ, σ are constants" in e.text) is not training
    make = (lambda: L_.ZeroPadding2D(1)) if training else (lambda: L_.Cropping2D(1))
    E = _reduce(_layer(make)()[0])
    text = explain_backward(E, wrt=E.parents[0].parents[0].parents[0]).text
    assert ("padding cut away" in text) is training
    assert ("inside the cropped border" in text) is not training


def test_elementwise_products_are_written_out_with_numbers():
    w = pycnn.tensor([1.0, 2.0], dtype="float64", requires_grad=True, name="w")
    x = pycnn.tensor([3.0, 4.0], dtype="float64", name="x")
    E = (w * x + w * w).sum()
    lines = explain_backward(E, wrt=w).text.splitlines()
    assert lines == [
        "chain rule for w (2,): ∂E/∂w = Σ_{c ∈ children(w)} ∂E/∂c·∂c/∂w",
        "child 1: t5 = mul(w, w)",
        "∂t5/∂w = w + w = [2, 4]",
        "∂E/∂t5 = [1, 1]",
        "product, element by element: ∂E/∂t5·∂t5/∂w = [1·2, 1·4] = [2, 4]",
        "child 2: t2 = mul(w, x)",
        "∂t2/∂w = x = [3, 4]",
        "∂E/∂t2 = [1, 1]",
        "product, element by element: ∂E/∂t2·∂t2/∂w = [1·3, 1·4] = [3, 4]",
        "sum over the children: ∂E/∂w = [2, 4] + [3, 4] = [5, 8]",
    ]
    latex = explain_backward(E, wrt=w).latex
    assert r"\frac{\partial t2}{\partial w} = x = \left[3, 4\right]" in latex


def test_retain_grads_and_keep_grads_keep_every_gradient():
    def graph():
        a = pycnn.tensor([1.0, -2.0], requires_grad=True)
        h = a * a
        return a, h, pycnn.relu(h + 1.0).sum()
    a, h, E = graph()
    E.backward()
    assert h.grad is None and a.grad is not None             # the default stays lean
    with pytest.raises(RuntimeError, match="retain_grads=True"):
        h._vjp(np.ones(2, np.float32))                         # and the graph is freed
    a, h, E = graph()
    E.backward(retain_grads=True)
    np.testing.assert_array_equal(h.grad.numpy(), [1, 1])
    np.testing.assert_array_equal(E.grad.numpy(), 1)
    assert _core._last_kept_root() is E
    np.testing.assert_array_equal(a.explain_grad().value, a.grad.numpy())
    a, h, E = graph()
    with pycnn.keep_grads():
        E.backward()
    assert h.grad is not None
    a2, h2, E2 = graph()
    E2.backward()                                              # outside the block: lean
    assert h2.grad is None
    x = pycnn.tensor([1.0], requires_grad=True)
    y = x * 2
    np.testing.assert_array_equal(explain_backward(y.sum(), wrt=x).value, [2])


def test_vjp_leaves_every_grad_untouched_and_checks_its_input():
    x = pycnn.tensor([1.0, 2.0], requires_grad=True)
    x.grad = pycnn.tensor([10.0, 20.0])
    y = x * x
    (share, share2) = y._vjp(np.array([1.0, 1.0], np.float32))
    np.testing.assert_array_equal(share, [2, 4])
    np.testing.assert_array_equal(x.grad.numpy(), [10, 20])
    with pytest.raises(ValueError, match="dout has shape"):
        y._vjp(np.ones(3))
    with pytest.raises(ValueError, match="leaf"):
        x._vjp(np.ones(2))


def test_steps_walk_the_reverse_topological_order_and_add_up():
    a = pycnn.tensor([1.0, 2.0], dtype="float64", requires_grad=True, name="a")
    b = pycnn.tensor([3.0, -1.0], dtype="float64", requires_grad=True, name="b")
    c = a * b
    E = (c + a).sum()
    steps = backward_steps(E)
    assert [s.label for s in steps][0] == "t0"
    position = {s.label: k for k, s in enumerate(steps)}
    for s in steps:                          # every child comes before its parents
        for p, label, _, _ in s.contributions:
            assert position[label] > position[s.label]
    final = {s.label: s.grad for s in steps}
    E.backward()
    np.testing.assert_array_equal(final["a"], a.grad.numpy())
    np.testing.assert_array_equal(final["b"], b.grad.numpy())
    add_step = next(s for s in steps if s.op == "mul")
    assert "adds to a: [3, −1]" in repr(add_step)


def test_bad_calls_say_what_is_wrong():
    x = pycnn.tensor([1.0, 2.0], requires_grad=True)
    other = pycnn.tensor([1.0], requires_grad=True)
    E = (x * x).sum()
    with pytest.raises(ValueError, match="not in the graph"):
        explain_backward(E, wrt=other)
    with pytest.raises(ValueError, match="pass grad="):
        explain_backward(x * x, wrt=x)
    np.testing.assert_array_equal(explain_backward(x * x, wrt=x, grad=[1, 1]).value, [2, 4])
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain_backward(pycnn.tensor([1.0]).sum(), wrt=x)
    with pytest.raises(TypeError, match="Tensor"):
        explain_backward([1.0], wrt=x)
