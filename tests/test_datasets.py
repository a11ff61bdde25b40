"""pycnn.datasets: digits (scikit-learn's file), mnist (IDX / npz files the tests write, and
the bundled test set), shapes (synthetic)."""
import gzip
import hashlib
import os
import pathlib
import warnings

import numpy as np
import pytest

from pycnn.datasets import digits, mnist, shapes

ROOT = pathlib.Path(__file__).resolve().parent.parent

# ---- digits ---------------------------------------------------------------------------


def test_digits_split_shapes_and_values():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    assert x_train.dtype == np.float32 and y_train.dtype == np.uint8
    assert 0.0 == x_train.min() and x_train.max() == 1.0
    assert set(np.unique(y_test)) == set(range(10))
    # stratified: every digit holds about a fifth of its images out
    assert np.all(np.abs(np.bincount(y_test) / (np.bincount(y_test) + np.bincount(y_train))
                         - 0.2) < 0.02)


def test_digits_split_is_a_partition_fixed_by_the_seed():
    (a, ya), (b, yb) = digits.load_data(seed=1)
    (a2, _), (b2, _) = digits.load_data(seed=1)
    (a3, _), _ = digits.load_data(seed=2)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert not np.array_equal(a, a3)
    (raw, _), (raw_test, _) = digits.load_data(seed=1, scale=False)
    assert raw.dtype == np.uint8 and raw.max() == 16
    np.testing.assert_array_equal(raw / np.float32(16), a)
    # the two parts together are the whole data set, each image once
    total = np.sort(np.concatenate([raw, raw_test]).reshape(-1, 64).sum(axis=1))
    reference = np.sort(digits._load_all()[0].reshape(-1, 64).sum(axis=1).astype(np.int64))
    np.testing.assert_array_equal(total, reference)


def test_digits_match_scikit_learn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = sklearn_datasets.load_digits()
    images, labels = digits._load_all()
    np.testing.assert_array_equal(images, bunch.images.astype(np.uint8))
    np.testing.assert_array_equal(labels, bunch.target)


def test_digits_bad_split():
    with pytest.raises(ValueError, match="test_split must be in \\(0, 1\\), got 1.5"):
        digits.load_data(test_split=1.5)

# ---- mnist ----------------------------------------------------------------------------


def write_idx(path, array, compress=False):
    codes = {np.uint8: 0x08, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D}
    array = np.asarray(array)
    header = bytes([0, 0, codes[array.dtype.type], array.ndim])
    header += np.asarray(array.shape, ">u4").tobytes()
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress:
        data = gzip.compress(data)
    with open(path, "wb") as f:
        f.write(data)


def small_mnist(rng, n_train=7, n_test=3):
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}


def write_mnist(folder, arrays, compress):
    os.makedirs(folder, exist_ok=True)
    for key, name in mnist.IDX_FILES.items():
        write_idx(os.path.join(folder, name + (".gz" if compress else "")), arrays[key],
                  compress)


def assert_loaded(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                     (y_test, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_idx_files(tmp_path, rng, compress):
    arrays = small_mnist(rng)
    write_mnist(tmp_path, arrays, compress)
    assert_loaded(mnist.load_data(tmp_path), arrays)


def test_mnist_search_order_env_then_home(tmp_path, rng, monkeypatch):
    arrays = small_mnist(rng)
    write_mnist(tmp_path / "env" / "mnist", arrays, compress=True)
    monkeypatch.setenv("PYCNN_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert_loaded(mnist.load_data(), arrays)
    other = small_mnist(rng, 4, 2)
    monkeypatch.delenv("PYCNN_DATA")
    np.savez(tmp_path / "home.npz", **other)
    os.makedirs(tmp_path / "home" / ".pycnn" / "datasets")
    os.replace(tmp_path / "home.npz", tmp_path / "home" / ".pycnn" / "datasets" / "mnist.npz")
    assert_loaded(mnist.load_data(), other)
    assert_loaded(mnist.load_data(tmp_path / "home" / ".pycnn" / "datasets" / "mnist.npz"),
                  other)


def test_mnist_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        mnist.load_data(tmp_path / "nowhere")        # an explicit path: no fallback
    message = str(err.value)
    assert "never downloads" in message
    assert str(tmp_path / "nowhere") in message
    assert "train-images-idx3-ubyte[.gz]" in message and "mnist.npz" in message


# the official counts of the 10,000 test images (shared/data/mnist/README.md)
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_bundled_files_are_the_unmodified_official_test_set():
    sums = {"t10k-images-idx3-ubyte.gz":
            "167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
            "t10k-labels-idx1-ubyte.gz":
            "fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c"}
    for name, digest in sums.items():
        with open(os.path.join(mnist.BUNDLED_DIR, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, name
    readme = open(os.path.join(mnist.BUNDLED_DIR, "README.md"), encoding="utf-8").read()
    assert "CC BY-SA 3.0" in readme and "unmodified" in readme
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    assert "Yann LeCun, Corinna Cortes" in notice and "CC BY-SA 3.0" in notice


def test_mnist_bundled_files_are_package_data():
    """Wheels and sdists carry the files: pyproject's package-data globs match them."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["pycnn.datasets"]
    package = ROOT / "pycnn" / "datasets"
    shipped = {p.relative_to(package).as_posix() for g in globs for p in package.glob(g)}
    assert shipped == {"data/mnist/t10k-images-idx3-ubyte.gz",
                       "data/mnist/t10k-labels-idx1-ubyte.gz", "data/mnist/README.md"}


def test_mnist_falls_back_to_the_bundled_split_and_says_so_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PYCNN_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist, "_told_bundled", False)
    with pytest.warns(mnist.BundledMNISTWarning, match="8,000 train / 2,000 test") as record:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert str(tmp_path / "nowhere") in str(record[0].message)
    assert x_train.shape == (8000, 28, 28) and y_train.shape == (8000,)
    assert x_test.shape == (2000, 28, 28) and y_test.shape == (2000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    # the documented rule: image i is a test image iff i % 5 == 4, file order kept
    images = mnist.read_idx(os.path.join(mnist.BUNDLED_DIR, "t10k-images-idx3-ubyte.gz"))
    labels = mnist.read_idx(os.path.join(mnist.BUNDLED_DIR, "t10k-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(x_test, images[4::5])
    np.testing.assert_array_equal(y_train, np.delete(labels, np.s_[4::5]))
    counts = np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10)
    assert counts.tolist() == MNIST_TEST_COUNTS
    assert np.bincount(y_test).min() >= 150          # every digit is in the test part
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # the second call is quiet
        (again, _), _ = mnist.load_data()
    np.testing.assert_array_equal(again, x_train)
    again[0, 0, 0] = 7                               # a copy: the cache stays intact
    assert mnist.load_bundled()[0][0][0, 0, 0] == x_train[0, 0, 0]


def test_mnist_full_files_win_over_the_bundled_ones(tmp_path, rng, monkeypatch):
    arrays = small_mnist(rng)
    write_mnist(tmp_path / "env", arrays, compress=True)
    monkeypatch.setenv("PYCNN_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(mnist, "_told_bundled", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_loaded(mnist.load_data(), arrays)
    os.remove(tmp_path / "env" / (mnist.IDX_FILES["y_test"] + ".gz"))    # incomplete set
    with pytest.warns(mnist.BundledMNISTWarning):
        (x_train, _), _ = mnist.load_data()
    assert x_train.shape == (8000, 28, 28)


def test_mnist_truncated_and_foreign_files_raise(tmp_path, rng):
    arrays = small_mnist(rng)
    write_mnist(tmp_path, arrays, compress=False)
    path = tmp_path / mnist.IDX_FILES["x_train"]
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(ValueError, match="needs 5488 data bytes but the file holds 5478"):
        mnist.load_data(tmp_path)
    path.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist.load_data(tmp_path)
    path.write_bytes(gzip.compress(data)[:-20])
    with pytest.raises(ValueError, match="corrupted or truncated gzip"):
        mnist.load_data(tmp_path)
    write_idx(path, arrays["x_train"][:5])
    with pytest.raises(ValueError, match="do not pair up"):
        mnist.load_data(tmp_path)
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="missing arrays x_train, y_train, x_test, y_test; it holds a"):
        mnist.load_data(tmp_path / "other.npz")
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match="cannot read as mnist.npz"):
        mnist.load_data(tmp_path / "mnist.npz")


def test_read_idx_other_types(tmp_path):
    values = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    write_idx(tmp_path / "f.idx", values)
    got = mnist.read_idx(tmp_path / "f.idx")
    assert got.dtype == np.float32 and got.dtype.isnative
    np.testing.assert_array_equal(got, values)

# ---- shapes ---------------------------------------------------------------------------


def test_shapes_layout_and_determinism():
    (x, y), (xt, yt) = shapes.load_data(n_train=40, n_test=10, seed=3)
    assert x.shape == (40, 32, 32, 1) and x.dtype == np.float32
    assert y.shape == (40, 4, 4, 5 + len(shapes.CLASSES))
    assert xt.shape == (10, 32, 32, 1) and yt.shape == (10, 4, 4, 8)
    assert 0.0 <= x.min() and x.max() <= 1.0
    (x2, y2), _ = shapes.load_data(n_train=40, n_test=10, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    (x3, _), _ = shapes.load_data(n_train=40, n_test=10, seed=4)
    assert not np.array_equal(x, x3)
    assert not np.array_equal(x[:10], xt), "train and test come from different streams"


def test_shapes_targets_agree():
    (x, t), _ = shapes.load_data(n_train=30, n_test=1, target="all", seed=0, noise=0.0)
    yolo, mask, boxes = t["yolo"], t["mask"], t["boxes"]
    present = boxes[..., 5] == 1
    # one YOLO cell per object, the object flag set, its class one-hot
    assert yolo[..., 4].sum() == present.sum()
    assert np.all(yolo[..., 5:].sum(axis=-1) == yolo[..., 4])
    assert np.all((yolo[..., :2] >= 0) & (yolo[..., :2] < 1))
    # each object's cell and its (x, y, w, h) reproduce the box
    img, slot = np.nonzero(present)
    cx, cy = boxes[img, slot, 1], boxes[img, slot, 2]
    col, row = (cx * 4).astype(int), (cy * 4).astype(int)
    cell = yolo[img, row, col]
    np.testing.assert_allclose((col + cell[:, 0]) / 4, cx, atol=1e-6)
    np.testing.assert_allclose((row + cell[:, 1]) / 4, cy, atol=1e-6)
    np.testing.assert_allclose(cell[:, 2:4], boxes[img, slot, 3:5], atol=1e-6)
    np.testing.assert_array_equal(np.argmax(cell[:, 5:], axis=1), boxes[img, slot, 0])
    # masks: background 0, classes 1..3; lit pixels are exactly the masked ones
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1, 2, 3}
    np.testing.assert_array_equal(x[..., 0] > 0, mask > 0)
    # every present object's class shows up in its image's mask
    for c in range(3):
        has = np.any(present & (boxes[..., 0] == c), axis=1)
        assert np.all(np.any(mask[has] == c + 1, axis=(1, 2)))
    assert np.all(boxes[~present][:, 0] == -1)


def test_shapes_bad_arguments():
    with pytest.raises(ValueError, match="target must be one of"):
        shapes.load_data(target="labels")
    with pytest.raises(ValueError, match="max_objects must be in \\[1, grid_size² = 4\\], got 5"):
        shapes.load_data(grid_size=2, max_objects=5)
    with pytest.raises(ValueError, match="at least 4 pixels per grid cell"):
        shapes.load_data(image_size=8, grid_size=4)


def test_shapes_train_a_yolo_detector():
    """The data are learnable: a small CNN with the YOLO loss finds the objects and
    names their class after a few seconds of training."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import pycnn
    from pycnn.layers import Conv2D, MaxPooling2D
    from pycnn.models import Sequential
    pycnn.set_seed(0)
    (x, y), (xt, yt) = shapes.load_data(n_train=384, n_test=128, target="yolo")
    model = Sequential([
        Conv2D(16, 3, padding="same", activation="relu", input_shape=(32, 32, 1)),
        MaxPooling2D(2),
        Conv2D(32, 3, padding="same", activation="relu"), MaxPooling2D(2),
        Conv2D(32, 3, padding="same", activation="relu"), MaxPooling2D(2),
        Conv2D(5 + len(shapes.CLASSES), 1, activation="sigmoid")])     # (N, 4, 4, 8)
    model.compile(pycnn.optimizers.Adam(0.003),
                  pycnn.losses.YoloLoss(S=4, B=1, C=len(shapes.CLASSES)))
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        history = model.fit(x, y, epochs=8, verbose=0)
        p = model.predict(xt)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    obj = yt[..., 4] == 1
    found = p[..., 4] > 0.5
    assert (found & obj).sum() / obj.sum() > 0.9
    assert (found & ~obj).sum() / (~obj).sum() < 0.05
    assert np.mean(np.argmax(p[..., 5:], -1)[obj] == np.argmax(yt[..., 5:], -1)[obj]) > 0.75
    assert np.abs(p[..., :4] - yt[..., :4])[obj].mean() < 0.1
