"""pycnn.losses against keras.losses (torch backend), side by side: a table of shape
combinations × reductions × from_logits, values and gradients on the same arrays, sample
weights; float64 gradchecks of the aligned and broadcast cases."""
import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn
from pycnn import losses as L

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning",
    "ignore:Converting a tensor with requires_grad=True:UserWarning")

N = 4
SHAPES = {
    "MeanSquaredError": [((N,), (N, 1)), ((N, 1), (N,)), ((N, 3), (N, 3)), ((N,), (N,)),
                         ((N, 2, 2), (N, 2, 2, 1)), ((N, 2, 2, 1), (N, 2, 2)),
                         ((N, 1), (N, 1)), ((N, 3), (N, 1)), ((N, 1), (N, 3)),
                         ((3,), (N, 3)), ((N, 3), (3,))],
    "BinaryCrossentropy": [((N,), (N, 1)), ((N, 1), (N,)), ((N, 3), (N, 3)), ((N,), (N,)),
                           ((N, 1), (N, 1)), ((N, 2, 2), (N, 2, 2, 1))],
    "CategoricalCrossentropy": [((N, 3), (N, 3)), ((N, 2, 2, 3), (N, 2, 2, 3))],
    "SparseCategoricalCrossentropy": [((N,), (N, 3)), ((N, 1), (N, 3)),
                                      ((N, 2, 2), (N, 2, 2, 3)), ((N, 2, 2, 1), (N, 2, 2, 3))],
}
REDUCTIONS = ["sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight"]
TABLE = [(cls, st, sp, logits) for cls, shapes in SHAPES.items() for st, sp in shapes
         for logits in ((False, True) if "Crossentropy" in cls else (False,))]
IDS = [f"{c}-{st}-{sp}{'-logits' if lg else ''}" for c, st, sp, lg in TABLE]


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch", reason="PyTorch is optional")
    return pytest.importorskip("keras", reason="Keras 3 is optional: pip install pycnn[interop]")


def data(cls, st, sp, logits, seed=0):
    rng = np.random.default_rng(seed)
    if cls.startswith("Sparse"):
        y_true = rng.integers(0, sp[-1], st).astype(np.float64)
    elif cls.startswith("Categorical"):
        y_true = np.eye(st[-1])[rng.integers(0, st[-1], st[:-1])]
    elif cls.startswith("Binary"):
        y_true = rng.integers(0, 2, st).astype(np.float64)
    else:
        y_true = rng.standard_normal(st)
    if logits or cls == "MeanSquaredError":
        y_pred = rng.standard_normal(sp) * 2
    else:
        y_pred = rng.uniform(0.05, 0.95, sp)
        if "Categorical" in cls:
            y_pred /= y_pred.sum(axis=-1, keepdims=True)
    return y_true, y_pred


def make(module, cls, logits, **kwargs):
    if cls != "MeanSquaredError":
        kwargs["from_logits"] = logits
    return getattr(module, cls)(**kwargs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("cls, st, sp, logits", TABLE, ids=IDS)
def test_loss_matches_keras_value_and_gradient(keras, cls, st, sp, logits, reduction):
    import torch
    y_true, y_pred = data(cls, st, sp, logits)
    ours = make(L, cls, logits, reduction=reduction)
    theirs = make(keras.losses, cls, logits, reduction=reduction)
    t = pycnn.tensor(y_pred, requires_grad=True)
    value = ours(y_true, t)
    kp = torch.tensor(y_pred, requires_grad=True)
    if cls.startswith("Sparse") and len(sp) > 2:
        # Keras' torch backward of an N-D sparse cross-entropy fails ("grad_input must be
        # contiguous"): give it the pixels as rows, the same per-pixel losses
        kvalue = theirs(torch.tensor(y_true.reshape(-1)), kp.reshape(-1, sp[-1]))
        if kvalue.ndim:
            kvalue = kvalue.reshape(sp[:-1])
    else:
        kvalue = theirs(torch.tensor(y_true), kp)
    want = kvalue.detach().numpy()
    assert value.shape == want.shape
    np.testing.assert_allclose(value.numpy(), want, rtol=1e-5, atol=1e-7)
    r = np.random.default_rng(1).standard_normal(want.shape)
    value.backward(r)
    kvalue.backward(torch.tensor(r, dtype=kvalue.dtype))
    np.testing.assert_allclose(t.grad.numpy(), kp.grad.numpy(), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("cls, st, sp", [
    ("MeanSquaredError", (N,), (N, 1)), ("MeanSquaredError", (N, 2, 2), (N, 2, 2, 1)),
    ("MeanSquaredError", (N, 3), (N, 1)), ("MeanSquaredError", (3,), (N, 3)),
    ("BinaryCrossentropy", (N,), (N, 1)), ("BinaryCrossentropy", (N, 1), (N,)),
    ("CategoricalCrossentropy", (N, 3, 1), (N, 3)),
])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_aligned_and_broadcast_losses_gradcheck(cls, st, sp, reduction):
    if cls == "CategoricalCrossentropy":
        y_true = np.eye(3)[np.arange(N) % 3][:, :, None]         # (N, 3, 1) → (N, 3)
        _, y_pred = data(cls, (N, 3), sp, False)
    else:
        y_true, y_pred = data(cls, st, sp, False)
    loss = make(L, cls, False, reduction=reduction)
    assert pycnn.gradcheck(lambda p: loss(y_true, p), [y_pred])


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none",
                                       "mean_with_sample_weight"])
@pytest.mark.parametrize("cls, st, sp, weight_shape", [
    ("MeanSquaredError", (N, 3), (N, 3), (N,)), ("MeanSquaredError", (N,), (N, 1), (N, 1)),
    ("CategoricalCrossentropy", (N, 3), (N, 3), (N, 1)),
    ("SparseCategoricalCrossentropy", (N, 2, 2), (N, 2, 2, 3), (N, 2, 2)),
    ("SparseCategoricalCrossentropy", (N,), (N, 3), (N,)),
    ("BinaryCrossentropy", (N, 3), (N, 3), (N,)),
])
def test_sample_weight_matches_keras(keras, cls, st, sp, weight_shape, reduction):
    import torch
    y_true, y_pred = data(cls, st, sp, False)
    weights = np.random.default_rng(2).uniform(0, 2, weight_shape)
    ours = make(L, cls, False, reduction=reduction)
    theirs = make(keras.losses, cls, False, reduction=reduction)
    t = pycnn.tensor(y_pred, requires_grad=True)
    value = ours(y_true, t, sample_weight=weights)
    kp = torch.tensor(y_pred, requires_grad=True)
    if cls.startswith("Sparse") and len(sp) > 2:         # as above: pixels as rows
        kvalue = theirs(torch.tensor(y_true.reshape(-1)), kp.reshape(-1, sp[-1]),
                        sample_weight=torch.tensor(weights.reshape(-1)))
        if kvalue.ndim:
            kvalue = kvalue.reshape(sp[:-1])
    else:
        kvalue = theirs(torch.tensor(y_true), kp, sample_weight=torch.tensor(weights))
    np.testing.assert_allclose(value.numpy(), kvalue.detach().numpy(), rtol=1e-5, atol=1e-7)
    value.sum().backward()
    kvalue.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), kp.grad.numpy(), rtol=1e-4, atol=1e-7)
    assert pycnn.gradcheck(lambda p: ours(y_true, p, sample_weight=weights), [y_pred.copy()])


def test_zero_sample_weights_give_zero_like_divide_no_nan():
    loss = L.MeanSquaredError(reduction="mean_with_sample_weight")
    assert loss(np.ones((2, 3)), np.zeros((2, 3)), sample_weight=np.zeros(2)).item() == 0.0


def test_fit_with_labels_of_rank_one_and_a_dense_1_output():
    """The issue's example: y (n,) against predictions (n, 1) trains as in Keras."""
    import pycnn as keras
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5])).astype(np.float32)          # shape (64,)
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
    labels = (y > 0).astype(np.float32)
    clf = keras.Sequential([keras.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    clf.compile(optimizer="adam", loss="binary_crossentropy")
    clf.fit(x, labels, epochs=2, verbose=0)


@pytest.mark.parametrize("call, msg", [
    (lambda: L.mse(np.zeros((2, 3)), np.zeros((2, 4))), r"y_true shape \(2, 3\) does not match"),
    (lambda: L.categorical_crossentropy(np.zeros((2, 3)), np.full((2, 1), 0.5)),
     r"y_true shape \(2, 3\) does not match y_pred shape \(2, 1\)"),
    (lambda: L.binary_crossentropy(np.zeros((4, 3)), np.full((4, 1), 0.5)), "does not match"),
    (lambda: L.MeanSquaredError()(np.zeros((2, 3)), np.zeros((2, 3)),
                                  sample_weight=np.ones(5)), "sample_weight of shape"),
    (lambda: L.MeanSquaredError(reduction="avg"), "reduction must be"),
    (lambda: L.mse([1.0], [2.0], reduction="batch"), "reduction must be"),
])
def test_mismatches_still_raise_clearly(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


@pytest.mark.parametrize("st, sp", [((N,), (N, 1)), ((N, 1), (N,)), ((N, 3), (N, 3)),
                                    ((N,), (N,)), ((N, 2, 2), (N, 2, 2, 1))])
@pytest.mark.parametrize("name", ["MeanSquaredError", "MeanAbsoluteError", "BinaryAccuracy"])
def test_metrics_align_ranks_as_keras(keras, name, st, sp):
    """Metrics follow the same rule: (n,) labels against (n, 1) predictions score per
    sample, not as an (n, n) table of every pair."""
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, st).astype(np.float64) if name == "BinaryAccuracy" else \
        rng.standard_normal(st)
    y_pred = rng.uniform(0, 1, sp)
    ours = getattr(pycnn.metrics, name)()
    ours.update_state(y_true, y_pred)
    theirs = getattr(keras.metrics, name)()
    theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(ours.result(), float(theirs.result()), rtol=1e-6)


# ---- Keras' other losses, composed from pycnn.ops ----------------------------------------

COMPOSED = {          # class: (kwargs, y_true kind, y_pred kind)
    "MeanAbsoluteError": ({}, "real", "real"),
    "MeanAbsolutePercentageError": ({}, "real", "real"),
    "MeanSquaredLogarithmicError": ({}, "positive", "positive"),
    "Huber": ({"delta": 0.7}, "real", "real"),
    "LogCosh": ({}, "real", "real"),
    "KLDivergence": ({}, "probs", "probs"),
    "Poisson": ({}, "positive", "positive"),
    "Hinge": ({}, "binary", "real"),
    "SquaredHinge": ({}, "signs", "real"),
    "CategoricalHinge": ({}, "onehot", "real"),
    "CosineSimilarity": ({"axis": -1}, "real", "real"),
}
COMPOSED_SHAPES = [((N, 3), (N, 3)), ((N,), (N, 1)), ((N, 2, 3), (N, 2, 3))]


def _values(kind, shape, rng):
    if kind == "real":
        return rng.standard_normal(shape) * 1.5
    if kind == "positive":
        return rng.uniform(0.1, 3.0, shape)
    if kind == "probs":         # a distribution over the last axis (when it has several)
        p = rng.uniform(0.05, 0.95, shape)
        return p / p.sum(axis=-1, keepdims=True) if shape[-1] > 1 else p
    if kind == "binary":
        return rng.integers(0, 2, shape).astype(np.float64)
    if kind == "signs":
        return rng.choice([-1.0, 1.0], shape)
    return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]        # onehot


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("st, sp", COMPOSED_SHAPES, ids=str)
@pytest.mark.parametrize("cls", list(COMPOSED))
def test_composed_loss_matches_keras(keras, cls, st, sp, reduction):
    import torch
    kwargs, true_kind, pred_kind = COMPOSED[cls]
    if cls == "CategoricalHinge" and st[-1] == 1 or (cls == "CategoricalHinge" and
                                                     len(st) == 1):
        st, sp = (N, 3), (N, 3)
    rng = np.random.default_rng(5)
    y_true, y_pred = _values(true_kind, st, rng), _values(pred_kind, sp, rng)
    ours = getattr(L, cls)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, cls)(reduction=reduction, **kwargs)
    t = pycnn.tensor(y_pred, requires_grad=True)
    value = ours(y_true, t)
    kp = torch.tensor(y_pred, requires_grad=True)
    kvalue = theirs(torch.tensor(y_true), kp)
    # Keras computes a few of these in float32 (its epsilon is a float32 tensor)
    rtol = 1e-5 if kvalue.dtype == torch.float32 else 1e-9
    np.testing.assert_allclose(value.numpy(), kvalue.detach().numpy(), rtol=rtol, atol=1e-9)
    r = np.random.default_rng(1).standard_normal(kvalue.shape)
    value.backward(r)
    kvalue.backward(torch.tensor(r, dtype=kvalue.dtype))
    np.testing.assert_allclose(t.grad.numpy(), kp.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert pycnn.gradcheck(lambda p: ours(y_true, p), [y_pred.copy()])
    assert ours.name == theirs.name
    assert value.dtype == np.float64
    assert ours(y_true.tolist(), y_pred.astype(np.float32)).dtype == np.float32


def test_composed_losses_by_name_and_config():
    for alias, fn in (("mae", L.mean_absolute_error), ("MAPE", L.mean_absolute_percentage_error),
                      ("msle", L.mean_squared_logarithmic_error), ("kld", L.kl_divergence),
                      ("huber", L.huber), ("log_cosh", L.log_cosh), ("poisson", L.poisson)):
        assert L.get(alias) is fn
    huber = L.get({"class_name": "Huber", "config": {"delta": 0.25, "name": "h"}})
    assert huber.delta == 0.25 and huber.name == "h"
    assert L.get(L.serialize(huber)).get_config() == huber.get_config()
    assert L.serialize(L.log_cosh) == "log_cosh"
    with pytest.raises(TypeError, match="unexpected keyword"):
        L.Huber(alpha=1.0)


def test_fit_with_a_composed_loss():
    import pycnn as keras
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5])).astype(np.float32)
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=keras.optimizers.SGD(0.2), loss=keras.losses.Huber(delta=0.5))
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 1e-3 * history.history["loss"][0]


def test_a_keras_style_loss_subclass_runs_as_in_keras(keras):
    """Keras' guide's CustomMSE (a Loss subclass with call()), written once against each
    library: same values and gradients, with and without sample_weight; it trains in fit."""
    import torch

    def custom_mse(base, ops):
        class CustomMSE(base.losses.Loss):
            def __init__(self, regularization_factor=0.1, name="custom_mse"):
                super().__init__(name=name)
                self.regularization_factor = regularization_factor

            def call(self, y_true, y_pred):
                mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
                reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
                return mse + reg * self.regularization_factor
        return CustomMSE()

    ours, theirs = custom_mse(pycnn, pycnn.ops), custom_mse(keras, keras.ops)
    assert ours.name == theirs.name == "custom_mse"
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    weights = rng.uniform(0, 1, 5)
    for sample_weight in (None, weights):
        t = pycnn.tensor(y_pred, requires_grad=True)
        value = ours(y_true, t, sample_weight=sample_weight)
        kp = torch.tensor(y_pred, requires_grad=True)
        kvalue = theirs(torch.tensor(y_true), kp, sample_weight=None if sample_weight is None
                        else torch.tensor(sample_weight))
        np.testing.assert_allclose(value.item(), kvalue.item(), rtol=1e-6)
        value.backward()
        kvalue.backward()
        np.testing.assert_allclose(t.grad.numpy(), kp.grad.numpy(), rtol=1e-5)

    class Named(L.Loss):
        def call(self, y_true, y_pred):
            return pycnn.ops.abs(y_true - y_pred)
    assert Named().name == "named" and Named().get_config()["reduction"] == "mean"
    with pytest.raises(NotImplementedError, match="defines call"):
        L.Loss()(np.ones(2), np.ones(2))
    model = pycnn.Sequential([pycnn.layers.Dense(3, input_shape=(4,))])
    model.compile(optimizer="adam", loss=ours)
    history = model.fit(rng.standard_normal((32, 4)), rng.standard_normal((32, 3)), epochs=2,
                        verbose=0)
    assert np.isfinite(history.history["loss"]).all()
