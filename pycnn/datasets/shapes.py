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
- ``'all'``: a dict with the three above.

    >>> (x_train, y_train), (x_test, y_test) = pycnn.datasets.shapes.load_data()
    >>> x_train.shape, y_train.shape        # ((512, 32, 32, 1), (512, 4, 4, 8))
"""
import numpy as _np

__all__ = ["load_data", "generate", "CLASSES", "TARGETS"]

CLASSES = ("rectangle", "circle", "triangle")
TARGETS = ("yolo", "mask", "boxes", "all")


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
    """Images (n, H, W) and masks (n, H, W): one vectorised pass per object slot."""
    present, label, cx, cy, w, h, brightness = layout
    centres = _np.arange(size, dtype=_np.float64) + 0.5
    images = _np.zeros((n, size, size))
    masks = _np.zeros((n, size, size), _np.uint8)
    for k in range(present.shape[1]):           # a few object slots, not pixels
        dx = centres[None, None, :] - cx[:, k, None, None]
        dy = centres[None, :, None] - cy[:, k, None, None]
        hw, hh = w[:, k, None, None] / 2, h[:, k, None, None] / 2
        rectangle = (_np.abs(dx) <= hw) & (_np.abs(dy) <= hh)
        circle = dx * dx + dy * dy <= hw * hw
        # apex at the top, base at the bottom: half-width grows linearly going down
        triangle = (_np.abs(dy) <= hh) & (_np.abs(dx) <= hw * (dy + hh) / (2 * hh))
        kind = label[:, k, None, None]
        inside = _np.where(kind == 0, rectangle, _np.where(kind == 1, circle, triangle))
        inside &= present[:, k, None, None]
        images = _np.where(inside, brightness[:, k, None, None], images)
        masks = _np.where(inside, (label[:, k, None, None] + 1).astype(_np.uint8), masks)
    return images, masks


def _yolo_targets(layout, n, size, grid):
    present, label, cx, cy, w, h, _ = layout
    cell = size / grid
    y = _np.zeros((n, grid, grid, 5 + len(CLASSES)), _np.float32)
    img, slot = _np.nonzero(present)
    col = _np.minimum((cx[img, slot] // cell).astype(_np.intp), grid - 1)
    row = _np.minimum((cy[img, slot] // cell).astype(_np.intp), grid - 1)
    y[img, row, col, 0] = cx[img, slot] / cell - col
    y[img, row, col, 1] = cy[img, slot] / cell - row
    y[img, row, col, 2] = w[img, slot] / size
    y[img, row, col, 3] = h[img, slot] / size
    y[img, row, col, 4] = 1.0
    y[img, row, col, 5 + label[img, slot]] = 1.0
    return y


def generate(n, image_size=32, grid_size=4, max_objects=3, noise=0.05, seed=0):
    """n images and all their targets: (images (n, H, W, 1) float32, dict of targets)."""
    _check_args(n, image_size, grid_size, max_objects)
    n, size, grid, k = int(n), int(image_size), int(grid_size), int(max_objects)
    rng = _np.random.default_rng(seed)
    layout = _layout(rng, n, size, grid, k)
    images, masks = _rasterise(layout, n, size)
    images = _np.clip(images + rng.normal(0.0, noise, size=images.shape), 0.0, 1.0)
    present, label, cx, cy, w, h, _ = layout
    boxes = _np.stack([_np.where(present, label, -1), cx / size, cy / size, w / size,
                       h / size, present], axis=-1).astype(_np.float32)
    boxes[~present, 1:5] = 0.0
    targets = {"yolo": _yolo_targets(layout, n, size, grid), "mask": masks, "boxes": boxes}
    return images[..., None].astype(_np.float32), targets


def load_data(n_train=512, n_test=128, image_size=32, grid_size=4, max_objects=3,
              noise=0.05, target="yolo", seed=0):
    """Synthetic shapes as ``(x_train, y_train), (x_test, y_test)``.

    Args:
        n_train, n_test: numbers of images.
        image_size: H = W in pixels; grid_size: S of the S×S YOLO grid.
        max_objects: each image holds 1..max_objects shapes (one per grid cell at most).
        noise: standard deviation of the Gaussian pixel noise.
        target: 'yolo', 'mask', 'boxes' or 'all' (see the module docstring).
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
        x, targets = generate(n, image_size, grid_size, max_objects, noise, s)
        parts.append((x, targets if target == "all" else targets[target]))
    return parts[0], parts[1]
