"""Synthetic shapes: deterministic teaching data for detection (YOLO) and pixel-wise
classification, made on the spot from a seed — no download, no files.

Each grayscale image (H×W×1, float32 in [0, 1], dark background with a little noise)
holds 1..max_objects filled shapes — rectangles, circles (disks) and triangles — of
random size and brightness. Each object's centre lies in its own cell of an S×S grid,
so every cell holds at most one object, as YOLO v1 assumes.

Targets:
- ``'yolo'``: (n, S, S, 5 + C) float32. For the cell holding an object's centre:
  ``(x, y, w, h, obj, one-hot class)`` where x, y ∈ [0, 1) locate the centre inside the
  cell (0 = its left/top edge), w, h ∈ (0, 1] are the box size as fractions of the image,
  obj = 1. Cells without an object are all zeros.
- ``'mask'``: (n, H, W) uint8 per-pixel classes: 0 = background, 1 + k = CLASSES[k].
- ``'boxes'``: (n, max_objects, 6) float32 rows ``(class, x_center, y_center, w, h,
  present)`` in image fractions; absent objects have present = 0 and class = -1.
- ``'multilabel'``: (n, C) float32 multi-label targets: 1 where the image holds at least one
  shape of class k, else 0.
- ``'keypoints'``: (n, max_objects, 4, 2) float32 corner points (x, y) in image
  fractions, per object: a rectangle's four corners (top-left, top-right, bottom-right,
  bottom-left); a triangle's apex, bottom-right and bottom-left corners and NaN; a
  circle has no corner (all NaN); absent objects are NaN.
- ``'all'``: a dict with all of the above.

``ignore_border=b`` marks every mask pixel within b pixels of another class as
``IGNORE`` (255), the "don't care" label of ``sparse_categorical_crossentropy(...,
ignore_index=shapes.IGNORE)``.

Two more generators make one object per image for point regression:
``load_landmarks`` (a triangle of any shape and its three vertices) and ``load_poses``
(a stick figure and its ``JOINTS``). ``encode_yolo`` turns box rows into the YOLO grid.
The pixel loops are C (``csrc/kernels/shapes.c``).

    >>> (x_train, y_train), (x_test, y_test) = pycnn.datasets.shapes.load_data()
    >>> x_train.shape, y_train.shape        # ((512, 32, 32, 1), (512, 4, 4, 8))
"""
import numpy as _np

from .. import _core

__all__ = ["load_data", "generate", "encode_yolo", "load_landmarks", "load_poses", "CLASSES",
           "TARGETS", "JOINTS", "BONES", "IGNORE"]

CLASSES = ("rectangle", "circle", "triangle")
TARGETS = ("yolo", "mask", "boxes", "multilabel", "keypoints", "all")
IGNORE = 255                    # the mask label of "don't care" border pixels


def _check_args(n, image_size, grid_size, max_objects):
    if int(n) < 0:
        raise ValueError(f"shapes: the number of images must be >= 0, got {n}")
    if int(grid_size) < 1 or int(image_size) < 4 * int(grid_size):
        raise ValueError(f"shapes: image_size {image_size} must be at least 4 pixels per grid "
                         f"cell (grid_size {grid_size})")
    if not 1 <= int(max_objects) <= int(grid_size) ** 2:
        raise ValueError(f"shapes: max_objects must be in [1, grid_size² = "
                         f"{int(grid_size) ** 2}], got {max_objects}")


def _layout(rng, n, size, grid, max_objects):
    """Where each object goes: (present, class, cx, cy, w, h, brightness), each (n, K)."""
    cell = size / grid
    count = rng.integers(1, max_objects + 1, size=n)
    present = _np.arange(max_objects)[None, :] < count[:, None]
    # distinct cells per image: the first K of a random order of the S·S cells
    cells = _np.argsort(rng.random((n, grid * grid)), axis=1)[:, :max_objects]
    row, col = _np.divmod(cells, grid)
    label = rng.integers(0, len(CLASSES), size=(n, max_objects))
    w = rng.uniform(0.7, 1.3, size=(n, max_objects)) * cell
    # rectangles get their own aspect ratio; circles and triangles are as tall as wide
    h = _np.where(label == 0, rng.uniform(0.6, 1.3, size=(n, max_objects)) * cell, w)
    cx = (col + rng.uniform(0.2, 0.8, size=(n, max_objects))) * cell
    cy = (row + rng.uniform(0.2, 0.8, size=(n, max_objects))) * cell
    # keep each shape inside the image; its centre stays in its own cell (w/2 < cell)
    cx = _np.clip(cx, w / 2, size - w / 2)
    cy = _np.clip(cy, h / 2, size - h / 2)
    brightness = rng.uniform(0.6, 1.0, size=(n, max_objects))
    return present, label, cx, cy, w, h, brightness


def _rasterise(layout, n, size):
    """Images (n, H, W) float64 and masks (n, H, W) uint8, drawn in C (kernels/shapes.c)."""
    present, label, cx, cy, w, h, brightness = layout
    geometry = _np.stack([cx, cy, w, h, brightness], axis=-1)
    return _core._shapes_draw(present.astype(_np.uint8), label.astype(_np.intp), geometry,
                              size, size)


def encode_yolo(boxes, grid_size, num_classes=len(CLASSES)):
    """YOLO v1 grid targets from box rows: (n, K, 6) rows ``(class, x_center, y_center, w, h,
    present)`` in image fractions (the ``'boxes'`` target) → (n, S, S, 5 + C) float32.

    The cell holding a box's centre gets ``(x, y, w, h, 1, one-hot class)`` with x, y the
    centre's offset inside the cell; the other cells are zeros. Two boxes in one cell:
    the later row wins (the generator never makes them).
    """
    boxes = _np.asarray(boxes, dtype=_np.float64)
    if boxes.ndim != 3 or boxes.shape[2] != 6:
        raise ValueError(f"encode_yolo: boxes must have shape (n, K, 6), got {boxes.shape}")
    grid = int(grid_size)
    n = len(boxes)
    y = _np.zeros((n, grid, grid, 5 + int(num_classes)), _np.float32)
    img, slot = _np.nonzero(boxes[..., 5] > 0.5)
    cls, cx, cy, w, h = (boxes[img, slot, i] for i in range(5))
    if _np.any((cls < 0) | (cls >= num_classes) | (cls != _np.round(cls))):
        raise ValueError(f"encode_yolo: classes must be integers in [0, {num_classes})")
    if _np.any((cx < 0) | (cx > 1) | (cy < 0) | (cy > 1)):
        raise ValueError("encode_yolo: box centres must lie in the image, [0, 1]")
    col = _np.minimum((cx * grid).astype(_np.intp), grid - 1)
    row = _np.minimum((cy * grid).astype(_np.intp), grid - 1)
    y[img, row, col, 0] = cx * grid - col
    y[img, row, col, 1] = cy * grid - row
    y[img, row, col, 2] = w
    y[img, row, col, 3] = h
    y[img, row, col, 4] = 1.0
    y[img, row, col, 5 + cls.astype(_np.intp)] = 1.0
    return y


def _keypoints(layout, size):
    """(n, K, 4, 2) corner points in image fractions, NaN where there is no corner."""
    present, label, cx, cy, w, h, _ = layout
    hw, hh = w / 2, h / 2
    corners = _np.stack([_np.stack([cx - hw, cy - hh], -1), _np.stack([cx + hw, cy - hh], -1),
                        _np.stack([cx + hw, cy + hh], -1), _np.stack([cx - hw, cy + hh], -1)],
                       axis=2)
    triangle = _np.stack([_np.stack([cx, cy - hh], -1), corners[:, :, 2], corners[:, :, 3],
                         _np.full(cx.shape + (2,), _np.nan)], axis=2)
    points = _np.where((label == 2)[..., None, None], triangle, corners) / size
    points[(label == 1) | ~present] = _np.nan
    return points.astype(_np.float32)


def generate(n, image_size=32, grid_size=4, max_objects=3, noise=0.05, seed=0,
             ignore_border=0):
    """n images and all their targets: (images (n, H, W, 1) float32, dict of targets)."""
    _check_args(n, image_size, grid_size, max_objects)
    n, size, grid, k = int(n), int(image_size), int(grid_size), int(max_objects)
    rng = _np.random.default_rng(seed)
    layout = _layout(rng, n, size, grid, k)
    images, masks = _rasterise(layout, n, size)
    images = _np.clip(images + rng.normal(0.0, noise, size=images.shape), 0.0, 1.0)
    present, label, cx, cy, w, h, _ = layout
    boxes = _np.stack([_np.where(present, label, -1), cx / size, cy / size, w / size,
                      h / size, present], axis=-1)
    boxes[~present, 1:5] = 0.0
    labels = _np.zeros((n, len(CLASSES)), _np.float32)
    labels[_np.nonzero(present)[0], label[present]] = 1.0
    if ignore_border:
        masks = _core._mask_border(masks, int(ignore_border), IGNORE)
    targets = {"yolo": encode_yolo(boxes, grid), "mask": masks,
               "boxes": boxes.astype(_np.float32), "multilabel": labels,
               "keypoints": _keypoints(layout, size)}
    return images[..., None].astype(_np.float32), targets


def load_data(n_train=512, n_test=128, image_size=32, grid_size=4, max_objects=3,
              noise=0.05, target="yolo", seed=0, ignore_border=0):
    """Synthetic shapes as ``(x_train, y_train), (x_test, y_test)``.

    Args:
        n_train, n_test: numbers of images.
        image_size: H = W in pixels; grid_size: S of the S×S YOLO grid.
        max_objects: each image holds 1..max_objects shapes (one per grid cell at most).
        noise: standard deviation of the Gaussian pixel noise.
        target: 'yolo', 'mask', 'boxes', 'multilabel', 'keypoints' or 'all' (see the module
            docstring).
        ignore_border: mask pixels within this many pixels of another class get the
            label IGNORE (255); 0 keeps every pixel.
        seed: the same seed gives the same images; train and test come from
            independent streams of it.

    Returns:
        x: (n, image_size, image_size, 1) float32 in [0, 1]; y as chosen by ``target``.
    """
    if target not in TARGETS:
        raise ValueError(f"shapes.load_data: target must be one of {TARGETS}, got {target!r}")
    train_seed, test_seed = _np.random.SeedSequence(seed).spawn(2)
    parts = []
    for n, s in ((n_train, train_seed), (n_test, test_seed)):
        x, targets = generate(n, image_size, grid_size, max_objects, noise, s, ignore_border)
        parts.append((x, targets if target == "all" else targets[target]))
    return parts[0], parts[1]


# ---- one object per image, for point regression -----------------------------------------

def _split(n_train, n_test, seed, make):
    """(x_train, y_train), (x_test, y_test) from make(n, rng), on independent streams."""
    for n in (n_train, n_test):
        if int(n) < 0:
            raise ValueError(f"shapes: the number of images must be >= 0, got {n}")
    streams = _np.random.SeedSequence(seed).spawn(2)
    return tuple(make(int(n), _np.random.default_rng(s))
                 for n, s in ((n_train, streams[0]), (n_test, streams[1])))


def _finish(images, rng, noise):
    images = _np.clip(images + rng.normal(0.0, noise, size=images.shape), 0.0, 1.0)
    return images[..., None].astype(_np.float32)


def _check_size(image_size, smallest, op):
    if int(image_size) < smallest:
        raise ValueError(f"shapes.{op}: image_size must be at least {smallest}, got {image_size}")
    return int(image_size)


def load_landmarks(n_train=512, n_test=128, image_size=32, noise=0.05, seed=0):
    """Facial-landmark-style data: one filled triangle per image, roughly upright (as faces
    in photos are) but of any shape, and its three vertices as the targets.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` with x (n, H, W, 1) float32 in [0, 1] and
        y (n, 6) float32 ``(x_0, y_0, x_1, y_1, x_2, y_2)`` in image fractions: vertex 0
        is the top one (smallest y), then the others clockwise on screen. Each vertex
        keeps its place (top, lower right, lower left) in every image, as a landmark
        (left eye, nose, ...) does: the labels are never ambiguous.
    """
    size = _check_size(image_size, 8, "load_landmarks")

    def make(n, rng):
        # roughly upright, as faces in a photo: vertex 0 within ±0.6 rad of straight up,
        # the others a third of a turn on each (±0.3 rad), so the labels never swap
        centre = rng.uniform(0.38, 0.62, (n, 1, 2)) * size
        angle = -_np.pi / 2 + rng.uniform(-0.6, 0.6, (n, 1)) \
            + _np.arange(3) * 2 * _np.pi / 3 + rng.uniform(-0.3, 0.3, (n, 3))
        radius = rng.uniform(0.22, 0.36, (n, 3)) * size
        points = centre + radius[..., None] * _np.stack([_np.cos(angle), _np.sin(angle)], -1)
        points = _np.clip(points, 0.5, size - 0.5)
        brightness = rng.uniform(0.6, 1.0, (n, 1))
        images, _ = _core._triangles_draw(_np.concatenate([points.reshape(n, 6), brightness], 1),
                                          size, size)
        return _finish(images, rng, noise), (points.reshape(n, 6) / size).astype(_np.float32)

    return _split(n_train, n_test, seed, make)


JOINTS = ("head", "neck", "pelvis", "left_hand", "right_hand", "left_knee", "right_knee",
          "left_foot", "right_foot")
BONES = (("head", "neck"), ("neck", "pelvis"), ("neck", "left_hand"), ("neck", "right_hand"),
         ("pelvis", "left_knee"), ("left_knee", "left_foot"), ("pelvis", "right_knee"),
         ("right_knee", "right_foot"))


def _limb(start, length, angle):
    """start + length · (sin angle, cos angle): angle 0 points down, > 0 to the right."""
    return start + length[:, None] * _np.stack([_np.sin(angle), _np.cos(angle)], axis=-1)


def load_poses(n_train=512, n_test=128, image_size=32, noise=0.05, seed=0):
    """Pose-estimation data: one stick figure per image (a head, a trunk, two arms, two
    legs bent at the knee, in random posture, size and place), and its ``JOINTS``.

    "left" is the limb on the image's left (x smaller), so the labels are unambiguous.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` with x (n, H, W, 1) float32 in [0, 1] and
        y (n, 9, 2) float32 joint positions (x, y) in image fractions, in JOINTS order.
    """
    size = _check_size(image_size, 16, "load_poses")

    def make(n, rng):
        u = lambda lo, hi: rng.uniform(lo, hi, n)              # noqa: E731
        height = u(0.6, 0.85) * size
        pelvis = _np.stack([u(0.4, 0.6) * size, u(0.5, 0.6) * size], axis=-1)
        lean = u(-0.3, 0.3)
        neck = _limb(pelvis, 0.36 * height, _np.pi + lean)
        head = _limb(neck, 0.13 * height, _np.pi + lean + u(-0.3, 0.3))
        hands = [_limb(neck, 0.32 * height, s * u(0.35, 2.4)) for s in (-1, 1)]
        knees = [_limb(pelvis, 0.26 * height, s * u(0.1, 0.7)) for s in (-1, 1)]
        feet = [_limb(k, 0.24 * height, s * u(-0.1, 0.5)) for k, s in zip(knees, (-1, 1))]
        joints = _np.stack([head, neck, pelvis, *hands, *knees, *feet], axis=1)   # (n, 9, 2)
        head_r = 0.08 * height
        limb_r = _np.full(n, max(0.7, size / 40))
        # move the whole figure inside the image (with its head's and limbs' thickness)
        margin = (head_r + 1.0)[:, None]
        low = joints.min(axis=1) - margin
        high = joints.max(axis=1) + margin
        joints += (_np.maximum(0, -low) - _np.maximum(0, high - size))[:, None]
        index = {name: i for i, name in enumerate(JOINTS)}
        brightness = u(0.6, 1.0)
        bones = [_np.concatenate([joints[:, index[a]], joints[:, index[b]], limb_r[:, None],
                                 brightness[:, None]], axis=1) for a, b in BONES]
        skull = _np.concatenate([joints[:, 0], joints[:, 0], head_r[:, None],
                                brightness[:, None]], axis=1)
        images = _core._segments_draw(_np.stack(bones + [skull], axis=1), size, size)
        return _finish(images, rng, noise), (joints / size).astype(_np.float32)

    return _split(n_train, n_test, seed, make)
