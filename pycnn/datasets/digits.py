"""The 8×8 handwritten digits bundled with scikit-learn (UCI "Optical Recognition of
Handwritten Digits", 1,797 images of 43 writers), split into train and test like
``keras.datasets``. Offline: the file ships inside scikit-learn.

    >>> (x_train, y_train), (x_test, y_test) = pycnn.datasets.digits.load_data()
    >>> x_train.shape, y_train.shape        # ((1437, 8, 8), (1437,))
"""
import functools as _functools
import importlib.util as _importlib_util
import os as _os

import numpy as _np

__all__ = ["load_data", "IMAGE_SHAPE", "NUM_CLASSES"]

IMAGE_SHAPE = (8, 8)
NUM_CLASSES = 10


@_functools.lru_cache(maxsize=1)
def _load_all():
    """(images uint8 (1797, 8, 8) with values 0..16, labels uint8 (1797,)), read once."""
    spec = _importlib_util.find_spec("sklearn")
    if spec is None:
        raise ImportError("pycnn.datasets.digits needs scikit-learn, which ships the digits "
                          "file, and is not installed: pip install pycnn[notebook]")
    # Read sklearn's own file without importing sklearn (which takes about a second)
    path = _os.path.join(spec.submodule_search_locations[0], "datasets", "data",
                         "digits.csv.gz")
    if _os.path.exists(path):
        table = _np.loadtxt(path, delimiter=",", dtype=_np.float64)
    else:                                       # another layout: ask sklearn itself
        from sklearn.datasets import load_digits
        bunch = load_digits()
        table = _np.column_stack([bunch.data, bunch.target])
    images = table[:, :64].astype(_np.uint8).reshape(-1, 8, 8)
    labels = table[:, 64].astype(_np.uint8)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_data(test_split=0.2, seed=0, scale=True):
    """The digits as ``(x_train, y_train), (x_test, y_test)``.

    The split is stratified (each digit keeps its share in both parts) and fixed by
    ``seed``; the order within each part is shuffled by the same seed.

    Args:
        test_split: fraction of the images held out for the test set, in (0, 1).
        seed: the split's seed; the same seed gives the same split.
        scale: True (default): images float32 in [0, 1] (pixel / 16). False: the raw
            uint8 values 0..16.

    Returns:
        x: (n, 8, 8) images; y: (n,) uint8 labels 0..9. n_test = round(test_split · count)
        per digit (359 of the 1,797 at 0.2).
    """
    test_split = float(test_split)
    if not 0.0 < test_split < 1.0:
        raise ValueError(f"digits.load_data: test_split must be in (0, 1), got {test_split}")
    images, labels = _load_all()
    rng = _np.random.default_rng(seed)
    train, test = [], []
    for digit in range(NUM_CLASSES):            # ten classes, not a loop over pixels
        idx = rng.permutation(_np.flatnonzero(labels == digit))
        n_test = int(round(test_split * idx.size))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train = rng.permutation(_np.concatenate(train))
    test = rng.permutation(_np.concatenate(test))
    if scale:
        x = images.astype(_np.float32) / _np.float32(16.0)
    else:
        x = images.copy()
    return (x[train], labels[train]), (x[test], labels[test])
