"""The task zoo's part of pycnn.datasets.shapes (csrc/kernels/shapes.c, csrc/py/shapes.c):
the C rasteriser against the NumPy formulas, multi-label, keypoint and ignore-border
targets, the landmark and pose generators, encode_yolo."""
import numpy as np
import pytest

from pycnn import _core
from pycnn.datasets import shapes


def numpy_rasterise(layout, n, size):
    """The generator's NumPy rasteriser from before it moved to C, kept as the twin."""
    present, label, cx, cy, w, h, brightness = layout
    centres = np.arange(size, dtype=np.float64) + 0.5
    images = np.zeros((n, size, size))
    masks = np.zeros((n, size, size), np.uint8)
    for k in range(present.shape[1]):
        dx = centres[None, None, :] - cx[:, k, None, None]
        dy = centres[None, :, None] - cy[:, k, None, None]
        hw, hh = w[:, k, None, None] / 2, h[:, k, None, None] / 2
        rectangle = (np.abs(dx) <= hw) & (np.abs(dy) <= hh)
        circle = dx * dx + dy * dy <= hw * hw
        triangle = (np.abs(dy) <= hh) & (np.abs(dx) <= hw * (dy + hh) / (2 * hh))
        kind = label[:, k, None, None]
        inside = np.where(kind == 0, rectangle, np.where(kind == 1, circle, triangle))
        inside &= present[:, k, None, None]
        images = np.where(inside, brightness[:, k, None, None], images)
        masks = np.where(inside, (label[:, k, None, None] + 1).astype(np.uint8), masks)
    return images, masks


@pytest.mark.parametrize("size, grid, k", [(32, 4, 3), (16, 2, 4), (40, 5, 12)])
def test_c_rasteriser_is_the_numpy_one_bit_for_bit(size, grid, k):
    layout = shapes._layout(np.random.default_rng(size), 50, size, grid, k)
    images, masks = shapes._rasterise(layout, 50, size)
    want_images, want_masks = numpy_rasterise(layout, 50, size)
    np.testing.assert_array_equal(images, want_images)
    np.testing.assert_array_equal(masks, want_masks)


def test_multilabel_targets_name_the_classes_present():
    (_, t), _ = shapes.load_data(n_train=40, n_test=1, target="all", seed=1)
    boxes, labels = t["boxes"], t["multilabel"]
    assert labels.shape == (40, 3) and labels.dtype == np.float32
    for c in range(3):
        np.testing.assert_array_equal(labels[:, c], np.any(boxes[..., 0] == c, axis=1))
        np.testing.assert_array_equal(labels[:, c], np.any(t["mask"] == c + 1, axis=(1, 2)))


def test_keypoints_are_the_corners_of_each_box():
    (_, t), _ = shapes.load_data(n_train=30, n_test=1, target="all", seed=2)
    boxes, points = t["boxes"], t["keypoints"]
    assert points.shape == (30, 3, 4, 2)
    cls, cx, cy, w, h = (boxes[..., i] for i in range(5))
    left, right, top, bottom = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    rect, tri = cls == 0, cls == 2
    want_rect = np.stack([np.stack([left, top], -1), np.stack([right, top], -1),
                          np.stack([right, bottom], -1), np.stack([left, bottom], -1)], 2)
    np.testing.assert_allclose(points[rect], want_rect[rect], atol=1e-6)
    np.testing.assert_allclose(points[tri][:, 0], np.stack([cx, top], -1)[tri], atol=1e-6)
    np.testing.assert_allclose(points[tri][:, 1:3], want_rect[tri][:, 2:4], atol=1e-6)
    assert np.all(np.isnan(points[tri][:, 3]))
    assert np.all(np.isnan(points[(cls == 1) | (cls == -1)]))


def test_ignore_border_marks_the_pixels_next_to_another_class():
    (_, plain), _ = shapes.load_data(n_train=20, n_test=1, target="mask", seed=3)
    (_, marked), _ = shapes.load_data(n_train=20, n_test=1, target="mask", seed=3,
                                      ignore_border=1)
    # the twin: a pixel is ignored when its 3x3 neighbourhood (clipped) holds another class
    padded = np.pad(plain, ((0, 0), (1, 1), (1, 1)), mode="edge")
    mixed = np.zeros(plain.shape, bool)
    for di in range(3):
        for dj in range(3):
            mixed |= padded[:, di:di + 32, dj:dj + 32] != plain
    np.testing.assert_array_equal(marked, np.where(mixed, shapes.IGNORE, plain))
    assert 0 < mixed.mean() < 0.5
    assert np.array_equal(_core._mask_border(plain, 0, 255), plain)


def test_encode_yolo_is_the_yolo_target():
    (_, t), _ = shapes.load_data(n_train=25, n_test=1, target="all", seed=4)
    np.testing.assert_allclose(shapes.encode_yolo(t["boxes"], 4), t["yolo"], atol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(n, K, 6\)"):
        shapes.encode_yolo(np.zeros((2, 6)), 4)
    with pytest.raises(ValueError, match=r"classes must be integers in \[0, 3\)"):
        shapes.encode_yolo([[[5, 0.5, 0.5, 0.1, 0.1, 1]]], 4)
    with pytest.raises(ValueError, match="centres must lie in the image"):
        shapes.encode_yolo([[[0, 1.5, 0.5, 0.1, 0.1, 1]]], 4)


def test_landmarks_vertices_are_the_triangle_corners():
    (x, y), (xt, yt) = shapes.load_landmarks(n_train=40, n_test=8, image_size=32, noise=0.0,
                                             seed=5)
    assert x.shape == (40, 32, 32, 1) and y.shape == (40, 6) and yt.shape == (8, 6)
    p = y.reshape(-1, 3, 2) * 32
    # vertex 0 is the top one; the three run clockwise on screen (positive cross product
    # with y pointing down)
    assert np.all(p[:, 0, 1] <= p[:, 1:, 1].min(axis=1))
    cross = ((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
             - (p[:, 1, 1] - p[:, 0, 1]) * (p[:, 2, 0] - p[:, 0, 0]))
    assert np.all(cross > 0)
    # the lit area is the triangle's area (shoelace), to within its outline's pixels
    area = cross / 2
    lit = (x[..., 0] > 0).sum(axis=(1, 2))
    perimeter = np.sum(np.hypot(*(p - np.roll(p, 1, axis=1)).transpose(2, 0, 1)), axis=1)
    assert np.all(np.abs(lit - area) <= perimeter)
    (x2, y2), _ = shapes.load_landmarks(n_train=40, n_test=8, noise=0.0, seed=5)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(y[:8], yt)


def test_poses_joints_lie_on_the_drawn_figure():
    (x, y), _ = shapes.load_poses(n_train=30, n_test=2, noise=0.0, seed=6)
    assert x.shape == (30, 32, 32, 1) and y.shape == (30, len(shapes.JOINTS), 2)
    assert np.all((y > 0) & (y < 1))
    pixel = np.clip((y * 32).astype(int), 0, 31)
    n = np.arange(30)[:, None]
    assert np.all(x[n, pixel[..., 1], pixel[..., 0], 0] > 0), "every joint is on the figure"
    j = {name: i for i, name in enumerate(shapes.JOINTS)}
    assert np.all(y[:, j["left_hand"], 0] < y[:, j["right_hand"], 0])
    assert np.all(y[:, j["left_foot"], 0] < y[:, j["right_foot"], 0])
    assert np.all(y[:, j["head"], 1] < y[:, j["pelvis"], 1])


def test_bad_arguments_and_core_checks():
    with pytest.raises(ValueError, match="image_size must be at least 16"):
        shapes.load_poses(image_size=8)
    with pytest.raises(ValueError, match="number of images must be >= 0"):
        shapes.load_landmarks(n_train=-1)
    with pytest.raises(ValueError, match="not finite"):
        _core._segments_draw(np.full((1, 1, 6), np.nan), 8, 8)
    with pytest.raises(ValueError, match="not a shape kind"):
        _core._shapes_draw(np.ones((1, 1), np.uint8), np.array([[7]]), np.ones((1, 1, 5)), 8, 8)
    with pytest.raises(ValueError, match="height and width"):
        _core._triangles_draw(np.zeros((1, 7)), 0, 8)
    with pytest.raises(ValueError, match="ignore_border"):
        _core._mask_border(np.zeros((1, 4, 4), np.uint8), -1, 255)
