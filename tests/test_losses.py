"""Losses: the lecture's numbers, NumPy agreement, gradients, stability at the extremes,
NaN masking, sparse labels and segmentation, YOLO against an independent NumPy version,
names, classes and errors."""
import json

import numpy as np
import pytest

import pycnn
import reference as ref
from helpers import check_op

L = pycnn.losses
REDUCTIONS = ["mean", "sum", "none"]


def probabilities(rng, shape):
    e = rng.uniform(0.1, 1.0, shape)
    return e / e.sum(axis=-1, keepdims=True)


def one_hot(rng, shape):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]


# ---- the lecture's numbers -------------------------------------------------------------

def test_lecture_categorical_crossentropy():
    loss = L.categorical_crossentropy([[0, 1, 0]], pycnn.tensor([[0.3, 0.6, 0.1]]))
    assert round(loss.item(), 4) == 0.5108
    np.testing.assert_allclose(loss.item(), -np.log(0.6), rtol=1e-6)
    assert round(L.sparse_categorical_crossentropy([1], [[0.3, 0.6, 0.1]]).item(), 4) == 0.5108
    logits = np.log([[0.3, 0.6, 0.1]])
    assert round(L.categorical_crossentropy([[0, 1, 0]], logits, from_logits=True).item(),
                 4) == 0.5108


def test_lecture_binary_crossentropy():
    assert round(L.binary_crossentropy([[1.0]], [[0.7]]).item(), 4) == 0.3567
    z = np.log(0.7 / 0.3)
    assert round(L.binary_crossentropy([[1.0]], [[z]], from_logits=True).item(), 4) == 0.3567


def test_squared_error_and_mse_side_by_side():
    y, p = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[2.0, 4.0], [0.0, 1.0]])
    assert L.squared_error(y, p).item() == pytest.approx((0.5 * 5 + 0.5 * 1) / 2)
    assert L.mean_squared_error(y, p).item() == pytest.approx((5 / 2 + 1 / 2) / 2)
    assert L.mse is L.mean_squared_error
    keypoints = np.arange(12.0).reshape(2, 3, 2)        # (N, M, 2): a sample is all of it
    np.testing.assert_allclose(L.squared_error(keypoints, keypoints + 1, reduction="none")
                               .numpy(), [3.0, 3.0])


# ---- agreement with the NumPy references, float32 and float64, plus gradcheck ------------

ROW_LOSSES = [
    ("squared_error", {}, "real"),
    ("mean_squared_error", {}, "real"),
    ("categorical_crossentropy", {}, "prob"),
    ("categorical_crossentropy", {"from_logits": True}, "logit"),
    ("binary_crossentropy", {}, "binary"),
    ("binary_crossentropy", {"from_logits": True}, "logit"),
    ("multilabel_crossentropy", {}, "binary"),
    ("multilabel_crossentropy", {"from_logits": True}, "logit"),
]


def row_inputs(name, kind, shape, rng):
    if kind == "real":
        return rng.standard_normal(shape), rng.standard_normal(shape)
    if name == "categorical_crossentropy":
        y = one_hot(rng, shape)
    else:
        y = rng.integers(0, 2, shape).astype(float)
    if kind == "prob":
        return y, probabilities(rng, shape)
    if kind == "binary":
        return y, rng.uniform(0.05, 0.95, shape)
    return y, rng.standard_normal(shape) * 3


@pytest.mark.parametrize("name,kw,kind", ROW_LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5)])
def test_row_losses_match_numpy_and_gradcheck(name, kw, kind, reduction, shape, rng):
    y, p = row_inputs(name, kind, shape, rng)
    check_op(lambda t: getattr(L, name)(y, t, reduction=reduction, **kw),
             lambda a: getattr(ref, name)(y, a, reduction=reduction, **kw), None, inputs=[p])


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sparse_matches_numpy_and_gradcheck(from_logits, reduction, rng):
    labels = rng.integers(0, 4, (2, 3))
    p = rng.standard_normal((2, 3, 4)) if from_logits else probabilities(rng, (2, 3, 4))
    check_op(lambda t: L.sparse_categorical_crossentropy(labels, t, from_logits=from_logits,
                                                         reduction=reduction),
             lambda a: ref.sparse_categorical_crossentropy(labels, a, from_logits,
                                                           reduction=reduction),
             None, inputs=[p])


def test_cross_entropies_on_random_batches_equal_reference(rng):
    y, p = one_hot(rng, (64, 10)), probabilities(rng, (64, 10))
    z = rng.standard_normal((64, 10)) * 5
    np.testing.assert_allclose(L.categorical_crossentropy(y, p).item(),
                               ref.categorical_crossentropy(y, p), rtol=1e-12)
    np.testing.assert_allclose(L.categorical_crossentropy(y, z, from_logits=True).item(),
                               ref.categorical_crossentropy(y, z, True), rtol=1e-12)
    yb = rng.integers(0, 2, (64, 10)).astype(float)
    np.testing.assert_allclose(L.binary_crossentropy(yb, z, from_logits=True).item(),
                               ref.binary_crossentropy(yb, z, True), rtol=1e-12)
    np.testing.assert_allclose(L.binary_crossentropy(yb, p).item(),
                               ref.binary_crossentropy(yb, p), rtol=1e-12)


def test_softmax_then_crossentropy_equals_from_logits(rng):
    y, z = one_hot(rng, (8, 5)), rng.standard_normal((8, 5))
    a = L.categorical_crossentropy(y, pycnn.softmax(pycnn.tensor(z))).item()
    b = L.categorical_crossentropy(y, z, from_logits=True).item()
    assert a == pytest.approx(b, rel=1e-12)


def test_categorical_rescales_probabilities_like_keras():
    # p sums to 2: Keras divides by the sum first, so this is -ln(0.6) again
    loss = L.categorical_crossentropy([[0, 1, 0]], [[0.6, 1.2, 0.2]]).item()
    assert loss == pytest.approx(-np.log(0.6), rel=1e-6)


# ---- stability: logits ±1000, probabilities exactly 0 and 1 -------------------------------

def finite_loss_and_grad(fn, y, p, dtype):
    t = pycnn.tensor(np.asarray(p, dtype=dtype), requires_grad=True)
    with np.errstate(all="raise"):
        loss = fn(y, t)
        loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(t.grad.numpy()))
    return loss.item(), t.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_at_1000_are_exact(dtype):
    z = [[1000.0, -1000.0, 0.0]]
    loss, g = finite_loss_and_grad(
        lambda y, t: L.categorical_crossentropy(y, t, from_logits=True), [[0, 1, 0]], z, dtype)
    assert loss == 2000.0
    np.testing.assert_allclose(g, [[1.0, -1.0, 0.0]], atol=1e-6)
    loss, _ = finite_loss_and_grad(
        lambda y, t: L.sparse_categorical_crossentropy(y, t, from_logits=True), [0], z, dtype)
    assert loss == 0.0
    zb = [[1000.0, -1000.0, 1000.0, -1000.0]]
    yb = [[1.0, 0.0, 0.0, 1.0]]
    loss, g = finite_loss_and_grad(
        lambda y, t: L.binary_crossentropy(y, t, from_logits=True), yb, zb, dtype)
    assert loss == 500.0                                # (0 + 0 + 1000 + 1000) / 4
    np.testing.assert_allclose(g, [[0.0, 0.0, 0.25, -0.25]])
    loss, _ = finite_loss_and_grad(
        lambda y, t: L.multilabel_crossentropy(y, t, from_logits=True), yb, zb, dtype)
    assert loss == 2000.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["categorical_crossentropy", "binary_crossentropy",
                                  "multilabel_crossentropy"])
def test_probabilities_exactly_0_and_1(name, dtype):
    y = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    p = [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]              # one right, one confidently wrong
    loss, _ = finite_loss_and_grad(getattr(L, name), y, p, dtype)
    assert loss > 0
    per = getattr(L, name)(y, np.asarray(p, dtype=dtype), reduction="none").numpy()
    assert per[0] < 1e-5 and per[1] > 10                # clipped at 1e-7: large, not inf
    if dtype == np.float64:
        np.testing.assert_allclose(per, getattr(ref, name)(np.array(y), np.array(p),
                                                           reduction="none"), rtol=1e-12)
    finite_loss_and_grad(L.sparse_categorical_crossentropy, [1, 0], p, dtype)


# ---- NaN masking ------------------------------------------------------------------------

@pytest.mark.parametrize("from_logits", [False, True])
def test_unknown_label_adds_nothing(from_logits, rng):
    y = np.array([[1.0, 1.0, np.nan, 0.0]])              # the lecture's [1, 1, ?, 0]
    p = rng.uniform(-2, 2, (1, 4)) if from_logits else rng.uniform(0.1, 0.9, (1, 4))
    t = pycnn.tensor(p, requires_grad=True)
    loss = L.multilabel_crossentropy(y, t, from_logits=from_logits)
    loss.backward()
    assert t.grad.numpy()[0, 2] == 0.0
    assert np.all(t.grad.numpy()[0, [0, 1, 3]] != 0.0)
    p2 = p.copy()
    p2[0, 2] = 0.123
    assert L.multilabel_crossentropy(y, p2, from_logits=from_logits).item() == loss.item()
    known = L.multilabel_crossentropy(y[:, [0, 1, 3]], p[:, [0, 1, 3]], from_logits=from_logits)
    assert known.item() == pytest.approx(loss.item(), rel=1e-14)
    assert pycnn.gradcheck(lambda a: L.multilabel_crossentropy(y, a, from_logits=from_logits),
                           [p])


def test_multilabel_sums_over_labels_while_binary_averages(rng):
    y, p = rng.integers(0, 2, (3, 4)).astype(float), rng.uniform(0.1, 0.9, (3, 4))
    assert L.multilabel_crossentropy(y, p).item() == pytest.approx(
        4 * L.binary_crossentropy(y, p).item())


# ---- sparse labels: segmentation, ignore_index, label checks ------------------------------

def test_segmentation_pixelwise(rng):
    z = rng.standard_normal((2, 4, 5, 3))               # (N, H, W, C) scores
    labels = rng.integers(0, 3, (2, 4, 5))
    loss = L.sparse_categorical_crossentropy(labels, z, from_logits=True)
    expected = ref.categorical_crossentropy(np.eye(3)[labels], z, True)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    per = L.sparse_categorical_crossentropy(labels, z, from_logits=True, reduction="none")
    assert per.shape == (2, 4, 5)
    assert L.sparse_categorical_crossentropy(labels[..., None], z, from_logits=True).item() == \
        loss.item()


def test_ignore_index_means_over_counted_pixels(rng):
    z = rng.standard_normal((1, 2, 3, 4))
    labels = np.array([[[0, 255, 1], [3, 255, 2]]])
    got = L.sparse_categorical_crossentropy(labels, z, from_logits=True, ignore_index=255)
    keep = labels != 255
    per = ref.categorical_crossentropy(np.eye(4)[np.where(keep, labels, 0)], z, True,
                                       reduction="none")
    assert got.item() == pytest.approx(per[keep].mean(), rel=1e-12)
    assert L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)(
        labels, z).item() == got.item()
    t = pycnn.tensor(z, requires_grad=True)
    L.sparse_categorical_crossentropy(labels, t, from_logits=True, ignore_index=255).backward()
    assert np.all(t.grad.numpy()[~keep] == 0.0)
    assert pycnn.gradcheck(lambda a: L.sparse_categorical_crossentropy(
        labels, a, from_logits=True, ignore_index=255), [z])
    all_ignored = L.sparse_categorical_crossentropy(np.full((1, 2, 3), -100), z,
                                                    from_logits=True, ignore_index=-100)
    assert all_ignored.item() == 0.0


def test_bad_labels_raise_value_error_naming_the_label():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: label 3 at y_true "
                                         r"index \(1,\) is not a class index in \[0, 3\)"):
        L.sparse_categorical_crossentropy([0, 3], p)
    with pytest.raises(ValueError, match=r"label -1 at y_true index \(0,\)"):
        L.sparse_categorical_crossentropy([-1, 0], p)
    with pytest.raises(ValueError, match=r"label 1.5 "):
        L.sparse_categorical_crossentropy(np.array([1.5, 0.0]), p)
    with pytest.raises(ValueError, match=r"label 255 .*\(1, 0\)"):
        L.sparse_categorical_crossentropy([[0, 1], [255, 2]], np.full((2, 2, 3), 1 / 3),
                                          ignore_index=-1)
    with pytest.raises(ValueError, match=r"y_true shape \(3,\) does not match y_pred shape "
                                         r"\(2, 3\)"):
        L.sparse_categorical_crossentropy([0, 1, 2], p)
    with pytest.raises(ValueError, match="disagree"):
        L.sparse_categorical_crossentropy([0, 1], p, ignore_index=1, ignore_class=2)


# ---- the graph: parents, op names, y_true constant ------------------------------------------

OP_NAMES = [
    (L.squared_error, {}, "squared_error"),
    (L.mean_squared_error, {}, "mean_squared_error"),
    (L.categorical_crossentropy, {}, "categorical_crossentropy"),
    (L.categorical_crossentropy, {"from_logits": True}, "categorical_crossentropy_from_logits"),
    (L.binary_crossentropy, {}, "binary_crossentropy"),
    (L.binary_crossentropy, {"from_logits": True}, "binary_crossentropy_from_logits"),
    (L.multilabel_crossentropy, {}, "multilabel_crossentropy"),
    (L.multilabel_crossentropy, {"from_logits": True}, "multilabel_crossentropy_from_logits"),
]


@pytest.mark.parametrize("fn,kw,op", OP_NAMES)
def test_loss_nodes_record_pred_and_constant_truth(fn, kw, op):
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    p = pycnn.tensor([[0.2, 0.8], [0.6, 0.4]], requires_grad=True)
    loss = fn(y, p, **kw)
    assert loss.op == op and loss.shape == ()
    pred, truth = loss.parents
    assert pred is p and not truth.requires_grad
    np.testing.assert_array_equal(truth.numpy(), y.astype(np.float32))


def test_sparse_and_yolo_op_names():
    p = pycnn.tensor([[0.2, 0.8]], requires_grad=True)
    loss = L.sparse_categorical_crossentropy([1], p)
    assert loss.op == "sparse_categorical_crossentropy"
    assert loss.parents[0] is p and loss.parents[1].numpy().tolist() == [1.0]
    assert L.sparse_categorical_crossentropy([1], p, from_logits=True).op == \
        "sparse_categorical_crossentropy_from_logits"


def test_y_true_tensor_needing_grad_gets_none(rng):
    y = pycnn.tensor(one_hot(rng, (3, 4)), requires_grad=True)
    p = pycnn.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    L.categorical_crossentropy(y, p, from_logits=True).backward()
    assert y.grad is None and p.grad is not None
    y_plain = pycnn.tensor(one_hot(rng, (3, 4)))
    assert L.mse(y_plain, p).parents[1] is y_plain


def test_float32_in_float32_out(rng):
    p = pycnn.tensor(probabilities(rng, (4, 3)).astype(np.float32))
    assert L.categorical_crossentropy(one_hot(rng, (4, 3)), p).dtype == np.float32


# ---- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("fn,kw,op", OP_NAMES)
def test_shape_mismatch_names_loss_and_shapes(fn, kw, op):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: y_true shape \(2, 3\) does not match "
                                         rf"y_pred shape \(2, 4\)"):
        fn(np.zeros((2, 3)), np.full((2, 4), 0.25), **kw)


def test_bad_reduction_scalar_and_types():
    with pytest.raises(ValueError, match="categorical_crossentropy: reduction must be 'mean', "
                                         "'sum' or 'none', got 'avg'"):
        L.categorical_crossentropy([[1.0]], [[1.0]], reduction="avg")
    with pytest.raises(ValueError, match="CategoricalCrossentropy: reduction"):
        L.CategoricalCrossentropy(reduction="avg")
    with pytest.raises(ValueError, match="mean_squared_error: y_pred must have at least 1"):
        L.mse(1.0, 2.0)
    with pytest.raises(TypeError, match="binary_crossentropy"):
        L.binary_crossentropy(["a"], [0.5])
    assert L.mse([1.0], [3.0], reduction="sum_over_batch_size").item() == 4.0


# ---- YOLO ----------------------------------------------------------------------------------

def numpy_yolo(y_true, y_pred, S, B, C, lambda_coord=5.0, lambda_noobj=0.5, eps=1e-6):
    """Plain-NumPy YOLO v1 loss, written from the issue's text: per image the five terms."""
    def corners(cx, cy, w, h):
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def iou(a, b):
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = iw * ih
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union if union > 0 else 0.0

    N = y_pred.shape[0]
    parts = np.zeros((N, 5))
    for n in range(N):
        for row in range(S):
            for col in range(S):
                t, p = y_true[n, row, col], y_pred[n, row, col]
                boxes = p[:B * 5].reshape(B, 5)
                responsible = np.zeros(B, bool)
                if t[4] == 1:
                    true_box = corners((col + t[0]) / S, (row + t[1]) / S, t[2], t[3])
                    ious = [iou(corners((col + b[0]) / S, (row + b[1]) / S, max(b[2], 0),
                                        max(b[3], 0)), true_box) for b in boxes]
                    j = int(np.argmax(ious))            # first maximum: lowest j at ties
                    responsible[j] = True
                    b = boxes[j]
                    parts[n, 0] += lambda_coord * ((t[0] - b[0]) ** 2 + (t[1] - b[1]) ** 2)
                    parts[n, 1] += lambda_coord * sum(
                        (np.sqrt(t[k] + eps) - np.sqrt(max(b[k], 0) + eps)) ** 2 for k in (2, 3))
                    parts[n, 2] += (b[4] - 1) ** 2
                    parts[n, 4] += np.sum((t[5:] - p[B * 5:]) ** 2)
                parts[n, 3] += lambda_noobj * np.sum(boxes[~responsible, 4] ** 2)
    return parts


def yolo_batch(rng, N=2, S=3, B=2, C=4, p_obj=0.5):
    y_true = np.zeros((N, S, S, 5 + C))
    y_true[..., :4] = rng.uniform(0.05, 0.95, (N, S, S, 4))
    y_true[..., 4] = rng.random((N, S, S)) < p_obj
    if C:
        y_true[..., 5:] = np.eye(C)[rng.integers(0, C, (N, S, S))]
    y_pred = rng.uniform(0.05, 0.95, (N, S, S, B * 5 + C))
    return y_true, y_pred


@pytest.mark.parametrize("S,B,C", [(3, 2, 4), (2, 3, 1), (7, 2, 20), (4, 1, 0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_yolo_matches_independent_numpy(S, B, C, dtype, rng):
    y_true, y_pred = yolo_batch(rng, S=S, B=B, C=C)
    y_pred[0, 0, 0, 2] = -0.3                           # a negative width is clamped at 0
    expected = numpy_yolo(y_true, y_pred, S, B, C)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    total, parts = L.yolo_loss(y_true, y_pred.astype(dtype), S=S, B=B, C=C, return_parts=True)
    assert total.item() == pytest.approx(expected.sum() / len(y_pred), rel=tol)
    assert list(parts) == ["coord_xy", "coord_wh", "obj", "noobj", "cls"]
    for i, (key, part) in enumerate(parts.items()):
        assert part.item() == pytest.approx(expected[:, i].mean(), rel=tol, abs=1e-12)
        assert part.name == key
    none = L.yolo_loss(y_true, y_pred.astype(dtype), S=S, B=B, C=C, reduction="none")
    np.testing.assert_allclose(none.numpy(), expected.sum(axis=1), rtol=tol)
    assert L.yolo_loss(y_true, y_pred, S=S, B=B, C=C, lambda_coord=1.0, lambda_noobj=2.0
                       ).item() == pytest.approx(
        numpy_yolo(y_true, y_pred, S, B, C, 1.0, 2.0).sum() / len(y_pred), rel=1e-10)


def test_yolo_gradcheck_total_and_parts(rng):
    y_true, y_pred = yolo_batch(rng, N=2, S=2, B=2, C=3, p_obj=0.6)
    for reduction in REDUCTIONS:
        assert pycnn.gradcheck(lambda p: L.yolo_loss(y_true, p, S=2, B=2, C=3,
                                                     reduction=reduction), [y_pred])
    for key in ("coord_xy", "coord_wh", "obj", "noobj", "cls"):
        assert pycnn.gradcheck(lambda p: L.yolo_loss(y_true, p, S=2, B=2, C=3,
                                                     return_parts=True)[1][key], [y_pred])


def test_yolo_parts_add_up_and_backpropagate(rng):
    y_true, y_pred = yolo_batch(rng)
    p = pycnn.tensor(y_pred, requires_grad=True)
    total, parts = L.yolo_loss(y_true, p, S=3, B=2, C=4, return_parts=True)
    assert sum(v.item() for v in parts.values()) == pytest.approx(total.item(), rel=1e-12)
    assert total.op == "yolo_loss" and total.parents[0] is p
    parts["cls"].backward()
    g = p.grad.numpy()
    assert np.all(g[..., :10] == 0.0) and np.any(g[..., 10:] != 0)


def test_yolo_responsible_box_tie_goes_to_lowest_j():
    S, B, C = 1, 2, 0
    y_true = np.array([[[[0.5, 0.5, 0.4, 0.4, 1.0]]]])
    box = [0.4, 0.6, 0.3, 0.5, 0.7]
    y_pred = pycnn.tensor(np.array([[[box + box]]]), requires_grad=True)     # equal IoUs
    total, parts = L.yolo_loss(y_true, y_pred, S=S, B=B, C=C, return_parts=True)
    assert parts["noobj"].item() == pytest.approx(0.5 * 0.7 ** 2)            # box 1 is noobj
    total.backward()
    g = y_pred.grad.numpy()[0, 0, 0]
    assert np.all(g[:4] != 0) and np.all(g[5:9] == 0)                        # coords: box 0
    assert g[4] == pytest.approx(2 * (0.7 - 1)) and g[9] == pytest.approx(0.5 * 2 * 0.7)


def test_yolo_higher_iou_wins_and_clamped_size_has_zero_gradient():
    y_true = np.array([[[[0.5, 0.5, 0.4, 0.4, 1.0]]]])
    far = [0.0, 0.0, -0.2, 0.1, 0.3]                    # negative w: clamped, IoU 0
    near = [0.5, 0.5, 0.4, 0.3, 0.9]
    y_pred = pycnn.tensor(np.array([[[far + near]]]), requires_grad=True)
    total, parts = L.yolo_loss(y_true, y_pred, S=1, B=2, C=0, return_parts=True)
    assert parts["coord_xy"].item() == 0.0 and parts["obj"].item() == pytest.approx(0.01)
    y_pred2 = pycnn.tensor(np.array([[[near[:2] + [-0.2, 0.3, 0.9] + far]]]),
                           requires_grad=True)
    L.yolo_loss(y_true, y_pred2, S=1, B=2, C=0).backward()
    g = y_pred2.grad.numpy()[0, 0, 0]
    assert g[2] == 0.0 and np.all(np.isfinite(g))      # the clamp passes no gradient
    zero_w = pycnn.tensor(np.array([[[[0.5, 0.5, 0.0, 0.4, 1.0]]]]), requires_grad=True)
    L.yolo_loss(y_true, zero_w, S=1, B=1, C=0).backward()
    assert np.all(np.isfinite(zero_w.grad.numpy()))


def test_yolo_bad_shapes():
    with pytest.raises(ValueError, match=r"yolo_loss: y_true shape \(1, 7, 7, 25\) does not "
                                         r"match y_pred shape \(1, 7, 7, 29\) \(S=7, B=2, C=20 "
                                         r"need y_pred \(N, 7, 7, 30\) and y_true \(N, 7, 7, 25\)"):
        L.yolo_loss(np.zeros((1, 7, 7, 25)), np.zeros((1, 7, 7, 29)))
    with pytest.raises(ValueError, match=r"y_true shape \(2, 7, 7, 25\)"):
        L.yolo_loss(np.zeros((2, 7, 7, 25)), np.zeros((1, 7, 7, 30)))
    with pytest.raises(ValueError, match="need S >= 1"):
        L.yolo_loss(np.zeros((1, 1, 1, 5)), np.zeros((1, 1, 1, 5)), S=1, B=0, C=0)


# ---- classes, names, get / serialize ---------------------------------------------------------

CLASSES = [
    (L.SquaredError, {}, "squared_error"),
    (L.MeanSquaredError, {}, "mean_squared_error"),
    (L.CategoricalCrossentropy, {"from_logits": True}, "categorical_crossentropy"),
    (L.SparseCategoricalCrossentropy, {"ignore_index": 0}, "sparse_categorical_crossentropy"),
    (L.BinaryCrossentropy, {"from_logits": True}, "binary_crossentropy"),
    (L.MultilabelCrossentropy, {}, "multilabel_crossentropy"),
    (L.YoloLoss, {"S": 2, "C": 3}, "yolo_loss"),
]


@pytest.mark.parametrize("cls,kw,name", CLASSES)
def test_classes_configs_round_trip(cls, kw, name):
    loss = cls(reduction="sum", **kw)
    assert loss.name == name
    config = loss.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["reduction"] == "sum" and all(config[k] == v for k, v in kw.items())
    again = cls.from_config(config)
    assert again.get_config() == config
    assert L.get(L.serialize(loss)).get_config() == config
    assert L.get(cls.__name__).get_config()["name"] == name


def test_class_call_equals_function(rng):
    y, z = one_hot(rng, (5, 3)), rng.standard_normal((5, 3))
    loss = L.CategoricalCrossentropy(from_logits=True)
    assert loss(y, z).item() == L.categorical_crossentropy(y, z, from_logits=True).item()
    y_true, y_pred = yolo_batch(rng, S=2, C=3)
    assert L.YoloLoss(S=2, C=3)(y_true, y_pred).item() == \
        L.yolo_loss(y_true, y_pred, S=2, C=3).item()


@pytest.mark.parametrize("name", ["categorical_crossentropy", "sparse_categorical_crossentropy",
                                  "binary_crossentropy", "mse", "mean_squared_error",
                                  "squared_error", "multilabel_crossentropy"])
def test_get_resolves_names_to_scalar_losses(name, rng):
    fn = L.get(name)
    y = rng.integers(0, 3, (4,)) if name.startswith("sparse") else one_hot(rng, (4, 3))
    out = fn(y, probabilities(rng, (4, 3)))
    assert isinstance(out, pycnn.Tensor) and out.shape == ()
    assert L.serialize(fn) in (name, "mean_squared_error")


def test_get_passes_instances_and_callables_and_rejects_junk():
    inst = L.BinaryCrossentropy()
    assert L.get(inst) is inst
    assert L.get(L.mse) is L.mse and L.get(None) is None
    with pytest.raises(ValueError, match="unknown loss 'cross_entropy'; known: .*mse"):
        L.get("cross_entropy")
    with pytest.raises(TypeError, match="got int"):
        L.get(3)
    with pytest.raises(ValueError, match="cannot store"):
        L.serialize(lambda y, p: p)


def test_empty_batches_and_rows_do_not_crash():
    assert L.categorical_crossentropy(np.ones((3, 0)), np.ones((3, 0)), from_logits=True
                                      ).item() == 0.0
    assert L.mse(np.ones((0, 3)), np.ones((0, 3))).item() == 0.0
    assert L.sparse_categorical_crossentropy(np.zeros((0,)), np.ones((0, 4))).shape == ()
    assert L.yolo_loss(np.zeros((0, 7, 7, 25)), np.zeros((0, 7, 7, 30))).item() == 0.0


def test_agrees_with_pytorch_values_and_gradients(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = rng.standard_normal((3, 4, 5)) * 4                  # (N, H, C)
    labels = rng.integers(0, 5, (3, 4))
    labels[0, 1] = labels[2, 3] = -100
    y = rng.integers(0, 2, (3, 4, 5)).astype(float)
    cases = [
        (lambda t: L.sparse_categorical_crossentropy(labels, t, from_logits=True,
                                                     ignore_index=-100),
         lambda t: F.cross_entropy(t.permute(0, 2, 1), torch.tensor(labels), ignore_index=-100)),
        (lambda t: L.binary_crossentropy(y, t, from_logits=True),
         lambda t: F.binary_cross_entropy_with_logits(t, torch.tensor(y))),
        (lambda t: L.mse(y, t, reduction="sum"),
         lambda t: F.mse_loss(t, torch.tensor(y), reduction="sum") / 5),
    ]
    for ours, theirs in cases:
        t = pycnn.tensor(z, requires_grad=True)
        tt = torch.tensor(z, requires_grad=True)
        a, b = ours(t), theirs(tt)
        a.backward()
        b.backward()
        assert a.item() == pytest.approx(b.item(), rel=1e-12)
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_ignore_index_of_the_wrong_type_names_the_loss():
    with pytest.raises(TypeError, match="sparse_categorical_crossentropy: ignore_index must be "
                                        "None or an int, got str"):
        L.sparse_categorical_crossentropy([0, 1], np.ones((2, 3)), ignore_index="x")
    with pytest.raises(TypeError, match="ignore_index must be None or an int, got float"):
        L.sparse_categorical_crossentropy([0, 1], np.ones((2, 3)), ignore_index=1.5)
